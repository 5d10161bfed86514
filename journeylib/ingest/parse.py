"""Parsing a column as read into its canonical dtype, one cell at a time.

CSV columns arrive as text, Parquet columns in their native types; each
canonical column is parsed on its own, so one bad cell only quarantines its
row. Identifiers stay text (integers become their decimal text). Timestamps
with an offset are converted to UTC; naive ones are read in ``client.yaml:
timezone`` (a time that does not exist in that zone, in the spring DST gap, is
a bad timestamp; an ambiguous one in the autumn takes the earlier instant).
Month columns accept ``YYYY-MM`` or any date or timestamp inside the month
(naive ones read as UTC) and become the 1st of the month. The empty string and
the tokens ``NA``, ``N/A``, ``null``, ``None``, ``NaN``, ``NaT`` are missing
values in typed columns; in text columns only the empty string is. Text is
stripped of surrounding blanks.
"""

from __future__ import annotations

import re

import polars as pl

from journeylib.schemas import Kind, canonical_dtype

__all__ = ["parse_column"]

_NULL_TOKENS = [
    "",
    "NA",
    "N/A",
    "n/a",
    "na",
    "null",
    "NULL",
    "Null",
    "None",
    "none",
    "NaN",
    "nan",
    "NAN",
    "NaT",
    "nat",
]


def _normalise_text(s: pl.Series) -> pl.Series:
    s = s.str.strip_chars()
    return pl.select(pl.when(s.str.len_bytes() > 0).then(s)).to_series().alias(s.name)


def _normalise_typed(s: pl.Series) -> pl.Series:
    s = s.str.strip_chars()
    return pl.select(pl.when(~s.is_in(_NULL_TOKENS)).then(s)).to_series().alias(s.name)


def _localise(naive: pl.Series, tz: str) -> pl.Series:
    return naive.dt.replace_time_zone(
        tz, ambiguous="earliest", non_existent="null"
    ).dt.convert_time_zone("UTC")


_AWARE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M%z")
_NAIVE_FORMATS = ("%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M", "%Y-%m-%d")
_OFFSET = re.compile(r"(?:[+-]\d{2}:?\d{2}|Z)$")


def _try_format(s: pl.Series, fmt: str, tz: str) -> pl.Series:
    if fmt.endswith("%z"):
        out = s.str.to_datetime(fmt, strict=False, time_unit="us")
        return out.dt.convert_time_zone("UTC")
    return _localise(s.str.to_datetime(fmt, strict=False, time_unit="us"), tz)


def _arrow_cast(s: pl.Series, kind: str) -> pl.Series | None:
    """Cast text with Arrow's vectorised parser; None when any value does not parse.

    ``kind``: ``timestamp_utc``, ``timestamp`` (naive) or ``date``. pyarrow is
    imported here, for text dates only: loading it costs every start of the
    command a fifth of a second, and Parquet inputs never need it.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    dtype = {
        "timestamp_utc": pa.timestamp("us", "UTC"),
        "timestamp": pa.timestamp("us"),
        "date": pa.date32(),
    }[kind]
    try:
        out = pl.from_arrow(pc.cast(s.to_arrow(), dtype))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    assert isinstance(out, pl.Series)
    return out


def _parse_datetime_text(s: pl.Series, tz: str) -> pl.Series:
    """Parse normalised text to Datetime(us, UTC): one fast pass, then fallbacks on the rest."""
    target = pl.Datetime("us", "UTC")
    if s.len() == 0 or s.null_count() == s.len():
        return pl.Series(s.name, [None] * s.len(), dtype=target)
    # The first pass uses the shape of the first value; most files use one shape throughout.
    first = s.drop_nulls()[0]
    aware = bool(_OFFSET.search(first))
    # Arrow's ISO 8601 cast is several times faster than a strptime format, but all-or-nothing:
    # it serves the clean file; a file with any odd value takes the per-value path below.
    fast = _arrow_cast(s, "timestamp_utc" if aware else "timestamp")
    if fast is not None:
        return (fast if aware else _localise(fast, tz)).alias(s.name)
    out = _try_format(s, _AWARE_FORMATS[0] if aware else _NAIVE_FORMATS[0], tz)
    todo = (out.is_null() & s.is_not_null()).arg_true()
    if todo.len() == 0:
        return out.alias(s.name)
    rest = s.gather(todo)
    # Accept a blank (or t) between date and time, a trailing Z or " UTC", an hour-only offset.
    rest = (
        rest.str.replace(r"^(\d{4}-\d{2}-\d{2})(?: +|t)", "${1}T")
        .str.replace(r"(?:[Zz]| ?UTC)$", "+00:00")
        .str.replace(r"(T[\d:.]+[+-]\d{2})$", "${1}:00")
    )
    tries = [_try_format(rest, f, tz) for f in (*_AWARE_FORMATS, *_NAIVE_FORMATS)]
    fixed = pl.select(pl.coalesce(tries)).to_series()
    return out.scatter(todo, fixed).alias(s.name)


def _parse_date_text(s: pl.Series) -> pl.Series:
    fast = _arrow_cast(s, "date") if s.len() else None
    if fast is not None:
        return fast.alias(s.name)
    out = s.str.to_date("%Y-%m-%d", strict=False)
    todo = (out.is_null() & s.is_not_null()).arg_true()
    if todo.len() == 0:
        return out
    # A timestamp: its calendar date (naive values as written, offsets converted to UTC).
    fixed = _parse_datetime_text(s.gather(todo), "UTC").dt.date()
    return out.scatter(todo, fixed)


def _parse_month_text(s: pl.Series) -> pl.Series:
    fast = _arrow_cast(s + "-01", "date") if s.len() else None
    if fast is not None:
        return fast.alias(s.name)
    out = (s + "-01").str.to_date("%Y-%m-%d", strict=False)
    todo = (out.is_null() & s.is_not_null()).arg_true()
    if todo.len() == 0:
        return out
    fixed = _parse_date_text(s.gather(todo)).dt.truncate("1mo")
    return out.scatter(todo, fixed)


def _float_to_int(f: pl.Series) -> pl.Series:
    ok = f.is_finite() & (f == f.floor()) & (f.abs() < 9.2e18)
    return pl.select(pl.when(ok).then(f)).to_series().cast(pl.Int64, strict=False)


def _parse_int_text(s: pl.Series) -> pl.Series:
    out = s.cast(pl.Int64, strict=False)
    todo = (out.is_null() & s.is_not_null()).arg_true()
    if todo.len() == 0:
        return out
    # "3.0" (what pandas writes for an int column with gaps) is the whole number 3.
    fixed = _float_to_int(s.gather(todo).cast(pl.Float64, strict=False))
    return out.scatter(todo, fixed)


def _finite(f: pl.Series) -> pl.Series:
    return pl.select(pl.when(f.is_finite()).then(f)).to_series().alias(f.name)


def _parse_text(s: pl.Series, kind: Kind, tz: str) -> pl.Series:
    if kind == "datetime":
        return _parse_datetime_text(s, tz)
    if kind == "month":
        return _parse_month_text(s)
    if kind == "date":
        return _parse_date_text(s)
    if kind == "int":
        return _parse_int_text(s)
    return _finite(s.cast(pl.Float64, strict=False))


def parse_column(raw: pl.Series, kind: Kind, tz: str) -> tuple[pl.Series, pl.Series]:
    """Parse one column as read to its canonical dtype.

    Args:
        raw: the column as read (CSV: text; Parquet: its native type).
        kind: the column's kind in :data:`journeylib.schemas.TABLES`.
        tz: the IANA zone naive timestamps are written in.

    Returns:
        ``(parsed, present)``: the column in the canonical dtype of ``kind``
        (null where a value did not parse), and the mask of cells that hold a
        value (a present cell that is null in ``parsed`` did not parse).

    Examples:
        >>> parsed, present = parse_column(pl.Series("n", [" 3.0", "NA", "x"]), "int", "UTC")
        >>> parsed.to_list(), present.to_list()
        ([3, None, None], [True, False, True])
    """
    dtype = raw.dtype
    name = raw.name
    if kind in ("id", "text"):
        if dtype == pl.String:
            s = _normalise_text(raw)
        elif dtype.is_float() and kind == "id":
            # Ids saved as floats (1.0) are integers with gaps: read as their integer text.
            as_int = _float_to_int(raw)
            s = pl.select(pl.coalesce(as_int.cast(pl.String), raw.cast(pl.String))).to_series()
        else:
            s = _normalise_text(raw.cast(pl.String))
        return s.alias(name), s.is_not_null()
    if dtype == pl.String:
        s = _normalise_typed(raw)
        return _parse_text(s, kind, tz).alias(name), s.is_not_null()
    present = raw.is_not_null()
    if dtype.is_float():
        present = present & ~raw.is_nan()  # NaN is how pandas marks a missing number
    if kind == "datetime" and isinstance(dtype, pl.Datetime | pl.Date):
        if isinstance(dtype, pl.Date) or dtype.time_zone is None:
            out = _localise(raw.cast(pl.Datetime("us")), tz)
        else:
            out = raw.dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC"))
    elif kind in ("month", "date") and isinstance(dtype, pl.Datetime | pl.Date):
        if isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
            raw = raw.dt.convert_time_zone("UTC")
        out = raw.cast(pl.Date) if isinstance(dtype, pl.Date) else raw.dt.date()
        if kind == "month":
            out = out.dt.truncate("1mo")
    elif kind == "int" and dtype.is_integer():
        out = raw.cast(pl.Int64, strict=False)
    elif kind == "int" and (dtype.is_float() or isinstance(dtype, pl.Decimal)):
        out = _float_to_int(raw.cast(pl.Float64))
    elif kind == "float" and dtype.is_numeric():
        out = _finite(raw.cast(pl.Float64))
    else:
        # Anything else (text in a typed column, booleans, ints as timestamps) goes the text way.
        text = _normalise_typed(raw.cast(pl.String))
        return _parse_text(text, kind, tz).alias(name), text.is_not_null()
    out = pl.select(pl.when(present).then(out)).to_series()
    return out.cast(canonical_dtype(kind)).alias(name), present
