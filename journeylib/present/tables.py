"""Safe HTML tables for notebooks and the report, laid out by great-tables.

The one formatting layer writes every cell: :func:`format_cell` turns each
value into text with :func:`journeylib.formatting.format_value` in the current
language, as the report, the charts and the command line write the same
number. great-tables only lays the texts out (title, column labels, body, the
"more rows" note, alignment) and escapes them, so client text (names,
comments, campaign names) can never run as script in a report. Formats are
named, not format strings, so notebooks stay declarative::

    display(HTML(frame_html(df, formats={"rate": "pct", "mrr": "money"})))

The table carries no stylesheet of its own: great-tables' ``<style>`` block
(about 9 kB a table, with rules such as ``tr {...}`` that reach every table of
the page) is left out, and the page styles ``table.jw-table``. Alignment is
inline (``text-align: start`` / ``end``), so it holds in Jupyter, which
right-aligns every cell, and follows the page's direction: in a right-to-left
page a number sits at the left end of its cell.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
from collections.abc import Mapping
from typing import Any, Literal

import polars as pl

from journeylib.formatting import MISSING, format_p_value, format_value
from journeylib.frames import to_polars
from journeylib.i18n import ngettext

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
    "pvalue": {},  # a p-value: two significant digits, "< 0.001" below that
    "str": {},
}

Align = Literal["start", "end"]

# Inline, so the alignment survives Jupyter's stylesheet and follows the page's direction.
_ALIGN_CSS = {
    "start": "text-align:start",
    "end": "text-align:end;font-variant-numeric:tabular-nums",
}
_CLASS_TOKEN = re.compile(r"[A-Za-z0-9_-]+")
_GT_TABLE = '<table class="gt_table"'
_GT_CELL = re.compile(r'<(t[hd])\b([^<>]*?\bclass="([^"]*)"[^<>]*)>')


def _aligned(cell: re.Match[str]) -> str:
    """A cell's opening tag with its great-tables alignment class as an inline start/end."""
    names = set(cell[3].split())
    if "gt_right" in names:
        side = "end"
    elif names & {"gt_left", "gt_title", "gt_sourcenote"}:
        side = "start"
    else:
        return cell[0]
    return f'<{cell[1]} style="{_ALIGN_CSS[side]}"{cell[2]}>'


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
        >>> format_cell(0.0123, "pvalue"), format_cell(2e-9, "pvalue"), format_cell(0.5, "pvalue")
        ('0.012', '< 0.001', '0.50')
    """
    _check_format(fmt)
    if fmt == "pvalue":
        return format_p_value(value)
    if fmt is None and isinstance(value, list | tuple):
        return ", ".join(format_cell(v) for v in value)
    text = format_value(value, **FORMATS[fmt] if fmt else {})
    return str(value) if fmt == "str" and text != MISSING else text


def _check_format(fmt: str | None) -> None:
    if fmt is not None and fmt not in FORMATS:
        msg = f"unknown table format {fmt!r}; expected one of {sorted(FORMATS)}"
        raise ValueError(msg)


def _span(text: str, classes: Any) -> str:
    """``text`` in a ``<span>`` with the class names of ``classes``, both escaped."""
    names = " ".join(_CLASS_TOKEN.findall(str(classes))) if classes is not None else ""
    body = html.escape(text)
    return f'<span class="{html.escape(names)}">{body}</span>' if names else body


def frame_html(
    df: pl.DataFrame,
    *,
    formats: dict[str, str] | None = None,
    max_rows: int = 50,
    caption: str | None = None,
    align: Mapping[str, Align] | None = None,
    classes: Mapping[str, str] | None = None,
) -> str:
    """Render a polars frame as an escaped ``<table class="jw-table">`` (great-tables' layout).

    Args:
        df: The frame to show (a LazyFrame is collected).
        formats: Column name -> format name (see :data:`FORMATS`), e.g.
            ``{"rate": "pct", "mrr": "money", "days": "num1"}``.
        max_rows: Show at most this many rows (all of them if negative); a
            footer says how many were left out.
        caption: Optional caption, shown as the table's title (escaped).
        align: Column name -> ``"start"`` or ``"end"``, for text columns that
            hold numbers already written (numeric columns are at the end of
            their cells, others at the start).
        classes: Column name -> the column that holds the CSS class names of
            its cells (e.g. ``{"status": "status_class"}``): a cell with
            classes is wrapped in ``<span class="...">``, so the page can
            colour it. Only ``[A-Za-z0-9_-]`` names are kept; the class
            columns are not shown.

    Returns:
        The HTML text: one ``<table class="jw-table gt_table">`` without a
        stylesheet. Every header, cell and the caption is html-escaped; a
        missing value is :data:`~journeylib.formatting.MISSING`.

    Examples:
        >>> df = pl.DataFrame({"name": ["<b>x</b>", None], "rate": [0.5, None]})
        >>> out = frame_html(df, formats={"rate": "pct"})
        >>> ">&lt;b&gt;x&lt;/b&gt;</td>" in out, "<b>" in out, "50.0%" in out
        (True, False, True)
        >>> out.count("<tr"), out.count("—"), out.count("text-align:end")
        (3, 2, 3)
        >>> out = frame_html(pl.DataFrame({"n": range(60)}), max_rows=10, caption="Accounts")
        >>> out.count('class="gt_row '), "… 50 more rows not shown" in out, ">Accounts</td>" in out
        (10, True, True)
    """
    from great_tables import GT

    df = to_polars(df)  # a LazyFrame (or another engine's frame) is collected
    formats = formats or {}
    classes = dict(classes or {})
    for fmt in formats.values():
        _check_format(fmt)
    for col, by in classes.items():
        if col not in df.columns or by not in df.columns or by in (col, *classes):
            msg = f"classes: {col!r} -> {by!r}; expected a shown column -> another column"
            raise ValueError(msg)
    shown = df.head(max_rows) if max_rows >= 0 else df
    more = df.height - shown.height
    columns = [c for c in df.columns if c not in classes.values()]
    ends = {c: "end" if t.is_numeric() else "start" for c, t in df.schema.items()}
    for col, side in (align or {}).items():
        if side not in _ALIGN_CSS:
            msg = f"align: {col!r} -> {side!r}; expected 'start' or 'end'"
            raise ValueError(msg)
        ends[col] = side

    # The texts great-tables lays out: every cell already written by the one formatting layer.
    texts = {c: [format_cell(v, formats.get(c)) for v in shown[c].to_list()] for c in columns}
    for col, by in classes.items():
        texts[col] = [_span(t, k) for t, k in zip(texts[col], shown[by].to_list(), strict=True)]
    note = (
        ngettext("… {n} more row not shown", "… {n} more rows not shown", more).format(
            n=format_value(more, "count")
        )
        if more > 0
        else None
    )

    # An id made of the content, which great-tables puts before the ids of the table's cells:
    # two different tables of a page (~60 in a report) share no id, and a table renders the
    # same HTML every time (a random id would change every run).
    key = json.dumps([columns, texts, caption, note, ends, sorted(classes)], ensure_ascii=False)
    table_id = "jw-t" + hashlib.sha1(key.encode(), usedforsecurity=False).hexdigest()[:10]

    frame = pl.DataFrame({c: pl.Series(c, texts[c], dtype=pl.String) for c in columns})
    gt = GT(frame, id=table_id)
    for side, gt_side in (("start", "left"), ("end", "right")):
        cols = [c for c in columns if ends[c] == side]
        if cols:
            gt = gt.cols_align(gt_side, columns=cols)
    if classes:
        # Our own escaped <span>: a fmt() result is trusted as HTML, the other cells are escaped.
        gt = gt.fmt(lambda text: text, columns=list(classes))
    if caption:
        gt = gt.tab_header(title=caption)
    if note:
        gt = gt.tab_source_note(note)
    return _table_only(gt.as_raw_html())


def _table_only(out: str) -> str:
    """great-tables' ``<table>``, as a jw-table that follows the page's direction.

    The fragment's wrapper and ``<style>`` are left out. great-tables aligns a
    cell with a class (``gt_left``, ``gt_right``) that its stylesheet maps to
    ``left`` / ``right``; here the class becomes an inline ``start`` / ``end``
    (inline, as ``tab_style`` on every body cell makes rendering quadratic in
    the number of cells). The title and the note start their line.

    Every text in the table is escaped (quotes and angle brackets included), so
    the tags matched here are great-tables' own.
    """
    start, end = out.find(_GT_TABLE), out.rfind("</table>")
    if start < 0 or end < start:  # pragma: no cover - a great-tables release changed its markup
        msg = "great-tables returned no <table class=gt_table>; check the installed version"
        raise RuntimeError(msg)
    table = '<table class="jw-table gt_table"' + out[start + len(_GT_TABLE) : end] + "</table>"
    return _GT_CELL.sub(_aligned, table)
