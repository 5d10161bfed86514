"""The explorer keeps the unfiltered client's journey map in the store, and reads it back.

Opening the explorer draws the unfiltered journey map; at 10 M events that
costs seconds, so the first opening keeps its data beside the store version
and later openings read it. What is read back must be what was computed; a
filter, another period or a changed client.yaml computes anew.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from journeylib import analysis
from journeylib.explore import Explorer, compute
from journeylib.sources.synth import synthesize
from journeylib.store import read_store


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("kept") / "acme"
    synthesize(path, accounts=300, months=6, seed=7)
    return path


def _map(ex: Explorer) -> analysis.JourneyMapData:
    return compute.journey_map(ex.scope())


def _assert_same(a: analysis.JourneyMapData, b: analysis.JourneyMapData) -> None:
    for name in ("stages", "touchpoints", "emotion", "texts", "kpis"):
        fa, fb = getattr(a, name), getattr(b, name)
        assert (fa is None) == (fb is None), name
        if fa is not None:
            assert_frame_equal(fa, fb)
    assert (a.persona, a.title) == (b.persona, b.title)


def test_a_second_opening_reads_the_kept_map(client_dir, monkeypatch):
    first = Explorer(client_dir)
    computed = _map(first)
    cache = read_store(client_dir).files.folder / "cache"
    assert sorted(p.name.split("-")[0] for p in cache.iterdir()) == ["journey_map", "map_doc"]

    def never(*a, **k):
        raise AssertionError("computed again instead of read")

    monkeypatch.setattr(analysis, "journey_map_data", never)
    again = Explorer(client_dir)  # a fresh explorer: nothing in memory
    _assert_same(_map(again), computed)


def test_a_filtered_state_is_computed_not_kept(client_dir):
    ex = Explorer(client_dir)
    persona = next(v for _, v in ex.persona.options if v)
    ex.persona.value = persona
    filtered = _map(ex)
    assert filtered.stages["reached"].sum() < _map(Explorer(client_dir)).stages["reached"].sum()
    cache = read_store(client_dir).files.folder / "cache"
    assert len(list(cache.glob("journey_map-*"))) == 1  # the unfiltered one only


def test_a_changed_client_yaml_computes_anew(client_dir, tmp_path, monkeypatch):
    before = _map(Explorer(client_dir))
    calls = []
    real = analysis.journey_map_data
    monkeypatch.setattr(
        analysis, "journey_map_data", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    yaml_path = client_dir / "client.yaml"
    text = yaml_path.read_text()
    try:
        yaml_path.write_text(text + "\ndescription: another description\n")
        after = _map(Explorer(client_dir))
    finally:
        yaml_path.write_text(text)
    assert calls == [1]
    _assert_same(after, before)  # same data, computed again under the new key


def test_an_unwritable_store_still_opens(client_dir, monkeypatch):
    def refuse(path, write):
        raise OSError("read-only")

    monkeypatch.setattr(compute, "_write_kept", lambda path, write: None)
    folder = read_store(client_dir).files.folder / "cache"
    for p in folder.iterdir():
        if p.is_dir():
            for f in p.iterdir():
                f.unlink()
            p.rmdir()
        else:
            p.unlink()
    data = _map(Explorer(client_dir))
    assert isinstance(data.stages, pl.DataFrame) and data.stages.height > 0
    assert list(folder.iterdir()) == []
