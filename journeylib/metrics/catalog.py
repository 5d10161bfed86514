"""The metric catalogue: every metric's id, label, unit, stage and definition.

SMART goals in ``client.yaml`` name metrics from here; the report's
definitions appendix prints it. ``stage`` uses the eight-stage B2B model;
:func:`stage_for_template` translates it to the five-stage model.

Labels and definitions are English source text, marked with
:func:`~journeylib.i18n.N_` so ``pybabel extract`` puts them in the message
catalog; they stay English here (``metrics.json``, the command line) and are
translated where a reader sees them: the report's appendix
(:func:`journeylib.report.summary.definitions`) and the journey map's KPI lane.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from journeylib.i18n import N_

__all__ = ["Metric", "CATALOG", "get_metric", "stage_for_template", "catalog_rows"]

Unit = Literal["fraction", "currency", "days", "hours", "months", "count", "nps", "ratio", "score"]


@dataclass(frozen=True)
class Metric:
    """One catalogue entry."""

    id: str
    label: str
    unit: Unit
    stage: str
    definition: str
    higher_is_better: bool = True


_M = Metric
CATALOG: dict[str, Metric] = {
    m.id: m
    for m in [
        # ---- awareness
        _M(
            "visitors",
            N_("Anonymous visitors"),
            "count",
            "awareness",
            N_(
                "Distinct anonymous visitor ids with at least one event in the period and no account id: "
                "people who reached the website or product before identifying themselves. They are counted "
                "apart from accounts and never enter the stage funnel."
            ),
        ),
        _M(
            "website_visitors",
            N_("Website visitors"),
            "count",
            "awareness",
            N_("Same as anonymous visitors: distinct anonymous ids seen in the period."),
        ),
        _M(
            "branded_search_share",
            N_("Branded search share"),
            "fraction",
            "awareness",
            N_(
                "Clicks on search queries that contain one of the client's branded terms (case-insensitive "
                "substring), divided by all search clicks in the period. A rising share means more people "
                "already know the brand by name. Null when client.yaml lists no branded terms."
            ),
        ),
        _M(
            "ctr",
            N_("Click-through rate"),
            "fraction",
            "awareness",
            N_(
                "Marketing clicks divided by impressions, summed over the rows where both are present, "
                "per channel, campaign or overall."
            ),
        ),
        # ---- decision
        _M(
            "cac",
            N_("Customer acquisition cost"),
            "currency",
            "decision",
            N_(
                "Marketing and sales spend in the period divided by the customers who paid for the first "
                "time in the period (the 'new' MRR movement; reactivated customers are not new). Null when "
                "there were no new customers."
            ),
            higher_is_better=False,
        ),
        _M(
            "cac_payback_months",
            N_("CAC payback"),
            "months",
            "decision",
            N_(
                "Months of gross margin needed to earn back the acquisition cost: CAC divided by the mean "
                "first-month MRR of the period's new customers times the gross margin."
            ),
            higher_is_better=False,
        ),
        _M(
            "new_customers",
            N_("New customers"),
            "count",
            "decision",
            N_("Accounts whose first ever paid month falls in the period."),
        ),
        _M(
            "stage_conversion",
            N_("Stage conversion"),
            "fraction",
            "decision",
            N_(
                "Share of the accounts that reached a journey stage (or any later one) that also reached the "
                "next stage. As a goal metric it is the conversion from the first stage to the last."
            ),
        ),
        # ---- onboarding
        _M(
            "activation_rate",
            N_("Activation rate"),
            "fraction",
            "onboarding",
            N_(
                "Share of the period's sign-ups that performed the activation event at or after sign-up and "
                "no later than the configured number of days after it (the bound is inclusive). A signup "
                "cohort is complete when every member's window ends no later than the latest raw event in "
                "the data (derived rows such as a subscription month's first instant do not count)."
            ),
        ),
        _M(
            "ttfv_days_median",
            N_("Time to first value (median)"),
            "days",
            "onboarding",
            N_(
                "Median days from sign-up to the first first-value event, over the period's sign-ups that "
                "reached it. Quantiles interpolate linearly between order statistics."
            ),
            higher_is_better=False,
        ),
        _M(
            "ttfv_days_p75",
            N_("Time to first value (p75)"),
            "days",
            "onboarding",
            N_("75th percentile of days from sign-up to first value."),
            higher_is_better=False,
        ),
        _M(
            "ttfv_days_p90",
            N_("Time to first value (p90)"),
            "days",
            "onboarding",
            N_("90th percentile of days from sign-up to first value."),
            higher_is_better=False,
        ),
        _M(
            "ttfv_reached_share",
            N_("Reached first value"),
            "fraction",
            "onboarding",
            N_("Share of the period's sign-ups that reached the first-value event at all."),
        ),
        # ---- adoption
        _M(
            "engagement_score",
            N_("Engagement score"),
            "score",
            "adoption",
            N_(
                "A paying account's weighted count of events in a month (weights from client.yaml), expressed "
                "as a percentile rank among the accounts paying that month (average rank of ties ÷ number "
                "of accounts × 100, so the top account scores 100); as a single number, the mean weighted "
                "event count per paying account in the last month."
            ),
        ),
        # ---- retention
        _M(
            "mrr",
            N_("Monthly recurring revenue"),
            "currency",
            "retention",
            N_(
                "Sum of every account's MRR in the month (an account with no row pays 0, also in months "
                "after the subscriptions table ends: set the period in client.yaml when events run later)."
            ),
        ),
        _M(
            "customers",
            N_("Paying customers"),
            "count",
            "retention",
            N_("Accounts with MRR above zero in the month."),
        ),
        _M(
            "net_new_mrr",
            N_("Net new MRR"),
            "currency",
            "retention",
            N_(
                "New + expansion + reactivation + contraction + churned MRR of the month; equals MRR(m) − MRR(m−1)."
            ),
        ),
        _M(
            "logo_churn_rate",
            N_("Logo churn rate"),
            "fraction",
            "retention",
            N_(
                "Customers who paid in the previous month and pay nothing this month, divided by the customers "
                "of the previous month. New and returning customers cannot hide it."
            ),
            higher_is_better=False,
        ),
        _M(
            "churn_rate_simple",
            N_("Churn rate (guides' formula)"),
            "fraction",
            "retention",
            N_(
                "(customers at the start of the month − customers at its end) / customers at the start, as the "
                "journey-mapping guides give it. New and reactivated customers offset churn in it, so it can be "
                "negative; it is shown beside the logo churn rate, never instead."
            ),
            higher_is_better=False,
        ),
        _M(
            "gross_mrr_churn_rate",
            N_("Gross MRR churn rate"),
            "fraction",
            "retention",
            N_(
                "MRR lost to contraction and churn in the month, divided by the previous month's MRR."
            ),
            higher_is_better=False,
        ),
        _M(
            "nrr_1m",
            N_("Net revenue retention (monthly)"),
            "fraction",
            "retention",
            N_(
                "This month's MRR of last month's customers divided by their MRR last month (expansion counts, "
                "new customers do not)."
            ),
        ),
        _M(
            "grr_1m",
            N_("Gross revenue retention (monthly)"),
            "fraction",
            "retention",
            N_(
                "Like monthly NRR but each customer's MRR is capped at last month's: only losses count, so it "
                "never exceeds 1."
            ),
        ),
        _M(
            "nrr_12m",
            N_("Net revenue retention (12 months)"),
            "fraction",
            "retention",
            N_(
                "MRR in the period's last month of the customers who paid twelve months earlier, divided by "
                "their MRR then. Null with less than thirteen months of history."
            ),
        ),
        _M(
            "grr_12m",
            N_("Gross revenue retention (12 months)"),
            "fraction",
            "retention",
            N_("The twelve-month NRR with each customer's MRR capped at its starting value."),
        ),
        _M(
            "resolution_hours_median",
            N_("Resolution time (median)"),
            "hours",
            "retention",
            N_(
                "Median hours from a ticket's opening to its resolution, over tickets opened in the period and "
                "resolved."
            ),
            higher_is_better=False,
        ),
        _M(
            "resolution_hours_p90",
            N_("Resolution time (p90)"),
            "hours",
            "retention",
            N_("90th percentile of ticket resolution hours."),
            higher_is_better=False,
        ),
        # ---- expansion
        _M(
            "expansion_mrr",
            N_("Expansion MRR"),
            "currency",
            "expansion",
            N_(
                "MRR added by customers who paid more than in the previous month, summed over the period."
            ),
        ),
        _M(
            "arpa",
            N_("Average revenue per account"),
            "currency",
            "expansion",
            N_("MRR divided by paying customers in the month."),
        ),
        _M(
            "quick_ratio",
            N_("SaaS quick ratio"),
            "ratio",
            "expansion",
            N_(
                "MRR gained (new + expansion + reactivation) divided by MRR lost (contraction + churn) in the "
                "month; null when nothing was lost. Above 4 is usually read as efficient growth."
            ),
        ),
        _M(
            "ltv",
            N_("Customer lifetime value"),
            "currency",
            "expansion",
            N_(
                "Mean ARPA over the period's months × gross margin ÷ mean monthly logo churn rate; null when "
                "churn is zero or undefined."
            ),
        ),
        # ---- advocacy
        _M(
            "nps",
            N_("Net Promoter Score"),
            "nps",
            "advocacy",
            N_(
                "100 × (promoters − detractors) / responses with a score, over responses dated in the period; "
                "promoters answer 9–10, passives 7–8, detractors 0–6. Ranges from −100 to 100."
            ),
        ),
        _M(
            "referral_rate",
            N_("Referral rate"),
            "fraction",
            "advocacy",
            N_(
                "Paying accounts that performed the referral milestone event in the month, divided by the "
                "month's paying accounts; as a single number, over the period's last month."
            ),
        ),
    ]
}

_TO_FIVE = {
    "awareness": "awareness",
    "consideration": "consideration",
    "decision": "conversion",
    "onboarding": "conversion",
    "adoption": "retention",
    "retention": "retention",
    "expansion": "retention",
    "advocacy": "advocacy",
}


def get_metric(metric_id: str) -> Metric | None:
    """The catalogue entry of ``metric_id``, or None.

    Examples:
        >>> get_metric("nps").unit
        'nps'
    """
    return CATALOG.get(metric_id)


def stage_for_template(metric_id: str, stage_ids: list[str]) -> str | None:
    """The stage of ``stage_ids`` that the metric moves, or None when the template has no such stage.

    Examples:
        >>> stage_for_template("cac", ["awareness", "consideration", "conversion", "retention", "advocacy"])
        'conversion'
    """
    m = CATALOG.get(metric_id)
    if m is None:
        return None
    if m.stage in stage_ids:
        return m.stage
    five = _TO_FIVE.get(m.stage)
    return five if five in stage_ids else None


def catalog_rows() -> list[dict[str, str]]:
    """The catalogue as plain rows (for the report's definitions appendix)."""
    return [
        {"id": m.id, "label": m.label, "unit": m.unit, "stage": m.stage, "definition": m.definition}
        for m in CATALOG.values()
    ]
