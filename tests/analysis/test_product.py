"""The product-intelligence readers of the notebooks, the opportunity backlog, and their sentences."""

from __future__ import annotations

import csv

import polars as pl
import pytest

from journeylib.analysis import findings
from journeylib.analysis import journey_map as md
from journeylib.analysis.product import (
    account_health_of,
    activation_finder,
    activation_frame,
    health_frame,
)
from journeylib.analysis.stages import stage_pairs
from journeylib.config import HEALTH_COMPONENTS
from journeylib.frames import collect, to_lazy
from journeylib.metrics.activation import activation_candidates
from journeylib.metrics.health import account_health
from journeylib.metrics.period import resolve_period
from journeylib.metrics.stages import stalled_accounts
from journeylib.months import filter_period


# ---------------------------------------------------------------- opportunity backlog
def _lost_accounts(client, stream) -> pl.DataFrame:
    """Independently: (stage id, touchpoint id, account) of each account lost at a met touchpoint."""
    pairs = stage_pairs(client.template)
    period = resolve_period(client)
    furthest = stalled_accounts(stream, client.tables["accounts"], period=period, stages=pairs)
    index = {sid: i + 1 for i, (sid, _) in enumerate(pairs)}
    s = stream.collect() if isinstance(stream, pl.LazyFrame) else stream
    end = pl.datetime(int(period[1][:4]), int(period[1][5:]), 1, time_zone="UTC").dt.offset_by(
        "1mo"
    )
    met = (
        s.filter(
            pl.col("account_id").is_not_null(),
            pl.col("touchpoint").is_not_null(),
            pl.col("timestamp") < end,
        )
        .select("account_id", "touchpoint", "stage")
        .unique()
        .with_columns(pl.col("stage").replace_strict(index, default=None).alias("idx"))
        .join(furthest.select("account_id", "furthest_index"), on="account_id")
    )
    return met.filter(pl.col("idx") == pl.col("furthest_index"), pl.col("idx") < len(pairs)).select(
        "stage", "touchpoint", "account_id"
    )


def test_the_backlog_is_the_opportunity_map_with_its_evidence(world):
    client, doc, stream = world
    backlog = md.opportunity_backlog(client, doc, stream)
    frame = md.opportunity_frame(client, doc, stream)
    assert backlog.height == frame.height > 0
    assert backlog["rank"].to_list() == list(range(1, frame.height + 1))
    shared = ["stage", "touchpoint", "volume", "lost", "drop_off", "revenue_at_risk", "score"]
    assert backlog.select(shared).equals(frame.select(shared))
    assert backlog.columns == [
        "rank",
        *shared,
        "tickets",
        "ticket_categories",
        "detractors",
        "detractor_comments",
        "ideas",
    ]


def test_the_tickets_of_each_row_are_those_of_its_lost_accounts(world):
    client, doc, stream = world
    backlog = md.opportunity_backlog(client, doc, stream, top_categories=2)
    lost = _lost_accounts(client, stream)
    period = resolve_period(client)
    t = client.tables["tickets"]
    start = pl.datetime(int(period[0][:4]), int(period[0][5:]), 1, time_zone="UTC")
    end = pl.datetime(int(period[1][:4]), int(period[1][5:]), 1, time_zone="UTC").dt.offset_by(
        "1mo"
    )
    opened = t.filter(pl.col("opened_at") >= start, pl.col("opened_at") < end)
    label = {tp.id: tp.display for s in client.template.stages for tp in s.touchpoints}
    stage_label = dict(stage_pairs(client.template))
    expected = (
        lost.join(opened.select("account_id", "category"), on="account_id")
        .group_by("stage", "touchpoint", "category")
        .len()
    )
    checked = 0
    for row in backlog.iter_rows(named=True):
        mine = expected.filter(
            pl.col("stage").replace_strict(stage_label) == row["stage"],
            pl.col("touchpoint").replace_strict(label, default=pl.col("touchpoint"))
            == row["touchpoint"],
        ).sort(["len", "category"], descending=[True, False])
        assert row["tickets"] == int(mine["len"].sum()), row
        if mine.height:
            top = "; ".join(f"{c} ({n})" for c, n in mine.head(2).select("category", "len").rows())
            assert row["ticket_categories"] == top
            checked += 1
        else:
            assert row["ticket_categories"] is None
    assert checked > 0  # the client has later-stage losses with tickets


def test_detractors_are_the_stages_answers_scored_0_to_6(world):
    client, doc, stream = world
    backlog = md.opportunity_backlog(client, doc, stream, top_comments=1)
    period = resolve_period(client)
    s = client.tables["surveys"]
    answers = collect(filter_period(to_lazy(s), "responded_at", period))
    det = answers.filter(pl.col("score") <= 6)
    stage_id = {label: sid for sid, label in stage_pairs(client.template)}
    for row in backlog.iter_rows(named=True):
        mine = det.filter(pl.col("stage") == stage_id[row["stage"]])
        assert row["detractors"] == mine.height
        comments = (
            mine.filter(pl.col("comment").str.strip_chars().str.len_chars() > 0)
            .group_by(pl.col("comment").str.strip_chars())
            .len()
            .sort(["len", "comment"], descending=[True, False])
        )
        if comments.height:
            c, n = comments.row(0)
            assert row["detractor_comments"] == f"\u201c{c}\u201d ({n})"
        else:
            assert row["detractor_comments"] is None


def test_recommendations_carry_the_evidence_made_inert():
    frame = pl.DataFrame(
        {
            "rank": [1],
            "stage": ["Onboarding"],
            "touchpoint": ["Setup"],
            "volume": [40],
            "lost": [10],
            "drop_off": [0.25],
            "revenue_at_risk": [1000.0],
            "score": [1.0],
            "tickets": [7],
            "ticket_categories": ["how_to (5); bug (2)"],
            "detractors": [3],
            "detractor_comments": ["\u201c<b>[slow](http://x)</b>\u201d (2)"],
            "ideas": [None],
        }
    )

    class _Template:
        stages: list = []

    recs = findings.recommendations(frame, _Template(), "USD")
    assert recs[0]["evidence"] == (
        "Its lost accounts opened 7 tickets: how_to (5); bug (2). Detractors at this stage (3) "
        "said: \u201c<b>[slow](http://x)</b>\u201d (2)."
    )
    text = findings.recommendations_markdown(recs)
    assert "<b>" not in text and "&lt;b&gt;" in text
    assert "](http" not in text  # the link is escaped: \[slow\]\(http…
    # a plain opportunity map has no evidence
    plain = findings.recommendations(frame.drop("tickets", "detractors"), _Template(), "USD")
    assert plain[0]["evidence"] == ""


# ---------------------------------------------------------------- activation and health readers
def test_activation_finder_reads_the_client_over_its_period(world):
    client, _, _ = world
    t = client.tables
    expected = activation_candidates(
        t["accounts"], t["events"], t["subscriptions"], period=resolve_period(client)
    )
    found = activation_finder(client)
    assert found == expected
    frame = activation_frame(found)
    assert frame.columns == ["event", "times", "days", "share", "precision", "recall", "phi"]
    assert frame.height == len(found["candidates"])
    assert activation_frame({"candidates": []}).height == 0


def test_account_health_of_is_the_health_command_with_its_backtest_rows(world):
    client, _, stream = world
    health, backtest = account_health_of(client, stream)
    t = client.tables
    assert health == account_health(
        stream,
        t["subscriptions"],
        t["tickets"],
        t["surveys"],
        period=resolve_period(client),
        weights=client.config.health.weights,
    )
    assert set(backtest["month"]) <= set(health["backtest"]["months"])
    assert (
        backtest.filter(pl.col("churned").is_not_null()).height
        == (health["backtest"]["account_months"])
    )
    frame = health_frame(health, t["accounts"])
    assert frame.columns == [
        "account_id",
        "name",
        "persona",
        "mrr",
        "score",
        "weakest",
        *HEALTH_COMPONENTS,
    ]
    assert frame["account_id"].to_list() == [a["account_id"] for a in health["accounts"]]
    assert frame["score"].is_sorted()
    names = dict(t["accounts"].select("account_id", "name").iter_rows())
    assert frame["name"].to_list() == [names.get(a) for a in frame["account_id"]]


def test_without_subscriptions_there_is_no_health(world):
    import dataclasses

    client, _, stream = world
    bare = dataclasses.replace(
        client, tables={k: v for k, v in client.tables.items() if k != "subscriptions"}
    )
    assert account_health_of(bare, stream) is None


# ---------------------------------------------------------------- sentences
_CANDS = {
    "accounts": 100,
    "retained": 20,
    "candidates": [
        {
            "event": "invite_sent",
            "times": 2,
            "days": 14,
            "share": 0.2,
            "precision": 0.7,
            "recall": 0.7,
            "phi": 0.625,
        },
        {
            "event": "login",
            "times": 1,
            "days": 1,
            "share": 0.9,
            "precision": 0.22,
            "recall": 0.99,
            "phi": 0.1,
        },
    ],
}


def test_activation_finding_variants():
    both = findings.activation_finding(_CANDS, "login", paid=False)
    assert both == (
        "Sign-ups that did invite_sent at least 2 times within 14 days of signing up were still "
        "active 60–90 days later in 70.0% of cases, against 20.0% of all sign-ups (phi 0.62). "
        "The configured activation event, login, predicts less well (best phi 0.10)."
    )
    assert findings.activation_finding(_CANDS, "invite_sent").endswith(
        "That is the configured activation event."
    )
    assert findings.activation_finding(_CANDS, "nope").endswith(
        "is not among the 2 best predictors."
    )
    assert "paying three months later" in findings.activation_finding(_CANDS, None)
    assert findings.activation_finding({"candidates": []}, "x") is None


def test_health_finding_names_the_auc_and_its_limits():
    h = {
        "auc_backtest": None,
        "accounts": [
            {"mrr": 10.0, "weakest": "nps"},
            {"mrr": 6.0, "weakest": "breadth"},
            {"mrr": 1.0, "weakest": "breadth"},
        ],
    }
    text = findings.health_finding(h, "EUR")
    assert text.startswith("The score cannot be checked on the last six months")
    assert text.endswith(
        "The 3 riskiest accounts pay 17 EUR of MRR; breadth of use drags down most of them."
    )
    assert findings.auc_words(0.75) == "fair" and findings.auc_words(0.6) == "weak"
    assert findings.health_finding({"accounts": []}, "EUR") is None


def test_anomaly_lines_write_each_unit():
    lines = findings.anomaly_lines(
        [
            {
                "metric": "logo_churn_rate",
                "month": "2025-03",
                "value": 0.1,
                "baseline": 0.02,
                "z": 6.04,
            },
            {"metric": "customers", "month": "2025-04", "value": 90, "baseline": 120.0, "z": -4.0},
        ],
        "USD",
    )
    assert lines == [
        "Logo churn rate in 2025-03: 10.0% against a usual 2.0% (robust z 6.0).",
        "Paying customers in 2025-04: 90 against a usual 120 (robust z -4.0).",
    ]
    assert findings.anomaly_lines(None, "USD") == []


# ---------------------------------------------------------------- CSV for people from a notebook step
def test_step_save_csv_neutralises_and_stays_in_the_run_folder(tmp_path):
    from journeylib.present.notebook import Step

    step = Step(
        client_dir=tmp_path,
        out_dir=tmp_path / "run",
        client=None,
        doc={},
        stream=None,
        period=("2025-01", "2025-01"),
    )
    frame = pl.DataFrame({"name": ['=HYPERLINK("http://x","y")', "Acme"], "mrr": [-5.0, 3.0]})
    path = step.save_csv(frame, "at_risk.csv")
    assert path == tmp_path / "run" / "at_risk.csv"
    with path.open(encoding="utf-8-sig", newline="") as f:
        rows = list(csv.reader(f))
    assert rows == [["name", "mrr"], ['\'=HYPERLINK("http://x","y")', "-5.0"], ["Acme", "3.0"]]
    for bad in ("../x.csv", "sub/x.csv", "x.txt", ".hidden.csv"):
        with pytest.raises(ValueError):
            step.save_csv(frame, bad)
    nowhere = Step(
        client_dir=tmp_path,
        out_dir=None,
        client=None,
        doc={},
        stream=None,
        period=("2025-01", "2025-01"),
    )
    assert nowhere.save_csv(frame, "x.csv") is None


def test_a_stages_comments_and_ideas_come_with_its_first_recommendation_only():
    import types

    row = {
        "stage": "Consideration",
        "touchpoint": "Pricing",
        "volume": 10,
        "lost": 5,
        "drop_off": 0.5,
        "revenue_at_risk": 100.0,
        "tickets": 0,
        "ticket_categories": None,
        "detractors": 2,
        "detractor_comments": "\u201cToo dear\u201d (2)",
    }
    frame = pl.DataFrame([row, {**row, "touchpoint": "Reviews"}, {**row, "stage": "Decision"}])
    template = types.SimpleNamespace(
        stages=[
            types.SimpleNamespace(
                id="consideration", label="Consideration", opportunities=["Demo"]
            ),
            types.SimpleNamespace(id="decision", label="Decision", opportunities=["Call"]),
        ]
    )
    recs = findings.recommendations(frame, template, "USD")
    assert [r["ideas"] for r in recs] == ["Demo", "", "Call"]
    assert ["Too dear" in r["evidence"] for r in recs] == [True, False, True]


def test_an_empty_funnel_gives_an_empty_backlog(world):
    from journeylib.metrics.period import with_period

    client, doc, stream = world
    later = with_period(client, "2030-01", "2030-02")  # nobody is in this period's funnel
    backlog = md.opportunity_backlog(later, doc, stream)
    assert backlog.height == 0 and "ticket_categories" in backlog.columns


def test_call_first_names_its_columns_in_the_language_and_falls_back_to_the_id():
    from journeylib.analysis.product import call_first
    from journeylib.i18n import use_language

    at_risk = pl.DataFrame(
        {
            "account_id": ["a1", "a2", "a3"],
            "name": ["Acme", None, "Zed"],
            "persona": [None, None, None],
            "mrr": [10.0, 20.0, 30.0],
            "score": [5.0, 6.0, 7.0],
            "weakest": ["NPS", "usage trend", "NPS"],
        }
    )
    frame, formats = call_first(at_risk, n=2)
    assert frame.columns == ["account", "MRR", "health score", "what drags it down"]
    assert frame["account"].to_list() == ["Acme", "a2"]
    assert formats == {"MRR": "money", "health score": "num1"}
    with use_language("zh"):
        frame, formats = call_first(at_risk)
    assert frame.columns[0] == "账户" and set(formats) <= set(frame.columns)
