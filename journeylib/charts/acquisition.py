"""Acquisition charts: CAC by channel and attribution models side by side.

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from journeylib.charts._util import data, labelled_bars, require
from journeylib.formatting import format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _

__all__ = ["ATTRIBUTION_MODELS", "chart_attribution", "chart_cac_by_channel"]

# (column, label): the labels are English message ids, translated where drawn.
ATTRIBUTION_MODELS = [
    ("first_touch", N_("First touch")),
    ("last_touch", N_("Last touch")),
    ("linear", N_("Linear")),
    ("position_based", N_("Position-based")),
]


def chart_cac_by_channel(
    by_channel: pl.DataFrame,
    *,
    payback: float | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """Horizontal bars of CAC per channel, labelled with spend and new customers.

    A channel with no new customers has no CAC (null): it gets no bar and the
    label says so.

    Args:
        by_channel: ``channel, spend, new_customers, cac`` (other columns are ignored).
        payback: the period's CAC payback in months, shown in the subtitle.
        title: chart title (default: "Customer acquisition cost by channel").

    Returns:
        A layered bar + text chart, channels sorted by CAC.

    Examples:
        >>> import polars as pl
        >>> ch = pl.DataFrame({"channel": ["ads", "seo"], "spend": [900.0, 100.0],
        ...     "new_customers": [3, 0], "cac": [300.0, None]})
        >>> chart_cac_by_channel(ch, payback=7.5).to_dict()["title"]["subtitle"]
        'CAC payback: 7.5 months'
    """
    df = require(by_channel, ["channel", "spend", "new_customers", "cac"], name="by_channel")
    rows = []
    for r in df.iter_rows(named=True):
        counts = {
            "new": format_value(r["new_customers"], style="compact"),
            "spend": format_value(r["spend"], style="compact"),
        }
        if r["cac"] is None:
            text = _("no new customers · {new} new · spend {spend}").format(**counts)
        else:
            text = _("CAC {cac} · {new} new · spend {spend}").format(
                cac=format_value(r["cac"], style="compact"), **counts
            )
        rows.append(
            {
                **r,
                "channel": str(r["channel"]),
                "cac_or_zero": r["cac"] or 0.0,
                "text": text,
            }
        )
    rows.sort(key=lambda r: (r["cac"] is None, -(r["cac"] or 0.0)))
    top = max([r["cac_or_zero"] for r in rows] + [1.0])
    x = alt.X(
        "cac_or_zero:Q",
        title=_("CAC (spend / new customers)"),
        scale=alt.Scale(domain=[0, top * 1.9]),
    )
    tooltip = [
        alt.Tooltip("channel:N", title=_("Channel")),
        alt.Tooltip("spend:Q", title=_("Spend"), format=",.0f"),
        alt.Tooltip("new_customers:Q", title=_("New customers")),
        alt.Tooltip("cac:Q", title=_("CAC"), format=",.0f"),
    ]
    # The subtitle is a sentence: "text" style, as the metrics and goals write it.
    subtitle = (
        _("CAC payback: {months}").format(months=format_value(payback, "months"))
        if payback is not None
        else ""
    )
    if title is None:
        title = _("Customer acquisition cost by channel")
    heading = alt.Title(title, subtitle=subtitle)
    return labelled_bars(rows, "channel", x, tooltip, title=heading, step=30)


def chart_attribution(attribution: pl.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Credit per channel under the four attribution models, grouped side by side.

    Args:
        attribution: ``channel, first_touch, last_touch, linear, position_based``
            (credits, summing to the conversions under each model).
        title: chart title (default: "Conversions attributed to channels").

    Returns:
        A grouped horizontal bar chart (one colour per model).

    Examples:
        >>> import polars as pl
        >>> a = pl.DataFrame({"channel": ["ads", "seo"], "first_touch": [2.0, 1.0],
        ...     "last_touch": [1.0, 2.0], "linear": [1.5, 1.5], "position_based": [1.6, 1.4]})
        >>> len(chart_attribution(a).data["values"])
        8
    """
    cols = ["channel"] + [c for c, _label in ATTRIBUTION_MODELS]
    df = require(attribution, cols, name="attribution")
    labels = [_(label) for _col, label in ATTRIBUTION_MODELS]
    rows = []
    for r in df.iter_rows(named=True):
        for i, (col, _label) in enumerate(ATTRIBUTION_MODELS):
            rows.append(
                {
                    "channel": str(r["channel"]),
                    "model": labels[i],
                    "order": i,
                    "credit": r[col] or 0.0,
                }
            )
    totals: dict[str, float] = {}
    for r in rows:
        totals[r["channel"]] = totals.get(r["channel"], 0.0) + r["credit"]
    order = sorted(totals, key=lambda c: -totals[c])
    return (
        alt.Chart(data(rows))
        .mark_bar(cornerRadiusEnd=2)
        .encode(
            y=alt.Y("channel:N", sort=order, title=None),
            yOffset=alt.YOffset("model:N", sort=labels),
            x=alt.X("credit:Q", title=_("Conversions credited")),
            color=alt.Color(
                "model:N", title=_("Model"), sort=labels, scale=alt.Scale(domain=labels)
            ),
            tooltip=[
                alt.Tooltip("channel:N", title=_("Channel")),
                alt.Tooltip("model:N", title=_("Model")),
                alt.Tooltip("credit:Q", title=_("Conversions"), format=",.1f"),
            ],
        )
        .properties(
            title=_("Conversions attributed to channels") if title is None else title,
            width=600,
            height=alt.Step(12),
        )
    )
