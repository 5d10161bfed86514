"""`journey ingest` and the store behind `journey metrics` and `journey funnel`, driven as a user would."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from journeylib.store import read_store

EXE = Path(sys.executable).with_name("journey")


def journey(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(EXE), *args], capture_output=True, text=True, env=env, timeout=300)


@pytest.fixture
def client(tmp_path, small_client) -> Path:
    """A private copy of the small client (these tests change files and stores)."""
    import shutil

    path = tmp_path / "acme"
    shutil.copytree(small_client, path)
    return path


@pytest.fixture
def env(tmp_path) -> dict:
    return {**os.environ, "JOURNEY_STORE_DIR": str(tmp_path / "stores")}


def test_ingest_builds_then_reuses_then_rebuilds(client, env):
    first = journey("ingest", str(client), env=env)
    assert first.returncode == 0, first.stderr
    assert "store built" in first.stdout and "store ready" in first.stderr
    assert "rows in" in first.stdout  # the quality table
    again = journey("ingest", str(client), env=env)
    assert again.returncode == 0 and "current, reused" in again.stdout
    assert again.stderr == ""  # nothing to build, nothing said on stderr
    forced = journey("ingest", str(client), "--rebuild", env=env)
    assert forced.returncode == 0 and "store built" in forced.stdout


def test_metrics_builds_a_missing_store_once_and_rebuild_gives_the_same_document(client, env):
    first = journey("metrics", str(client), "--json", env=env)
    assert first.returncode == 0, first.stderr
    assert "store ready" in first.stderr  # built on the way, with progress lines
    second = journey("metrics", str(client), "--json", env=env)
    assert second.stdout == first.stdout and second.stderr == ""
    rebuilt = journey("metrics", str(client), "--json", "--rebuild", env=env)
    assert rebuilt.stdout == first.stdout and "store ready" in rebuilt.stderr
    old = journey("metrics", str(client), "--no-cache", env=env)
    assert old.returncode == 2  # the flag is gone: --rebuild replaced it


def test_a_changed_raw_file_is_picked_up_by_the_next_command(client, env):
    base = journey(
        "funnel", str(client), "--steps", "signed_up,subscription_started", "--json", env=env
    )
    assert base.returncode == 0, base.stderr
    subs = client / "subscriptions.csv"
    header, *rows = subs.read_text().splitlines()
    subs.write_text("\n".join([header, *rows[: len(rows) // 2]]) + "\n")
    after = journey(
        "funnel", str(client), "--steps", "signed_up,subscription_started", "--json", env=env
    )
    assert after.returncode == 0 and "store ready" in after.stderr
    assert after.stdout != base.stdout


def test_ingest_of_a_bad_client_is_one_line(tmp_path, env):
    proc = journey("ingest", str(tmp_path / "nope"), env=env)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1


def test_ctrl_c_during_ingest_keeps_the_previous_store_and_says_so(tmp_path, env):
    from journeylib.sources.synth import synthesize

    path = tmp_path / "bigco"
    synthesize(path, accounts=4000, months=12, seed=2, start="2024-01", fmt="csv")
    assert journey("ingest", str(path), env=env).returncode == 0
    before = read_store_with(env, path)
    proc = subprocess.Popen(
        [str(EXE), "ingest", str(path), "--rebuild"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    root = before.root
    deadline = time.monotonic() + 60
    while not list(root.glob(".tmp-*")) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert list(root.glob(".tmp-*")), "the build never started"
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if "stopped" in line]
    assert len(lines) == 1 and "left as it was" in lines[0]
    assert not list(root.glob(".tmp-*"))
    after = read_store_with(env, path)
    assert after.key == before.key and after.files.folder == before.files.folder


def read_store_with(env: dict, path: Path):
    old = os.environ.get("JOURNEY_STORE_DIR")
    os.environ["JOURNEY_STORE_DIR"] = env["JOURNEY_STORE_DIR"]
    try:
        store = read_store(path)
    finally:
        if old is None:
            del os.environ["JOURNEY_STORE_DIR"]
        else:
            os.environ["JOURNEY_STORE_DIR"] = old
    assert store is not None
    return store
