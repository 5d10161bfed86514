"""A full run on a client whose events are Parquet: loaded lazily, validated once, same numbers.

The runner and the notebooks load Parquet events lazily (the metrics read
them streaming) and keep their validation in ``reports/<client>/.cache/``: the
runner validates, the notebooks read its entry. The run must give the
metrics.json of the same client stored as CSV, loaded eagerly, and every
notebook must run.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import journeylib.ingest.lazy as scan
from journeylib.ingest.client import load_client
from journeylib.metrics import metrics_document, metrics_json
from journeylib.report.runner import run_client
from journeylib.sources.synth import synthesize


def test_parquet_client_runs_every_notebook_with_the_csv_numbers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    reports = tmp_path / "reports"
    monkeypatch.setenv("JOURNEY_REPORTS_DIR", str(reports))
    csv_dir, pq_dir = tmp_path / "csv" / "acme", tmp_path / "parquet" / "acme"
    for path, fmt in ((csv_dir, "csv"), (pq_dir, "parquet")):
        synthesize(path, accounts=150, months=14, seed=5, start="2024-01", fmt=fmt)
    assert (pq_dir / "events.parquet").is_file()
    validated: list[Path] = []
    real = scan._validate
    monkeypatch.setattr(
        scan, "_validate", lambda *a: validated.append(a[3]) or real(*a)
    )  # the runner's own load (the notebooks run in their kernels)

    cache = reports / "acme" / ".cache"
    seen: list[tuple[int, int]] = []

    def entry_at_start(event) -> None:  # after the runner's load, before any notebook
        if event.stage == "run_started":
            (meta,) = cache.glob("events-*/meta.json")
            seen.append((meta.stat().st_ino, meta.stat().st_mtime_ns))

    result = run_client(pq_dir, jobs=2, progress=entry_at_start)

    assert result.status == "ok", result.error
    assert [r.status for r in result.notebooks] == ["ok"] * 7
    assert validated == [pq_dir / "events.parquet"]
    # the notebooks' loads read the runner's entry: none of them wrote one
    (meta,) = cache.glob("events-*/meta.json")
    assert seen == [(meta.stat().st_ino, meta.stat().st_mtime_ns)]
    doc = json.loads((result.run_dir / "metrics.json").read_text(encoding="utf-8"))
    expected = json.loads(metrics_json(metrics_document(load_client(csv_dir))))
    assert doc == expected
