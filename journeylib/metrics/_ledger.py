"""The revenue ledger: MRR per account and month in integer micro-units, aggregated per month.

Shared by the revenue and acquisition families (new customers are the ledger's
*new* movement; CAC, its payback and attribution read the same paid rows).

Money is summed in integer micro-units (``mrr`` rounded to 1e-6) so that the
sums are exact, do not depend on the summation order and are identical on
every engine. An ``mrr`` below half a micro-unit counts as 0 (not paying).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import collect, to_lazy
from journeylib.metrics._memo import once
from journeylib.months import month_index, month_index_of

__all__ = [
    "MICRO",
    "Ledger",
    "compute_ledger",
    "ledger_of",
    "money",
    "paid_rows",
    "table_bounds",
    "to_micro",
]

#: Micro-units per currency unit.
MICRO = 1_000_000


def to_micro(col: str) -> nw.Expr:
    """Money → integer micro-units, rounding half up (amounts are >= 0).

    ``floor(x + 0.5)`` rather than ``round``: engines differ on ties and DuckDB's
    float → int cast rounds where polars truncates.
    """
    return (nw.col(col) * MICRO + 0.5).floor().cast(nw.Int64)


def money(micro: int) -> float:
    """Integer micro-units → an amount of money."""
    return micro / MICRO


def paid_rows(subscriptions: Any) -> nw.LazyFrame:
    """The paid rows ``[account_id, mi, micro]`` (micro-units > 0) of a subscriptions frame."""
    return (
        to_lazy(subscriptions)
        .select(
            nw.col("account_id"),
            month_index_of("month").cast(nw.Int64).alias("mi"),
            to_micro("mrr").alias("micro"),
        )
        .filter(nw.col("micro") > 0)
    )


def table_bounds(subscriptions: Any) -> tuple[int | None, int | None]:
    """First and last month index of the subscriptions table (rows with mrr 0 included)."""
    out = collect(
        to_lazy(subscriptions).select(
            nw.col("month").min().alias("lo"), nw.col("month").max().alias("hi")
        )
    )
    lo, hi = out.row(0)
    if lo is None:
        return None, None
    return month_index(lo), month_index(hi)


_STAT_COLS = (
    "mrr",
    "customers",
    "new_mrr",
    "new_n",
    "react_mrr",
    "react_n",
    "exp_mrr",
    "exp_n",
    "contr_mrr",
    "contr_n",
    "churn_out_mrr",
    "churn_out_n",
)


@dataclass(frozen=True)
class Ledger:
    """Per-month aggregates of a subscriptions table, in integer micro-units.

    ``stats[mi]`` holds, for month index ``mi``: ``mrr`` and ``customers`` (MRR(m),
    |C(m)|), the amounts and counts of the new, reactivation, expansion and
    contraction movements *into* ``mi``, and ``churn_out_*``: the accounts paying in
    ``mi`` and not in ``mi + 1`` (they churn in month ``mi + 1``).
    """

    first: int | None
    last: int | None
    stats: dict[int, dict[str, int]]

    def get(self, mi: int, key: str) -> int:
        """The statistic ``key`` of month ``mi`` (0 for a month without paid rows)."""
        row = self.stats.get(mi)
        return 0 if row is None else row[key]

    def has_movements(self, mi: int) -> bool:
        """Whether month ``mi`` has movements: its m-1 is not before the table's first month."""
        return self.first is not None and mi - 1 >= self.first

    def movements(self, mi: int) -> dict[str, int]:
        """The movements of month ``mi`` (micro-units, signed) and their account counts."""
        return {
            "new_mrr": self.get(mi, "new_mrr"),
            "expansion_mrr": self.get(mi, "exp_mrr"),
            "reactivation_mrr": self.get(mi, "react_mrr"),
            "contraction_mrr": self.get(mi, "contr_mrr"),
            "churned_mrr": -self.get(mi - 1, "churn_out_mrr"),
            "new_customers": self.get(mi, "new_n"),
            "reactivated_customers": self.get(mi, "react_n"),
            "churned_customers": self.get(mi - 1, "churn_out_n"),
            "expansion_customers": self.get(mi, "exp_n"),
            "contraction_customers": self.get(mi, "contr_n"),
        }


def ledger_of(subscriptions: Any) -> Ledger:
    """The :class:`Ledger` of a subscriptions frame (once per frame inside ``_memo.shared_results``)."""
    return once("revenue_ledger", subscriptions, lambda: compute_ledger(subscriptions))


def compute_ledger(subscriptions: Any) -> Ledger:
    """Aggregate a subscriptions frame into a :class:`Ledger` (two small queries).

    No month × account grid is built: each paid row is compared with the
    account's previous and next *paid* row (window functions), which gives
    every movement.
    """
    first, last = table_bounds(subscriptions)
    if first is None:
        return Ledger(None, None, {})
    paid = paid_rows(subscriptions).with_columns(
        nw.col("mi").shift(1).over("account_id", order_by="mi").alias("prev_mi"),
        nw.col("micro").shift(1).over("account_id", order_by="mi").alias("prev_micro"),
        nw.col("mi").shift(-1).over("account_id", order_by="mi").alias("next_mi"),
    )
    mi, c, p = nw.col("mi"), nw.col("micro"), nw.col("prev_micro")
    is_new = nw.col("prev_mi").is_null()
    # Null comparisons (first paid row) are false in `when`, which is what we want.
    is_react = nw.col("prev_mi") < mi - 1
    is_cont = nw.col("prev_mi") == mi - 1
    is_exp = is_cont & (c > p)
    is_contr = is_cont & (c < p)
    is_churn_next = nw.col("next_mi").is_null() | (nw.col("next_mi") > mi + 1)

    def amount(cond: nw.Expr, value: nw.Expr) -> nw.Expr:
        return nw.when(cond).then(value).otherwise(0).sum()

    def count(cond: nw.Expr) -> nw.Expr:
        return nw.when(cond).then(1).otherwise(0).sum()

    agg = collect(
        paid.group_by("mi").agg(
            c.sum().alias("mrr"),
            nw.len().alias("customers"),
            amount(is_new, c).alias("new_mrr"),
            count(is_new).alias("new_n"),
            amount(is_react, c).alias("react_mrr"),
            count(is_react).alias("react_n"),
            amount(is_exp, c - p).alias("exp_mrr"),
            count(is_exp).alias("exp_n"),
            amount(is_contr, c - p).alias("contr_mrr"),
            count(is_contr).alias("contr_n"),
            amount(is_churn_next, c).alias("churn_out_mrr"),
            count(is_churn_next).alias("churn_out_n"),
        )
    )
    # DuckDB sums integers to HUGEINT/DECIMAL: bring everything back to Int64.
    agg = agg.with_columns(pl.col("mi", *_STAT_COLS).cast(pl.Int64))
    stats = {row["mi"]: row for row in agg.iter_rows(named=True)}  # one row per month: small
    return Ledger(first, last, stats)
