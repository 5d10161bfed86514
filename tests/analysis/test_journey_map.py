"""The journey map's data (journeylib.analysis.journey_map and map_kpis), checked against the metrics document."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

import journeylib as jl
from journeylib.analysis import journey_map as md
from journeylib.analysis.blueprint import blueprint_frames
from journeylib.analysis.map_kpis import _kpi_row
from journeylib.analysis.milestones import milestone_revenue
from journeylib.analysis.onboarding import onboarding_steps
from journeylib.analysis.personas import persona_labels
from journeylib.analysis.stages import stage_pairs
from journeylib.charts import (
    chart_journey_map,
    chart_opportunity_map,
    chart_persona_maps,
)
from journeylib.formatting import format_value
from journeylib.metrics import stages


def test_journey_map_data_matches_the_document(world):
    client, doc, stream = world
    d = md.journey_map_data(client, doc, stream)
    assert d.stages["id"].to_list() == [s["id"] for s in doc["stages"]]
    assert d.stages["reached"].to_list() == [s["reached"] for s in doc["stages"]]
    assert d.stages["order"].to_list() == list(range(1, len(doc["stages"]) + 1))
    # touchpoints: one row per template touchpoint with the chart's columns
    assert d.touchpoints.columns == ["stage", "touchpoint", "label", "kind", "events", "accounts"]
    assert d.touchpoints.height == len(client.template.touchpoints)
    # emotion: NPS per stage equals the document's, inside its interval
    nps_doc = {r["stage"]: r["score"] for r in doc["nps"]["by_stage"]}
    em = {r["stage"]: r for r in d.emotion.iter_rows(named=True)}
    assert set(em) == set(nps_doc)
    for sid, score in nps_doc.items():
        assert em[sid]["nps"] == pytest.approx(score)
        assert em[sid]["ci_low"] <= em[sid]["nps"] <= em[sid]["ci_high"]
    # texts: the template's actions are there, plus data-driven pain points
    first = client.template.stages[0]
    acts = d.texts.filter(pl.col("stage") == first.id, pl.col("lane") == "actions")
    assert acts["text"].to_list() == first.actions
    data_rows = d.texts.filter(pl.col("text").str.starts_with("Data:"))
    assert data_rows.height > 0
    assert set(data_rows["lane"]) <= {"pain_points", "opportunities"}
    # KPIs: activation rate as the document says it
    act = d.kpis.filter(pl.col("metric") == "activation_rate").row(0, named=True)
    assert act["value_text"] == format_value(
        doc["onboarding"]["activation_rate"], "fraction", style="compact"
    )
    assert d.persona is None and "current state" in d.title
    assert chart_journey_map(d).to_dict()["width"] == 1100


def test_kpi_cells_are_compact_and_the_trend_unsigned_under_its_arrow():
    def cell(metric, current, history, target=None, status="off_track", currency="EUR"):
        goal = None if target is None else {"target": target, "status": status}
        r = _kpi_row("s", metric, "KPI", current, history, goal, currency)
        return r["label"], r["value_text"], r["trend"], r["target_text"], r["gap_text"]

    # fractions: whole percent from 10% up, changes and gaps in points (gap = target - value)
    assert cell("activation_rate", 0.124, [0.10, 0.124], 0.15) == (
        "KPI",
        "12%",
        "▲ 2.4 pts",
        "15%",
        "+2.6 pts",
    )
    # amounts: abbreviated, the currency code in the label; changes relative to the earlier value
    assert cell("mrr", 18200.0, [20000.0, 18200.0], 25000.0) == (
        "KPI (EUR)",
        "18k",
        "▼ 9%",
        "25k",
        "+37%",
    )
    # durations: in the largest unit they reach (0.4 days = 9.6 hours)
    assert cell("ttfv_days_median", 6.5, [6.1, 6.5], 4) == (
        "KPI",
        "6.5 d",
        "▲ 9.6 h",
        "4 d",
        "-2.5 d",
    )
    assert cell("nps", -12.0, [-15.0, -12.0], 0, status="achieved") == (
        "KPI",
        "-12",
        "▲ 3 pts",
        "0",
        "none",
    )
    assert cell("customers", 1234, [1234, 1234]) == ("KPI", "1,234", "= flat", None, None)
    assert cell("nps", None, [])[1] == "—"


def test_drop_off_pain_point_is_on_the_stage_accounts_fail_to_leave(world):
    client, doc, stream = world
    d = md.journey_map_data(client, doc, stream)
    rows = d.stages.to_dicts()
    worst = min(range(1, len(rows)), key=lambda i: rows[i]["conversion_from_previous"])
    conv = rows[worst]["conversion_from_previous"]
    if conv >= 0.6:
        pytest.skip("no large drop-off in this synthetic client")
    text = f"Data: {100 * (1 - conv):.0f}% stop before {rows[worst]['label']}"
    hit = d.texts.filter(pl.col("text") == text)
    assert hit["stage"].to_list() == [rows[worst - 1]["id"]]


def test_future_map_shows_goal_targets_and_status(world):
    client, doc, stream = world
    d = md.journey_map_data(client, doc, stream, future=True)
    assert "future state" in d.title
    with_target = d.kpis.filter(pl.col("target_text").is_not_null())
    goals = {g["metric"] for g in doc["goals"]}
    assert set(with_target["metric"]) == goals
    assert with_target["status"].null_count() < with_target.height
    chart_journey_map(d, state="future").to_dict()


def test_persona_map_uses_the_persona_funnel(world):
    client, doc, stream = world
    persona = client.tables["accounts"]["persona"].drop_nulls().mode().sort()[0]
    d = md.journey_map_data(client, doc, stream, persona=persona)
    funnel = stages.stage_funnel(
        stream,
        client.tables["accounts"],
        period=jl.resolve_period(client),
        stages=stage_pairs(client.template),
        by="persona",
    )
    expected = funnel.filter(pl.col("persona") == persona)["reached"].to_list()
    assert d.stages["reached"].to_list() == expected
    assert d.persona == persona_labels(client).get(persona, persona)
    # persona maps leave out company-wide metrics
    assert "cac" not in d.kpis["metric"].to_list()


def test_persona_maps_add_up_to_the_whole(world):
    client, doc, stream = world
    maps = md.persona_map_data(client, doc, stream)
    assert len(maps) >= 2
    none = client.tables["accounts"].filter(
        pl.col("persona").is_null(),
        jl.resolve_period(client)[0] <= pl.col("first_seen_at").dt.strftime("%Y-%m"),
    )
    if none.height:
        pytest.skip("some accounts have no persona")
    total = sum(m.stages["reached"][0] for m in maps.values())
    assert total == doc["stages"][0]["reached"]
    assert len(chart_persona_maps(maps).to_dict()["vconcat"]) == len(maps)


def test_a_persona_s_opportunities_from_the_whole_client_equal_its_own(world):
    # The persona map reads each account's furthest stage and touchpoints from the
    # all-accounts answer, kept to the persona's accounts: the same as reading the
    # persona's own stream (a scope with no origin is computed from scratch).
    from journeylib.analysis._scope import scope, touchpoint_frame

    client, doc, stream = world
    arpa = doc["revenue"]["months"][-1]["arpa"]
    for persona in client.tables["accounts"]["persona"].drop_nulls().unique().sort():
        sc = scope(client, stream, persona)
        fresh = dataclasses.replace(sc, origin=(None, None))
        assert fresh.stream is sc.stream
        got = md._opportunities(client, sc, arpa)
        assert got.height > 0
        assert got.equals(md._opportunities(client, fresh, arpa))
        assert touchpoint_frame(client, sc).equals(touchpoint_frame(client, fresh))
        furthest, met = md._account_use(client, sc)
        assert set(furthest["account_id"]) <= set(sc.accounts["account_id"])
        assert set(met["account_id"]) <= set(sc.accounts["account_id"])


def test_a_segment_of_the_same_stream_and_settings_is_not_served_the_whole_s_result(world):
    from journeylib.analysis._scope import scope
    from journeylib.ingest.restrict import restrict_to_segment

    client, doc, stream = world
    arpa = doc["revenue"]["months"][-1]["arpa"]
    persona = client.tables["accounts"]["persona"].drop_nulls().mode().sort()[0]
    whole = md._opportunities(client, scope(client, stream, None), arpa)
    seg = restrict_to_segment(client, {"persona": persona})
    assert seg.config is client.config and seg.template is client.template
    part = md._opportunities(seg, scope(seg, stream, None), arpa)
    assert part["volume"].sum() < whole["volume"].sum()


def test_a_persona_map_reads_only_its_kpis_sections(world):
    client, _doc, _stream = world
    kpis = {k for s in client.template.stages for k in s.kpis}
    assert kpis & {"cac", "ctr", "branded_search_share"}, "the template shows company-wide KPIs"
    whole = md.map_sections(client)
    mine = md.map_sections(client, persona="x")
    assert mine <= whole and {"revenue", "stages"} <= mine
    assert "acquisition" in whole
    assert "acquisition" not in mine


def test_opportunity_frame_definitions(world):
    client, doc, stream = world
    opp = md.opportunity_frame(client, doc, stream)
    assert opp.columns == [
        "stage",
        "touchpoint",
        "drop_off",
        "volume",
        "revenue_at_risk",
        "score",
        "lost",
    ]
    assert opp["score"].max() == pytest.approx(1.0)
    assert opp.filter((pl.col("drop_off") < 0) | (pl.col("drop_off") > 1)).height == 0
    assert (opp["lost"] <= opp["volume"]).all()
    # revenue at risk = accounts whose furthest stage is this one × ARPA of the last month
    pairs = stage_pairs(client.template)
    stall = stages.stall_summary(
        stream, client.tables["accounts"], period=jl.resolve_period(client), stages=pairs
    )
    arpa = doc["revenue"]["months"][-1]["arpa"]
    row = opp.row(0, named=True)
    lost_stage = stall.filter(pl.col("label") == row["stage"])["accounts"][0]
    assert row["revenue_at_risk"] == pytest.approx(lost_stage * arpa)
    assert pairs[-1][1] not in opp["stage"].to_list()  # the last stage is left out
    chart_opportunity_map(opp).to_dict()


def test_builders_without_optional_tables(world):
    client, _, _ = world
    bare = dataclasses.replace(
        client, tables={k: v for k, v in client.tables.items() if k in ("accounts", "events")}
    )
    doc = jl.metrics_document(bare)
    stream = jl.journey_events(bare)
    d = md.journey_map_data(bare, doc, stream, future=True)
    assert d.emotion is None
    assert d.stages["reached"].to_list() == [s["reached"] for s in doc["stages"]]
    chart_journey_map(d, state="future").to_dict()
    opp = md.opportunity_frame(bare, doc, stream)
    assert opp["revenue_at_risk"].null_count() == opp.height
    assert opp["score"].max() == pytest.approx(1.0)
    front, back = blueprint_frames(bare, doc, stream)
    assert back.height == 0 and front.height > 0
    assert milestone_revenue(bare, stream).height == 0


def test_five_stage_template(world):
    client, _, _ = world
    five = dataclasses.replace(client, template=jl.load_template("saas_5_stage"))
    doc = jl.metrics_document(five)
    stream = jl.journey_events(five)
    d = md.journey_map_data(five, doc, stream)
    assert d.stages["id"].to_list() == five.template.stage_ids
    steps = onboarding_steps(five, stream)
    conversion = next(s for s in five.template.stages if s.id == "conversion")
    assert set(steps) <= {e for tp in conversion.touchpoints for e in tp.events}


def test_no_persona_maps_when_nobody_has_a_persona(world):
    client, doc, stream = world
    accounts = client.tables["accounts"].with_columns(pl.lit("unassigned").alias("persona"))
    bare = dataclasses.replace(client, tables={**client.tables, "accounts": accounts})
    assert md.persona_map_data(bare, doc, stream) == {}
