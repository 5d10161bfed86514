"""The data-driven attribution finding: hand-made documents, the exact sentence of each variant."""

from __future__ import annotations

import re

import pytest

from journeylib.analysis.findings import markov_finding
from journeylib.i18n import use_language

# Markov credits of 10 conversions: seo 4.6 the most.
ATTRIBUTION = [
    {"channel": "ads", "first_touch": 6.0, "last_touch": 2.0, "markov": 3.0},
    {"channel": "mail", "first_touch": 1.0, "last_touch": 5.0, "markov": 2.4},
    {"channel": "seo", "first_touch": 3.0, "last_touch": 3.0, "markov": 4.6},
]


def cac(channel, spend, first, last, linear, position, markov):
    return {
        "channel": channel,
        "spend": spend,
        "first_touch": first,
        "last_touch": last,
        "linear": linear,
        "position_based": position,
        "markov": markov,
    }


# ads: 900 → 3,000 (×3.3, +2,100); mail: 40 → 200 (×5, +160): the ratio picks mail.
# seo has no spend (CAC 0 under every model) and tv one CAC only: neither can move.
CAC_BY_MODEL = [
    cac("ads", 6000.0, 1000.0, 3000.0, 1500.0, 1400.0, 900.0),
    cac("mail", 200.0, 200.0, 40.0, 100.0, 90.0, 80.0),
    cac("seo", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0),
    cac("tv", 500.0, None, None, None, None, 10.0),
]


def test_the_full_sentence():
    assert markov_finding(ATTRIBUTION, CAC_BY_MODEL, "EUR") == (
        "Data-driven attribution credits seo with 5 of 10 conversions; the CAC of mail moves "
        "the most with the model, from 40 EUR (last touch) to 200 EUR (first touch)."
    )


def test_without_cac_by_model_only_the_credit():
    expected = "Data-driven attribution credits seo with 5 of 10 conversions."
    assert markov_finding(ATTRIBUTION, None, "EUR") == expected
    assert markov_finding(ATTRIBUTION, [], "EUR") == expected
    # no channel with spend and two CACs: nothing moves
    assert markov_finding(ATTRIBUTION, CAC_BY_MODEL[2:], "EUR") == expected


def test_without_markov_credit_only_the_cac():
    older = [{k: v for k, v in r.items() if k != "markov"} for r in ATTRIBUTION]
    assert markov_finding(older, CAC_BY_MODEL[:1], "USD") == (
        "The CAC of ads moves the most with the attribution model, "
        "from 900 USD (data-driven) to 3,000 USD (last touch)."
    )


def test_ties_go_to_the_first_row_and_the_first_model():
    tied = [{"channel": "b", "markov": 2.0}, {"channel": "a", "markov": 2.0}]
    flat = [cac("x", 10.0, 5.0, 5.0, 10.0, 10.0, 5.0), cac("y", 10.0, 1.0, 2.0, 2.0, 2.0, 2.0)]
    assert markov_finding(tied, flat, "EUR") == (
        "Data-driven attribution credits b with 2 of 4 conversions; the CAC of x moves the most "
        "with the model, from 5 EUR (first touch) to 10 EUR (linear)."
    )


@pytest.mark.parametrize(
    ("attribution", "cac_by_model"),
    [
        ([], None),
        ([], []),
        ([{"channel": "ads", "markov": 0.0}], None),  # no conversions: nothing credited
        ([{"channel": "ads", "markov": None}], [cac("ads", 0.0, 0.0, 0.0, 0.0, 0.0, 0.0)]),
    ],
)
def test_nothing_to_say_is_none(attribution, cac_by_model):
    assert markov_finding(attribution, cac_by_model, "EUR") is None


def test_in_chinese():
    with use_language("zh"):
        text = markov_finding(ATTRIBUTION, CAC_BY_MODEL, "EUR")
    assert re.search(r"[\u4e00-\u9fff]", text) and "seo" in text and "mail" in text
    assert "首次触点" in text and "末次触点" in text
