"""Engine-neutral frames: the one home of engine detection and frame conversion.

``to_lazy`` / ``collect`` / ``to_polars`` move between native frames (polars,
DuckDB, Spark), narwhals LazyFrames and small polars results; ``engine_of``
names a native frame's engine. ``epoch_us`` / ``elapsed_us`` are portable time
arithmetic (month selection lives in :mod:`journeylib.months`).

narwhals implements duration arithmetic (``dt.total_seconds`` and friends) on
polars and DuckDB but not on PySpark; these helpers build the same numbers from
calendar components, which every backend supports, so one expression runs on
all engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw
import polars as pl

__all__ = [
    "day_number",
    "epoch_us",
    "elapsed_us",
    "US_PER_DAY",
    "US_PER_HOUR",
    "to_lazy",
    "collect",
    "to_polars",
    "engine_of",
    "missing_values",
    "with_optional",
]

US_PER_HOUR = 3_600_000_000
US_PER_DAY = 86_400_000_000


def day_number(col: str) -> nw.Expr:
    """Days since 1970-01-01 of a date's, or a timestamp's (UTC) calendar date (Int64, every engine).

    Howard Hinnant's ``days_from_civil`` in integer arithmetic, for years >= 0.

    Examples:
        >>> import datetime as dt
        >>> df = nw.from_native(pl.DataFrame({"d": [dt.date(1970, 1, 2), dt.date(2024, 3, 1)]}))
        >>> df.select(day_number("d")).to_native()["d"].to_list()
        [1, 19783]
    """
    ts = nw.col(col)
    m = ts.dt.month().cast(nw.Int64)
    y = ts.dt.year().cast(nw.Int64) - (m <= 2).cast(nw.Int64)
    d = ts.dt.day().cast(nw.Int64)
    era = y // 400
    yoe = y - era * 400
    mp = (m + 9) % 12
    doy = (153 * mp + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def epoch_us(col: str) -> nw.Expr:
    """Microseconds since the Unix epoch of a UTC timestamp column, on every engine."""
    ts = nw.col(col)
    return (
        day_number(col) * US_PER_DAY
        + ts.dt.hour().cast(nw.Int64) * US_PER_HOUR
        + ts.dt.minute().cast(nw.Int64) * 60_000_000
        + ts.dt.second().cast(nw.Int64) * 1_000_000
        + ts.dt.microsecond().cast(nw.Int64)
    )


def elapsed_us(later: str, earlier: str) -> nw.Expr:
    """``later − earlier`` in whole microseconds (Int64), on every engine.

    Examples:
        >>> import datetime as dt, polars as pl
        >>> df = pl.DataFrame({"a": [dt.datetime(2024, 3, 1, 0, 0, 0, 5)], "b": [dt.datetime(2024, 2, 28)]})
        >>> nw.from_native(df).select(elapsed_us("a", "b").alias("us")).item()
        172800000005
    """
    return epoch_us(later) - epoch_us(earlier)


def to_lazy(native: Any) -> nw.LazyFrame[Any]:
    """Any native frame (or narwhals frame) as a narwhals LazyFrame (eager frames are made lazy)."""
    frame = nw.from_native(native)
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame


def with_optional(lf: nw.LazyFrame[Any], columns: dict[str, Any]) -> nw.LazyFrame[Any]:
    """Add the optional ``columns`` a frame lacks, as nulls of the given narwhals dtypes.

    Examples:
        >>> lf = to_lazy(pl.DataFrame({"a": [1]}))
        >>> collect(with_optional(lf, {"a": nw.String(), "b": nw.String()})).rows()
        [(1, None)]
    """
    present = set(lf.collect_schema().names())
    missing = [
        nw.lit(None).cast(dtype).alias(c) for c, dtype in columns.items() if c not in present
    ]
    return lf.with_columns(*missing) if missing else lf


def collect(lf: nw.LazyFrame[Any]) -> pl.DataFrame:
    """A narwhals LazyFrame collected to a polars DataFrame."""
    return lf.collect(backend="polars").to_native()


def engine_of(frame: Any) -> str:
    """The engine of a native frame: ``polars``, ``duckdb``, ``spark`` or ``other``.

    Examples:
        >>> engine_of(pl.DataFrame({"a": [1]})), engine_of(pl.LazyFrame({"a": [1]}))
        ('polars', 'polars')
    """
    if isinstance(frame, pl.DataFrame | pl.LazyFrame):
        return "polars"
    module = type(frame).__module__
    if module.startswith("duckdb"):
        return "duckdb"
    if module.startswith("pyspark"):
        return "spark"
    return "other"


def to_polars(frame: Any) -> pl.DataFrame:
    """Any native frame collected to a polars DataFrame (for small tables and results).

    Examples:
        >>> to_polars(pl.LazyFrame({"a": [1, 2]})).shape
        (2, 1)
    """
    if isinstance(frame, pl.DataFrame):
        return frame
    native = nw.from_native(frame)
    if isinstance(native, nw.DataFrame):
        return native.to_polars()
    return native.collect(backend="polars").to_native()


def missing_values(frame: Any, column: str, values: Sequence[Any]) -> list[Any]:
    """The ``values`` that no row of ``column`` holds, in their order (one query on the frame's engine).

    Examples:
        >>> missing_values(pl.DataFrame({"event": ["a", "b"]}), "event", ["b", "x", "a", "y"])
        ['x', 'y']
    """
    lf = to_lazy(frame)
    found = collect(lf.filter(nw.col(column).is_in(list(values))).select(column).unique())
    present = set(found[column].to_list())
    return [v for v in values if v not in present]
