"""The grid shared by the journey map and the service blueprint (private).

Stages run across as columns of equal width right of a column of lane titles;
lanes run down, each as tall as its fullest stage cell. :class:`Layout` keeps
the columns and the running y cursor over a :class:`~journeylib.charts._canvas.Canvas`;
:func:`draw_dots` draws the lanes that list things per stage with a dot sized
by volume (the map's touchpoints, the blueprint's front stage).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl

from journeylib.charts._canvas import Canvas, chars_for
from journeylib.charts._util import wrap
from journeylib.charts.theme import MUTED
from journeylib.i18n import gettext as _

__all__: list[str] = []

LABEL_W = 132  # the left column holding the lane titles
LINE_H = 14
PAD = 8
HEADER_BG = "#dbe9f6"
LANE_BG = ["#f7f9fb", "#ffffff"]
DIVIDER = "#d5dbe1"
EMPTY = "#9aa5b1"  # the "–" of an empty cell


def cells(frame: pl.DataFrame | None, stage_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Rows of ``frame`` grouped by stage id (only known stages)."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in stage_ids}
    if frame is None:
        return out
    for r in frame.iter_rows(named=True):
        if r["stage"] in out:
            out[r["stage"]].append(r)
    return out


class Layout:
    """Stage columns and a running y cursor over the canvas."""

    def __init__(self, width: float, stages: list[dict[str, Any]]) -> None:
        self.canvas = Canvas(width)
        self.stages = stages
        self.n = max(len(stages), 1)
        self.col_w = (width - LABEL_W) / self.n
        self.y = 0.0
        self.lane_no = 0

    def left(self, i: int) -> float:
        """The x of stage column ``i``'s left edge."""
        return LABEL_W + i * self.col_w

    def chars(self, font: float = 11, indent: float = 0) -> int:
        """Characters a line of a stage column holds."""
        return chars_for(self.col_w - 2 * PAD - indent, font)

    def title_chars(self, font: float = 12) -> int:
        """Characters a line of the lane-title column holds."""
        return chars_for(LABEL_W - 2 * PAD, font)

    def lane(self, title: str, height: float, *, marker: str | None = None) -> float:
        """Draw a lane's background and title; return its top and advance the cursor."""
        c = self.canvas
        top = self.y
        c.rect(0, top, c.width, top + height, LANE_BG[self.lane_no % 2])
        if marker:
            c.rect(0, top, 4, top + height, marker)
        for j, line in enumerate(wrap(title, self.title_chars(), max_lines=3)):
            c.text(PAD + 2, top + PAD + j * 15, line, size=12, weight="bold")
        for i in range(1, self.n):
            c.rule(self.left(i), top, self.left(i), top + height, DIVIDER)
        c.rule(0, top + height, c.width, top + height, DIVIDER)
        self.y += height
        self.lane_no += 1
        return top


@dataclass(frozen=True)
class Dot:
    """One listed thing of a stage cell: its dot, its name and its figures."""

    area: float
    color: str
    tip: dict[str, Any]  # the dot's tooltip data
    name: list[str]  # wrapped lines
    stats: list[str]  # one figure a line, in small muted text


def top_rows(rows: list[dict[str, Any]], key: str, n: int) -> tuple[list[dict[str, Any]], int]:
    """The first ``n`` rows by most ``key`` (None as 0), and how many are left out."""
    ranked = sorted(rows, key=lambda r: -(r[key] or 0))
    kept = ranked[:n]
    return kept, len(ranked) - len(kept)


def dots_height(blocks: list[tuple[list[Dot], int]]) -> float:
    """The height of a lane of :func:`draw_dots` (its fullest stage cell).

    ``blocks`` holds, per stage column, its dots and how many were left out.
    """
    heights = [
        sum((len(d.name) + len(d.stats)) * LINE_H + 6 for d in dots) + (LINE_H if more else 0)
        for dots, more in blocks
    ]
    return 2 * PAD + max(heights + [LINE_H])


def draw_dots(lay: Layout, top: float, blocks: list[tuple[list[Dot], int]]) -> None:
    """Each stage's dots, names and figures down its column, then "+n more"."""
    c = lay.canvas
    for i, (dots, more) in enumerate(blocks):
        x0 = lay.left(i) + PAD
        y = top + PAD
        if not dots:
            c.text(x0, y, "–", color=EMPTY)
        for d in dots:
            c.point(x0 + 11, y + 8, d.area, d.color, **d.tip)
            for line in d.name:
                c.text(x0 + 26, y, line)
                y += LINE_H
            for line in d.stats:
                c.text(x0 + 26, y, line, size=10, color=MUTED)
                y += LINE_H
            y += 6
        if more:
            c.text(x0 + 26, y, _("+{n} more").format(n=more), size=10, color=MUTED)
