"""The shipped journey templates, the client.yaml template and the demo client."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from journeylib.config import ClientConfig, load_client_config, load_template
from journeylib.paths import PROJ_ROOT, templates_dir
from journeylib.sources.synth import RAW_EVENTS, UNMAPPED_EVENTS, synthesize

TEMPLATES = {
    "saas_5_stage": ["awareness", "consideration", "conversion", "retention", "advocacy"],
    "b2b_saas_8_stage": [
        "awareness",
        "consideration",
        "decision",
        "onboarding",
        "adoption",
        "retention",
        "expansion",
        "advocacy",
    ],
}
DERIVED = [
    "signed_up",
    "subscription_started",
    "subscription_renewed",
    "expanded",
    "contracted",
    "churned",
    "reactivated",
    "ticket_opened",
    "ticket_resolved",
    "survey_answered",
]
KPI_IDS = {
    "website_visitors",
    "branded_search_share",
    "ctr",
    "cac",
    "cac_payback_months",
    "activation_rate",
    "ttfv_days_median",
    "engagement_score",
    "nps",
    "logo_churn_rate",
    "churn_rate_simple",
    "nrr_12m",
    "grr_12m",
    "expansion_mrr",
    "ltv",
    "resolution_hours_median",
    "referral_rate",
    "mrr",
    "arpa",
    "quick_ratio",
    "stage_conversion",
}
STAGE_LISTS = [
    "phases",
    "actions",
    "decisions",
    "information_needs",
    "emotions",
    "pain_points",
    "opportunities",
    "kpis",
    "touchpoints",
]
TOUCHPOINT_TEXT = [
    "label",
    "kind",
    "channel",
    "customer_goal",
    "company_goal",
    "customer_does",
    "company_does",
    "customer_feels",
    "desired_outcome",
]
DEMO = PROJ_ROOT / "data" / "demo"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_loads_with_its_stages(name):
    tpl = load_template(name)
    assert tpl.stage_ids == TEMPLATES[name]
    assert tpl.id == name


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_has_all_qualitative_content(name):
    tpl = load_template(name)
    ids = {tp.id for tp in tpl.touchpoints}
    for stage in tpl.stages:
        assert stage.situation, stage.id
        for field in STAGE_LISTS:
            assert getattr(stage, field), f"{stage.id}.{field}"
        assert set(stage.kpis) <= KPI_IDS, stage.id
        for tp in stage.touchpoints:
            for field in TOUCHPOINT_TEXT:
                assert getattr(tp, field), f"{tp.id}.{field}"
            assert tp.events
            assert tp.feeds_into and set(tp.feeds_into) <= ids, tp.id
    assert len(tpl.stages[0].phases) == 2 or name == "b2b_saas_8_stage"


@pytest.mark.parametrize("name", sorted(TEMPLATES))
def test_template_maps_every_generated_and_derived_event_once(name):
    tpl = load_template(name)
    mapped = tpl.event_map()
    listed = [ev for tp in tpl.touchpoints for ev in tp.events]
    assert len(listed) == len(set(listed)), "an event is listed under two touchpoints"
    wanted = [e for e in RAW_EVENTS if e not in UNMAPPED_EVENTS] + DERIVED
    assert [e for e in wanted if e not in mapped] == []
    assert [e for e in UNMAPPED_EVENTS if e in mapped] == []


def test_both_templates_map_the_raw_vocabulary_to_comparable_stages():
    five = load_template("saas_5_stage").event_map()
    eight = load_template("b2b_saas_8_stage").event_map()
    assert set(five) == set(eight)
    # the awareness and advocacy ends agree between the models
    for ev, (_, stage) in eight.items():
        if stage in ("awareness", "advocacy"):
            assert five[ev][1] == stage, ev


def test_every_generated_event_is_covered_in_a_generated_client(tmp_path):
    synthesize(tmp_path / "c", accounts=300, months=6, seed=5)
    seen = set(pl.read_csv(tmp_path / "c" / "events.csv", columns=["event"])["event"].unique())
    for name in TEMPLATES:
        mapped = load_template(name).event_map()
        assert sorted(seen - set(mapped)) == sorted(UNMAPPED_EVENTS), name


@pytest.mark.skipif(not (DEMO / "events.csv").exists(), reason="data/demo not generated")
def test_the_committed_demo_is_covered_and_loads():
    cfg = load_client_config(DEMO / "client.yaml")
    assert cfg.journey == "b2b_saas_8_stage"
    seen = set(pl.read_csv(DEMO / "events.csv", columns=["event"])["event"].unique())
    for name in TEMPLATES:
        assert sorted(seen - set(load_template(name).event_map())) == sorted(UNMAPPED_EVENTS)


# ------------------------------------------------------------------ client.yaml template
def test_client_yaml_template_loads_as_is():
    cfg = load_client_config(templates_dir() / "client.yaml")
    assert cfg.client == "New client"
    assert cfg.journey == "b2b_saas_8_stage"
    load_template(cfg.journey)


def test_client_yaml_template_loads_with_another_name(tmp_path: Path):
    text = (templates_dir() / "client.yaml").read_text(encoding="utf-8")
    assert text.count('client: "New client"') == 1
    p = tmp_path / "client.yaml"
    p.write_text(
        text.replace('client: "New client"', 'client: "Globex: EU & US"'), encoding="utf-8"
    )
    assert load_client_config(p).client == "Globex: EU & US"


def test_client_yaml_template_documents_every_key():
    text = (templates_dir() / "client.yaml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for key in ClientConfig.model_fields:
        # a top-level key, set or commented out
        idx = [i for i, line in enumerate(lines) if re.match(rf"^(# )?{key}:", line)]
        assert idx, f"{key} is not in the template"
        above = lines[idx[0] - 1]
        assert above.startswith("#"), f"{key} has no comment above it"


@pytest.mark.skipif(not (DEMO / "events.csv").exists(), reason="data/demo not generated")
def test_the_committed_demo_is_what_synthesize_writes(tmp_path):
    # data/demo is regenerated with exactly these arguments; when the generator changes on
    # purpose, regenerate it: synthesize("data/demo", accounts=2000, months=12, seed=42,
    # start="2025-01", fmt="csv").
    out = tmp_path / "demo"
    synthesize(out, accounts=2000, months=12, seed=42, start="2025-01", fmt="csv")
    for p in sorted(out.iterdir()):
        assert p.read_bytes() == (DEMO / p.name).read_bytes(), p.name
