"""The made-up company of the synthetic data: its vocabularies and the numbers of its story.

Channels, campaigns, raw events, plans, roles, industries, ticket and survey
texts, search queries, and per persona (index 0/1/2 = smb_founder /
mid_market_ops / enterprise_it) and per channel the rates, delays and sizes
the generator draws from. Tuning the story means editing this module.
"""

from __future__ import annotations

import numpy as np

# fmt: off

DAY = 86_400
HOUR = 3_600

PERSONAS = ["smb_founder", "mid_market_ops", "enterprise_it"]
CHANNELS = [
    "organic_search", "paid_search", "social", "referral", "email", "partner", "events", "direct",
]
CH = {c: i for i, c in enumerate(CHANNELS)}

# Campaigns per channel: (name, share of the channel's spend). Organic and direct
# traffic carries no campaign tag on events; organic still has content spend.
CHANNEL_CAMPAIGNS: dict[str, list[tuple[str, float]]] = {
    "organic_search": [("seo_content", 1.0)],
    "paid_search": [("brand_search", 0.3), ("generic_search", 0.7)],
    "social": [("linkedin_ads", 0.65), ("retargeting", 0.35)],
    "referral": [("referral_program", 1.0)],
    "email": [("newsletter", 0.4), ("nurture_sequence", 0.6)],
    "partner": [("partner_program", 1.0)],
    "events": [("saas_summit", 0.6), ("regional_meetups", 0.4)],
    "direct": [],
}
LIFECYCLE_CAMPAIGNS = ["onboarding_series", "renewal_reminders", "product_updates"]
CAMPAIGNS = [name for c in CHANNELS for name, _ in CHANNEL_CAMPAIGNS[c]] + LIFECYCLE_CAMPAIGNS
CAMP = {c: i for i, c in enumerate(CAMPAIGNS)}

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
EV = {e: i for i, e in enumerate(RAW_EVENTS)}

# ------------------------------------------------------------------ persona parameters
# Index 0/1/2 = smb_founder / mid_market_ops / enterprise_it.
P_SHARE = np.array([0.55, 0.30, 0.15])
P_CHANNEL = np.array([
    # organic paid  social referral email partner events direct
    [0.30, 0.22, 0.18, 0.12, 0.06, 0.02, 0.02, 0.08],
    [0.22, 0.22, 0.08, 0.10, 0.10, 0.12, 0.08, 0.08],
    [0.10, 0.15, 0.03, 0.07, 0.08, 0.25, 0.25, 0.07],
])
P_SIGNUP = np.array([0.42, 0.36, 0.30])
CH_SIGNUP = np.array([1.0, 0.85, 0.6, 1.5, 1.1, 1.3, 1.2, 1.2])
CH_HAZARD = np.array([1.0, 1.15, 1.3, 0.7, 1.0, 0.85, 0.9, 0.95])
P_SIGNUP_DELAY_DAYS = np.array([4.0, 10.0, 20.0])
P_DECIDE = np.array([0.20, 0.22, 0.25])  # reach the decision (trial users who do not fit)
P_PAY_DELAY_DAYS = np.array([6.0, 13.0, 26.0])  # trial/evaluation length before checkout
# The planted activation signal (integration_connected): trial users the product fits
# (share per persona) connect a data source early in the trial and buy and stay; the
# others rarely connect in the trial. Later, most adopters connect during onboarding.
# Connected accounts churn less; adopters who never connect churn fast.
P_FIT = np.array([0.17, 0.19, 0.21])
P_CONNECT_FIT = 0.95
P_CONNECT_OTHER = 0.003
P_CONNECT_DAYS = 1.5  # mean days from sign-up to the trial connection
P_ADOPT_FIT = 0.99
P_CONNECT_LATE_ADOPTED = 0.5  # other adopters connecting during onboarding
P_CONNECT_LATE_OTHER = 0.03  # payers who never adopt
HAZARD_EARLY = 0.15  # churn hazard multipliers: trial connectors, onboarding connectors
HAZARD_LATE = 0.7
HAZARD_UNCONNECTED = 0.75  # the least monthly churn hazard of adopters who never connect
P_ADOPT = np.array([0.50, 0.55, 0.60])  # buyers who get value (who do not fit)
P_FIRST_REPORT_DAYS = np.array([1.5, 4.0, 11.0])  # from payment to the first report
P_HAZARD = np.array([0.045, 0.025, 0.012])  # monthly churn hazard of an adopted account
P_LOGIN = np.array([8.0, 14.0, 22.0])  # logins per paid month
P_REPORT = np.array([3.0, 5.0, 8.0])
P_TICKETS = np.array([0.20, 0.35, 0.70])  # tickets per paid month
# The planted churn warning (analytics.md §10 scores it): in the months before an
# account churns its use falls (factor by months left, index = months to the churn
# month: 1 = the last paid month), it opens more tickets, answers surveys more often
# and lower, and removes seats.
FADE = np.array([1.0, 0.25, 0.6, 0.85, 1.0])  # index 4: four or more months left
CHURN_TICKETS = 3.5  # ticket rate multiplier in the last three paid months
CHURN_SURVEY = 0.3  # extra answer probability in the last two paid months
CHURN_NPS = -2.5  # score shift then
CHURN_SEAT_REMOVAL = 0.25  # probability of removing seats in each of the last two months
P_ADVOCATE = np.array([0.45, 0.5, 0.55])  # among accounts that expanded
P_USERS = np.array([[1, 3], [3, 12], [8, 40]])  # users per account: [low, high]
P_SEATS = np.array([[1, 5], [5, 25], [15, 80]])
P_PLAN = np.array([  # starter, pro, business, enterprise
    [0.65, 0.35, 0.00, 0.00],
    [0.10, 0.55, 0.35, 0.00],
    [0.00, 0.05, 0.45, 0.50],
])
PLANS = ["starter", "pro", "business", "enterprise"]
PLAN_PRICE = np.array([29.0, 59.0, 99.0, 149.0])  # per seat per month
ROLES = [
    ["founder", "ceo", "marketing_manager"],
    ["operations_manager", "head_of_operations", "analyst", "finance_manager"],
    ["it_director", "cto", "it_manager", "procurement"],
]
ROLE_P = [[0.60, 0.25, 0.15], [0.45, 0.25, 0.20, 0.10], [0.45, 0.25, 0.20, 0.10]]
INDUSTRIES = [
    "software", "ecommerce", "fintech", "healthcare", "manufacturing", "education", "agency",
    "logistics",
]
P_INDUSTRY = np.array([
    [0.25, 0.22, 0.08, 0.05, 0.04, 0.08, 0.22, 0.06],
    [0.18, 0.14, 0.14, 0.12, 0.14, 0.08, 0.06, 0.14],
    [0.16, 0.08, 0.20, 0.18, 0.18, 0.06, 0.02, 0.12],
])
COUNTRIES = ["US", "GB", "DE", "FR", "CA", "AU", "NL", "IN", "BR", "ES"]
COUNTRY_P = np.array([0.40, 0.12, 0.10, 0.07, 0.07, 0.05, 0.05, 0.06, 0.04, 0.04])
NAME_A = [
    "North", "Blue", "Bright", "Silver", "Iron", "Green", "Swift", "Clear", "Red", "Summit",
    "Harbor", "Cedar", "Atlas", "Nova", "Pine", "Delta", "Stone", "River", "Oak", "Polar",
]
NAME_B = [
    "wind", "field", "path", "line", "works", "bridge", "point", "scale", "stack", "gate",
    "loop", "craft", "forge", "peak", "wave", "grid", "cloud", "ridge", "mark", "shift",
]
NAME_C = [
    "Labs", "Inc", "GmbH", "Ltd", "Group", "Systems", "Studio", "Co", "Partners", "Analytics",
]

# Acquisition cost per new customer the marketing spend is calibrated to (USD);
# organic and paid search follow the B2B averages quoted in journey-knowledge.md.
CAC = {"organic_search": 942.0, "paid_search": 1907.0, "social": 1450.0, "referral": 420.0,
        "email": 380.0, "partner": 1250.0, "events": 2600.0}
# The planted anomaly: the summit of the events channel, in the third month before the
# data's end (2025-10 in the 12-month demo), costs SPIKE_SHARE times the month's usual
# marketing spend (some twenty times the campaign's usual spend) and brings no extra
# customers: that month's CAC spikes. Only in data of SPIKE_MIN_MONTHS or more, where
# the detector has six earlier months to compare with.
SPIKE_CHANNEL = "events"
SPIKE_CAMPAIGN = "saas_summit"
SPIKE_SHARE = 3.0
SPIKE_MONTHS_BEFORE_END = 3
SPIKE_MIN_MONTHS = 10
CPM = {"paid_search": 38.0, "social": 11.0, "email": 4.0, "partner": 25.0, "events": 90.0}
CTR = {"paid_search": 0.032, "social": 0.009, "email": 0.021, "partner": 0.015, "events": 0.006}

# The first event of an account, by acquisition channel.
FIRST_EVENT = np.array([EV[e] for e in [
    "search_click", "ad_click", "social_engagement", "website_visit", "website_visit",
    "website_visit", "event_attended", "website_visit",
]])
CANONICAL_EVENT = FIRST_EVENT  # the event a touch of that channel usually is
AWARE_GENERIC = np.array([EV["website_visit"], EV["blog_visit"]])
CONSIDER = ["pricing_page_viewed", "comparison_page_viewed", "review_read", "webinar_attended",
             "ebook_downloaded", "newsletter_subscribed"]
CONSIDER_P = np.array([
    [0.34, 0.18, 0.20, 0.06, 0.10, 0.12],
    [0.28, 0.16, 0.16, 0.14, 0.16, 0.10],
    [0.22, 0.14, 0.12, 0.22, 0.22, 0.08],
])

# Ticket categories, their median resolution hours, and short subjects.
TICKET_CATS = ["how_to", "bug", "billing", "advanced", "feature_request"]
TICKET_HOURS = np.array([3.0, 26.0, 6.0, 14.0, 60.0])
TICKET_TEXT = {
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
TICKET_CHANNELS = ["chat", "email", "phone"]
P_TICKET_CHANNEL = np.array([[0.65, 0.32, 0.03], [0.45, 0.45, 0.10], [0.25, 0.50, 0.25]])

# Survey stages (b2b_saas_8_stage ids), the touchpoint asked at, and NPS base levels;
# the onboarding dip and the advocacy high shape the emotion curve.
STAGES = ["awareness", "consideration", "decision", "onboarding", "adoption", "retention",
           "expansion", "advocacy"]
STAGE_TOUCHPOINT = ["website", "free_trial", "checkout", "feedback_survey", "product_use",
                     "renewal", "upgrade", "referral_programme"]
STAGE_NPS = np.array([8.2, 7.8, 7.9, 6.9, 8.3, 8.6, 8.9, 9.6])
COMMENTS = {
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
QUERIES = [
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
