"""Stages (journeylib.analysis.stages): KPIs, pain points, notes, entry summary and briefs."""

from __future__ import annotations

import types

import polars as pl
import pytest

import journeylib as jl
from journeylib.analysis import stages as st
from journeylib.config import JourneyTemplate
from journeylib.metrics import stages
from tests.analysis.analysis_helpers import ts


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
    out = st.stage_kpis(doc, tpl)
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
    out = st.stage_kpis(small.doc, small.c.template)
    assert out.height == sum(len(s.kpis) for s in small.c.template.stages)
    mrr = out.filter(pl.col("metric") == "mrr")
    assert mrr["value"][0] == pytest.approx(small.doc["revenue"]["months"][-1]["mrr"])


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
    out = st.pain_points(fake_client(surveys, tickets), doc, stream, period=("2024-01", "2024-01"))
    got = {(r["stage"], r["kind"]): r for r in out.iter_rows(named=True)}
    # NPS -30 < -20 -> high; 'buy' has 2 answers only -> left out
    assert got[("use", "low_nps")]["severity"] == "high"
    assert got[("use", "low_nps")]["evidence"] == "NPS -30 from 6 responses against +30 overall"
    assert ("buy", "low_nps") not in got
    # 'slow' in 2 negative comments (< 3 mentions) -> no theme row at the default threshold
    assert not any(k == "negative_comments" for _, k in got)
    # bug tickets: median of [2h, 24h x5] = 24 h = 16x the 1.5 h median -> high, stage of tickets
    slow = got[("use", "slow_tickets")]
    assert slow["severity"] == "high" and "bug tickets" in slow["evidence"]
    # durations in words, as the CLI and the goals write them
    assert "a median 24.0 hours to resolve, 16.0× the 1.5 hours of all tickets" in slow["evidence"]
    # aware -> buy conversion 15 % -> high drop-off under the stage accounts stop in
    assert got[("aware", "drop_off")]["severity"] == "high"
    assert "15%" in got[("aware", "drop_off")]["evidence"]
    assert out["severity"].to_list() == sorted(
        out["severity"].to_list(), key=st.SEVERITY_ORDER.index
    )
    # the same with a lower threshold finds the negative performance theme
    out2 = st.pain_points(
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
    out = st.pain_points(fake_client(), doc, stream, period=("2024-01", "2024-01"))
    assert out.columns == ["stage", "kind", "evidence", "severity"] and out.height == 0


def test_pain_points_on_client(small):
    s = small
    out = st.pain_points(s.c, s.doc, s.stream, period=s.period)
    assert set(out["severity"]) <= set(st.SEVERITY_ORDER)
    assert set(out["kind"]) <= {"low_nps", "negative_comments", "slow_tickets", "drop_off", "stall"}
    assert out.filter(pl.col("stage").is_not_null())["stage"].is_in(s.c.template.stage_ids).all()


def test_stage_entry_summary_and_briefs(world):
    client, doc, stream = world
    period = jl.resolve_period(client)
    pairs = st.stage_pairs(client.template)
    entries = stages.stage_entries(stream, client.tables["accounts"], period=period, stages=pairs)
    summary = st.stage_entry_summary(entries, client.template)
    assert summary["stage"].to_list() == [s for s, _ in pairs]
    assert summary["accounts"].sum() == entries.height
    funnel = stages.stage_funnel(stream, client.tables["accounts"], period=period, stages=pairs)
    stall = stages.stall_summary(stream, client.tables["accounts"], period=period, stages=pairs)
    text = st.stage_briefs(client.template, funnel, stall)
    assert text.count("### ") == len(pairs)
    assert f"**{funnel['reached'][0]:,}** accounts reached it" in text


def test_stage_briefs_escape_template_text():
    tpl = JourneyTemplate.model_validate(
        {"stages": [{"id": "a", "label": "<b>A</b>", "actions": ["<script>x</script>"]}]}
    )
    funnel = pl.DataFrame(
        {
            "id": ["a"],
            "reached": [3],
            "conversion_from_previous": [None],
            "median_days_from_previous": [None],
        }
    )
    text = st.stage_briefs(tpl, funnel)
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;x&lt;/script&gt;" in text


def test_stage_notes_on_client(small):
    notes = st.stage_notes(small.c.template, ["emotions", "pain_points"])
    assert notes["stage"].to_list() == small.c.template.stage_ids
