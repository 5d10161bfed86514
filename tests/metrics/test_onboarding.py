"""Onboarding and adoption: activation, time to first value, engagement (metrics.md)."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.metrics.onboarding import (
    activation,
    engagement_scores,
    first_value_times,
    latest_engagement,
    time_to_first_value,
)

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")
ACC_SCHEMA = {"account_id": pl.String, "signup_at": TS, "persona": pl.String}
STREAM_SCHEMA = {"account_id": pl.String, "event": pl.String, "timestamp": TS, "source": pl.String}
SUBS_SCHEMA = {"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64}


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def accounts(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame([(a, s, None) for a, s in rows], schema=ACC_SCHEMA, orient="row")


def stream(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame([(*r, "events") for r in rows], schema=STREAM_SCHEMA, orient="row")


# ---------------------------------------------------------------- activation
ACCOUNTS = accounts(
    [
        ("a", ts(2024, 1, 1)),  # activates exactly at the 14 × 24 h bound → counts
        ("b", ts(2024, 1, 1)),  # 1 µs after the bound → does not
        ("c", ts(2024, 1, 10)),  # only an event before signup → does not
        ("d", ts(2024, 1, 20)),  # event at the signup instant → counts
        ("e", ts(2024, 3, 5)),  # activates; cohort not complete (Mar 19 > Mar 10)
        ("f", None),  # a lead that never signed up
        ("g", ts(2023, 12, 31)),  # signed up before the period
    ]
)
STREAM = stream(
    [
        ("a", "report", ts(2024, 1, 15)),
        ("b", "report", dt.datetime(2024, 1, 15, 0, 0, 0, 1, tzinfo=UTC)),
        ("c", "report", ts(2024, 1, 9)),
        ("d", "report", ts(2024, 1, 20)),
        ("e", "report", ts(2024, 3, 6)),
        ("g", "report", ts(2024, 1, 2)),
        (None, "report", ts(2024, 1, 2)),  # anonymous: never an account
        ("c", "login", ts(2024, 3, 10)),  # the data's latest timestamp
    ]
)


def test_activation_hand_computed(constructor):
    # Jan: a, b, c, d → a and d activated (2/4). Feb: no signups, no row. Mar: e (1/1).
    # Overall 3/5. Jan complete (Jan 20 + 14 d = Feb 3 ≤ Mar 10); Mar not (Mar 19 > Mar 10).
    out = activation(
        constructor(ACCOUNTS),
        constructor(STREAM),
        period=("2024-01", "2024-03"),
        event="report",
        within_days=14,
    )
    assert out["activation_rate"] == pytest.approx(0.6)
    assert (out["signups"], out["activated"]) == (5, 3)
    assert out["cohorts"].rows() == [
        ("2024-01", 4, 2, 0.5, True),
        ("2024-03", 1, 1, 1.0, False),
    ]
    assert out["cohorts"].schema == {
        "cohort": pl.String,
        "size": pl.Int64,
        "activated": pl.Int64,
        "activation_rate": pl.Float64,
        "complete": pl.Boolean,
    }


def test_activation_window_bound_is_inclusive_to_the_microsecond(constructor):
    acc = accounts([("a", ts(2024, 1, 1, 12)), ("b", ts(2024, 1, 1, 12))])
    ev = stream(
        [
            ("a", "go", ts(2024, 1, 3, 12)),  # exactly 2 × 24 h later
            ("b", "go", dt.datetime(2024, 1, 3, 12, 0, 0, 1, tzinfo=UTC)),  # + 1 µs
        ]
    )
    out = activation(
        constructor(acc), constructor(ev), period=("2024-01", "2024-01"), event="go", within_days=2
    )
    assert out["activation_rate"] == 0.5


def test_activation_fractional_window(constructor):
    # within_days = 0.5 → 12 h; 11 h counts, 13 h does not.
    acc = accounts([("a", ts(2024, 1, 1)), ("b", ts(2024, 1, 1))])
    ev = stream([("a", "go", ts(2024, 1, 1, 11)), ("b", "go", ts(2024, 1, 1, 13))])
    out = activation(
        constructor(acc),
        constructor(ev),
        period=("2024-01", "2024-01"),
        event="go",
        within_days=0.5,
    )
    assert out["activation_rate"] == 0.5


def test_activation_cohort_complete_when_window_ends_exactly_at_data_end(constructor):
    acc = accounts([("a", ts(2024, 1, 1)), ("b", ts(2024, 1, 2))])
    ev = stream([("a", "login", ts(2024, 1, 16))])  # b's window ends Jan 16 00:00 = data end
    out = activation(
        constructor(acc), constructor(ev), period=("2024-01", "2024-01"), event="go", within_days=14
    )
    assert out["cohorts"]["complete"].to_list() == [True]
    ev2 = stream([("a", "login", dt.datetime(2024, 1, 15, 23, 59, 59, tzinfo=UTC))])
    out2 = activation(
        constructor(acc),
        constructor(ev2),
        period=("2024-01", "2024-01"),
        event="go",
        within_days=14,
    )
    assert out2["cohorts"]["complete"].to_list() == [False]
    assert out2["activation_rate"] == 0.0


def test_activation_zero_signups_is_null(constructor):
    out = activation(
        constructor(ACCOUNTS),
        constructor(STREAM),
        period=("2025-01", "2025-02"),
        event="report",
        within_days=14,
    )
    assert out["activation_rate"] is None
    assert out["cohorts"].height == 0
    assert out["cohorts"].columns == ["cohort", "size", "activated", "activation_rate", "complete"]


def test_activation_counts_one_account_once(constructor):
    acc = accounts([("a", ts(2024, 1, 1))])
    ev = stream([("a", "go", ts(2024, 1, 2)), ("a", "go", ts(2024, 1, 3))])
    out = activation(
        constructor(acc), constructor(ev), period=("2024-01", "2024-01"), event="go", within_days=7
    )
    assert out["cohorts"].rows() == [("2024-01", 1, 1, 1.0, False)]


# ---------------------------------------------------------------- time to first value
TTFV_ACCOUNTS = accounts(
    [
        ("a", ts(2024, 2, 1)),
        ("b", ts(2024, 2, 1)),
        ("c", ts(2024, 2, 1)),
        ("d", ts(2024, 2, 10)),
        ("e", ts(2024, 2, 10)),
        ("z", ts(2024, 4, 1)),  # outside the period
    ]
)
TTFV_STREAM = stream(
    [
        ("a", "value", ts(2024, 2, 6)),  # later one: the first (+1 d) counts
        ("a", "value", ts(2024, 2, 2)),
        ("b", "value", ts(2024, 2, 3)),  # +2 d
        ("c", "value", ts(2024, 2, 5)),  # +4 d
        ("d", "value", ts(2024, 2, 9)),  # before signup: d never reached it
        ("z", "value", ts(2024, 4, 2)),
    ]
)


def test_time_to_first_value_hand_computed(constructor):
    # days of the reached: [1, 2, 4]; median 2; p75: position 1.5 → 2 + 0.5 × 2 = 3;
    # p90: position 1.8 → 2 + 0.8 × 2 = 3.6; reached 3 of 5 signups.
    out = time_to_first_value(
        constructor(TTFV_ACCOUNTS),
        constructor(TTFV_STREAM),
        period=("2024-02", "2024-03"),
        event="value",
    )
    assert out["median"] == pytest.approx(2.0)
    assert out["p75"] == pytest.approx(3.0)
    assert out["p90"] == pytest.approx(3.6)
    assert out["reached_share"] == pytest.approx(0.6)
    assert (out["reached"], out["signups"]) == (3, 5)


def test_first_value_times_per_account(constructor):
    out = first_value_times(
        constructor(TTFV_ACCOUNTS),
        constructor(TTFV_STREAM),
        period=("2024-02", "2024-03"),
        event="value",
    )
    assert out.columns == ["account_id", "signup_at", "reached_at", "days"]
    assert out.select("account_id", "reached_at", "days").rows() == [
        ("a", ts(2024, 2, 2), 1.0),
        ("b", ts(2024, 2, 3), 2.0),
        ("c", ts(2024, 2, 5), 4.0),
        ("d", None, None),
        ("e", None, None),
    ]


def test_first_value_days_are_fractional(constructor):
    acc = accounts([("a", ts(2024, 1, 1))])
    ev = stream([("a", "value", ts(2024, 1, 1, 6))])
    out = time_to_first_value(
        constructor(acc), constructor(ev), period=("2024-01", "2024-01"), event="value"
    )
    assert out["median"] == pytest.approx(0.25)


def test_time_to_first_value_zero_signups_and_nobody_reached(constructor):
    none = time_to_first_value(
        constructor(TTFV_ACCOUNTS),
        constructor(TTFV_STREAM),
        period=("2023-01", "2023-02"),
        event="value",
    )
    assert none == {
        "median": None,
        "p75": None,
        "p90": None,
        "reached_share": None,
        "reached": 0,
        "signups": 0,
    }
    nobody = time_to_first_value(
        constructor(TTFV_ACCOUNTS),
        constructor(TTFV_STREAM),
        period=("2024-02", "2024-03"),
        event="other",
    )
    assert nobody["median"] is None and nobody["reached_share"] == 0.0


# ---------------------------------------------------------------- engagement
def subs(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SUBS_SCHEMA, orient="row")


@pytest.mark.parametrize("with_accounts", [False, True], ids=["text-keys", "accounts-given"])
def test_engagement_scores_percentile_rank(constructor, with_accounts):
    weights = {"login": 1, "invite": 5}
    ev = stream(
        [
            ("a", "login", ts(2024, 1, 2)),
            ("a", "login", ts(2024, 1, 3)),
            ("a", "invite", ts(2024, 1, 4)),  # a: 1 + 1 + 5 = 7
            ("a", "page", ts(2024, 1, 4)),  # unlisted: weight 0
            ("b", "login", ts(2024, 1, 5)),  # b: 1
            ("c", "login", ts(2024, 1, 6)),  # c: 1 (tie with b)
            ("e", "invite", ts(2024, 1, 6)),  # e does not pay: not scored
            (None, "invite", ts(2024, 1, 6)),  # anonymous
            ("a", "login", ts(2024, 2, 1)),  # Feb: a alone
            ("a", "invite", ts(2024, 3, 1)),  # Mar: outside the period
        ]
    )
    sb = subs(
        [
            ("a", dt.date(2024, 1, 1), 10.0),
            ("b", dt.date(2024, 1, 1), 10.0),
            ("c", dt.date(2024, 1, 1), 10.0),
            ("d", dt.date(2024, 1, 1), 10.0),  # d: no events → 0
            ("e", dt.date(2024, 1, 1), 0.0),
            ("a", dt.date(2024, 2, 1), 10.0),
            ("a", dt.date(2024, 3, 1), 10.0),
        ]
    )
    # Given the accounts, polars frames group by integer account keys (metrics._keys).
    acc = accounts([(a, ts(2024, 1, 1)) for a in "abcde"]) if with_accounts else None
    out = engagement_scores(
        constructor(ev),
        constructor(sb),
        weights=weights,
        period=("2024-01", "2024-02"),
        accounts=None if acc is None else constructor(acc),
    )
    # Jan ranks (average ties): d 1, b/c 2.5, a 4 of n = 4 → 25, 62.5, 62.5, 100.
    assert out.rows() == [
        ("2024-01", "a", 7.0, 100.0),
        ("2024-01", "b", 1.0, 62.5),
        ("2024-01", "c", 1.0, 62.5),
        ("2024-01", "d", 0.0, 25.0),
        ("2024-02", "a", 1.0, 100.0),
    ]


def test_latest_engagement_is_the_mean_of_the_latest_paying_month(constructor):
    weights = {"login": 1, "invite": 5}
    ev = stream(
        [
            ("a", "login", ts(2024, 1, 2)),
            ("a", "invite", ts(2024, 2, 3)),  # Feb: a 5
            ("b", "login", ts(2024, 2, 4)),  # Feb: b 1
            ("a", "invite", ts(2024, 3, 1)),  # Mar: nobody pays
        ]
    )
    sb = subs(
        [
            ("a", dt.date(2024, 1, 1), 10.0),
            ("a", dt.date(2024, 2, 1), 10.0),
            ("b", dt.date(2024, 2, 1), 10.0),
            ("c", dt.date(2024, 2, 1), 10.0),  # c: no events → 0
            ("a", dt.date(2024, 3, 1), 0.0),
        ]
    )
    args = {"weights": weights, "period": ("2024-01", "2024-03")}
    # March has no paying account: February's mean, (5 + 1 + 0) / 3
    got = latest_engagement(constructor(ev), constructor(sb), **args)
    assert got == pytest.approx(2.0)
    every = engagement_scores(constructor(ev), constructor(sb), **args)
    last = every.filter(pl.col("month") == every["month"].max())
    assert got == last["raw_score"].mean()
    nobody = latest_engagement(
        constructor(ev), constructor(sb), weights=weights, period=("2024-03", "2024-03")
    )
    assert nobody is None


def test_engagement_scores_without_weights_all_tie(constructor):
    ev = stream([("a", "login", ts(2024, 1, 2))])
    sb = subs([("a", dt.date(2024, 1, 1), 1.0), ("b", dt.date(2024, 1, 1), 1.0)])
    out = engagement_scores(
        constructor(ev), constructor(sb), weights={}, period=("2024-01", "2024-01")
    )
    assert out.select("raw_score", "score").rows() == [(0.0, 75.0), (0.0, 75.0)]


# ---------------------------------------------------------------- properties
_day = st.integers(min_value=0, max_value=120)


@settings(max_examples=50, deadline=None)
@given(
    signups=st.lists(st.one_of(st.none(), _day), min_size=0, max_size=12),
    events=st.lists(st.tuples(st.integers(0, 11), _day, st.sampled_from(["go", "x"])), max_size=30),
    within=st.integers(1, 30),
)
def test_rates_are_fractions(signups, events, within):
    base = ts(2024, 1, 1)
    acc = accounts(
        [
            (f"a{i}", None if d is None else base + dt.timedelta(days=d))
            for i, d in enumerate(signups)
        ]
    )
    ev = stream([(f"a{i}", e, base + dt.timedelta(days=d)) for i, d, e in events])
    period = ("2024-01", "2024-04")
    out = activation(acc, ev, period=period, event="go", within_days=within)
    n = sum(d is not None for d in signups)
    if n == 0:
        assert out["activation_rate"] is None
    else:
        assert 0.0 <= out["activation_rate"] <= 1.0
        assert out["cohorts"]["size"].sum() == n
        assert out["cohorts"]["activation_rate"].is_between(0, 1).all()
    ttfv = time_to_first_value(acc, ev, period=period, event="go")
    assert ttfv["reached_share"] is None or 0.0 <= ttfv["reached_share"] <= 1.0
    if ttfv["median"] is not None:
        assert 0 <= ttfv["median"] <= ttfv["p75"] <= ttfv["p90"]
    sb = subs([(f"a{i}", dt.date(2024, 1 + i % 4, 1), 5.0) for i in range(len(signups))])
    eng = engagement_scores(ev, sb, weights={"go": 2, "x": 1}, period=period)
    assert eng["score"].is_between(0, 100, closed="right").all()
