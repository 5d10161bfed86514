"""Small, safe HTML tables for notebooks and the report.

Every header and every cell is passed through :func:`html.escape`, so client
text (names, comments, campaign names) can never run as script in a report.
Formats are named, not format strings, so notebooks stay declarative::

    display(HTML(frame_html(df, formats={"rate": "pct", "mrr": "money"})))
"""

from __future__ import annotations

import datetime as _dt
import html
import math
from collections.abc import Callable
from typing import Any

import polars as pl

__all__ = ["FORMATS", "MISSING", "format_value", "frame_html"]

#: What a missing value (None, NaN) looks like in a table.
MISSING = "—"


def _num(decimals: int) -> Callable[[float], str]:
    return lambda v: f"{v:,.{decimals}f}"


#: Named cell formats. ``pct`` expects a fraction (0.25 -> "25.0%").
FORMATS: dict[str, Callable[[Any], str]] = {
    "pct": lambda v: f"{100 * v:.1f}%",
    "pct0": lambda v: f"{100 * v:.0f}%",
    "money": lambda v: f"{v:,.0f}",
    "money2": lambda v: f"{v:,.2f}",
    "int": lambda v: f"{round(v):,d}",
    "num0": _num(0),
    "num1": _num(1),
    "num2": _num(2),
    "num4": _num(4),
    "date": lambda v: v.strftime("%Y-%m-%d") if hasattr(v, "strftime") else str(v),
    "datetime": lambda v: v.strftime("%Y-%m-%d %H:%M") if hasattr(v, "strftime") else str(v),
    "month": lambda v: v.strftime("%Y-%m") if hasattr(v, "strftime") else str(v),
    "str": str,
}


def format_value(value: Any, fmt: str | None = None) -> str:
    """Format one cell as plain (unescaped) text.

    Args:
        value: The cell value; None and NaN become :data:`MISSING`.
        fmt: A key of :data:`FORMATS`, or None for a sensible default
            (floats with 2 decimals, datetimes to the minute, lists joined).

    Returns:
        The text to show.

    Examples:
        >>> format_value(0.1234, "pct"), format_value(None), format_value(1234.5, "money")
        ('12.3%', '—', '1,234')
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return MISSING
    if fmt is not None:
        if fmt not in FORMATS:
            msg = f"unknown table format {fmt!r}; expected one of {sorted(FORMATS)}"
            raise ValueError(msg)
        try:
            return FORMATS[fmt](value)
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:,.2f}"
    if isinstance(value, int):
        return f"{value:,d}"
    if isinstance(value, _dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, _dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, list | tuple):
        return ", ".join(format_value(v) for v in value)
    return str(value)


def frame_html(
    df: pl.DataFrame,
    *,
    formats: dict[str, str] | None = None,
    max_rows: int = 50,
    caption: str | None = None,
) -> str:
    """Render a polars frame as an escaped ``<table class="jw-table">``.

    Args:
        df: The frame to show (a LazyFrame is collected).
        formats: Column name -> format name (see :data:`FORMATS`), e.g.
            ``{"rate": "pct", "mrr": "money", "days": "num1"}``.
        max_rows: Show at most this many rows; a footer says how many were left out.
        caption: Optional caption (escaped).

    Returns:
        The HTML text. Every header, cell and the caption is html-escaped;
        numeric columns are right-aligned.

    Examples:
        >>> df = pl.DataFrame({"name": ["<b>x</b>", None], "rate": [0.5, None]})
        >>> out = frame_html(df, formats={"rate": "pct"})
        >>> "&lt;b&gt;x&lt;/b&gt;</td>" in out, "<b>" in out, "50.0%" in out
        (True, False, True)
        >>> out.count("<tr>"), out.count("—")
        (3, 2)
    """
    if isinstance(df, pl.LazyFrame):
        df = df.collect()
    formats = formats or {}
    numeric = {c for c, t in df.schema.items() if t.is_numeric()}
    # Inline alignment, so tables read the same in Jupyter (which right-aligns every cell)
    # and in the report.
    cls = {
        c: ' class="num" style="text-align:right"' if c in numeric else ' style="text-align:left"'
        for c in df.columns
    }
    head = "".join(f"<th{cls[c]}>{html.escape(str(c))}</th>" for c in df.columns)
    shown = df.head(max_rows) if max_rows >= 0 else df
    rows = []
    for row in shown.iter_rows(named=True):
        cells = "".join(
            f"<td{cls[c]}>{html.escape(format_value(row[c], formats.get(c)))}</td>"
            for c in df.columns
        )
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    more = df.height - shown.height
    foot = (
        f'<tfoot><tr><td colspan="{max(len(df.columns), 1)}">… {more:,d} more rows not shown'
        "</td></tr></tfoot>"
        if more > 0
        else ""
    )
    return (
        f'<table class="jw-table">{cap}<thead><tr>{head}</tr></thead>\n'
        f"<tbody>{chr(10).join(rows)}</tbody>{foot}</table>"
    )
