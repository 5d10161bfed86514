"""Orchestration: run the step notebooks, keep the run folder, assemble report.html.

The top floor of journeylib: it starts kernels and writes files; nothing below
imports it.
"""

from journeylib.report.assemble import build_report, executive_summary, render_notebook
from journeylib.report.runner import (
    ConsoleProgress,
    NotebookResult,
    ProgressEvent,
    RunResult,
    as_progress,
    batch,
    discover_notebooks,
    latest_run,
    run_client,
    summary_table,
)

__all__ = [
    "ConsoleProgress",
    "NotebookResult",
    "ProgressEvent",
    "RunResult",
    "as_progress",
    "batch",
    "build_report",
    "discover_notebooks",
    "executive_summary",
    "latest_run",
    "render_notebook",
    "run_client",
    "summary_table",
]
