"""Goals in words (journeylib.analysis.goals): the goals table, explanations and helpers."""

from __future__ import annotations

from journeylib.analysis import goals

GOAL = {
    "id": "g1",
    "metric": "activation_rate",
    "label": "Activate <script>x</script>",
    "segment": {"persona": "smb"},
    "baseline": 0.2,
    "baseline_source": "data",
    "current": 0.25,
    "target": 0.4,
    "deadline": "2025-06-30",
    "progress": 0.25,
    "time_elapsed": 0.6,
    "status": "off_track",
    "stage": "onboarding",
    "checks": {
        "specific": True,
        "measurable": True,
        "achievable": False,
        "relevant": True,
        "time_bound": True,
    },
    "notes": ["target 0.4 lies far outside the metric's history"],
}


def test_goals_table_formats_by_unit():
    out = goals.goals_table({"goals": [GOAL], "currency": "EUR"})
    row = out.row(0, named=True)
    assert (row["S"], row["A"], row["T"]) == ("yes", "no", "yes")
    assert (row["baseline"], row["current"], row["target"]) == ("20.0%", "25.0%", "40.0%")
    assert row["status"] == "off track" and row["segment"] == "persona = smb"
    assert goals.goals_table({"goals": []}).height == 0


def test_goal_explanations_escape_and_explain():
    (text,) = goals.goal_explanations({"goals": [GOAL], "currency": "EUR"})
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "60% of the time" in text and "25% of the way" in text
    assert "**off track**" in text and "Achievable" in text
    assert "How it is measured" in text  # the catalogue definition
    assert goals.goal_explanations({"goals": []}) == []


def test_goals_in_sync_with_document(small):
    table = goals.goals_table(small.doc)
    assert table["id"].to_list() == [g["id"] for g in small.doc["goals"]]
    assert len(goals.goal_explanations(small.doc)) == len(small.doc["goals"])


def test_trend_and_format():
    assert goals.trend_of([3.0, 2.0, 1.0]) == "down"
    assert goals.trend_of([1.0, 1.01, 0.99, 1.0]) == "flat"
    assert goals.trend_of([None, 1.0, 2.0]) is None  # two points left
    assert goals.round_or_none(2.123456, 2) == 2.12


def test_goal_values_in_the_one_format_of_their_unit():
    def row(metric, baseline, current, target, currency="EUR"):
        g = {**GOAL, "metric": metric, "baseline": baseline, "current": current, "target": target}
        r = goals.goals_table({"goals": [g], "currency": currency}).row(0, named=True)
        return r["baseline"], r["current"], r["target"]

    # amounts: whole units and the currency code; durations: their unit in words
    assert row("mrr", 1234.56, 1000, None) == ("1,235 EUR", "1,000 EUR", "—")
    assert row("mrr", 1234.56, 1000, None, currency=None) == ("1,235", "1,000", "—")
    assert row("resolution_hours_median", 7.82, 6.0, 4) == ("7.8 hours", "6.0 hours", "4.0 hours")
    # NPS carries its sign (zero none); fractions one decimal, negatives too
    assert row("nps", 32.0, -5.4, 0) == ("+32", "-5", "0")
    assert row("logo_churn_rate", -0.052, 0.0, 0.1) == ("-5.2%", "0.0%", "10.0%")
    (text,) = goals.goal_explanations({"goals": [{**GOAL, "metric": "nps", "baseline": 32.0}]})
    assert "It started from +32 (" in text
