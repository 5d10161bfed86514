"""Lazy loading of the events table: validate big Parquet inputs without reading them into memory.

:func:`journeylib.ingest.client.load_client` reads every table eagerly, which is right for
the small tables and for CSV, but the events table of a big client does not fit
(10 M events take about 4 GB to read, parse and validate eagerly). With
``load_client(..., lazy=True)`` an events table stored as Parquet (one
``events.parquet`` file, or an ``events/`` folder of Parquet files such as the
month partitions ``events/month=YYYY-MM/part.parquet``) is instead:

1. scanned once, streaming, to compute per row a 32-bit hash of the parsed
   columns the row rules read (timestamp, account_id, anonymous_id, event)
   and bit masks of the broken rules and of the text that normalising changes
   (7 bytes per row in memory);
2. checked for later exact copies (``duplicate_event``) from the hashes alone:
   only rows whose hash occurs twice are fetched, parsed in full and compared
   value by value on every column, exactly as
   :func:`journeylib.schemas.later_copies` does (two rows equal in every
   column are equal in the hashed ones, so no copy is missed; rows that share
   the hashed values but differ elsewhere are compared and kept). When more
   than :data:`FETCH_CANDIDATES_AT_ONCE` rows are candidates (coarse
   timestamps), a 64-bit hash of every column, read from the candidates only,
   narrows them first;
3. left as a :class:`polars.LazyFrame` of the valid rows (the scan, parsed,
   minus the quarantined row numbers), which every metric then reads
   streaming. Only the quarantined rows are ever materialised.

Steps 1 and 2 are the validation. It runs once per client and version of its
files: the client store (:mod:`journeylib.store`) keeps the valid rows it
selects, and every command reads the store.

The result is the same as the eager loader's, row for row and reason for
reason (``tests/ingest/test_lazy.py`` checks it): same valid rows in the same
order, same quarantined rows as read plus ``reason``, same quality counts.

Parquet columns of the types a writer of this format produces (text, integer
ids, timestamps with or without a time zone, dates) are parsed as lazy
expressions. A file with anything else in a column (timestamps stored as text,
float ids, nested values) is read by the eager loader instead, which knows
every text format; :func:`scan_events` returns None for it.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pyarrow.parquet as pq

from journeylib.errors import DataError, first_line
from journeylib.ingest.read import unreadable_column
from journeylib.ingest.validate import quarantined
from journeylib.paths import parquet_files, parquet_source, scan_parquet
from journeylib.schemas import (
    DUPLICATE_EVENT,
    ROW,
    TABLES,
    UNKNOWN_ACCOUNT,
    canonical_dtype,
    missing_reason,
    parse_reason,
    rule_names,
    shared_hash_rows,
)

__all__ = ["LazyTable", "bound_scan_memory", "lazy_schema", "scan_events"]

#: Row groups polars' streaming Parquet reader may decode ahead (see bound_scan_memory).
PREFETCH_ROW_GROUPS = "2"


def bound_scan_memory() -> None:
    """Let polars' streaming Parquet reader decode at most 2 row groups ahead (unless set).

    By default it reads further ahead the more threads it has, and the load's
    streaming pass over big events folders is the peak of ``journey metrics``:
    at 50 M events it reached 1.57 GiB on 4 threads against 1.26 GiB on 2.
    With 2 row groups ahead: 1.39 GiB on 4 threads, 1.23 on 2, no slower on 2.
    Sets ``POLARS_ROW_GROUP_PREFETCH_SIZE`` in this process's environment when
    it is not set already; to take effect it must run before the process's
    first Parquet scan. The ``journey`` command calls it at start (its
    notebook kernels inherit the setting).
    """
    os.environ.setdefault("POLARS_ROW_GROUP_PREFETCH_SIZE", PREFETCH_ROW_GROUPS)


_TABLE = "events"

#: Candidate copies fetched whole (every column parsed) without narrowing them
#: first by a hash of every column: about 100 MB of rows.
FETCH_CANDIDATES_AT_ONCE = 1_000_000

#: The columns pass 1 parses and hashes: those the row rules read. The other
#: text columns (user_id, channel, campaign, variant) are not parsed in pass 1:
#: stripping them there was about a fifth of the load (10 M events: 1 s of 5).
#: They are parsed where a later scan reads them (see ``clean``).
_PASS1 = ("timestamp", "account_id", "anonymous_id", "event")


@dataclasses.dataclass(frozen=True)
class Validation:
    """The outcome of validating an events table: what to leave out of it, and why.

    Attributes:
        bad_rows: the file row numbers (0-based, over the files in path order)
            of the quarantined rows, ascending.
        rejected: the quarantined rows as read (every column as text) plus
            ``reason``, in the same order.
        quality: ``{rows_in, rows_valid, rows_rejected, reasons}``.
        clean: the text columns whose values normalising does not change.
    """

    bad_rows: pl.Series
    rejected: pl.DataFrame
    quality: dict[str, Any]
    clean: frozenset[str]


class LazyTable:
    """The events table loaded lazily: valid rows as a LazyFrame, plus what was quarantined.

    Attributes:
        valid: the valid rows in canonical columns and dtypes, file order, not read yet.
        rejected: the quarantined rows as read (all columns as text) plus ``reason``.
        quality: ``{rows_in, rows_valid, rows_rejected, reasons: {reason: count}}``.
        parts: ``parts(rows)``, the valid rows in parts read one after another
            (:func:`_parts`); None for a table built by hand.
    """

    def __init__(
        self,
        valid: pl.LazyFrame,
        rejected: pl.DataFrame,
        quality: dict[str, Any],
        parts: Callable[[int], list[pl.LazyFrame]] | None = None,
    ):
        self.valid = valid
        self.rejected = rejected
        self.quality = quality
        self.parts = parts


def _row_group_runs(sizes: list[int], rows: int) -> list[tuple[int, int]]:
    """``(first row, rows)`` of runs of consecutive row groups of at least ``rows`` rows each.

    ``sizes`` are the row groups' rows, in the order the table is read; the
    last run takes what is left. A run never splits a row group, so each is
    decoded once.

    Examples:
        >>> _row_group_runs([4, 4, 4, 9, 1], 8)
        [(0, 8), (8, 13), (21, 1)]
        >>> _row_group_runs([], 8)
        []
    """
    runs: list[tuple[int, int]] = []
    start = size = 0
    for n in sizes:
        size += n
        if size >= rows:
            runs.append((start, size))
            start, size = start + size, 0
    if size:
        runs.append((start, size))
    return runs


def _parts(
    scan: pl.LazyFrame, exprs: list[pl.Expr], files: list[Path], bad_rows: pl.Series
) -> Callable[[int], list[pl.LazyFrame]]:
    """``parts(rows)``: the valid rows as LazyFrames of about ``rows`` file rows each, in order.

    Each part is a slice of the scan along its files' row groups (polars reads
    only those row groups) minus the quarantined rows, with ``seq``: a row's
    position among all the valid rows, as ``valid.with_row_index("seq")``
    numbers them (its file row number less the quarantined rows before it).
    One streaming pass per part bounds what a pass holds: the client store
    splits the events part by part (:mod:`journeylib.store.build`).
    """

    def seq_of(row: pl.Series) -> pl.Series:
        row = row.cast(pl.Int64)
        return row - bad_rows.search_sorted(row, side="left").cast(pl.Int64)

    def parts(rows: int) -> list[pl.LazyFrame]:
        sizes = []
        for f in files:
            meta = pq.read_metadata(f)
            sizes += [meta.row_group(i).num_rows for i in range(meta.num_row_groups)]
        out = []
        for first, n in _row_group_runs(sizes, rows):
            part = scan.slice(first, n).select(ROW, *exprs)
            if bad_rows.len():
                part = part.filter(~pl.col(ROW).is_in(bad_rows.implode()))
                seq = pl.col(ROW).map_batches(seq_of, return_dtype=pl.Int64, is_elementwise=True)
            else:
                seq = pl.col(ROW).cast(pl.Int64)
            out.append(part.select(seq.alias("seq"), pl.exclude(ROW)))
        return out

    return parts


def lazy_schema(path: Path, *, timezone: str = "UTC") -> pl.Schema | None:
    """The columns of a Parquet events table when it can be loaded lazily, else None.

    None for CSV, for a file that cannot be read (the eager reader then says
    why in one line) and for column types only the eager reader parses.
    """
    if parquet_source(path) is None:
        return None
    try:
        schema = scan_parquet(path, row_index=ROW).collect_schema()
    except Exception:  # unreadable: let the eager reader produce the one-line error
        return None
    schema.pop(ROW, None)
    if any(name != name.lstrip("\ufeff").strip() for name in schema):
        return None  # header noise (blanks, a BOM): the eager reader renames such columns
    return schema if _parsed_exprs(schema, timezone) is not None else None


def _parse_expr(name: str, dtype: pl.DataType, kind: str, tz: str) -> pl.Expr | None:
    """The lazy parse of one column, as the eager loader parses it; None when it needs the eager way."""
    col = pl.col(name)
    if kind in ("id", "text"):
        if dtype == pl.Null:  # no value in any file: missing everywhere
            return col.cast(pl.String)
        if dtype == pl.String:
            text = col
        elif dtype.is_integer():
            text = col.cast(pl.String)
        else:
            return None
        text = text.str.strip_chars()
        return pl.when(text.str.len_bytes() > 0).then(text)
    if kind == "datetime" and isinstance(dtype, pl.Datetime) and dtype.time_zone is not None:
        return col.dt.convert_time_zone("UTC").cast(pl.Datetime("us", "UTC"))
    if kind == "datetime" and isinstance(dtype, pl.Datetime | pl.Date):
        return (
            col.cast(pl.Datetime("us"))
            .dt.replace_time_zone(tz, ambiguous="earliest", non_existent="null")
            .dt.convert_time_zone("UTC")
            .cast(pl.Datetime("us", "UTC"))
        )
    return None


def _parsed_exprs(
    schema: pl.Schema, tz: str, clean: frozenset[str] = frozenset()
) -> list[pl.Expr] | None:
    """The parse of every canonical column; ``clean`` text columns are taken as they are.

    A text column is *clean* when pass 1 found no value that normalising
    (strip blanks, empty → missing) changes: later scans then skip the strip,
    the most expensive part of reading text. Pass 1 looks only at the columns
    it parses (``_PASS1``); the others are stripped whenever they are read
    (the metrics document reads only ``channel``, in attribution; its journey
    stream reads none of them).
    """
    spec = TABLES[_TABLE]
    exprs: list[pl.Expr] = []
    for name, kind in spec.columns.items():
        if name not in schema:
            exprs.append(pl.lit(None, dtype=canonical_dtype(kind)).alias(name))
            continue
        # Only text stored as text can be taken as it is.
        if name in clean and kind in ("id", "text") and schema[name] == pl.String:
            exprs.append(pl.col(name))
            continue
        expr = _parse_expr(name, schema[name], kind, tz)
        if expr is None:
            return None
        exprs.append(expr.cast(canonical_dtype(kind)).alias(name))
    return exprs


def _rule_exprs(schema: pl.Schema, valid_ids: pl.Series | None) -> dict[str, pl.Expr]:
    """Each row rule of the events table (except duplicate_event) as 'this row breaks it'.

    Evaluated on the parsed columns; ``__ts_present`` is the raw timestamp's presence.
    """
    ts, event = pl.col("timestamp"), pl.col("event")
    account, anonymous = pl.col("account_id"), pl.col("anonymous_id")
    bad_ts = pl.col("__ts_present") & ts.is_null()
    rules = {
        parse_reason("datetime", "timestamp"): bad_ts,
        # a timestamp that did not parse is reported as bad_timestamp, not also as missing
        missing_reason("timestamp"): ts.is_null() & ~bad_ts,
        missing_reason("event"): event.is_null(),
        "account_or_anonymous_id_missing": account.is_null() & anonymous.is_null(),
    }
    if valid_ids is not None:
        rules[UNKNOWN_ACCOUNT] = account.is_not_null() & ~account.is_in(valid_ids.implode())
    order = rule_names(_TABLE)
    missing = [r for r in rules if r not in order]
    if missing:  # pragma: no cover - a rule renamed in schemas.py without this module
        raise AssertionError(f"rules {missing} are not rules of {_TABLE}")
    return dict(sorted(rules.items(), key=lambda kv: order.index(kv[0])))


def _check_some_timestamp_parses(
    scan: pl.LazyFrame, path: Path, n_bad: int, rejected: pl.DataFrame
) -> None:
    """The eager reader's fatal check: a timestamp column none of whose values can be read."""
    present = scan.select(pl.col("timestamp").is_not_null().sum()).collect().item()
    if n_bad == present:
        raise unreadable_column(path, "timestamp", "datetime", rejected.get_column("timestamp"))


def scan_events(
    path: Path,
    *,
    timezone: str,
    valid_account_ids: pl.Series | None,
) -> LazyTable | None:
    """Validate a Parquet events table lazily; None when its column types need the eager reader.

    Args:
        path: ``events.parquet`` or a folder of Parquet files.
        timezone: the IANA zone naive timestamps are written in.
        valid_account_ids: the account_id of the valid accounts (``unknown_account``).

    Returns:
        The :class:`LazyTable`, or None when the file is not Parquet or a
        column's type is one only the eager reader parses.

    Raises:
        DataError: a file that cannot be read (corrupt, or partitions that
            store a column with different types), or a timestamp column of
            which no value can be read; the same one-line errors as the
            eager reader's. Partitions that differ only in which columns
            they have are read (see :func:`journeylib.paths.scan_parquet`).
    """
    try:
        return _scan_events(path, timezone=timezone, valid_account_ids=valid_account_ids)
    except pl.exceptions.PolarsError as exc:
        raise DataError(
            "cannot read the file",
            where=path,
            expected="Parquet files with the same column types"
            if path.is_dir()
            else "a Parquet file",
            found=first_line(exc).removeprefix("found "),
            fix="export the table again as Parquet (every partition with the same column types), "
            "or as CSV",
        ) from None


def _scan_events(
    path: Path, *, timezone: str, valid_account_ids: pl.Series | None
) -> LazyTable | None:
    if parquet_source(path) is None:
        return None
    scan = scan_parquet(path, row_index=ROW)
    schema = scan.collect_schema()
    parsed = _parsed_exprs(schema, timezone)
    if parsed is None:
        return None
    outcome = _validate(scan, schema, parsed, path, timezone, valid_account_ids)
    fast = _parsed_exprs(schema, timezone, outcome.clean)
    assert fast is not None  # the same columns parsed before
    valid = scan.select(ROW, *fast)
    if outcome.bad_rows.len():
        valid = valid.filter(~pl.col(ROW).is_in(outcome.bad_rows.implode()))
    parts = _parts(scan, fast, parquet_files(path), outcome.bad_rows)
    return LazyTable(valid.drop(ROW), outcome.rejected, outcome.quality, parts)


def _validate(
    scan: pl.LazyFrame,
    schema: pl.Schema,
    parsed: list[pl.Expr],
    path: Path,
    timezone: str,
    valid_account_ids: pl.Series | None,
) -> Validation:
    """Validate the scanned events: which rows are quarantined and why (steps 1 and 2)."""
    spec = TABLES[_TABLE]
    cols = list(spec.columns)
    ts_present = (
        pl.col("timestamp").is_not_null() if "timestamp" in schema else pl.lit(False)
    ).alias("__ts_present")
    parsed_lf = scan.select(ROW, ts_present, *parsed)
    rules = _rule_exprs(schema, valid_account_ids)
    names = list(rules)
    bits = pl.sum_horizontal(
        expr.fill_null(False).cast(pl.UInt16) * (1 << i) for i, expr in enumerate(rules.values())
    ).cast(pl.UInt16)
    # Text columns whose values normalising may change (blanks, empty strings).
    # Stripping only removes characters, so a value changed iff its length did:
    # comparing lengths is cheaper than comparing the strings.
    text = [
        c
        for c, k in spec.columns.items()
        if c in _PASS1 and k in ("id", "text") and schema.get(c) == pl.String
    ]
    dirty = pl.sum_horizontal(
        (
            pl.col(f"__raw_{c}").is_not_null()
            & (
                pl.col(c).is_null()
                | (pl.col(c).str.len_bytes() != pl.col(f"__raw_{c}").str.len_bytes())
            )
        ).cast(pl.UInt8)
        * (1 << i)
        for i, c in enumerate(text)
    ).cast(pl.UInt8)
    # Pass 1, streaming: one hash and two bit masks per row (rules broken, text changed).
    pass1 = [e for e, c in zip(parsed, cols, strict=True) if c in _PASS1]
    per_row = (
        scan.select(ROW, ts_present, *pass1, *(pl.col(c).alias(f"__raw_{c}") for c in text))
        .select(
            # 32 bits are enough to find candidate copies (every candidate is
            # compared value by value) and halve the memory of the hashes.
            pl.struct(_PASS1).hash(seed=0).cast(pl.UInt32, wrap_numerical=True).alias("h"),
            bits.alias("bits"),
            (dirty if text else pl.lit(0, dtype=pl.UInt8)).alias("dirty"),
        )
        .collect(engine="streaming")
    )
    n = per_row.height
    changed = per_row.select(
        [(pl.col("dirty") & (1 << i)).gt(0).any().alias(c) for i, c in enumerate(text)]
        or [pl.lit(False).alias("_")]
    ).row(0, named=True)
    clean = frozenset(c for c in text if not changed.get(c))
    # Only the rows that break a rule keep their bits, and only the flagged rows
    # get a row number (a row-number column for every row would be the biggest
    # allocation of the load). The per-row masks go before the duplicate check,
    # the load's largest working set.
    bits_col = per_row.get_column("bits")
    broken = (bits_col > 0).arg_true().cast(pl.Int64).alias(ROW)
    broken_bits = pl.DataFrame([broken, bits_col.gather(broken).alias("bits")])
    hashes = per_row.get_column("h")
    del per_row, bits_col
    # Later exact copies: compare value by value only the rows whose hash is shared.
    candidates = shared_hash_rows(hashes)
    del hashes
    if candidates.len() > FETCH_CANDIDATES_AT_ONCE:
        # Coarse timestamps (a day, say) make many rows share the hashed columns
        # while differing in others (two users of one account, one login each):
        # narrow the candidates by a 64-bit hash of every column, read from them
        # only, before fetching the survivors whole.
        full = (
            parsed_lf.filter(pl.col(ROW).is_in(candidates.implode()))
            .select(ROW, pl.struct(cols).hash(seed=0).alias("h"))
            .collect(engine="streaming")
        )
        candidates = full.filter(pl.col("h").is_duplicated()).get_column(ROW)
        del full
    dup_rows = pl.Series(ROW, [], dtype=pl.Int64)
    if candidates.len():
        cand = (
            parsed_lf.filter(pl.col(ROW).is_in(candidates.implode()))
            .select(ROW, *cols)
            .collect(engine="streaming")
            .sort(ROW)
        )
        later = ~cand.select(pl.struct(cols).is_first_distinct()).to_series()
        dup_rows = cand.get_column(ROW).filter(later)
    rows = pl.concat([broken, dup_rows.cast(pl.Int64)]).unique().sort().alias(ROW)
    flagged = (
        pl.DataFrame([rows])
        .join(broken_bits, on=ROW, how="left", maintain_order="left")
        .with_columns(
            pl.col("bits").fill_null(0).cast(pl.UInt16),
            dup=pl.col(ROW).is_in(dup_rows.implode()),
        )
    )
    del broken_bits
    # Reasons in reporting order: the rule bits, with duplicate_event in its place.
    order_names = rule_names(_TABLE)
    parts = [
        (order_names.index(name), (pl.col("bits") & (1 << i)) > 0, name)
        for i, name in enumerate(names)
    ]
    parts.append((order_names.index(DUPLICATE_EVENT), pl.col("dup"), DUPLICATE_EVENT))
    parts.sort(key=lambda p: p[0])
    reasons = flagged.select(
        ROW,
        pl.concat_str(
            [pl.when(cond).then(pl.lit(name)) for _, cond, name in parts],
            separator=";",
            ignore_nulls=True,
        ).alias("reason"),
    )
    counts = {name: int(flagged.select(cond.sum()).item()) for _, cond, name in parts}
    bad_rows = reasons.get_column(ROW)
    raw = (
        scan.filter(pl.col(ROW).is_in(bad_rows.implode())).collect(engine="streaming").sort(ROW)
        if bad_rows.len()
        else scan.head(0).collect()
    )
    rejected = quarantined(raw.drop(ROW), reasons.get_column("reason"))
    bad_ts = parse_reason("datetime", "timestamp")
    if counts.get(bad_ts):
        _check_some_timestamp_parses(scan, path, counts[bad_ts], rejected)
    quality = {
        "rows_in": n,
        "rows_valid": n - rejected.height,
        "rows_rejected": rejected.height,
        "reasons": {r: c for r, c in sorted(counts.items()) if c},
    }
    return Validation(bad_rows.cast(pl.Int64), rejected, quality, clean)
