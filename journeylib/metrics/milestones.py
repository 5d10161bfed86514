"""Milestones: how many signups reach each, how fast, and whether reaching it goes with retention.

Definitions: ``shared/spec/metrics.md`` § Milestones.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
from collections.abc import Iterable
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import US_PER_DAY, collect, to_lazy
from journeylib.metrics._signups import (
    data_end,
    elapsed_days,
    first_after_signup,
    first_paid,
    paying_months,
    signups,
)
from journeylib.metrics._values import ratio
from journeylib.months import month_index_of, period_index

__all__ = ["milestones", "stuck_before"]

_RETENTION_HORIZON = 6  # months: logo retention in C(s + 6)

_SCHEMA = {
    "id": pl.String,
    "event": pl.String,
    "reached": pl.Int64,
    "signups": pl.Int64,
    "reached_share": pl.Float64,
    "median_days": pl.Float64,
    "retention_6m_reached": pl.Float64,
    "retention_6m_not_reached": pl.Float64,
    "paying_reached": pl.Int64,
    "paying_not_reached": pl.Int64,
}


def _pairs(items: Iterable[Any]) -> list[tuple[str, str]]:
    """Milestones as (id, event) pairs; accepts pairs or objects with ``.id`` and ``.event``."""
    out = []
    for item in items:
        if hasattr(item, "id") and hasattr(item, "event"):
            out.append((str(item.id), str(item.event)))
        else:
            mid, event = item
            out.append((str(mid), str(event)))
    return out


def _paying_judged(subscriptions: Any | None, period_signups: nw.LazyFrame) -> pl.DataFrame:
    """Signups whose first paid month s has s + 6 within the data: ``[account_id, retained]``.

    ``retained`` is 1 when the account pays (mrr > 0) in s + 6. Empty without subscriptions.
    """
    if subscriptions is None:
        return pl.DataFrame(schema={"account_id": pl.String, "retained": pl.Int64})
    subs = to_lazy(subscriptions)
    subs_end = collect(subs.select(month_index_of("month").max().alias("end"))).item(0, 0)
    paid_months = paying_months(subscriptions).with_columns(
        nw.lit(1).cast(nw.Int64).alias("retained")
    )
    return collect(
        first_paid(subscriptions)
        .join(period_signups.select("account_id"), on="account_id", how="inner")
        .with_columns((nw.col("first_paid_idx") + _RETENTION_HORIZON).alias("month_idx"))
        .filter(nw.col("month_idx") <= (subs_end if subs_end is not None else -1))
        .join(paid_months, on=["account_id", "month_idx"], how="left")
        .with_columns(nw.col("retained").fill_null(0))
        .select("account_id", "retained")
    ).with_columns(pl.col("retained").cast(pl.Int64))


def milestones(
    accounts: Any,
    stream: Any,
    subscriptions: Any | None,
    *,
    period: tuple[str, str],
    milestones: Iterable[Any],
) -> pl.DataFrame:
    """Per milestone: reached share, median days to reach it, and 6-month retention by reaching.

    Over the period's signups: an account reached a milestone when it has the
    milestone's event (raw or derived) at or after its ``signup_at`` (at any time
    in the data); ``median_days`` is the median over those of the days from
    signup to the first such event. The retention columns compare, among the
    period's signups that became paying (first paid month s = first month with
    ``mrr > 0``), those that reached the milestone against those that did not:
    the share still paying in month s + 6. Only accounts whose s + 6 is not
    after the last month of the subscriptions table count (later ones cannot be
    judged yet); ``paying_reached`` / ``paying_not_reached`` are those
    denominators. A zero denominator gives null.

    Args:
        accounts: accounts table (``account_id``, ``signup_at``).
        stream: journey event stream (``account_id``, ``event``, ``timestamp``).
        subscriptions: subscriptions table (``account_id``, ``month``, ``mrr``), or None
            when the client has none (the retention columns are then null).
        period: closed range of calendar months.
        milestones: ``(id, event)`` pairs, or objects with ``id`` and ``event``
            (e.g. ``ClientConfig.milestones``), in the order to report them.

    Returns:
        ``pl.DataFrame[id, event, reached, signups, reached_share, median_days,
        retention_6m_reached, retention_6m_not_reached, paying_reached,
        paying_not_reached]``, one row per milestone in the given order.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "signup_at": [t(1), t(1)]})
        >>> stream = pl.DataFrame({"account_id": ["a"], "event": ["invite_sent"],
        ...                        "timestamp": [t(4)]})
        >>> subs = pl.DataFrame({"account_id": ["a"] * 7 + ["b"],
        ...     "month": [dt.date(2024, m, 1) for m in range(1, 8)] + [dt.date(2024, 1, 1)],
        ...     "mrr": [10.0] * 8})
        >>> out = milestones(accounts, stream, subs, period=("2024-01", "2024-01"),
        ...                  milestones=[("team", "invite_sent")])
        >>> out.select("reached_share", "median_days", "retention_6m_reached",
        ...            "retention_6m_not_reached").row(0)
        (0.5, 3.0, 1.0, 0.0)
    """
    pairs = _pairs(milestones)
    if not pairs:
        return pl.DataFrame(schema=_SCHEMA)
    first, last = period_index(period)
    period_signups = signups(accounts, first, last)
    n_signups = int(collect(period_signups.select(nw.len())).item(0, 0) or 0)
    reached = collect(
        first_after_signup(stream, period_signups, {event for _, event in pairs}).select(
            "account_id", "event", elapsed_days("reached_at", "signup_at").alias("days")
        )
    ).with_columns(pl.col("days").cast(pl.Float64))

    paying = _paying_judged(subscriptions, period_signups)

    rows = []
    for mid, event in pairs:
        hit = reached.filter(pl.col("event") == event)
        flagged = paying.with_columns(
            pl.col("account_id").is_in(hit["account_id"].implode()).alias("hit")
        )
        yes, no = flagged.filter(pl.col("hit")), flagged.filter(~pl.col("hit"))
        rows.append(
            {
                "id": mid,
                "event": event,
                "reached": hit.height,
                "signups": n_signups,
                "reached_share": ratio(hit.height, n_signups),
                "median_days": hit["days"].median() if hit.height else None,
                "retention_6m_reached": ratio(int(yes["retained"].sum()), yes.height),
                "retention_6m_not_reached": ratio(int(no["retained"].sum()), no.height),
                "paying_reached": yes.height,
                "paying_not_reached": no.height,
            }
        )
    return pl.DataFrame(rows, schema=_SCHEMA)


def stuck_before(
    accounts: Any, stream: Any, *, milestone_event: str, period: tuple[str, str]
) -> pl.DataFrame:
    """The period's signups that have not reached a milestone yet, for follow-up.

    Not reached = no ``milestone_event`` at or after ``signup_at`` in the stream.
    ``days_since_signup`` is measured up to the latest timestamp of the stream
    (the data's "now", so results do not depend on the clock); null when the
    stream is empty. ``persona`` is null when the accounts table has no such column.

    Args:
        accounts: accounts table (``account_id``, ``signup_at``, ``persona``).
        stream: journey event stream (``account_id``, ``event``, ``timestamp``).
        milestone_event: the milestone's event name.
        period: closed range of calendar months.

    Returns:
        ``pl.DataFrame[account_id, signup_at, days_since_signup, persona]``, longest
        waiting first, then by account_id.

    Examples:
        >>> t = lambda d: dt.datetime(2024, 1, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": ["a", "b", "c"],
        ...     "signup_at": [t(1), t(2), t(3)], "persona": ["smb", "ent", "smb"]})
        >>> stream = pl.DataFrame({"account_id": ["a", "c"], "event": ["report", "login"],
        ...                        "timestamp": [t(5), t(11)]})
        >>> stuck_before(accounts, stream, milestone_event="report",
        ...              period=("2024-01", "2024-01")).drop("signup_at").rows()
        [('b', 9.0, 'ent'), ('c', 8.0, 'smb')]
    """
    first, last = period_index(period)
    acc = to_lazy(accounts)
    has_persona = "persona" in acc.collect_schema().names()
    period_signups = signups(accounts, first, last)
    if has_persona:
        period_signups = period_signups.join(
            acc.select("account_id", "persona"), on="account_id", how="left"
        )
    else:
        period_signups = period_signups.with_columns(nw.lit(None).cast(nw.String).alias("persona"))
    reached = first_after_signup(stream, period_signups, [milestone_event]).select("account_id")
    stuck = collect(
        period_signups.join(reached, on="account_id", how="anti").select(
            "account_id", "signup_at", "persona"
        )
    )
    end = data_end(stream)
    days = (
        (
            (
                pl.lit(end, dtype=pl.Datetime("us", "UTC")) - pl.col("signup_at")
            ).dt.total_microseconds()
            / US_PER_DAY
        )
        if end is not None
        else pl.lit(None, dtype=pl.Float64)
    )
    return (
        stuck.with_columns(days.cast(pl.Float64).alias("days_since_signup"))
        .sort(["days_since_signup", "account_id"], descending=[True, False], nulls_last=True)
        .select("account_id", "signup_at", "days_since_signup", pl.col("persona").cast(pl.String))
    )
