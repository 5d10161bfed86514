"""The journey map, current or future state, and one map per persona.

The map is laid out in pixels in Python (stages across, lanes down) and drawn
by vega-lite, so long texts wrap and no label overlaps another at A4 landscape
width (1100 px by default). The grid is :mod:`journeylib.charts._map_layout`,
the lanes :mod:`journeylib.charts._map_lanes`. Its words (title, lane titles,
hints, tooltips) are in the current language (:mod:`journeylib.i18n`), looked up
when the map is drawn.
"""

from __future__ import annotations

from typing import Any, Literal

import altair as alt
import polars as pl

from journeylib.analysis.journey_map import JourneyMapData
from journeylib.charts._map_lanes import (
    ITEM_MAX_LINES,
    SITUATION_MAX_LINES,
    emotion_lane,
    header,
    kpi_lane,
    text_lane,
    touchpoint_lane,
)
from journeylib.charts._map_layout import Layout, cells
from journeylib.charts._util import ordered, require
from journeylib.charts.theme import BAD, GOOD
from journeylib.i18n import N_, direction
from journeylib.i18n import gettext as _

__all__ = ["LANE_TITLES", "chart_journey_map", "chart_persona_maps"]

# Text lanes known to the map, in drawing order, with their titles (English, the
# message ids: translated where drawn). Touchpoints and the emotion curve go after
# "information_needs"; other lanes found in the frame are drawn after
# "opportunities", titled from their name.
LANE_TITLES = {
    "situation": N_("Persona's situation"),
    "actions": N_("Customer actions"),
    "decisions": N_("Decisions"),
    "information_needs": N_("Information needs"),
    "pain_points": N_("Pain points"),
    "opportunities": N_("Opportunities"),
}
_BEFORE = ["situation", "actions", "decisions", "information_needs"]
_LANE_MARK = {"pain_points": BAD, "opportunities": GOOD}


def chart_journey_map(
    data: JourneyMapData,
    *,
    state: Literal["current", "future"] = "current",
    width: int = 1100,
    max_touchpoints: int = 5,
    rtl: bool | None = None,
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
        rtl: lay the map out right to left (the first stage at the right edge,
            lane titles on the right); None follows the current language
            (:func:`journeylib.i18n.direction`).

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
    lay = Layout(width, stages)
    header(lay)

    texts = None
    lanes: list[str] = []
    if data.texts is not None:
        texts = require(data.texts, ["stage", "lane", "text"], name="texts").filter(
            pl.col("text").is_not_null() & (pl.col("text").cast(pl.String).str.strip_chars() != "")
        )
        lanes = ordered(texts["lane"].cast(pl.String).to_list())

    def lane_cells(lane: str) -> dict[str, list[dict[str, Any]]]:
        assert texts is not None
        return cells(texts.filter(pl.col("lane") == lane), ids)

    default = (
        _("Customer journey map: future state")
        if state == "future"
        else _("Customer journey map: current state")
    )
    map_title = data.title or default
    # Name the persona once: the situation lane and the subtitle name it only
    # when the title does not already.
    name_persona = bool(data.persona) and str(data.persona) not in map_title
    for lane in ["persona", *_BEFORE]:
        if lane in lanes:
            title = _(LANE_TITLES.get(lane, N_("Persona")))
            if lane in ("persona", "situation") and name_persona:
                title = _("Persona: {persona}").format(persona=data.persona)
            cap = SITUATION_MAX_LINES if lane in ("persona", "situation") else ITEM_MAX_LINES
            text_lane(lay, title, lane_cells(lane), max_lines=cap)
    if data.touchpoints is not None:
        tp = require(
            data.touchpoints,
            ["stage", "touchpoint", "label", "kind", "events", "accounts"],
            name="touchpoints",
        )
        if tp.height:
            touchpoint_lane(lay, cells(tp, ids), max_per_stage=max_touchpoints)
    if data.emotion is not None:
        em = require(
            data.emotion, ["stage", "nps", "responses", "ci_low", "ci_high"], name="emotion"
        )
        if em.filter(pl.col("nps").is_not_null()).height:
            emotion_lane(lay, cells(em, ids))
    rest = [ln for ln in lanes if ln not in ("persona", *_BEFORE)]
    known = [ln for ln in ("pain_points", "opportunities") if ln in rest]
    for lane in known + [ln for ln in rest if ln not in known]:
        title = _(LANE_TITLES[lane]) if lane in LANE_TITLES else lane.replace("_", " ").capitalize()
        text_lane(lay, title, lane_cells(lane), marker=_LANE_MARK.get(lane))
    if data.kpis is not None:
        kp = require(
            data.kpis,
            ["stage", "metric", "label", "value_text", "trend", "target_text"],
            name="kpis",
        )
        if kp.height:
            kpi_lane(lay, cells(kp, ids), future=state == "future")

    subtitle = []
    if name_persona:
        subtitle.append(_("Persona: {persona}").format(persona=data.persona))
    if state == "future":
        subtitle.append(
            _("KPIs show today's value beside the goal's target; shaded = at risk or off track")
        )
    tooltips = {
        "rect": [
            alt.Tooltip("stage:N", title=_("Stage")),
            alt.Tooltip("reached:Q", title=_("Accounts reached"), format=","),
            alt.Tooltip("conversion:Q", title=_("From previous"), format=".1%"),
        ],
        "point": [
            alt.Tooltip("stage:N", title=_("Stage")),
            alt.Tooltip("touchpoint:N", title=_("Touchpoint")),
            alt.Tooltip("kind:N", title=_("Kind")),
            alt.Tooltip("events:Q", title=_("Events"), format=","),
            alt.Tooltip("accounts:Q", title=_("Accounts"), format=","),
            alt.Tooltip("nps:Q", title=_("NPS"), format="+.0f"),
            alt.Tooltip("responses:Q", title=_("Answers")),
            alt.Tooltip("ci_low:Q", title=_("95 % low"), format="+.0f"),
            alt.Tooltip("ci_high:Q", title=_("95 % high"), format="+.0f"),
        ],
        "rule": [
            alt.Tooltip("stage:N", title=_("Stage")),
            alt.Tooltip("nps:Q", title=_("NPS"), format="+.0f"),
            alt.Tooltip("ci_low:Q", title=_("95 % low"), format="+.0f"),
            alt.Tooltip("ci_high:Q", title=_("95 % high"), format="+.0f"),
        ],
    }
    mirrored = direction() == "rtl" if rtl is None else rtl
    return lay.canvas.chart(
        lay.y,
        title=alt.Title(
            map_title,
            subtitle=" · ".join(subtitle) if subtitle else alt.Undefined,
            anchor="end" if mirrored else alt.Undefined,
        ),
        tooltips=tooltips,
        rtl=mirrored,
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
