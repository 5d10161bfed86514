"""The five metric families in straightforward pandas (read_parquet, groupby, merge).

What an analyst would write without tuning: whole columns read into pandas,
string columns as pandas strings, one groupby or merge per step.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from common import MICRO, NO_CHANNEL, month_label


def _mi(s: pd.Series) -> pd.Series:
    return s.dt.year.astype("int64") * 12 + s.dt.month.astype("int64") - 1


def _read(spec: dict[str, Any], table: str, columns: list[str]) -> pd.DataFrame:
    if table == "events":
        # the events folder of month partitions; partitioning=None: pyarrow would otherwise
        # add the partition key ``month`` as a column (not asked for here anyway)
        return pd.read_parquet(spec["events_dir"], columns=columns, partitioning=None)
    return pd.read_parquet(Path(spec["client"]) / f"{table}.parquet", columns=columns)


def _micro(s: pd.Series) -> pd.Series:
    return np.floor(s * MICRO + 0.5)


def revenue(subs: pd.DataFrame, first: int, last: int) -> list[list[Any]]:
    s = subs.assign(mi=_mi(subs["month"]), micro=_micro(subs["mrr"]))
    tfirst = int(s["mi"].min())
    paid = s[s["micro"] > 0].sort_values(["account_id", "mi"])[["account_id", "mi", "micro"]]
    g = paid.groupby("account_id", sort=False)
    paid["pmi"] = g["mi"].shift(1)
    paid["pmicro"] = g["micro"].shift(1)
    paid["nmi"] = g["mi"].shift(-1)
    consec = paid["pmi"] == paid["mi"] - 1
    paid["new"] = np.where(paid["pmi"].isna(), paid["micro"], 0)
    paid["react"] = np.where(paid["pmi"] < paid["mi"] - 1, paid["micro"], 0)
    diff = paid["micro"] - paid["pmicro"]
    paid["exp"] = np.where(consec & (diff > 0), diff, 0)
    paid["contr"] = np.where(consec & (diff < 0), diff, 0)
    into = paid.groupby("mi").agg(
        mrr=("micro", "sum"),
        cust=("micro", "size"),
        new=("new", "sum"),
        exp=("exp", "sum"),
        react=("react", "sum"),
        contr=("contr", "sum"),
    )
    gone = paid[paid["nmi"].isna() | (paid["nmi"] > paid["mi"] + 1)]
    churn = (-gone["micro"]).groupby(gone["mi"] + 1).sum().rename("churn")
    months = pd.Index(range(max(first, tfirst + 1), last + 1), name="mi")
    t = into.join(churn, how="outer").reindex(months).fillna(0)
    t["net"] = t["new"] + t["exp"] + t["react"] + t["contr"] + t["churn"]
    return [
        [
            month_label(mi),
            r.mrr / MICRO,
            int(r.cust),
            r.new / MICRO,
            r.exp / MICRO,
            r.react / MICRO,
            r.contr / MICRO,
            r.churn / MICRO,
            r.net / MICRO,
        ]
        for mi, r in t.iterrows()
    ]


def retention(
    accounts: pd.DataFrame, events: pd.DataFrame, first: int, last: int
) -> list[list[Any]]:
    su = accounts[accounts["signup_at"].notna()].copy()
    su["c"] = _mi(su["signup_at"])
    su = su[(su["c"] >= first) & (su["c"] <= last)][["account_id", "c"]]
    ev = events[events["account_id"].notna()]
    act = pd.DataFrame(
        {"account_id": ev["account_id"], "mi": _mi(ev["timestamp"])}
    ).drop_duplicates()
    j = su.merge(act, on="account_id")
    j = j[(j["mi"] >= j["c"]) & (j["mi"] <= last)]
    active = j.assign(k=j["mi"] - j["c"]).groupby(["c", "k"]).size()
    sizes = su.groupby("c").size()
    out = []
    for c, size in sizes.items():
        for k in range(0, last - int(c) + 1):
            out.append([month_label(c), k, int(size), int(active.get((c, k), 0)) / size])
    return out


def _derived(accounts, subs, tickets, surveys) -> pd.DataFrame:
    parts = []
    a = accounts[accounts["signup_at"].notna()]
    parts.append(
        pd.DataFrame(
            {"account_id": a["account_id"], "event": "signed_up", "mi": _mi(a["signup_at"])}
        )
    )
    s = pd.DataFrame(
        {"account_id": subs["account_id"], "mi": _mi(subs["month"]), "mrr": subs["mrr"].fillna(0.0)}
    ).sort_values(["account_id", "mi"])
    g = s.groupby("account_id", sort=False)
    prev_mi, prev_mrr, next_mi = g["mi"].shift(1), g["mrr"].shift(1), g["mi"].shift(-1)
    paid = s["mrr"] > 0
    p = np.where(prev_mi == s["mi"] - 1, prev_mrr, 0.0)
    pb = (
        paid.astype("int64").groupby(s["account_id"], sort=False).cumsum() - paid.astype("int64")
    ) > 0
    last_mi = s["mi"].max()
    mrr = s["mrr"]
    for cond, name, shift in [
        (paid & (p == 0) & ~pb, "subscription_started", 0),
        (paid & (p == 0) & pb, "reactivated", 0),
        (paid & (p > 0), "subscription_renewed", 0),
        (paid & (p > 0) & (mrr > p), "expanded", 0),
        (paid & (p > 0) & (mrr < p), "contracted", 0),
        (~paid & (p > 0), "churned", 0),
        (
            paid & (next_mi.isna() | (next_mi != s["mi"] + 1)) & (s["mi"] + 1 <= last_mi),
            "churned",
            1,
        ),
    ]:
        sel = s[cond]
        parts.append(
            pd.DataFrame({"account_id": sel["account_id"], "event": name, "mi": sel["mi"] + shift})
        )
    parts.append(
        pd.DataFrame(
            {
                "account_id": tickets["account_id"],
                "event": "ticket_opened",
                "mi": _mi(tickets["opened_at"]),
            }
        )
    )
    r = tickets[tickets["resolved_at"].notna()]
    parts.append(
        pd.DataFrame(
            {"account_id": r["account_id"], "event": "ticket_resolved", "mi": _mi(r["resolved_at"])}
        )
    )
    parts.append(
        pd.DataFrame(
            {
                "account_id": surveys["account_id"],
                "event": "survey_answered",
                "mi": _mi(surveys["responded_at"]),
            }
        )
    )
    return pd.concat(parts, ignore_index=True)


def stage_funnel(accounts, events, subs, tickets, surveys, spec, first, last) -> list[list[Any]]:
    fs = _mi(accounts["first_seen_at"])
    acc = accounts.loc[(fs >= first) & (fs <= last), "account_id"].drop_duplicates()
    ev = events[events["account_id"].notna()]
    raw = pd.DataFrame(
        {"account_id": ev["account_id"], "event": ev["event"], "mi": _mi(ev["timestamp"])}
    )
    rows = pd.concat([raw, _derived(accounts, subs, tickets, surveys)], ignore_index=True)
    rows["idx"] = rows["event"].map(spec["stage_of"])
    rows = rows[rows["idx"].notna() & (rows["mi"] <= last) & rows["account_id"].isin(acc)]
    furthest = rows.groupby("account_id")["idx"].max()
    return [[sid, int((furthest >= i).sum())] for i, sid in enumerate(spec["stages"])]


def funnel(
    events: pd.DataFrame, steps: list[str], window_us: int, first: int, last: int
) -> list[int]:
    mi = _mi(events["timestamp"])
    e = events[
        events["account_id"].notna() & events["event"].isin(steps) & (mi >= first) & (mi <= last)
    ]
    e = e[["account_id", "timestamp", "event"]].sort_values("timestamp")
    w = pd.Timedelta(microseconds=window_us)
    a = e[e["event"] == steps[0]].rename(columns={"timestamp": "t1"})[["account_id", "t1"]]
    b = e[e["event"] == steps[1]].rename(columns={"timestamp": "t2"})[["account_id", "t2"]]
    c = e[e["event"] == steps[2]].rename(columns={"timestamp": "t3"})[["account_id", "t3"]]
    ab = pd.merge_asof(a, b, left_on="t1", right_on="t2", by="account_id", direction="forward")
    ab.loc[ab["t2"] > ab["t1"] + w, "t2"] = pd.NaT
    has2 = ab[ab["t2"].notna()].sort_values("t2")
    abc = pd.merge_asof(has2, c, left_on="t2", right_on="t3", by="account_id", direction="forward")
    ok3 = abc.loc[abc["t3"].notna() & (abc["t3"] <= abc["t1"] + w), "account_id"]
    return [int(a["account_id"].nunique()), int(has2["account_id"].nunique()), int(ok3.nunique())]


def cac(marketing, subs, accounts, first: int, last: int) -> list[list[Any]]:
    m = marketing[(_mi(marketing["month"]) >= first) & (_mi(marketing["month"]) <= last)]
    spend = _micro(m["spend"]).groupby(m["channel"]).sum()
    s = subs.assign(mi=_mi(subs["month"]))
    tfirst = int(s["mi"].min())
    firsts = s[_micro(s["mrr"]) > 0].groupby("account_id")["mi"].min()
    new = firsts[(firsts >= max(first, tfirst + 1)) & (firsts <= last)].index.to_series(
        name="account_id"
    )
    nc = (
        pd.DataFrame({"account_id": new.values})
        .merge(accounts[["account_id", "acquisition_channel"]], on="account_id", how="left")
        .assign(channel=lambda d: d["acquisition_channel"].fillna(NO_CHANNEL))
        .groupby("channel")
        .size()
    )
    out = []
    for ch in sorted(set(spend.index) | set(nc.index)):
        sp = float(spend.get(ch, 0)) / MICRO
        n = int(nc.get(ch, 0))
        out.append([ch, sp, n, sp / n if n > 0 else None])
    return out


def run(spec: dict[str, Any]) -> dict[str, Any]:
    t0 = time.perf_counter()
    first, last = spec["period"]
    accounts = _read(
        spec,
        "accounts",
        ["account_id", "first_seen_at", "signup_at", "acquisition_channel"],
    )
    events = _read(spec, "events", ["timestamp", "account_id", "event"])
    subs = _read(spec, "subscriptions", ["account_id", "month", "mrr"])
    subs["month"] = pd.to_datetime(subs["month"])
    marketing = _read(spec, "marketing", ["month", "channel", "spend"])
    marketing["month"] = pd.to_datetime(marketing["month"])
    tickets = _read(spec, "tickets", ["account_id", "opened_at", "resolved_at"])
    surveys = _read(spec, "surveys", ["account_id", "responded_at"])
    t1 = time.perf_counter()
    steps: dict[str, float] = {}
    res: dict[str, Any] = {}
    tick = t1
    for name, fn in [
        ("revenue", lambda: revenue(subs, first, last)),
        ("retention", lambda: retention(accounts, events, first, last)),
        (
            "stages",
            lambda: stage_funnel(accounts, events, subs, tickets, surveys, spec, first, last),
        ),
        ("funnel", lambda: funnel(events, spec["funnel_steps"], spec["window_us"], first, last)),
        ("cac", lambda: cac(marketing, subs, accounts, first, last)),
    ]:
        res[name] = fn()
        now = time.perf_counter()
        steps[name] = now - tick
        tick = now
    t2 = time.perf_counter()
    return {"load_seconds": t1 - t0, "compute_seconds": t2 - t1, "steps": steps, "results": res}
