"""Reading one table of a client folder: find its file, read it, check its columns, parse them.

CSV (``.csv``, ``.csv.gz``) is read with every column as text, then each
canonical column is parsed on its own (:mod:`journeylib.ingest.parse`), so one
bad cell only quarantines its row. Parquet is read with its native types, then
cast. Extra columns are kept as read (the quarantine output shows them).

Fatal problems raise :class:`~journeylib.errors.DataError` with a one-line
message naming the file, the column, and the fix: a file that cannot be read,
a required column or table missing, a column where *no* value parses, two
files for one table.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from journeylib.errors import DataError, first_line
from journeylib.ingest.parse import parse_column
from journeylib.paths import find_table_file, scan_parquet
from journeylib.schemas import ROW, TABLES, Kind, TableSpec, canonical_dtype, parse_reason

__all__ = ["TableData", "check_columns", "read_table", "unreadable_column"]

_EXPECTED = {
    "datetime": "ISO 8601 timestamps such as 2024-03-01T09:30:00Z or 2024-03-01 09:30",
    "month": "months written YYYY-MM (or a date inside the month)",
    "date": "dates written YYYY-MM-DD",
    "int": "whole numbers",
    "float": "numbers such as 12.5",
    "id": "text",
    "text": "text",
}


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
        found = first_line(exc).removeprefix("found ")
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


def check_columns(raw: pl.DataFrame, spec: TableSpec, path: Path) -> None:
    """Raise the one-line error for the first required column (or column group) ``raw`` lacks.

    Raises:
        DataError: naming the column, the columns found and the likely fix (a
            near miss to rename, or a file not separated by commas).
    """
    found = raw.columns
    shown = ", ".join(found[:15]) + (" …" if len(found) > 15 else "")

    def missing(what: str, names: str, expected: str, fix: str) -> DataError:
        return DataError(
            what,
            where=f"{path}: {names}",
            expected=expected,
            found=f"columns {shown}" if found else "no columns",
            fix=fix,
        )

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
            raise missing(
                f"missing required column '{col}'",
                col,
                f"the columns {', '.join(spec.required_columns)}",
                f"{hint} (column names are exact, snake_case)",
            )
    for group in spec.any_of_columns:
        if not any(c in found for c in group):
            names = " or ".join(group)
            raise missing(
                f"missing column {names}",
                names,
                f"at least one of the columns {', '.join(group)}",
                f"add a column named {group[0]} (known accounts) or {group[1]} (visitors)",
            )


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
    check_columns(raw, spec, path)
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
            parsed, present = parse_column(raw.get_column(col), kind, timezone)
        except pl.exceptions.PolarsError as exc:  # e.g. a nested Parquet column
            raise DataError(
                f"cannot read column '{col}'",
                where=f"{path}: {col}",
                expected=_EXPECTED[kind],
                found=f"{raw.schema[col]} ({first_line(exc)})",
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
