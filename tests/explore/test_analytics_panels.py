"""The explorer's analytics panels: paths, lifecycle, what drives the funnel, breakdowns.

As in ``test_explore.py``: widget values are set and the observers redraw
synchronously; every number is checked against a direct call of the library
function on data restricted by hand (the explorer feeds the library cheaper
inputs: the sorted stream cut to the rows a path can use, the ``account_days``
mart, the active months). A small synthetic client (300 accounts, 6 months)
is written once per module; a variant of it has an event and a persona label
that are HTML.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest

import journeylib as jl
from journeylib import analysis
from journeylib.analysis.breakdowns import funnel_breakdown, retention_breakdown
from journeylib.analysis.correlation import funnel_correlation
from journeylib.analysis.paths import OTHER, paths
from journeylib.errors import ConfigError
from journeylib.explore import (
    ALL,
    Explorer,
    Filters,
    FunnelChoice,
    Scope,
    Source,
    compute,
    draw,
)
from journeylib.metrics import activity, funnels
from journeylib.store import ensure_store
from tests.explore.conftest import PANEL_IDS, TAB_IDS

NEW = ("paths", "lifecycle", "funnel_drivers", "funnel_breakdown", "retention_breakdown")
HOSTILE_EVENT = "<script>alert(1)</script>"
HOSTILE_LABEL = "<script>alert('persona')</script>"


@pytest.fixture(scope="module")
def hostile_dir(client_dir, tmp_path_factory) -> Path:
    """An event named like a script, done with every ``login``; a persona label alike."""
    path = tmp_path_factory.mktemp("analytics") / "hostile"
    shutil.copytree(client_dir, path)
    events = pl.read_csv(path / "events.csv", infer_schema=False)
    extra = events.filter(pl.col("event") == "login").with_columns(
        pl.lit(HOSTILE_EVENT).alias("event")
    )
    pl.concat([events, extra]).write_csv(path / "events.csv")
    yaml = (path / "client.yaml").read_text()
    assert "label: SMB founder" in yaml
    (path / "client.yaml").write_text(
        yaml.replace("label: SMB founder", f'label: "{HOSTILE_LABEL}"')
    )
    return path


@pytest.fixture
def ex(client):
    """An explorer that redraws every dependent panel at once (not only the tab on screen)."""
    return Explorer(client, lazy_tabs=False)


def restricted(client, stream, ids):
    """The accounts, raw events and stream of ``ids`` (all with None), by hand."""
    if ids is None:
        return client.tables["accounts"], client.tables["events"], stream
    keep = pl.col("account_id").is_in(pl.Series(ids).implode())
    return (
        client.tables["accounts"].filter(keep),
        client.tables["events"].filter(keep),
        stream.filter(keep),
    )


def labelled(client, accounts):
    """The accounts with their persona label, as the explorer's groups show them."""
    labels = analysis.persona_labels(client)
    return accounts.with_columns(pl.col("persona").replace(labels))


def page(ex: Explorer) -> str:
    return "".join(o["data"]["text/html"] for p in PANEL_IDS for o in ex.outputs[p].outputs)


def spec_values(chart) -> list[dict]:
    """Every inline data row of an altair chart's spec."""
    spec = chart.to_dict()
    return [r for ds in spec.get("datasets", {}).values() for r in ds]


def changed(ex: Explorer, before: dict[str, int]) -> set[str]:
    return {p for p in PANEL_IDS if ex.redraws[p] != before[p]}


# ---------------------------------------------------------------- drawn at the start
def test_the_new_panels_are_drawn_at_the_start(ex):
    assert {"Paths", "Lifecycle"} <= set(ex.tabs.titles)
    assert "What drives this funnel" not in ex.tabs.titles  # drawn under the ordered funnel
    for p in ("paths", "lifecycle", "funnel_drivers"):
        assert ex.redraws[p] == 1 and ex.messages[p] is None and ex.charts[p] is not None, p
        assert ex.results[p].height > 0, p
    # no breakdown picked: the breakdown panels show nothing
    for p in ("funnel_breakdown", "retention_breakdown"):
        assert ex.redraws[p] == 1 and ex.outputs[p].outputs == (), p
        assert ex.results[p] is None and ex.charts[p] is None and ex.messages[p] is None
    # the breakdowns offered: text columns with a few values, and numeric ones
    offered = [v for _, v in ex.breakdown.options]
    assert offered[0] == ALL
    assert {"persona", "acquisition_channel", "industry", "company_size"} <= set(offered)
    assert not {"account_id", "name", "signup_at"} & set(offered)


# ---------------------------------------------------------------- lifecycle
def test_lifecycle_is_the_library_s_on_the_raw_events_and_follows_its_interval(ex, client, stream):
    period = ex.period_value()
    for interval in ("month", "day", "week"):
        ex.interval.value = interval
        expected = activity.lifecycle(client.tables["events"], period=period, interval=interval)
        assert ex.results["lifecycle"].equals(expected), interval
    assert ex.results["lifecycle"]["start"][0] == "2024-01-01"  # a Monday: weeks from it
    persona = ex.persona.options[1][1]
    ex.persona.value = persona
    ids = client.tables["accounts"].filter(pl.col("persona") == persona)["account_id"]
    _, events, _ = restricted(client, stream, ids)
    assert ex.results["lifecycle"].equals(activity.lifecycle(events, period=period))
    drawn = sum(r["accounts"] for r in spec_values(ex.charts["lifecycle"]) if "status" in r)
    counts = ex.results["lifecycle"].select(pl.exclude("start").abs().sum())
    assert drawn == counts.sum_horizontal()[0] > 0


# ---------------------------------------------------------------- paths
PATH_CASES = [
    {},
    {"steps": 2},
    {"steps": 8, "min_accounts": 3},
    {"start": "signed_up"},  # derived: the sign-up starts the path
    {"start": "pricing_page_viewed"},
    {"end": "subscription_started"},  # derived, in the stream's order
    {"end": "pricing_page_viewed", "steps": 3},
    {"level": "touchpoint"},
    {"level": "touchpoint", "start": "pricing_page"},
    {"level": "touchpoint", "end": "checkout", "steps": 4},
    {"level": "touchpoint", "start": "customer_support"},  # derived, several a account
]

STATES = [
    (Filters(), ("2024-01", "2024-06")),
    (Filters(), ("2024-02", "2024-04")),
    (Filters(channel="organic_search"), ("2024-01", "2024-06")),
    (Filters(stage="onboarding"), ("2024-02", "2024-05")),
]


@pytest.mark.parametrize("where", ["memory", "store"])
def test_paths_on_the_rows_they_need_are_the_library_s_on_every_event(
    where, client, client_dir, stream
):
    src = (
        Source.from_client(client)
        if where == "memory"
        else Source.from_store(ensure_store(client_dir))
    )
    for filters, period in STATES:
        sc = Scope(src, filters, period)
        ids = None if sc.ids is None else sc.ids.to_list()
        for case in PATH_CASES:
            got = compute.paths(sc, **case)
            want = paths(stream, period=period, accounts=ids, **case)
            assert got is not None, (filters, period, case)
            assert got.nodes.equals(want.nodes), (filters, period, case)
            assert got.edges.equals(want.edges), (filters, period, case)
            assert got.accounts == want.accounts
            rows = compute.path_rows(sc, **{k: v for k, v in case.items() if k != "min_accounts"})
            if case.get("start") == "customer_support":
                assert rows is None  # a derived start met several times: the whole stream
            else:
                steps = case.get("steps", 5)
                assert rows.group_by("account_id").len()["len"].max() <= steps
    # the rows read are a few per account, not every event
    sc = Scope(src, Filters(), ("2024-01", "2024-06"))
    assert compute.path_rows(sc).height <= 5 * sc.n_accounts() < stream.height


FUNNELS = [
    (("signed_up", "subscription_started"), "30d", "ordered"),
    (("account_created", "first_report_created", "onboarding_completed"), "14d", "ordered"),
    (("account_created", "first_report_created"), "7d", "strict"),
    (("trial_started", "nowhere"), "14d", "ordered"),  # a step in no row: the library says so
]


@pytest.mark.parametrize("where", ["memory", "store"])
def test_drivers_lifecycle_and_breakdowns_are_the_library_s_on_every_event(
    where, client, client_dir, stream
):
    src = (
        Source.from_client(client)
        if where == "memory"
        else Source.from_store(ensure_store(client_dir))
    )
    for filters, period in STATES:
        sc = Scope(src, filters, period)
        ids = None if sc.ids is None else sc.ids.to_list()
        acc, events, st = restricted(client, stream, ids)
        acc = labelled(client, acc)
        for steps, window, mode in FUNNELS:
            kw = {"steps": list(steps), "window": window, "mode": mode, "period": period}
            if "nowhere" in steps:
                with pytest.raises(ConfigError, match="nowhere"):
                    compute.funnel_drivers(sc, steps, window, mode)
                continue
            got = compute.funnel_drivers(sc, steps, window, mode)
            want = funnel_correlation(st, acc, **kw)
            assert (got.success_total, got.failure_total) == (
                want.success_total,
                want.failure_total,
            )
            assert got.events.equals(want.events), (filters, period, steps)
            assert got.properties.equals(want.properties), (filters, period, steps)
            if mode == "ordered":  # a few rows, not the stream
                assert compute.driver_rows(sc, steps, window).height < st.height / 2
        for interval in ("day", "week", "month"):
            assert compute.lifecycle(sc, interval).equals(
                activity.lifecycle(events, period=period, interval=interval)
            )
        for column in ("industry", "company_size", "persona"):
            want = retention_breakdown(acc, events, period=period, column=column)
            assert compute.retention_breakdown(sc, column) == want, (filters, period, column)
            res = sc.funnel(("signed_up", "subscription_started"), "30d", "ordered", False)
            assert compute.funnel_breakdown(sc, res, column) == funnel_breakdown(
                res, acc, column=column
            )


def test_paths_panel_follows_its_controls(ex):
    nodes = ex.results["paths"]
    assert nodes["step"].max() == 5 and ex.charts["paths"] is not None
    assert f"the {compute.AUTO_ITEMS} largest items of each step" in page(ex)
    assert nodes.filter(pl.col("item") != OTHER).group_by("step").len()["len"].max() <= 6
    ex.path_steps.value = 3
    assert ex.results["paths"]["step"].max() == 3
    ex.path_start.value = "signed_up"
    nodes = ex.results["paths"]
    assert nodes.filter(pl.col("step") == 1)["item"].to_list() == ["signed_up"]
    assert ex.charts["paths"].to_dict()["title"]["text"] == "Paths from signed_up"
    # one anchor at a time: picking an end clears the start
    ex.path_end.value = "subscription_started"
    assert ex.path_start.value == ALL
    nodes = ex.results["paths"]
    assert nodes.filter(pl.col("step") == 3)["item"].to_list() == ["subscription_started"]
    ex.path_min_accounts.value = 1
    assert OTHER not in ex.results["paths"]["item"].to_list()
    ex.path_min_accounts.value = 10**6
    assert set(ex.results["paths"]["item"]) == {OTHER}
    # touchpoints: the anchors offered are touchpoints, back to none
    ex.path_level.value = "touchpoint"
    assert ex.path_end.value == ALL and ex.path_start.value == ALL
    touchpoints = {tp.id for tp in ex.client.template.touchpoints}
    assert {v for _, v in ex.path_start.options[1:]} <= touchpoints
    assert set(ex.results["paths"]["item"]) <= touchpoints | {OTHER}
    # an anchor no account of the filters has in the period says so
    ex.path_level.value = "event"
    ex.period.index = (0, 0)
    ex.path_end.value = "churned"
    assert ex.messages["paths"].startswith("No account of these filters has churned in 2024-01")
    assert ex.charts["paths"] is None


def test_signed_up_is_offered_as_a_start_and_every_event_as_an_end(ex):
    starts = [v for _, v in ex.path_start.options]
    ends = [v for _, v in ex.path_end.options]
    assert starts[:2] == [ALL, "signed_up"] and "subscription_started" not in starts
    assert {"signed_up", "subscription_started", "login"} <= set(ends)
    assert ex.path_start.options[0][0] == "(none)"


# ---------------------------------------------------------------- what drives this funnel
def test_what_drives_the_funnel_is_the_library_s(ex, client, stream):
    ex.steps.value = ["signed_up", "subscription_started"]
    ex.window.value = "30d"
    persona = ex.persona.options[2][1]
    ex.persona.value = persona
    ids = client.tables["accounts"].filter(pl.col("persona") == persona)["account_id"]
    acc, _, st = restricted(client, stream, ids)
    want = funnel_correlation(
        st,
        labelled(client, acc),
        steps=["signed_up", "subscription_started"],
        window="30d",
        period=ex.period_value(),
    )
    got = ex.results["funnel_drivers"]
    kept = want.events.filter(pl.col("success_count") + pl.col("failure_count") >= 5)
    assert set(got.filter(pl.col("type") == "event")["item"]) == set(kept["event"])
    row = got.filter(pl.col("item") == kept["event"][0]).row(0, named=True)
    assert row["odds_ratio"] == kept["odds_ratio"][0] and row["p_value"] == kept["p_value"][0]
    props = got.filter(pl.col("type") == "account property")["item"].to_list()
    assert any(p.startswith("acquisition_channel: ") for p in props)
    html_out = page(ex)
    assert "strongest of" in html_out and "p-value" in html_out and "Fisher" in html_out
    assert f"{want.success_total:,} accounts that converted" in html_out
    # unordered has no counted attempt: it says so, and strict draws again
    ex.mode.value = "unordered"
    assert "ordered and strict modes only" in ex.messages["funnel_drivers"]
    ex.mode.value = "strict"  # nobody signs up and pays next: nothing to compare, it says so
    assert ex.messages["funnel_drivers"].startswith("0 accounts converted and ")
    ex.steps.value = ["signed_up"]
    assert "at least two funnel steps" in ex.messages["funnel_drivers"]
    # a bad window is said once, by the ordered funnel
    ex.steps.value = ["signed_up", "subscription_started"]
    ex.breakdown.value = "industry"
    ex.window.value = "14x"
    assert "window" in ex.messages["ordered_funnel"]
    assert ex.messages["funnel_drivers"] is None and ex.messages["funnel_breakdown"] is None
    assert ex.outputs["funnel_drivers"].outputs == ()


# ---------------------------------------------------------------- breakdowns
def test_the_breakdown_selector_adds_the_group_tables(ex, client, stream):
    ex.steps.value = ["signed_up", "subscription_started"]
    ex.window.value = "30d"
    ex.breakdown.value = "acquisition_channel"
    period = ex.period_value()
    res = funnels.ordered_funnel(
        stream, steps=["signed_up", "subscription_started"], window="30d", period=period
    )
    accounts = labelled(client, client.tables["accounts"])
    want = funnel_breakdown(res, accounts, column="acquisition_channel")
    got = ex.results["funnel_breakdown"]
    assert got["acquisition_channel"].unique(maintain_order=True).to_list() == [
        g["value"] for g in want["breakdown"]
    ]
    assert got["conversion"].to_list() == [
        s["conversion"] for g in want["breakdown"] for s in g["steps"]
    ]
    assert got["lo"].to_list() == [s["lo"] for g in want["breakdown"] for s in g["steps"]]
    want_r = retention_breakdown(
        accounts, client.tables["events"], period=period, column="acquisition_channel"
    )
    got_r = ex.results["retention_breakdown"]
    assert got_r["rate"].to_list() == [
        r["rate"] for g in want_r["activity_retention"] for r in g["rates"]
    ]
    assert got_r["n"].to_list() == [
        r["n"] for g in want_r["activity_retention"] for r in g["rates"]
    ]
    for p, words in (
        ("funnel_breakdown", "Conversion from step 1 by acquisition_channel"),
        ("retention_breakdown", "Activity retention by acquisition_channel"),
    ):
        html_out = "".join(o["data"]["text/html"] for o in ex.outputs[p].outputs)
        assert words in html_out and "<table" in html_out and "chi-square p" in html_out, p
        assert ex.charts[p] is not None and ex.messages[p] is None
    assert ex.charts["funnel_breakdown"].to_dict()["title"]["text"] == (
        "Funnel by acquisition_channel"
    )
    # a numeric column is banded in quartiles; None takes the tables away
    ex.breakdown.value = "company_size"
    assert ex.results["funnel_breakdown"]["company_size"].n_unique() == 4
    ex.breakdown.value = ALL
    assert ex.outputs["funnel_breakdown"].outputs == ()
    assert ex.outputs["retention_breakdown"].outputs == ()


def test_breakdowns_by_persona_show_its_labels(client, ex):
    ex.breakdown.value = "persona"
    labels = set(analysis.persona_labels(client).values())
    assert set(ex.results["retention_breakdown"]["persona"]) <= labels


# ---------------------------------------------------------------- what redraws
def test_each_new_control_redraws_only_the_panels_that_depend_on_it(ex):
    cases = [
        (ex.breakdown, "industry", {"funnel_breakdown", "retention_breakdown"}),
        (ex.interval, "month", {"lifecycle"}),
        (ex.path_steps, 4, {"paths"}),
        (ex.path_start, "signed_up", {"paths"}),
        (ex.path_end, "subscription_started", {"paths"}),  # the start is cleared quietly
        (ex.path_min_accounts, 2, {"paths"}),
        (ex.path_level, "touchpoint", {"paths"}),
        (ex.mode, "strict", {"ordered_funnel", "funnel_breakdown", "funnel_drivers", "accounts"}),
    ]
    for control, value, expected in cases:
        before = dict(ex.redraws)
        control.value = value
        assert changed(ex, before) == expected, (control.description, value)
        assert all(ex.redraws[p] == before[p] + 1 for p in expected)
    before = dict(ex.redraws)
    ex.persona.value = ex.persona.options[1][1]
    assert changed(ex, before) == set(PANEL_IDS)


def test_lazy_tabs_draw_the_panels_under_the_open_tab_with_it(client):
    ex = Explorer(client)  # lazy_tabs=True
    assert all(ex.redraws[p] == 0 for p in NEW)
    ex.breakdown.value = "industry"
    assert all(ex.redraws[p] == 0 for p in NEW)
    ex.tabs.selected_index = TAB_IDS.index("ordered_funnel")
    assert ex.visible_panels() == ["ordered_funnel", "funnel_breakdown", "funnel_drivers"]
    assert ex.redraws["funnel_breakdown"] == 1 and ex.redraws["funnel_drivers"] == 1
    assert ex.redraws["retention_breakdown"] == 0
    ex.breakdown.value = "country"
    assert ex.redraws["funnel_breakdown"] == 2 and ex.redraws["funnel_drivers"] == 1
    ex.tabs.selected_index = TAB_IDS.index("activity_retention")
    assert ex.redraws["retention_breakdown"] == 1 and ex.redraws["activity_retention"] == 1
    assert ex.results["retention_breakdown"]["country"].n_unique() > 1
    ex.tabs.selected_index = TAB_IDS.index("paths")
    ex.tabs.selected_index = TAB_IDS.index("lifecycle")
    assert ex.redraws["paths"] == 1 and ex.redraws["lifecycle"] == 1


def test_the_new_panels_draw_on_a_scope_without_widgets(client):
    sc = Scope(Source.from_client(client), Filters(), jl.resolve_period(client))
    choice = FunnelChoice(steps=("signed_up", "subscription_started"), breakdown="industry")
    for p in NEW:
        drawn = draw(p, sc, choice)
        assert drawn.chart is not None and drawn.message is None, p
    with pytest.raises(ConfigError, match="start and end given together"):
        draw("paths", sc, FunnelChoice(path_start="signed_up", path_end="login"))


def test_a_client_folder_and_the_client_in_memory_agree_on_the_new_panels(ex, client_dir):
    from_store = Explorer(client_dir, lazy_tabs=False)
    for e in (ex, from_store):
        e.breakdown.value = "acquisition_channel"
        e.path_start.value = "signed_up"
        e.interval.value = "month"
        e.persona.value = e.persona.options[2][1]  # a persona with funnel drivers
    for p in NEW:
        assert ex.results[p].equals(from_store.results[p]), p
        assert ex.charts[p].to_dict() == from_store.charts[p].to_dict(), p


# ---------------------------------------------------------------- client text
def test_client_text_is_escaped_in_the_new_panels(hostile_dir):
    ex = Explorer(hostile_dir, lazy_tabs=False)
    assert HOSTILE_EVENT in [v for _, v in ex.path_start.options]
    ex.path_start.value = HOSTILE_EVENT
    ex.steps.value = ["signed_up", "subscription_started"]
    ex.window.value = "60d"
    ex.breakdown.value = "persona"
    assert ex.results["paths"].filter(pl.col("step") == 1)["item"].to_list() == [HOSTILE_EVENT]
    assert HOSTILE_EVENT in ex.results["funnel_drivers"]["item"].to_list()
    assert HOSTILE_LABEL in ex.results["retention_breakdown"]["persona"].to_list()
    html_out = page(ex)
    assert HOSTILE_EVENT not in html_out and HOSTILE_LABEL not in html_out
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html_out  # the drivers' table
    assert "&lt;script&gt;alert(&#x27;persona&#x27;)&lt;/script&gt;" in html_out  # group tables
    assert "\\u003cscript\\u003ealert(1)" in html_out  # the Sankey's spec: script-safe JSON
