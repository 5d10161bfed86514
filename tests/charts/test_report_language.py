"""The report's and the charts' own words in Arabic and Chinese (journeylib.i18n catalogs).

Each test builds a result inside ``use_language`` and checks that our words came
from the catalog: the script of the language is there, the English words are not.
English stays the source language: a few sentences are pinned word for word.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl
import pytest
from babel.messages.pofile import read_po

import journeylib as jl
from journeylib import charts, i18n
from journeylib.analysis import journey_map as jm
from journeylib.analysis.journey_map import JourneyMapData, report_view
from journeylib.charts import (
    chart_attribution,
    chart_cac_by_channel,
    chart_day_in_life,
    chart_goal_progress,
    chart_journey_map,
    chart_milestone_retention,
    chart_milestone_times,
    chart_mrr_bridge,
    chart_mrr_movements,
    chart_nps_over_tenure,
    chart_nrr_grr,
    chart_onboarding_map,
    chart_opportunity_map,
    chart_ordered_funnel,
    chart_persona_comparison,
    chart_retention_heatmap,
    chart_service_blueprint,
    chart_stage_funnel,
    chart_ticket_mix,
    chart_touchpoint_flow,
)
from journeylib.i18n import use_language
from journeylib.metrics.catalog import CATALOG
from journeylib.report.summary import definitions, executive_summary
from journeylib.sources.synth import synthesize

SCRIPT = {"zh": re.compile(r"[\u4e00-\u9fff]"), "ar": re.compile(r"[\u0600-\u06ff]")}
LANGS = ["zh", "ar"]

# Our words on the journey map and the stage funnel (none may survive a translation).
MAP_WORDS = [
    "Customer journey map",
    "current state",
    "future state",
    "Persona",
    "Stage",
    "accounts reached",
    "accounts",
    "conversion",
    "Touchpoints",
    "dot size = events",
    "direct",
    "events",
    "more",
    "Emotion: NPS by stage",
    "bar: 95 % interval",
    "hollow: < 30 answers",
    "no survey answers",
    "(few)",
    "sentiment",
    "Customer actions",
    "Pain points",
    "Opportunities",
    "KPIs",
    "target",
    "gap",
    "shaded",
]
FUNNEL_WORDS = ["Stage funnel", "Accounts reached", "From previous", "of previous", "median"]


def _strings(spec: Any, keys: tuple[str, ...] = ("text", "title", "subtitle")) -> list[str]:
    """Every string under ``keys`` anywhere in a vega-lite spec (a wrapped text joined again)."""
    out: list[str] = []

    def walk(o: Any) -> None:
        if isinstance(o, dict):
            for k, v in o.items():
                if k in keys and isinstance(v, str):
                    out.append(v)
                elif k in keys and isinstance(v, list) and all(isinstance(x, str) for x in v):
                    out.append(" ".join(v))  # the wrapped lines of one text
                walk(v)
        elif isinstance(o, list):
            for x in o:
                walk(x)

    walk(spec)
    return out


# ------------------------------------------------------------------ the executive summary
DOC: dict[str, Any] = {
    "currency": "EUR",
    "revenue": {
        "months": [
            {"month": "2025-01", "mrr": 100.0, "nrr_1m": 1.01, "logo_churn_rate": 0.02},
            {"month": "2025-02", "mrr": 120.0, "nrr_1m": 0.98, "logo_churn_rate": 0.03},
        ]
    },
    "stages": [
        {"id": "s1", "label": "S1", "reached": 100},
        {"id": "s2", "label": "S2", "reached": 40, "conversion_from_previous": 0.4},
        {"id": "s3", "label": "S3", "reached": 10, "conversion_from_previous": 0.25},
    ],
    "goals": [
        {
            "id": "g1",
            "metric": "nps",
            "label": "Net Promoter Score",
            "status": "at_risk",
            "progress": 0.2,
        },
        {"id": "g2", "metric": "cac", "label": "G2", "status": "on_track", "progress": 0.8},
    ],
    "data_quality": {
        "tables": {"events": {"rows_in": 1200, "rows_rejected": 10, "reasons": {"x": 10}}},
        "period_cut": {"months": 1, "table": "events", "period_end": "2025-02"},
    },
}


def test_the_english_summary_reads_as_before():
    s = executive_summary(DOC)
    assert [k["label"] for k in s["kpis"]] == [
        "MRR (2025-02)",
        "NRR (month)",
        "Logo churn (month)",
        "Activation rate",
        "NPS",
        "CAC",
    ]
    assert s["kpis"][0]["compared_to"] == "vs 2025-01"
    assert s["kpis"][3]["note"] == "not computable: no data or a zero denominator"
    assert s["findings"][1:3] == [
        "Steepest drops by share of accounts: S2 → S3 loses 75.0%; S1 → S2 loses 60.0%.",
        "1 of 2 goals is on track or achieved; the furthest behind is Net Promoter Score "
        "(progress 20.0%).",
    ]
    assert s["warnings"] == [
        "events: 10 of 1,200 rows rejected (most often: x)",
        "The period ends in 2025-02, the last month of subscriptions: 1 later month of events "
        "is left out (set period.end in client.yaml to include it).",
    ]


@pytest.mark.parametrize(
    "lang,activation,steep_end",
    [("zh", "激活率", "。"), ("ar", "معدل التفعيل", ".")],
)
def test_the_summary_speaks_the_language(lang, activation, steep_end):
    with use_language(lang):
        s = executive_summary(DOC)
    labels = [k["label"] for k in s["kpis"]]
    assert activation in labels and "Activation rate" not in labels
    assert not any("Logo churn" in label or "NRR (month)" in label for label in labels)
    assert all(SCRIPT[lang].search(k["note"]) for k in s["kpis"] if k["missing"])
    assert (
        SCRIPT[lang].search(s["kpis"][0]["compared_to"]) and "vs" not in s["kpis"][0]["compared_to"]
    )
    assert len(s["findings"]) == 4  # the funnel, the steepest drops, the goals, MRR
    for sentence in s["findings"]:
        assert SCRIPT[lang].search(sentence), sentence
        assert not re.search(r"\b(loses|goals|the|of)\b", sentence), sentence
    assert s["findings"][1].endswith(steep_end)
    # the goal named by its catalogue label is translated, the client's own label is not
    assert [g["label"] for g in s["goals"]][1] == "G2"
    assert s["goals"][0]["label"] != "Net Promoter Score"
    assert all(SCRIPT[lang].search(w) and "rejected" not in w for w in s["warnings"])


@pytest.mark.parametrize("lang", LANGS)
def test_the_appendix_translates_labels_and_definitions_only(lang):
    english = {r["id"]: r for r in definitions()}
    with use_language(lang):
        rows = definitions()
    assert [r["id"] for r in rows] == list(english)
    for r in rows:
        e = english[r["id"]]
        assert (r["unit"], r["stage"]) == (e["unit"], e["stage"])
        assert SCRIPT[lang].search(r["label"]), r["label"]
        assert SCRIPT[lang].search(r["definition"]), r["definition"]
    assert jl.CATALOG["nps"].label == "Net Promoter Score"  # the catalogue itself stays English


def test_every_catalogue_label_and_definition_is_in_the_template():
    with (i18n.LOCALES_DIR / "journey.pot").open("rb") as fh:
        ids = {m.id for m in read_po(fh) if m.id}
    for m in CATALOG.values():
        assert m.label in ids, m.id
        assert m.definition in ids, m.id


# ------------------------------------------------------------------ the journey map and funnel
@pytest.fixture(scope="module")
def small_map() -> JourneyMapData:
    stages = pl.DataFrame(
        {
            "order": [1, 2, 3],
            "id": ["s1", "s2", "s3"],
            "label": ["S1", "S2", "S3"],
            "reached": [100, 40, 10],
            "conversion_from_previous": [None, 0.4, 0.25],
        }
    )
    touchpoints = pl.DataFrame(
        {
            "stage": ["s1"] * 7,
            "touchpoint": list("abcdefg"),
            "label": list("ABCDEFG"),
            "kind": ["direct", "indirect"] * 3 + ["direct"],
            "events": [7, 6, 5, 4, 3, 2, 1],
            "accounts": [1] * 7,
        }
    )
    emotion = pl.DataFrame(
        {
            "stage": ["s1", "s2"],
            "nps": [10.0, -5.0],
            "responses": [40, 12],
            "ci_low": [0.0, -30.0],
            "ci_high": [20.0, 20.0],
            "sentiment": [0.2, None],
        }
    )
    texts = pl.DataFrame(
        {
            "stage": ["s1", "s1", "s2", "s2"],
            "lane": ["situation", "actions", "pain_points", "opportunities"],
            "text": ["T1", "T2", "T3", "T4"],
        }
    )
    kpis = pl.DataFrame(
        {
            "stage": ["s1", "s2"],
            "metric": ["ctr", "activation_rate"],
            "label": ["K1", "K2"],
            "value_text": ["2%", "40%"],
            "trend": ["▲ 1%", None],
            "target_text": ["3%", None],
            "gap_text": ["+1", None],
            "status": ["at_risk", None],
        }
    )
    return JourneyMapData(
        stages=stages, touchpoints=touchpoints, emotion=emotion, texts=texts, kpis=kpis, persona="P"
    )


def test_the_english_map_keeps_its_words(small_map):
    specs = [chart_journey_map(small_map, state=s).to_dict() for s in ("current", "future")]
    words = " ".join(t for spec in specs for t in _strings(spec))  # wrapped lines rejoined
    for word in MAP_WORDS:
        assert word in words, word


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("state", ["current", "future"])
def test_the_journey_map_speaks_the_language(small_map, lang, state):
    with use_language(lang):
        spec = chart_journey_map(small_map, state=state).to_dict()
    strings = _strings(spec)
    assert SCRIPT[lang].search(spec["title"]["text"])
    lane_titles = [s for s in strings if SCRIPT[lang].search(s)]
    assert len(lane_titles) > 20
    joined = " ".join(strings)
    for word in MAP_WORDS:
        assert word not in joined, word
    tooltips = _strings(spec, keys=("title",))
    assert not any(t in tooltips for t in ("Stage", "Touchpoint", "Accounts reached", "Answers"))


@pytest.mark.parametrize("lang", LANGS)
def test_the_stage_funnel_speaks_the_language(small_map, lang):
    stages = small_map.stages.with_columns(median_days_from_previous=pl.Series([None, 3.5, 9.0]))
    with use_language(lang):
        spec = chart_stage_funnel(stages).to_dict()
    strings = _strings(spec) + [
        r["text"] for values in spec.get("datasets", {}).values() for r in values
    ]
    assert SCRIPT[lang].search(spec["title"])
    joined = " ".join(strings)
    for word in FUNNEL_WORDS:
        assert word not in joined, word
    assert sum(bool(SCRIPT[lang].search(s)) for s in strings) >= 8


def _all_charts(f: Any) -> dict[str, Any]:
    """Every chart function (except the journey map, tested above) with default titles."""
    front, back = f["blueprint"]
    goals = [{"id": "g", "metric": "nps", "label": "Net Promoter Score", "progress": 0.4,
              "time_elapsed": 0.5, "status": "at_risk"}]  # fmt: skip
    return {
        "stage_funnel": lambda: chart_stage_funnel(f["stages"]),
        "ordered_funnel": lambda: chart_ordered_funnel(f["funnel_steps"]),
        "variants": lambda: chart_ordered_funnel(f["funnel_steps"], variants=f["funnel_variants"]),
        "onboarding_map": lambda: chart_onboarding_map(f["funnel_steps"]),
        "touchpoint_flow": lambda: chart_touchpoint_flow(f["transitions"]),
        "retention_heatmap": lambda: chart_retention_heatmap(f["retention_long"]),
        "mrr_movements": lambda: chart_mrr_movements(f["revenue_months"]),
        "mrr_bridge": lambda: chart_mrr_bridge(f["revenue_months"], start="2024-04", end="2024-09"),
        "nrr_grr": lambda: chart_nrr_grr(f["revenue_months"]),
        "cac_by_channel": lambda: chart_cac_by_channel(f["by_channel"], payback=9.4),
        "attribution": lambda: chart_attribution(f["attribution"]),
        "milestone_times": lambda: chart_milestone_times(f["milestone_accounts"]),
        "milestone_retention": lambda: chart_milestone_retention(f["milestone_retention"]),
        "nps_over_tenure": lambda: chart_nps_over_tenure(f["nps_tenure"]),
        "ticket_mix": lambda: chart_ticket_mix(f["ticket_mix"]),
        "persona_comparison": lambda: chart_persona_comparison(f["personas"]),
        "day_in_life": lambda: chart_day_in_life(f["activity"]),
        "opportunity_map": lambda: chart_opportunity_map(f["opportunities"]),
        "service_blueprint": lambda: chart_service_blueprint(front, back),
        "goal_progress": lambda: chart_goal_progress(goals),
        "lifecycle": lambda: charts.chart_lifecycle(f["analytics"]["lifecycle"]),
        "stickiness": lambda: charts.chart_stickiness(f["analytics"]["stickiness"]),
        "paths": lambda: charts.chart_paths(f["analytics"]["paths"]),
        "correlation": lambda: charts.chart_correlation(f["analytics"]["correlation"]),
        "retention_breakdown": lambda: charts.chart_retention_breakdown(
            f["analytics"]["retention_breakdown"]
        ),
        "funnel_breakdown": lambda: charts.chart_funnel_breakdown(
            f["analytics"]["funnel_breakdown"]
        ),
    }


FIXTURES = [
    "stages", "funnel_steps", "funnel_variants", "transitions", "retention_long",
    "revenue_months", "by_channel", "attribution", "milestone_accounts", "milestone_retention",
    "nps_tenure", "ticket_mix", "personas", "activity", "opportunities", "blueprint", "analytics",
]  # fmt: skip
# Titles that are the same word in every language (acronyms; client or data values).
SAME = {"MRR", "NRR", "GRR", "DAU/MAU", "", "Net Promoter Score"}


@pytest.mark.parametrize("lang", LANGS)
def test_every_chart_title_axis_legend_and_tooltip_is_translated(request, lang):
    f = {name: request.getfixturevalue(name) for name in FIXTURES}
    charts = _all_charts(f)
    for name, make in charts.items():
        english = set(_strings(make().to_dict(), keys=("title", "subtitle")))
        with use_language(lang):
            spec = make().to_dict()
        translated = set(_strings(spec, keys=("title", "subtitle")))
        kept = (english & translated) - SAME
        assert not kept, f"{name}: {sorted(kept)}"
        title = spec["title"] if isinstance(spec["title"], str) else spec["title"]["text"]
        assert SCRIPT[lang].search(title), f"{name}: {title!r}"


@pytest.mark.parametrize("lang", LANGS)
def test_chart_data_words_follow_the_language(lang, request):
    """Legend entries and labels that are our words (movements, weekdays, groups) translate."""
    months = request.getfixturevalue("revenue_months")
    with use_language(lang):
        movements = chart_mrr_movements(months).to_dict()
        days = chart_day_in_life(request.getfixturevalue("activity")).to_dict()
    legend = movements["layer"][0]["encoding"]["color"]["scale"]["domain"]
    assert all(SCRIPT[lang].search(d) for d in legend) and "Churn" not in legend
    weekdays = days["spec"]["encoding"]["y"]["scale"]["domain"]
    assert len(weekdays) == 7 and not set(weekdays) & {"Mon", "Sun"}


# ------------------------------------------------------------------ the map's data
@pytest.fixture(scope="module")
def client_world(tmp_path_factory):
    folder = tmp_path_factory.mktemp("lang") / "small"
    synthesize(folder, accounts=200, months=6, seed=11)
    client = jl.load_client(folder)
    return client, jl.metrics_document(client), jl.journey_events(client)


@pytest.mark.parametrize("lang,prefix,title", [
    ("en", "Data: ", "Customer journey map: current state"),
    ("zh", "数据：", "客户旅程地图：现状"),
    ("ar", "من البيانات: ", "خريطة رحلة العميل: الحالة الراهنة"),
])  # fmt: skip
def test_the_report_view_keeps_the_data_rows_in_any_language(client_world, lang, prefix, title):
    client, doc, stream = client_world
    with use_language(lang):
        d = jm.journey_map_data(client, doc, stream)
    assert d.title == title
    flagged = d.texts.filter(pl.col("from_data"))
    assert flagged.height > 0
    assert all(t.startswith(prefix) for t in flagged["text"])
    assert not any(t.startswith(prefix) for t in d.texts.filter(~pl.col("from_data"))["text"])
    # the filter reads the flag, whatever the current language is when it runs
    with use_language("en"):
        kept = report_view(d).texts
    assert (
        kept["text"].to_list()
        == flagged.filter(pl.col("lane").is_in(["pain_points", "opportunities"]))["text"].to_list()
    )
    if lang != "en":
        labels = d.kpis["label"].to_list()
        assert labels and all(SCRIPT[lang].search(label) for label in labels), labels


@pytest.mark.parametrize("lang", LANGS)
def test_a_frame_without_the_flag_is_read_by_its_translated_prefix(lang):
    with use_language(lang):
        data_text = i18n.gettext("Data: {text}").format(text="x")
    d = JourneyMapData(
        stages=pl.DataFrame({"id": ["a"]}),
        texts=pl.DataFrame(
            {"stage": ["a"] * 3, "lane": ["pain_points"] * 3, "text": [data_text, "Data: y", "z"]}
        ),
    )
    with use_language(lang):
        assert report_view(d).texts["text"].to_list() == [data_text, "Data: y"]
    assert jm._data_prefixes() == ["Data:"]
