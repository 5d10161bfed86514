"""Acquisition charts: CAC by channel, attribution models side by side, CAC by model.

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import math
from typing import Any

import altair as alt
import polars as pl

from journeylib.charts._util import data, labelled_bars, note_chart, require
from journeylib.charts.theme import MUTED
from journeylib.formatting import format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _

__all__ = ["ATTRIBUTION_MODELS", "chart_attribution", "chart_cac_by_channel", "chart_cac_by_model"]

# (column, label): the labels are English message ids, translated where drawn.
ATTRIBUTION_MODELS = [
    ("first_touch", N_("First touch")),
    ("last_touch", N_("Last touch")),
    ("linear", N_("Linear")),
    ("position_based", N_("Position-based")),
    ("markov", N_("Data-driven (Markov)")),
]
# A frame from before the Markov model (an older metrics document) has the first four only.
_OPTIONAL_MODELS = {"markov"}


def _models(frame: pl.DataFrame) -> list[tuple[str, str]]:
    """The models of :data:`ATTRIBUTION_MODELS` that ``frame`` has a column for, in their order."""
    return [(c, label) for c, label in ATTRIBUTION_MODELS if c in frame.columns]


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
    """Credit per channel under the attribution models, grouped side by side.

    The five models of :data:`ATTRIBUTION_MODELS`; a frame without a ``markov``
    column (a metrics document written before the Markov model) draws the
    other four.

    Args:
        attribution: ``channel, first_touch, last_touch, linear, position_based``
            and optionally ``markov`` (credits, summing to the conversions under
            each model).
        title: chart title (default: "Conversions attributed to channels").

    Returns:
        A grouped horizontal bar chart (one colour per model), channels sorted
        by their total credit.

    Examples:
        >>> import polars as pl
        >>> a = pl.DataFrame({"channel": ["ads", "seo"], "first_touch": [2.0, 1.0],
        ...     "last_touch": [1.0, 2.0], "linear": [1.5, 1.5], "position_based": [1.6, 1.4],
        ...     "markov": [1.2, 1.8]})
        >>> len(chart_attribution(a).data["values"])
        10
        >>> len(chart_attribution(a.drop("markov")).data["values"])
        8
    """
    required = [c for c, _label in ATTRIBUTION_MODELS if c not in _OPTIONAL_MODELS]
    df = require(attribution, ["channel", *required], name="attribution")
    models = _models(df)
    labels = [_(label) for _col, label in models]
    rows = []
    for r in df.iter_rows(named=True):
        for i, (col, _label) in enumerate(models):
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
            # a thinner bar with five models: eight channels take 320 px, as four took 384
            height=alt.Step(12 if len(models) <= 4 else 8),
        )
    )


def _cac_rows(
    df: pl.DataFrame, models: list[tuple[str, str]], currency: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[str], list[str], bool]:
    """The dots and the lowest-to-highest rules of the channels drawn, and those left out.

    Returns:
        ``(dots, rules, no_spend, no_credit, partial)``: a dot per model with a
        CAC, a rule per channel drawn (top first: highest Markov CAC, then the
        channels without one by their highest CAC), the channels without spend,
        those with spend and no CAC under any model, and whether a drawn channel
        lacks a dot under some model.
    """
    labels = [_(label) for _col, label in models]
    dots: list[dict[str, Any]] = []
    rules: list[dict[str, Any]] = []
    no_spend: list[str] = []
    no_credit: list[str] = []
    partial = False
    for r in df.iter_rows(named=True):
        channel = str(r["channel"])
        spend = r["spend"]
        if spend is None or not spend > 0:  # null (no marketing), 0 or NaN: nothing bought
            no_spend.append(channel)
            continue
        cacs = [
            (i, r[col])
            for i, (col, _label) in enumerate(models)
            if r[col] is not None and math.isfinite(r[col])
        ]
        if not cacs:
            no_credit.append(channel)
            continue
        partial = partial or len(cacs) < len(models)
        spend_text = format_value(spend, "currency", currency=currency)
        for i, cac in cacs:
            dots.append(
                {
                    "channel": channel,
                    "model": labels[i],
                    "order": i,
                    "cac": cac,
                    "cac_text": format_value(cac, "currency", currency=currency),
                    "spend_text": spend_text,
                }
            )
        low = min(cacs, key=lambda m: m[1])  # ties: the first model in ATTRIBUTION_MODELS
        high = max(cacs, key=lambda m: m[1])
        rules.append(
            {
                "channel": channel,
                "low": low[1],
                "high": high[1],
                "low_model": labels[low[0]],
                "high_model": labels[high[0]],
                "markov": next((cac for i, cac in cacs if models[i][0] == "markov"), None),
                "spend_text": spend_text,
                "text": _("{lo} – {hi}").format(
                    lo=format_value(low[1], style="compact"),
                    hi=format_value(high[1], style="compact"),
                )
                if high[1] > low[1]
                else format_value(low[1], style="compact"),
            }
        )
    rules.sort(
        key=lambda r: (
            r["markov"] is None,
            -(r["markov"] if r["markov"] is not None else r["high"]),
        )
    )
    return dots, rules, no_spend, no_credit, partial


def chart_cac_by_model(
    cac_by_model: pl.DataFrame, *, currency: str, title: str | None = None
) -> alt.LayerChart:
    """How far each channel's CAC moves with the attribution model.

    A dot per model on a CAC axis, with a grey line from the channel's lowest
    CAC to its highest and the two amounts at its end; channels sorted by
    their data-driven (Markov) CAC, highest first. A model that credits the
    channel no conversion has no CAC and no dot. Channels without spend in the
    period (CAC 0 or none) and channels that no model credits are not drawn:
    the subtitle names them.

    Args:
        cac_by_model: ``channel, spend, first_touch, last_touch, linear,
            position_based`` and optionally ``markov`` (the result of
            :func:`journeylib.metrics.acquisition.cac_by_model`).
        currency: the currency of the spend, written in the axis title.
        title: chart title (default: "CAC by attribution model").

    Returns:
        A layered rule + point + text chart (one line of text when no channel
        has both spend and a CAC).

    Examples:
        >>> import polars as pl
        >>> cbm = pl.DataFrame({"channel": ["ads", "seo"], "spend": [300.0, 0.0],
        ...     "first_touch": [150.0, None], "last_touch": [300.0, 0.0],
        ...     "linear": [200.0, 0.0], "position_based": [187.5, 0.0], "markov": [250.0, 0.0]})
        >>> spec = chart_cac_by_model(cbm, currency="EUR").to_dict()
        >>> spec["title"]["subtitle"][1]
        'Not drawn, no spend in the period: seo'
    """
    required = [c for c, _label in ATTRIBUTION_MODELS if c not in _OPTIONAL_MODELS]
    df = require(cac_by_model, ["channel", "spend", *required], name="cac_by_model")
    models = _models(df)
    labels = [_(label) for _col, label in models]
    dots, rules, no_spend, no_credit, partial = _cac_rows(df, models, currency)
    subtitle = [
        _("A dot per attribution model; the grey line runs from the lowest CAC to the highest.")
    ]
    if partial:
        subtitle.append(_("A model without a dot credits the channel no conversion."))
    if no_spend:
        subtitle.append(
            _("Not drawn, no spend in the period: {channels}").format(
                channels=_(", ").join(no_spend)
            )
        )
    if no_credit:
        subtitle.append(
            _("Not drawn, no conversion credited under any model: {channels}").format(
                channels=_(", ").join(no_credit)
            )
        )
    heading = alt.Title(
        _("CAC by attribution model") if title is None else title, subtitle=subtitle
    )
    if not rules:
        note = _("No channel has both spend and credited conversions.")
        empty = note_chart(note)
        return alt.layer(empty).properties(title=heading)
    top = max(r["high"] for r in rules)
    x_title = _("CAC in {currency} (spend / credited conversions)").format(currency=currency)
    # room right of the highest dot for its label
    scale = alt.Scale(domain=[0, top * 1.3], nice=False)
    y = alt.Y(
        "channel:N",
        sort=[r["channel"] for r in rules],
        title=None,
        axis=alt.Axis(grid=True, gridDash=[2, 3], domain=False, ticks=False),
    )
    rule_tip = [
        alt.Tooltip("channel:N", title=_("Channel")),
        alt.Tooltip("spend_text:N", title=_("Spend")),
        alt.Tooltip("low_model:N", title=_("Lowest CAC under")),
        alt.Tooltip("high_model:N", title=_("Highest CAC under")),
    ]
    base = alt.Chart(data(rules)).encode(y=y, tooltip=rule_tip)
    spans = base.mark_rule(color="#b8c0c8", strokeWidth=3, strokeCap="round").encode(
        x=alt.X("low:Q", title=x_title, scale=scale, axis=alt.Axis(format=",.0f", tickCount=6)),
        x2=alt.X2("high:Q"),
    )
    ends = base.mark_text(align="left", dx=9, color=MUTED).encode(
        x=alt.X("high:Q", scale=scale), text=alt.Text("text:N")
    )
    points = (
        alt.Chart(data(dots))
        .mark_point(filled=True, size=80, opacity=0.9, stroke="white", strokeWidth=0.8)
        .encode(
            y=y,
            x=alt.X("cac:Q", scale=scale),
            color=alt.Color(
                "model:N", title=_("Model"), sort=labels, scale=alt.Scale(domain=labels)
            ),
            shape=alt.Shape(
                "model:N", title=_("Model"), sort=labels, scale=alt.Scale(domain=labels)
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("channel:N", title=_("Channel")),
                alt.Tooltip("model:N", title=_("Model")),
                alt.Tooltip("cac_text:N", title=_("CAC")),
                alt.Tooltip("spend_text:N", title=_("Spend")),
            ],
        )
    )
    return alt.layer(spans, ends, points).properties(title=heading, width=560, height=alt.Step(26))
