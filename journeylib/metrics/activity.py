"""Account activity over time: lifecycle (new, returning, resurrecting, dormant) and stickiness.

Definitions: ``shared/spec/analytics.md`` § 1 Lifecycle and § 2 Stickiness.
*Activity* is a raw ``events`` row with an ``account_id``; buckets are UTC
calendar days, ISO weeks (Monday to Sunday, labelled by their Monday) and
calendar months.

Both functions take either the raw events table (``account_id``,
``timestamp``, and ``event`` for a filter) or the client store's
``account_days`` mart (``account_id``, ``day``, ``events``: one row per account
and day with a raw event); both give the same result, the mart much faster.
The mart's integer ``account_key`` (one per ``account_id``), when present,
keys the accounts instead of their text ids.

The work is done on the distinct (account, bucket) pairs. On polars with an
integer account key, account and bucket are packed into one 64-bit key whose
global order (nearly free to sort: the mart is stored in that order) finds
both the distinct pairs and each pair's previous active bucket in one pass;
elsewhere the pairs are made distinct and a window partitioned by account
finds the previous bucket.
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Sequence
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.errors import ConfigError, check_choice
from journeylib.frames import (
    account_parts,
    added_up,
    collect,
    day_number,
    engine_of,
    missing_values,
    to_lazy,
    whole,
)
from journeylib.months import month_from_index, month_index_of, months_filter, period_index

__all__ = ["INTERVALS", "lifecycle", "lifecycle_json", "stickiness", "stickiness_rows"]

#: The bucket sizes of :func:`lifecycle`.
INTERVALS = ("day", "week", "month")

_EPOCH = dt.date(1970, 1, 1)
#: Packed key = account key × _SPAN + bucket + _BIAS: buckets from about year −900 to 4800.
_SPAN = 2**21
_BIAS = 2**20

_LIFECYCLE_SCHEMA = {
    "start": pl.String,
    "new": pl.Int64,
    "returning": pl.Int64,
    "resurrecting": pl.Int64,
    "dormant": pl.Int64,
}
_STICKINESS_SCHEMA = {
    "month": pl.String,
    "active_accounts": pl.Int64,
    "dau_mau": pl.Float64,
    "days": pl.List(pl.Int64),
}


# ---------------------------------------------------------------- buckets
def _bucket_expr(col: str, interval: str, *, date_cast: bool = False) -> nw.Expr:
    """The bucket index of a date/timestamp column: day number, ISO week number or month index.

    ``date_cast``: the column is a Date on polars, whose integer value is the day
    number already (eight times faster than the calendar arithmetic every engine
    understands).
    """
    if interval == "month":
        return month_index_of(col).cast(nw.Int64)
    days = nw.col(col).cast(nw.Int32).cast(nw.Int64) if date_cast else day_number(col)
    # 1970-01-01 was a Thursday: week 0 starts on Monday 1969-12-29
    return (days + 3) // 7 if interval == "week" else days


def _bucket_of(day: dt.date, interval: str) -> int:
    """The bucket index of a date (the plain-Python form of :func:`_bucket_expr`)."""
    if interval == "month":
        return day.year * 12 + day.month - 1
    days = (day - _EPOCH).days
    return (days + 3) // 7 if interval == "week" else days


def _bucket_label(index: int, interval: str) -> str:
    """``YYYY-MM-DD`` of a day or of a week's Monday, ``YYYY-MM`` of a month."""
    if interval == "month":
        return month_from_index(index)
    days = index * 7 - 3 if interval == "week" else index
    return (_EPOCH + dt.timedelta(days=days)).isoformat()


def _period_days(period: tuple[str, str]) -> tuple[dt.date, dt.date]:
    """The first and the last calendar day of a period of months."""
    first, last = period_index(period)
    y0, m0 = divmod(first, 12)
    y1, m1 = divmod(last, 12)
    return dt.date(y0, m0 + 1, 1), dt.date(y1, m1 + 1, _days_in(last))


def _days_in(month_idx: int) -> int:
    """The number of days of a month, by month index."""
    y, m0 = divmod(month_idx, 12)
    return calendar.monthrange(y, m0 + 1)[1]


# ---------------------------------------------------------------- input
def _activity(activity: Any, events: Sequence[str] | None) -> tuple[nw.LazyFrame[Any], str, str]:
    """The activity rows (null accounts dropped, ``events`` kept) and their key and time columns.

    Returns ``(rows, key, time)``: ``key`` is ``account_key`` on a mart that has
    it, else ``account_id``; ``time`` is ``timestamp`` (raw events) or ``day``
    (the ``account_days`` mart).
    """
    lf = to_lazy(activity)
    schema = lf.collect_schema()
    names = schema.names()
    raw = "timestamp" in names
    time = "timestamp" if raw else "day"
    missing = [c for c in ("account_id", time) if c not in names]
    if missing:
        raise ConfigError(
            "missing columns for the activity",
            where="activity",
            expected="the raw events (account_id, timestamp) or the account_days mart "
            "(account_id, day, events)",
            found=f"columns {', '.join(names)}",
            fix=f"add the column(s) {', '.join(missing)}",
        )
    key = "account_key" if not raw and _is_integer(schema.get("account_key")) else "account_id"
    if events is not None:
        if not raw:
            raise ConfigError(
                "an events filter needs the raw events",
                where="events",
                expected="the raw events table (account_id, timestamp, event)",
                found="the account_days mart (account_id, day, events)",
                fix="pass the raw events table, or leave events out",
            )
        if "event" not in names:
            raise ConfigError(
                "missing columns for the activity",
                where="activity",
                expected="an event column to filter the events by",
                found=f"columns {', '.join(names)}",
                fix="add the event column, or leave events out",
            )
        wanted = [str(e) for e in events]
        # over every row, those without an account too: a name in the data is not a typo
        for name in missing_values(lf, "event", wanted)[:1]:
            raise ConfigError(
                "event appears in no row of the data",
                where="events",
                expected="an event name of the raw events",
                found=repr(name),
                fix="check the spelling of the event (event names are case-sensitive)",
            )
        lf = lf.filter(nw.col("event").is_in(wanted))
    lf = lf.filter(~nw.col("account_id").is_null())
    if key != "account_id":
        lf = lf.filter(~nw.col(key).is_null())
    return lf, key, time


def _is_integer(dtype: Any) -> bool:
    return dtype is not None and dtype.is_integer()


# ---------------------------------------------------------------- lifecycle
def _previous_buckets(pairs: nw.LazyFrame[Any], key: str, packed: bool) -> nw.LazyFrame[Any]:
    """The distinct (account, bucket) pairs of ``pairs`` as ``[b, prev]``.

    ``prev`` is the account's latest active bucket before ``b`` (null: ``b`` is its first).
    """
    if packed:
        k = nw.col("_k")
        span = nw.lit(_SPAN, dtype=nw.Int64)
        # Sorted by the packed key, a row is the first of its pair when the row before
        # holds another key, and that row's key is then the account's previous pair.
        return (
            pairs.select((nw.col(key).cast(nw.Int64) * span + nw.col("b") + _BIAS).alias("_k"))
            .with_columns(k.shift(1).over(order_by="_k").alias("_pk"))
            .filter(nw.col("_pk").is_null() | (nw.col("_pk") != k))
            .select(
                (k % span - _BIAS).alias("b"),
                nw.when(nw.col("_pk") // span == k // span)
                .then(nw.col("_pk") % span - _BIAS)
                .alias("prev"),
            )
        )
    return (
        pairs.select(key, "b")
        .unique()
        .with_columns(nw.col("b").shift(1).over(key, order_by="b").alias("prev"))
        .select("b", "prev")
    )


def _lifecycle_counts(
    activity: Any, events: Sequence[str] | None, interval: str, first: int, last: int
) -> pl.DataFrame:
    """``[b, active, new, returning]`` of the buckets ``first − 1 … last`` with activity."""
    rows, key, time = _activity(activity, events)
    on_polars = engine_of(rows.to_native()) == "polars"
    date_cast = on_polars and rows.collect_schema()[time] == nw.Date
    bucket = _bucket_expr(time, interval, date_cast=date_cast)
    pairs = rows.select(key, bucket.alias("b")).filter(nw.col("b") <= last)
    packed = key == "account_key" and on_polars
    prev = nw.col("prev")
    return collect(
        _previous_buckets(pairs, key, packed)
        .filter(nw.col("b") >= first - 1)
        .group_by("b")
        .agg(
            nw.len().cast(nw.Int64).alias("active"),
            prev.is_null().cast(nw.Int64).sum().alias("new"),
            (prev == nw.col("b") - 1).cast(nw.Int64).sum().alias("returning"),
        )
    )


def lifecycle(
    activity: Any,
    *,
    period: tuple[str, str],
    interval: str = "week",
    events: Sequence[str] | None = None,
) -> pl.DataFrame:
    """New, returning, resurrecting and dormant accounts per day, ISO week or month.

    For each bucket b that intersects the period (counted over its whole span,
    so a week may reach outside the period's months), over the accounts with
    activity: ``new`` = b holds the account's first activity ever (before the
    period too); ``returning`` = active in b and in b − 1; ``resurrecting`` =
    active in b, not in b − 1, and active before b − 1; ``dormant`` = active in
    b − 1 and not in b, as a negative count. Activity before the period counts
    for the b − 1 of its first bucket.

    Args:
        activity: the raw events (``account_id``, ``timestamp``; ``event`` with
            ``events``) or the store's ``account_days`` mart (``account_id``,
            ``day``), on any engine; rows without an account are not activity.
            Either may be given in account parts
            (:func:`journeylib.frames.account_parts`; the mart's:
            ``Store.mart_parts``): counted part by part, in the memory of
            one (without ``events``).
        period: closed range of calendar months.
        interval: ``day``, ``week`` (Monday to Sunday) or ``month``.
        events: count only these raw events as activity (raw events input only).

    Returns:
        ``pl.DataFrame[start, new, returning, resurrecting, dormant]``, one row
        per bucket of the period (zeros included) sorted by ``start``
        (``YYYY-MM-DD``, a week's Monday; ``YYYY-MM`` for months).

    Raises:
        ConfigError: an unknown interval, an event that appears in no row, an
            events filter on the mart, or missing columns.

    Examples:
        >>> d = dt.date
        >>> mart = pl.DataFrame({"account_id": ["a", "a", "b", "c"],
        ...     "day": [d(2023, 11, 30), d(2024, 1, 20), d(2024, 1, 2), d(2023, 12, 5)],
        ...     "events": [1, 2, 1, 1]})
        >>> lifecycle(mart, period=("2024-01", "2024-02"), interval="month").rows()
        [('2024-01', 1, 0, 1, -1), ('2024-02', 0, 0, 0, -2)]
    """
    check_choice(
        "interval",
        interval,
        INTERVALS,
        where="interval",
        fix="use interval 'week'",
        error=ConfigError,
    )
    first_day, last_day = _period_days(period)
    first, last = _bucket_of(first_day, interval), _bucket_of(last_day, interval)
    # in account parts, counted part by part (an account's rows are in one part); with an
    # events filter as a whole (an event must be in some row of the whole)
    given = account_parts(activity) if events is None else [whole(activity)]
    counts = added_up([_lifecycle_counts(p, events, interval, first, last) for p in given], ["b"])
    # The grid of every bucket (zeros where nobody was active) is built after
    # collecting: one row per bucket.
    grid = (
        pl.DataFrame({"b": pl.int_range(first - 1, last + 1, eager=True).cast(pl.Int64)})
        .join(counts.cast(pl.Int64), on="b", how="left")
        .fill_null(0)
        .sort("b")
        .with_columns(
            (pl.col("active") - pl.col("new") - pl.col("returning")).alias("resurrecting"),
            (pl.col("returning") - pl.col("active").shift(1)).alias("dormant"),
        )
        .slice(1)
    )
    labels = [_bucket_label(b, interval) for b in grid["b"]]
    return grid.select(
        pl.Series("start", labels, dtype=pl.String),
        "new",
        "returning",
        "resurrecting",
        "dormant",
    ).cast(_LIFECYCLE_SCHEMA)


def lifecycle_json(frame: pl.DataFrame, interval: str) -> dict[str, Any]:
    """A :func:`lifecycle` frame in the ``journey lifecycle --json`` shape.

    Args:
        frame: the result of :func:`lifecycle`.
        interval: the interval it was computed with.

    Returns:
        ``{"interval": interval, "buckets": [{start, new, returning, resurrecting, dormant}]}``,
        the buckets sorted by start.

    Examples:
        >>> f = pl.DataFrame({"start": ["2024-01"], "new": [1], "returning": [0],
        ...     "resurrecting": [1], "dormant": [-1]})
        >>> lifecycle_json(f, "month")
        {'interval': 'month', 'buckets': [{'start': '2024-01', 'new': 1, 'returning': 0, 'resurrecting': 1, 'dormant': -1}]}
    """
    buckets = frame.select(list(_LIFECYCLE_SCHEMA)).sort("start").to_dicts()
    return {"interval": interval, "buckets": buckets}


# ---------------------------------------------------------------- stickiness
def stickiness(activity: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """Active accounts, days active and DAU/MAU per calendar month of the period.

    For each month m: ``active_accounts`` = accounts with activity in m;
    ``days`` = 31 counts, ``days[k − 1]`` = active accounts active on exactly k
    distinct UTC days of m; ``dau_mau`` = the mean over the calendar days of m
    of the accounts active that day, divided by ``active_accounts`` (null when
    none). Every month of the period has a row.

    Args:
        activity: the raw events (``account_id``, ``timestamp``) or the store's
            ``account_days`` mart (``account_id``, ``day``), on any engine.
        period: closed range of calendar months.

    Returns:
        ``pl.DataFrame[month, active_accounts, dau_mau, days]`` sorted by month.

    Examples:
        >>> d = dt.date
        >>> mart = pl.DataFrame({"account_id": ["a", "a", "b"],
        ...     "day": [d(2024, 2, 1), d(2024, 2, 3), d(2024, 2, 3)], "events": [1, 2, 1]})
        >>> row = stickiness(mart, period=("2024-02", "2024-02")).row(0, named=True)
        >>> row["active_accounts"], row["days"][:3], round(row["dau_mau"], 4)  # (3 / 29) / 2
        (2, [1, 1, 0], 0.0517)
    """
    first, last = period_index(period)
    rows, key, time = _activity(activity, None)
    rows = rows.filter(months_filter(rows, time, first, last))
    # the mart has one row per account and active day: its rows are the days
    days = day_number(time).n_unique() if time == "timestamp" else nw.len()
    per_account = rows.group_by(key, month_index_of(time).cast(nw.Int64).alias("m")).agg(
        days.cast(nw.Int64).alias("n")
    )
    counts = collect(per_account.group_by("m", "n").agg(nw.len().cast(nw.Int64).alias("accounts")))
    months = pl.DataFrame({"m": pl.int_range(first, last + 1, eager=True).cast(pl.Int64)})
    hist = (
        months.join(
            pl.DataFrame({"n": pl.int_range(1, 32, eager=True).cast(pl.Int64)}), how="cross"
        )
        .join(counts.cast(pl.Int64), on=["m", "n"], how="left")
        .with_columns(pl.col("accounts").fill_null(0))
        .sort("m", "n")
        .group_by("m", maintain_order=True)
        .agg(
            pl.col("accounts").sum().alias("active_accounts"),
            (pl.col("accounts") * pl.col("n")).sum().alias("_pairs"),
            pl.col("accounts").alias("days"),
        )
    )
    in_month = pl.Series([_days_in(m) for m in hist["m"]], dtype=pl.Float64)
    return hist.select(
        pl.Series("month", [month_from_index(m) for m in hist["m"]], dtype=pl.String),
        "active_accounts",
        pl.when(pl.col("active_accounts") > 0)
        .then(pl.col("_pairs") / in_month / pl.col("active_accounts"))
        .alias("dau_mau"),
        "days",
    ).cast(_STICKINESS_SCHEMA)


def stickiness_rows(activity: Any, *, period: tuple[str, str]) -> list[dict[str, Any]]:
    """Stickiness in the ``metrics.json`` shape: ``[{month, active_accounts, dau_mau, days}]``.

    Same definition as :func:`stickiness`.

    Examples:
        >>> mart = pl.DataFrame({"account_id": ["a"], "day": [dt.date(2024, 2, 1)], "events": [1]})
        >>> [(r["month"], r["active_accounts"], r["dau_mau"]) for r in
        ...  stickiness_rows(mart, period=("2024-02", "2024-03"))]
        [('2024-02', 1, 0.034482758620689655), ('2024-03', 0, None)]
    """
    return stickiness(activity, period=period).to_dicts()
