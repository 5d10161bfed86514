"""Moments of delight and frustration (journeylib.analysis.feedback)."""

from __future__ import annotations

import polars as pl

from journeylib.analysis import feedback
from tests.analysis.analysis_helpers import ts


def test_moments_rank_and_group():
    surveys = pl.DataFrame(
        {
            "responded_at": [ts(1, 5)] * 6 + [ts(2, 5)],
            "stage": ["a", "a", "b", "b", "c", "c", "c"],
            "score": [10, 9, 6, 0, 8, None, 0],
            "comment": [
                "Love it",
                "Love it",
                "great but slow",
                "terrible support",
                "good",
                " ",
                "awful (outside the period)",
            ],
        }
    )
    good, bad = feedback.moments(surveys, period=("2024-01", "2024-01"), n=5)
    # 'great but slow' is neutral (clause break); 'Love it' twice, mean score 9.5 ranks first
    assert good.rows() == [("a", "Love it", 2, 9.5, 1.0), ("c", "good", 1, 8.0, 1.0)]
    assert bad.rows() == [("b", "terrible support", 1, 0.0, -1.0)]
