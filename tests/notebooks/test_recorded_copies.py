"""The nbval copies in tests/notebooks/recorded/ are the real notebooks plus recorded numbers."""

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("0[1-7]_*.ipynb"))


def test_every_mapping_step_notebook_has_a_recorded_copy():
    names = [p.name for p in NOTEBOOKS]
    assert len(names) == 7
    assert sorted(p.name for p in (ROOT / "tests/notebooks/recorded").glob("*.ipynb")) == names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_recorded_copy_has_the_same_cells(path):
    real = nbformat.read(path, as_version=4)
    copy = nbformat.read(ROOT / "tests/notebooks/recorded" / path.name, as_version=4)
    assert [(c.cell_type, c.source) for c in real.cells] == [
        (c.cell_type, c.source) for c in copy.cells
    ]
    checked = [
        c
        for c in copy.cells
        if c.cell_type == "code" and c.source.lstrip().startswith("# NBVAL_CHECK_OUTPUT")
    ]
    assert checked, "a notebook needs a recorded-results cell"
    assert all(c.outputs for c in checked), (
        "recorded cells must hold the demo's numbers (run make record)"
    )
    others = [c for c in copy.cells if c.cell_type == "code" and c not in checked]
    assert not any(c.outputs for c in others)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_real_notebooks_are_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    assert not any(c.get("outputs") for c in nb.cells if c.cell_type == "code")
