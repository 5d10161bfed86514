"""Support: resolution time, ticket mix by tenure, resolution by category, referral rate.

Definitions: ``shared/spec/metrics.md`` § Feedback and support. Durations of
tickets are in hours; quantiles use linear interpolation.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import US_PER_HOUR, collect, elapsed_us, to_lazy
from journeylib.metrics._signups import first_paid, paying_months
from journeylib.metrics._values import none_if_nan
from journeylib.months import (
    in_months,
    month_index_of,
    month_label_expr,
    months_filter,
    period_index,
)

__all__ = [
    "PRE_PAID",
    "referral_rate",
    "resolution_by_category",
    "resolution_time",
    "ticket_mix_by_tenure",
]


#: Tenure label of tickets opened before the account's first paid month (or by accounts never paid).
PRE_PAID = "pre-paid"


def _opened_in(tickets: Any, period: tuple[str, str]) -> nw.LazyFrame:
    """Tickets opened in the period."""
    first, last = period_index(period)
    return to_lazy(tickets).filter(in_months("opened_at", first, last))


def _with_hours(lf: nw.LazyFrame) -> nw.LazyFrame:
    """Add ``hours`` from opening to resolution (null when unresolved)."""
    return lf.with_columns((elapsed_us("resolved_at", "opened_at") / US_PER_HOUR).alias("hours"))


def _resolution_aggs() -> list[nw.Expr]:
    return [
        nw.len().alias("opened"),
        nw.col("resolved_at").count().alias("resolved"),
        nw.col("hours").median().alias("resolution_hours_median"),
        nw.col("hours").quantile(0.9, interpolation="linear").alias("resolution_hours_p90"),
    ]


def resolution_time(tickets: Any, *, period: tuple[str, str]) -> dict[str, float | int | None]:
    """Median and p90 resolution time (hours) of the tickets opened in the period and resolved.

    Unresolved tickets (null ``resolved_at``) count in ``opened`` only.

    Args:
        tickets: tickets table (``opened_at``, ``resolved_at``).
        period: closed range of calendar months.

    Returns:
        ``{"resolution_hours_median", "resolution_hours_p90", "resolved", "opened"}``;
        the hours are None when no ticket of the period was resolved.

    Examples:
        >>> t = lambda d, h=0: dt.datetime(2024, 1, d, h, tzinfo=dt.UTC)
        >>> tickets = pl.DataFrame({"opened_at": [t(1), t(1), t(2)],
        ...                         "resolved_at": [t(1, 2), t(1, 6), None]})
        >>> resolution_time(tickets, period=("2024-01", "2024-01"))
        {'resolution_hours_median': 4.0, 'resolution_hours_p90': 5.6, 'resolved': 2, 'opened': 3}
    """
    row = collect(_with_hours(_opened_in(tickets, period)).select(*_resolution_aggs())).row(
        0, named=True
    )
    return {
        "resolution_hours_median": none_if_nan(row["resolution_hours_median"]),
        "resolution_hours_p90": none_if_nan(row["resolution_hours_p90"]),
        "resolved": int(row["resolved"] or 0),
        "opened": int(row["opened"] or 0),
    }


def resolution_by_category(tickets: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """Resolution time and volume per ticket category, for the service blueprint.

    Over the tickets opened in the period; ``share`` = the category's tickets /
    all tickets of the period; hours over the resolved ones (null when none);
    ``satisfaction_mean`` (mean of ``satisfaction``, null when none) is added
    when the table has that column. Tickets without a category form a null
    category, listed last; the others are sorted by name.

    Args:
        tickets: tickets table (``opened_at``, ``resolved_at``, ``category``).
        period: closed range of calendar months.

    Returns:
        ``pl.DataFrame[category, opened, resolved, share, resolution_hours_median,
        resolution_hours_p90(, satisfaction_mean)]``.

    Examples:
        >>> t = lambda d, h=0: dt.datetime(2024, 1, d, h, tzinfo=dt.UTC)
        >>> tickets = pl.DataFrame({"opened_at": [t(1), t(1), t(2)],
        ...     "resolved_at": [t(1, 2), t(1, 6), None], "category": ["bug", "bug", "billing"]})
        >>> resolution_by_category(tickets, period=("2024-01", "2024-01")).select(
        ...     "category", "opened", "resolved", "resolution_hours_median").rows()
        [('billing', 1, 0, None), ('bug', 2, 2, 4.0)]
    """
    lf = _with_hours(_opened_in(tickets, period))
    aggs = _resolution_aggs()
    has_satisfaction = "satisfaction" in lf.collect_schema().names()
    if has_satisfaction:
        aggs.append(nw.col("satisfaction").cast(nw.Float64).mean().alias("satisfaction_mean"))
    out = collect(lf.group_by("category").agg(*aggs)).with_columns(
        pl.col("opened", "resolved").cast(pl.Int64),
        pl.col("resolution_hours_median", "resolution_hours_p90").cast(pl.Float64).fill_nan(None),
    )
    cols = [
        "category",
        "opened",
        "resolved",
        "share",
        "resolution_hours_median",
        "resolution_hours_p90",
    ] + (["satisfaction_mean"] if has_satisfaction else [])
    return (
        out.with_columns((pl.col("opened") / pl.col("opened").sum()).alias("share"))
        .sort("category", nulls_last=True)
        .select(cols)
    )


_MIX_SCHEMA = {
    "tenure": pl.String,
    "tenure_months": pl.Int64,
    "category": pl.String,
    "tickets": pl.Int64,
    "share": pl.Float64,
}


def ticket_mix_by_tenure(
    tickets: Any, subscriptions: Any, *, period: tuple[str, str]
) -> pl.DataFrame:
    """Ticket category shares by the account's tenure when the ticket was opened.

    Tenure = calendar months from the account's first paid month (first month
    with ``mrr > 0`` in the whole subscriptions table) to the ticket's
    ``opened_at`` month: 0 in the first paid month. Tickets of accounts that
    never paid, or opened before the first paid month, have a null
    ``tenure_months`` and the ``tenure`` label ``"pre-paid"``; other labels are
    the month count as text. ``share`` = tickets of the category / tickets of
    the tenure, so shares sum to 1 per tenure. Over tickets opened in the period.

    Args:
        tickets: tickets table (``account_id``, ``opened_at``, ``category``).
        subscriptions: subscriptions table (``account_id``, ``month``, ``mrr``).
        period: closed range of calendar months.

    Returns:
        ``pl.DataFrame[tenure, tenure_months, category, tickets, share]``: pre-paid
        first, then by tenure; categories by name, a null category last.

    Examples:
        >>> t = lambda m: dt.datetime(2024, m, 10, tzinfo=dt.UTC)
        >>> tickets = pl.DataFrame({"account_id": ["a", "a", "b"],
        ...     "opened_at": [t(1), t(3), t(3)], "category": ["how_to", "bug", "billing"]})
        >>> subs = pl.DataFrame({"account_id": ["a"], "month": [dt.date(2024, 1, 1)],
        ...                      "mrr": [50.0]})
        >>> ticket_mix_by_tenure(tickets, subs, period=("2024-01", "2024-03")).rows()
        [('pre-paid', None, 'billing', 1, 1.0), ('0', 0, 'how_to', 1, 1.0), ('2', 2, 'bug', 1, 1.0)]
    """
    tenure = nw.col("opened_idx") - nw.col("first_paid_idx")
    counts = collect(
        _opened_in(tickets, period)
        .select("account_id", "category", month_index_of("opened_at").alias("opened_idx"))
        .join(first_paid(subscriptions), on="account_id", how="left")
        .with_columns(
            nw.when(tenure >= 0).then(tenure).otherwise(nw.lit(None)).alias("tenure_months")
        )
        .group_by("tenure_months", "category")
        .agg(nw.len().alias("tickets"))
    )
    return (
        counts.with_columns(pl.col("tenure_months", "tickets").cast(pl.Int64))
        .with_columns(
            (pl.col("tickets") / pl.col("tickets").sum().over("tenure_months")).alias("share"),
            pl.col("tenure_months").cast(pl.String).fill_null(PRE_PAID).alias("tenure"),
        )
        .sort("tenure_months", "category", nulls_last=[False, True])
        .select(list(_MIX_SCHEMA))
        .cast(_MIX_SCHEMA)
    )


def referral_rate(
    stream: Any, subscriptions: Any, *, period: tuple[str, str], event: str
) -> pl.DataFrame:
    """Referral rate per month: paying accounts with a referral event in the month / paying.

    ``paying`` = |C(m)| (``mrr > 0`` in m); ``referrers`` = those of them with at
    least one ``event`` row (raw or derived) in calendar month m. Every month of
    the period has a row; the rate is null where no account paid.

    Args:
        stream: journey event stream (``account_id``, ``event``, ``timestamp``).
        subscriptions: subscriptions table (``account_id``, ``month``, ``mrr``).
        period: closed range of calendar months.
        event: the referral milestone event.

    Returns:
        ``pl.DataFrame[month, paying, referrers, referral_rate]`` by month.

    Examples:
        >>> subs = pl.DataFrame({"account_id": ["a", "b"], "month": [dt.date(2024, 1, 1)] * 2,
        ...                      "mrr": [10.0, 20.0]})
        >>> stream = pl.DataFrame({"account_id": ["a", "c"], "event": ["referral_sent"] * 2,
        ...     "timestamp": [dt.datetime(2024, 1, 9, tzinfo=dt.UTC)] * 2})
        >>> referral_rate(stream, subs, period=("2024-01", "2024-02"),
        ...               event="referral_sent").rows()
        [('2024-01', 2, 1, 0.5), ('2024-02', 0, 0, None)]
    """
    first, last = period_index(period)
    paying = paying_months(subscriptions, first, last)
    lf = to_lazy(stream)
    referred = (
        lf.filter(
            ~nw.col("account_id").is_null(),
            nw.col("event") == event,
            months_filter(lf, "timestamp", first, last),
        )
        .select("account_id", month_index_of("timestamp").alias("month_idx"))
        .unique()
        .with_columns(nw.lit(1).cast(nw.Int64).alias("referred"))
    )
    counts = collect(
        paying.join(referred, on=["account_id", "month_idx"], how="left")
        .with_columns(nw.col("referred").fill_null(0))
        .group_by("month_idx")
        .agg(nw.len().alias("paying"), nw.col("referred").sum().alias("referrers"))
    ).with_columns(pl.col("month_idx", "paying", "referrers").cast(pl.Int64))
    months = pl.DataFrame(
        {"month_idx": list(range(first, last + 1))}, schema={"month_idx": pl.Int64}
    )
    return (
        months.join(counts, on="month_idx", how="left")
        .with_columns(pl.col("paying", "referrers").fill_null(0))
        .sort("month_idx")
        .select(
            month_label_expr("month_idx").alias("month"),
            "paying",
            "referrers",
            pl.when(pl.col("paying") > 0)
            .then(pl.col("referrers") / pl.col("paying"))
            .cast(pl.Float64)
            .alias("referral_rate"),
        )
    )
