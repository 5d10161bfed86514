"""The analysis period: a closed range of calendar months (UTC)."""

from __future__ import annotations

from typing import Any

import polars as pl

from journeylib.config import parse_month

__all__ = [
    "resolve_period",
    "with_period",
    "month_range",
    "month_index",
    "month_from_index",
    "month_label_expr",
    "period_index",
    "period_months",
]


def month_index(month: str) -> int:
    """``'YYYY-MM'`` → an integer month index (year × 12 + month − 1).

    Examples:
        >>> month_index("2024-01"), month_index("2024-12")
        (24288, 24299)
    """
    y, m = month.split("-")[:2]
    return int(y) * 12 + int(m) - 1


def month_from_index(idx: int) -> str:
    """The inverse of :func:`month_index`.

    Examples:
        >>> month_from_index(24299)
        '2024-12'
    """
    return f"{idx // 12:04d}-{idx % 12 + 1:02d}"


def month_label_expr(col: str) -> pl.Expr:
    """Polars expression: month index column → ``YYYY-MM`` (the column form of :func:`month_from_index`).

    Examples:
        >>> pl.DataFrame({"mi": [24288, 24299]}).select(month_label_expr("mi"))["mi"].to_list()
        ['2024-01', '2024-12']
    """
    c = pl.col(col)
    return pl.format(
        "{}-{}",
        (c // 12).cast(pl.String).str.zfill(4),
        (c % 12 + 1).cast(pl.String).str.zfill(2),
    )


def period_index(period: tuple[str, str]) -> tuple[int, int]:
    """The closed period ``("YYYY-MM", "YYYY-MM")`` as a pair of month indices.

    Each end is normalised with :func:`journeylib.config.parse_month`; a start after
    the end is a ``ValueError`` naming the normalised months.

    Examples:
        >>> period_index(("2024-01", "2024-12-31"))
        (24288, 24299)
    """
    start, end = (parse_month(p) for p in period)
    if start > end:
        raise ValueError(f"period start {start} is after period end {end}")
    return month_index(start), month_index(end)


def month_range(start: str, end: str) -> list[str]:
    """Every month from ``start`` to ``end``, both included.

    Examples:
        >>> month_range("2024-11", "2025-02")
        ['2024-11', '2024-12', '2025-01', '2025-02']
    """
    return [month_from_index(i) for i in range(month_index(start), month_index(end) + 1)]


def period_months(period: tuple[str, str]) -> list[str]:
    """The months of a period tuple."""
    return month_range(*period)


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
        import datetime as dt

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
    import dataclasses

    from journeylib.config import PeriodConfig, parse_month

    if not start and not end:
        return client
    cur = client.config.period
    new = PeriodConfig(
        start=parse_month(start) if start else (cur.start if cur else None),
        end=parse_month(end) if end else (cur.end if cur else None),
    )
    return dataclasses.replace(client, config=client.config.model_copy(update={"period": new}))
