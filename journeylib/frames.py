"""Engine-neutral frames: the one home of engine detection and frame conversion.

``to_lazy`` / ``collect`` / ``to_polars`` move between native frames (polars,
DuckDB, Spark), narwhals LazyFrames and small polars results; ``engine_of``
names a native frame's engine. ``account_parts`` / ``whole`` / ``added_up`` read a
frame given in parts that each hold every row of their accounts (the client
store's stream, read bucket by bucket). ``epoch_us`` / ``elapsed_us`` are portable time
arithmetic (month selection lives in :mod:`journeylib.months`).
``write_csv_for_people`` writes a CSV meant to be opened in a spreadsheet, its
text cells neutralised against formula injection (``neutralise_formulas``).

narwhals implements duration arithmetic (``dt.total_seconds`` and friends) on
polars and DuckDB but not on PySpark; these helpers build the same numbers from
calendar components, which every backend supports, so one expression runs on
all engines.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import narwhals as nw
import polars as pl

__all__ = [
    "account_parts",
    "added_up",
    "whole",
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
    "FORMULA_STARTS",
    "neutralise_formulas",
    "write_csv_for_people",
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


def account_parts(frame: Any) -> list[Any]:
    """The parts of a frame given in account parts, or ``[frame]`` for a frame given whole.

    A frame in *account parts* is a list (or tuple) of polars frames with the
    same columns, each holding every row of its accounts (rows without an
    account may be in any part): the client store's journey stream, one part
    per bucket (``Store.stream_parts``). A function that computes per account
    reads one part at a time, in the memory of one part, and adds the parts'
    results; any other function reads :func:`whole`.

    Examples:
        >>> a, b = pl.LazyFrame({"account_id": ["a"]}), pl.LazyFrame({"account_id": ["b"]})
        >>> len(account_parts([a, b])), account_parts(a) == [a]
        (2, True)
    """
    return list(frame) if isinstance(frame, list | tuple) else [frame]


def added_up(results: list[pl.DataFrame], keys: list[str]) -> pl.DataFrame:
    """The results of the parts of a frame in account parts, added: summed per ``keys``.

    Each result has one row per key and counts in its other columns; the
    parts hold disjoint accounts, so the whole's counts are the sums (a
    single result is returned as it is).

    Examples:
        >>> a = pl.DataFrame({"k": ["x", "y"], "n": [1, 2]})
        >>> added_up([a, pl.DataFrame({"k": ["x"], "n": [5]})], ["k"]).sort("k").rows()
        [('x', 6), ('y', 2)]
    """
    if len(results) == 1:
        return results[0]
    return pl.concat(results).group_by(keys).agg(pl.all().sum())


def whole(frame: Any) -> Any:
    """A frame given in account parts as one polars LazyFrame (lazily); any other frame as it is.

    Examples:
        >>> a, b = pl.LazyFrame({"x": [1]}), pl.LazyFrame({"x": [2]})
        >>> whole([a, b]).collect()["x"].to_list()
        [1, 2]
    """
    if not isinstance(frame, list | tuple):
        return frame
    if not frame:
        raise ValueError("a frame in account parts needs at least one part")
    return pl.concat([p.lazy() for p in frame], how="vertical")


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


#: The first characters that make a spreadsheet read a text cell as a formula
#: (``=``, ``+``, ``-``, ``@``, a tab, a carriage return).
FORMULA_STARTS: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")


def _defused(expr: pl.Expr) -> pl.Expr:
    """A String expression with a leading ``'`` on each value that starts with a formula character."""
    return pl.when(expr.str.head(1).is_in(FORMULA_STARTS)).then(pl.lit("'") + expr).otherwise(expr)


def neutralise_formulas(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with its text cells made safe to open in a spreadsheet.

    Every text column (String, Categorical, Enum; Categorical and Enum come
    back as String) gets a leading ``'`` on each cell that starts with one of
    :data:`FORMULA_STARTS`, so that an account named ``=HYPERLINK(...)`` is
    shown as that text, not run as a formula. Other cells are unchanged (a
    ``=`` further in, an empty string), nulls stay null, and non-text columns
    (numbers, dates, booleans) are untouched: a negative number is a number,
    not a formula. Nested columns (List, Struct) are left as they are: CSV
    cannot hold them (``DataFrame.write_csv`` refuses them), so flatten them to
    text first. Column names are not changed (:func:`write_csv_for_people`
    neutralises the header it writes). One vectorised ``with_columns``; no
    Python loop over rows.

    Args:
        frame: any polars DataFrame.

    Returns:
        A new frame of the same columns in the same order.

    Examples:
        >>> df = pl.DataFrame({"name": ["=HYPERLINK(1)", "Acme", "-x", None, "a=b"],
        ...                    "mrr": [-5, 3, 0, 1, 2]})
        >>> neutralise_formulas(df).rows()
        [("'=HYPERLINK(1)", -5), ('Acme', 3), ("'-x", 0), (None, 1), ('a=b', 2)]
        >>> cat = pl.DataFrame({"p": pl.Series(["@home", "office"], dtype=pl.Categorical)})
        >>> out = neutralise_formulas(cat)
        >>> out.schema["p"], out["p"].to_list()
        (String, ["'@home", 'office'])
    """
    text = [
        name
        for name, dtype in frame.schema.items()
        if dtype == pl.String or isinstance(dtype, pl.Categorical | pl.Enum)
    ]
    if not text:
        return frame
    return frame.with_columns(_defused(pl.col(c).cast(pl.String)).alias(c) for c in text)


def write_csv_for_people(frame: pl.DataFrame, path: str | Path) -> Path:
    r"""Write ``frame`` as a CSV for people to open in a spreadsheet; return its path.

    The text cells are neutralised first (:func:`neutralise_formulas`), and so
    is a column name that starts with a formula character (the header is a
    cell too). The file is UTF-8 with a byte-order mark, so that Excel shows
    Arabic, Chinese or accented names as they are; the parent folder is
    created when missing. Not for quarantine files (``rejected/*.csv``): those
    stay byte-faithful to the input.

    Args:
        frame: the table to write (no List or Struct columns: CSV cannot hold them).
        path: the file to write.

    Returns:
        ``path`` as a :class:`~pathlib.Path`.

    Examples:
        >>> import tempfile
        >>> df = pl.DataFrame({"name": ["+1 555", "Zoë"], "mrr": [-5.0, 12.5]})
        >>> with tempfile.TemporaryDirectory() as folder:
        ...     out = write_csv_for_people(df, Path(folder) / "new" / "accounts.csv")
        ...     out.name, out.read_bytes()
        ('accounts.csv', b"\xef\xbb\xbfname,mrr\n'+1 555,-5.0\nZo\xc3\xab,12.5\n")
    """
    path = Path(path)
    out = neutralise_formulas(frame)
    header = {c: f"'{c}" for c in out.columns if c[:1] in FORMULA_STARTS}
    if header:
        out = out.rename(header)
    path.parent.mkdir(parents=True, exist_ok=True)
    out.write_csv(path, include_bom=True)
    return path
