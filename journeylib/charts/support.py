"""Support charts: the ticket mix by tenure."""

from __future__ import annotations

import altair as alt
import polars as pl

from journeylib.charts._util import data, require

__all__ = ["chart_ticket_mix"]


def chart_ticket_mix(mix: pl.DataFrame, *, title: str = "Ticket mix by tenure") -> alt.Chart:
    """Stacked 100 % bars of ticket categories by months of tenure.

    A maturing base shows fewer how-to and more advanced questions as tenure grows.

    Args:
        mix: ``tenure_months, category, tickets, share`` (share within the month).
        title: chart title.

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
                "tenure_months:O", title="Months since first payment", axis=alt.Axis(labelAngle=0)
            ),
            y=alt.Y(
                "share:Q", title="Share of tickets", stack="normalize", axis=alt.Axis(format="%")
            ),
            color=alt.Color("category:N", title="Category", sort=cats),
            order=alt.Order("tickets:Q", sort="descending"),
            tooltip=[
                alt.Tooltip("tenure_months:O", title="Tenure (months)"),
                alt.Tooltip("category:N", title="Category"),
                alt.Tooltip("tickets:Q", title="Tickets"),
                alt.Tooltip("share:Q", title="Share", format=".1%"),
            ],
        )
        .properties(title=title, width=alt.Step(36), height=280)
    )
