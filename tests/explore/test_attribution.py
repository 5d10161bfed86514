"""The explorer's attribution panel: the five models' credits of the filtered accounts, and CAC.

As in ``test_explore.py``: widget values are set and the observers redraw
synchronously; every number is checked against a direct call of
:func:`journeylib.metrics.acquisition.attribution` on tables restricted by
hand (the explorer reads fewer rows of the events: those with a channel in
the span any touch can come from). Variants of the 300-account client lack
subscriptions or marketing, or have a channel named like a script.
"""

from __future__ import annotations

import html
import shutil
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import journeylib as jl
from journeylib.charts.acquisition import ATTRIBUTION_MODELS
from journeylib.explore import ALL, Explorer, Filters, FunnelChoice, Scope, Source, compute, draw
from journeylib.explore.filters import STREAM
from journeylib.metrics.acquisition import MODELS, attribution, cac_by_model
from journeylib.store import ensure_store, read_store
from tests.explore.conftest import TAB_IDS

HOSTILE_CHANNEL = "<script>alert('channel')</script>"


@pytest.fixture
def ex(client):
    """An explorer that redraws every dependent panel at once (not only the tab on screen)."""
    return Explorer(client, lazy_tabs=False)


@pytest.fixture(scope="module")
def no_marketing_dir(client_dir, tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("attribution") / "nomarketing"
    shutil.copytree(client_dir, path)
    for f in path.glob("marketing.*"):
        f.unlink()
    return path


@pytest.fixture(scope="module")
def hostile_dir(client_dir, tmp_path_factory) -> Path:
    """Every ``email`` touch of the events renamed like a script."""
    path = tmp_path_factory.mktemp("attribution") / "hostile"
    shutil.copytree(client_dir, path)
    events = pl.read_csv(path / "events.csv", infer_schema=False)
    events = events.with_columns(
        pl.when(pl.col("channel") == "email")
        .then(pl.lit(HOSTILE_CHANNEL))
        .otherwise(pl.col("channel"))
        .alias("channel")
    )
    events.write_csv(path / "events.csv")
    return path


def by_hand(client, ids, period):
    """The library's attribution of ``ids`` (None: every account), on tables restricted by hand."""
    tables = {n: client.tables[n] for n in ("events", "subscriptions", "accounts")}
    if ids is not None:
        keep = pl.col("account_id").is_in(pl.Series(ids).implode())
        tables = {n: f.filter(keep) for n, f in tables.items()}
    return attribution(
        tables["events"],
        tables["subscriptions"],
        tables["accounts"],
        period=period,
        window_days=client.config.attribution_window_days,
    )


def html_of(ex: Explorer, panel: str = "attribution") -> str:
    return "".join(o["data"]["text/html"] for o in ex.outputs[panel].outputs)


def drawn_credits(chart) -> dict[tuple[str, str], float]:
    """(channel, model label) → credit, as the chart draws them."""
    spec = chart.to_dict()
    rows = [r for ds in spec.get("datasets", {}).values() for r in ds]
    rows += spec.get("data", {}).get("values", [])
    return {(r["channel"], r["model"]): r["credit"] for r in rows if "credit" in r}


# ---------------------------------------------------------------- drawn like the other tabs
def test_attribution_is_a_tab_drawn_with_the_others(ex, client):
    assert "attribution" in TAB_IDS and "Attribution" in ex.tabs.titles
    assert ex.redraws["attribution"] == 1 and ex.messages["attribution"] is None
    frame = ex.results["attribution"]
    assert frame.columns == ["channel", *MODELS]
    assert_frame_equal(frame, by_hand(client, None, ex.period_value()))
    # the chart draws the credits of the models it knows
    drawn = drawn_credits(ex.charts["attribution"])
    credits = {r["channel"]: r for r in frame.iter_rows(named=True)}
    known = [(col, label) for col, label in ATTRIBUTION_MODELS if col in frame.columns]
    assert len(known) >= 4 and len(drawn) == frame.height * len(known)
    for col, label in known:
        for channel, row in credits.items():
            assert drawn[(channel, label)] == pytest.approx(row[col]), (channel, col)


def test_lazy_tabs_draw_it_when_its_tab_is_opened(client):
    ex = Explorer(client)  # lazy_tabs=True
    assert ex.redraws["attribution"] == 0
    ex.persona.value = ex.persona.options[1][1]
    assert ex.redraws["attribution"] == 0
    ex.tabs.selected_index = TAB_IDS.index("attribution")
    assert ex.visible_panels() == ["attribution"] and ex.redraws["attribution"] == 1
    before = dict(ex.redraws)
    ex.steps.value = list(reversed(ex.steps.value))  # funnel controls: not its business
    ex.interval.value = "month"
    assert ex.redraws == before
    ex.period.index = (1, 4)
    assert ex.redraws["attribution"] == 2


# ---------------------------------------------------------------- the library's numbers
STATES = [
    (Filters(), ("2024-01", "2024-06")),
    (Filters(), ("2024-03", "2024-05")),
    (Filters(persona="smb_founder"), ("2024-01", "2024-06")),
    (Filters(channel="referral"), ("2024-02", "2024-06")),
    (Filters(stage="onboarding", plan="pro"), ("2024-01", "2024-04")),
]


@pytest.mark.parametrize("where", ["memory", "store"])
def test_the_credits_are_the_library_s_on_the_filtered_accounts(where, client, client_dir):
    src = (
        Source.from_client(client)
        if where == "memory"
        else Source.from_store(ensure_store(client_dir))
    )
    for filters, period in STATES:
        sc = Scope(src, filters, period)
        assert sc.ids is None or 0 < sc.ids.len() < 300, filters
        want = by_hand(client, None if sc.ids is None else sc.ids.to_list(), period)
        assert want.height > 0, (filters, period)
        assert_frame_equal(compute.attribution(sc), want)
        # the touches read: four columns of the events with a channel, in the period's span
        touches = compute.attribution_touches(sc, window_days=90)
        assert touches.columns == ["account_id", "timestamp", "channel", "seq"]
        assert touches["channel"].null_count() == 0
        events = sc.table("events") if where == "memory" else client.tables["events"]
        if sc.ids is not None:
            events = events.filter(pl.col("account_id").is_in(sc.ids.implode()))
        with_channel = events.filter(
            pl.col("channel").is_not_null(), pl.col("account_id").is_not_null()
        )
        assert touches.height <= with_channel.height
        if period[1] < "2024-06":  # the touches after the period are not read
            assert touches.height < with_channel.height


def test_hand_check_of_one_filter(client):
    """persona = smb_founder: its conversions counted from the subscriptions by hand."""
    sc = Scope(Source.from_client(client), Filters(persona="smb_founder"), ("2024-01", "2024-06"))
    got = compute.attribution(sc)
    acc = client.tables["accounts"].filter(pl.col("persona") == "smb_founder")
    first_paid = (
        client.tables["subscriptions"]
        .filter(pl.col("mrr") > 0, pl.col("account_id").is_in(acc["account_id"].implode()))
        .group_by("account_id")
        .agg(pl.col("month").min())
    )
    lo, hi = (pl.date(2024, 1, 1), pl.date(2024, 6, 30))
    conversions = first_paid.filter(pl.col("month").is_between(lo, hi)).height
    assert conversions == 13  # the synthetic client with seed 7
    for model in MODELS:  # every model credits each conversion once
        assert got[model].sum() == pytest.approx(conversions), model
    # first touch: the channel of each converting account's first event with a channel
    # in the 90 days up to its conversion; without one, its acquisition channel
    conv = first_paid.filter(pl.col("month").is_between(lo, hi)).select(
        "account_id", pl.col("month").cast(pl.Datetime("us", "UTC")).alias("at")
    )
    firsts = (
        client.tables["events"]
        .with_row_index("row")
        .join(conv, on="account_id")
        .filter(
            pl.col("channel").is_not_null(),
            pl.col("timestamp") <= pl.col("at"),
            pl.col("timestamp") >= pl.col("at") - pl.duration(days=90),
        )
        .sort("timestamp", "row")
        .group_by("account_id", maintain_order=True)
        .first()
        .select("account_id", "channel")
    )
    untouched = (
        conv.join(firsts, on="account_id", how="anti")
        .join(acc, on="account_id")
        .select("account_id", pl.col("acquisition_channel").alias("channel"))
    )
    assert 0 < firsts.height < conversions and firsts.height + untouched.height == conversions
    expected = dict(pl.concat([firsts, untouched]).group_by("channel").len().iter_rows())
    assert (
        dict(got.filter(pl.col("first_touch") > 0).select("channel", "first_touch").iter_rows())
        == expected
    )


def test_the_panel_follows_the_filters_and_shows_cac_without_filters_only(ex, client):
    period = ex.period_value()
    page = html_of(ex)
    conversions = round(ex.results["attribution"]["first_touch"].sum())
    assert f"by model ({conversions} conversions)" in page
    assert "CAC by model (USD)" in page and "shown without filters only" not in page
    want_cac = cac_by_model(
        client.tables["marketing"], by_hand(client, None, period), period=period
    )
    paid = want_cac.filter(pl.col("channel") == "paid_search").row(0, named=True)
    assert f"{paid['spend']:,.0f}" in page and f"{paid['markov']:,.0f}" in page
    ex.persona.value = "smb_founder"
    ids = client.tables["accounts"].filter(pl.col("persona") == "smb_founder")["account_id"]
    assert_frame_equal(ex.results["attribution"], by_hand(client, ids.to_list(), period))
    page = html_of(ex)
    assert "CAC by model is shown without filters only" in page
    assert "(persona = smb_founder)" in page and "CAC by model (USD)" not in page
    ex.persona.value = ALL
    assert "CAC by model (USD)" in html_of(ex)


# ---------------------------------------------------------------- what it cannot show
def test_no_conversion_in_the_filtered_set_says_so(ex):
    ex.persona.value = "enterprise_it"
    ex.period.index = (1, 1)  # 2024-02: accounts, but none of them started paying
    assert ex.scope().n_accounts() > 0
    assert ex.messages["attribution"] == (
        "No account of these filters started paying in 2024-02 to 2024-02: "
        "there is no conversion to attribute."
    )
    assert ex.charts["attribution"] is None and ex.results["attribution"].height == 0
    assert "<table" not in html_of(ex)


def test_without_subscriptions_the_tab_is_hidden_with_a_note(no_subs_dir):
    ex = Explorer(no_subs_dir, lazy_tabs=False)
    note = ex.messages["attribution"]
    assert note.startswith("Add subscriptions.csv to the client folder to see attribution")
    assert "attribution" not in ex._shown and "Attribution" not in ex.tabs.titles
    assert html.escape(note) in ex.hidden_note.value and ex.redraws["attribution"] == 0
    # drawn on a scope all the same (a notebook calling draw): the same note, no traceback
    sc = ex.scope()
    assert compute.attribution(sc) is None
    assert draw("attribution", sc, FunnelChoice()).message == note


def test_without_marketing_the_credits_are_shown_and_cac_is_not(no_marketing_dir, client):
    ex = Explorer(no_marketing_dir, lazy_tabs=False)
    assert ex.messages["attribution"] is None and ex.charts["attribution"] is not None
    assert_frame_equal(ex.results["attribution"], by_hand(client, None, ex.period_value()))
    page = html_of(ex)
    assert "No marketing table: add marketing.csv" in page and "CAC by model (" not in page


def test_client_text_is_escaped(hostile_dir):
    ex = Explorer(hostile_dir, lazy_tabs=False)
    assert HOSTILE_CHANNEL in ex.results["attribution"]["channel"].to_list()
    page = html_of(ex)
    assert HOSTILE_CHANNEL not in page
    assert "&lt;script&gt;alert(&#x27;channel&#x27;)&lt;/script&gt;" in page  # the tables
    assert "\\u003cscript\\u003ealert(" in page  # the chart's spec: script-safe JSON


# ---------------------------------------------------------------- what it reads
def test_it_never_collects_the_events_or_the_stream(client_dir, monkeypatch):
    collected = []
    real_table = Scope.table
    monkeypatch.setattr(Scope, "table", lambda sc, n: collected.append(n) or real_table(sc, n))
    ex = Explorer(client_dir, lazy_tabs=False)
    ex.channel.value = ex.channel.options[1][1]
    assert ex.messages["attribution"] is None
    assert STREAM not in collected and "events" not in collected


def test_the_unfiltered_credits_are_kept_in_the_store(client_dir, client, monkeypatch):
    ex = Explorer(client_dir)
    ex.tabs.selected_index = TAB_IDS.index("attribution")
    computed = ex.results["attribution"]
    cache = read_store(client_dir).files.folder / "cache"
    assert len(list(cache.glob("attribution-*.json"))) == 1

    def never(*a, **k):
        raise AssertionError("computed again instead of read")

    monkeypatch.setattr(compute.acquisition, "attribution", never)
    again = Explorer(client_dir)  # nothing in memory: read from the store
    again.tabs.selected_index = TAB_IDS.index("attribution")
    assert_frame_equal(again.results["attribution"], computed)
    assert_frame_equal(computed, by_hand(client, None, jl.resolve_period(client)))
    # a filtered state is computed (and not kept)
    again.persona.value = again.persona.options[1][1]
    assert "computed again" in again.messages["attribution"]
    assert len(list(cache.glob("attribution-*.json"))) == 1
