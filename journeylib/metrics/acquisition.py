"""Acquisition: CAC, CAC payback, CTR, branded search share, multi-touch and Markov attribution.

Definitions: ``shared/spec/metrics.md`` § Acquisition. Every function takes native
frames of any narwhals-supported engine (polars eager or lazy, DuckDB, PySpark),
computes lazily and returns a small polars frame or a plain Python value.
Undefined values (zero denominators) are ``None``.

Readings of the spec chosen here (the "natural reading" rule):

* "New customers" are the *new* movement of :mod:`journeylib.metrics.revenue`:
  accounts whose first paid month is in the period and is not the first month
  of the subscriptions table (that month is the opening balance and has no
  movements). Reactivations are not new customers.
* New customers whose ``acquisition_channel`` is null (or who are missing from
  ``accounts``) are counted under the channel ``(none)``, as in attribution.
* Money is summed in integer micro-units (see ``journeylib.metrics._ledger``).
* Attribution conversions are the ``subscription_started`` events: every account
  whose first paid month is in the period, the table's first month included.
* DuckDB and Spark sessions must use the UTC time zone (the project's
  convention): the conversion instant is built by casting a date to a UTC
  datetime.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
import math
from collections.abc import Sequence
from fractions import Fraction
from typing import Any, Literal

import narwhals as nw
import numpy as np
import polars as pl

from journeylib.frames import collect, engine_of, to_lazy, with_optional
from journeylib.metrics._ledger import MICRO, ledger_of, paid_rows, table_bounds, to_micro
from journeylib.metrics._values import ratio
from journeylib.months import in_months, month_from_index, month_index_of, period_index

__all__ = [
    "MODELS",
    "NO_CHANNEL",
    "MarkovPaths",
    "attribution",
    "attribution_json",
    "branded_search_by_month",
    "branded_search_share",
    "cac",
    "cac_by_channel",
    "cac_by_model",
    "cac_by_month",
    "cac_payback_months",
    "ctr",
    "markov_attribution",
    "markov_model",
]

NO_CHANNEL = "(none)"
"""The channel of new customers and conversions without a known channel."""


# ---------------------------------------------------------------- helpers
def _in_period(mi: nw.Expr, first: int, last: int) -> nw.Expr:
    """Whether a month-index expression lies in ``[first, last]``.

    ``months.in_months`` is the same test on a date column (it derives the index itself).
    """
    return (mi >= first) & (mi <= last)


def _new_customers(subscriptions: Any, period: tuple[str, str]) -> nw.LazyFrame | None:
    """The period's new customers ``[account_id, mi, micro]`` (first paid month, its MRR).

    ``None`` when the subscriptions table is empty.
    """
    first_p, last_p = period_index(period)
    table_first, _ = table_bounds(subscriptions)
    if table_first is None:
        return None
    lo = max(first_p, table_first + 1)  # the table's first month has no movements
    return (
        paid_rows(subscriptions)
        .with_columns(nw.col("mi").min().over("account_id").alias("first_mi"))
        .filter((nw.col("mi") == nw.col("first_mi")) & _in_period(nw.col("mi"), lo, last_p))
        .select("account_id", "mi", "micro")
    )


def _spend_micro(marketing: Any, first: int, last: int) -> int:
    out = collect(
        to_lazy(marketing)
        .filter(in_months("month", first, last))
        .select(to_micro("spend").sum().alias("spend"))
    )
    return int(out.item() or 0)


def _new_count(subscriptions: Any, period: tuple[str, str]) -> tuple[int, int]:
    """Number of the period's new customers and the sum of their first-month MRR (micro)."""
    new = _new_customers(subscriptions, period)
    if new is None:
        return 0, 0
    n, total = collect(new.select(nw.len().alias("n"), nw.col("micro").sum().alias("mrr"))).row(0)
    return int(n or 0), int(total or 0)


def _branded(terms: Sequence[str]) -> nw.Expr:
    """Whether ``query`` contains one of ``terms``, case-insensitively, as a substring."""
    q = nw.col("query").str.to_lowercase()
    expr = nw.lit(False)
    for term in terms:
        expr = expr | q.str.contains(term.lower(), literal=True)
    return expr.fill_null(False)


# ---------------------------------------------------------------- CAC
def cac(marketing: Any, subscriptions: Any, *, period: tuple[str, str]) -> float | None:
    """Customer acquisition cost of the period: Σ spend / new customers.

    New customers are the new MRR movement (not reactivations) of the period's
    months; null with zero new customers.

    Args:
        marketing: native frame with ``month``, ``spend``.
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Examples:
        >>> mkt = pl.DataFrame({"month": [dt.date(2024, 2, 1)], "channel": ["email"],
        ...     "spend": [300.0]})
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "c"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 2, 1)],
        ...     "mrr": [10.0, 10.0, 20.0]})
        >>> cac(mkt, subs, period=("2024-01", "2024-02"))  # 300 / 2 (a is the opening balance)
        150.0
    """
    first_p, last_p = period_index(period)
    n, _ = _new_count(subscriptions, period)
    return ratio(_spend_micro(marketing, first_p, last_p) / MICRO, n)


_CAC_MONTH_SCHEMA = {
    "month": pl.String,
    "spend": pl.Float64,
    "new_customers": pl.Int64,
    "cac": pl.Float64,
}


def cac_by_month(marketing: Any, subscriptions: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """Monthly CAC: one row per month of the period, ``[month, spend, new_customers, cac]``.

    ``new_customers`` (and so ``cac``) is null for a month without movements
    (the subscriptions table's first month or before it); ``cac`` is null with
    zero new customers.

    Args:
        marketing: native frame with ``month``, ``spend``.
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Examples:
        >>> mkt = pl.DataFrame({"month": [dt.date(2024, 2, 1), dt.date(2024, 3, 1)],
        ...     "channel": ["email", "email"], "spend": [300.0, 100.0]})
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "c"],
        ...     "month": [dt.date(2024, m, 1) for m in (1, 2, 3)], "mrr": [10.0] * 3})
        >>> cac_by_month(mkt, subs, period=("2024-01", "2024-03")).rows()
        [('2024-01', 0.0, None, None), ('2024-02', 300.0, 1, 300.0), ('2024-03', 100.0, 1, 100.0)]
    """
    first_p, last_p = period_index(period)
    spend = collect(
        to_lazy(marketing)
        .with_columns(month_index_of("month").cast(nw.Int64).alias("mi"))
        .filter(_in_period(nw.col("mi"), first_p, last_p))
        .group_by("mi")
        .agg(to_micro("spend").sum().alias("spend"))
    ).with_columns(pl.col("mi", "spend").cast(pl.Int64))
    spend_by = dict(spend.iter_rows())
    ledger = ledger_of(subscriptions)
    rows = []
    for mi in range(first_p, last_p + 1):
        s = spend_by.get(mi, 0) / MICRO
        n = ledger.movements(mi)["new_customers"] if ledger.has_movements(mi) else None
        rows.append((month_from_index(mi), s, n, None if n is None else ratio(s, n)))
    return pl.DataFrame(rows, schema=_CAC_MONTH_SCHEMA, orient="row")


def cac_by_channel(
    marketing: Any, subscriptions: Any, accounts: Any, *, period: tuple[str, str]
) -> pl.DataFrame:
    """CAC, reach and CTR per channel over the period.

    The channels listed are those with marketing rows in the period plus the
    ``acquisition_channel`` of the period's new customers (``(none)`` when null).
    A channel with no marketing rows has spend 0 and null impressions, clicks
    and CTR. ``impressions`` and ``clicks`` are each summed over the rows where
    they are present; ``ctr`` over the rows with both present (null when there
    are none or they have no impressions). ``cac`` is null with zero new customers.

    Args:
        marketing: native frame with ``month``, ``channel``, ``spend``, ``impressions``, ``clicks``.
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        accounts: native frame with ``account_id``, ``acquisition_channel``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Returns:
        ``[channel, spend, new_customers, cac, impressions, clicks, ctr]`` sorted by channel.

    Examples:
        >>> mkt = pl.DataFrame({"month": [dt.date(2024, 2, 1)], "channel": ["email"],
        ...     "spend": [300.0], "impressions": [1000], "clicks": [50]})
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "c"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 2, 1)],
        ...     "mrr": [10.0, 10.0, 20.0]})
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"],
        ...     "acquisition_channel": ["email", "email", "referral"]})
        >>> cac_by_channel(mkt, subs, acc, period=("2024-01", "2024-02")).rows()
        [('email', 300.0, 1, 300.0, 1000, 50, 0.05), ('referral', 0.0, 1, 0.0, None, None, None)]
    """
    first_p, last_p = period_index(period)
    imp, clk = nw.col("impressions"), nw.col("clicks")
    both = ~imp.is_null() & ~clk.is_null()
    mkt = collect(
        with_optional(to_lazy(marketing), {"impressions": nw.Int64(), "clicks": nw.Int64()})
        .filter(in_months("month", first_p, last_p))
        .group_by("channel")
        .agg(
            to_micro("spend").sum().alias("spend"),
            imp.sum().alias("impressions"),
            imp.count().alias("n_imp"),
            clk.sum().alias("clicks"),
            clk.count().alias("n_clk"),
            nw.when(both).then(imp).otherwise(0).sum().alias("both_imp"),
            nw.when(both).then(clk).otherwise(0).sum().alias("both_clk"),
            nw.when(both).then(1).otherwise(0).sum().alias("n_both"),
        )
    )
    mkt = mkt.with_columns(pl.exclude("channel").cast(pl.Int64))
    new = _new_customers(subscriptions, period)
    if new is None:
        news = pl.DataFrame(schema={"channel": pl.String, "new_customers": pl.Int64})
    else:
        acc = with_optional(to_lazy(accounts), {"acquisition_channel": nw.String()})
        acc = acc.select("account_id", "acquisition_channel")
        news = collect(
            new.join(acc, on="account_id", how="left")
            .with_columns(
                nw.col("acquisition_channel")
                .cast(nw.String())
                .fill_null(NO_CHANNEL)
                .alias("channel")
            )
            .group_by("channel")
            .agg(nw.len().alias("new_customers"))
        ).with_columns(pl.col("new_customers").cast(pl.Int64))
    # Small frames from here on: combine them eagerly in polars.
    out = mkt.join(news, on="channel", how="full", coalesce=True).with_columns(
        pl.col("new_customers").fill_null(0)
    )
    has_rows = pl.col("spend").is_not_null()
    out = out.select(
        pl.col("channel"),
        (pl.col("spend").fill_null(0) / MICRO).alias("spend"),
        pl.col("new_customers"),
        pl.when(pl.col("new_customers") > 0)
        .then(pl.col("spend").fill_null(0) / MICRO / pl.col("new_customers"))
        .alias("cac"),
        pl.when(has_rows & (pl.col("n_imp") > 0)).then(pl.col("impressions")).alias("impressions"),
        pl.when(has_rows & (pl.col("n_clk") > 0)).then(pl.col("clicks")).alias("clicks"),
        pl.when(has_rows & (pl.col("n_both") > 0) & (pl.col("both_imp") > 0))
        .then(pl.col("both_clk") / pl.col("both_imp"))
        .alias("ctr"),
    )
    return out.sort("channel")


def cac_payback_months(
    marketing: Any, subscriptions: Any, *, period: tuple[str, str], gross_margin: float = 1.0
) -> float | None:
    """Months of gross margin needed to earn back the CAC.

    ``CAC / (mean first-month MRR of the period's new customers × gross_margin)``;
    null when the CAC is null or the denominator is 0.

    Args:
        marketing: native frame with ``month``, ``spend``.
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.
        gross_margin: fraction of revenue kept after cost of service.

    Examples:
        >>> mkt = pl.DataFrame({"month": [dt.date(2024, 2, 1)], "channel": ["email"],
        ...     "spend": [1200.0]})
        >>> subs = pl.DataFrame({"account_id": ["a", "b"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1)], "mrr": [50.0, 100.0]})
        >>> cac_payback_months(mkt, subs, period=("2024-01", "2024-02"), gross_margin=0.8)
        15.0
    """
    first_p, last_p = period_index(period)
    n, first_mrr = _new_count(subscriptions, period)
    if n == 0:
        return None
    acquisition_cost = _spend_micro(marketing, first_p, last_p) / MICRO / n
    return ratio(acquisition_cost, first_mrr / MICRO / n * gross_margin)


def ctr(
    marketing: Any,
    *,
    by: Literal["channel", "campaign"] = "channel",
    period: tuple[str, str] | None = None,
) -> pl.DataFrame:
    """Click-through rate Σ clicks / Σ impressions per channel or per campaign.

    Only rows with both impressions and clicks present count. Rows without a
    campaign are grouped under ``(none)``. A group whose rows never have both
    (or have no impressions) has null sums and CTR.

    Args:
        marketing: native frame with ``month``, ``channel``, ``campaign``, ``impressions``, ``clicks``.
        by: ``"channel"`` or ``"campaign"``.
        period: optional closed month range; all rows when ``None``.

    Returns:
        ``[<by>, impressions, clicks, ctr]`` sorted by ``<by>``.

    Examples:
        >>> mkt = pl.DataFrame({"month": [dt.date(2024, 1, 1)] * 3, "channel": ["a", "a", "b"],
        ...     "campaign": ["x", None, "y"], "impressions": [100, 100, None],
        ...     "clicks": [5, 15, 3]})
        >>> ctr(mkt).rows()
        [('a', 200, 20, 0.1), ('b', None, None, None)]
    """
    if by not in ("channel", "campaign"):
        raise ValueError(f"by must be 'channel' or 'campaign', got {by!r}")
    optional = {"impressions": nw.Int64(), "clicks": nw.Int64(), "campaign": nw.String()}
    lf = with_optional(to_lazy(marketing), optional)
    if period is not None:
        first_p, last_p = period_index(period)
        lf = lf.filter(in_months("month", first_p, last_p))
    imp, clk = nw.col("impressions"), nw.col("clicks")
    both = ~imp.is_null() & ~clk.is_null()
    out = collect(
        lf.with_columns(nw.col(by).fill_null(NO_CHANNEL))
        .group_by(by)
        .agg(
            nw.when(both).then(imp).otherwise(0).sum().alias("impressions"),
            nw.when(both).then(clk).otherwise(0).sum().alias("clicks"),
            nw.when(both).then(1).otherwise(0).sum().alias("n"),
        )
    ).with_columns(pl.col("impressions", "clicks", "n").cast(pl.Int64))
    usable = pl.col("n") > 0
    return out.select(
        pl.col(by),
        pl.when(usable).then(pl.col("impressions")).alias("impressions"),
        pl.when(usable).then(pl.col("clicks")).alias("clicks"),
        pl.when(usable & (pl.col("impressions") > 0))
        .then(pl.col("clicks") / pl.col("impressions"))
        .alias("ctr"),
    ).sort(by)


# ---------------------------------------------------------------- branded search
def branded_search_share(
    search_queries: Any, *, period: tuple[str, str], branded_terms: Sequence[str]
) -> float | None:
    """Share of search clicks on branded queries over the period.

    A query is branded when it contains a branded term as a case-insensitive
    substring. Null when there are no clicks in the period, or no branded terms
    are configured (the share cannot be measured then).

    Args:
        search_queries: native frame with ``date``, ``query``, ``clicks``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.
        branded_terms: the client's brand terms.

    Examples:
        >>> sq = pl.DataFrame({"date": [dt.date(2024, 1, 5)] * 2, "query": ["Acme login", "crm"],
        ...     "clicks": [30, 70], "impressions": [40, 400]})
        >>> branded_search_share(sq, period=("2024-01", "2024-01"), branded_terms=["acme"])
        0.3
    """
    if not branded_terms:
        return None
    by_month = branded_search_by_month(search_queries, period=period, branded_terms=branded_terms)
    return ratio(by_month["branded_clicks"].sum(), by_month["clicks"].sum())


def branded_search_by_month(
    search_queries: Any, *, period: tuple[str, str], branded_terms: Sequence[str]
) -> pl.DataFrame:
    """Branded search share per month of the period (clicks, and impressions beside it).

    One row per month of the period; a month without queries has zero sums and
    null shares. With no branded terms the branded sums and the shares are null.

    Args:
        search_queries: native frame with ``date``, ``query``, ``clicks``, ``impressions``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.
        branded_terms: the client's brand terms.

    Returns:
        ``[month, clicks, branded_clicks, share, impressions, branded_impressions,
        impression_share]`` sorted by month.

    Examples:
        >>> sq = pl.DataFrame({"date": [dt.date(2024, 1, 5)] * 2, "query": ["Acme login", "crm"],
        ...     "clicks": [30, 70], "impressions": [40, 400]})
        >>> branded_search_by_month(sq, period=("2024-01", "2024-02"), branded_terms=["ACME"]).rows()
        [('2024-01', 100, 30, 0.3, 440, 40, 0.09090909090909091), ('2024-02', 0, 0, None, 0, 0, None)]
    """
    first_p, last_p = period_index(period)
    branded = _branded(branded_terms)
    agg = collect(
        to_lazy(search_queries)
        .with_columns(month_index_of("date").cast(nw.Int64).alias("mi"))
        .filter(_in_period(nw.col("mi"), first_p, last_p))
        .group_by("mi")
        .agg(
            nw.col("clicks").sum().alias("clicks"),
            nw.when(branded).then(nw.col("clicks")).otherwise(0).sum().alias("branded_clicks"),
            nw.col("impressions").sum().alias("impressions"),
            nw.when(branded)
            .then(nw.col("impressions"))
            .otherwise(0)
            .sum()
            .alias("branded_impressions"),
        )
    ).with_columns(pl.all().cast(pl.Int64))
    cells = {r["mi"]: r for r in agg.iter_rows(named=True)}
    rows = []
    for mi in range(first_p, last_p + 1):
        r = cells.get(
            mi, {"clicks": 0, "branded_clicks": 0, "impressions": 0, "branded_impressions": 0}
        )
        bc = r["branded_clicks"] if branded_terms else None
        bi = r["branded_impressions"] if branded_terms else None
        rows.append(
            (
                month_from_index(mi),
                r["clicks"],
                bc,
                None if bc is None else ratio(bc, r["clicks"]),
                r["impressions"],
                bi,
                None if bi is None else ratio(bi, r["impressions"]),
            )
        )
    schema = {
        "month": pl.String,
        "clicks": pl.Int64,
        "branded_clicks": pl.Int64,
        "share": pl.Float64,
        "impressions": pl.Int64,
        "branded_impressions": pl.Int64,
        "impression_share": pl.Float64,
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


# ---------------------------------------------------------------- attribution
MODELS = ("first_touch", "last_touch", "linear", "position_based", "markov")
"""The attribution models, in the order of their columns."""

ATTRIBUTION_SCHEMA: dict[str, pl.DataType] = {
    "channel": pl.String(),
    **{model: pl.Float64() for model in MODELS},
}


def _position_credit(n: int, pos: int) -> Fraction:
    """Position-based credit of a touch: 40/40/20, n = 1 → 1, n = 2 → 1/2 each."""
    if n == 1:
        return Fraction(1)
    if n == 2:
        return Fraction(1, 2)
    return Fraction(2, 5) if pos != 1 else Fraction(1, 5 * (n - 2))


class _Touches:
    """The channel touches of an events frame, with the order that breaks timestamp ties."""

    def __init__(self, events: Any, order_by: str | None) -> None:
        native = nw.to_native(events) if isinstance(events, nw.DataFrame | nw.LazyFrame) else events
        ev = to_lazy(native)
        self.on_polars = engine_of(native) == "polars"
        tie = order_by
        if tie is None and "seq" in ev.collect_schema().names():
            tie = "seq"
        if tie is None and self.on_polars:
            # polars frames have a defined row order: number it before anything reorders rows.
            tie = "_row"
            ev = to_lazy(native.with_row_index(tie))
        self.order = ["timestamp", tie] if tie is not None else ["timestamp", "channel"]
        extra = [tie] if tie not in (None, "account_id", "timestamp", "channel") else []
        self.frame = ev.filter(
            ~nw.col("account_id").is_null() & ~nw.col("channel").is_null()
        ).select("account_id", "timestamp", nw.col("channel").cast(nw.String()), *extra)

    def materialised(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """``lf`` read once on polars (a small part of the events, used twice); else as is."""
        return to_lazy(collect(lf)) if self.on_polars else lf

    def ranked(self, lf: nw.LazyFrame) -> nw.LazyFrame:
        """Each touch's rank 1..n in its account's order, n, and the channel before it."""
        over = {"order_by": self.order}
        return lf.with_columns(nw.lit(1).alias("_one")).with_columns(
            # cum_sum over a rows frame: ranks 1..n even when order keys tie.
            nw.col("_one").cum_sum().over("account_id", **over).alias("_rank"),
            nw.col("_one").sum().over("account_id").alias("_n"),
            nw.col("channel").shift(1).over("account_id", **over).alias("_prev"),
        )


def _conversions(subscriptions: Any, first: int, last: int) -> nw.LazyFrame:
    """The period's conversions ``[account_id, conv_at]`` (first paid month, its first instant)."""
    return (
        to_lazy(subscriptions)
        .with_columns(
            month_index_of("month").cast(nw.Int64).alias("mi"), to_micro("mrr").alias("micro")
        )
        .filter(nw.col("micro") > 0)
        .group_by("account_id")
        .agg(nw.col("mi").min().alias("mi"), nw.col("month").min().alias("conv_month"))
        .filter(_in_period(nw.col("mi"), first, last))
        .select("account_id", nw.col("conv_month").cast(nw.Datetime("us", "UTC")).alias("conv_at"))
    )


def _fallback_conversions(
    conversions: nw.LazyFrame, touched: nw.LazyFrame, accounts: Any
) -> pl.DataFrame:
    """Conversions without a touch, counted per fallback channel ``[channel, count]``."""
    acc = with_optional(to_lazy(accounts), {"acquisition_channel": nw.String()})
    return collect(
        conversions.join(touched.select("account_id").unique(), on="account_id", how="anti")
        .join(
            acc.select("account_id", nw.col("acquisition_channel").cast(nw.String())),
            on="account_id",
            how="left",
        )
        .with_columns(nw.col("acquisition_channel").fill_null(NO_CHANNEL).alias("channel"))
        .group_by("channel")
        .agg(nw.len().alias("count"))
    ).with_columns(pl.col("count").cast(pl.Int64))


# ------------------------------------------------------------ Markov chain
def _bump(counts: dict[Any, int], key: Any, n: int) -> None:
    counts[key] = counts.get(key, 0) + n


class MarkovPaths:
    """Transition counts of channel paths (consecutive repeats collapsed).

    ``start[c]`` counts the paths whose first channel is c, ``moves[(a, b)]`` the
    steps a → b, ``conversion[c]`` and ``null[c]`` the paths that end at c with a
    conversion or without one.
    """

    def __init__(self) -> None:
        self.start: dict[str, int] = {}
        self.moves: dict[tuple[str, str], int] = {}
        self.conversion: dict[str, int] = {}
        self.null: dict[str, int] = {}

    def add_path(self, channels: Sequence[str], converted: bool, count: int = 1) -> None:
        """Add ``count`` paths through ``channels`` (in time order; repeats are collapsed)."""
        if not channels:
            raise ValueError("a path needs at least one channel")
        collapsed = [c for i, c in enumerate(channels) if i == 0 or channels[i - 1] != c]
        _bump(self.start, collapsed[0], count)
        for a, b in zip(collapsed, collapsed[1:], strict=False):
            _bump(self.moves, (a, b), count)
        _bump(self.conversion if converted else self.null, collapsed[-1], count)

    @property
    def channels(self) -> list[str]:
        """Every channel of the paths, sorted."""
        names = set(self.start) | set(self.conversion) | set(self.null)
        names |= {c for pair in self.moves for c in pair}
        return sorted(names)

    def conversion_probability(self, removed: str | None = None) -> float:
        """P(reaching (conversion) from (start)), the absorbing chain solved exactly.

        With ``removed``, every transition into that channel goes to (null) instead.
        """
        names = self.channels
        if not names:
            return 0.0
        index = {c: i for i, c in enumerate(names)}
        k = len(names)
        out = np.zeros(k)  # transitions leaving each state, to any state
        q = np.zeros((k, k))
        r = np.zeros(k)
        for (a, b), n in self.moves.items():
            q[index[a], index[b]] += n
            out[index[a]] += n
        for c, n in self.conversion.items():
            r[index[c]] += n
            out[index[c]] += n
        for c, n in self.null.items():
            out[index[c]] += n
        q /= out[:, None]
        r /= out
        s = np.array([self.start.get(c, 0) for c in names], dtype=float)
        s /= s.sum()
        if removed is not None:
            gone = index[removed]
            q[:, gone] = 0.0  # moves into the removed channel end in (null)
            s[gone] = 0.0
            q[gone, :] = 0.0  # and it is never left: absorbing, converting nothing
            r[gone] = 0.0
        # x = Q x + r: the probability of converting from each channel.
        x = np.linalg.solve(np.eye(k) - q, r)
        return float(s @ x)

    def converting_channels(self) -> set[str]:
        """The channels from which (conversion) can be reached."""
        reach = set(self.conversion)
        grew = True
        while grew:
            before = len(reach)
            reach |= {a for (a, b) in self.moves if b in reach}
            grew = len(reach) > before
        return reach

    def removal_effects(self) -> dict[str, float]:
        """``RE(c) = 1 − P_without_c / P`` per channel (0 for every channel when P is 0).

        A channel that cannot reach (conversion) has RE exactly 0 (removing it
        changes nothing); every other one has RE > 0, computed in floating point.
        """
        p = self.conversion_probability()
        converting = self.converting_channels()
        if p <= 0:
            return dict.fromkeys(self.channels, 0.0)
        return {
            c: min(1.0, max(0.0, 1.0 - self.conversion_probability(c) / p))
            if c in converting
            else 0.0
            for c in self.channels
        }

    def credits(self, conversions: int) -> dict[str, float]:
        """``conversions × RE(c) / Σ RE`` per channel (0 everywhere when Σ RE is 0)."""
        effects = self.removal_effects()
        total = math.fsum(effects.values())
        if total <= 0:
            return dict.fromkeys(effects, 0.0)
        return {c: conversions * e / total for c, e in effects.items()}


def markov_model(paths: Sequence[tuple[Sequence[str], bool]]) -> MarkovPaths:
    """The order-1 Markov chain of explicit paths ``(channels, converted)``.

    Examples:
        >>> m = markov_model([(["A", "B"], True), (["A"], False), (["B"], True)])
        >>> round(m.conversion_probability(), 4), m.removal_effects()
        (0.6667, {'A': 0.5, 'B': 1.0})
        >>> {c: round(v, 3) for c, v in m.credits(2).items()}
        {'A': 0.667, 'B': 1.333}
    """
    model = MarkovPaths()
    for channels, converted in paths:
        model.add_path(channels, converted)
    return model


def _touch_cells(ranked: nw.LazyFrame) -> pl.DataFrame:
    """Ranked touches (see ``_Touches.ranked``) counted by what every model reads, in one query.

    ``[channel, _n, _pos, _prev, _step, count]``: the path's length n, the
    touch's position (0 first, 2 last, 1 between; n = 1 is first), the channel
    before it and whether it starts a new step (its channel differs from the
    one before: repeats collapse). The heuristic models read (channel, n, pos),
    the Markov chain the steps and the last touches; one aggregate serves both,
    so DuckDB and Spark compute the windows once.
    """
    return collect(
        ranked.with_columns(
            nw.when(nw.col("_rank") == 1)
            .then(0)
            .when(nw.col("_rank") == nw.col("_n"))
            .then(2)
            .otherwise(1)
            .alias("_pos"),
            (nw.col("_prev").is_null() | (nw.col("_prev") != nw.col("channel"))).alias("_step"),
        )
        .group_by("channel", "_n", "_pos", "_prev", "_step")
        .agg(nw.len().alias("count"))
    ).with_columns(pl.col("_n", "_pos", "count").cast(pl.Int64))


def _add_transitions(model: MarkovPaths, cells: pl.DataFrame, converted: bool) -> None:
    """Add the transitions of the touches counted by :func:`_touch_cells`, one path per account."""
    steps = cells.filter(pl.col("_step")).group_by("_prev", "channel").agg(pl.col("count").sum())
    for prev, channel, n in steps.iter_rows():
        if prev is None:
            _bump(model.start, channel, int(n))
        else:
            _bump(model.moves, (prev, channel), int(n))
    last = (pl.col("_pos") == 2) | (pl.col("_n") == 1)
    ends = cells.filter(last).group_by("channel").agg(pl.col("count").sum())
    target = model.conversion if converted else model.null
    for channel, n in ends.iter_rows():
        _bump(target, channel, int(n))


def _converting_touches(
    touches: _Touches, conversions: nw.LazyFrame, window_days: int
) -> nw.LazyFrame:
    """The touches in each conversion's window, ``conv − window ≤ timestamp ≤ conv``."""
    return touches.materialised(
        touches.frame.join(conversions, on="account_id", how="inner").filter(
            (nw.col("timestamp") <= nw.col("conv_at"))
            & (nw.col("timestamp") >= nw.col("conv_at").dt.offset_by(f"-{window_days}d"))
        )
    )


def _non_converting_touches(
    touches: _Touches, subscriptions: Any, first: int, last: int, window_days: int
) -> nw.LazyFrame:
    """Touches of the accounts touched in the period that never paid up to its end.

    Each account's touches in the window ending at its last touch in the period
    (the window may reach before the period).
    """
    paid = paid_rows(subscriptions).filter(nw.col("mi") <= last).select("account_id").unique()
    last_touch = (
        touches.frame.filter(in_months("timestamp", first, last))
        .group_by("account_id")
        .agg(nw.col("timestamp").max().alias("last_at"))
        .join(paid, on="account_id", how="anti")
    )
    return touches.materialised(
        touches.frame.join(last_touch, on="account_id", how="inner").filter(
            (nw.col("timestamp") <= nw.col("last_at"))
            & (nw.col("timestamp") >= nw.col("last_at").dt.offset_by(f"-{window_days}d"))
        )
    )


def markov_attribution(
    events: Any,
    subscriptions: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    window_days: int = 90,
    order_by: str | None = None,
) -> dict[str, Any]:
    """Data-driven attribution: the order-1 Markov chain's removal effects.

    Paths of channels from the touches of :func:`attribution`: a *converting
    path* is a converting account's touches in its window, ending in
    (conversion), or its fallback channel (``acquisition_channel``, else
    ``(none)``) when it has no touch; a *non-converting path* is an account
    with a touch in the period that never paid up to the period's end: its
    touches in the ``window_days`` ending at its last touch in the period,
    ending in (null). Consecutive repeats of a channel are collapsed. Each
    path adds ``(start) → c1 → … → ck → (conversion|null)``; transition
    probabilities are count(a→b) / count(a→·), and ``P`` (reaching
    (conversion) from (start)) is solved exactly from the absorbing chain.
    ``RE(c) = 1 − P_without_c / P``, where removing c sends every transition
    into c to (null); credit(c) = conversions × RE(c) / Σ RE, so the credits
    sum to the conversions. Without conversions every effect and credit is 0.

    Returns:
        ``{"conversions", "paths": {"converting", "non_converting"},
        "removal_effects": {channel: RE}, "credits": {channel: credit}}``, channels sorted.

    Examples:
        >>> utc = dt.timezone.utc
        >>> ev = pl.DataFrame({"account_id": ["a", "a", "b", "c"],
        ...     "channel": ["A", "B", "A", "B"],
        ...     "timestamp": [dt.datetime(2024, 1, d, tzinfo=utc) for d in (10, 20, 15, 5)]})
        >>> subs = pl.DataFrame({"account_id": ["a", "c"], "month": [dt.date(2024, 2, 1)] * 2,
        ...     "mrr": [9.0, 9.0]})
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "acquisition_channel": [None] * 3})
        >>> m = markov_attribution(ev, subs, acc, period=("2024-01", "2024-02"))
        >>> m["paths"], m["removal_effects"], {c: round(v, 3) for c, v in m["credits"].items()}
        ({'converting': 2, 'non_converting': 1}, {'A': 0.5, 'B': 1.0}, {'A': 0.667, 'B': 1.333})
    """
    return _attribute(
        events, subscriptions, accounts, period=period, window_days=window_days, order_by=order_by
    )[1]


def _markov_paths(
    touches: _Touches,
    converting: pl.DataFrame,
    fallback: pl.DataFrame,
    subscriptions: Any,
    first: int,
    last: int,
    window_days: int,
) -> tuple[MarkovPaths, int, int]:
    """The chain of the converting and non-converting paths, and the two paths' counts.

    The converting paths are given: their :func:`_touch_cells`, and the
    conversions without a touch per fallback channel.
    """
    model = MarkovPaths()
    _add_transitions(model, converting, converted=True)
    for channel, n in fallback.iter_rows():
        model.add_path([channel], converted=True, count=int(n))
    non = _non_converting_touches(touches, subscriptions, first, last, window_days)
    _add_transitions(model, _touch_cells(touches.ranked(non)), converted=False)
    n_conv = sum(model.conversion.values())
    n_non = sum(model.null.values())
    return model, n_conv, n_non


def attribution(
    events: Any,
    subscriptions: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    window_days: int = 90,
    order_by: str | None = None,
) -> pl.DataFrame:
    """Credit conversions (``subscription_started``) to channels under five models.

    A conversion is an account's first paid month, at the first instant of that
    month (UTC), counted when the month is in the period. Its touches are the
    account's events with a non-null channel and
    ``conversion - window_days ≤ timestamp ≤ conversion`` (both ends included),
    in order of timestamp, then ``order_by``. Models: first touch, last touch,
    linear (1/n each), position-based (40 % first, 40 % last, 20 % split over
    the middle; n = 1 gives 100 %, n = 2 gives 50/50) and Markov (the removal
    effects of :func:`markov_attribution`, which also reads the paths that did
    not convert). A conversion without touches credits its account's
    ``acquisition_channel``, or ``(none)``. Each model's credits sum to the
    number of conversions. The channels listed are those with a credit under
    any model: a channel seen only on paths that did not convert may have a
    Markov credit and 0 under the other four.

    Ties at one timestamp keep the row order: ``order_by`` names a column that
    gives it; by default the ``seq`` column of the journey stream when present,
    else the row order of a polars frame; for other engines without such a
    column, ties are broken by channel name (their row order is not defined).

    Args:
        events: native frame with ``account_id``, ``timestamp``, ``channel`` (raw events;
            the unified journey stream works too: derived events have no channel).
        subscriptions: native frame with ``account_id``, ``month``, ``mrr``.
        accounts: native frame with ``account_id``, ``acquisition_channel``.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.
        window_days: look-back window in days (24 h each).
        order_by: optional column that orders events with equal timestamps.

    Returns:
        ``[channel, first_touch, last_touch, linear, position_based, markov]`` sorted by channel.

    Examples:
        >>> utc = dt.timezone.utc
        >>> ev = pl.DataFrame({"account_id": ["a", "a", "a"], "channel": ["ads", "email", "seo"],
        ...     "timestamp": [dt.datetime(2024, 1, d, tzinfo=utc) for d in (10, 20, 30)]})
        >>> subs = pl.DataFrame({"account_id": ["a"], "month": [dt.date(2024, 2, 1)], "mrr": [9.0]})
        >>> acc = pl.DataFrame({"account_id": ["a"], "acquisition_channel": ["seo"]})
        >>> attribution(ev, subs, acc, period=("2024-02", "2024-02")).rows()  # doctest: +NORMALIZE_WHITESPACE
        [('ads', 1.0, 0.0, 0.3333333333333333, 0.4, 0.3333333333333333),
         ('email', 0.0, 0.0, 0.3333333333333333, 0.2, 0.3333333333333333),
         ('seo', 0.0, 1.0, 0.3333333333333333, 0.4, 0.3333333333333333)]
    """
    return _attribute(
        events, subscriptions, accounts, period=period, window_days=window_days, order_by=order_by
    )[0]


def _attribute(
    events: Any,
    subscriptions: Any,
    accounts: Any,
    *,
    period: tuple[str, str],
    window_days: int,
    order_by: str | None,
) -> tuple[pl.DataFrame, dict[str, Any]]:
    """:func:`attribution`'s frame and :func:`markov_attribution`'s result, computed once."""
    if window_days < 0:
        raise ValueError(f"window_days must be >= 0, got {window_days}")
    first_p, last_p = period_index(period)
    touches = _Touches(events, order_by)
    conversions = _conversions(subscriptions, first_p, last_p)
    in_window = _converting_touches(touches, conversions, window_days)
    cells = _touch_cells(touches.ranked(in_window))
    by_position = cells.group_by("channel", "_n", "_pos").agg(pl.col("count").sum())
    untouched = _fallback_conversions(conversions, in_window, accounts)
    model, n_conv, n_non = _markov_paths(
        touches, cells, untouched, subscriptions, first_p, last_p, window_days
    )

    # Exact credit arithmetic on the small aggregate: sums are order-independent.
    credits: dict[str, list[Fraction]] = {}
    for channel, n, pos, count in by_position.iter_rows():
        c = credits.setdefault(channel, [Fraction(0)] * 4)
        c[0] += count if pos == 0 else 0
        c[1] += count if (pos == 2 or n == 1) else 0
        c[2] += Fraction(count, n)
        c[3] += count * _position_credit(n, pos)
    for channel, count in untouched.iter_rows():
        c = credits.setdefault(channel, [Fraction(0)] * 4)
        for i in range(4):
            c[i] += count
    markov = model.credits(n_conv)
    rows = [
        (ch, *(float(v) for v in credits.get(ch, [Fraction(0)] * 4)), markov.get(ch, 0.0))
        for ch in sorted(set(credits) | {c for c, v in markov.items() if v > 0})
    ]
    info = {
        "conversions": n_conv,
        "paths": {"converting": n_conv, "non_converting": n_non},
        "removal_effects": model.removal_effects(),
        "credits": markov,
    }
    return pl.DataFrame(rows, schema=ATTRIBUTION_SCHEMA, orient="row"), info


def cac_by_model(
    marketing: Any | None, attribution_frame: pl.DataFrame, *, period: tuple[str, str]
) -> pl.DataFrame:
    """CAC per channel under every attribution model: spend / credited conversions.

    The channels are the period's marketing channels and the attributed ones,
    sorted by channel. ``spend`` is the channel's spend over the period (0 for
    an attributed channel without marketing rows, as :func:`cac_by_channel`
    reads it; null, with every CAC, without a marketing table). A model's CAC
    is null when the channel's credit under it is 0.

    Args:
        marketing: native frame with ``month``, ``channel``, ``spend``, or None.
        attribution_frame: the result of :func:`attribution`.
        period: closed month range ``("YYYY-MM", "YYYY-MM")``.

    Returns:
        ``[channel, spend, first_touch, last_touch, linear, position_based, markov]``.

    Examples:
        >>> mkt = pl.DataFrame({"month": [dt.date(2024, 2, 1)] * 2, "channel": ["ads", "tv"],
        ...     "spend": [300.0, 50.0]})
        >>> a = pl.DataFrame({"channel": ["ads", "seo"], "first_touch": [2.0, 0.0],
        ...     "last_touch": [1.0, 1.0], "linear": [1.5, 0.5], "position_based": [1.6, 0.4],
        ...     "markov": [1.2, 0.8]})
        >>> cac_by_model(mkt, a, period=("2024-02", "2024-02")).rows()
        [('ads', 300.0, 150.0, 300.0, 200.0, 187.5, 250.0), ('seo', 0.0, None, 0.0, 0.0, 0.0, 0.0), ('tv', 50.0, None, None, None, None, None)]
    """
    first_p, last_p = period_index(period)
    credit = {r["channel"]: r for r in attribution_frame.iter_rows(named=True)}
    spend: dict[str, int] = {}
    if marketing is not None:
        per_channel = collect(
            to_lazy(marketing)
            .filter(in_months("month", first_p, last_p))
            .group_by(nw.col("channel").cast(nw.String()).fill_null(NO_CHANNEL))
            .agg(to_micro("spend").sum().alias("spend"))
        )
        spend = {ch: int(s or 0) for ch, s in per_channel.iter_rows()}
    rows = []
    for ch in sorted(set(spend) | set(credit)):
        s = None if marketing is None else spend.get(ch, 0) / MICRO
        cacs = []
        for model in MODELS:
            c = credit.get(ch, {}).get(model) or 0.0
            cacs.append(None if s is None or c <= 0 else s / c)
        rows.append((ch, s, *cacs))
    schema = {"channel": pl.String(), "spend": pl.Float64(), **{m: pl.Float64() for m in MODELS}}
    return pl.DataFrame(rows, schema=schema, orient="row")


def attribution_json(
    events: Any,
    subscriptions: Any,
    accounts: Any,
    marketing: Any | None,
    *,
    period: tuple[str, str],
    window_days: int = 90,
    order_by: str | None = None,
) -> dict[str, Any]:
    """The document of ``journey attribution --json`` (analytics.md § 6).

    ``{"conversions", "paths": {"converting", "non_converting"},
    "removal_effects": [{channel, removal_effect}], "attribution": [...],
    "cac_by_model": [...]}``; every list sorted by channel, ``cac_by_model``
    null without a marketing table. The models are computed once.
    """
    frame, info = _attribute(
        events, subscriptions, accounts, period=period, window_days=window_days, order_by=order_by
    )
    return {
        "conversions": info["conversions"],
        "paths": info["paths"],
        "removal_effects": [
            {"channel": c, "removal_effect": e} for c, e in sorted(info["removal_effects"].items())
        ],
        "attribution": frame.to_dicts(),
        "cac_by_model": None
        if marketing is None
        else cac_by_model(marketing, frame, period=period).to_dicts(),
    }
