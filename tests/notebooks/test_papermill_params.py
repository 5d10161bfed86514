"""Notebooks 01 and 03 run with injected parameters on a second client, and say the library's numbers.

A second synthetic client (not the demo) is written to a temporary folder; each
notebook is executed through papermill's Python API with ``client`` and
``output_dir`` injected, and its *Recorded results* cell is compared with the
same numbers computed here directly from the library. A client named ``007``
checks that parameters reach the notebook as strings (papermill's CLI would
read ``-p client 007`` as the integer 7).
"""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import polars as pl
import pytest

import journeylib as jl
from journeylib import analysis
from journeylib.analysis.paths import paths
from journeylib.metrics import stages
from journeylib.paths import PROJ_ROOT
from journeylib.sources.synth import synthesize

pytestmark = pytest.mark.slow

NOTEBOOKS = PROJ_ROOT / "notebooks"


def execute(name: str, out: Path, parameters: dict) -> Path:
    import papermill as pm

    pm.execute_notebook(
        str(NOTEBOOKS / name),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        log_output=False,
        # start the kernel in notebooks/ without papermill's os.chdir in this process
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    return out


def recorded(path: Path) -> dict:
    """The JSON printed by the notebook's ``# NBVAL_CHECK_OUTPUT`` cell."""
    nb = nbformat.read(path, as_version=4)
    cells = [
        c
        for c in nb.cells
        if c.cell_type == "code" and c.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")
    ]
    assert len(cells) == 1, "a notebook has exactly one recorded-results cell"
    text = "".join(o.get("text", "") for o in cells[0].outputs if o.get("output_type") == "stream")
    return json.loads(text)


@pytest.fixture(scope="module")
def acme2(tmp_path_factory):
    path = tmp_path_factory.mktemp("clients") / "acme2"
    synthesize(path, accounts=300, months=13, seed=7)
    c = jl.load_client(path)
    return path, c


def test_define_goals_records_the_library_numbers(acme2, tmp_path):
    path, c = acme2
    out = execute(
        "01_define_goals.ipynb",
        tmp_path / "01.ipynb",
        {"client": str(path), "output_dir": str(tmp_path / "run")},
    )
    got = recorded(out)

    doc = jl.metrics_document(c)
    expected = {
        "client": "acme2",
        "period": list(jl.resolve_period(c)),
        "goals": {
            g["id"]: {"status": g["status"], "current": analysis.round_or_none(g["current"])}
            for g in doc["goals"]
        },
    }
    assert got == expected
    assert len(got["goals"]) == len(c.config.goals) == 3
    assert all(
        v["status"] in {"achieved", "on_track", "at_risk", "off_track"}
        for v in got["goals"].values()
    )


def test_touchpoints_records_the_library_numbers(acme2, tmp_path):
    path, c = acme2
    run = tmp_path / "run"
    out = execute(
        "03_touchpoints.ipynb", tmp_path / "03.ipynb", {"client": str(path), "output_dir": str(run)}
    )
    got = recorded(out)

    stream = jl.journey_events(c)
    period = jl.resolve_period(c)
    in_period = analysis.stream_in_period(stream, period)
    inventory = jl.touchpoint_inventory(
        in_period, c.template, total_accounts=c.tables["accounts"].height
    )
    transitions = stages.touchpoint_transitions(stream, period=period)
    best = (
        transitions.filter(pl.col("count") == pl.col("count").max())
        .sort("from", "to")
        .row(0, named=True)
    )
    signup = analysis.readable_paths(paths(stream, period=period, start="signed_up", steps=5))
    assert got == {
        "client": "acme2",
        "touchpoints": len(c.template.touchpoints),
        "touchpoints_reached": inventory.filter(pl.col("accounts") > 0).height,
        "unmapped_events": sorted(jl.unmapped_events(in_period)["event"].unique().to_list()),
        "top_transition": {"from": best["from"], "to": best["to"], "count": best["count"]},
        "signup_paths": {
            "accounts": signup.accounts,
            "first_moves": signup.edges.filter(pl.col("step") == 1).head(2).to_dicts(),
        },
    }
    assert got["signup_paths"]["accounts"] > 0
    # the main charts are written for slides when output_dir is set
    assert (run / "charts" / "03_touchpoint_flow.svg").read_text().startswith("<svg")
    assert (run / "charts" / "03_touchpoint_flow.png").stat().st_size > 0


def test_client_named_007_stays_a_string(tmp_path):
    data = tmp_path / "data"
    synthesize(data / "007", accounts=60, months=4, seed=1)
    out = execute(
        "01_define_goals.ipynb", tmp_path / "007.ipynb", {"client": "007", "data_dir": str(data)}
    )
    nb = nbformat.read(out, as_version=4)
    injected = next(c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", []))
    assert 'client = "007"' in injected.source
    assert recorded(out)["client"] == "007"
