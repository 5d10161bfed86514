"""Google Search Console "Queries" export (CSV) -> search_queries.

The Performance report's export (Export > CSV / Google Sheets) holds one file
per tab; the queries file has the columns ``Top queries``, ``Clicks``,
``Impressions``, ``CTR``, ``Position`` and **no date column**: it sums the
report's whole date range. The date of the rows is, in this order:

1. the ``date`` given to the import (``YYYY-MM-DD``);
2. a ``Date`` column, when the file has one (a query × date export made with the API or Looker Studio);
3. the last day in the per-day file of the same export next to ``Queries.csv``
   (``Dates.csv``, called ``Chart.csv`` in older exports: ``Date``, ``Clicks``, …);
4. the end of the date range in the ``Filters.csv`` of the same export (a row
   ``Date`` whose value ends in a ``YYYY-MM-DD``; a preset such as "Last 3 months"
   has no date and is skipped).

Without any of these the import stops and asks for a ``date``.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import polars as pl

from journeylib.errors import DataError
from journeylib.sources.importers import _common as common

__all__ = ["convert"]

WHAT = "Search Console Queries export"

# Column aliases, first the documented header; case, blanks and _ do not matter (find_col).
C_QUERY = ["Top queries", "Query", "Top query", "Queries"]
C_CLICKS = ["Clicks", "Url Clicks"]
C_IMPRESSIONS = ["Impressions"]
C_POSITION = ["Position", "Average position", "Avg. position"]
C_DATE = ["Date"]


def _date_from_dates_file(path: Path) -> dt.date | None:
    """The last day of the per-day companion file (Dates.csv, older exports: Chart.csv)."""
    for name in ("Dates.csv", "Chart.csv"):
        other = path.with_name(name)
        if not other.is_file():
            continue
        try:
            df = common.read_export_csv(other, f"Search Console {name}")
        except DataError:
            continue
        date_col = common.find_col(df, C_DATE)
        if date_col is None:
            continue
        last = common.parse_timestamps(common.col(df, date_col), "UTC").max()
        if last is not None:
            return last.date()
    return None


def _date_from_filters(path: Path) -> dt.date | None:
    filters = path.with_name("Filters.csv")
    if not filters.is_file():
        return None
    try:
        df = common.read_export_csv(filters, "Search Console Filters.csv")
    except DataError:
        return None
    if df.width < 2:
        return None
    for name, value in df.select(df.columns[:2]).iter_rows():
        if name and name.strip().lower() == "date" and value:
            found = re.findall(r"\d{4}-\d{2}-\d{2}", value)
            if found:
                return dt.date.fromisoformat(found[-1])
    return None


def convert(files: list[Path], ctx: common.ImportContext) -> common.Converted:
    """Map Search Console Queries exports to search_queries rows."""

    def rows(df: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, pl.Series]:
        q_col, c_col, i_col = common.require_columns(
            df, path, WHAT, [C_QUERY, C_CLICKS, C_IMPRESSIONS]
        )
        date_col = common.find_col(df, C_DATE)
        if ctx.date:
            date = pl.Series([dt.date.fromisoformat(ctx.date)] * df.height, dtype=pl.Date)
        elif date_col is not None:
            date = common.parse_timestamps(common.col(df, date_col), "UTC").dt.date()
        else:
            d = _date_from_dates_file(path) or _date_from_filters(path)
            if d is None:
                raise DataError(
                    "the Search Console Queries export has no date",
                    where=f"{path}: Date",
                    expected="date=YYYY-MM-DD (the last day of the exported range)",
                    found="no Date column, and no Dates.csv, Chart.csv or dated Filters.csv "
                    "next to the file",
                    fix="import the file again with date=YYYY-MM-DD",
                )
            date = pl.Series([d] * df.height, dtype=pl.Date)
        clicks = common.parse_number(common.col(df, c_col))
        impressions = common.parse_number(common.col(df, i_col))
        position = common.parse_number(common.optional_col(df, C_POSITION))
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
            ).alias("r")
        ).to_series()
        return frame, reason

    kept, rejected, rows_read = common.map_exports(files, WHAT, rows)
    tables = {}
    if kept is not None:
        # The counts kept are whole numbers.
        whole = kept.with_columns(pl.col("clicks", "impressions").cast(pl.Int64))
        tables["search_queries"] = common.typed("search_queries", whole)
    return common.Converted(tables=tables, rejected=rejected, rows_read=rows_read)
