"""Google Search Console "Queries" export (CSV) -> search_queries.

The Performance report's export (Export > CSV / Google Sheets) holds one file
per tab; the queries file has the columns ``Top queries``, ``Clicks``,
``Impressions``, ``CTR``, ``Position`` and **no date column**: it sums the
report's whole date range. The export is written in the language of the Search
Console screens: the French one is ``Requêtes.csv`` with ``Requêtes les plus
fréquentes``, ``Clics``, … and numbers such as ``4,2 %``; the languages read are
in :mod:`journeylib.sources.importers._locales`. The date of the rows is, in this order:

1. the ``date`` given to the import (``YYYY-MM-DD``);
2. a ``Date`` column, when the file has one (a query × date export made with the API or Looker Studio);
3. the last day in the per-day file of the same export next to the queries file
   (``Dates.csv``, called ``Chart.csv`` in older exports: ``Date``, ``Clicks``, …);
4. the end of the date range in the ``Filters.csv`` of the same export (row
   ``Date`` or ``Time range``: ``Mar 1, 2026-Mar 31, 2026``, ``1 Jan 2025-31 Dec 2025``,
   ``2026-03-01 - 2026-03-31``). A range relative to the day of the export
   ("Last 12 months") has no date: the import stops, says so and asks for a ``date``.

Without any of these the import stops and asks for a ``date``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import unicodedata
from pathlib import Path

import polars as pl

from journeylib.errors import DataError
from journeylib.sources.importers import _common as common
from journeylib.sources.importers import _locales as loc

__all__ = ["convert", "range_end"]

WHAT = "Search Console Queries export"

# Column aliases of every mapped language, English first; case, blanks and _ do not matter.
C_QUERY = loc.aliases("query")
C_CLICKS = loc.aliases("clicks")
C_IMPRESSIONS = loc.aliases("impressions")
C_CTR = loc.aliases("ctr")
C_POSITION = loc.aliases("position")
C_DATE = loc.aliases("date")

_ENGLISH = (
    "open Search Console in English (add ?hl=en to its address, e.g. "
    "https://search.google.com/search-console?hl=en, or set your Google Account's language "
    "to English), export the Performance report again and import its Queries.csv"
)
_MAPPED = ", ".join(lang.name for lang in loc.LANGUAGES[:-1]) + f" or {loc.LANGUAGES[-1].name}"

# Dates in a Filters.csv range, any mapped language: ISO, 2026年3月31日, Mar 31, 2026,
# 31 Mar 2026 / 31. März 2026 / 31 de mar. de 2026.
_MONTH = r"([^\W\d_]{3,}\.?)"
_DATES = re.compile(
    r"(?P<iso>(\d{4})-(\d{1,2})-(\d{1,2}))"
    r"|(?P<cjk>(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?)"
    rf"|(?P<us>{_MONTH}\s+(\d{{1,2}}),?\s+(\d{{4}}))"
    rf"|(?P<dmy>(\d{{1,2}})\.?\s+(?:de\s+)?{_MONTH}\s+(?:de\s+)?(\d{{4}}))",
    re.IGNORECASE,
)
_BIDI = dict.fromkeys(map(ord, "\u200e\u200f\u061c\u202a\u202b\u202c"), None)
_DIGITS = str.maketrans("٠١٢٣٤٥٦٧٨٩۰۱۲۳۴۵۶۷۸۹", "01234567890123456789")


def _date_of(m: re.Match[str]) -> dt.date | None:
    g = m.groups()
    if m["iso"]:
        y, mo, d = int(g[1]), int(g[2]), int(g[3])
    elif m["cjk"]:
        y, mo, d = int(g[5]), int(g[6]), int(g[7])
    elif m["us"]:
        mo, d, y = loc.MONTHS.get(loc.fold(g[9]), 0), int(g[10]), int(g[11])
    else:
        d, mo, y = int(g[13]), loc.MONTHS.get(loc.fold(g[14]), 0), int(g[15])
    try:
        return dt.date(y, mo, d)
    except ValueError:
        return None


def range_end(value: str) -> dt.date | None:
    """The last day of a Search Console date range as its ``Filters.csv`` writes it, or None.

    US and day-first ranges, ISO dates, Chinese/Japanese ``年月日`` dates and the
    month names of the mapped languages; None for a relative range ("Last 12 months").

    Examples:
        >>> [range_end(v) for v in ("Mar 1, 2026-Mar 31, 2026", "1 Jan 2025-31 Dec 2025",
        ...     "1 mars 2026 - 31 mars 2026", "2024-01-01 - 2024-02-29", "Last 12 months")]
        [datetime.date(2026, 3, 31), datetime.date(2025, 12, 31), datetime.date(2026, 3, 31), datetime.date(2024, 2, 29), None]
    """
    text = unicodedata.normalize("NFC", value).translate(_BIDI).translate(_DIGITS)
    found = [d for m in _DATES.finditer(text) if (d := _date_of(m)) is not None]
    return max(found) if found else None


def _companion(path: Path, role: str) -> Path | None:
    """The file of the same export called by one of the ``role`` names (any language)."""
    wanted = {loc.fold(n) for n in loc.aliases(role)}
    try:
        here = sorted(path.parent.iterdir())
    except OSError:
        return None
    for other in here:
        if other != path and other.is_file() and loc.fold(other.name) in wanted:
            return other
    return None


def _date_from_dates_file(path: Path) -> tuple[dt.date, str] | None:
    """The last day of the per-day companion file (Dates.csv, older exports: Chart.csv)."""
    for role in ("dates_file", "chart_file"):
        other = _companion(path, role)
        if other is None:
            continue
        try:
            df = _nfc(common.read_export_csv(other, f"Search Console {other.name}"))
        except DataError:
            continue
        date_col = common.find_col(df, C_DATE)
        if date_col is None:
            continue
        last = common.parse_timestamps(common.col(df, date_col), "UTC").max()
        if last is not None:
            return last.date(), f"the last day in {other.name}"
    return None


def _filters_rows(path: Path) -> list[tuple[str, str]]:
    # Read with csv, not polars: an unquoted range "Mar 1, 2026-Mar 31, 2026" spans cells.
    try:
        text = path.read_text(encoding="utf-8-sig", errors="replace")
    except OSError:
        return []
    rows = list(csv.reader(io.StringIO(text)))[1:]  # the header: Filter,Value / Filtre,Valeur
    return [(r[0].strip(), ",".join(r[1:]).strip()) for r in rows if r]


_DATE_ROWS = {loc.fold(n) for lang in loc.LANGUAGES for n in (*lang.date, *lang.date_rows)}


def _date_from_filters(path: Path) -> tuple[dt.date | None, str, str]:
    """``(end of the range, what the Filters file says, kind)``.

    ``kind`` is ``dated``, ``relative`` (a preset such as "Last 12 months"),
    ``unreadable`` (a range with a year this module cannot read) or ``none``.
    """
    filters = _companion(path, "filters_file")
    if filters is None:
        return None, "no Filters.csv", "none"
    rows = _filters_rows(filters)
    named = [(n, v) for n, v in rows if loc.fold(n) in _DATE_ROWS and v]
    for _name, value in named:
        if (end := range_end(value)) is not None:
            return end, f"the end of the range {value!r} in {filters.name}", "dated"
    for _name, value in rows:  # a date range under a row name the table does not know
        if len(_DATES.findall(value)) >= 2 and (end := range_end(value)) is not None:
            return end, f"the end of the range {value!r} in {filters.name}", "dated"
    if not named:
        return None, f"no date range in {filters.name}", "none"
    name, value = named[0]
    if re.search(r"\d{4}", value.translate(_DIGITS)):
        return None, f"{filters.name} row {name!r} = {value!r}, a range not read", "unreadable"
    return (
        None,
        f"{filters.name} row {name!r} = {value!r}, a range relative to the day of the export "
        "that names no day",
        "relative",
    )


def _nfc(df: pl.DataFrame) -> pl.DataFrame:
    """Headers in NFC: an export unzipped on macOS may spell 'Requêtes' decomposed."""
    renamed = {c: unicodedata.normalize("NFC", c) for c in df.columns}
    return df.rename(renamed) if len(set(renamed.values())) == len(renamed) else df


def _language(df: pl.DataFrame) -> loc.Language:
    """The mapped language whose headers the file matches most (English on a tie)."""
    keys = {loc.fold(c) for c in df.columns}

    def score(lang: loc.Language) -> int:
        names = (*lang.query, *lang.clicks, *lang.impressions, *lang.ctr, *lang.position)
        return len(keys & {loc.fold(n) for n in names})

    return max(loc.LANGUAGES, key=score)  # max keeps the first of equals: English


def _columns(df: pl.DataFrame, path: Path) -> tuple[loc.Language, list[str]]:
    """The language and the query, clicks and impressions columns, or a one-line error."""
    hits = [common.find_col(df, a) for a in (C_QUERY, C_CLICKS, C_IMPRESSIONS)]
    lang = _language(df)
    if all(hits):
        return lang, [h for h in hits if h]
    shown = ", ".join(df.columns[:8]) + (" …" if len(df.columns) > 8 else "")
    found = f"columns {shown}" if df.columns else "no columns"
    other = loc.detect_unmapped(list(df.columns))
    if other is not None and not any(hits):
        raise DataError(
            f"the Search Console export is in {other}, a language this importer cannot read",
            where=f"{path}: {df.columns[0]}",
            expected=f"the headers of an export in {_MAPPED}",
            found=found,
            fix=_ENGLISH,
        )
    if any(hits):
        # A Search Console table, but not the queries one (Pages.csv, Countries.csv …),
        # or one whose headers differ from the table (an unverified translation).
        wanted = (lang.query, lang.clicks, lang.impressions)
        missing = [a[0] for a, h in zip(wanted, hits, strict=True) if not h]
        raise DataError(
            f"this is not a {WHAT}" + ("" if lang.name == "English" else f" ({lang.name})"),
            where=f"{path}: {missing[0]}",
            expected=f"a column '{missing[0]}'",
            found=found,
            fix="import the queries file of the export (Queries.csv; Requêtes.csv in French); "
            f"if this is it, {_ENGLISH}",
        )
    if common.find_col(df, C_CTR) is not None or any(ord(ch) > 127 for ch in "".join(df.columns)):
        # Search Console's CTR column, or non-English headers: an export in a language
        # neither mapped nor told by a word or script.
        raise DataError(
            "the Search Console export's language is not recognised",
            where=f"{path}: {df.columns[0]}",
            expected=f"the headers of an export in {_MAPPED}",
            found=found,
            fix=_ENGLISH,
        )
    common.require_columns(df, path, WHAT, [C_QUERY, C_CLICKS, C_IMPRESSIONS])
    raise AssertionError("unreachable: require_columns raises")  # pragma: no cover


def _file_date(path: Path, ctx: common.ImportContext, notes: list[str]) -> dt.date:
    """The day of an export without a Date column (``date``, Dates.csv, Filters.csv)."""
    if ctx.date:
        return dt.date.fromisoformat(ctx.date)
    got = _date_from_dates_file(path)
    if got is None:
        day, how, kind = _date_from_filters(path)
        if day is not None:
            got = (day, how)
        elif kind in ("relative", "unreadable"):
            raise DataError(
                "the Search Console export's date range names no day",
                where="date",
                expected="date=YYYY-MM-DD (the last day of the exported range)",
                found=how,
                fix="import the file again with date=YYYY-MM-DD",
            )
        else:
            raise DataError(
                "the Search Console Queries export has no date",
                where=f"{path}: Date",
                expected="date=YYYY-MM-DD (the last day of the exported range)",
                found="no Date column, and no Dates.csv, Chart.csv or dated Filters.csv "
                f"next to the file ({how})",
                fix="import the file again with date=YYYY-MM-DD",
            )
    day, how = got
    notes.append(f"{path.name}: rows dated {day.isoformat()}, {how}")
    return day


def convert(files: list[Path], ctx: common.ImportContext) -> common.Converted:
    """Map Search Console Queries exports (any mapped language) to search_queries rows."""
    notes: list[str] = []

    def rows(raw: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, pl.Series]:
        df = _nfc(raw)
        lang, (q_col, c_col, i_col) = _columns(df, path)
        if lang.name != "English":
            note = "" if lang.verified else " (translation not verified: check the rows)"
            notes.append(f"{path.name}: read as a {lang.name} Search Console export{note}")
        date_col = common.find_col(df, C_DATE)
        if ctx.date or date_col is None:
            day = _file_date(path, ctx, notes)
            date = pl.Series([day] * df.height, dtype=pl.Date)
        else:
            date = common.parse_timestamps(common.col(df, date_col), "UTC").dt.date()
        # One decimal separator for the file: CTR ("4,2 %") and Position ("8,4") show it.
        # Clicks and impressions are whole numbers: "1.000" or "2,500" there group
        # thousands in either convention, so they neither show it nor are read as decimals.
        p_col, r_col = common.find_col(df, C_POSITION), common.find_col(df, C_CTR)
        conv = common.number_convention(
            [common.col(df, c) for c in (p_col, r_col) if c is not None],
            whole=[common.col(df, c) for c in (c_col, i_col)],
            default=lang.decimal,
            default_basis=f"no value shows the separator; {lang.name} exports write "
            f"'{lang.decimal}'",
        )

        def number(name: str | None, whole: bool) -> tuple[pl.Series, pl.Series]:
            text = common.col(df, name)
            where = f"{path.name}: {name}"
            return common.parse_number(text, conv, notes=notes, name=where, whole=whole), text

        clicks, _ = number(c_col, True)
        impressions, _ = number(i_col, True)
        position, position_text = number(p_col, False)
        frame = pl.DataFrame(
            {
                "date": date,
                "query": common.col(df, q_col),
                "clicks": clicks,
                "impressions": impressions,
                "position": position,
            }
        )
        whole = (pl.col("clicks") == pl.col("clicks").floor()) & (
            pl.col("impressions") == pl.col("impressions").floor()
        )
        reason = frame.select(
            common.first_reason(
                (pl.col("query").is_null(), "query_missing"),
                (pl.col("date").is_null(), "bad_date"),
                (
                    pl.col("clicks").is_null() | pl.col("impressions").is_null() | ~whole,
                    "bad_integer",
                ),
                (pl.col("position").is_null() & position_text.is_not_null(), "bad_position"),
            ).alias("r")
        ).to_series()
        return frame, reason

    kept, rejected, rows_read = common.map_exports(files, WHAT, rows)
    tables = {}
    if kept is not None:
        # The counts kept are whole numbers.
        whole = kept.with_columns(pl.col("clicks", "impressions").cast(pl.Int64))
        tables["search_queries"] = common.typed("search_queries", whole)
    return common.Converted(tables=tables, rejected=rejected, rows_read=rows_read, notes=notes)
