"""The notebook runner: run folder, run.json, failures, batch, re-runs.

Stand-in notebooks are executed for real (papermill, kernel ``python3``); the
layers below (journeylib.ingest.client, journeylib.metrics) are replaced by stubs so these
tests do not depend on them.
"""

from __future__ import annotations

import hashlib
import json
import sys
from types import SimpleNamespace

import nbformat
import pytest
from rich.console import Console

from journeylib.errors import ClientNameError, DataError
from journeylib.report import assemble, runner
from journeylib.report.progress import ConsoleProgress, ProgressEvent
from journeylib.report.runner import (
    batch,
    discover_notebooks,
    latest_run,
    run_client,
    summary_table,
)
from tests.report.report_helpers import chart_html, stub_client, write_notebook

OK_NB = [
    "from pathlib import Path\n"
    "print(repr(Path(client).name), type(client).__name__)\n"
    "print(repr(code), type(code).__name__, repr(n), type(n).__name__)\n"
    "print('period', repr(period_start), repr(period_end))\n"
    "print('out', Path(output_dir).name.endswith('.tmp'), Path(output_dir, 'charts').is_dir())",
    f"from IPython.display import HTML, display\ndisplay(HTML({chart_html(1)!r}))",
]
FAIL_NB = ["print('before the error')", "raise ValueError('boom <b>')", "print('never printed')"]
AFTER_NB = [
    "from IPython.display import HTML, display\n"
    f"display(HTML({chart_html(3)!r}))\n"
    "print('third ran')",
]

METRICS_DOC = {
    "schema_version": 1,
    "client": "007",
    "currency": "EUR",
    "period": {"start": "2025-01", "end": "2025-02"},
    "revenue": {"months": [{"month": "2025-01", "mrr": 100.0}, {"month": "2025-02", "mrr": 90.0}]},
    "data_quality": {
        "tables": {"accounts": {"rows_in": 1, "rows_valid": 1, "rows_rejected": 0, "reasons": {}}}
    },
    "note": "ünïcode stays",
}


def _stub_hooks(mp: pytest.MonkeyPatch, *, metrics=None, load=None, rejected=None) -> None:
    mp.setattr(
        runner,
        "_load_client",
        load or (lambda d, say=None: stub_client(d.name)),
    )
    mp.setattr(runner, "metrics_document", metrics or (lambda c: None))
    mp.setattr(runner, "write_rejected", rejected or (lambda c, d: None))


@pytest.fixture(scope="module")
def main_run(tmp_path_factory: pytest.TempPathFactory):
    """One run of three stand-in notebooks (the second fails) for client '007'."""
    tmp = tmp_path_factory.mktemp("main")
    data = tmp / "data" / "007"
    data.mkdir(parents=True)
    (data / "client.yaml").write_text("client: '007'\n", encoding="utf-8")
    (data / "tables").mkdir()
    (data / "tables" / "events.csv").write_text("account_id,event\na,x\n", encoding="utf-8")
    nbs = tmp / "nbs"
    paths = [
        write_notebook(nbs / "01_params.ipynb", OK_NB, title="Parameters arrive"),
        write_notebook(nbs / "02_fails.ipynb", FAIL_NB, title="This one fails"),
        write_notebook(nbs / "03_after.ipynb", AFTER_NB, title="Runs anyway"),
    ]
    events: list[ProgressEvent] = []

    def write_rejected(client, run_dir):
        (run_dir / "rejected").mkdir()
        (run_dir / "rejected" / "events.csv").write_text("account_id,reason\n", encoding="utf-8")

    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JOURNEY_DATA_DIR", str(tmp / "data"))
        _stub_hooks(mp, metrics=lambda c: METRICS_DOC, rejected=write_rejected)
        result = run_client(
            "007",
            out_dir=tmp / "reports",
            jobs=3,
            notebooks=paths,
            progress=events.append,
            parameters={"code": "007", "n": 3},
        )
    return SimpleNamespace(result=result, tmp=tmp, client_dir=data, events=events)


def test_run_folder_layout(main_run) -> None:
    r = main_run.result
    assert r.run_dir == main_run.tmp / "reports" / "007" / r.run_id
    assert r.run_dir.is_dir()
    for name in (
        "report.html",
        "run.json",
        "metrics.json",
        "rejected/events.csv",
        "notebooks/01_params.ipynb",
        "notebooks/02_fails.ipynb",
        "notebooks/03_after.ipynb",
    ):
        assert (r.run_dir / name).is_file(), name
    assert (r.run_dir / "charts").is_dir()
    leftovers = [
        p.name
        for p in (main_run.tmp / "reports" / "007").iterdir()
        if p.name.startswith(".") or p.name.endswith(".tmp")
    ]
    assert leftovers == []
    assert latest_run(main_run.tmp / "reports" / "007") == r.run_dir


def test_failing_notebook_is_kept_and_others_run(main_run) -> None:
    r = main_run.result
    assert r.status == "failed" and not r.ok
    assert [(n.name, n.status) for n in r.notebooks] == [
        ("01_params", "ok"),
        ("02_fails", "failed"),
        ("03_after", "ok"),
    ]
    assert r.notebooks[1].error == "ValueError: boom <b>"
    nb = nbformat.read(r.run_dir / "notebooks" / "02_fails.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])]
    assert any(o.output_type == "error" and o.ename == "ValueError" for o in outputs)
    texts = "".join(o.get("text", "") for o in outputs if o.output_type == "stream")
    assert "before the error" in texts and "never printed" not in texts
    after = nbformat.read(r.run_dir / "notebooks" / "03_after.ipynb", as_version=4)
    assert "third ran" in json.dumps(after)


def test_parameters_keep_their_types(main_run) -> None:
    nb = nbformat.read(main_run.result.run_dir / "notebooks" / "01_params.ipynb", as_version=4)
    code_cells = [c for c in nb.cells if c.cell_type == "code"]
    out = "".join(o.get("text", "") for c in code_cells for o in c.outputs)
    assert "'007' str" in out  # the client folder '007', passed as a path string
    assert "'007' str 3 int" in out  # papermill's CLI would have read -p code 007 as 7
    assert "period '' ''" in out
    assert "out True True" in out  # notebooks write into the .tmp folder, charts/ exists


def test_run_json(main_run) -> None:
    r = main_run.result
    doc = json.loads((r.run_dir / "run.json").read_text(encoding="utf-8"))
    assert doc["run_id"] == r.run_id and doc["status"] == "failed"
    assert doc["client"] == "007"
    assert doc["error"] == "02_fails: ValueError: boom <b>"
    assert doc["started_at"].endswith("Z") and doc["finished_at"] >= doc["started_at"]
    assert doc["seconds"] > 0
    assert doc["parameters"]["client"] == str(main_run.client_dir)
    assert doc["parameters"]["code"] == "007" and doc["parameters"]["n"] == 3
    assert doc["parameters"]["output_dir"] == str(r.run_dir)
    inputs = {i["path"]: i for i in doc["inputs"]}
    assert sorted(inputs) == ["client.yaml", "tables/events.csv"]
    raw = (main_run.client_dir / "tables" / "events.csv").read_bytes()
    assert inputs["tables/events.csv"] == {
        "path": "tables/events.csv",
        "bytes": len(raw),
        "sha256": hashlib.sha256(raw).hexdigest(),
    }
    assert doc["versions"]["python"] == ".".join(map(str, sys.version_info[:3]))
    assert doc["versions"]["papermill"] and "polars" in doc["versions"]
    assert [n["name"] for n in doc["notebooks"]] == ["01_params", "02_fails", "03_after"]
    assert doc["notebooks"][1] == {
        "name": "02_fails",
        "status": "failed",
        "seconds": doc["notebooks"][1]["seconds"],
        "error": "ValueError: boom <b>",
    }
    assert doc["notebooks"][0]["error"] is None


def test_metrics_json_written_exactly(main_run) -> None:
    text = (main_run.result.run_dir / "metrics.json").read_text(encoding="utf-8")
    expected = (
        json.dumps(METRICS_DOC, indent=2, sort_keys=False, ensure_ascii=False, allow_nan=False)
        + "\n"
    )
    assert text == expected


def test_report_of_the_run(main_run) -> None:
    page = (main_run.result.run_dir / "report.html").read_text(encoding="utf-8")
    analysis = (main_run.result.run_dir / "analysis.html").read_text(encoding="utf-8")
    for text in (page, analysis):
        assert text.count('<section class="jw-section jw-step" id="step-0') == 3
        assert "boom &lt;b&gt;" in text and "boom <b>" not in text
    # The notebooks' outputs (none marked for the report) are in the analysis only.
    assert 'class="jw-error"' in analysis and 'class="jw-error"' not in page
    assert analysis.count("data-jw-chart") >= 2
    for text in (page, analysis):
        # One bundle at most, in the head: journeylib.present.render's or the first stand-in copy.
        head = text.split('<header class="jw-head">', 1)[0]
        assert head.count("data-jw-bundle") <= 1
        assert text.count("/*JW-STANDIN-BUNDLE*/") <= 1
    assert "/*JW-STANDIN-BUNDLE*/" in analysis.split('<header class="jw-head">', 1)[0]


def test_progress_events(main_run) -> None:
    stages = [e.stage for e in main_run.events]
    assert stages[0] == "run_started" and stages[-1] == "run_done"
    done = {e.notebook: e.status for e in main_run.events if e.stage == "notebook_done"}
    assert done == {"01_params": "ok", "02_fails": "failed", "03_after": "ok"}
    assert all(e.client == "007" and e.elapsed >= 0 for e in main_run.events)


# ---------------------------------------------------------------- failures outside notebooks


def test_metrics_error_marks_run_failed(data_root, tmp_path, monkeypatch) -> None:
    def broken(client):
        raise RuntimeError("kaput\nsecond line")

    _stub_hooks(monkeypatch, metrics=broken)
    r = run_client("acme", notebooks=[], out_dir=tmp_path / "out")
    assert r.status == "failed"
    assert r.error == "metrics: RuntimeError: kaput second line"
    doc = json.loads((r.run_dir / "run.json").read_text(encoding="utf-8"))
    assert doc["status"] == "failed" and doc["error"] == r.error
    assert not (r.run_dir / "metrics.json").exists()
    page = (r.run_dir / "report.html").read_text(encoding="utf-8")
    assert "This run had problems" in page and "metrics: RuntimeError: kaput" in page


def test_fatal_data_error_raises_and_writes_nothing(data_root, tmp_path, monkeypatch) -> None:
    def fatal(client_dir, say=None):
        raise DataError("missing column", where="accounts.csv: account_id")

    _stub_hooks(monkeypatch, load=fatal)
    with pytest.raises(DataError):
        run_client("acme", notebooks=[], out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()


def test_unknown_client_raises(data_root, tmp_path, no_hooks) -> None:
    with pytest.raises(ClientNameError):
        run_client("nobody", notebooks=[], out_dir=tmp_path / "out")
    with pytest.raises(ClientNameError):
        run_client("../etc", notebooks=[], out_dir=tmp_path / "out")


def test_interrupted_run_leaves_no_complete_folder(
    data_root, tmp_path, no_hooks, monkeypatch
) -> None:
    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(assemble, "build_report", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run_client("acme", notebooks=[], out_dir=tmp_path / "out")
    # the run folder is removed (journeylib.report.runner.RunInterrupted says so)
    assert list((tmp_path / "out" / "acme").iterdir()) == []
    assert latest_run(tmp_path / "out" / "acme") is None


def test_parameters_must_be_plain_data(data_root, tmp_path, no_hooks) -> None:
    with pytest.raises(TypeError, match="plain data"):
        run_client("acme", notebooks=[], out_dir=tmp_path / "out", parameters={"x": object()})
    with pytest.raises(ValueError, match="identifier"):
        run_client("acme", notebooks=[], out_dir=tmp_path / "out", parameters={"a b": 1})


def test_rerun_gets_a_new_folder(data_root, tmp_path, no_hooks) -> None:
    first = run_client("acme", notebooks=[], out_dir=tmp_path / "out")
    second = run_client("acme", notebooks=[], out_dir=tmp_path / "out")
    assert first.run_id != second.run_id
    assert first.run_dir.is_dir() and second.run_dir.is_dir()
    assert first.status == second.status == "ok"
    assert latest_run(tmp_path / "out" / "acme") == second.run_dir


def test_default_reports_dir(data_root, tmp_path, no_hooks) -> None:
    r = run_client(data_root / "acme", notebooks=[])  # a path works as well as a name
    assert r.run_dir.parent == tmp_path / "reports" / "acme"


# ---------------------------------------------------------------- batch


def test_batch_continues_after_bad_clients(data_root, tmp_path, monkeypatch) -> None:
    nb = write_notebook(tmp_path / "nbs" / "01_ok.ipynb", ["print(client)"])

    def load(client_dir, say=None):
        if client_dir.name == "acme":
            raise DataError("unreadable table", where="events.csv")
        return stub_client(client_dir.name)

    _stub_hooks(monkeypatch, load=load)
    log = Console(record=True, width=200, color_system=None)
    results = batch(
        ["nobody", "acme", "007"], jobs=2, notebooks=[nb], out_dir=tmp_path / "out", progress=log
    )  # the CLI passes its Console
    assert [r.client for r in results] == ["nobody", "acme", "007"]
    assert [r.status for r in results] == ["failed", "failed", "ok"]
    assert "no such client" in results[0].error and results[0].run_dir is None
    assert results[1].error.startswith("events.csv: unreadable table")
    assert results[2].run_dir.is_dir() and results[2].notebooks[0].status == "ok"

    lines = log.export_text()
    assert "007  01_ok  ok" in lines and "acme  run failed" in lines

    console = Console(record=True, width=200, color_system=None)
    console.print(summary_table(results))
    text = console.export_text()
    for name in ("nobody", "acme", "007", "1/1", "report.html"):
        assert name in text


def test_batch_empty() -> None:
    assert batch([]) == []


# ---------------------------------------------------------------- small helpers


def test_discover_notebooks(tmp_path) -> None:
    for name in (
        "07_map.ipynb",
        "01_goals.ipynb",
        "00_explore.ipynb",
        "08_extra.ipynb",
        "03_touch.ipynb",
        "notes.ipynb",
    ):
        (tmp_path / name).write_text("{}")
    assert [p.name for p in discover_notebooks(tmp_path)] == [
        "01_goals.ipynb",
        "03_touch.ipynb",
        "07_map.ipynb",
    ]


def test_console_progress_prints_one_line() -> None:
    console = Console(record=True, width=120, color_system=None)
    progress = ConsoleProgress(console)
    progress(ProgressEvent("acme", "notebook_started", 0.1, notebook="01_goals"))
    progress(
        ProgressEvent(
            "acme",
            "notebook_done",
            2.0,
            notebook="01_goals",
            status="failed",
            seconds=1.9,
            error="ValueError: [bold]x",
        )
    )
    progress(ProgressEvent("acme", "metrics_done", 2.1))
    text = console.export_text()
    assert "acme  01_goals  started" in text
    assert "acme  01_goals  failed  1.9s  (elapsed 2.0s)" in text
    assert "ValueError: [bold]x" in text  # rich markup in messages is escaped
    assert "metrics_done" not in text


def test_template_notebook_is_a_valid_skeleton() -> None:
    import papermill as pm

    from journeylib.paths import templates_dir

    path = templates_dir() / "notebook.ipynb"
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    tagged = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    params = pm.inspect_notebook(str(path))
    assert list(params) == ["client", "data_dir", "output_dir", "period_start", "period_end"]
    assert all(p["inferred_type_name"] == "str" and p["help"] for p in params.values())
    assert all(
        not c.get("outputs") and not c.get("execution_count")
        for c in nb.cells
        if c.cell_type == "code"
    )
    # The start every mapping-step notebook shares: imports, the same parameters cell, then
    # setup(...) from the parameters and show(step.intro).
    idx = nb.cells.index(tagged[0])
    assert "from journeylib.present.notebook import setup, show" in "".join(
        c.source for c in nb.cells[:idx]
    )
    real = nbformat.read(templates_dir().parent / "notebooks/06_milestones.ipynb", as_version=4)
    real_params = next(c for c in real.cells if "parameters" in c.metadata.get("tags", []))
    assert tagged[0].source == real_params.source
    load = next(c for c in nb.cells[idx + 1 :] if c.cell_type == "code")
    assert load.source.startswith(
        "step = setup(client, data_dir=data_dir, output_dir=output_dir,\n"
        "             period_start=period_start, period_end=period_end)\n"
    )
    assert "show(step.intro)" in load.source
    headings = [c.source.splitlines()[0] for c in nb.cells if c.cell_type == "markdown"]
    assert headings[0].startswith("# ") and headings[-1] == "## Recorded results"
    assert any(h.startswith("## 1. ") for h in headings)
