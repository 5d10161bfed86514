"""Paths (journeylib.analysis.paths): analytics.md § 3, hand cases and properties on every engine."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from typing import Any

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import journeylib as jl
from journeylib.analysis.paths import OTHER, drop_off_paths, path_rows, paths, paths_json
from journeylib.errors import ConfigError
from journeylib.metrics.stages import stage_funnel

PERIOD = ("2024-01", "2024-03")


def t(d: int, h: int = 0, m: int = 1) -> dt.datetime:
    return dt.datetime(2024, m, d, h, tzinfo=dt.UTC)


def stream(rows: list[tuple[Any, ...]]) -> pl.DataFrame:
    """Rows ``(account, timestamp, event[, touchpoint[, source]])``; seq = row order."""
    full = [(*r, *(None, "events")[len(r) - 3 :]) if len(r) < 5 else r for r in rows]
    return pl.DataFrame(
        {
            "account_id": [r[0] for r in full],
            "timestamp": [r[1] for r in full],
            "event": [r[2] for r in full],
            "touchpoint": [r[3] for r in full],
            "source": [r[4] for r in full],
            "seq": list(range(len(full))),
        },
        schema={
            "account_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "event": pl.String,
            "touchpoint": pl.String,
            "source": pl.String,
            "seq": pl.Int64,
        },
    )


def seqs(**accounts: str) -> pl.DataFrame:
    """One account per keyword, its raw events the letters of the value, one a day."""
    return stream([(a, t(i + 1), e) for a, evs in accounts.items() for i, e in enumerate(evs)])


# ---------------------------------------------------------------- hand cases
def test_first_items_without_anchor(constructor):
    r = paths(constructor(seqs(a="xyzw", b="xz", c="y")), period=PERIOD, steps=3)
    assert r.nodes.rows() == [
        (1, "x", 2, 0),
        (1, "y", 1, 1),
        (2, "y", 1, 0),
        (2, "z", 1, 1),
        (3, "z", 1, 1),
    ]
    assert r.edges.rows() == [(1, "x", "y", 1), (1, "x", "z", 1), (2, "y", "z", 1)]
    assert r.accounts == 3
    assert (r.level, r.start, r.end, r.steps) == ("event", None, None, 3)


def test_start_anchor(constructor):
    # b starts at its first s (the second s comes later); c has no s: no path
    r = paths(constructor(seqs(a="xsyz", b="sxs", c="xy")), period=PERIOD, start="s", steps=3)
    assert r.nodes.rows() == [
        (1, "s", 2, 0),
        (2, "x", 1, 0),
        (2, "y", 1, 0),
        (3, "s", 1, 1),
        (3, "z", 1, 1),
    ]
    assert r.edges.rows() == [
        (1, "s", "x", 1),
        (1, "s", "y", 1),
        (2, "x", "s", 1),
        (2, "y", "z", 1),
    ]
    assert r.accounts == 2 and r.start == "s"


def test_end_anchor_numbers_steps_so_the_anchor_is_step_n(constructor):
    # a: the 3 items up to its first e; b has only x before e; c starts with e; d has no e
    r = paths(
        constructor(seqs(a="wxyeze", b="xe", c="ex", d="xy")), period=PERIOD, end="e", steps=3
    )
    assert r.nodes.rows() == [
        (1, "x", 1, 0),
        (2, "x", 1, 0),
        (2, "y", 1, 0),
        (3, "e", 3, 3),
    ]
    assert r.edges.rows() == [(1, "x", "y", 1), (2, "x", "e", 1), (2, "y", "e", 1)]
    assert r.accounts == 3 and r.end == "e"


def test_consecutive_repeats_collapse(constructor):
    r = paths(constructor(seqs(a="xxyyyxz")), period=PERIOD, steps=3)
    assert [n[1] for n in r.nodes.rows()] == ["x", "y", "x"]
    # the anchor is the first occurrence, after collapsing
    r = paths(constructor(seqs(a="xxyyyxz")), period=PERIOD, start="y", steps=5)
    assert [n[1] for n in r.nodes.rows()] == ["y", "x", "z"]


def test_ties_go_by_seq(constructor):
    # same instant: file order (seq) decides
    rows = [("a", t(1), "y"), ("a", t(1), "x"), ("a", t(2), "z"), ("a", t(1), "w")]
    r = paths(constructor(stream(rows)), period=PERIOD, steps=4)
    assert [n[1] for n in r.nodes.rows()] == ["y", "x", "w", "z"]
    # a start anchor tied with earlier rows of its instant leaves them out
    r = paths(constructor(stream(rows)), period=PERIOD, start="x", steps=4)
    assert [n[1] for n in r.nodes.rows()] == ["x", "w", "z"]
    # and an end anchor leaves out the later ones
    r = paths(constructor(stream(rows)), period=PERIOD, end="x", steps=4)
    assert [(n[0], n[1]) for n in r.nodes.rows()] == [(3, "y"), (4, "x")]


def test_min_accounts_merges_small_nodes_into_other_and_keeps_every_edge(constructor):
    data = seqs(a="xp", b="xp", c="xq", d="yq", e="zr")
    r = paths(constructor(data), period=PERIOD, steps=2, min_accounts=2)
    # step 1: x (3) stays, y and z (1 each) merge; step 2: p (2), q (2) stay, r merges
    assert r.nodes.rows() == [
        (1, "x", 3, 0),
        (1, OTHER, 2, 0),
        (2, "p", 2, 2),
        (2, "q", 2, 2),
        (2, OTHER, 1, 1),
    ]
    # renamed at both ends and summed, never dropped
    assert r.edges.rows() == [
        (1, "x", "p", 2),
        (1, OTHER, OTHER, 1),
        (1, OTHER, "q", 1),
        (1, "x", "q", 1),
    ]
    assert sum(e[3] for e in r.edges.rows()) == 5
    assert r.accounts == 5


def test_touchpoint_level_skips_unmapped_events_before_collapsing(constructor):
    rows = [
        ("a", t(1), "visit", "site"),
        ("a", t(2), "login", None),  # unmapped: skipped, so site ... site is one run
        ("a", t(3), "read", "site"),
        ("a", t(4), "trial", "trial"),
        ("b", t(1), "login", None),
        ("b", t(2), "trial", "trial"),
    ]
    r = paths(constructor(stream(rows)), period=PERIOD, level="touchpoint")
    assert r.nodes.rows() == [(1, "site", 1, 0), (1, "trial", 1, 1), (2, "trial", 1, 1)]
    assert r.edges.rows() == [(1, "site", "trial", 1)]
    # start/end name a touchpoint id at this level
    r = paths(constructor(stream(rows)), period=PERIOD, level="touchpoint", end="trial", steps=2)
    assert r.nodes.rows() == [(1, "site", 1, 0), (2, "trial", 2, 2)]
    with pytest.raises(ConfigError, match="unknown touchpoint.*'visit'"):
        paths(constructor(stream(rows)), period=PERIOD, level="touchpoint", start="visit")


def _with_signups() -> pl.DataFrame:
    # raw rows first (seq 0..4), derived rows after, as the journey stream numbers them
    return stream(
        [
            ("a", t(1), "visit", "site", "events"),
            ("a", t(2), "trial", "trial", "events"),
            ("a", t(3), "login", None, "events"),
            ("b", t(5), "trial", "trial", "events"),
            ("b", t(6), "login", None, "events"),
            ("a", t(2), "signed_up", "signup", "accounts"),
            ("b", t(4), "signed_up", "signup", "accounts"),
            ("a", t(3), "subscription_started", "checkout", "subscriptions"),
        ]
    )


def test_derived_signed_up_anchor_joins_the_sequence(constructor):
    data = constructor(_with_signups())
    r = paths(data, period=PERIOD, start="signed_up", steps=3)
    # a signs up at the instant of its trial: the sign-up comes first; derived rows other
    # than the anchor (subscription_started) are never items
    assert r.nodes.rows() == [
        (1, "signed_up", 2, 0),
        (2, "trial", 2, 0),
        (3, "login", 2, 2),
    ]
    assert r.edges.rows() == [(1, "signed_up", "trial", 2), (2, "trial", "login", 2)]
    # as an end anchor it keeps the stream's order: after the raw rows of its instant
    r = paths(data, period=PERIOD, end="signed_up", steps=3)
    assert r.nodes.rows() == [(1, "visit", 1, 0), (2, "trial", 1, 0), (3, "signed_up", 2, 2)]
    # without an anchor, no derived row is an item
    r = paths(data, period=PERIOD, steps=3)
    assert "signed_up" not in r.nodes["item"].to_list()
    # at touchpoint level the anchor is the derived rows' touchpoint
    r = paths(data, period=PERIOD, level="touchpoint", start="signup", steps=2)
    assert r.nodes.rows() == [(1, "signup", 2, 0), (2, "trial", 2, 2)]


def test_a_raw_anchor_event_leaves_its_derived_rows_out(constructor):
    base = _with_signups()
    raw_signup = stream(
        [("c", t(9), "signed_up", None, "events"), ("c", t(10), "login", None, "events")]
    )
    data = pl.concat([base, raw_signup.with_columns(pl.col("seq") + 100)])
    r = paths(constructor(data), period=PERIOD, start="signed_up", steps=3)
    assert r.nodes.rows() == [(1, "signed_up", 1, 0), (2, "login", 1, 1)]


def test_period_and_accounts_restrict_the_rows(constructor):
    rows = [
        ("a", t(20, m=12).replace(year=2023), "old"),
        ("a", t(1), "x"),
        ("a", t(2, m=4), "late"),
        ("b", t(1), "y"),
        (None, t(1), "x"),
    ]
    r = paths(constructor(stream(rows)), period=PERIOD)
    assert r.nodes.rows() == [(1, "x", 1, 1), (1, "y", 1, 1)]
    r = paths(constructor(stream(rows)), period=None)
    assert r.nodes.rows() == [(1, "old", 1, 0), (1, "y", 1, 1), (2, "x", 1, 0), (3, "late", 1, 1)]
    r = paths(constructor(stream(rows)), period=PERIOD, accounts=["b"])
    assert r.nodes.rows() == [(1, "y", 1, 1)]
    # an anchor that is in the data but not in the period: no paths, no error
    r = paths(constructor(stream(rows)), period=PERIOD, start="late")
    assert r.accounts == 0 and r.nodes.height == 0 and r.edges.height == 0
    assert r.nodes.schema == pl.Schema(
        {"step": pl.Int64, "item": pl.String, "accounts": pl.Int64, "dropped": pl.Int64}
    )


def test_raw_events_table_without_source_or_seq(constructor):
    raw = seqs(a="xyz", b="xz").drop("source", "seq", "touchpoint")
    r = paths(constructor(raw), period=PERIOD, start="x", steps=2)
    assert r.nodes.rows() == [(1, "x", 2, 0), (2, "y", 1, 1), (2, "z", 1, 1)]
    with pytest.raises(ConfigError, match="missing columns.*touchpoint"):
        paths(constructor(raw), period=PERIOD, level="touchpoint")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"start": "nope"}, r"^start: unknown event .*found 'nope'"),
        ({"end": "nope"}, r"^end: unknown event .*found 'nope'"),
        ({"start": "x", "end": "y"}, "start and end given together"),
        ({"steps": 0}, r"^steps: bad steps"),
        ({"min_accounts": 0}, r"^min_accounts: bad min_accounts"),
        ({"level": "page"}, r"^level: unknown paths level .*'page'"),
    ],
)
def test_errors_are_one_line_config_errors(constructor, options, message):
    with pytest.raises(ConfigError, match=message) as info:
        paths(constructor(seqs(a="xyz")), period=PERIOD, **options)
    assert "\n" not in str(info.value)


def test_paths_json_shape(constructor):
    r = paths(constructor(seqs(a="xy", b="xz")), period=PERIOD, start="x", steps=2)
    out = paths_json(r)
    assert list(out) == ["level", "start", "end", "steps", "accounts", "nodes", "edges"]
    assert out["accounts"] == 2 and out["start"] == "x" and out["end"] is None
    assert out["nodes"][0] == {"step": 1, "item": "x", "accounts": 2, "dropped": 0}
    assert out["edges"] == [
        {"step": 1, "source": "x", "target": "y", "accounts": 1},
        {"step": 1, "source": "x", "target": "z", "accounts": 1},
    ]


# ---------------------------------------------------------------- drop-off paths
def _funnel_world() -> tuple[pl.DataFrame, pl.DataFrame]:
    # stages aware < consider < decide; a and b stop in consider, c decides, d skips
    # consider straight to decide, e never gets to consider, f enters consider in April
    rows = [
        ("a", t(1), "visit", "site", "events", "aware"),
        ("a", t(2), "trial", "trial", "events", "consider"),
        ("a", t(3), "login", None, "events", None),
        ("a", t(4), "help", "docs", "events", "consider"),
        ("a", t(5), "help", "docs", "events", "consider"),
        ("a", t(6), "visit", "site", "events", "aware"),
        ("b", t(1), "trial", "trial", "events", "consider"),
        ("b", t(2), "pricing", "pricing", "events", "consider"),
        ("c", t(1), "trial", "trial", "events", "consider"),
        ("c", t(2), "buy", "checkout", "events", "decide"),
        ("d", t(1), "buy", "checkout", "events", "decide"),
        ("e", t(1), "visit", "site", "events", "aware"),
        ("f", t(1), "visit", "site", "events", "aware"),
        ("f", t(1, m=4), "trial", "trial", "events", "consider"),
    ]
    frame = stream([r[:5] for r in rows]).with_columns(
        pl.Series("stage", [r[5] for r in rows], dtype=pl.String)
    )
    accounts = pl.DataFrame(
        {"account_id": list("abcdef"), "first_seen_at": [t(1)] * 6},
        schema={"account_id": pl.String, "first_seen_at": pl.Datetime("us", "UTC")},
    )
    return frame, accounts


def test_drop_off_paths_follow_the_accounts_lost_between_two_stages(constructor):
    frame, accounts = _funnel_world()
    stages = [("aware", "Aware"), ("consider", "Consider"), ("decide", "Decide")]
    r = drop_off_paths(
        constructor(frame),
        constructor(accounts),
        period=PERIOD,
        stages=stages,
        stage_from="consider",
        stage_to="decide",
        steps=3,
    )
    # lost: a (trial, docs, site: the unmapped login skipped, help repeated) and b
    assert r.nodes.rows() == [
        (1, "trial", 2, 0),
        (2, "docs", 1, 0),
        (2, "pricing", 1, 1),
        (3, "site", 1, 1),
    ]
    assert r.edges.rows() == [
        (1, "trial", "docs", 1),
        (1, "trial", "pricing", 1),
        (2, "docs", "site", 1),
    ]
    funnel = stage_funnel(frame, accounts, period=PERIOD, stages=stages)
    reached = dict(zip(funnel["id"], funnel["reached"], strict=True))
    assert r.accounts == reached["consider"] - reached["decide"] == 2
    # from the first stage: every account that never decided, from its first aware event
    r = drop_off_paths(
        constructor(frame),
        constructor(accounts),
        period=PERIOD,
        stages=stages,
        stage_from="aware",
        stage_to="decide",
        steps=1,
        level="event",
    )
    assert r.nodes.rows() == [(1, "visit", 3, 3), (1, "trial", 1, 1)]
    with pytest.raises(ConfigError, match="stage_to: unknown stage"):
        drop_off_paths(
            frame, accounts, period=PERIOD, stages=stages, stage_from="aware", stage_to="x"
        )
    with pytest.raises(ConfigError, match="not after"):
        drop_off_paths(
            frame, accounts, period=PERIOD, stages=stages, stage_from="decide", stage_to="aware"
        )


# ---------------------------------------------------------------- properties
def reference(
    rows: list[tuple[str, int, str]], *, steps: int, start: str | None, end: str | None
) -> Counter[tuple[int, str, str | None]]:
    """The spec in plain Python: ``(step, item, next)`` counts; rows in sequence order."""
    by: dict[str, list[str]] = {}
    for account, _, item in rows:
        items = by.setdefault(account, [])
        if not items or items[-1] != item:
            items.append(item)
    out: Counter[tuple[int, str, str | None]] = Counter()
    for items in by.values():
        if start is not None:
            if start not in items:
                continue
            i = items.index(start)
            path, first = items[i : i + steps], 1
        elif end is not None:
            if end not in items:
                continue
            i = items.index(end)
            path = items[max(0, i + 1 - steps) : i + 1]
            first = steps - len(path) + 1
        else:
            path, first = items[:steps], 1
        for k, item in enumerate(path):
            out[(first + k, item, path[k + 1] if k + 1 < len(path) else None)] += 1
    return out


# events x, y, z, w map to touchpoints X, Y, Z, W; u is unmapped
_rows = st.lists(
    st.tuples(st.sampled_from("abcd"), st.integers(1, 6), st.sampled_from("xyzwu")),
    min_size=1,
    max_size=40,
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=_rows,
    steps=st.integers(1, 4),
    anchor=st.sampled_from([None, ("start", "x"), ("end", "x"), ("start", "y"), ("end", "w")]),
    min_accounts=st.integers(1, 3),
    level=st.sampled_from(["event", "touchpoint"]),
)
def test_properties(constructor, rows, steps, anchor, min_accounts, level):
    data = stream([(a, t(d), e, None if e == "u" else e.upper()) for a, d, e in rows])
    if level == "touchpoint":  # the items are the touchpoints, unmapped events skipped
        rows = [(a, d, e.upper()) for a, d, e in rows if e != "u"]
        anchor = None if anchor is None else (anchor[0], anchor[1].upper())
    options = {} if anchor is None else {anchor[0]: anchor[1]}
    if anchor is not None and anchor[1] not in {e for _, _, e in rows}:
        with pytest.raises(ConfigError, match=f"unknown {level} .*'{anchor[1]}'"):
            paths(constructor(data), period=PERIOD, level=level, **options)
        return
    r = paths(
        constructor(data),
        period=PERIOD,
        steps=steps,
        min_accounts=min_accounts,
        level=level,
        **options,
    )
    nodes, edges = r.nodes, r.edges
    # the spec's sort orders
    assert (
        nodes.rows()
        == nodes.sort(["step", "accounts", "item"], descending=[False, True, False]).rows()
    )
    assert (
        edges.rows()
        == edges.sort(
            ["step", "accounts", "source", "target"], descending=[False, True, False, False]
        ).rows()
    )
    # each node's accounts − dropped = its outgoing edges; every edge joins two nodes
    out = edges.group_by("step", "source").agg(pl.col("accounts").sum().alias("out"))
    joined = nodes.join(out, left_on=["step", "item"], right_on=["step", "source"], how="left")
    assert (joined["accounts"] - joined["dropped"]).to_list() == joined["out"].fill_null(
        0
    ).to_list()
    keys = set(zip(nodes["step"], nodes["item"], strict=True))
    assert all((s, a) in keys and (s + 1, b) in keys for s, a, b, _ in edges.rows())
    # accounts at step k+1 = accounts at step k − dropped at step k (paths that all begin at 1)
    per_step = (
        nodes.group_by("step").agg(pl.col("accounts").sum(), pl.col("dropped").sum()).sort("step")
    )
    if anchor is None or anchor[0] == "start":
        a, d = per_step["accounts"].to_list(), per_step["dropped"].to_list()
        assert per_step["step"].to_list() == list(range(1, len(a) + 1))
        assert all(a[k + 1] == a[k] - d[k] for k in range(len(a) - 1))
        assert a[-1:] == d[-1:]  # (no paths: both empty)
    assert r.accounts == nodes["dropped"].sum() <= len({a for a, _, _ in rows})
    # with min_accounts = 1 the counts are the spec's, computed in plain Python
    if min_accounts == 1:
        ordered = sorted(
            ((a, d, e, i) for i, (a, d, e) in enumerate(rows)), key=lambda r: (r[0], r[1], r[3])
        )
        want = reference(
            [(a, d, e) for a, d, e, _ in ordered],
            steps=steps,
            start=options.get("start"),
            end=options.get("end"),
        )
        got: Counter[tuple[int, str, str | None]] = Counter()
        for s, item, _, dropped in nodes.rows():
            if dropped:
                got[(s, item, None)] += dropped
        for s, a, b, n in edges.rows():
            got[(s, a, b)] += n
        assert got == want


def test_drop_off_paths_when_nobody_is_lost(constructor):
    frame, accounts = _funnel_world()
    # c and d both decided: nobody is lost between consider and decide
    r = drop_off_paths(
        constructor(frame.filter(pl.col("account_id").is_in(["c", "d"]))),
        constructor(accounts),
        period=PERIOD,
        stages=["aware", "consider", "decide"],
        stage_from="consider",
        stage_to="decide",
    )
    assert r.accounts == 0 and r.nodes.height == 0 and r.edges.height == 0


# ---------------------------------------------------------------- presorted input
def in_order(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame in the store's stream order: account_id, timestamp, seq (frame order without one)."""
    by = ["account_id", "timestamp", *(["seq"] if "seq" in frame.columns else [])]
    return frame.sort(by, nulls_last=True, maintain_order=True)


def assert_same(got, want) -> None:
    assert (got.accounts, got.level, got.start, got.end, got.steps) == (
        want.accounts,
        want.level,
        want.start,
        want.end,
        want.steps,
    )
    assert got.nodes.equals(want.nodes), (got.nodes, want.nodes)
    assert got.edges.equals(want.edges), (got.edges, want.edges)


def assert_presorted_same(frame: pl.DataFrame, **options: Any) -> None:
    """``paths(..., presorted=True)`` is ``paths(...)`` (errors included), eager and lazy."""
    try:
        want = paths(frame, **options)
    except ConfigError as e:
        with pytest.raises(ConfigError) as info:
            paths(frame, presorted=True, **options)
        assert str(info.value) == str(e)
        return
    for native in (frame, frame.lazy()):
        assert_same(paths(native, presorted=True, **options), want)


def _hand_frames() -> dict[str, pl.DataFrame]:
    """The hand cases' data, in stream order."""
    tp = {"x": "X", "y": "Y", "z": "Z", "w": "W", "e": "E", "s": "S"}
    ties = [("a", t(1), "y"), ("a", t(1), "x"), ("a", t(2), "z"), ("a", t(1), "w")]
    dated = [
        ("a", t(20, m=12).replace(year=2023), "old"),
        ("a", t(1), "x"),
        ("a", t(2, m=4), "late"),
        ("b", t(1), "y"),
        (None, t(1), "x"),
        ("b", t(1), "y"),
    ]
    raw_signup = stream(
        [("c", t(9), "signed_up", None, "events"), ("c", t(10), "login", None, "events")]
    )
    frames = {
        "letters": seqs(a="xyzw", b="xz", c="y", d="xxyyyxz"),
        "anchors": seqs(a="xsyz", b="sxs", c="xy", d="wxyeze", e="xe", f="ex"),
        "ties": stream(ties),
        "dated": stream(dated),
        "signups": _with_signups(),
        "raw_signup": pl.concat([_with_signups(), raw_signup.with_columns(pl.col("seq") + 100)]),
        "funnel": _funnel_world()[0],
        "raw_table": seqs(a="xyzx", b="xz", c="zzy").drop("source", "seq", "touchpoint"),
    }
    frames["letters"] = frames["letters"].with_columns(
        pl.col("event").replace(tp).alias("touchpoint")
    )
    frames["anchors"] = frames["anchors"].with_columns(
        pl.when(pl.col("event") != "w").then(pl.col("event").replace(tp)).alias("touchpoint")
    )
    return {name: in_order(f) for name, f in frames.items()}


@pytest.mark.parametrize("name", list(_hand_frames()))
def test_presorted_gives_the_same_paths_on_the_hand_cases(name):
    frame = _hand_frames()[name]
    levels = ["event", "touchpoint"] if "touchpoint" in frame.columns else ["event"]
    extras = [
        {"period": PERIOD},
        {"period": None, "min_accounts": 2},
        {"period": ("2024-01", "2024-01"), "accounts": ["a", "c", "nobody"]},
        {"period": PERIOD, "accounts": ["b"]},
    ]
    k = 0
    for level in levels:
        column = "event" if level == "event" else "touchpoint"
        items = sorted(v for v in frame[column].unique().to_list() if v is not None)
        anchors = [{}] + [{side: i} for i in [*items, "nope"] for side in ("start", "end")]
        for anchor in anchors:
            for steps in (1, 3, 5):
                extra = extras[k % len(extras)]
                k += 1
                assert_presorted_same(frame, level=level, steps=steps, **anchor, **extra)


def test_presorted_is_ignored_on_other_engines(constructor):
    frame = _hand_frames()["signups"]
    want = paths(frame, period=PERIOD, start="signed_up", steps=3)
    assert_same(paths(constructor(frame), period=PERIOD, start="signed_up", steps=3), want)
    got = paths(constructor(frame), period=PERIOD, start="signed_up", steps=3, presorted=True)
    assert_same(got, want)


# accounts a-d and anonymous rows; raw events x, y, z, u (u unmapped); derived rows of s
# (only derived: it joins the paths) and x (also raw: its derived rows never do)
_sorted_rows = st.lists(
    st.tuples(
        st.sampled_from(["a", "b", "c", "d", None]),
        st.integers(1, 4),  # day
        st.integers(1, 2),  # month
        st.sampled_from(["x", "y", "z", "u", "x", "s", "s", "x*"]),
    ),
    min_size=1,
    max_size=40,
)


@settings(max_examples=80, deadline=None)
@given(
    rows=_sorted_rows,
    steps=st.integers(1, 4),
    anchor=st.sampled_from(
        [None, ("start", "x"), ("end", "x"), ("start", "s"), ("end", "s"), ("start", "y")]
    ),
    level=st.sampled_from(["event", "touchpoint"]),
    min_accounts=st.integers(1, 2),
    period=st.sampled_from([PERIOD, None, ("2024-02", "2024-02")]),
    accounts=st.sampled_from([None, ["a", "c"], []]),
)
def test_presorted_properties(rows, steps, anchor, level, min_accounts, period, accounts):
    data = stream(
        [
            (
                a,
                t(d, m=m),
                e.rstrip("*"),
                None if e == "u" else e.rstrip("*").upper(),
                "accounts" if e in ("s", "x*") else "events",
            )
            for a, d, m, e in rows
        ]
    )
    options = {} if anchor is None else {anchor[0]: anchor[1]}
    if level == "touchpoint" and anchor is not None:
        options = {anchor[0]: anchor[1].upper()}
    assert_presorted_same(
        in_order(data),
        period=period,
        steps=steps,
        level=level,
        min_accounts=min_accounts,
        accounts=accounts,
        **options,
    )


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    """The demo client (``journey demo``'s: 2000 accounts, 12 months from 2025-01) in a store."""
    from journeylib.sources.synth import synthesize
    from journeylib.store import ensure_store

    path = tmp_path_factory.mktemp("demo") / "demo"
    synthesize(path, accounts=2000, months=12, seed=42, start="2025-01", fmt="csv")
    return ensure_store(path)


DEMO_CASES = [
    {},
    {"steps": 3, "min_accounts": 5},
    {"start": "signed_up"},  # derived, once an account: before the raw rows of its instant
    {"start": "signed_up", "steps": 8, "period": ("2025-03", "2025-08")},
    {"end": "signed_up", "steps": 3},
    {"start": "subscription_renewed"},  # derived, several an account: not reduced
    {"end": "subscription_renewed", "steps": 4},
    {"start": "subscription_started", "min_accounts": 3},
    {"end": "subscription_started"},
    {"level": "touchpoint"},
    {"level": "touchpoint", "start": "customer_support"},  # derived, several an account
    {"level": "touchpoint", "end": "checkout", "steps": 4},
    {"level": "touchpoint", "start": "free_trial", "steps": 2},
]


def test_presorted_gives_the_same_paths_on_the_demo_store(demo_store):
    s = demo_store.stream()
    events = s.filter(pl.col("source") == "events").group_by("event").len().collect()
    common = events.sort("len", descending=True)["event"].to_list()
    ids = s.select(pl.col("account_id").unique().sort()).collect()["account_id"].drop_nulls()
    cases = [
        *DEMO_CASES,
        {"start": common[0]},
        {"end": common[1], "steps": 6},
        {"start": common[-1]},  # a raw event few accounts have
        {"start": "signed_up", "accounts": ids[::3].to_list()},
        {"end": common[2], "accounts": ids[1::4].to_list(), "level": "event"},
    ]
    for case in cases:
        options = {"period": ("2025-01", "2025-12"), **case}
        want = paths(s, **options)
        assert want.accounts > 0, case
        assert_same(paths(s, presorted=True, **options), want)


def test_path_rows_are_a_few_rows_an_account_that_give_the_same_paths(demo_store):
    s = demo_store.stream()
    period = ("2025-02", "2025-10")
    for case in DEMO_CASES[:5]:
        options = {"period": period, **case}
        anchor = options.get("start") or options.get("end")
        within = options.pop("period")
        rows = path_rows(
            s,
            period=within,
            start=options.get("start"),
            end=options.get("end"),
            steps=options.get("steps", 5),
            derived=anchor in ("signed_up", "subscription_renewed"),
            level="event",
        )
        assert rows is not None
        assert rows.group_by("account_id").len()["len"].max() <= options.get("steps", 5)
        assert_same(paths(rows, period=None, **options), paths(s, period=within, **options))
    # a derived start some account has several times in the period: not reduced
    assert path_rows(s, period=period, start="subscription_renewed", derived=True) is None


@pytest.mark.parametrize("options", [{"start": "signed_up"}, {"level": "touchpoint"}, {}])
def test_regroup_gives_what_paths_gives_with_that_min_accounts(world, options):
    from journeylib.analysis.paths import readable_paths, regroup, sankey_min_accounts

    client, _, stream = world
    period = jl.resolve_period(client)
    full = paths(stream, period=period, **options)
    for k in (2, 7, 25):
        direct = paths(stream, period=period, min_accounts=k, **options)
        again = regroup(full, k)
        assert again.nodes.equals(direct.nodes) and again.edges.equals(direct.edges), k
    readable = readable_paths(full)
    k = sankey_min_accounts(full.accounts)
    assert readable.nodes.filter(pl.col("item") != "(other)")["accounts"].min() >= k
