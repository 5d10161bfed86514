"""Persona charts: side-by-side comparison and the day-in-the-life heatmap.

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from journeylib.charts._util import data, ordered, require
from journeylib.charts.theme import SEQUENTIAL
from journeylib.formatting import format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _

__all__ = ["PERSONA_METRICS", "WEEKDAYS", "chart_day_in_life", "chart_persona_comparison"]

# (column, panel title, is a fraction); titles and weekdays are English message ids,
# translated where drawn.
PERSONA_METRICS = [
    ("accounts", N_("Accounts"), False),
    ("conversion_rate", N_("Conversion rate"), True),
    ("churn_rate", N_("Churn rate"), True),
    ("revenue_share", N_("Revenue share"), True),
]
WEEKDAYS = [N_("Mon"), N_("Tue"), N_("Wed"), N_("Thu"), N_("Fri"), N_("Sat"), N_("Sun")]


def chart_persona_comparison(
    personas: pl.DataFrame, *, title: str | None = None
) -> alt.HConcatChart:
    """One bar panel per measure (accounts, conversion, churn, revenue share), personas as rows.

    Args:
        personas: ``persona, accounts, conversion_rate, churn_rate,
            revenue_share`` (rates and share as fractions; extra columns ignored).
        title: chart title (default: "Personas compared").

    Returns:
        Four panels side by side sharing the persona axis, each bar labelled.

    Examples:
        >>> import polars as pl
        >>> p = pl.DataFrame({"persona": ["founder", "ops"], "accounts": [120, 80],
        ...     "conversion_rate": [0.2, 0.3], "churn_rate": [0.05, 0.03],
        ...     "revenue_share": [0.4, 0.6]})
        >>> len(chart_persona_comparison(p).to_dict()["hconcat"])
        4
    """
    cols = ["persona"] + [c for c, *_rest in PERSONA_METRICS]
    df = require(personas, cols, name="personas")
    df = df.with_columns(pl.col("persona").cast(pl.String).fill_null(_("(none)")))
    names = ordered(df["persona"].to_list())
    panels = []
    for i, (col, label_id, frac) in enumerate(PERSONA_METRICS):
        label = _(label_id)
        rows = [
            {
                "persona": r["persona"],
                "value": r[col],
                "text": format_value(r[col], "fraction", style="compact")
                if frac
                else format_value(r[col], style="compact"),
            }
            for r in df.iter_rows(named=True)
        ]
        top = max([r["value"] for r in rows if r["value"] is not None] + [1e-9])
        x = alt.X("value:Q", title=None, axis=None, scale=alt.Scale(domain=[0, top * 1.45]))
        base = alt.Chart(data(rows)).encode(
            y=alt.Y(
                "persona:N",
                sort=names,
                title=None,
                axis=alt.Axis(labelFontWeight=600) if i == 0 else None,
            ),
            tooltip=[
                alt.Tooltip("persona:N", title=_("Persona")),
                alt.Tooltip("value:Q", title=label, format=".1%" if frac else ","),
            ],
        )
        bars = base.mark_bar(
            color=f"{['#0072B2', '#009E73', '#D55E00', '#E69F00'][i]}", cornerRadiusEnd=3
        ).encode(x=x)
        text = base.mark_text(align="left", dx=4).encode(x=x, text=alt.Text("text:N"))
        panels.append(
            alt.layer(bars, text).properties(
                title=alt.Title(label, fontSize=13), width=170, height=alt.Step(30)
            )
        )
    if title is None:
        title = _("Personas compared")
    return alt.hconcat(*panels, spacing=12).properties(title=title)


def _weekday_name(v: object) -> str:
    """A weekday (1–7 from Monday, or an English name) as its short name in the current language."""
    if isinstance(v, int):
        # polars dt.weekday(): 1 = Monday … 7 = Sunday
        return _(WEEKDAYS[(v - 1) % 7])
    short = str(v)[:3].title()
    return _(short) if short in WEEKDAYS else short


def chart_day_in_life(activity: pl.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Weekday × hour heatmap of activity, one panel per persona.

    Colour is each cell's share of the persona's events, so personas of
    different sizes compare.

    Args:
        activity: ``persona, weekday, hour, events``; ``weekday`` as 1–7
            (Monday = 1, polars ``dt.weekday()``) or names ('Mon', 'Monday'),
            ``hour`` 0–23.
        title: chart title (default: "A day in the life: when accounts are active").

    Returns:
        A faceted rect chart (rows = personas).

    Examples:
        >>> import polars as pl
        >>> a = pl.DataFrame({"persona": ["ops", "ops"], "weekday": [1, 2], "hour": [9, 14],
        ...     "events": [30, 10]})
        >>> chart_day_in_life(a).to_dict()["spec"]["mark"]["type"]
        'rect'
    """
    df = require(activity, ["persona", "weekday", "hour", "events"], name="activity")
    df = df.with_columns(pl.col("persona").cast(pl.String).fill_null(_("(none)")))
    totals: dict[str, float] = {}
    for r in df.iter_rows(named=True):
        totals[r["persona"]] = totals.get(r["persona"], 0) + (r["events"] or 0)
    rows = [
        {
            "persona": r["persona"],
            "weekday": _weekday_name(r["weekday"]),
            "hour": int(r["hour"]),
            "events": r["events"],
            "share": (r["events"] or 0) / totals[r["persona"]] if totals[r["persona"]] else None,
        }
        for r in df.iter_rows(named=True)
    ]
    return (
        alt.Chart(data(rows))
        .mark_rect(stroke="white", strokeWidth=0.5)
        .encode(
            x=alt.X(
                "hour:O",
                title=_("Hour of day"),
                scale=alt.Scale(domain=list(range(24))),
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("weekday:O", title=None, scale=alt.Scale(domain=[_(d) for d in WEEKDAYS])),
            color=alt.Color(
                "share:Q",
                title=_("Share of events"),
                scale=alt.Scale(scheme=SEQUENTIAL),
                legend=alt.Legend(format=".1%", gradientLength=240),
            ),
            tooltip=[
                alt.Tooltip("persona:N", title=_("Persona")),
                alt.Tooltip("weekday:O", title=_("Day")),
                alt.Tooltip("hour:O", title=_("Hour")),
                alt.Tooltip("events:Q", title=_("Events"), format=","),
                alt.Tooltip("share:Q", title=_("Share"), format=".1%"),
            ],
        )
        .properties(width=alt.Step(26), height=alt.Step(20))
        .facet(
            row=alt.Row(
                "persona:N",
                title=None,
                sort=ordered([r["persona"] for r in rows]),
                header=alt.Header(
                    labelAngle=0, labelAlign="left", labelOrient="top", labelFontSize=13
                ),
            )
        )
        .properties(
            title=_("A day in the life: when accounts are active") if title is None else title
        )
    )
