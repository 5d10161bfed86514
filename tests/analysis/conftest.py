"""Two small synthetic clients, each loaded once with its metrics document and journey stream."""

from __future__ import annotations

import types

import pytest

import journeylib as jl
from journeylib.sources.synth import synthesize


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """300 accounts over 6 months: ``(client, doc, stream)``."""
    folder = tmp_path_factory.mktemp("clients") / "small"
    synthesize(folder, accounts=300, months=6, seed=7)
    client = jl.load_client(folder)
    return client, jl.metrics_document(client), jl.journey_events(client)


@pytest.fixture(scope="session")
def small(tmp_path_factory):
    """250 accounts over 8 months: ``c`` (client), ``doc``, ``stream`` and ``period``."""
    path = tmp_path_factory.mktemp("nbb") / "small"
    synthesize(path, accounts=250, months=8, seed=3)
    c = jl.load_client(path)
    return types.SimpleNamespace(
        c=c, doc=jl.metrics_document(c), stream=jl.journey_events(c), period=jl.resolve_period(c)
    )
