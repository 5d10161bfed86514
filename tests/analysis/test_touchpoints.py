"""Touchpoints (journeylib.analysis.touchpoints): conversion, channel mix, details."""

from __future__ import annotations

import polars as pl

from journeylib.analysis import touchpoints
from tests.analysis.analysis_helpers import PERIOD, month, ts


def test_touchpoint_conversion_hand_computed(constructor):
    # a pays from Feb: its Jan demo counts, its Mar renewal not; b never pays; c pays, no touches
    stream = pl.DataFrame(
        {
            "account_id": ["a", "a", "b", "b", "c", None],
            "timestamp": [ts(1, 5), ts(3, 1), ts(1, 5), ts(1, 9), ts(1, 1), ts(1, 1)],
            "touchpoint": ["demo", "renewal", "demo", "blog", None, "blog"],
            "stage": ["consider", "retain", "consider", "aware", None, "aware"],
        }
    )
    subs = pl.DataFrame(
        {"account_id": ["a", "c"], "month": [month(2), month(1)], "mrr": [10.0, 5.0]}
    )
    out = touchpoints.touchpoint_conversion(constructor(stream), constructor(subs), period=PERIOD)
    # base: 2 of 3 stream accounts paid; demo: a, b -> 1/2, lift 0.75; blog: b -> 0
    assert out.rows() == [
        ("demo", "consider", 2, 1, 1, 0.5, 0.75),
        ("blog", "aware", 1, 0, 1, 0.0, 0.0),
    ]
    no_subs = touchpoints.touchpoint_conversion(stream, None)
    assert no_subs["conversion"].null_count() == no_subs.height


def test_touchpoint_helpers(small):
    s = small
    inside = touchpoints.stream_in_period(s.stream, s.period)
    assert inside.height <= s.stream.height
    mix = touchpoints.touchpoint_channel_mix(inside)
    assert mix["touchpoint"].is_unique().all()
    details = touchpoints.touchpoint_details(s.c.template)
    assert details.height == len(s.c.template.touchpoints)
    snippet = touchpoints.event_mapping_snippet(s.c.template, ["new_event"])
    assert snippet.startswith("event_mapping:") and "new_event" in snippet
