"""Orchestration: run the step notebooks, keep the run folder, assemble report.html.

The top floor of journeylib: it starts kernels and writes files; nothing below
imports it.
"""

from journeylib.report.assemble import build_report
from journeylib.report.notebook_html import render_notebook
from journeylib.report.progress import ConsoleProgress, ProgressEvent, as_progress
from journeylib.report.runner import (
    NotebookResult,
    RunResult,
    batch,
    discover_notebooks,
    latest_run,
    run_client,
    summary_table,
)
from journeylib.report.summary import executive_summary

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
