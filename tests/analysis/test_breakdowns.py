"""Breakdowns with intervals (analytics.md § 5): hand cases, banding, tests and invariants."""

from __future__ import annotations

import datetime as dt
import math

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.stats import chi2

from journeylib.analysis.breakdowns import (
    Z95,
    funnel_breakdown,
    logo_retention_breakdown,
    metrics_breakdowns,
    proportions_p_value,
    retention_breakdown,
    stage_breakdown,
    stage_breakdown_p_value,
)
from journeylib.engines import to_engine
from journeylib.errors import ConfigError
from journeylib.ingest.client import load_client
from journeylib.metrics.funnels import ordered_funnel
from journeylib.metrics.period import resolve_period
from journeylib.metrics.retention import activity_retention
from journeylib.metrics.stages import stage_funnel
from journeylib.sources.synth import synthesize

TS = pl.Datetime("us", "UTC")
PERIOD = ("2024-01", "2024-04")


def ts(month: int, day: int = 1, year: int = 2024, hour: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, tzinfo=dt.UTC)


def accounts(rows, extra=pl.String):
    return pl.DataFrame(
        rows,
        schema={"account_id": pl.String, "signup_at": TS, "plan": extra},
        orient="row",
    )


def events(rows):
    return pl.DataFrame(rows, schema={"account_id": pl.String, "timestamp": TS}, orient="row")


def table(rows):
    """``{value: [(k, rate, n), …]}`` of a retention breakdown's groups."""
    return {g["value"]: [(r["k"], r["rate"], r["n"]) for r in g["rates"]] for g in rows}


# ---------------------------------------------------------------- activity retention
ACCOUNTS = accounts(
    [
        ("a1", ts(1, 5), "pro"),
        ("a2", ts(1, 20), "pro"),
        ("a3", ts(2, 3), "pro"),
        ("b1", ts(1, 9), "free"),
        ("b2", ts(3, 1), "free"),
        ("c1", ts(1, 2), None),  # no value: left out
        ("c2", ts(2, 2), "  "),  # blank: no value, left out
        ("d1", ts(12, 2, 2023), "pro"),  # signed up before the period
        ("e1", None, "free"),  # never signed up
    ]
)
EVENTS = events(
    [
        ("a1", ts(1, 6)),
        ("a1", ts(2, 6)),
        ("a1", ts(4, 6)),
        ("a2", ts(1, 21)),
        ("a2", ts(3, 2)),
        ("a3", ts(2, 4)),
        ("a3", ts(3, 4)),
        ("a3", ts(5, 4)),  # after the period
        ("b1", ts(1, 10)),
        ("b1", ts(2, 10)),
        ("b1", ts(3, 10)),
        ("b1", ts(4, 10)),
        ("b2", ts(4, 2)),  # active in month 1 only, not in its signup month
        ("c1", ts(1, 3)),
        ("d1", ts(1, 3)),
        (None, ts(1, 3)),
    ]
)


def test_activity_retention_pooled_over_cohorts(constructor):
    # pro: cohorts Jan {a1, a2} and Feb {a3}. n(k) counts the accounts whose cohort + k is
    # not after April: k0..k2 all three, k3 only the January two.
    # active: k0 a1 a2 a3; k1 a1 (Feb) a3 (Mar); k2 a2 (Mar); k3 a1 (Apr).
    # free: cohorts Jan {b1} and Mar {b2}: n = 2, 2, 1, 1; b2 is active in April only (k1).
    out = retention_breakdown(
        constructor(ACCOUNTS), constructor(EVENTS), period=PERIOD, column="plan"
    )
    assert out["column"] == "plan"
    assert [(g["value"], g["size"]) for g in out["activity_retention"]] == [
        ("free", 2),
        ("pro", 3),
    ]
    assert table(out["activity_retention"]) == {
        "free": [(0, 0.5, 2), (1, 1.0, 2), (2, 1.0, 1), (3, 1.0, 1)],
        "pro": [(0, 1.0, 3), (1, 2 / 3, 3), (2, 1 / 3, 3), (3, 0.5, 2)],
    }


def test_wilson_interval_by_hand(constructor):
    out = retention_breakdown(
        constructor(ACCOUNTS), constructor(EVENTS), period=PERIOD, column="plan"
    )
    pro_k1 = out["activity_retention"][1]["rates"][1]
    # 2 of 3, z = 1.959964: centre (p + z²/2n) / (1 + z²/n), half-width
    # z √(p(1−p)/n + z²/4n²) / (1 + z²/n), worked to 12 digits by hand (decimal arithmetic).
    assert pro_k1["lo"] == pytest.approx(0.207659598807, abs=1e-11)
    assert pro_k1["hi"] == pytest.approx(0.938508055979, abs=1e-11)
    free_k0 = out["activity_retention"][0]["rates"][0]  # 1 of 2
    assert (free_k0["lo"], free_k0["hi"]) == pytest.approx((0.094531204639, 0.905468795360))
    assert Z95 == 1.959964


def test_month3_test_by_hand_on_the_small_case(constructor):
    # month 3: pro kept 1 of 2, free 1 of 1 → [[1, 1], [1, 0]]; expected [[4/3, 2/3], [2/3, 1/3]]
    out = retention_breakdown(
        constructor(ACCOUNTS), constructor(EVENTS), period=PERIOD, column="plan"
    )
    stat = (1 - 4 / 3) ** 2 / (4 / 3) + 2 * (1 - 2 / 3) ** 2 / (2 / 3) + (1 / 3) ** 2 / (1 / 3)
    assert stat == pytest.approx(0.75)
    assert out["p_value"] == pytest.approx(chi2.sf(stat, 1), rel=1e-12)


def _kept_groups(kept: list[int], size: int = 10):
    """Groups g0, g1, … of ``size`` January signups, ``kept[i]`` of them active in April (k = 3)."""
    acc, ev = [], []
    for g, n_kept in enumerate(kept):
        for i in range(size):
            aid = f"g{g}-{i}"
            acc.append((aid, ts(1, 2), f"g{g}"))
            ev.append((aid, ts(1, 3)))
            if i < n_kept:
                ev.append((aid, ts(4, 3)))
    return accounts(acc), events(ev)


def test_chi_square_2x2_by_hand(constructor):
    acc, ev = _kept_groups([6, 2])
    out = retention_breakdown(constructor(acc), constructor(ev), period=PERIOD, column="plan")
    # [[6, 2], [4, 8]]: row totals 8, 12, columns 10, 10, n 20 → expected [[4, 4], [6, 6]]
    stat = (6 - 4) ** 2 / 4 + (2 - 4) ** 2 / 4 + (4 - 6) ** 2 / 6 + (8 - 6) ** 2 / 6
    assert stat == pytest.approx(10 / 3)
    assert out["p_value"] == pytest.approx(chi2.sf(stat, 1), rel=1e-12)
    assert out["p_value"] == pytest.approx(0.067889, abs=1e-6)
    # no continuity correction: Yates' statistic Σ (|o − e| − ½)² / e = 1.875 gives p = 0.171
    assert out["p_value"] < chi2.sf(1.875, 1)
    assert [g["rates"][3]["rate"] for g in out["activity_retention"]] == [0.6, 0.2]


def test_chi_square_2x3_by_hand(constructor):
    acc, ev = _kept_groups([6, 2, 5])
    out = retention_breakdown(constructor(acc), constructor(ev), period=PERIOD, column="plan")
    # kept 6, 2, 5 (13), lost 4, 8, 5 (17), n 30 → expected 13/3 and 17/3 per group
    e_kept, e_lost = 13 / 3, 17 / 3
    stat = sum((o - e_kept) ** 2 / e_kept for o in (6, 2, 5)) + sum(
        (o - e_lost) ** 2 / e_lost for o in (4, 8, 5)
    )
    assert stat == pytest.approx(60 / 17)
    # two degrees of freedom: the chi-square tail is exp(−x/2)
    assert out["p_value"] == pytest.approx(chi2.sf(stat, 2), rel=1e-12)
    assert out["p_value"] == pytest.approx(math.exp(-30 / 17), rel=1e-12)


def test_cohorts_whose_month3_is_after_the_period_are_not_tested(constructor):
    # the March signups have month 3 in June, after the period: only the January ones count
    acc, ev = _kept_groups([6, 2])
    late = accounts([("late-0", ts(3, 5), "g0"), ("late-1", ts(3, 5), "g1")])
    out = retention_breakdown(
        constructor(pl.concat([acc, late])), constructor(ev), period=PERIOD, column="plan"
    )
    assert [g["size"] for g in out["activity_retention"]] == [11, 11]
    assert [g["rates"][3]["n"] for g in out["activity_retention"]] == [10, 10]
    assert out["p_value"] == pytest.approx(chi2.sf(10 / 3, 1), rel=1e-12)


def test_single_group_and_degenerate_tables_have_no_p_value(constructor):
    one = ACCOUNTS.with_columns(pl.lit("pro").alias("plan"))
    out = retention_breakdown(constructor(one), constructor(EVENTS), period=PERIOD, column="plan")
    assert [g["value"] for g in out["activity_retention"]] == ["pro"]
    assert out["p_value"] is None
    acc, ev = _kept_groups([10, 10])  # everyone kept: the "lost" row is empty
    out = retention_breakdown(constructor(acc), constructor(ev), period=PERIOD, column="plan")
    assert len(out["activity_retention"]) == 2
    assert out["p_value"] is None


def test_numeric_column_in_quartile_bands_over_the_studied_accounts(constructor):
    acc = accounts(
        [
            ("a", ts(1, 2), 2),
            ("b", ts(1, 2), 3),
            ("c", ts(2, 2), 9),
            ("d", ts(2, 2), 10),
            ("e", ts(3, 2), 40),
            ("f", ts(3, 2), None),  # no value
            ("old", ts(6, 1, 2023), 1000),  # not a signup of the period: not in the bands
        ],
        extra=pl.Int64,
    )
    out = retention_breakdown(constructor(acc), constructor(EVENTS), period=PERIOD, column="plan")
    # quartiles of 2, 3, 9, 10, 40: edges 2, 3, 9, 10, 40; bands [2, 3) [3, 9) [9, 10) [10, 40]
    # listed by their lower edge, not as text (where "10–40" would come first)
    assert [(g["value"], g["size"]) for g in out["activity_retention"]] == [
        ("2–3", 1),
        ("3–9", 1),
        ("9–10", 1),
        ("10–40", 2),
    ]


def test_unknown_column_is_a_one_line_config_error(constructor):
    with pytest.raises(ConfigError, match="no such account column") as err:
        retention_breakdown(
            constructor(ACCOUNTS), constructor(EVENTS), period=PERIOD, column="size"
        )
    assert "\n" not in str(err.value)
    assert str(err.value).startswith("column: ")
    assert "'size'" in str(err.value)


def test_no_signups_no_groups(constructor):
    out = retention_breakdown(
        constructor(ACCOUNTS), constructor(EVENTS), period=("2030-01", "2030-02"), column="plan"
    )
    assert out == {"column": "plan", "p_value": None, "activity_retention": []}


# ---------------------------------------------------------------- logo retention
def test_logo_retention_pooled_by_first_paid_month(constructor):
    m = lambda month, year=2024: dt.date(year, month, 1)  # noqa: E731
    acc = pl.DataFrame(
        {"account_id": ["a", "b", "c", "d", "e"], "plan": ["pro", "pro", "free", "pro", None]}
    )
    subs = pl.DataFrame(
        [
            ("a", m(1), 10.0),
            ("a", m(2), 10.0),
            ("a", m(3), 0.0),  # a row with no MRR: not paying
            ("b", m(2), 5.0),
            ("b", m(3), 5.0),
            ("c", m(1), 3.0),
            ("c", m(3), 3.0),  # back after a month off: paying in month 2
            ("d", m(12, 2023), 10.0),  # first paid before the period
            ("d", m(1), 10.0),
            ("e", m(1), 1.0),  # no value
            ("f", m(1), 2.0),  # no row in accounts: no value
        ],
        schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64},
        orient="row",
    )
    out = logo_retention_breakdown(
        constructor(acc), constructor(subs), period=("2024-01", "2024-03"), column="plan"
    )
    # pro: cohorts Jan {a}, Feb {b}: n = 2, 2, 1; paying 2, 2, 0. free: Jan {c}: 1, 0, 1 of 1.
    assert [(g["value"], g["size"]) for g in out] == [("free", 1), ("pro", 2)]
    assert table(out) == {
        "free": [(0, 1.0, 1), (1, 0.0, 1), (2, 1.0, 1)],
        "pro": [(0, 1.0, 2), (1, 1.0, 2), (2, 0.0, 1)],
    }
    assert out[1]["rates"][2]["lo"] == 0.0
    assert out[1]["rates"][2]["hi"] == pytest.approx(Z95**2 / (1 + Z95**2))  # 0 of 1


# ---------------------------------------------------------------- stage funnel
def test_stage_breakdown_by_hand(constructor):
    acc = pl.DataFrame(
        [
            ("p1", ts(1, 2), "pro"),
            ("p2", ts(1, 2), "pro"),
            ("p3", ts(1, 2), "pro"),
            ("p4", ts(1, 2), "pro"),
            ("f1", ts(1, 2), "free"),
            ("f2", ts(1, 2), "free"),
            ("f3", ts(1, 2), "free"),  # no mapped event: enters no stage
            ("x1", ts(1, 2), None),  # no value
            ("o1", ts(2, 2), "pro"),  # first seen after the period
        ],
        schema={"account_id": pl.String, "first_seen_at": TS, "plan": pl.String},
        orient="row",
    )
    stream = pl.DataFrame(
        [
            ("p1", ts(1, 3), "aware"),
            ("p1", ts(1, 4), "try"),
            ("p1", ts(1, 5), "buy"),
            ("p2", ts(1, 3), "aware"),
            ("p2", ts(1, 4), "try"),
            ("p3", ts(1, 3), "aware"),
            ("p4", ts(1, 9), "buy"),  # skipped stages count for the earlier ones
            ("f1", ts(1, 3), "aware"),
            ("f2", ts(1, 3), "aware"),
            ("f2", ts(1, 8), "try"),
            ("f3", ts(1, 3), None),
            ("x1", ts(1, 3), "aware"),
            ("x1", ts(1, 4), "buy"),
            ("o1", ts(2, 3), "aware"),
            (None, ts(1, 3), "aware"),
        ],
        schema={"account_id": pl.String, "timestamp": TS, "stage": pl.String},
        orient="row",
    )
    rows = stage_breakdown(
        constructor(stream),
        constructor(acc),
        period=("2024-01", "2024-01"),
        stages=[("aware", "Aware"), ("try", "Trial"), ("buy", "Purchase")],
        column="plan",
    )
    got = {
        g["value"]: [
            (s["id"], s["reached"], s["conversion_from_previous"], s["n"]) for s in g["stages"]
        ]
        for g in rows
    }
    assert list(got) == ["free", "pro"]
    assert got == {
        "free": [("aware", 2, None, 2), ("try", 1, 0.5, 2), ("buy", 0, 0.0, 1)],
        "pro": [("aware", 4, None, 4), ("try", 3, 0.75, 4), ("buy", 2, 2 / 3, 3)],
    }
    first, buy = rows[1]["stages"][0], rows[1]["stages"][2]
    assert (first["lo"], first["hi"]) == (None, None)
    assert (buy["lo"], buy["hi"]) == pytest.approx((0.207659598807, 0.938508055979))
    # last stage among those that reached the first: pro 2 of 4, free 0 of 2 → [[2, 0], [2, 2]]
    # expected [[4/3, 2/3], [8/3, 4/3]]
    e = [[4 / 3, 2 / 3], [8 / 3, 4 / 3]]
    o = [[2, 0], [2, 2]]
    stat = sum((o[i][j] - e[i][j]) ** 2 / e[i][j] for i in range(2) for j in range(2))
    assert stat == pytest.approx(1.5)
    assert stage_breakdown_p_value(rows) == pytest.approx(chi2.sf(stat, 1), rel=1e-12)


# ---------------------------------------------------------------- ordered funnels
def test_funnel_breakdown_by_hand(constructor):
    rows = []
    for aid, names in {
        "a": ["view", "buy"],
        "b": ["view"],
        "c": ["view", "buy"],
        "h": ["view", "cancel", "buy"],  # excluded: out of the whole funnel
        "d": ["view"],
        "e": ["view", "buy"],
        "f": ["view", "buy"],  # no value
        "g": ["buy"],  # never entered step 1
    }.items():
        rows += [(aid, ts(1, 2, hour=h), name) for h, name in enumerate(names)]
    ev = pl.DataFrame(
        rows, schema={"account_id": pl.String, "timestamp": TS, "event": pl.String}, orient="row"
    )
    acc = pl.DataFrame(
        {
            "account_id": list("abchdefg"),
            "plan": ["pro", "pro", "pro", "pro", "free", "free", None, "free"],
        }
    )
    result = ordered_funnel(constructor(ev), steps=["view", "buy"], exclusions=["cancel:0:1"])
    out = funnel_breakdown(result, constructor(acc), column="plan")
    assert set(out) == {"breakdown", "p_value"}
    got = {
        g["value"]: [
            (s["step"], s["event"], s["count"], s["conversion"], s["n"]) for s in g["steps"]
        ]
        for g in out["breakdown"]
    }
    assert got == {
        "free": [(1, "view", 2, 1.0, 2), (2, "buy", 1, 0.5, 2)],
        "pro": [(1, "view", 3, 1.0, 3), (2, "buy", 2, 2 / 3, 3)],
    }
    pro_buy = out["breakdown"][1]["steps"][1]
    assert (pro_buy["lo"], pro_buy["hi"]) == pytest.approx((0.207659598807, 0.938508055979))
    # last step: kept [1, 2], lost [1, 1] (free, pro); expected [[1.2, 1.8], [0.8, 1.2]]
    stat = 0.2**2 / 1.2 + 0.2**2 / 1.8 + 0.2**2 / 0.8 + 0.2**2 / 1.2
    assert stat == pytest.approx(5 / 36)
    assert out["p_value"] == pytest.approx(chi2.sf(stat, 1), rel=1e-12)


# ---------------------------------------------------------------- the p-value helper
def test_proportions_p_value_edges():
    assert proportions_p_value([]) is None
    assert proportions_p_value([(3, 5), (0, 0)]) is None  # one group with observations
    assert proportions_p_value([(0, 5), (0, 7)]) is None  # nobody kept
    assert proportions_p_value([(1, 2), (0, 0), (0, 2)]) == proportions_p_value([(1, 2), (0, 2)])
    with pytest.raises(ValueError):
        proportions_p_value([(3, 2), (1, 2)])


# ---------------------------------------------------------------- properties
_groups = st.sampled_from(["x", "y", "z", None, ""])


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    people=st.lists(
        st.tuples(st.one_of(st.none(), st.integers(-1, 5)), _groups), min_size=0, max_size=14
    ),
    active=st.lists(st.tuples(st.integers(0, 13), st.integers(-1, 5)), max_size=40),
)
def test_group_sizes_sum_to_the_accounts_with_a_value(constructor, people, active):
    start = ts(1, 1)
    acc = accounts(
        [
            (f"a{i}", None if m is None else ts(1 + m % 12, 3, 2024 + (m // 12)), v)
            for i, (m, v) in enumerate(people)
        ]
    )
    ev = events(
        [
            (f"a{i}", start.replace(year=2024 + (m // 12), month=1 + m % 12, day=9))
            for i, m in active
            if i < len(people)
        ]
    )
    out = retention_breakdown(constructor(acc), constructor(ev), period=PERIOD, column="plan")
    groups = out["activity_retention"]
    with_value = sum(
        1 for m, v in people if m is not None and 0 <= m <= 3 and v is not None and v.strip()
    )
    assert sum(g["size"] for g in groups) == with_value
    for g in groups:
        ns = [r["n"] for r in g["rates"]]
        assert ns[0] == g["size"]
        assert ns == sorted(ns, reverse=True)
        for r in g["rates"]:
            assert r["lo"] <= r["rate"] <= r["hi"]
            assert 0.0 <= r["lo"] and r["hi"] <= 1.0
    if len(groups) < 2:
        assert out["p_value"] is None
    elif out["p_value"] is not None:
        assert 0.0 <= out["p_value"] <= 1.0


# ---------------------------------------------------------------- the metrics document's object
@pytest.fixture(scope="module")
def client(tmp_path_factory):
    path = tmp_path_factory.mktemp("breakdowns") / "small"
    synthesize(path, accounts=300, months=6, seed=7)
    return load_client(path)


@pytest.mark.parametrize("column", ["persona", "company_size"])
def test_metrics_breakdowns_add_up_to_the_metrics(client, column):
    out = metrics_breakdowns(client, column)
    assert list(out) == [
        "column",
        "p_value",
        "activity_retention",
        "logo_retention",
        "stages",
        "stages_p_value",
    ]
    period = resolve_period(client)
    acc = client.tables["accounts"]
    # every account has a persona and a company size: the groups add up to the whole metrics
    overall = (
        activity_retention(acc, client.tables["events"], period=period)
        .group_by("k")
        .agg(pl.col("size").sum(), pl.col("active").sum())
        .sort("k")
    )
    pooled: dict[int, list[int]] = {}
    for g in out["activity_retention"]:
        for r in g["rates"]:
            cell = pooled.setdefault(r["k"], [0, 0])
            cell[0] += r["n"]
            cell[1] += round(r["rate"] * r["n"])
    assert overall.rows() == [(k, n, a) for k, (n, a) in sorted(pooled.items())]
    pairs = [(s.id, s.label) for s in client.template.stages]
    from journeylib.stream import journey_events  # noqa: PLC0415

    funnel = stage_funnel(journey_events(client), acc, period=period, stages=pairs)
    for i, sid in enumerate(funnel["id"]):
        assert sum(g["stages"][i]["reached"] for g in out["stages"]) == funnel["reached"][i], sid
    assert all(len(g["stages"]) == len(pairs) for g in out["stages"])
    assert out["logo_retention"] and all(
        g["rates"][0]["rate"] == 1.0 for g in out["logo_retention"]
    )


def test_metrics_breakdowns_same_on_duckdb(client):
    assert metrics_breakdowns(to_engine(client, "duckdb"), "persona") == metrics_breakdowns(
        client, "persona"
    )


def test_metrics_breakdowns_unknown_column(client):
    with pytest.raises(ConfigError, match="column: no such account column"):
        metrics_breakdowns(client, "shoe_size")
