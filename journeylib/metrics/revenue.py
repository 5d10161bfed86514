"""Revenue: MRR movements, churn rates, NRR/GRR, ARPA, quick ratio, LTV, revenue retention.

Definitions: ``shared/spec/metrics.md`` § Revenue. Every function takes a native
``subscriptions`` frame of any narwhals-supported engine (polars eager or lazy,
DuckDB, PySpark) with the columns ``account_id``, ``month`` (a date, the 1st of
the month) and ``mrr``; it computes lazily and returns a small polars frame or a
plain Python value. Undefined values (zero denominators) are ``None``.

Readings of the spec chosen here (the "natural reading" rule):

* A month with no row for an account means MRR 0 (data.md); no account × month
  grid is built: each paid row is compared with the account's previous and next
  *paid* row (window functions), which gives every movement.
* Money is summed in integer micro-units (``mrr`` rounded to 1e-6) so that the
  sums are exact, do not depend on the summation order and are identical on
  every engine: ``net_new_mrr`` is then exactly the sum of the five movements
  and exactly ``MRR(m) - MRR(m-1)`` before the final conversion to float. An
  ``mrr`` below half a micro-unit counts as 0 (not paying).
* "The first month of the subscriptions table" is its earliest ``month``,
  including rows with ``mrr = 0``.
* Months after the table's last month are read literally: no row means MRR 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.config import parse_month
from journeylib.frames import to_lazy
from journeylib.metrics._memo import once
from journeylib.months import month_from_index, month_index

__all__ = [
    "arpa",
    "grr",
    "grr_12m",
    "ltv",
    "nrr",
    "nrr_12m",
    "quick_ratio",
    "revenue_months",
    "revenue_retention",
]

_MICRO = 1_000_000

REVENUE_MONTH_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.String(),
    "mrr": pl.Float64(),
    "customers": pl.Int64(),
    "new_mrr": pl.Float64(),
    "expansion_mrr": pl.Float64(),
    "reactivation_mrr": pl.Float64(),
    "contraction_mrr": pl.Float64(),
    "churned_mrr": pl.Float64(),
    "net_new_mrr": pl.Float64(),
    "new_customers": pl.Int64(),
    "reactivated_customers": pl.Int64(),
    "churned_customers": pl.Int64(),
    "expansion_customers": pl.Int64(),
    "contraction_customers": pl.Int64(),
    "logo_churn_rate": pl.Float64(),
    "churn_rate_simple": pl.Float64(),
    "gross_mrr_churn_rate": pl.Float64(),
    "nrr_1m": pl.Float64(),
    "grr_1m": pl.Float64(),
    "arpa": pl.Float64(),
    "quick_ratio": pl.Float64(),
}

RETENTION_SCHEMA: dict[str, pl.DataType] = {
    "cohort": pl.String(),
    "k": pl.Int64(),
    "size": pl.Int64(),
    "logo_retention": pl.Float64(),
    "nrr": pl.Float64(),
}


# ---------------------------------------------------------------- shared helpers
def _month_index_expr(col: str) -> nw.Expr:
    """Calendar month of a date/datetime column as ``year * 12 + month - 1``, cast to Int64.

    Unlike ``months.month_index_of`` (which keeps the engine's integer type) the
    result is always Int64.
    """
    return (nw.col(col).dt.year() * 12 + nw.col(col).dt.month() - 1).cast(nw.Int64)


def _to_micro(col: str) -> nw.Expr:
    """Money → integer micro-units, rounding half up (amounts are >= 0).

    ``floor(x + 0.5)`` rather than ``round``: engines differ on ties and DuckDB's
    float → int cast rounds where polars truncates.
    """
    return (nw.col(col) * _MICRO + 0.5).floor().cast(nw.Int64)


def _money(micro: int) -> float:
    return micro / _MICRO


def _ratio(num: float, den: float) -> float | None:
    """``num / den``, or ``None`` for a zero denominator (never NaN or infinity)."""
    return None if den == 0 else num / den


def _period_index(period: tuple[Any, Any]) -> tuple[int, int]:
    """The closed period ``("YYYY-MM", "YYYY-MM")`` as a pair of month indices.

    Unlike ``months.period_index`` the error names the period's ends as given,
    not normalised.
    """
    first, last = (month_index(parse_month(p)) for p in period)
    if first > last:
        raise ValueError(f"period start {period[0]} is after period end {period[1]}")
    return first, last


def _paid_rows(subscriptions: Any) -> nw.LazyFrame:
    """The paid rows ``[account_id, mi, micro]`` (micro-units > 0) of a subscriptions frame."""
    return (
        to_lazy(subscriptions)
        .select(
            nw.col("account_id"),
            _month_index_expr("month").alias("mi"),
            _to_micro("mrr").alias("micro"),
        )
        .filter(nw.col("micro") > 0)
    )


def _table_bounds(subscriptions: Any) -> tuple[int | None, int | None]:
    """First and last month index of the subscriptions table (rows with mrr 0 included)."""
    out = (
        to_lazy(subscriptions)
        .select(nw.col("month").min().alias("lo"), nw.col("month").max().alias("hi"))
        .collect(backend="polars")
        .to_native()
    )
    lo, hi = out.row(0)
    if lo is None:
        return None, None
    return lo.year * 12 + lo.month - 1, hi.year * 12 + hi.month - 1


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
class _Ledger:
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


def _ledger(subscriptions: Any) -> _Ledger:
    """The :class:`_Ledger` of a subscriptions frame (once per frame inside ``_memo.shared_results``)."""
    return once("revenue_ledger", subscriptions, lambda: _compute_ledger(subscriptions))


def _compute_ledger(subscriptions: Any) -> _Ledger:
    """Aggregate a subscriptions frame into a :class:`_Ledger` (two small queries)."""
    first, last = _table_bounds(subscriptions)
    if first is None:
        return _Ledger(None, None, {})
    paid = _paid_rows(subscriptions).with_columns(
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

    agg = (
        paid.group_by("mi")
        .agg(
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
        .collect(backend="polars")
        .to_native()
        # DuckDB sums integers to HUGEINT/DECIMAL: bring everything back to Int64.
        .with_columns(pl.col("mi", *_STAT_COLS).cast(pl.Int64))
    )
    stats = {row["mi"]: row for row in agg.iter_rows(named=True)}  # one row per month: small
    return _Ledger(first, last, stats)


def _month_row(ledger: _Ledger, mi: int) -> dict[str, Any]:
    """One row of :func:`revenue_months` for month index ``mi`` (which has movements)."""
    mv = ledger.movements(mi)
    mrr, mrr_prev = ledger.get(mi, "mrr"), ledger.get(mi - 1, "mrr")
    cust, cust_prev = ledger.get(mi, "customers"), ledger.get(mi - 1, "customers")
    gained = mv["new_mrr"] + mv["expansion_mrr"] + mv["reactivation_mrr"]
    lost = mv["contraction_mrr"] + mv["churned_mrr"]  # <= 0
    net_new = gained + lost  # == mrr - mrr_prev exactly (integer micro-units)
    row: dict[str, Any] = {"month": month_from_index(mi), "mrr": _money(mrr), "customers": cust}
    for key in ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr"):
        row[key] = _money(mv[key])
    row["net_new_mrr"] = _money(net_new)
    for key in (
        "new_customers",
        "reactivated_customers",
        "churned_customers",
        "expansion_customers",
        "contraction_customers",
    ):
        row[key] = mv[key]
    row["logo_churn_rate"] = _ratio(mv["churned_customers"], cust_prev)
    row["churn_rate_simple"] = _ratio(cust_prev - cust, cust_prev)
    row["gross_mrr_churn_rate"] = _ratio(-lost, mrr_prev)
    # The cohort C(m-1) keeps, in m: MRR(m-1) + expansion + contraction + churn (NRR)
    # and MRR(m-1) + contraction + churn when expansion is capped (GRR).
    row["nrr_1m"] = _ratio(mrr_prev + mv["expansion_mrr"] + lost, mrr_prev)
    row["grr_1m"] = _ratio(mrr_prev + lost, mrr_prev)
    row["arpa"] = _ratio(_money(mrr), cust)
    row["quick_ratio"] = _ratio(gained, -lost)
    return row


# ---------------------------------------------------------------- public API
def revenue_months(subscriptions: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """MRR, its movements and the monthly rates, one row per month of the period with movements.

    A month has movements when its month m-1 is not before the first month of
    the subscriptions table (that first month is the opening balance). Movement
    amounts are signed (contraction and churn negative); ``net_new_mrr`` is their
    sum, which equals ``MRR(m) - MRR(m-1)``. Rates with a zero denominator are null.
    Beyond the columns of metrics.json, the counts of expanding and contracting
    accounts are given.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Returns:
        A polars DataFrame with the columns of ``REVENUE_MONTH_SCHEMA``, sorted by month.

    Examples:
        >>> import datetime as dt, polars as pl
        >>> subs = pl.DataFrame({"account_id": ["a", "a", "b"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 2, 1)],
        ...     "mrr": [10.0, 15.0, 5.0]})
        >>> revenue_months(subs, period=("2024-01", "2024-02")).select(
        ...     "month", "mrr", "new_mrr", "expansion_mrr", "net_new_mrr", "nrr_1m").rows()
        [('2024-02', 20.0, 5.0, 5.0, 10.0, 1.5)]
    """
    first_p, last_p = _period_index(period)
    ledger = _ledger(subscriptions)
    rows = [_month_row(ledger, mi) for mi in range(first_p, last_p + 1) if ledger.has_movements(mi)]
    return pl.DataFrame(rows, schema=REVENUE_MONTH_SCHEMA)


def _cohort_sums(subscriptions: Any, start: int, horizon: int) -> tuple[int, int, int]:
    """Σ mrr(s), Σ mrr(s+h) and Σ min(mrr(s+h), mrr(s)) over the cohort C(s), micro-units."""
    paid = _paid_rows(subscriptions)
    base = paid.filter(nw.col("mi") == start).select("account_id", nw.col("micro").alias("c0"))
    later = paid.filter(nw.col("mi") == start + horizon).select(
        "account_id", nw.col("micro").alias("c1")
    )
    out = (
        base.join(later, on="account_id", how="left")
        .with_columns(nw.col("c1").fill_null(0))
        .select(
            nw.col("c0").sum().alias("c0"),
            nw.col("c1").sum().alias("c1"),
            nw.min_horizontal("c0", "c1").sum().alias("kept"),
        )
        .collect(backend="polars")
        .to_native()
    )
    return tuple(int(v or 0) for v in out.row(0))  # type: ignore[return-value]


def _check_horizon(horizon: int) -> None:
    if horizon < 0:
        raise ValueError(f"horizon must be >= 0 months, got {horizon}")


def nrr(subscriptions: Any, *, start: str, horizon: int) -> float | None:
    """Net revenue retention ``NRR(s, h)`` of the cohort of customers paying in ``start``.

    ``Σ_{a ∈ C(s)} mrr_a(s+h) / Σ_{a ∈ C(s)} mrr_a(s)``; null when nobody paid in
    ``s`` (for instance ``s`` before the data). A month ``s+h`` after the data is
    read literally (no row means MRR 0).

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        start: the start month s, ``"YYYY-MM"``.
        horizon: h, in months (>= 0).

    Examples:
        >>> import datetime as dt, polars as pl
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
        ...     "mrr": [10.0, 10.0, 15.0]})
        >>> nrr(subs, start="2024-01", horizon=1)
        0.75
    """
    _check_horizon(horizon)
    c0, c1, _ = _cohort_sums(subscriptions, month_index(parse_month(start)), horizon)
    return _ratio(c1, c0)


def grr(subscriptions: Any, *, start: str, horizon: int) -> float | None:
    """Gross revenue retention ``GRR(s, h)``: NRR with each account capped at its MRR in s.

    ``Σ_{a ∈ C(s)} min(mrr_a(s+h), mrr_a(s)) / Σ_{a ∈ C(s)} mrr_a(s)``; null when
    nobody paid in ``s``.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        start: the start month s, ``"YYYY-MM"``.
        horizon: h, in months (>= 0).

    Examples:
        >>> import datetime as dt, polars as pl
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 1, 1), dt.date(2024, 2, 1)],
        ...     "mrr": [10.0, 10.0, 15.0]})
        >>> grr(subs, start="2024-01", horizon=1)
        0.5
    """
    _check_horizon(horizon)
    c0, _, kept = _cohort_sums(subscriptions, month_index(parse_month(start)), horizon)
    return _ratio(kept, c0)


def _annual(subscriptions: Any, period: tuple[str, str], which: int) -> float | None:
    _, end = _period_index(period)
    first, _ = _table_bounds(subscriptions)
    if first is None or end - 12 < first:
        return None
    sums = _cohort_sums(subscriptions, end - 12, 12)
    return _ratio(sums[which], sums[0])


def nrr_12m(subscriptions: Any, *, period: tuple[str, str]) -> float | None:
    """Annual NRR: ``NRR(E-12, 12)``, E = the period's last month.

    Null when E-12 is before the first month of the subscriptions table, or
    when nobody paid in E-12.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Examples:
        >>> import datetime as dt, polars as pl
        >>> subs = pl.DataFrame({"account_id": ["a", "a", "a"],
        ...     "month": [dt.date(2023, 1, 1), dt.date(2023, 6, 1), dt.date(2024, 1, 1)],
        ...     "mrr": [10.0, 10.0, 12.0]})
        >>> nrr_12m(subs, period=("2023-06", "2024-01")), nrr_12m(subs, period=("2023-06", "2023-12"))
        (1.2, None)
    """
    return _annual(subscriptions, period, 1)


def grr_12m(subscriptions: Any, *, period: tuple[str, str]) -> float | None:
    """Annual GRR: ``GRR(E-12, 12)``, E = the period's last month; null as :func:`nrr_12m`.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Examples:
        >>> import datetime as dt, polars as pl
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...     "month": [dt.date(2023, 1, 1), dt.date(2023, 1, 1), dt.date(2024, 1, 1)],
        ...     "mrr": [10.0, 10.0, 12.0]})
        >>> grr_12m(subs, period=("2023-01", "2024-01"))
        0.5
    """
    return _annual(subscriptions, period, 2)


def arpa(subscriptions: Any, *, month: str) -> float | None:
    """Average revenue per account in a month: ``MRR(m) / |C(m)|``; null with no customers.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        month: the month, ``"YYYY-MM"``.

    Examples:
        >>> import datetime as dt, polars as pl
        >>> subs = pl.DataFrame({"account_id": list("abcde"), "month": [dt.date(2024, 1, 1)] * 5,
        ...     "mrr": [1.0, 1.0, 3.0, 5.0, 5.0]})
        >>> arpa(subs, month="2024-01")
        3.0
    """
    mi = month_index(parse_month(month))
    out = (
        _paid_rows(subscriptions)
        .filter(nw.col("mi") == mi)
        .select(nw.col("micro").sum().alias("mrr"), nw.len().alias("n"))
        .collect(backend="polars")
        .to_native()
    )
    total, n = out.row(0)
    return _ratio(_money(int(total or 0)), int(n or 0))


def quick_ratio(subscriptions: Any, *, month: str) -> float | None:
    """SaaS quick ratio of a month: (new + expansion + reactivation) / −(contraction + churn).

    Null when nothing was lost in the month, or when the month has no movements
    (it is the table's first month or before it).

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        month: the month, ``"YYYY-MM"``.

    Examples:
        >>> import datetime as dt, polars as pl
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a", "c"],
        ...     "month": [dt.date(2024, 1, 1)] * 2 + [dt.date(2024, 2, 1)] * 2,
        ...     "mrr": [10.0, 4.0, 12.0, 6.0]})
        >>> quick_ratio(subs, month="2024-02")  # (6 new + 2 expansion) / 4 churned
        2.0
    """
    mi = month_index(parse_month(month))
    ledger = _ledger(subscriptions)
    if not ledger.has_movements(mi):
        return None
    return _month_row(ledger, mi)["quick_ratio"]


def ltv(subscriptions: Any, *, period: tuple[str, str], gross_margin: float = 1.0) -> float | None:
    """Customer lifetime value: mean ARPA × gross margin / mean monthly logo churn rate.

    The mean ARPA is over the period's months that have paying customers (the
    table's first month included when it is in the period); the mean logo churn
    rate over the period's months where it is defined. Null when that churn
    rate is 0 or undefined.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.
        gross_margin: fraction of revenue kept after cost of service.

    Examples:
        >>> import datetime as dt, polars as pl
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...     "month": [dt.date(2024, 1, 1)] * 2 + [dt.date(2024, 2, 1)],
        ...     "mrr": [100.0, 100.0, 100.0]})
        >>> ltv(subs, period=("2024-01", "2024-02"), gross_margin=0.5)  # 100 * 0.5 / 0.5
        100.0
    """
    first_p, last_p = _period_index(period)
    ledger = _ledger(subscriptions)
    arpas: list[float] = []
    churns: list[float] = []
    for mi in range(first_p, last_p + 1):
        cust = ledger.get(mi, "customers")
        if cust > 0:
            arpas.append(_money(ledger.get(mi, "mrr")) / cust)
        if ledger.has_movements(mi):
            rate = _ratio(
                ledger.movements(mi)["churned_customers"], ledger.get(mi - 1, "customers")
            )
            if rate is not None:
                churns.append(rate)
    if not arpas or not churns:
        return None
    mean_churn = math.fsum(churns) / len(churns)
    if mean_churn == 0:
        return None
    return math.fsum(arpas) / len(arpas) * gross_margin / mean_churn


def revenue_retention(subscriptions: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """Revenue retention by first paid month: logo retention and cohort NRR per month k.

    The cohort of an account is its first paid month s (its first month with
    mrr > 0 in the table); cohorts whose s falls in the period are listed, each
    for k = 0, 1, … while s + k is not after the period's last month.
    ``logo_retention(s, k)`` = share of the cohort paying in s + k;
    ``nrr(s, k)`` = the cohort's MRR in s + k / its MRR in s. Accounts whose first
    paid month is the table's first month form a cohort like any other.

    Args:
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Returns:
        Long format ``[cohort, k, size, logo_retention, nrr]`` sorted by cohort and k.

    Examples:
        >>> import datetime as dt, polars as pl
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...     "month": [dt.date(2024, 1, 1)] * 2 + [dt.date(2024, 2, 1)],
        ...     "mrr": [10.0, 30.0, 20.0]})
        >>> revenue_retention(subs, period=("2024-01", "2024-02")).rows()
        [('2024-01', 0, 2, 1.0, 1.0), ('2024-01', 1, 2, 0.5, 0.5)]
    """
    first_p, last_p = _period_index(period)
    cells = (
        _paid_rows(subscriptions)
        .with_columns(nw.col("mi").min().over("account_id").alias("cohort"))
        .filter(
            (nw.col("cohort") >= first_p) & (nw.col("cohort") <= last_p) & (nw.col("mi") <= last_p)
        )
        .group_by("cohort", "mi")
        .agg(nw.len().alias("n"), nw.col("micro").sum().alias("mrr"))
        .collect(backend="polars")
        .to_native()
        .with_columns(pl.col("cohort", "mi", "n", "mrr").cast(pl.Int64))
    )
    grid = {(r["cohort"], r["mi"]): (r["n"], r["mrr"]) for r in cells.iter_rows(named=True)}
    rows = []
    for cohort in sorted({c for c, _ in grid}):
        size, base = grid[(cohort, cohort)]
        for k in range(last_p - cohort + 1):
            n, mrr = grid.get((cohort, cohort + k), (0, 0))
            rows.append((month_from_index(cohort), k, size, _ratio(n, size), _ratio(mrr, base)))
    return pl.DataFrame(rows, schema=RETENTION_SCHEMA, orient="row")
