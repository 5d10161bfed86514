"""Funnel charts: the stage funnel, ordered (micro-journey) funnels, onboarding map.

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from journeylib.charts._util import data, labelled_bars, require
from journeylib.charts.theme import MUTED, NEUTRAL
from journeylib.formatting import format_value
from journeylib.i18n import gettext as _

__all__ = ["chart_onboarding_map", "chart_ordered_funnel", "chart_stage_funnel"]


def chart_stage_funnel(stages: pl.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Horizontal bars of accounts reaching each stage, with conversion labels.

    Args:
        stages: rows in stage order with columns ``id, label, reached,
            conversion_from_previous, median_days_from_previous``.
        title: chart title (default: "Stage funnel").

    Returns:
        A layered bar + text chart; each label reads "reached · conversion from
        the previous stage · median time from it".

    Examples:
        >>> import polars as pl
        >>> stages = pl.DataFrame({"id": ["aw", "tr"], "label": ["Awareness", "Trial"],
        ...     "reached": [100, 40], "conversion_from_previous": [None, 0.4],
        ...     "median_days_from_previous": [None, 3.5]})
        >>> chart_stage_funnel(stages).to_dict()["layer"][0]["mark"]["type"]
        'bar'
    """
    cols = ["id", "label", "reached", "conversion_from_previous", "median_days_from_previous"]
    df = require(stages, cols, name="stages")
    rows = []
    for i, r in enumerate(df.iter_rows(named=True)):
        parts = [_("{n} accounts").format(n=format_value(r["reached"], style="compact"))]
        if i > 0:
            conv = format_value(r["conversion_from_previous"], "fraction", style="compact")
            parts.append(_("{share} of previous").format(share=conv))
            days = r["median_days_from_previous"]
            if days is not None:
                median = format_value(days, "days", style="compact")
                parts.append(_("median {time}").format(time=median))
        rows.append({**r, "order": i, "stage": r["label"] or r["id"], "text": " · ".join(parts)})
    top = max([r["reached"] or 0 for r in rows] + [1])
    tooltip = [
        alt.Tooltip("stage:N", title=_("Stage")),
        alt.Tooltip("reached:Q", title=_("Accounts reached"), format=","),
        alt.Tooltip("conversion_from_previous:Q", title=_("From previous"), format=".1%"),
        alt.Tooltip("median_days_from_previous:Q", title=_("Median days"), format=".1f"),
    ]
    # Room on the right so the longest label never clips.
    x = alt.X("reached:Q", title=_("Accounts reached"), scale=alt.Scale(domain=[0, top * 1.8]))
    axis = alt.Axis(labelFontWeight=600)
    title = _("Stage funnel") if title is None else title
    return labelled_bars(rows, "stage", x, tooltip, title=title, step=34, axis=axis)


def _step_label(step: object, event: object) -> str:
    return f"{step}. {event}" if step is not None else str(event)


def chart_ordered_funnel(
    steps: pl.DataFrame,
    *,
    variants: pl.DataFrame | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """Conversion per step of an ordered funnel, or per variant arm with 95 % intervals.

    Args:
        steps: ``step, event, count, conversion, conversion_from_previous,
            median_seconds_to_convert`` (step numbered from 1).
        variants: optional ``variant, step, event, count, conversion, ci_low,
            ci_high``; when given the bars are grouped by arm with error bars.
        title: chart title (default: "Funnel"; "" for none).

    Returns:
        A layered chart (bars, labels, and error bars with variants). Labels
        give the count, the conversion from step 1 and, between steps, the
        median time to convert.

    Examples:
        >>> import polars as pl
        >>> steps = pl.DataFrame({"step": [1, 2], "event": ["signup", "invite"],
        ...     "count": [50, 20], "conversion": [1.0, 0.4],
        ...     "conversion_from_previous": [None, 0.4],
        ...     "median_seconds_to_convert": [None, 7200.0]})
        >>> chart_ordered_funnel(steps).to_dict()["layer"][0]["mark"]["type"]
        'bar'
    """
    cols = [
        "step",
        "event",
        "count",
        "conversion",
        "conversion_from_previous",
        "median_seconds_to_convert",
    ]
    df = require(steps, cols, name="steps")
    if title is None:
        title = _("Funnel")
    rows = []
    for r in df.sort("step").iter_rows(named=True):
        secs = r["median_seconds_to_convert"]
        time_txt = (
            ""
            if secs is None
            else _("median {time}").format(time=format_value(secs / 86400, "days", style="compact"))
        )
        rows.append(
            {
                **r,
                "label": _step_label(r["step"], r["event"]),
                "text": format_value(r["count"], style="compact")
                + " · "
                + format_value(r["conversion"], "fraction", style="compact"),
                "time_text": time_txt,
            }
        )
    order = [r["label"] for r in rows]
    y_scale = alt.Scale(domain=[0, 1.25])
    x = alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=160))
    if variants is None:
        base = alt.Chart(data(rows)).encode(
            x=x,
            tooltip=[
                alt.Tooltip("label:N", title=_("Step")),
                alt.Tooltip("count:Q", title=_("Accounts"), format=","),
                alt.Tooltip("conversion:Q", title=_("Conversion from step 1"), format=".1%"),
                alt.Tooltip("conversion_from_previous:Q", title=_("From previous"), format=".1%"),
                alt.Tooltip("time_text:N", title=_("Time to convert")),
            ],
        )
        y = alt.Y(
            "conversion:Q",
            title=_("Conversion from step 1"),
            scale=y_scale,
            axis=alt.Axis(format="%"),
        )
        bars = base.mark_bar(color=NEUTRAL, cornerRadiusEnd=3).encode(y=y)
        labels = base.mark_text(baseline="bottom", dy=-19, fontWeight=600).encode(
            y=y, text=alt.Text("text:N")
        )
        # Time from the previous step, on its own line just above the bar.
        times = base.mark_text(baseline="bottom", dy=-4, fontSize=11, color=MUTED).encode(
            y=y, text=alt.Text("time_text:N")
        )
        return alt.layer(bars, labels, times).properties(
            title=alt.Title(title, subtitle=_("Grey: median time from the previous step"))
            if title
            else "",
            width=alt.Step(150),
            height=300,
        )
    vdf = require(
        variants,
        ["variant", "step", "event", "count", "conversion", "ci_low", "ci_high"],
        name="variants",
    )
    vrows = [
        {
            **r,
            "label": _step_label(r["step"], r["event"]),
            "variant": str(r["variant"]),
            "text": format_value(r["conversion"], "fraction", style="compact"),
        }
        for r in vdf.sort("step", "variant").iter_rows(named=True)
    ]
    base = alt.Chart(data(vrows)).encode(
        x=x,
        xOffset=alt.XOffset("variant:N"),
        color=alt.Color("variant:N", title=_("Variant")),
        tooltip=[
            alt.Tooltip("variant:N", title=_("Variant")),
            alt.Tooltip("label:N", title=_("Step")),
            alt.Tooltip("count:Q", title=_("Accounts"), format=","),
            alt.Tooltip("conversion:Q", title=_("Conversion"), format=".1%"),
            alt.Tooltip("ci_low:Q", title=_("95 % CI low"), format=".1%"),
            alt.Tooltip("ci_high:Q", title=_("95 % CI high"), format=".1%"),
        ],
    )
    y = alt.Y(
        "conversion:Q", title=_("Conversion from step 1"), scale=y_scale, axis=alt.Axis(format="%")
    )
    bars = base.mark_bar(opacity=0.85).encode(y=y)
    err = base.mark_errorbar(ticks=True, color="black").encode(
        y=alt.Y("ci_low:Q", title=_("Conversion from step 1"), scale=y_scale),
        y2=alt.Y2(field="ci_high"),
        color=alt.value("black"),
    )
    labels = base.mark_text(baseline="bottom", dy=-2, fontSize=11).encode(
        y=alt.Y("ci_high:Q", scale=y_scale), text=alt.Text("text:N"), color=alt.value(MUTED)
    )
    return alt.layer(bars, err, labels).properties(title=title, width=alt.Step(80), height=300)


def chart_onboarding_map(steps: pl.DataFrame, *, title: str | None = None) -> alt.VConcatChart:
    """The onboarding stage zoomed into its steps: funnel over time between steps.

    Args:
        steps: an ordered funnel of the onboarding steps (columns as in
            :func:`chart_ordered_funnel`).
        title: chart title (default: "Onboarding map").

    Returns:
        The funnel above a bar chart of the median time from the previous step.

    Examples:
        >>> import polars as pl
        >>> steps = pl.DataFrame({"step": [1, 2, 3],
        ...     "event": ["signup", "first_project", "invite"], "count": [50, 30, 12],
        ...     "conversion": [1.0, 0.6, 0.24], "conversion_from_previous": [None, 0.6, 0.4],
        ...     "median_seconds_to_convert": [None, 3600.0, 86400.0]})
        >>> len(chart_onboarding_map(steps).to_dict()["vconcat"])
        2
    """
    funnel = chart_ordered_funnel(steps, title="")
    df = require(steps, ["step", "event", "median_seconds_to_convert"], name="steps")
    rows = []
    for r in df.sort("step").iter_rows(named=True):
        secs = r["median_seconds_to_convert"]
        hours = None if secs is None else secs / 3600
        rows.append(
            {
                "label": _step_label(r["step"], r["event"]),
                "hours": hours,
                "text": "" if secs is None else format_value(secs / 86400, "days", style="compact"),
            }
        )
    order = [r["label"] for r in rows]
    base = alt.Chart(data(rows)).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0, labelLimit=160)),
        tooltip=[
            alt.Tooltip("label:N", title=_("Step")),
            alt.Tooltip("hours:Q", title=_("Median hours from previous"), format=".1f"),
        ],
    )
    bars = base.mark_bar(color="#E69F00", cornerRadiusEnd=3).encode(
        y=alt.Y("hours:Q", title=_("Hours from previous"))
    )
    labels = base.mark_text(baseline="bottom", dy=-3).encode(
        y=alt.Y("hours:Q"), text=alt.Text("text:N")
    )
    times = alt.layer(bars, labels).properties(width=alt.Step(150), height=140)
    return alt.vconcat(funnel, times).properties(
        title=alt.Title(
            _("Onboarding map") if title is None else title,
            subtitle=_("Share of accounts reaching each step, and how long each step takes"),
        )
    )
