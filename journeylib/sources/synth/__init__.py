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
from pathlib import Path
from typing import Literal, get_args

import numpy as np
import polars as pl

from journeylib.config import parse_month
from journeylib.errors import JourneyError, check_choice
from journeylib.sources.synth.accounts import accounts_frame, draw_accounts, draw_subscriptions
from journeylib.sources.synth.arrays import EventRows
from journeylib.sources.synth.events import (
    add_activity_events,
    add_anonymous_events,
    add_pre_purchase_events,
    events_frame,
)
from journeylib.sources.synth.parameters import CHANNELS, PERSONAS, RAW_EVENTS, UNMAPPED_EVENTS
from journeylib.sources.synth.tables import (
    draw_marketing,
    draw_search_queries,
    draw_surveys,
    draw_tickets,
)

__all__ = ["synthesize", "RAW_EVENTS", "UNMAPPED_EVENTS", "PERSONAS", "CHANNELS"]

Format = Literal["csv", "csv.gz", "parquet"]


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
        found = f"accounts={accounts}, months={months}"
        raise _bad_option(
            "nothing to generate", "accounts >= 1 and months >= 1", found, "give positive numbers"
        )
    check_choice(
        "output format", fmt, get_args(Format), where="synth", fix="use one of those formats"
    )
    try:
        start = parse_month(start)
    except ValueError:
        raise _bad_option(
            "bad start month",
            "a month written YYYY-MM",
            repr(start),
            "give the first month as YYYY-MM",
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

    world = draw_accounts(rng_acc, accounts, months, ms)
    ev = EventRows()
    add_pre_purchase_events(rng_pre, world, ev, ms)
    subs, rows = draw_subscriptions(rng_sub, world, months, ms, ev)
    add_activity_events(rng_act, world, rows, ev, ms, mlen)
    add_anonymous_events(rng_an, n_anon, ev, t0, t_end)
    tickets = draw_tickets(rng_tk, world, rows, ms, mlen, t_end)
    surveys = draw_surveys(rng_sv, world, rows, ms, mlen)
    marketing = draw_marketing(rng_mk, world, months, ms)
    search = draw_search_queries(rng_sq, months, ms)
    events = events_frame(ev.concat(), world, t0, t_end, accounts, n_anon)
    accounts_df = accounts_frame(world)

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


def _bad_option(what: str, expected: str, found: str, fix: str) -> JourneyError:
    """The error for an argument of :func:`synthesize` (an option of ``journey synth``)."""
    return JourneyError(what, where="synth", expected=expected, found=found, fix=fix)


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
