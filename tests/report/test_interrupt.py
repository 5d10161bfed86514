"""Ctrl-C during `journey run` / `journey batch`: kernels stopped, the run folder removed, one line.

The unit tests raise KeyboardInterrupt where Ctrl-C would land (the main
thread) with stand-in notebooks; the CLI tests send a real SIGINT to the real
command running the real notebooks on a tiny synthetic client.
"""

from __future__ import annotations

import _thread
import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from journeylib.cli import app
from journeylib.report import runner
from journeylib.report.runner import (
    BatchInterrupted,
    RunInterrupted,
    RunResult,
    batch,
    latest_run,
    run_client,
)
from tests.report.report_helpers import stub_client, write_notebook


def _tmp_folders(root: Path) -> list[Path]:
    return sorted(root.rglob(".*.tmp"))


def _wait_for(path: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.05)


def _gone(pid: int) -> bool:
    """True when the process has ended (a zombie counts as ended)."""
    try:
        import psutil
    except ImportError:
        stat = Path(f"/proc/{pid}/stat")
        try:
            return stat.read_text().rsplit(")", 1)[1].split()[0] == "Z"
        except (OSError, IndexError):
            return True
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _all_gone(pids: list[int], seconds: float = 10) -> bool:
    deadline = time.monotonic() + seconds
    while not all(_gone(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def _kernel_pids(pid: int) -> list[int]:
    """The ipykernel processes the process ``pid`` started (psutil, else /proc)."""
    try:
        import psutil
    except ImportError:
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
                cmd = (stat.parent / "cmdline").read_bytes()
            except (OSError, IndexError, ValueError):
                continue
            if ppid == pid and b"ipykernel_launcher" in cmd:
                found.append(int(stat.parent.name))
        return found
    try:
        children = psutil.Process(pid).children(recursive=True)
    except psutil.NoSuchProcess:
        return []
    found = []
    for child in children:
        try:
            if "ipykernel_launcher" in " ".join(child.cmdline()):
                found.append(child.pid)
        except psutil.Error:
            pass
    return found


def _no_load(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        runner, "_load_client", lambda client_dir, say=None: stub_client(client_dir.name)
    )
    monkeypatch.setattr(runner, "metrics_document", lambda client: None)
    monkeypatch.setattr(runner, "write_rejected", lambda client, run_dir: None)


# ---------------------------------------------------------------- run_client


def test_interrupted_notebook_removes_the_run_folder(data_root, tmp_path, monkeypatch) -> None:
    _no_load(monkeypatch)
    out = tmp_path / "out"
    first = run_client("acme", notebooks=[], out_dir=out)
    client_reports = out / "acme"
    before = sorted(p.name for p in client_reports.iterdir())
    pointer = (client_reports / "latest.txt").read_text(encoding="utf-8")

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "_execute_notebook", interrupted)
    nb = write_notebook(tmp_path / "nbs" / "01_a.ipynb", ["print(1)"])
    with pytest.raises(KeyboardInterrupt) as info:
        run_client("acme", notebooks=[nb, nb], out_dir=out)

    exc = info.value
    assert isinstance(exc, RunInterrupted)
    assert exc.run_id != first.run_id and exc.latest == first.run_id and exc.kept is None
    assert str(exc).startswith("stopped by Ctrl-C; nothing of this run was kept (")
    assert f"keeps its earlier runs; latest: {first.run_id})" in str(exc)
    assert _tmp_folders(out) == []
    assert sorted(p.name for p in client_reports.iterdir()) == before
    assert (client_reports / "latest.txt").read_text(encoding="utf-8") == pointer


def test_first_run_interrupted_says_there_is_no_earlier_run(
    data_root, tmp_path, monkeypatch
) -> None:
    _no_load(monkeypatch)

    def interrupted(client):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "metrics_document", interrupted)
    with pytest.raises(RunInterrupted, match="has no earlier run") as info:
        run_client("acme", notebooks=[], out_dir=tmp_path / "out")
    assert info.value.latest is None
    assert list((tmp_path / "out" / "acme").iterdir()) == []


def test_system_exit_removes_the_folder_and_goes_on(data_root, tmp_path, monkeypatch) -> None:
    _no_load(monkeypatch)

    def terminated(client):
        raise SystemExit(143)  # what a SIGTERM handler calling sys.exit raises

    monkeypatch.setattr(runner, "metrics_document", terminated)
    with pytest.raises(SystemExit) as info:
        run_client("acme", notebooks=[], out_dir=tmp_path / "out")
    assert info.value.code == 143
    assert list((tmp_path / "out" / "acme").iterdir()) == []


SLEEPING_NB = [
    "import os, time\n"
    "from pathlib import Path\n"
    "marker = Path(output_dir).parent.parent / 'marker'\n"
    "try:\n"
    "    (marker / 'pid').write_text(str(os.getpid()))\n"
    "    time.sleep(600)\n"
    "finally:\n"
    "    (marker / 'cleaned').write_text('yes')\n",
    "(marker / 'next cell ran').write_text('no!')",
]


def test_ctrl_c_interrupts_the_running_kernel(data_root, tmp_path, monkeypatch) -> None:
    """Ctrl-C while a kernel runs a cell: the cell is interrupted, the kernel shut down."""
    out = tmp_path / "out"
    marker = out / "marker"
    marker.mkdir(parents=True)
    _no_load(monkeypatch)
    landed: list[float] = []

    def ctrl_c_when_the_cell_runs(client, run_dir):
        _wait_for(marker / "pid")
        landed.append(time.monotonic())
        raise KeyboardInterrupt  # where the main thread would get it

    # the main thread writes the rejected rows while the kernels work
    monkeypatch.setattr(runner, "write_rejected", ctrl_c_when_the_cell_runs)
    nb = write_notebook(tmp_path / "nbs" / "01_sleeps.ipynb", SLEEPING_NB)
    with pytest.raises(RunInterrupted):
        run_client("acme", notebooks=[nb], out_dir=out, jobs=1)
    assert time.monotonic() - landed[0] < 15
    pid = int((marker / "pid").read_text())
    assert _all_gone([pid])
    # Interrupted, not killed: the cell's own clean-up ran, and no later cell.
    assert (marker / "cleaned").exists()
    assert not (marker / "next cell ran").exists()
    assert _tmp_folders(out) == []
    assert sorted(p.name for p in (out / "acme").iterdir()) == []


def test_a_stopped_kernel_is_killed_and_no_other_starts(tmp_path) -> None:
    """_RunStop on its own: a kernel that ignores the interrupt is killed after the grace."""
    stop = runner._RunStop()
    stop.grace = 0.5
    marker = tmp_path / "marker"
    marker.mkdir()
    nb = write_notebook(
        tmp_path / "nbs" / "01_stubborn.ipynb",
        [
            "import os, signal, time\n"
            "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
            f"open({str(marker / 'pid')!r}, 'w').write(str(os.getpid()))\n"
            "time.sleep(600)"
        ],
    )
    out_nb = tmp_path / "run" / "01_stubborn.ipynb"
    out_nb.parent.mkdir()
    results = []
    thread = threading.Thread(
        target=lambda: results.append(
            runner._execute_notebook(nb, out_nb, {}, runner.KERNEL_NAME, None, stop)
        )
    )
    thread.start()
    _wait_for(marker / "pid")
    t0 = time.monotonic()
    assert stop.end(30)
    thread.join(30)
    assert not thread.is_alive() and time.monotonic() - t0 < 15
    assert results[0].status == "failed"
    assert _all_gone([int((marker / "pid").read_text())])
    # Once stopped, no notebook starts a kernel.
    later = runner._execute_notebook(nb, out_nb, {}, runner.KERNEL_NAME, None, stop)
    assert later.status == "failed" and "stopped" in (later.error or "")


# ---------------------------------------------------------------- batch


def _interrupt_main_when(path: Path) -> threading.Thread:
    """Ctrl-C as the terminal would send it, once ``path`` exists."""

    def later() -> None:
        _wait_for(path)
        _thread.interrupt_main()

    thread = threading.Thread(target=later, daemon=True)
    thread.start()
    return thread


@pytest.mark.skipif(
    threading.current_thread() is not threading.main_thread()
    or signal.getsignal(signal.SIGINT) is not signal.default_int_handler,
    reason="needs Ctrl-C to reach this thread as KeyboardInterrupt",
)
def test_batch_keeps_completed_runs_and_removes_the_others(
    data_root, tmp_path, monkeypatch
) -> None:
    """jobs=1: 007 completes, acme is stopped in its notebook, beta never starts."""
    _no_load(monkeypatch)
    beta = data_root / "beta"
    beta.mkdir()
    (beta / "client.yaml").write_text("client: beta\n", encoding="utf-8")
    out = tmp_path / "out"
    marker = out / "marker"
    marker.mkdir(parents=True)
    nb = write_notebook(
        tmp_path / "nbs" / "01_acme_sleeps.ipynb",
        [
            "import os, time\n"
            "from pathlib import Path\n"
            "if Path(client).name == 'acme':\n"
            f"    Path({str(marker / 'pid')!r}).write_text(str(os.getpid()))\n"
            "    time.sleep(600)"
        ],
    )
    _interrupt_main_when(marker / "pid")
    with pytest.raises(BatchInterrupted) as info:
        batch(["007", "acme", "beta"], jobs=1, notebooks=[nb], out_dir=out)

    exc = info.value
    assert [r.client for r in exc.completed] == ["007"]
    assert exc.removed == ("acme",) and exc.not_started == ("beta",) and exc.failed == ()
    assert str(exc) == (
        "stopped by Ctrl-C; kept the completed runs of 007; "
        "removed the unfinished runs of acme; not started: beta"
    )
    assert latest_run(out / "007") == exc.completed[0].run_dir
    assert list((out / "acme").iterdir()) == []
    assert not (out / "beta").exists()
    assert _tmp_folders(out) == []
    assert _all_gone([int((marker / "pid").read_text())])


def test_batch_interrupted_message() -> None:
    done = RunResult("007", "failed", 1.0, "20260101T000000Z", Path("/r/007/x"))
    nobody = RunResult("nobody", "failed", 0.0, error="no such client")
    assert str(BatchInterrupted([], ["acme", "beta"], [])) == (
        "stopped by Ctrl-C; no run had completed; removed the unfinished runs of acme, beta"
    )
    assert str(BatchInterrupted([done], [], ["beta"], [nobody])) == (
        "stopped by Ctrl-C; kept the completed runs of 007; not started: beta; "
        "failed before starting: nobody"
    )


# ---------------------------------------------------------------- the CLI

cli = CliRunner()


def _interrupted_run(tmp_path: Path, latest: str | None) -> RunInterrupted:
    return RunInterrupted("acme", tmp_path / "acme", "20261206T101500Z", latest)


@pytest.mark.parametrize("command", ["run", "demo"])
def test_cli_prints_one_line_and_exits_130(command, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("JOURNEY_DATA_DIR", str(tmp_path / "data"))
    stopped = _interrupted_run(tmp_path, "20261205T090000Z")

    def interrupted(*args, **kwargs):
        raise stopped

    monkeypatch.setattr(runner, "run_client", interrupted)
    args = ["run", "acme"] if command == "run" else ["demo", "--accounts", "20"]
    result = cli.invoke(app, args)
    assert result.exit_code == 130, result.output
    assert result.stderr.splitlines()[-1] == f"journey {command}: {stopped}"
    assert "Traceback" not in result.output


def test_cli_before_the_run_folder(monkeypatch) -> None:
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(runner, "run_client", interrupted)
    result = cli.invoke(app, ["run", "acme"])
    assert result.exit_code == 130
    assert result.stderr == (
        "journey run: stopped by Ctrl-C before the run started; no run folder was made\n"
    )


def test_cli_batch_prints_one_line_and_exits_130(monkeypatch) -> None:
    stopped = BatchInterrupted([], ["acme"], ["beta"])

    def interrupted(*args, **kwargs):
        raise stopped

    monkeypatch.setattr(runner, "batch", interrupted)
    result = cli.invoke(app, ["batch", "acme", "beta"])
    assert result.exit_code == 130
    assert result.stderr == f"journey batch: {stopped}\n"
    assert result.stdout == ""  # no summary table


@pytest.fixture(scope="module")
def tiny_client(tmp_path_factory) -> Path:
    from journeylib.sources.synth import synthesize

    path = tmp_path_factory.mktemp("clients") / "tiny"
    synthesize(path, accounts=40, months=3, seed=1, start="2025-01", fmt="csv")
    return path


PROGRESS_LINE = re.compile(r"tiny  0\d_\w+  (started|ok  .*)")


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a process is POSIX")
def test_ctrl_c_during_journey_run(tiny_client, tmp_path) -> None:
    """The real command: SIGINT once its kernels run; one line, exit 130, nothing left."""
    reports = tmp_path / "reports"
    env = {**os.environ, "JOURNEY_REPORTS_DIR": str(reports)}
    env.pop("JOURNEY_STORE_DIR", None)
    exe = Path(sys.executable).with_name("journey")
    proc = subprocess.Popen(
        [str(exe), "run", str(tiny_client)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        kernels: list[int] = []
        while not (_tmp_folders(reports) and kernels):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "no run folder and kernels after 120 s"
            time.sleep(0.05)
            kernels = _kernel_pids(proc.pid)
        time.sleep(1.0)  # into the notebooks
        kernels = sorted(set(kernels) | set(_kernel_pids(proc.pid)))
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()

    assert proc.returncode == 130, stderr
    assert "Traceback" not in stderr + stdout
    lines = stderr.splitlines()
    # One line says it; the lines before it are the progress of the notebooks
    # before Ctrl-C: no kernel's KeyboardInterrupt, no "Kernel died" log.
    assert [line for line in lines if "stopped" in line] == lines[-1:], stderr
    assert lines[-1].startswith("journey run: stopped by Ctrl-C; nothing of this run was kept ("), (
        stderr
    )
    assert lines[-1].endswith("has no earlier run)"), stderr
    noise = [line for line in lines if re.search(r"(?i)error|died|interrupt|failed", line)]
    assert noise == [], stderr
    assert any(PROGRESS_LINE.fullmatch(line) for line in lines), stderr
    assert stdout == ""
    assert _tmp_folders(reports) == []
    assert (
        not list((reports / "tiny").glob("2*")) and not (reports / "tiny" / "latest.txt").exists()
    )
    assert _all_gone(kernels), f"kernels {kernels} still running"
