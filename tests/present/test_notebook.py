"""setup() loads a client as every mapping-step notebook does; show() displays and saves.

``setup`` runs on the demo client (12 months, 2,000 accounts) and on a small
synthetic client with a hostile name. ``show`` is checked on what it hands to
IPython's ``display`` (captured here), and on the chart files it writes.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import altair as alt
import IPython.display
import polars as pl
import pytest
import yaml

from journeylib.paths import data_dir, resolve_client_dir
from journeylib.present import notebook
from journeylib.present.notebook import Step, setup, show
from journeylib.present.render import chart_spec_json
from journeylib.present.tables import frame_html
from journeylib.sources.synth import synthesize


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> Path:
    """Validation caches go to a temporary reports folder, not the project's."""
    path = tmp_path_factory.mktemp("reports")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JOURNEY_REPORTS_DIR", str(path))
        yield path


@pytest.fixture(scope="module")
def demo(reports) -> Step:
    return setup("demo")


# ---------------------------------------------------------------- setup
def test_setup_on_the_demo(demo):
    assert demo.period == ("2025-01", "2025-12")
    assert demo.accounts.height == 2000
    assert demo.client.tables["accounts"] is demo.accounts
    assert demo.client_dir == resolve_client_dir("demo")
    assert demo.out_dir is None and demo.charts_dir is None
    assert demo.client.name == "demo"
    assert isinstance(demo.stream, pl.LazyFrame)
    stream = demo.stream.collect()
    assert stream["account_id"].drop_nulls().n_unique() <= 2000
    assert stream.equals(stream.sort("account_id", "timestamp", "seq", nulls_last=True))
    assert demo.doc["goals"], "the demo's metrics document has its goals"
    assert demo.intro == (
        "**demo**: period 2025-01 to 2025-12, 2,000 accounts, journey template "
        "`b2b_saas_8_stage` (8 stages, "
        f"{len(demo.client.template.touchpoints)} touchpoints)."
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        demo.period = ("2025-01", "2025-02")  # type: ignore[misc]


def test_activity_months_are_the_months_of_the_raw_events(demo):
    from journeylib.metrics.retention import activity_retention

    months = demo.activity_months.collect()
    events = demo.client.tables["events"]
    events = events.collect() if isinstance(events, pl.LazyFrame) else events
    raw = (
        events.filter(pl.col("account_id").is_not_null())
        .select("account_id", pl.col("timestamp").dt.truncate("1mo"))
        .unique()
        .sort("account_id", "timestamp")
    )
    assert months.sort("account_id", "timestamp").equals(raw)
    assert months.height < events.height / 10
    everyone = activity_retention(demo.accounts, events, period=demo.period)
    assert activity_retention(demo.accounts, months, period=demo.period).equals(everyone)
    bare = dataclasses.replace(demo, store=None)
    assert bare.activity_months is demo.client.tables["events"]


def test_setup_takes_the_notebook_parameters(reports, tmp_path, monkeypatch):
    calls = []
    real = notebook.ensure_store
    monkeypatch.setattr(
        notebook, "ensure_store", lambda path, **kw: calls.append(path) or real(path, **kw)
    )
    step = setup(
        "demo",
        data_dir=str(data_dir()),
        output_dir=str(tmp_path / "run"),
        period_start="2025-03",
        period_end="2025-05",
    )
    assert step.client_dir == resolve_client_dir("demo")
    # the client is read from its store
    assert calls == [step.client_dir]
    assert step.out_dir == tmp_path / "run"
    assert step.charts_dir == tmp_path / "run" / "charts"
    assert step.period == ("2025-03", "2025-05")
    assert step.client.config.period.start == "2025-03"
    assert "period 2025-03 to 2025-05" in step.intro
    assert not step.charts_dir.exists()  # nothing is written until a chart is saved


def test_setup_reads_the_runs_document_for_the_same_period_only(reports, tmp_path, monkeypatch):
    run = tmp_path / "run"
    run.mkdir()
    computed = []
    real = notebook.metrics_document
    monkeypatch.setattr(notebook, "metrics_document", lambda c: computed.append(1) or real(c))
    doc = {"period": {"start": "2025-01", "end": "2025-12"}, "marker": "from the run"}
    (run / "metrics.json").write_text(json.dumps(doc))
    step = setup("demo", output_dir=str(run))
    assert step.doc == doc and computed == []
    # another period than the document's: computed
    step = setup("demo", output_dir=str(run), period_start="2025-03")
    assert step.doc["period"] == {"start": "2025-03", "end": "2025-12"} and computed == [1]
    # a damaged file: computed
    (run / "metrics.json").write_text("{not json")
    assert "marker" not in setup("demo", output_dir=str(run)).doc and computed == [1, 1]


def test_setup_escapes_client_text_in_the_intro(reports, tmp_path):
    path = tmp_path / "data" / "tiny"
    synthesize(path, accounts=40, months=2, seed=3)
    cfg = yaml.safe_load((path / "client.yaml").read_text())
    cfg["client"] = "<script>x</script> & co"
    (path / "client.yaml").write_text(yaml.safe_dump(cfg))
    step = setup("tiny", data_dir=tmp_path / "data")
    assert step.intro.startswith("**&lt;script&gt;x&lt;/script&gt; &amp; co**: period ")
    assert "<script>" not in step.intro
    assert f"{step.accounts.height:,} accounts" in step.intro


# ---------------------------------------------------------------- show
@pytest.fixture
def shown_with_metadata(monkeypatch) -> list:
    """What show() hands to IPython's display, in order, as (object, display metadata)."""
    out: list = []

    def display(obj, metadata=None):
        out.append((obj, metadata))

    monkeypatch.setattr(notebook, "display", display)
    monkeypatch.setattr(IPython.display, "display", display)  # render.display's
    return out


@pytest.fixture
def shown(shown_with_metadata) -> list:
    """What show() hands to IPython's display, in order."""

    class Objects(list):
        def __iter__(self):
            return (o for o, _ in shown_with_metadata)

        def __len__(self):
            return len(shown_with_metadata)

        def __getitem__(self, i):
            return shown_with_metadata[i][0]

        def __eq__(self, other):
            return [o for o, _ in shown_with_metadata] == other

    return Objects()


CHART = alt.Chart({"values": [{"a": 1}, {"a": 2}]}).mark_point().encode(x="a:Q")


def test_a_frame_is_the_workbench_table(shown):
    df = pl.DataFrame({"name": ["<b>x</b>"], "rate": [0.25]})
    show(df, formats={"rate": "pct"}, caption="Rates", max_rows=5)
    show(df.lazy())
    assert [type(o) for o in shown] == [IPython.display.HTML, IPython.display.HTML]
    assert shown[0].data == frame_html(df, formats={"rate": "pct"}, caption="Rates", max_rows=5)
    assert "25.0%" in shown[0].data and "&lt;b&gt;x&lt;/b&gt;" in shown[0].data
    assert shown[1].data == frame_html(df)


def test_text_is_markdown_or_escaped_preformatted_text(shown):
    show("**bold** <i>")
    show("a: <b>\n", pre=True)
    assert isinstance(shown[0], IPython.display.Markdown) and shown[0].data == "**bold** <i>"
    assert isinstance(shown[1], IPython.display.HTML)
    assert shown[1].data == "<pre>a: &lt;b&gt;\n</pre>"


def test_a_chart_with_save_as_is_written_as_svg_and_png(shown, tmp_path):
    charts_dir = tmp_path / "run" / "charts"
    show(CHART, save_as="02_points", charts_dir=charts_dir)
    assert len(shown) == 1 and isinstance(shown[0], IPython.display.HTML)
    assert '<div id="jw-chart-' in shown[0].data
    assert chart_spec_json(CHART) in shown[0].data  # drawn by render.display
    assert sorted(p.name for p in charts_dir.iterdir()) == ["02_points.png", "02_points.svg"]
    assert (charts_dir / "02_points.svg").read_text().startswith("<svg")
    assert (charts_dir / "02_points.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    show(CHART, save_as="04_points", charts_dir=charts_dir, save_formats=("svg",))
    assert (charts_dir / "04_points.svg").exists() and not (charts_dir / "04_points.png").exists()


def test_nothing_is_written_without_a_charts_folder(shown, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    show(CHART, save_as="02_points", charts_dir=None)
    show(CHART)
    assert len(shown) == 2
    assert list(tmp_path.iterdir()) == []


def test_options_that_do_not_fit_the_object_are_an_error(shown):
    with pytest.raises(TypeError, match="polars frames only"):
        show(CHART, caption="x")
    with pytest.raises(TypeError, match="charts only"):
        show(pl.DataFrame({"a": [1]}), save_as="a")
    assert shown == []


def test_report_marks_and_findings(shown_with_metadata):
    """report= marks the output for report.html; finding= puts an escaped sentence above it."""
    show(CHART, finding="Drop <b>1</b> & more", report="chart")
    show(pl.DataFrame({"a": [1]}), finding="A table", report="table")
    show("1. **Do this**", report="recommendations")
    show(CHART)
    (chart, m1), (table, m2), (text, m3), (plain, m4) = shown_with_metadata
    assert m1 == {"journeylib": {"report": "chart"}}
    assert m2 == {"journeylib": {"report": "table"}}
    assert m3 == {"journeylib": {"report": "recommendations"}}
    assert m4 is None
    assert chart.data.startswith('<p class="jw-finding">Drop &lt;b&gt;1&lt;/b&gt; &amp; more</p>')
    assert table.data.startswith('<p class="jw-finding">A table</p>')
    assert isinstance(text, IPython.display.Markdown)
    with pytest.raises(TypeError, match="finding applies"):
        show("text", finding="x")
