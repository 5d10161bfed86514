"""A tiny pixel-layout canvas drawn with vega-lite (private).

The journey map and the service blueprint are layouts, not statistical plots:
text blocks must wrap and never overlap. Positions are computed here in pixels
(``scale=None`` on x and y), so vega-lite only draws what Python placed.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import altair as alt

from journeylib.charts._util import data
from journeylib.charts.theme import INK

__all__: list[str] = []

CHAR_W = 0.56  # average glyph width / font size, a little above DejaVu Sans
# Keys every mark row has; any other key is tooltip data.
_LAYOUT_KEYS = {"x", "y", "x2", "y2", "fill", "opacity", "color", "sw", "area", "text", "size"}


def _runs(rows: list[dict[str, Any]]) -> list[tuple[frozenset[str], list[dict[str, Any]]]]:
    """Consecutive rows split by the tooltip fields they carry (drawing order kept).

    Each run gets a tooltip of its own fields only: a lane background would
    otherwise show "Stage: undefined" on hover (and in its aria-label), and a
    touchpoint dot "NPS: NaN".
    """
    out: list[tuple[frozenset[str], list[dict[str, Any]]]] = []
    for r in rows:
        keys = frozenset(k for k in r if k not in _LAYOUT_KEYS)
        if out and out[-1][0] == keys:
            out[-1][1].append(r)
        else:
            out.append((keys, [r]))
    return out


def _tooltip(tips: list[alt.Tooltip] | None, keys: frozenset[str]) -> Any:
    """The tooltips among ``tips`` whose field the rows have (Undefined when none)."""
    chosen = [t for t in tips or [] if t.to_dict().get("field") in keys]
    return chosen or alt.Undefined


def chars_for(width_px: float, font_size: float) -> int:
    """How many characters fit in ``width_px`` at ``font_size``."""
    return max(int(width_px / (CHAR_W * font_size)), 4)


class Canvas:
    """Collects rects, rules, texts, points and lines in pixel coordinates."""

    def __init__(self, width: float) -> None:
        self.width = width
        self.rects: list[dict[str, Any]] = []
        self.rules: dict[bool, list[dict[str, Any]]] = defaultdict(list)
        self.texts: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        self.points: dict[bool, list[dict[str, Any]]] = defaultdict(list)
        self.lines: list[dict[str, Any]] = []

    def rect(
        self,
        x: float,
        y: float,
        x2: float,
        y2: float,
        fill: str,
        *,
        opacity: float = 1.0,
        **tip: Any,
    ) -> None:
        self.rects.append(
            {"x": x, "y": y, "x2": x2, "y2": y2, "fill": fill, "opacity": opacity, **tip}
        )

    def rule(
        self,
        x: float,
        y: float,
        x2: float,
        y2: float,
        color: str,
        *,
        dashed: bool = False,
        width: float = 1.0,
        **tip: Any,
    ) -> None:
        self.rules[dashed].append(
            {"x": x, "y": y, "x2": x2, "y2": y2, "color": color, "sw": width, **tip}
        )

    def text(
        self,
        x: float,
        y: float,
        text: str | list[str],
        *,
        color: str = INK,
        size: float = 11,
        align: str = "left",
        weight: str = "normal",
        baseline: str = "top",
    ) -> None:
        self.texts[(align, weight, baseline)].append(
            {"x": x, "y": y, "text": text, "color": color, "size": size}
        )

    def point(
        self, x: float, y: float, area: float, color: str, *, filled: bool = True, **tip: Any
    ) -> None:
        self.points[filled].append({"x": x, "y": y, "area": area, "color": color, **tip})

    def line(self, x: float, y: float, segment: int, color: str) -> None:
        self.lines.append({"x": x, "y": y, "segment": segment, "color": color})

    def _mirror(self) -> None:
        """Flip every mark around the vertical axis of the canvas (once)."""
        w = self.width
        for r in self.rects:
            r["x"], r["x2"] = w - r["x2"], w - r["x"]
        for rules in self.rules.values():
            for r in rules:
                r["x"], r["x2"] = w - r["x"], w - r["x2"]
        for points in self.points.values():
            for r in points:
                r["x"] = w - r["x"]
        for r in self.lines:
            r["x"] = w - r["x"]
        swap = {"left": "right", "right": "left", "center": "center"}
        texts: dict[tuple[str, str, str], list[dict[str, Any]]] = defaultdict(list)
        arrows = str.maketrans({"→": "←", "←": "→"})  # "→ 40%" points to the next stage
        for (align, weight, baseline), rows in self.texts.items():
            for r in rows:
                r["x"] = w - r["x"]
                t = r["text"]
                r["text"] = (
                    [x.translate(arrows) for x in t] if isinstance(t, list) else t.translate(arrows)
                )
            texts[(swap.get(align, align), weight, baseline)].extend(rows)
        self.texts = texts

    def chart(
        self,
        height: float,
        *,
        title: alt.Title | str | None,
        tooltips: dict[str, list[alt.Tooltip]] | None = None,
        rtl: bool = False,
    ) -> alt.LayerChart:
        """All collected marks as one layered chart of ``width`` × ``height`` pixels.

        ``rtl`` mirrors the drawing left to right (a right-to-left page: what was
        laid out from the left edge starts at the right edge; texts keep their
        reading direction, their alignment is swapped).
        """
        if rtl:
            self._mirror()
        tooltips = tooltips or {}
        x = alt.X("x:Q", scale=None, axis=None)
        y = alt.Y("y:Q", scale=None, axis=None)
        # Rects and rules span from (x, y) to (x2, y2).
        span = {"x": x, "y": y, "x2": alt.X2(field="x2"), "y2": alt.Y2(field="y2")}
        layers: list[alt.Chart] = []
        rows_of: list[list[dict[str, Any]]] = []
        # Each layer gets its rows only after layering: altair deep-copies
        # sub-charts when it layers them, which is slow with many rows.
        empty = data([])
        for keys, rows in _runs(self.rects):
            rows_of.append(rows)
            layers.append(
                alt.Chart(empty)
                .mark_rect()
                .encode(
                    **span,
                    fill=alt.Fill("fill:N", scale=None),
                    opacity=alt.Opacity("opacity:Q", scale=None),
                    tooltip=_tooltip(tooltips.get("rect"), keys),
                )
            )
        for dashed, all_rules in self.rules.items():
            for keys, rows in _runs(all_rules):
                rows_of.append(rows)
                layers.append(
                    alt.Chart(empty)
                    .mark_rule(strokeDash=[5, 4] if dashed else alt.Undefined)
                    .encode(
                        **span,
                        color=alt.Color("color:N", scale=None),
                        strokeWidth=alt.StrokeWidth("sw:Q", scale=None),
                        tooltip=_tooltip(tooltips.get("rule"), keys),
                    )
                )
        if self.lines:
            rows_of.append(self.lines)
            layers.append(
                alt.Chart(empty)
                .mark_line(strokeWidth=2.5)
                .encode(
                    x=x,
                    y=y,
                    detail=alt.Detail("segment:N"),
                    order=alt.Order("x:Q"),
                    color=alt.Color("color:N", scale=None),
                )
            )
        for filled, all_points in self.points.items():
            for keys, rows in _runs(all_points):
                rows_of.append(rows)
                layers.append(
                    alt.Chart(empty)
                    .mark_point(filled=filled, opacity=1, strokeWidth=2)
                    .encode(
                        x=x,
                        y=y,
                        size=alt.Size("area:Q", scale=None),
                        color=alt.Color("color:N", scale=None),
                        tooltip=_tooltip(tooltips.get("point"), keys),
                    )
                )
        for (align, weight, baseline), rows in self.texts.items():
            rows_of.append(rows)
            layers.append(
                alt.Chart(empty)
                .mark_text(
                    align=align, fontWeight=weight, baseline=baseline, lineHeight=14, limit=0
                )
                .encode(
                    x=x,
                    y=y,
                    text=alt.Text("text:N"),
                    color=alt.Color("color:N", scale=None),
                    size=alt.Size("size:Q", scale=None),
                )
            )
        chart = alt.layer(*layers).properties(
            width=self.width,
            height=height,
            title=title if title is not None else alt.Undefined,
        )
        for layer, rows in zip(chart.layer, rows_of, strict=True):
            layer.data = data(rows)
        return chart
