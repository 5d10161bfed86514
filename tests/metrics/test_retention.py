"""Activity retention by signup cohort (metrics.md § Activity retention)."""

from __future__ import annotations

import datetime as dt

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.metrics.retention import activity_retention, activity_retention_matrix

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def accounts(rows):
    return pl.DataFrame(rows, schema={"account_id": pl.String, "signup_at": TS}, orient="row")


def events(rows):
    return pl.DataFrame(
        rows, schema={"account_id": pl.String, "timestamp": TS, "event": pl.String}, orient="row"
    )


ACCOUNTS = accounts(
    [
        ("a", ts(2024, 1, 5)),
        ("b", ts(2024, 1, 20)),
        ("c", ts(2024, 3, 1)),
        ("d", ts(2023, 12, 1)),  # cohort before the period
        ("e", None),  # never signed up
    ]
)
EVENTS = events(
    [
        ("a", ts(2023, 12, 30), "page"),  # before the signup month: k = -1, ignored
        ("a", ts(2024, 1, 6), "login"),
        ("a", ts(2024, 1, 7), "login"),  # twice in Jan: active once
        ("a", ts(2024, 2, 1), "login"),
        ("a", ts(2024, 4, 1), "login"),  # after the period's end: not counted
        ("b", ts(2024, 2, 28, 23, 59), "login"),
        ("c", ts(2024, 3, 31, 23, 59, 59), "login"),
        ("d", ts(2024, 1, 2), "login"),
        ("e", ts(2024, 1, 2), "login"),
        (None, ts(2024, 1, 2), "page"),
    ]
)


def test_activity_retention_hand_computed(constructor):
    # Jan cohort {a, b}: k0 a → 1/2; k1 a, b → 2/2; k2 (Mar) nobody → 0/2.
    # Feb: no signups, no cohort. Mar cohort {c}: k0 → 1/1. April is after the period.
    out = activity_retention(
        constructor(ACCOUNTS), constructor(EVENTS), period=("2024-01", "2024-03")
    )
    assert out.rows() == [
        ("2024-01", 2, 0, 1, 0.5),
        ("2024-01", 2, 1, 2, 1.0),
        ("2024-01", 2, 2, 0, 0.0),
        ("2024-03", 1, 0, 1, 1.0),
    ]
    assert out.schema == {
        "cohort": pl.String,
        "size": pl.Int64,
        "k": pl.Int64,
        "active": pl.Int64,
        "rate": pl.Float64,
    }


def test_activity_retention_matrix_shape(constructor):
    out = activity_retention_matrix(
        constructor(ACCOUNTS), constructor(EVENTS), period=("2024-01", "2024-03")
    )
    assert out == [
        {"cohort": "2024-01", "size": 2, "rates": [0.5, 1.0, 0.0]},
        {"cohort": "2024-03", "size": 1, "rates": [1.0]},
    ]


def test_activity_retention_extends_to_period_end(constructor):
    # With the period running to April, a's April activity shows as k = 3.
    out = activity_retention(
        constructor(ACCOUNTS), constructor(EVENTS), period=("2024-01", "2024-04")
    )
    jan = out.filter(pl.col("cohort") == "2024-01")
    assert jan.select("k", "active").rows() == [(0, 1), (1, 2), (2, 0), (3, 1)]


def test_activity_retention_zero_signups(constructor):
    out = activity_retention(
        constructor(ACCOUNTS), constructor(EVENTS), period=("2025-01", "2025-03")
    )
    assert out.height == 0 and out.columns == ["cohort", "size", "k", "active", "rate"]
    assert (
        activity_retention_matrix(
            constructor(ACCOUNTS), constructor(EVENTS), period=("2025-01", "2025-03")
        )
        == []
    )


@settings(max_examples=50, deadline=None)
@given(
    signup_days=st.lists(st.integers(0, 150), min_size=1, max_size=10),
    extra=st.lists(st.tuples(st.integers(0, 9), st.integers(-30, 200)), max_size=30),
)
def test_rates_in_unit_interval_and_k0_is_one_when_everyone_starts(signup_days, extra):
    base = ts(2024, 1, 1)
    acc = accounts([(f"a{i}", base + dt.timedelta(days=d)) for i, d in enumerate(signup_days)])
    # Every account has an event at its signup instant, so k = 0 is always 1.
    rows = [(f"a{i}", base + dt.timedelta(days=d), "x") for i, d in enumerate(signup_days)]
    rows += [(f"a{i % len(signup_days)}", base + dt.timedelta(days=d), "y") for i, d in extra]
    out = activity_retention(acc, events(rows), period=("2024-01", "2024-06"))
    assert out["rate"].is_between(0, 1).all()
    assert (out.filter(pl.col("k") == 0)["rate"] == 1.0).all()
    sizes = out.group_by("cohort").agg(pl.col("size").first())["size"].sum()
    assert sizes == len(signup_days)
