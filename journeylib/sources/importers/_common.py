"""Shared pieces of the importers: reading exports, finding columns, parsing, merging.

Every importer turns its export into *canonical typed frames* (the dtypes of
:data:`journeylib.schemas.TABLES`) plus a frame of rows it could not map
(the row as read, as text, with ``file``, ``line`` and ``reason``). This module
writes both into the client folder: canonical tables are merged into the
existing CSV files (or created), rejected rows are appended to
``<client>/import_rejected/<source>.csv``.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from journeylib.errors import DataError
from journeylib.ingest.client import find_table_file
from journeylib.schemas import TABLES

__all__ = [
    "ImportContext",
    "Converted",
    "KEYS",
    "col",
    "find_col",
    "format_table",
    "merge_table",
    "parse_number",
    "parse_timestamps",
    "read_export_csv",
    "tz_of_column",
    "read_identity_map",
    "rejected_frame",
    "require_columns",
    "snake",
]

#: Key columns per table: rows of a new import replace existing rows with the same key.
#: events have no key: an exact copy of an existing row is skipped instead.
KEYS: dict[str, tuple[str, ...]] = {
    "accounts": ("account_id",),
    "subscriptions": ("account_id", "month"),
    "search_queries": ("date", "query"),
    "tickets": ("ticket_id",),
    "surveys": ("response_id",),
    "marketing": ("month", "channel", "campaign"),
}

_NULLS = {"", "na", "n/a", "null", "none", "nan", "nat", "-", "--"}


@dataclass
class ImportContext:
    """What an importer knows about the target client and the analyst's options.

    Attributes:
        client_dir: the client folder.
        timezone: the client's time zone (naive timestamps in exports are read in it).
        accounts: the client's existing accounts (text columns, possibly empty).
        identity: the analyst's identity map: source key (as text) -> account_id.
        date: the ``--date`` option (Search Console: the day of the data;
            Stripe: the export date).
    """

    client_dir: Path
    timezone: str = "UTC"
    accounts: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(schema={"account_id": pl.String, "name": pl.String})
    )
    identity: dict[str, str] = field(default_factory=dict)
    date: str | None = None

    def account_ids(self) -> set[str]:
        """The ids of the client's existing accounts."""
        if "account_id" not in self.accounts.columns:
            return set()
        return {v for v in self.accounts["account_id"].to_list() if v}

    def names_to_ids(self) -> dict[str, str]:
        """Existing account names (case-folded, blanks collapsed) -> account_id; the first wins."""
        out: dict[str, str] = {}
        if not {"account_id", "name"} <= set(self.accounts.columns):
            return out
        for aid, name in self.accounts.select("account_id", "name").iter_rows():
            if aid and name:
                out.setdefault(norm_name(name), aid)
        return out


@dataclass
class Converted:
    """An importer's result: canonical typed frames and the rows it could not map."""

    tables: dict[str, pl.DataFrame]
    rejected: pl.DataFrame
    rows_read: int
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------ text helpers
def snake(text: str) -> str:
    """An event or label as snake_case: ``'Report Created'`` -> ``'report_created'``.

    Examples:
        >>> snake("Report Created"), snake("  Signed-Up!  "), snake("pricingPage")
        ('report_created', 'signed_up', 'pricing_page')
    """
    text = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", text.strip())
    return re.sub(r"[^0-9a-z]+", "_", text.lower()).strip("_")


def norm_name(text: str) -> str:
    """A company name for matching: lower case, letters and digits only.

    Examples:
        >>> norm_name(" Acme  Analytics, Inc."), norm_name("acme-analytics")
        ('acmeanalyticsinc', 'acmeanalytics')
    """
    return re.sub(r"[^0-9a-z]+", "", text.lower())


def _header_key(name: str) -> str:
    return " ".join(name.lstrip("\ufeff").strip().lower().replace("_", " ").split())


def find_col(df: pl.DataFrame, aliases: Sequence[str]) -> str | None:
    """The column of ``df`` matching one of ``aliases`` (case, blanks and ``_`` ignored), or None.

    Aliases are tried in order, so the first is preferred when several exist.

    Examples:
        >>> find_col(pl.DataFrame({"Created (UTC)": ["x"]}), ["Created", "created (utc)"])
        'Created (UTC)'
    """
    keys = {_header_key(c): c for c in df.columns}
    for alias in aliases:
        hit = keys.get(_header_key(alias))
        if hit is not None:
            return hit
    return None


def require_columns(
    df: pl.DataFrame, path: Path, what: str, needed: Sequence[Sequence[str]]
) -> list[str]:
    """The actual names of the ``needed`` columns (each a list of aliases, first = documented name).

    Raises:
        DataError: naming the file and the first expected column it missed:
            "this is not a <what>".
    """
    found: list[str] = []
    for aliases in needed:
        hit = find_col(df, aliases)
        if hit is None:
            shown = ", ".join(df.columns[:12]) + (" …" if len(df.columns) > 12 else "")
            raise DataError(
                f"this is not a {what}",
                where=f"{path}: {aliases[0]}",
                expected=f"a column '{aliases[0]}'",
                found=f"columns {shown}" if df.columns else "no columns",
                fix=f"export the file again as a {what} (see docs/importers.md), "
                "or pick the importer that matches the file",
            )
        found.append(hit)
    return found


def read_export_csv(path: Path, what: str) -> pl.DataFrame:
    """Read an export CSV with every column as text (header blanks and BOM stripped).

    Raises:
        DataError: when the file is missing, empty or not a readable CSV.
    """
    if not path.is_file():
        raise DataError(
            "file not found",
            where=path,
            expected=f"a {what} file",
            found="no such file",
            fix="check the path of the export",
        )
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        df = pl.read_csv(
            io.BytesIO(raw), infer_schema=False, encoding="utf8-lossy", truncate_ragged_lines=True
        )
    except pl.exceptions.NoDataError:
        raise DataError(
            "the file is empty",
            where=path,
            expected=f"a {what} with a header row",
            found="an empty file",
            fix="export the file again",
        ) from None
    except Exception as exc:  # polars and OS errors alike: the file cannot be read as CSV
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:160]
        raise DataError(
            "cannot read the file",
            where=path,
            expected=f"a {what} (CSV)",
            found=first,
            fix="export the file again as CSV (UTF-8, comma-separated)",
        ) from None
    renamed = {c: c.lstrip("\ufeff").strip() for c in df.columns}
    if len(set(renamed.values())) == len(renamed):
        df = df.rename(renamed)
    return df


def col(df: pl.DataFrame, name: str | None) -> pl.Series:
    """Column ``name`` of ``df`` as stripped text with null for empty/NA tokens (all null when absent)."""
    if name is None:
        return pl.Series([None] * df.height, dtype=pl.String)
    s = df[name].cast(pl.String).str.strip_chars()
    return pl.select(pl.when(~s.str.to_lowercase().is_in(list(_NULLS))).then(s)).to_series()


def parse_number(s: pl.Series) -> pl.Series:
    """Text to Float64: currency signs, thousands separators, ``%`` and blanks removed; null when unparseable.

    Examples:
        >>> parse_number(pl.Series(["$1,200.50", "49", "abc", None, "12%"])).to_list()
        [1200.5, 49.0, None, None, 12.0]
    """
    cleaned = s.cast(pl.String).str.replace_all(r"[\s$€£,%]", "")
    return cleaned.cast(pl.Float64, strict=False)


_AWARE = ("%Y-%m-%dT%H:%M:%S%.f%z", "%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M%z")
_NAIVE = (
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y-%m-%d",
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%Y",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d",
)


def parse_timestamps(s: pl.Series, tz: str = "UTC") -> pl.Series:
    """Export timestamps to Datetime(us, UTC); null where no known shape fits.

    ISO 8601 with ``T`` or a blank, optional fraction, ``Z`` / ``UTC`` / an
    offset (``+01:00``, ``+0100``, `` +0100``), a bare date, US ``MM/DD/YYYY``
    dates, and epoch seconds. Naive values are read in ``tz``.

    Examples:
        >>> parse_timestamps(pl.Series(["2024-03-01 10:00:00 +0100", "2024-03-01T09:00:00Z",
        ...     "03/01/2024", "1709283600"])).dt.strftime("%Y-%m-%d %H:%M").to_list()
        ['2024-03-01 09:00', '2024-03-01 09:00', '2024-03-01 00:00', '2024-03-01 09:00']
    """
    text = col(pl.DataFrame({"v": s.cast(pl.String)}), "v")
    norm = (
        text.str.replace(r"^(\d{4}-\d{2}-\d{2})(?:\s+|t)", "${1}T")
        .str.replace(r"(?:[Zz]|\s*UTC)$", "+00:00")
        .str.replace(r"\s+([+-]\d{2}:?\d{2})$", "${1}")
    )
    tries = []
    for fmt in _AWARE:
        tries.append(
            norm.str.to_datetime(fmt, strict=False, time_unit="us").dt.convert_time_zone("UTC")
        )
    for fmt in _NAIVE:
        raw = (norm if fmt.startswith("%Y-%m-%d") else text).str.to_datetime(
            fmt, strict=False, time_unit="us"
        )
        tries.append(
            raw.dt.replace_time_zone(
                tz, ambiguous="earliest", non_existent="null"
            ).dt.convert_time_zone("UTC")
        )
    epoch = text.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False)
    epoch = pl.select(pl.when(epoch > 100_000_000).then(epoch)).to_series()
    tries.append((epoch * 1_000_000).cast(pl.Datetime("us")).dt.replace_time_zone("UTC"))
    return pl.select(pl.coalesce(tries)).to_series().alias(s.name)


def tz_of_column(name: str | None, tz: str) -> str:
    """The time zone of a column's naive timestamps: UTC when the header says so, else ``tz``.

    Stripe's Dashboard exports (``Created (UTC)``) and Typeform's (``Submit Date (UTC)``)
    name the zone in the header; reading those in the client's zone would shift them.

    Examples:
        >>> tz_of_column("Created (UTC)", "Europe/Berlin"), tz_of_column("Created at", "Europe/Berlin")
        ('UTC', 'Europe/Berlin')
    """
    return "UTC" if name is not None and "(utc)" in name.lower() else tz


# ------------------------------------------------------------------ rejected rows
def rejected_frame(
    df: pl.DataFrame, mask_reasons: pl.Series, path: Path, *, line_offset: int = 2
) -> pl.DataFrame:
    """The rows of ``df`` with a non-null reason, as text, with ``file``, ``line`` and ``reason``.

    ``line`` is the line in the export (header = line 1 for CSV).
    """
    idx = mask_reasons.is_not_null()
    if not idx.any():
        return pl.DataFrame()
    lines = pl.Series("line", range(line_offset, line_offset + df.height), dtype=pl.Int64)
    picked = df.with_columns(pl.all().cast(pl.String)).filter(idx)
    return picked.with_columns(
        file=pl.lit(path.name),
        line=lines.filter(idx).cast(pl.String),
        reason=mask_reasons.filter(idx),
    )


def concat_rejected(parts: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Stack rejected frames of different shapes (all text)."""
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="diagonal_relaxed")


# ------------------------------------------------------------------ identity map
def read_identity_map(path: Path) -> dict[str, str]:
    """Read an identity map CSV: a key column (user_id, customer id, email, …) and ``account_id``.

    The key is the first column that is not ``account_id``. Blank rows are skipped.

    Raises:
        DataError: when the file lacks an ``account_id`` column or a key column.
    """
    df = read_export_csv(path, "identity map")
    acc = find_col(df, ["account_id"])
    keys = [c for c in df.columns if c != acc]
    if acc is None or not keys:
        raise DataError(
            "this is not an identity map",
            where=f"{path}: account_id",
            expected="two columns: a source key (e.g. user_id) and account_id",
            found=f"columns {', '.join(df.columns)}",
            fix="write the map as CSV with a header such as user_id,account_id",
        )
    out: dict[str, str] = {}
    for k, v in zip(col(df, keys[0]).to_list(), col(df, acc).to_list(), strict=True):
        if k and v:
            out[k] = v
            out.setdefault(k.lower(), v)  # emails and names match case-insensitively
    return out


# ------------------------------------------------------------------ writing tables
def format_table(table: str, df: pl.DataFrame) -> pl.DataFrame:
    """A canonical typed frame as canonical text columns (UTC timestamps with ``Z``, months ``YYYY-MM``)."""
    spec = TABLES[table]
    out = []
    for name, kind in spec.columns.items():
        if name not in df.columns:
            out.append(pl.lit(None, dtype=pl.String).alias(name))
            continue
        c = pl.col(name)
        if kind == "datetime":
            out.append(c.dt.convert_time_zone("UTC").dt.strftime("%Y-%m-%dT%H:%M:%SZ").alias(name))
        elif kind == "month":
            out.append(c.dt.strftime("%Y-%m").alias(name))
        elif kind == "date":
            out.append(c.dt.strftime("%Y-%m-%d").alias(name))
        elif kind == "float":
            out.append(c.round(6).cast(pl.String).alias(name))
        else:
            out.append(c.cast(pl.String).alias(name))
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
    a row equal to an existing one is skipped. Extra columns of the existing file
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
    else:  # events: skip exact copies of rows already in the file
        cols = TABLES[table].column_names
        sig_old = old.select(
            pl.concat_str([pl.col(c).fill_null("") for c in cols], separator="\x1f")
        )
        sig_new = text.select(
            pl.concat_str([pl.col(c).fill_null("") for c in cols], separator="\x1f")
        )
        dup = sig_new.to_series().is_in(sig_old.to_series().implode())
        stats["skipped"] = int(dup.sum())
        stats["added"] = text.height - stats["skipped"]
        merged = pl.concat([old, text.filter(~dup)], how="diagonal_relaxed")
    _write_csv(merged, path)
    return stats


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


def typed(table: str, data: dict[str, Any], height: int | None = None) -> pl.DataFrame:
    """A canonical typed frame of ``table`` from column lists/series (missing columns null)."""
    schema = TABLES[table].polars_schema
    n = height if height is not None else max((len(v) for v in data.values()), default=0)
    cols = {}
    for name, dtype in schema.items():
        v = data.get(name)
        if v is None:
            cols[name] = pl.Series(name, [None] * n, dtype=dtype)
        else:
            s = v if isinstance(v, pl.Series) else pl.Series(name, v)
            if s.dtype != dtype:
                s = (
                    s.cast(dtype, strict=False)
                    if s.dtype != pl.Null
                    else pl.Series(name, [None] * n, dtype=dtype)
                )
            cols[name] = s.alias(name)
    return pl.DataFrame(cols)
