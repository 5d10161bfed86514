"""What a run reports while it works: progress events and the console lines they make."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

__all__ = ["ConsoleProgress", "ProgressCallback", "ProgressEvent", "as_progress"]


@dataclass(frozen=True)
class ProgressEvent:
    """What a progress callback receives.

    ``stage`` is one of ``store`` (a step of building the client's store, in
    ``message``), ``run_started``, ``notebook_started``, ``notebook_done``,
    ``metrics_done``, ``report_done``, ``run_done``. ``elapsed`` is seconds since
    the run started; ``seconds`` the notebook's own time (for ``notebook_done``).
    """

    client: str
    stage: str
    elapsed: float
    notebook: str | None = None
    status: str | None = None
    seconds: float | None = None
    error: str | None = None
    message: str | None = None


ProgressCallback = Callable[[ProgressEvent], None]


class ConsoleProgress:
    """A progress callback printing one line per step with rich (thread-safe).

    Examples:
        >>> from rich.console import Console
        >>> progress = ConsoleProgress(Console(width=100, color_system=None))
        >>> progress(ProgressEvent("acme", "notebook_done", 12.5, notebook="01_define_goals",
        ...     status="ok", seconds=3.25))
        acme  01_define_goals  ok  3.2s  (elapsed 12.5s)
    """

    def __init__(self, console: Any | None = None) -> None:
        from rich.console import Console

        self.console = console or Console(stderr=True)
        self._lock = threading.Lock()

    def __call__(self, event: ProgressEvent) -> None:
        """Print the event, if it is one worth a line."""
        from rich.markup import escape

        client = escape(event.client)
        if event.stage == "store":
            line = f"[bold]{client}[/]  [dim]{escape(event.message or '')}[/]"
        elif event.stage == "notebook_started":
            line = f"[bold]{client}[/]  {escape(event.notebook or '')}  [dim]started[/]"
        elif event.stage == "notebook_done":
            style = "green" if event.status == "ok" else "red"
            line = (
                f"[bold]{client}[/]  {escape(event.notebook or '')}  [{style}]{event.status}[/]"
                f"  {event.seconds or 0:.1f}s  [dim](elapsed {event.elapsed:.1f}s)[/]"
            )
            if event.error:
                line += f"\n    [red]{escape(event.error)}[/]"
        elif event.stage == "run_done":
            style = "green" if event.status == "ok" else "red"
            line = f"[bold]{client}[/]  run [{style}]{event.status}[/]  {event.elapsed:.1f}s"
            if event.error:
                line += f"  [red]{escape(event.error)}[/]"
        else:
            return
        with self._lock:
            self.console.print(line, highlight=False)


def as_progress(progress: ProgressCallback | Any | None) -> ProgressCallback | None:
    """A progress callback from a callback, a rich ``Console`` (lines printed on it) or None."""
    if progress is None or callable(progress):
        return progress
    if hasattr(progress, "print"):
        return ConsoleProgress(progress)
    raise TypeError(f"progress must be a callable or a rich Console, got {type(progress).__name__}")
