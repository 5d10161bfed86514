"""The service blueprint: front-stage touchpoints over back-stage support work.

Laid out on the journey map's grid (:mod:`journeylib.charts._map_layout`):
stages across, the front stage above the line of visibility, the support work
behind it below. Its words are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from journeylib.charts._map_layout import (
    EMPTY,
    HEADER_BG,
    LINE_H,
    PAD,
    Dot,
    Layout,
    cells,
    dots_height,
    draw_dots,
    top_rows,
)
from journeylib.charts._util import ordered, require, wrap
from journeylib.charts.theme import BAD, INK, MUTED, NEUTRAL
from journeylib.formatting import MISSING, format_value
from journeylib.i18n import gettext as _

__all__ = ["chart_service_blueprint"]


def chart_service_blueprint(
    front: pl.DataFrame,
    back: pl.DataFrame,
    *,
    stages: list[str] | None = None,
    width: int = 1100,
    max_touchpoints: int = 5,
    title: str | None = None,
) -> alt.LayerChart:
    """Front-stage touchpoints over back-stage support work, per stage.

    Args:
        front: ``stage, touchpoint, accounts`` (what customers meet).
        back: ``stage, tickets, top_category, resolution_hours_median`` (the
            support work behind it).
        stages: stage order (default: first appearance in ``front``, then ``back``).
        width: width in pixels.
        max_touchpoints: touchpoints listed per stage.
        title: chart title (default: "Service blueprint").

    Returns:
        One layered chart: stage header, front stage, the line of visibility,
        back stage (ticket bar, top category, median resolution; the slowest
        stage in vermillion).

    Examples:
        >>> import polars as pl
        >>> f = pl.DataFrame({"stage": ["onb"], "touchpoint": ["setup"], "accounts": [40]})
        >>> b = pl.DataFrame({"stage": ["onb"], "tickets": [12], "top_category": ["how-to"],
        ...     "resolution_hours_median": [5.5]})
        >>> chart_service_blueprint(f, b).to_dict()["width"]
        1100
    """
    fdf = require(front, ["stage", "touchpoint", "accounts"], name="front").with_columns(
        pl.col("stage").cast(pl.String)
    )
    bdf = require(
        back, ["stage", "tickets", "top_category", "resolution_hours_median"], name="back"
    ).with_columns(pl.col("stage").cast(pl.String))
    order = stages or ordered(fdf["stage"].to_list() + bdf["stage"].to_list())
    st = [{"id": s, "label": s, "reached": None, "conversion_from_previous": None} for s in order]
    lay = Layout(width, st)
    c = lay.canvas
    # Stage header.
    lines = [wrap(s, lay.chars(13), max_lines=2) for s in order]
    h = 2 * PAD + 16 * max([len(x) for x in lines] + [1])
    top = lay.y
    for i, ls in enumerate(lines):
        c.rect(lay.left(i) + 3, top + 3, lay.left(i + 1) - 3, top + h - 3, HEADER_BG)
        for j, line in enumerate(ls):
            c.text(lay.left(i) + PAD + 3, top + PAD + j * 16, line, size=13, weight="bold")
    c.text(PAD + 2, top + PAD, _("Stage"), size=12, weight="bold")
    lay.y += h
    # Front stage.
    fcells = cells(fdf.with_columns(pl.col("touchpoint").cast(pl.String)), order)
    top_acc = max([r["accounts"] or 0 for r in fdf.iter_rows(named=True)] + [1])
    width_ch = lay.chars(11, indent=30)
    blocks = []
    for s in order:
        rows, more = top_rows(fcells[s], "accounts", max_touchpoints)
        dots = [
            Dot(
                area=max(380 * (r["accounts"] or 0) / top_acc, 12),
                color=NEUTRAL,
                tip={"stage": r["stage"], "touchpoint": r["touchpoint"], "accounts": r["accounts"]},
                name=wrap(r["touchpoint"], width_ch, max_lines=3),
                stats=[_("{n} accounts").format(n=format_value(r["accounts"], style="compact"))],
            )
            for r in rows
        ]
        blocks.append((dots, more))
    ftop = lay.lane(_("Front stage: touchpoints customers meet"), dots_height(blocks))
    draw_dots(lay, ftop, blocks)
    # Line of visibility.
    c.rule(0, lay.y + 12, c.width, lay.y + 12, INK, dashed=True, width=1.5)
    c.text(c.width - PAD, lay.y + 15, _("line of visibility"), size=10, color=MUTED, align="right")
    lay.y += 30
    # Back stage.
    bcells = cells(bdf, order)
    brows = [r for rows in bcells.values() for r in rows]
    top_t = max([r["tickets"] or 0 for r in brows] + [1])
    hours = [
        r["resolution_hours_median"] for r in brows if r["resolution_hours_median"] is not None
    ]
    slowest = max(hours) if hours else None
    # Every text is wrapped to its column: with 8 stages a column is ~120 px and
    # "median 11 h to resolve" on one line would run into the next stage.
    back_lines: list[list[tuple[str, dict[str, Any]]]] = []
    for s in order:
        if not bcells[s]:
            back_lines.append([(_("no tickets"), {"color": EMPTY})])
            continue
        r = bcells[s][0]
        hrs = r["resolution_hours_median"]
        slow = hrs is not None and slowest is not None and hrs == slowest and len(hours) > 1
        tickets = _("{n} tickets").format(n=format_value(r["tickets"], style="compact"))
        lines = [(tickets, {"weight": "bold"})]
        top_text = _("top: {category}").format(category=r["top_category"] or "–")
        lines += [(line, {"color": MUTED}) for line in wrap(top_text, lay.chars(11), max_lines=2)]
        style = {"color": BAD if slow else INK, "weight": "bold" if slow else "normal", "size": 10}
        if hrs is None:
            text = _("median resolution {value}").format(value=MISSING)
            lines.append((text, {**style, "color": MUTED}))
        else:
            # Bold text is wider: wrap as if the font were a size larger.
            median = _("median {hours}").format(hours=format_value(hrs, "hours", style="compact"))
            for part in (median, _("to resolve")):
                lines += [(line, style) for line in wrap(part, lay.chars(11), max_lines=2)]
        back_lines.append(lines)
    n_back = max([len(x) for x in back_lines] + [5])
    btop = lay.lane(_("Back stage: support work"), 2 * PAD + 14 + n_back * LINE_H)
    hint = wrap(_("tickets, top category, median resolution"), lay.title_chars(10))
    for j, line in enumerate(hint):
        c.text(PAD + 2, btop + PAD + 34 + 12 * j, line, size=10, color=MUTED)
    for i, s in enumerate(order):
        x0, x1 = lay.left(i) + PAD, lay.left(i + 1) - PAD
        y = btop + PAD
        if bcells[s]:
            r = bcells[s][0]
            frac = (r["tickets"] or 0) / top_t
            c.rect(
                x0,
                y + 2,
                x0 + (x1 - x0) * frac,
                y + 10,
                "#E69F00",
                stage=s,
                tickets=r["tickets"],
                top_category=r["top_category"],
                hours=r["resolution_hours_median"],
            )
            y += 14
        for j, (line, style) in enumerate(back_lines[i]):
            c.text(x0, y + j * LINE_H, line, **style)
    tooltips = {
        "point": [
            alt.Tooltip("stage:N", title=_("Stage")),
            alt.Tooltip("touchpoint:N", title=_("Touchpoint")),
            alt.Tooltip("accounts:Q", title=_("Accounts"), format=","),
        ],
        "rect": [
            alt.Tooltip("stage:N", title=_("Stage")),
            alt.Tooltip("tickets:Q", title=_("Tickets"), format=","),
            alt.Tooltip("top_category:N", title=_("Top category")),
            alt.Tooltip("hours:Q", title=_("Median resolution (h)"), format=".1f"),
        ],
    }
    return c.chart(
        lay.y,
        title=alt.Title(
            _("Service blueprint") if title is None else title,
            subtitle=_("Front stage above the line of visibility, back-stage support below"),
        ),
        tooltips=tooltips,
    )
