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
* payment is followed by onboarding (a data source may already be connected
  in the trial, see below); the first report (the activation and first-value
  event) comes days later, by persona. Billing starts on the first
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

Three signals are planted for the product analytics of analytics.md to find:

* **an early event that predicts retention** (§9, the activation finder):
  about a fifth of the trial users are a good fit; 95 % of them connect a data
  source (``integration_connected``) within a few days of signing up, in the
  trial; those always start a checkout and almost all buy, get value and stay
  (0.15 × the usual churn hazard). The others rarely connect in the trial and
  buy less often; half of their adopters connect during onboarding (churn
  hazard × 0.7) and the adopters who never connect mostly leave within two
  months. So "integration_connected within 30 (or 14) days" ranks first, ahead
  of the payment events and of the configured activation event
  (``first_report_created``): the report can suggest a better one.
* **a usage drop before churn** (§10, account health): in the last three paid
  months before a churn, use fades (× 0.85, 0.6, then 0.25 in the last month),
  the account opens 3.5 times as many tickets, answers surveys more often and
  about 2.5 points lower, and often removes seats in its last two months; the
  health score's backtested ROC AUC is about 0.85–0.9.
* **a one-month spike in one KPI** (§11, anomaly flags): in the third month
  before the data's end (2025-10 in the 12-month demo), a trade show of the
  ``events`` channel (campaign ``saas_summit``) costs three times a usual
  month's whole marketing budget and brings no extra customers, so that
  month's CAC jumps (robust z about 10 or more). The other series keep their
  sampling noise, which the six-month robust z also flags now and then.

Scale: about 35 events per account over 12 months and about 52 over 24 months
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
from journeylib.i18n import LANGUAGES, N_, gettext, use_language
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
    language: str = "en",
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
        language: the client's language (``en``, ``ar``, ``zh``): its
            client.yaml texts are written in it and ``language:`` is set.

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
    check_choice("language", language, LANGUAGES, where="synth", fix="use en, ar or zh")
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
        _client_yaml(out.resolve().name, start, months, language), encoding="utf-8"
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


# The synthetic client's own texts (client.yaml), marked for the catalogs: a demo in
# another language writes them translated (f-string fields are not extracted).


# The synthetic client's own texts (client.yaml), marked for the catalogs: a demo in
# another language writes them translated (f-string fields are not extracted).
_TEXT_00 = N_("Enterprise IT lead")
_TEXT_01 = N_(
    "IT director or CTO of a company with 500+ employees; buys through sales and a security review."
)
_TEXT_02 = N_("consolidate reporting tools")
_TEXT_03 = N_("meet security and compliance needs")
_TEXT_04 = N_("long security review")
_TEXT_05 = N_("integrating with existing systems")
_TEXT_06 = N_("committee decision after demos and a sales call; slow but loyal")
_TEXT_07 = N_("Mid-market operations manager")
_TEXT_08 = N_(
    "Runs operations at a company of 51-499 employees; evaluates with a trial and a demo."
)
_TEXT_09 = N_("one view of the pipeline")
_TEXT_10 = N_("less time on manual reports")
_TEXT_11 = N_("data spread over many tools")
_TEXT_12 = N_("small team")
_TEXT_13 = N_("trial first, then a demo with the team lead")
_TEXT_14 = N_("SMB founder")
_TEXT_15 = N_("founder or CEO of a company of up to 50 people; self-serve, price sensitive.")
_TEXT_16 = N_("see the numbers that matter quickly")
_TEXT_17 = N_("spend little")
_TEXT_18 = N_("no analyst on the team")
_TEXT_19 = N_("little time to set up tools")
_TEXT_20 = N_("self-serve trial and card checkout within days")
_TEXT_21 = N_("Onboarding completed")
_TEXT_22 = N_("First report created")
_TEXT_23 = N_("Referred a peer")
_TEXT_24 = N_("Cut time to first value with guided setup")
_TEXT_25 = N_("More sign-ups create their first report within 14 days")
_TEXT_26 = N_("Lower monthly logo churn of SMB founders")


def _client_yaml(folder: str, start: str, months: int, language: str = "en") -> str:
    """The client.yaml written beside the synthetic tables (loadable by load_client_config).

    With a ``language`` other than English, the client's own texts (its
    description, personas, milestones and goals) are written in it, from the
    message catalogs, and ``language:`` is set: a demo in Arabic or Chinese
    reads as a client of that language would write it. English is unchanged.
    """
    m0 = np.datetime64(start, "M")
    end = m0 + months - 1
    inside = _month_end(end)  # a deadline at the end of the data
    after = _month_end(end + 3)  # a deadline one quarter after it
    mid = str((m0 + months // 2).astype("datetime64[D]"))
    with use_language(language):

        def t(text: str) -> str:  # a text of the client, quoted when translated
            return text if language == "en" else json.dumps(gettext(text), ensure_ascii=False)

        # (a folded block, "description: >-", takes the text as it is: gettext, unquoted)

        def ts(*texts: str) -> str:  # a flow list of such texts
            return "[" + ", ".join(t(x) for x in texts) + "]"

        description = (
            f'Synthetic B2B SaaS analytics vendor "Acme Analytics" ({months} months of made-up data).'
            if language == "en"
            else json.dumps(
                gettext(
                    'Synthetic B2B SaaS analytics vendor "Acme Analytics" '
                    "({months} months of made-up data)."
                ).format(months=months),
                ensure_ascii=False,
            )
        )
        language_line = "" if language == "en" else f"language: {language}\n"
        return f"""# Synthetic client written by `journey synth` (journeylib.sources.synth). Edit freely.
client: {json.dumps(folder)}
description: {description}
journey: b2b_saas_8_stage
{language_line}currency: USD
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
    label: {t(_TEXT_00)}
    description: >-
      {gettext(_TEXT_01)}
    match: {{company_size: {{min: 500}}}}
    goals: {ts(_TEXT_02, _TEXT_03)}
    challenges: {ts(_TEXT_04, _TEXT_05)}
    buying_behaviour: {t(_TEXT_06)}
    preferred_channels: [partner, events, paid_search]
  - id: mid_market_ops
    label: {t(_TEXT_07)}
    description: >-
      {gettext(_TEXT_08)}
    match: {{company_size: {{min: 51, max: 499}}}}
    goals: {ts(_TEXT_09, _TEXT_10)}
    challenges: {ts(_TEXT_11, _TEXT_12)}
    buying_behaviour: {t(_TEXT_13)}
    preferred_channels: [organic_search, paid_search, partner]
  - id: smb_founder
    label: {t(_TEXT_14)}
    description: {t(_TEXT_15)}
    match: {{company_size: {{max: 50}}}}
    goals: {ts(_TEXT_16, _TEXT_17)}
    challenges: {ts(_TEXT_18, _TEXT_19)}
    buying_behaviour: {t(_TEXT_20)}
    preferred_channels: [organic_search, social, referral]
milestones:
  - {{id: onboarding_completed, event: onboarding_completed, label: {t(_TEXT_21)}}}
  - {{id: first_value, event: first_report_created, label: {t(_TEXT_22)}}}
  - {{id: referral, event: referral_sent, label: {t(_TEXT_23)}}}
goals:
  - id: faster_value
    label: {t(_TEXT_24)}
    metric: ttfv_days_median
    target: 7
    start: "{start}-01"
    deadline: {after}
  - id: more_activation
    label: {t(_TEXT_25)}
    metric: activation_rate
    target: 0.25
    start: "{start}-01"
    deadline: {inside}
  - id: smb_churn
    label: {t(_TEXT_26)}
    metric: logo_churn_rate
    target: 0.03
    segment: {{persona: smb_founder}}
    start: "{mid}"
    deadline: {after}
"""
