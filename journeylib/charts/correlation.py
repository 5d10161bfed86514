"""The funnel correlation chart: which events and account properties go with converting.

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt

from journeylib.analysis.correlation import CorrelationResult, correlation_json
from journeylib.charts._util import data, note_chart, text_width
from journeylib.charts.theme import BAD, GOOD, MUTED
from journeylib.formatting import format_p_value, format_value
from journeylib.i18n import gettext as _

__all__ = ["chart_correlation"]

#: The p-value under which a bar is drawn solid (faded above it: it could be chance).
SIGNIFICANT = 0.05


def _ratio_text(value: float) -> str:
    """An odds ratio with about two significant digits: ``0.042×``, ``2.3×``, ``721×``."""
    digits = max(0, 1 - math.floor(math.log10(value))) if value > 0 else 2
    return format_value(value, "ratio", digits=min(digits, 6))


def _rows(items: list[dict[str, Any]], label_of: Any) -> list[dict[str, Any]]:
    converting, dropping = _("Goes with converting"), _("Goes with dropping")
    solid, faded = _("p < 0.05"), _("p ≥ 0.05 (could be chance)")
    return [
        {
            "label": label_of(r),
            "odds_ratio": r["odds_ratio"],
            "one": 1.0,
            "kind": r["kind"],
            "direction": converting if r["kind"] == "success" else dropping,
            "evidence": solid if r["p_value"] < SIGNIFICANT else faded,
            "success_count": r["success_count"],
            "failure_count": r["failure_count"],
            "p_text": format_p_value(r["p_value"]),
            "text": _ratio_text(r["odds_ratio"]),
        }
        for r in items
    ]


def _ticks(reach: float) -> list[float]:
    """Tick values of a log axis from 1/reach to reach: 1, 2, 5 per decade, or decades only."""
    decades = math.ceil(math.log10(reach))
    steps = (1, 2, 5) if decades <= 2 else (1,)
    ticks = {1.0}
    for k in range(decades + 1):
        for m in steps:
            v = float(m * 10**k)
            if v <= reach:
                ticks |= {v, 1 / v}
    return sorted(ticks)


def _panel(rows: list[dict[str, Any]], title: str, label_px: int) -> alt.LayerChart:
    """One list of bars from 1 to each odds ratio, on a log axis centred at 1."""
    converting, dropping = _("Goes with converting"), _("Goes with dropping")
    solid, faded = _("p < 0.05"), _("p ≥ 0.05 (could be chance)")
    # Symmetric on the log axis, with room for the labels at both ends.
    reach = max(max(r["odds_ratio"], 1 / r["odds_ratio"]) for r in rows)
    reach = max(reach, 2.0) ** 1.3
    x = alt.X(
        "odds_ratio:Q",
        title=_("Odds ratio (log scale; 1 = no difference)"),
        scale=alt.Scale(type="log", domain=[1 / reach, reach]),
        axis=alt.Axis(format="~g", values=_ticks(reach)),
    )
    base = alt.Chart(data(rows)).encode(
        y=alt.Y(
            "label:N",
            sort=[r["label"] for r in rows],
            title=None,
            axis=alt.Axis(minExtent=label_px),  # both panels' plots start at one x
        ),
        tooltip=[
            alt.Tooltip("label:N", title=title),
            alt.Tooltip("success_count:Q", title=_("Converted with it"), format=","),
            alt.Tooltip("failure_count:Q", title=_("Dropped with it"), format=","),
            alt.Tooltip("text:N", title=_("Odds ratio")),
            alt.Tooltip("p_text:N", title=_("p-value (Fisher exact)")),
            alt.Tooltip("direction:N", title=_("Direction")),
        ],
    )
    bars = base.mark_bar(cornerRadiusEnd=3).encode(
        x=x,
        x2=alt.X2(field="one"),
        color=alt.Color(
            "direction:N",
            title=None,
            scale=alt.Scale(domain=[converting, dropping], range=[GOOD, BAD]),
        ),
        opacity=alt.Opacity(
            "evidence:N", title=None, scale=alt.Scale(domain=[solid, faded], range=[1.0, 0.35])
        ),
    )
    right = (
        base.transform_filter(alt.datum.kind == "success")
        .mark_text(align="left", dx=4, color=MUTED)
        .encode(x=x, text=alt.Text("text:N"))
    )
    left = (
        base.transform_filter(alt.datum.kind != "success")
        .mark_text(align="right", dx=-4, color=MUTED)
        .encode(x=x, text=alt.Text("text:N"))
    )
    rule = alt.Chart(data([{"odds_ratio": 1.0}])).mark_rule(color=MUTED).encode(x=x)
    return alt.layer(bars, rule, right, left).properties(
        title=alt.Title(title, fontSize=13), width=560, height=alt.Step(24)
    )


def chart_correlation(
    result: CorrelationResult | dict[str, Any], *, top: int = 10, title: str | None = None
) -> alt.VConcatChart:
    """Horizontal bars of the events and account properties that go with converting or dropping.

    The lists are those of :func:`journeylib.analysis.correlation.correlation_json`
    (items with at least 5 accounts, strongest first); the first ``top`` of
    each are drawn. A bar runs from 1 to the odds ratio on a log axis centred
    at 1: right and green when it goes with converting, left and vermillion when
    it goes with dropping; solid when the Fisher p-value is under 0.05, faded
    otherwise. The tooltip gives the counts and the p-value.

    Args:
        result: a :class:`~journeylib.analysis.correlation.CorrelationResult`
            (or its :func:`correlation_json` dict).
        top: bars per list (events, properties).
        title: chart title (default: "What goes with converting"; "" for none).

    Returns:
        The events panel above the properties panel (a panel without items is
        left out; with none at all, one line saying so).

    Examples:
        >>> doc = {"success_total": 40, "failure_total": 60, "properties": [],
        ...        "events": [{"event": "demo", "success_count": 30, "failure_count": 10,
        ...                    "odds_ratio": 12.4, "p_value": 1e-9, "kind": "success"}]}
        >>> spec = chart_correlation(doc).to_dict()
        >>> spec["vconcat"][0]["layer"][0]["encoding"]["x"]["scale"]["type"]
        'log'
    """
    doc = result if isinstance(result, dict) else correlation_json(result)
    top = max(int(top), 0)
    events = _rows(doc["events"][:top], lambda r: str(r["event"]))
    props = _rows(doc["properties"][:top], lambda r: f"{r['column']}: {r['value']}")
    if title is None:
        title = _("What goes with converting")
    subtitle = _(
        "{converted} converted, {dropped} did not; faded bars could be chance (p ≥ 0.05)"
    ).format(
        converted=format_value(doc["success_total"], "count"),
        dropped=format_value(doc["failure_total"], "count"),
    )
    heading = alt.Title(title, subtitle=subtitle) if title else alt.Title("", subtitle=subtitle)
    shown = events + props
    if not shown:
        note = _("No event or property occurs for 5 or more accounts of the funnel.")
        empty = note_chart(note)
        return alt.vconcat(empty).properties(title=heading)
    label_px = min(240, round(7.5 * max(text_width(r["label"]) for r in shown)) + 8)
    panels = []
    if events:
        panels.append(_panel(events, _("Events"), label_px))
    if props:
        panels.append(_panel(props, _("Account properties"), label_px))
    # each panel has its own odds-ratio axis: one extreme event must not flatten the properties
    return (
        alt.vconcat(*panels, spacing=24)
        .resolve_scale(x="independent", color="shared", opacity="shared")
        .properties(title=heading)
    )
