"""Sign-ups and conversions, shared by the onboarding, retention, milestones and support families.

"The period's signups" (accounts by ``signup_at`` month), the first time a
signup reached an event, the days between two instants, the data's end, and
when accounts paid: their first paid month and the months they paid in.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

import narwhals as nw

from journeylib.frames import US_PER_DAY, collect, elapsed_us, to_lazy
from journeylib.metrics._memo import once
from journeylib.months import in_months, month_index_of

__all__ = [
    "account_events",
    "data_end",
    "elapsed_days",
    "first_after_signup",
    "first_paid",
    "paying_months",
    "signups",
]


def elapsed_days(later: str, earlier: str) -> nw.Expr:
    """``later - earlier`` in days (float, 1 day = 24 h), exact to the microsecond."""
    return elapsed_us(later, earlier) / US_PER_DAY


def signups(accounts: Any, first: int, last: int) -> nw.LazyFrame:
    """The signups of the months ``[first, last]``: ``[account_id, signup_at, cohort_idx]``."""
    return (
        to_lazy(accounts)
        .filter(~nw.col("signup_at").is_null(), in_months("signup_at", first, last))
        .select("account_id", "signup_at", month_index_of("signup_at").alias("cohort_idx"))
    )


def account_events(stream: Any, events: Iterable[str]) -> nw.LazyFrame:
    """Account rows of the stream whose event is one of ``events``: ``[account_id, event, timestamp]``."""
    return (
        to_lazy(stream)
        .filter(~nw.col("account_id").is_null(), nw.col("event").is_in(list(events)))
        .select("account_id", "event", "timestamp")
    )


def first_after_signup(stream: Any, signups: nw.LazyFrame, events: Iterable[str]) -> nw.LazyFrame:
    """Per (account, event): the first such event at or after the account's signup_at.

    Returns ``[account_id, event, signup_at, reached_at]`` for the signups that reached
    each event.
    """
    return (
        account_events(stream, events)
        .join(signups.select("account_id", "signup_at"), on="account_id", how="inner")
        .filter(nw.col("timestamp") >= nw.col("signup_at"))
        .group_by("account_id", "event")
        .agg(nw.col("signup_at").min(), nw.col("timestamp").min().alias("reached_at"))
    )


def data_end(stream: Any) -> dt.datetime | None:
    """The latest event timestamp in the data ("the data's end"), or None when there is none.

    Read as the latest *raw* event (``source == 'events'`` when the frame has a
    ``source`` column): derived rows such as ``subscription_started`` sit on
    the first instant of a subscriptions month and would move the end past
    the last thing anybody did.
    """

    def compute() -> dt.datetime | None:
        lf = to_lazy(stream)
        if "source" in lf.collect_schema().names():
            lf = lf.filter(nw.col("source") == "events")
        out = collect(lf.select(nw.col("timestamp").max()))
        return out.item(0, 0) if out.height else None

    # activation and milestones both need it: one read of the stream per document
    return once("data_end", stream, compute)


def first_paid(subscriptions: Any) -> nw.LazyFrame:
    """Each paying account's first paid month index (over the whole table): ``[account_id, first_paid_idx]``."""
    return (
        to_lazy(subscriptions)
        .filter(nw.col("mrr") > 0)
        .group_by("account_id")
        .agg(month_index_of("month").min().alias("first_paid_idx"))
    )


def paying_months(
    subscriptions: Any, first: int | None = None, last: int | None = None
) -> nw.LazyFrame:
    """The distinct (account, month) pairs with ``mrr > 0``: ``[account_id, month_idx]``.

    Limited to the months ``[first, last]`` when both are given.
    """
    conds = [nw.col("mrr") > 0]
    if first is not None and last is not None:
        conds.append(in_months("month", first, last))
    return (
        to_lazy(subscriptions)
        .filter(*conds)
        .select("account_id", month_index_of("month").alias("month_idx"))
        .unique()
    )
