"""The other tables: support tickets, NPS surveys, marketing spend and search queries."""

from __future__ import annotations

import numpy as np
import polars as pl

from journeylib.sources.synth.arrays import (
    choice_rows,
    decode,
    expand_groups,
    id_width,
    month_dates,
    nullable_int,
    numbered_ids,
    utc_times,
)
from journeylib.sources.synth.parameters import (
    CAC,
    CAMP,
    CAMPAIGNS,
    CH,
    CHANNEL_CAMPAIGNS,
    CHANNELS,
    CHURN_NPS,
    CHURN_SURVEY,
    CHURN_TICKETS,
    COMMENTS,
    CPM,
    CTR,
    DAY,
    HOUR,
    P_TICKET_CHANNEL,
    P_TICKETS,
    QUERIES,
    SPIKE_CAMPAIGN,
    SPIKE_CHANNEL,
    SPIKE_MIN_MONTHS,
    SPIKE_MONTHS_BEFORE_END,
    SPIKE_SHARE,
    STAGE_NPS,
    STAGE_TOUCHPOINT,
    STAGES,
    TICKET_CATS,
    TICKET_CHANNELS,
    TICKET_HOURS,
    TICKET_TEXT,
)

__all__ = ["draw_marketing", "draw_search_queries", "draw_surveys", "draw_tickets"]


def draw_tickets(
    rng: np.random.Generator, w: dict, rows: dict, ms: np.ndarray, mlen: np.ndarray, t_end: int
) -> pl.DataFrame:
    """Support tickets over the paid months; the how-to share falls with tenure."""
    acc, month, tenure = rows["acc"], rows["month"], rows["tenure"]
    pers = w["persona"][acc]
    lam = P_TICKETS[pers] * np.where(tenure == 0, 1.8, 1.0) * w["eng"][acc] ** 0.3
    lam = lam * np.where(rows["to_churn"] <= 3, CHURN_TICKETS, 1.0)  # trouble before churn
    lam = np.where(w["ghost"][acc], 0.0, lam)
    k = rng.poisson(lam)
    g, _ = expand_groups(k)
    a, t, p = acc[g], tenure[g], pers[g]
    opened = ms[month[g]] + (rng.random(g.size) * mlen[month[g]]).astype(np.int64)
    how_to = 0.08 + 0.55 * np.exp(-t / 5.0)
    advanced = 0.04 + 0.26 * (1 - np.exp(-t / 8.0))
    probs = np.stack(
        [how_to, np.full(g.size, 0.2), np.full(g.size, 0.08), advanced, np.full(g.size, 0.1)],
        axis=1,
    )
    cat = choice_rows(rng, probs / probs.sum(axis=1, keepdims=True))
    hours = TICKET_HOURS[cat] * np.exp(rng.normal(0, 0.8, g.size)) * np.where(p == 2, 0.7, 1.0)
    resolved = opened + np.maximum((hours * HOUR).astype(np.int64), 300)
    resolved = np.where((rng.random(g.size) < 0.96) & (resolved < t_end), resolved, -1)
    sat_raw = 4.7 - 0.45 * np.log2(1 + hours / 6) + rng.normal(0, 0.7, g.size)
    sat = np.where(
        (rng.random(g.size) < 0.7) & (resolved >= 0), np.clip(np.round(sat_raw), 1, 5), -1
    )
    chan = choice_rows(rng, P_TICKET_CHANNEL[p])
    text_flat = [s for c in TICKET_CATS for s in TICKET_TEXT[c]]
    off = np.cumsum([0] + [len(TICKET_TEXT[c]) for c in TICKET_CATS])
    cnt = np.diff(off)
    text_idx = off[cat] + (rng.random(g.size) * cnt[cat]).astype(np.int64)
    o = np.lexsort((cat, a, opened))
    res = resolved[o]
    return pl.DataFrame(
        {
            "ticket_id": numbered_ids("T", o.size, id_width(o.size)),
            "account_id": w["ids"].gather(pl.Series(a[o])),
            "opened_at": utc_times(opened[o]),
            "resolved_at": utc_times(np.maximum(res, 0)).set(pl.Series(res < 0), None),
            "category": decode(TICKET_CATS, cat[o]),
            "channel": decode(TICKET_CHANNELS, chan[o]),
            "satisfaction": nullable_int(sat[o]),
            "text": decode(text_flat, text_idx[o]),
        }
    )


def draw_surveys(
    rng: np.random.Generator, w: dict, rows: dict, ms: np.ndarray, mlen: np.ndarray
) -> pl.DataFrame:
    """NPS answers per stage, with a dip at onboarding, and comments that carry sentiment."""
    acc, month, tenure = rows["acc"], rows["month"], rows["tenure"]
    # more answers in the first month (the post-purchase survey), then a steady trickle
    p_answer = np.where(tenure == 0, 0.45, 0.10)
    p_answer = p_answer + np.where(rows["to_churn"] <= 2, CHURN_SURVEY, 0.0)  # unhappy, and say so
    take = np.flatnonzero(rng.random(acc.size) < p_answer)
    a, t = acc[take], tenure[take]
    r = take.size
    expd = w["expanded"][a]
    adv = w["advocate"][a]
    probs = np.zeros((r, 8))
    first = t == 0
    # the post-purchase survey asks about discovery, evaluation, buying or setup
    probs[first] = [0.12, 0.14, 0.18, 0.56, 0, 0, 0, 0]
    early = (t >= 1) & (t <= 2)
    probs[early] = [0, 0, 0, 0.3, 0.7, 0, 0, 0]
    late = t >= 3
    probs[late] = [0, 0, 0, 0, 0.25, 0.55, 0.2, 0]
    probs[late & ~expd, 5] += probs[late & ~expd, 6]
    probs[late & ~expd, 6] = 0
    probs[late & adv] = probs[late & adv] * 0.7
    probs[late & adv, 7] += 0.3
    stage = choice_rows(rng, probs)
    churn_soon = rows["to_churn"][take] <= 2
    latent = (
        STAGE_NPS[stage]
        + 1.1 * np.log(w["eng"][a]) / 0.45 * 0.5
        + np.where(churn_soon, CHURN_NPS, 0.0)
        + np.where(adv, 0.8, 0.0)
        + np.array([-0.2, 0.1, 0.3])[w["persona"][a]]
        + rng.normal(0, 1.6, r)
    )
    score = np.clip(np.round(latent), 0, 10).astype(np.int64)
    score = np.where(rng.random(r) < 0.05, -1, score)  # comment-only answers
    cls = np.where(latent >= 8.5, 0, np.where(latent >= 6.5, 1, 2))
    flat: list[str] = []
    offs = np.zeros((8, 3), dtype=np.int64)
    cnts = np.zeros((8, 3), dtype=np.int64)
    for i, st in enumerate(STAGES):
        for j in range(3):
            offs[i, j] = len(flat)
            cnts[i, j] = len(COMMENTS[st][j])
            flat.extend(COMMENTS[st][j])
    cidx = offs[stage, cls] + (rng.random(r) * cnts[stage, cls]).astype(np.int64)
    has_comment = (rng.random(r) < 0.55) | (score < 0)
    cidx = np.where(has_comment, cidx, -1)
    tp = np.where(rng.random(r) < 0.6, stage, -1)
    responded = ms[month[take]] + (rng.random(r) * mlen[month[take]]).astype(np.int64)
    o = np.lexsort((stage, a, responded))
    return pl.DataFrame(
        {
            "response_id": numbered_ids("R", o.size, id_width(o.size)),
            "account_id": w["ids"].gather(pl.Series(a[o])),
            "responded_at": utc_times(responded[o]),
            "score": nullable_int(score[o]),
            "stage": decode(STAGES, stage[o]),
            "touchpoint": decode(STAGE_TOUCHPOINT, tp[o]),
            "comment": decode(flat, cidx[o]),
        }
    )


def draw_marketing(rng: np.random.Generator, w: dict, months: int, ms: np.ndarray) -> pl.DataFrame:
    """Spend per month × campaign, calibrated so each channel's CAC lands near its target."""
    new = w["paid"] & ~w["legacy"] & (w["first_month"] < months)
    n_ch = len(CHANNELS)
    counts = np.zeros((months, n_ch))
    np.add.at(counts, (w["first_month"][new], w["channel"][new]), 1)
    # spend leads customers: smooth over the month and the next two (the pipeline)
    smooth = counts.copy()
    smooth[:-1] += counts[1:]
    smooth[:-2] += counts[2:]
    denom = np.array([min(3, months - m) for m in range(months)], dtype=float)[:, None]
    smooth = smooth / denom
    out: dict[str, list] = {
        k: [] for k in ["month", "channel", "campaign", "spend", "impressions", "clicks"]
    }
    paid_channels = [CH[c] for c in CHANNELS if c != "direct"]
    total = (smooth[:, paid_channels] * np.array([CAC[CHANNELS[i]] for i in paid_channels])).sum(
        axis=1
    ) + 150.0 * len(paid_channels)  # the month's usual spend, all campaigns
    for c in CHANNELS:
        if c == "direct":
            continue
        ci = CH[c]
        for camp, share in CHANNEL_CAMPAIGNS[c]:
            base = (smooth[:, ci] * CAC[c] + 150.0) * share  # a floor: campaigns run every month
            if c == SPIKE_CHANNEL and camp == SPIKE_CAMPAIGN and months >= SPIKE_MIN_MONTHS:
                # the planted anomaly (analytics.md §11 flags it): one month's trade show
                # costs several times the channel's usual spend and brings no extra
                # customers, so the month's CAC jumps
                k = months - SPIKE_MONTHS_BEFORE_END
                base[k] += SPIKE_SHARE * total[k]
            spend = np.round(base * np.exp(rng.normal(0, 0.12, months)), 2)
            if c in CPM:
                imp = np.round(spend / CPM[c] * 1000 * np.exp(rng.normal(0, 0.1, months))).astype(
                    np.int64
                )
                clk = rng.binomial(imp, CTR[c] * (1.6 if camp == "brand_search" else 1.0))
            else:  # content, referral and partner programmes have no impressions to count
                imp = np.full(months, -1)
                clk = np.full(months, -1)
            out["month"].append(np.arange(months))
            out["channel"].append(np.full(months, ci))
            out["campaign"].append(np.full(months, CAMP[camp]))
            out["spend"].append(spend)
            out["impressions"].append(imp)
            out["clicks"].append(clk)
    cols = {k: np.concatenate(v) for k, v in out.items()}
    order = np.lexsort((cols["campaign"], cols["channel"], cols["month"]))
    return pl.DataFrame(
        {
            "month": month_dates(ms, cols["month"][order]),
            "channel": decode(CHANNELS, cols["channel"][order]),
            "campaign": decode(CAMPAIGNS, cols["campaign"][order]),
            "spend": cols["spend"][order].astype(np.float64),
            "impressions": nullable_int(cols["impressions"][order]),
            "clicks": nullable_int(cols["clicks"][order]),
        }
    )


def draw_search_queries(rng: np.random.Generator, months: int, ms: np.ndarray) -> pl.DataFrame:
    """A daily search-console export; branded queries grow faster than the rest."""
    days = (ms[-1] - ms[0]) // DAY
    d = np.arange(days)
    q = np.arange(len(QUERIES))
    dd, qq = np.meshgrid(d, q, indexing="ij")
    dd, qq = dd.ravel(), qq.ravel()
    base = np.array([x[2] for x in QUERIES])[qq]
    growth = np.array([x[3] for x in QUERIES])[qq]
    branded = np.array([x[1] for x in QUERIES])[qq]
    weekday = ((ms[0] // DAY + dd + 3) % 7) < 5  # 1970-01-01 was a Thursday
    lam = base * (1 + growth * dd / 365.0) * np.where(weekday, 1.15, 0.65)
    imp = rng.poisson(lam)
    pos = np.clip(
        np.array([x[4] for x in QUERIES])[qq] * np.exp(rng.normal(0, 0.15, dd.size)), 1.0, 60.0
    )
    pos = np.round(pos, 1)
    ctr = np.clip(np.where(branded, 0.55, 0.32) / pos**0.9, 0, 0.9)
    clicks = rng.binomial(imp, ctr)
    keep = imp > 0  # the export lists only queries that were shown
    date = (ms[0] // DAY + dd[keep]).astype(np.int32)
    return pl.DataFrame(
        {
            "date": pl.Series(date).cast(pl.Date),
            "query": decode([x[0] for x in QUERIES], qq[keep]),
            "clicks": clicks[keep].astype(np.int64),
            "impressions": imp[keep].astype(np.int64),
            "position": pos[keep],
        }
    )
