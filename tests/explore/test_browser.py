"""The explorer notebook in a real JupyterLab, driven by headless Chromium.

A JupyterLab server is started on a free loopback port with a random token,
on a temporary copy of ``notebooks/00_explore.ipynb`` (JupyterLab autosaves:
the committed notebook must stay without outputs), with the app exposed as
``window.jupyterapp``. Headless Chromium opens the notebook; through the
DevTools protocol (``Runtime.evaluate`` over a websocket, the
``websocket-client`` package that jupyter_server already depends on) the test
waits for the project kernel, runs all cells with the ``notebook:run-all-cells``
command and checks the DOM: the explorer's widgets are drawn (dropdowns, the
period slider, the tabs), at least one chart is drawn as SVG by vega-embed from
the inlined bundle (no placeholder left, no chart error), no cell failed, and a
persona picked in the page's dropdown reaches the kernel (the status line then
counts that persona's accounts). The server, its kernel and Chromium are always
stopped at the end.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from journeylib.paths import PROJ_ROOT

pytestmark = pytest.mark.slow

CHROMIUM = next(
    (p for p in ("/usr/bin/chromium", shutil.which("chromium") or "") if p and Path(p).exists()),
    None,
)
JUPYTER_LAB = Path(sys.executable).parent / "jupyter-lab"
NOTEBOOK = PROJ_ROOT / "notebooks" / "00_explore.ipynb"

pytest.importorskip("websocket", reason="websocket-client is needed to talk to Chromium")

if CHROMIUM is None or not JUPYTER_LAB.exists():  # pragma: no cover - depends on the machine
    pytest.skip("needs /usr/bin/chromium and jupyter-lab", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_http(
    url: str,
    timeout: float,
    what: str,
    proc: subprocess.Popen | None = None,
    log: Path | None = None,
) -> bytes:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            tail = log.read_text(errors="replace")[-2000:] if log else ""
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail}")
        try:
            with urllib.request.urlopen(url, timeout=5) as r:  # noqa: S310 - loopback only
                return r.read()
        except Exception as exc:  # not up yet
            last = exc
            time.sleep(0.5)
    raise TimeoutError(f"{what} did not answer within {timeout:.0f}s: {last}")


def _stop(proc: subprocess.Popen | None, *, group: bool) -> None:
    """Stop a process this test started (its own process group when ``group``)."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, signal.SIGTERM)
        else:
            proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
        proc.wait(timeout=10)


class DevTools:
    """A minimal DevTools-protocol client for one page."""

    def __init__(self, ws_url: str) -> None:
        import websocket

        # No Origin header: Chromium refuses websocket origins it was not told about.
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self._id = 0

    def call(self, method: str, **params) -> dict:
        self._id += 1
        self.ws.send(json.dumps({"id": self._id, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == self._id:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg["result"]

    def eval(self, expression: str):
        res = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        if "exceptionDetails" in res:
            raise RuntimeError(f"JS error in {expression[:80]!r}: {res['exceptionDetails']}")
        return res["result"].get("value")

    def wait(self, expression: str, timeout: float, what: str, *, diagnose: str = "null"):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = self.eval(expression)
            if value:
                return value
            time.sleep(0.5)
        raise AssertionError(
            f"timed out after {timeout:.0f}s waiting for {what}; page says: {self.eval(diagnose)}"
        )

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.ws.close()


# Page state, for the failure messages.
DIAGNOSE = """(() => {
  const d = document.querySelector('.jp-Dialog');
  const errs = [...document.querySelectorAll(
      '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.innerText.slice(0, 300));
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  const k = w && w.sessionContext && w.sessionContext.session
      && w.sessionContext.session.kernel;
  return JSON.stringify({dialog: d && d.innerText.slice(0, 300), stderr: errs,
      widget: w && w.title && w.title.label, kernel: k && [k.name, k.status],
      dropdowns: document.querySelectorAll('.widget-dropdown').length,
      charts: document.querySelectorAll('.jw-chart').length,
      svgs: document.querySelectorAll('.jw-chart svg').length});
})()"""

KERNEL_IDLE = """(() => {
  const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
  if (!w || !w.context || w.context.path !== '00_explore.ipynb') return false;
  const s = w.sessionContext && w.sessionContext.session;
  return !!(s && s.kernel && s.kernel.status === 'idle' && w.content.widgets.length);
})()"""

DRAWN = """(() => {
  const dropdowns = document.querySelectorAll('.jp-OutputArea-output .widget-dropdown');
  const charts = [...document.querySelectorAll('.jw-chart')].filter(
      c => c.querySelector('svg, canvas'));
  return dropdowns.length >= 6 && charts.length >= 1;
})()"""

STATE = """(() => {
  const labels = [...document.querySelectorAll('.widget-dropdown label')].map(l => l.innerText);
  const charts = [...document.querySelectorAll('.jw-chart')];
  const drawn = charts.filter(c => c.querySelector('svg'));
  return {
    labels,
    kernel: window.jupyterapp.shell.currentWidget.sessionContext.session.kernel.name,
    slider: document.querySelectorAll('.widget-hslider, .widget-slider').length,
    tabs: [...document.querySelectorAll('.jupyter-widgets.widget-tab .lm-TabBar-tabLabel')]
        .map(t => t.innerText),
    charts: charts.length,
    drawn: drawn.length,
    marks: drawn.length ? drawn[0].querySelectorAll('svg path, svg text').length : 0,
    placeholders: charts.filter(c => !c.querySelector('svg')
        && c.innerText.includes('Chart not drawn')).length,
    chart_errors: document.querySelectorAll('.jw-chart-error').length,
    vega: typeof window.vegaEmbed,
    errors: document.querySelectorAll('.jp-OutputArea-output[data-mime-type='
        + '"application/vnd.jupyter.error"], .jp-RenderedText[data-mime-type='
        + '"application/vnd.jupyter.error"]').length,
    status: [...document.querySelectorAll('.widget-html-content')].map(e => e.innerText)
        .find(t => t.includes(' accounts (')) || null,
  };
})()"""

PICK_PERSONA = """(() => {
  const box = [...document.querySelectorAll('.widget-dropdown')]
      .find(b => b.querySelector('label') && b.querySelector('label').innerText === 'Persona');
  const select = box.querySelector('select');
  select.selectedIndex = 1;
  select.dispatchEvent(new Event('change', {bubbles: true}));
  return select.options[1].text;
})()"""


def test_explorer_notebook_runs_and_draws_in_jupyterlab(tmp_path):
    nb_dir = tmp_path / "notebooks"
    nb_dir.mkdir()
    shutil.copy(NOTEBOOK, nb_dir / NOTEBOOK.name)
    port, devtools_port, token = _free_port(), _free_port(), secrets.token_hex(16)
    env = {
        **os.environ,
        # keep the user's Jupyter settings, workspaces and runtime files out of it
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "jupyter-runtime"),
        "JUPYTERLAB_SETTINGS_DIR": str(tmp_path / "lab-settings"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "lab-workspaces"),
    }
    lab = chromium = cdp = None
    log = (tmp_path / "lab.log").open("wb")
    try:
        lab = subprocess.Popen(
            [
                str(JUPYTER_LAB),
                "--no-browser",
                f"--port={port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={token}",
                "--ServerApp.ip=127.0.0.1",
                "--allow-root",  # CI containers often run as root; harmless otherwise
                f"--notebook-dir={nb_dir}",
                "--LabApp.expose_app_in_browser=True",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            ],
            cwd=nb_dir,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own group: the kernel it starts goes down with it
        )
        _wait_http(
            f"http://127.0.0.1:{port}/api/status?token={token}",
            120,
            "JupyterLab",
            lab,
            tmp_path / "lab.log",
        )
        url = f"http://127.0.0.1:{port}/lab/tree/{NOTEBOOK.name}?token={token}"
        chromium = subprocess.Popen(
            [
                CHROMIUM,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--no-first-run",
                f"--user-data-dir={tmp_path / 'chromium'}",
                f"--remote-debugging-port={devtools_port}",
                "--remote-debugging-address=127.0.0.1",
                "--window-size=1400,1000",
                url,
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        _wait_http(f"http://127.0.0.1:{devtools_port}/json/version", 60, "Chromium")
        deadline = time.monotonic() + 60
        page = None
        while page is None and time.monotonic() < deadline:
            targets = json.loads(
                _wait_http(f"http://127.0.0.1:{devtools_port}/json/list", 30, "Chromium")
            )
            page = next(
                (t for t in targets if t.get("type") == "page" and str(port) in t.get("url", "")),
                None,
            )
            if page is None:
                time.sleep(0.5)
        assert page is not None, "Chromium did not open the notebook page"
        cdp = DevTools(page["webSocketDebuggerUrl"])

        cdp.wait(KERNEL_IDLE, 180, "the notebook and an idle project kernel", diagnose=DIAGNOSE)
        cdp.eval("window.jupyterapp.commands.execute('notebook:run-all-cells'), true")
        cdp.wait(DRAWN, 300, "the explorer's widgets and a drawn chart", diagnose=DIAGNOSE)
        state = cdp.eval(STATE)

        assert state["kernel"] == "python3"
        for label in ("Client", "Persona", "Channel", "Plan", "Variant", "Reached"):
            assert label in state["labels"], state["labels"]
        assert state["slider"] >= 1, "the period slider is drawn"
        for tab in ("Journey map", "Stage funnel", "Ordered funnel", "Lifecycle", "Paths"):
            assert tab in state["tabs"], state["tabs"]
        assert state["vega"] == "function", "the inlined vega bundle ran"
        assert state["drawn"] >= 1 and state["marks"] > 10, state
        assert state["placeholders"] == 0 and state["chart_errors"] == 0, state
        assert state["errors"] == 0, "no cell raised"
        # the status line: "demo: N of N accounts (no filters), YYYY-MM to YYYY-MM."
        counts = re.search(r"([\d,]+) of ([\d,]+) accounts \(no filters\)", state["status"] or "")
        assert counts and counts[1] == counts[2], state["status"]

        # A persona picked in the page reaches the kernel, which redraws.
        picked = cdp.eval(PICK_PERSONA)
        after = cdp.wait(
            "(() => { const s = " + STATE + "; return s.status && s.status.includes("
            "'(persona = ') && s.drawn >= 1 ? s : null; })()",
            180,
            f"the explorer to redraw for persona {picked!r}",
            diagnose=DIAGNOSE,
        )
        kept = re.search(r"([\d,]+) of ([\d,]+) accounts \(persona = ", after["status"])
        assert kept and kept[2] == counts[2]
        assert 0 < int(kept[1].replace(",", "")) < int(kept[2].replace(",", ""))
        assert after["chart_errors"] == 0 and after["errors"] == 0
    finally:
        if cdp is not None:
            cdp.close()
        _stop(chromium, group=True)
        _stop(lab, group=True)
        log.close()
