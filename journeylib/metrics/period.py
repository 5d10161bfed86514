"""The analysis period: a closed range of calendar months (UTC)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.config import PeriodConfig, parse_month
from journeylib.frames import to_lazy, to_polars

__all__ = ["data_months", "resolve_period", "with_period", "period_view"]


#: The columns whose first and last month bound the data's period.
_BOUNDS = {"events": "timestamp", "subscriptions": "month"}


def data_months(tables: dict[str, Any]) -> tuple[str | None, str | None]:
    """The first and last month with data in ``events.timestamp`` or ``subscriptions.month``.

    Polars tables, eager or lazy (a lazy events table is read streaming);
    ``(None, None)`` when neither table has a row.

    Examples:
        >>> import datetime as dt
        >>> ev = pl.DataFrame({"timestamp": [dt.datetime(2024, 3, 5), dt.datetime(2024, 1, 9)]})
        >>> subs = pl.DataFrame({"month": [dt.date(2024, 4, 1)]})
        >>> data_months({"events": ev.lazy(), "subscriptions": subs})
        ('2024-01', '2024-04')
        >>> data_months({"events": ev.clear()})
        (None, None)
    """
    firsts: list[str] = []
    lasts: list[str] = []
    for name, col in _BOUNDS.items():
        frame = tables.get(name)
        if frame is None:
            continue
        # min/max of an empty frame are null
        lo, hi = (
            frame.lazy()
            .select(pl.col(col).min().alias("lo"), pl.col(col).max().alias("hi"))
            .collect()
            .row(0)
        )
        if lo is not None:
            firsts.append(lo.strftime("%Y-%m"))
            lasts.append(hi.strftime("%Y-%m"))
    return (min(firsts) if firsts else None, max(lasts) if lasts else None)


def resolve_period(client: Any) -> tuple[str, str]:
    """The client's period: ``client.yaml: period`` where given, else the data's full months.

    By default the period runs from the first to the last month in which
    ``events.timestamp`` or ``subscriptions.month`` has data. A period with
    only one end given takes the other from the data. A client with no data
    at all falls back to the current month.
    """
    cfg = client.config.period
    lo, hi = data_months(client.tables)
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
    tables = client.tables
    if all(isinstance(tables[t], pl.DataFrame) for t in _BOUNDS if t in tables):
        return client
    small = dict(tables)
    for name, col in _BOUNDS.items():
        if name in tables:
            lo_hi = to_polars(
                to_lazy(tables[name]).select(
                    nw.col(col).min().alias("lo"), nw.col(col).max().alias("hi")
                )
            )
            small[name] = pl.DataFrame({col: [lo_hi["lo"][0], lo_hi["hi"][0]]})
    return dataclasses.replace(client, tables=small)
