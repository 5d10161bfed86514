"""The analysis period: a closed range of calendar months (UTC)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.config import PeriodConfig, parse_month
from journeylib.frames import to_lazy, to_polars
from journeylib.months import month_index

__all__ = ["data_months", "period_cut", "resolve_period", "with_period", "period_view"]


#: The columns whose first and last month bound the data's period.
_BOUNDS = {"events": "timestamp", "subscriptions": "month"}


def _table_months(tables: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The first and last month of ``events.timestamp`` and ``subscriptions.month``, per table.

    Tables absent or without a row are left out.

    Examples:
        >>> import datetime as dt
        >>> ev = pl.DataFrame({"timestamp": [dt.datetime(2024, 3, 5), dt.datetime(2024, 1, 9)]})
        >>> empty = pl.DataFrame(schema={"month": pl.Date})
        >>> _table_months({"events": ev.lazy(), "subscriptions": empty})
        {'events': ('2024-01', '2024-03')}
    """
    out: dict[str, tuple[str, str]] = {}
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
            out[name] = (lo.strftime("%Y-%m"), hi.strftime("%Y-%m"))
    return out


def data_months(tables: dict[str, Any]) -> tuple[str | None, str | None]:
    """The first and last month with data in ``events.timestamp`` or ``subscriptions.month``.

    Polars tables, eager or lazy (a lazy events table is read streaming);
    ``(None, None)`` when neither table has a row. This is the whole span of
    the data (the explorer's period slider offers it); the *default period*
    (:func:`resolve_period`) may end earlier.

    Examples:
        >>> import datetime as dt
        >>> ev = pl.DataFrame({"timestamp": [dt.datetime(2024, 3, 5), dt.datetime(2024, 1, 9)]})
        >>> subs = pl.DataFrame({"month": [dt.date(2024, 4, 1)]})
        >>> data_months({"events": ev.lazy(), "subscriptions": subs})
        ('2024-01', '2024-04')
        >>> data_months({"events": ev.clear()})
        (None, None)
    """
    bounds = _table_months(tables)
    if not bounds:
        return None, None
    return min(lo for lo, _ in bounds.values()), max(hi for _, hi in bounds.values())


def _resolve(cfg: PeriodConfig | None, bounds: dict[str, tuple[str, str]]) -> tuple[str, str]:
    """:func:`resolve_period` from the configured period and the tables' months."""
    lo = min((a for a, _ in bounds.values()), default=None)
    hi = max((b for _, b in bounds.values()), default=None)
    # The default end: the earlier of the tables' last months (with one table, its last).
    cut = min((b for _, b in bounds.values()), default=None)
    start = (cfg.start if cfg and cfg.start else None) or lo
    if cfg and cfg.end:
        end: str | None = cfg.end
    elif cut is not None and (start is None or start <= cut):
        end = cut
    else:  # a configured start after the earlier last month: the data's last month, as before
        end = hi
    if start is None or end is None:
        start = end = start or end or dt.datetime.now(dt.UTC).strftime("%Y-%m")
    if start > end:  # only one end configured, and it lies outside the data
        start, end = (start, start) if cfg and cfg.start else (end, end)
    return start, end


def resolve_period(client: Any) -> tuple[str, str]:
    """The client's period: ``client.yaml: period`` where given, else taken from the data.

    By default the period starts in the first month in which
    ``events.timestamp`` or ``subscriptions.month`` has data and ends in the
    *earlier* of the two tables' last months: months after one table ends
    would read as no revenue (or no activity) and show every customer
    churned. With only one of the tables (or one of them empty) it ends in
    that table's last month. :func:`period_cut` says what the default end
    left out. A configured (or :func:`with_period`) end is never changed. A
    period with only one end given takes the other from the data; a
    configured start after the earlier last month keeps the data's last
    month as the end. A client with no data at all falls back to the current
    month.

    Polars tables (see :func:`period_view` for the other engines).

    Examples:
        >>> import datetime as dt, types
        >>> ev = pl.DataFrame({"timestamp": [dt.datetime(2024, 1, 9), dt.datetime(2024, 6, 2)]})
        >>> subs = pl.DataFrame({"month": [dt.date(2024, 1, 1), dt.date(2024, 4, 1)]})
        >>> c = types.SimpleNamespace(config=types.SimpleNamespace(period=None),
        ...                           tables={"events": ev, "subscriptions": subs})
        >>> resolve_period(c)
        ('2024-01', '2024-04')
        >>> c.config.period = PeriodConfig(end="2024-06")
        >>> resolve_period(c)
        ('2024-01', '2024-06')
    """
    cfg = client.config.period
    if cfg and cfg.start and cfg.end:  # both ends configured: the data's months are not read
        return cfg.start, cfg.end
    return _resolve(cfg, _table_months(client.tables))


def period_cut(client: Any) -> dict[str, Any] | None:
    """What the default period's end left out of the data, or None when nothing was.

    When the period's end is not configured and both ``events`` and
    ``subscriptions`` have rows, :func:`resolve_period` ends the period in the
    earlier of their last months. This says which table runs past that end
    and by how many calendar months (counted from the month after the
    period's end to the table's last month, whether or not each has rows):
    ``{"table", "months", "last_month", "period_end"}``. None when the end is
    configured (``client.yaml: period.end`` or :func:`with_period`), when only
    one table has data, or when both end in the same month. Months *before*
    the period are never cut: it starts in the earlier first month.

    Polars tables, as :func:`resolve_period` (see :func:`period_view`).

    Examples:
        >>> import datetime as dt, types
        >>> ev = pl.DataFrame({"timestamp": [dt.datetime(2025, 1, 9), dt.datetime(2025, 12, 2)]})
        >>> subs = pl.DataFrame({"month": [dt.date(2025, 1, 1), dt.date(2025, 10, 1)]})
        >>> c = types.SimpleNamespace(config=types.SimpleNamespace(period=None),
        ...                           tables={"events": ev, "subscriptions": subs})
        >>> period_cut(c)
        {'table': 'events', 'months': 2, 'last_month': '2025-12', 'period_end': '2025-10'}
        >>> c.tables = {"events": ev}
        >>> period_cut(c) is None
        True
    """
    cfg = client.config.period
    if cfg and cfg.end:
        return None
    bounds = _table_months(client.tables)
    if len(bounds) < 2:
        return None
    end = _resolve(cfg, bounds)[1]
    table, (_, last) = max(bounds.items(), key=lambda kv: kv[1][1])
    if last <= end:
        return None
    return {
        "table": table,
        "months": month_index(last) - month_index(end),
        "last_month": last,
        "period_end": end,
    }


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
    same period (and the same :func:`period_cut`) as the full tables.

    Examples:
        >>> import types
        >>> c = types.SimpleNamespace(tables={"events": pl.DataFrame({"timestamp": [1]})})
        >>> period_view(c) is c
        True
    """
    tables = client.tables
    cfg = getattr(getattr(client, "config", None), "period", None)
    if cfg and cfg.start and cfg.end:  # resolve_period reads no table then
        return client
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
