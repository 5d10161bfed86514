"""The activation finder (analytics.md §9): hand-computed predictors, a reference, engine parity.

Every hand case runs on each engine of ``constructor`` (polars eager and lazy,
DuckDB). The cell counts of a predictor are written as (m, mr) = (accounts
meeting it, retained among them), with N accounts and R retained:
n11 = mr, n10 = m − mr, n01 = R − mr, n00 = N − m − n01 and
phi = (n11·n00 − n10·n01) / √(m·(N − m)·R·(N − R)).
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from journeylib.metrics.activation import activation_candidates

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")
ACC_SCHEMA = {"account_id": pl.String, "signup_at": TS}
EV_SCHEMA = {"account_id": pl.String, "event": pl.String, "timestamp": TS}
SUB_SCHEMA = {"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64}
H = dt.timedelta(hours=1)
D = dt.timedelta(days=1)
US = dt.timedelta(microseconds=1)


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def accounts(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=ACC_SCHEMA, orient="row")


def events(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=EV_SCHEMA, orient="row")


def subs(rows) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=SUB_SCHEMA, orient="row")


def candidate(event, times, days, m, mr, n=30, r=6) -> dict:
    """The expected record of a predictor met by m accounts, mr of them retained."""
    n11, n10, n01 = mr, m - mr, r - mr
    n00 = n - m - n01
    return {
        "event": event,
        "times": times,
        "days": days,
        "share": m / n,
        "precision": mr / m,
        "recall": mr / r,
        "phi": (n11 * n00 - n10 * n01) / math.sqrt(m * (n - m) * r * (n - r)),
    }


def assert_candidates(got: list[dict], expected: list[dict]) -> None:
    """The same predictors in the same order, the numbers to 1e-12."""
    assert [(c["event"], c["times"], c["days"]) for c in got] == [
        (c["event"], c["times"], c["days"]) for c in expected
    ]
    for g, e in zip(got, expected, strict=True):
        assert set(g) == set(e)
        for key in ("share", "precision", "recall", "phi"):
            assert g[key] == pytest.approx(e[key], rel=1e-12, abs=1e-15), (g, key)


# ---------------------------------------------------------------- with subscriptions
# 30 signups of January 2024 (period 2024-01:2024-02); the subscriptions table ends in
# April, so January's month + 3 = April is seen. a00 … a05 pay in April (R = 6).
IDS = [f"a{i:02d}" for i in range(30)]
SIGNUP = dict.fromkeys(IDS, ts(2024, 1, 1))
SIGNUP["a01"] = ts(2024, 1, 10, 12)  # windows are relative to each signup
SIGNUP["a02"] = ts(2024, 1, 31, 23)  # month + 3 = April: still seen
ACCOUNTS = accounts(
    [(a, s) for a, s in SIGNUP.items()]
    + [
        ("z_late", ts(2024, 2, 5)),  # Feb + 3 = May, after the table's last month: not counted
        ("x_old", ts(2023, 12, 15)),  # before the period
        ("n_lead", None),  # never signed up
    ]
)


def at(account: str, offset: dt.timedelta, event: str) -> tuple:
    start = SIGNUP.get(account) or {"z_late": ts(2024, 2, 5), "x_old": ts(2023, 12, 15)}[account]
    return (account, event, start + offset)


EVENTS = events(
    [at(a, 0 * H, "signed_up") for a in [*IDS, "z_late", "x_old"]]  # everyone: left out
    + [
        # invite: a00 twice on day 1, a01 twice by day 3, a02 once on day 10, a10 once in 12 h
        at("a00", 1 * H, "invite"),
        at("a00", 2 * H, "invite"),
        at("a01", 3 * D, "invite"),
        at("a01", 3 * D + H, "invite"),
        at("a02", 10 * D, "invite"),
        at("a10", 12 * H, "invite"),
        (None, "invite", ts(2024, 1, 1, 1)),  # nobody's
        # export: exactly 7 × 24 h after signup (inside d = 7), and 1 µs later (outside)
        at("a03", 7 * D, "export"),
        at("a11", 7 * D + US, "export"),
        # report and comment
        at("a04", 2 * D, "report"),
        at("a05", 2 * D, "report"),
        at("a13", 20 * D, "report"),
        at("a04", 3 * D, "comment"),
        at("a05", 3 * D, "comment"),
        # webinar: a06 before its signup (seen, never within), a14 within 23 h
        at("a06", -5 * D, "webinar"),
        at("a14", 23 * H, "webinar"),
        # rare: only a00 of the cohort (1 of 30 < 5 %); the others are not in the cohort
        at("a00", 1 * H, "rare"),
        at("z_late", 1 * H, "rare"),
        at("x_old", 1 * H, "rare"),
    ]
)
SUBS = subs(
    [(a, dt.date(2024, 4, 1), 10.0) for a in IDS[:6]]
    + [
        ("a06", dt.date(2024, 4, 1), 0.0),  # a row with MRR 0: not paid
        ("a07", dt.date(2024, 3, 1), 10.0),  # paid in month + 2, not + 3
        ("z_late", dt.date(2024, 4, 1), 10.0),
        ("x_old", dt.date(2024, 3, 1), 10.0),
    ]
    + [(a, dt.date(2024, 1, 1), 10.0) for a in IDS]
)
PERIOD = ("2024-01", "2024-02")

# N = 30, R = 6 (a00 … a05). √(R(N − R)) = √144 = 12. Cell counts of each predictor:
#   A (m 4, mr 3): 66 / √(4·26·144)  ≈ 0.53932  share 4/30, precision 3/4, recall 3/6
#   B (m 2, mr 2): 48 / √(2·28·144)  ≈ 0.53452  share 2/30, precision 1,   recall 2/6
#   C (m 3, mr 2): 42 / √(3·27·144) = 42/108 ≈ 0.38889   precision 2/3, recall 2/6
#   D (m 1, mr 1): 24 / √(1·29·144)  ≈ 0.37139  precision 1,   recall 1/6
#   E (m 2, mr 1): 18 / √(2·28·144)  ≈ 0.20045  precision 1/2, recall 1/6
#   F (m 1, mr 0): −6 / √(1·29·144)  ≈ −0.09285 precision 0,   recall 0
# invite: n1 d1 = {a00, a10} E; n1 d7 = {a00, a01, a10} C; n1 d14 = d30 = + a02: A;
#         n2 d1 = {a00} D; n2 d7 = d14 = d30 = {a00, a01} B; n ≥ 3: nobody (left out).
# export: d1 nobody; n1 d7 = {a03} D (the exact bound counts); n1 d14 = d30 = {a03, a11} E.
# report: n1 d7 = d14 = {a04, a05} B; n1 d30 = + a13: C.   comment: n1 d7, d14, d30: B.
# webinar (seen by a06 and a14: 2 × 20 ≥ 30): n1 any d = {a14} F; a06's is before signup.
# rare: seen by 1 (1 × 20 < 30): left out. signed_up: met by all (n 1) or none: left out.
EXPECTED = [
    candidate("invite", 1, 14, 4, 3),  # A
    candidate("invite", 1, 30, 4, 3),
    candidate("comment", 1, 7, 2, 2),  # B: fewer times, then fewer days, then name
    candidate("report", 1, 7, 2, 2),
    candidate("comment", 1, 14, 2, 2),
    candidate("report", 1, 14, 2, 2),
    candidate("comment", 1, 30, 2, 2),
    candidate("invite", 2, 7, 2, 2),
    candidate("invite", 2, 14, 2, 2),
    candidate("invite", 2, 30, 2, 2),
    candidate("invite", 1, 7, 3, 2),  # C
    candidate("report", 1, 30, 3, 2),
    candidate("export", 1, 7, 1, 1),  # D: 1 time before 2 times
    candidate("invite", 2, 1, 1, 1),
    candidate("invite", 1, 1, 2, 1),  # E: 1 day before 14 days
    candidate("export", 1, 14, 2, 1),
    candidate("export", 1, 30, 2, 1),
    candidate("webinar", 1, 1, 1, 0),  # F
    candidate("webinar", 1, 7, 1, 0),
    candidate("webinar", 1, 14, 1, 0),
    candidate("webinar", 1, 30, 1, 0),
]


def test_hand_computed_with_subscriptions(constructor):
    out = activation_candidates(
        constructor(ACCOUNTS), constructor(EVENTS), constructor(SUBS), period=PERIOD, top=100
    )
    assert (out["accounts"], out["retained"]) == (30, 6)
    assert_candidates(out["candidates"], EXPECTED)
    # the hand values, in words
    first = out["candidates"][0]
    assert first["phi"] == pytest.approx(0.5393193, abs=1e-7)
    assert first["share"] == pytest.approx(4 / 30) and first["precision"] == 0.75
    assert {c["event"] for c in out["candidates"]}.isdisjoint({"rare", "signed_up"})


def test_top_20_by_default_cuts_the_last_tie(constructor):
    out = activation_candidates(
        constructor(ACCOUNTS), constructor(EVENTS), constructor(SUBS), period=PERIOD
    )
    assert_candidates(out["candidates"], EXPECTED[:20])  # webinar 1× 30 d is the 21st
    out = activation_candidates(
        constructor(ACCOUNTS), constructor(EVENTS), constructor(SUBS), period=PERIOD, top=3
    )
    assert_candidates(out["candidates"], EXPECTED[:3])


def test_the_table_last_month_decides_what_is_seen(constructor):
    """A row of May (even with MRR 0) moves the table's end: z_late (Feb + 3 = May) counts."""
    longer = pl.concat([SUBS, subs([("a29", dt.date(2024, 5, 1), 0.0)])])
    out = activation_candidates(
        constructor(ACCOUNTS), constructor(EVENTS), constructor(longer), period=PERIOD, top=100
    )
    # z_late is seen and not retained (no May payment): N = 31, R = 6; rare is now seen
    # by a00 and z_late: 2 × 20 ≥ 31, n1 d1 = {a00, z_late}, m 2, mr 1
    assert (out["accounts"], out["retained"]) == (31, 6)
    rare = [c for c in out["candidates"] if c["event"] == "rare"]
    assert_candidates(rare, [candidate("rare", 1, d, 2, 1, n=31) for d in (1, 7, 14, 30)])
    # n11 1, n10 1, n01 5, n00 24: phi = (24 − 5) / √(2·29·6·25)
    assert rare[0]["phi"] == pytest.approx(19 / math.sqrt(8700), rel=1e-12)
    # a period of January only: z_late is no signup of it
    jan = activation_candidates(
        constructor(ACCOUNTS), constructor(EVENTS), constructor(longer), period=("2024-01",) * 2
    )
    assert (jan["accounts"], jan["retained"]) == (30, 6)


def test_nothing_seen_when_the_table_ends_too_early(constructor):
    short = SUBS.filter(pl.col("month") < dt.date(2024, 4, 1))  # ends in March
    out = activation_candidates(
        constructor(ACCOUNTS), constructor(EVENTS), constructor(short), period=PERIOD
    )
    assert out == {"accounts": 0, "retained": 0, "candidates": []}


def test_empty_subscriptions_table_nothing_seen(constructor):
    out = activation_candidates(
        constructor(ACCOUNTS), constructor(EVENTS), constructor(SUBS.head(0)), period=PERIOD
    )
    assert out == {"accounts": 0, "retained": 0, "candidates": []}


def test_constant_outcome_has_no_candidates(constructor):
    everyone = subs([(a, dt.date(2024, 4, 1), 5.0) for a in IDS])
    out = activation_candidates(
        constructor(ACCOUNTS), constructor(EVENTS), constructor(everyone), period=PERIOD
    )
    assert out == {"accounts": 30, "retained": 30, "candidates": []}


# ---------------------------------------------------------------- without subscriptions
S0 = ts(2024, 1, 1)  # + 60 d = 2024-03-01, + 90 d = 2024-03-31 (2024 is a leap year)
S4 = ts(2024, 1, 16)  # + 90 d = 2024-04-15 00:00, the data's end
NS_ACCOUNTS = accounts(
    [
        ("b0", S0),
        ("b1", S0),
        ("b2", S0),
        ("b3", S0),
        ("b4", S4),
        ("b5", S4 + US),  # + 90 d is 1 µs after the data's end: not counted
    ]
)
NS_EVENTS = events(
    [
        ("b0", "login", S0 + 60 * D),  # day 60 exactly: retained
        ("b1", "login", S0 + 90 * D),  # day 90 exactly: retained
        ("b2", "login", S0 + 60 * D - US),  # just before day 60
        ("b2", "login", S0 + 90 * D + US),  # just after day 90: not retained
        ("b4", "login", S4 + 90 * D),  # the data's end, day 90: retained
        ("b5", "login", S4 + 70 * D),  # would be retained, but b5 is not counted
        ("b0", "setup", S0 + 1 * H),
        ("b1", "setup", S0 + 2 * H),
        ("b3", "setup", S0 + 3 * H),
    ]
)
# N = 5 (b0 … b4), R = 3 (b0, b1, b4). setup, n1 and any d: met {b0, b1, b3}, m 3, mr 2:
# n11 2, n10 1, n01 1 (b4), n00 1 (b2): phi = (2·1 − 1·1) / √(3·2·3·2) = 1/6.
# login is never within 30 days of a signup: every login predictor is met by nobody.


def test_hand_computed_without_subscriptions(constructor):
    out = activation_candidates(
        constructor(NS_ACCOUNTS), constructor(NS_EVENTS), period=("2024-01", "2024-01")
    )
    assert (out["accounts"], out["retained"]) == (5, 3)
    expected = [candidate("setup", 1, d, 3, 2, n=5, r=3) for d in (1, 7, 14, 30)]
    assert_candidates(out["candidates"], expected)
    assert out["candidates"][0]["phi"] == pytest.approx(1 / 6)
    assert out["candidates"][0]["share"] == pytest.approx(0.6)


def test_an_anonymous_later_event_moves_the_data_end(constructor):
    """The data's end is the latest raw event, an account's or not: b5 becomes seen."""
    later = pl.concat([NS_EVENTS, events([(None, "page_view", S4 + 90 * D + US)])])
    out = activation_candidates(
        constructor(NS_ACCOUNTS), constructor(later), period=("2024-01", "2024-01")
    )
    # N = 6, R = 4 (b5 active on day 70); setup m 3, mr 2: n11 2, n10 1, n01 2, n00 1 → phi 0
    assert (out["accounts"], out["retained"]) == (6, 4)
    expected = [candidate("setup", 1, d, 3, 2, n=6, r=4) for d in (1, 7, 14, 30)]
    assert_candidates(out["candidates"], expected)
    assert out["candidates"][0]["phi"] == 0.0


def test_no_events_nothing_seen(constructor):
    out = activation_candidates(
        constructor(NS_ACCOUNTS), constructor(NS_EVENTS.head(0)), period=("2024-01", "2024-01")
    )
    assert out == {"accounts": 0, "retained": 0, "candidates": []}


# ---------------------------------------------------------------- a reference implementation
TIMES, DAYS = (1, 2, 3, 5, 10), (1, 7, 14, 30)


def _midx(d: dt.date) -> int:
    return d.year * 12 + d.month - 1


def reference(acc_rows, ev_rows, sub_rows, period, top=20) -> dict:
    """analytics.md §9 read literally, in plain Python over lists of tuples."""
    first, last = (int(p[:4]) * 12 + int(p[5:7]) - 1 for p in period)
    cohort = {a: s for a, s in acc_rows if s is not None and first <= _midx(s) <= last}
    if sub_rows is not None:
        last_sub = max((_midx(m) for _, m, _ in sub_rows), default=None)
        cohort = {
            a: s for a, s in cohort.items() if last_sub is not None and _midx(s) + 3 <= last_sub
        }
        retained = {
            a
            for a, s in cohort.items()
            if any(x == a and _midx(m) == _midx(s) + 3 and mrr > 0 for x, m, mrr in sub_rows)
        }
    else:
        end = max((t for _, _, t in ev_rows), default=None)
        cohort = {a: s for a, s in cohort.items() if end is not None and s + 90 * D <= end}
        retained = {
            a
            for a, s in cohort.items()
            if any(x == a and s + 60 * D <= t <= s + 90 * D for x, _, t in ev_rows)
        }
    n, r = len(cohort), len(retained)
    out = {"accounts": n, "retained": r, "candidates": []}
    if n == 0:
        return out
    names = sorted({e for a, e, _ in ev_rows if a in cohort})
    found = []
    for e in names:
        seen = {a for a, x, _ in ev_rows if x == e and a in cohort}
        if len(seen) / n < 0.05:
            continue
        for times in TIMES:
            for days in DAYS:
                met = {
                    a
                    for a, s in cohort.items()
                    if sum(1 for x, y, t in ev_rows if x == a and y == e and s <= t <= s + days * D)
                    >= times
                }
                ids = sorted(cohort)
                xs = [float(a in met) for a in ids]
                ys = [float(a in retained) for a in ids]
                if len(set(xs)) < 2 or len(set(ys)) < 2:
                    continue  # constant on either side
                m, mr = len(met), len(met & retained)
                n11, n10, n01 = mr, m - mr, r - mr
                n00 = n - m - n01
                phi = (n11 * n00 - n10 * n01) / math.sqrt(m * (n - m) * r * (n - r))
                # it is the Pearson correlation of the two 0/1 variables
                mx, my = sum(xs) / n, sum(ys) / n
                cov = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True))
                vx = sum((x - mx) ** 2 for x in xs)
                vy = sum((y - my) ** 2 for y in ys)
                assert phi == pytest.approx(cov / math.sqrt(vx * vy), abs=1e-12)
                # the order compares phi exactly: two predictors whose phi is
                # mathematically equal tie (and the tie rule orders them) even
                # when their floats differ in the last bit
                num = n11 * n00 - n10 * n01
                exact = (1 if num >= 0 else -1) * Fraction(num**2, m * (n - m) * r * (n - r))
                found.append(
                    (
                        exact,
                        {
                            "event": e,
                            "times": times,
                            "days": days,
                            "share": m / n,
                            "precision": mr / m,
                            "recall": mr / r,
                            "phi": phi,
                        },
                    )
                )
    found.sort(key=lambda x: (-x[0], x[1]["times"], x[1]["days"], x[1]["event"]))
    out["candidates"] = [c for _, c in found[:top]]
    return out


# offsets from signup that sit on the bounds the definition draws, and some anywhere
_BOUNDS = [k * D + e for k in (-1, 0, 1, 7, 14, 30, 60, 90) for e in (-US, 0 * US, US)]
offsets = st.one_of(
    st.sampled_from(_BOUNDS),
    st.integers(-2 * 86_400, 100 * 86_400).map(lambda s: dt.timedelta(seconds=s)),
)
SIGNUP_DAYS = [ts(2023, 12, 20), ts(2024, 1, 1), ts(2024, 1, 31, 23), ts(2024, 2, 14), None]


@st.composite
def clients(draw, with_subs: bool):
    n = draw(st.one_of(st.integers(1, 12), st.integers(21, 30)))  # > 20: the 5 % rule bites
    # some sign up before the period, some never
    acc = [(f"u{i:02d}", draw(st.sampled_from(SIGNUP_DAYS))) for i in range(n)]
    ev = []
    for a, s in acc:
        base = s or ts(2024, 1, 5)
        for _ in range(draw(st.integers(0, 4))):
            ev.append((a, draw(st.sampled_from(["a", "b", "c", "d"])), base + draw(offsets)))
    for _ in range(draw(st.integers(0, 2))):
        ev.append((None, "a", ts(2024, 1, 1) + draw(offsets)))
    sub = None
    if with_subs:
        months = [dt.date(2024, m, 1) for m in range(1, 7)]
        sub = [
            (a, m, draw(st.sampled_from([0.0, 10.0])))
            for a, _ in acc
            for m in months
            if draw(st.booleans())
        ]
    return acc, ev, sub


def _frames(acc, ev, sub):
    return accounts(acc), events(ev), None if sub is None else subs(sub)


# Found by the test: in 2023-12:2024-01, "a" and "b" have mathematically equal phis
# whose floats differ in the last bit; the tie rule (times, days, event) orders them.
_X, _Y, _Z = (
    ts(2023, 12, 18, 23, 59, 59, 999999),
    ts(2023, 12, 30, 23, 59, 59, 999999),
    ts(2023, 12, 20),
)
EQUAL_PHIS = (
    [(f"u{i:02d}", ts(2024, 1, 1) if i in (2, 3, 4) else _Z) for i in range(10)],
    [("u00", "a", _X)] * 3
    + [("u01", "a", _X)] * 2
    + [("u02", "a", _Y)] * 3
    + [("u03", "a", _Y)] * 3
    + [("u03", "b", ts(2024, 1, 1)), ("u04", "a", _Y), ("u05", "a", _X), ("u05", "a", _X)]
    + [("u06", "b", _Z), ("u06", "a", _X), ("u07", "b", _Z), ("u08", "a", _X)]
    + [("u08", "a", _Z), ("u08", "b", _Z), ("u09", "b", _Z)],
    [(a, dt.date(2024, 4, 1), 10.0) for a in ("u02", "u03", "u04")],
)


@settings(max_examples=60, deadline=None)
@given(data=st.one_of(clients(with_subs=True), clients(with_subs=False)))
@example(data=EQUAL_PHIS)
def test_matches_the_reference(data):
    acc, ev, sub = data
    a, e, s = _frames(acc, ev, sub)
    for period in [("2024-01", "2024-02"), ("2023-12", "2024-01")]:
        got = activation_candidates(a, e, s, period=period)
        want = reference(acc, ev, sub, period)
        assert (got["accounts"], got["retained"]) == (want["accounts"], want["retained"])
        assert_candidates(got["candidates"], want["candidates"])
        for c in got["candidates"]:  # the invariants of the definition
            assert 0 < c["share"] < 1 and 0 <= c["precision"] <= 1 and 0 <= c["recall"] <= 1
            assert -1 <= c["phi"] <= 1
        # non-increasing; equal phis tie exactly, so their floats may differ in the last bit
        phis = [c["phi"] for c in got["candidates"]]
        assert all(a >= b - 1e-12 for a, b in itertools.pairwise(phis))


# ---------------------------------------------------------------- engine parity
@pytest.fixture(scope="module")
def duck(_duckdb_con):
    return _duckdb_con  # tests/conftest.py's session connection, in UTC


@settings(max_examples=30, deadline=None)
@given(data=st.one_of(clients(with_subs=True), clients(with_subs=False)))
def test_same_answer_on_polars_lazy(data):
    a, e, s = _frames(*data)
    eager = activation_candidates(a, e, s, period=("2024-01", "2024-02"))
    lazy = activation_candidates(
        a.lazy(), e.lazy(), None if s is None else s.lazy(), period=("2024-01", "2024-02")
    )
    assert lazy == eager


@settings(max_examples=20, deadline=None)
@given(data=st.one_of(clients(with_subs=True), clients(with_subs=False)))
@example(data=(ACCOUNTS.rows(), EVENTS.rows(), SUBS.rows()))
@example(data=(NS_ACCOUNTS.rows(), NS_EVENTS.rows(), None))
def test_same_answer_on_duckdb(duck, data):
    a, e, s = _frames(*data)
    eager = activation_candidates(a, e, s, period=("2024-01", "2024-02"))

    def db(df):
        return duck.from_arrow(df.to_arrow())

    on_duck = activation_candidates(
        db(a), db(e), None if s is None else db(s), period=("2024-01", "2024-02")
    )
    assert (on_duck["accounts"], on_duck["retained"]) == (eager["accounts"], eager["retained"])
    assert_candidates(on_duck["candidates"], eager["candidates"])


def test_equal_phis_follow_the_tie_rule_not_float_noise():
    """x (16 did it, 8 retained) and y (11, 6) have the same phi, sqrt(400/11)/sqrt(800), of 60
    sign-ups with 20 retained; as floats they differ in the last bit, and the rule orders them."""
    signup = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    ids = [f"a{i:02d}" for i in range(60)]
    accounts = pl.DataFrame({"account_id": ids, "signup_at": [signup] * 60})
    retained = ids[:20]
    did_x = ids[:8] + ids[20:28]  # 8 retained, 8 not
    did_y = ids[8:14] + ids[28:33]  # 6 retained, 5 not
    events = pl.DataFrame(
        {
            "account_id": did_x + did_y,
            "event": ["x"] * len(did_x) + ["y"] * len(did_y),
            "timestamp": [signup] * (len(did_x) + len(did_y)),
        }
    )
    subs = pl.DataFrame(
        {"account_id": retained, "month": [dt.date(2024, 4, 1)] * 20, "mrr": [5.0] * 20}
    )
    out = activation_candidates(accounts, events, subs, period=("2024-01", "2024-01"))
    got = [(c["event"], c["days"]) for c in out["candidates"]]
    # all eight tie on phi: fewer days first, then the event name (y's float is the larger one)
    assert got == [(e, d) for d in (1, 7, 14, 30) for e in ("x", "y")]
    assert out["candidates"][0]["phi"] < out["candidates"][1]["phi"]  # the floats differ
