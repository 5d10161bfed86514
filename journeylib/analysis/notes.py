"""The notebooks' own words: table captions, chart titles and messages to the reader.

The notebooks show these instead of writing English in their code cells, so
``pybabel extract`` (which cannot read ``.ipynb``) finds them in the message
catalog. Constants are English source text marked with
:func:`~journeylib.i18n.N_`: a notebook shows ``gettext(notes.SMART_CHECKS)``;
the functions build a message with numbers and return it in the current
language.

Messages that name a file or a ``client.yaml`` key keep it as written (code
spans): only the words around it are translated.

Examples:
    >>> from journeylib.i18n import gettext, use_language
    >>> gettext(SMART_CHECKS)
    'SMART checks'
    >>> visitors_text(1234)
    'Anonymous visitors in the period: **1,234**.'
"""

from __future__ import annotations

from journeylib.formatting import format_value
from journeylib.i18n import N_, ngettext
from journeylib.i18n import gettext as _

__all__ = [
    "ACTIVATION_CANDIDATES",
    "CALL_FIRST",
    "ADD_SUBSCRIPTIONS_FOR_HEALTH",
    "HEALTH_CSV",
    "NO_ACTIVATION_CANDIDATES",
    "NO_ANOMALIES",
    "RISKIEST_ACCOUNTS",
    "ACCOUNTS_REACHED_PER_PERSONA",
    "ADD_ACTIVATION",
    "ADD_MARKETING_FOR_CAC",
    "ADD_MARKETING_FOR_PAYBACK",
    "ADD_SUBSCRIPTIONS_FOR_ATTRIBUTION",
    "ADD_SUBSCRIPTIONS_FOR_DRIVERS",
    "ADD_SUBSCRIPTIONS_FOR_FORECAST",
    "ADD_SUBSCRIPTIONS_FOR_MAP_REVENUE",
    "ADD_SUBSCRIPTIONS_FOR_MILESTONES",
    "ADD_SUBSCRIPTIONS_FOR_PERSONAS",
    "ADD_SUBSCRIPTIONS_FOR_REVENUE",
    "ADD_SUBSCRIPTIONS_FOR_TOUCHPOINTS",
    "ADD_SUBSCRIPTIONS_FOR_VALUE",
    "ADD_SURVEYS_FOR_FEEDBACK",
    "ADD_SURVEYS_FOR_NPS",
    "ADD_TICKETS_FOR_BLUEPRINT",
    "ADD_TICKETS_FOR_SUPPORT",
    "COMMENT_THEMES_BY_STAGE",
    "CONVERSION_PER_PERSONA",
    "CUSTOMER_INTERVIEWS",
    "DIRECT_AND_INDIRECT_TOUCHPOINTS",
    "DRIVERS_TABLE",
    "DROP_OFF_PATHS_TITLE",
    "EVENTS_NOT_COVERED",
    "EVERY_ACCOUNT_PER_STAGE",
    "EVERY_EVENT_MAPPED",
    "GOALS_AND_OUTCOMES",
    "HOW_THEY_BUY",
    "LONGEST_WAITING",
    "MICRO_JOURNEY_TITLE",
    "MOMENTS_OF_DELIGHT",
    "MOMENTS_OF_FRUSTRATION",
    "NO_DROP",
    "NO_FORECAST_FIT",
    "NO_GOALS_FOR_MAP",
    "NO_GOALS_TO_EXPLAIN",
    "NO_MILESTONES_HELP",
    "NO_ONBOARDING_STAGE",
    "NO_PAIN_POINTS",
    "NO_PERSONA",
    "NO_PERSONAS_FOR_MAPS",
    "NO_PERSONA_CARDS",
    "NO_SIGNUPS_FOR_PATHS",
    "NO_VARIANTS",
    "NPS_BY_STAGE",
    "PAIN_POINTS_FOUND",
    "PATHS_FROM_SIGNUP",
    "PAYBACK_TABLE",
    "PERSONA_RULES",
    "PROGRESS_AGAINST_TIME",
    "QUIET_LONGEST",
    "SEGMENT_AVERAGES",
    "SMART_CHECKS",
    "STAGE_ENTRIES_SAMPLE",
    "SUGGESTED_SEGMENTS",
    "SUPPORT_INTERVIEWS",
    "TEMPLATE_EXPECTATIONS",
    "TICKETS_BY_CATEGORY",
    "TONE_BY_STAGE",
    "TOP_TRANSITIONS",
    "WHAT_EACH_SIDE_DOES",
    "WHO_THEY_ARE",
    "charts_written_text",
    "in_window_text",
    "segments_text",
    "visitors_text",
]

# ------------------------------------------------------------------ 01 define goals
SMART_CHECKS = N_("SMART checks")
PROGRESS_AGAINST_TIME = N_("Progress against the time elapsed")
NO_GOALS_TO_EXPLAIN = N_("No goals to explain yet.")

# ------------------------------------------------------------------ 02 buyer personas
PERSONA_RULES = N_("Persona rules, in the order they are tried")
WHO_THEY_ARE = N_("Who they are")
HOW_THEY_BUY = N_("How they buy and stay")
ADD_SUBSCRIPTIONS_FOR_PERSONAS = N_(
    "Add `subscriptions.csv` to the client folder to see conversion, churn and "
    "revenue share per persona."
)
NO_PERSONA_CARDS = N_("No persona cards yet: add `personas:` to `client.yaml` (see section 2).")
SUGGESTED_SEGMENTS = N_("Suggested segments")
SEGMENT_AVERAGES = N_(
    "Segment averages (days to first value: median over the accounts that reached it)"
)
CUSTOMER_INTERVIEWS = N_("Customer interviews")
SUPPORT_INTERVIEWS = N_("Support team interviews")

# ------------------------------------------------------------------ 03 touchpoints
DIRECT_AND_INDIRECT_TOUCHPOINTS = N_("Direct and indirect touchpoints")
GOALS_AND_OUTCOMES = N_("Goals and outcomes")
WHAT_EACH_SIDE_DOES = N_("What each side does, and what the customer feels")
TOP_TRANSITIONS = N_("The 15 most frequent transitions")
ADD_SUBSCRIPTIONS_FOR_TOUCHPOINTS = N_(
    "Add `subscriptions.csv` to the client folder to see which touchpoints go with conversion."
)
ADD_SUBSCRIPTIONS_FOR_ATTRIBUTION = N_(
    "Add `subscriptions.csv` to the client folder to attribute conversions to channels."
)
ADD_MARKETING_FOR_CAC = N_(
    "Add `marketing.csv` (and `subscriptions.csv`) to the client folder to see "
    "the acquisition cost per channel."
)
EVENTS_NOT_COVERED = N_("Events no touchpoint covers")
EVERY_EVENT_MAPPED = N_("Every event of the period is mapped to a touchpoint.")
PATHS_FROM_SIGNUP = N_("Paths from sign-up")
NO_SIGNUPS_FOR_PATHS = N_(
    "No account has a sign-up time (`accounts.signup_at`), so there are no paths from sign-up."
)

# ------------------------------------------------------------------ 04 journey stages
STAGE_ENTRIES_SAMPLE = N_("Stage entries of six accounts")
EVERY_ACCOUNT_PER_STAGE = N_("Every account in the data, per stage")
QUIET_LONGEST = N_("Quiet longest before the last stage")
NO_PERSONA = N_("(no persona)")
ACCOUNTS_REACHED_PER_PERSONA = N_("Accounts reached, per persona")
CONVERSION_PER_PERSONA = N_("Conversion from the previous stage, per persona")
DROP_OFF_PATHS_TITLE = N_("Where the accounts lost between {a} and {b} went")
NO_DROP = N_("No stage of the funnel loses accounts in this period.")

# ------------------------------------------------------------------ 05 analyze data
ADD_SUBSCRIPTIONS_FOR_REVENUE = N_(
    "Add `subscriptions.csv` to the client folder to see MRR, churn and revenue retention by month."
)
ADD_ACTIVATION = N_(
    "Add `activation: {event: ..., within_days: ...}` to `client.yaml` to see the "
    "activation rate by cohort."
)
ADD_SURVEYS_FOR_NPS = N_("Add `surveys.csv` to the client folder to see NPS by month.")
PAIN_POINTS_FOUND = N_("Pain points found in the data")
NO_PAIN_POINTS = N_("No pain point stands out in the data of this period.")
TEMPLATE_EXPECTATIONS = N_("What the journey template expects per stage")
NPS_BY_STAGE = N_("NPS by stage")
TONE_BY_STAGE = N_("Tone of comments by stage (95 % interval)")
COMMENT_THEMES_BY_STAGE = N_("Comment themes by stage")
MOMENTS_OF_DELIGHT = N_("Moments of delight")
MOMENTS_OF_FRUSTRATION = N_("Moments of frustration")
ADD_SURVEYS_FOR_FEEDBACK = N_(
    "Add `surveys.csv` to the client folder to see NPS by stage, comment themes "
    "and moments of delight and frustration."
)
TICKETS_BY_CATEGORY = N_("Tickets by category")
ADD_SUBSCRIPTIONS_FOR_DRIVERS = N_(
    "Add `subscriptions.csv` (and sign-up times in `accounts.csv`) to the client folder to see "
    "what goes with paying."
)
DRIVERS_TABLE = N_("What goes with paying: events before the decision, and account properties")
ADD_TICKETS_FOR_SUPPORT = N_(
    "Add `tickets.csv` to the client folder to see the ticket mix and resolution times."
)
PAYBACK_TABLE = N_(
    "Payback month by channel and cohort (0: the month of the first payment; —: not earned "
    "back by the period's end; empty: no customer of the channel in that cohort)"
)
ADD_SUBSCRIPTIONS_FOR_VALUE = N_(
    "Add `subscriptions.csv` to the client folder to see what each cohort of customers is "
    "worth and when it pays back its acquisition cost."
)
ADD_MARKETING_FOR_PAYBACK = N_(
    "Add `marketing.csv` to the client folder to compare each cohort's value with its "
    "acquisition cost (payback)."
)
NO_FORECAST_FIT = N_(
    "No forecast: the model needs a cohort of the period observed for 3 months or more that "
    "lost a customer."
)
ADD_SUBSCRIPTIONS_FOR_FORECAST = N_(
    "Add `subscriptions.csv` to the client folder to forecast how many customers stay."
)
NO_ANOMALIES = N_(
    "No monthly figure stood out: in every month scored, each series stayed within 3.5 robust "
    "standard deviations of the 6 months before it."
)
ADD_SUBSCRIPTIONS_FOR_HEALTH = N_(
    "Add `subscriptions.csv` to the client folder to score the health of paying accounts."
)
RISKIEST_ACCOUNTS = N_(
    "The 20 riskiest paying accounts: health score (0–100), MRR, the component that drags "
    "each down, and the five components' values"
)
CALL_FIRST = N_(
    "The 10 accounts to call first: lowest health score, with their MRR and what drags each down"
)
HEALTH_CSV = N_(
    "Every paying account, riskiest first, is in `account_health.csv` in the run folder."
)

# ------------------------------------------------------------------ 06 milestones
ACTIVATION_CANDIDATES = N_(
    "The 10 best predictors: share of sign-ups who did it, precision (of those, retained), "
    "recall (of the retained, did it) and phi"
)
NO_ACTIVATION_CANDIDATES = N_(
    "No candidate: too few sign-ups whose outcome can be seen yet, or all (or none) of them "
    "retained."
)
NO_MILESTONES_HELP = N_(
    "No milestones are configured for this client. Add them to `client.yaml`, one line "
    "each, for example:\n\n"
    "```yaml\nmilestones:\n"
    "  - {id: onboarding_completed, event: onboarding_completed, label: Onboarding completed}\n"
    "  - {id: first_value, event: first_report_created, label: First report created}\n"
    "  - {id: referral, event: referral_sent, label: Referred a peer}\n```\n\n"
    "`event` is a raw event name of events.csv or a derived one (for example "
    "`subscription_renewed`); the `referral` milestone also drives the referral rate."
)
ADD_SUBSCRIPTIONS_FOR_MILESTONES = N_(
    "Add `subscriptions.csv` to the client folder to compare revenue and "
    "retention of accounts that reached each milestone."
)
LONGEST_WAITING = N_("The five longest waiting per milestone")

# ------------------------------------------------------------------ 07 visualize journey
NO_GOALS_FOR_MAP = N_(
    "No goals in `client.yaml`: the future-state map shows today's KPIs "
    "only. Add SMART goals (notebook 01) to draw targets and gaps."
)
NO_PERSONAS_FOR_MAPS = N_(
    "No personas: add persona rules to `client.yaml` (notebook 02) to draw one map per persona."
)
ADD_TICKETS_FOR_BLUEPRINT = N_("Add `tickets.csv` to the client folder to see the back stage.")
NO_ONBOARDING_STAGE = N_(
    "The template has no onboarding stage, or no account performed its events in the period."
)
MICRO_JOURNEY_TITLE = N_("Micro-journey by variant")
NO_VARIANTS = N_(
    "No event carries a `variant`: fill the `variant` column of events.csv "
    "for the steps of an A/B test to compare its arms here."
)
ADD_SUBSCRIPTIONS_FOR_MAP_REVENUE = N_(
    "Add `subscriptions.csv` to the client folder to see MRR movements and revenue retention."
)


def segments_text(segments: int, accounts: int, silhouette: float | None) -> str:
    """How many segments were found, over how many accounts, and their silhouette score.

    Examples:
        >>> segments_text(4, 1200, 0.31)
        '4 segments over 1,200 accounts; silhouette score 0.31.'
    """
    return ngettext(
        "{segments} segment over {accounts} accounts; silhouette score {score}.",
        "{segments} segments over {accounts} accounts; silhouette score {score}.",
        segments,
    ).format(
        segments=segments,
        accounts=format_value(accounts, "count"),
        score=format_value(silhouette, "score"),
    )


def visitors_text(visitors: int) -> str:
    """The anonymous visitors of the period, in bold.

    Examples:
        >>> visitors_text(0)
        'Anonymous visitors in the period: **0**.'
    """
    return _("Anonymous visitors in the period: **{visitors}**.").format(
        visitors=format_value(visitors, "count")
    )


def in_window_text(accounts: int) -> str:
    """The accounts still inside their 30-day onboarding window, in bold.

    Examples:
        >>> in_window_text(12)
        'Accounts still inside their 30-day window: **12**.'
    """
    return _("Accounts still inside their 30-day window: **{accounts}**.").format(
        accounts=format_value(accounts, "count")
    )


def charts_written_text(written: int | None) -> str:
    """How many chart files were written (None: no output folder, nothing written).

    Examples:
        >>> charts_written_text(7), charts_written_text(None)
        ('7 chart files written.', 'No output folder: nothing written.')
    """
    if written is None:
        return _("No output folder: nothing written.")
    return ngettext("{n} chart file written.", "{n} chart files written.", written).format(
        n=written
    )
