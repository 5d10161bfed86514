"""The lanes of the journey map, each drawn at the layout's cursor (private).

Top to bottom as :func:`journeylib.charts.journey_map.chart_journey_map` calls
them: the stage header, text lanes (situation, actions, pain points …), the
touchpoints, the emotion curve and the KPIs. Each lane is as tall as its
fullest stage cell, so no text meets another. Their words are in the current
language (:mod:`journeylib.i18n`), looked up when a lane is drawn.
"""

from __future__ import annotations

from typing import Any

from journeylib.charts._map_layout import (
    EMPTY,
    HEADER_BG,
    LABEL_W,
    LINE_H,
    PAD,
    Dot,
    Layout,
    dots_height,
    draw_dots,
    top_rows,
)
from journeylib.charts._util import wrap
from journeylib.charts.theme import BAD, GOOD, INK, MUTED, NEUTRAL
from journeylib.formatting import MISSING, format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _

__all__: list[str] = []

_STATUS_COLOUR = {"on_track": GOOD, "achieved": GOOD, "at_risk": "#B07800", "off_track": BAD}
_KIND_COLOUR = {"direct": NEUTRAL, "indirect": "#E69F00"}
# The touchpoint kinds in words (translated where drawn); other kinds show as given.
_KIND_NAME = {"direct": N_("direct"), "indirect": N_("indirect")}


def _kind_name(kind: Any) -> str:
    kind = str(kind)
    return _(_KIND_NAME[kind]) if kind in _KIND_NAME else kind


# Lines per text item before it is cut with "…". The persona's situation is one
# paragraph per stage, so its lane grows to fit it (~150 characters need 11
# lines in the 121 px columns of an 8-stage map); bullets are shorter.
ITEM_MAX_LINES = 8
SITUATION_MAX_LINES = 16


def header(lay: Layout) -> None:
    """Stage boxes with the reach bar, and conversion between neighbouring stages."""
    c = lay.canvas
    stages = lay.stages
    top_reached = max([s["reached"] or 0 for s in stages] + [1])
    label_lines = [wrap(s["label"], lay.chars(13), max_lines=2) for s in stages]
    n_lines = max([len(x) for x in label_lines] + [1])
    height = PAD + n_lines * 16 + 18 + 12 + PAD
    top = lay.y
    c.text(PAD + 2, top + PAD, _("Stage"), size=12, weight="bold")
    c.text(PAD + 2, top + PAD + 16, _("accounts reached"), size=11, color=MUTED)
    for i, s in enumerate(stages):
        x0, x1 = lay.left(i) + 3, lay.left(i + 1) - 3
        tip = {
            "stage": s["label"],
            "reached": s["reached"],
            "conversion": s["conversion_from_previous"],
        }
        c.rect(x0, top + 3, x1, top + height - 3, HEADER_BG, **tip)
        for j, line in enumerate(label_lines[i]):
            c.text(x0 + PAD, top + PAD + j * 16, line, size=13, weight="bold")
        y_num = top + PAD + n_lines * 16 + 2
        reached = _("{n} accounts").format(n=format_value(s["reached"], style="compact"))
        c.text(x0 + PAD, y_num, reached, size=11)
        frac = (s["reached"] or 0) / top_reached
        bar_w = x1 - x0 - 2 * PAD
        y_bar = top + height - PAD - 8
        c.rect(x0 + PAD, y_bar, x0 + PAD + bar_w, y_bar + 6, "#ffffff", **tip)
        c.rect(x0 + PAD, y_bar, x0 + PAD + bar_w * frac, y_bar + 6, NEUTRAL, **tip)
    lay.y += height
    # Conversion from the previous stage, centred on the boundary between them.
    strip = 22
    for i, s in enumerate(stages):
        if i == 0:
            continue
        conv = s["conversion_from_previous"]
        colour = INK if conv is None or conv >= 0.5 else BAD
        c.text(
            lay.left(i),
            lay.y + 4,
            f"→ {format_value(conv, 'fraction', style='compact')}",
            size=11,
            align="center",
            weight="bold",
            color=colour,
        )
    c.text(PAD + 2, lay.y + 4, _("conversion"), size=11, color=MUTED)
    lay.y += strip


def text_lane(
    lay: Layout,
    title: str,
    cells: dict[str, list[dict[str, Any]]],
    *,
    marker: str | None = None,
    max_lines: int = ITEM_MAX_LINES,
) -> None:
    """A lane of bullet texts per stage (``cells``: rows with ``text``)."""
    width = lay.chars(11, indent=10)
    blocks = []
    for s in lay.stages:
        lines: list[tuple[str, bool]] = []
        for r in cells.get(s["id"], []):
            for j, line in enumerate(wrap(r["text"], width, max_lines=max_lines)):
                lines.append((line, j == 0))
        blocks.append(lines)
    n = max([len(b) for b in blocks] + [1])
    height = 2 * PAD + n * LINE_H + 2
    top = lay.lane(title, height, marker=marker)
    c = lay.canvas
    for i, lines in enumerate(blocks):
        x0 = lay.left(i) + PAD
        if not lines:
            c.text(x0, top + PAD, "–", color=EMPTY)
        for j, (line, first) in enumerate(lines):
            if first:
                c.text(x0, top + PAD + j * LINE_H, "•", color=marker or MUTED, weight="bold")
            c.text(x0 + 10, top + PAD + j * LINE_H, line)


def touchpoint_lane(
    lay: Layout, cells: dict[str, list[dict[str, Any]]], *, max_per_stage: int = 5
) -> None:
    """The busiest touchpoints per stage, dot area by events, colour by kind."""
    c = lay.canvas
    top_events = max([r["events"] or 0 for rows in cells.values() for r in rows] + [1])
    width = lay.chars(11, indent=30)
    blocks = []
    kinds: set[str] = set()  # the kinds drawn, for the legend (in their own sort order)
    for s in lay.stages:
        rows, more = top_rows(cells.get(s["id"], []), "events", max_per_stage)
        dots = []
        for r in rows:
            name = r["label"] or r["touchpoint"]
            # Area ∝ events, so a dot's ink matches its volume; max diameter 22 px.
            area = 380 * (r["events"] or 0) / top_events
            tip = {
                "touchpoint": name,
                "kind": _kind_name(r["kind"]),
                "events": r["events"],
                "accounts": r["accounts"],
            }
            dots.append(
                Dot(
                    area=max(area, 30),
                    color=_KIND_COLOUR.get(str(r["kind"]), MUTED),
                    tip=tip,
                    name=wrap(name, width, max_lines=3),
                    # One figure a line, so narrow columns never cut a number.
                    stats=[
                        _("{n} events").format(n=format_value(r["events"], style="compact")),
                        _("{n} accounts").format(n=format_value(r["accounts"], style="compact")),
                    ],
                )
            )
            kinds.add(str(r["kind"]))
        blocks.append((dots, more))
    top = lay.lane(_("Touchpoints"), dots_height(blocks))
    c.text(PAD + 2, top + PAD + 18, _("dot size = events"), size=10, color=MUTED)
    for k, kind in enumerate(sorted(kinds)):
        colour = _KIND_COLOUR.get(kind, MUTED)
        c.point(PAD + 8, top + PAD + 42 + k * 16, 50, colour)
        c.text(PAD + 18, top + PAD + 36 + k * 16, _kind_name(kind), size=10, color=MUTED)
    draw_dots(lay, top, blocks)


def emotion_lane(lay: Layout, cells: dict[str, list[dict[str, Any]]]) -> None:
    """NPS per stage as a curve with its 95 % interval and the number of answers."""
    c = lay.canvas
    rows_by_stage = []
    for s in lay.stages:
        rows = [r for r in cells.get(s["id"], []) if r.get("nps") is not None]
        rows_by_stage.append(rows[0] if rows else None)
    has_sentiment = any(r is not None and r.get("sentiment") is not None for r in rows_by_stage)
    plot_top, plot_h = 40, 96
    labels_h = (3 if has_sentiment else 2) * 13 + PAD
    height = plot_top + plot_h + 14 + labels_h
    top = lay.lane(_("Emotion: NPS by stage"), height)
    y_hi, y_lo = top + plot_top, top + plot_top + plot_h

    def ypx(v: float) -> float:
        v = max(-100.0, min(100.0, v))
        return y_hi + (100 - v) / 200 * (y_lo - y_hi)

    # Hints sit below the -100 label, so they never meet the axis labels.
    c.text(PAD + 2, y_lo + 12, _("bar: 95 % interval"), size=10, color=MUTED)
    c.text(PAD + 2, y_lo + 25, _("hollow: < 30 answers"), size=10, color=MUTED)
    for v in (100, 0, -100):
        c.text(
            LABEL_W - 6,
            ypx(v),
            format_value(v, "nps", style="compact"),
            size=10,
            color=MUTED,
            align="right",
            baseline="middle",
        )
    c.rule(LABEL_W, ypx(0), c.width, ypx(0), "#9aa5b1", dashed=True)
    segment = 0
    y_lab = y_lo + 14
    for i, s in enumerate(lay.stages):
        xc = lay.left(i) + lay.col_w / 2
        r = rows_by_stage[i]
        if r is None:
            # A stage without answers breaks the curve: no line is drawn across it.
            segment += 1
            c.text(xc, y_lab, _("no survey answers"), size=10, color=MUTED, align="center")
            continue
        nps, n = float(r["nps"]), r.get("responses") or 0
        lo, hi = r.get("ci_low"), r.get("ci_high")
        tip = {"stage": s["label"], "nps": nps, "responses": n, "ci_low": lo, "ci_high": hi}
        if lo is not None and hi is not None:
            c.rule(xc, ypx(hi), xc, ypx(lo), "#9cc3e6", width=8, **tip)
        c.line(xc, ypx(nps), segment, NEUTRAL)
        c.point(xc, ypx(nps), 110, NEUTRAL, filled=n >= 30, **tip)
        # The numbers go in a row under the curve, one cell per stage: no overlap.
        nps_text = _("NPS {nps}").format(nps=format_value(nps, "nps", style="compact"))
        c.text(xc, y_lab, nps_text, size=11, weight="bold", align="center")
        answers = format_value(n, style="compact")
        c.text(
            xc,
            y_lab + 13,
            (_("n = {n} (few)") if n < 30 else _("n = {n}")).format(n=answers),
            size=10,
            color=BAD if n < 30 else MUTED,
            align="center",
        )
        if r.get("sentiment") is not None:
            c.text(
                xc,
                y_lab + 26,
                _("sentiment {value}").format(
                    value=format_value(r["sentiment"], "sentiment", style="compact")
                ),
                size=10,
                color=MUTED,
                align="center",
            )


def kpi_lane(lay: Layout, cells: dict[str, list[dict[str, Any]]], *, future: bool) -> None:
    """KPIs per stage: value and trend, with target (and gap, by status, when ``future``)."""
    c = lay.canvas
    width = lay.chars(11)
    blocks = []
    for s in lay.stages:
        items = []
        for r in cells.get(s["id"], []):
            name = wrap(r.get("label") or r.get("metric"), width, max_lines=3)
            target = r.get("target_text")
            gap = r.get("gap_text")
            if future and target and gap:
                extra = _("target {target} · gap {gap}").format(target=target, gap=gap)
            elif future and gap:
                extra = _("gap {gap}").format(gap=gap)
            elif target:
                extra = _("target {target}").format(target=target)
            else:
                extra = ""
            extra_lines = wrap(extra, width, max_lines=2) if extra else []
            items.append((r, name, extra_lines))
        blocks.append(items)

    def value_lines(r: dict[str, Any]) -> int:
        # The trend gets its own line under the value: side by side they meet
        # in narrow (8-stage) columns.
        return 2 if r.get("trend") else 1

    heights = [
        sum((len(nm) + value_lines(r) + len(ex)) * LINE_H + 8 for r, nm, ex in items)
        for items in blocks
    ]
    height = 2 * PAD + max(heights + [LINE_H])
    top = lay.lane(_("KPIs: now → target") if future else _("KPIs"), height)
    for i, items in enumerate(blocks):
        x0 = lay.left(i) + PAD
        x1 = lay.left(i + 1) - PAD
        y = top + PAD
        if not items:
            c.text(x0, y, "–", color=EMPTY)
        for r, name, extra in items:
            block_h = (len(name) + value_lines(r) + len(extra)) * LINE_H
            status = r.get("status")
            if future and status in ("at_risk", "off_track"):
                c.rect(x0 - 4, y - 2, x1 + 4, y + block_h + 2, "#fbe3d6")
            for line in name:
                c.text(x0, y, line, color=MUTED, size=10)
                y += LINE_H
            c.text(x0, y, str(r.get("value_text") or MISSING), weight="bold", size=12)
            y += LINE_H
            trend = r.get("trend")
            if trend:
                good = r.get("trend_good")
                colour = MUTED if good is None else (GOOD if good else BAD)
                c.text(x0, y, str(trend), color=colour, size=11)
                y += LINE_H
            colour = _STATUS_COLOUR.get(status, INK) if future else MUTED
            for line in extra:
                c.text(
                    x0,
                    y,
                    line,
                    size=10,
                    color=colour,
                    weight="bold" if future and status else "normal",
                )
                y += LINE_H
            y += 8
