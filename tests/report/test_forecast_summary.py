"""The retention forecast in the executive summary, from the run's forecast.json; the appendix.

The forecast is computed once per run, by notebook 05
(``Step.retention_forecast``), which writes ``forecast.json`` beside
``metrics.json``; the report reads it there.
"""

from __future__ import annotations

import json
from pathlib import Path

from journeylib.report.assemble import build_report
from journeylib.report.summary import analysis_definitions, executive_summary

DOC = {
    "currency": "USD",
    "revenue": {
        "months": [
            {"month": "2025-11", "mrr": 100.0, "new_mrr": 10.0, "churned_mrr": -5.0},
            {"month": "2025-12", "mrr": 120.0, "new_mrr": 25.0, "churned_mrr": -5.0},
        ]
    },
}
FORECAST = {
    "alpha": 0.19,
    "beta": 3.7,
    "cohorts_used": 9,
    "base": 218,
    "base_month": "2025-12",
    "seed": 0,
    "months": [
        {"month": "2026-12", "customers": 185.8, "mrr": 304971.03, "lo": 170.01, "hi": 195.47}
    ],
}
SENTENCE = (
    "With no new customers and at today's retention, the 218 never-churned customers fall to "
    "about 186 by 2026-12 (90 % band 170–195), about 305,000 USD of MRR."
)


def test_the_forecast_sentence_ends_the_findings():
    found = executive_summary(DOC, forecast=FORECAST)["findings"]
    assert found[-1] == SENTENCE
    assert found[-2].startswith("MRR went from 100 USD in 2025-11 to 120 USD in 2025-12")


def test_no_forecast_no_sentence():
    assert executive_summary(DOC)["findings"] == executive_summary(DOC, forecast=None)["findings"]
    assert SENTENCE not in executive_summary(DOC)["findings"]
    unfitted = {"alpha": None, "beta": None, "cohorts_used": 0, "months": [], "base": 3}
    assert len(executive_summary(DOC, forecast=unfitted)["findings"]) == 1  # MRR only


def test_the_report_reads_the_runs_forecast(tmp_path: Path):
    (tmp_path / "forecast.json").write_text(json.dumps(FORECAST), encoding="utf-8")
    page = build_report(tmp_path, title="t", metrics=DOC).read_text(encoding="utf-8")
    assert SENTENCE.replace("'", "&#39;") in page


def test_a_report_without_or_with_a_broken_forecast_file(tmp_path: Path):
    page = build_report(tmp_path, title="t", metrics=DOC).read_text(encoding="utf-8")
    assert "never-churned" not in page
    (tmp_path / "forecast.json").write_text("[1, 2", encoding="utf-8")
    page = build_report(tmp_path, title="t", metrics=DOC).read_text(encoding="utf-8")
    assert "never-churned" not in page


def test_the_appendix_defines_value_curves_and_the_forecast_when_their_charts_exist():
    assert [r["id"] for r in analysis_definitions(["05_value_curves"])] == ["value_curves"]
    assert [r["id"] for r in analysis_definitions(["05_forecast"])] == ["retention_forecast"]
    assert [r["id"] for r in analysis_definitions(["05_survival"])] == ["retention_forecast"]
    rows = {r["id"]: r for r in analysis_definitions(["05_value_curves", "05_forecast"])}
    assert rows["value_curves"]["label"] == "Cohort value and payback"
    assert "weights its cohorts' by customers" in rows["value_curves"]["definition"]
    assert "adding none" in rows["retention_forecast"]["definition"]
    assert "200 refits" in rows["retention_forecast"]["definition"]
