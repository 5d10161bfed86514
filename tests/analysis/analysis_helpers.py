"""Small hand-made inputs shared by the analysis tests."""

from __future__ import annotations

import datetime as dt

import polars as pl

UTC = dt.UTC


def ts(m: int, d: int = 1, h: int = 0, y: int = 2024) -> dt.datetime:
    """A UTC instant of 2024 (by default)."""
    return dt.datetime(y, m, d, h, tzinfo=UTC)


def month(m: int, y: int = 2024) -> dt.date:
    """The first day of a month of 2024 (by default), as subscriptions date it."""
    return dt.date(y, m, 1)


def day(d: int, hour: int = 0) -> dt.datetime:
    """A UTC instant of January 2024."""
    return dt.datetime(2024, 1, d, hour, tzinfo=dt.UTC)


# a pays Jan-Mar (never churns); b pays Jan, not Feb, Mar again (churned once, reactivated);
# c never signed up but pays in Mar (sales-led); d pays Jan-Feb then stops (churned);
# e pays Apr (after the period: not counted).
SUBS = pl.DataFrame(
    {
        "account_id": ["a", "a", "a", "b", "b", "c", "d", "d", "e"],
        "month": [
            month(1),
            month(2),
            month(3),
            month(1),
            month(3),
            month(3),
            month(1),
            month(2),
            month(4),
        ],
        "mrr": [10.0, 10.0, 10.0, 20.0, 20.0, 30.0, 100.0, 100.0, 50.0],
    }
)
PERIOD = ("2024-01", "2024-03")
