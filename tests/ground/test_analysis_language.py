"""The analysis' words for readers come from the catalogs: Chinese and Arabic, not English.

Each test builds a small input, calls an analysis function under
``use_language(lang)`` and checks that the text is in the language's script
and free of the English words the catalogs translate (data such as ids and
numbers stay as they are).
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from journeylib import analysis
from journeylib.analysis import notes
from journeylib.config import JourneyTemplate, PersonaRule
from journeylib.i18n import gettext, use_language

SCRIPT = {"zh": re.compile(r"[\u4e00-\u9fff]"), "ar": re.compile(r"[\u0600-\u06ff]")}
LANGS = ["zh", "ar"]


def _english(text: str, words: list[str]) -> list[str]:
    """The words of ``words`` found in ``text`` (whole words, any case)."""
    return [w for w in words if re.search(rf"\b{re.escape(w)}\b", text, flags=re.IGNORECASE)]


def _goal(**extra):
    goal = {
        "id": "g1",
        "metric": "nps",
        "label": "g1",
        "baseline": 10.0,
        "baseline_source": "data",
        "current": 15.0,
        "target": 30.0,
        "deadline": "2025-12-31",
        "progress": 0.25,
        "time_elapsed": 0.6,
        "status": "off_track",
        "stage": "advocacy",
        "segment": {"persona": "smb"},
        "checks": {
            "specific": True,
            "measurable": True,
            "achievable": False,
            "relevant": True,
            "time_bound": True,
        },
        "notes": ["target 30 lies far outside the metric's history (8 to 12)"],
    }
    return goal | extra


GOAL_WORDS = [
    "goal",
    "metric",
    "started",
    "stands",
    "should reach",
    "time",
    "deadline",
    "passed",
    "off track",
    "Progress",
    "Achievable",
    "SMART check not passed",
    "Note",
    "How it is measured",
    "accounts with",
    "taken from the data",
    "lies far outside",
    "Promoters",  # the catalogue's definition of NPS
]


@pytest.mark.parametrize("lang", LANGS)
def test_goal_explanations_are_in_the_language(lang):
    doc = {"goals": [_goal(), _goal(id="g2", status="achieved", segment=None)], "currency": "USD"}
    with use_language(lang):
        texts = analysis.goal_explanations(doc)
    assert len(texts) == 2
    for text in texts:
        assert SCRIPT[lang].search(text)
        assert _english(text, GOAL_WORDS) == [], text
        assert "`g1`" in text or "`g2`" in text  # ids stay as they are


@pytest.mark.parametrize("lang", LANGS)
def test_a_goal_that_cannot_be_judged_explains_its_notes(lang):
    g = _goal(status=None, notes=["the current value cannot be computed from the data"])
    with use_language(lang):
        text = analysis.goal_explanations({"goals": [g]})[0]
    assert SCRIPT[lang].search(text)
    assert _english(text, ["cannot", "judged", "current value", "computed"]) == [], text


@pytest.mark.parametrize("lang", LANGS)
def test_goals_table_words_are_in_the_language(lang):
    with use_language(lang):
        table = analysis.goals_table({"goals": [_goal(segment=None)], "currency": "USD"})
    row = table.row(0, named=True)
    for col in ("S", "A", "segment", "status"):
        assert SCRIPT[lang].search(row[col]), (col, row[col])
    assert (
        _english(
            " ".join([row["S"], row["A"], row["segment"], row["status"]]),
            ["yes", "no", "all", "off"],
        )
        == []
    )
    assert row["id"] == "g1" and row["metric"] == "nps"  # data stays


@pytest.mark.parametrize("lang", LANGS)
def test_help_texts_are_in_the_language_and_keep_their_yaml(lang):
    with use_language(lang):
        goals_help = gettext(analysis.NO_GOALS_HELP)
        personas_help = gettext(analysis.NO_PERSONAS_HELP)
    for text, yaml_line in (
        (goals_help, "    metric: ttfv_days_median"),
        (personas_help, "    match: {company_size: {min: 500}, role: [it_director, cto]}"),
    ):
        assert SCRIPT[lang].search(text)
        assert yaml_line in text
        assert _english(text.split("```")[0], ["client has no", "Add", "rules", "yet"]) == []


QUESTION_WORDS = ["What", "How", "Which", "Who", "your", "customers", "you"]


@pytest.mark.parametrize("lang", LANGS)
def test_every_interview_question_is_translated(lang):
    with use_language(lang):
        bank = analysis.question_bank()
    assert bank.height == len(analysis.CUSTOMER_QUESTIONS) + len(analysis.SUPPORT_QUESTIONS)
    for question in bank["question"]:
        assert SCRIPT[lang].search(question), question
        assert _english(question, QUESTION_WORDS) == [], question
    # topics and audiences are ids
    assert bank["topic"][0] == "role" and bank["audience"][0] == "customers"


@pytest.mark.parametrize("lang", LANGS)
def test_persona_rules_are_in_the_language(lang):
    rules = [
        PersonaRule(id="ent", match={"company_size": {"min": 500}, "role": ["cto", "cio"]}),
        PersonaRule(id="mid", match={"company_size": {"min": 50, "max": 499}, "industry": "saas"}),
        PersonaRule(id="rest"),
    ]
    with use_language(lang):
        text = " | ".join(analysis.persona_rules_text(rules)["rule"].to_list())
    assert SCRIPT[lang].search(text)
    assert _english(text, ["at least", "is one of", "between", "and", "every account", "is"]) == []
    assert "company_size" in text and "cto" in text and "500" in text  # columns and values stay


def _template():
    return JourneyTemplate.model_validate(
        {
            "stages": [
                {
                    "id": "aw",
                    "label": "Aw",
                    "touchpoints": [],
                    "actions": ["read"],
                    "pain_points": ["slow"],
                    "kpis": ["stage_conversion"],
                },
                {"id": "on", "label": "On", "touchpoints": [], "decisions": ["buy"]},
            ]
        }
    )


BRIEF_WORDS = [
    "accounts reached it",
    "of the previous stage",
    "median",
    "after it",
    "stopped here",
    "Customer actions",
    "Decisions",
    "Pain points to look for",
]


@pytest.mark.parametrize("lang", LANGS)
def test_stage_briefs_are_in_the_language(lang):
    funnel = pl.DataFrame(
        {
            "id": ["aw", "on"],
            "reached": [100, 40],
            "conversion_from_previous": [None, 0.4],
            "median_days_from_previous": [None, 3.0],
        }
    )
    stall = pl.DataFrame({"id": ["aw", "on"], "accounts": [60, 40], "share": [0.6, 0.4]})
    with use_language(lang):
        text = analysis.stage_briefs(_template(), funnel, stall)
    assert SCRIPT[lang].search(text)
    assert _english(text, BRIEF_WORDS) == [], text
    assert "### 1. Aw" in text and "  - read" in text  # template text stays


@pytest.mark.parametrize("lang", LANGS)
def test_stage_kpi_labels_are_in_the_language(lang):
    doc = {
        "stages": [
            {"id": "aw", "label": "Aw", "conversion_from_previous": None},
            {"id": "on", "label": "On", "conversion_from_previous": 0.4},
        ]
    }
    with use_language(lang):
        label = analysis.stage_kpis(doc, _template())["label"][0]
    assert SCRIPT[lang].search(label)
    assert _english(label, ["Stage conversion", "to"]) == [], label


@pytest.mark.parametrize("lang", LANGS)
def test_notebook_notes_are_in_the_language(lang):
    with use_language(lang):
        texts = [
            gettext(notes.SMART_CHECKS),
            gettext(notes.TOP_TRANSITIONS),
            gettext(notes.ADD_SUBSCRIPTIONS_FOR_PERSONAS),
            gettext(notes.MICRO_JOURNEY_TITLE),
            notes.visitors_text(1234),
            notes.segments_text(4, 1200, 0.31),
            notes.charts_written_text(7),
            notes.charts_written_text(None),
        ]
    for text in texts:
        assert SCRIPT[lang].search(text), text
        assert (
            _english(
                text, ["checks", "frequent", "Add", "folder", "visitors", "segments", "written"]
            )
            == []
        ), text
    assert "`subscriptions.csv`" in texts[2]  # file names stay


def test_english_stays_english():
    assert analysis.question_bank("support_team")["question"][0] == (
        "Which problems do customers contact you about most often?"
    )
    assert notes.visitors_text(1234) == "Anonymous visitors in the period: **1,234**."
