"""Feedback charts: NPS over tenure (words in the current language, :mod:`journeylib.i18n`)."""

from __future__ import annotations

import altair as alt
import polars as pl

from journeylib.charts._util import data, require
from journeylib.charts.theme import MUTED, NEUTRAL
from journeylib.i18n import gettext as _

__all__ = ["chart_nps_over_tenure"]


def chart_nps_over_tenure(nps: pl.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """NPS by months of tenure, points sized by responses, with a 95 % band if given.

    Args:
        nps: ``tenure_months, nps, responses``; optional ``ci_low, ci_high``.
        title: chart title (default: "NPS by tenure").

    Returns:
        A layered chart (band, line, points, zero rule); small samples show as
        small points and wide bands.

    Examples:
        >>> import polars as pl
        >>> n = pl.DataFrame({"tenure_months": [0, 1, 2], "nps": [10.0, 25.0, 30.0],
        ...     "responses": [40, 22, 9]})
        >>> chart_nps_over_tenure(n).to_dict()["layer"][0]["mark"]["type"]
        'line'
    """
    df = require(nps, ["tenure_months", "nps", "responses"], name="nps").sort("tenure_months")
    has_ci = "ci_low" in df.columns and "ci_high" in df.columns
    base = alt.Chart(data(df)).encode(
        x=alt.X(
            "tenure_months:O", title=_("Months since first payment"), axis=alt.Axis(labelAngle=0)
        ),
        tooltip=[
            alt.Tooltip("tenure_months:O", title=_("Tenure (months)")),
            alt.Tooltip("nps:Q", title=_("NPS"), format=".0f"),
            alt.Tooltip("responses:Q", title=_("Responses")),
        ]
        + (
            [
                alt.Tooltip("ci_low:Q", title=_("95 % low"), format=".0f"),
                alt.Tooltip("ci_high:Q", title=_("95 % high"), format=".0f"),
            ]
            if has_ci
            else []
        ),
    )
    y = alt.Y("nps:Q", title=_("NPS"), scale=alt.Scale(domain=[-100, 100]))
    layers = []
    if has_ci:
        layers.append(
            base.mark_area(opacity=0.18, color=NEUTRAL).encode(
                y=alt.Y("ci_low:Q", scale=alt.Scale(domain=[-100, 100]), title=_("NPS")),
                y2=alt.Y2(field="ci_high"),
            )
        )
    line = base.mark_line(color=NEUTRAL).encode(y=y)
    points = base.mark_point(filled=True, color=NEUTRAL, opacity=1).encode(
        y=y, size=alt.Size("responses:Q", title=_("Responses"), scale=alt.Scale(range=[20, 300]))
    )
    zero = (
        alt.Chart(data([{"y": 0}])).mark_rule(color=MUTED, strokeDash=[4, 4]).encode(y=alt.Y("y:Q"))
    )
    layers = [line, *layers, points, zero]
    if title is None:
        title = _("NPS by tenure")
    return alt.layer(*layers).properties(title=title, width=640, height=280)
