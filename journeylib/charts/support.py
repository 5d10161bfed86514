"""Support charts: the ticket mix by tenure (words in the current language, :mod:`journeylib.i18n`)."""

from __future__ import annotations

import altair as alt
import polars as pl

from journeylib.charts._util import data, require
from journeylib.i18n import gettext as _

__all__ = ["chart_ticket_mix"]


def chart_ticket_mix(mix: pl.DataFrame, *, title: str | None = None) -> alt.Chart:
    """Stacked 100 % bars of ticket categories by months of tenure.

    A maturing base shows fewer how-to and more advanced questions as tenure grows.

    Args:
        mix: ``tenure_months, category, tickets, share`` (share within the month).
        title: chart title (default: "Ticket mix by tenure").

    Returns:
        A stacked bar chart; the tooltip gives tickets and share.

    Examples:
        >>> import polars as pl
        >>> m = pl.DataFrame({"tenure_months": [0, 0, 1], "category": ["how-to", "bug", "bug"],
        ...     "tickets": [6, 2, 3], "share": [0.75, 0.25, 1.0]})
        >>> chart_ticket_mix(m).to_dict()["mark"]["type"]
        'bar'
    """
    df = require(mix, ["tenure_months", "category", "tickets", "share"], name="mix")
    df = df.with_columns(pl.col("category").cast(pl.String))
    cats = (
        df.group_by("category")
        .agg(pl.col("tickets").sum())
        .sort("tickets", "category", descending=[True, False])["category"]
        .to_list()
    )
    return (
        alt.Chart(data(df))
        .mark_bar()
        .encode(
            x=alt.X(
                "tenure_months:O",
                title=_("Months since first payment"),
                axis=alt.Axis(labelAngle=0),
            ),
            y=alt.Y(
                "share:Q", title=_("Share of tickets"), stack="normalize", axis=alt.Axis(format="%")
            ),
            color=alt.Color("category:N", title=_("Category"), sort=cats),
            order=alt.Order("tickets:Q", sort="descending"),
            tooltip=[
                alt.Tooltip("tenure_months:O", title=_("Tenure (months)")),
                alt.Tooltip("category:N", title=_("Category")),
                alt.Tooltip("tickets:Q", title=_("Tickets")),
                alt.Tooltip("share:Q", title=_("Share"), format=".1%"),
            ],
        )
        .properties(
            title=_("Ticket mix by tenure") if title is None else title,
            width=alt.Step(36),
            height=280,
        )
    )
