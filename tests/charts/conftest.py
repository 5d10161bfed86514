"""Small, realistic result frames for the chart tests (hand-made, like the metric outputs)."""

from __future__ import annotations

from typing import Any

import polars as pl
import pytest

from journeylib.analysis import JourneyMapData
from journeylib.charts import (
    chart_activation,
    chart_anomalies,
    chart_attribution,
    chart_cac_by_channel,
    chart_correlation,
    chart_day_in_life,
    chart_funnel_breakdown,
    chart_health_backtest,
    chart_journey_map,
    chart_lifecycle,
    chart_milestone_retention,
    chart_milestone_times,
    chart_mrr_bridge,
    chart_mrr_movements,
    chart_nps_over_tenure,
    chart_nrr_grr,
    chart_onboarding_map,
    chart_opportunity_map,
    chart_ordered_funnel,
    chart_paths,
    chart_persona_comparison,
    chart_persona_maps,
    chart_retention_breakdown,
    chart_retention_heatmap,
    chart_service_blueprint,
    chart_stage_funnel,
    chart_stickiness,
    chart_ticket_mix,
    chart_touchpoint_flow,
)

STAGE_IDS = [
    "awareness",
    "consideration",
    "decision",
    "onboarding",
    "adoption",
    "retention",
    "expansion",
    "advocacy",
]
STAGE_LABELS = [
    "Awareness",
    "Consideration",
    "Decision",
    "Onboarding",
    "Adoption",
    "Retention",
    "Expansion",
    "Advocacy",
]
REACHED = [4200, 1830, 610, 540, 415, 352, 96, 41]


@pytest.fixture(scope="session")
def stages() -> pl.DataFrame:
    conv = [None] + [REACHED[i] / REACHED[i - 1] for i in range(1, 8)]
    days = [None, 6.5, 11.2, 0.8, 9.0, 31.5, 64.0, 120.3]
    return pl.DataFrame(
        {
            "id": STAGE_IDS,
            "label": STAGE_LABELS,
            "reached": REACHED,
            "conversion_from_previous": conv,
            "median_days_from_previous": days,
        }
    )


@pytest.fixture(scope="session")
def funnel_steps() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "step": [1, 2, 3, 4],
            "event": ["signed_up", "workspace_created", "teammate_invited", "project_completed"],
            "count": [540, 470, 260, 180],
            "conversion": [1.0, 470 / 540, 260 / 540, 180 / 540],
            "conversion_from_previous": [None, 470 / 540, 260 / 470, 180 / 260],
            "median_seconds_to_convert": [None, 540.0, 86400.0 * 1.5, 86400.0 * 4.2],
        }
    )


@pytest.fixture(scope="session")
def funnel_variants() -> pl.DataFrame:
    rows = []
    for variant, rates in {
        "control": [1.0, 0.84, 0.45, 0.30],
        "guided": [1.0, 0.90, 0.55, 0.38],
    }.items():
        for i, (ev, r) in enumerate(
            zip(
                ["signed_up", "workspace_created", "teammate_invited", "project_completed"],
                rates,
                strict=True,
            )
        ):
            n = 270
            half = 1.96 * (r * (1 - r) / n) ** 0.5
            rows.append(
                {
                    "variant": variant,
                    "step": i + 1,
                    "event": ev,
                    "count": round(r * n),
                    "conversion": r,
                    "ci_low": max(r - half, 0),
                    "ci_high": min(r + half, 1),
                }
            )
    return pl.DataFrame(rows)


@pytest.fixture(scope="session")
def transitions() -> pl.DataFrame:
    pairs = [
        ("website", "pricing_page", 820),
        ("website", "blog", 400),
        ("blog", "website", 300),
        ("pricing_page", "trial_signup", 510),
        ("pricing_page", "website", 120),
        ("trial_signup", "onboarding_email", 480),
        ("onboarding_email", "product_tour", 350),
        ("product_tour", "support_chat", 90),
        ("product_tour", "checkout", 260),
        ("support_chat", "checkout", 40),
        ("checkout", "renewal", 200),
    ]
    df = pl.DataFrame(pairs, schema=["from", "to", "count"], orient="row")
    return df.with_columns(share=pl.col("count") / pl.col("count").sum().over("from"))


@pytest.fixture(scope="session")
def retention_long() -> pl.DataFrame:
    rows = []
    cohorts = ["2024-01", "2024-02", "2024-03", "2024-04", "2024-05", "2024-06"]
    for ci, c in enumerate(cohorts):
        size = 120 + 17 * ci
        for k in range(len(cohorts) - ci):
            rate = 1.0 if k == 0 else max(0.0, 0.62 * 0.9 ** (k - 1) - 0.02 * ci)
            rows.append(
                {
                    "cohort": c,
                    "size": size,
                    "k": k,
                    "rate": rate,
                    "logo_retention": rate,
                    "nrr": 1.0 + 0.03 * k - 0.01 * ci,
                }
            )
    return pl.DataFrame(rows)


@pytest.fixture(scope="session")
def revenue_months() -> pl.DataFrame:
    months = [f"2024-{m:02d}" for m in range(2, 13)]
    rows, mrr = [], 10_000.0
    for i, m in enumerate(months):
        new, exp, rea = 1500.0 + 90 * i, 400.0 + 30 * i, 100.0 * (i % 3)
        con, chu = -(200.0 + 10 * i), -(650.0 + 45 * i)
        net = new + exp + rea + con + chu
        mrr += net
        rows.append(
            {
                "month": m,
                "new_mrr": new,
                "expansion_mrr": exp,
                "reactivation_mrr": rea,
                "contraction_mrr": con,
                "churned_mrr": chu,
                "net_new_mrr": net,
                "mrr": mrr,
                "nrr_1m": (mrr - net + exp + con + chu) / (mrr - net),
                "grr_1m": (mrr - net + con + chu) / (mrr - net),
            }
        )
    return pl.DataFrame(rows)


@pytest.fixture(scope="session")
def by_channel() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "channel": ["paid_search", "paid_social", "organic_search", "referral", "events"],
            "spend": [42_000.0, 18_500.0, 6_000.0, 2_500.0, 0.0],
            "new_customers": [22, 9, 31, 12, 0],
            "cac": [42_000 / 22, 18_500 / 9, 6_000 / 31, 2_500 / 12, None],
            "ctr": [0.031, 0.012, None, None, None],
        }
    )


@pytest.fixture(scope="session")
def attribution() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "channel": ["paid_search", "organic_search", "referral", "email", "(none)"],
            "first_touch": [30.0, 25.0, 12.0, 3.0, 4.0],
            "last_touch": [18.0, 20.0, 14.0, 18.0, 4.0],
            "linear": [23.5, 22.0, 13.0, 11.5, 4.0],
            "position_based": [24.8, 22.6, 12.9, 9.7, 4.0],
        }
    )


@pytest.fixture(scope="session")
def milestone_accounts() -> pl.DataFrame:
    rows = []
    for mi, (m, mean) in enumerate(
        [
            ("activated", 2.0),
            ("first_project_done", 9.0),
            ("first_renewal", 33.0),
            ("referred_a_peer", 95.0),
        ]
    ):
        for a in range(40):
            reached = (a * 7 + mi * 3) % 10 < 8 - 2 * mi
            days = mean * (0.3 + ((a * 37) % 17) / 10) if reached else None
            rows.append(
                {"milestone": m, "account_id": f"acc{a:03d}", "days": days, "reached": reached}
            )
    return pl.DataFrame(rows)


@pytest.fixture(scope="session")
def milestone_retention() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "id": ["activated", "first_project_done", "first_renewal", "referred_a_peer"],
            "label": ["Activated", "First project done", "First renewal", "Referred a peer"],
            "retention_6m_reached": [0.78, 0.84, 0.91, 0.95],
            "retention_6m_not_reached": [0.41, 0.52, 0.60, None],
        }
    )


@pytest.fixture(scope="session")
def nps_tenure() -> pl.DataFrame:
    resp = [120, 95, 80, 66, 51, 40, 22, 12]
    nps = [12.0, 18.0, 25.0, 28.0, 31.0, 30.0, 36.0, 41.0]
    half = [180 / r**0.5 for r in resp]
    return pl.DataFrame(
        {
            "tenure_months": list(range(8)),
            "nps": nps,
            "responses": resp,
            "ci_low": [n - h for n, h in zip(nps, half, strict=True)],
            "ci_high": [n + h for n, h in zip(nps, half, strict=True)],
        }
    )


@pytest.fixture(scope="session")
def ticket_mix() -> pl.DataFrame:
    rows = []
    for t in range(8):
        counts = {
            "how-to": 40 - 4 * t,
            "bug": 10 + t,
            "billing": 6,
            "integration": 3 + 3 * t,
            "feature request": 2 + 2 * t,
        }
        total = sum(counts.values())
        rows += [
            {"tenure_months": t, "category": c, "tickets": n, "share": n / total}
            for c, n in counts.items()
        ]
    return pl.DataFrame(rows)


@pytest.fixture(scope="session")
def personas() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "persona": [
                "Startup founder",
                "Operations lead",
                "Enterprise IT buyer",
                "(unassigned)",
            ],
            "accounts": [1450, 980, 310, 120],
            "conversion_rate": [0.11, 0.16, 0.24, 0.05],
            "churn_rate": [0.061, 0.034, 0.012, 0.09],
            "revenue_share": [0.28, 0.37, 0.33, 0.02],
        }
    )


@pytest.fixture(scope="session")
def activity() -> pl.DataFrame:
    rows = []
    for p, peak in [("Startup founder", 21), ("Operations lead", 9)]:
        for wd in range(1, 8):
            for h in range(24):
                weekend = wd >= 6
                base = 50 * max(0, 6 - abs(h - peak)) * (0.3 if weekend and peak == 9 else 1)
                rows.append({"persona": p, "weekday": wd, "hour": h, "events": int(base) + 1})
    return pl.DataFrame(rows)


@pytest.fixture(scope="session")
def map_data(stages: pl.DataFrame) -> JourneyMapData:
    st = stages.with_columns(order=pl.int_range(1, 9)).select(
        "order", "id", "label", "reached", "conversion_from_previous"
    )
    tps = [
        ("awareness", "search_ad", "Search ads", "indirect", 5200, 2100),
        ("awareness", "blog", "Blog and guides", "indirect", 3900, 1500),
        ("awareness", "website", "Website visit", "direct", 8800, 4100),
        ("awareness", "social", "Social media posts", "indirect", 1400, 700),
        ("awareness", "review_site", "Review sites (G2, Capterra)", "indirect", 600, 380),
        ("awareness", "webinar", "Webinar", "direct", 200, 150),
        ("consideration", "pricing_page", "Pricing page", "direct", 4100, 1700),
        ("consideration", "demo", "Product demo request", "direct", 700, 520),
        ("consideration", "trial_signup", "Free trial sign-up", "direct", 1900, 1800),
        ("decision", "sales_call", "Final demo with sales", "direct", 320, 260),
        ("decision", "checkout", "Checkout", "direct", 650, 600),
        ("onboarding", "onboarding_email", "Onboarding emails", "direct", 2600, 540),
        ("onboarding", "product_tour", "Product tour", "direct", 1100, 470),
        ("onboarding", "support_chat", "Support chat", "direct", 380, 150),
        ("adoption", "feature_use", "Advanced features", "direct", 9800, 400),
        ("retention", "renewal", "Renewal", "direct", 352, 352),
        ("retention", "changelog", "Changelog emails", "indirect", 3000, 340),
        ("expansion", "upgrade", "Plan upgrade", "direct", 96, 96),
        ("advocacy", "referral", "Referral programme", "direct", 45, 41),
    ]
    touchpoints = pl.DataFrame(
        tps, schema=["stage", "touchpoint", "label", "kind", "events", "accounts"], orient="row"
    )
    em = [
        ("awareness", None, 0, None, None, None),
        ("consideration", 8.0, 14, -38.0, 52.0, None),
        ("decision", 22.0, 41, 2.0, 41.0, 0.1),
        ("onboarding", -12.0, 160, -21.0, -3.0, -0.25),
        ("adoption", 18.0, 210, 10.0, 26.0, 0.2),
        ("retention", 34.0, 180, 25.0, 43.0, 0.35),
        ("expansion", 46.0, 38, 25.0, 66.0, None),
        ("advocacy", 71.0, 9, 40.0, 100.0, None),
    ]
    emotion = pl.DataFrame(
        em, schema=["stage", "nps", "responses", "ci_low", "ci_high", "sentiment"], orient="row"
    )
    texts = [
        ("awareness", "situation", "Has a scattered project process and is searching online"),
        ("consideration", "situation", "Comparing three tools and their pricing plans"),
        ("decision", "situation", "Needs sign-off from finance and IT"),
        ("onboarding", "situation", "Setting up the first workspace"),
        ("awareness", "actions", "Discovers the product through blogs, ads and referrals"),
        ("consideration", "actions", "Watches the demo, reads comparison guides"),
        ("consideration", "actions", "Starts a free trial"),
        ("decision", "actions", "Consults the team, asks sales for a final demo"),
        ("onboarding", "actions", "Creates the account, integrates with existing tools"),
        ("adoption", "actions", "Uses it daily, explores advanced features"),
        ("retention", "actions", "Renews, reads update communications"),
        ("expansion", "actions", "Upgrades the plan, adds seats"),
        ("advocacy", "actions", "Recommends to peers, joins a case study"),
        (
            "awareness",
            "pain_points",
            "Cannot find clear information on how it solves their problem",
        ),
        ("consideration", "pain_points", "Plan differences unclear"),
        ("decision", "pain_points", "Integration questions slow the deal down"),
        (
            "onboarding",
            "pain_points",
            "Calendar integration fails for 1 in 5 workspaces; setup takes days",
        ),
        ("adoption", "pain_points", "Advanced features are hard to find"),
        ("retention", "pain_points", "Value of new releases is not visible"),
        ("awareness", "opportunities", "Educational content on their pains"),
        ("consideration", "opportunities", "Comparison pages and customer reviews"),
        ("decision", "opportunities", "Integration guide for IT reviewers"),
        ("onboarding", "opportunities", "Guided setup checklist and personal onboarding emails"),
        ("adoption", "opportunities", "In-app tips for power features"),
        ("retention", "opportunities", "Quarterly value report per workspace"),
        ("expansion", "opportunities", "Seat-based upgrade prompts at team limits"),
        ("advocacy", "opportunities", "Referral incentive and review requests"),
    ]
    texts_df = pl.DataFrame(texts, schema=["stage", "lane", "text"], orient="row")
    kp = [
        (
            "awareness",
            "traffic",
            "Website visitors",
            "18.2k",
            "▲ 6 %",
            "20k",
            True,
            "1.8k",
            "at_risk",
        ),
        (
            "consideration",
            "trial_rate",
            "Trial sign-up rate",
            "12.4 %",
            "▲ 1.1 pts",
            "15 %",
            True,
            "2.6 pts",
            "off_track",
        ),
        ("decision", "cac", "CAC", "1,420", "▼ 4 %", "1,200", True, "220", "on_track"),
        (
            "onboarding",
            "activation_rate",
            "Activation rate (14 days)",
            "58 %",
            "▼ 3 pts",
            "70 %",
            False,
            "12 pts",
            "off_track",
        ),
        (
            "onboarding",
            "ttfv",
            "Time to first value",
            "6.5 d",
            "▲ 0.4 d",
            "4 d",
            False,
            "2.5 d",
            "at_risk",
        ),
        (
            "adoption",
            "engagement",
            "Engaged accounts",
            "41 %",
            "▲ 2 pts",
            "45 %",
            True,
            "4 pts",
            "on_track",
        ),
        (
            "retention",
            "logo_churn",
            "Logo churn (monthly)",
            "2.1 %",
            "▼ 0.2 pts",
            "1.5 %",
            True,
            "0.6 pts",
            "on_track",
        ),
        (
            "retention",
            "nrr",
            "NRR (12 months)",
            "104 %",
            "▲ 2 pts",
            "110 %",
            True,
            "6 pts",
            "at_risk",
        ),
        (
            "expansion",
            "expansion_mrr",
            "Expansion MRR",
            "8.4k",
            "▲ 12 %",
            "10k",
            True,
            "1.6k",
            "on_track",
        ),
        (
            "advocacy",
            "referral_rate",
            "Referral rate",
            "0.9 %",
            "—",
            "2 %",
            None,
            "1.1 pts",
            "achieved",
        ),
    ]
    kpis = pl.DataFrame(
        kp,
        schema=[
            "stage",
            "metric",
            "label",
            "value_text",
            "trend",
            "target_text",
            "trend_good",
            "gap_text",
            "status",
        ],
        orient="row",
    )
    return JourneyMapData(
        stages=st,
        touchpoints=touchpoints,
        emotion=emotion,
        texts=texts_df,
        kpis=kpis,
        persona="Operations lead",
    )


@pytest.fixture(scope="session")
def opportunities() -> pl.DataFrame:
    rows = [
        ("onboarding", "Product tour", 0.38, 540, 21_000.0),
        ("consideration", "Pricing page", 0.58, 1830, 35_000.0),
        ("decision", "Checkout", 0.11, 610, 9_000.0),
        ("adoption", "Advanced features", 0.23, 415, 12_500.0),
        ("awareness", "Search ads", 0.44, 4200, 5_000.0),
    ]
    df = pl.DataFrame(
        rows, schema=["stage", "touchpoint", "drop_off", "volume", "revenue_at_risk"], orient="row"
    )
    return df.with_columns(
        score=pl.col("drop_off") * pl.col("volume") * pl.col("revenue_at_risk") / 1e7
    )


@pytest.fixture(scope="session")
def blueprint() -> tuple[pl.DataFrame, pl.DataFrame]:
    front = pl.DataFrame(
        {
            "stage": [
                "Decision",
                "Decision",
                "Onboarding",
                "Onboarding",
                "Onboarding",
                "Adoption",
                "Retention",
            ],
            "touchpoint": [
                "Checkout",
                "Sales call",
                "Onboarding emails",
                "Product tour",
                "Support chat",
                "Advanced features",
                "Renewal",
            ],
            "accounts": [600, 260, 540, 470, 150, 400, 352],
        }
    )
    back = pl.DataFrame(
        {
            "stage": ["Decision", "Onboarding", "Adoption", "Retention"],
            "tickets": [45, 310, 190, 60],
            "top_category": ["billing", "integration", "how-to", "billing"],
            "resolution_hours_median": [4.5, 18.2, 7.9, 3.1],
        }
    )
    return front, back


@pytest.fixture(scope="session")
def analytics() -> dict[str, Any]:
    """Small results of the analytics of analytics.md (§1–5), as their functions return them."""
    days = [4, 3, 2, 1] + [0] * 27
    group = lambda value, size, rates: {  # noqa: E731
        "value": value,
        "size": size,
        "rates": [{"k": k, "rate": r, "lo": max(0.0, r - 0.1), "hi": min(1.0, r + 0.1), "n": n}
                  for k, (r, n) in enumerate(rates)],
    }  # fmt: skip
    step = lambda k, event, count, n: {  # noqa: E731
        "step": k, "event": event, "count": count, "conversion": count / n,
        "lo": max(0.0, count / n - 0.1), "hi": min(1.0, count / n + 0.1), "n": n,
    }  # fmt: skip
    return {
        "lifecycle": pl.DataFrame(
            {
                "start": ["2025-01", "2025-02", "2025-03"],
                "new": [5, 3, 4],
                "returning": [0, 4, 5],
                "resurrecting": [0, 1, 0],
                "dormant": [0, -1, -3],
            }
        ),
        "stickiness": pl.DataFrame(
            {
                "month": ["2025-01", "2025-02"],
                "active_accounts": [10, 10],
                "dau_mau": [0.06, 0.07],
                "days": [days, days],
            }
        ),
        "paths": {
            "level": "event",
            "start": "signed_up",
            "end": None,
            "steps": 3,
            "accounts": 10,
            "nodes": [
                {"step": 1, "item": "signed_up", "accounts": 10, "dropped": 2},
                {"step": 2, "item": "trial_started", "accounts": 6, "dropped": 1},
                {"step": 2, "item": "demo_requested", "accounts": 2, "dropped": 2},
                {"step": 3, "item": "checkout_started", "accounts": 5, "dropped": 5},
            ],
            "edges": [
                {"step": 1, "source": "signed_up", "target": "trial_started", "accounts": 6},
                {"step": 1, "source": "signed_up", "target": "demo_requested", "accounts": 2},
                {"step": 2, "source": "trial_started", "target": "checkout_started", "accounts": 5},
            ],
        },  # fmt: skip
        "correlation": {
            "success_total": 20,
            "failure_total": 60,
            "events": [
                {
                    "event": "demo_attended",
                    "success_count": 12,
                    "failure_count": 10,
                    "odds_ratio": 5.5,
                    "p_value": 0.0004,
                    "kind": "success",
                },
                {
                    "event": "help_center_search",
                    "success_count": 2,
                    "failure_count": 20,
                    "odds_ratio": 0.3,
                    "p_value": 0.09,
                    "kind": "failure",
                },
            ],
            "properties": [
                {
                    "column": "persona",
                    "value": "smb",
                    "success_count": 5,
                    "failure_count": 30,
                    "odds_ratio": 0.36,
                    "p_value": 0.04,
                    "kind": "failure",
                },
            ],
        },  # fmt: skip
        "retention_breakdown": {
            "column": "persona",
            "p_value": 0.003,
            "activity_retention": [
                group("smb", 120, [(1.0, 120), (0.4, 110), (0.3, 60), (0.2, 20)]),
                group("enterprise", 40, [(1.0, 40), (0.6, 38), (0.5, 25), (0.5, 10)]),
            ],
        },  # fmt: skip
        "funnel_breakdown": {
            "p_value": 0.2,
            "breakdown": [
                {
                    "value": "smb",
                    "steps": [
                        step(1, "trial_started", 100, 100),
                        step(2, "checkout_started", 40, 100),
                    ],
                },
                {
                    "value": "enterprise",
                    "steps": [
                        step(1, "trial_started", 25, 25),
                        step(2, "checkout_started", 12, 25),
                    ],
                },
            ],
        },  # fmt: skip
    }


@pytest.fixture(scope="session")
def all_charts(
    stages,
    funnel_steps,
    funnel_variants,
    transitions,
    retention_long,
    revenue_months,
    by_channel,
    attribution,
    milestone_accounts,
    milestone_retention,
    nps_tenure,
    ticket_mix,
    personas,
    activity,
    map_data,
    opportunities,
    blueprint,
    analytics,
):
    """Every chart function applied to its fixture, by a short name."""
    front, back = blueprint
    ops = map_data
    founder = JourneyMapData(
        stages=ops.stages,
        touchpoints=ops.touchpoints.head(8),
        emotion=ops.emotion,
        texts=ops.texts,
        kpis=None,
    )
    return {
        "stage_funnel": chart_stage_funnel(stages),
        "ordered_funnel": chart_ordered_funnel(funnel_steps),
        "ordered_funnel_variants": chart_ordered_funnel(funnel_steps, variants=funnel_variants),
        "onboarding_map": chart_onboarding_map(funnel_steps),
        "touchpoint_flow": chart_touchpoint_flow(transitions),
        "retention_heatmap": chart_retention_heatmap(retention_long),
        "retention_nrr": chart_retention_heatmap(retention_long, value="nrr"),
        "mrr_movements": chart_mrr_movements(revenue_months),
        "mrr_bridge": chart_mrr_bridge(revenue_months, start="2024-04", end="2024-09"),
        "nrr_grr": chart_nrr_grr(revenue_months),
        "cac_by_channel": chart_cac_by_channel(by_channel, payback=9.4),
        "attribution": chart_attribution(attribution),
        "milestone_times": chart_milestone_times(milestone_accounts),
        "milestone_retention": chart_milestone_retention(milestone_retention),
        "nps_over_tenure": chart_nps_over_tenure(nps_tenure),
        "ticket_mix": chart_ticket_mix(ticket_mix),
        "persona_comparison": chart_persona_comparison(personas),
        "day_in_life": chart_day_in_life(activity),
        "journey_map": chart_journey_map(map_data),
        "journey_map_future": chart_journey_map(map_data, state="future"),
        "persona_maps": chart_persona_maps({"Operations lead": ops, "Startup founder": founder}),
        "opportunity_map": chart_opportunity_map(opportunities),
        "service_blueprint": chart_service_blueprint(front, back),
        "lifecycle": chart_lifecycle(analytics["lifecycle"]),
        "stickiness": chart_stickiness(analytics["stickiness"]),
        "paths": chart_paths(analytics["paths"]),
        "correlation": chart_correlation(analytics["correlation"]),
        "retention_breakdown": chart_retention_breakdown(analytics["retention_breakdown"]),
        "funnel_breakdown": chart_funnel_breakdown(analytics["funnel_breakdown"]),
        **product_charts(revenue_months),
    }


def product_charts(revenue_months: pl.DataFrame) -> dict:
    """The activation finder, health backtest and anomaly charts, on small hand-made inputs."""
    candidates = [
        {"event": e, "times": t, "days": d, "share": s, "precision": p, "recall": r, "phi": phi}
        for e, t, d, s, p, r, phi in [
            ("integration_connected", 1, 7, 0.22, 0.91, 0.80, 0.78),
            ("integration_connected", 1, 14, 0.25, 0.85, 0.84, 0.74),
            ("payment_submitted", 1, 30, 0.21, 0.86, 0.71, 0.69),
            ("first_report_created", 1, 30, 0.18, 0.80, 0.55, 0.55),
            ("login", 3, 30, 0.15, 0.75, 0.45, 0.44),
        ]
    ]
    scores = pl.DataFrame(
        {
            "score": [5.0, 12.0, 18.0, 33.0, 45.0, 51.0, 64.0, 70.0, 88.0, 97.0] * 20,
            "churned": [True, True, False, False, True, False, False, False, False, False] * 20,
        }
    )
    rows = revenue_months.to_dicts()
    flags = [
        {
            "metric": "net_new_mrr",
            "month": rows[-1]["month"],
            "value": rows[-1]["net_new_mrr"],
            "baseline": rows[-4]["net_new_mrr"],
            "z": 4.2,
        },
        {
            "metric": "grr_1m",
            "month": rows[-2]["month"],
            "value": rows[-2]["grr_1m"],
            "baseline": rows[-5]["grr_1m"],
            "z": -3.9,
        },
    ]
    doc = {"revenue": {"months": rows}, "anomalies": flags}
    return {
        "activation": chart_activation(
            candidates, configured="first_report_created", base_rate=0.3
        ),
        "health_backtest": chart_health_backtest(scores),
        "anomalies": chart_anomalies(doc, currency="USD"),
        "mrr_movements_flagged": chart_mrr_movements(revenue_months, anomalies=flags),
        "nrr_grr_flagged": chart_nrr_grr(revenue_months, anomalies=flags),
    }
