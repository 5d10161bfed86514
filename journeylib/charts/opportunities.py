"""The opportunity map: where in the journey to invest first.

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from journeylib.charts._util import labelled_bars, ordered, require
from journeylib.formatting import format_value
from journeylib.i18n import gettext as _

__all__ = ["chart_opportunity_map"]


def chart_opportunity_map(
    frame: pl.DataFrame, *, top_n: int = 15, title: str | None = None
) -> alt.LayerChart:
    """Stage × touchpoint opportunities ranked by score (drop-off × volume × revenue).

    Args:
        frame: ``stage, touchpoint, drop_off, volume, revenue_at_risk, score``.
        top_n: how many to show.
        title: chart title (default: "Opportunity map").

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
                "text": _("drop-off {share} · {n} accounts · {risk} at risk").format(
                    share=format_value(r["drop_off"], "fraction", style="compact"),
                    n=format_value(r["volume"], style="compact"),
                    risk=format_value(r["revenue_at_risk"], style="compact"),
                ),
            }
        )
    top = max([r["score"] or 0 for r in rows] + [1e-9])
    # The domain runs to twice the top score to leave room for the labels; the
    # ticks stop at the top score, five of them, so their labels never crowd.
    ticks = [top * k / 4 for k in range(5)]
    x = alt.X(
        "score:Q",
        title=_("Opportunity score"),
        scale=alt.Scale(domain=[0, top * 2.1], nice=False),
        axis=alt.Axis(values=ticks, format=".3~g", labelFlush=False),
    )
    tooltip = [
        alt.Tooltip("stage:N", title=_("Stage")),
        alt.Tooltip("touchpoint:N", title=_("Touchpoint")),
        alt.Tooltip("drop_off:Q", title=_("Drop-off"), format=".1%"),
        alt.Tooltip("volume:Q", title=_("Volume"), format=","),
        alt.Tooltip("revenue_at_risk:Q", title=_("Revenue at risk"), format=",.0f"),
        alt.Tooltip("score:Q", title=_("Score"), format=".3g"),
    ]
    return labelled_bars(
        rows,
        "name",
        x,
        tooltip,
        title=alt.Title(
            _("Opportunity map") if title is None else title,
            subtitle=_("Where to invest first: drop-off × volume × revenue at stake"),
        ),
        step=28,
        axis=alt.Axis(labelLimit=340),
        color=alt.Color("stage:N", title=_("Stage"), sort=ordered([r["stage"] for r in rows])),
    )
