"""The library behind notebooks 01, 02, 03 and 05: segments, insights, interviews.

Hand-made frames where the expected value is computed by hand (in the test or
its docstring); one small synthetic client for the cross-checks against the
metrics document (the notebooks' numbers must be the library's numbers).
"""

from __future__ import annotations

import datetime as dt
import types

import polars as pl
import pytest

import journeylib as jl
from journeylib.analysis import insights, interviews
from journeylib.analysis import personas as segments
from journeylib.config import JourneyTemplate, PersonaRule
from journeylib.sources.synth import synthesize

UTC = dt.UTC


def ts(m: int, d: int = 1, h: int = 0, y: int = 2024) -> dt.datetime:
    return dt.datetime(y, m, d, h, tzinfo=UTC)


def month(m: int, y: int = 2024) -> dt.date:
    return dt.date(y, m, 1)


# ------------------------------------------------------------------ small synthetic client
@pytest.fixture(scope="module")
def small(tmp_path_factory):
    path = tmp_path_factory.mktemp("nbb") / "small"
    synthesize(path, accounts=250, months=8, seed=3)
    c = jl.load_client(path)
    return types.SimpleNamespace(
        c=c, doc=jl.metrics_document(c), stream=jl.journey_events(c), period=jl.resolve_period(c)
    )


# ------------------------------------------------------------------ persona_profile
ACCOUNTS = pl.DataFrame(
    {
        "account_id": ["a", "b", "c", "d", "e", "late"],
        "persona": ["smb", "smb", "smb", "ent", "ent", "smb"],
        "first_seen_at": [ts(1), ts(1), ts(1), ts(1), ts(2), ts(6)],
        "signup_at": [ts(1, 2), ts(1, 3), None, ts(1, 5), ts(2, 2), ts(6, 2)],
        "company_size": [10, 20, 30, 1000, 3000, 5],
        "industry": ["saas", "saas", "retail", "bank", "bank", "saas"],
        "role": ["ceo", "ceo", "cfo", "cto", "cto", "ceo"],
        "acquisition_channel": ["seo", "ads", "seo", "events", "events", "seo"],
    }
)
# a pays Jan-Mar (never churns); b pays Jan, not Feb, Mar again (churned once, reactivated);
# c never signed up but pays in Mar (sales-led); d pays Jan-Feb then stops (churned);
# e pays Apr (after the period: not counted); 'late' is first seen after the period.
SUBS = pl.DataFrame(
    {
        "account_id": ["a", "a", "a", "b", "b", "c", "d", "d", "e"],
        "month": [
            month(1),
            month(2),
            month(3),
            month(1),
            month(3),
            month(3),
            month(1),
            month(2),
            month(4),
        ],
        "mrr": [10.0, 10.0, 10.0, 20.0, 20.0, 30.0, 100.0, 100.0, 50.0],
    }
)
STREAM = pl.DataFrame(
    {
        "account_id": ["a", "a", "b", "d", "d", "d", "d", None],
        "timestamp": [ts(1, 2), ts(2, 2), ts(3, 1), ts(1, 9), ts(1, 9), ts(2, 9), ts(4, 1), ts(1)],
        "source": [
            "events",
            "events",
            "events",
            "events",
            "events",
            "subscriptions",
            "events",
            "events",
        ],
        "event": ["login"] * 8,
    }
)
PERIOD = ("2024-01", "2024-03")


def test_persona_profile_hand_computed(constructor):
    out = segments.persona_profile(
        constructor(ACCOUNTS),
        constructor(SUBS),
        constructor(STREAM),
        period=PERIOD,
        labels={"smb": "Small business"},
    )
    rows = {r["persona"]: r for r in out.iter_rows(named=True)}
    assert out["persona"].to_list() == ["smb", "ent"]  # most accounts first
    smb, ent = rows["smb"], rows["ent"]
    # smb: a, b, c ('late' first seen in June, after the period)
    assert (smb["accounts"], ent["accounts"]) == (3, 2)
    assert smb["share"] == pytest.approx(3 / 5)
    assert smb["label"] == "Small business" and ent["label"] == "ent"
    # signed up: a, b (c never) -> both paid -> 1.0; ent: d, e signed; d paid, e only after -> 0.5
    assert (smb["signed_up"], smb["conversion_rate"]) == (2, 1.0)
    assert (ent["signed_up"], ent["conversion_rate"]) == (2, 0.5)
    # paid: a, b, c; churned once: b (Feb unpaid) -> 1/3; ent: d paid, churned in Mar -> 1/1
    assert (smb["paid"], smb["churned"]) == (3, 1)
    assert smb["churn_rate"] == pytest.approx(1 / 3)
    assert ent["churn_rate"] == 1.0
    # MRR in March: a 10 + b 20 + c 30 = 60; ent 0
    assert smb["mrr"] == 60.0 and smb["revenue_share"] == 1.0 and ent["revenue_share"] == 0.0
    assert smb["median_company_size"] == 20.0
    assert smb["top_industry"] == "saas 67%, retail 33%"
    assert ent["top_acquisition_channel"] == "events 100%"
    # raw events in the period: smb a 2 + b 1 = 3 over 3 accounts; ent d 2 (Apr out) over 2
    assert smb["events_per_account"] == pytest.approx(1.0)
    assert ent["events_per_account"] == pytest.approx(1.0)


def test_persona_profile_without_subscriptions():
    out = segments.persona_profile(ACCOUNTS, None, None, period=PERIOD)
    assert out["conversion_rate"].null_count() == out.height
    assert out["revenue_share"].null_count() == out.height
    assert out["accounts"].sum() == 5


def test_persona_profile_matches_metrics_document(small):
    s = small
    prof = segments.persona_profile(
        s.c.tables["accounts"], s.c.table("subscriptions"), s.stream, period=s.period
    )
    last = s.doc["revenue"]["months"][-1]
    assert prof["mrr"].sum() == pytest.approx(last["mrr"])
    assert prof["revenue_share"].sum() == pytest.approx(1.0)
    assert prof["accounts"].sum() == s.c.tables["accounts"].height
    # the paying accounts of the last month are among the 'paid' accounts of the personas
    assert prof["paid"].sum() >= last["customers"]


def test_persona_rules_text_and_cards():
    rules = [
        PersonaRule(
            id="ent",
            label="Enterprise",
            match={"company_size": {"min": 500}, "role": ["cto", "cio"]},
        ),
        PersonaRule(id="mid", match={"company_size": {"min": 51, "max": 499}}),
        PersonaRule(id="fin", match={"industry": "fintech"}, goals=["compliance"]),
        PersonaRule(id="rest"),
    ]
    txt = segments.persona_rules_text(rules)
    assert txt["rule"].to_list() == [
        "company_size at least 500 and role is one of cto, cio",
        "company_size between 51 and 499",
        "industry is fintech",
        "every account not matched by an earlier rule",
    ]
    assert txt["order"].to_list() == [1, 2, 3, 4]
    cards = segments.persona_cards(rules)
    assert cards.filter(pl.col("persona") == "fin")["goals"].item() == "compliance"
    assert cards.filter(pl.col("persona") == "ent")["goals"].item() is None


# ------------------------------------------------------------------ segments
def three_groups() -> pl.DataFrame:
    """Twelve accounts in three obvious groups of company size and industry."""
    sizes = [5, 6, 7, 8, 300, 320, 340, 360, 5000, 6000, 7000, 8000]
    inds = ["a"] * 4 + ["b"] * 4 + ["c"] * 4
    return pl.DataFrame(
        {
            "account_id": [f"x{i:02d}" for i in range(12)],
            "first_seen_at": [ts(1)] * 12,
            "company_size": sizes,
            "industry": inds,
        }
    )


def test_suggest_segments_recovers_obvious_groups():
    acc = three_groups()
    assign, desc = segments.suggest_segments(acc, None, None, k=3, seed=1)
    assert desc["size"].to_list() == [4, 4, 4]
    assert desc["share"].sum() == pytest.approx(1.0)
    # each true group lands in exactly one segment
    joined = (
        assign.join(acc, on="account_id").group_by("industry").agg(pl.col("segment").n_unique())
    )
    assert joined["segment"].to_list() == [1, 1, 1]
    words = dict(
        zip(
            assign.join(acc, on="account_id")["industry"],
            assign.join(acc, on="account_id")["segment"],
            strict=True,
        )
    )
    text = dict(zip(desc["segment"], desc["description"], strict=True))
    assert text[words["a"]].startswith("small companies (median 6 employees)")
    assert text[words["b"]].startswith("mid-size companies (median 330 employees)")
    assert text[words["c"]].startswith("large companies (median 6,500 employees)")


def test_suggest_segments_is_deterministic_and_picks_k(small):
    s = small
    args = (s.c.tables["accounts"], s.stream, s.c.table("subscriptions"))
    kw = {"period": s.period, "first_value_event": s.c.config.first_value.event}
    a1, d1 = segments.suggest_segments(*args, **kw)
    a2, d2 = segments.suggest_segments(*args, **kw)
    assert a1.equals(a2) and d1.equals(d2)
    assert 3 <= d1.height <= 6
    assert a1.height == s.c.tables["accounts"].height
    assert d1["size"].sum() == a1.height
    assert d1["size"].to_list() == sorted(d1["size"].to_list(), reverse=True)  # S1 largest
    assert d1["description"].str.len_chars().min() > 20
    assert d1["silhouette"].n_unique() == 1


def test_suggest_segments_tiny_and_empty():
    acc = three_groups().head(3)
    assign, desc = segments.suggest_segments(acc, None, None)
    assert assign.height == 3 and desc["size"].sum() == 3
    empty_a, empty_d = segments.suggest_segments(acc.head(0), None, None)
    assert empty_a.height == 0 and empty_d.height == 0


def test_segment_features_hand_computed(constructor):
    acc = pl.DataFrame(
        {
            "account_id": ["a", "b"],
            "first_seen_at": [ts(1), ts(1)],
            "signup_at": [ts(1, 1), None],
            "industry": ["x", None],
            "company_size": [10, None],
        }
    )
    stream = pl.DataFrame(
        {
            "account_id": ["a", "a", "a", "a", "b"],
            "timestamp": [ts(1, 2), ts(1, 3), ts(2, 1), ts(1, 11), ts(3, 1)],
            "event": ["login", "login", "login", "report", "login"],
            "touchpoint": ["app", "app", "app", "reports", None],
            "source": ["events", "events", "events", "events", "events"],
        }
    )
    f = segments.segment_features(
        constructor(acc),
        constructor(stream),
        constructor(SUBS.filter(pl.col("account_id") == "a")),
        period=PERIOD,
        first_value_event="report",
    )
    a, b = f.row(0, named=True), f.row(1, named=True)
    # a: 4 events over 2 active months; 2 touchpoints; report 10 days after signup; paid; Mar MRR 10
    assert (a["events_per_active_month"], a["distinct_touchpoints"]) == (2.0, 2)
    assert a["days_to_first_value"] == pytest.approx(10.0)
    assert (a["paid"], a["mrr"]) == (1, 10.0)
    assert (b["events_per_active_month"], b["distinct_touchpoints"], b["paid"]) == (1.0, 0, 0)
    assert b["days_to_first_value"] is None
    assert b["industry_group"] == "other"


def test_persona_segment_crosstab():
    acc = pl.DataFrame({"account_id": list("abcd"), "persona": ["x", "x", "y", None]})
    seg = pl.DataFrame({"account_id": list("abcd"), "segment": ["S1", "S10", "S2", "S1"]})
    out = segments.persona_segment_crosstab(acc, seg)
    assert out.columns == ["persona", "S1", "S2", "S10", "total"]
    assert out.rows() == [("unassigned", 1, 0, 0, 1), ("x", 1, 0, 1, 2), ("y", 0, 1, 0, 1)]


# ------------------------------------------------------------------ interviews
def test_question_banks_cover_the_topics():
    cust = interviews.question_bank("customers")
    sup = interviews.question_bank("support_team")
    assert set(cust["topic"]) >= {"role", "company", "goals", "challenges", "buying", "usage"}
    assert set(sup["topic"]) >= {"problems", "who", "value", "channels", "requests"}
    assert cust["question"].str.ends_with("?").all() and sup["question"].str.ends_with("?").all()
    both = interviews.question_bank()
    assert both.height == cust.height + sup.height
    assert both["question"].n_unique() == both.height
    with pytest.raises(ValueError, match="unknown audience"):
        interviews.question_bank("sales")


# ------------------------------------------------------------------ goals
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
    out = insights.goals_table({"goals": [GOAL], "currency": "EUR"})
    row = out.row(0, named=True)
    assert (row["S"], row["A"], row["T"]) == ("yes", "no", "yes")
    assert (row["baseline"], row["current"], row["target"]) == ("20.0%", "25.0%", "40.0%")
    assert row["status"] == "off track" and row["segment"] == "persona = smb"
    assert insights.goals_table({"goals": []}).height == 0


def test_goal_explanations_escape_and_explain():
    (text,) = insights.goal_explanations({"goals": [GOAL], "currency": "EUR"})
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "60% of the time" in text and "25% of the way" in text
    assert "**off track**" in text and "Achievable" in text
    assert "How it is measured" in text  # the catalogue definition
    assert insights.goal_explanations({"goals": []}) == []


def test_goals_in_sync_with_document(small):
    table = insights.goals_table(small.doc)
    assert table["id"].to_list() == [g["id"] for g in small.doc["goals"]]
    assert len(insights.goal_explanations(small.doc)) == len(small.doc["goals"])


# ------------------------------------------------------------------ stage KPIs
def test_trend_and_format():
    assert insights.trend_of([3.0, 2.0, 1.0]) == "down"
    assert insights.trend_of([1.0, 1.01, 0.99, 1.0]) == "flat"
    assert insights.trend_of([None, 1.0, 2.0]) is None  # two points left
    assert insights.format_metric(-0.052, "fraction") == "-5.2%"
    assert insights.format_metric(7.82, "hours") == "7.8 h"
    assert insights.round_or_none(2.123456, 2) == 2.12


def test_stage_kpis_reads_the_document():
    tpl = JourneyTemplate.model_validate(
        {
            "stages": [
                {
                    "id": "consideration",
                    "label": "Consideration",
                    "kpis": ["stage_conversion"],
                    "touchpoints": [],
                },
                {
                    "id": "onboarding",
                    "label": "Onboarding",
                    "kpis": ["activation_rate", "nps", "no_such_kpi"],
                    "touchpoints": [],
                },
                {
                    "id": "retention",
                    "label": "Retention",
                    "kpis": ["logo_churn_rate", "stage_conversion"],
                    "touchpoints": [],
                },
            ]
        }
    )
    doc = {
        "currency": "USD",
        "onboarding": {
            "activation_rate": 0.3,
            "cohorts": [
                {"activation_rate": 0.2, "complete": True},
                {"activation_rate": 0.25, "complete": True},
                {"activation_rate": 0.3, "complete": True},
                {"activation_rate": 0.9, "complete": False},
            ],
        },
        "nps": {
            "overall": {"score": 10.0},
            "by_month": [],
            "by_stage": [{"stage": "onboarding", "score": -20.0, "responses": 12}],
        },
        "revenue": {
            "months": [
                {"logo_churn_rate": 0.05},
                {"logo_churn_rate": 0.04},
                {"logo_churn_rate": 0.03},
            ]
        },
        "stages": [
            {
                "id": "consideration",
                "label": "Consideration",
                "reached": 100,
                "conversion_from_previous": None,
            },
            {
                "id": "onboarding",
                "label": "Onboarding",
                "reached": 40,
                "conversion_from_previous": 0.4,
            },
            {
                "id": "retention",
                "label": "Retention",
                "reached": 30,
                "conversion_from_previous": 0.75,
            },
        ],
    }
    out = insights.stage_kpis(doc, tpl)
    rows = [
        (r["stage"], r["metric"], r["value"], r["trend"], r["trend_good"])
        for r in out.iter_rows(named=True)
    ]
    assert rows == [
        ("consideration", "stage_conversion", 0.4, None, None),  # to the next stage
        ("onboarding", "activation_rate", 0.3, "up", True),  # complete cohorts only
        ("onboarding", "nps", -20.0, None, None),  # the stage's own NPS
        ("onboarding", "no_such_kpi", None, None, None),
        ("retention", "logo_churn_rate", 0.03, "down", True),  # falling churn is good
        ("retention", "stage_conversion", None, None, None),  # last stage
    ]
    assert out["value_text"].to_list()[1] == "30.0%"


def test_stage_kpis_on_client(small):
    out = insights.stage_kpis(small.doc, small.c.template)
    assert out.height == sum(len(s.kpis) for s in small.c.template.stages)
    mrr = out.filter(pl.col("metric") == "mrr")
    assert mrr["value"][0] == pytest.approx(small.doc["revenue"]["months"][-1]["mrr"])


# ------------------------------------------------------------------ pain points
def fake_client(surveys=None, tickets=None):
    tpl = JourneyTemplate.model_validate(
        {
            "stages": [
                {
                    "id": "aware",
                    "label": "Aware",
                    "touchpoints": [{"id": "web", "events": ["pageview"]}],
                },
                {"id": "buy", "label": "Buy", "touchpoints": [{"id": "pay", "events": ["paid"]}]},
                {
                    "id": "use",
                    "label": "Use",
                    "touchpoints": [{"id": "support", "events": ["ticket_opened"]}],
                },
            ]
        }
    )
    tables = {"accounts": pl.DataFrame({"account_id": ["a"], "first_seen_at": [ts(1)]})}
    if surveys is not None:
        tables["surveys"] = surveys
    if tickets is not None:
        tables["tickets"] = tickets
    return types.SimpleNamespace(template=tpl, tables=tables, table=tables.get)


def test_pain_points_from_each_source():
    surveys = pl.DataFrame(
        {
            "responded_at": [ts(1, 5)] * 6,
            "stage": ["use"] * 6,
            "score": [2, 3, 9, 9, 10, 4],
            "comment": [
                "slow and buggy",
                "too slow, terrible",
                "great",
                "love it",
                "ok",
                "bad price",
            ],
        }
    )
    tickets = pl.DataFrame(
        {
            "opened_at": [ts(1, 1)] * 12,
            "resolved_at": [ts(1, 1, 1)] * 6 + [ts(1, 1, 2)] * 1 + [ts(1, 2)] * 5,
            "category": ["how_to"] * 6 + ["bug"] * 6,
        }
    )
    doc = {
        "nps": {
            "overall": {"score": 30.0},
            "by_stage": [
                {"stage": "aware", "score": 40.0, "responses": 20},
                {"stage": "use", "score": -30.0, "responses": 6},
                {"stage": "buy", "score": -90.0, "responses": 2},
            ],
        },  # too few answers
        "support": {"resolution_hours_median": 1.5},
        "stages": [
            {"id": "aware", "label": "Aware", "reached": 100, "conversion_from_previous": None},
            {"id": "buy", "label": "Buy", "reached": 15, "conversion_from_previous": 0.15},
            {"id": "use", "label": "Use", "reached": 12, "conversion_from_previous": 0.8},
        ],
    }
    stream = pl.DataFrame(
        schema={"account_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "stage": pl.String}
    )
    out = insights.pain_points(
        fake_client(surveys, tickets), doc, stream, period=("2024-01", "2024-01")
    )
    got = {(r["stage"], r["kind"]): r for r in out.iter_rows(named=True)}
    # NPS -30 < -20 -> high; 'buy' has 2 answers only -> left out
    assert got[("use", "low_nps")]["severity"] == "high"
    assert ("buy", "low_nps") not in got
    # 'slow' in 2 negative comments (< 3 mentions) -> no theme row at the default threshold
    assert not any(k == "negative_comments" for _, k in got)
    # bug tickets: median of [2h, 24h x5] = 24 h = 16x the 1.5 h median -> high, stage of tickets
    slow = got[("use", "slow_tickets")]
    assert slow["severity"] == "high" and "bug tickets" in slow["evidence"]
    # aware -> buy conversion 15 % -> high drop-off under the stage accounts stop in
    assert got[("aware", "drop_off")]["severity"] == "high"
    assert "15%" in got[("aware", "drop_off")]["evidence"]
    assert out["severity"].to_list() == sorted(
        out["severity"].to_list(), key=insights.SEVERITY_ORDER.index
    )
    # the same with a lower threshold finds the negative performance theme
    out2 = insights.pain_points(
        fake_client(surveys, tickets), doc, stream, period=("2024-01", "2024-01"), min_mentions=2
    )
    themes = out2.filter(pl.col("kind") == "negative_comments")
    assert themes.height == 1 and "performance / speed" in themes["evidence"][0]
    assert "2 of 6 comments (33%)" in themes["evidence"][0]


def test_pain_points_without_optional_tables():
    doc = {"nps": None, "support": None, "stages": []}
    stream = pl.DataFrame(
        schema={"account_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "stage": pl.String}
    )
    out = insights.pain_points(fake_client(), doc, stream, period=("2024-01", "2024-01"))
    assert out.columns == ["stage", "kind", "evidence", "severity"] and out.height == 0


def test_pain_points_on_client(small):
    s = small
    out = insights.pain_points(s.c, s.doc, s.stream, period=s.period)
    assert set(out["severity"]) <= set(insights.SEVERITY_ORDER)
    assert set(out["kind"]) <= {"low_nps", "negative_comments", "slow_tickets", "drop_off", "stall"}
    assert out.filter(pl.col("stage").is_not_null())["stage"].is_in(s.c.template.stage_ids).all()


# ------------------------------------------------------------------ moments
def test_moments_rank_and_group():
    surveys = pl.DataFrame(
        {
            "responded_at": [ts(1, 5)] * 6 + [ts(2, 5)],
            "stage": ["a", "a", "b", "b", "c", "c", "c"],
            "score": [10, 9, 6, 0, 8, None, 0],
            "comment": [
                "Love it",
                "Love it",
                "great but slow",
                "terrible support",
                "good",
                " ",
                "awful (outside the period)",
            ],
        }
    )
    good, bad = insights.moments(surveys, period=("2024-01", "2024-01"), n=5)
    # 'great but slow' is neutral (clause break); 'Love it' twice, mean score 9.5 ranks first
    assert good.rows() == [("a", "Love it", 2, 9.5, 1.0), ("c", "good", 1, 8.0, 1.0)]
    assert bad.rows() == [("b", "terrible support", 1, 0.0, -1.0)]


# ------------------------------------------------------------------ touchpoints
def test_touchpoint_conversion_hand_computed(constructor):
    # a pays from Feb: its Jan demo counts, its Mar renewal not; b never pays; c pays, no touches
    stream = pl.DataFrame(
        {
            "account_id": ["a", "a", "b", "b", "c", None],
            "timestamp": [ts(1, 5), ts(3, 1), ts(1, 5), ts(1, 9), ts(1, 1), ts(1, 1)],
            "touchpoint": ["demo", "renewal", "demo", "blog", None, "blog"],
            "stage": ["consider", "retain", "consider", "aware", None, "aware"],
        }
    )
    subs = pl.DataFrame(
        {"account_id": ["a", "c"], "month": [month(2), month(1)], "mrr": [10.0, 5.0]}
    )
    out = insights.touchpoint_conversion(constructor(stream), constructor(subs), period=PERIOD)
    # base: 2 of 3 stream accounts paid; demo: a, b -> 1/2, lift 0.75; blog: b -> 0
    assert out.rows() == [
        ("demo", "consider", 2, 1, 1, 0.5, 0.75),
        ("blog", "aware", 1, 0, 1, 0.0, 0.0),
    ]
    no_subs = insights.touchpoint_conversion(stream, None)
    assert no_subs["conversion"].null_count() == no_subs.height


def test_touchpoint_helpers(small):
    s = small
    inside = insights.stream_in_period(s.stream, s.period)
    assert inside.height <= s.stream.height
    mix = insights.touchpoint_channel_mix(inside)
    assert mix["touchpoint"].is_unique().all()
    details = insights.touchpoint_details(s.c.template)
    assert details.height == len(s.c.template.touchpoints)
    notes = insights.stage_notes(s.c.template, ["emotions", "pain_points"])
    assert notes["stage"].to_list() == s.c.template.stage_ids
    snippet = insights.event_mapping_snippet(s.c.template, ["new_event"])
    assert snippet.startswith("event_mapping:") and "new_event" in snippet
