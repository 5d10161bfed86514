"""Activity retention by signup cohort.

Definitions: ``shared/spec/metrics.md`` § Activity retention. The revenue view
(logo retention and cohort NRR by first paid month) belongs to the revenue
family.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import collect, to_lazy
from journeylib.metrics._keys import (
    account_key,
    account_month_key,
    account_part,
    keyed,
    month_part,
)
from journeylib.metrics._signups import signups
from journeylib.months import month_index_of, month_label_expr, months_filter, period_index

__all__ = ["activity_retention", "activity_retention_matrix"]

_SCHEMA = {
    "cohort": pl.String,
    "size": pl.Int64,
    "k": pl.Int64,
    "active": pl.Int64,
    "rate": pl.Float64,
}


def _active_by_key(
    in_range: nw.LazyFrame[Any], period_signups: nw.LazyFrame[Any], first: int
) -> pl.DataFrame:
    """Active accounts per (cohort_idx, k) on polars, the events grouped by account-month key.

    The distinct (account, month) pairs of the events are distinct 64-bit keys
    (``metrics._keys``): half the time and memory of distinct text pairs at 50 M
    events. They are joined to the signups by the key's account part.
    """
    offset = month_index_of("timestamp") - first
    months = (
        in_range.with_columns(offset.alias("_m"))
        .to_native()
        .select(account_month_key(pl.col("_m")).alias("_k"))
        .unique()
        .select(
            account_part(pl.col("_k")).alias("_a"),
            (month_part(pl.col("_k")) + first).alias("month_idx"),
        )
    )
    cohorts = period_signups.to_native().select(
        account_part(account_key()).alias("_a"), pl.col("cohort_idx").cast(pl.Int64)
    )
    return (
        cohorts.join(months, on="_a", how="inner")
        .with_columns((pl.col("month_idx") - pl.col("cohort_idx")).alias("k"))
        .filter(pl.col("k") >= 0)
        .group_by("cohort_idx", "k")
        .agg(pl.len().alias("active"))
        .collect()
    )


def activity_retention(accounts: Any, events: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """Activity retention of the period's signups by signup cohort, in long form.

    An account of cohort c (its signup month) is active in month k (k = 0, 1, …)
    when it has at least one row in the raw ``events`` table in calendar month
    c + k. ``rate = active / size``. Rows are given for every k with
    c + k not after the period's last month (k = 0 always), with ``active = 0``
    where nobody was active; events before the signup month and after the
    period's end are not counted. Months without signups have no cohort. On
    polars frames the (account, month) pairs are found by an integer key of
    ``account_id`` and month (``metrics._keys``; same result, less memory).

    Args:
        accounts: accounts table (``account_id``, ``signup_at``).
        events: the raw events table (``account_id``, ``timestamp``), not the derived stream.
        period: closed range of calendar months.

    Returns:
        ``pl.DataFrame[cohort, size, k, active, rate]`` sorted by cohort, k.

    Examples:
        >>> t = lambda m, d=1: dt.datetime(2024, m, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "signup_at": [t(1), t(1, 5)]})
        >>> events = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...                        "timestamp": [t(1, 2), t(1, 6), t(2, 3)]})
        >>> activity_retention(accounts, events, period=("2024-01", "2024-02")).rows()
        [('2024-01', 2, 0, 2, 1.0), ('2024-01', 2, 1, 1, 0.5)]
    """
    first, last = period_index(period)
    period_signups = signups(accounts, first, last).select("account_id", "cohort_idx")
    lf = to_lazy(events)
    # only months a cohort of the period can be active in: [first, last]
    in_range = lf.filter(
        ~nw.col("account_id").is_null(), months_filter(lf, "timestamp", first, last)
    )
    if keyed(accounts, events, months=last - first + 1):
        active_df = _active_by_key(in_range, period_signups, first)
    else:
        activity = in_range.select(
            "account_id", month_index_of("timestamp").alias("month_idx")
        ).unique()
        active = (
            period_signups.join(activity, on="account_id", how="inner")
            .with_columns((nw.col("month_idx") - nw.col("cohort_idx")).alias("k"))
            .filter(nw.col("k") >= 0, nw.col("month_idx") <= last)
            .group_by("cohort_idx", "k")
            .agg(nw.len().alias("active"))
        )
        active_df = collect(active)
    sizes = collect(period_signups.group_by("cohort_idx").agg(nw.len().alias("size")))
    if sizes.height == 0:
        return pl.DataFrame(schema=_SCHEMA)
    # The full (cohort, k) grid is built after collecting: it is one row per
    # cohort-month, and months where nobody was active must show 0, not vanish.
    grid = (
        sizes.with_columns(
            pl.col("cohort_idx").cast(pl.Int64),
            pl.col("size").cast(pl.Int64),
            pl.int_ranges(0, last - pl.col("cohort_idx").cast(pl.Int64) + 1).alias("k"),
        )
        .explode("k")
        .join(
            active_df.with_columns(pl.col("cohort_idx", "k", "active").cast(pl.Int64)),
            on=["cohort_idx", "k"],
            how="left",
        )
        .with_columns(pl.col("active").fill_null(0))
    )
    return (
        grid.sort("cohort_idx", "k")
        .select(
            month_label_expr("cohort_idx").alias("cohort"),
            "size",
            "k",
            "active",
            (pl.col("active") / pl.col("size")).alias("rate"),
        )
        .cast(_SCHEMA)
    )


def activity_retention_matrix(
    accounts: Any, events: Any, *, period: tuple[str, str]
) -> list[dict[str, Any]]:
    """Activity retention in the ``metrics.json`` shape: one entry per cohort with its rates.

    Same definition as :func:`activity_retention`; ``rates[k]`` is the rate of
    month k, the list ending at the period's last month.

    Args:
        accounts: accounts table (``account_id``, ``signup_at``).
        events: the raw events table.
        period: closed range of calendar months.

    Returns:
        ``[{"cohort": "YYYY-MM", "size": int, "rates": [r0, r1, …]}]`` sorted by cohort.

    Examples:
        >>> t = lambda m, d=1: dt.datetime(2024, m, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "signup_at": [t(1), t(2)]})
        >>> events = pl.DataFrame({"account_id": ["a", "b"], "timestamp": [t(1, 2), t(2, 6)]})
        >>> activity_retention_matrix(accounts, events, period=("2024-01", "2024-02"))
        [{'cohort': '2024-01', 'size': 1, 'rates': [1.0, 0.0]}, {'cohort': '2024-02', 'size': 1, 'rates': [1.0]}]
    """
    long = activity_retention(accounts, events, period=period)
    wide = long.group_by("cohort", maintain_order=True).agg(
        pl.col("size").first(), pl.col("rate").alias("rates")
    )
    return wide.sort("cohort").to_dicts()
