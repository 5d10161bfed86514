"""Read a client folder: find, parse, validate and quarantine its tables.

Two kinds of problems (``data.md``):

* **fatal** ones raise :class:`~journeylib.errors.DataError` (or
  ``ConfigError`` / ``TemplateError`` for client.yaml and the template) with a
  one-line message naming the file, the column or key, and the fix: a file that
  cannot be read, a required column or table missing, a column where *no* value
  parses to its type, two files for one table;
* **row-level** ones quarantine the whole row, unchanged as read, with a
  ``reason`` column naming every rule it broke (``;``-separated, rule names from
  :mod:`journeylib.schemas`). Rows in = rows valid + rows rejected, per table.

Reading: CSV (``.csv``, ``.csv.gz``) is read with every column as text, then
each canonical column is parsed on its own, so one bad cell only quarantines its
row. Parquet is read with its native types, then cast. Identifiers stay text
(integers become their decimal text). Timestamps with an offset are converted to
UTC; naive ones are read in ``client.yaml: timezone`` (a time that does not
exist in that zone, in the spring DST gap, is a bad timestamp; an ambiguous one
in the autumn takes the earlier instant). Month columns accept ``YYYY-MM`` or any
date or timestamp inside the month (naive ones read as UTC) and become the 1st of
the month. The empty string and the tokens ``NA``, ``N/A``, ``null``, ``None``,
``NaN``, ``NaT`` are missing values in typed columns; in text columns only
the empty string is. Text is stripped of surrounding blanks.

Extra columns are kept in the quarantine output (``Client.rejected``) and
dropped from the valid frames, which have exactly the canonical columns and
dtypes of ``journeylib.schemas.TABLES``.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from journeylib.config import ClientConfig, JourneyTemplate, load_client_config, load_template
from journeylib.errors import ConfigError, DataError, JourneyError
from journeylib.ingest.lazy import lazy_schema, scan_events, scan_parquet
from journeylib.ingest.personas import assign_personas
from journeylib.paths import client_dir_for_new, reports_dir, resolve_client_dir, templates_dir
from journeylib.schemas import (
    ROW,
    TABLE_ORDER,
    TABLES,
    UNKNOWN_ACCOUNT,
    Kind,
    TableSpec,
    canonical_dtype,
    later_copies,
    parse_reason,
    rule_names,
)

__all__ = [
    "EXTENSIONS",
    "Client",
    "TableData",
    "data_quality",
    "find_table_file",
    "init_client",
    "load_client",
    "read_table",
    "validate_table",
    "write_rejected",
]

#: File endings accepted for a table, in the order they are looked for.
EXTENSIONS: tuple[str, ...] = (".csv", ".csv.gz", ".parquet")

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

_EXPECTED = {
    "datetime": "ISO 8601 timestamps such as 2024-03-01T09:30:00Z or 2024-03-01 09:30",
    "month": "months written YYYY-MM (or a date inside the month)",
    "date": "dates written YYYY-MM-DD",
    "int": "whole numbers",
    "float": "numbers such as 12.5",
    "id": "text",
    "text": "text",
}


# ------------------------------------------------------------------ data classes
@dataclass(frozen=True)
class TableData:
    """One table as read and parsed, before validation.

    Attributes:
        name: the table name.
        path: the file it was read from.
        raw: every column as read (CSV: all text; Parquet: native types).
        parsed: ``__row__`` plus the canonical columns in canonical dtypes; a cell
            that did not parse is null there (and listed in ``parse_failures``).
        parse_failures: one row per unparseable cell: ``__row__``, ``reason``.
    """

    name: str
    path: Path
    raw: pl.DataFrame
    parsed: pl.DataFrame
    parse_failures: pl.DataFrame


@dataclass(frozen=True, eq=False)
class Client:
    """A loaded client: configuration, template and validated tables.

    Attributes:
        name: the client folder's name.
        path: the client folder.
        config: the validated ``client.yaml``.
        template: the journey template, with ``event_mapping`` applied.
        tables: valid rows per table in canonical dtypes (absent optional tables
            are missing from the dict); ``accounts.persona`` is filled. With
            ``load_client(..., lazy=True)`` a Parquet events table is a
            :class:`polars.LazyFrame`; every other table is a DataFrame.
        rejected: per loaded table, the quarantined rows as read plus ``reason``
            (an empty frame when nothing was quarantined).
        quality: per loaded table, ``{rows_in, rows_valid, rows_rejected, reasons}``.
        sources: per loaded table, the file it was read from.
    """

    name: str
    path: Path
    config: ClientConfig
    template: JourneyTemplate
    tables: dict[str, pl.DataFrame | pl.LazyFrame]
    rejected: dict[str, pl.DataFrame] = field(default_factory=dict)
    quality: dict[str, dict[str, Any]] = field(default_factory=dict)
    sources: dict[str, Path] = field(default_factory=dict)

    def table(self, name: str) -> pl.DataFrame | pl.LazyFrame | None:
        """The valid rows of table ``name``, or None when the client has no such table."""
        return self.tables.get(name)


# ------------------------------------------------------------------ finding and reading
def find_table_file(client_dir: str | Path, table: str) -> Path | None:
    """The file of ``table`` in ``client_dir`` (``.csv``, ``.csv.gz`` or ``.parquet``), or None.

    A folder named after the table holding Parquet files (``events/`` with
    ``events/month=2025-01/part.parquet``, …) counts as the table's file: its
    Parquet files are read in path order, the partition names are not read,
    and a column some partitions lack is missing (null) in their rows.

    Raises:
        DataError: when more than one file exists for the table.

    Examples:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "events.csv.gz").write_bytes(b"")
        >>> find_table_file(d, "events").name, find_table_file(d, "tickets")
        ('events.csv.gz', None)
    """
    client_dir = Path(client_dir)
    found = [
        client_dir / f"{table}{ext}"
        for ext in EXTENSIONS
        if (client_dir / f"{table}{ext}").exists()
    ]
    folder = client_dir / table
    if folder.is_dir() and next(folder.rglob("*.parquet"), None) is not None:
        found.append(folder)  # a folder of Parquet files, e.g. month partitions
    if len(found) > 1:
        names = " and ".join(p.name for p in found)
        raise DataError(
            f"two files for the table '{table}'",
            where=f"{client_dir}: {names}",
            expected=f"one file for {table}",
            found=names,
            fix=f"keep one of {names} and move the other out of the client folder",
        )
    return found[0] if found else None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _read_raw(path: Path) -> pl.DataFrame:
    is_csv = not path.name.endswith(".parquet") and not path.is_dir()
    try:
        if is_csv:
            df = pl.read_csv(path, infer_schema=False, encoding="utf8")
        elif path.is_dir():
            df = scan_parquet(path).collect()
        else:
            df = pl.read_parquet(path)
    except DataError:  # a folder of partitions that disagree: already one line
        raise
    except pl.exceptions.NoDataError:
        raise DataError(
            "the file is empty",
            where=path,
            expected="a header row with the column names",
            found="an empty file",
            fix="export the table again with its header row",
        ) from None
    except Exception as exc:  # polars, arrow and OS errors all mean: unreadable
        found = _first_line(exc).removeprefix("found ")
        if "more fields than defined" in found:
            found = "a row with more fields than the header row (an unquoted comma?)"
        raise DataError(
            "cannot read the file",
            where=path,
            expected="a UTF-8 CSV file with a header row" if is_csv else "a Parquet file",
            found=found,
            fix="export the table again (CSV: UTF-8, comma-separated, one header row)"
            if is_csv
            else "export the table again as Parquet, or as CSV",
        ) from None
    # A BOM or blanks around header names are export noise, not part of the name.
    renamed = {c: c.lstrip("\ufeff").strip() for c in df.columns}
    if any(k != v for k, v in renamed.items()) and len(set(renamed.values())) == len(renamed):
        df = df.rename(renamed)
    return df


def _check_columns(raw: pl.DataFrame, spec: TableSpec, path: Path) -> None:
    found = raw.columns
    shown = ", ".join(found[:15]) + (" …" if len(found) > 15 else "")
    for col in spec.required_columns:
        if col not in found:
            lower = {c.lower().strip().replace(" ", "_"): c for c in found}
            close = difflib.get_close_matches(col, list(lower), n=1, cutoff=0.6)
            hint = (
                f"rename '{lower[close[0]]}' to '{col}'" if close else f"add a column named '{col}'"
            )
            sep = next((c for c in (";", "\t", "|") if len(found) == 1 and c in found[0]), None)
            if sep is not None:  # a whole header in one column: not comma-separated
                hint = f"save the file comma-separated (it seems to use {sep!r} between columns)"
            raise DataError(
                f"missing required column '{col}'",
                where=f"{path}: {col}",
                expected=f"the columns {', '.join(spec.required_columns)}",
                found=f"columns {shown}" if found else "no columns",
                fix=f"{hint} (column names are exact, snake_case)",
            )
    for group in spec.any_of_columns:
        if not any(c in found for c in group):
            names = " or ".join(group)
            raise DataError(
                f"missing column {names}",
                where=f"{path}: {names}",
                expected=f"at least one of the columns {', '.join(group)}",
                found=f"columns {shown}" if found else "no columns",
                fix=f"add a column named {group[0]} (known accounts) or {group[1]} (visitors)",
            )


# ------------------------------------------------------------------ parsing
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


def _parse_column(raw: pl.Series, kind: Kind, tz: str) -> tuple[pl.Series, pl.Series]:
    """(parsed series in the canonical dtype, mask of cells that hold a value)."""
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


def unreadable_column(path: Path, col: str, kind: Kind, bad_values: pl.Series) -> DataError:
    """The fatal error for a column none of whose values parses (up to 3 of them shown)."""
    examples = bad_values.cast(pl.String).unique(maintain_order=True)
    return DataError(
        f"no value of column '{col}' can be read",
        where=f"{path}: {col}",
        expected=_EXPECTED[kind],
        found=", ".join(repr(v) for v in examples.head(3).to_list()),
        fix=f"correct the column '{col}' (is it shifted or mislabelled?)",
    )


def read_table(client_dir: str | Path, table: str, *, timezone: str = "UTC") -> TableData | None:
    r"""Find, read and parse one table of a client folder (no row validation yet).

    Args:
        client_dir: the client folder.
        table: one of the seven canonical table names.
        timezone: the IANA zone naive timestamps are written in.

    Returns:
        The table, or None when an optional table has no file.

    Raises:
        DataError: two files for the table, an unreadable file, a missing
            required table or column, or a column where no value parses.

    Examples:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp())
        >>> _ = (d / "accounts.csv").write_text("account_id,first_seen_at\n7,2024-01-01 09:00\n")
        >>> t = read_table(d, "accounts", timezone="Europe/Berlin")
        >>> t.parsed.select("account_id", "first_seen_at").row(0)
        ('7', datetime.datetime(2024, 1, 1, 8, 0, tzinfo=zoneinfo.ZoneInfo(key='UTC')))
    """
    spec = TABLES[table]
    client_dir = Path(client_dir)
    path = find_table_file(client_dir, table)
    if path is None:
        if spec.required_table:
            raise DataError(
                f"missing required table '{table}'",
                where=client_dir / f"{table}.csv",
                expected=f"a file {table}.csv, {table}.csv.gz or {table}.parquet",
                found="no such file",
                fix=f"add {table}.csv with the columns {', '.join(spec.column_names)}",
            )
        return None
    raw = _read_raw(path)
    _check_columns(raw, spec, path)
    n = raw.height
    columns: list[pl.Series] = [pl.Series(ROW, range(n), dtype=pl.Int64)]
    failures: list[pl.DataFrame] = []
    # Text read as text: strip blanks, empty means missing; one select, so columns run in parallel.
    plain_text = [
        c
        for c, k in spec.columns.items()
        if k in ("id", "text") and c in raw.columns and raw.schema[c] == pl.String
    ]
    stripped = (
        raw.select(
            pl.when(pl.col(c).str.strip_chars().str.len_bytes() > 0).then(
                pl.col(c).str.strip_chars()
            )
            for c in plain_text
        )
        if plain_text
        else pl.DataFrame()
    )
    for col, kind in spec.columns.items():
        if col not in raw.columns:
            columns.append(pl.Series(col, [None] * n, dtype=canonical_dtype(kind)))
            continue
        if col in plain_text:
            columns.append(stripped.get_column(col))
            continue
        try:
            parsed, present = _parse_column(raw.get_column(col), kind, timezone)
        except pl.exceptions.PolarsError as exc:  # e.g. a nested Parquet column
            raise DataError(
                f"cannot read column '{col}'",
                where=f"{path}: {col}",
                expected=_EXPECTED[kind],
                found=f"{raw.schema[col]} ({_first_line(exc)})",
                fix=f"store {col} as {_EXPECTED[kind]}",
            ) from None
        bad = present & parsed.is_null()
        n_bad = int(bad.sum())
        if n_bad and n_bad == int(present.sum()):
            raise unreadable_column(path, col, kind, raw.get_column(col).filter(bad))
        if n_bad:
            failures.append(
                pl.DataFrame({ROW: bad.arg_true().cast(pl.Int64)}).with_columns(
                    reason=pl.lit(parse_reason(kind, col))
                )
            )
        columns.append(parsed.cast(canonical_dtype(kind)).alias(col))
    empty = pl.DataFrame(schema={ROW: pl.Int64, "reason": pl.String})
    parse_failures = pl.concat([empty, *failures]) if failures else empty
    return TableData(table, path, raw, pl.DataFrame(columns), parse_failures)


# ------------------------------------------------------------------ validation
def _as_text(col: pl.Series) -> pl.Series:
    """A column of the quarantine output: the value as read, as text."""
    if col.dtype == pl.String:
        return col
    if col.dtype.is_nested() or col.dtype == pl.Object:
        # No cast to text exists for these; the rows are few, so Python is fine here.
        return pl.Series(
            col.name,
            [None if v is None else json.dumps(v, default=str) for v in col.to_list()],
            dtype=pl.String,
        )
    try:
        return col.cast(pl.String, strict=False)
    except pl.exceptions.PolarsError:
        return pl.Series(
            col.name, [None if v is None else str(v) for v in col.to_list()], dtype=pl.String
        )


def validate_table(
    data: TableData, *, valid_account_ids: pl.Series | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Split a parsed table into valid rows and quarantined rows.

    Args:
        data: the table from :func:`read_table`.
        valid_account_ids: the account_id values of the *valid* accounts, for the
            ``unknown_account`` rule (ignored for tables without the foreign key).

    Returns:
        ``(valid, rejected, quality)``: the valid rows in canonical columns and
        dtypes; the quarantined rows as read (all columns as text) plus ``reason``;
        and ``{rows_in, rows_valid, rows_rejected, reasons: {reason: count}}``.
    """
    spec = TABLES[data.name]
    good, failure = spec.row_schema.filter(data.parsed)
    details = failure.details()
    schema_rules = [c for c in details.columns if c not in data.parsed.columns]
    parts = [data.parse_failures]
    if schema_rules and details.height:
        parts.append(
            details.select(ROW, *schema_rules)
            .unpivot(index=ROW, variable_name="reason", value_name="status")
            .filter(pl.col("status").cast(pl.String) == "invalid")
            .select(ROW, "reason")
        )
    if spec.keep_first is not None:
        rule, cols = spec.keep_first
        copies = later_copies(data.parsed, cols)
        if copies.any():
            parts.append(data.parsed.select(ROW).filter(copies).with_columns(reason=pl.lit(rule)))
    if spec.foreign_key and valid_account_ids is not None:
        key = pl.col(spec.foreign_key)
        parts.append(
            data.parsed.lazy()
            .filter(key.is_not_null() & ~key.is_in(valid_account_ids.implode()))
            .select(ROW, reason=pl.lit(UNKNOWN_ACCOUNT))
            .collect()
        )
    long = pl.concat(parts)
    # A required cell that did not parse is reported as bad_*:<col>, not also as <col>_missing.
    implied = data.parse_failures.select(
        ROW, reason=pl.col("reason").str.split(":").list.last() + "_missing"
    )
    long = long.join(implied, on=[ROW, "reason"], how="anti")
    order = {name: i for i, name in enumerate(rule_names(data.name))}
    reasons = (
        long.with_columns(
            order=pl.col("reason").replace_strict(order, default=len(order), return_dtype=pl.Int64)
        )
        .sort(ROW, "order")
        .group_by(ROW, maintain_order=True)
        .agg(pl.col("reason").str.join(";"))
    )
    raw = data.raw
    if "reason" in raw.columns:  # keep the file's own column next to ours
        raw = raw.rename({"reason": "reason_in_file"})
    bad_rows = reasons.get_column(ROW).implode()
    picked = raw.filter(pl.int_range(pl.len(), dtype=pl.Int64).is_in(bad_rows))  # few rows
    rejected = picked.select(_as_text(picked.get_column(c)) for c in picked.columns).with_columns(
        reasons.sort(ROW).get_column("reason")
    )
    valid = good if reasons.height == 0 else good.filter(~pl.col(ROW).is_in(bad_rows))
    valid = valid.drop(ROW)
    counts = long.get_column("reason").value_counts()
    quality = {
        "rows_in": raw.height,
        "rows_valid": valid.height,
        "rows_rejected": rejected.height,
        "reasons": {r: int(c) for r, c in sorted(counts.iter_rows())},
    }
    if quality["rows_in"] != quality["rows_valid"] + quality["rows_rejected"]:  # pragma: no cover
        raise AssertionError(f"{data.name}: rows in != valid + rejected ({quality})")
    return valid, rejected, quality


# ------------------------------------------------------------------ the client
def _load_template(cfg: ClientConfig, client_dir: Path) -> JourneyTemplate:
    template = load_template(cfg.journey, client_dir=client_dir)
    if cfg.event_mapping:
        try:
            template = template.with_event_mapping(cfg.event_mapping)
        except ValueError as exc:
            raise ConfigError(
                "bad event_mapping",
                where=f"{client_dir / 'client.yaml'}: event_mapping",
                expected="touchpoint ids of the journey template as keys",
                found=str(exc),
                fix="use touchpoint ids from the template (see its touchpoints: id entries)",
            ) from None
    return template


def load_client(arg: str | Path, *, lazy: bool = False, cache: bool = False) -> Client:
    """Load a client: ``client.yaml``, the journey template and every table, validated.

    Args:
        arg: a client name under ``data/`` or the path of a client folder.
        lazy: keep an events table stored as Parquet (a file or a folder of
            partitions) as a :class:`polars.LazyFrame` of its valid rows
            instead of reading it into memory (:mod:`journeylib.ingest.lazy`): the
            metric path reads it streaming. Quarantine and quality counts are
            the same as the eager loader's. CSV events are read eagerly.
        cache: with ``lazy``, keep that events table's validation outcome in
            ``reports/<client>/.cache/`` and reuse it while its files, the
            valid account ids and the time zone are unchanged
            (:mod:`journeylib.ingest.cache`): the valid rows are then read
            without validating them again. Same result either way.

    Returns:
        The :class:`Client`, with valid rows in ``tables`` and quarantined rows in
        ``rejected``.

    Raises:
        JourneyError: ``ClientNameError``, ``ConfigError``, ``TemplateError`` or
            ``DataError`` for every fatal problem; all fatal checks run before any
            row is validated.

    Examples:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()) / "acme"
        >>> _ = init_client(d, template="./journey.yaml", name="Acme")
        >>> _ = (d / "journey.yaml").write_text(
        ...     "stages: [{id: s, label: S, touchpoints: [{id: t, events: [login]}]}]")
        >>> c = load_client(d)
        >>> c.name, c.quality["accounts"]["rows_in"], sorted(c.tables)[:2]
        ('acme', 0, ['accounts', 'events'])
    """
    path = resolve_client_dir(arg)
    cfg = load_client_config(path / "client.yaml")
    template = _load_template(cfg, path)
    read: dict[str, TableData] = {}
    scanned: Path | None = None  # the events file loaded lazily
    for table in TABLE_ORDER:  # every fatal check first: read and parse all tables
        if lazy and table == "events":
            found = find_table_file(path, table)
            schema = lazy_schema(found, timezone=cfg.timezone) if found is not None else None
            if found is not None and schema is not None:
                _check_columns(pl.DataFrame(schema=schema), TABLES[table], found)
                scanned = found
                continue
        data = read_table(path, table, timezone=cfg.timezone)
        if data is not None:
            read[table] = data
    tables: dict[str, Any] = {}
    rejected: dict[str, pl.DataFrame] = {}
    quality: dict[str, dict[str, Any]] = {}
    valid_ids: pl.Series | None = None
    sources = {t: d.path for t, d in read.items()}
    for table in list(read):  # accounts first: the others check against its valid rows
        # Each table as read is let go once validated: holding every table twice
        # (as read and validated) would double the load's peak memory.
        data = read.pop(table)
        valid, bad, q = validate_table(data, valid_account_ids=valid_ids)
        del data
        if table == "accounts":
            valid = assign_personas(valid, cfg.personas)
            valid_ids = valid.get_column("account_id")
        tables[table], rejected[table], quality[table] = valid, bad, q
    if scanned is not None:
        lt = scan_events(
            scanned,
            timezone=cfg.timezone,
            valid_account_ids=valid_ids,
            cache_dir=reports_dir() / path.name / ".cache" if cache else None,
        )
        assert lt is not None  # lazy_schema said it can be scanned
        tables["events"], rejected["events"], quality["events"] = lt.valid, lt.rejected, lt.quality
        sources["events"] = scanned
    order = {t: i for i, t in enumerate(TABLE_ORDER)}

    def in_order(d: dict[str, Any]) -> dict[str, Any]:
        return dict(sorted(d.items(), key=lambda kv: order[kv[0]]))

    return Client(
        name=path.name,
        path=path,
        config=cfg,
        template=template,
        tables=in_order(tables),
        rejected=in_order(rejected),
        quality=in_order(quality),
        sources=in_order(sources),
    )


def data_quality(client: Client) -> dict[str, Any]:
    """The data-quality section of ``metrics.json``: rows in, valid, rejected and reasons per table.

    A row with two reasons counts once under each; tables and reasons are sorted
    by name; absent optional tables are left out.

    Examples:
        >>> import tempfile
        >>> d = Path(tempfile.mkdtemp()) / "acme"
        >>> _ = init_client(d, template="./journey.yaml")
        >>> _ = (d / "journey.yaml").write_text(
        ...     "stages: [{id: s, label: S, touchpoints: [{id: t, events: [login]}]}]")
        >>> data_quality(load_client(d))["tables"]["events"]
        {'rows_in': 0, 'rows_valid': 0, 'rows_rejected': 0, 'reasons': {}}
    """
    return {
        "tables": {
            t: {**client.quality[t], "reasons": dict(sorted(client.quality[t]["reasons"].items()))}
            for t in sorted(client.quality)
        }
    }


def write_rejected(client: Client, out_dir: str | Path) -> list[Path]:
    """Write ``rejected/<table>.csv`` under ``out_dir`` for each table with quarantined rows.

    Returns:
        The files written, in table order (none when nothing was quarantined).
    """
    written: list[Path] = []
    for table in TABLE_ORDER:
        frame = client.rejected.get(table)
        if frame is None or frame.height == 0:
            continue
        target = Path(out_dir) / "rejected" / f"{table}.csv"
        target.parent.mkdir(parents=True, exist_ok=True)
        frame.write_csv(target)
        written.append(target)
    return written


# ------------------------------------------------------------------ journey init
_MINIMAL_CLIENT_YAML = """\
# client.yaml: who the client is and how to read its journey (see templates/client.yaml).
client: Client name
journey: b2b_saas_8_stage
currency: USD
timezone: UTC
"""


def _set_key(text: str, key: str, value: str) -> str:
    """Set a top-level ``key:`` line of a YAML text, keeping comments; add it when absent."""
    line = re.compile(rf"^{key}:[ \t]*(?P<value>[^#\n]*?)(?P<comment>[ \t]+#[^\n]*)?$", re.M)
    quoted = json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar
    if line.search(text):
        return line.sub(lambda m: f"{key}: {quoted}{m.group('comment') or ''}", text, count=1)
    return f"{key}: {quoted}\n{text}"


def init_client(
    dir: str | Path,  # noqa: A002 - the CLI's word for it
    *,
    template: str = "b2b_saas_8_stage",
    name: str | None = None,
) -> Path:
    r"""Create a client folder: a ``client.yaml`` and header-only CSVs for every table.

    ``client.yaml`` is ``templates/client.yaml`` with ``client:`` set to ``name``
    (default: the folder name) and ``journey:`` to ``template``. Existing table
    files are left alone; an existing ``client.yaml`` is never overwritten.

    Args:
        dir: a client name under ``data/`` or a folder path.
        template: the journey template name, or a path relative to the client folder.
        name: the client's display name.

    Returns:
        The client folder.

    Raises:
        JourneyError: when the folder already has a ``client.yaml``.

    Examples:
        >>> import tempfile
        >>> d = init_client(Path(tempfile.mkdtemp()) / "acme", template="saas_5_stage")
        >>> sorted(p.name for p in d.iterdir())[:3]
        ['accounts.csv', 'client.yaml', 'events.csv']
        >>> (d / "events.csv").read_text()
        'timestamp,account_id,anonymous_id,user_id,event,channel,campaign,variant\n'
    """
    path = client_dir_for_new(dir)
    cfg_path = path / "client.yaml"
    if cfg_path.exists():
        raise JourneyError(
            "the client already exists",
            where=cfg_path,
            expected="a new client folder",
            found="an existing client.yaml",
            fix="pick another name, or edit the existing client.yaml",
        )
    source = templates_dir() / "client.yaml"
    text = source.read_text(encoding="utf-8") if source.is_file() else _MINIMAL_CLIENT_YAML
    text = _set_key(text, "client", name or path.name)
    text = _set_key(text, "journey", template)
    path.mkdir(parents=True, exist_ok=True)
    for table in TABLE_ORDER:
        if any((path / f"{table}{ext}").exists() for ext in EXTENSIONS):
            continue
        (path / f"{table}.csv").write_text(
            ",".join(TABLES[table].column_names) + "\n", encoding="utf-8"
        )
    cfg_path.write_text(text, encoding="utf-8")
    return path
