"""Survey feedback in words: the moments of delight and of frustration.

The comments' sentiment is :func:`journeylib.metrics.feedback.comment_sentiment`;
client text is returned as data: escape it when shown
(``journeylib.present.tables.frame_html`` does).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from journeylib.frames import collect, to_lazy
from journeylib.metrics.feedback import comment_sentiment
from journeylib.months import filter_period

__all__ = ["moments"]

_MOMENT_SCHEMA = {
    "stage": pl.String,
    "comment": pl.String,
    "responses": pl.Int64,
    "score": pl.Float64,
    "sentiment": pl.Float64,
}


def moments(
    surveys: Any, *, period: tuple[str, str], n: int = 5
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Moments of delight and of frustration: the most positive and most negative comments.

    Over the non-blank comments dated in the period, grouped by (stage,
    comment) so a comment given many times is listed once with its count.
    Each gets ``sentiment`` (``metrics.feedback.comment_sentiment``) and ``score`` (the
    mean NPS score of its responses, null when unscored). Delight: comments
    with sentiment > 0, ranked by sentiment + (score − 5) / 5 (the score term
    left out when unscored), then by responses; frustration: sentiment < 0,
    ranked the other way. The texts are client text: escape them when shown.

    Returns:
        ``(delight, frustration)``, each ``pl.DataFrame[stage, comment,
        responses, score, sentiment]`` with at most ``n`` rows.

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
        >>> s = pl.DataFrame({"responded_at": [t] * 4, "stage": ["a", "a", "b", "b"],
        ...     "score": [10, 9, 2, None], "comment": ["love it", "love it", "slow and buggy", ""]})
        >>> good, bad = moments(s, period=("2024-01", "2024-01"))
        >>> good.rows(), bad["comment"].to_list()
        ([('a', 'love it', 2, 9.5, 1.0)], ['slow and buggy'])
    """
    frame = collect(filter_period(to_lazy(comment_sentiment(surveys)), "responded_at", period))
    stage = pl.col("stage").cast(pl.String) if "stage" in frame.columns else pl.lit(None, pl.String)
    score = (
        pl.col("score").cast(pl.Float64) if "score" in frame.columns else pl.lit(None, pl.Float64)
    )
    grouped = (
        frame.filter(pl.col("sentiment").is_not_null())
        .select(
            stage.alias("stage"),
            pl.col("comment").str.strip_chars(),
            score.alias("score"),
            "sentiment",
        )
        .group_by("stage", "comment")
        .agg(
            pl.len().cast(pl.Int64).alias("responses"),
            pl.col("score").mean(),
            pl.col("sentiment").first(),
        )
        .with_columns(
            (pl.col("sentiment") + ((pl.col("score") - 5) / 5).fill_null(0.0)).alias("_rank")
        )
    )
    return _strongest(grouped, positive=True, n=n), _strongest(grouped, positive=False, n=n)


def _strongest(grouped: pl.DataFrame, *, positive: bool, n: int) -> pl.DataFrame:
    """The ``n`` comments of one sign of sentiment, strongest ``_rank`` first, then most responses."""
    sign = pl.col("sentiment") > 0 if positive else pl.col("sentiment") < 0
    return (
        grouped.filter(sign)
        .sort(
            ["_rank", "responses", "stage", "comment"],
            descending=[positive, True, False, False],
            nulls_last=True,
        )
        .head(n)
        .select(list(_MOMENT_SCHEMA))
        .cast(_MOMENT_SCHEMA)
    )
