"""Record the demo client's key numbers for the nbval notebook tests.

The notebooks in ``notebooks/`` are committed without outputs. This script
executes each of them on the demo client and writes a copy to
``tests/notebooks/recorded/`` that keeps only the outputs of the cells marked
``# NBVAL_CHECK_OUTPUT`` (the recorded results). ``make test`` runs those
copies with ``pytest --nbval-lax``, which re-executes every cell and compares
the marked cells' output with the recorded one; ``test_recorded_copies.py``
keeps the copies' code identical to the real notebooks.

Run it (``make record``) after a change that is meant to move the demo's numbers.
"""

from __future__ import annotations

import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import papermill as pm

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "notebooks"
DST = Path(__file__).resolve().parent / "recorded"
MARK = "# NBVAL_CHECK_OUTPUT"


def is_checked(cell) -> bool:
    return cell.cell_type == "code" and cell.source.lstrip().startswith(MARK)


def record(path: Path) -> Path:
    executed = Path(tempfile.mkdtemp()) / path.name
    pm.execute_notebook(
        str(path), str(executed), kernel_name="python3", progress_bar=False,
        resources={"metadata": {"path": str(SRC)}},
    )
    ran = nbformat.read(executed, as_version=4)
    clean = nbformat.read(path, as_version=4)
    for src_cell, ran_cell in zip(clean.cells, (c for c in ran.cells if "injected-parameters" not in
                                                c.metadata.get("tags", [])), strict=True):
        if src_cell.cell_type != "code":
            continue
        src_cell.outputs = []
        src_cell.execution_count = None
        if is_checked(src_cell):
            src_cell.outputs = [o for o in ran_cell.outputs if o.get("output_type") == "stream"]
            src_cell.execution_count = 1  # nbval skips a reference cell that never ran
            for o in src_cell.outputs:
                o.pop("execution_count", None)
    out = DST / path.name
    nbformat.write(clean, out)
    executed.unlink()
    return out


def main(names: list[str]) -> None:
    DST.mkdir(exist_ok=True)
    paths = [SRC / n for n in names] if names else sorted(SRC.glob("0[1-7]_*.ipynb"))
    with ThreadPoolExecutor(max_workers=2) as pool:
        for out in pool.map(record, paths):
            print(f"recorded {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
