"""Run the seven step notebooks for a client, into a run folder, and assemble the report.

One driver process executes the notebooks with papermill's Python API, several
kernels at a time (a thread pool: each thread drives one kernel, the work runs
in the kernel processes). Parameters go to papermill as a dict, so a client
called ``007`` stays the string ``'007'`` (the CLI would read it as 7).

A run writes into ``reports/<client>/.<run-id>.tmp/`` and renames it to
``reports/<client>/<run-id>/`` only when everything is written, so an
interrupted run never leaves a folder that looks complete. A run whose
notebook failed is still complete: its folder is renamed into place and
``run.json`` says ``"status": "failed"``.

An error raised while computing the metrics document, writing the rejected
rows or assembling the report marks the run failed with a one-line error; the
run folder is still complete.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from journeylib import paths
from journeylib.errors import JourneyError
from journeylib.ingest.client import Client, load_client, write_rejected
from journeylib.metrics import metrics_document
from journeylib.report import assemble, provenance
from journeylib.report.progress import ProgressCallback, ProgressEvent, as_progress
from journeylib.report.warmup import skip_slow_iri_checker

__all__ = [
    "NotebookResult",
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


def _load_client(client_dir: Path) -> Client:
    """The validated client, loaded as ``journey metrics`` loads it.

    Parquet events are loaded lazily (the metrics document then reads them
    streaming, never whole), and their validation is kept in
    ``reports/<client>/.cache/``: the notebooks, which load the client the same
    way, then read it instead of validating again.
    """
    return load_client(client_dir, lazy=True, cache=True)


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


# --------------------------------------------------------------------------- one notebook


def _execute_notebook(
    notebook: Path, out_path: Path, params: dict[str, Any], kernel_name: str, timeout: float | None
) -> NotebookResult:
    """Run one notebook with papermill, in its own folder; never raises for a failure inside it."""
    skip_slow_iri_checker()  # before papermill imports nbformat -> jsonschema
    import papermill as pm
    from papermill.exceptions import PapermillExecutionError

    t0 = time.perf_counter()
    try:
        pm.execute_notebook(
            str(notebook),
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

    Returns:
        The :class:`RunResult`; ``status`` is ``failed`` when a notebook, the metrics
        document, the rejected rows or the report failed. The run folder is
        complete either way.

    Raises:
        JourneyError: the client does not exist or its data has a fatal problem
            (nothing is written then; the CLI prints the one line and exits 2).
    """
    started = provenance.utc_now()
    t0 = time.perf_counter()
    progress = as_progress(progress)
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
        if progress is not None:
            progress(ProgressEvent(folder_name, stage, time.perf_counter() - t0, **kw))

    # A fatal data problem stops here, before any folder exists.
    client = _load_client(client_dir)
    label = _client_label(client, client_dir)

    root = Path(out_dir) if out_dir is not None else paths.reports_dir()
    client_reports = root / folder_name
    run_id, tmp_dir = provenance.claim_run_dir(client_reports, started)
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

    def work(nb: Path) -> NotebookResult:
        emit("notebook_started", notebook=nb.stem)
        res = _execute_notebook(nb, tmp_dir / "notebooks" / nb.name, params, kernel_name, timeout)
        emit(
            "notebook_done",
            notebook=nb.stem,
            status=res.status,
            seconds=res.seconds,
            error=res.error,
        )
        return res

    pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix=f"run-{folder_name}")
    try:
        # Longest first (by the client's previous run): the last notebook to start
        # is then a short one, so the kernels finish close together.
        order = longest_first(
            range(len(nb_paths)), client_reports, names=[p.stem for p in nb_paths]
        )
        futures = {i: pool.submit(work, nb_paths[i]) for i in order}
        # The metrics document is computed in this thread while the kernels work.
        try:
            metrics_doc = metrics_document(client)
            if metrics_doc is not None:
                provenance.write_json(tmp_dir / "metrics.json", metrics_doc)
        except Exception as exc:
            errors.append(f"metrics: {one_line(exc)}")
            metrics_doc = None
        emit("metrics_done", status="failed" if errors else "ok")
        try:
            write_rejected(client, tmp_dir)
        except Exception as exc:
            errors.append(f"rejected rows: {one_line(exc)}")
        results = [futures[i].result() for i in range(len(nb_paths))]  # run.json: given order
    except BaseException:
        # Interrupted: do not wait for the queued notebooks; the folder keeps its
        # .tmp name, so nothing looks complete.
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown(wait=True)

    # Assemble the report from whatever was produced, failures included.
    try:
        assemble.build_report(
            tmp_dir, title=f"Customer journey report: {label}", metrics=metrics_doc, problems=errors
        )
        emit("report_done", status="ok")
    except Exception as exc:
        errors.append(f"report: {one_line(exc)}")
        emit("report_done", status="failed", error=errors[-1])

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
    run_dir = client_reports / run_id
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
    """
    client_list = list(clients)
    if not client_list:
        return []
    progress = as_progress(progress)
    jobs = max(1, jobs)
    side_by_side = min(jobs, len(client_list))
    per_client = max(1, jobs // side_by_side)

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
            )
        except Exception as exc:
            name = Path(str(arg)).name or str(arg)
            err = one_line(exc)
            if progress is not None:
                progress(
                    ProgressEvent(
                        name, "run_done", time.perf_counter() - t0, status="failed", error=err
                    )
                )
            return RunResult(
                client=name, status="failed", seconds=time.perf_counter() - t0, error=err
            )

    with ThreadPoolExecutor(max_workers=side_by_side, thread_name_prefix="batch") as pool:
        return list(pool.map(one, client_list))


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
