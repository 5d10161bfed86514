"""Touchpoint flow: how each touchpoint feeds the next (words in the current language)."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import polars as pl

from journeylib.charts._util import data, ordered, require
from journeylib.charts.theme import SEQUENTIAL
from journeylib.formatting import format_value
from journeylib.i18n import gettext as _

__all__ = ["chart_touchpoint_flow"]


def _share_text(share: float | None) -> str:
    """A flow's share as a chart label; a share too small to show is still a flow.

    Examples:
        >>> _share_text(0.004), _share_text(0.0001), _share_text(0.0)
        ('0.4%', '<0.1%', '0%')
    """
    text = format_value(share, "fraction", style="compact")
    # A share that rounds to 0 % is still a flow: say "<0.1%", not "0%".
    return "<0.1%" if share and share > 0 and text == "0%" else text


def chart_touchpoint_flow(
    transitions: pl.DataFrame,
    *,
    order: list[str] | None = None,
    labels: Mapping[str, str] | None = None,
    top_n: int = 16,
    title: str | None = None,
) -> alt.LayerChart:
    """Transition matrix read as a flow: from-touchpoint rows, next-touchpoint columns.

    A Sankey diagram needs a layout vega-lite does not have; a matrix whose
    rows and columns follow the journey order reads as a flow (mass above the
    diagonal = moving forward) and never overlaps.

    Args:
        transitions: ``from, to, count, share`` (share = count / all
            transitions out of ``from``).
        order: touchpoints in journey (template) order; default: by first
            appearance in ``from`` then ``to``.
        labels: touchpoint id → label shown on the axes and in tooltips (e.g.
            ``{tp.id: tp.label for tp in template.touchpoints}``). Without it,
            optional ``from_label``/``to_label`` columns are used, else the ids.
            Two ids with the same label are told apart by their id.
        top_n: keep the ``top_n`` touchpoints with most transitions.
        title: chart title (default: "Touchpoint flow").

    Returns:
        A layered rect + text chart; colour and label are the share of the row.

    Examples:
        >>> import polars as pl
        >>> t = pl.DataFrame({"from": ["site", "site", "trial"], "to": ["trial", "docs", "docs"],
        ...     "count": [30, 10, 5], "share": [0.75, 0.25, 1.0]})
        >>> chart_touchpoint_flow(t).to_dict()["layer"][0]["mark"]["type"]
        'rect'
        >>> spec = chart_touchpoint_flow(t, labels={"site": "Website"}).to_dict()
        >>> spec["layer"][0]["encoding"]["y"]["sort"]
        ['Website', 'trial', 'docs']
    """
    df = require(transitions, ["from", "to", "count", "share"], name="transitions")
    df = df.with_columns(pl.col("from").cast(pl.String), pl.col("to").cast(pl.String))
    volume: dict[str, int] = {}
    for r in df.iter_rows(named=True):
        volume[r["from"]] = volume.get(r["from"], 0) + (r["count"] or 0)
        volume[r["to"]] = volume.get(r["to"], 0) + (r["count"] or 0)
    keep = set(sorted(volume, key=lambda t: -volume[t])[:top_n])
    names = order if order is not None else ordered(df["from"].to_list() + df["to"].to_list())
    names = [n for n in names if n in keep] + sorted(keep - set(names))
    label_of = _labels(df, labels)
    shown = [label_of.get(n) or n for n in names]
    for n, lab in zip(names, shown, strict=True):
        if shown.count(lab) > 1:
            label_of[n] = f"{lab} ({n})"
    shown = [label_of.get(n) or n for n in names]
    rows = [
        {
            **r,
            "from_name": label_of.get(r["from"]) or r["from"],
            "to_name": label_of.get(r["to"]) or r["to"],
            "text": _share_text(r["share"]),
        }
        for r in df.iter_rows(named=True)
        if r["from"] in keep and r["to"] in keep
    ]
    base = alt.Chart(data(rows)).encode(
        x=alt.X(
            "to_name:N",
            sort=shown,
            title=_("Next touchpoint"),
            axis=alt.Axis(orient="top", labelAngle=-40, labelLimit=220),
        ),
        # No y title: with long labels it lands on them; the subtitle says what rows are.
        y=alt.Y("from_name:N", sort=shown, title=None, axis=alt.Axis(labelLimit=220)),
        tooltip=[
            alt.Tooltip("from_name:N", title=_("From")),
            alt.Tooltip("to_name:N", title=_("To")),
            alt.Tooltip("count:Q", title=_("Transitions"), format=","),
            alt.Tooltip("share:Q", title=_("Share of from"), format=".1%"),
        ],
    )
    rect = base.mark_rect(stroke="white", strokeWidth=1).encode(
        color=alt.Color(
            "share:Q",
            title=_("Share of the row"),
            scale=alt.Scale(scheme=SEQUENTIAL, domain=[0, 1]),
            legend=alt.Legend(format="%", gradientLength=240, values=[0, 0.25, 0.5, 0.75, 1]),
        ),
    )
    text = base.mark_text(fontSize=11).encode(
        text=alt.Text("text:N"),
        color=alt.condition("datum.share > 0.55", alt.value("white"), alt.value("#1f2933")),
    )
    return alt.layer(rect, text).properties(
        title=alt.Title(
            _("Touchpoint flow") if title is None else title,
            subtitle=_("Each row: where accounts go next from that touchpoint (columns)"),
        ),
        width=alt.Step(52),
        height=alt.Step(28),
    )


def _labels(df: pl.DataFrame, labels: Mapping[str, str] | None) -> dict[str, str]:
    """Touchpoint id → label: the ``labels`` argument, else label columns of the frame."""
    if labels is not None:
        return {str(k): str(v) for k, v in labels.items() if v}
    out: dict[str, str] = {}
    for side in ("from", "to"):
        col = f"{side}_label"
        if col in df.columns:
            for r in df.select(side, col).iter_rows():
                if r[1]:
                    out.setdefault(str(r[0]), str(r[1]))
    return out
