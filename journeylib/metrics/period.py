"""The analysis period: a closed range of calendar months (UTC)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.config import PeriodConfig, parse_month
from journeylib.frames import to_lazy, to_polars

__all__ = ["resolve_period", "with_period", "period_view"]


def _data_months(tables: dict[str, Any]) -> tuple[str | None, str | None]:
    firsts: list[str] = []
    lasts: list[str] = []
    ev = tables.get("events")
    if ev is not None:
        # min/max of an empty frame are null; a lazy events table is read streaming
        ts = (
            ev.lazy()
            .select(pl.col("timestamp").min().alias("lo"), pl.col("timestamp").max().alias("hi"))
            .collect()
            .row(0)
        )
        if ts[0] is not None:
            firsts.append(ts[0].strftime("%Y-%m"))
            lasts.append(ts[1].strftime("%Y-%m"))
    subs = tables.get("subscriptions")
    if subs is not None and subs.height:
        ms = subs.select(pl.col("month").min().alias("lo"), pl.col("month").max().alias("hi")).row(
            0
        )
        if ms[0] is not None:
            firsts.append(ms[0].strftime("%Y-%m"))
            lasts.append(ms[1].strftime("%Y-%m"))
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def resolve_period(client: Any) -> tuple[str, str]:
    """The client's period: ``client.yaml: period`` where given, else the data's full months.

    By default the period runs from the first to the last month in which
    ``events.timestamp`` or ``subscriptions.month`` has data. A period with
    only one end given takes the other from the data. A client with no data
    at all falls back to the current month.
    """
    cfg = client.config.period
    lo, hi = _data_months(client.tables)
    start = (cfg.start if cfg and cfg.start else None) or lo
    end = (cfg.end if cfg and cfg.end else None) or hi
    if start is None and end is None:
        today = dt.datetime.now(dt.UTC).strftime("%Y-%m")
        return today, today
    start = start or end
    end = end or start
    if start > end:  # only one end configured, and it lies outside the data
        start, end = (start, start) if cfg and cfg.start else (end, end)
    return start, end


def with_period(client: Any, start: str | None = None, end: str | None = None) -> Any:
    """A copy of ``client`` whose configured period is ``start``–``end`` (empty or None keeps the configured value).

    Notebooks call it with their ``period_start`` / ``period_end`` parameters.
    """
    if not start and not end:
        return client
    cur = client.config.period
    new = PeriodConfig(
        start=parse_month(start) if start else (cur.start if cur else None),
        end=parse_month(end) if end else (cur.end if cur else None),
    )
    return dataclasses.replace(client, config=client.config.model_copy(update={"period": new}))


def period_view(client: Any) -> Any:
    """The client as :func:`journeylib.metrics.resolve_period` needs it: polars ``events`` and ``subscriptions``.

    A polars client is returned as is. Else ``events`` and ``subscriptions`` are
    replaced by two-row polars frames holding their first and last
    ``timestamp`` / ``month`` (one small aggregate on the engine), which give the
    same period as the full tables.

    Examples:
        >>> import types
        >>> c = types.SimpleNamespace(tables={"events": pl.DataFrame({"timestamp": [1]})})
        >>> period_view(c) is c
        True
    """
    bounds = {"events": "timestamp", "subscriptions": "month"}
    tables = client.tables
    if all(isinstance(tables[t], pl.DataFrame) for t in bounds if t in tables):
        return client
    small = dict(tables)
    for name, col in bounds.items():
        if name in tables:
            lo_hi = to_polars(
                to_lazy(tables[name]).select(
                    nw.col(col).min().alias("lo"), nw.col(col).max().alias("hi")
                )
            )
            small[name] = pl.DataFrame({col: [lo_hi["lo"][0], lo_hi["hi"][0]]})
    return dataclasses.replace(client, tables=small)
