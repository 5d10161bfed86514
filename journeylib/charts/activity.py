"""Account activity charts: the lifecycle of active accounts and their stickiness.

They draw the frames of :mod:`journeylib.metrics.activity`. Titles, labels and
tooltips are in the current language (:mod:`journeylib.i18n`).
"""

from __future__ import annotations

import calendar
from typing import Any

import altair as alt
import polars as pl

from journeylib.charts._util import data, require
from journeylib.charts.theme import BAD, GOOD, INK, NEUTRAL, PALETTE
from journeylib.formatting import format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _

__all__ = ["LIFECYCLE_STATUSES", "chart_lifecycle", "chart_stickiness"]

#: (column, label, colour) of each lifecycle status, in stacking order: growth in cool
#: colours above zero, the accounts lost in a warm one below. Labels are English message
#: ids, translated where drawn.
LIFECYCLE_STATUSES = [
    ("new", N_("New"), NEUTRAL),
    ("returning", N_("Returning"), GOOD),
    ("resurrecting", N_("Resurrecting"), PALETTE[5]),
    ("dormant", N_("Dormant"), BAD),
]

#: Buckets drawn in the default 640-pixel width; more get 5 pixels each (a year of days).
_FIT_BUCKETS = 128


def chart_lifecycle(frame: pl.DataFrame, *, title: str | None = None) -> alt.LayerChart:
    """Diverging stacked bars of the lifecycle: new, returning, resurrecting up, dormant down.

    Args:
        frame: the result of :func:`journeylib.metrics.activity.lifecycle`
            (``start, new, returning, resurrecting, dormant``; dormant negative).
        title: chart title (default: "Lifecycle of active accounts").

    Returns:
        A layered chart: one bar per bucket, its statuses stacked above zero
        (the accounts active in the bucket) and the dormant accounts below.

    Examples:
        >>> import polars as pl
        >>> f = pl.DataFrame({"start": ["2024-01-01", "2024-01-08"], "new": [5, 2],
        ...     "returning": [0, 4], "resurrecting": [0, 1], "dormant": [0, -1]})
        >>> len(chart_lifecycle(f).layer[0].data["values"])
        8
    """
    cols = ["start"] + [s[0] for s in LIFECYCLE_STATUSES]
    df = require(frame, cols, name="lifecycle").sort("start")
    labels = [_(s[1]) for s in LIFECYCLE_STATUSES]
    rows: list[dict[str, Any]] = []
    for r in df.iter_rows(named=True):
        for i, (col, *_rest) in enumerate(LIFECYCLE_STATUSES):
            count = int(r[col] or 0)
            rows.append(
                {
                    "start": r["start"],
                    "status": labels[i],
                    "order": i,
                    "count": count,
                    "accounts": abs(count),
                }
            )
    n = df.height
    x = alt.X(
        "start:O",
        title=None,
        axis=alt.Axis(labelAngle=-45 if n > 12 else 0, labelOverlap=True),
    )
    bars = (
        alt.Chart(data(rows))
        .mark_bar()
        .encode(
            x=x,
            y=alt.Y("count:Q", title=_("Accounts"), stack="zero"),
            color=alt.Color(
                "status:N",
                title=_("Status"),
                scale=alt.Scale(domain=labels, range=[s[2] for s in LIFECYCLE_STATUSES]),
            ),
            order=alt.Order("order:Q"),
            tooltip=[
                alt.Tooltip("start:O", title=_("Period starting")),
                alt.Tooltip("status:N", title=_("Status")),
                alt.Tooltip("accounts:Q", title=_("Accounts"), format=",d"),
            ],
        )
    )
    zero = alt.Chart(data([{"y": 0}])).mark_rule(color=INK).encode(y=alt.Y("y:Q"))
    return alt.layer(bars, zero).properties(
        title=alt.Title(
            _("Lifecycle of active accounts") if title is None else title,
            subtitle=_(
                "New, returning and resurrecting accounts above zero; dormant accounts below"
            ),
        ),
        width=640 if n <= _FIT_BUCKETS else alt.Step(5),
        height=320,
    )


def chart_stickiness(frame: pl.DataFrame, *, title: str | None = None) -> alt.VConcatChart:
    """How many days a month accounts are active, and DAU/MAU by month.

    Args:
        frame: the result of :func:`journeylib.metrics.activity.stickiness`
            (``month, active_accounts, dau_mau, days``).
        title: chart title (default: "Stickiness").

    Returns:
        Above: the active accounts of the latest month with activity by their
        number of days active in it (1 to the month's length). Below: DAU/MAU
        by month (a gap where a month has no active account).

    Examples:
        >>> import polars as pl
        >>> f = pl.DataFrame({"month": ["2024-01", "2024-02"], "active_accounts": [3, 2],
        ...     "dau_mau": [0.1, 0.25], "days": [[2, 1] + [0] * 29, [1, 0, 1] + [0] * 28]})
        >>> spec = chart_stickiness(f).to_dict()
        >>> len(spec["vconcat"]), spec["vconcat"][0]["title"]
        (2, 'Days active in 2024-02')
    """
    df = require(frame, ["month", "active_accounts", "dau_mau", "days"], name="stickiness")
    df = df.sort("month")
    active = df.filter(pl.col("active_accounts") > 0)
    latest = active.row(-1, named=True) if active.height else None
    hist: list[dict[str, Any]] = []
    if latest is not None:
        total = latest["active_accounts"]
        length = _month_length(latest["month"])
        for k, accounts in enumerate(latest["days"][:length], start=1):
            hist.append({"days": k, "accounts": accounts, "share": accounts / total})
    month = latest["month"] if latest is not None else "—"
    bars = (
        alt.Chart(data(hist))
        .mark_bar(color=NEUTRAL, cornerRadiusEnd=2)
        .encode(
            x=alt.X(
                "days:O",
                title=_("Days active in the month"),
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y("accounts:Q", title=_("Accounts")),
            tooltip=[
                alt.Tooltip("days:O", title=_("Days active")),
                alt.Tooltip("accounts:Q", title=_("Accounts"), format=",d"),
                alt.Tooltip("share:Q", title=_("Share of active accounts"), format=".1%"),
            ],
        )
        .properties(title=_("Days active in {month}").format(month=month), width=640, height=200)
    )
    trend_rows = [
        {
            "month": r["month"],
            "dau_mau": r["dau_mau"],
            "active_accounts": r["active_accounts"],
        }
        for r in df.iter_rows(named=True)
    ]
    base = alt.Chart(data(trend_rows)).encode(
        x=alt.X("month:O", title=None, axis=alt.Axis(labelAngle=-45 if df.height > 12 else 0)),
        y=alt.Y("dau_mau:Q", title=_("DAU/MAU"), axis=alt.Axis(format="%")),
        tooltip=[
            alt.Tooltip("month:O", title=_("Month")),
            alt.Tooltip("dau_mau:Q", title=_("DAU/MAU"), format=".1%"),
            alt.Tooltip("active_accounts:Q", title=_("Active accounts"), format=",d"),
        ],
    )
    # a month without active accounts has no DAU/MAU: the line breaks there
    trend = alt.layer(
        base.mark_line(color=INK, invalid="break-paths-show-domains"),
        base.mark_point(color=INK, filled=True),
    ).properties(title=_("DAU/MAU by month"), width=640, height=160)
    share = (
        format_value(latest["dau_mau"], "fraction") if latest is not None else format_value(None)
    )
    subtitle = _(
        "DAU/MAU {month}: {share} (the average day's share of the month's active accounts)"
    ).format(month=month, share=share)
    return alt.vconcat(bars, trend, spacing=24).properties(
        title=alt.Title(_("Stickiness") if title is None else title, subtitle=subtitle)
    )


def _month_length(month: str) -> int:
    """The number of days of a ``YYYY-MM`` month."""
    y, m = map(int, month.split("-"))
    return calendar.monthrange(y, m)[1]
