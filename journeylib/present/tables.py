"""Small, safe HTML tables for notebooks and the report.

Every header and every cell is passed through :func:`html.escape`, so client
text (names, comments, campaign names) can never run as script in a report.
Formats are named, not format strings, so notebooks stay declarative::

    display(HTML(frame_html(df, formats={"rate": "pct", "mrr": "money"})))

A cell is written by :func:`journeylib.formatting.format_value` (``text``
style), as the report and the command line write the same number.
"""

from __future__ import annotations

import html
from typing import Any

import polars as pl

from journeylib.formatting import MISSING, format_value
from journeylib.frames import to_polars

__all__ = ["FORMATS", "format_cell", "frame_html"]

#: Named cell formats: the :func:`~journeylib.formatting.format_value` arguments of each.
#: ``pct`` expects a fraction (0.25 -> "25.0%"); ``money`` is an amount without its code.
FORMATS: dict[str, dict[str, Any]] = {
    "pct": {"unit": "fraction"},
    "pct0": {"unit": "fraction", "digits": 0},
    "money": {"unit": "currency"},
    "money2": {"unit": "currency", "digits": 2},
    "int": {"unit": "count"},
    "num0": {"digits": 0},
    "num1": {"digits": 1},
    "num2": {"digits": 2},
    "num4": {"digits": 4},
    "date": {"unit": "date"},
    "datetime": {"unit": "datetime"},
    "month": {"unit": "month"},
    "str": {},
}


def format_cell(value: Any, fmt: str | None = None) -> str:
    """Format one cell as plain (unescaped) text.

    Args:
        value: The cell value; None and NaN become :data:`journeylib.formatting.MISSING`.
        fmt: A key of :data:`FORMATS`, or None for the value's own writing
            (floats with 2 decimals, datetimes to the minute, lists joined).

    Returns:
        The text to show.

    Examples:
        >>> format_cell(0.1234, "pct"), format_cell(None), format_cell(1234.5, "money")
        ('12.3%', '—', '1,234')
        >>> format_cell(["a", 2.5]), format_cell(12.345, "num1"), format_cell(3, "str")
        ('a, 2.50', '12.3', '3')
    """
    if fmt is not None and fmt not in FORMATS:
        msg = f"unknown table format {fmt!r}; expected one of {sorted(FORMATS)}"
        raise ValueError(msg)
    if fmt is None and isinstance(value, list | tuple):
        return ", ".join(format_cell(v) for v in value)
    text = format_value(value, **FORMATS[fmt] if fmt else {})
    return str(value) if fmt == "str" and text != MISSING else text


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
    df = to_polars(df)  # a LazyFrame (or another engine's frame) is collected
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
            f"<td{cls[c]}>{html.escape(format_cell(row[c], formats.get(c)))}</td>"
            for c in df.columns
        )
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    more = df.height - shown.height
    foot = (
        f'<tfoot><tr><td colspan="{max(len(df.columns), 1)}">… '
        f"{format_value(more, 'count')} more rows not shown</td></tr></tfoot>"
        if more > 0
        else ""
    )
    return (
        f'<table class="jw-table">{cap}<thead><tr>{head}</tr></thead>\n'
        f"<tbody>{chr(10).join(rows)}</tbody>{foot}</table>"
    )
