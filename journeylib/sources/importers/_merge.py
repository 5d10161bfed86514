"""Writing an import into the client folder: merge its tables, keep its quarantined rows.

Canonical tables are merged into the existing CSV files (or created), rejected
rows are appended to ``<client>/import_rejected/<source>.csv``. A file is
written whole to a temporary name and renamed, never left half-written.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import polars as pl

from journeylib.errors import DataError
from journeylib.paths import find_table_file
from journeylib.schemas import TABLES
from journeylib.sources.importers._common import parse_timestamps, read_export_csv

__all__ = ["KEYS", "MESSAGE_ID", "append_rejected", "format_table", "merge_table"]

#: Key columns per table: rows of a new import replace existing rows with the same key.
#: events have no key: an exact copy of an existing row is skipped instead, except for
#: events carrying a :data:`MESSAGE_ID`, whose identity is that id.
KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",),
    "subscriptions": ("account_id", "month"),
    "search_queries": ("date", "query"),
    "tickets": ("ticket_id",),
    "surveys": ("response_id",),
    "marketing": ("month", "channel", "campaign"),
}

#: Extra events column with the source's own id of the event (Segment/RudderStack
#: ``messageId``): two rows with different ids are two events even when every other
#: value is equal, and a row whose id is already in the file is skipped.
MESSAGE_ID = "message_id"


def _datetime_text(c: pl.Expr) -> pl.Expr:
    """UTC text with ``Z``; the fraction of a second only when there is one (ms, else µs)."""
    c = c.dt.convert_time_zone("UTC")
    us = c.dt.microsecond()
    return (
        pl.when(us == 0)
        .then(c.dt.strftime("%Y-%m-%dT%H:%M:%SZ"))
        .when(us % 1000 == 0)
        .then(c.dt.strftime("%Y-%m-%dT%H:%M:%S%.3fZ"))
        .otherwise(c.dt.strftime("%Y-%m-%dT%H:%M:%S%.6fZ"))
    )


def format_table(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """A canonical typed frame as canonical text columns (UTC timestamps with ``Z``, months ``YYYY-MM``).

    Timestamps keep their fraction of a second when they have one; extra columns
    (such as :data:`MESSAGE_ID`) follow the canonical ones, as text.

    Examples:
        >>> import datetime as dt
        >>> t = [dt.datetime(2024, 3, 1, 9, 0, 0, us, tzinfo=dt.UTC) for us in (0, 123000, 5)]
        >>> format_table("events", pl.DataFrame({"timestamp": t, "message_id": ["a", "b", "c"]})
        ...     ).select("timestamp", "message_id").rows()  # doctest: +NORMALIZE_WHITESPACE
        [('2024-03-01T09:00:00Z', 'a'), ('2024-03-01T09:00:00.123Z', 'b'),
         ('2024-03-01T09:00:00.000005Z', 'c')]
    """
    spec = TABLES[table]
    out = []
    for name, kind in spec.columns.items():
        if name not in df.columns:
            out.append(pl.lit(None, dtype=pl.String).alias(name))
            continue
        c = pl.col(name)
        if kind == "datetime":
            out.append(_datetime_text(c).alias(name))
        elif kind == "month":
            out.append(c.dt.strftime("%Y-%m").alias(name))
        elif kind == "date":
            out.append(c.dt.strftime("%Y-%m-%d").alias(name))
        elif kind == "float":
            out.append(c.round(6).cast(pl.String).alias(name))
        else:
            out.append(c.cast(pl.String).alias(name))
    out.extend(pl.col(c).cast(pl.String) for c in df.columns if c not in spec.columns)
    return df.select(out)


def _read_existing(path: Path) -> pl.DataFrame:
    if path.name.endswith(".parquet") or path.is_dir():
        raise DataError(
            "cannot append to a Parquet table",
            where=path,
            expected="the table as CSV (.csv or .csv.gz)",
            found="a folder of Parquet files" if path.is_dir() else "a Parquet file",
            fix="convert the table to CSV first, or import into a new client folder",
        )
    return read_export_csv(path, f"{path.name} table")


def _key_text(df: pl.DataFrame, table: str) -> pl.Expr:
    parts = []
    for k in KEYS[table]:
        e = pl.col(k).cast(pl.String).fill_null("")
        if TABLES[table].columns[k] == "month":
            e = e.str.slice(0, 7)  # '2024-01' and '2024-01-01' are the same month
        elif TABLES[table].columns[k] == "date":
            e = e.str.slice(0, 10)
        parts.append(e)
    return pl.concat_str(parts, separator="\x1f")


def _merge_accounts(old: pl.DataFrame, new: pl.DataFrame, tz: str) -> tuple[pl.DataFrame, int, int]:
    """Coalescing upsert: new non-empty values win, first_seen_at/signup_at take the earliest."""
    old_ids = set(old["account_id"].to_list())
    both = [a for a in new["account_id"].to_list() if a in old_ids]
    if not both:
        return pl.concat([old, new], how="diagonal_relaxed"), new.height, 0
    index = {a: i for i, a in enumerate(old["account_id"].to_list())}
    rows = old.to_dicts()
    for rec in new.to_dicts():
        aid = rec["account_id"]
        if aid not in index:
            rows.append(rec)
            continue
        cur = rows[index[aid]]
        for k, v in rec.items():
            if v is None:
                continue
            if k in ("first_seen_at", "signup_at") and cur.get(k):
                ts = parse_timestamps(pl.Series([cur[k], v]), tz).to_list()
                if ts[0] is not None and ts[1] is not None and ts[0] <= ts[1]:
                    continue
            cur[k] = v
    merged = pl.DataFrame(rows, schema={c: pl.String for c in rows[0]}, orient="row")
    return merged, new.height - len(both), len(both)


def merge_table(
    client_dir: Path, table: str, new: pl.DataFrame, *, timezone: str = "UTC"
) -> dict[str, int]:
    """Merge canonical typed rows ``new`` into the client's ``table`` file (created when absent).

    Keyed tables (:data:`KEYS`): a new row replaces an existing row with the same
    key (accounts: values are coalesced instead, see docs/importers.md); events:
    a row equal to an existing one is skipped, or, for rows with a
    :data:`MESSAGE_ID`, a row whose id is already in the file (see
    :func:`_known_events`). Extra columns of the existing file and of ``new``
    are kept.

    Returns:
        ``{"added": n, "updated": n, "skipped": n}``.
    """
    text = format_table(table, new)
    path = find_table_file(client_dir, table) or client_dir / f"{table}.csv"
    old = (
        _read_existing(path)
        if path.exists()
        else pl.DataFrame(schema={c: pl.String for c in TABLES[table].column_names})
    )
    for c in TABLES[table].column_names:
        if c not in old.columns:
            old = old.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    stats = {"added": 0, "updated": 0, "skipped": 0}
    if table == "accounts":
        merged, stats["added"], stats["updated"] = _merge_accounts(old, text, timezone)
    elif table in KEYS:
        new_keys = text.select(_key_text(text, table).alias("k"))["k"]
        old_keys = old.select(_key_text(old, table).alias("k"))["k"]
        stats["updated"] = int(new_keys.is_in(old_keys.implode()).sum())
        stats["added"] = text.height - stats["updated"]
        kept = old.filter(~old_keys.is_in(new_keys.implode()))
        merged = pl.concat([kept, text], how="diagonal_relaxed")
    else:  # events: skip what the file already holds
        dup = _known_events(old, text)
        stats["skipped"] = int(dup.sum())
        stats["added"] = text.height - stats["skipped"]
        merged = pl.concat([old, text.filter(~dup)], how="diagonal_relaxed")
    _write_csv(merged, path)
    return stats


def _signature(df: pl.DataFrame, *, to_second: bool = False) -> pl.Series:
    """Each row's canonical events values as one text (``to_second``: to the second)."""
    parts = []
    for c in TABLES["events"].column_names:
        e = pl.col(c).fill_null("")
        if to_second and c == "timestamp":
            # '…T09:00:00.123Z' -> '…T09:00:00Z': as imports wrote it before fractions were kept
            e = e.str.replace(r"\.\d+Z$", "Z")
        parts.append(e)
    return df.select(pl.concat_str(parts, separator="\x1f").alias("key")).to_series()


def _known_events(old: pl.DataFrame, new: pl.DataFrame) -> pl.Series:
    """True for each new events row to skip (both frames as text).

    A row without a message id is skipped when an equal row is in the file (the
    old rule). A row with one is skipped when its id is in the file or earlier in
    the import, or, one for one, when it equals a row the file holds without an
    id: an event imported before ids were kept, its timestamp then cut to the second.
    """
    sig_new = _signature(new)
    if MESSAGE_ID not in new.columns or new.get_column(MESSAGE_ID).null_count() == new.height:
        return sig_new.is_in(_signature(old).implode()).alias("skipped")
    ids = new.get_column(MESSAGE_ID)
    has_id = ids.is_not_null()
    old_ids = old.get_column(MESSAGE_ID) if MESSAGE_ID in old.columns else None
    legacy = old if old_ids is None else old.filter(old_ids.is_null())
    dup = ~has_id & sig_new.is_in(_signature(old).implode())
    if old_ids is not None:
        dup = dup | (has_id & ids.is_in(old_ids.drop_nulls().implode()))
    dup = dup | (has_id & ~ids.is_first_distinct())  # a message delivered twice
    todo = has_id & ~dup
    if legacy.height == 0 or not todo.any():
        return dup.alias("skipped")
    counts = _signature(legacy).value_counts(name="n")
    frame = pl.DataFrame(
        {"full": sig_new, "cut": _signature(new, to_second=True), "todo": todo}
    ).with_row_index("i")
    matched = (
        frame.filter(pl.col("todo"))
        # the exact row when the file has it, else the row as an earlier import wrote it
        .with_columns(
            key=pl.when(pl.col("full").is_in(counts.get_column("key").implode()))
            .then(pl.col("full"))
            .otherwise(pl.col("cut"))
        )
        .with_columns(rank=pl.int_range(pl.len()).over("key"))
        .join(counts, on="key", how="left")
        .filter(pl.col("rank") < pl.col("n").fill_null(0))  # each old row matches one message
        .get_column("i")
    )
    return (dup | frame.get_column("i").is_in(matched.implode())).alias("skipped")


def _write_csv(df: pl.DataFrame, path: Path) -> None:
    tmp = path.with_name(path.name + ".tmp")
    if path.name.endswith(".gz"):
        tmp.write_bytes(gzip.compress(df.write_csv().encode("utf-8")))
    else:
        df.write_csv(tmp)
    tmp.replace(path)  # never leave a half-written table behind


def append_rejected(client_dir: Path, source: str, rejected: pl.DataFrame) -> Path | None:
    """Append quarantined rows to ``<client>/import_rejected/<source>.csv``; None when there are none."""
    if rejected.height == 0:
        return None
    target = client_dir / "import_rejected" / f"{source}.csv"
    target.parent.mkdir(parents=True, exist_ok=True)
    rejected = rejected.with_columns(pl.all().cast(pl.String))
    if target.exists():
        old = read_export_csv(target, "import_rejected file")
        rejected = pl.concat([old, rejected], how="diagonal_relaxed")
    front = [c for c in ("file", "line", "reason") if c in rejected.columns]
    rejected = rejected.select(*front, *[c for c in rejected.columns if c not in front])
    _write_csv(rejected, target)
    return target
