"""The accounts population and their paid months, shared by the personas and the segments.

Private to :mod:`journeylib.analysis`: :mod:`~journeylib.analysis.personas`
and :mod:`~journeylib.analysis.segments` count the same accounts (first seen
no later than the period's last month) and read payments the same way.
"""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import collect, to_lazy
from journeylib.months import month_index_of, months_filter

__all__ = ["paid_summary", "population"]


def population(accounts: Any, last: int | None) -> pl.DataFrame:
    """The accounts first seen no later than month index ``last`` (all of them when None)."""
    lf = to_lazy(accounts)
    if last is not None and "first_seen_at" in lf.collect_schema().names():
        lf = lf.filter(months_filter(lf, "first_seen_at", last=last))
    return collect(lf)


def paid_summary(subscriptions: Any | None, last: int | None) -> pl.DataFrame:
    """Per account that paid up to month ``last``: first paid month, churned-once flag, MRR at ``last``."""
    schema = {
        "account_id": pl.String,
        "first_paid": pl.Int64,
        "churned": pl.Boolean,
        "mrr_last": pl.Float64,
    }
    if subscriptions is None:
        return pl.DataFrame(schema=schema)
    subs = collect(
        to_lazy(subscriptions).select(
            "account_id", month_index_of("month").cast(nw.Int64()).alias("mi"), "mrr"
        )
    )
    if last is None:
        last = subs["mi"].max() if subs.height else 0
    paid = subs.filter(pl.col("mrr") > 0, pl.col("mi") <= last)
    nxt = paid.select("account_id", (pl.col("mi") - 1).alias("mi"), pl.lit(True).alias("_next"))
    per = (
        paid.join(nxt, on=["account_id", "mi"], how="left")
        # a paid month whose next month is unpaid and inside the period = a churn
        .with_columns((pl.col("_next").is_null() & (pl.col("mi") < last)).alias("_ends"))
        .group_by("account_id")
        .agg(
            pl.col("mi").min().alias("first_paid"),
            pl.col("_ends").any().alias("churned"),
            pl.col("mrr").filter(pl.col("mi") == last).sum().alias("mrr_last"),
        )
    )
    return per.cast(schema).select(list(schema))
