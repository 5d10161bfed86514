"""Synthetic client data: every table of data.md, realistic in structure, of any size.

:func:`synthesize` writes a complete client folder (accounts, events,
subscriptions, marketing, search_queries, tickets, surveys and a client.yaml)
for demos, tests and benchmarks. The story it tells:

* three personas behave differently: ``smb_founder`` (small companies, fast
  self-serve buying, higher churn), ``mid_market_ops`` and ``enterprise_it``
  (large companies, sales-led, slow to first value, loyal). ``accounts.persona``
  is left empty: the persona rules of the client.yaml written beside the data
  assign it from ``company_size``.
* eight acquisition channels with different sign-up rates and acquisition cost
  (paid search costs about twice organic search, as the literature says).
* a stage funnel with drop-off: every known account is aware, fewer consider,
  fewer sign up for a trial, fewer reach checkout, fewer pay. Accounts that
  reach a later stage of ``b2b_saas_8_stage`` always have events of the earlier
  ones (for the accounts first seen in the data).
* payment is followed by onboarding; the first report (the activation and
  first-value event) comes days later, by persona. Billing starts on the first
  of the month after payment.
* monthly subscriptions with new, expansion, contraction, churn and
  reactivation; low engagement raises churn. About 6 % of the accounts are
  customers from before the data ("legacy"), so MRR does not start at zero.
* support tickets whose how-to share falls with tenure; NPS surveys per stage
  with a dip at onboarding and comments that carry sentiment words.
* marketing spend per month, channel and campaign; a search-console export with
  branded (``acme``) and non-branded queries; anonymous visitors.
* an A/B test (``variant`` control / treatment) on the checkout micro-journey
  ``checkout_started → plan_selected → payment_submitted``; treatment converts better.
* two raw events, ``help_center_search`` and ``settings_viewed``, are on
  purpose not mapped by the shipped templates, so the unmapped-events section
  has something to show.

Scale: about 33 events per account over 12 months and about 50 over 24 months
(anonymous visitors included), so ``journey synth DIR --accounts 200000
--months 24`` writes roughly 10 M events. Everything is vectorised with numpy
and polars (Python loops only over tables, months and event kinds), and
deterministic: the same arguments give byte-identical files.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Literal

import numpy as np
import polars as pl

from journeylib.config import parse_month
from journeylib.errors import JourneyError

__all__ = ["synthesize", "RAW_EVENTS", "UNMAPPED_EVENTS", "PERSONAS", "CHANNELS"]

Format = Literal["csv", "csv.gz", "parquet"]

# fmt: off

DAY = 86_400
HOUR = 3_600

PERSONAS = ["smb_founder", "mid_market_ops", "enterprise_it"]
CHANNELS = [
    "organic_search", "paid_search", "social", "referral", "email", "partner", "events", "direct",
]
_CH = {c: i for i, c in enumerate(CHANNELS)}

# Campaigns per channel: (name, share of the channel's spend). Organic and direct
# traffic carries no campaign tag on events; organic still has content spend.
_CAMPAIGNS: dict[str, list[tuple[str, float]]] = {
    "organic_search": [("seo_content", 1.0)],
    "paid_search": [("brand_search", 0.3), ("generic_search", 0.7)],
    "social": [("linkedin_ads", 0.65), ("retargeting", 0.35)],
    "referral": [("referral_program", 1.0)],
    "email": [("newsletter", 0.4), ("nurture_sequence", 0.6)],
    "partner": [("partner_program", 1.0)],
    "events": [("saas_summit", 0.6), ("regional_meetups", 0.4)],
    "direct": [],
}
_LIFECYCLE_CAMPAIGNS = ["onboarding_series", "renewal_reminders", "product_updates"]
CAMPAIGNS = [name for c in CHANNELS for name, _ in _CAMPAIGNS[c]] + _LIFECYCLE_CAMPAIGNS
_CAMP = {c: i for i, c in enumerate(CAMPAIGNS)}

# The raw event vocabulary, in journey order (b2b_saas_8_stage), then the unmapped ones.
RAW_EVENTS = [
    # awareness
    "website_visit", "blog_visit", "ad_click", "social_engagement", "search_click",
    "event_attended",
    # consideration
    "pricing_page_viewed", "comparison_page_viewed", "review_read", "webinar_attended",
    "ebook_downloaded", "newsletter_subscribed", "demo_requested", "trial_started", "trial_session",
    # decision
    "sales_call", "demo_attended", "checkout_started", "plan_selected", "payment_submitted",
    # onboarding
    "account_created", "onboarding_email_opened", "tutorial_viewed", "integration_connected",
    "first_report_created", "onboarding_completed",
    # adoption
    "login", "report_created", "dashboard_shared", "invite_sent", "feature_used_advanced",
    # retention
    "renewal_email_opened", "changelog_viewed", "account_review_meeting", "seat_removed",
    "subscription_cancelled",
    # expansion
    "plan_upgraded", "seat_added",
    # advocacy
    "referral_sent", "review_posted", "case_study_joined", "community_post",
    # deliberately unmapped
    "help_center_search", "settings_viewed",
]
UNMAPPED_EVENTS = ["help_center_search", "settings_viewed"]
_EV = {e: i for i, e in enumerate(RAW_EVENTS)}

# ------------------------------------------------------------------ persona parameters
# Index 0/1/2 = smb_founder / mid_market_ops / enterprise_it.
_P_SHARE = np.array([0.55, 0.30, 0.15])
_P_CHANNEL = np.array([
    # organic paid  social referral email partner events direct
    [0.30, 0.22, 0.18, 0.12, 0.06, 0.02, 0.02, 0.08],
    [0.22, 0.22, 0.08, 0.10, 0.10, 0.12, 0.08, 0.08],
    [0.10, 0.15, 0.03, 0.07, 0.08, 0.25, 0.25, 0.07],
])
_P_SIGNUP = np.array([0.42, 0.36, 0.30])
_CH_SIGNUP = np.array([1.0, 0.85, 0.6, 1.5, 1.1, 1.3, 1.2, 1.2])
_CH_HAZARD = np.array([1.0, 1.15, 1.3, 0.7, 1.0, 0.85, 0.9, 0.95])
_P_SIGNUP_DELAY_DAYS = np.array([4.0, 10.0, 20.0])
_P_DECIDE = np.array([0.55, 0.60, 0.65])
_P_PAY_DELAY_DAYS = np.array([6.0, 13.0, 26.0])  # trial/evaluation length before checkout
_P_ADOPT = np.array([0.85, 0.90, 0.93])
_P_FIRST_REPORT_DAYS = np.array([1.5, 4.0, 11.0])  # from payment to the first report
_P_HAZARD = np.array([0.045, 0.025, 0.012])  # monthly churn hazard of an adopted account
_P_LOGIN = np.array([8.0, 14.0, 22.0])  # logins per paid month
_P_REPORT = np.array([3.0, 5.0, 8.0])
_P_TICKETS = np.array([0.20, 0.35, 0.70])  # tickets per paid month
_P_ADVOCATE = np.array([0.45, 0.5, 0.55])  # among accounts that expanded
_P_USERS = np.array([[1, 3], [3, 12], [8, 40]])  # users per account: [low, high]
_P_SEATS = np.array([[1, 5], [5, 25], [15, 80]])
_P_PLAN = np.array([  # starter, pro, business, enterprise
    [0.65, 0.35, 0.00, 0.00],
    [0.10, 0.55, 0.35, 0.00],
    [0.00, 0.05, 0.45, 0.50],
])
_PLANS = ["starter", "pro", "business", "enterprise"]
_PLAN_PRICE = np.array([29.0, 59.0, 99.0, 149.0])  # per seat per month
_ROLES = [
    ["founder", "ceo", "marketing_manager"],
    ["operations_manager", "head_of_operations", "analyst", "finance_manager"],
    ["it_director", "cto", "it_manager", "procurement"],
]
_ROLE_P = [[0.60, 0.25, 0.15], [0.45, 0.25, 0.20, 0.10], [0.45, 0.25, 0.20, 0.10]]
_INDUSTRIES = [
    "software", "ecommerce", "fintech", "healthcare", "manufacturing", "education", "agency",
    "logistics",
]
_P_INDUSTRY = np.array([
    [0.25, 0.22, 0.08, 0.05, 0.04, 0.08, 0.22, 0.06],
    [0.18, 0.14, 0.14, 0.12, 0.14, 0.08, 0.06, 0.14],
    [0.16, 0.08, 0.20, 0.18, 0.18, 0.06, 0.02, 0.12],
])
_COUNTRIES = ["US", "GB", "DE", "FR", "CA", "AU", "NL", "IN", "BR", "ES"]
_COUNTRY_P = np.array([0.40, 0.12, 0.10, 0.07, 0.07, 0.05, 0.05, 0.06, 0.04, 0.04])
_NAME_A = [
    "North", "Blue", "Bright", "Silver", "Iron", "Green", "Swift", "Clear", "Red", "Summit",
    "Harbor", "Cedar", "Atlas", "Nova", "Pine", "Delta", "Stone", "River", "Oak", "Polar",
]
_NAME_B = [
    "wind", "field", "path", "line", "works", "bridge", "point", "scale", "stack", "gate",
    "loop", "craft", "forge", "peak", "wave", "grid", "cloud", "ridge", "mark", "shift",
]
_NAME_C = [
    "Labs", "Inc", "GmbH", "Ltd", "Group", "Systems", "Studio", "Co", "Partners", "Analytics",
]

# Acquisition cost per new customer the marketing spend is calibrated to (USD);
# organic and paid search follow the B2B averages quoted in journey-knowledge.md.
_CAC = {"organic_search": 942.0, "paid_search": 1907.0, "social": 1450.0, "referral": 420.0,
        "email": 380.0, "partner": 1250.0, "events": 2600.0}
_CPM = {"paid_search": 38.0, "social": 11.0, "email": 4.0, "partner": 25.0, "events": 90.0}
_CTR = {"paid_search": 0.032, "social": 0.009, "email": 0.021, "partner": 0.015, "events": 0.006}

# The first event of an account, by acquisition channel.
_FIRST_EVENT = np.array([_EV[e] for e in [
    "search_click", "ad_click", "social_engagement", "website_visit", "website_visit",
    "website_visit", "event_attended", "website_visit",
]])
_CANONICAL_EVENT = _FIRST_EVENT  # the event a touch of that channel usually is
_AWARE_GENERIC = np.array([_EV["website_visit"], _EV["blog_visit"]])
_CONSIDER = ["pricing_page_viewed", "comparison_page_viewed", "review_read", "webinar_attended",
             "ebook_downloaded", "newsletter_subscribed"]
_CONSIDER_P = np.array([
    [0.34, 0.18, 0.20, 0.06, 0.10, 0.12],
    [0.28, 0.16, 0.16, 0.14, 0.16, 0.10],
    [0.22, 0.14, 0.12, 0.22, 0.22, 0.08],
])

# Ticket categories, their median resolution hours, and short subjects.
_TICKET_CATS = ["how_to", "bug", "billing", "advanced", "feature_request"]
_TICKET_HOURS = np.array([3.0, 26.0, 6.0, 14.0, 60.0])
_TICKET_TEXT = {
    "how_to": ["How do I create my first report?", "Where can I change the date range?",
               "How do I invite my team?", "Cannot find the export button",
               "How do I connect our CRM?"],
    "bug": ["Dashboard does not load", "Export to CSV fails with an error",
            "Numbers in the report look wrong", "Integration sync stopped overnight"],
    "billing": ["Invoice shows the wrong company name", "Please switch us to annual billing",
                "Charged twice this month", "How do I add a purchase order number?"],
    "advanced": ["Custom metric with a weighted formula", "API rate limits for nightly sync",
                 "SSO setup with our identity provider", "Row-level permissions per team"],
    "feature_request": ["Please add a Slack alert for anomalies",
                        "Would love scheduled PDF exports",
                        "Request: cohort view by plan", "Dark mode for dashboards"],
}
_TICKET_CHANNELS = ["chat", "email", "phone"]
_P_TICKET_CHANNEL = np.array([[0.65, 0.32, 0.03], [0.45, 0.45, 0.10], [0.25, 0.50, 0.25]])

# Survey stages (b2b_saas_8_stage ids), the touchpoint asked at, and NPS base levels;
# the onboarding dip and the advocacy high shape the emotion curve.
_STAGES = ["awareness", "consideration", "decision", "onboarding", "adoption", "retention",
           "expansion", "advocacy"]
_STAGE_TOUCHPOINT = ["website", "free_trial", "checkout", "feedback_survey", "product_use",
                     "renewal", "upgrade", "referral_programme"]
_STAGE_NPS = np.array([8.2, 7.8, 7.9, 6.9, 8.3, 8.6, 8.9, 9.6])
_COMMENTS = {
    # stage: (promoter, passive, detractor) comments
    "awareness": (["Great blog posts, that is how I found you",
                   "Love the clear explanations on the website"],
                  ["The website was fine, took a while to see what it does"],
                  ["Confusing website, I could not tell what the product does"]),
    "consideration": (["The free trial was easy and very helpful",
                       "Love the comparison guide, clear pricing"],
                      ["Trial was ok, plans are a bit hard to compare"],
                      ["Pricing is confusing and plan differences are unclear",
                       "Too expensive compared to alternatives"]),
    "decision": (["Smooth checkout, the sales team was great", "Easy purchase, fair price"],
                 ["Buying was fine but the contract took long"],
                 ["Checkout was frustrating and slow",
                  "Hidden costs, disappointed with the quote"]),
    "onboarding": (["Setup was quick and easy, love the tutorials",
                    "Great onboarding emails, very helpful"],
                   ["Onboarding ok, the integration took some time"],
                   ["Integration setup was painful and confusing",
                    "Could not find the docs, frustrating start",
                    "Too slow to get the first report working"]),
    "adoption": (["We use it every day, love the dashboards", "Reports are fast and easy to share"],
                 ["Useful, but some advanced features are hard to find"],
                 ["The app is slow and buggy", "Reports break often, annoying"]),
    "retention": (["Reliable and helpful support, great value",
                   "Excellent product updates, keep it up"],
                  ["Good value, support could be faster"],
                  ["Support is slow and the renewal price is too expensive",
                   "Disappointed with recent changes"]),
    "expansion": (["Adding seats was easy, great ROI", "Love the new premium features"],
                  ["Upgrade was fine, licensing is a bit complex"],
                  ["Upgrade pricing is confusing and expensive"]),
    "advocacy": (["Love it, I recommend it to every peer", "Excellent product and amazing team"],
                 ["Happy overall, would recommend with small caveats"],
                 ["Would hesitate to recommend, reliability worries me"]),
}

# Search console queries: (query, branded, daily impressions at start, yearly growth, position).
_QUERIES = [
    ("acme", True, 40.0, 0.9, 1.1),
    ("acme login", True, 25.0, 0.8, 1.0),
    ("acme pricing", True, 9.0, 0.9, 1.3),
    ("acme analytics reviews", True, 5.0, 1.0, 1.6),
    ("acme vs competitor", True, 3.0, 1.0, 2.2),
    ("customer journey analytics", False, 120.0, 0.2, 7.5),
    ("saas reporting tool", False, 90.0, 0.2, 9.0),
    ("b2b dashboard software", False, 70.0, 0.15, 11.0),
    ("churn analysis tool", False, 45.0, 0.3, 6.0),
    ("mrr tracking", False, 40.0, 0.25, 5.5),
    ("how to calculate nrr", False, 60.0, 0.3, 4.0),
    ("customer journey map template", False, 150.0, 0.2, 14.0),
    ("saas metrics dashboard", False, 80.0, 0.25, 8.5),
    ("activation rate benchmark", False, 25.0, 0.3, 6.5),
]


# fmt: on


# ------------------------------------------------------------------ helpers
def _expand(lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For groups of the given lengths: (group index, offset inside the group) per output row."""
    lengths = np.asarray(lengths, dtype=np.int64)
    grp = np.repeat(np.arange(lengths.size, dtype=np.int64), lengths)
    starts = np.cumsum(lengths) - lengths
    off = np.arange(grp.size, dtype=np.int64) - np.repeat(starts, lengths)
    return grp, off


def _choice_rows(rng: np.random.Generator, probs: np.ndarray) -> np.ndarray:
    """One category per row of ``probs`` (rows sum to 1), by inverse CDF."""
    cum = np.cumsum(probs, axis=1)
    u = rng.random(probs.shape[0])[:, None] * cum[:, -1:]
    return np.minimum((u >= cum).sum(axis=1), probs.shape[1] - 1)


def _campaign_for(rng: np.random.Generator, channel: np.ndarray) -> np.ndarray:
    """A campaign code for each channel code (-1: untagged, for organic, direct and null)."""
    first = np.full(len(CHANNELS), -1)
    count = np.zeros(len(CHANNELS), dtype=np.int64)
    for c in CHANNELS:
        if c in ("organic_search", "direct"):
            continue
        first[_CH[c]] = _CAMP[_CAMPAIGNS[c][0][0]]
        count[_CH[c]] = len(_CAMPAIGNS[c])
    ch = np.where(channel < 0, 0, channel)
    n = count[ch]
    pick = (rng.random(channel.size) * np.maximum(n, 1)).astype(np.int64)
    return np.where((channel >= 0) & (n > 0), first[ch] + pick, -1)


class _Events:
    """Accumulates event rows as integer-coded numpy arrays; strings come at the end."""

    def __init__(self) -> None:
        self.parts: list[dict[str, np.ndarray]] = []

    def add(
        self,
        acc: np.ndarray,
        ts: np.ndarray,
        event: str | np.ndarray,
        *,
        user: np.ndarray | int = 0,
        channel: np.ndarray | int = -1,
        campaign: np.ndarray | int = -1,
        variant: np.ndarray | int = -1,
        anon: np.ndarray | None = None,
    ) -> None:
        n = int(np.asarray(ts).size)
        if n == 0:
            return

        def col(v: np.ndarray | int, dtype: type) -> np.ndarray:
            return np.broadcast_to(np.asarray(v, dtype=dtype), (n,)).copy()

        self.parts.append(
            {
                "acc": col(acc, np.int32),
                "anon": col(-1 if anon is None else anon, np.int32),
                "ts": col(ts, np.int64),
                "event": col(_EV[event] if isinstance(event, str) else event, np.int16),
                "user": col(user, np.int16),
                "channel": col(channel, np.int16),
                "campaign": col(campaign, np.int16),
                "variant": col(variant, np.int16),
            }
        )

    def concat(self) -> dict[str, np.ndarray]:
        """All rows, one array per column; the parts are released column by column."""
        if not self.parts:
            cols = ["acc", "anon", "ts", "event", "user", "channel", "campaign", "variant"]
            return {k: np.zeros(0, dtype=np.int64) for k in cols}
        out = {}
        for k in list(self.parts[0]):
            out[k] = np.concatenate([p.pop(k) for p in self.parts])
        self.parts.clear()
        return out


def _ids(prefix: str, n: int, width: int) -> pl.Series:
    """``prefix`` + zero-padded 1-based numbers, as a polars string Series."""
    nums = pl.Series("id", np.arange(1, n + 1, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return (prefix + nums).alias("id")


def _lookup(names: list[str], codes: np.ndarray) -> pl.Series:
    """Codes (-1 = null) to strings through a small vocabulary."""
    s = pl.Series(names + [None], dtype=pl.String)
    idx = np.where(codes < 0, len(names), codes)
    return s.gather(pl.Series(idx, dtype=pl.Int64))


def _nullable_int(values: np.ndarray) -> pl.Series:
    """Int64 with negative values as null."""
    v = np.asarray(values, dtype=np.int64)
    return pl.Series(v).set(pl.Series(v < 0), None)


def _datetime(ts: np.ndarray) -> pl.Series:
    return pl.Series(np.asarray(ts, dtype=np.int64) * 1_000_000).cast(pl.Datetime("us", "UTC"))


# ------------------------------------------------------------------ the generator
def synthesize(
    out_dir: str | Path,
    *,
    accounts: int = 2000,
    months: int = 12,
    seed: int = 42,
    start: str = "2024-01",
    fmt: Format = "csv",
    anonymous_visitors: int | None = None,
) -> dict[str, int]:
    """Write a synthetic client folder and return the rows written per table.

    Args:
        out_dir: the client folder to write (created if needed; files are overwritten).
        accounts: known accounts (leads, trials, customers).
        months: calendar months of data, from ``start``.
        seed: random seed; the same arguments give byte-identical files.
        start: the first month, ``YYYY-MM``.
        fmt: ``csv``, ``csv.gz`` or ``parquet``.
        anonymous_visitors: pre-sign-up visitors with events but no account;
            default ``2 × accounts``.

    Returns:
        ``{table: rows}`` for the seven tables written.

    Examples:
        >>> import tempfile
        >>> rows = synthesize(tempfile.mkdtemp(), accounts=50, months=3, seed=1)
        >>> sorted(rows)
        ['accounts', 'events', 'marketing', 'search_queries', 'subscriptions', 'surveys', 'tickets']
    """
    if accounts < 1 or months < 1:
        raise JourneyError(
            "nothing to generate",
            where="synth",
            expected="accounts >= 1 and months >= 1",
            found=f"accounts={accounts}, months={months}",
            fix="give positive numbers",
        )
    if fmt not in ("csv", "csv.gz", "parquet"):
        raise JourneyError(
            "unknown output format",
            where="synth",
            expected="csv, csv.gz or parquet",
            found=repr(fmt),
            fix="use one of those formats",
        )
    try:
        start = parse_month(start)
    except ValueError:
        raise JourneyError(
            "bad start month",
            where="synth",
            expected="a month written YYYY-MM",
            found=repr(start),
            fix="give the first month as YYYY-MM",
        ) from None
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    n_anon = 2 * accounts if anonymous_visitors is None else int(anonymous_visitors)

    # One independent stream per component, so a change in one never shifts the others.
    streams = np.random.SeedSequence(seed).spawn(9)
    rng_acc, rng_pre, rng_sub, rng_act, rng_tk, rng_sv, rng_mk, rng_sq, rng_an = (
        np.random.default_rng(s) for s in streams
    )

    m0 = np.datetime64(start[:7], "M")
    ms = (m0 + np.arange(months + 1)).astype("datetime64[s]").astype(np.int64)  # month starts
    t0, t_end = int(ms[0]), int(ms[-1])
    mlen = np.diff(ms)

    world = _accounts(rng_acc, accounts, months, ms)
    ev = _Events()
    _pre_purchase_events(rng_pre, world, ev, ms)
    subs, rows = _subscriptions(rng_sub, world, months, ms, ev)
    _activity_events(rng_act, world, rows, ev, ms, mlen)
    _anonymous_events(rng_an, n_anon, ev, t0, t_end)
    tickets = _tickets(rng_tk, world, rows, ms, mlen, t_end)
    surveys = _surveys(rng_sv, world, rows, ms, mlen)
    marketing = _marketing(rng_mk, world, months, ms)
    search = _search_queries(rng_sq, months, ms)
    events = _events_frame(ev.concat(), world, t0, t_end, accounts, n_anon)
    accounts_df = _accounts_frame(world)

    tables = {
        "accounts": accounts_df,
        "events": events,
        "subscriptions": subs,
        "marketing": marketing,
        "search_queries": search,
        "tickets": tickets,
        "surveys": surveys,
    }
    for name, df in tables.items():
        _write(df, out, name, fmt)
    (out / "client.yaml").write_text(
        _client_yaml(out.resolve().name, start, months), encoding="utf-8"
    )
    return {name: df.height for name, df in tables.items()}


# ------------------------------------------------------------------ accounts and their fate
def _accounts(
    rng: np.random.Generator, n: int, months: int, ms: np.ndarray
) -> dict[str, np.ndarray]:
    t0, t_end = int(ms[0]), int(ms[-1])
    persona = rng.choice(3, size=n, p=_P_SHARE)
    legacy = rng.random(n) < 0.06
    # New accounts arrive over the period, a little faster each month (growth).
    w = 1.03 ** np.arange(months)
    mi = rng.choice(months, size=n, p=w / w.sum())
    first_seen = ms[mi] + (rng.random(n) * (ms[mi + 1] - ms[mi])).astype(np.int64)
    first_seen = np.where(legacy, t0 - (rng.uniform(60, 720, n) * DAY).astype(np.int64), first_seen)
    channel = _choice_rows(rng, _P_CHANNEL[persona])

    size_smb = np.clip(np.round(np.exp(rng.normal(math.log(12), 0.7, n))), 1, 50)
    size_mid = np.round(np.exp(rng.uniform(math.log(51), math.log(499), n)))
    size_ent = np.clip(np.round(np.exp(rng.normal(math.log(1500), 0.9, n))), 500, 50_000)
    company_size = np.choose(persona, [size_smb, size_mid, size_ent]).astype(np.int64)
    role = np.full(n, "", dtype=object)
    role_draw = rng.random(n)
    for p in range(3):
        cum = np.cumsum(_ROLE_P[p])
        idx = np.minimum(np.searchsorted(cum, role_draw * cum[-1], side="right"), len(cum) - 1)
        role = np.where(persona == p, np.asarray(_ROLES[p], dtype=object)[idx], role)
    industry = _choice_rows(rng, _P_INDUSTRY[persona])
    country = rng.choice(len(_COUNTRIES), size=n, p=_COUNTRY_P)
    country = np.where(rng.random(n) < 0.03, -1, country)  # a few CRM records lack a country
    name_parts = np.stack(
        [
            rng.integers(0, len(_NAME_A), n),
            rng.integers(0, len(_NAME_B), n),
            rng.integers(0, len(_NAME_C), n),
        ]
    )

    eng = np.exp(rng.normal(0.0, 0.45, n))  # engagement propensity, drives usage and loyalty
    users = rng.integers(_P_USERS[persona, 0], _P_USERS[persona, 1] + 1)

    # --- the funnel
    signed = (rng.random(n) < np.clip(_P_SIGNUP[persona] * _CH_SIGNUP[channel], 0, 0.95)) | legacy
    quick = rng.random(n) < 0.3  # a third sign up in the first visit
    delay = np.where(
        quick, rng.uniform(120, 2 * HOUR, n), rng.exponential(_P_SIGNUP_DELAY_DAYS[persona] * DAY)
    )
    signup = first_seen + delay.astype(np.int64)
    signup = np.where(legacy, first_seen + (rng.uniform(0, 20, n) * DAY).astype(np.int64), signup)
    signed &= signup < t_end
    consider = signed | (rng.random(n) < 0.45)
    decide = signed & ~legacy & (rng.random(n) < _P_DECIDE[persona])
    checkout = decide & (rng.random(n) < 0.85)
    variant = rng.integers(0, 2, n)
    # the treatment (a one-page checkout) converts better at both steps
    p_select = np.where(variant == 1, 0.80, 0.66)
    p_pay = np.where(variant == 1, 0.70, 0.58)
    selected = checkout & (rng.random(n) < p_select)
    paid = (selected & (rng.random(n) < p_pay)) | legacy
    checkout_at = signup + (rng.gamma(2.0, _P_PAY_DELAY_DAYS[persona] / 2.0) * DAY).astype(np.int64)
    selected_at = checkout_at + rng.integers(30, 300, n)
    paid_at = selected_at + rng.integers(30, 600, n)
    paid &= legacy | (paid_at < t_end)
    adopted = paid & ((rng.random(n) < _P_ADOPT[persona]) | legacy)
    first_report_at = paid_at + (rng.gamma(2.0, _P_FIRST_REPORT_DAYS[persona] / 2.0) * DAY).astype(
        np.int64
    )
    # Some payers who never reach value never even log in ("ghosts"): customers drop a
    # product they do not understand, often without cancelling.
    ghost = paid & ~adopted & ~legacy & (rng.random(n) < 0.4)
    # Billing starts on the 1st of the month after payment; legacy accounts pay from month 0.
    pay_month = np.searchsorted(ms, paid_at, side="right") - 1
    first_month = np.where(legacy, 0, pay_month + 1)
    hazard = np.clip(
        _P_HAZARD[persona] * _CH_HAZARD[channel] / eng**0.8 * np.where(legacy, 0.6, 1.0), 0.003, 0.5
    )
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
        "ids": _ids("A", n, _width(n)),
    }


def _pre_purchase_events(rng: np.random.Generator, w: dict, ev: _Events, ms: np.ndarray) -> None:
    """Awareness, consideration, trial and decision events (not for legacy accounts)."""
    new = np.flatnonzero(~w["legacy"])
    f = w["first_seen"]
    ch = w["channel"]
    t_end = int(ms[-1])

    # the first touch, at first_seen_at, through the acquisition channel
    ev.add(
        new, f[new], _FIRST_EVENT[ch[new]], channel=ch[new], campaign=_campaign_for(rng, ch[new])
    )

    # more awareness touches until sign-up (or for a few weeks)
    aware_end = np.where(w["signed"], w["signup"], np.minimum(f + 45 * DAY, t_end))
    k = rng.poisson(np.where(w["consider"], 2.0, 1.0)[new])
    g, _ = _expand(k)
    acc = new[g]
    own = rng.random(acc.size) < 0.6
    tch = np.where(own, ch[acc], rng.integers(0, 7, acc.size))  # 7 = marketing channels, no direct
    canonical = rng.random(acc.size) < 0.5
    etype = np.where(canonical, _CANONICAL_EVENT[tch], _AWARE_GENERIC[rng.integers(0, 2, acc.size)])
    ts = f[acc] + (rng.random(acc.size) * (aware_end[acc] - f[acc])).astype(np.int64)
    ev.add(acc, ts, etype, channel=tch, campaign=_campaign_for(rng, tch))

    # consideration content, before sign-up
    cons = new[w["consider"][new]]
    k = 1 + rng.poisson(np.where(w["signed"][cons], 2.0, 1.2))
    g, _ = _expand(k)
    acc = cons[g]
    etype = np.asarray([_EV[e] for e in _CONSIDER])[
        _choice_rows(rng, _CONSIDER_P[w["persona"][acc]])
    ]
    lo = f[acc] + 60
    ts = lo + (rng.random(acc.size) * np.maximum(aware_end[acc] - lo, 0)).astype(np.int64)
    tch = np.where(rng.random(acc.size) < 0.7, ch[acc], -1)
    ev.add(acc, ts, etype, user=1, channel=tch, campaign=_campaign_for(rng, tch))

    # trial: sign-up, demo request (mid-market and enterprise), trial sessions
    sig = new[w["signed"][new]]
    s = w["signup"]
    ev.add(sig, s[sig] + rng.integers(5, 60, sig.size), "trial_started", user=1)
    dem = sig[(w["persona"][sig] > 0) & (rng.random(sig.size) < 0.6)]
    ev.add(dem, s[dem] + rng.integers(60, 900, dem.size), "demo_requested", user=1)
    trial_end = np.where(w["decide"], w["checkout_at"], s + 14 * DAY)
    k = rng.poisson(3.0 * w["eng"][sig])
    g, _ = _expand(k)
    acc = sig[g]
    ts = s[acc] + 60 + (rng.random(acc.size) * (trial_end[acc] - s[acc])).astype(np.int64)
    ev.add(acc, ts, "trial_session", user=1 + rng.integers(0, np.minimum(w["users"][acc], 3)))

    # decision: sales conversations, then the checkout micro-journey (the A/B test)
    dec = np.flatnonzero(w["decide"])
    pers = w["persona"][dec]
    sales = dec[rng.random(dec.size) < np.array([0.1, 0.5, 0.85])[pers]]
    ev.add(
        sales,
        s[sales]
        + (rng.uniform(0.2, 0.8, sales.size) * (w["checkout_at"][sales] - s[sales])).astype(
            np.int64
        ),
        "sales_call",
        user=1,
    )
    demo = dec[rng.random(dec.size) < np.array([0.2, 0.5, 0.8])[pers]]
    ev.add(
        demo,
        s[demo]
        + (rng.uniform(0.3, 0.95, demo.size) * (w["checkout_at"][demo] - s[demo])).astype(np.int64),
        "demo_attended",
        user=1,
    )
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
    g, _ = _expand(k)
    acc = pa[g]
    ev.add(
        acc,
        p[acc] + (rng.random(acc.size) * 14 * DAY).astype(np.int64),
        "onboarding_email_opened",
        user=1,
        channel=_CH["email"],
        campaign=_CAMP["onboarding_series"],
    )
    k = rng.poisson(np.array([2.0, 1.5, 1.0])[w["persona"][pa]])
    g, _ = _expand(k)
    acc = pa[g]
    ev.add(
        acc,
        p[acc] + (rng.random(acc.size) * 21 * DAY).astype(np.int64),
        "tutorial_viewed",
        user=1 + rng.integers(0, w["users"][acc]),
    )
    ad = w["adopted"][pa]
    integ = pa[rng.random(pa.size) < np.where(ad, 0.75, 0.3)]
    ev.add(
        integ,
        p[integ] + (rng.exponential(3.0, integ.size) * DAY).astype(np.int64) + HOUR,
        "integration_connected",
        user=1,
    )
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
    g, _ = _expand(k)
    acc = pa[g]
    lo = p[acc] + 900
    hi = np.maximum(ms[np.minimum(w["first_month"][acc], len(ms) - 1)], lo + DAY)
    ev.add(
        acc,
        lo + (rng.random(acc.size) * (hi - lo)).astype(np.int64),
        "login",
        user=1 + rng.integers(0, w["users"][acc]),
    )


def _subscriptions(
    rng: np.random.Generator, w: dict, months: int, ms: np.ndarray, ev: _Events
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
    g, off = _expand(length)
    acc = seg_acc[g]
    month = seg_start[g] + off
    churn_at = seg_end[g]
    seg_first = off == 0
    order = np.lexsort((month, acc))
    acc, month, churn_at, seg_first = acc[order], month[order], churn_at[order], seg_first[order]
    r = acc.size
    pers = w["persona"][acc]

    # seats and plan: per-row changes, cumulated per account
    seats0 = rng.integers(_P_SEATS[:, 0], _P_SEATS[:, 1] + 1, size=(n, 3))[
        np.arange(n), w["persona"]
    ]
    plan0 = _choice_rows(rng, _P_PLAN[w["persona"]])
    u = rng.random(r)
    grows = ~seg_first & w["adopted"][acc]  # only accounts that use the product grow
    p_add = np.array([0.045, 0.06, 0.07])[pers] * np.minimum(w["eng"][acc], 2.0)
    add = grows & (u < p_add)
    remove = ~seg_first & (u > 1 - 0.015)
    upgrade = grows & (rng.random(r) < 0.015) & ~add
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
    mrr = np.round(_PLAN_PRICE[plan] * seats * np.where(annual, 0.85, 1.0), 2)

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
            "month": _month_series(ms, month),
            "mrr": mrr,
            "plan": _lookup(_PLANS, plan),
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


def _activity_events(
    rng: np.random.Generator, w: dict, rows: dict, ev: _Events, ms: np.ndarray, mlen: np.ndarray
) -> None:
    """Product use, lifecycle emails, advocacy, from the paid months."""
    acc, month, tenure = rows["acc"], rows["month"], rows["tenure"]
    pers = w["persona"][acc]
    eng = w["eng"][acc]
    ad = w["adopted"][acc]
    fading = np.where(rows["to_churn"] <= 2, 0.45, 1.0)  # usage fades before churn
    users = w["users"][acc]
    base = ms[month]
    span = mlen[month]

    def emit(
        lam: np.ndarray, name: str, *, user_any: bool = True, channel: int = -1, campaign: int = -1
    ) -> None:
        k = rng.poisson(lam)
        g, _ = _expand(k)
        ts = base[g] + (rng.random(g.size) * span[g]).astype(np.int64)
        user = 1 + rng.integers(0, users[g]) if user_any else 1
        ev.add(acc[g], ts, name, user=user, channel=channel, campaign=campaign)

    act = eng * fading
    ghost = w["ghost"][acc]
    emit(np.where(ad, _P_LOGIN[pers] * act, np.where(ghost, 0.0, 2.0)), "login")
    emit(np.where(ad, _P_REPORT[pers] * act, 0.0), "report_created")
    emit(np.where(ad, 0.5 * act, 0.0), "dashboard_shared")
    emit(
        np.where(ad & (tenure < 3), 0.35 * users / users.max(initial=1) + 0.2, 0.0),
        "invite_sent",
        user_any=False,
    )
    emit(np.where(ad, np.minimum(0.15 + 0.12 * tenure, 2.0) * act, 0.0), "feature_used_advanced")
    emit(np.where(ghost, 0.0, 0.6 * np.exp(-tenure / 4.0) + 0.05), "help_center_search")
    emit(np.where(ghost, 0.0, 0.25), "settings_viewed")
    renew = ad & (tenure >= 1)
    emit(
        np.where(renew, 0.3, 0.0),
        "renewal_email_opened",
        user_any=False,
        channel=_CH["email"],
        campaign=_CAMP["renewal_reminders"],
    )
    # the first renewal of a lifetime always sends a receipt that gets opened
    second = np.flatnonzero(ad & ~rows["seg_first"] & np.r_[False, rows["seg_first"][:-1]])
    ev.add(
        acc[second],
        base[second] + (rng.random(second.size) * 3 * DAY).astype(np.int64),
        "renewal_email_opened",
        user=1,
        channel=_CH["email"],
        campaign=_CAMP["renewal_reminders"],
    )
    emit(
        np.where(renew, 0.4, 0.0),
        "changelog_viewed",
        channel=_CH["email"],
        campaign=_CAMP["product_updates"],
    )
    emit(
        np.where(renew & (pers == 2) & (tenure % 3 == 1), 0.6, 0.0),
        "account_review_meeting",
        user_any=False,
    )

    # advocacy: about half of the accounts that grew (they see the return), engaged ones more
    adv_acc = np.flatnonzero(w["expanded"])
    p_adv = _P_ADVOCATE[w["persona"][adv_acc]] * np.minimum(w["eng"][adv_acc], 1.5)
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
        g, _ = _expand(k)
        r = rows_adv[g]
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


def _anonymous_events(
    rng: np.random.Generator, n_anon: int, ev: _Events, t0: int, t_end: int
) -> None:
    """Visitors who never identified themselves: one to a few web touches each."""
    if n_anon <= 0:
        return
    first = t0 + (rng.random(n_anon) * (t_end - t0)).astype(np.int64)
    k = 1 + rng.poisson(1.2, n_anon)
    g, off = _expand(k)
    ts = first[g] + np.where(off == 0, 0, (rng.random(g.size) * 7 * DAY).astype(np.int64))
    kinds = np.array(
        [
            _EV[e]
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
    kind = kinds[_choice_rows(rng, np.tile([0.35, 0.25, 0.1, 0.12, 0.1, 0.08], (g.size, 1)))]
    chan_of = {
        _EV["search_click"]: _CH["organic_search"],
        _EV["ad_click"]: _CH["paid_search"],
        _EV["social_engagement"]: _CH["social"],
        _EV["blog_visit"]: _CH["organic_search"],
    }
    tch = np.full(g.size, _CH["direct"])
    for e, c in chan_of.items():
        tch[kind == e] = c
    ev.add(np.full(g.size, -1), ts, kind, channel=tch, campaign=_campaign_for(rng, tch), anon=g)


def _tickets(
    rng: np.random.Generator, w: dict, rows: dict, ms: np.ndarray, mlen: np.ndarray, t_end: int
) -> pl.DataFrame:
    acc, month, tenure = rows["acc"], rows["month"], rows["tenure"]
    pers = w["persona"][acc]
    lam = _P_TICKETS[pers] * np.where(tenure == 0, 1.8, 1.0) * w["eng"][acc] ** 0.3
    lam = np.where(w["ghost"][acc], 0.0, lam)
    k = rng.poisson(lam)
    g, _ = _expand(k)
    a, t, p = acc[g], tenure[g], pers[g]
    opened = ms[month[g]] + (rng.random(g.size) * mlen[month[g]]).astype(np.int64)
    how_to = 0.08 + 0.55 * np.exp(-t / 5.0)
    advanced = 0.04 + 0.26 * (1 - np.exp(-t / 8.0))
    probs = np.stack(
        [how_to, np.full(g.size, 0.2), np.full(g.size, 0.08), advanced, np.full(g.size, 0.1)],
        axis=1,
    )
    cat = _choice_rows(rng, probs / probs.sum(axis=1, keepdims=True))
    hours = _TICKET_HOURS[cat] * np.exp(rng.normal(0, 0.8, g.size)) * np.where(p == 2, 0.7, 1.0)
    resolved = opened + np.maximum((hours * HOUR).astype(np.int64), 300)
    resolved = np.where((rng.random(g.size) < 0.96) & (resolved < t_end), resolved, -1)
    sat_raw = 4.7 - 0.45 * np.log2(1 + hours / 6) + rng.normal(0, 0.7, g.size)
    sat = np.where(
        (rng.random(g.size) < 0.7) & (resolved >= 0), np.clip(np.round(sat_raw), 1, 5), -1
    )
    chan = _choice_rows(rng, _P_TICKET_CHANNEL[p])
    text_flat = [s for c in _TICKET_CATS for s in _TICKET_TEXT[c]]
    off = np.cumsum([0] + [len(_TICKET_TEXT[c]) for c in _TICKET_CATS])
    cnt = np.diff(off)
    text_idx = off[cat] + (rng.random(g.size) * cnt[cat]).astype(np.int64)
    o = np.lexsort((cat, a, opened))
    res = resolved[o]
    return pl.DataFrame(
        {
            "ticket_id": _ids("T", o.size, _width(o.size)),
            "account_id": w["ids"].gather(pl.Series(a[o])),
            "opened_at": _datetime(opened[o]),
            "resolved_at": _datetime(np.maximum(res, 0)).set(pl.Series(res < 0), None),
            "category": _lookup(_TICKET_CATS, cat[o]),
            "channel": _lookup(_TICKET_CHANNELS, chan[o]),
            "satisfaction": _nullable_int(sat[o]),
            "text": _lookup(text_flat, text_idx[o]),
        }
    )


def _surveys(
    rng: np.random.Generator, w: dict, rows: dict, ms: np.ndarray, mlen: np.ndarray
) -> pl.DataFrame:
    acc, month, tenure = rows["acc"], rows["month"], rows["tenure"]
    # more answers in the first month (the post-purchase survey), then a steady trickle
    p_answer = np.where(tenure == 0, 0.45, 0.10)
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
    stage = _choice_rows(rng, probs)
    churn_soon = rows["to_churn"][take] <= 2
    latent = (
        _STAGE_NPS[stage]
        + 1.1 * np.log(w["eng"][a]) / 0.45 * 0.5
        + np.where(churn_soon, -1.8, 0.0)
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
    for i, st in enumerate(_STAGES):
        for j in range(3):
            offs[i, j] = len(flat)
            cnts[i, j] = len(_COMMENTS[st][j])
            flat.extend(_COMMENTS[st][j])
    cidx = offs[stage, cls] + (rng.random(r) * cnts[stage, cls]).astype(np.int64)
    has_comment = (rng.random(r) < 0.55) | (score < 0)
    cidx = np.where(has_comment, cidx, -1)
    tp = np.where(rng.random(r) < 0.6, stage, -1)
    responded = ms[month[take]] + (rng.random(r) * mlen[month[take]]).astype(np.int64)
    o = np.lexsort((stage, a, responded))
    return pl.DataFrame(
        {
            "response_id": _ids("R", o.size, _width(o.size)),
            "account_id": w["ids"].gather(pl.Series(a[o])),
            "responded_at": _datetime(responded[o]),
            "score": _nullable_int(score[o]),
            "stage": _lookup(_STAGES, stage[o]),
            "touchpoint": _lookup(_STAGE_TOUCHPOINT, tp[o]),
            "comment": _lookup(flat, cidx[o]),
        }
    )


def _marketing(rng: np.random.Generator, w: dict, months: int, ms: np.ndarray) -> pl.DataFrame:
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
    for c in CHANNELS:
        if c == "direct":
            continue
        ci = _CH[c]
        for camp, share in _CAMPAIGNS[c]:
            base = (smooth[:, ci] * _CAC[c] + 150.0) * share  # a floor: campaigns run every month
            spend = np.round(base * np.exp(rng.normal(0, 0.12, months)), 2)
            if c in _CPM:
                imp = np.round(spend / _CPM[c] * 1000 * np.exp(rng.normal(0, 0.1, months))).astype(
                    np.int64
                )
                clk = rng.binomial(imp, _CTR[c] * (1.6 if camp == "brand_search" else 1.0))
            else:  # content, referral and partner programmes have no impressions to count
                imp = np.full(months, -1)
                clk = np.full(months, -1)
            out["month"].append(np.arange(months))
            out["channel"].append(np.full(months, ci))
            out["campaign"].append(np.full(months, _CAMP[camp]))
            out["spend"].append(spend)
            out["impressions"].append(imp)
            out["clicks"].append(clk)
    cols = {k: np.concatenate(v) for k, v in out.items()}
    order = np.lexsort((cols["campaign"], cols["channel"], cols["month"]))
    return pl.DataFrame(
        {
            "month": _month_series(ms, cols["month"][order]),
            "channel": _lookup(CHANNELS, cols["channel"][order]),
            "campaign": _lookup(CAMPAIGNS, cols["campaign"][order]),
            "spend": cols["spend"][order].astype(np.float64),
            "impressions": _nullable_int(cols["impressions"][order]),
            "clicks": _nullable_int(cols["clicks"][order]),
        }
    )


def _search_queries(rng: np.random.Generator, months: int, ms: np.ndarray) -> pl.DataFrame:
    """A daily search-console export; branded queries grow faster than the rest."""
    days = (ms[-1] - ms[0]) // DAY
    d = np.arange(days)
    q = np.arange(len(_QUERIES))
    dd, qq = np.meshgrid(d, q, indexing="ij")
    dd, qq = dd.ravel(), qq.ravel()
    base = np.array([x[2] for x in _QUERIES])[qq]
    growth = np.array([x[3] for x in _QUERIES])[qq]
    branded = np.array([x[1] for x in _QUERIES])[qq]
    weekday = ((ms[0] // DAY + dd + 3) % 7) < 5  # 1970-01-01 was a Thursday
    lam = base * (1 + growth * dd / 365.0) * np.where(weekday, 1.15, 0.65)
    imp = rng.poisson(lam)
    pos = np.clip(
        np.array([x[4] for x in _QUERIES])[qq] * np.exp(rng.normal(0, 0.15, dd.size)), 1.0, 60.0
    )
    pos = np.round(pos, 1)
    ctr = np.clip(np.where(branded, 0.55, 0.32) / pos**0.9, 0, 0.9)
    clicks = rng.binomial(imp, ctr)
    keep = imp > 0  # the export lists only queries that were shown
    date = (ms[0] // DAY + dd[keep]).astype(np.int32)
    return pl.DataFrame(
        {
            "date": pl.Series(date).cast(pl.Date),
            "query": _lookup([x[0] for x in _QUERIES], qq[keep]),
            "clicks": clicks[keep].astype(np.int64),
            "impressions": imp[keep].astype(np.int64),
            "position": pos[keep],
        }
    )


# ------------------------------------------------------------------ frames and files
def _width(n: int) -> int:
    return max(6, len(str(n)))


def _events_frame(
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
    anon_ids = _ids("V", max(n_anon, 1), _width(n_anon))
    acc = e["acc"]
    df = pl.DataFrame(
        {
            "timestamp": _datetime(e["ts"]),
            "account_id": acc_ids.gather(pl.Series(np.where(acc >= 0, acc, 0))).set(
                pl.Series(acc < 0), None
            ),
            "anonymous_id": anon_ids.gather(pl.Series(np.where(e["anon"] >= 0, e["anon"], 0))).set(
                pl.Series(e["anon"] < 0), None
            ),
            "user_num": e["user"],
            "event": _lookup(RAW_EVENTS, e["event"]),
            "channel": _lookup(CHANNELS, e["channel"]),
            "campaign": _lookup(CAMPAIGNS, e["campaign"]),
            "variant": _lookup(["control", "treatment"], e["variant"]),
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


def _accounts_frame(w: dict) -> pl.DataFrame:
    n = int(w["n"])
    ids = w["ids"]
    a, b, c = w["name_parts"]
    name = (
        pl.Series(_NAME_A).gather(pl.Series(a))
        + pl.Series(_NAME_B).gather(pl.Series(b))
        + " "
        + pl.Series(_NAME_C).gather(pl.Series(c))
    )
    signup = w["signup"]
    return pl.DataFrame(
        {
            "account_id": ids,
            "first_seen_at": _datetime(w["first_seen"]),
            "signup_at": _datetime(signup).set(pl.Series(~w["signed"]), None),
            "name": name,
            "industry": _lookup(_INDUSTRIES, w["industry"]),
            "company_size": w["company_size"],
            "country": _lookup(_COUNTRIES, w["country"]),
            "role": pl.Series(w["role"].astype(str)),
            "acquisition_channel": _lookup(CHANNELS, w["channel"]),
            "persona": pl.Series([None] * n, dtype=pl.String),
        }
    )


def _month_series(ms: np.ndarray, idx: np.ndarray) -> pl.Series:
    """Month indexes to dates (the 1st of each month)."""
    return pl.Series((ms[np.asarray(idx)] // DAY).astype(np.int32)).cast(pl.Date)


def _write(df: pl.DataFrame, out: Path, name: str, fmt: str) -> None:
    for ext in ("csv", "csv.gz", "parquet"):  # one file per table: remove stale siblings
        (out / f"{name}.{ext}").unlink(missing_ok=True)
    path = out / f"{name}.{fmt}"
    if fmt == "parquet":
        # fixed settings, so the bytes depend on the data only
        df.write_parquet(path, compression="zstd", compression_level=3, statistics=True)
        return
    text = df.with_columns(
        [
            pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            for c, t in df.schema.items()
            if isinstance(t, pl.Datetime)
        ]
        + [
            pl.col(c).dt.strftime("%Y-%m")
            for c, t in df.schema.items()
            if t == pl.Date and name in ("subscriptions", "marketing")
        ]
    )
    text.write_csv(path, compression="gzip" if fmt == "csv.gz" else "uncompressed")


def _month_end(month: np.datetime64) -> str:
    return str((month + 1).astype("datetime64[D]") - 1)


def _client_yaml(folder: str, start: str, months: int) -> str:
    """The client.yaml written beside the synthetic tables (loadable by load_client_config)."""
    m0 = np.datetime64(start, "M")
    end = m0 + months - 1
    inside = _month_end(end)  # a deadline at the end of the data
    after = _month_end(end + 3)  # a deadline one quarter after it
    mid = str((m0 + months // 2).astype("datetime64[D]"))
    return f"""# Synthetic client written by `journey synth` (journeylib.sources.synth). Edit freely.
client: {json.dumps(folder)}
description: Synthetic B2B SaaS analytics vendor "Acme Analytics" ({months} months of made-up data).
journey: b2b_saas_8_stage
currency: USD
timezone: UTC
period: {{start: "{start}", end: "{str(end)}"}}
gross_margin: 0.8
activation: {{event: first_report_created, within_days: 14}}
first_value: {{event: first_report_created}}
engagement:
  weights:
    {{login: 1, report_created: 3, dashboard_shared: 4, invite_sent: 5, feature_used_advanced: 4}}
branded_terms: [acme]
attribution_window_days: 90
personas:   # first match wins; accounts.persona is empty in the synthetic data
  - id: enterprise_it
    label: Enterprise IT lead
    description: >-
      IT director or CTO of a company with 500+ employees; buys through sales and a security review.
    match: {{company_size: {{min: 500}}}}
    goals: [consolidate reporting tools, meet security and compliance needs]
    challenges: [long security review, integrating with existing systems]
    buying_behaviour: committee decision after demos and a sales call; slow but loyal
    preferred_channels: [partner, events, paid_search]
  - id: mid_market_ops
    label: Mid-market operations manager
    description: >-
      Runs operations at a company of 51-499 employees; evaluates with a trial and a demo.
    match: {{company_size: {{min: 51, max: 499}}}}
    goals: [one view of the pipeline, less time on manual reports]
    challenges: [data spread over many tools, small team]
    buying_behaviour: trial first, then a demo with the team lead
    preferred_channels: [organic_search, paid_search, partner]
  - id: smb_founder
    label: SMB founder
    description: founder or CEO of a company of up to 50 people; self-serve, price sensitive.
    match: {{company_size: {{max: 50}}}}
    goals: [see the numbers that matter quickly, spend little]
    challenges: [no analyst on the team, little time to set up tools]
    buying_behaviour: self-serve trial and card checkout within days
    preferred_channels: [organic_search, social, referral]
milestones:
  - {{id: onboarding_completed, event: onboarding_completed, label: Onboarding completed}}
  - {{id: first_value, event: first_report_created, label: First report created}}
  - {{id: referral, event: referral_sent, label: Referred a peer}}
goals:
  - id: faster_value
    label: Cut time to first value with guided setup
    metric: ttfv_days_median
    target: 7
    start: "{start}-01"
    deadline: {after}
  - id: more_activation
    label: More sign-ups create their first report within 14 days
    metric: activation_rate
    target: 0.25
    start: "{start}-01"
    deadline: {inside}
  - id: smb_churn
    label: Lower monthly logo churn of SMB founders
    metric: logo_churn_rate
    target: 0.03
    segment: {{persona: smb_founder}}
    start: "{mid}"
    deadline: {after}
"""
