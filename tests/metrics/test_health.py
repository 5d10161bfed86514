"""Account health and churn risk (analytics.md §10): hand-computed scores, ROC AUC, backtest.

The hand cases run on each engine of ``constructor`` (polars eager and lazy,
DuckDB). A property test checks :func:`health_scores` against a reference
written from the spec in plain Python; ``health.weights`` of client.yaml is
checked for its one-line errors.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
import statistics
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.config import HEALTH_COMPONENTS, load_client_config
from journeylib.errors import ConfigError
from journeylib.metrics.health import account_health, backtest_auc, health_scores, roc_auc

UTC = dt.UTC
TS = pl.Datetime("us", "UTC")
STREAM_SCHEMA = {
    "account_id": pl.String,
    "event": pl.String,
    "timestamp": TS,
    "touchpoint": pl.String,
    "source": pl.String,
}
SUB_SCHEMA = {"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64}
TICKET_SCHEMA = {"account_id": pl.String, "opened_at": TS}
SURVEY_SCHEMA = {"account_id": pl.String, "responded_at": TS, "score": pl.Float64}
US = dt.timedelta(microseconds=1)
D = dt.timedelta(days=1)


def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def frame(rows, schema) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=schema, orient="row")


def raw(account, t, touchpoint="app", event="use") -> tuple:
    return (account, event, t, touchpoint, "events")


def month(y: int, m: int) -> dt.date:
    return dt.date(y, m, 1)


# ---------------------------------------------------------------- four paying accounts of June 2024
# end = 2024-07-01 00:00. [end − 30 d, end) = June; [end − 60 d, end − 30 d) =
# [2024-05-02, 2024-06-01); [end − 90 d, end) = [2024-04-02, 2024-07-01).
STREAM = frame(
    [
        # p1: 4 in June on app, app, web, email (breadth 3); 1 in the prior window
        raw("p1", ts(2024, 6, 3)),
        raw("p1", ts(2024, 6, 10)),
        raw("p1", ts(2024, 6, 20), "web"),
        raw("p1", ts(2024, 7, 1) - US, "email"),  # the last instant of June
        raw("p1", ts(2024, 5, 2)),  # end − 60 d exactly: prior window
        raw("p1", ts(2024, 5, 2) - US),  # just before it: nowhere
        raw("p1", ts(2024, 7, 1)),  # end itself: after the month
        # p2: 1 in June, 3 in the prior window; a derived row is no activity
        raw("p2", ts(2024, 6, 15)),
        raw("p2", ts(2024, 5, 10)),
        raw("p2", ts(2024, 5, 11)),
        raw("p2", ts(2024, 5, 20), "web"),
        ("p2", "subscription_renewed", ts(2024, 6, 1), "billing", "subscriptions"),
        ("p2", "subscription_renewed", ts(2024, 6, 2), "billing", "subscriptions"),
        # p3: nothing in the last 60 days
        raw("p3", ts(2024, 4, 15)),
        # p4: web, web and an event of no touchpoint in June (breadth 1, activity 3); 1 prior
        raw("p4", ts(2024, 6, 5), "web"),
        raw("p4", ts(2024, 6, 6), "web"),
        raw("p4", ts(2024, 6, 7), None),
        raw("p4", ts(2024, 5, 15), "web"),
        # not paying in June
        raw("q", ts(2024, 6, 5)),
        (None, "page_view", ts(2024, 6, 5), "web", "events"),
    ],
    STREAM_SCHEMA,
)
SUBS = frame(
    [
        ("p1", month(2024, 3), 50.0),
        ("p1", month(2024, 6), 60.0),  # two rows of June: MRR(June) = 100
        ("p1", month(2024, 6), 40.0),
        ("p2", month(2024, 3), 100.0),
        ("p2", month(2024, 6), 100.0),
        ("p3", month(2024, 6), 60.0),  # no row of March
        ("p4", month(2024, 3), 0.0),  # MRR(March) = 0
        ("p4", month(2024, 6), 30.0),
        ("q", month(2024, 3), 10.0),
        ("q", month(2024, 6), 0.0),  # a row of 0: not paying
        ("r", month(2024, 5), 10.0),  # paid in May only
    ],
    SUB_SCHEMA,
)
TICKETS = frame(
    [
        ("p2", ts(2024, 4, 2)),  # end − 90 d exactly: counted
        ("p2", ts(2024, 6, 15)),
        ("p2", ts(2024, 4, 2) - US),  # before the window
        ("p3", ts(2024, 5, 20)),
        ("p1", ts(2024, 7, 1)),  # at end: after the month
        (None, ts(2024, 6, 1)),
    ],
    TICKET_SCHEMA,
)
SURVEYS = frame(
    [
        ("p1", ts(2024, 3, 1), 9.0),
        ("p1", ts(2024, 6, 30), 7.0),  # p1's latest before end
        ("p1", ts(2024, 7, 1), 0.0),  # at end: not before it
        ("p3", ts(2024, 5, 1), 3.0),
        ("p3", ts(2024, 6, 10), None),  # not scored
        ("p4", ts(2024, 6, 20, 12), 4.0),
        ("p4", ts(2024, 6, 20, 12), 10.0),  # the same instant, a later row: p4's latest
        ("q", ts(2024, 6, 1), 1.0),  # q does not pay in June: not in the median
    ],
    SURVEY_SCHEMA,
)
# The raw components (p2 has no survey: the median of 7, 3, 10 = 7; p3 has no March MRR
# and p4 a March MRR of 0: the median of the defined ratios 100/50 = 2 and 100/100 = 1):
#        usage_trend       breadth  support_load  nps  mrr_trend
#   p1   (4+1)/(1+1) = 2.5  3         0            7    2.0
#   p2   (1+1)/(3+1) = 0.5  1        −2            7    1.0
#   p3   (0+1)/(0+1) = 1.0  0        −1            3    1.5
#   p4   (3+1)/(1+1) = 2.0  1         0           10    1.5
COMPONENTS = {
    "p1": (2.5, 3.0, 0.0, 7.0, 2.0),
    "p2": (0.5, 1.0, -2.0, 7.0, 1.0),
    "p3": (1.0, 0.0, -1.0, 3.0, 1.5),
    "p4": (2.0, 1.0, 0.0, 10.0, 1.5),
}
# Percentiles, n = 4: average rank of ties ÷ 4 × 100.
#   usage_trend 0.5 < 1 < 2 < 2.5:        p2 25, p3 50, p4 75, p1 100
#   breadth 0 < 1 = 1 < 3 (ranks 2, 3):    p3 25, p2 62.5, p4 62.5, p1 100
#   support −2 < −1 < 0 = 0 (ranks 3, 4):  p2 25, p3 50, p1 87.5, p4 87.5
#   nps 3 < 7 = 7 < 10:                    p3 25, p1 62.5, p2 62.5, p4 100
#   mrr_trend 1 < 1.5 = 1.5 < 2:           p2 25, p3 62.5, p4 62.5, p1 100
PERCENTILES = {
    "p1": (100.0, 100.0, 87.5, 62.5, 100.0),
    "p2": (25.0, 62.5, 25.0, 62.5, 25.0),
    "p3": (50.0, 25.0, 50.0, 25.0, 62.5),
    "p4": (75.0, 62.5, 87.5, 100.0, 62.5),
}
# Equal weights: p1 450/5 = 90, p2 200/5 = 40, p3 212.5/5 = 42.5, p4 387.5/5 = 77.5.
# The weakest (lowest percentile, ties: the first component): p1 nps; p2 usage_trend
# (25 ties support_load and mrr_trend); p3 breadth (25 ties nps); p4 breadth (62.5 ties mrr).
EQUAL = [("p2", 40.0, "usage_trend"), ("p3", 42.5, "breadth"), ("p4", 77.5, "breadth"),
         ("p1", 90.0, "nps")]  # fmt: skip
MRR = {"p1": 100.0, "p2": 100.0, "p3": 60.0, "p4": 30.0}


def _health(constructor, **kw):
    return account_health(
        constructor(STREAM),
        constructor(SUBS),
        constructor(TICKETS),
        constructor(SURVEYS),
        period=("2024-06", "2024-06"),
        **kw,
    )


def test_account_health_hand_computed(constructor):
    doc = _health(constructor)
    assert doc["month"] == "2024-06"
    assert [(a["account_id"], a["score"], a["weakest"]) for a in doc["accounts"]] == [
        (acc, pytest.approx(score), weakest) for acc, score, weakest in EQUAL
    ]
    for a in doc["accounts"]:
        acc = a["account_id"]
        assert a["components"] == dict(zip(HEALTH_COMPONENTS, COMPONENTS[acc], strict=True))
        assert a["percentiles"] == pytest.approx(
            dict(zip(HEALTH_COMPONENTS, PERCENTILES[acc], strict=True))
        )
        assert a["mrr"] == MRR[acc]
    assert doc["weights"] == dict.fromkeys(HEALTH_COMPONENTS, 1.0)


def test_weights_leave_components_out(constructor):
    # usage_trend 2, nps 1, the rest 0: score = (2 × usage% + nps%) / 3
    #   p1 (200 + 62.5)/3 = 87.5, p2 (50 + 62.5)/3 = 37.5, p3 (100 + 25)/3 = 41.67,
    #   p4 (150 + 100)/3 = 83.33; weakest among the weighted two only
    doc = _health(constructor, weights={"usage_trend": 2, "nps": 1})
    assert [(a["account_id"], a["score"], a["weakest"]) for a in doc["accounts"]] == [
        ("p2", pytest.approx(37.5), "usage_trend"),
        ("p3", pytest.approx(125 / 3), "nps"),
        ("p4", pytest.approx(250 / 3), "usage_trend"),
        ("p1", pytest.approx(87.5), "nps"),
    ]
    assert doc["weights"] == {
        "usage_trend": 2.0,
        "breadth": 0.0,
        "support_load": 0.0,
        "nps": 1.0,
        "mrr_trend": 0.0,
    }
    # the components are reported whatever their weight
    assert doc["accounts"][0]["components"]["support_load"] == -2.0


def test_health_scores_rows_and_raw_events_without_source(constructor):
    raw_only = STREAM.filter(pl.col("source") == "events").drop("source")
    out = health_scores(
        constructor(raw_only),
        constructor(SUBS),
        constructor(TICKETS),
        constructor(SURVEYS),
        months=["2024-06"],
    )
    assert out.columns == [
        "month", "account_id", "mrr", *HEALTH_COMPONENTS,
        *(f"{c}_pct" for c in HEALTH_COMPONENTS), "score", "churned",
    ]  # fmt: skip
    assert out["account_id"].to_list() == ["p2", "p3", "p4", "p1"]
    for row in out.iter_rows(named=True):
        assert tuple(row[c] for c in HEALTH_COMPONENTS) == COMPONENTS[row["account_id"]]
    # no row of July in the table: July's churn is unknown
    assert out["churned"].to_list() == [None] * 4


def test_nps_and_mrr_trend_when_nobody_has_one(constructor):
    """No survey table and no MRR three months back: the component ties everyone."""
    subs = SUBS.filter(pl.col("month") != month(2024, 3))
    doc = account_health(
        constructor(STREAM), constructor(subs), period=("2024-06", "2024-06")
    )  # no tickets: support_load 0 for all
    by = {a["account_id"]: a for a in doc["accounts"]}
    for a in by.values():
        assert a["components"]["nps"] is None and a["components"]["mrr_trend"] is None
        assert a["components"]["support_load"] == 0.0
        # four tied accounts: average rank 2.5 ÷ 4 × 100
        for c in ("support_load", "nps", "mrr_trend"):
            assert a["percentiles"][c] == 62.5
    # p1: (100 + 100 + 3 × 62.5) / 5 = 77.5; p2: (25 + 62.5 + 187.5) / 5 = 55
    assert by["p1"]["score"] == pytest.approx(77.5) and by["p2"]["score"] == pytest.approx(55.0)


# ---------------------------------------------------------------- ROC AUC
def test_roc_auc_by_hand():
    # positives 1 and 2, negatives 2, 4, 5: 6 pairs; 1 is below all three (3), 2 ties
    # one (½) and is below two (2): AUC = 5.5 / 6
    auc = roc_auc(
        pl.Series([1.0, 2.0, 2.0, 4.0, 5.0]), pl.Series([True, False, True, False, False])
    )
    assert auc == pytest.approx(5.5 / 6)
    # every pair tied: ½; churners scoring highest: 0
    assert roc_auc(pl.Series([3.0] * 4), pl.Series([True, False, True, False])) == 0.5
    assert roc_auc(pl.Series([9.0, 1.0, 2.0]), pl.Series([True, False, False])) == 0.0
    assert roc_auc(pl.Series([1.0, 9.0, 2.0]), pl.Series([True, False, False])) == 1.0


@pytest.mark.parametrize(
    "positive", [[True, True], [False, False], []], ids=["all-churn", "no-churn", "empty"]
)
def test_roc_auc_needs_both_classes(positive):
    scores = pl.Series([1.0, 2.0][: len(positive)], dtype=pl.Float64)
    assert roc_auc(scores, pl.Series(positive, dtype=pl.Boolean)) is None


def pairwise_auc(scores, positive):
    pos = [s for s, p in zip(scores, positive, strict=True) if p]
    neg = [s for s, p in zip(scores, positive, strict=True) if not p]
    if not pos or not neg:
        return None
    wins = sum(1.0 if p < n else 0.5 if p == n else 0.0 for p in pos for n in neg)
    return wins / (len(pos) * len(neg))


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.one_of(st.integers(0, 5).map(float), st.floats(0, 100, allow_nan=False)),
            st.booleans(),
        ),
        max_size=40,
    )
)
def test_roc_auc_is_the_pairwise_share(pairs):
    scores = [s for s, _ in pairs]
    positive = [p for _, p in pairs]
    got = roc_auc(pl.Series(scores, dtype=pl.Float64), pl.Series(positive, dtype=pl.Boolean))
    want = pairwise_auc(scores, positive)
    if want is None:
        assert got is None
    else:
        assert got == pytest.approx(want, abs=1e-12)


# ---------------------------------------------------------------- the backtest
# Subscriptions only: usage_trend (1), breadth (0), support_load (0) and nps (null) tie
# every account, so the score moves with mrr_trend alone. E = 2024-06; the backtest
# months are 2023-12 … 2024-05.
BT_SUBS = frame(
    # u1: 10 every month, Sep 2023 – Jun 2024
    [("u1", month(2023, m), 10.0) for m in (9, 10, 11, 12)]
    + [("u1", month(2024, m), 10.0) for m in range(1, 7)]
    # u2: 20 in Sep–Nov, 10 in Dec–Feb, nothing from March: churns in Feb (m + 1 = no row)
    + [("u2", month(2023, m), 20.0) for m in (9, 10, 11)]
    + [("u2", month(2023, 12), 10.0), ("u2", month(2024, 1), 10.0), ("u2", month(2024, 2), 10.0)]
    # u3: paid in Nov 2023 only (E − 7, outside the backtest), a row of 0 in Dec
    + [("u3", month(2023, 11), 10.0), ("u3", month(2023, 12), 0.0)]
    # u4: Feb–May, a row of 0 in June: churns in May
    + [("u4", month(2024, m), 10.0) for m in (2, 3, 4, 5)]
    + [("u4", month(2024, 6), 0.0)]
    # u5: June only (E: not backtested)
    + [("u5", month(2024, 6), 10.0)],
    SUB_SCHEMA,
)
EMPTY_STREAM = frame([], STREAM_SCHEMA)
# account-months (score: 4 tied components + mrr_trend's percentile, ÷ 5; churned?):
#   Dec, Jan: u1 trend 1 (pct 100) → (4·75 + 100)/5 = 80, no; u2 trend 10/20 (50) → 70, no
#   Feb: u1 1 (100), u4 undefined → median(1, 0.5) = 0.75 (66.7), u2 0.5 (33.3), tied 66.7:
#        u1 73.3 no, u4 66.7 no, u2 60 CHURN (no row in March)
#   Mar, Apr: u1 1, u4 undefined → median(1) = 1: all tie, 75 each, no churn
#   May: u1 1 and u4 10/10 = 1: 75 each; u4 CHURN (June's row is 0)
# 13 account-months, 2 churns, 11 others. Pairs (churn below other, ties ½):
#   u2-Feb (60) is below all 11 → 11; u4-May (75) is below 80, 80 (2), ties five 75s (2.5)
#   AUC = (11 + 4.5) / 22
BT_LABELS = {
    ("2023-12", "u1"): False, ("2023-12", "u2"): False,
    ("2024-01", "u1"): False, ("2024-01", "u2"): False,
    ("2024-02", "u1"): False, ("2024-02", "u2"): True, ("2024-02", "u4"): False,
    ("2024-03", "u1"): False, ("2024-03", "u4"): False,
    ("2024-04", "u1"): False, ("2024-04", "u4"): False,
    ("2024-05", "u1"): False, ("2024-05", "u4"): True,
}  # fmt: skip
BT_SCORES = {
    ("2023-12", "u1"): 80.0, ("2023-12", "u2"): 70.0,
    ("2024-01", "u1"): 80.0, ("2024-01", "u2"): 70.0,
    ("2024-02", "u1"): 220 / 3, ("2024-02", "u2"): 60.0, ("2024-02", "u4"): 200 / 3,
    ("2024-03", "u1"): 75.0, ("2024-03", "u4"): 75.0,
    ("2024-04", "u1"): 75.0, ("2024-04", "u4"): 75.0,
    ("2024-05", "u1"): 75.0, ("2024-05", "u4"): 75.0,
}  # fmt: skip


def test_backtest_by_hand(constructor):
    doc = account_health(
        constructor(EMPTY_STREAM), constructor(BT_SUBS), period=("2024-06", "2024-06")
    )
    assert doc["backtest"] == {
        "months": ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05"],
        "account_months": 13,
        "churned": 2,
    }
    assert doc["auc_backtest"] == pytest.approx(15.5 / 22)
    assert [a["account_id"] for a in doc["accounts"]] == ["u1", "u5"]  # June's paying
    assert [a["score"] for a in doc["accounts"]] == [75.0, 75.0]  # two accounts, all tied


def test_backtest_rows_by_hand(constructor):
    months = ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    scores = health_scores(constructor(EMPTY_STREAM), constructor(BT_SUBS), months=months)
    got = {(r["month"], r["account_id"]): r for r in scores.iter_rows(named=True)}
    assert set(got) == set(BT_LABELS)
    assert {k: r["churned"] for k, r in got.items()} == BT_LABELS
    assert {k: r["score"] for k, r in got.items()} == pytest.approx(BT_SCORES)
    assert backtest_auc(scores) == {
        "auc": pytest.approx(15.5 / 22),
        "account_months": 13,
        "churned": 2,
    }


def test_backtest_months_do_not_follow_the_period_start(constructor):
    """A period of E only, or of a year: the same six months before E."""
    one = account_health(constructor(EMPTY_STREAM), constructor(BT_SUBS), period=("2024-06",) * 2)
    year = account_health(
        constructor(EMPTY_STREAM), constructor(BT_SUBS), period=("2023-07", "2024-06")
    )
    assert one == year


def test_auc_is_null_without_a_churn(constructor):
    kept = BT_SUBS.filter(pl.col("account_id") == "u1")
    doc = account_health(constructor(EMPTY_STREAM), constructor(kept), period=("2024-06",) * 2)
    assert doc["auc_backtest"] is None
    assert doc["backtest"]["account_months"] == 6 and doc["backtest"]["churned"] == 0


# ---------------------------------------------------------------- a reference and properties
def _end(m: str) -> dt.datetime:
    y, mo = int(m[:4]), int(m[5:7])
    return ts(y + mo // 12, mo % 12 + 1, 1)


def _shift(m: str, k: int) -> str:
    i = int(m[:4]) * 12 + int(m[5:7]) - 1 + k
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def _pct(values: list) -> list[float]:
    n = len(values)
    vals = [0.0 if v is None else v for v in values]  # null for all: all tied
    return [
        (sum(1 for w in vals if w < v) + (sum(1 for w in vals if w == v) + 1) / 2) / n * 100
        for v in vals
    ]


def reference(stream_rows, sub_rows, ticket_rows, survey_rows, months, weights):
    """analytics.md §10 read literally, in plain Python: {(month, account): row}."""
    mrr: dict[tuple[str, str], float] = {}
    for a, mo, v in sub_rows:
        key = (a, f"{mo.year:04d}-{mo.month:02d}")
        mrr[key] = mrr.get(key, 0.0) + v
    out = {}
    for m in months:
        end = _end(m)
        paying = sorted({a for (a, mo), v in mrr.items() if mo == m and v > 0})
        if not paying:
            continue
        rows = {}
        for a in paying:
            act = [(t, tp) for x, _, t, tp, src in stream_rows if x == a and src == "events"]
            recent = [tp for t, tp in act if end - 30 * D <= t < end]
            prior = [t for t, _ in act if end - 60 * D <= t < end - 30 * D]
            latest = None
            for x, t, s in survey_rows:  # table order: a later row wins a tie
                if x == a and s is not None and t < end and (latest is None or t >= latest[0]):
                    latest = (t, s)
            before = mrr.get((a, _shift(m, -3)), 0.0)
            rows[a] = {
                "usage_trend": (len(recent) + 1) / (len(prior) + 1),
                "breadth": float(len({tp for tp in recent if tp is not None})),
                "support_load": -float(
                    sum(1 for x, t in ticket_rows if x == a and end - 90 * D <= t < end)
                ),
                "nps": None if latest is None else latest[1],
                "mrr_trend": mrr[(a, m)] / before if before > 0 else None,
                "mrr": mrr[(a, m)],
                "churned": mrr.get((a, _shift(m, 1)), 0.0) <= 0,
            }
        for c in ("nps", "mrr_trend"):
            known = [r[c] for r in rows.values() if r[c] is not None]
            fill = statistics.median(known) if known else None
            for r in rows.values():
                if r[c] is None:
                    r[c] = fill
        total = sum(weights.get(c, 0.0) for c in HEALTH_COMPONENTS)
        pcts = {c: _pct([rows[a][c] for a in paying]) for c in HEALTH_COMPONENTS}
        for i, a in enumerate(paying):
            rows[a] |= {f"{c}_pct": pcts[c][i] for c in HEALTH_COMPONENTS}
            rows[a]["score"] = (
                sum(weights.get(c, 0.0) * pcts[c][i] for c in HEALTH_COMPONENTS) / total
            )
            out[(m, a)] = rows[a]
    return out


ACCS = ["k1", "k2", "k3", "k4", "k5", "k6"]
DAY0 = ts(2024, 2, 15)
times = st.integers(0, 145 * 24).map(lambda h: DAY0 + dt.timedelta(hours=h))


@st.composite
def health_clients(draw):
    accs = st.sampled_from(ACCS)
    stream = draw(
        st.lists(
            st.tuples(
                st.one_of(accs, st.none()),
                st.just("e"),
                times,
                st.sampled_from(["app", "web", "api", None]),
                st.sampled_from(["events", "events", "subscriptions"]),
            ),
            max_size=60,
        )
    )
    tickets = draw(st.lists(st.tuples(st.one_of(accs, st.none()), times), max_size=12))
    surveys = draw(
        st.lists(
            st.tuples(accs, times, st.one_of(st.none(), st.integers(0, 10).map(float))),
            max_size=10,
        )
    )
    subs = [
        (a, month(2024, mo), draw(st.sampled_from([0.0, 10.0, 20.0, 35.0])))
        for a in ACCS
        for mo in range(1, 8)
        if draw(st.integers(0, 3))  # most months have a row
    ] + [("k1", month(2024, 7), 0.0)]  # the table reaches July: June's churn is known
    weights = draw(
        st.one_of(
            st.none(),
            st.dictionaries(
                st.sampled_from(HEALTH_COMPONENTS), st.integers(0, 3).map(float)
            ).filter(lambda w: any(v > 0 for v in w.values())),
        )
    )
    return stream, subs, tickets, surveys, weights


def _health_frames(stream, subs, tickets, surveys):
    return (
        frame(stream, STREAM_SCHEMA),
        frame(subs, SUB_SCHEMA),
        frame(tickets, TICKET_SCHEMA),
        frame(surveys, SURVEY_SCHEMA),
    )


@settings(max_examples=60, deadline=None)
@given(data=health_clients())
def test_health_scores_match_the_reference_and_their_properties(data):
    stream, subs, tickets, surveys, weights = data
    months = ["2024-05", "2024-06"]
    got = health_scores(
        *_health_frames(stream, subs, tickets, surveys), months=months, weights=weights
    )
    w = dict.fromkeys(HEALTH_COMPONENTS, 1.0) if weights is None else weights
    want = reference(stream, subs, tickets, surveys, months, w)
    rows = {(r["month"], r["account_id"]): r for r in got.iter_rows(named=True)}
    assert set(rows) == set(want)
    for key, r in rows.items():
        for col, value in want[key].items():
            if value is None or isinstance(value, bool):
                assert r[col] == value, (key, col)
            else:
                assert r[col] == pytest.approx(value, rel=1e-9, abs=1e-9), (key, col)
    # scores are between 0 and 100
    assert all(0 < r["score"] <= 100 for r in rows.values())
    # an account at least as healthy on every component scores at least as high, and
    # strictly higher on every one scores strictly higher
    for (ka, a), (kb, b) in itertools.permutations(rows.items(), 2):
        if ka[0] != kb[0]:
            continue
        # a component null for all (no survey, no ratio) ties everyone
        diff = [0.0 if a[c] is None else a[c] - b[c] for c in HEALTH_COMPONENTS]
        if all(d >= 0 for d in diff):
            assert a["score"] >= b["score"] - 1e-9
        if all(d > 0 for d in diff):
            assert a["score"] > b["score"]


@pytest.fixture(scope="module")
def duck(_duckdb_con):
    return _duckdb_con  # tests/conftest.py's session connection, in UTC


def test_account_health_same_on_polars_lazy_and_duckdb(duck):
    def db(df):
        return duck.from_arrow(df.to_arrow())

    for stream, subs, tickets, surveys in [
        (STREAM, SUBS, TICKETS, SURVEYS),
        (EMPTY_STREAM, BT_SUBS, None, None),
    ]:
        eager = account_health(stream, subs, tickets, surveys, period=("2024-01", "2024-06"))
        lazy = account_health(
            stream.lazy(),
            subs.lazy(),
            None if tickets is None else tickets.lazy(),
            None if surveys is None else surveys.lazy(),
            period=("2024-01", "2024-06"),
        )
        on_duck = account_health(
            db(stream),
            db(subs),
            None if tickets is None else db(tickets),
            None if surveys is None else db(surveys),
            period=("2024-01", "2024-06"),
        )
        assert lazy == eager
        assert _close(on_duck, eager)


def _close(a, b) -> bool:
    """Equal documents, floats to 1e-12."""
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        return all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        assert len(a) == len(b)
        return all(_close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        assert math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12), (a, b)
        return True
    assert a == b
    return True


@settings(max_examples=15, deadline=None)
@given(data=health_clients())
def test_account_health_same_on_duckdb_random(duck, data):
    stream, subs, tickets, surveys, weights = data
    frames = _health_frames(stream, subs, tickets, surveys)
    eager = account_health(*frames, period=("2024-06", "2024-06"), weights=weights)
    on_duck = account_health(
        *(duck.from_arrow(f.to_arrow()) for f in frames),
        period=("2024-06", "2024-06"),
        weights=weights,
    )
    assert _close(on_duck, eager)


# ---------------------------------------------------------------- client.yaml's health.weights
def _client_yaml(tmp_path: Path, extra: str) -> Path:
    path = tmp_path / "client.yaml"
    path.write_text(f"client: Acme\njourney: saas_5_stage\n{extra}", encoding="utf-8")
    return path


def test_weights_default_and_given(tmp_path):
    assert load_client_config(_client_yaml(tmp_path, "")).health.weights == dict.fromkeys(
        HEALTH_COMPONENTS, 1.0
    )
    cfg = load_client_config(_client_yaml(tmp_path, "health:\n  weights: {nps: 2, breadth: 0}\n"))
    assert cfg.health.weights == {"nps": 2.0, "breadth": 0.0}


@pytest.mark.parametrize(
    "weights,needle",
    [
        ("{usage_trnd: 1}", "health.weights.usage_trnd: bad value"),
        ("{nps: -1}", "health.weights.nps: bad value"),
        ("{nps: .nan}", "expected a finite number, found nan"),
        ("{nps: 0, breadth: 0}", "expected at least one weight above 0"),
        ("{}", "expected at least one weight above 0"),
    ],
)
def test_bad_weights_are_one_line_errors(tmp_path, weights, needle):
    path = _client_yaml(tmp_path, f"health:\n  weights: {weights}\n")
    with pytest.raises(ConfigError) as info:
        load_client_config(path)
    message = str(info.value)
    assert "\n" not in message
    assert "client.yaml: health.weights" in message and needle in message


def test_unknown_health_key_is_one_line(tmp_path):
    with pytest.raises(ConfigError) as info:
        load_client_config(_client_yaml(tmp_path, "health:\n  weight: {nps: 1}\n"))
    assert "\n" not in str(info.value) and "health.weight" in str(info.value)


def test_equal_mrr_ratios_of_decimal_amounts_tie():
    """19.90 → 59.70 and 10 → 30 are both a tripling: the same mrr_trend and percentile."""
    subs = pl.DataFrame(
        {
            "account_id": ["a", "b", "c"] * 2,
            "month": [dt.date(2024, 1, 1)] * 3 + [dt.date(2024, 4, 1)] * 3,
            "mrr": [19.90, 10.0, 10.0, 59.70, 30.0, 10.0],
        }
    )
    stream = pl.DataFrame(
        schema={
            "account_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "touchpoint": pl.String,
        }
    )
    s = health_scores(stream, subs, months=["2024-04"]).sort("account_id")
    assert s["mrr_trend"].to_list() == [3.0, 3.0, 1.0]
    assert s["mrr_trend_pct"].to_list() == pytest.approx([250 / 3, 250 / 3, 100 / 3])
    with pytest.raises(ValueError):
        health_scores(stream, subs, months=["2024-04"], weights={"nps": 0.0})
