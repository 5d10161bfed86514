"""Attribution with the Markov model and CAC by model: the rows each chart draws, by hand."""

from __future__ import annotations

import re

import altair as alt
import polars as pl
import pytest

from journeylib.charts import chart_attribution, chart_cac_by_model
from journeylib.charts.theme import PALETTE
from journeylib.i18n import use_language

from .test_charts_spec import inline_rows, marks, rows_of, walk

MODEL_LABELS = ["First touch", "Last touch", "Linear", "Position-based", "Data-driven (Markov)"]

# ads: every model credits it; mail: first touch credits it nothing (no CAC, no dot);
# tv: spend, no credit under any model; seo: credit, no spend (CAC 0); (none): spend null.
CAC_BY_MODEL = pl.DataFrame(
    {
        "channel": ["(none)", "ads", "mail", "seo", "tv"],
        "spend": [None, 300.0, 100.0, 0.0, 50.0],
        "first_touch": [None, 150.0, None, None, None],
        "last_touch": [None, 300.0, 50.0, 0.0, None],
        "linear": [None, 200.0, 100.0, 0.0, None],
        "position_based": [None, 187.5, 80.0, 0.0, None],
        "markov": [None, 250.0, 40.0, 0.0, None],
    },
    schema_overrides={"first_touch": pl.Float64},
)

ATTRIBUTION = pl.DataFrame(
    {
        "channel": ["ads", "seo", "mail"],
        "first_touch": [2.0, 1.0, 0.0],
        "last_touch": [1.0, 1.0, 1.0],
        "linear": [1.5, 1.0, 0.5],
        "position_based": [1.6, 1.0, 0.4],
        "markov": [1.2, 0.6, 1.2],
    }
)


def layer_rows(spec: dict, mark: str) -> list[dict]:
    """The rows of the layer drawn with ``mark``."""
    (view,) = [
        v
        for v in spec["layer"]
        if (v["mark"]["type"] if isinstance(v["mark"], dict) else v["mark"]) == mark
    ]
    return rows_of(spec, view)


# ------------------------------------------------------------ attribution, five models


def test_attribution_draws_the_markov_model_as_a_fifth_bar():
    rows = inline_rows(chart_attribution(ATTRIBUTION).to_dict())
    assert len(rows) == 5 * 3
    mail = {r["model"]: r["credit"] for r in rows if r["channel"] == "mail"}
    assert mail == dict(zip(MODEL_LABELS, [0.0, 1.0, 0.5, 0.4, 1.2], strict=True))
    # every model's credits sum to the 3 conversions
    for model in MODEL_LABELS:
        assert sum(r["credit"] for r in rows if r["model"] == model) == pytest.approx(3.0)


def test_attribution_without_markov_draws_four_models():
    spec = chart_attribution(ATTRIBUTION.drop("markov")).to_dict()
    rows = inline_rows(spec)
    assert {r["model"] for r in rows} == set(MODEL_LABELS[:4])
    colour = next(d["color"] for d in walk(spec) if "color" in d and "scale" in d["color"])
    assert colour["scale"]["domain"] == MODEL_LABELS[:4]


# ------------------------------------------------------------------- CAC by model


def test_cac_by_model_dots_one_per_model_with_a_cac():
    spec = chart_cac_by_model(CAC_BY_MODEL, currency="EUR").to_dict()
    dots = {(r["channel"], r["model"]): r["cac"] for r in layer_rows(spec, "point")}
    assert dots == {
        ("ads", "First touch"): 150.0,
        ("ads", "Last touch"): 300.0,
        ("ads", "Linear"): 200.0,
        ("ads", "Position-based"): 187.5,
        ("ads", "Data-driven (Markov)"): 250.0,
        # mail: no first-touch credit, so no first-touch CAC and no dot
        ("mail", "Last touch"): 50.0,
        ("mail", "Linear"): 100.0,
        ("mail", "Position-based"): 80.0,
        ("mail", "Data-driven (Markov)"): 40.0,
    }
    ads = next(r for r in layer_rows(spec, "point") if r["channel"] == "ads")
    assert ads["spend_text"] == "300 EUR"


def test_cac_by_model_rule_runs_from_lowest_to_highest_sorted_by_markov():
    spec = chart_cac_by_model(CAC_BY_MODEL, currency="EUR").to_dict()
    rules = [
        (r["channel"], r["low"], r["high"], r["low_model"], r["high_model"], r["text"])
        for r in layer_rows(spec, "rule")
    ]
    # highest Markov CAC first: ads (250) above mail (40)
    assert rules == [
        ("ads", 150.0, 300.0, "First touch", "Last touch", "150 – 300"),
        ("mail", 40.0, 100.0, "Data-driven (Markov)", "Linear", "40 – 100"),
    ]
    y = next(v["encoding"]["y"] for v in spec["layer"] if v["mark"]["type"] == "rule")
    assert y["sort"] == ["ads", "mail"]
    assert marks(spec) == {"rule", "text", "point"}


def test_cac_by_model_names_the_channels_it_leaves_out():
    spec = chart_cac_by_model(CAC_BY_MODEL, currency="EUR").to_dict()
    assert spec["title"]["text"] == "CAC by attribution model"
    assert spec["title"]["subtitle"] == [
        "A dot per attribution model; the grey line runs from the lowest CAC to the highest.",
        "A model without a dot credits the channel no conversion.",
        "Not drawn, no spend in the period: (none), seo",
        "Not drawn, no conversion credited under any model: tv",
    ]
    x = next(v["encoding"]["x"] for v in spec["layer"] if v["mark"]["type"] == "rule")
    assert x["title"] == "CAC in EUR (spend / credited conversions)"
    assert x["scale"]["domain"] == [0, pytest.approx(300 * 1.3)]


def test_cac_by_model_one_model_and_equal_cacs_give_one_amount():
    df = pl.DataFrame(
        {"channel": ["ads"], "spend": [90.0], "first_touch": [30.0], "last_touch": [30.0],
         "linear": [30.0], "position_based": [30.0], "markov": [30.0]}
    )  # fmt: skip
    spec = chart_cac_by_model(df, currency="USD").to_dict()
    (rule,) = layer_rows(spec, "rule")
    assert (rule["low"], rule["high"], rule["text"]) == (30.0, 30.0, "30")
    assert rule["low_model"] == rule["high_model"] == "First touch"  # ties: the first model
    assert spec["title"]["subtitle"] == [
        "A dot per attribution model; the grey line runs from the lowest CAC to the highest."
    ]


def test_cac_by_model_without_markov_sorts_by_highest_cac():
    spec = chart_cac_by_model(CAC_BY_MODEL.drop("markov"), currency="EUR").to_dict()
    rules = layer_rows(spec, "rule")
    assert [(r["channel"], r["high"]) for r in rules] == [("ads", 300.0), ("mail", 100.0)]
    assert {r["model"] for r in layer_rows(spec, "point")} == set(MODEL_LABELS[:4])


def test_cac_by_model_without_marketing_says_so():
    no_marketing = CAC_BY_MODEL.with_columns(pl.lit(None, pl.Float64).alias("spend"))
    chart = chart_cac_by_model(no_marketing, currency="EUR")
    spec = chart.to_dict()
    assert marks(spec) == {"text"}
    assert [r["text"] for r in inline_rows(spec)] == [
        "No channel has both spend and credited conversions."
    ]
    assert spec["title"]["subtitle"][-1] == (
        "Not drawn, no spend in the period: (none), ads, mail, seo, tv"
    )


def test_cac_by_model_theme_and_colours_match_the_attribution_chart():
    spec = chart_cac_by_model(CAC_BY_MODEL, currency="EUR").to_dict()
    assert isinstance(chart_cac_by_model(CAC_BY_MODEL, currency="EUR"), alt.LayerChart)
    assert spec["config"]["range"]["category"] == PALETTE
    point = next(v for v in spec["layer"] if v["mark"]["type"] == "point")
    # the same domain in the same order: each model has its colour of chart_attribution
    assert point["encoding"]["color"]["scale"]["domain"] == MODEL_LABELS
    assert point["encoding"]["shape"]["scale"]["domain"] == MODEL_LABELS


@pytest.mark.parametrize(
    ("lang", "script"), [("zh", r"[\u4e00-\u9fff]"), ("ar", r"[\u0600-\u06ff]")]
)
def test_cac_by_model_words_are_translated(lang, script):
    with use_language(lang):
        spec = chart_cac_by_model(CAC_BY_MODEL, currency="EUR").to_dict()
    title = spec["title"]
    for text in [title["text"], *title["subtitle"]]:
        assert re.search(script, text), text
    x = next(v["encoding"]["x"] for v in spec["layer"] if v["mark"]["type"] == "rule")
    assert re.search(script, x["title"]) and "EUR" in x["title"]
    assert all(re.search(script, r["model"]) for r in layer_rows(spec, "point"))
