"""Journey stages and touchpoints (metrics.md § Journey stages and touchpoints)."""

from __future__ import annotations

import datetime as dt
import itertools

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.metrics.stages import (
    stage_entries,
    stage_funnel,
    stall_summary,
    stalled_accounts,
    touchpoint_transitions,
    visitors,
)

STAGES = [("s1", "Aware"), ("s2", "Consider"), ("s3", "Buy"), ("s4", "Renew")]
PERIOD = ("2024-01", "2024-02")


def day(d: float, month: int = 1) -> dt.datetime:
    return dt.datetime(2024, month, 1, tzinfo=dt.UTC) + dt.timedelta(days=d - 1)


def stream(rows) -> pl.DataFrame:
    """rows = [(account_id, anonymous_id, timestamp, stage, touchpoint)]; seq = row order."""
    return pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "anonymous_id": [r[1] for r in rows],
            "timestamp": [r[2] for r in rows],
            "event": ["e"] * len(rows),
            "touchpoint": [r[4] for r in rows],
            "stage": [r[3] for r in rows],
            "seq": list(range(len(rows))),
        },
        schema={
            "account_id": pl.String,
            "anonymous_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "event": pl.String,
            "touchpoint": pl.String,
            "stage": pl.String,
            "seq": pl.Int64,
        },
    )


def accounts(rows) -> pl.DataFrame:
    """rows = [(account_id, first_seen_at, persona)]."""
    return pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "first_seen_at": [r[1] for r in rows],
            "persona": [r[2] for r in rows],
        },
        schema={
            "account_id": pl.String,
            "first_seen_at": pl.Datetime("us", "UTC"),
            "persona": pl.String,
        },
    )


# ---------------------------------------------------------------- stage funnel
def test_funnel_never_rises_and_a_skipped_stage_counts_for_earlier_ones(constructor):
    acc = accounts([("a", day(1), "x"), ("b", day(1), "x"), ("c", day(1), "x"), ("d", day(1), "x")])
    ev = stream(
        [
            ("a", None, day(1), "s1", None), ("a", None, day(3), "s3", None),  # skips s2
            ("b", None, day(2), "s1", None),
            ("c", None, day(2), "s2", None),  # skips s1
            ("d", None, day(2), None, None),  # no mapped event: enters no stage
        ]
    )  # fmt: skip
    out = stage_funnel(constructor(ev), constructor(acc), period=PERIOD, stages=STAGES)
    assert out.rows() == [
        ("s1", "Aware", 3, None, None),
        ("s2", "Consider", 2, 2 / 3, None),  # nobody entered both s1 and s2
        ("s3", "Buy", 1, 0.5, None),
        ("s4", "Renew", 0, 0.0, None),
    ]


def test_conversion_is_null_after_an_empty_stage(constructor):
    acc = accounts([("a", day(1), "x")])
    ev = stream([("a", None, day(1), "s1", None)])
    out = stage_funnel(constructor(ev), constructor(acc), period=PERIOD, stages=STAGES)
    assert out["reached"].to_list() == [1, 0, 0, 0]
    assert out["conversion_from_previous"].to_list() == [None, 0.0, None, None]


def test_median_days_from_previous(constructor):
    acc = accounts([(k, day(1), "x") for k in "abcd"])
    ev = stream(
        [
            ("a", None, day(1), "s1", None), ("a", None, day(2), "s1", None),  # entry = first
            ("a", None, day(3), "s2", None),  # 2 days
            ("b", None, day(1), "s1", None), ("b", None, day(5), "s2", None),  # 4 days
            ("c", None, day(1), "s1", None), ("c", None, day(2.5), "s2", None),  # 1.5 days
            ("d", None, day(4), "s1", None), ("d", None, day(1), "s2", None),  # s2 before s1
            ("d", None, day(6), "s3", None),  # 5 days after s2 (entry(3) >= entry(2))
        ]
    )  # fmt: skip
    out = stage_funnel(constructor(ev), constructor(acc), period=PERIOD, stages=STAGES)
    assert out["median_days_from_previous"].to_list() == [None, 2.0, 5.0, None]
    assert out["reached"].to_list() == [4, 4, 1, 0]


def test_period_selects_accounts_first_seen_in_it_and_events_up_to_its_end(constructor):
    acc = accounts(
        [
            ("in", day(5), "x"),
            ("before", dt.datetime(2023, 12, 20, tzinfo=dt.UTC), "x"),
            ("after", day(1, month=3), "x"),
        ]
    )
    ev = stream(
        [
            ("in", None, day(5), "s1", None),
            ("in", None, day(3, month=2), "s2", None),  # February: inside the period
            ("in", None, day(1, month=3), "s3", None),  # March: after the period's end
            ("before", None, day(5), "s1", None),
            ("after", None, day(1, month=3), "s1", None),
        ]
    )
    out = stage_funnel(constructor(ev), constructor(acc), period=PERIOD, stages=STAGES)
    assert out["reached"].to_list() == [1, 1, 0, 0]
    assert out["median_days_from_previous"].to_list() == [None, 29.0, None, None]


def test_stage_funnel_by_persona(constructor):
    acc = accounts(
        [("a", day(1), "dev"), ("b", day(1), "dev"), ("c", day(1), "ops"), ("e", day(1), "cfo")]
    )
    ev = stream(
        [
            ("a", None, day(1), "s1", None), ("a", None, day(2), "s2", None),
            ("b", None, day(1), "s1", None),
            ("c", None, day(1), "s2", None),
        ]
    )  # fmt: skip
    out = stage_funnel(
        constructor(ev), constructor(acc), period=PERIOD, stages=STAGES[:2], by="persona"
    )
    assert out.rows() == [
        ("cfo", "s1", "Aware", 0, None, None),
        ("cfo", "s2", "Consider", 0, None, None),
        ("dev", "s1", "Aware", 2, None, None),
        ("dev", "s2", "Consider", 1, 0.5, 1.0),
        ("ops", "s1", "Aware", 1, None, None),
        ("ops", "s2", "Consider", 1, 1.0, None),
    ]


def test_stage_entries(constructor):
    acc = accounts([("a", day(1), "x")])
    ev = stream(
        [
            ("a", None, day(2), "s2", None),
            ("a", None, day(1), "s1", None),
            ("a", None, day(3), "s2", None),
            ("a", None, day(3), "unknown", None),
        ]
    )
    out = stage_entries(constructor(ev), constructor(acc), period=PERIOD, stages=STAGES)
    assert out.rows() == [
        ("a", 1, "s1", "Aware", day(1)),
        ("a", 2, "s2", "Consider", day(2)),
    ]


def test_stalled_accounts_and_summary(constructor):
    acc = accounts([("a", day(1), "x"), ("b", day(1), "x"), ("c", day(1), "x")])
    ev = stream(
        [
            ("a", None, day(1), "s1", None), ("a", None, day(3), "s2", None),
            ("a", None, day(4), None, None),  # unmapped, still a journey event
            ("b", None, day(2), "s1", None),
            ("c", None, day(1), "s1", None), ("c", None, day(5), "s2", None),
            ("c", None, day(11), None, None),  # the data's end
        ]
    )  # fmt: skip
    per = stalled_accounts(constructor(ev), constructor(acc), period=PERIOD, stages=STAGES)
    assert per.select(
        "account_id", "furthest_index", "furthest_stage", "days_since_last_event"
    ).rows() == [
        ("a", 2, "s2", 7.0),
        ("b", 1, "s1", 9.0),
        ("c", 2, "s2", 0.0),
    ]
    summary = stall_summary(constructor(ev), constructor(acc), period=PERIOD, stages=STAGES)
    assert summary.rows() == [
        ("s1", "Aware", 1, 1 / 3, 9.0),
        ("s2", "Consider", 2, 2 / 3, 3.5),
        ("s3", "Buy", 0, 0.0, None),
        ("s4", "Renew", 0, 0.0, None),
    ]
    # the stalled accounts the caller has already are summarised, not computed again
    given = stall_summary(None, None, period=PERIOD, stages=STAGES, stalled=per)
    assert given.rows() == summary.rows()


# ---------------------------------------------------------------- visitors
def test_visitors_counts_distinct_anonymous_ids_without_an_account(constructor):
    ev = stream(
        [
            (None, "v1", day(1), None, None),
            (None, "v1", day(2), None, None),
            (None, "v2", day(3, month=2), None, None),
            ("a", "v3", day(1), None, None),  # has an account: not a visitor row
            (None, "v4", day(1, month=3), None, None),  # after the period
            (None, None, day(1), None, None),  # no id at all
        ]
    )
    assert visitors(constructor(ev), period=PERIOD) == 2
    assert visitors(constructor(ev)) == 3


def test_visitors_is_zero_without_anonymous_rows(constructor):
    """No visitor rows: 0 on every engine (DuckDB's count of distinct over no rows is null)."""
    ev = stream([("a", None, day(1), None, None), ("b", "v1", day(2), None, None)])
    assert visitors(constructor(ev), period=PERIOD) == 0


# ---------------------------------------------------------------- touchpoint transitions
def test_transitions_collapse_repeats_and_keep_file_order_on_ties(constructor):
    ev = pl.concat(
        [
            stream(
                [
                    # a: ad and demo at the same instant: seq (file order) puts ad first
                    ("a", None, day(1), None, "ad"),
                    ("a", None, day(1), None, "demo"),
                    ("a", None, day(2), None, "demo"),  # repeat: collapsed
                    ("a", None, day(3), None, "trial"),
                    ("a", None, day(3), None, None),  # unmapped: ignored
                    ("a", None, day(4), None, "demo"),
                    ("b", None, day(1), None, "ad"),
                    ("b", None, day(2), None, "ad"),
                    ("b", None, day(3), None, "trial"),
                    ("c", None, day(1), None, "demo"),
                    ("c", None, day(2), None, None),
                    ("c", None, day(3), None, "demo"),  # demo, demo: no transition
                    (None, "v1", day(1), None, "ad"),  # anonymous: not an account
                    (None, "v1", day(2), None, "demo"),
                ]
            )
        ]
    )
    # shuffle the rows so that only timestamp and seq can give the order
    ev = ev.sample(fraction=1.0, shuffle=True, seed=3)
    out = touchpoint_transitions(constructor(ev))
    assert out.rows() == [
        ("ad", "demo", 1, 0.5),
        ("ad", "trial", 1, 0.5),
        ("demo", "trial", 1, 1.0),
        ("trial", "demo", 1, 1.0),
    ]


def test_transitions_in_a_period(constructor):
    ev = stream(
        [
            ("a", None, day(1), None, "ad"),
            ("a", None, day(2), None, "demo"),
            ("a", None, day(1, month=3), None, "trial"),
        ]
    )
    out = touchpoint_transitions(constructor(ev), period=PERIOD)
    assert out.rows() == [("ad", "demo", 1, 1.0)]


# ---------------------------------------------------------------- properties (polars only)
@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", "d"]),
            st.integers(1, 50),
            st.sampled_from(["s1", "s2", "s3", "s4", None]),
        ),
        max_size=30,
    )
)
def test_property_stage_funnel_never_rises(rows):
    acc = accounts([(k, day(1), "x") for k in "abcd"])
    ev = stream([(a, None, day(d), s, None) for a, d, s in rows])
    out = stage_funnel(ev, acc, period=PERIOD, stages=STAGES)
    reached = out["reached"].to_list()
    assert all(x >= y for x, y in itertools.pairwise(reached))
    assert all(v is None or 0 <= v <= 1 for v in out["conversion_from_previous"].to_list())
    assert all(v is None or v >= 0 for v in out["median_days_from_previous"].to_list())


@given(
    st.lists(
        st.tuples(
            st.sampled_from(["a", "b", "c", None]),
            st.integers(min_value=1, max_value=5),
            st.sampled_from(["ad", "demo", "trial", None]),
        ),
        max_size=40,
    )
)
@settings(max_examples=60, deadline=None)
def test_transitions_in_stored_order_equal_the_sorted_definition(rows) -> None:
    """Property: on a stream in (account_id, timestamp, seq) order, presorted gives the same pairs."""
    stream = pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "timestamp": [dt.datetime(2024, 1, r[1], tzinfo=dt.UTC) for r in rows],
            "seq": list(range(len(rows))),
            "touchpoint": [r[2] for r in rows],
        },
        schema={
            "account_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "seq": pl.Int64,
            "touchpoint": pl.String,
        },
    ).sort("account_id", "timestamp", "seq", nulls_last=True)
    expected = touchpoint_transitions(stream, period=("2024-01", "2024-01"))
    got = touchpoint_transitions(stream.lazy(), period=("2024-01", "2024-01"), presorted=True)
    assert got.equals(expected)
