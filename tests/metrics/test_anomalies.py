"""Anomaly flags (analytics.md §11): robust z against the 6 months before, by hand and by property."""

from __future__ import annotations

import statistics
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.ingest.client import load_client
from journeylib.metrics.anomalies import ACQUISITION_SERIES, REVENUE_SERIES, anomalies, robust_z
from journeylib.metrics.document import metrics_document
from journeylib.sources.synth import synthesize


def months(n: int, start: str = "2024-01") -> list[str]:
    first = int(start[:4]) * 12 + int(start[5:7]) - 1
    return [f"{(first + k) // 12:04d}-{(first + k) % 12 + 1:02d}" for k in range(n)]


def doc_of(section: str, key: str, values: list, start: str = "2024-01") -> dict:
    """A document whose ``section.months`` carries one series (None: a null value)."""
    rows = [{"month": m, key: v} for m, v in zip(months(len(values), start), values, strict=True)]
    return {section: {"months": rows}}


# ---------------------------------------------------------------- robust_z by hand
def test_planted_spike_hand_computed():
    # history 10 12 11 13 9 11: sorted 9 10 11 11 12 13, median 11; |x − 11| = 1 1 0 2 2 0,
    # sorted 0 0 1 1 2 2, MAD 1. z of 20 = (20 − 11) / (1.4826 × 1) = 6.0704…
    baseline, z, flagged = robust_z([10, 12, 11, 13, 9, 11], 20)
    assert baseline == 11.0 and z == pytest.approx(9 / 1.4826) and flagged
    assert z == pytest.approx(6.070417, abs=1e-6)
    # a fall is flagged too: (2 − 11) / 1.4826
    baseline, z, flagged = robust_z([10, 12, 11, 13, 9, 11], 2)
    assert z == pytest.approx(-9 / 1.4826) and flagged
    # 16 is within: 5 / 1.4826 = 3.37
    assert robust_z([10, 12, 11, 13, 9, 11], 16)[2] is False


def test_planted_spike_in_a_document():
    values = [10, 12, 11, 13, 9, 11, 20, 11]
    out = anomalies(doc_of("acquisition", "cac", values))
    assert out == [
        {
            "metric": "cac",
            "month": "2024-07",
            "value": 20,
            "baseline": 11.0,
            "z": pytest.approx(9 / 1.4826),
        }
    ]
    # 2024-08 (11) against 12 11 13 9 11 20: median 11.5, deviations .5 .5 1.5 2.5 .5 8.5,
    # MAD 1: z = −0.5 / 1.4826, not flagged


def test_flat_history_is_never_flagged():
    assert robust_z([5, 5, 5, 5, 5, 5], 1000) == (5.0, None, False)
    # MAD 0 without a flat history: 5 5 5 5 6 7 → deviations 0 0 0 0 1 2, median 0
    assert robust_z([5, 5, 5, 5, 6, 7], 1000) == (5.0, None, False)
    assert anomalies(doc_of("revenue", "mrr", [5.0] * 6 + [1e9])) == []


@settings(max_examples=100, deadline=None)
@given(
    a=st.integers(-1000, 1000),
    b=st.integers(-50, 50).filter(bool),
    scale=st.sampled_from([1, 0.1, 0.01]),
    n=st.integers(7, 24),
)
def test_a_steady_trend_is_not_flagged(a, b, scale, n):
    # history a + b·t, t = 0…5: median a + 2.5b, MAD 1.5|b|; the next value a + 6b
    # has z = 3.5b / (1.4826 · 1.5|b|) = ±1.574
    values = [round((a + b * t) * scale, 10) for t in range(n)]
    assert anomalies(doc_of("revenue", "arpa", values)) == []
    _, z, flagged = robust_z(values[:6], values[6])
    assert abs(z) == pytest.approx(3.5 / (1.4826 * 1.5)) and not flagged


def test_exactly_on_the_threshold_is_flagged():
    # history median 100, MAD 1 (deviations 2 1 1 1 1 2); 105.1891 = 100 + 3.5 × 1.4826:
    # z is 3.5 exactly, but in floats (105.1891 − 100) / 1.4826 = 3.499999999999998
    history = [98, 99, 99, 101, 101, 102]
    assert (105.1891 - 100) / 1.4826 < 3.5  # what naive floats would say
    assert robust_z(history, 105.1891) == (100.0, 3.5, True)
    assert robust_z(history, 100 - 5.1891) == (100.0, -3.5, True)
    baseline, z, flagged = robust_z(history, 105.1890)  # just inside
    assert not flagged and z < 3.5
    out = anomalies(doc_of("revenue", "customers", [*history, 105.1891]))
    assert [(a["month"], a["z"]) for a in out] == [("2024-07", 3.5)]


# ---------------------------------------------------------------- gaps
def test_a_null_delays_scoring_by_six_months():
    # 14 months from 2024-01; 2024-05 is null. Every month up to 2024-11 has 2024-05 among
    # its 6 months before: a spike there is not scored. 2024-12 (history 2024-06 … 2024-11)
    # is the first month scored after the gap.
    base = [10, 12, 11, 13, 9, 11, 10, 12, 11, 13, 9, 11, 10, 12]
    with_gap = list(base)
    with_gap[4] = None
    for i in range(5, 11):  # 2024-06 … 2024-11
        spike = list(with_gap)
        spike[i] = 100
        assert anomalies(doc_of("revenue", "mrr", spike)) == [], i
    spike = list(with_gap)
    spike[11] = 100
    # history 11 10 12 11 13 9: median 11, MAD 1 → z = 89 / 1.4826
    assert anomalies(doc_of("revenue", "mrr", spike)) == [
        {"metric": "mrr", "month": "2024-12", "value": 100, "baseline": 11.0,
         "z": pytest.approx(89 / 1.4826)}
    ]  # fmt: skip
    # without the gap, the spike of 2024-10 is flagged
    spike = list(base)
    spike[9] = 100
    assert [a["month"] for a in anomalies(doc_of("revenue", "mrr", spike))] == ["2024-10"]


def test_a_missing_month_row_delays_scoring_like_a_null():
    values = [10, 12, 11, 13, 9, 11, 10, 12, 11, 100]
    rows = [{"month": m, "cac": v} for m, v in zip(months(10), values, strict=True)]
    assert [a["month"] for a in anomalies({"acquisition": {"months": rows}})] == ["2024-10"]
    del rows[5]  # 2024-06 has no row: 2024-10's six months before are incomplete
    assert anomalies({"acquisition": {"months": rows}}) == []


def test_fewer_than_seven_months_score_nothing():
    assert anomalies(doc_of("revenue", "mrr", [10, 12, 11, 13, 9, 1000])) == []
    assert anomalies({}) == [] and anomalies({"revenue": None, "acquisition": None}) == []


# ---------------------------------------------------------------- order and keys
def test_sorted_by_month_then_metric():
    spike = [10, 12, 11, 13, 9, 11, 10, 12, 11]
    late = [*spike[:8], 99]  # 2024-09
    early = [*spike[:6], 99, 11, 12]  # 2024-07
    revenue = [
        {"month": m, "mrr": x, "arpa": y, "quick_ratio": z}
        for m, x, y, z in zip(months(9), late, early, late, strict=True)
    ]
    acquisition = [{"month": m, "cac": v} for m, v in zip(months(9), late, strict=True)]
    out = anomalies({"revenue": {"months": revenue}, "acquisition": {"months": acquisition}})
    assert [(a["month"], a["metric"]) for a in out] == [
        ("2024-07", "arpa"),
        ("2024-09", "cac"),
        ("2024-09", "mrr"),
        ("2024-09", "quick_ratio"),
    ]
    for a in out:
        assert list(a) == ["metric", "month", "value", "baseline", "z"]


def test_only_the_listed_series_are_read():
    spike = [10, 12, 11, 13, 9, 11, 100]
    assert anomalies(doc_of("revenue", "new_mrr", spike)) == []  # not a listed series
    assert anomalies(doc_of("acquisition", "spend", spike)) == []
    assert anomalies(doc_of("revenue", "cac", spike)) == []  # cac is acquisition's
    for key in REVENUE_SERIES:
        assert [a["metric"] for a in anomalies(doc_of("revenue", key, spike))] == [key]
    assert ACQUISITION_SERIES == ("cac",)
    assert REVENUE_SERIES == (
        "mrr", "customers", "new_customers", "net_new_mrr", "expansion_mrr", "logo_churn_rate",
        "churn_rate_simple", "gross_mrr_churn_rate", "nrr_1m", "grr_1m", "arpa", "quick_ratio",
    )  # fmt: skip


# ---------------------------------------------------------------- a reference
def _ref_z(history, value):
    """Exact (median, MAD, z) from the definition, in rationals of the decimals written."""
    hist = [Fraction(repr(float(v))) for v in history]
    med = Fraction(statistics.median(hist))
    mad = Fraction(statistics.median([abs(v - med) for v in hist]))
    x = Fraction(repr(float(value)))
    return med, mad, None if mad == 0 else (x - med) / (Fraction("1.4826") * mad)


def _index(month: str) -> int:
    return int(month[:4]) * 12 + int(month[5:7]) - 1


def reference_flags(doc) -> set[tuple[str, str]]:
    """(month, metric) of every flag the definition gives, read from the document's rows."""
    out = set()
    for section, keys in (("revenue", REVENUE_SERIES), ("acquisition", ACQUISITION_SERIES)):
        rows = (doc.get(section) or {}).get("months") or []
        for key in keys:
            by_idx = {_index(r["month"]): r[key] for r in rows if r.get(key) is not None}
            for i, v in by_idx.items():
                hist = [by_idx.get(i - k) for k in range(6, 0, -1)]
                if any(h is None for h in hist):
                    continue
                _, _, z = _ref_z(hist, v)
                if z is not None and abs(z) >= Fraction(7, 2):
                    out.add((f"{i // 12:04d}-{i % 12 + 1:02d}", key))
    return out


# mostly near 10 (often tied: MAD 0), some nulls, some spikes
values = st.one_of(
    st.none(),
    st.integers(8, 13),
    st.sampled_from([10.5, 11.25, 100.0, -50.0, 1e6]),
    st.decimals(-100, 100, places=2, allow_nan=False).map(float),
)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(values, min_size=7, max_size=16),
    st.lists(values, min_size=0, max_size=16),
    st.sampled_from(REVENUE_SERIES),
)
def test_flags_match_the_reference(rev, acq, key):
    doc = {**doc_of("revenue", key, rev, "2023-11"), **doc_of("acquisition", "cac", acq)}
    out = anomalies(doc)
    assert {(a["month"], a["metric"]) for a in out} == reference_flags(doc)
    assert [(a["month"], a["metric"]) for a in out] == sorted(
        (a["month"], a["metric"]) for a in out
    )
    for a in out:
        hist_months = months(7, _back(a["month"], 6))[:6]
        section = "acquisition" if a["metric"] == "cac" else "revenue"
        series = {r["month"]: r[a["metric"]] for r in doc[section]["months"]}
        med, _, z = _ref_z([series[m] for m in hist_months], a["value"])
        assert a["baseline"] == float(med) and a["z"] == pytest.approx(float(z))


def _back(month: str, k: int) -> str:
    i = int(month[:4]) * 12 + int(month[5:7]) - 1 - k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.decimals(-1000, 1000, places=3).map(float), min_size=6, max_size=6),
    st.decimals(-5000, 5000, places=3).map(float),
)
def test_robust_z_matches_the_definition(history, value):
    baseline, z, flagged = robust_z(history, value)
    med, mad, exact = _ref_z(history, value)
    assert baseline == float(med)
    if exact is None:
        assert z is None and flagged is False
    else:
        assert z == pytest.approx(float(exact)) and flagged == (abs(exact) >= Fraction(7, 2))


# ---------------------------------------------------------------- the metrics document
@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    """The metrics document of a small synthetic client of 14 months."""
    path: Path = tmp_path_factory.mktemp("anomalies") / "acme"
    synthesize(path, accounts=150, months=14, seed=3, start="2024-01")
    return metrics_document(load_client(path))


def test_the_document_lists_its_anomalies(document):
    assert "anomalies" in document
    flags = document["anomalies"]
    assert isinstance(flags, list) and flags  # this client has jumps (its first paying months)
    assert {(a["month"], a["metric"]) for a in flags} == reference_flags(document)
    keys = [(a["month"], a["metric"]) for a in flags]
    assert keys == sorted(keys)


def test_every_flag_recomputes_from_the_documents_months(document):
    for a in document["anomalies"]:
        section = "acquisition" if a["metric"] == "cac" else "revenue"
        series = {r["month"]: r[a["metric"]] for r in document[section]["months"]}
        history = [series[m] for m in months(6, _back(a["month"], 6))]
        assert series[a["month"]] == a["value"]
        baseline, z, flagged = robust_z(history, a["value"])
        assert flagged
        assert a["baseline"] == pytest.approx(baseline, abs=1e-9)
        assert a["z"] == pytest.approx(z, abs=1e-9)
        assert abs(a["z"]) >= 3.5


def test_the_executive_summary_lists_the_flags_that_stand_out_most(document):
    from journeylib.report.summary import SUMMARY_ANOMALIES, executive_summary

    flags = document["anomalies"]
    summary = executive_summary(document)
    lines = summary["anomalies"]
    assert len(lines) == min(len(flags), SUMMARY_ANOMALIES)
    assert summary["anomalies_more"] == len(flags) - len(lines)
    largest = sorted(flags, key=lambda a: -abs(a["z"]))[: len(lines)]
    shown = [a for a in flags if a in largest]  # in the document's order
    for line, a in zip(lines, shown, strict=True):
        assert a["month"] in line and "robust z" in line


def test_the_summary_keeps_the_largest_flags_in_month_order():
    from journeylib.report.summary import executive_summary

    def flag(metric, month, z):
        return {"metric": metric, "month": month, "value": 1.0, "baseline": 0.5, "z": z}

    doc = {
        "currency": "USD",
        "anomalies": [
            flag("mrr", "2025-03", 4.0),
            flag("cac", "2025-05", -9.0),
            flag("arpa", "2025-06", 3.6),
            flag("customers", "2025-07", 5.0),
        ],
    }
    summary = executive_summary(doc)
    assert [line.split(" in ")[1][:7] for line in summary["anomalies"]] == ["2025-05", "2025-07"]
    assert summary["anomalies_more"] == 2
    assert executive_summary({"anomalies": []})["anomalies"] == []
