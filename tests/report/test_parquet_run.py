"""A full run on a client whose events are Parquet: ingested once, one document, same numbers.

The runner builds the client's store (validating the raw files once), computes
the metrics document once and writes metrics.json before the notebooks start;
the seven notebooks read the store and that file. The run must give the
metrics.json of the same client stored as CSV, loaded eagerly, and every
notebook must run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

import journeylib.ingest.lazy as scan
from journeylib.ingest.client import load_client
from journeylib.metrics import metrics_document, metrics_json
from journeylib.metrics.document import TRACE_ENV
from journeylib.report.runner import run_client
from journeylib.sources.synth import synthesize
from journeylib.store import read_store


def test_parquet_client_runs_every_notebook_with_the_csv_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    monkeypatch.setenv("JOURNEY_REPORTS_DIR", str(reports))
    monkeypatch.setenv("JOURNEY_STORE_DIR", str(tmp_path / "stores"))
    trace = tmp_path / "documents.txt"
    csv_dir, pq_dir = tmp_path / "csv" / "acme", tmp_path / "parquet" / "acme"
    for path, fmt in ((csv_dir, "csv"), (pq_dir, "parquet")):
        synthesize(path, accounts=150, months=14, seed=5, start="2024-01", fmt=fmt)
    assert (pq_dir / "events.parquet").is_file()
    validated: list[Path] = []
    real = scan._validate
    monkeypatch.setattr(
        scan, "_validate", lambda *a: validated.append(a[3]) or real(*a)
    )  # the runner's own ingest (the notebooks run in their kernels)
    # every computation of a metrics document, in this process and in the kernels, is a line
    monkeypatch.setenv(TRACE_ENV, str(trace))

    stores: list[str] = []

    def store_at_start(event) -> None:  # after the runner's ingest, before any notebook
        if event.stage == "run_started":
            stores.append(read_store(pq_dir).files.folder.name)

    result = run_client(pq_dir, jobs=2, progress=store_at_start)

    assert result.status == "ok", result.error
    assert [r.status for r in result.notebooks] == ["ok"] * 7
    assert validated == [pq_dir / "events.parquet"]
    # the notebooks read the runner's store: none of them built one
    assert stores == [read_store(pq_dir).files.folder.name]
    # one metrics document of the client in the whole run: the runner's; the notebooks read
    # metrics.json (the persona maps compute their personas' own documents: fewer accounts)
    lines = trace.read_text().splitlines()
    whole = [line for line in lines if line.endswith(" accounts=150")]
    assert len(whole) == 1, lines
    assert int(whole[0].split()[0]) == os.getpid()  # the runner's, not a kernel's
    doc = json.loads((result.run_dir / "metrics.json").read_text(encoding="utf-8"))
    monkeypatch.delenv(TRACE_ENV)
    expected = json.loads(metrics_json(metrics_document(load_client(csv_dir))))
    assert doc == expected
