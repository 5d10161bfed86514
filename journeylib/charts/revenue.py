"""Revenue charts: MRR movements, the MRR bridge, monthly NRR and GRR.

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import polars as pl

from journeylib.charts._util import as_month, data, require
from journeylib.charts.product import anomaly_layer
from journeylib.charts.theme import BAD, GOOD, INK, MUTED, NEUTRAL
from journeylib.errors import DataError
from journeylib.formatting import format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _
from journeylib.months import month_from_index, month_index

__all__ = ["MOVEMENTS", "chart_mrr_bridge", "chart_mrr_movements", "chart_nrr_grr"]

# (column, label, colour): gains in cool colours, losses in warm ones. The labels
# are English message ids, translated where drawn.
MOVEMENTS = [
    ("new_mrr", N_("New"), "#0072B2"),
    ("reactivation_mrr", N_("Reactivation"), "#56B4E9"),
    ("expansion_mrr", N_("Expansion"), "#009E73"),
    ("contraction_mrr", N_("Contraction"), "#E69F00"),
    ("churned_mrr", N_("Churn"), "#D55E00"),
]


def chart_mrr_movements(
    months: pl.DataFrame,
    *,
    title: str | None = None,
    anomalies: Sequence[Mapping[str, Any]] | None = None,
) -> alt.LayerChart:
    """Stacked signed bars of the monthly MRR movements with the net new MRR line.

    Args:
        months: revenue months with ``month, new_mrr, expansion_mrr,
            reactivation_mrr, contraction_mrr, churned_mrr, net_new_mrr``
            (contraction and churn negative, as in metrics.md); ``mrr`` is
            shown in the tooltip when present.
        title: chart title (default: "MRR movements").
        anomalies: the metrics document's anomaly flags; a flagged month of
            the net new MRR is ringed in red (:func:`~journeylib.charts.product.anomaly_layer`).

    Returns:
        A layered chart: gains stack above zero, losses below, the net new MRR
        as a black line with points.

    Examples:
        >>> import polars as pl
        >>> months = pl.DataFrame({"month": ["2024-02"], "new_mrr": [100.0],
        ...     "expansion_mrr": [20.0], "reactivation_mrr": [0.0],
        ...     "contraction_mrr": [-10.0], "churned_mrr": [-30.0], "net_new_mrr": [80.0]})
        >>> len(chart_mrr_movements(months).layer[0].data["values"])
        5
    """
    cols = ["month"] + [m[0] for m in MOVEMENTS] + ["net_new_mrr"]
    df = as_month(require(months, cols, name="months"), "month").sort("month")
    labels = [_(m[1]) for m in MOVEMENTS]
    long = []
    for r in df.iter_rows(named=True):
        for i, (col, *_rest) in enumerate(MOVEMENTS):
            long.append(
                {"month": r["month"], "movement": labels[i], "order": i, "amount": r[col] or 0.0}
            )
    net = [
        {"month": r["month"], "net_new_mrr": r["net_new_mrr"], "mrr": r.get("mrr")}
        for r in df.iter_rows(named=True)
    ]
    x = alt.X("month:O", title=None, axis=alt.Axis(labelAngle=-45 if df.height > 12 else 0))
    bars = (
        alt.Chart(data(long))
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("amount:Q", title=_("MRR change"), stack="zero"),
            color=alt.Color(
                "movement:N",
                title=_("Movement"),
                scale=alt.Scale(domain=labels, range=[m[2] for m in MOVEMENTS]),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("month:O", title=_("Month")),
                alt.Tooltip("movement:N", title=_("Movement")),
                alt.Tooltip("amount:Q", title=_("Amount"), format=",.0f"),
            ],
        )
    )
    line_base = alt.Chart(data(net)).encode(
        x=x,
        y=alt.Y("net_new_mrr:Q"),
        tooltip=[
            alt.Tooltip("month:O", title=_("Month")),
            alt.Tooltip("net_new_mrr:Q", title=_("Net new MRR"), format=",.0f"),
            alt.Tooltip("mrr:Q", title=_("MRR"), format=",.0f"),
        ],
    )
    line = line_base.mark_line(color=INK, strokeWidth=2)
    points = line_base.mark_point(color=INK, filled=True, size=50)
    zero = alt.Chart(data([{"y": 0}])).mark_rule(color=MUTED).encode(y=alt.Y("y:Q"))
    rings = anomaly_layer(anomalies, {"net_new_mrr": _("Net new MRR")}, y="net_new_mrr")
    return alt.layer(bars, zero, line, points, *([rings] if rings else [])).properties(
        title=alt.Title(
            _("MRR movements") if title is None else title,
            subtitle=_("Bars: movements (losses below zero); line: net new MRR"),
        ),
        width=alt.Step(44) if df.height > 14 else 640,
        height=320,
    )


def chart_mrr_bridge(
    months: pl.DataFrame, *, start: str, end: str, title: str | None = None
) -> alt.LayerChart:
    """Waterfall from MRR at the end of the month before ``start`` to MRR at ``end``.

    MRR before ``start`` is ``mrr(start) − net_new_mrr(start)`` (the identity of
    metrics.md), so the frame need not hold that month.

    Args:
        months: revenue months with ``month, mrr, net_new_mrr`` and the five
            movement columns.
        start: first month of the bridge, 'YYYY-MM'.
        end: last month of the bridge, 'YYYY-MM'.
        title: chart title (default names the months: "MRR bridge 2024-01 to 2024-06").

    Returns:
        A layered chart of floating bars (opening, movements, closing) with labels.

    Examples:
        >>> import polars as pl
        >>> months = pl.DataFrame({"month": ["2024-02"], "mrr": [580.0], "new_mrr": [100.0],
        ...     "expansion_mrr": [20.0], "reactivation_mrr": [0.0],
        ...     "contraction_mrr": [-10.0], "churned_mrr": [-30.0], "net_new_mrr": [80.0]})
        >>> bars = chart_mrr_bridge(months, start="2024-02", end="2024-02")
        >>> [r["label"] for r in bars.data["values"]][::6]
        ['MRR 2024-01', 'MRR 2024-02']
    """
    cols = ["month", "mrr", "net_new_mrr"] + [m[0] for m in MOVEMENTS]
    df = as_month(require(months, cols, name="months"), "month")
    sel = df.filter((pl.col("month") >= start) & (pl.col("month") <= end)).sort("month")
    if sel.height == 0:
        raise DataError(
            "no months in the bridge range",
            where="months",
            expected=f"months between {start} and {end}",
            found=", ".join(df["month"].to_list()) or "no months",
            fix="choose start and end among the months of the frame",
        )
    first = sel.row(0, named=True)
    opening = (first["mrr"] or 0.0) - (first["net_new_mrr"] or 0.0)
    before = month_from_index(month_index(start) - 1)
    # The bar kinds in words: the legend's entries.
    balance, gain, loss = _("Balance"), _("Gain"), _("Loss")
    rows = [
        {
            "label": _("MRR {month}").format(month=before),
            "lo": 0.0,
            "hi": opening,
            "amount": opening,
            "kind": balance,
            "text": format_value(opening, style="compact"),
        }
    ]
    level = opening
    for col, label, _colour in MOVEMENTS:
        amount = float(sel[col].fill_null(0).sum())
        rows.append(
            {
                "label": _(label),
                "lo": min(level, level + amount),
                "hi": max(level, level + amount),
                "amount": amount,
                "kind": gain if amount >= 0 else loss,
                "text": ("+" if amount >= 0 else "−") + format_value(abs(amount), style="compact"),
            }
        )
        level += amount
    closing = sel.row(-1, named=True)["mrr"] or 0.0
    rows.append(
        {
            "label": _("MRR {month}").format(month=sel["month"][-1]),
            "lo": 0.0,
            "hi": closing,
            "amount": closing,
            "kind": balance,
            "text": format_value(closing, style="compact"),
        }
    )
    order = [r["label"] for r in rows]
    base = alt.Chart(data(rows)).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        tooltip=[
            alt.Tooltip("label:N", title=_("Step")),
            alt.Tooltip("amount:Q", title=_("Amount"), format=",.0f"),
        ],
    )
    bars = base.mark_bar(width=alt.RelativeBandSize(0.7)).encode(
        y=alt.Y("lo:Q", title=_("MRR")),
        y2=alt.Y2(field="hi"),
        color=alt.Color(
            "kind:N",
            title=None,
            scale=alt.Scale(domain=[balance, gain, loss], range=[NEUTRAL, GOOD, BAD]),
        ),
    )
    labels = base.mark_text(baseline="bottom", dy=-4, fontWeight=600).encode(
        y=alt.Y("hi:Q"), text=alt.Text("text:N")
    )
    return alt.layer(bars, labels).properties(
        title=title or _("MRR bridge {start} to {end}").format(start=start, end=end),
        width=alt.Step(90),
        height=320,
    )


def chart_nrr_grr(
    months: pl.DataFrame,
    *,
    title: str | None = None,
    anomalies: Sequence[Mapping[str, Any]] | None = None,
) -> alt.LayerChart:
    """Lines of monthly net and gross revenue retention, with the 100 % line.

    Args:
        months: ``month, nrr_1m, grr_1m`` (fractions; null months leave gaps).
        title: chart title (default: "Monthly NRR and GRR").
        anomalies: the metrics document's anomaly flags; flagged months of
            NRR or GRR are ringed in red (:func:`~journeylib.charts.product.anomaly_layer`).

    Returns:
        A layered line chart.

    Examples:
        >>> import polars as pl
        >>> m = pl.DataFrame({"month": ["2024-02", "2024-03"], "nrr_1m": [1.02, 0.99],
        ...     "grr_1m": [0.97, 0.95]})
        >>> chart_nrr_grr(m).to_dict()["layer"][0]["mark"]["type"]
        'line'
    """
    df = as_month(require(months, ["month", "nrr_1m", "grr_1m"], name="months"), "month")
    nrr, grr = _("NRR"), _("GRR")
    long = []
    for r in df.sort("month").iter_rows(named=True):
        long.append({"month": r["month"], "measure": nrr, "value": r["nrr_1m"]})
        long.append({"month": r["month"], "measure": grr, "value": r["grr_1m"]})
    base = alt.Chart(data(long)).encode(
        x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=-45 if df.height > 12 else 0)),
        y=alt.Y(
            "value:Q",
            title=_("Retention (1 month)"),
            axis=alt.Axis(format="%"),
            scale=alt.Scale(zero=False),
        ),
        color=alt.Color(
            "measure:N",
            title=None,
            scale=alt.Scale(domain=[nrr, grr], range=[NEUTRAL, "#E69F00"]),
        ),
        tooltip=[
            alt.Tooltip("month:O", title=_("Month")),
            alt.Tooltip("measure:N", title=_("measure")),
            alt.Tooltip("value:Q", title=_("Value"), format=".1%"),
        ],
    )
    ref = (
        alt.Chart(data([{"y": 1.0}]))
        .mark_rule(color=MUTED, strokeDash=[4, 4])
        .encode(y=alt.Y("y:Q"))
    )
    rings = anomaly_layer(anomalies, {"nrr_1m": nrr, "grr_1m": grr}, y="value")
    return alt.layer(
        base.mark_line(), base.mark_point(filled=True), ref, *([rings] if rings else [])
    ).properties(
        title=alt.Title(
            _("Monthly NRR and GRR") if title is None else title,
            subtitle=_("Dashed line: 100 % (revenue kept in full)"),
        ),
        width=640,
        height=280,
    )
