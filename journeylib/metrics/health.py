"""Account health and churn risk: a score per paying account, and how far to trust it.

Definition (analytics.md §10): for each paying account of a month m (MRR > 0),
with ``end`` = the first instant after m, five components (higher =
healthier):

* ``usage_trend`` = (activity in [end − 30 d, end) + 1) / (activity in
  [end − 60 d, end − 30 d) + 1);
* ``breadth`` = distinct touchpoints of its raw events in [end − 30 d, end);
* ``support_load`` = −(tickets opened in [end − 90 d, end));
* ``nps`` = its latest scored survey before end (none: the median of the
  latest scores of the month's scored paying accounts);
* ``mrr_trend`` = MRR(m) / MRR(m − 3) (undefined when MRR(m − 3) = 0: the
  median of the month's defined ratios).

Each becomes a percentile among the month's paying accounts (average rank of
ties ÷ n × 100, the engagement score's rule); the score is their weighted mean
(``health.weights``, default equal). ``accounts`` scores the period's last
month E. **Backtest**: the score at the end of each month E−6 … E−1 against
churn in the month after (MRR > 0 in m, 0 in m + 1); ``auc_backtest`` is the
ROC AUC of "lower score = churn" over all those account-months (ties count
½), null without both outcomes.

Every function takes native frames of any narwhals-supported engine (polars
eager or lazy, DuckDB, PySpark); the events are aggregated lazily to one row
per account, day and touchpoint over the months read, the rest is small and
finishes in polars.

Readings of the spec chosen here (the "natural reading" rule):

* *Activity* is a raw event row (the stream's rows with ``source ==
  'events'``; all rows of a frame without ``source``) with an ``account_id``.
  Windows are counted in whole UTC days: ``end`` is a midnight, so
  [end − 30 d, end) is the 30 calendar days before the month's end.
* A *touchpoint* of a raw event is its stream ``touchpoint`` (the template's
  mapping); events that map to none add activity but no breadth.
* MRR(m) of an account is the sum of its subscriptions rows of month m; an
  account without a row in m − 3 has MRR(m − 3) = 0, so its ``mrr_trend`` is
  the month's median. The ratio is taken between the amounts in whole
  micro-units, so 59.70 / 19.90 ties with 30 / 10. "0 in m + 1" likewise includes having no row.
* A survey is *scored* when its ``score`` is not null; "latest before end" is
  the greatest ``responded_at`` < end (equal instants: the later row of the
  table). When no paying account of the month has a score (or there is no
  surveys table) ``nps`` is null for all, as is ``mrr_trend`` when no ratio
  is defined: a component null for all accounts gives everyone the same
  percentile, so it moves no account against another. Without a tickets
  table ``support_load`` is 0 for all, likewise.
* ``components`` in the JSON are the raw values that were ranked (after the
  medians filled in); ``percentiles`` holds their percentiles and ``weakest``
  names the weighted component with the lowest percentile (ties: the first in
  :data:`~journeylib.config.HEALTH_COMPONENTS` order): what drags the account
  down.
* A component left out of ``health.weights`` weighs 0; the score is
  Σ weight × percentile / Σ weight, rounded to 10 decimals (so accounts
  with equal percentiles tie exactly in the ranking and the backtest, free of
  the float noise of the sum's order).
* The backtest months are the six calendar months before E whatever the
  period's start (the data before the period is the past the score is checked
  on); months without paying accounts add nothing.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.config import HEALTH_COMPONENTS
from journeylib.frames import account_parts, collect, day_number, to_lazy
from journeylib.months import (
    month_end,
    month_from_index,
    month_index,
    month_index_expr,
    months_filter,
    period_index,
)

__all__ = [
    "BACKTEST_MONTHS",
    "account_health",
    "backtest_auc",
    "health_json",
    "health_months",
    "health_scores",
    "roc_auc",
]

#: Months before the period's last month on which the score is backtested.
BACKTEST_MONTHS = 6
_EPOCH = dt.date(1970, 1, 1)


def _end_day(month_idx: int) -> int:
    """Day number (days since 1970-01-01) of the first day after the month."""
    return (month_end(month_from_index(month_idx)).date() - _EPOCH).days


def _mrr_by_month(subscriptions: Any, first: int, last: int) -> pl.DataFrame:
    """``[account_id, month_idx, mrr]``: each account's summed MRR per month of ``[first, last]``."""
    lf = to_lazy(subscriptions)
    out = collect(
        lf.filter(~nw.col("account_id").is_null(), months_filter(lf, "month", first, last))
        .select("account_id", "month", "mrr")
        .group_by("account_id", "month")
        .agg(nw.col("mrr").sum())
    )
    return out.select(
        "account_id",
        month_index_expr("month").alias("month_idx"),
        pl.col("mrr").cast(pl.Float64),
    )


def _usage(stream: Any, months: list[int]) -> pl.DataFrame:
    """``[_idx, account_id, recent, prior, breadth]``: each account's raw events of each month.

    For the month index ``_idx`` ending on day E: ``recent`` = events of the
    30 days before E, ``prior`` = of the 30 before those, ``breadth`` =
    distinct touchpoints of the recent ones; accounts without an event in the
    60 days have no row. A stream in account parts is read part by part (an
    account's rows are in one part), in the memory of one part.
    """
    parts = account_parts(stream)
    if len(parts) > 1:
        return pl.concat([_usage(part, months) for part in parts])
    activity = _activity(parts[0], months[0] - 2, months[-1])  # 60 days before the end of lo
    frames = []
    for m in months:
        end = _end_day(m)
        recent = pl.col("day") >= end - 30
        frames.append(
            activity.filter(pl.col("day") >= end - 60, pl.col("day") < end)
            .group_by("account_id")
            .agg(
                pl.col("n").filter(recent).sum().alias("recent"),
                pl.col("n").filter(~recent).sum().alias("prior"),
                pl.col("touchpoint").filter(recent).drop_nulls().n_unique().alias("breadth"),
            )
            .select(pl.lit(m, dtype=pl.Int64).alias("_idx"), pl.all())
        )
    return pl.concat(frames)


def _activity(stream: Any, first: int, last: int) -> pl.DataFrame:
    """Raw events per account, UTC day and touchpoint in the months ``[first, last]``."""
    lf = to_lazy(stream)
    names = lf.collect_schema().names()
    if "source" in names:
        lf = lf.filter(nw.col("source") == "events")
    tp = nw.col("touchpoint") if "touchpoint" in names else nw.lit(None).cast(nw.String)
    return collect(
        lf.filter(~nw.col("account_id").is_null(), months_filter(lf, "timestamp", first, last))
        .select("account_id", day_number("timestamp").alias("day"), tp.alias("touchpoint"))
        .group_by("account_id", "day", "touchpoint")
        .agg(nw.len().alias("n"))
    )


def _tickets(tickets: Any | None, first: int, last: int) -> pl.DataFrame:
    if tickets is None:
        return pl.DataFrame(schema={"account_id": pl.String, "day": pl.Int64})
    lf = to_lazy(tickets)
    return collect(
        lf.filter(
            ~nw.col("account_id").is_null(), months_filter(lf, "opened_at", first, last)
        ).select("account_id", day_number("opened_at").alias("day"))
    )


def _surveys(surveys: Any | None, last: int) -> pl.DataFrame:
    """Scored surveys up to the month ``last``, in table order: ``[account_id, responded_at, score]``."""
    if surveys is None:
        return pl.DataFrame(
            schema={
                "account_id": pl.String,
                "responded_at": pl.Datetime("us", "UTC"),
                "score": pl.Float64,
            }
        )
    lf = to_lazy(surveys)
    out = collect(
        lf.filter(
            ~nw.col("account_id").is_null(),
            ~nw.col("score").is_null(),
            months_filter(lf, "responded_at", None, last),
        ).select("account_id", "responded_at", "score")
    )
    return out.with_columns(pl.col("score").cast(pl.Float64))


def _percentile(col: str) -> pl.Expr:
    """Average rank of ties ÷ n × 100 among the month's rows; a column null for all ties all."""
    value = pl.col(col).fill_null(0.0)  # null only when null for every account
    return (value.rank(method="average") / pl.len() * 100).alias(f"{col}_pct")


def _month_scores(
    month_idx: int,
    mrr: pl.DataFrame,
    usage: pl.DataFrame,
    tickets: pl.DataFrame,
    surveys: pl.DataFrame,
    weights: Mapping[str, float],
) -> pl.DataFrame:
    end = _end_day(month_idx)
    paying = mrr.filter(pl.col("month_idx") == month_idx, pl.col("mrr") > 0).select(
        "account_id", "mrr"
    )
    before = mrr.filter(pl.col("month_idx") == month_idx - 3).select(
        "account_id", pl.col("mrr").alias("mrr_before")
    )
    usage = usage.filter(pl.col("_idx") == month_idx).drop("_idx")
    load = (
        tickets.filter(pl.col("day") >= end - 90, pl.col("day") < end)
        .group_by("account_id")
        .agg(pl.len().alias("tickets"))
    )
    end_at = month_end(month_from_index(month_idx))
    latest = (
        surveys.filter(pl.col("responded_at") < end_at)
        .with_row_index("_row")
        .sort("responded_at", "_row")
        .group_by("account_id")
        .agg(pl.col("score").last().alias("nps"))
    )
    out = (
        paying.join(before, on="account_id", how="left")
        .join(usage, on="account_id", how="left")
        .join(load, on="account_id", how="left")
        .join(latest, on="account_id", how="left")
        .with_columns(
            ((pl.col("recent").fill_null(0) + 1) / (pl.col("prior").fill_null(0) + 1)).alias(
                "usage_trend"
            ),
            pl.col("breadth").fill_null(0).cast(pl.Float64),
            pl.when(pl.col("tickets") > 0)
            .then(-pl.col("tickets").cast(pl.Float64))
            .otherwise(0.0)
            .alias("support_load"),
            pl.when(pl.col("mrr_before") > 0)
            .then((pl.col("mrr") * 1e6).round() / (pl.col("mrr_before") * 1e6).round())
            .alias("mrr_trend"),
        )
        .with_columns(
            pl.col("nps").fill_null(pl.col("nps").median()),
            pl.col("mrr_trend").fill_null(pl.col("mrr_trend").median()),
        )
        .with_columns(*(_percentile(c) for c in HEALTH_COMPONENTS))
    )
    total = sum(weights.get(c, 0.0) for c in HEALTH_COMPONENTS)
    score = sum(
        (pl.col(f"{c}_pct") * float(weights.get(c, 0.0)) for c in HEALTH_COMPONENTS),
        pl.lit(0.0),
    )
    return out.with_columns(
        pl.lit(month_from_index(month_idx)).alias("month"),
        pl.lit(month_idx, dtype=pl.Int64).alias("_idx"),
        # rounded as metrics.json rounds: equal scores tie exactly, whatever the order of the sum
        (score / total).round(10).alias("score"),
    )


_SCORES_SCHEMA = {
    "month": pl.String,
    "account_id": pl.String,
    "mrr": pl.Float64,
    **{c: pl.Float64 for c in HEALTH_COMPONENTS},
    **{f"{c}_pct": pl.Float64 for c in HEALTH_COMPONENTS},
    "score": pl.Float64,
    "churned": pl.Boolean,
}


def health_scores(
    stream: Any,
    subscriptions: Any,
    tickets: Any | None = None,
    surveys: Any | None = None,
    *,
    months: list[str],
    weights: Mapping[str, float] | None = None,
) -> pl.DataFrame:
    """The health score of every paying account of each of ``months``.

    Args:
        stream: journey stream, or raw events (``account_id``, ``timestamp``,
            ``touchpoint`` and ``source`` when present); or the store's stream
            in account parts (``Store.stream_parts``), read part by part.
        subscriptions: subscriptions table (``account_id``, ``month``, ``mrr``).
        tickets: tickets table (``account_id``, ``opened_at``), or None.
        surveys: surveys table (``account_id``, ``responded_at``, ``score``), or None.
        months: the months ``YYYY-MM`` to score.
        weights: component → weight (None: all 1; a component left out weighs 0).

    Returns:
        ``pl.DataFrame[month, account_id, mrr, <five components>, <five
        components>_pct, score, churned]`` sorted by month, score, account_id;
        ``churned`` is whether the account has no MRR in the month after
        (null when that month is after the subscriptions' months read, i.e.
        for the last of ``months`` when the table ends there).

    Examples:
        Two paying accounts in March: ``a`` kept its usage and MRR, ``b`` used
        the product less in the last 30 days and opened a ticket:

        >>> t = lambda m, d: dt.datetime(2024, m, d, 12, tzinfo=dt.UTC)
        >>> stream = pl.DataFrame({"account_id": ["a", "a", "b", "b", "b"],
        ...     "timestamp": [t(2, 10), t(3, 10), t(2, 10), t(2, 11), t(3, 10)],
        ...     "touchpoint": ["app", "app", "app", "app", "app"]})
        >>> subs = pl.DataFrame({"account_id": ["a", "b"] * 2,
        ...     "month": [dt.date(2023, 12, 1)] * 2 + [dt.date(2024, 3, 1)] * 2, "mrr": [10.0] * 4})
        >>> tickets = pl.DataFrame({"account_id": ["b"], "opened_at": [t(3, 5)]})
        >>> s = health_scores(stream, subs, tickets, months=["2024-03"])
        >>> s.select("account_id", "usage_trend", "support_load", "score").rows()
        [('b', 0.6666666666666666, -1.0, 65.0), ('a', 1.0, 0.0, 85.0)]
    """
    weights = dict.fromkeys(HEALTH_COMPONENTS, 1.0) if weights is None else weights
    if not any(weights.get(c, 0.0) > 0 for c in HEALTH_COMPONENTS):
        raise ValueError(f"no health component weighs more than 0: {dict(weights)!r}")
    idx = sorted({month_index(m) for m in months})  # a month named twice is scored once
    if not idx:
        return pl.DataFrame(schema=_SCORES_SCHEMA)
    lo, hi = idx[0], idx[-1]
    mrr = _mrr_by_month(subscriptions, lo - 3, hi + 1)
    usage = _usage(stream, idx)
    tk = _tickets(tickets, lo - 3, hi)  # 90 days before the end of lo
    sv = _surveys(surveys, hi)
    frames = [_month_scores(m, mrr, usage, tk, sv, weights) for m in idx]
    out = pl.concat(frames, how="diagonal_relaxed") if frames else pl.DataFrame()
    if out.height == 0:
        return pl.DataFrame(schema=_SCORES_SCHEMA)
    last_month = mrr["month_idx"].max()
    nxt = (
        mrr.filter(pl.col("mrr") > 0)
        .select("account_id", (pl.col("month_idx") - 1).alias("_idx"), pl.lit(True).alias("_kept"))
        .unique()
    )
    out = out.join(nxt, on=["account_id", "_idx"], how="left").with_columns(
        pl.when(pl.col("_idx") + 1 > last_month)
        .then(None)
        .otherwise(pl.col("_kept").is_null())
        .alias("churned")
    )
    return (
        out.sort("month", "score", "account_id").select(list(_SCORES_SCHEMA)).cast(_SCORES_SCHEMA)
    )


def roc_auc(score: pl.Series, positive: pl.Series) -> float | None:
    """ROC AUC of "a lower score means positive" (ties count ½); None without both classes.

    The Mann–Whitney form: the share of (positive, negative) pairs in which the
    positive scores lower, ties counting ½.

    Examples:
        >>> roc_auc(pl.Series([1.0, 2.0, 3.0, 4.0]), pl.Series([True, True, False, False]))
        1.0
        >>> roc_auc(pl.Series([1.0, 2.0, 2.0, 4.0]), pl.Series([True, False, True, False]))
        0.875
        >>> roc_auc(pl.Series([1.0, 2.0]), pl.Series([False, False])) is None
        True
    """
    n_pos = int(positive.sum())
    n_neg = positive.len() - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = score.rank(method="average")  # ascending: the lowest score has rank 1
    neg_ranks = float(ranks.filter(~positive).sum())
    # negatives scoring above positives: U = R_neg − n_neg (n_neg + 1) / 2
    return (neg_ranks - n_neg * (n_neg + 1) / 2) / (n_pos * n_neg)


def backtest_auc(scores: pl.DataFrame) -> dict[str, Any]:
    """The backtest of :func:`health_scores` rows with a known outcome.

    Returns:
        ``{"auc": …, "account_months": …, "churned": …}``: the ROC AUC of "lower
        score = churn" over the rows whose ``churned`` is known (None without
        both outcomes), and how many rows and churns it read.
    """
    known = scores.filter(pl.col("churned").is_not_null())
    return {
        "auc": roc_auc(known["score"], known["churned"]),
        "account_months": known.height,
        "churned": int(known["churned"].sum()),
    }


def health_months(period: tuple[str, str]) -> list[str]:
    """The months :func:`account_health` scores: the backtest's E−6 … E−1, then E.

    Examples:
        >>> health_months(("2025-01", "2025-03"))
        ['2024-09', '2024-10', '2024-11', '2024-12', '2025-01', '2025-02', '2025-03']
    """
    last = period_index(period)[1]
    return [month_from_index(last - k) for k in range(BACKTEST_MONTHS, -1, -1)]


def account_health(
    stream: Any,
    subscriptions: Any,
    tickets: Any | None = None,
    surveys: Any | None = None,
    *,
    period: tuple[str, str],
    weights: Mapping[str, float] | None = None,
) -> dict[str, Any]:
    """The health of the period's last month's paying accounts, and the score's backtest.

    Args:
        stream: as :func:`health_scores`.
        subscriptions: as :func:`health_scores`.
        tickets: as :func:`health_scores`.
        surveys: as :func:`health_scores`.
        period: closed range of calendar months; its last month E is scored,
            E−6 … E−1 are the backtest.
        weights: as :func:`health_scores`.

    Returns:
        :func:`health_json` of the scores of :func:`health_months`.
    """
    scores = health_scores(
        stream, subscriptions, tickets, surveys, months=health_months(period), weights=weights
    )
    return health_json(scores, period=period, weights=weights)


def health_json(
    scores: pl.DataFrame, *, period: tuple[str, str], weights: Mapping[str, float] | None = None
) -> dict[str, Any]:
    """The ``journey health --json`` document of :func:`health_scores` rows.

    Returns:
        ``{"month", "auc_backtest", "backtest": {"months", "account_months",
        "churned"}, "weights", "accounts": [{account_id, score, components:
        {usage_trend, breadth, support_load, nps, mrr_trend}, percentiles: {…},
        weakest, mrr}]}``: E's accounts sorted by score ascending (riskiest
        first), then account_id; the backtest over the rows of E−6 … E−1.
    """
    weights = dict.fromkeys(HEALTH_COMPONENTS, 1.0) if weights is None else dict(weights)
    *past, now_month = health_months(period)
    bt = backtest_auc(scores.filter(pl.col("month").is_in(past)))
    now = scores.filter(pl.col("month") == now_month).sort("score", "account_id")
    weighted = [c for c in HEALTH_COMPONENTS if weights.get(c, 0.0) > 0]
    rows = []
    for r in now.iter_rows(named=True):
        pct = {c: r[f"{c}_pct"] for c in HEALTH_COMPONENTS}
        rows.append(
            {
                "account_id": r["account_id"],
                "score": r["score"],
                "components": {c: r[c] for c in HEALTH_COMPONENTS},
                "percentiles": pct,
                "weakest": min(weighted, key=lambda c: pct[c]),
                "mrr": r["mrr"],
            }
        )
    return {
        "month": now_month,
        "auc_backtest": bt["auc"],
        "backtest": {"months": past, **{k: bt[k] for k in ("account_months", "churned")}},
        "weights": {c: float(weights.get(c, 0.0)) for c in HEALTH_COMPONENTS},
        "accounts": rows,
    }
