"""Cohort retention heatmaps (activity retention and revenue retention).

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import altair as alt
import polars as pl

from journeylib.charts._util import as_month, data, require
from journeylib.charts.theme import SEQUENTIAL
from journeylib.formatting import format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _

__all__ = ["chart_retention_heatmap"]

# The measure each value column holds (English message ids, translated where drawn).
_MEASURES = {
    "rate": N_("Activity retention"),
    "logo_retention": N_("Logo retention"),
    "nrr": N_("Cohort NRR"),
}


def chart_retention_heatmap(
    retention_long: pl.DataFrame,
    *,
    value: str = "rate",
    title: str | None = None,
) -> alt.LayerChart:
    """Cohort × month-k heatmap of a retention rate, each cell labelled in %.

    Args:
        retention_long: one row per cohort and month offset with ``cohort, size,
            k`` and the ``value`` column; activity retention gives ``rate``, the
            revenue view gives ``logo_retention`` and ``nrr``.
        value: the column to colour by (a fraction; NRR may exceed 1).
        title: chart title (default from ``value``: "Activity retention by cohort" …).

    Returns:
        A layered rect + text chart; rows are cohorts labelled with their size.

    Examples:
        >>> import polars as pl
        >>> r = pl.DataFrame({"cohort": ["2024-01", "2024-01", "2024-02"],
        ...     "size": [10, 10, 8], "k": [0, 1, 0], "rate": [1.0, 0.6, 1.0]})
        >>> chart_retention_heatmap(r).to_dict()["layer"][0]["mark"]["type"]
        'rect'
    """
    df = as_month(
        require(retention_long, ["cohort", "size", "k", value], name="retention_long"), "cohort"
    ).sort("cohort", "k")
    rows = []
    for r in df.iter_rows(named=True):
        v = r[value]
        rows.append(
            {
                "cohort": r["cohort"],
                "row": _("{cohort}  (n={n})").format(
                    cohort=r["cohort"], n=format_value(r["size"], style="compact")
                ),
                "k": r["k"],
                "size": r["size"],
                "value": v,
                "text": "" if v is None else format_value(v, "fraction", style="compact"),
            }
        )
    top = max([r["value"] for r in rows if r["value"] is not None] + [1.0])
    name = _(_MEASURES[value]) if value in _MEASURES else value
    order = sorted({r["row"] for r in rows})
    base = alt.Chart(data(rows)).encode(
        x=alt.X("k:O", title=_("Months since start of cohort"), axis=alt.Axis(labelAngle=0)),
        y=alt.Y("row:N", sort=order, title=None),
        tooltip=[
            alt.Tooltip("cohort:N", title=_("Cohort")),
            alt.Tooltip("size:Q", title=_("Size")),
            alt.Tooltip("k:O", title=_("Month k")),
            alt.Tooltip("value:Q", title=name, format=".1%"),
        ],
    )
    rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "value:Q",
            title=name,
            legend=alt.Legend(format="%"),
            scale=alt.Scale(scheme=SEQUENTIAL, domain=[0, top]),
        )
    )
    # Dark cells get white text so every label keeps its contrast.
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("text:N"),
        color=alt.condition(
            f"datum.value > {0.55 * top}", alt.value("white"), alt.value("#1f2933")
        ),
    )
    n_k = max(len({r["k"] for r in rows}), 1)
    return alt.layer(rect, text).properties(
        title=title or _("{name} by cohort").format(name=name),
        width=alt.Step(46) if n_k > 12 else min(640, 60 * n_k),
        height=alt.Step(24),
    )
