"""Cohort value charts: what each acquisition cohort is worth over time, and when it pays back.

Both read the ``value_curves`` rows of the metrics document
(:func:`journeylib.metrics.value.value_curves`, analytics.md § 7): one row per
cohort (first paid month) and channel, ``(all)`` first, with ``customers``,
``cac``, ``cumulative`` (gross margin per customer, month 0 … the period's end)
and ``payback_month``.

A channel's CAC over the period is the customer-weighted mean of its cohorts'
``cac`` (Σ customers × cac / Σ customers over the cohorts that have one), i.e.
its spend over those months divided by their new customers: the level its
cohorts must earn back on average. Time runs left to right in every language,
as in the workbench's other time charts (MRR, lifecycle).

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import altair as alt
import polars as pl

from journeylib.charts._util import data, note_chart, require
from journeylib.charts.theme import GOOD, INK, SEQUENTIAL
from journeylib.formatting import MISSING, format_value
from journeylib.i18n import gettext as _
from journeylib.i18n import ngettext
from journeylib.metrics.value import ALL_CHANNELS

__all__ = ["channel_cac", "chart_value_curves", "payback_table", "top_channels"]

_COLUMNS = ["cohort", "channel", "customers", "cac", "cumulative", "payback_month"]


def _rows(value_curves: Any) -> list[dict[str, Any]]:
    """The rows of a ``value_curves`` frame (or list of dicts), as dicts, in their order."""
    if isinstance(value_curves, list):
        value_curves = pl.DataFrame(value_curves, schema_overrides={"cac": pl.Float64})
    if isinstance(value_curves, pl.DataFrame) and value_curves.height == 0:
        return []
    return require(value_curves, _COLUMNS, name="value_curves").to_dicts()


def channel_cac(rows: Sequence[dict[str, Any]]) -> float | None:
    """The customer-weighted mean CAC of cohort rows (those with a ``cac``); None without any.

    Examples:
        >>> channel_cac([{"customers": 1, "cac": 100.0}, {"customers": 3, "cac": 200.0},
        ...              {"customers": 9, "cac": None}])
        175.0
    """
    known = [r for r in rows if r["cac"] is not None and r["customers"]]
    customers = sum(r["customers"] for r in known)
    if not customers:
        return None
    return sum(r["customers"] * r["cac"] for r in known) / customers


def top_channels(value_curves: Any, n: int = 3) -> list[str]:
    """The ``n`` channels with the most customers among those that spent (a ``cac`` > 0).

    Customers are counted over the cohorts with a CAC; without any spend in the
    data (no marketing table) every channel is a candidate and every cohort
    counts. Ties: the channel first in the rows' order (alphabetical).

    Examples:
        >>> rows = [{"cohort": "2024-02", "channel": c, "customers": n, "cac": cac,
        ...          "cumulative": [1.0], "payback_month": 0}
        ...         for c, n, cac in [("(all)", 9, 10.0), ("ads", 2, 40.0), ("direct", 5, 0.0),
        ...                           ("seo", 2, 5.0)]]
        >>> top_channels(rows, 2)
        ['ads', 'seo']
    """
    rows = [r for r in _rows(value_curves) if r["channel"] != ALL_CHANNELS]
    spent = {r["channel"] for r in rows if (r["cac"] or 0) > 0}
    if spent:
        rows = [r for r in rows if r["channel"] in spent and r["cac"] is not None]
    totals: dict[str, int] = {}
    for r in rows:
        totals[r["channel"]] = totals.get(r["channel"], 0) + r["customers"]
    return sorted(totals, key=lambda c: -totals[c])[:n]


def _ticks(top: float, count: int = 4) -> list[float]:
    """Round ticks from 0 to at least ``top``: a step of 1, 2, 2.5 or 5 × 10^n, about ``count``.

    The axis then ends on its top tick in every panel, so the panels' titles line up.

    Examples:
        >>> _ticks(13_513.0), _ticks(0.0)
        ([0.0, 5000.0, 10000.0, 15000.0], [0.0, 1.0])
    """
    if not top > 0:
        return [0.0, 1.0]
    raw = top / count
    power = 10 ** math.floor(math.log10(raw))
    step = next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)
    return [float(i * step) for i in range(math.ceil(top / step - 1e-9) + 1)]


def _money(value: float | None, currency: str) -> str:
    return format_value(value, "currency", style="compact", currency=currency)


def _panel_data(
    rows: list[dict[str, Any]], currency: str
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], float | None]:
    """A panel's line points (one per cohort and month k), payback dots, and its CAC."""
    points: list[dict[str, Any]] = []
    dots: list[dict[str, Any]] = []
    for r in rows:
        if r["cac"] is None:
            payback = MISSING
        elif r["payback_month"] is None:
            payback = _("not reached")
        else:
            payback = _("month {k}").format(k=format_value(r["payback_month"], "count"))
        common = {
            "cohort": r["cohort"],
            "customers": r["customers"],
            "cac_text": _money(r["cac"], currency),
            "payback_text": payback,
        }
        for k, value in enumerate(r["cumulative"] or []):
            points.append({**common, "k": k, "value": value, "value_text": _money(value, currency)})
        k = r["payback_month"]
        if r["cac"] is not None and k is not None and k < len(r["cumulative"] or []):
            value = r["cumulative"][k]
            dots.append({**common, "k": k, "value": value, "value_text": _money(value, currency)})
    return points, dots, channel_cac(rows)


def chart_value_curves(
    value_curves: Any,
    *,
    currency: str,
    channels: int = 3,
    columns: int = 2,
    title: str | None = None,
) -> alt.ConcatChart | alt.LayerChart:
    """What a customer is worth month by month, per cohort, against what it cost to acquire.

    Small multiples: all channels first, then the ``channels`` channels with the
    most customers among those with marketing spend (:func:`top_channels`),
    ``columns`` panels a row (4: one row across a wide report card). In each panel one line per cohort (customers by the month
    of their first payment): the cumulative gross margin per customer (y) after
    k months (x; month 0 is the month of the first payment), lighter for older
    cohorts, so the latest cohorts are the short dark lines. The dashed line is
    the panel's CAC over the period (:func:`channel_cac`: the customer-weighted
    mean of its cohorts' CAC); a green dot marks where a cohort's curve first
    reached its own CAC (its payback month). A curve far above the dashed line
    earns its acquisition cost back many times; a cohort without a dot has not
    paid back yet, or had no CAC (the first month of the data: customers
    acquired before it). Each panel has its own y scale.

    Args:
        value_curves: the ``value_curves`` rows of the metrics document (a frame
            or a list of dicts) with ``cohort, channel, customers, cac,
            cumulative, payback_month``.
        currency: the currency of the amounts, written in the axis title.
        channels: how many channel panels follow the all-channels one.
        columns: panels per row.
        title: chart title (default: "What a customer is worth over time").

    Returns:
        The panels (a one-line text chart when there is no cohort).

    Examples:
        >>> rows = [{"cohort": "2024-02", "channel": "(all)", "customers": 2, "cac": 75.0,
        ...          "cumulative": [37.5, 75.0], "payback_month": 1},
        ...         {"cohort": "2024-02", "channel": "ads", "customers": 2, "cac": 75.0,
        ...          "cumulative": [37.5, 75.0], "payback_month": 1}]
        >>> spec = chart_value_curves(rows, currency="EUR").to_dict()
        >>> [panel["title"]["text"] for panel in spec["concat"]]
        ['All channels (2 customers)', 'ads (2 customers)']
    """
    rows = _rows(value_curves)
    heading = alt.Title(
        _("What a customer is worth over time") if title is None else title,
        subtitle=[
            _(
                "Gross margin per customer, added up month by month since the first payment; "
                "one line per cohort (first paid month)."
            ),
            _(
                "Dashed line: CAC over the period (customer-weighted mean of the cohorts' CAC); "
                "dot: where a cohort earned back its own CAC."
            ),
        ],
    )
    if not rows:
        note = _("No cohort of paying customers in the period.")
        empty = note_chart(note)
        return alt.layer(empty).properties(title=heading)

    cohorts = sorted({r["cohort"] for r in rows})
    last_k = max(len(r["cumulative"] or []) for r in rows) - 1
    colour = alt.Color(
        "cohort:O",
        title=_("Cohort (first paid month)"),
        sort=cohorts,
        scale=alt.Scale(
            domain=cohorts, scheme=alt.SchemeParams(name=SEQUENTIAL, extent=[0.3, 1.0])
        ),
        legend=alt.Legend(columns=min(len(cohorts), 6), symbolType="stroke"),
    )
    x_title = _("Months since first payment")
    y_title = _("{currency} per customer").format(currency=currency)
    tooltip = [
        alt.Tooltip("cohort:N", title=_("Cohort")),
        alt.Tooltip("customers:Q", title=_("Customers")),
        alt.Tooltip("k:Q", title=x_title),
        alt.Tooltip("value_text:N", title=_("Gross margin per customer")),
        alt.Tooltip("cac_text:N", title=_("CAC")),
        alt.Tooltip("payback_text:N", title=_("Paid back in")),
    ]

    panels = []
    names = [ALL_CHANNELS, *top_channels(rows, channels)]
    for name in names:
        mine = [r for r in rows if r["channel"] == name]
        points, dots, cac = _panel_data(mine, currency)
        customers = sum(r["customers"] for r in mine)
        label = _("All channels") if name == ALL_CHANNELS else name
        panel_title = ngettext(
            "{channel} ({n} customer)", "{channel} ({n} customers)", customers
        ).format(channel=label, n=format_value(customers, "count"))
        # Axis titles once: the y title on the left panels, the x title on those with none below.
        i = len(panels)
        x = alt.X(
            "k:Q",
            title=x_title if i + columns >= len(names) else None,  # no panel below it
            scale=alt.Scale(domain=[0, max(last_k, 1)], nice=False),
            axis=alt.Axis(tickMinStep=1, format="d"),
        )
        ticks = _ticks(max([p["value"] for p in points] + [cac or 0.0]))
        y = alt.Y(
            "value:Q",
            title=y_title if i % columns == 0 else None,
            scale=alt.Scale(domain=[0, ticks[-1]], nice=False),
            axis=alt.Axis(
                format="~s", values=ticks, labelExpr="datum.value === 0 ? '0' : datum.label"
            ),
        )
        lines = (
            alt.Chart(data(points))
            .mark_line(strokeWidth=1.6, point=False)
            .encode(x=x, y=y, color=colour, detail="cohort:N", tooltip=tooltip)
        )
        layers: list[Any] = [lines]
        if cac is not None:
            rule_row = {"cac": cac, "text": _("CAC {cac}").format(cac=_money(cac, currency))}
            rule = alt.Chart(data([rule_row]))
            layers.append(
                rule.mark_rule(color=INK, strokeDash=[5, 4], strokeWidth=1.5).encode(y="cac:Q")
            )
            layers.append(
                rule.mark_text(
                    align="right", baseline="bottom", dy=-3, color=INK, fontSize=11
                ).encode(y="cac:Q", x=alt.datum(max(last_k, 1)), text="text:N")
            )
        if dots:
            layers.append(
                alt.Chart(data(dots))
                .mark_point(filled=True, size=45, color=GOOD, stroke="white", strokeWidth=0.8)
                .encode(x=x, y=y, tooltip=tooltip)
            )
        panels.append(
            alt.layer(*layers).properties(
                title=alt.Title(panel_title, fontSize=13), width=270, height=150
            )
        )
    return alt.concat(*panels, columns=columns, spacing={"row": 16, "column": 28}).properties(
        title=heading
    )


def payback_table(value_curves: Any) -> pl.DataFrame:
    """Payback months by channel (rows) and cohort (columns), for a table.

    One row for all channels, then one per channel by customers (most first;
    ties alphabetical). ``customers`` and ``cac`` are over the cohorts with a
    CAC (``cac``: :func:`channel_cac`). A cohort's cell is its payback month k
    as text (0 = the month of the first payment), "—" when the CAC was not
    earned back by the period's end, and empty when the channel had no customer
    in that cohort. Cohorts without any CAC (the data's first month; every
    cohort without a marketing table) have no payback and no column. Show the
    cohort columns aligned at the end of their cells, as numbers.

    Args:
        value_curves: the ``value_curves`` rows (a frame or a list of dicts).

    Returns:
        ``[channel, customers, cac, <cohort>…]``, the cohort columns in month order.

    Examples:
        >>> rows = [{"cohort": "2024-02", "channel": c, "customers": n, "cac": cac,
        ...          "cumulative": [1.0, 2.0], "payback_month": k}
        ...         for c, n, cac, k in [("(all)", 3, 1.0, 0), ("ads", 1, 3.0, None),
        ...                              ("seo", 2, 0.0, 0)]]
        >>> payback_table(rows).rows()
        [('All channels', 3, 1.0, '0'), ('seo', 2, 0.0, '0'), ('ads', 1, 3.0, '—')]
    """
    rows = _rows(value_curves)
    cohorts = sorted({r["cohort"] for r in rows if r["cac"] is not None})
    by_channel: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r["cohort"] in cohorts:
            by_channel.setdefault(r["channel"], []).append(r)

    def total(name: str) -> int:
        return sum(r["customers"] for r in by_channel[name] if r["cac"] is not None)

    channels = sorted((c for c in by_channel if c != ALL_CHANNELS), key=lambda c: (-total(c), c))
    if ALL_CHANNELS in by_channel:
        channels.insert(0, ALL_CHANNELS)
    table: dict[str, list[Any]] = {
        "channel": [_("All channels") if c == ALL_CHANNELS else c for c in channels],
        "customers": [total(c) for c in channels],
        "cac": [channel_cac(by_channel[c]) for c in channels],
    }
    for cohort in cohorts:
        cells = []
        for c in channels:
            row = next((r for r in by_channel[c] if r["cohort"] == cohort), None)
            if row is None:
                cells.append("")
            else:
                cells.append(format_value(row["payback_month"], "count"))
        table[cohort] = cells
    schema = {
        "channel": pl.String,
        "customers": pl.Int64,
        "cac": pl.Float64,
        **dict.fromkeys(cohorts, pl.String),
    }
    return pl.DataFrame(table, schema=schema)
