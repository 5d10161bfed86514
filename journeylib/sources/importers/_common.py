"""Shared pieces of the importers: reading exports, finding columns, parsing, mapping rows.

Every importer turns its export into *canonical typed frames* (the dtypes of
:data:`journeylib.schemas.TABLES`, :func:`typed`) plus a frame of rows it could
not map (the row as read, as text, with ``file``, ``line`` and ``reason``:
:func:`rejected_frame`). :mod:`journeylib.sources.importers._merge` writes both
into the client folder.
"""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from journeylib.errors import DataError, JourneyError, first_line
from journeylib.schemas import TABLES
from journeylib.sources.importers._numbers import NumberConvention, number_convention, parse_number

__all__ = [
    "bad_option",
    "FREE_MAIL",
    "ImportContext",
    "Converted",
    "col",
    "file_not_found",
    "find_col",
    "first_reason",
    "map_exports",
    "match_account",
    "NumberConvention",
    "number_convention",
    "optional_col",
    "parse_number",
    "parse_timestamps",
    "read_export_csv",
    "tz_of_column",
    "read_identity_map",
    "rejected_frame",
    "require_columns",
    "snake",
    "typed",
]

#: Free e-mail domains: an address there says nothing about the company.
FREE_MAIL = frozenset(
    {
        "gmail.com",
        "googlemail.com",
        "yahoo.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "icloud.com",
        "me.com",
        "aol.com",
        "proton.me",
        "protonmail.com",
        "gmx.de",
        "gmx.net",
        "web.de",
        "yandex.ru",
        "mail.ru",
        "qq.com",
        "163.com",
    }
)

_NULLS = {"", "na", "n/a", "null", "none", "nan", "nat", "-", "--"}


@dataclass
class ImportContext:
    """What an importer knows about the target client and the analyst's options.

    Attributes:
        client_dir: the client folder.
        timezone: the client's time zone (naive timestamps in exports are read in it).
        accounts: the client's existing accounts (text columns, possibly empty).
        identity: the analyst's identity map: source key (as text) -> account_id.
        date: the ``date`` given to the import (Search Console: the day of the data;
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


def match_account(
    name: str | None, ctx: ImportContext, by_name: dict[str, str], known: set[str]
) -> str | None:
    """The account of a company or organisation name, or None.

    Looked up in the analyst's identity map (as written, then lower case),
    then among the account names (``by_name``: :func:`norm_name` -> account_id),
    then as an account id itself (``known``).

    Examples:
        >>> ctx = ImportContext(Path("."), identity={"globex": "a9"})
        >>> [match_account(n, ctx, {"acmeinc": "a1"}, {"a2"}) for n in ("Acme, Inc.", "Globex", "a2", "x")]
        ['a1', 'a9', 'a2', None]
    """
    if not name:
        return None
    aid = ctx.identity.get(name) or ctx.identity.get(name.lower()) or by_name.get(norm_name(name))
    return aid or (name if name in known else None)


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


def file_not_found(path: Path, expected: str) -> DataError:
    """The error for an export file that is not there."""
    return DataError(
        "file not found",
        where=path,
        expected=expected,
        found="no such file",
        fix="check the path of the export",
    )


def bad_option(option: str, value: object, *, expected: str, fix: str) -> JourneyError:
    """The error for an import option whose value cannot be used (``where`` names the option).

    Examples:
        >>> str(bad_option("date", "31/03", expected="YYYY-MM-DD", fix="write 2024-03-31"))
        "date: bad date (expected YYYY-MM-DD, found '31/03'). Fix: write 2024-03-31."
    """
    return JourneyError(
        f"bad {option}", where=option, expected=expected, found=repr(value), fix=fix
    )


def _csv_separator(raw: bytes) -> str:
    r"""The field separator of a CSV, told by its header line: ``;`` when it has ``;`` and no ``,``.

    French or German Excel saves CSV with ``;`` (the comma being their decimal
    separator); only separators outside quotes count.

    Examples:
        >>> _csv_separator(b"Top queries;Clicks;CTR\n"), _csv_separator(b'"a,b";c\n')
        (';', ';')
        >>> _csv_separator(b"id,Associated Company IDs\n1,1003;1001\n"), _csv_separator(b"")
        (',', ',')
    """
    head = raw[:65536].decode("utf-8", errors="replace")
    seen: set[str] = set()
    quoted = False
    for ch in head:
        if ch == '"':
            quoted = not quoted
        elif not quoted and ch in "\r\n":
            break
        elif not quoted and ch in ",;":
            seen.add(ch)
    return ";" if seen == {";"} else ","


def read_export_csv(path: Path, what: str) -> pl.DataFrame:
    """Read an export CSV with every column as text (header blanks and BOM stripped).

    Comma-separated, or semicolon-separated when the header line says so
    (:func:`_csv_separator`).

    Raises:
        DataError: when the file is missing, empty or not a readable CSV.
    """
    if not path.is_file():
        raise file_not_found(path, f"a {what} file")
    try:
        raw = path.read_bytes()
        if path.name.endswith(".gz"):
            raw = gzip.decompress(raw)
        df = pl.read_csv(
            io.BytesIO(raw),
            separator=_csv_separator(raw),
            infer_schema=False,
            encoding="utf8-lossy",
            truncate_ragged_lines=True,
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
        raise DataError(
            "cannot read the file",
            where=path,
            expected=f"a {what} (CSV)",
            found=first_line(exc, limit=160),
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


def optional_col(df: pl.DataFrame, aliases: Sequence[str]) -> pl.Series:
    """The column of ``df`` known by one of ``aliases`` (:func:`find_col`) as :func:`col` reads it.

    All null when the export has no such column.

    Examples:
        >>> df = pl.DataFrame({"Plan Name": [" Pro ", "n/a"]})
        >>> optional_col(df, ["Plan", "plan name"]).to_list(), optional_col(df, ["Tags"]).to_list()
        (['Pro', None], [None, None])
    """
    return col(df, find_col(df, aliases))


# ------------------------------------------------------------------ timestamps
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


def first_reason(*rules: tuple[pl.Expr | pl.Series, str]) -> pl.Expr:
    """A row's reason for quarantine: that of the first rule it breaks (null when it breaks none).

    Args:
        rules: ``(broken, reason)`` pairs: a boolean expression or series, true
            where a row breaks the rule, and the reason that names it.

    Examples:
        >>> bad = pl.Series([None, -1, 5])
        >>> pl.select(first_reason((bad.is_null(), "missing"), (bad < 0, "negative"))).to_series().to_list()
        ['missing', 'negative', None]
    """
    (broken, reason), *others = rules
    chain = pl.when(broken).then(pl.lit(reason))
    for broken, reason in others:
        chain = chain.when(broken).then(pl.lit(reason))
    return chain


def concat_rejected(parts: Iterable[pl.DataFrame]) -> pl.DataFrame:
    """Stack rejected frames of different shapes (all text)."""
    parts = [p for p in parts if p.height]
    if not parts:
        return pl.DataFrame()
    return pl.concat(parts, how="diagonal_relaxed")


def map_exports(
    files: Sequence[Path],
    what: str,
    rows: Callable[[pl.DataFrame, Path], tuple[pl.DataFrame, pl.Series]],
) -> tuple[pl.DataFrame | None, pl.DataFrame, int]:
    """Read each export CSV and map it, row for row, with ``rows``.

    Args:
        files: the export files, read in order.
        what: what the files are, for the errors (``"Zendesk tickets export"``).
        rows: ``(export as read, its path) -> (mapped rows, reason)``: one
            mapped row per exported row, and why it cannot be kept (null: kept).

    Returns:
        ``(kept, rejected, rows_read)``: the mapped rows with no reason, of
        every file in order (None without files); the others as read
        (:func:`rejected_frame`); the number of exported rows.
    """
    kept: list[pl.DataFrame] = []
    rejected: list[pl.DataFrame] = []
    rows_read = 0
    for path in files:
        df = read_export_csv(path, what)
        rows_read += df.height
        frame, reason = rows(df, path)
        rejected.append(rejected_frame(df, reason, path))
        kept.append(frame.filter(reason.is_null()))
    return (pl.concat(kept) if kept else None), concat_rejected(rejected), rows_read


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


def typed(
    table: str, data: dict[str, Any] | pl.DataFrame, height: int | None = None
) -> pl.DataFrame:
    """A canonical typed frame of ``table`` from a frame or column lists/series (missing columns null).

    Examples:
        >>> typed("tickets", pl.DataFrame({"ticket_id": ["t1"], "satisfaction": [5.0]})).row(0)
        ('t1', None, None, None, None, None, 5, None)
    """
    if isinstance(data, pl.DataFrame):
        data, height = {c: data[c] for c in data.columns}, data.height
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
