"""Run the seven step notebooks for a client, into a run folder, and assemble the report.

One driver process executes the notebooks with papermill's Python API, several
kernels at a time (a thread pool: each thread drives one kernel, the work runs
in the kernel processes). Parameters go to papermill as a dict, so a client
called ``007`` stays the string ``'007'`` (the CLI would read it as 7).

A run reads the client from its store (:func:`journeylib.store.ensure_store`:
built first, with a progress line per step, when missing or stale), computes
the metrics document once and writes ``metrics.json`` before the notebooks
start; each notebook's ``setup`` reads that file instead of computing the
document again, and reads the stored journey stream lazily.

A run writes into ``reports/<client>/.<run-id>.tmp/`` and renames it to
``reports/<client>/<run-id>/`` only when everything is written, so an
interrupted run never leaves a folder that looks complete. A run whose
notebook failed is still complete: its folder is renamed into place and
``run.json`` says ``"status": "failed"``.

An error raised while computing the metrics document, writing the rejected
rows or assembling the report marks the run failed with a one-line error; the
run folder is still complete.

Ctrl-C stops a run cleanly: the queued notebooks never start, the running
kernels are interrupted and shut down, or killed when they do not stop within
two seconds (they run in sessions of their own: the terminal's SIGINT never
reaches them), the ``.<run-id>.tmp`` folder is removed and
:class:`RunInterrupted` (a KeyboardInterrupt) says what was kept: the earlier
runs and ``latest.txt`` are untouched. In a batch, the runs that completed are
kept and the others removed (:class:`BatchInterrupted`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from journeylib import paths
from journeylib.errors import JourneyError
from journeylib.i18n import gettext, use_language
from journeylib.ingest.client import Client, write_rejected
from journeylib.metrics import metrics_document, with_period
from journeylib.report import assemble, provenance
from journeylib.report.pdf import write_pdf, write_pdf_check
from journeylib.report.progress import ProgressCallback, ProgressEvent, as_progress
from journeylib.report.warmup import skip_slow_iri_checker
from journeylib.store import ensure_store

__all__ = [
    "BatchInterrupted",
    "NotebookResult",
    "RunInterrupted",
    "RunResult",
    "batch",
    "discover_notebooks",
    "latest_run",
    "longest_first",
    "previous_seconds",
    "run_client",
    "summary_table",
]

Status = Literal["ok", "failed"]

NOTEBOOK_GLOB = "0[1-7]_*.ipynb"
KERNEL_NAME = "python3"
# Quiets the kernels' own start-up warnings (e.g. "running over TCP without
# encryption"), which would otherwise interleave with the progress lines.
_KERNEL_ARGS = ["--IPKernelApp.log_level=CRITICAL"]
# Start-up work done once per run instead of once per kernel (see journeylib.report.warmup):
# loaded as an IPython extension, so nothing shows in the notebook itself.
_WARMUP_ARGS = ["--IPKernelApp.extensions=journeylib.report.warmup"]
_PARAM_TYPES = (str, int, float, bool, type(None), list, dict)
# After Ctrl-C, how long to wait for the notebook threads to let go of the run
# folder before removing it anyway (a killed kernel is noticed within a second).
_STOP_WAIT = 30.0


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class NotebookResult:
    """The outcome of one executed notebook."""

    name: str
    status: Status
    seconds: float
    error: str | None = None
    path: Path | None = None

    def to_json(self) -> dict[str, Any]:
        """The ``run.json`` entry of this notebook."""
        return {
            "name": self.name,
            "status": self.status,
            "seconds": round(self.seconds, 3),
            "error": self.error,
        }


@dataclass(frozen=True)
class RunResult:
    """The outcome of one client's run.

    ``run_dir`` is None when the run never started (unknown client, fatal data
    error); ``error`` then says why, in one line.
    """

    client: str
    status: Status
    seconds: float
    run_id: str | None = None
    run_dir: Path | None = None
    client_dir: Path | None = None
    notebooks: tuple[NotebookResult, ...] = ()
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when every notebook and every output succeeded."""
        return self.status == "ok"

    @property
    def report(self) -> Path | None:
        """The path of ``report.html`` (None when the run never started)."""
        return self.run_dir / "report.html" if self.run_dir else None


def _shown(folder: Path) -> str:
    """A folder as the user knows it: relative to the working directory when under it."""
    with contextlib.suppress(ValueError, OSError):
        folder = folder.resolve().relative_to(Path.cwd().resolve())
    return f"{folder}{os.sep}"


class RunInterrupted(KeyboardInterrupt):
    """A run stopped by Ctrl-C, after its kernels were stopped and its folder removed.

    Nothing else changed under ``reports/<client>/``: its earlier runs and
    ``latest.txt`` are as they were. ``kept`` is set instead when Ctrl-C came
    after the run folder got its real name: the run is complete and kept.

    Attributes:
        client: the client's folder name.
        client_reports: ``reports/<client>/``.
        run_id: the id of the stopped run.
        latest: the run ``latest.txt`` points at, None when the client has no complete run.
        kept: the folder of the completed run, or None (the usual case).
    """

    def __init__(
        self,
        client: str,
        client_reports: Path,
        run_id: str,
        latest: str | None,
        kept: Path | None = None,
    ) -> None:
        self.client = client
        self.client_reports = client_reports
        self.run_id = run_id
        self.latest = latest
        self.kept = kept
        super().__init__(self._message())

    def _message(self) -> str:
        if self.kept is not None:
            return f"stopped by Ctrl-C after the run completed; kept {_shown(self.kept)}"
        where = _shown(self.client_reports)
        earlier = (
            f"{where} keeps its earlier runs; latest: {self.latest}"
            if self.latest
            else f"{where} has no earlier run"
        )
        return f"stopped by Ctrl-C; nothing of this run was kept ({earlier})"


class BatchInterrupted(KeyboardInterrupt):
    """A batch stopped by Ctrl-C: the runs that completed are kept, the others removed.

    Attributes:
        completed: the runs that completed (ok or failed), their folders kept.
        removed: the clients whose unfinished run folder was removed.
        not_started: the clients whose run had not started (no folder made).
        failed: the clients that failed before a run folder was made (unknown
            client, fatal data error), as their :class:`RunResult`.
    """

    def __init__(
        self,
        completed: Sequence[RunResult],
        removed: Sequence[str],
        not_started: Sequence[str],
        failed: Sequence[RunResult] = (),
    ) -> None:
        self.completed = tuple(completed)
        self.removed = tuple(removed)
        self.not_started = tuple(not_started)
        self.failed = tuple(failed)
        super().__init__(self._message())

    def _message(self) -> str:
        parts = ["stopped by Ctrl-C"]
        if self.completed:
            names = ", ".join(r.client for r in self.completed)
            parts.append(f"kept the completed runs of {names}")
        else:
            parts.append("no run had completed")
        if self.removed:
            parts.append(f"removed the unfinished runs of {', '.join(self.removed)}")
        if self.not_started:
            parts.append(f"not started: {', '.join(self.not_started)}")
        if self.failed:
            parts.append(f"failed before starting: {', '.join(r.client for r in self.failed)}")
        return "; ".join(parts)


# --------------------------------------------------------------------------- helpers


def discover_notebooks(notebooks_dir: Path | None = None) -> list[Path]:
    """The step notebooks ``01_*.ipynb`` … ``07_*.ipynb``, in order.

    Args:
        notebooks_dir: where to look; default ``notebooks/`` under the project root.
    """
    folder = Path(notebooks_dir) if notebooks_dir else paths.PROJ_ROOT / "notebooks"
    return sorted(folder.glob(NOTEBOOK_GLOB))


def latest_run(client_reports_dir: Path) -> Path | None:
    """The newest complete run folder of a client (from ``latest.txt``), or None."""
    pointer = Path(client_reports_dir) / "latest.txt"
    if not pointer.is_file():
        return None
    run = Path(client_reports_dir) / pointer.read_text(encoding="utf-8").strip()
    return run if run.is_dir() else None


def previous_seconds(client_reports_dir: Path) -> dict[str, float]:
    """Seconds per notebook in the client's latest run (``run.json``), empty when none."""
    run = latest_run(client_reports_dir)
    if run is None:
        return {}
    try:
        doc = json.loads((run / "run.json").read_text(encoding="utf-8"))
        return {
            str(n["name"]): float(n["seconds"])
            for n in doc.get("notebooks", [])
            if isinstance(n, dict) and isinstance(n.get("seconds"), int | float)
        }
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return {}


def longest_first(
    notebooks: Iterable[Any], client_reports_dir: Path, *, names: Sequence[str] | None = None
) -> list[Any]:
    """The notebooks in the order to start them: the longest of the previous run first.

    Notebooks the previous run did not time (or every notebook, on a client's
    first run) come first, in the given order: an unknown one may be long.

    Args:
        notebooks: notebook paths (or any items, with ``names`` giving their stems).
        client_reports_dir: ``reports/<client>/``, where the previous run is.
        names: the notebook names of the items; default each path's stem.

    Examples:
        >>> import tempfile
        >>> nbs = [Path("01_a.ipynb"), Path("02_b.ipynb")]
        >>> [p.name for p in longest_first(nbs, Path(tempfile.mkdtemp()))]
        ['01_a.ipynb', '02_b.ipynb']
    """
    items = list(notebooks)
    stems = list(names) if names is not None else [Path(p).stem for p in items]
    seconds = previous_seconds(client_reports_dir)
    unknown = [i for i, stem in enumerate(stems) if stem not in seconds]
    # sorted() is stable: equal times keep the given order.
    known = sorted(
        (i for i, stem in enumerate(stems) if stem in seconds), key=lambda i: -seconds[stems[i]]
    )
    return [items[i] for i in unknown + known]


def one_line(exc: BaseException) -> str:
    """An exception as one line: ``Type: message`` (the message of a JourneyError alone)."""
    if isinstance(exc, JourneyError):
        return str(exc)
    text = " ".join(str(exc).split())
    name = type(exc).__name__
    return f"{name}: {text}" if text else name


def _notebook_error(exc: BaseException) -> str:
    """One line for a failed notebook: the exception raised inside the kernel."""
    ename = getattr(exc, "ename", None)
    if ename:  # PapermillExecutionError: the kernel's exception, not papermill's wrapper
        evalue = " ".join(str(getattr(exc, "evalue", "")).split())
        return f"{ename}: {evalue}" if evalue else ename
    return one_line(exc)


def _load_client(client_dir: Path, say: Callable[[str], None] | None = None) -> Client:
    """The client as every command reads it: from its store, built first when missing or stale."""
    return ensure_store(client_dir, progress=say).client()


def _check_parameters(params: Mapping[str, Any]) -> dict[str, Any]:
    """Parameters must be plain data: they are written into a notebook cell as literals."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if not key.isidentifier():
            raise ValueError(f"notebook parameter name {key!r} is not a Python identifier")
        if not isinstance(value, _PARAM_TYPES):
            raise TypeError(
                f"notebook parameter {key!r} must be plain data (str, int, float, bool, None, "
                f"list, dict), got {type(value).__name__}"
            )
        out[key] = value
    return out


def _client_label(client: Any, client_dir: Path) -> str:
    config = getattr(client, "config", None)
    name = getattr(config, "client", None)
    return str(name) if name else client_dir.name


# --------------------------------------------------------------------------- stopping


class _Stopped(RuntimeError):
    """A notebook, its kernel or its next cell not started, because the run was stopped."""


_SIGKILL = getattr(signal, "SIGKILL", signal.SIGTERM)


def _signal_kernel(km: Any, signum: int) -> None:
    """Send a signal to a kernel and what it started, from any thread.

    SIGINT interrupts the running cell, as Jupyter's interrupt button does;
    SIGKILL is ``km.shutdown_kernel(now=True)``. The kernel manager belongs to
    the thread running the notebook, on that thread's event loop: from another
    thread only a signal is safe. The kernel leads a process group of its own
    (jupyter_client starts it in a new session, which is also why the
    terminal's Ctrl-C never reaches it), so the signal goes to the group.
    """
    provisioner = getattr(km, "provisioner", None)
    process = getattr(provisioner, "process", None)
    if process is None:
        return
    try:
        if process.poll() is not None:  # already ended: its pid may be reused
            return
        pgid = getattr(provisioner, "pgid", None)
        if pgid and hasattr(os, "killpg") and pgid != os.getpgrp():
            os.killpg(pgid, signum)
        elif signum == _SIGKILL:
            process.kill()
        else:
            process.send_signal(signum)
    except (OSError, ValueError):  # ended meanwhile; a signal Windows cannot send
        pass


class _RunStop:
    """Stops the kernels of a run (or of every run of a batch) when the user presses Ctrl-C.

    Each notebook runs inside :meth:`notebook`, which gives papermill a kernel
    manager class that records the kernel it starts and a hook that lets no
    cell start once stopped. :meth:`end` interrupts every recorded kernel, kills
    those still running after a grace period, and returns when the notebook
    threads are done: nothing writes into the run folders after that.
    """

    #: Seconds an interrupted kernel has to finish its cell and shut down before it is killed.
    grace = 2.0

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._stopped = False
        self._busy = 0
        self._kernels: set[Any] = set()
        self._ready: set[Any] = set()  # the kernels that replied: SIGINT interrupts a cell

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopped

    def check(self) -> None:
        """Raise KeyboardInterrupt when stopped: a batch's run stops where Ctrl-C would stop it."""
        if self._stopped:
            raise KeyboardInterrupt

    def stop(self) -> None:
        """Interrupt every running kernel (once); no notebook, kernel or cell starts after this.

        The interrupted cell fails, papermill shuts its kernel down as after any
        failure, and the code in the kernel had a chance to clean up after itself.
        """
        with self._cond:
            if self._stopped:
                return
            self._stopped = True
            kernels = [(km, km in self._ready) for km in self._kernels]
        for km, ready in kernels:
            # A kernel still starting would print the KeyboardInterrupt of its imports.
            _signal_kernel(km, signal.SIGINT if ready else _SIGKILL)

    def end(self, timeout: float | None = None) -> bool:
        """Stop, kill the kernels still running after :attr:`grace` seconds, wait for the notebooks.

        Returns:
            False when the notebook threads were still busy after ``timeout`` more seconds.
        """
        self.stop()
        if self._wait_idle(self.grace):
            return True
        with self._cond:
            kernels = list(self._kernels)
        for km in kernels:
            _signal_kernel(km, _SIGKILL)
        return self._wait_idle(timeout)

    def _wait_idle(self, timeout: float | None) -> bool:
        with self._cond:
            return self._cond.wait_for(lambda: self._busy == 0, timeout)

    @contextlib.contextmanager
    def notebook(self) -> Iterator[dict[str, Any]]:
        """Around one notebook: yields the keyword arguments papermill passes on to nbclient.

        Raises:
            _Stopped: the run is stopped; no kernel was started.
        """
        from jupyter_client import AsyncKernelManager  # nbclient's default kernel manager

        run_stop = self
        started: list[Any] = []

        class JourneyKernelManager(AsyncKernelManager):
            async def start_kernel(self, **kw: Any) -> None:
                run_stop._starting()
                await super().start_kernel(**kw)
                run_stop._started(self, started)

        def on_notebook_start(**_: Any) -> None:  # the kernel replied: it is ready
            with run_stop._cond:
                run_stop._ready.update(started)

        def on_cell_start(**_: Any) -> None:
            run_stop._starting()  # raised out of nbclient: the kernel is shut down

        with self._cond:
            self._starting()
            self._busy += 1
        try:
            yield {
                "kernel_manager_class": JourneyKernelManager,
                "on_notebook_start": on_notebook_start,
                "on_cell_start": on_cell_start,
            }
        finally:
            with self._cond:
                # Forgotten when the notebook is over: a pid that ended may be reused.
                self._kernels.difference_update(started)
                self._ready.difference_update(started)
                self._busy -= 1
                self._cond.notify_all()

    def _starting(self) -> None:
        if self._stopped:
            raise _Stopped("the run was stopped")

    def _started(self, km: Any, started: list[Any]) -> None:
        with self._cond:
            self._kernels.add(km)
            started.append(km)
            stopped = self._stopped
        if stopped:  # stopped while the kernel was starting: it has run nothing yet
            _signal_kernel(km, _SIGKILL)


def _results(futures: Sequence[Future[Any]]) -> list[Any]:
    """The futures' results, in order, waiting in quarter seconds.

    Ctrl-C's SIGINT can land on any thread of the process (polars, tokio and
    zmq threads too); the main thread then sees it only when it next runs
    Python code, which one long wait for a result would put off for seconds.
    """
    pending: Iterable[Future[Any]] = futures
    while pending:
        pending = wait(pending, timeout=0.25).not_done
    return [f.result() for f in futures]


class _DropAll(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return False


@contextlib.contextmanager
def _kernel_logs_quiet() -> Iterator[None]:
    """The logs of papermill and jupyter_client dropped inside: a stopped kernel is no news.

    nbclient logs "Kernel died …" for every kernel stopped; without a logging
    setup, Python would print those lines on stderr next to the one that says
    the run was stopped.
    """
    loggers = [logging.getLogger(name) for name in ("papermill", "traitlets")]
    drop = _DropAll()  # one of its own: a batch's runs nest these
    for logger in loggers:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(drop)


@contextlib.contextmanager
def _no_ctrl_c() -> Iterator[None]:
    """Ctrl-C ignored inside (the main thread only: no other thread gets a KeyboardInterrupt).

    Around the few steps that must not be cut in two: removing a stopped run,
    naming a complete one and pointing ``latest.txt`` at it.
    """
    previous: Any = None
    if threading.current_thread() is threading.main_thread():
        with contextlib.suppress(ValueError, OSError):
            handler = signal.getsignal(signal.SIGINT)
            if handler is not None:  # None: a handler Python cannot put back
                signal.signal(signal.SIGINT, signal.SIG_IGN)
                previous = handler
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def _removed_if_stopped(
    stop: _RunStop, tmp_dir: Path, run_id: str, *, client: str, client_reports: Path
) -> Iterator[None]:
    """Around everything a run does in its claimed folder: Ctrl-C removes the folder.

    A KeyboardInterrupt anywhere inside (the user's Ctrl-C, or a stopped batch)
    stops the run's kernels (:meth:`_RunStop.end`), waits for its notebook
    threads, removes ``tmp_dir`` and raises :class:`RunInterrupted`. A
    SystemExit (a signal handler's) does the same and goes on as it came.
    Earlier runs and ``latest.txt`` are never touched.
    """
    try:
        yield
    except (KeyboardInterrupt, SystemExit) as exc:
        with _no_ctrl_c(), _kernel_logs_quiet():
            stop.end(_STOP_WAIT)
            for _ in range(3):  # a thread past the wait may still write into it
                shutil.rmtree(tmp_dir, ignore_errors=True)
                if not tmp_dir.exists():
                    break
                time.sleep(0.5)
        if isinstance(exc, SystemExit):
            raise
        run_dir = client_reports / run_id
        latest = latest_run(client_reports)
        raise RunInterrupted(
            client,
            client_reports,
            run_id,
            latest.name if latest else None,
            kept=run_dir if run_dir.is_dir() else None,
        ) from None


# --------------------------------------------------------------------------- one notebook


def _execute_notebook(
    notebook: Path,
    out_path: Path,
    params: dict[str, Any],
    kernel_name: str,
    timeout: float | None,
    stop: _RunStop | None = None,
    *,
    language: str = "en",
    sources_dir: Path | None = None,
) -> NotebookResult:
    """Run one notebook with papermill, in its own folder; never raises for a failure inside it.

    ``stop`` (the run's) can kill the kernel from another thread; the notebook then
    fails with the kernel's death, or with ``_Stopped`` when it had not started.

    In a ``language`` other than ``en``, papermill executes the notebook's
    translation (:func:`journeylib.report.translate.translate_notebook`: its
    markdown cells from ``notebooks.po``), written to ``sources_dir/<name>``
    (default ``.sources/`` beside ``out_path``); the kernel still starts in the
    notebook's own folder and the result is still named after ``notebook``.
    """
    skip_slow_iri_checker()  # before papermill imports nbformat -> jsonschema
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    # Here, not at the top: `python -m journeylib.report.translate` imports journeylib.report first.
    from journeylib.report.translate import translate_notebook

    stop = stop if stop is not None else _RunStop()
    t0 = time.perf_counter()
    try:
        source = translate_notebook(
            notebook, (sources_dir or out_path.parent / ".sources") / notebook.name, language
        )
        with stop.notebook() as stoppable:
            pm.execute_notebook(
                str(source),
                str(out_path),
                parameters=params,
                kernel_name=kernel_name,
                language="python",
                progress_bar=False,
                log_output=False,
                # papermill's own ``cwd=`` does os.chdir in the driver, which races
                # between threads; nbclient's resources path starts the kernel there.
                resources={"metadata": {"path": str(notebook.parent)}},
                extra_arguments=[*_KERNEL_ARGS, *_WARMUP_ARGS],
                execution_timeout=timeout,
                # Passed on to nbclient: records the kernel, so that Ctrl-C can stop it.
                **stoppable,
            )
    except PapermillExecutionError as exc:
        # papermill saved the executed notebook with the error before raising.
        return NotebookResult(
            notebook.stem, "failed", time.perf_counter() - t0, _notebook_error(exc), out_path
        )
    except Exception as exc:  # kernel died, timeout, unreadable notebook
        return NotebookResult(
            notebook.stem,
            "failed",
            time.perf_counter() - t0,
            one_line(exc),
            out_path if out_path.exists() else None,
        )
    return NotebookResult(notebook.stem, "ok", time.perf_counter() - t0, None, out_path)


# --------------------------------------------------------------------------- one client


def run_client(
    client_arg: str | Path,
    *,
    out_dir: str | Path | None = None,
    jobs: int = 2,
    notebooks: Sequence[str | Path] | None = None,
    progress: ProgressCallback | Any | None = None,
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str = KERNEL_NAME,
    timeout: float | None = None,
    pdf: bool | None = None,
    _stop: _RunStop | None = None,
) -> RunResult:
    """Execute the step notebooks for one client and assemble its report.

    Args:
        client_arg: a client name under ``data/`` or a path to a client folder.
        out_dir: the reports root; the run goes to ``<out_dir>/<client>/<run-id>/``.
            Default ``reports/`` (``journeylib.paths.reports_dir()``).
        jobs: notebooks executed at the same time (one kernel each).
        notebooks: the notebooks to run, in order; default ``notebooks/0[1-7]_*.ipynb``.
        progress: called with a :class:`ProgressEvent` at each step (from worker
            threads too: it must be thread-safe, as :class:`~journeylib.report.progress.ConsoleProgress` is);
            a rich ``Console`` is accepted and gets one line per step.
        parameters: extra notebook parameters, or overrides of the standard ones
            (``client``, ``data_dir``, ``output_dir``, ``period_start``, ``period_end``).
        kernel_name: the Jupyter kernel to execute with.
        timeout: seconds a single cell may run (None: no limit).
        pdf: also print ``report.pdf`` (:mod:`journeylib.report.pdf`); None
            follows ``pdf:`` of client.yaml.

    A client whose ``language`` (client.yaml) is not ``en`` gets the notebooks'
    prose in that language: each notebook is first translated into
    ``<run folder>/.sources/`` and that copy is executed (into
    ``notebooks/<name>.ipynb`` as always); ``.sources/`` is removed once the
    notebooks are done, before the report is assembled.

    Returns:
        The :class:`RunResult`; ``status`` is ``failed`` when a notebook, the metrics
        document, the rejected rows or the report failed. The run folder is
        complete either way.

    Raises:
        JourneyError: the client does not exist or its data has a fatal problem
            (nothing is written then; the CLI prints the one line and exits 2).
        RunInterrupted: Ctrl-C after the run folder was claimed: the kernels were
            stopped and the folder removed (a KeyboardInterrupt before that goes
            on as it came: no folder existed yet).
    """
    started = provenance.utc_now()
    t0 = time.perf_counter()
    progress = as_progress(progress)
    # A batch passes the one stop of all its runs; its Ctrl-C stops them all.
    stop = _stop if _stop is not None else _RunStop()
    client_dir = paths.resolve_client_dir(client_arg)
    folder_name = provenance.safe_folder_name(client_dir.name)
    nb_paths = [Path(p).resolve() for p in notebooks] if notebooks is not None else None
    if nb_paths is None:
        nb_paths = discover_notebooks()
    missing = [p for p in nb_paths if not p.is_file()]
    if missing:
        raise JourneyError(
            "notebook not found",
            where=str(missing[0]),
            expected="an existing .ipynb file",
            found="nothing at that path",
            fix="check the notebooks/ folder of the project",
        )

    def emit(stage: str, **kw: Any) -> None:
        if progress is not None and not stop.stopped:  # stopped: one line says it all
            progress(ProgressEvent(folder_name, stage, time.perf_counter() - t0, **kw))

    # The client's store, built first when missing or stale (a line per step). A fatal data
    # problem stops here, before any folder exists.
    client = _load_client(client_dir, lambda line: emit("store", message=line.split(": ", 1)[-1]))
    label = _client_label(client, client_dir)
    if client.config.pdf if pdf is None else pdf:
        write_pdf_check()  # no browser to print with: say so before any notebook runs

    root = Path(out_dir) if out_dir is not None else paths.reports_dir()
    client_reports = root / folder_name
    stop.check()  # a stopped batch starts no other run
    run_id, tmp_dir = provenance.claim_run_dir(client_reports, started)
    # From here on, Ctrl-C removes the run folder (and says so, in RunInterrupted).
    with _removed_if_stopped(
        stop, tmp_dir, run_id, client=folder_name, client_reports=client_reports
    ):
        (tmp_dir / "notebooks").mkdir()
        (tmp_dir / "charts").mkdir()
        emit("run_started")

        params: dict[str, Any] = {
            "client": str(client_dir),
            "data_dir": str(client_dir.parent),
            "output_dir": str(tmp_dir),
            "period_start": "",
            "period_end": "",
        }
        params.update(_check_parameters(parameters or {}))

        errors: list[str] = []
        results: list[NotebookResult] = []
        metrics_doc: dict[str, Any] | None = None
        # The translated notebooks of a run in another language: what papermill reads.
        sources = tmp_dir / ".sources"

        def work(nb: Path) -> NotebookResult:
            emit("notebook_started", notebook=nb.stem)
            res = _execute_notebook(
                nb,
                tmp_dir / "notebooks" / nb.name,
                params,
                kernel_name,
                timeout,
                stop,
                language=client.config.language,
                sources_dir=sources,
            )
            emit(
                "notebook_done",
                notebook=nb.stem,
                status=res.status,
                seconds=res.seconds,
                error=res.error,
            )
            return res

        # The metrics document, once, before the notebooks: they read it from metrics.json
        # (present.notebook.setup) instead of computing it again, each in its kernel.
        try:
            metrics_doc = metrics_document(
                with_period(client, params["period_start"], params["period_end"])
            )
            if metrics_doc is not None:
                provenance.write_json(tmp_dir / "metrics.json", metrics_doc)
        except Exception as exc:  # the notebooks then compute it themselves, and fail alike
            errors.append(f"metrics: {one_line(exc)}")
            metrics_doc = None
        emit("metrics_done", status="failed" if errors else "ok")

        pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix=f"run-{folder_name}")
        try:
            # Longest first (by the client's previous run): the last notebook to start
            # is then a short one, so the kernels finish close together.
            order = longest_first(
                range(len(nb_paths)), client_reports, names=[p.stem for p in nb_paths]
            )
            futures = {i: pool.submit(work, nb_paths[i]) for i in order}
            try:
                write_rejected(client, tmp_dir)
            except Exception as exc:
                errors.append(f"rejected rows: {one_line(exc)}")
            results = _results([futures[i] for i in range(len(nb_paths))])  # run.json: given order
        except BaseException:
            # Interrupted: the queued notebooks never start; _removed_if_stopped
            # kills the running kernels and removes the folder.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown(wait=True)
        shutil.rmtree(sources, ignore_errors=True)  # not part of the run's output
        stop.check()  # a stopped batch: the notebooks failed for that, not for a fault

        # Assemble the report from whatever was produced, failures included.
        try:
            with use_language(client.config.language):
                assemble.build_report(
                    tmp_dir,
                    title=gettext("Customer journey report: {client}").format(client=label),
                    analysis_title=gettext("Customer journey analysis: {client}").format(
                        client=label
                    ),
                    metrics=metrics_doc,
                    problems=errors,
                    metric_ids=[k for s in client.template.stages for k in s.kpis],
                )
            emit("report_done", status="ok")
        except Exception as exc:
            errors.append(f"report: {one_line(exc)}")
            emit("report_done", status="failed", error=errors[-1])
        if (client.config.pdf if pdf is None else pdf) and (tmp_dir / "report.html").is_file():
            try:
                write_pdf(tmp_dir / "report.html", tmp_dir / "report.pdf")
                emit("pdf_done", status="ok")
            except Exception as exc:
                errors.append(f"report.pdf: {one_line(exc)}")
                emit("pdf_done", status="failed", error=errors[-1])

        failed_nbs = [r for r in results if r.status == "failed"]
        errors[:0] = [f"{r.name}: {r.error}" for r in failed_nbs]
        status: Status = "failed" if errors else "ok"
        finished = provenance.utc_now()
        seconds = time.perf_counter() - t0
        run_doc = {
            "run_id": run_id,
            "client": label,
            "client_dir": str(client_dir),
            "status": status,
            "error": "; ".join(errors) if errors else None,
            "started_at": provenance.utc_iso(started),
            "finished_at": provenance.utc_iso(finished),
            "seconds": round(seconds, 3),
            "parameters": {**params, "output_dir": str(client_reports / run_id)},
            "jobs": max(1, jobs),
            "kernel_name": kernel_name,
            "inputs": provenance.input_manifest(client_dir),
            "versions": provenance.package_versions(),
            "notebooks": [r.to_json() for r in results],
        }
        provenance.write_json(tmp_dir / "run.json", run_doc)

        # The only moment the folder gets its real name: everything is written.
        stop.check()
        run_dir = client_reports / run_id
        with _no_ctrl_c():  # named and pointed at together
            tmp_dir.rename(run_dir)
            _point_latest(client_reports, run_id)
        results = [
            NotebookResult(
                r.name,
                r.status,
                r.seconds,
                r.error,
                run_dir / "notebooks" / r.path.name if r.path else None,
            )
            for r in results
        ]
        emit("run_done", status=status, error=run_doc["error"])
        return RunResult(
            client=folder_name,
            status=status,
            seconds=seconds,
            run_id=run_id,
            run_dir=run_dir,
            client_dir=client_dir,
            notebooks=tuple(results),
            error=run_doc["error"],
        )


_LATEST_LOCK = threading.Lock()


def _point_latest(client_reports: Path, run_id: str) -> None:
    """Point ``latest.txt`` at the run that completed last (ok or failed)."""
    with _LATEST_LOCK:
        part = client_reports / f".latest.txt.{run_id}.part"
        part.write_text(run_id + "\n", encoding="utf-8")
        part.replace(client_reports / "latest.txt")


# --------------------------------------------------------------------------- many clients


def batch(
    clients: Iterable[str | Path],
    *,
    jobs: int = 2,
    out_dir: str | Path | None = None,
    notebooks: Sequence[str | Path] | None = None,
    progress: ProgressCallback | Any | None = None,
    parameters: Mapping[str, Any] | None = None,
    kernel_name: str = KERNEL_NAME,
    timeout: float | None = None,
) -> list[RunResult]:
    """:func:`run_client` for many clients; one client's failure never stops the others.

    ``jobs`` is the total number of kernels at a time: with several clients, up
    to ``jobs`` clients run side by side, each with ``jobs // clients_at_once``
    notebook workers (at least one).

    Returns:
        One :class:`RunResult` per client, in the order given. A client that
        could not start (unknown name, fatal data error, any exception) has
        ``status='failed'``, ``run_dir=None`` and its one-line ``error``.

    Raises:
        BatchInterrupted: Ctrl-C: every kernel was stopped, the runs that had
            completed are kept, the others' folders removed, the queued never started.
    """
    client_list = list(clients)
    if not client_list:
        return []
    progress = as_progress(progress)
    jobs = max(1, jobs)
    side_by_side = min(jobs, len(client_list))
    per_client = max(1, jobs // side_by_side)
    stop = _RunStop()  # Ctrl-C in this thread stops every run of the batch

    def one(arg: str | Path) -> RunResult:
        t0 = time.perf_counter()
        try:
            return run_client(
                arg,
                out_dir=out_dir,
                jobs=per_client,
                notebooks=notebooks,
                progress=progress,
                parameters=parameters,
                kernel_name=kernel_name,
                timeout=timeout,
                _stop=stop,
            )
        except Exception as exc:
            name = Path(str(arg)).name or str(arg)
            err = one_line(exc)
            if progress is not None and not stop.stopped:
                progress(
                    ProgressEvent(
                        name, "run_done", time.perf_counter() - t0, status="failed", error=err
                    )
                )
            return RunResult(
                client=name, status="failed", seconds=time.perf_counter() - t0, error=err
            )

    pool = ThreadPoolExecutor(max_workers=side_by_side, thread_name_prefix="batch")
    futures = [pool.submit(one, arg) for arg in client_list]
    try:
        results = _results(futures)
    except (KeyboardInterrupt, SystemExit) as exc:
        with _no_ctrl_c(), _kernel_logs_quiet():
            pool.shutdown(wait=False, cancel_futures=True)
            stop.end(_STOP_WAIT)
            pool.shutdown(wait=True)  # each stopped run removes its own folder
        if isinstance(exc, SystemExit):
            raise
        raise _batch_interrupted(client_list, futures) from None
    pool.shutdown(wait=True)
    return results


def _batch_interrupted(clients: Sequence[str | Path], futures: Sequence[Any]) -> BatchInterrupted:
    """What a stopped batch kept, removed and never started, from its runs' futures."""
    completed: list[RunResult] = []
    failed: list[RunResult] = []
    removed: list[str] = []
    not_started: list[str] = []
    for arg, fut in zip(clients, futures, strict=True):
        exc = None if fut.cancelled() else fut.exception()
        if fut.cancelled():
            not_started.append(Path(str(arg)).name or str(arg))
        elif exc is None:
            result = fut.result()
            (completed if result.run_dir is not None else failed).append(result)
        elif isinstance(exc, RunInterrupted):  # (its kept is None: it stops before naming)
            removed.append(exc.client)
        else:  # stopped before its run folder was made
            not_started.append(Path(str(arg)).name or str(arg))
    return BatchInterrupted(completed, removed, not_started, failed)


def summary_table(results: Sequence[RunResult]) -> Any:
    """A rich Table of a batch: client, status, notebooks ok/total, seconds, report or error."""
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="Journey runs", show_lines=False)
    table.add_column("client")
    table.add_column("status")
    table.add_column("notebooks", justify="right")
    table.add_column("seconds", justify="right")
    table.add_column("report / error", overflow="fold")
    for r in results:
        ok_nbs = sum(1 for n in r.notebooks if n.status == "ok")
        style = "green" if r.ok else "red"
        detail = str(r.report) if r.ok and r.report else (r.error or "")
        table.add_row(
            escape(r.client),
            f"[{style}]{r.status}[/]",
            f"{ok_nbs}/{len(r.notebooks)}" if r.notebooks else "-",
            f"{r.seconds:.1f}",
            escape(detail),
        )
    return table
