"""Record the demo client's key numbers for the nbval notebook tests.

The notebooks in ``notebooks/`` are committed without outputs. This script
executes each of them on the demo client and writes a copy to
``tests/notebooks/recorded/`` that keeps only the outputs of the cells marked
``# NBVAL_CHECK_OUTPUT`` (the recorded results). ``make test`` runs those
copies with ``pytest --nbval-lax``, which re-executes every cell and compares
the marked cells' output with the recorded one; ``test_recorded_copies.py``
keeps the copies' code identical to the real notebooks.

Run it (``make record``) after a change that is meant to move the demo's numbers.
After a change to the notebooks' code that must not move them, ``python
tests/notebooks/record.py --sources-only`` copies the notebooks' cells into the
copies and keeps the outputs recorded there (nothing is executed).
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


def _write_copy(path: Path, checked_outputs: list[tuple[list, int | None]]) -> Path:
    """Write the copy of ``path``: its cells, no outputs but ``checked_outputs`` in the checked cells."""
    clean = nbformat.read(path, as_version=4)
    checked = [c for c in clean.cells if is_checked(c)]
    if len(checked) != len(checked_outputs):
        raise SystemExit(
            f"{path.name}: {len(checked)} checked cells, {len(checked_outputs)} recorded"
        )
    for cell in clean.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    for cell, (outputs, count) in zip(checked, checked_outputs, strict=True):
        cell.outputs = outputs
        cell.execution_count = count
    out = DST / path.name
    nbformat.write(clean, out)
    return out


def record(path: Path) -> Path:
    executed = Path(tempfile.mkdtemp()) / path.name
    pm.execute_notebook(
        str(path),
        str(executed),
        kernel_name="python3",
        progress_bar=False,
        resources={"metadata": {"path": str(SRC)}},
    )
    ran = nbformat.read(executed, as_version=4)
    ran_cells = [c for c in ran.cells if "injected-parameters" not in c.metadata.get("tags", [])]
    checked_outputs = []
    for ran_cell in ran_cells:
        if not is_checked(ran_cell):
            continue
        outputs = [o for o in ran_cell.outputs if o.get("output_type") == "stream"]
        for o in outputs:
            o.pop("execution_count", None)
        checked_outputs.append((outputs, 1))  # nbval skips a reference cell that never ran
    out = _write_copy(path, checked_outputs)
    executed.unlink()
    return out


def copy_sources(path: Path) -> Path:
    """Refresh the copy's cells from ``path``, keeping the outputs recorded in its checked cells."""
    copy = nbformat.read(DST / path.name, as_version=4)
    return _write_copy(path, [(c.outputs, c.execution_count) for c in copy.cells if is_checked(c)])


def main(args: list[str]) -> None:
    sources_only = "--sources-only" in args
    names = [a for a in args if a != "--sources-only"]
    DST.mkdir(exist_ok=True)
    paths = [SRC / n for n in names] if names else sorted(SRC.glob("0[1-7]_*.ipynb"))
    if sources_only:
        for path in paths:
            print(f"copied the cells of {path.name} to {copy_sources(path).relative_to(ROOT)}")
        return
    with ThreadPoolExecutor(max_workers=2) as pool:
        for out in pool.map(record, paths):
            print(f"recorded {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main(sys.argv[1:])
