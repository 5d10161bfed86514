"""Accounts and their fate: who they are, how far down the funnel they get, what they pay."""

from __future__ import annotations

import math

import numpy as np
import polars as pl

from journeylib.sources.synth.arrays import (
    EventRows,
    choice_rows,
    decode,
    expand_groups,
    id_width,
    month_dates,
    numbered_ids,
    utc_times,
)
from journeylib.sources.synth.parameters import (
    CH_HAZARD,
    CH_SIGNUP,
    CHANNELS,
    CHURN_SEAT_REMOVAL,
    COUNTRIES,
    COUNTRY_P,
    DAY,
    HAZARD_EARLY,
    HAZARD_LATE,
    HAZARD_UNCONNECTED,
    HOUR,
    INDUSTRIES,
    NAME_A,
    NAME_B,
    NAME_C,
    P_ADOPT,
    P_ADOPT_FIT,
    P_CHANNEL,
    P_CONNECT_DAYS,
    P_CONNECT_FIT,
    P_CONNECT_LATE_ADOPTED,
    P_CONNECT_LATE_OTHER,
    P_CONNECT_OTHER,
    P_DECIDE,
    P_FIRST_REPORT_DAYS,
    P_FIT,
    P_HAZARD,
    P_INDUSTRY,
    P_PAY_DELAY_DAYS,
    P_PLAN,
    P_SEATS,
    P_SHARE,
    P_SIGNUP,
    P_SIGNUP_DELAY_DAYS,
    P_USERS,
    PLAN_PRICE,
    PLANS,
    ROLE_P,
    ROLES,
)

__all__ = ["accounts_frame", "draw_accounts", "draw_subscriptions"]


def draw_accounts(
    rng: np.random.Generator, n: int, months: int, ms: np.ndarray
) -> dict[str, np.ndarray]:
    """The world: ``n`` accounts, their traits, how far down the funnel each gets, and when."""
    t0, t_end = int(ms[0]), int(ms[-1])
    persona = rng.choice(3, size=n, p=P_SHARE)
    legacy = rng.random(n) < 0.06
    # New accounts arrive over the period, a little faster each month (growth).
    w = 1.03 ** np.arange(months)
    mi = rng.choice(months, size=n, p=w / w.sum())
    first_seen = ms[mi] + (rng.random(n) * (ms[mi + 1] - ms[mi])).astype(np.int64)
    first_seen = np.where(legacy, t0 - (rng.uniform(60, 720, n) * DAY).astype(np.int64), first_seen)
    channel = choice_rows(rng, P_CHANNEL[persona])

    size_smb = np.clip(np.round(np.exp(rng.normal(math.log(12), 0.7, n))), 1, 50)
    size_mid = np.round(np.exp(rng.uniform(math.log(51), math.log(499), n)))
    size_ent = np.clip(np.round(np.exp(rng.normal(math.log(1500), 0.9, n))), 500, 50_000)
    company_size = np.choose(persona, [size_smb, size_mid, size_ent]).astype(np.int64)
    role = np.full(n, "", dtype=object)
    role_draw = rng.random(n)
    for p in range(3):
        cum = np.cumsum(ROLE_P[p])
        idx = np.minimum(np.searchsorted(cum, role_draw * cum[-1], side="right"), len(cum) - 1)
        role = np.where(persona == p, np.asarray(ROLES[p], dtype=object)[idx], role)
    industry = choice_rows(rng, P_INDUSTRY[persona])
    country = rng.choice(len(COUNTRIES), size=n, p=COUNTRY_P)
    country = np.where(rng.random(n) < 0.03, -1, country)  # a few CRM records lack a country
    name_parts = np.stack(
        [
            rng.integers(0, len(NAME_A), n),
            rng.integers(0, len(NAME_B), n),
            rng.integers(0, len(NAME_C), n),
        ]
    )

    eng = np.exp(rng.normal(0.0, 0.45, n))  # engagement propensity, drives usage and loyalty
    users = rng.integers(P_USERS[persona, 0], P_USERS[persona, 1] + 1)

    # --- the funnel
    signed = (rng.random(n) < np.clip(P_SIGNUP[persona] * CH_SIGNUP[channel], 0, 0.95)) | legacy
    quick = rng.random(n) < 0.3  # a third sign up in the first visit
    delay = np.where(
        quick, rng.uniform(120, 2 * HOUR, n), rng.exponential(P_SIGNUP_DELAY_DAYS[persona] * DAY)
    )
    signup = first_seen + delay.astype(np.int64)
    signup = np.where(legacy, first_seen + (rng.uniform(0, 20, n) * DAY).astype(np.int64), signup)
    signed &= signup < t_end
    consider = signed | (rng.random(n) < 0.45)
    checkout_at = signup + (rng.gamma(2.0, P_PAY_DELAY_DAYS[persona] / 2.0) * DAY).astype(np.int64)
    # The planted "aha moment" (analytics.md §9 finds it): connecting a data source
    # (integration_connected). Trial users whose problem the product fits connect one
    # within days of signing up, in the trial, and almost all of them buy and stay; the
    # others rarely connect in the trial and buy less often. Trial connectors always
    # start a checkout, so the onboarding-stage event in the trial keeps the stage
    # funnel nested.
    trial = signed & ~legacy & (checkout_at < t_end)
    fit = trial & (rng.random(n) < P_FIT[persona])
    early = trial & (rng.random(n) < np.where(fit, P_CONNECT_FIT, P_CONNECT_OTHER))
    early_at = signup + np.minimum(
        (rng.exponential(P_CONNECT_DAYS, n) * DAY).astype(np.int64) + HOUR,
        (checkout_at - signup) // 2,
    )
    p_decide = np.where(fit, 0.97, P_DECIDE[persona])
    decide = (signed & ~legacy & (rng.random(n) < p_decide)) | early
    checkout = (decide & (rng.random(n) < np.where(fit, 0.97, 0.85))) | early
    variant = rng.integers(0, 2, n)
    # the treatment (a one-page checkout) converts better at both steps; accounts that
    # fit rarely drop out of the checkout
    p_select = np.where(variant == 1, 0.80, 0.66)
    p_pay = np.where(variant == 1, 0.70, 0.58)
    p_select = np.where(fit, 1 - (1 - p_select) * 0.02, p_select)
    p_pay = np.where(fit, 1 - (1 - p_pay) * 0.02, p_pay)
    selected = checkout & (rng.random(n) < p_select)
    paid = (selected & (rng.random(n) < p_pay)) | legacy
    selected_at = checkout_at + rng.integers(30, 300, n)
    paid_at = selected_at + rng.integers(30, 600, n)
    paid &= legacy | (paid_at < t_end)
    p_adopt = np.where(fit, P_ADOPT_FIT, P_ADOPT[persona])
    adopted = paid & ((rng.random(n) < p_adopt) | legacy)
    first_report_at = paid_at + (rng.gamma(2.0, P_FIRST_REPORT_DAYS[persona] / 2.0) * DAY).astype(
        np.int64
    )
    # The other buyers connect during onboarding, most adopters and few of the rest;
    # adopters who never connect rarely get past their first renewals.
    late = (
        paid
        & ~legacy
        & ~early
        & (rng.random(n) < np.where(adopted, P_CONNECT_LATE_ADOPTED, P_CONNECT_LATE_OTHER))
    )
    late_at = paid_at + (rng.exponential(1.0, n) * DAY).astype(np.int64) + HOUR
    connect_at = np.where(late, late_at, early_at)
    unconnected = adopted & ~legacy & ~early & ~late
    # Some payers who never reach value never even log in ("ghosts"): customers drop a
    # product they do not understand, often without cancelling.
    ghost = paid & ~adopted & ~legacy & (rng.random(n) < 0.4)
    # Billing starts on the 1st of the month after payment; legacy accounts pay from month 0.
    pay_month = np.searchsorted(ms, paid_at, side="right") - 1
    first_month = np.where(legacy, 0, pay_month + 1)
    hazard = np.clip(
        P_HAZARD[persona]
        * CH_HAZARD[channel]
        / eng**0.8
        * np.where(legacy, 0.6, 1.0)
        * np.where(early, HAZARD_EARLY, np.where(late, HAZARD_LATE, 1.0)),
        0.003,
        0.5,
    )
    hazard = np.where(unconnected, np.maximum(hazard, HAZARD_UNCONNECTED), hazard)
    return {
        "n": np.int64(n),
        "persona": persona,
        "legacy": legacy,
        "first_seen": first_seen,
        "channel": channel,
        "company_size": company_size,
        "role": role,
        "industry": industry,
        "country": country,
        "name_parts": name_parts,
        "eng": eng,
        "users": users,
        "signed": signed,
        "signup": signup,
        "consider": consider,
        "decide": decide,
        "checkout": checkout,
        "fit": fit,
        "early_connect": early,
        "connected": early | late,
        "connect_at": connect_at,
        "variant": variant,
        "selected": selected,
        "paid": paid,
        "checkout_at": checkout_at,
        "selected_at": selected_at,
        "paid_at": paid_at,
        "adopted": adopted,
        "ghost": ghost,
        "first_report_at": first_report_at,
        "first_month": first_month,
        "hazard": hazard,
        "ids": numbered_ids("A", n, id_width(n)),
    }


def draw_subscriptions(
    rng: np.random.Generator, w: dict, months: int, ms: np.ndarray, ev: EventRows
) -> tuple[pl.DataFrame, dict[str, np.ndarray]]:
    """Monthly MRR rows (two lifetimes for reactivated accounts) and expansion/churn events."""
    n = int(w["n"])
    paid = np.flatnonzero(w["paid"])
    fm = w["first_month"][paid]
    ad = w["adopted"][paid]
    life1 = np.where(ad, rng.geometric(w["hazard"][paid]), 1)  # non-adopters leave after a month
    churn1 = fm + life1  # the first unpaid month
    react = (churn1 < months) & (rng.random(paid.size) < 0.15)
    fm2 = churn1 + 1 + rng.geometric(0.35, paid.size)
    life2 = rng.geometric(np.clip(w["hazard"][paid] * 1.2, 0, 0.9))
    seg_acc = np.concatenate([paid, paid[react]])
    seg_start = np.concatenate([fm, fm2[react]])
    seg_end = np.concatenate([churn1, (fm2 + life2)[react]])  # exclusive: the churn month
    length = np.clip(np.minimum(seg_end, months) - seg_start, 0, None)
    g, off = expand_groups(length)
    acc = seg_acc[g]
    month = seg_start[g] + off
    churn_at = seg_end[g]
    seg_first = off == 0
    order = np.lexsort((month, acc))
    acc, month, churn_at, seg_first = acc[order], month[order], churn_at[order], seg_first[order]
    r = acc.size
    pers = w["persona"][acc]

    # seats and plan: per-row changes, cumulated per account
    seats0 = rng.integers(P_SEATS[:, 0], P_SEATS[:, 1] + 1, size=(n, 3))[np.arange(n), w["persona"]]
    plan0 = choice_rows(rng, P_PLAN[w["persona"]])
    u = rng.random(r)
    grows = ~seg_first & w["adopted"][acc]  # only accounts that use the product grow
    p_add = np.array([0.045, 0.06, 0.07])[pers] * np.minimum(w["eng"][acc], 2.0)
    leaving = churn_at - month <= 2  # accounts on their way out remove seats, never add
    add = grows & ~leaving & (u < p_add)
    remove = ~seg_first & ((u > 1 - 0.015) | (leaving & (u < CHURN_SEAT_REMOVAL)))
    upgrade = grows & ~leaving & (rng.random(r) < 0.015) & ~add
    step = np.ceil(seats0[acc] * rng.uniform(0.1, 0.4, r)).astype(np.int64)
    delta = np.where(add, step, 0) - np.where(remove, step, 0)
    cum = np.cumsum(delta)
    starts = np.flatnonzero(np.diff(acc, prepend=-1) != 0)  # first row of each account
    base = np.repeat(cum[starts] - delta[starts], np.diff(np.r_[starts, r]))
    seats = np.maximum(seats0[acc] + cum - base, 1)
    ucum = np.cumsum(upgrade.astype(np.int64))
    ubase = np.repeat(ucum[starts] - upgrade[starts], np.diff(np.r_[starts, r]))
    plan = np.minimum(plan0[acc] + ucum - ubase, 3)
    annual = (rng.random(n) < 0.3)[acc]  # annual plans normalised to a monthly amount at 15 % off
    mrr = np.round(PLAN_PRICE[plan] * seats * np.where(annual, 0.85, 1.0), 2)

    # raw events for the changes, in the days before the billed month changes
    prev_seats = np.r_[0, seats[:-1]]
    before = ms[month] - (rng.uniform(0.05, 20, r) * DAY).astype(np.int64)
    grew = ~seg_first & (seats > prev_seats)
    upgraded = upgrade & (plan > np.r_[0, plan[:-1]])
    for mask, name in [
        (grew, "seat_added"),
        (~seg_first & (seats < prev_seats), "seat_removed"),
        (upgraded, "plan_upgraded"),
    ]:
        idx = np.flatnonzero(mask)
        ev.add(acc[idx], before[idx], name, user=1)
    w["expanded"] = np.zeros(n, dtype=bool)
    w["expanded"][acc[grew | upgraded]] = True
    # a cancellation in the last paid month of a lifetime that ends in the data; ghosts
    # never cancel, their card simply stops paying (involuntary churn)
    last = np.flatnonzero((churn_at - month == 1) & ~w["ghost"][acc])
    ts = ms[month[last]] + (
        rng.uniform(0.1, 0.95, last.size) * (ms[month[last] + 1] - ms[month[last]])
    ).astype(np.int64)
    ev.add(acc[last], ts, "subscription_cancelled", user=1)

    subs = pl.DataFrame(
        {
            "account_id": w["ids"].gather(pl.Series(acc)),
            "month": month_dates(ms, month),
            "mrr": mrr,
            "plan": decode(PLANS, plan),
            "seats": seats.astype(np.int64),
        }
    )
    rows = {
        "acc": acc,
        "month": month,
        "tenure": month - w["first_month"][acc],
        "to_churn": churn_at - month,
        "seg_first": seg_first,
        "seats": seats,
    }
    return subs, rows


def accounts_frame(w: dict) -> pl.DataFrame:
    """The accounts table of the world (``persona`` left empty: client.yaml's rules assign it)."""
    n = int(w["n"])
    ids = w["ids"]
    a, b, c = w["name_parts"]
    name = (
        pl.Series(NAME_A).gather(pl.Series(a))
        + pl.Series(NAME_B).gather(pl.Series(b))
        + " "
        + pl.Series(NAME_C).gather(pl.Series(c))
    )
    signup = w["signup"]
    return pl.DataFrame(
        {
            "account_id": ids,
            "first_seen_at": utc_times(w["first_seen"]),
            "signup_at": utc_times(signup).set(pl.Series(~w["signed"]), None),
            "name": name,
            "industry": decode(INDUSTRIES, w["industry"]),
            "company_size": w["company_size"],
            "country": decode(COUNTRIES, w["country"]),
            "role": pl.Series(w["role"].astype(str)),
            "acquisition_channel": decode(CHANNELS, w["channel"]),
            "persona": pl.Series([None] * n, dtype=pl.String),
        }
    )
