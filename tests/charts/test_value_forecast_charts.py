"""Cohort value curves, the payback table, survival and the forecast fan: the rows each draws, by hand."""

from __future__ import annotations

import re

import polars as pl
import pytest

from journeylib.charts import chart_forecast, chart_survival, chart_value_curves, payback_table
from journeylib.charts.forecast import forecast_rows
from journeylib.charts.value import _ticks, channel_cac, top_channels
from journeylib.i18n import use_language

from .test_charts_spec import inline_rows, marks, rows_of


def vc(cohort, channel, customers, cac, cumulative, payback):
    return {
        "cohort": cohort,
        "channel": channel,
        "customers": customers,
        "cac": cac,
        "cumulative": cumulative,
        "payback_month": payback,
    }


# 2024-01 is the data's first month (no CAC). In 2024-02 ads cost 150 and has not paid back,
# direct had no spend (CAC 0, pays back at once), seo paid back in month 0. 2024-03: seo only.
VALUE_CURVES = [
    vc("2024-01", "(all)", 3, None, [10.0, 20.0, 30.0], None),
    vc("2024-01", "ads", 1, None, [5.0, 10.0, 15.0], None),
    vc("2024-01", "seo", 2, None, [12.5, 25.0, 37.5], None),
    vc("2024-02", "(all)", 4, 50.0, [20.0, 60.0], 1),
    vc("2024-02", "ads", 1, 150.0, [30.0, 90.0], None),
    vc("2024-02", "direct", 2, 0.0, [10.0, 40.0], 0),
    vc("2024-02", "seo", 1, 50.0, [50.0, 100.0], 0),
    vc("2024-03", "(all)", 1, 10.0, [20.0], 0),
    vc("2024-03", "seo", 1, 10.0, [20.0], 0),
]


def layers_by_mark(panel: dict, spec: dict) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for layer in panel["layer"]:
        mark = layer["mark"]["type"] if isinstance(layer["mark"], dict) else layer["mark"]
        out.setdefault(mark, []).extend(rows_of(spec, layer))
    return out


# ------------------------------------------------------------------ value curves
def test_channel_cac_weights_the_cohorts_by_customers():
    assert channel_cac([r for r in VALUE_CURVES if r["channel"] == "seo"]) == pytest.approx(
        (1 * 50.0 + 1 * 10.0) / 2
    )
    assert channel_cac([r for r in VALUE_CURVES if r["channel"] == "(all)"]) == pytest.approx(
        (4 * 50.0 + 1 * 10.0) / 5
    )
    assert channel_cac(VALUE_CURVES[:3]) is None  # the data's first month: no CAC


def test_top_channels_are_those_that_spent_by_customers():
    # direct has more customers but spent nothing; seo (2 with a CAC) before ads (1)
    assert top_channels(VALUE_CURVES, 3) == ["seo", "ads"]
    assert top_channels(VALUE_CURVES, 1) == ["seo"]
    # without any spend every channel competes, over every cohort: seo 3, direct 2, ads 2
    no_spend = [{**r, "cac": None} for r in VALUE_CURVES]
    assert top_channels(no_spend, 3) == ["seo", "ads", "direct"]


def test_value_curves_panels_lines_rules_and_payback_dots():
    spec = chart_value_curves(VALUE_CURVES, currency="EUR").to_dict()
    panels = spec["concat"]
    assert [p["title"]["text"] for p in panels] == [
        "All channels (8 customers)",
        "seo (4 customers)",
        "ads (2 customers)",
    ]
    everyone = layers_by_mark(panels[0], spec)
    # one point per cohort and month k: 3 + 2 + 1
    assert [(r["cohort"], r["k"], r["value"]) for r in everyone["line"]] == [
        ("2024-01", 0, 10.0),
        ("2024-01", 1, 20.0),
        ("2024-01", 2, 30.0),
        ("2024-02", 0, 20.0),
        ("2024-02", 1, 60.0),
        ("2024-03", 0, 20.0),
    ]
    # the rule at the customer-weighted CAC, its label in the currency
    assert everyone["rule"] == [{"cac": 42.0, "text": "CAC 42 EUR"}]
    # a dot where each cohort reached its own CAC; none for the first month (no CAC)
    assert [(r["cohort"], r["k"], r["value"]) for r in everyone["point"]] == [
        ("2024-02", 1, 60.0),
        ("2024-03", 0, 20.0),
    ]
    seo = layers_by_mark(panels[1], spec)
    assert seo["rule"][0]["cac"] == 30.0
    assert [(r["cohort"], r["k"]) for r in seo["point"]] == [("2024-02", 0), ("2024-03", 0)]
    ads = layers_by_mark(panels[2], spec)
    assert "point" not in ads  # ads never paid back
    tips = {r["cohort"]: r["payback_text"] for r in ads["line"]}
    assert tips == {"2024-01": "—", "2024-02": "not reached"}


def test_value_curves_axes_colours_and_scale():
    spec = chart_value_curves(VALUE_CURVES, currency="EUR").to_dict()
    first = spec["concat"][0]["layer"][0]["encoding"]
    assert first["color"]["scale"]["domain"] == ["2024-01", "2024-02", "2024-03"]
    assert first["y"]["title"] == "EUR per customer"
    # the y axis ends on its top tick (the panels' titles line up): 60 -> 0, 20, 40, 60
    assert first["y"]["scale"]["domain"] == [0, 60.0]
    assert first["y"]["axis"]["values"] == [0.0, 20.0, 40.0, 60.0]
    assert first["x"]["scale"]["domain"] == [0, 2]
    # the x title on the bottom row only, the y title in the left column only
    right = spec["concat"][1]["layer"][0]["encoding"]
    assert right["y"]["title"] is None and right["x"]["title"] == "Months since first payment"
    assert marks(spec) == {"line", "rule", "text", "point"}


def test_value_curves_in_one_row_have_the_x_title_on_every_panel():
    spec = chart_value_curves(VALUE_CURVES, currency="EUR", columns=4).to_dict()
    assert spec["columns"] == 4
    panels = [p["layer"][0]["encoding"] for p in spec["concat"]]
    assert len(panels) == 3
    assert all(p["x"]["title"] == "Months since first payment" for p in panels)
    assert [p["y"]["title"] for p in panels] == ["EUR per customer", None, None]
    # two a row: the third panel (bottom left) and the second (nothing below it) carry it
    two = [
        p["layer"][0]["encoding"]
        for p in chart_value_curves(VALUE_CURVES, currency="EUR").to_dict()["concat"]
    ]
    assert [p["x"]["title"] is not None for p in two] == [False, True, True]


def test_value_curves_without_cohorts_is_one_line_of_text():
    for empty in ([], pl.DataFrame()):
        spec = chart_value_curves(empty, currency="EUR").to_dict()
        assert [r["text"] for r in inline_rows(spec)] == [
            "No cohort of paying customers in the period."
        ]


def test_ticks():
    assert _ticks(13_513.0) == [0.0, 5000.0, 10000.0, 15000.0]
    assert _ticks(400.0) == [0.0, 100.0, 200.0, 300.0, 400.0]
    assert _ticks(0.0) == [0.0, 1.0]


# ------------------------------------------------------------------ payback table
def test_payback_table_channels_by_customers_cohorts_with_a_cac():
    table = payback_table(pl.DataFrame(VALUE_CURVES))
    assert table.columns == ["channel", "customers", "cac", "2024-02", "2024-03"]
    assert table.rows() == [
        ("All channels", 5, 42.0, "1", "0"),
        ("direct", 2, 0.0, "0", ""),  # ties on customers: alphabetical
        ("seo", 2, 30.0, "0", "0"),
        ("ads", 1, 150.0, "—", ""),  # not paid back; no customer in 2024-03
    ]


def test_payback_table_without_marketing_has_no_cohort_column():
    table = payback_table([{**r, "cac": None, "payback_month": None} for r in VALUE_CURVES])
    assert table.columns == ["channel", "customers", "cac"]
    assert table.height == 0


# ------------------------------------------------------------------ survival
SURVIVAL = pl.DataFrame(
    {
        "cohort": ["2024-01"] * 3 + ["2024-02"] * 2,
        "t": [0, 1, 2, 0, 1],
        "customers": [4, 4, 4, 2, 2],
        "alive": [4, 2, 1, 2, 2],
        "survival": [1.0, 0.5, 0.25, 1.0, 1.0],
        "fitted": [1.0, 0.5, 1 / 3, 1.0, 0.5],
    }
)


def test_survival_cohort_lines_and_one_fitted_curve():
    spec = chart_survival(SURVIVAL, alpha=1.0, beta=1.0).to_dict()
    lines, points, model = (rows_of(spec, layer) for layer in spec["layer"])
    assert [(r["cohort"], r["t"], r["survival"]) for r in lines] == [
        ("2024-01", 0, 1.0),
        ("2024-01", 1, 0.5),
        ("2024-01", 2, 0.25),
        ("2024-02", 0, 1.0),
        ("2024-02", 1, 1.0),
    ]
    assert points == lines
    assert [(r["t"], r["fitted"]) for r in model] == [(0, 1.0), (1, 0.5), (2, pytest.approx(1 / 3))]
    assert lines[2]["share_text"] == "25.0%" and model[2]["fitted_text"] == "33.3%"
    assert spec["layer"][2]["mark"]["strokeWidth"] > spec["layer"][0]["mark"]["strokeWidth"]
    assert spec["title"]["subtitle"][1] == (
        "Bold line: the fitted model (α = 1.000, β = 1.000), which the forecast uses."
    )


def test_survival_without_the_fit_says_nothing_of_alpha():
    spec = chart_survival(SURVIVAL).to_dict()
    assert spec["title"]["subtitle"][1] == "Bold line: the fitted model, which the forecast uses."


# ------------------------------------------------------------------ forecast fan
HISTORY = pl.DataFrame(
    {
        "month": [f"2024-{m:02d}" for m in range(1, 13)] + ["2025-01", "2025-02"],
        "customers": list(range(100, 114)),
    }
)
FORECAST = {
    "alpha": 0.5,
    "beta": 2.0,
    "cohorts_used": 3,
    "months": [
        {"month": "2025-03", "customers": 100.4, "mrr": 10040.0, "lo": 98.2, "hi": 102.6},
        {"month": "2025-04", "customers": 96.6, "mrr": 9660.0, "lo": 93.5, "hi": 99.5},
    ],
}


def test_forecast_rows_history_base_and_band():
    rows = forecast_rows(HISTORY, FORECAST, base=104, currency="EUR")
    assert [r["month"] for r in rows["history"]] == [f"2024-{m:02d}" for m in range(3, 13)] + [
        "2025-01",
        "2025-02",
    ]
    assert rows["history"][-1]["customers"] == 113
    ahead = rows["forecast"]
    # the line and band start at today's base in the last month of the history
    assert [(r["month"], r["customers"], r["lo"], r["hi"]) for r in ahead] == [
        ("2025-02", 104.0, 104.0, 104.0),
        ("2025-03", 100.4, 98.2, 102.6),
        ("2025-04", 96.6, 93.5, 99.5),
    ]
    assert [(r["customers_text"], r["band_text"], r["mrr_text"]) for r in ahead] == [
        ("104", "104 – 104", "—"),
        ("100", "98 – 103", "10,040 EUR"),
        ("97", "94 – 100", "9,660 EUR"),
    ]


def test_forecast_rows_without_a_base_or_a_band():
    bare = {"months": [{**m, "lo": None, "hi": None} for m in FORECAST["months"]]}
    ahead = forecast_rows(HISTORY, bare, history_months=2)["forecast"]
    assert [r["month"] for r in ahead] == ["2025-03", "2025-04"]
    assert ahead[0]["band_text"] == "—" and ahead[0]["bottom"] == 100.4


def test_forecast_chart_layers_and_end_label():
    spec = chart_forecast(HISTORY, FORECAST, base=104, currency="EUR").to_dict()
    kinds = [layer["mark"]["type"] for layer in spec["layer"]]
    assert kinds == ["area", "rule", "line", "line", "point", "text"]
    band, today, history, dashed, _points, label = (rows_of(spec, lyr) for lyr in spec["layer"])
    assert len(history) == 12 and len(band) == len(dashed) == 3
    assert today == [{"month": "2025-02"}]
    assert spec["layer"][3]["mark"]["strokeDash"] and "strokeDash" not in spec["layer"][2]["mark"]
    assert [r["text"] for r in label] == ["97 customers, 9,660 EUR MRR"]
    assert spec["title"]["subtitle"] == (
        "Solid: history; dashed: today's 104 never-churned customers, no new ones; "
        "shaded: 90 % band."
    )
    # over a year of months, a label each quarter
    assert "substring(datum.label, 5, 7)" in spec["layer"][0]["encoding"]["x"]["axis"]["labelExpr"]


def test_forecast_chart_without_forecast_months_draws_the_history():
    spec = chart_forecast(HISTORY, {"months": []}).to_dict()
    band, _today, history, dashed, _points, label = (rows_of(spec, lyr) for lyr in spec["layer"])
    assert len(history) == 12 and band == dashed == label == []


# ------------------------------------------------------------------ the client's language
# Fails until the translator adds the new messages to the catalogs (make messages).
@pytest.mark.parametrize("lang", ["zh", "ar"])
def test_the_new_charts_speak_the_language(lang):
    script = re.compile(r"[\u4e00-\u9fff]" if lang == "zh" else r"[\u0600-\u06ff]")
    with use_language(lang):
        specs = [
            chart_value_curves(VALUE_CURVES, currency="EUR").to_dict(),
            chart_survival(SURVIVAL, alpha=1.0, beta=1.0).to_dict(),
            chart_forecast(HISTORY, FORECAST, base=104, currency="EUR").to_dict(),
        ]
    for spec in specs:
        title = spec["title"]["text"]
        subtitle = (
            " ".join(spec["title"]["subtitle"])
            if isinstance(spec["title"]["subtitle"], list)
            else spec["title"]["subtitle"]
        )
        assert script.search(title), title
        assert script.search(subtitle), subtitle
