"""Personas in numbers (journeylib.analysis.personas): profile, rules, cards, day in the life."""

from __future__ import annotations

import polars as pl
import pytest

from journeylib.analysis import personas
from journeylib.config import PersonaRule
from tests.analysis.analysis_helpers import PERIOD, SUBS, day, ts

# 'late' is first seen after the period; SUBS (analysis_helpers) says who pays when.
ACCOUNTS = pl.DataFrame(
    {
        "account_id": ["a", "b", "c", "d", "e", "late"],
        "persona": ["smb", "smb", "smb", "ent", "ent", "smb"],
        "first_seen_at": [ts(1), ts(1), ts(1), ts(1), ts(2), ts(6)],
        "signup_at": [ts(1, 2), ts(1, 3), None, ts(1, 5), ts(2, 2), ts(6, 2)],
        "company_size": [10, 20, 30, 1000, 3000, 5],
        "industry": ["saas", "saas", "retail", "bank", "bank", "saas"],
        "role": ["ceo", "ceo", "cfo", "cto", "cto", "ceo"],
        "acquisition_channel": ["seo", "ads", "seo", "events", "events", "seo"],
    }
)


STREAM = pl.DataFrame(
    {
        "account_id": ["a", "a", "b", "d", "d", "d", "d", None],
        "timestamp": [ts(1, 2), ts(2, 2), ts(3, 1), ts(1, 9), ts(1, 9), ts(2, 9), ts(4, 1), ts(1)],
        "source": [
            "events",
            "events",
            "events",
            "events",
            "events",
            "subscriptions",
            "events",
            "events",
        ],
        "event": ["login"] * 8,
    }
)


def test_persona_profile_hand_computed(constructor):
    out = personas.persona_profile(
        constructor(ACCOUNTS),
        constructor(SUBS),
        constructor(STREAM),
        period=PERIOD,
        labels={"smb": "Small business"},
    )
    rows = {r["persona"]: r for r in out.iter_rows(named=True)}
    assert out["persona"].to_list() == ["smb", "ent"]  # most accounts first
    smb, ent = rows["smb"], rows["ent"]
    # smb: a, b, c ('late' first seen in June, after the period)
    assert (smb["accounts"], ent["accounts"]) == (3, 2)
    assert smb["share"] == pytest.approx(3 / 5)
    assert smb["label"] == "Small business" and ent["label"] == "ent"
    # signed up: a, b (c never) -> both paid -> 1.0; ent: d, e signed; d paid, e only after -> 0.5
    assert (smb["signed_up"], smb["conversion_rate"]) == (2, 1.0)
    assert (ent["signed_up"], ent["conversion_rate"]) == (2, 0.5)
    # paid: a, b, c; churned once: b (Feb unpaid) -> 1/3; ent: d paid, churned in Mar -> 1/1
    assert (smb["paid"], smb["churned"]) == (3, 1)
    assert smb["churn_rate"] == pytest.approx(1 / 3)
    assert ent["churn_rate"] == 1.0
    # MRR in March: a 10 + b 20 + c 30 = 60; ent 0
    assert smb["mrr"] == 60.0 and smb["revenue_share"] == 1.0 and ent["revenue_share"] == 0.0
    assert smb["median_company_size"] == 20.0
    assert smb["top_industry"] == "saas 67%, retail 33%"
    assert ent["top_acquisition_channel"] == "events 100%"
    # raw events in the period: smb a 2 + b 1 = 3 over 3 accounts; ent d 2 (Apr out) over 2
    assert smb["events_per_account"] == pytest.approx(1.0)
    assert ent["events_per_account"] == pytest.approx(1.0)


def test_persona_profile_without_subscriptions():
    out = personas.persona_profile(ACCOUNTS, None, None, period=PERIOD)
    assert out["conversion_rate"].null_count() == out.height
    assert out["revenue_share"].null_count() == out.height
    assert out["accounts"].sum() == 5


def test_persona_profile_matches_metrics_document(small):
    s = small
    prof = personas.persona_profile(
        s.c.tables["accounts"], s.c.table("subscriptions"), s.stream, period=s.period
    )
    last = s.doc["revenue"]["months"][-1]
    assert prof["mrr"].sum() == pytest.approx(last["mrr"])
    assert prof["revenue_share"].sum() == pytest.approx(1.0)
    assert prof["accounts"].sum() == s.c.tables["accounts"].height
    # the paying accounts of the last month are among the 'paid' accounts of the personas
    assert prof["paid"].sum() >= last["customers"]


def test_persona_rules_text_and_cards():
    rules = [
        PersonaRule(
            id="ent",
            label="Enterprise",
            match={"company_size": {"min": 500}, "role": ["cto", "cio"]},
        ),
        PersonaRule(id="mid", match={"company_size": {"min": 51, "max": 499}}),
        PersonaRule(id="fin", match={"industry": "fintech"}, goals=["compliance"]),
        PersonaRule(id="rest"),
    ]
    txt = personas.persona_rules_text(rules)
    assert txt["rule"].to_list() == [
        "company_size at least 500 and role is one of cto, cio",
        "company_size between 51 and 499",
        "industry is fintech",
        "every account not matched by an earlier rule",
    ]
    assert txt["order"].to_list() == [1, 2, 3, 4]
    cards = personas.persona_cards(rules)
    assert cards.filter(pl.col("persona") == "fin")["goals"].item() == "compliance"
    assert cards.filter(pl.col("persona") == "ent")["goals"].item() is None


def test_day_in_life_counts_raw_account_events():
    stream = pl.DataFrame(
        {
            "account_id": ["a", "a", "b", None, "c"],
            "timestamp": [day(1, 9), day(1, 9), day(2, 23), day(1, 9), day(7, 12)],
            "source": ["events", "events", "events", "events", "tickets"],
        }
    )
    accounts = pl.DataFrame({"account_id": ["a", "b", "c"], "persona": ["ops", None, "ops"]})
    out = personas.day_in_life_frame(stream, accounts, labels={"ops": "Operations"})
    # 2024-01-01 is a Monday (1), 2024-01-02 a Tuesday (2); the ticket and the anonymous row drop
    assert out.rows() == [("(none)", 2, 23, 1), ("Operations", 1, 9, 2)]
    local = personas.day_in_life_frame(stream, accounts, timezone="Europe/Berlin")
    assert ("(none)", 3, 0, 1) in local.rows()  # 23:00 UTC is midnight in Berlin
