"""The explorer tests' client: 300 accounts over 6 months, its stores in a temporary folder.

A copy of it without subscriptions is shared too (the panels that need them are hidden).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import journeylib as jl
from journeylib.explore import PANELS
from journeylib.sources.synth import synthesize

PANEL_IDS = [p.id for p in PANELS]
TAB_IDS = [p.id for p in PANELS if p.under is None]


@pytest.fixture(scope="module", autouse=True)
def _stores(tmp_path_factory):
    """Client stores under a temporary folder, never the project's reports/."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JOURNEY_STORE_DIR", str(tmp_path_factory.mktemp("stores")))
        yield


@pytest.fixture(scope="module")
def client_dir(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("explore") / "acme"
    synthesize(path, accounts=300, months=6, seed=7)
    return path


@pytest.fixture(scope="module")
def client(client_dir):
    return jl.load_client(client_dir)


@pytest.fixture(scope="module")
def stream(client):
    return jl.journey_events(client)


@pytest.fixture(scope="module")
def no_subs_dir(client_dir, tmp_path_factory) -> Path:
    """The client without its subscriptions table."""
    path = tmp_path_factory.mktemp("explore") / "nosubs"
    shutil.copytree(client_dir, path)
    for f in path.glob("subscriptions.*"):
        f.unlink()
    return path
