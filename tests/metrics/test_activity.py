"""Lifecycle and stickiness (analytics.md § 1 and § 2), on raw events and on the account_days mart."""

from __future__ import annotations

import calendar
import datetime as dt

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from journeylib.errors import ConfigError
from journeylib.metrics.activity import lifecycle, lifecycle_json, stickiness, stickiness_rows

TS = pl.Datetime("us", "UTC")
COLUMNS = ["new", "returning", "resurrecting", "dormant"]


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=dt.UTC)


def events(rows) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"account_id": pl.String, "timestamp": TS, "event": pl.String}, orient="row"
    )


def mart(raw: pl.DataFrame, *, keyed: bool = False) -> pl.DataFrame:
    """The account_days mart of raw events (with the store's integer account_key when ``keyed``)."""
    days = (
        raw.filter(pl.col("account_id").is_not_null())
        .group_by("account_id", pl.col("timestamp").dt.date().alias("day"))
        .agg(pl.len().cast(pl.Int64).alias("events"))
        .sort("account_id", "day")
    )
    if keyed:
        key = (pl.col("account_id").rank("dense") - 1).cast(pl.UInt32).alias("account_key")
        days = days.select(key, "account_id", "day", "events")
    return days


def columns(frame: pl.DataFrame) -> dict[str, list[int]]:
    return {c: frame[c].to_list() for c in COLUMNS}


# ---------------------------------------------------------------- lifecycle: the check case
CHECK = events(
    [("p1", ts(2020, 1, d, 10), "login") for d in (11, 12, 13, 15, 17, 19)]
    + [("p2", ts(2020, 1, d, 23, 59), "login") for d in (9, 12)]
    + [("p3", ts(2020, 1, 12), "login"), ("p4", ts(2020, 1, 15, 8), "login")]
    + [(None, ts(2020, 1, 14), "page_view")]  # no account: not activity
)


@pytest.mark.parametrize("source", ["raw", "mart", "keyed_mart"])
def test_lifecycle_check_case_of_the_spec(constructor, source):
    data = {"raw": CHECK, "mart": mart(CHECK), "keyed_mart": mart(CHECK, keyed=True)}[source]
    out = lifecycle(constructor(data), period=("2020-01", "2020-01"), interval="day")
    assert out.height == 31 and out["start"][0] == "2020-01-01" and out["start"][-1] == "2020-01-31"
    jan = out.filter(pl.col("start").is_between(pl.lit("2020-01-12"), pl.lit("2020-01-19")))
    assert jan["start"].to_list() == [f"2020-01-{d}" for d in range(12, 20)]
    assert columns(jan) == {
        "new": [1, 0, 0, 1, 0, 0, 0, 0],
        "returning": [1, 1, 0, 0, 0, 0, 0, 0],
        "resurrecting": [1, 0, 0, 1, 0, 1, 0, 1],
        "dormant": [0, -2, -1, 0, -2, 0, -1, 0],
    }
    assert out.schema == {
        "start": pl.String,
        "new": pl.Int64,
        "returning": pl.Int64,
        "resurrecting": pl.Int64,
        "dormant": pl.Int64,
    }


def test_lifecycle_counts_activity_before_the_period(constructor):
    # p1's Jan 31 counts as b − 1 of Feb 1 (returning), p2's Jan 5 as "active before b − 1"
    # (resurrecting), p3's Jan 31 makes it dormant on Feb 1.
    raw = events(
        [
            ("p1", ts(2020, 1, 31, 23, 59, 59), "login"),
            ("p1", ts(2020, 2, 1), "login"),
            ("p2", ts(2020, 1, 5), "login"),
            ("p2", ts(2020, 2, 1, 12), "login"),
            ("p3", ts(2020, 1, 31), "login"),  # dormant on Feb 1
            ("p4", ts(2020, 2, 2), "login"),
        ]
    )
    out = lifecycle(constructor(raw), period=("2020-02", "2020-02"), interval="day")
    assert out.height == 29
    assert out.head(3).rows() == [
        ("2020-02-01", 0, 1, 1, -1),
        ("2020-02-02", 1, 0, 0, -2),
        ("2020-02-03", 0, 0, 0, -1),
    ]


# ---------------------------------------------------------------- lifecycle: weeks and months
WEEKLY = events(
    [
        ("a", ts(2019, 12, 20), "login"),  # week of Dec 16, before the period
        ("a", ts(2019, 12, 31), "login"),  # week of Dec 30 (Tuesday): the period's first week
        ("b", ts(2019, 12, 27), "login"),  # week of Dec 23 = b − 1 of the first week
        ("b", ts(2020, 1, 6), "login"),  # Monday Jan 6
        ("c", ts(2020, 1, 12, 23, 59), "report"),  # Sunday Jan 12: still the week of Jan 6
        ("a", ts(2020, 1, 13), "login"),
        ("c", ts(2020, 1, 14), "login"),
        ("c", ts(2020, 1, 20), "login"),
        ("b", ts(2020, 2, 1), "login"),  # Saturday after the period, in the week of Jan 27
        ("d", ts(2020, 2, 3), "login"),  # week of Feb 3: after the period's last week
    ]
)


def test_lifecycle_by_iso_week(constructor):
    out = lifecycle(constructor(WEEKLY), period=("2020-01", "2020-01"))
    # Weeks of Dec 30, Jan 6, 13, 20, 27 (the last reaching into February).
    assert out["start"].to_list() == [
        "2019-12-30",
        "2020-01-06",
        "2020-01-13",
        "2020-01-20",
        "2020-01-27",
    ]
    # Dec 30: a resurrects (Dec 16 before, not Dec 23); b (Dec 23) goes dormant.
    # Jan 6: b resurrects, c new, a dormant. Jan 13: a resurrects, c returns, b dormant.
    # Jan 20: c returns, a dormant. Jan 27: b resurrects (Feb 1), c dormant.
    assert columns(out) == {
        "new": [0, 1, 0, 0, 0],
        "returning": [0, 0, 1, 1, 0],
        "resurrecting": [1, 1, 1, 0, 1],
        "dormant": [-1, -1, -1, -1, -1],
    }
    assert columns(lifecycle(constructor(mart(WEEKLY)), period=("2020-01", "2020-01"))) == (
        columns(out)
    )


def test_lifecycle_by_month(constructor):
    out = lifecycle(constructor(WEEKLY), period=("2019-12", "2020-03"), interval="month")
    # Dec: a, b new. Jan: a, b, c (c new). Feb: b, d (d new). Mar: nobody.
    assert out.rows() == [
        ("2019-12", 2, 0, 0, 0),
        ("2020-01", 1, 2, 0, 0),
        ("2020-02", 1, 1, 0, -2),
        ("2020-03", 0, 0, 0, -2),
    ]


def test_lifecycle_events_filter(constructor):
    # Only reports are activity: c's first report on Jan 12 is new; every login is ignored.
    out = lifecycle(
        constructor(WEEKLY), period=("2020-01", "2020-01"), interval="week", events=["report"]
    )
    assert columns(out) == {
        "new": [0, 1, 0, 0, 0],
        "returning": [0, 0, 0, 0, 0],
        "resurrecting": [0, 0, 0, 0, 0],
        "dormant": [0, 0, -1, 0, 0],
    }
    both = lifecycle(constructor(WEEKLY), period=("2020-01", "2020-01"), events=["login", "report"])
    assert both.equals(lifecycle(constructor(WEEKLY), period=("2020-01", "2020-01")))


def test_lifecycle_json_shape(constructor):
    out = lifecycle(constructor(WEEKLY), period=("2020-01", "2020-01"), interval="month")
    assert lifecycle_json(out, "month") == {
        "interval": "month",
        "buckets": [
            {"start": "2020-01", "new": 1, "returning": 2, "resurrecting": 0, "dormant": 0}
        ],
    }


def test_lifecycle_of_no_activity_is_all_zeros(constructor):
    out = lifecycle(constructor(WEEKLY), period=("2021-03", "2021-03"), interval="month")
    assert out.rows() == [("2021-03", 0, 0, 0, 0)]


# ---------------------------------------------------------------- errors
def test_unknown_event_is_a_one_line_config_error(constructor):
    with pytest.raises(ConfigError, match="'signup'") as err:
        lifecycle(constructor(WEEKLY), period=("2020-01", "2020-01"), events=["login", "signup"])
    assert "\n" not in str(err.value) and err.value.where == "events"


def test_an_event_of_anonymous_rows_only_is_known_but_not_activity(constructor):
    raw = WEEKLY.vstack(events([(None, ts(2020, 1, 8), "page_view")]))
    out = lifecycle(constructor(raw), period=("2020-01", "2020-01"), events=["page_view"])
    assert out.select(COLUMNS).sum().row(0) == (0, 0, 0, 0)


def test_bad_interval_is_a_config_error(constructor):
    with pytest.raises(ConfigError, match="unknown interval .*expected day, week or month"):
        lifecycle(constructor(WEEKLY), period=("2020-01", "2020-01"), interval="quarter")


def test_events_filter_on_the_mart_is_a_config_error(constructor):
    with pytest.raises(ConfigError, match="raw events"):
        lifecycle(constructor(mart(WEEKLY)), period=("2020-01", "2020-01"), events=["login"])


def test_missing_columns_are_a_config_error(constructor):
    with pytest.raises(ConfigError, match="missing columns"):
        stickiness(constructor(pl.DataFrame({"account_id": ["a"]})), period=("2020-01", "2020-01"))


# ---------------------------------------------------------------- stickiness
STICKY = events(
    [
        ("a", ts(2024, 2, 1, 0, 0), "login"),
        ("a", ts(2024, 2, 1, 23, 59), "login"),  # the same UTC day
        ("a", ts(2024, 2, 3), "login"),
        ("a", ts(2024, 2, 29, 12), "login"),
        ("b", ts(2024, 2, 3, 5), "login"),
        ("c", ts(2024, 1, 31, 23, 59, 59), "login"),  # January, before the period
        ("c", ts(2024, 4, 30), "login"),
        (None, ts(2024, 2, 5), "page_view"),
    ]
    + [("d", ts(2024, 4, d), "login") for d in range(1, 31)]
)


@pytest.mark.parametrize("source", ["raw", "mart", "keyed_mart"])
def test_stickiness_hand_computed(constructor, source):
    data = {"raw": STICKY, "mart": mart(STICKY), "keyed_mart": mart(STICKY, keyed=True)}[source]
    out = stickiness(constructor(data), period=("2024-02", "2024-04"))
    assert out["month"].to_list() == ["2024-02", "2024-03", "2024-04"]
    assert out["active_accounts"].to_list() == [2, 0, 2]
    # Feb: a on 3 days (1, 3, 29), b on 1 → days[0] = 1, days[2] = 1; 4 account-days / 29 / 2.
    # Mar: nobody → null. Apr: c on 1 day, d on all 30 → 31 account-days / 30 / 2.
    feb, mar, apr = out["days"].to_list()
    assert feb == [1, 0, 1] + [0] * 28
    assert mar == [0] * 31
    assert apr == [1] + [0] * 28 + [1, 0]
    assert out["dau_mau"].to_list() == pytest.approx([4 / 29 / 2, None, 31 / 30 / 2])
    assert out["dau_mau"][1] is None
    assert out.schema == {
        "month": pl.String,
        "active_accounts": pl.Int64,
        "dau_mau": pl.Float64,
        "days": pl.List(pl.Int64),
    }


def test_stickiness_rows_shape(constructor):
    rows = stickiness_rows(constructor(STICKY), period=("2024-03", "2024-03"))
    assert rows == [{"month": "2024-03", "active_accounts": 0, "dau_mau": None, "days": [0] * 31}]


# ---------------------------------------------------------------- properties
def _reference(raw: pl.DataFrame, period: tuple[str, str], interval: str) -> list[tuple]:
    """Lifecycle computed the slow way, from each bucket's set of active accounts."""

    def bucket(t: dt.datetime) -> str:
        d = t.date()
        if interval == "month":
            return d.strftime("%Y-%m")
        if interval == "week":
            d -= dt.timedelta(days=d.weekday())
        return d.isoformat()

    active: dict[str, set[str]] = {}
    for a, t in (
        raw.filter(pl.col("account_id").is_not_null()).select("account_id", "timestamp").rows()
    ):
        active.setdefault(bucket(t), set()).add(a)
    y0, m0 = map(int, period[0].split("-"))
    y1, m1 = map(int, period[1].split("-"))
    day, end = dt.date(y0, m0, 1), dt.date(y1, m1, calendar.monthrange(y1, m1)[1])
    step = {"day": 1, "week": 7, "month": 1}[interval]
    if interval == "week":
        day -= dt.timedelta(days=day.weekday())
    starts = []
    while day <= end:
        starts.append(day)
        if interval == "month":
            day = (day.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        else:
            day += dt.timedelta(days=step)
    label = (lambda d: d.strftime("%Y-%m")) if interval == "month" else dt.date.isoformat
    before = starts[0] - dt.timedelta(days=1)
    prev_label = bucket(dt.datetime(before.year, before.month, before.day))
    out = []
    for s in starts:
        now, prev = active.get(label(s), set()), active.get(prev_label, set())
        earlier = set().union(*(v for k, v in active.items() if k < prev_label))
        new = {a for a in now if all(a not in v for k, v in active.items() if k < label(s))}
        out.append(
            (
                label(s),
                len(new),
                len(now & prev),
                len({a for a in now - prev if a in earlier and a not in new}),
                -len(prev - now),
            )
        )
        prev_label = label(s)
    return out


ACCOUNT = st.sampled_from(["a", "b", "c", "d", "e", None])
MOMENT = st.integers(0, 130 * 24 - 1).map(lambda h: ts(2023, 12, 1) + dt.timedelta(hours=h))
RAW = st.lists(st.tuples(ACCOUNT, MOMENT), max_size=40).map(
    lambda rows: events([(a, t, "login") for a, t in rows])
)
SLOW = settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@SLOW
@given(raw=RAW, interval=st.sampled_from(["day", "week", "month"]))
def test_lifecycle_matches_active_sets(constructor, raw, interval):
    period = ("2024-01", "2024-02")
    out = lifecycle(constructor(raw), period=period, interval=interval)
    assert out.rows() == _reference(raw, period, interval)
    # new + returning + resurrecting = accounts active in b; dormant = −(active in b − 1, not in b)
    every = {"day": "1d", "week": "1w", "month": "1mo"}[interval]
    start = pl.col("timestamp").dt.truncate(every).dt.date()
    sets = dict(
        raw.filter(pl.col("account_id").is_not_null())
        .group_by(start.alias("start"))
        .agg(pl.col("account_id").unique())
        .rows()
    )
    fmt = "%Y-%m" if interval == "month" else "%Y-%m-%d"
    sets = {d.strftime(fmt): set(ids) for d, ids in sets.items()}
    for row in out.iter_rows(named=True):
        now = sets.get(row["start"], set())
        prev = sets.get(_previous(row["start"], interval), set())
        assert row["new"] + row["returning"] + row["resurrecting"] == len(now)
        assert row["dormant"] == -len(prev - now)


def _previous(label: str, interval: str) -> str:
    """The label of bucket b − 1."""
    if interval == "month":
        y, m = map(int, label.split("-"))
        return f"{y - (m == 1):04d}-{(m - 2) % 12 + 1:02d}"
    step = dt.timedelta(days=7 if interval == "week" else 1)
    return (dt.date.fromisoformat(label) - step).isoformat()


@SLOW
@given(raw=RAW, interval=st.sampled_from(["day", "week", "month"]))
def test_raw_events_and_the_mart_agree(constructor, raw, interval):
    period = ("2024-01", "2024-03")
    from_raw = lifecycle(constructor(raw), period=period, interval=interval)
    assert lifecycle(constructor(mart(raw)), period=period, interval=interval).equals(from_raw)
    assert lifecycle(constructor(mart(raw, keyed=True)), period=period, interval=interval).equals(
        from_raw
    )
    sticky = stickiness(constructor(raw), period=period)
    assert stickiness(constructor(mart(raw, keyed=True)), period=period).equals(sticky)


@SLOW
@given(raw=RAW)
def test_stickiness_days_add_up_to_active_accounts(constructor, raw):
    period = ("2023-12", "2024-04")
    out = stickiness(constructor(raw), period=period)
    assert out["days"].list.sum().to_list() == out["active_accounts"].to_list()
    known = raw.filter(pl.col("account_id").is_not_null())
    month = pl.col("timestamp").dt.strftime("%Y-%m")
    per_month = dict(known.group_by(month).agg(pl.col("account_id").n_unique()).rows())
    assert out["active_accounts"].to_list() == [per_month.get(m, 0) for m in out["month"]]
    # DAU/MAU × active accounts × days of the month = distinct (account, day) pairs
    pairs = dict(
        known.group_by(month)
        .agg(pl.struct("account_id", pl.col("timestamp").dt.date()).n_unique())
        .rows()
    )
    for m, n, r in out.select("month", "active_accounts", "dau_mau").rows():
        y, mo = map(int, m.split("-"))
        if n == 0:
            assert r is None
        else:
            assert r * n * calendar.monthrange(y, mo)[1] == pytest.approx(pairs[m])
