"""The event rows: pre-purchase touches, onboarding, product use, anonymous visitors."""

from __future__ import annotations

import numpy as np
import polars as pl

from journeylib.sources.synth.arrays import (
    EventRows,
    campaign_for,
    choice_rows,
    decode,
    expand_groups,
    id_width,
    numbered_ids,
    utc_times,
)
from journeylib.sources.synth.parameters import (
    AWARE_GENERIC,
    CAMP,
    CAMPAIGNS,
    CANONICAL_EVENT,
    CH,
    CHANNELS,
    CONSIDER,
    CONSIDER_P,
    DAY,
    EV,
    FADE,
    FIRST_EVENT,
    P_ADVOCATE,
    P_LOGIN,
    P_REPORT,
    RAW_EVENTS,
)

__all__ = ["add_activity_events", "add_anonymous_events", "add_pre_purchase_events", "events_frame"]


def add_pre_purchase_events(
    rng: np.random.Generator, w: dict, ev: EventRows, ms: np.ndarray
) -> None:
    """Awareness, consideration, trial and decision events (not for legacy accounts)."""
    new = np.flatnonzero(~w["legacy"])
    f = w["first_seen"]
    ch = w["channel"]
    t_end = int(ms[-1])

    # the first touch, at first_seen_at, through the acquisition channel
    ev.add(new, f[new], FIRST_EVENT[ch[new]], channel=ch[new], campaign=campaign_for(rng, ch[new]))

    # more awareness touches until sign-up (or for a few weeks)
    aware_end = np.where(w["signed"], w["signup"], np.minimum(f + 45 * DAY, t_end))
    k = rng.poisson(np.where(w["consider"], 2.0, 1.0)[new])
    acc = np.repeat(new, k)
    own = rng.random(acc.size) < 0.6
    tch = np.where(own, ch[acc], rng.integers(0, 7, acc.size))  # 7 = marketing channels, no direct
    canonical = rng.random(acc.size) < 0.5
    etype = np.where(canonical, CANONICAL_EVENT[tch], AWARE_GENERIC[rng.integers(0, 2, acc.size)])
    ts = f[acc] + (rng.random(acc.size) * (aware_end[acc] - f[acc])).astype(np.int64)
    ev.add(acc, ts, etype, channel=tch, campaign=campaign_for(rng, tch))

    # consideration content, before sign-up
    cons = new[w["consider"][new]]
    k = 1 + rng.poisson(np.where(w["signed"][cons], 2.0, 1.2))
    acc = np.repeat(cons, k)
    etype = np.asarray([EV[e] for e in CONSIDER])[choice_rows(rng, CONSIDER_P[w["persona"][acc]])]
    lo = f[acc] + 60
    ts = lo + (rng.random(acc.size) * np.maximum(aware_end[acc] - lo, 0)).astype(np.int64)
    tch = np.where(rng.random(acc.size) < 0.7, ch[acc], -1)
    ev.add(acc, ts, etype, user=1, channel=tch, campaign=campaign_for(rng, tch))

    # trial: sign-up, demo request (mid-market and enterprise), trial sessions
    sig = new[w["signed"][new]]
    s = w["signup"]
    ev.add(sig, s[sig] + rng.integers(5, 60, sig.size), "trial_started", user=1)
    dem = sig[(w["persona"][sig] > 0) & (rng.random(sig.size) < 0.6)]
    ev.add(dem, s[dem] + rng.integers(60, 900, dem.size), "demo_requested", user=1)
    trial_end = np.where(w["decide"], w["checkout_at"], s + 14 * DAY)
    k = rng.poisson(3.0 * w["eng"][sig])
    acc = np.repeat(sig, k)
    ts = s[acc] + 60 + (rng.random(acc.size) * (trial_end[acc] - s[acc])).astype(np.int64)
    ev.add(acc, ts, "trial_session", user=1 + rng.integers(0, np.minimum(w["users"][acc], 3)))

    # decision: sales conversations, then the checkout micro-journey (the A/B test)
    dec = np.flatnonzero(w["decide"])
    pers = w["persona"][dec]
    # event, share per persona, when between sign-up and checkout (a uniform fraction)
    for name, share, (lo, hi) in [
        ("sales_call", [0.1, 0.5, 0.85], (0.2, 0.8)),
        ("demo_attended", [0.2, 0.5, 0.8], (0.3, 0.95)),
    ]:
        who = dec[rng.random(dec.size) < np.array(share)[pers]]
        between = rng.uniform(lo, hi, who.size) * (w["checkout_at"][who] - s[who])
        ev.add(who, s[who] + between.astype(np.int64), name, user=1)
    var = w["variant"]
    co = np.flatnonzero(w["checkout"])
    ev.add(co, w["checkout_at"][co], "checkout_started", user=1, variant=var[co])
    se = np.flatnonzero(w["selected"])
    ev.add(se, w["selected_at"][se], "plan_selected", user=1, variant=var[se])
    pa = np.flatnonzero(w["paid"] & ~w["legacy"])
    ev.add(pa, w["paid_at"][pa], "payment_submitted", user=1, variant=var[pa])

    # onboarding, right after payment
    p = w["paid_at"]
    ev.add(pa, p[pa] + rng.integers(60, 900, pa.size), "account_created", user=1)
    k = rng.poisson(2.5, pa.size)
    acc = np.repeat(pa, k)
    ev.add(
        acc,
        p[acc] + (rng.random(acc.size) * 14 * DAY).astype(np.int64),
        "onboarding_email_opened",
        user=1,
        channel=CH["email"],
        campaign=CAMP["onboarding_series"],
    )
    k = rng.poisson(np.array([2.0, 1.5, 1.0])[w["persona"][pa]])
    acc = np.repeat(pa, k)
    ev.add(
        acc,
        p[acc] + (rng.random(acc.size) * 21 * DAY).astype(np.int64),
        "tutorial_viewed",
        user=1 + rng.integers(0, w["users"][acc]),
    )
    ad = w["adopted"][pa]
    # a data source: connected in the trial by the accounts that fit (the planted
    # activation signal), else during onboarding by most adopters and few others
    con = np.flatnonzero(w["connected"])
    ev.add(con, w["connect_at"][con], "integration_connected", user=1)
    fr = pa[ad]
    ev.add(fr, w["first_report_at"][fr], "first_report_created", user=1)
    done = fr[rng.random(fr.size) < 0.85]
    ev.add(
        done,
        w["first_report_at"][done] + (rng.exponential(2.0, done.size) * DAY).astype(np.int64) + 600,
        "onboarding_completed",
        user=1,
    )
    # logins between payment and the first billed month (all but the ghosts try the product)
    k = np.where(w["ghost"][pa], 0, 1 + rng.poisson(2.0 * w["eng"][pa]))
    acc = np.repeat(pa, k)
    lo = p[acc] + 900
    hi = np.maximum(ms[np.minimum(w["first_month"][acc], len(ms) - 1)], lo + DAY)
    ev.add(
        acc,
        lo + (rng.random(acc.size) * (hi - lo)).astype(np.int64),
        "login",
        user=1 + rng.integers(0, w["users"][acc]),
    )


def add_activity_events(
    rng: np.random.Generator, w: dict, rows: dict, ev: EventRows, ms: np.ndarray, mlen: np.ndarray
) -> None:
    """Product use, lifecycle emails, advocacy, from the paid months."""
    acc, month, tenure = rows["acc"], rows["month"], rows["tenure"]
    pers = w["persona"][acc]
    eng = w["eng"][acc]
    ad = w["adopted"][acc]
    fading = FADE[np.minimum(rows["to_churn"], FADE.size - 1)]  # use falls before churn
    users = w["users"][acc]
    base = ms[month]
    span = mlen[month]

    def emit(
        lam: np.ndarray, name: str, *, user_any: bool = True, channel: int = -1, campaign: int = -1
    ) -> None:
        k = rng.poisson(lam)
        g, _ = expand_groups(k)
        ts = base[g] + (rng.random(g.size) * span[g]).astype(np.int64)
        user = 1 + rng.integers(0, users[g]) if user_any else 1
        ev.add(acc[g], ts, name, user=user, channel=channel, campaign=campaign)

    act = eng * fading
    ghost = w["ghost"][acc]
    emit(np.where(ad, P_LOGIN[pers] * act, np.where(ghost, 0.0, 2.0 * fading)), "login")
    emit(np.where(ad, P_REPORT[pers] * act, 0.0), "report_created")
    emit(np.where(ad, 0.5 * act, 0.0), "dashboard_shared")
    emit(
        np.where(ad & (tenure < 3), 0.35 * users / users.max(initial=1) + 0.2, 0.1 * act * ad),
        "invite_sent",
        user_any=False,
    )
    emit(np.where(ad, np.minimum(0.15 + 0.12 * tenure, 2.0) * act, 0.0), "feature_used_advanced")
    emit(np.where(ghost, 0.0, (0.6 * np.exp(-tenure / 4.0) + 0.05) * fading), "help_center_search")
    emit(np.where(ghost, 0.0, 0.25 * fading), "settings_viewed")
    renew = ad & (tenure >= 1)
    emit(
        np.where(renew, 0.3 * fading, 0.0),
        "renewal_email_opened",
        user_any=False,
        channel=CH["email"],
        campaign=CAMP["renewal_reminders"],
    )
    # the first renewal of a lifetime always sends a receipt that gets opened
    second = np.flatnonzero(ad & ~rows["seg_first"] & np.r_[False, rows["seg_first"][:-1]])
    ev.add(
        acc[second],
        base[second] + (rng.random(second.size) * 3 * DAY).astype(np.int64),
        "renewal_email_opened",
        user=1,
        channel=CH["email"],
        campaign=CAMP["renewal_reminders"],
    )
    emit(
        np.where(renew, 0.6 * act, 0.0),
        "changelog_viewed",
        channel=CH["email"],
        campaign=CAMP["product_updates"],
    )
    emit(
        np.where(renew & (pers == 2) & (tenure % 3 == 1), 0.6, 0.0),
        "account_review_meeting",
        user_any=False,
    )

    # advocacy: about half of the accounts that grew (they see the return), engaged ones more
    adv_acc = np.flatnonzero(w["expanded"])
    p_adv = P_ADVOCATE[w["persona"][adv_acc]] * np.minimum(w["eng"][adv_acc], 1.5)
    w["advocate"] = np.zeros(int(w["n"]), dtype=bool)
    w["advocate"][adv_acc[rng.random(adv_acc.size) < p_adv]] = True
    rows_adv = np.flatnonzero(w["advocate"][acc] & (tenure >= 1))
    for name, lam in [
        ("referral_sent", 0.25),
        ("review_posted", 0.08),
        ("community_post", 0.2),
        ("case_study_joined", 0.02),
    ]:
        k = rng.poisson(lam, rows_adv.size)
        r = np.repeat(rows_adv, k)
        ev.add(acc[r], base[r] + (rng.random(r.size) * span[r]).astype(np.int64), name, user=1)
    # every advocate refers at least once, in one of its months picked at random
    starts = np.flatnonzero(np.r_[True, acc[rows_adv][1:] != acc[rows_adv][:-1]])[: rows_adv.size]
    counts = np.diff(np.r_[starts, rows_adv.size])
    one = rows_adv[starts + (rng.random(starts.size) * counts).astype(np.int64)]
    ev.add(
        acc[one],
        base[one] + (rng.random(one.size) * span[one]).astype(np.int64),
        "referral_sent",
        user=1,
    )


def add_anonymous_events(
    rng: np.random.Generator, n_anon: int, ev: EventRows, t0: int, t_end: int
) -> None:
    """Visitors who never identified themselves: one to a few web touches each."""
    if n_anon <= 0:
        return
    first = t0 + (rng.random(n_anon) * (t_end - t0)).astype(np.int64)
    k = 1 + rng.poisson(1.2, n_anon)
    g, off = expand_groups(k)
    ts = first[g] + np.where(off == 0, 0, (rng.random(g.size) * 7 * DAY).astype(np.int64))
    kinds = np.array(
        [
            EV[e]
            for e in [
                "website_visit",
                "blog_visit",
                "pricing_page_viewed",
                "search_click",
                "ad_click",
                "social_engagement",
            ]
        ]
    )
    kind = kinds[choice_rows(rng, np.tile([0.35, 0.25, 0.1, 0.12, 0.1, 0.08], (g.size, 1)))]
    chan_of = {
        EV["search_click"]: CH["organic_search"],
        EV["ad_click"]: CH["paid_search"],
        EV["social_engagement"]: CH["social"],
        EV["blog_visit"]: CH["organic_search"],
    }
    tch = np.full(g.size, CH["direct"])
    for e, c in chan_of.items():
        tch[kind == e] = c
    ev.add(np.full(g.size, -1), ts, kind, channel=tch, campaign=campaign_for(rng, tch), anon=g)


def events_frame(
    e: dict[str, np.ndarray], w: dict, t0: int, t_end: int, n_acc: int, n_anon: int
) -> pl.DataFrame:
    """Sort, de-duplicate and label the event rows.

    Order: by time, then account (anonymous visitors after accounts), event and
    user; ties keep generation order, which is itself deterministic. Exact
    duplicate rows (the loader would quarantine them) are dropped.
    """
    kept = np.flatnonzero((e["ts"] >= t0) & (e["ts"] < t_end))
    ts = e["ts"][kept] - t0
    who = np.where(
        e["acc"][kept] >= 0,
        e["acc"][kept].astype(np.int64),
        n_acc + e["anon"][kept].astype(np.int64),
    )
    ev = e["event"][kept].astype(np.int64)
    user = e["user"][kept].astype(np.int64)
    bits_t, bits_w = max(int(t_end - t0).bit_length(), 1), max((n_acc + n_anon).bit_length(), 1)
    bits_e, bits_u = len(RAW_EVENTS).bit_length(), max(int(user.max(initial=0)).bit_length(), 1)
    if bits_t + bits_w + bits_e + bits_u <= 63:  # one packed key sorts ~10x faster than lexsort
        key = (((ts << bits_w | who) << bits_e | ev) << bits_u) | user
        order = np.argsort(key, kind="stable")
        key = key[order]
    else:
        order = np.lexsort((user, ev, who, ts))
        key = None
    del ts, who, ev, user
    rest = (
        (e["channel"][kept].astype(np.int64) + 1) * 4096
        + (e["campaign"][kept].astype(np.int64) + 1) * 4
        + e["variant"][kept].astype(np.int64)
        + 1
    )
    rest = rest[order]
    idx = kept[order]
    same = np.zeros(idx.size, dtype=bool)
    if idx.size > 1:
        if key is not None:
            same[1:] = key[1:] == key[:-1]
        else:
            same[1:] = True
            for k in ("ts", "acc", "anon", "event", "user"):
                col = e[k][idx]
                same[1:] &= col[1:] == col[:-1]
        same[1:] &= rest[1:] == rest[:-1]
    idx = idx[~same]
    for k in list(e):  # column by column, so the unsorted arrays are freed as we go
        e[k] = e[k][idx]
    acc_ids = w["ids"]
    anon_ids = numbered_ids("V", max(n_anon, 1), id_width(n_anon))
    acc = e["acc"]
    df = pl.DataFrame(
        {
            "timestamp": utc_times(e["ts"]),
            "account_id": acc_ids.gather(pl.Series(np.where(acc >= 0, acc, 0))).set(
                pl.Series(acc < 0), None
            ),
            "anonymous_id": anon_ids.gather(pl.Series(np.where(e["anon"] >= 0, e["anon"], 0))).set(
                pl.Series(e["anon"] < 0), None
            ),
            "user_num": e["user"],
            "event": decode(RAW_EVENTS, e["event"]),
            "channel": decode(CHANNELS, e["channel"]),
            "campaign": decode(CAMPAIGNS, e["campaign"]),
            "variant": decode(["control", "treatment"], e["variant"]),
        }
    )
    return df.select(
        "timestamp",
        "account_id",
        "anonymous_id",
        user_id=pl.when(pl.col("user_num") > 0).then(
            pl.col("account_id") + pl.lit("-u") + pl.col("user_num").cast(pl.String)
        ),
        event="event",
        channel="channel",
        campaign="campaign",
        variant="variant",
    )
