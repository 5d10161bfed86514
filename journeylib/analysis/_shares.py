"""The most common values per group, with their shares, as one line of text.

Private to :mod:`journeylib.analysis`: the personas' top industries, roles and
channels and the touchpoints' channel mix read the same way
(``"saas 67%, retail 33%"``).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from typing import Any

import polars as pl

from journeylib.formatting import format_value
from journeylib.i18n import N_
from journeylib.i18n import gettext as _

#: A goal status (metrics.md) in words, marked for the catalogs: translate where shown.
STATUS_WORDS = {
    "achieved": N_("achieved"),
    "on_track": N_("on track"),
    "at_risk": N_("at risk"),
    "off_track": N_("off track"),
}

__all__ = ["STATUS_WORDS", "inert_markdown", "stage_ids", "top_shares"]


def stage_ids(stages: Sequence[Any]) -> list[str]:
    """The stage ids of ``(id, label)`` pairs or bare ids, in template order.

    Examples:
        >>> stage_ids(["aware", ("decide", "Decision")])
        ['aware', 'decide']
    """
    return [str(s) if isinstance(s, str) else str(s[0]) for s in stages]


def top_shares(
    counts: pl.DataFrame, group: str, value: str, *, top: int, name: str
) -> pl.DataFrame:
    """Per ``group``: its ``top`` most common ``value`` with their share of the group, as text.

    Args:
        counts: one row per group and (non-null) value, with their count ``n``.
        group: the group column.
        value: the column whose values are named.
        top: values kept per group, most common first (ties by value).
        name: the text column of the result.

    Returns:
        ``pl.DataFrame[group, name]``, groups in order, e.g. ``"seo 67%, ads 33%"``
        (the list separator and the percentages in the current language).

    Examples:
        >>> c = pl.DataFrame({"g": ["a", "a", "b"], "v": ["x", "y", "x"], "n": [1, 2, 5]})
        >>> top_shares(c, "g", "v", top=3, name="mix").rows()
        [('a', 'y 67%, x 33%'), ('b', 'x 100%')]
    """
    ranked = (
        counts.with_columns((pl.col("n") / pl.col("n").sum().over(group)).alias("_share"))
        .sort([group, "n", value], descending=[False, True, False])
        .with_columns(pl.int_range(pl.len()).over(group).alias("_rank"))
        .filter(pl.col("_rank") < top)
    )
    texts = [
        f"{v} {format_value(share, 'fraction', digits=0)}"
        for v, share in zip(
            ranked[value].cast(pl.String).to_list(), ranked["_share"].to_list(), strict=True
        )
    ]
    return (
        ranked.with_columns(pl.Series("_txt", texts, dtype=pl.String))
        .group_by(group, maintain_order=True)
        .agg(pl.col("_txt").str.join(_(", ")).alias(name))
    )


def inert_markdown(text: object) -> str:
    r"""Client text to put in Markdown as plain text: one line, HTML and Markdown marks escaped.

    A label can then open no tag, link, heading, list or emphasis of its own.

    Examples:
        >>> inert_markdown("Grow [x](https://e.org) <b>\n# now")
        'Grow \\[x\\]\\(https://e\\.org\\) &lt;b&gt; \\# now'
    """
    one_line = html.escape(" ".join(str(text).split()), quote=False)
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|>~])", r"\\\1", one_line)
