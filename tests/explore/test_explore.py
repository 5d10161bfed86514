"""The explorer's logic without a browser: set widget values, assert on frames and chart specs.

ipywidgets observers run synchronously, so setting ``explorer.persona.value``
redraws the dependent panels before the next line. Expected values are
computed here from the library on hand-restricted data (the explorer must show
the same numbers as a direct call). A small synthetic client (300 accounts,
6 months) is written once per module; variants of it lack subscriptions or have
one account with a persona of its own. A client given by its folder is read
from its client store, which the tests keep under a temporary
``JOURNEY_STORE_DIR``; a client given loaded reads its stream and marts built
in memory: both must show the same numbers.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import nbformat
import polars as pl
import pytest

import journeylib as jl
from journeylib import analysis
from journeylib.explore import (
    ALL,
    CONTROL_GROUPS,
    DEPENDENCIES,
    STREAM,
    Explorer,
    Filters,
    FunnelChoice,
    Scope,
    Source,
    account_ids,
    compute,
    draw,
    widget,
)
from journeylib.metrics import funnels, retention, revenue, stages
from journeylib.paths import PROJ_ROOT
from journeylib.store import ensure_store
from tests.explore.conftest import PANEL_IDS, TAB_IDS

#: The panels drawn under the ordered funnel's tab.
FUNNEL_TAB = {"ordered_funnel", "funnel_breakdown", "funnel_drivers"}


@pytest.fixture(scope="module")
def source(client):
    return Source.from_client(client)


def ids_of(source, client, filters, period):
    return account_ids(
        source.mart("accounts"),
        source.stream,
        filters,
        period=period,
        subscriptions=client.table("subscriptions"),
    )


@pytest.fixture(scope="module")
def solo_dir(client_dir, tmp_path_factory) -> Path:
    """One account with a persona of its own and a hostile name."""
    path = tmp_path_factory.mktemp("explore") / "solo"
    shutil.copytree(client_dir, path)
    acc = pl.read_csv(path / "accounts.csv", infer_schema=False)
    acc = acc.with_columns(
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("solo"))
        .otherwise(pl.col("persona"))
        .alias("persona"),
        pl.when(pl.int_range(pl.len()) == 0)
        .then(pl.lit("<img src=x onerror=alert(1)>"))
        .otherwise(pl.col("name"))
        .alias("name"),
    )
    acc.write_csv(path / "accounts.csv")
    return path


@pytest.fixture
def ex(client):
    """An explorer that redraws every dependent panel at once (not only the tab on screen)."""
    return Explorer(client, lazy_tabs=False)


def period_of(ex: Explorer) -> tuple[str, str]:
    return ex.period_value()


def spec_values(chart) -> list[dict]:
    """Every inline data row of an altair chart's spec."""
    spec = chart.to_dict()
    rows = [r for ds in spec.get("datasets", {}).values() for r in ds]

    def walk(node):
        if isinstance(node, dict):
            if isinstance(node.get("data"), dict) and "values" in node["data"]:
                rows.extend(node["data"]["values"])
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    walk(spec)
    return rows


# ---------------------------------------------------------------- loading and controls
def test_controls_are_filled_from_the_client(ex, client, stream):
    acc = client.tables["accounts"]
    assert ex.client is client
    assert [v for _, v in ex.persona.options[1:]] == sorted(acc["persona"].unique().to_list())
    assert [v for _, v in ex.channel.options[1:]] == sorted(
        acc["acquisition_channel"].unique().to_list()
    )
    assert [v for _, v in ex.plan.options[1:]] == sorted(
        client.tables["subscriptions"]["plan"].unique().to_list()
    )
    assert [v for _, v in ex.stage.options[1:]] == client.template.stage_ids
    assert ex.period.options[0] == "2024-01" and ex.period.options[-1] == "2024-06"
    assert period_of(ex) == jl.resolve_period(client)
    assert set(ex.steps.allowed_tags) == set(
        stream.filter(pl.col("account_id").is_not_null())["event"].unique().to_list()
    )
    assert len(ex.steps.value) >= 2
    # every panel drawn once at start, each with a chart or a note
    assert all(ex.redraws[p] == 1 for p in PANEL_IDS)
    assert ex.charts["journey_map"] is not None and ex.charts["stage_funnel"] is not None


def test_unfiltered_stage_funnel_is_the_library_s(ex, client, stream):
    expected = stages.stage_funnel(
        stream,
        client.tables["accounts"],
        period=period_of(ex),
        stages=[(s.id, s.label) for s in client.template.stages],
    )
    assert ex.results["stage_funnel"].equals(expected)


def test_persona_restricts_the_stage_funnel(ex, client, stream):
    persona = ex.persona.options[1][1]
    ex.persona.value = persona
    acc = client.tables["accounts"].filter(pl.col("persona") == persona)
    ids = acc["account_id"].implode()
    expected = stages.stage_funnel(
        stream.filter(pl.col("account_id").is_in(ids)),
        acc,
        period=period_of(ex),
        stages=[(s.id, s.label) for s in client.template.stages],
    )
    got = ex.results["stage_funnel"]
    assert got["reached"].to_list() == expected["reached"].to_list()
    assert got.equals(expected)
    # the chart draws those counts
    drawn = {r["id"]: r["reached"] for r in spec_values(ex.charts["stage_funnel"]) if "id" in r}
    assert drawn == dict(zip(expected["id"], expected["reached"], strict=True))
    # and the status line counts the persona's accounts
    assert f"{acc.height:,} of {client.tables['accounts'].height:,} accounts" in ex.status.value
    # the journey map is the persona's too: its title names the filter
    assert f"persona = {persona}" in json.dumps(ex.charts["journey_map"].to_dict()["title"])


def test_plan_filter_keeps_accounts_with_the_plan_in_any_month(ex, client):
    subs = client.tables["subscriptions"]
    plan = ex.plan.options[1][1]
    ex.plan.value = plan
    ids = subs.filter(pl.col("plan") == plan)["account_id"].unique()
    expected = revenue.revenue_months(
        subs.filter(pl.col("account_id").is_in(ids.implode())), period=period_of(ex)
    )
    assert ex.results["mrr_movements"].equals(expected)
    assert ex.scope().ids.sort().to_list() == ids.sort().to_list()


def test_variant_and_stage_filters(client, stream, source):
    period = jl.resolve_period(client)
    variant = stream["variant"].drop_nulls().unique().sort()[0]
    got = ids_of(source, client, Filters(variant=variant), period)
    expected = stream.filter(pl.col("variant") == variant)["account_id"].drop_nulls().unique()
    assert got.to_list() == expected.sort().to_list()

    # stage reached: read on the accounts mart, the same accounts as on every event
    for stage in client.template.stage_ids:
        for months in (("2024-01", "2024-02"), period):
            got = ids_of(source, client, Filters(stage=stage), months)
            end = pl.datetime(*map(int, months[1].split("-")), 1, time_zone="UTC").dt.offset_by(
                "1mo"
            )
            expected = (
                stream.filter(pl.col("stage") == stage, pl.col("timestamp") < end)["account_id"]
                .drop_nulls()
                .unique()
            )
            assert got.to_list() == expected.sort().to_list(), (stage, months)
    stage = client.template.stage_ids[-1]
    # filters combine: persona and stage = the intersection
    persona = client.tables["accounts"]["persona"][0]
    both = ids_of(source, client, Filters(persona=persona, stage=stage), period)
    p_ids = set(client.tables["accounts"].filter(pl.col("persona") == persona)["account_id"])
    s_ids = set(ids_of(source, client, Filters(stage=stage), period))
    assert set(both) == p_ids & s_ids
    # channel is the accounts' acquisition channel
    channel = client.tables["accounts"]["acquisition_channel"][0]
    got = ids_of(source, client, Filters(channel=channel), period)
    acc = client.tables["accounts"]
    assert got.to_list() == sorted(
        acc.filter(pl.col("acquisition_channel") == channel)["account_id"].to_list()
    )
    # a stage the template lacks and a plan without subscriptions keep nobody
    assert ids_of(source, client, Filters(stage="nowhere"), period).len() == 0
    no_plan = account_ids(
        source.mart("accounts"), source.stream, Filters(plan="pro"), period=period
    )
    assert no_plan.len() == 0


def test_a_filter_state_restricts_every_table_lazily_and_keeps_company_tables(ex, client):
    persona = ex.persona.options[1][1]
    ex.persona.value = persona
    sc = ex.scope()
    ids = client.tables["accounts"].filter(pl.col("persona") == persona)["account_id"]
    assert sc.ids.to_list() == ids.sort().to_list()
    assert all(isinstance(sc.lazy(n), pl.LazyFrame) for n in [*client.tables, STREAM])
    assert set(sc.table("events")["account_id"]) <= set(ids)
    assert sc.table("events").height == (
        client.tables["events"].filter(pl.col("account_id").is_in(ids.implode())).height
    )
    assert sc.table("marketing").equals(client.tables["marketing"])
    assert sc.stream["account_id"].null_count() == 0
    assert sc.table("no_such_table") is None
    # no filter: the client's own frames, anonymous events included
    ex.persona.value = ALL
    whole = ex.scope()
    assert whole.ids is None and whole.table("events") is client.tables["events"]
    assert whole.stream["account_id"].null_count() > 0


def test_panels_draw_on_a_scope_without_widgets(client, source):
    period = jl.resolve_period(client)
    sc = Scope(source, Filters(), period)
    drawn = draw("mrr_movements", sc, FunnelChoice())
    expected = revenue.revenue_months(client.tables["subscriptions"], period=period)
    assert drawn.result.equals(expected)
    assert drawn.chart is not None and drawn.message is None and drawn.extra == ()
    assert draw("ordered_funnel", sc, FunnelChoice()).message.startswith("Pick at least one step")
    lone = draw("accounts", sc, FunnelChoice(steps=("signed_up",)))
    assert lone.result is None and lone.message.startswith("Pick at least two funnel steps")
    # every control's group is one some panel depends on
    assert set(CONTROL_GROUPS.values()) == set().union(*DEPENDENCIES.values())


# ---------------------------------------------------------------- redraw dependencies
def test_changing_funnel_steps_redraws_only_the_funnel_panels(ex):
    before = dict(ex.redraws)
    ex.steps.value = list(reversed(ex.steps.value))
    changed = {p for p in PANEL_IDS if ex.redraws[p] != before[p]}
    assert changed == FUNNEL_TAB | {"accounts"}
    assert all(ex.redraws[p] == before[p] + 1 for p in changed)
    # window and mode: the same; the dropped-at step: the accounts table alone
    before = dict(ex.redraws)
    ex.window.value = "30d"
    ex.mode.value = "strict"
    assert {p: ex.redraws[p] - before[p] for p in PANEL_IDS if ex.redraws[p] != before[p]} == {
        p: 2 for p in FUNNEL_TAB | {"accounts"}
    }
    ex.steps.value = [*ex.steps.value, "subscription_started"]
    before = dict(ex.redraws)
    ex.drop_step.value = 3
    assert {p for p in PANEL_IDS if ex.redraws[p] != before[p]} == {"accounts"}


def test_period_and_filters_redraw_every_panel(ex):
    before = dict(ex.redraws)
    ex.period.index = (1, 4)
    assert all(ex.redraws[p] == before[p] + 1 for p in PANEL_IDS)
    assert period_of(ex) == ("2024-02", "2024-05")
    ex.channel.value = ex.channel.options[1][1]
    assert all(ex.redraws[p] == before[p] + 2 for p in PANEL_IDS)
    assert DEPENDENCIES["journey_map"] == {"period", "filters"}


def test_lazy_tabs_draw_the_panel_on_screen_and_the_others_when_opened(client):
    ex = Explorer(client)  # lazy_tabs=True
    assert ex.visible_panel() == "journey_map"
    assert ex.redraws["journey_map"] == 1 and ex.redraws["stage_funnel"] == 0
    ex.persona.value = ex.persona.options[1][1]
    assert ex.redraws["journey_map"] == 2 and ex.redraws["stage_funnel"] == 0
    ex.tabs.selected_index = TAB_IDS.index("stage_funnel")
    assert ex.redraws["stage_funnel"] == 1
    ex.tabs.selected_index = 0
    ex.tabs.selected_index = TAB_IDS.index("stage_funnel")
    assert ex.redraws["stage_funnel"] == 1  # nothing changed since: not drawn again
    assert ex.redraws["journey_map"] == 2


def test_ordered_funnel_is_the_library_s_on_the_restricted_stream(ex, client, stream):
    ex.channel.value = ex.channel.options[1][1]
    ex.steps.value = ["signed_up", "subscription_started"]
    ex.window.value = "60d"
    ids = client.tables["accounts"].filter(pl.col("acquisition_channel") == ex.channel.value)[
        "account_id"
    ]
    expected = funnels.ordered_funnel(
        stream.filter(pl.col("account_id").is_in(ids.implode())),
        steps=["signed_up", "subscription_started"],
        window="60d",
        period=period_of(ex),
    )
    assert ex.results["ordered_funnel"].equals(expected.steps)
    drawn = [r["count"] for r in spec_values(ex.charts["ordered_funnel"]) if "count" in r]
    assert drawn == expected.steps["count"].to_list()


def test_a_bad_window_shows_the_error_in_the_funnel_panel_only(ex):
    ex.window.value = "14x"
    assert "window" in ex.messages["ordered_funnel"].lower()
    assert ex.charts["ordered_funnel"] is None
    assert ex.messages["stage_funnel"] is None and ex.charts["stage_funnel"] is not None


# ---------------------------------------------------------------- empty states
def test_a_filter_without_accounts_shows_a_message_not_an_empty_chart(solo_dir):
    ex = Explorer(solo_dir, lazy_tabs=False)
    solo = jl.load_client(solo_dir).tables["accounts"].filter(pl.col("persona") == "solo")
    other = next(v for _, v in ex.channel.options[1:] if v != solo["acquisition_channel"][0])
    ex.persona.value = "solo"
    assert ex.messages["stage_funnel"] is None  # one account: still drawn
    ex.channel.value = other
    for p in ex._shown:
        assert ex.charts[p] is None and ex.results[p] is None
        if p not in TAB_IDS:  # drawn under a tab's panel, which says it
            assert ex.messages[p] is None and ex.outputs[p].outputs == (), p
            continue
        assert ex.messages[p].startswith("No accounts match these filters"), p
        html_out = ex.outputs[p].outputs[0]["data"]["text/html"]
        assert "No accounts match these filters (persona = solo, channel = " in html_out
    assert "0 of 300 accounts" in ex.status.value


def test_client_text_is_escaped_in_the_accounts_table(solo_dir):
    ex = Explorer(solo_dir, lazy_tabs=False)
    ex.persona.value = "solo"
    # a step the solo account did, then one it never did: it is behind the number
    mine = ex.scope().stream.sort("timestamp")["event"].to_list()
    never = next(e for e in ex.steps.allowed_tags if e not in mine)
    ex.window.value = "1s"
    ex.steps.value = [mine[0], never]
    assert ex.results["accounts"]["name"].to_list() == ["<img src=x onerror=alert(1)>"]
    page = "".join(o["data"]["text/html"] for p in PANEL_IDS for o in ex.outputs[p].outputs)
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<img src=x" not in page


def test_a_client_without_subscriptions_hides_the_revenue_panels_with_a_note(no_subs_dir):
    ex = Explorer(no_subs_dir, lazy_tabs=False)
    note = "Add subscriptions.csv to the client folder to see MRR movements."
    assert ex.messages["mrr_movements"] == note
    hidden = {"mrr_movements", "revenue_retention", "attribution"}
    assert not hidden & set(ex._shown)
    assert "MRR movements" not in ex.tabs.titles and "Attribution" not in ex.tabs.titles
    assert len(ex.tabs.children) == len(TAB_IDS) - len(hidden)
    assert note in ex.hidden_note.value
    assert ex.plan.disabled and ex.plan.options == (("All", ALL),)
    # the other panels work, and a redraw never touches the hidden ones
    ex.persona.value = ex.persona.options[1][1]
    assert ex.redraws["mrr_movements"] == 0 and ex.charts["stage_funnel"] is not None


# ---------------------------------------------------------------- accounts behind the number
def test_export_writes_the_dropped_accounts(ex, client, stream, tmp_path, monkeypatch):
    monkeypatch.setenv("JOURNEY_REPORTS_DIR", str(tmp_path / "reports"))
    ex.steps.value = ["signed_up", "subscription_started"]
    ex.window.value = "30d"
    ex.drop_step.value = 2
    res = funnels.ordered_funnel(
        stream, steps=["signed_up", "subscription_started"], window="30d", period=period_of(ex)
    )
    expected = (
        res.accounts.filter(
            pl.col("furthest_step") == 1, ~pl.col("excluded"), ~pl.col("in_progress")
        )["account_id"]
        .sort()
        .to_list()
    )
    assert expected, "the synthetic client has accounts that signed up and never paid"
    assert ex.results["accounts"]["account_id"].to_list() == expected
    path = ex.export_dropped()
    assert path.parent == tmp_path / "reports" / "acme" / "explore"
    assert path.name.startswith("dropped_step2_subscription_started_")
    assert pl.read_csv(path)["account_id"].to_list() == expected
    assert str(path) in ex.export_note.value
    ex.export_button.click()  # the button does the same
    assert ex.last_export.exists()


def test_accounts_panel_needs_two_steps(ex):
    ex.steps.value = ["signed_up"]
    assert ex.drop_step.options == ()
    assert "at least two funnel steps" in ex.messages["accounts"]
    assert ex.export_dropped() is None


# ---------------------------------------------------------------- clients
def test_a_client_is_loaded_once_and_can_be_switched_by_path(client_dir, no_subs_dir, monkeypatch):
    calls = []
    real = widget.ensure_store
    monkeypatch.setattr(widget, "ensure_store", lambda p, **kw: calls.append(p) or real(p, **kw))
    ex = Explorer(client_dir)
    ex.client_path.value = str(no_subs_dir)
    assert ex.client.name == "nosubs" and "mrr_movements" not in ex._shown
    ex.client_picker.value = str(client_dir.resolve())
    assert ex.client.name == "acme" and "mrr_movements" in ex._shown
    ex.load(client_dir)
    assert len(calls) == 2


def test_a_bad_client_path_says_so_and_keeps_the_client(client):
    ex = Explorer(client)
    ex.client_path.value = "/no/such/client/folder"
    assert "no such client folder" in ex.status.value
    assert ex.client is client


def test_start_period_parameter(client):
    ex = Explorer(client, period=("2024-02", "2024-03"))
    assert period_of(ex) == ("2024-02", "2024-03")


# ---------------------------------------------------------------- the notebook
def test_notebook_is_thin_has_one_parameters_cell_and_no_outputs():
    nb = nbformat.read(PROJ_ROOT / "notebooks" / "00_explore.ipynb", as_version=4)
    assert nb.metadata.kernelspec.name == "python3"
    params = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(params) == 1
    lines = [ln for ln in params[0].source.splitlines() if ln.strip()]
    names = [ln.split(":")[0] for ln in lines]
    assert names == ["client", "data_dir", "output_dir", "period_start", "period_end"]
    assert all(ln.count("=") == 1 for ln in lines), "help comments carry no '='"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "Explorer(client_dir" in code[-1].source and code[-1].source.endswith("jl_explorer")
    assert not any("def " in c.source or "class " in c.source for c in code)


# ---------------------------------------------------------------- the client store
def _restricted(client, stream, ids, period):
    """The client, its stream and metrics document restricted by hand to ``ids``, with the period."""
    keep = (lambda f: f) if ids is None else (lambda f: f.filter(pl.col("account_id").is_in(ids)))
    tables = {n: keep(f) if "account_id" in f.columns else f for n, f in client.tables.items()}
    restricted = jl.with_period(dataclasses.replace(client, tables=tables), *period)
    return restricted, keep(stream)


STATES = [
    (Filters(), ("2024-01", "2024-06")),
    (Filters(), ("2024-02", "2024-05")),
    (Filters(channel="organic_search"), ("2024-01", "2024-06")),
    (Filters(stage="onboarding"), ("2024-02", "2024-04")),
]


@pytest.mark.parametrize("where", ["memory", "store"])
def test_panels_read_from_the_marts_give_the_library_s_numbers_on_every_event(
    where, client, client_dir, stream
):
    src = (
        Source.from_client(client)
        if where == "memory"
        else Source.from_store(ensure_store(client_dir))
    )
    pairs = analysis.stage_pairs(client.template)
    for filters, period in STATES:
        sc = Scope(src, filters, period)
        assert sc.ids is None or sc.ids.len() > 0, filters
        ids = None if sc.ids is None else sc.ids.implode()
        rc, rs = _restricted(client, stream, ids, period)
        acc = rc.tables["accounts"]
        assert compute.stage_funnel(sc).equals(
            stages.stage_funnel(rs, acc, period=period, stages=pairs)
        )
        assert compute.activity_retention(sc).equals(
            retention.activity_retention(acc, rc.tables["events"], period=period)
        )
        assert compute.touchpoint_transitions(sc.lazy(STREAM), period=period).equals(
            stages.touchpoint_transitions(rs, period=period)
        )
        expected = analysis.journey_map_data(rc, jl.metrics_document(rc), rs)
        got = compute.journey_map(sc)
        for lane in ("stages", "touchpoints", "emotion", "texts", "kpis"):
            want, have = getattr(expected, lane), getattr(got, lane)
            assert (want is None and have is None) or want.equals(have), (filters, period, lane)
        assert got.title == expected.title
        # the document's sections the map reads are the whole document's
        doc, full = compute.map_doc(sc), jl.metrics_document(rc)
        keys = ("revenue", "onboarding", "nps", "support", "referral", "stages")
        for key in (*keys, "visitors", "goals"):
            assert doc[key] == full[key], key
        # acquisition without the attribution models, which the map does not show
        models = ("attribution", "cac_by_model")
        assert full["acquisition"]["attribution"] is not None
        assert {k: v for k, v in doc["acquisition"].items() if k not in models} == {
            k: v for k, v in full["acquisition"].items() if k not in models
        }
        assert all(doc["acquisition"][k] is None for k in models)


def test_a_client_folder_shows_the_numbers_of_the_client_in_memory(ex, client_dir):
    from_store = Explorer(client_dir, lazy_tabs=False)
    assert from_store._current.source.store is not None
    assert isinstance(from_store.client.tables["events"], pl.LazyFrame)
    for name in ("persona", "channel", "plan", "variant", "stage"):
        assert getattr(from_store, name).options == getattr(ex, name).options
    assert from_store.period.options == ex.period.options
    assert from_store.steps.allowed_tags == ex.steps.allowed_tags
    assert from_store.steps.value == ex.steps.value

    def check():
        for p in PANEL_IDS:
            a, b = ex.results[p], from_store.results[p]
            assert (a is None and b is None) or a.equals(b), p
            assert ex.messages[p] == from_store.messages[p], p
            ca, cb = ex.charts[p], from_store.charts[p]
            assert (ca is None) == (cb is None), p
            if ca is not None:
                assert ca.to_dict() == cb.to_dict(), p

    check()
    for name, i in (("persona", 1), ("plan", 1), ("variant", 1), ("stage", 3)):
        for e in (ex, from_store):
            getattr(e, name).value = getattr(e, name).options[i][1]
        check()


def test_opening_a_current_store_reads_no_raw_file_and_never_the_whole_stream(
    client_dir, monkeypatch
):
    ensure_store(client_dir)

    def no_raw(*_a, **_k):
        raise AssertionError("the raw client folder was read")

    monkeypatch.setattr("journeylib.store.build.load_client", no_raw)
    collected = []
    real_table = Scope.table
    monkeypatch.setattr(Scope, "table", lambda sc, n: collected.append(n) or real_table(sc, n))
    ex = Explorer(client_dir, lazy_tabs=False)
    ex.persona.value = ex.persona.options[1][1]
    ex.channel.value = ex.channel.options[1][1]
    assert all(ex.messages[p] is None or "could not" not in ex.messages[p] for p in PANEL_IDS)
    assert STREAM not in collected and "events" not in collected
    assert {"accounts"} <= set(collected)


def test_a_store_build_shows_its_progress_in_the_status_line(
    client, no_subs_dir, tmp_path, monkeypatch
):
    ex = Explorer(client)
    monkeypatch.setenv("JOURNEY_STORE_DIR", str(tmp_path / "fresh"))
    lines = []
    ex.status.observe(lambda c: lines.append(c["new"]), names="value")
    ex.load(no_subs_dir)
    assert ex._current.source.store.built
    assert len(lines) >= 3 and any("store" in line for line in lines[:-1])
    assert "accounts" in lines[-1]  # then the usual status line


def test_a_store_built_before_the_explorer_is_shown_prints_its_progress(
    client_dir, no_subs_dir, tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("JOURNEY_STORE_DIR", str(tmp_path / "fresh"))
    ex = Explorer(no_subs_dir)
    assert ex._current.source.store.built
    printed = capsys.readouterr().out
    assert "nosubs" in printed and "store" in printed
    ex._repr_mimebundle_()  # shown: a later build reports in the status line only
    ex.load(client_dir)
    assert ex._current.source.store.built and ex.client.name == "acme"
    assert capsys.readouterr().out == ""
