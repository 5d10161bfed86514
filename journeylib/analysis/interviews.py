"""Interview question banks for building buyer personas (notebook 02).

Data, not prose: two lists of ``(topic, question)`` pairs, one for customer
interviews and one for the support team, covering the topics the
journey-mapping guides recommend (role, company, goals, challenges, buying
process, product use; and for support: common problems, who contacts support,
valued features, preferred channels, where customers struggle, requests).
Analysts copy them into their interview guides and adapt them per persona.

The questions are English source text marked with ``N_``;
:func:`question_bank` gives them in the current language (topics and
audiences are ids and stay as they are).
"""

from __future__ import annotations

import polars as pl

from journeylib.i18n import N_
from journeylib.i18n import gettext as _

__all__ = ["AUDIENCES", "CUSTOMER_QUESTIONS", "SUPPORT_QUESTIONS", "question_bank"]

#: Questions for customers (and prospects), grouped by topic, in interview order.
CUSTOMER_QUESTIONS: list[tuple[str, str]] = [
    ("role", N_("What is your job title, and what are you responsible for day to day?")),
    ("role", N_("How long have you been in this role, and what did you do before?")),
    ("role", N_("What is your educational or professional background?")),
    ("company", N_("How many people work at your company, and in which industry is it?")),
    ("company", N_("What are your company's most important goals for this year?")),
    ("goals", N_("What are you trying to achieve in your work right now?")),
    ("goals", N_("How do you (and your manager) know that you have been successful?")),
    ("challenges", N_("What are the biggest obstacles between you and those goals?")),
    ("challenges", N_("Which tools or information do you miss to do your job well?")),
    ("challenges", N_("How do these problems show up in a normal working day?")),
    ("buying", N_("When you look for a new tool, how do you find and compare options?")),
    ("buying", N_("Who else takes part in the decision, and who has the final say?")),
    (
        "buying",
        N_("What must a product offer before you would buy it (price, security, integrations)?"),
    ),
    ("usage", N_("How and how often do you use our product today?")),
    ("usage", N_("Which features are most valuable to you, and why?")),
    ("usage", N_("What is missing or works poorly, and what do you do instead?")),
]

#: Questions for the support (and customer success) team.
SUPPORT_QUESTIONS: list[tuple[str, str]] = [
    ("problems", N_("Which problems do customers contact you about most often?")),
    ("problems", N_("At which point of their journey do customers struggle most?")),
    ("who", N_("Who usually gets in touch: which roles and industries?")),
    ("who", N_("Are they mostly decision makers or everyday users of the product?")),
    ("value", N_("Which features do customers tell you they value most?")),
    ("channels", N_("Which channel do customers prefer: phone, e-mail or chat?")),
    ("channels", N_("Does the preferred channel differ between kinds of customers?")),
    ("requests", N_("Which features or changes do customers ask for most?")),
    ("requests", N_("Which questions could better documentation or onboarding have prevented?")),
]

#: Audience id → its question list.
AUDIENCES: dict[str, list[tuple[str, str]]] = {
    "customers": CUSTOMER_QUESTIONS,
    "support_team": SUPPORT_QUESTIONS,
}


def question_bank(audience: str | None = None) -> pl.DataFrame:
    """The interview questions as a frame, for one audience or both.

    Args:
        audience: ``"customers"``, ``"support_team"`` or None for both.

    Returns:
        ``pl.DataFrame[audience, topic, question]`` in interview order, the
        questions in the current language.

    Raises:
        ValueError: for an unknown audience.

    Examples:
        >>> question_bank("support_team").row(0)[:2]
        ('support_team', 'problems')
        >>> question_bank().height == len(CUSTOMER_QUESTIONS) + len(SUPPORT_QUESTIONS)
        True
    """
    if audience is not None and audience not in AUDIENCES:
        raise ValueError(f"unknown audience {audience!r}; expected one of {sorted(AUDIENCES)}")
    chosen = [audience] if audience else list(AUDIENCES)
    rows = [(a, topic, _(q)) for a in chosen for topic, q in AUDIENCES[a]]
    return pl.DataFrame(
        rows,
        schema={"audience": pl.String, "topic": pl.String, "question": pl.String},
        orient="row",
    )
