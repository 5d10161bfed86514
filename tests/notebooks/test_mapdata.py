"""The glue behind notebooks 04, 06 and 07 (journeylib.analysis.journey_map) and the safe HTML tables.

Most tests run on one small synthetic client (300 accounts, 6 months) and
check each frame against the metric it is built from; a few use hand-made
frames where the expected value is computed by hand.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import polars as pl
import pytest

import journeylib as jl
from journeylib.analysis import journey_map as md
from journeylib.charts import (
    chart_journey_map,
    chart_opportunity_map,
    chart_persona_maps,
    chart_service_blueprint,
)
from journeylib.config import JourneyTemplate
from journeylib.metrics import stages
from journeylib.present.tables import format_value, frame_html
from journeylib.sources.synth import synthesize


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("clients") / "small"
    synthesize(folder, accounts=300, months=6, seed=7)
    client = jl.load_client(folder)
    return client, jl.metrics_document(client), jl.journey_events(client)


def _t(day: int, hour: int = 0) -> dt.datetime:
    return dt.datetime(2024, 1, day, hour, tzinfo=dt.UTC)


# ---------------------------------------------------------------- frame_html
def test_frame_html_escapes_cells_headers_and_caption():
    df = pl.DataFrame({"<th>": ["<script>alert(1)</script>"], "rate": [0.25]})
    out = frame_html(df, formats={"rate": "pct"}, caption="a & b")
    assert "<script>" not in out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in out
    assert "&lt;th&gt;</th>" in out
    assert "<caption>a &amp; b</caption>" in out
    assert "25.0%" in out


def test_frame_html_max_rows_and_missing():
    df = pl.DataFrame({"x": [1.0, None, 3.0]})
    out = frame_html(df, max_rows=2)
    assert out.count("<tr>") == 4  # header, 2 rows, the footer
    assert "1 more rows not shown" in out
    assert "—" in out
    assert format_value(float("nan")) == "—"
    assert format_value(12.345, "num1") == "12.3"
    assert format_value(1234.5, "money") == "1,234"


def test_frame_html_unknown_format_is_an_error():
    with pytest.raises(ValueError, match="unknown table format"):
        frame_html(pl.DataFrame({"x": [1]}), formats={"x": "nope"})


# ---------------------------------------------------------------- journey map
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
    assert act["value_text"] == md.format_metric(doc["onboarding"]["activation_rate"], "fraction")
    assert d.persona is None and "current state" in d.title
    assert chart_journey_map(d).to_dict()["width"] == 1100


def test_drop_off_pain_point_is_on_the_stage_accounts_fail_to_leave(world):
    client, doc, stream = world
    d = md.journey_map_data(client, doc, stream)
    rows = d.stages.to_dicts()
    worst = min(range(1, len(rows)), key=lambda i: rows[i]["conversion_from_previous"])
    conv = rows[worst]["conversion_from_previous"]
    if conv >= 0.6:
        pytest.skip("no large drop-off in this synthetic client")
    text = f"Data: {100 * (1 - conv):.0f} % stop before {rows[worst]['label']}"
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
    funnel = stages.stage_funnel(stream, client.tables["accounts"], period=jl.resolve_period(client),
                                 stages=md.stage_pairs(client.template), by="persona")
    expected = funnel.filter(pl.col("persona") == persona)["reached"].to_list()
    assert d.stages["reached"].to_list() == expected
    assert d.persona == md.persona_labels(client).get(persona, persona)
    # persona maps leave out company-wide metrics
    assert "cac" not in d.kpis["metric"].to_list()


def test_persona_maps_add_up_to_the_whole(world):
    client, doc, stream = world
    maps = md.persona_map_data(client, doc, stream)
    assert len(maps) >= 2
    none = client.tables["accounts"].filter(
        pl.col("persona").is_null(), jl.resolve_period(client)[0] <= pl.col("first_seen_at")
        .dt.strftime("%Y-%m"))
    if none.height:
        pytest.skip("some accounts have no persona")
    total = sum(m.stages["reached"][0] for m in maps.values())
    assert total == doc["stages"][0]["reached"]
    assert len(chart_persona_maps(maps).to_dict()["vconcat"]) == len(maps)


# ---------------------------------------------------------------- opportunity map
def test_opportunity_frame_definitions(world):
    client, doc, stream = world
    opp = md.opportunity_frame(client, doc, stream)
    assert opp.columns == ["stage", "touchpoint", "drop_off", "volume", "revenue_at_risk", "score",
                           "lost"]
    assert opp["score"].max() == pytest.approx(1.0)
    assert opp.filter((pl.col("drop_off") < 0) | (pl.col("drop_off") > 1)).height == 0
    assert (opp["lost"] <= opp["volume"]).all()
    # revenue at risk = accounts whose furthest stage is this one × ARPA of the last month
    pairs = md.stage_pairs(client.template)
    stall = stages.stall_summary(stream, client.tables["accounts"],
                                 period=jl.resolve_period(client), stages=pairs)
    arpa = doc["revenue"]["months"][-1]["arpa"]
    row = opp.row(0, named=True)
    lost_stage = stall.filter(pl.col("label") == row["stage"])["accounts"][0]
    assert row["revenue_at_risk"] == pytest.approx(lost_stage * arpa)
    assert pairs[-1][1] not in opp["stage"].to_list()  # the last stage is left out
    chart_opportunity_map(opp).to_dict()


# ---------------------------------------------------------------- service blueprint
def test_blueprint_places_tickets_on_the_stage_at_opening(world):
    client, doc, _ = world
    tpl = JourneyTemplate.model_validate({"stages": [
        {"id": "a", "label": "A", "touchpoints": [{"id": "web", "events": ["visit"]}]},
        {"id": "b", "label": "B", "touchpoints": [{"id": "app", "events": ["login"]}]},
        {"id": "s", "label": "S", "touchpoints": [{"id": "help", "events": ["ticket_opened"]}]},
    ]})
    tickets = pl.DataFrame({
        "ticket_id": ["t1", "t2", "t3", "t4"], "account_id": ["x", "x", "y", "z"],
        "opened_at": [_t(2), _t(5), _t(3), _t(1)], "resolved_at": [_t(2, 4), _t(5, 10), None,
                                                                    _t(1, 1)],
        "category": ["how_to", "bug", "how_to", "bug"],
    })
    stream = pl.DataFrame({
        "account_id": ["x", "x", "y", "x", "x", "y", "z"],
        "timestamp": [_t(1), _t(4), _t(1), _t(2), _t(5), _t(3), _t(1)],
        "event": ["visit", "login", "visit", "ticket_opened", "ticket_opened", "ticket_opened",
                  "ticket_opened"],
        "touchpoint": ["web", "app", "web", "help", "help", "help", "help"],
        "stage": ["a", "b", "a", "s", "s", "s", "s"],
        "source": ["events"] * 3 + ["tickets"] * 4,
        "anonymous_id": [None] * 7,
    }, schema_overrides={"anonymous_id": pl.String})
    accounts = pl.DataFrame({"account_id": ["x", "y", "z"], "first_seen_at": [_t(1)] * 3,
                             "persona": [None, None, None]},
                            schema_overrides={"persona": pl.String})
    fake = dataclasses.replace(
        client, template=tpl, tables={"accounts": accounts, "tickets": tickets, "events": stream},
        config=client.config.model_copy(update={"period": None}))
    front, back = md.blueprint_frames(fake, doc, stream)
    # t1 (x, day 2: in A), t2 (x, day 5: in B), t3 (y, day 3: in A); t4 (z) has no stage
    # median resolution: t1 took 4 h, t3 is unresolved; t2 took 10 h
    assert back.rows() == [("A", 2, "how to", 4.0), ("B", 1, "bug", 10.0)]
    assert set(front["touchpoint"]) == {"web", "app", "help"}


def test_blueprint_on_the_synthetic_client(world):
    client, doc, stream = world
    front, back = md.blueprint_frames(client, doc, stream)
    labels = [lab for _, lab in md.stage_pairs(client.template)]
    assert set(back["stage"]) <= set(labels)
    period = jl.resolve_period(client)
    opened = client.tables["tickets"].filter(
        pl.col("opened_at").dt.strftime("%Y-%m").is_between(pl.lit(period[0]), pl.lit(period[1])))
    assert 0 < back["tickets"].sum() <= opened.height
    assert (front["accounts"] > 0).all()
    chart_service_blueprint(front, back, stages=labels).to_dict()


# ---------------------------------------------------------------- day in the life
def test_day_in_life_counts_raw_account_events():
    stream = pl.DataFrame({
        "account_id": ["a", "a", "b", None, "c"],
        "timestamp": [_t(1, 9), _t(1, 9), _t(2, 23), _t(1, 9), _t(7, 12)],
        "source": ["events", "events", "events", "events", "tickets"],
    })
    accounts = pl.DataFrame({"account_id": ["a", "b", "c"], "persona": ["ops", None, "ops"]})
    out = md.day_in_life_frame(stream, accounts, labels={"ops": "Operations"})
    # 2024-01-01 is a Monday (1), 2024-01-02 a Tuesday (2); the ticket and the anonymous row drop
    assert out.rows() == [("(none)", 2, 23, 1), ("Operations", 1, 9, 2)]
    local = md.day_in_life_frame(stream, accounts, timezone="Europe/Berlin")
    assert ("(none)", 3, 0, 1) in local.rows()  # 23:00 UTC is midnight in Berlin


# ---------------------------------------------------------------- milestones
def test_milestone_helpers_agree_with_the_metric(world, tmp_path):
    client, doc, stream = world
    table = md.milestone_table(client, stream)
    times = md.milestone_times(client, stream)
    stuck = md.stuck_table(client, stream, out_dir=tmp_path)
    assert table["id"].to_list() == [m.id for m in client.config.milestones]
    for r in table.iter_rows(named=True):
        mine = times.filter(pl.col("id") == r["id"])
        assert mine.height == r["signups"]
        assert mine["reached"].sum() == r["reached"]
        assert stuck.filter(pl.col("milestone") == r["label"]).height == r["signups"] - r["reached"]
    written = pl.read_csv(tmp_path / "tables" / "stuck_before_milestones.csv")
    assert written.height == stuck.height


def test_milestone_helpers_without_milestones(world):
    client, _, stream = world
    bare = dataclasses.replace(client, config=client.config.model_copy(update={"milestones": []}))
    assert md.milestone_times(bare, stream).height == 0
    assert md.stuck_table(bare, stream).height == 0


# ---------------------------------------------------------------- notebook 04
def test_stage_entry_summary_and_briefs(world):
    client, doc, stream = world
    period = jl.resolve_period(client)
    pairs = md.stage_pairs(client.template)
    entries = stages.stage_entries(stream, client.tables["accounts"], period=period, stages=pairs)
    summary = md.stage_entry_summary(entries, client.template)
    assert summary["stage"].to_list() == [s for s, _ in pairs]
    assert summary["accounts"].sum() == entries.height
    funnel = stages.stage_funnel(stream, client.tables["accounts"], period=period, stages=pairs)
    stall = stages.stall_summary(stream, client.tables["accounts"], period=period, stages=pairs)
    text = md.stage_briefs(client.template, funnel, stall)
    assert text.count("### ") == len(pairs)
    assert f"**{funnel['reached'][0]:,}** accounts reached it" in text


def test_stage_briefs_escape_template_text():
    tpl = JourneyTemplate.model_validate({"stages": [
        {"id": "a", "label": "<b>A</b>", "actions": ["<script>x</script>"]}]})
    funnel = pl.DataFrame({"id": ["a"], "reached": [3], "conversion_from_previous": [None],
                           "median_days_from_previous": [None]})
    text = md.stage_briefs(tpl, funnel)
    assert "<script>" not in text and "<b>" not in text
    assert "&lt;script&gt;x&lt;/script&gt;" in text


# ---------------------------------------------------------------- onboarding and micro-journey
def test_onboarding_and_variant_steps(world):
    client, _, stream = world
    steps = md.onboarding_steps(client, stream)
    onb = next(s for s in client.template.stages if s.id == "onboarding")
    listed = {e for tp in onb.touchpoints for e in tp.events}
    assert steps and set(steps) <= listed
    assert client.config.first_value.event in steps
    var = md.variant_steps(stream)
    assert var == ["checkout_started", "plan_selected", "payment_submitted"]


def test_save_charts_writes_nothing_without_a_folder(tmp_path):
    assert md.save_charts({"x": {"mark": "point"}}, None) == []
    paths = md.save_charts({"x": {"mark": "point", "data": {"values": [{}]}}}, tmp_path,
                           formats=("svg",))
    assert [p.name for p in paths] == ["x.svg"] and paths[0].exists()


def test_milestone_revenue_splits_signups(world):
    client, _, stream = world
    rev = md.milestone_revenue(client, stream)
    table = md.milestone_table(client, stream)
    assert rev["id"].to_list() == table["id"].to_list()
    for r, t in zip(rev.iter_rows(named=True), table.iter_rows(named=True), strict=True):
        assert r["signups_reached"] == t["reached"]
        assert r["signups_reached"] + r["signups_not_reached"] == t["signups"]
    # hand check of the first milestone: MRR of the last month over the reachers
    first = rev.row(0, named=True)
    times = md.milestone_times(client, stream).filter(pl.col("id") == first["id"], pl.col("reached"))
    last = jl.resolve_period(client)[1]
    subs = client.tables["subscriptions"].filter(pl.col("month").dt.strftime("%Y-%m") == last)
    total = subs.filter(pl.col("account_id").is_in(times["account_id"].implode()))["mrr"].sum()
    assert first["mrr_per_signup_reached"] == pytest.approx(total / times.height)


def test_builders_without_optional_tables(world):
    client, _, _ = world
    bare = dataclasses.replace(
        client, tables={k: v for k, v in client.tables.items() if k in ("accounts", "events")})
    doc = jl.metrics_document(bare)
    stream = jl.journey_events(bare)
    d = md.journey_map_data(bare, doc, stream, future=True)
    assert d.emotion is None
    assert d.stages["reached"].to_list() == [s["reached"] for s in doc["stages"]]
    chart_journey_map(d, state="future").to_dict()
    opp = md.opportunity_frame(bare, doc, stream)
    assert opp["revenue_at_risk"].null_count() == opp.height
    assert opp["score"].max() == pytest.approx(1.0)
    front, back = md.blueprint_frames(bare, doc, stream)
    assert back.height == 0 and front.height > 0
    assert md.milestone_revenue(bare, stream).height == 0


def test_five_stage_template(world):
    client, _, _ = world
    five = dataclasses.replace(client, template=jl.load_template("saas_5_stage"))
    doc = jl.metrics_document(five)
    stream = jl.journey_events(five)
    d = md.journey_map_data(five, doc, stream)
    assert d.stages["id"].to_list() == five.template.stage_ids
    steps = md.onboarding_steps(five, stream)
    conversion = next(s for s in five.template.stages if s.id == "conversion")
    assert set(steps) <= {e for tp in conversion.touchpoints for e in tp.events}


def test_no_persona_maps_when_nobody_has_a_persona(world):
    client, doc, stream = world
    accounts = client.tables["accounts"].with_columns(pl.lit("unassigned").alias("persona"))
    bare = dataclasses.replace(client, tables={**client.tables, "accounts": accounts})
    assert md.persona_map_data(bare, doc, stream) == {}
