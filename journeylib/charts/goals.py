"""Goal progress: how far each goal has come from its baseline towards its target.

Titles and labels are in the current language (:mod:`journeylib.i18n`); a goal
named by its metric's catalogue label is shown with the translated label.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt

from journeylib.analysis.findings import goal_label
from journeylib.charts._util import data
from journeylib.charts.theme import BAD, GOOD, MUTED
from journeylib.formatting import format_value
from journeylib.i18n import gettext as _

__all__ = ["chart_goal_progress"]

_STATUS_COLOUR = {"on_track": GOOD, "achieved": GOOD, "at_risk": "#B07800", "off_track": BAD}


def chart_goal_progress(
    goals: Sequence[Mapping[str, Any]], *, title: str | None = None
) -> alt.LayerChart:
    """Bars of each goal's progress (0 % = baseline, 100 % = target), coloured by status.

    A black tick marks the share of the goal's time already elapsed: a bar
    short of its tick is behind schedule. Progress is drawn within −50 %…150 %
    (the label gives the exact value).

    Args:
        goals: the metrics document's ``goals`` (``label`` or ``id``,
            ``progress``, ``time_elapsed``, ``status``); goals without a
            progress are left out.
        title: chart title (default: "Progress towards each goal").

    Examples:
        >>> c = chart_goal_progress([{"id": "g", "progress": 0.4, "time_elapsed": 0.5,
        ...                           "status": "at_risk"}])
        >>> [layer["mark"]["type"] for layer in c.to_dict()["layer"]]
        ['bar', 'tick', 'text']
    """
    rows = []
    for g in goals:
        progress = g.get("progress")
        if not isinstance(progress, int | float):
            continue
        status = str(g.get("status") or "unknown")
        rows.append(
            {
                "goal": str(goal_label(g)),
                "progress": max(-0.5, min(1.5, float(progress))),
                "elapsed": g.get("time_elapsed"),
                "status": status,
                "colour": _STATUS_COLOUR.get(status, MUTED),
                "text": format_value(progress, "fraction", style="compact"),
            }
        )
    names = [r["goal"] for r in rows]
    base = alt.Chart(data(rows)).encode(
        y=alt.Y("goal:N", sort=names, title=None, axis=alt.Axis(labelLimit=260))
    )
    x = alt.X(
        "progress:Q",
        title=_("Progress from baseline to target"),
        scale=alt.Scale(domain=[-0.5, 1.5], nice=False),
        axis=alt.Axis(format="%", values=[-0.5, 0, 0.5, 1, 1.5]),
    )
    bars = base.mark_bar(height=18).encode(
        x=x,
        color=alt.Color("colour:N", scale=None),
        tooltip=[
            alt.Tooltip("goal:N", title=_("goal")),
            alt.Tooltip("text:N", title=_("Progress")),
        ],
    )
    ticks = base.mark_tick(color="black", thickness=2, size=26).encode(x="elapsed:Q")
    labels = base.mark_text(align="left", dx=4).encode(x=x, text="text:N")
    return alt.layer(bars, ticks, labels).properties(
        title=_("Progress towards each goal") if title is None else title,
        width=520,
        height=max(60, 34 * len(rows)),
    )
