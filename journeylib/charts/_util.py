"""Small helpers shared by the chart modules (private)."""

from __future__ import annotations

import math
import re
import textwrap
from collections.abc import Iterable, Sequence
from typing import Any

import altair as alt
import polars as pl

from journeylib.charts.fonts import is_wide
from journeylib.charts.theme import MUTED, NEUTRAL
from journeylib.errors import DataError
from journeylib.frames import to_polars

__all__: list[str] = []


def require(frame: Any, columns: Iterable[str], *, name: str) -> pl.DataFrame:
    """Return ``frame`` as a polars DataFrame, checking that it has ``columns``."""
    try:
        frame = to_polars(frame)
    except TypeError as exc:  # not a frame narwhals knows: say so in the workbench's words
        raise DataError(
            "not a data frame",
            where=name,
            expected="a polars DataFrame",
            found=type(frame).__name__,
            fix="pass the frame returned by the journeylib metric function",
        ) from exc
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise DataError(
            "missing columns for the chart",
            where=name,
            expected="columns " + ", ".join(columns),
            found="columns " + ", ".join(frame.columns),
            fix="pass the frame returned by the journeylib metric function",
        )
    return frame


def as_month(frame: pl.DataFrame, column: str) -> pl.DataFrame:
    """Turn a Date/Datetime month column into 'YYYY-MM' strings (strings pass through)."""
    dtype = frame.schema[column]
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return frame.with_columns(pl.col(column).dt.strftime("%Y-%m"))
    return frame.with_columns(pl.col(column).cast(pl.String))


def values(frame: pl.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts: dates as ISO strings, NaN/inf as None."""
    conv = []
    for name, dtype in frame.schema.items():
        if dtype == pl.Date:
            conv.append(pl.col(name).dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.Datetime):
            conv.append(pl.col(name).dt.strftime("%Y-%m-%dT%H:%M:%S"))
        elif isinstance(dtype, pl.Duration | pl.Time | pl.Categorical | pl.Enum):
            conv.append(pl.col(name).cast(pl.String))
        elif dtype.is_float():
            conv.append(
                pl.when(pl.col(name).is_finite()).then(pl.col(name)).otherwise(None).alias(name)
            )
    if conv:
        frame = frame.with_columns(conv)
    return frame.to_dicts()


def data(frame: pl.DataFrame | list[dict[str, Any]]) -> dict[str, Any]:
    """Inline data for a chart (always inline, so a chart never fetches anything).

    A plain ``{"values": rows}`` dict: ``alt.Data`` would validate every row
    against the schema on construction, which costs seconds on a journey map.
    """
    if isinstance(frame, pl.DataFrame):
        rows = values(frame)
    else:
        rows = [{k: _clean(v) for k, v in r.items()} for r in frame]
    return {"values": rows}


def _clean(v: Any) -> Any:
    """NaN and infinities become None (JSON has no NaN; undefined values are null)."""
    if isinstance(v, float) and not math.isfinite(v):
        return None
    return v


#: How many Latin characters a wide (Chinese, Japanese, Korean) character takes: a CJK
#: glyph is about 1 em wide, a Latin one about 0.56 em on average.
WIDE_CHAR = 1.8


def text_width(text: str) -> float:
    """``text``'s width in average Latin characters (a wide character counts :data:`WIDE_CHAR`).

    Examples:
        >>> text_width("ab"), text_width("注册")
        (2, 3.6)
    """
    return sum(WIDE_CHAR if is_wide(c) else 1 for c in text)


def _wrap_wide(text: str, width: int) -> list[str]:
    """Greedy wrapping of text with wide characters.

    A line may break between any two wide characters (Chinese has no spaces) and
    between words elsewhere.
    """
    tokens = re.findall(r"\s+|[^\s]", text)
    words: list[str] = []  # runs of narrow characters joined, wide ones alone, spaces as " "
    for t in tokens:
        if t.isspace():
            words.append(" ")
        elif is_wide(t) or not words or words[-1] == " " or is_wide(words[-1][-1]):
            words.append(t)
        else:
            words[-1] += t
    lines: list[str] = []
    cur = ""
    for w in words:
        if w == " ":
            cur += " " if cur else ""
            continue
        if not cur or text_width(cur + w) <= width:
            cur += w
        else:
            lines.append(cur.rstrip())
            cur = w
    if cur.strip():
        lines.append(cur.rstrip())
    return lines


def wrap(text: Any, width: int, *, max_lines: int | None = None) -> list[str]:
    """Wrap ``text`` into lines of at most ``width`` characters (ellipsis past max_lines).

    ``width`` counts average Latin characters: a text with wide (CJK) characters is
    wrapped by :func:`text_width` and may break between any two of them.

    Examples:
        >>> wrap("Reads the blog and asks peers", 12)
        ['Reads the', 'blog and', 'asks peers']
        >>> wrap("阅读博客并询问同行的意见", 9)
        ['阅读博客并', '询问同行的', '意见']
    """
    if text is None:
        return []
    s = str(text)
    if any(is_wide(c) for c in s):
        lines = _wrap_wide(s, max(width, 4)) or [""]
    else:
        lines = textwrap.wrap(s, width=max(width, 4), break_long_words=True) or [""]
    if max_lines is not None and len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = (last[: max(width - 1, 1)].rstrip() + "…") if len(last) >= width else last + "…"
    return lines


def note_chart(note: str) -> alt.Chart:
    """One line of muted text in place of a chart that has nothing to draw.

    Examples:
        >>> note_chart("Nothing to draw.").to_dict()["mark"]["type"]
        'text'
    """
    return (
        alt.Chart(data([{"text": note}]))
        .mark_text(align="left", color=MUTED, fontSize=13)
        .encode(text="text:N")
        .properties(width=560, height=40)
    )


def ordered(seq: Sequence[Any]) -> list[Any]:
    """Distinct values of ``seq`` in first-seen order."""
    seen: dict[Any, None] = {}
    for v in seq:
        seen.setdefault(v, None)
    return list(seen)


def labelled_bars(
    rows: list[dict[str, Any]],
    category: str,
    x: alt.X,
    tooltip: list[alt.Tooltip],
    *,
    title: Any,
    step: int,
    axis: Any = alt.Undefined,
    color: alt.Color | None = None,
) -> alt.LayerChart:
    """Horizontal bars, one per row in the rows' order, each with its ``text`` right of it.

    Args:
        rows: the bars, top first; each has ``category``, the x field and ``text``.
        category: the field naming a bar (the y axis, without a title).
        x: the bar length; its scale leaves room right of the longest bar for its label.
        tooltip: the tooltips of bars and labels.
        title: chart title.
        step: pixels per bar.
        axis: the y axis.
        color: colour the bars by a field instead of the one neutral colour.

    Returns:
        The bars and their labels, 640 pixels wide.
    """
    base = alt.Chart(data(rows)).encode(
        y=alt.Y(f"{category}:N", sort=[r[category] for r in rows], title=None, axis=axis),
        tooltip=tooltip,
    )
    if color is None:
        bars = base.mark_bar(color=NEUTRAL, cornerRadiusEnd=3).encode(x=x)
    else:
        bars = base.mark_bar(cornerRadiusEnd=3).encode(x=x, color=color)
    labels = base.mark_text(align="left", dx=6, color=MUTED).encode(x=x, text=alt.Text("text:N"))
    return alt.layer(bars, labels).properties(title=title, width=640, height=alt.Step(step))
