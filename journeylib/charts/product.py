"""Product intelligence charts: the activation finder, the health score's backtest, the anomalies.

They read :mod:`journeylib.metrics.activation`, :mod:`journeylib.metrics.health`
and :mod:`journeylib.metrics.anomalies` (analytics.md §§ 9–11).
:func:`anomaly_layer` marks flagged months on the workbench's other monthly
charts (MRR movements, NRR and GRR). Time runs left to right in every language.

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import altair as alt
import polars as pl

from journeylib.charts._util import data, note_chart, require
from journeylib.charts.theme import BAD, INK, MUTED, NEUTRAL
from journeylib.formatting import format_value
from journeylib.i18n import gettext as _
from journeylib.metrics.anomalies import WINDOW, monthly_series
from journeylib.metrics.catalog import get_metric
from journeylib.months import month_from_index, month_index

__all__ = ["anomaly_layer", "chart_activation", "chart_anomalies", "chart_health_backtest"]

#: Axis formats of the catalogue's units (d3-format).
_AXIS_FORMAT = {"fraction": "%", "currency": "~s", "count": "~s", "ratio": ".1f"}


def chart_activation(
    candidates: Sequence[Mapping[str, Any]] | pl.DataFrame,
    *,
    configured: str | None = None,
    base_rate: float | None = None,
    title: str | None = None,
) -> alt.LayerChart:
    """Precision against share of the activation finder's candidates, the best ones labelled.

    Each dot is one predictor ("did the event at least n times within d days
    of signing up"): how many sign-ups did it (x, share) and how many of those
    were retained (y, precision); its size is phi. The top candidate is
    labelled in bold, the configured activation event's best predictor in
    blue; the dashed line is the retention of all sign-ups (``base_rate``).
    A good activation moment sits high (it goes with staying) and to the right
    (many sign-ups can reach it).

    Args:
        candidates: the ``candidates`` of
            :func:`journeylib.metrics.activation.activation_candidates`.
        configured: client.yaml's ``activation.event``, highlighted.
        base_rate: retained ÷ accounts, drawn as a dashed line.
        title: chart title (default: "Which early action goes with staying").

    Returns:
        A layered scatter chart (a note when there is no candidate).

    Examples:
        >>> c = [{"event": "invite", "times": 1, "days": 7, "share": 0.3, "precision": 0.8,
        ...       "recall": 0.6, "phi": 0.5}]
        >>> chart_activation(c, base_rate=0.4).to_dict()["layer"][0]["mark"]["type"]
        'rule'
    """
    df = (
        require(
            pl.DataFrame(candidates) if not isinstance(candidates, pl.DataFrame) else candidates,
            ["event", "times", "days", "share", "precision", "recall", "phi"],
            name="candidates",
        )
        if len(candidates)
        else None
    )
    heading = _("Which early action goes with staying") if title is None else title
    if df is None or df.height == 0:
        return note_chart(_("No candidate: too few sign-ups with a known outcome.")).properties(
            title=heading
        )
    rows = []
    mine_done = False
    for i, r in enumerate(df.iter_rows(named=True)):
        label = _("{event} ≥ {times}× in {days} d").format(
            event=r["event"], times=r["times"], days=r["days"]
        )
        kind = "top" if i == 0 else "other"
        if r["event"] == configured and not mine_done:
            kind = "top" if i == 0 else "configured"
            mine_done = True
        rows.append(
            {
                **{k: r[k] for k in ("share", "precision", "recall", "phi")},
                "label": label,
                "kind": kind,
                "text": label if kind != "other" else "",
            }
        )
    kinds = ["top", "configured", "other"]
    colours = [INK, NEUTRAL, MUTED]
    base = alt.Chart(data(rows)).encode(
        x=alt.X(
            "share:Q",
            title=_("Share of sign-ups who did it"),
            axis=alt.Axis(format="%"),
            # room on the right for the labels of the dots furthest out
            scale=alt.Scale(domain=[0, min(1.0, max(r["share"] for r in rows) * 1.4)]),
        ),
        y=alt.Y(
            "precision:Q",
            title=_("Of those, share retained"),
            axis=alt.Axis(format="%"),
            scale=alt.Scale(domain=[0, 1]),
        ),
    )
    dots = base.mark_circle(opacity=0.8).encode(
        size=alt.Size("phi:Q", title=_("phi"), scale=alt.Scale(range=[30, 320]), legend=None),
        color=alt.Color("kind:N", scale=alt.Scale(domain=kinds, range=colours), legend=None),
        tooltip=[
            alt.Tooltip("label:N", title=_("Predictor")),
            alt.Tooltip("share:Q", title=_("Share of sign-ups"), format=".1%"),
            alt.Tooltip("precision:Q", title=_("Precision"), format=".1%"),
            alt.Tooltip("recall:Q", title=_("Recall"), format=".1%"),
            alt.Tooltip("phi:Q", title=_("phi"), format=".3f"),
        ],
    )
    top_label = (
        base.mark_text(align="left", dx=9, dy=-8, fontSize=12, fontWeight="bold", color=INK)
        .encode(text="text:N")
        .transform_filter(alt.datum.kind == "top")
    )
    mine_label = (
        base.mark_text(align="left", dx=9, dy=10, fontSize=12, color=NEUTRAL)
        .encode(text="text:N")
        .transform_filter(alt.datum.kind == "configured")
    )
    layers: list[Any] = []
    if base_rate is not None:
        layers.append(
            alt.Chart(data([{"y": base_rate}]))
            .mark_rule(color=MUTED, strokeDash=[4, 4])
            .encode(y=alt.Y("y:Q"))
        )
    subtitle = _("Dot size: phi. Dashed line: share of all sign-ups retained.")
    return alt.layer(*layers, dots, top_label, mine_label).properties(
        title=alt.Title(heading, subtitle=subtitle), width=560, height=250
    )


#: The score bands of the backtest chart: [lo, hi) of the score, the last band closed.
_BANDS = ((0, 20), (20, 40), (40, 60), (60, 80), (80, 100))


def chart_health_backtest(scores: pl.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Churn in the following month by health-score band, over the backtest's account-months.

    Args:
        scores: rows of :func:`journeylib.metrics.health.health_scores` with a
            known ``churned`` (the backtest months): ``score, churned``.
        title: chart title (default: "Churn the month after, by health score").

    Returns:
        Bars of the churn rate per band of 20 points (0–20 … 80–100, the last
        band includes 100), each labelled with its rate and account-months.

    Examples:
        >>> s = pl.DataFrame({"score": [10.0, 15.0, 90.0, 100.0], "churned": [True, False, False, False]})
        >>> [r["rate"] for r in chart_health_backtest(s).data["values"]]
        [0.5, None, None, None, 0.0]
    """
    df = require(scores, ["score", "churned"], name="scores").filter(
        pl.col("churned").is_not_null()
    )
    heading = _("Churn the month after, by health score") if title is None else title
    if df.height == 0:
        return note_chart(_("No backtest: no month with a known outcome.")).properties(
            title=heading
        )
    rows = []
    for lo, hi in _BANDS:
        last = hi == _BANDS[-1][1]
        band = df.filter(
            pl.col("score") >= lo, (pl.col("score") <= hi) if last else (pl.col("score") < hi)
        )
        n = band.height
        churned = int(band["churned"].sum()) if n else 0
        rate = churned / n if n else None
        rows.append(
            {
                "band": f"{lo}–{hi}",
                "rate": rate,
                "n": n,
                "text": ""
                if rate is None
                else _("{rate} of {n}").format(
                    rate=format_value(rate, "fraction"), n=format_value(n, "count")
                ),
            }
        )
    base = alt.Chart(data(rows)).encode(
        x=alt.X("band:O", title=_("Health score"), sort=[f"{lo}–{hi}" for lo, hi in _BANDS]),
        y=alt.Y("rate:Q", title=_("Churned the month after"), axis=alt.Axis(format="%")),
    )
    bars = base.mark_bar(color=BAD).encode(
        tooltip=[
            alt.Tooltip("band:O", title=_("Health score")),
            alt.Tooltip("rate:Q", title=_("Churn rate"), format=".1%"),
            alt.Tooltip("n:Q", title=_("Account-months"), format=","),
        ]
    )
    text = base.mark_text(dy=-7, color=INK, fontSize=11).encode(text="text:N")
    return alt.layer(bars, text).properties(
        title=alt.Title(
            heading,
            subtitle=_("Account-months of the last six months; lower scores should churn more"),
        ),
        width=420,
        height=200,
    )


def chart_anomalies(
    doc: Mapping[str, Any],
    anomalies: Sequence[Mapping[str, Any]] | None = None,
    *,
    currency: str | None = None,
    columns: int = 3,
    title: str | None = None,
) -> alt.VConcatChart | alt.LayerChart:
    """Each flagged metric's monthly series with the flagged months ringed and their baseline.

    One small chart per metric with a flag (:func:`journeylib.metrics.anomalies.anomalies`,
    in the order of the flags): the metric's monthly values (line and dots), each
    flagged month ringed in red with its robust z, and the baseline it was
    compared with (the median of the 6 months before) as a dashed segment over
    those months.

    Args:
        doc: the metrics document (its ``revenue.months`` and ``acquisition.months``).
        anomalies: the flags; default ``doc["anomalies"]``.
        currency: the client's currency, for the tooltips of money metrics.
        columns: small charts per row.
        title: overall title (default: "Months that stood out").

    Returns:
        The small charts, or a note when nothing was flagged.

    Examples:
        >>> months = [{"month": f"2025-{m:02d}", "cac": v}
        ...           for m, v in enumerate([100, 104, 98, 101, 99, 103, 300], 1)]
        >>> doc = {"acquisition": {"months": months}, "anomalies": [{"metric": "cac",
        ...        "month": "2025-07", "value": 300, "baseline": 100.5, "z": 67.3}]}
        >>> len(chart_anomalies(doc).to_dict()["vconcat"])
        1
    """
    flags = list(doc.get("anomalies") or [] if anomalies is None else anomalies)
    heading = _("Months that stood out") if title is None else title
    if not flags:
        return note_chart(
            _("No monthly figure stood out: every robust z is under 3.5.")
        ).properties(title=heading)
    metrics = list(dict.fromkeys(str(a["metric"]) for a in flags))
    panels = []
    for metric in metrics:
        meta = get_metric(metric)
        unit = meta.unit if meta else None
        fmt = _AXIS_FORMAT.get(unit or "", "~s")
        series = [{"month": m, "value": v} for m, v in monthly_series(doc, metric)]
        for r in series:
            r["text"] = format_value(r["value"], unit, currency=currency)
        mine = [a for a in flags if a["metric"] == metric]
        rings = [
            {
                "month": a["month"],
                "value": a["value"],
                "label": _("z {z}").format(z=format_value(a["z"], digits=1)),
            }
            for a in mine
        ]
        baseline = [
            {
                "month": month_from_index(month_index(a["month"]) - k),
                "baseline": a["baseline"],
                "flag": a["month"],
            }
            for a in mine
            for k in (WINDOW, 1)
        ]
        x = alt.X("month:O", title=None, axis=alt.Axis(labelAngle=-45))
        y = alt.Y("value:Q", title=None, axis=alt.Axis(format=fmt), scale=alt.Scale(zero=False))
        line = alt.Chart(data(series)).encode(
            x=x,
            y=y,
            tooltip=[
                alt.Tooltip("month:O", title=_("Month")),
                alt.Tooltip("text:N", title=_(meta.label) if meta else metric),
            ],
        )
        base_line = (
            alt.Chart(data(baseline))
            .mark_line(color=MUTED, strokeDash=[4, 3])
            .encode(x=x, y=alt.Y("baseline:Q"), detail="flag:N")
        )
        ring = alt.Chart(data(rings)).encode(x=x, y=alt.Y("value:Q"))
        panels.append(
            alt.layer(
                base_line,
                line.mark_line(color=NEUTRAL),
                line.mark_point(color=NEUTRAL, filled=True, size=30),
                ring.mark_point(color=BAD, size=260, strokeWidth=2.5, filled=False),
                ring.mark_text(dy=-16, color=BAD, fontWeight="bold", fontSize=11).encode(
                    text="label:N"
                ),
            ).properties(
                title=alt.Title(_(meta.label) if meta else metric, fontSize=12, anchor="start"),
                width=220 if len(metrics) > 1 else 420,
                height=150,
            )
        )
    rows = [alt.hconcat(*panels[i : i + columns]) for i in range(0, len(panels), columns)]
    return alt.vconcat(*rows).properties(
        title=alt.Title(
            heading,
            subtitle=_(
                "Ringed: a month far from the 6 before it (robust z of 3.5 or more); "
                "dashed: their median."
            ),
        )
    )


def anomaly_layer(
    anomalies: Sequence[Mapping[str, Any]] | None, metrics: Mapping[str, str], *, y: str
) -> alt.Chart | None:
    """Red rings on a monthly chart at the flagged months of the metrics it draws.

    Args:
        anomalies: the metrics document's flags.
        metrics: metric key → the label the chart gives it (the flags of the
            other metrics are left out).
        y: the name of the chart's y field (the rings share its scale).

    Returns:
        A layer to add to the chart (x ``month:O``, y the flagged value), or
        None when none of ``metrics`` is flagged.

    Examples:
        >>> flags = [{"metric": "nrr_1m", "month": "2025-08", "value": 0.9, "baseline": 1.0, "z": -5.0}]
        >>> anomaly_layer(flags, {"nrr_1m": "NRR"}, y="value").data["values"][0]["month"]
        '2025-08'
        >>> anomaly_layer(flags, {"mrr": "MRR"}, y="value") is None
        True
    """
    rows = [
        {
            "month": a["month"],
            y: a["value"],
            "label": _("{metric}: unusual month (robust z {z})").format(
                metric=metrics[a["metric"]], z=format_value(a["z"], digits=1)
            ),
        }
        for a in anomalies or []
        if a.get("metric") in metrics
    ]
    if not rows:
        return None
    return (
        alt.Chart(data(rows))
        .mark_point(color=BAD, size=300, strokeWidth=2.5, filled=False)
        .encode(
            x=alt.X("month:O"),
            y=alt.Y(f"{y}:Q"),
            tooltip=[alt.Tooltip("month:O", title=_("Month")), alt.Tooltip("label:N", title=None)],
        )
    )
