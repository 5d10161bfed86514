"""Milestone charts: time to each milestone, and retention with and without it.

Titles, labels and tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from journeylib.charts._util import data, ordered, require
from journeylib.charts.theme import BAD, GOOD, MUTED, NEUTRAL
from journeylib.formatting import format_delta, format_value
from journeylib.i18n import gettext as _

__all__ = ["chart_milestone_retention", "chart_milestone_times"]


def _reached_text(r: dict[str, Any]) -> str:
    """A milestone's label: "reached 60% (3/5) · median 4.2 d"."""
    share = format_value(r["reached"] / r["n"] if r["n"] else None, "fraction", style="compact")
    count = f"{format_value(r['reached'], style='compact')}/{format_value(r['n'], style='compact')}"
    if r["median"] is None:
        return _("reached {share} ({count})").format(share=share, count=count)
    return _("reached {share} ({count}) · median {time}").format(
        share=share, count=count, time=format_value(r["median"], "days", style="compact")
    )


def chart_milestone_times(per_account: pl.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Box plots of days to each milestone (accounts that reached it), with reached shares.

    Each box is drawn from its five numbers, computed here: the whiskers span
    the minimum and the maximum, the box the quartiles (linear interpolation,
    as Vega-Lite's own box plot), the white tick is the median. The chart
    holds one row per milestone, however many accounts there are (the raw
    days of 200,000 accounts made a 2 MB chart).

    Args:
        per_account: ``milestone, account_id, days, reached`` (bool; ``days``
            null when not reached).
        title: chart title (default: "Days from signup to each milestone").

    Returns:
        A layered box plot + text chart; the label gives the reached share.

    Examples:
        >>> import polars as pl
        >>> p = pl.DataFrame({"milestone": ["activated"] * 4, "account_id": ["a", "b", "c", "d"],
        ...     "days": [1.0, 3.0, 5.0, None], "reached": [True, True, True, False]})
        >>> spec = chart_milestone_times(p).to_dict()
        >>> [layer["mark"]["type"] for layer in spec["layer"]]
        ['rule', 'bar', 'tick', 'text']
        >>> box = spec["datasets"][spec["layer"][0]["data"]["name"]][0]
        >>> [box[k] for k in ("low", "q1", "median", "q3", "high")]
        [1.0, 2.0, 3.0, 4.0, 5.0]
    """
    df = require(per_account, ["milestone", "account_id", "days", "reached"], name="per_account")
    df = df.with_columns(pl.col("milestone").cast(pl.String))
    names = ordered(df["milestone"].to_list())
    summary = df.group_by("milestone", maintain_order=True).agg(
        n=pl.len(),
        reached=pl.col("reached").fill_null(False).sum(),
        median=pl.col("days").filter(pl.col("reached").fill_null(False)).median(),
        top=pl.col("days").filter(pl.col("reached").fill_null(False)).max(),
    )
    top_all = max([v for v in summary["top"].to_list() if v is not None] + [1.0])
    labels = [
        {
            "milestone": r["milestone"],
            "x": top_all * 1.03,
            "text": _reached_text(r),
        }
        for r in summary.iter_rows(named=True)
    ]
    days = pl.col("days")
    boxes = (
        df.filter(pl.col("reached").fill_null(False) & days.is_not_null())
        .group_by("milestone", maintain_order=True)
        .agg(
            days.min().alias("low"),
            days.quantile(0.25, interpolation="linear").alias("q1"),
            days.median().alias("median"),
            days.quantile(0.75, interpolation="linear").alias("q3"),
            days.max().alias("high"),
        )
    )
    y = alt.Y("milestone:N", sort=names, title=None)
    x_scale = alt.Scale(domain=[0, top_all * 1.75])
    x = alt.X("low:Q", title=_("Days from signup (accounts that reached it)"), scale=x_scale)
    base = alt.Chart(data(boxes)).encode(y=y)
    whisker = base.mark_rule(color=NEUTRAL).encode(x=x, x2="high:Q")
    box = base.mark_bar(size=18, color=NEUTRAL).encode(x=alt.X("q1:Q", scale=x_scale), x2="q3:Q")
    median = base.mark_tick(color="white", size=18, thickness=2).encode(
        x=alt.X("median:Q", scale=x_scale)
    )
    text = (
        alt.Chart(data(labels))
        .mark_text(align="left", color=MUTED)
        .encode(y=y, x=alt.X("x:Q", scale=x_scale), text=alt.Text("text:N"))
    )
    if title is None:
        title = _("Days from signup to each milestone")
    return alt.layer(whisker, box, median, text).properties(
        title=title, width=640, height=alt.Step(40)
    )


def chart_milestone_retention(
    milestones: pl.DataFrame, *, title: str | None = None
) -> alt.LayerChart:
    """Dumbbells of 6-month logo retention for accounts that reached each milestone or not.

    Args:
        milestones: ``id, retention_6m_reached, retention_6m_not_reached``
            (fractions, nullable); an optional ``label`` column names the rows.
        title: chart title (default: "6-month retention: reached vs not reached").

    Returns:
        A layered rule + point + text chart; green = reached, orange = not.

    Examples:
        >>> import polars as pl
        >>> m = pl.DataFrame({"id": ["activated"], "retention_6m_reached": [0.8],
        ...     "retention_6m_not_reached": [0.4]})
        >>> chart_milestone_retention(m).to_dict()["layer"][0]["mark"]["type"]
        'rule'
    """
    df = require(
        milestones, ["id", "retention_6m_reached", "retention_6m_not_reached"], name="milestones"
    )
    has_label = "label" in df.columns
    reached, not_reached = _("Reached"), _("Not reached")
    span, pts = [], []
    for r in df.iter_rows(named=True):
        name = str(r["label"] if has_label and r["label"] else r["id"])
        a, b = r["retention_6m_reached"], r["retention_6m_not_reached"]
        lift = "" if a is None or b is None else format_delta(a, b, "fraction", style="compact")
        span.append({"milestone": name, "lo": b, "hi": a, "lift": lift})
        pts.append(
            {
                "milestone": name,
                "group": reached,
                "value": a,
                "text": format_value(a, "fraction", style="compact"),
            }
        )
        pts.append(
            {
                "milestone": name,
                "group": not_reached,
                "value": b,
                "text": format_value(b, "fraction", style="compact"),
            }
        )
    names = [s["milestone"] for s in span]
    y = alt.Y("milestone:N", sort=names, title=None)
    # The domain starts a little below 0 so a 0 % dot stands clear of the axis
    # and of the row labels; ticks stay within 0-100 %.
    x_scale = alt.Scale(domain=[-0.06, 1.15], nice=False, zero=False)
    x = alt.X(
        "value:Q",
        title=_("Logo retention 6 months after first payment"),
        scale=x_scale,
        axis=alt.Axis(format="%", values=[0, 0.2, 0.4, 0.6, 0.8, 1.0]),
    )
    rule = (
        alt.Chart(data(span))
        .mark_rule(color="#cbd2d9", strokeWidth=4)
        .encode(y=y, x=alt.X("lo:Q", scale=x_scale), x2=alt.X2(field="hi"))
    )
    colour = alt.Color(
        "group:N", title=None, scale=alt.Scale(domain=[reached, not_reached], range=[GOOD, BAD])
    )
    base = alt.Chart(data(pts)).encode(
        y=y,
        x=x,
        color=colour,
        tooltip=[
            alt.Tooltip("milestone:N", title=_("Milestone")),
            alt.Tooltip("group:N", title=_("group")),
            alt.Tooltip("value:Q", title=_("6-month retention"), format=".1%"),
        ],
    )
    points = base.mark_point(filled=True, size=140, opacity=1)
    text = base.mark_text(dy=-14, fontSize=11).encode(text=alt.Text("text:N"))
    lift = (
        alt.Chart(data(span))
        .mark_text(align="left", dx=13, color=MUTED)
        .encode(y=y, x=alt.X("hi:Q", scale=x_scale), text=alt.Text("lift:N"))
    )
    return alt.layer(rule, points, text, lift).properties(
        title=_("6-month retention: reached vs not reached") if title is None else title,
        width=600,
        height=alt.Step(44),
    )
