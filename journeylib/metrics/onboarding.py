"""Onboarding and adoption: activation, time to first value, engagement scores.

Definitions: ``shared/spec/metrics.md`` § Onboarding and adoption. Every function
takes native frames of any narwhals-supported engine (polars eager or lazy,
DuckDB, PySpark), computes lazily and returns small polars results or plain
Python values; undefined values (zero denominators) are ``None``.

"The period's signups", the first event after signing up and the data's end
come from ``journeylib.metrics._signups``, shared with the sibling families.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
from collections.abc import Mapping
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import US_PER_DAY, collect, elapsed_us, to_lazy
from journeylib.metrics._keys import account_month_key, keyed
from journeylib.metrics._memo import once
from journeylib.metrics._signups import (
    account_events,
    data_end,
    elapsed_days,
    first_after_signup,
    paying_months,
    signups,
)
from journeylib.metrics._values import none_if_nan
from journeylib.months import (
    month_from_index,
    month_index_of,
    month_label_expr,
    months_filter,
    period_index,
)

__all__ = [
    "activation",
    "engagement_scores",
    "first_value_summary",
    "latest_engagement",
    "first_value_times",
    "time_to_first_value",
]


# ---------------------------------------------------------------- activation
_COHORT_SCHEMA = {
    "cohort": pl.String,
    "size": pl.Int64,
    "activated": pl.Int64,
    "activation_rate": pl.Float64,
    "complete": pl.Boolean,
}


def activation(
    accounts: Any,
    stream: Any,
    *,
    period: tuple[str, str],
    event: str,
    within_days: float,
) -> dict[str, Any]:
    """Activation rate of the period's signups, overall and per signup cohort.

    An account is activated when it has an ``event`` (raw or derived, from the
    journey stream) at or after its ``signup_at`` and no later than
    ``within_days`` × 24 h after it; both bounds are inclusive, to the
    microsecond. A cohort (signup month) is ``complete`` when every member's
    ``signup_at + within_days`` is not after the latest raw event timestamp
    (rows of ``source == 'events'`` when the stream has a ``source`` column;
    derived rows such as a subscription month's first instant do not count as
    "the latest event timestamp in the data"). Months without signups have no
    cohort row.

    Args:
        accounts: accounts table (``account_id``, ``signup_at``).
        stream: journey event stream (``account_id``, ``event``, ``timestamp``).
        period: closed range of calendar months ``("YYYY-MM", "YYYY-MM")``.
        event: the activation event name.
        within_days: the activation window in days.

    Returns:
        ``{"activation_rate": float | None, "signups": int, "activated": int,
        "cohorts": pl.DataFrame[cohort, size, activated, activation_rate, complete]}``;
        the rate is None and the cohorts frame empty when there are no signups.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "signup_at": [t(1), t(2)]})
        >>> stream = pl.DataFrame({"account_id": ["a", "b"], "event": ["report", "report"],
        ...                        "timestamp": [t(3), t(20)]})
        >>> out = activation(accounts, stream, period=("2024-01", "2024-01"),
        ...                  event="report", within_days=7)
        >>> out["activation_rate"], out["cohorts"].row(0)
        (0.5, ('2024-01', 2, 1, 0.5, True))
    """
    first, last = period_index(period)
    period_signups = signups(accounts, first, last)
    window_us = round(within_days * US_PER_DAY)
    activated = (
        account_events(stream, [event])
        .join(period_signups.select("account_id", "signup_at"), on="account_id", how="inner")
        .filter(
            nw.col("timestamp") >= nw.col("signup_at"),
            elapsed_us("timestamp", "signup_at") <= window_us,
        )
        .select("account_id")
        .unique()
        .with_columns(nw.lit(1).cast(nw.Int64).alias("hit"))
    )
    per_cohort = collect(
        period_signups.join(activated, on="account_id", how="left")
        .with_columns(nw.col("hit").fill_null(0))
        .group_by("cohort_idx")
        .agg(
            nw.len().alias("size"),
            nw.col("hit").sum().alias("activated"),
            nw.col("signup_at").max().alias("last_signup"),
        )
    )
    if per_cohort.height == 0:
        return {
            "activation_rate": None,
            "signups": 0,
            "activated": 0,
            "cohorts": pl.DataFrame(schema=_COHORT_SCHEMA),
        }
    end = data_end(stream)
    window = pl.duration(microseconds=window_us)
    complete = (
        (pl.col("last_signup") + window <= pl.lit(end, dtype=pl.Datetime("us", "UTC")))
        if end is not None
        else pl.lit(False)
    )
    cohorts = (
        per_cohort.with_columns(pl.col("size", "activated").cast(pl.Int64))
        .sort("cohort_idx")
        .select(
            month_label_expr("cohort_idx").alias("cohort"),
            "size",
            "activated",
            (pl.col("activated") / pl.col("size")).alias("activation_rate"),
            complete.fill_null(False).alias("complete"),
        )
        .cast(_COHORT_SCHEMA)
    )
    size, hits = int(cohorts["size"].sum()), int(cohorts["activated"].sum())
    return {
        "activation_rate": hits / size,
        "signups": size,
        "activated": hits,
        "cohorts": cohorts,
    }


# ---------------------------------------------------------------- time to first value
def _first_value_lazy(
    accounts: Any, stream: Any, *, period: tuple[str, str], event: str
) -> nw.LazyFrame:
    first, last = period_index(period)
    period_signups = signups(accounts, first, last)
    reached = first_after_signup(stream, period_signups, [event]).select("account_id", "reached_at")
    return (
        period_signups.join(reached, on="account_id", how="left")
        .with_columns(elapsed_days("reached_at", "signup_at").alias("days"))
        .select("account_id", "signup_at", "reached_at", "days")
    )


def first_value_times(
    accounts: Any, stream: Any, *, period: tuple[str, str], event: str
) -> pl.DataFrame:
    """Per signup of the period: when it first reached ``event`` and how many days that took.

    ``reached_at`` is the first ``event`` (raw or derived) at or after
    ``signup_at``; earlier events are ignored. Accounts that never reached it
    have null ``reached_at`` and ``days``.

    Args:
        accounts: accounts table (``account_id``, ``signup_at``).
        stream: journey event stream (``account_id``, ``event``, ``timestamp``).
        period: closed range of calendar months.
        event: the first-value event name.

    Returns:
        ``pl.DataFrame[account_id, signup_at, reached_at, days]`` sorted by signup_at, account_id.

    Examples:
        >>> t = lambda d, h=0: dt.datetime(2024, 1, d, h, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "signup_at": [t(1), t(2)]})
        >>> stream = pl.DataFrame({"account_id": ["a", "a"], "event": ["report", "report"],
        ...                        "timestamp": [t(3, 12), t(9)]})
        >>> first_value_times(accounts, stream, period=("2024-01", "2024-01"),
        ...                   event="report")["days"].to_list()
        [2.5, None]
    """

    def compute() -> pl.DataFrame:
        out = collect(_first_value_lazy(accounts, stream, period=period, event=event))
        return out.sort("signup_at", "account_id").with_columns(pl.col("days").cast(pl.Float64))

    # a notebook asks for one milestone's times several times (times, revenue, stuck accounts)
    return once(("first_value_times", tuple(period), event), (accounts, stream), compute)


def time_to_first_value(
    accounts: Any, stream: Any, *, period: tuple[str, str], event: str
) -> dict[str, float | int | None]:
    """Time to first value of the period's signups: median, p75, p90 (days) and reached share.

    Quantiles are taken over the signups that reached ``event`` (linear
    interpolation); ``reached_share`` = reached / signups. All are None when
    nothing can be computed (no signups, or none reached).

    Args:
        accounts: accounts table (``account_id``, ``signup_at``).
        stream: journey event stream.
        period: closed range of calendar months.
        event: the first-value event name.

    Returns:
        ``{"median", "p75", "p90", "reached_share", "reached", "signups"}``.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b", "c"], "signup_at": [t(1)] * 3})
        >>> stream = pl.DataFrame({"account_id": ["a", "b"], "event": ["report", "report"],
        ...                        "timestamp": [t(2), t(4)]})
        >>> out = time_to_first_value(accounts, stream, period=("2024-01", "2024-01"),
        ...                           event="report")
        >>> out["median"], out["p90"], round(out["reached_share"], 4)
        (2.0, 2.8, 0.6667)
    """
    return first_value_summary(first_value_times(accounts, stream, period=period, event=event))


def first_value_summary(times: pl.DataFrame) -> dict[str, float | int | None]:
    """:func:`time_to_first_value` from the per-signup rows of :func:`first_value_times`.

    For a caller that needs both (the metrics document): the events are read once.

    Examples:
        >>> times = pl.DataFrame({"reached_at": [1, 2, None], "days": [1.0, 3.0, None]})
        >>> first_value_summary(times)["median"], first_value_summary(times)["reached"]
        (2.0, 2)
    """
    stats = times.select(
        pl.len().alias("signups"),
        pl.col("reached_at").count().alias("reached"),
        pl.col("days").median().alias("median"),
        pl.col("days").quantile(0.75, interpolation="linear").alias("p75"),
        pl.col("days").quantile(0.9, interpolation="linear").alias("p90"),
    ).row(0, named=True)
    signups, reached = int(stats["signups"] or 0), int(stats["reached"] or 0)
    return {
        "median": none_if_nan(stats["median"]),
        "p75": none_if_nan(stats["p75"]),
        "p90": none_if_nan(stats["p90"]),
        "reached_share": reached / signups if signups else None,
        "reached": reached,
        "signups": signups,
    }


# ---------------------------------------------------------------- engagement
_ENGAGEMENT_SCHEMA = {
    "month": pl.String,
    "account_id": pl.String,
    "raw_score": pl.Float64,
    "score": pl.Float64,
}


def _scored_by_key(
    rows: nw.LazyFrame[Any], paying: nw.LazyFrame[Any], *, first: int
) -> nw.LazyFrame[Any]:
    """``paying`` with its ``raw_score`` column, the weighted rows summed by account-month key.

    The same sums as the text-keyed group-by of :func:`engagement_scores`, over
    one 64-bit key per account and month (``metrics._keys``; polars frames).
    """
    scored = (
        rows.to_native()
        .group_by(account_month_key(pl.col("month_idx") - first).alias("_k"))
        .agg(pl.col("w").sum().alias("raw_score"))
    )
    keyed = paying.to_native().with_columns(
        account_month_key(pl.col("month_idx") - first).alias("_k")
    )
    return to_lazy(keyed.join(scored, on="_k", how="left").drop("_k"))


def engagement_scores(
    stream: Any,
    subscriptions: Any,
    *,
    weights: Mapping[str, float],
    period: tuple[str, str],
    accounts: Any = None,
) -> pl.DataFrame:
    """Monthly engagement score of every paying account, as a percentile rank 0–100.

    ``raw_score`` of account a in month m = Σ over a's stream rows in calendar
    month m of ``weights[event]`` (0 for unlisted events). Scored accounts are
    the paying accounts of m (``mrr > 0``); a paying account without events
    scores 0. ``score`` is the percentile rank among the month's paying
    accounts, defined as pandas' ``rank(pct=True, method="average") × 100``:
    100 × (average 1-based rank of the raw score, ties sharing their mean rank)
    / number of paying accounts. The top account scores 100; the range is
    (0, 100].

    Args:
        stream: journey event stream (``account_id``, ``event``, ``timestamp``).
        subscriptions: subscriptions table (``account_id``, ``month``, ``mrr``).
        weights: event name → weight.
        period: closed range of calendar months.
        accounts: optional accounts table (``account_id``) holding every account id of
            ``stream`` and ``subscriptions``. On polars frames it lets the per-account,
            per-month sums group by an integer key instead of the text id (about 40 %
            less memory and 25 % less time at 50 M events; see ``metrics._keys``); the
            result is the same.

    Returns:
        ``pl.DataFrame[month, account_id, raw_score, score]`` sorted by month, account_id.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> stream = pl.DataFrame({"account_id": ["a", "a", "b"],
        ...     "event": ["login", "invite", "login"], "timestamp": [t(1), t(2), t(3)]})
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "c"],
        ...     "month": [dt.date(2024, 1, 1)] * 3, "mrr": [10.0, 10.0, 10.0]})
        >>> engagement_scores(stream, subs, weights={"login": 1, "invite": 5},
        ...     period=("2024-01", "2024-01")).select("account_id", "raw_score",
        ...     pl.col("score").round(2)).rows()
        [('a', 6.0, 100.0), ('b', 1.0, 66.67), ('c', 0.0, 33.33)]
    """
    first, last = period_index(period)
    paying = paying_months(subscriptions, first, last)
    if weights:
        weight = nw.lit(0.0)
        for name, w in weights.items():
            weight = nw.when(nw.col("event") == name).then(nw.lit(float(w))).otherwise(weight)
        lf = to_lazy(stream)
        rows = lf.filter(
            ~nw.col("account_id").is_null(),
            nw.col("event").is_in(list(weights)),
            months_filter(lf, "timestamp", first, last),
        ).with_columns(month_index_of("timestamp").alias("month_idx"), weight.alias("w"))
        if accounts is not None and keyed(accounts, stream, subscriptions, months=last - first + 1):
            paying = _scored_by_key(rows, paying, first=first)
        else:
            scored = rows.group_by("account_id", "month_idx").agg(
                nw.col("w").sum().alias("raw_score")
            )
            paying = paying.join(scored, on=["account_id", "month_idx"], how="left")
    else:
        paying = paying.with_columns(nw.lit(None).cast(nw.Float64).alias("raw_score"))
    out = collect(paying)
    return (
        out.with_columns(pl.col("raw_score").cast(pl.Float64).fill_null(0.0))
        .with_columns(
            (
                pl.col("raw_score").rank(method="average").over("month_idx")
                / pl.len().over("month_idx")
                * 100
            ).alias("score")
        )
        .sort("month_idx", "account_id")
        .select(month_label_expr("month_idx").alias("month"), "account_id", "raw_score", "score")
        .cast(_ENGAGEMENT_SCHEMA)
    )


def latest_engagement(
    stream: Any,
    subscriptions: Any,
    *,
    weights: Mapping[str, float],
    period: tuple[str, str],
    accounts: Any = None,
) -> float | None:
    """The mean ``raw_score`` of :func:`engagement_scores` in its latest month (None: no month).

    That month is the period's latest with a paying account; a month's scores
    read that month's rows only, so it alone is computed (the metrics
    document's ``engagement_mean_weighted_events``).

    Examples:
        >>> t = lambda m: dt.datetime(2024, m, 1, tzinfo=dt.UTC)
        >>> stream = pl.DataFrame({"account_id": ["a", "a", "b"],
        ...     "event": ["login", "invite", "login"], "timestamp": [t(1), t(2), t(2)]})
        >>> subs = pl.DataFrame({"account_id": ["a", "b", "a"],
        ...     "month": [dt.date(2024, m, 1) for m in (1, 2, 3)], "mrr": [10.0, 10.0, 0.0]})
        >>> latest_engagement(stream, subs, weights={"login": 1, "invite": 5},
        ...     period=("2024-01", "2024-03"))
        1.0
    """
    first, last = period_index(period)
    found = collect(paying_months(subscriptions, first, last).select(nw.col("month_idx").max()))
    latest = found.item() if found.height else None
    if latest is None:
        return None
    month = month_from_index(int(latest))
    eng = engagement_scores(
        stream, subscriptions, weights=weights, period=(month, month), accounts=accounts
    )
    return float(eng["raw_score"].mean()) if eng.height else None
