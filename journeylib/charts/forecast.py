"""Retention forecast charts: cohort survival against the fitted sBG curve, and the forecast fan.

They read :mod:`journeylib.metrics.forecast` (analytics.md § 8): the survival
table with its fitted share (:func:`~journeylib.metrics.forecast.fitted_survival`)
and the result of :func:`~journeylib.metrics.forecast.retention_forecast`.
Time runs left to right in every language, as in the workbench's other time
charts (MRR, lifecycle).

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import polars as pl

from journeylib.charts._util import as_month, data, require
from journeylib.charts.theme import INK, MUTED, NEUTRAL, SEQUENTIAL
from journeylib.formatting import format_value
from journeylib.i18n import gettext as _
from journeylib.i18n import ngettext
from journeylib.months import month_from_index, month_index

__all__ = ["chart_forecast", "chart_survival", "forecast_rows"]


def chart_survival(
    survival: pl.DataFrame,
    *,
    alpha: float | None = None,
    beta: float | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """The share of each cohort still paying, month by month, against the fitted sBG curve.

    One thin line per cohort (customers by the month of their first payment),
    lighter for older cohorts: the share of its customers that have paid every
    month since (y) after t months (x; a customer's first churn ends it). The
    bold line is the survival curve S(t) of the fitted shifted-beta-geometric
    model, the one the forecast uses: where the thin lines scatter around it,
    the model reads the data well.

    Args:
        survival: the output of :func:`journeylib.metrics.forecast.fitted_survival`:
            ``cohort, t, customers, alive, survival, fitted``.
        alpha: the fitted α, written in the subtitle with ``beta``.
        beta: the fitted β.
        title: chart title (default: "Share of each cohort still paying").

    Returns:
        A layered chart of the cohorts' lines and points and the fitted line.

    Examples:
        >>> import polars as pl
        >>> s = pl.DataFrame({"cohort": ["2024-01"] * 2, "t": [0, 1], "customers": [4, 4],
        ...     "alive": [4, 2], "survival": [1.0, 0.5], "fitted": [1.0, 0.5]})
        >>> [layer["mark"]["type"] for layer in chart_survival(s).to_dict()["layer"]]
        ['line', 'point', 'line']
    """
    cols = ["cohort", "t", "customers", "alive", "survival", "fitted"]
    df = as_month(require(survival, cols, name="survival"), "cohort").sort("cohort", "t")
    rows = [
        {
            **r,
            "share_text": format_value(r["survival"], "fraction"),
            "fitted_text": format_value(r["fitted"], "fraction"),
        }
        for r in df.iter_rows(named=True)
    ]
    fitted = [
        {"t": t, "fitted": f, "fitted_text": format_value(f, "fraction")}
        for t, f in df.select("t", "fitted").unique("t").sort("t").iter_rows()
    ]
    cohorts = sorted({r["cohort"] for r in rows})
    subtitle = [
        _("Thin lines: each cohort (first paid month), the share of its customers still paying."),
        _("Bold line: the fitted model, which the forecast uses."),
    ]
    if alpha is not None and beta is not None:
        subtitle[1] = _(
            "Bold line: the fitted model (α = {alpha}, β = {beta}), which the forecast uses."
        ).format(alpha=format_value(alpha, None, digits=3), beta=format_value(beta, None, digits=3))
    x = alt.X(
        "t:Q", title=_("Months since first payment"), axis=alt.Axis(tickMinStep=1, format="d")
    )
    y = alt.Y(
        "survival:Q",
        title=_("Share still paying"),
        axis=alt.Axis(format="%"),
        scale=alt.Scale(zero=False),
    )
    base = alt.Chart(data(rows)).encode(
        x=x,
        y=y,
        color=alt.Color(
            "cohort:O",
            title=_("Cohort (first paid month)"),
            sort=cohorts,
            scale=alt.Scale(
                domain=cohorts, scheme=alt.SchemeParams(name=SEQUENTIAL, extent=[0.3, 1.0])
            ),
            legend=alt.Legend(columns=min(max(len(cohorts), 1), 6), symbolType="stroke"),
        ),
        detail="cohort:N",
        tooltip=[
            alt.Tooltip("cohort:N", title=_("Cohort")),
            alt.Tooltip("t:Q", title=_("Months since first payment")),
            alt.Tooltip("customers:Q", title=_("Customers")),
            alt.Tooltip("alive:Q", title=_("Still paying")),
            alt.Tooltip("share_text:N", title=_("Share still paying")),
            alt.Tooltip("fitted_text:N", title=_("Fitted")),
        ],
    )
    lines = base.mark_line(strokeWidth=1.2, opacity=0.8)
    points = base.mark_point(filled=True, size=18, opacity=0.8)
    model = (
        alt.Chart(data(fitted))
        .mark_line(color=INK, strokeWidth=3.5)
        .encode(
            x=x,
            y=alt.Y("fitted:Q"),
            tooltip=[
                alt.Tooltip("t:Q", title=_("Months since first payment")),
                alt.Tooltip("fitted_text:N", title=_("Fitted")),
            ],
        )
    )
    return alt.layer(lines, points, model).properties(
        title=alt.Title(
            _("Share of each cohort still paying") if title is None else title, subtitle=subtitle
        ),
        width=600,
        height=260,
    )


def forecast_rows(
    history: pl.DataFrame,
    forecast: Mapping[str, Any],
    *,
    base: float | None = None,
    currency: str = "",
    history_months: int = 12,
) -> dict[str, list[dict[str, Any]]]:
    """The rows :func:`chart_forecast` draws: the history, the forecast line and its band.

    Args:
        history: revenue months with ``month`` and ``customers`` (the metrics
            document's ``revenue.months``); the last ``history_months`` are kept.
        forecast: a result of :func:`journeylib.metrics.forecast.retention_forecast`.
        base: today's base (the customers who have never churned, at the month
            before the first forecast month): the forecast line and band start
            there; None starts them at the first forecast month.
        currency: the currency of the MRR, written in the labels.
        history_months: how many months of history to keep.

    Returns:
        ``{"history": [{month, customers}], "forecast": [{month, customers, lo,
        hi, mrr, customers_text, band_text, mrr_text, bottom}]}`` (``bottom``: the band's
        bottom, else the customers), in month order.

    Examples:
        >>> import polars as pl
        >>> hist = pl.DataFrame({"month": ["2024-11", "2024-12"], "customers": [10, 12]})
        >>> fc = {"months": [{"month": "2025-01", "customers": 9.6, "mrr": 960.0,
        ...                   "lo": 9.1, "hi": 10.2}]}
        >>> out = forecast_rows(hist, fc, base=11, currency="EUR", history_months=1)
        >>> [(r["month"], r["customers"]) for r in out["history"]]
        [('2024-12', 12)]
        >>> [(r["month"], r["customers"], r["lo"]) for r in out["forecast"]]
        [('2024-12', 11.0, 11.0), ('2025-01', 9.6, 9.1)]
        >>> out["forecast"][1]["customers_text"], out["forecast"][1]["band_text"]
        ('10', '9 – 10')
    """
    df = as_month(require(history, ["month", "customers"], name="history"), "month").sort("month")
    past = [
        {"month": r["month"], "customers": r["customers"]}
        for r in df.tail(max(history_months, 0)).select("month", "customers").iter_rows(named=True)
        if r["customers"] is not None
    ]
    ahead: list[dict[str, Any]] = []
    months = list(forecast.get("months") or [])
    if months and base is not None:
        start = month_from_index(month_index(months[0]["month"]) - 1)
        ahead.append(
            {
                "month": start,
                "customers": float(base),
                "lo": float(base),
                "hi": float(base),
                "mrr": None,
            }
        )
    ahead.extend({k: m.get(k) for k in ("month", "customers", "lo", "hi", "mrr")} for m in months)
    for r in ahead:
        r["customers_text"] = format_value(round(r["customers"]), "count")
        r["band_text"] = (
            _("{lo} – {hi}").format(
                lo=format_value(round(r["lo"]), "count"), hi=format_value(round(r["hi"]), "count")
            )
            if r["lo"] is not None and r["hi"] is not None
            else format_value(None)
        )
        r["mrr_text"] = format_value(r["mrr"], "currency", currency=currency)
        r["bottom"] = r["lo"] if r["lo"] is not None else r["customers"]
    return {"history": past, "forecast": ahead}


def chart_forecast(
    history: pl.DataFrame,
    forecast: Mapping[str, Any],
    *,
    base: float | None = None,
    currency: str = "",
    history_months: int = 12,
    title: str | None = None,
) -> alt.LayerChart:
    """Paying customers: the last months of history, then the forecast of today's base with its band.

    The solid line is the paying customers of each month of the period (the
    metrics document's ``revenue.months``); the dashed line continues from
    today's base, the customers who have never churned (reactivated customers
    are not in it, so it may start a little below the last month), as the
    fitted sBG model expects them to keep paying; the shaded area is the 90 %
    band of the forecast (5th to 95th percentile of a parametric bootstrap). The
    forecast adds no new customers: new sales come on top of it. The label at
    the end gives the last forecast month's customers and MRR; every forecast
    point has its MRR in the tooltip. The chart is short (a label each quarter)
    so that it sits beside another card of the report.

    Args:
        history: revenue months with ``month`` and ``customers``.
        forecast: a result of :func:`journeylib.metrics.forecast.retention_forecast`.
        base: today's base (see :func:`forecast_rows`).
        currency: the currency of the MRR.
        history_months: how many months of history to draw.
        title: chart title (default: "Paying customers and forecast").

    Returns:
        A layered chart: the band, a dotted rule at the last month of history, the
        history, the forecast line, its points and the end label.

    Examples:
        >>> import polars as pl
        >>> hist = pl.DataFrame({"month": ["2024-12"], "customers": [12]})
        >>> fc = {"months": [{"month": "2025-01", "customers": 9.6, "mrr": 960.0,
        ...                   "lo": 9.1, "hi": 10.2}]}
        >>> spec = chart_forecast(hist, fc, base=11, currency="EUR").to_dict()
        >>> [layer["mark"]["type"] for layer in spec["layer"]]
        ['area', 'rule', 'line', 'line', 'point', 'text']
    """
    rows = forecast_rows(
        history, forecast, base=base, currency=currency, history_months=history_months
    )
    past, ahead = rows["history"], rows["forecast"]
    order = sorted({r["month"] for r in past} | {r["month"] for r in ahead})
    x = alt.X(
        "month:O",
        sort=order,
        title=None,
        # Over a year of months: a label each quarter, level, so the chart stays short.
        axis=alt.Axis(
            labelAngle=0,
            labelExpr=(
                "indexof(['01', '04', '07', '10'], substring(datum.label, 5, 7)) >= 0 "
                "? datum.label : ''"
            )
            if len(order) > 12
            else alt.Undefined,
        ),
    )
    y_title = _("Customers")

    def y(field: str) -> alt.Y:
        return alt.Y(f"{field}:Q", title=y_title, scale=alt.Scale(zero=False))

    if base is None:
        subtitle = _("Solid: history; dashed: today's customers, no new ones; shaded: 90 % band.")
    else:
        subtitle = ngettext(
            "Solid: history; dashed: today's {base} never-churned customer, no new ones; "
            "shaded: 90 % band.",
            "Solid: history; dashed: today's {base} never-churned customers, no new ones; "
            "shaded: 90 % band.",
            round(base),
        ).format(base=format_value(round(base), "count"))
    tooltip = [
        alt.Tooltip("month:O", title=_("Month")),
        alt.Tooltip("customers_text:N", title=_("Customers (forecast)")),
        alt.Tooltip("band_text:N", title=_("90 % band")),
        alt.Tooltip("mrr_text:N", title=_("MRR (forecast)")),
    ]
    band = (
        alt.Chart(data(ahead))
        .mark_area(color=NEUTRAL, opacity=0.18)
        .encode(x=x, y=y("lo"), y2=alt.Y2("hi:Q"), tooltip=tooltip)
    )
    today = (
        alt.Chart(data([{"month": past[-1]["month"]}] if past else []))
        .mark_rule(color=MUTED, strokeDash=[2, 3])
        .encode(x=x)
    )
    line = (
        alt.Chart(data(past))
        .mark_line(color=NEUTRAL, strokeWidth=2.5)
        .encode(
            x=x,
            y=y("customers"),
            tooltip=[
                alt.Tooltip("month:O", title=_("Month")),
                alt.Tooltip("customers:Q", title=_("Paying customers")),
            ],
        )
    )
    ahead_base = alt.Chart(data(ahead)).encode(x=x, y=y("customers"), tooltip=tooltip)
    dashed = ahead_base.mark_line(color=NEUTRAL, strokeWidth=2.5, strokeDash=[6, 4])
    points = ahead_base.mark_point(color=NEUTRAL, filled=True, size=22)
    end = ahead[-1:] if ahead and ahead[-1]["mrr"] is not None else []
    label_rows = [
        {
            **r,
            "text": _("{customers} customers, {mrr} MRR").format(
                customers=r["customers_text"],
                mrr=format_value(r["mrr"], "currency", style="compact", currency=currency),
            ),
        }
        for r in end
    ]
    label = (
        alt.Chart(data(label_rows))
        .mark_text(align="right", baseline="top", dy=8, color=INK, fontWeight=600)
        .encode(x=x, y=y("bottom"), text="text:N")
    )
    return alt.layer(band, today, line, dashed, points, label).properties(
        title=alt.Title(
            _("Paying customers and forecast") if title is None else title, subtitle=subtitle
        ),
        width=600,
        height=100,
    )
