"""Fixtures of the runner and report tests: tiny client folders, stubbed hooks."""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture
def data_root(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """``data/`` with two tiny client folders, '007' and 'acme'; reports go to tmp too."""
    root = tmp_path / "data"
    for name in ("007", "acme"):
        folder = root / name
        folder.mkdir(parents=True)
        (folder / "client.yaml").write_text(f"client: {name}\ncurrency: EUR\n", encoding="utf-8")
        (folder / "accounts.csv").write_text(
            "account_id,signup_at\na1,2025-01-03\n", encoding="utf-8"
        )
        (folder / ".DS_Store").write_bytes(b"junk")
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(root))
    monkeypatch.setenv("JOURNEY_REPORTS_DIR", str(tmp_path / "reports"))
    return root


@pytest.fixture
def no_hooks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Isolate the runner from loading the client, the metrics document and the rejected rows."""
    from journeylib.report import runner
    from tests.report.report_helpers import stub_client

    monkeypatch.setattr(
        runner, "_load_client", lambda client_dir, say=None: stub_client(client_dir.name)
    )
    monkeypatch.setattr(runner, "metrics_document", lambda client: None)
    monkeypatch.setattr(runner, "write_rejected", lambda client, run_dir: None)
