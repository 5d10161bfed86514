"""Results shared inside one computation (journeylib.metrics._memo)."""

from __future__ import annotations

import gc
import weakref

import polars as pl

from journeylib.metrics._memo import once, shared_results


def test_once_computes_once_per_frame_inside_the_block_only():
    a, b = pl.DataFrame({"x": [1]}), pl.DataFrame({"x": [1]})
    calls: list[str] = []

    def compute(name: str) -> str:
        calls.append(name)
        return name

    with shared_results():
        assert once("k", a, lambda: compute("a1")) == "a1"
        assert once("k", a, lambda: compute("a2")) == "a1"  # served
        assert once("other", a, lambda: compute("a3")) == "a3"  # another kind
        assert once("k", b, lambda: compute("b1")) == "b1"  # an equal but other frame
    assert once("k", a, lambda: compute("a4")) == "a4"  # no block: computed
    assert calls == ["a1", "a3", "b1", "a4"]


def test_nested_blocks_do_not_share_and_frames_go_when_the_block_ends():
    frame = pl.DataFrame({"x": [1, 2]})
    ref = weakref.ref(frame)
    with shared_results():
        once("k", frame, lambda: 1)
        with shared_results():
            assert once("k", frame, lambda: 2) == 2
        assert once("k", frame, lambda: 3) == 1
    del frame
    gc.collect()
    assert ref() is None
