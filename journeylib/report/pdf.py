"""``report.pdf``: the report printed by headless Chromium, A4 landscape, charts as vectors.

Why Chromium: the report's charts are drawn by vega-embed in the page (a
script), and only a browser runs it; Chromium's printing keeps them as
vectors (SVG), honours the page's print stylesheet (``@page`` A4 landscape,
``break-inside: avoid`` on every chart and map, each map scaled to one page)
and works offline. WeasyPrint, the other offline HTML-to-PDF engine, runs no
script, so it would need every chart pre-rendered, and Playwright would add a
driver for what one command-line call does.

Chromium is a system package (Debian/Ubuntu ``chromium``); it is looked up
as ``JOURNEY_CHROMIUM``, then ``chromium``, ``chromium-browser``,
``google-chrome`` on the PATH. The print runs with the workbench's fonts
(:func:`journeylib.charts.fonts.fontconfig_env`), so Arabic and Chinese text
prints without boxes, in a throw-away profile, with background networking
off (the report itself makes no request).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from journeylib.errors import JourneyError

__all__ = ["CHROMIUM_ENV", "find_chromium", "write_pdf", "write_pdf_check"]

#: The environment variable naming the Chromium executable to print with.
CHROMIUM_ENV = "JOURNEY_CHROMIUM"
_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Seconds the page may take to draw its charts before it is printed (virtual time).
_DRAW_BUDGET_MS = 20_000


def find_chromium() -> str | None:
    """The Chromium executable to print with, or None when none is installed."""
    given = os.environ.get(CHROMIUM_ENV)
    if given:
        return given if Path(given).is_file() else shutil.which(given)
    return next((p for p in map(shutil.which, _NAMES) if p), None)


def _no_chromium() -> JourneyError:
    return JourneyError(
        "cannot write report.pdf",
        where="--pdf",
        expected="headless Chromium to print the report",
        found="no chromium on the PATH",
        fix=f"install the system package chromium (apt-get install chromium) or set "
        f"{CHROMIUM_ENV} to a Chromium or Chrome executable",
    )


def write_pdf_check() -> str:
    """The Chromium :func:`write_pdf` will use; raises its error now when there is none."""
    chromium = find_chromium()
    if chromium is None:
        raise _no_chromium()
    return chromium


def write_pdf(html_path: str | Path, pdf_path: str | Path, *, timeout: float = 180) -> Path:
    """Print ``html_path`` to ``pdf_path`` with headless Chromium (written atomically).

    Raises:
        JourneyError: no Chromium, or the print failed (one line naming the fix).
    """
    html_path, pdf_path = Path(html_path).resolve(), Path(pdf_path)
    chromium = write_pdf_check()
    # local: journeylib.charts imports altair, which every kernel's warm-up keeps out
    from journeylib.charts.fonts import fontconfig_env

    part = pdf_path.with_name(f".{pdf_path.name}.part")
    with tempfile.TemporaryDirectory(prefix="journey-pdf-") as profile:
        cmd = [
            chromium,
            "--headless",
            # the sandbox cannot start as root (a container); everyone else keeps it
            *(["--no-sandbox"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--no-default-browser-check",
            f"--user-data-dir={profile}",
            "--run-all-compositor-stages-before-draw",
            f"--virtual-time-budget={_DRAW_BUDGET_MS}",
            "--no-pdf-header-footer",
            "--generate-pdf-document-outline",
            f"--print-to-pdf={part}",
            html_path.as_uri(),
        ]
        try:
            done = subprocess.run(  # noqa: S603 - our own argument list, no shell
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout,
                env=fontconfig_env(os.environ),
                check=False,
            )
        except subprocess.TimeoutExpired:
            part.unlink(missing_ok=True)
            raise JourneyError(
                "cannot write report.pdf",
                where=str(html_path),
                expected=f"Chromium to print the page within {timeout:.0f} s",
                found="no PDF in time",
                fix="open report.html in a browser and print it to PDF (A4 landscape)",
            ) from None
    if done.returncode != 0 or not part.is_file() or part.stat().st_size == 0:
        part.unlink(missing_ok=True)
        last = (done.stderr or "").strip().splitlines()[-1:] or ["no message"]
        raise JourneyError(
            "cannot write report.pdf",
            where=chromium,
            expected="Chromium to print the page",
            found=f"exit code {done.returncode}: {last[0][:200]}",
            fix="check that the browser starts (chromium --headless --version)",
        )
    part.replace(pdf_path)
    return pdf_path
