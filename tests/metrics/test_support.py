"""Support: resolution time, ticket mix, resolution by category, referral rate."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.metrics.support import (
    referral_rate,
    resolution_by_category,
    resolution_time,
    ticket_mix_by_tenure,
)

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")
TICKET_SCHEMA = {
    "ticket_id": pl.String,
    "account_id": pl.String,
    "opened_at": TS,
    "resolved_at": TS,
    "category": pl.String,
    "satisfaction": pl.Int64,
}
SUBS_SCHEMA = {"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64}


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def tickets(rows):
    """rows: (account_id, opened_at, resolved_at, category, satisfaction)."""
    return pl.DataFrame(
        [(f"t{i}", *r) for i, r in enumerate(rows)], schema=TICKET_SCHEMA, orient="row"
    )


def subs(rows):
    return pl.DataFrame(rows, schema=SUBS_SCHEMA, orient="row")


OPEN = ts(2024, 1, 10, 8)
TICKETS = tickets(
    [
        ("a", OPEN, ts(2024, 1, 10, 9), "bug", 5),  # 1 h
        ("a", OPEN, ts(2024, 1, 10, 10), "bug", 3),  # 2 h
        ("b", OPEN, ts(2024, 1, 10, 12), "how_to", None),  # 4 h
        ("b", OPEN, ts(2024, 1, 10, 18), "billing", 1),  # 10 h
        ("c", OPEN, None, "billing", None),  # unresolved: opened only
        ("c", ts(2023, 12, 31, 23), ts(2024, 1, 1, 1), "bug", 4),  # opened before the period
    ]
)


def test_resolution_time_linear_quantiles(constructor):
    # hours [1, 2, 4, 10]: median (2 + 4) / 2 = 3; p90 at position 2.7 → 4 + 0.7 × 6 = 8.2.
    out = resolution_time(constructor(TICKETS), period=("2024-01", "2024-01"))
    assert out["resolution_hours_median"] == pytest.approx(3.0)
    assert out["resolution_hours_p90"] == pytest.approx(8.2)
    assert (out["resolved"], out["opened"]) == (4, 5)


def test_resolution_time_fractional_hours_and_empty(constructor):
    t = tickets([("a", OPEN, ts(2024, 1, 10, 8, 30), None, None)])
    assert resolution_time(constructor(t), period=("2024-01", "2024-01"))[
        "resolution_hours_median"
    ] == pytest.approx(0.5)
    none = resolution_time(constructor(TICKETS), period=("2022-01", "2022-01"))
    assert none == {
        "resolution_hours_median": None,
        "resolution_hours_p90": None,
        "resolved": 0,
        "opened": 0,
    }
    unresolved = tickets([("a", OPEN, None, None, None)])
    out = resolution_time(constructor(unresolved), period=("2024-01", "2024-01"))
    assert out == {
        "resolution_hours_median": None,
        "resolution_hours_p90": None,
        "resolved": 0,
        "opened": 1,
    }


def test_resolution_by_category(constructor):
    out = resolution_by_category(constructor(TICKETS), period=("2024-01", "2024-01"))
    # billing: 10 h resolved + 1 unresolved; bug: 1 h, 2 h (median 1.5, p90 1.9); how_to: 4 h.
    assert out.rows() == [
        ("billing", 2, 1, 0.4, 10.0, 10.0, 1.0),
        ("bug", 2, 2, 0.4, 1.5, pytest.approx(1.9), 4.0),
        ("how_to", 1, 1, 0.2, 4.0, 4.0, None),
    ]
    assert out.columns == [
        "category",
        "opened",
        "resolved",
        "share",
        "resolution_hours_median",
        "resolution_hours_p90",
        "satisfaction_mean",
    ]


def test_ticket_mix_by_tenure(constructor):
    sb = subs(
        [
            ("a", dt.date(2024, 1, 1), 0.0),  # a first pays in Feb
            ("a", dt.date(2024, 2, 1), 50.0),
            ("a", dt.date(2024, 3, 1), 50.0),
            ("b", dt.date(2024, 1, 1), 0.0),  # b never pays
            ("c", dt.date(2023, 12, 1), 20.0),  # c first pays in Dec 2023
        ]
    )
    t = tickets(
        [
            ("a", ts(2024, 1, 5), None, "how_to", None),  # before first paid month → pre-paid
            ("a", ts(2024, 2, 5), None, "bug", None),  # tenure 0
            ("a", ts(2024, 3, 5), None, "bug", None),  # tenure 1
            ("a", ts(2024, 3, 6), None, "billing", None),  # tenure 1
            ("b", ts(2024, 2, 5), None, "billing", None),  # never paid → pre-paid
            ("c", ts(2024, 1, 5), None, "how_to", None),  # tenure 1
            ("c", ts(2024, 3, 5), None, None, None),  # tenure 3, no category
            ("c", ts(2024, 4, 5), None, "bug", None),  # after the period
        ]
    )
    out = ticket_mix_by_tenure(constructor(t), constructor(sb), period=("2024-01", "2024-03"))
    assert out.rows() == [
        ("pre-paid", None, "billing", 1, 0.5),
        ("pre-paid", None, "how_to", 1, 0.5),
        ("0", 0, "bug", 1, 1.0),
        ("1", 1, "billing", 1, pytest.approx(1 / 3)),
        ("1", 1, "bug", 1, pytest.approx(1 / 3)),
        ("1", 1, "how_to", 1, pytest.approx(1 / 3)),
        ("3", 3, None, 1, 1.0),
    ]


def test_referral_rate_per_month(constructor):
    sb = subs(
        [
            ("a", dt.date(2024, 1, 1), 10.0),
            ("b", dt.date(2024, 1, 1), 10.0),
            ("c", dt.date(2024, 1, 1), 0.0),
            ("a", dt.date(2024, 2, 1), 10.0),
        ]
    )
    ev = pl.DataFrame(
        [
            ("a", "referral_sent", ts(2024, 1, 3)),
            ("a", "referral_sent", ts(2024, 1, 4)),  # twice: one referrer
            ("c", "referral_sent", ts(2024, 1, 4)),  # c does not pay
            ("b", "referral_sent", ts(2024, 2, 4)),  # b does not pay in Feb
            ("b", "login", ts(2024, 1, 4)),
            (None, "referral_sent", ts(2024, 1, 4)),
        ],
        schema={"account_id": pl.String, "event": pl.String, "timestamp": TS},
        orient="row",
    )
    out = referral_rate(
        constructor(ev), constructor(sb), period=("2024-01", "2024-03"), event="referral_sent"
    )
    assert out.rows() == [
        ("2024-01", 2, 1, 0.5),
        ("2024-02", 1, 0, 0.0),
        ("2024-03", 0, 0, None),
    ]


@settings(max_examples=50, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.sampled_from("abcd"),
            st.integers(0, 100),
            st.one_of(st.none(), st.integers(0, 500)),
            st.sampled_from(["bug", "billing", None]),
        ),
        max_size=25,
    ),
    first_paid=st.dictionaries(st.sampled_from("abc"), st.integers(0, 5)),
)
def test_shares_sum_to_one_and_hours_ordered(rows, first_paid):
    base = ts(2024, 1, 1)
    t = tickets(
        [
            (
                a,
                base + dt.timedelta(days=d),
                None if h is None else base + dt.timedelta(days=d, hours=h),
                c,
                None,
            )
            for a, d, h, c in rows
        ]
    )
    sb = subs([(a, dt.date(2024 + (m // 12), m % 12 + 1, 1), 5.0) for a, m in first_paid.items()])
    mix = ticket_mix_by_tenure(t, sb, period=("2024-01", "2024-03"))
    sums = mix.group_by("tenure").agg(pl.col("share").sum())["share"]
    assert all(abs(s - 1) < 1e-9 for s in sums)
    out = resolution_time(t, period=("2024-01", "2024-03"))
    assert out["resolved"] <= out["opened"]
    if out["resolved"]:
        assert 0 <= out["resolution_hours_median"] <= out["resolution_hours_p90"]
