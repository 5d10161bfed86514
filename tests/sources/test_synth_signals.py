"""The signals the synthetic client plants for analytics.md §§ 9–11, found by reference code.

The generator plants three things (journeylib.sources.synth's docstring): an early
event that predicts retention (``integration_connected``), a fall in use before
churn, and a one-month CAC spike. These tests find them with small, independent
implementations written straight from the spec text (polars and numpy only, no
journeylib.metrics analysis code), on a client made with the demo's arguments and
on a smaller one with another seed.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import polars as pl
import pytest
from scipy.stats import rankdata

from journeylib.config import load_client_config, load_template
from journeylib.sources.synth import synthesize

DAY = timedelta(days=1)
TIMES = [1, 2, 3, 5, 10]
DAYS = [1, 7, 14, 30]
COMPONENTS = ["usage_trend", "breadth", "support_load", "nps", "mrr_trend"]
PAYMENT_EVENTS = {"checkout_started", "plan_selected", "payment_submitted"}
CLIENTS = {
    "demo": {"accounts": 2000, "seed": 42},  # `journey demo`'s arguments (in parquet)
    "small": {"accounts": 1200, "seed": 7},
}


@pytest.fixture(scope="module", autouse=True)
def _stores(tmp_path_factory: pytest.TempPathFactory):
    """Client stores under a temporary folder, never the project's reports/."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("JOURNEY_STORE_DIR", str(tmp_path_factory.mktemp("stores")))
        yield


@pytest.fixture(scope="module", params=list(CLIENTS))
def client(request, tmp_path_factory: pytest.TempPathFactory) -> dict:
    out = tmp_path_factory.mktemp("signals") / request.param
    synthesize(out, months=12, start="2025-01", fmt="parquet", **CLIENTS[request.param])
    t = {
        n: pl.read_parquet(out / f"{n}.parquet")
        for n in ["accounts", "events", "subscriptions", "marketing", "tickets", "surveys"]
    }
    t["events"] = t["events"].filter(pl.col("account_id").is_not_null())
    t["subscriptions"] = t["subscriptions"].with_columns(k=_k("month"))
    return {"path": out, "cfg": load_client_config(out / "client.yaml"), **t}


def _k(col: str) -> pl.Expr:
    """A month index (year × 12 + month − 1) of a date or datetime column."""
    return pl.col(col).dt.year() * 12 + pl.col(col).dt.month() - 1


def _month_k(text: str) -> int:
    return int(text[:4]) * 12 + int(text[5:7]) - 1


def _month_start(k: int) -> datetime:
    return datetime(k // 12, k % 12 + 1, 1, tzinfo=UTC)


# ------------------------------------------------------------------ §9 activation finder
def _activation(c: dict) -> list[dict]:
    """Every candidate predictor of the period's signups, best phi first (the spec's order)."""
    p0, p1 = _month_k(c["cfg"].period.start), _month_k(c["cfg"].period.end)
    subs = c["subscriptions"]
    acc = (
        c["accounts"]
        .filter(pl.col("signup_at").is_not_null())
        .with_columns(sk=_k("signup_at"))
        .filter(pl.col("sk").is_between(p0, p1) & (pl.col("sk") + 3 <= subs["k"].max()))
    )
    paid = subs.filter(pl.col("mrr") > 0).select("account_id", "k", retained=pl.lit(True))
    acc = acc.join(
        paid, left_on=["account_id", pl.col("sk") + 3], right_on=["account_id", "k"], how="left"
    ).select("account_id", "signup_at", pl.col("retained").fill_null(False))
    n, y = acc.height, acc["retained"].to_numpy().astype(float)
    ev = c["events"].join(acc.select("account_id", "signup_at"), on="account_id")
    seen = ev.group_by("event").agg(pl.col("account_id").n_unique().alias("k"))
    names = seen.filter(pl.col("k") * 20 >= n)["event"].to_list()
    dt = pl.col("timestamp") - pl.col("signup_at")
    rows = []
    for days in DAYS:
        win = ev.filter(pl.col("event").is_in(names) & (dt >= timedelta(0)) & (dt <= days * DAY))
        wide = acc.select("account_id").join(
            win.group_by("account_id", "event").len().pivot(on="event", index="account_id"),
            on="account_id",
            how="left",
        )
        for e in names:
            counts = wide[e].fill_null(0).to_numpy() if e in wide.columns else np.zeros(n)
            for times in TIMES:
                x = (counts >= times).astype(float)
                if x.min() == x.max() or y.min() == y.max():
                    continue
                met = x.sum()
                rows.append(
                    {
                        "event": e,
                        "times": times,
                        "days": days,
                        "share": met / n,
                        "precision": (x * y).sum() / met,
                        "recall": (x * y).sum() / y.sum(),
                        "phi": float(np.corrcoef(x, y)[0, 1]),
                    }
                )
    return sorted(rows, key=lambda r: (-r["phi"], r["times"], r["days"], r["event"]))


def _best(rows: list[dict], pred) -> dict:
    return next(r for r in rows if pred(r))


def test_connecting_a_data_source_early_is_the_top_activation_candidate(client):
    rows = _activation(client)
    top = rows[0]
    assert top["event"] == "integration_connected", rows[:5]
    assert top["event"] != client["cfg"].activation.event  # the data suggests a better one
    others = _best(rows, lambda r: r["event"] != top["event"])
    assert top["phi"] >= others["phi"] + 0.03, (top, others)
    payment = _best(rows, lambda r: r["event"] in PAYMENT_EVENTS)
    assert top["phi"] >= payment["phi"] + 0.05, (top, payment)
    # the early, in-trial connection alone is already a strong predictor
    week = _best(rows, lambda r: r["event"] == top["event"] and r["days"] <= 7)
    assert week["phi"] >= 0.8 and week["precision"] >= 0.85, week


# ------------------------------------------------------------------ §10 account health
def _health_month(c: dict, m: int, touchpoint: dict[str, str]) -> pl.DataFrame:
    """The five components, the score and next month's churn of the paying accounts of m."""
    subs = c["subscriptions"]
    pay = subs.filter((pl.col("k") == m) & (pl.col("mrr") > 0)).select("account_id", "mrr")
    end = _month_start(m + 1)
    ev = c["events"].filter(pl.col("timestamp").is_between(end - 60 * DAY, end, closed="left"))
    recent = ev.filter(pl.col("timestamp") >= end - 30 * DAY)
    recent_n = recent.group_by("account_id").agg(a1=pl.len())
    before_n = (
        ev.filter(pl.col("timestamp") < end - 30 * DAY).group_by("account_id").agg(a0=pl.len())
    )
    breadth = (
        recent.with_columns(tp=pl.col("event").replace_strict(touchpoint, default=None))
        .group_by("account_id")
        .agg(breadth=pl.col("tp").drop_nulls().n_unique())
    )
    opened = pl.col("opened_at").is_between(end - 90 * DAY, end, closed="left")
    tickets = c["tickets"].filter(opened).group_by("account_id").agg(tk=pl.len())
    nps = (
        c["surveys"]
        .filter(pl.col("score").is_not_null() & (pl.col("responded_at") < end))
        .sort("responded_at")
        .group_by("account_id")
        .agg(nps=pl.col("score").last())
    )
    back = subs.filter(pl.col("k") == m - 3).select("account_id", mrr3="mrr")
    f = pay
    for other in [recent_n, before_n, breadth, tickets, nps, back]:
        f = f.join(other, on="account_id", how="left")
    f = f.with_columns(
        usage_trend=(pl.col("a1").fill_null(0) + 1) / (pl.col("a0").fill_null(0) + 1),
        breadth=pl.col("breadth").fill_null(0).cast(pl.Int64),
        support_load=-pl.col("tk").fill_null(0).cast(pl.Int64),
        mrr_trend=pl.when(pl.col("mrr3") > 0).then(pl.col("mrr") / pl.col("mrr3")),
    ).with_columns(
        pl.col("nps").cast(pl.Float64).fill_null(pl.col("nps").median()),
        pl.col("mrr_trend").fill_null(pl.col("mrr_trend").median()),
    )
    # percentile = average rank / n × 100; the mean of five is Σ (2 × rank) × 10 / n,
    # computed from integers so that equal scores are equal floats (exact ties)
    two_ranks = sum(
        np.rint(2 * rankdata(f[col].to_numpy().astype(float))).astype(np.int64)
        for col in COMPONENTS
    )
    kept = subs.filter((pl.col("k") == m + 1) & (pl.col("mrr") > 0))["account_id"]
    return f.with_columns(
        score=pl.Series(two_ranks * 10 / f.height),
        churn=~pl.col("account_id").is_in(kept.implode()),
    )


def _auc_lower_is_positive(score: np.ndarray, positive: np.ndarray) -> float:
    """ROC AUC of "lower score = positive", ties counting ½ (Mann–Whitney)."""
    pos, neg = positive.sum(), (~positive).sum()
    ranks = rankdata(-score)
    return float((ranks[positive].sum() - pos * (pos + 1) / 2) / (pos * neg))


@pytest.fixture(scope="module")
def backtest(client) -> pl.DataFrame:
    touchpoint = {e: tp for e, (tp, _) in load_template(client["cfg"].journey).event_map().items()}
    last = _month_k(client["cfg"].period.end)
    return pl.concat([_health_month(client, m, touchpoint) for m in range(last - 6, last)])


def test_the_health_score_warns_of_churn(backtest):
    churn = backtest["churn"].to_numpy()
    assert 20 <= churn.sum() < churn.size
    auc = _auc_lower_is_positive(backtest["score"].to_numpy(), churn)
    assert auc > 0.8, auc


def test_use_falls_and_trouble_rises_before_churn(backtest):
    by = backtest.group_by("churn").agg(
        pl.col("usage_trend").median(), pl.col("support_load").mean(), pl.col("nps").mean()
    )
    gone, stay = (by.filter(pl.col("churn") == v).row(0, named=True) for v in (True, False))
    assert gone["usage_trend"] <= 0.5 < 0.9 <= stay["usage_trend"]  # use falls clearly
    assert gone["support_load"] < stay["support_load"] - 0.5  # more tickets
    assert gone["nps"] < stay["nps"] - 1  # lower answers


# ------------------------------------------------------------------ §11 anomaly flags
def _robust_z(history: list[float], x: float) -> float | None:
    med = float(np.median(history))
    mad = float(np.median(np.abs(np.asarray(history) - med)))
    return None if mad == 0 else (x - med) / (1.4826 * mad)


def test_the_trade_show_month_is_the_cac_anomaly(client):
    from journeylib.metrics import metrics_document
    from journeylib.store import ensure_store

    doc = metrics_document(ensure_store(client["path"]).client())
    rows = doc["acquisition"]["months"]
    scored = {}
    for i in range(6, len(rows)):
        history = [r["cac"] for r in rows[i - 6 : i]]
        if rows[i]["cac"] is None or None in history:
            continue
        z = _robust_z(history, rows[i]["cac"])
        if z is not None:
            scored[rows[i]["month"]] = z
    planted = rows[-3]["month"]  # the third month before the data's end
    assert planted == "2025-10"
    # flagged far above the 3.5 threshold, and the month that stands out most (other
    # months may cross 3.5 by sampling noise: six months make a jumpy baseline)
    assert scored[planted] >= 6, scored
    assert max(scored, key=lambda m: abs(scored[m])) == planted, scored
    # the spend is what jumped, not a lack of new customers
    spend = [r["spend"] for r in rows]
    assert rows[-3]["spend"] > 2.5 * float(np.median(spend))
    customers = [r["new_customers"] for r in rows[1:]]
    assert rows[-3]["new_customers"] >= 0.6 * float(np.median(customers))


# ---------------------------------------------------------------- found by the workbench itself
def test_the_workbench_finds_the_three_planted_signals(client):
    """The product's own analyses (journey activation, journey health, metrics.json) find them."""
    from journeylib.metrics import metrics_document
    from journeylib.metrics.activation import activation_candidates
    from journeylib.metrics.health import account_health
    from journeylib.store import ensure_store

    store = ensure_store(client["path"])
    c = store.client()
    t = c.tables
    period = ("2025-01", "2025-12")
    found = activation_candidates(t["accounts"], t["events"], t["subscriptions"], period=period)
    top = found["candidates"][0]
    assert top["event"] == "integration_connected" != c.config.activation.event
    others = [r["phi"] for r in found["candidates"] if r["event"] != "integration_connected"]
    assert top["phi"] > max(others)
    health = account_health(
        store.stream(), t["subscriptions"], t["tickets"], t["surveys"], period=period
    )
    assert health["auc_backtest"] > 0.75, health["backtest"]
    flags = metrics_document(c)["anomalies"]
    spike = [a for a in flags if (a["metric"], a["month"]) == ("cac", "2025-10")]
    assert spike and spike[0]["z"] > 6, flags
    if client["path"].name == "demo":  # on the demo it stands out the most of all
        assert max(flags, key=lambda a: abs(a["z"])) == spike[0]
