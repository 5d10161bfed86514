"""The journey map and its variants (future state, persona, opportunity, blueprint).

The map is laid out in pixels in Python (stages across, lanes down) and drawn
by vega-lite, so long texts wrap and no label overlaps another at A4 landscape
width (1100 px by default).
"""

from __future__ import annotations

from typing import Any, Literal

import altair as alt
import polars as pl

from journeylib.analysis.journey_map import JourneyMapData
from journeylib.charts._canvas import Canvas, chars_for
from journeylib.charts._util import data, fmt_num, fmt_pct, ordered, require, wrap
from journeylib.charts.theme import BAD, GOOD, INK, MUTED, NEUTRAL

__all__ = [
    "LANE_TITLES",
    "chart_journey_map",
    "chart_opportunity_map",
    "chart_persona_maps",
    "chart_service_blueprint",
]

# Text lanes known to the map, in drawing order, with their titles. Touchpoints
# and the emotion curve go after "information_needs"; other lanes found in the
# frame are drawn after "opportunities", titled from their name.
LANE_TITLES = {
    "situation": "Persona's situation",
    "actions": "Customer actions",
    "decisions": "Decisions",
    "information_needs": "Information needs",
    "pain_points": "Pain points",
    "opportunities": "Opportunities",
}
_BEFORE = ["situation", "actions", "decisions", "information_needs"]
_LANE_MARK = {"pain_points": BAD, "opportunities": GOOD}
_STATUS_COLOUR = {"on_track": GOOD, "achieved": GOOD, "at_risk": "#B07800", "off_track": BAD}
_KIND_COLOUR = {"direct": NEUTRAL, "indirect": "#E69F00"}

LABEL_W = 132  # the left column holding the lane titles
LINE_H = 14
PAD = 8
HEADER_BG = "#dbe9f6"
LANE_BG = ["#f7f9fb", "#ffffff"]
DIVIDER = "#d5dbe1"
# Lines per text item before it is cut with "…". The persona's situation is one
# paragraph per stage, so its lane grows to fit it (~150 characters need 11
# lines in the 121 px columns of an 8-stage map); bullets are shorter.
ITEM_MAX_LINES = 8
SITUATION_MAX_LINES = 16


def _cells(frame: pl.DataFrame | None, stage_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """Rows of ``frame`` grouped by stage id (only known stages)."""
    out: dict[str, list[dict[str, Any]]] = {s: [] for s in stage_ids}
    if frame is None:
        return out
    for r in frame.iter_rows(named=True):
        if r["stage"] in out:
            out[r["stage"]].append(r)
    return out


class _Layout:
    """Stage columns and a running y cursor over the canvas."""

    def __init__(self, width: float, stages: list[dict[str, Any]]) -> None:
        self.canvas = Canvas(width)
        self.stages = stages
        self.n = max(len(stages), 1)
        self.col_w = (width - LABEL_W) / self.n
        self.y = 0.0
        self.lane_no = 0

    def left(self, i: int) -> float:
        return LABEL_W + i * self.col_w

    def chars(self, font: float = 11, indent: float = 0) -> int:
        return chars_for(self.col_w - 2 * PAD - indent, font)

    def lane(self, title: str, height: float, *, marker: str | None = None) -> float:
        """Draw a lane's background and title; return its top and advance the cursor."""
        c = self.canvas
        top = self.y
        c.rect(0, top, c.width, top + height, LANE_BG[self.lane_no % 2])
        if marker:
            c.rect(0, top, 4, top + height, marker)
        for j, line in enumerate(wrap(title, chars_for(LABEL_W - 2 * PAD, 12), max_lines=3)):
            c.text(PAD + 2, top + PAD + j * 15, line, size=12, weight="bold")
        for i in range(1, self.n):
            c.rule(self.left(i), top, self.left(i), top + height, DIVIDER)
        c.rule(0, top + height, c.width, top + height, DIVIDER)
        self.y += height
        self.lane_no += 1
        return top


def _header(lay: _Layout) -> None:
    """Stage boxes with the reach bar, and conversion between neighbouring stages."""
    c = lay.canvas
    stages = lay.stages
    top_reached = max([s["reached"] or 0 for s in stages] + [1])
    label_lines = [wrap(s["label"], lay.chars(13), max_lines=2) for s in stages]
    n_lines = max([len(x) for x in label_lines] + [1])
    height = PAD + n_lines * 16 + 18 + 12 + PAD
    top = lay.y
    c.text(PAD + 2, top + PAD, "Stage", size=12, weight="bold")
    c.text(PAD + 2, top + PAD + 16, "accounts reached", size=11, color=MUTED)
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
        c.text(x0 + PAD, y_num, f"{fmt_num(s['reached'])} accounts", size=11)
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
            f"→ {fmt_pct(conv)}",
            size=11,
            align="center",
            weight="bold",
            color=colour,
        )
    c.text(PAD + 2, lay.y + 4, "conversion", size=11, color=MUTED)
    lay.y += strip


def _text_lane(
    lay: _Layout,
    title: str,
    cells: dict[str, list[dict[str, Any]]],
    *,
    marker: str | None = None,
    max_lines: int = ITEM_MAX_LINES,
) -> None:
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
            c.text(x0, top + PAD, "–", color="#9aa5b1")
        for j, (line, first) in enumerate(lines):
            if first:
                c.text(x0, top + PAD + j * LINE_H, "•", color=marker or MUTED, weight="bold")
            c.text(x0 + 10, top + PAD + j * LINE_H, line)


def _touchpoint_lane(
    lay: _Layout, cells: dict[str, list[dict[str, Any]]], *, max_per_stage: int = 5
) -> None:
    c = lay.canvas
    top_events = max([r["events"] or 0 for rows in cells.values() for r in rows] + [1])
    width = lay.chars(11, indent=30)
    blocks = []
    for s in lay.stages:
        rows = sorted(cells.get(s["id"], []), key=lambda r: -(r["events"] or 0))
        items = []
        for r in rows[:max_per_stage]:
            name = wrap(r["label"] or r["touchpoint"], width, max_lines=3)
            # One figure a line, so narrow columns never cut a number.
            stats = [f"{fmt_num(r['events'])} events", f"{fmt_num(r['accounts'])} accounts"]
            items.append((r, name, stats))
        more = len(rows) - len(items)
        blocks.append((items, more))
    heights = [
        sum((len(n) + len(st)) * LINE_H + 6 for _, n, st in items) + (LINE_H if more else 0)
        for items, more in blocks
    ]
    height = 2 * PAD + max(heights + [LINE_H])
    top = lay.lane("Touchpoints", height)
    c.text(PAD + 2, top + PAD + 18, "dot size = events", size=10, color=MUTED)
    kinds_seen = sorted({str(r["kind"]) for items, _ in blocks for r, _, _ in items})
    for k, kind in enumerate(kinds_seen):
        colour = _KIND_COLOUR.get(kind, MUTED)
        c.point(PAD + 8, top + PAD + 42 + k * 16, 50, colour)
        c.text(PAD + 18, top + PAD + 36 + k * 16, kind, size=10, color=MUTED)
    for i, (items, more) in enumerate(blocks):
        x0 = lay.left(i) + PAD
        y = top + PAD
        if not items:
            c.text(x0, y, "–", color="#9aa5b1")
        for r, name, stats in items:
            # Area ∝ events, so a dot's ink matches its volume; max diameter 22 px.
            area = 380 * (r["events"] or 0) / top_events
            colour = _KIND_COLOUR.get(str(r["kind"]), MUTED)
            c.point(
                x0 + 11,
                y + 8,
                max(area, 30),
                colour,
                touchpoint=r["label"] or r["touchpoint"],
                kind=r["kind"],
                events=r["events"],
                accounts=r["accounts"],
            )
            for line in name:
                c.text(x0 + 26, y, line)
                y += LINE_H
            for line in stats:
                c.text(x0 + 26, y, line, size=10, color=MUTED)
                y += LINE_H
            y += 6
        if more:
            c.text(x0 + 26, y, f"+{more} more", size=10, color=MUTED)


def _emotion_lane(lay: _Layout, cells: dict[str, list[dict[str, Any]]]) -> None:
    c = lay.canvas
    rows_by_stage = []
    for s in lay.stages:
        rows = [r for r in cells.get(s["id"], []) if r.get("nps") is not None]
        rows_by_stage.append(rows[0] if rows else None)
    has_sentiment = any(r is not None and r.get("sentiment") is not None for r in rows_by_stage)
    plot_top, plot_h = 40, 96
    labels_h = (3 if has_sentiment else 2) * 13 + PAD
    height = plot_top + plot_h + 14 + labels_h
    top = lay.lane("Emotion: NPS by stage", height)
    y_hi, y_lo = top + plot_top, top + plot_top + plot_h

    def ypx(v: float) -> float:
        v = max(-100.0, min(100.0, v))
        return y_hi + (100 - v) / 200 * (y_lo - y_hi)

    # Hints sit below the -100 label, so they never meet the axis labels.
    c.text(PAD + 2, y_lo + 12, "bar: 95 % interval", size=10, color=MUTED)
    c.text(PAD + 2, y_lo + 25, "hollow: < 30 answers", size=10, color=MUTED)
    for v in (100, 0, -100):
        c.text(
            LABEL_W - 6,
            ypx(v),
            f"{v:+d}" if v else "0",
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
            c.text(xc, y_lab, "no survey answers", size=10, color=MUTED, align="center")
            continue
        nps, n = float(r["nps"]), r.get("responses") or 0
        lo, hi = r.get("ci_low"), r.get("ci_high")
        tip = {"stage": s["label"], "nps": nps, "responses": n, "ci_low": lo, "ci_high": hi}
        if lo is not None and hi is not None:
            c.rule(xc, ypx(hi), xc, ypx(lo), "#9cc3e6", width=8, **tip)
        c.line(xc, ypx(nps), segment, NEUTRAL)
        c.point(xc, ypx(nps), 110, NEUTRAL, filled=n >= 30, **tip)
        # The numbers go in a row under the curve, one cell per stage: no overlap.
        c.text(xc, y_lab, f"NPS {nps:+.0f}", size=11, weight="bold", align="center")
        c.text(
            xc,
            y_lab + 13,
            f"n = {n:,}" + (" (few)" if n < 30 else ""),
            size=10,
            color=BAD if n < 30 else MUTED,
            align="center",
        )
        if r.get("sentiment") is not None:
            c.text(
                xc,
                y_lab + 26,
                f"sentiment {r['sentiment']:+.2f}",
                size=10,
                color=MUTED,
                align="center",
            )


def _kpi_lane(lay: _Layout, cells: dict[str, list[dict[str, Any]]], *, future: bool) -> None:
    c = lay.canvas
    width = lay.chars(11)
    blocks = []
    for s in lay.stages:
        items = []
        for r in cells.get(s["id"], []):
            name = wrap(r.get("label") or r.get("metric"), width, max_lines=3)
            target = r.get("target_text")
            gap = r.get("gap_text")
            extra = []
            if future:
                if target:
                    extra.append(f"target {target}")
                if gap:
                    extra.append(f"gap {gap}")
            elif target:
                extra.append(f"target {target}")
            extra_lines = wrap(" · ".join(extra), width, max_lines=2) if extra else []
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
    top = lay.lane("KPIs" + (": now → target" if future else ""), height)
    for i, items in enumerate(blocks):
        x0 = lay.left(i) + PAD
        x1 = lay.left(i + 1) - PAD
        y = top + PAD
        if not items:
            c.text(x0, y, "–", color="#9aa5b1")
        for r, name, extra in items:
            block_h = (len(name) + value_lines(r) + len(extra)) * LINE_H
            status = r.get("status")
            if future and status in ("at_risk", "off_track"):
                c.rect(x0 - 4, y - 2, x1 + 4, y + block_h + 2, "#fbe3d6")
            for line in name:
                c.text(x0, y, line, color=MUTED, size=10)
                y += LINE_H
            c.text(x0, y, str(r.get("value_text") or "–"), weight="bold", size=12)
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


def chart_journey_map(
    data: JourneyMapData,
    *,
    state: Literal["current", "future"] = "current",
    width: int = 1100,
    max_touchpoints: int = 5,
) -> alt.LayerChart:
    """The journey map: stages across, lanes down, laid out to never overlap.

    Lanes, top to bottom (a lane without any data is left out): stages with
    accounts reached and conversion between them; the persona's situation;
    customer actions, decisions, information needs; touchpoints (dot area =
    events, colour = direct/indirect, up to ``max_touchpoints`` per stage); the
    emotion curve (NPS per stage with its 95 % interval and the number of
    answers; hollow dots for fewer than 30 answers); pain points;
    opportunities; KPIs (value, trend, target). The future-state map shows
    each KPI's target and gap, coloured by goal status, and shades KPIs at risk
    or off track.

    Args:
        data: the frames to draw (see :class:`JourneyMapData`).
        state: 'current' or 'future'.
        width: total width in pixels (1100 fits A4 landscape).
        max_touchpoints: touchpoints shown per stage (the rest as "+n more").

    Returns:
        One layered chart of ``width`` pixels.

    Examples:
        >>> import polars as pl
        >>> stages = pl.DataFrame({"order": [1, 2], "id": ["aw", "tr"],
        ...     "label": ["Awareness", "Trial"], "reached": [100, 40],
        ...     "conversion_from_previous": [None, 0.4]})
        >>> texts = pl.DataFrame({"stage": ["aw"], "lane": ["actions"],
        ...     "text": ["Reads the blog"]})
        >>> m = chart_journey_map(JourneyMapData(stages=stages, texts=texts))
        >>> m.to_dict()["width"]
        1100
    """
    sdf = require(
        data.stages, ["order", "id", "label", "reached", "conversion_from_previous"], name="stages"
    ).sort("order")
    stages = [
        {**r, "id": str(r["id"]), "label": str(r["label"] or r["id"])}
        for r in sdf.iter_rows(named=True)
    ]
    ids = [s["id"] for s in stages]
    lay = _Layout(width, stages)
    _header(lay)

    texts = None
    lanes: list[str] = []
    if data.texts is not None:
        texts = require(data.texts, ["stage", "lane", "text"], name="texts").filter(
            pl.col("text").is_not_null() & (pl.col("text").cast(pl.String).str.strip_chars() != "")
        )
        lanes = ordered(texts["lane"].cast(pl.String).to_list())

    def lane_cells(lane: str) -> dict[str, list[dict[str, Any]]]:
        assert texts is not None
        return _cells(texts.filter(pl.col("lane") == lane), ids)

    default = "Customer journey map: " + ("future state" if state == "future" else "current state")
    map_title = data.title or default
    # Name the persona once: the situation lane and the subtitle name it only
    # when the title does not already.
    name_persona = bool(data.persona) and str(data.persona) not in map_title
    for lane in ["persona", *_BEFORE]:
        if lane in lanes:
            title = LANE_TITLES.get(lane, "Persona")
            if lane in ("persona", "situation") and name_persona:
                title = f"Persona: {data.persona}"
            cap = SITUATION_MAX_LINES if lane in ("persona", "situation") else ITEM_MAX_LINES
            _text_lane(lay, title, lane_cells(lane), max_lines=cap)
    if data.touchpoints is not None:
        tp = require(
            data.touchpoints,
            ["stage", "touchpoint", "label", "kind", "events", "accounts"],
            name="touchpoints",
        )
        if tp.height:
            _touchpoint_lane(lay, _cells(tp, ids), max_per_stage=max_touchpoints)
    if data.emotion is not None:
        em = require(
            data.emotion, ["stage", "nps", "responses", "ci_low", "ci_high"], name="emotion"
        )
        if em.filter(pl.col("nps").is_not_null()).height:
            _emotion_lane(lay, _cells(em, ids))
    rest = [ln for ln in lanes if ln not in ("persona", *_BEFORE)]
    known = [ln for ln in ("pain_points", "opportunities") if ln in rest]
    for lane in known + [ln for ln in rest if ln not in known]:
        title = LANE_TITLES.get(lane, lane.replace("_", " ").capitalize())
        _text_lane(lay, title, lane_cells(lane), marker=_LANE_MARK.get(lane))
    if data.kpis is not None:
        kp = require(
            data.kpis,
            ["stage", "metric", "label", "value_text", "trend", "target_text"],
            name="kpis",
        )
        if kp.height:
            _kpi_lane(lay, _cells(kp, ids), future=state == "future")

    subtitle = []
    if name_persona:
        subtitle.append(f"Persona: {data.persona}")
    if state == "future":
        subtitle.append(
            "KPIs show today's value beside the goal's target; shaded = at risk or off track"
        )
    tooltips = {
        "rect": [
            alt.Tooltip("stage:N", title="Stage"),
            alt.Tooltip("reached:Q", title="Accounts reached", format=","),
            alt.Tooltip("conversion:Q", title="From previous", format=".1%"),
        ],
        "point": [
            alt.Tooltip("stage:N", title="Stage"),
            alt.Tooltip("touchpoint:N", title="Touchpoint"),
            alt.Tooltip("kind:N", title="Kind"),
            alt.Tooltip("events:Q", title="Events", format=","),
            alt.Tooltip("accounts:Q", title="Accounts", format=","),
            alt.Tooltip("nps:Q", title="NPS", format="+.0f"),
            alt.Tooltip("responses:Q", title="Answers"),
            alt.Tooltip("ci_low:Q", title="95 % low", format="+.0f"),
            alt.Tooltip("ci_high:Q", title="95 % high", format="+.0f"),
        ],
        "rule": [
            alt.Tooltip("stage:N", title="Stage"),
            alt.Tooltip("nps:Q", title="NPS", format="+.0f"),
            alt.Tooltip("ci_low:Q", title="95 % low", format="+.0f"),
            alt.Tooltip("ci_high:Q", title="95 % high", format="+.0f"),
        ],
    }
    return lay.canvas.chart(
        lay.y,
        title=alt.Title(map_title, subtitle=" · ".join(subtitle) if subtitle else alt.Undefined),
        tooltips=tooltips,
    )


def chart_persona_maps(
    datas: dict[str, JourneyMapData],
    *,
    state: Literal["current", "future"] = "current",
    width: int = 1100,
) -> alt.VConcatChart:
    """One journey map per persona, stacked (persona-based maps).

    Args:
        datas: persona name → its map data (the persona name is used when the
            data has none).
        state: 'current' or 'future'.
        width: width of each map in pixels.

    Returns:
        The maps one above the other.

    Examples:
        >>> import polars as pl
        >>> st = pl.DataFrame({"order": [1], "id": ["aw"], "label": ["Awareness"],
        ...     "reached": [10], "conversion_from_previous": [None]})
        >>> maps = chart_persona_maps({"Ops": JourneyMapData(st), "Dev": JourneyMapData(st)})
        >>> len(maps.to_dict()["vconcat"])
        2
    """
    charts = []
    for persona, d in datas.items():
        if d.persona is None:
            d = JourneyMapData(
                stages=d.stages,
                touchpoints=d.touchpoints,
                emotion=d.emotion,
                texts=d.texts,
                kpis=d.kpis,
                persona=persona,
                title=d.title,
            )
        charts.append(chart_journey_map(d, state=state, width=width))
    return alt.vconcat(*charts, spacing=48)


def chart_opportunity_map(
    frame: pl.DataFrame, *, top_n: int = 15, title: str = "Opportunity map"
) -> alt.LayerChart:
    """Stage × touchpoint opportunities ranked by score (drop-off × volume × revenue).

    Args:
        frame: ``stage, touchpoint, drop_off, volume, revenue_at_risk, score``.
        top_n: how many to show.
        title: chart title.

    Returns:
        Ranked horizontal bars coloured by stage, each labelled with drop-off,
        volume and revenue at risk.

    Examples:
        >>> import polars as pl
        >>> f = pl.DataFrame({"stage": ["trial"], "touchpoint": ["setup"], "drop_off": [0.4],
        ...     "volume": [300], "revenue_at_risk": [1200.0], "score": [0.8]})
        >>> chart_opportunity_map(f).to_dict()["layer"][0]["mark"]["type"]
        'bar'
    """
    df = require(
        frame,
        ["stage", "touchpoint", "drop_off", "volume", "revenue_at_risk", "score"],
        name="frame",
    )
    df = df.sort("score", descending=True, nulls_last=True).head(top_n)
    rows = []
    for r in df.iter_rows(named=True):
        rows.append(
            {
                **r,
                "stage": str(r["stage"]),
                "name": f"{r['stage']} · {r['touchpoint']}",
                "text": f"drop-off {fmt_pct(r['drop_off'])} · {fmt_num(r['volume'])} "
                f"accounts · {fmt_num(r['revenue_at_risk'])} at risk",
            }
        )
    order = [r["name"] for r in rows]
    top = max([r["score"] or 0 for r in rows] + [1e-9])
    # The domain runs to twice the top score to leave room for the labels; the
    # ticks stop at the top score, five of them, so their labels never crowd.
    ticks = [top * k / 4 for k in range(5)]
    x = alt.X(
        "score:Q",
        title="Opportunity score",
        scale=alt.Scale(domain=[0, top * 2.1], nice=False),
        axis=alt.Axis(values=ticks, format=".3~g", labelFlush=False),
    )
    base = alt.Chart(data(rows)).encode(
        y=alt.Y("name:N", sort=order, title=None, axis=alt.Axis(labelLimit=340)),
        tooltip=[
            alt.Tooltip("stage:N", title="Stage"),
            alt.Tooltip("touchpoint:N", title="Touchpoint"),
            alt.Tooltip("drop_off:Q", title="Drop-off", format=".1%"),
            alt.Tooltip("volume:Q", title="Volume", format=","),
            alt.Tooltip("revenue_at_risk:Q", title="Revenue at risk", format=",.0f"),
            alt.Tooltip("score:Q", title="Score", format=".3g"),
        ],
    )
    bars = base.mark_bar(cornerRadiusEnd=3).encode(
        x=x, color=alt.Color("stage:N", title="Stage", sort=ordered([r["stage"] for r in rows]))
    )
    text = base.mark_text(align="left", dx=6, color=MUTED).encode(x=x, text=alt.Text("text:N"))
    return alt.layer(bars, text).properties(
        title=alt.Title(
            title, subtitle="Where to invest first: drop-off × volume × revenue at stake"
        ),
        width=640,
        height=alt.Step(28),
    )


def chart_service_blueprint(
    front: pl.DataFrame,
    back: pl.DataFrame,
    *,
    stages: list[str] | None = None,
    width: int = 1100,
    max_touchpoints: int = 5,
    title: str = "Service blueprint",
) -> alt.LayerChart:
    """Front-stage touchpoints over back-stage support work, per stage.

    Args:
        front: ``stage, touchpoint, accounts`` (what customers meet).
        back: ``stage, tickets, top_category, resolution_hours_median`` (the
            support work behind it).
        stages: stage order (default: first appearance in ``front``, then ``back``).
        width: width in pixels.
        max_touchpoints: touchpoints listed per stage.
        title: chart title.

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
    lay = _Layout(width, st)
    c = lay.canvas
    # Stage header.
    lines = [wrap(s, lay.chars(13), max_lines=2) for s in order]
    h = 2 * PAD + 16 * max([len(x) for x in lines] + [1])
    top = lay.y
    for i, ls in enumerate(lines):
        c.rect(lay.left(i) + 3, top + 3, lay.left(i + 1) - 3, top + h - 3, HEADER_BG)
        for j, line in enumerate(ls):
            c.text(lay.left(i) + PAD + 3, top + PAD + j * 16, line, size=13, weight="bold")
    c.text(PAD + 2, top + PAD, "Stage", size=12, weight="bold")
    lay.y += h
    # Front stage.
    cells = _cells(fdf.with_columns(pl.col("touchpoint").cast(pl.String)), order)
    top_acc = max([r["accounts"] or 0 for r in fdf.iter_rows(named=True)] + [1])
    width_ch = lay.chars(11, indent=30)
    blocks = []
    for s in order:
        rows = sorted(cells[s], key=lambda r: -(r["accounts"] or 0))
        items = [(r, wrap(r["touchpoint"], width_ch, max_lines=3)) for r in rows[:max_touchpoints]]
        blocks.append((items, len(rows) - len(items)))
    hs = [
        sum((len(nm) + 1) * LINE_H + 6 for _, nm in items) + (LINE_H if more else 0)
        for items, more in blocks
    ]
    ftop = lay.lane("Front stage: touchpoints customers meet", 2 * PAD + max(hs + [LINE_H]))
    for i, (items, more) in enumerate(blocks):
        x0, y = lay.left(i) + PAD, ftop + PAD
        if not items:
            c.text(x0, y, "–", color="#9aa5b1")
        for r, name in items:
            c.point(
                x0 + 11,
                y + 8,
                max(380 * (r["accounts"] or 0) / top_acc, 12),
                NEUTRAL,
                stage=r["stage"],
                touchpoint=r["touchpoint"],
                accounts=r["accounts"],
            )
            for line in name:
                c.text(x0 + 26, y, line)
                y += LINE_H
            c.text(x0 + 26, y, f"{fmt_num(r['accounts'])} accounts", size=10, color=MUTED)
            y += LINE_H + 6
        if more:
            c.text(x0 + 26, y, f"+{more} more", size=10, color=MUTED)
    # Line of visibility.
    c.rule(0, lay.y + 12, c.width, lay.y + 12, INK, dashed=True, width=1.5)
    c.text(c.width - PAD, lay.y + 15, "line of visibility", size=10, color=MUTED, align="right")
    lay.y += 30
    # Back stage.
    bcells = _cells(bdf, order)
    brows = [r for rows in bcells.values() for r in rows]
    top_t = max([r["tickets"] or 0 for r in brows] + [1])
    hours = [
        r["resolution_hours_median"] for r in brows if r["resolution_hours_median"] is not None
    ]
    slowest = max(hours) if hours else None
    # Every text is wrapped to its column: with 8 stages a column is ~120 px and
    # "median 11.0 h to resolve" on one line would run into the next stage.
    back_lines: list[list[tuple[str, dict[str, Any]]]] = []
    for s in order:
        if not bcells[s]:
            back_lines.append([("no tickets", {"color": "#9aa5b1"})])
            continue
        r = bcells[s][0]
        hrs = r["resolution_hours_median"]
        slow = hrs is not None and slowest is not None and hrs == slowest and len(hours) > 1
        lines = [(f"{fmt_num(r['tickets'])} tickets", {"weight": "bold"})]
        lines += [
            (line, {"color": MUTED})
            for line in wrap(f"top: {r['top_category'] or '–'}", lay.chars(11), max_lines=2)
        ]
        style = {"color": BAD if slow else INK, "weight": "bold" if slow else "normal", "size": 10}
        if hrs is None:
            lines.append(("median resolution –", {**style, "color": MUTED}))
        else:
            # Bold text is wider: wrap as if the font were a size larger.
            for part in (f"median {hrs:.1f} h", "to resolve"):
                lines += [(line, style) for line in wrap(part, lay.chars(11), max_lines=2)]
        back_lines.append(lines)
    n_back = max([len(x) for x in back_lines] + [5])
    btop = lay.lane("Back stage: support work", 2 * PAD + 14 + n_back * LINE_H)
    hint = wrap("tickets, top category, median resolution", chars_for(LABEL_W - 2 * PAD, 10))
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
            alt.Tooltip("stage:N", title="Stage"),
            alt.Tooltip("touchpoint:N", title="Touchpoint"),
            alt.Tooltip("accounts:Q", title="Accounts", format=","),
        ],
        "rect": [
            alt.Tooltip("stage:N", title="Stage"),
            alt.Tooltip("tickets:Q", title="Tickets", format=","),
            alt.Tooltip("top_category:N", title="Top category"),
            alt.Tooltip("hours:Q", title="Median resolution (h)", format=".1f"),
        ],
    }
    return c.chart(
        lay.y,
        title=alt.Title(
            title, subtitle="Front stage above the line of visibility, back-stage support below"
        ),
        tooltips=tooltips,
    )
