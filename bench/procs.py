"""Run a ``journey`` command in a child process: wall time and the peak RSS of every process.

``measured(args, env=…)`` runs ``journey <args>`` as this file's child mode
(``python bench/procs.py --hwm-out FILE -- <args>``: ``journeylib.cli.main``
with ``sys.argv = ["journey", *args]``, exactly what the ``journey`` console
script does), then reports:

* ``wall_s``: from start to exit, interpreter start-up and imports included,
  as a user sees ``journey <args>`` take;
* ``exit``: the exit status;
* ``driver_hwm_mb``: the driver's own ``VmHWM`` written at exit (exact: the
  peak RSS of its address space; ``ru_maxrss`` of a child carries the parent's
  high-water mark over fork + exec, see ``run_bench._vm_hwm_mb``);
* ``processes``: every process of the tree (the driver and what it started,
  e.g. the notebook kernels of ``journey run``, found through
  ``/proc/<pid>/task/*/children`` every ``interval`` seconds) with its peak:
  the largest ``VmRSS`` sampled and the last ``VmHWM`` read, whichever is
  larger (``VmHWM`` also covers the peaks between two samples, except in a
  process's last ``interval`` before it exits); the driver's peak is its exact
  ``VmHWM``. Each process also has its ``ppid`` and when it was first and
  last sampled and first showed its peak (seconds after the start). A child
  not yet exec'd after its fork (its command line still its parent's) is not
  counted: its pages and its ``VmHWM`` are its parent's (``forks_skipped``
  counts those samples);
* ``peak_rss_mb``: the largest of those peaks (MiB);
* ``lines``: its output lines (stdout and stderr) with the second each
  arrived, e.g. to time the phases of ``journey ingest`` from its progress
  lines; ``error``: the last line, when it failed.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent


def _status(pid: int) -> dict[str, int] | None:
    """``VmRSS``, ``VmHWM`` (kB) and ``PPid`` of a process, None when it is gone (or a zombie)."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    out = {}
    for line in text.splitlines():
        if line.startswith(("VmRSS:", "VmHWM:", "PPid:")):
            out[line.split(":")[0]] = int(line.split()[1])
    return out if len(out) == 3 else None


def _children(pid: int) -> list[int]:
    kids: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*/children"):
        try:
            kids += [int(x) for x in task.read_text().split()]
        except (OSError, ValueError):
            pass
    return kids


def _tree(root: int) -> list[int]:
    seen, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in seen:
            continue
        seen.append(pid)
        todo += _children(pid)
    return seen


def _cmdline(pid: int) -> bytes | None:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None


def _label(argv: bytes) -> str:
    """A short name of a process from its command line: ``driver``, ``kernel`` or the command."""
    words = [a.decode(errors="replace") for a in argv.split(b"\0") if a]
    if any("ipykernel" in w for w in words):
        return "kernel"
    if any(w.endswith("procs.py") for w in words):
        return "driver"
    return " ".join(words)[:80]


class TreeSampler:
    """Samples the RSS of a process and its descendants every ``interval`` seconds, in a thread.

    A child whose command line is still its parent's has been forked and has
    not exec'd yet: its pages are its parent's (shared), and its ``VmHWM`` is
    its parent's too (a fork copies the high-water mark), so such samples are
    not counted (``forks_skipped``); the process counts from its exec on,
    under the name of what it runs (a notebook kernel starts as a fork of the
    driver).
    """

    def __init__(self, root: int, interval: float = 0.1, t0: float | None = None) -> None:
        self.root = root
        self.interval = interval
        self.peaks: dict[int, dict[str, Any]] = {}
        self.forks_skipped = 0
        self.t0 = time.perf_counter() if t0 is None else t0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> TreeSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def sample(self) -> None:
        now = time.perf_counter() - self.t0
        argvs: dict[int, bytes | None] = {}

        def argv(pid: int) -> bytes | None:
            if pid not in argvs:
                argvs[pid] = _cmdline(pid)
            return argvs[pid]

        for pid in _tree(self.root):
            st = _status(pid)
            mine = argv(pid)
            if st is None or mine is None:
                continue
            if pid != self.root and mine == argv(st["PPid"]):
                self.forks_skipped += 1  # forked, not exec'd yet: the parent's pages
                continue
            p = self.peaks.get(pid)
            if p is None:
                p = self.peaks[pid] = {
                    "pid": pid,
                    "ppid": st["PPid"],
                    "label": _label(mine),
                    "rss_kb": 0,
                    "hwm_kb": 0,
                    "first_s": now,
                    "peak_s": now,
                    "samples": 0,
                }
            if max(st["VmRSS"], st["VmHWM"]) > max(p["rss_kb"], p["hwm_kb"]):
                p["peak_s"] = now  # the first sample that showed the peak so far
            p["rss_kb"] = max(p["rss_kb"], st["VmRSS"])
            p["hwm_kb"] = max(p["hwm_kb"], st["VmHWM"])
            p["last_s"] = now
            p["samples"] += 1

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)


def measured(
    args: list[str],
    *,
    env: dict[str, str] | None = None,
    log: Path | None = None,
    interval: float = 0.1,
) -> dict[str, Any]:
    """Run ``journey <args>`` in a child process; see the module docstring for what is returned.

    ``log``: a file that gets a copy of its output.
    """
    if log is None:
        fd, name = tempfile.mkstemp(prefix="journey-bench-", suffix=".hwm.json")
        os.close(fd)
        hwm = Path(name)
    else:
        hwm = log.with_suffix(".hwm.json")
    hwm.unlink(missing_ok=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--hwm-out", str(hwm), "--", *args]
    lines: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        errors="replace",
    )

    def read() -> None:  # every output line with the second it arrived (stderr is line-buffered)
        assert proc.stdout is not None
        with log.open("w") if log else contextlib.nullcontext() as sink:
            for line in proc.stdout:
                lines.append((time.perf_counter() - t0, line.rstrip("\n")))
                if sink is not None:
                    sink.write(line)

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    with TreeSampler(proc.pid, interval, t0) as sampler:
        proc.wait()
    wall = time.perf_counter() - t0
    reader.join(timeout=10)  # a process it started may still hold the pipe open
    driver_hwm = json.loads(hwm.read_text())["vm_hwm_kb"] if hwm.exists() else None
    hwm.unlink(missing_ok=True)
    processes = []
    for pid, p in sampler.peaks.items():
        peak = max(p["rss_kb"], p["hwm_kb"])
        if pid == proc.pid and driver_hwm:
            peak = max(peak, driver_hwm)
        processes.append(
            {
                "pid": pid,
                "ppid": p["ppid"],
                "label": p["label"],
                "peak_rss_mb": round(peak / 1024, 1),
                "first_s": round(p["first_s"], 2),  # seconds after the start, as sampled
                "last_s": round(p["last_s"], 2),
                "peak_s": round(p["peak_s"], 2),
                "samples": p["samples"],
            }
        )
    out: dict[str, Any] = {
        "exit": proc.returncode,
        "wall_s": wall,
        "driver_hwm_mb": None if driver_hwm is None else driver_hwm / 1024,
        "processes": processes,
        "peak_rss_mb": max((p["peak_rss_mb"] for p in processes), default=None),
        "forks_skipped": sampler.forks_skipped,
    }
    if driver_hwm and out["peak_rss_mb"] is None:
        out["peak_rss_mb"] = driver_hwm / 1024
    if proc.returncode != 0:
        said = [x for _, x in lines if x.strip()]
        out["error"] = f"exit {proc.returncode}: " + (said[-1] if said else "")
    out["lines"] = lines
    return out


def _journey_child(hwm_out: str, args: list[str]) -> None:
    """``journey <args>`` in this process; writes this process's VmHWM to ``hwm_out`` at exit."""

    def write_hwm() -> None:
        st = _status(os.getpid())
        Path(hwm_out).write_text(json.dumps({"vm_hwm_kb": st["VmHWM"] if st else None}))

    atexit.register(write_hwm)
    sys.argv = ["journey", *args]
    from journeylib.cli import main

    sys.exit(main())


if __name__ == "__main__":
    if len(sys.argv) >= 4 and sys.argv[1] == "--hwm-out" and sys.argv[3] == "--":
        _journey_child(sys.argv[2], sys.argv[4:])
    else:
        raise SystemExit("usage: procs.py --hwm-out FILE -- JOURNEY-ARGS…")
