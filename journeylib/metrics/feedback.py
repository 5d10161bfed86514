"""Feedback: NPS (overall, per month, stage, persona), comment sentiment and themes.

Definitions: ``shared/spec/metrics.md`` § Feedback and support. NPS = 100 ×
(promoters − detractors) / responses with a score, over responses dated
(``responded_at``) in the period; promoters score 9–10, passives 7–8,
detractors 0–6. The emotion curve of the journey map is the NPS and the mean
comment sentiment per stage.

Comment sentiment uses a small offline lexicon (below) with negation handling;
it is a rough signal meant for ranking stages and spotting themes, not a
calibrated model.
"""

from __future__ import annotations

import datetime as dt  # noqa: F401  (used by the doctests)
import math
import re
from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import collect, to_lazy
from journeylib.months import in_months, month_index_of, month_label_expr, period_index

__all__ = [
    "DEFAULT_THEMES",
    "NEGATIONS",
    "NEGATIVE_WORDS",
    "POSITIVE_WORDS",
    "comment_sentiment",
    "comment_themes",
    "nps",
    "nps_by_month",
    "nps_by_persona",
    "nps_by_stage",
    "nps_interval",
    "sentiment_by_stage",
    "with_nps_interval",
]

_Z95 = 1.959963984540054  # two-sided 95 % normal quantile
_COUNTS = ("responses", "promoters", "passives", "detractors")


# ---------------------------------------------------------------- NPS
def _scored(surveys: Any, period: tuple[str, str]) -> nw.LazyFrame:
    """Responses with a score dated in the period."""
    first, last = period_index(period)
    return to_lazy(surveys).filter(
        ~nw.col("score").is_null(), in_months("responded_at", first, last)
    )


def _nps_counts(lf: nw.LazyFrame, by: list[str]) -> pl.DataFrame:
    """Responses, promoters, passives and detractors per group (collected, Int64 counts)."""
    score = nw.col("score")
    aggs = [
        nw.len().alias("responses"),
        (score >= 9).cast(nw.Int64).sum().alias("promoters"),
        ((score >= 7) & (score <= 8)).cast(nw.Int64).sum().alias("passives"),
        (score <= 6).cast(nw.Int64).sum().alias("detractors"),
    ]
    out = collect(lf.group_by(*by).agg(*aggs) if by else lf.select(*aggs))
    return out.with_columns(pl.col(*_COUNTS).cast(pl.Int64).fill_null(0))


def _with_score(counts: pl.DataFrame) -> pl.DataFrame:
    """Add ``score`` = 100 × (promoters − detractors) / responses, null when no responses."""
    return counts.with_columns(
        pl.when(pl.col("responses") > 0)
        .then(100 * (pl.col("promoters") - pl.col("detractors")) / pl.col("responses"))
        .otherwise(None)
        .cast(pl.Float64)
        .alias("score")
    )


def _stage_sorted(frame: pl.DataFrame, stage_order: Sequence[str] | None) -> pl.DataFrame:
    """Sort by template stage order; unknown stages after, alphabetically; null stage last."""
    order = {s: i for i, s in enumerate(stage_order or [])}
    return (
        frame.with_columns(
            pl.col("stage").replace_strict(order, default=None, return_dtype=pl.Int64).alias("_pos")
        )
        .sort("_pos", "stage", nulls_last=True)
        .drop("_pos")
    )


def nps(surveys: Any, *, period: tuple[str, str]) -> dict[str, float | int | None]:
    """Net Promoter Score of the responses with a score dated in the period.

    Args:
        surveys: surveys table (``responded_at``, ``score``).
        period: closed range of calendar months.

    Returns:
        ``{"score", "responses", "promoters", "passives", "detractors"}``; score is
        None when there is no scored response.

    Examples:
        >>> t = dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
        >>> surveys = pl.DataFrame({"responded_at": [t] * 4, "score": [10, 9, 7, 3]})
        >>> nps(surveys, period=("2024-01", "2024-01"))
        {'score': 25.0, 'responses': 4, 'promoters': 2, 'passives': 1, 'detractors': 1}
    """
    row = _with_score(_nps_counts(_scored(surveys, period), [])).row(0, named=True)
    return {"score": row["score"], **{k: int(row[k]) for k in _COUNTS}}


def nps_by_month(surveys: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """NPS per calendar month of the period.

    Every month of the period has a row; a month without scored responses has
    ``responses = 0`` and a null score.

    Args:
        surveys: surveys table (``responded_at``, ``score``).
        period: closed range of calendar months.

    Returns:
        ``pl.DataFrame[month, score, responses, promoters, passives, detractors]`` by month.

    Examples:
        >>> t = lambda m: dt.datetime(2024, m, 5, tzinfo=dt.UTC)
        >>> surveys = pl.DataFrame({"responded_at": [t(1), t(1), t(3)], "score": [10, 5, 8]})
        >>> nps_by_month(surveys, period=("2024-01", "2024-03")).select("month", "score").rows()
        [('2024-01', 0.0), ('2024-02', None), ('2024-03', 0.0)]
    """
    first, last = period_index(period)
    counts = _nps_counts(
        _scored(surveys, period).with_columns(month_index_of("responded_at").alias("month_idx")),
        ["month_idx"],
    ).with_columns(pl.col("month_idx").cast(pl.Int64))
    months = pl.DataFrame(
        {"month_idx": list(range(first, last + 1))}, schema={"month_idx": pl.Int64}
    )
    out = months.join(counts, on="month_idx", how="left").with_columns(
        pl.col(*_COUNTS).fill_null(0)
    )
    return (
        _with_score(out)
        .sort("month_idx")
        .select(month_label_expr("month_idx").alias("month"), "score", *_COUNTS)
    )


def nps_by_stage(
    surveys: Any, *, period: tuple[str, str], stage_order: Sequence[str] | None = None
) -> pl.DataFrame:
    """NPS per journey stage (``surveys.stage``), for the stages that have a scored response.

    Stages are listed in ``stage_order`` (the template's order); stages not in
    it follow, alphabetically. Responses without a stage are left out.

    Args:
        surveys: surveys table (``responded_at``, ``score``, ``stage``).
        period: closed range of calendar months.
        stage_order: stage ids in template order.

    Returns:
        ``pl.DataFrame[stage, score, responses, promoters, passives, detractors]``.

    Examples:
        >>> t = dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
        >>> surveys = pl.DataFrame({"responded_at": [t] * 3, "score": [10, 2, 9],
        ...                         "stage": ["retention", "onboarding", "retention"]})
        >>> nps_by_stage(surveys, period=("2024-01", "2024-01"),
        ...              stage_order=["onboarding", "retention"]).select("stage", "score").rows()
        [('onboarding', -100.0), ('retention', 100.0)]
    """
    lf = _scored(surveys, period).filter(~nw.col("stage").is_null())
    out = _with_score(_nps_counts(lf, ["stage"]))
    return _stage_sorted(out, stage_order).select("stage", "score", *_COUNTS)


def nps_by_persona(surveys: Any, accounts: Any, *, period: tuple[str, str]) -> pl.DataFrame:
    """NPS per persona of the responding account (``accounts.persona``).

    Responses without an account, or whose account has no persona, form one
    row with a null persona, listed last; the others are sorted by persona.

    Args:
        surveys: surveys table (``account_id``, ``responded_at``, ``score``).
        accounts: accounts table (``account_id``, ``persona``).
        period: closed range of calendar months.

    Returns:
        ``pl.DataFrame[persona, score, responses, promoters, passives, detractors]``.

    Examples:
        >>> t = dt.datetime(2024, 1, 5, tzinfo=dt.UTC)
        >>> surveys = pl.DataFrame({"account_id": ["a", "b", None], "responded_at": [t] * 3,
        ...                         "score": [10, 0, 9]})
        >>> accounts = pl.DataFrame({"account_id": ["a", "b"], "persona": ["smb", "ent"]})
        >>> nps_by_persona(surveys, accounts, period=("2024-01", "2024-01")).select(
        ...     "persona", "score").rows()
        [('ent', -100.0), ('smb', 100.0), (None, 100.0)]
    """
    personas = to_lazy(accounts).select("account_id", "persona")
    lf = (
        _scored(surveys, period)
        .select("account_id", "score")
        .join(personas, on="account_id", how="left")
    )
    out = _with_score(_nps_counts(lf, ["persona"]))
    return out.sort("persona", nulls_last=True).select("persona", "score", *_COUNTS)


def nps_interval(
    promoters: int, passives: int, detractors: int
) -> tuple[float | None, float | None]:
    """95 % confidence interval of an NPS (normal approximation), clipped to [-100, 100].

    With n responses, p = promoters / n and d = detractors / n, the standard
    error of NPS (in points) is ``100 × sqrt((p + d − (p − d)²) / n)``, the
    standard error of the mean of a variable that is +1 for promoters, 0 for
    passives and −1 for detractors. The interval is NPS ± 1.96 × SE.

    Args:
        promoters: number of promoters.
        passives: number of passives.
        detractors: number of detractors.

    Returns:
        ``(low, high)``, or ``(None, None)`` without responses.

    Examples:
        >>> tuple(round(x, 2) for x in nps_interval(30, 50, 20))
        (-3.72, 23.72)
    """
    n = promoters + passives + detractors
    if n <= 0:
        return None, None
    p, d = promoters / n, detractors / n
    score = 100 * (p - d)
    se = 100 * math.sqrt(max(p + d - (p - d) ** 2, 0.0) / n)
    return max(score - _Z95 * se, -100.0), min(score + _Z95 * se, 100.0)


def with_nps_interval(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` (rows with ``promoters``, ``passives``, ``detractors``) plus ``ci_low`` and ``ci_high``.

    Each row's :func:`nps_interval`, for tables such as :func:`nps_by_stage`'s.

    Examples:
        >>> f = pl.DataFrame({"promoters": [30, 0], "passives": [50, 0], "detractors": [20, 0]})
        >>> with_nps_interval(f).select(pl.col("ci_low", "ci_high").round(2)).rows()
        [(-3.72, 23.72), (None, None)]
    """
    ci = [
        nps_interval(r["promoters"], r["passives"], r["detractors"])
        for r in frame.iter_rows(named=True)
    ]
    return frame.with_columns(
        pl.Series("ci_low", [c[0] for c in ci], dtype=pl.Float64),
        pl.Series("ci_high", [c[1] for c in ci], dtype=pl.Float64),
    )


# ---------------------------------------------------------------- sentiment lexicon
# A small English lexicon (word forms listed explicitly, no stemming), aimed at
# SaaS feedback. Apostrophes are dropped before matching ("don't" → "dont").
POSITIVE_WORDS: frozenset[str] = frozenset(
    """
    good great excellent amazing awesome fantastic wonderful superb outstanding brilliant
    love loved loves loving lovely liked enjoy enjoyed enjoying enjoyable
    happy happier pleased glad delighted satisfied satisfying thrilled excited impressed
    impressive helpful helped helps useful valuable value worth worthwhile beneficial
    easy easier easiest simple simpler simplest intuitive straightforward clear clean
    smooth seamless seamlessly effortless painless convenient handy friendly accessible
    fast faster fastest quick quicker quickly speedy snappy responsive efficient efficiently
    reliable stable solid robust dependable consistent secure safe trustworthy accurate
    powerful flexible versatile customizable comprehensive complete polished elegant
    beautiful nice neat cool slick modern sleek fun best better perfect perfectly ideal
    recommend recommended recommending recommends favorite favourite essential indispensable
    productive productivity saves save saved saving timesaver improve improved improves
    improvement improvements upgrade upgraded win wins winning success successful succeed
    benefit benefits advantage gem superior top incredible incredibly remarkable
    exceptional phenomenal stellar terrific fabulous magnificent marvelous marvellous
    kudos thanks thank thankful grateful appreciate appreciated appreciative
    supportive knowledgeable professional prompt courteous patient attentive caring
    resolved solved fixed works working worked wow affordable
    reasonable fair transparent generous bargain insightful informative organized
    organised streamlined automated automation time-saving reassuring confident comfortable
    trust trusted proud calm relief relieved smart clever genius innovative
    """.split()
)

NEGATIVE_WORDS: frozenset[str] = frozenset(
    """
    bad worse worst poor poorly terrible horrible awful dreadful abysmal atrocious lousy
    hate hated hates hating dislike disliked dislikes annoying annoyed annoys annoyance
    frustrating frustrated frustration frustrates irritating irritated angry upset
    disappointed disappointing disappointment dissatisfied unhappy sad unsatisfied
    useless worthless pointless waste wasted wasting unusable unhelpful inadequate
    difficult hard harder hardest complicated complex convoluted confusing confused
    confuse unclear unintuitive cumbersome clunky clumsy awkward messy cluttered tedious
    slow slower slowest sluggish laggy lag lags lagging delay delayed delays latency
    hang hangs freeze freezes froze frozen crash crashes crashed crashing broken break
    breaks broke buggy bug bugs glitch glitches glitchy error errors fail fails failed
    failing failure failures outage outages downtime unstable unreliable flaky
    inconsistent inaccurate incorrect wrong missing lacks lacking lack limited limitation
    limitations restrictive rigid inflexible outdated dated ugly old-fashioned
    expensive overpriced pricey costly overcharged overcharge ripoff rip-off unfair
    hidden shocking shocked scam refund cancel cancelled canceled
    cancelling canceling churn leaving quit quitting abandon
    abandoned problem problems issue issues trouble troubles headache nightmare mess
    pain painful struggle struggled struggling stuck blocked blocker impossible
    unresponsive ignored ignore ignoring rude unprofessional incompetent slowly
    lost lose losing loss risk risky insecure vulnerable breach concern concerns
    concerned worried worry worrying doubt doubtful skeptical regret regrets
    mediocre meh average underwhelming boring bland lacklustre lackluster subpar
    overwhelming overwhelmed overload steep noisy spam spammy intrusive annoy
    horrendous disaster disastrous catastrophic unacceptable ridiculous absurd
    terrible-support unfinished incomplete half-baked bloated heavy crashy
    """.split()
)

NEGATIONS: frozenset[str] = frozenset(
    """
    not no never none nobody nothing neither nor without hardly barely scarcely
    cannot cant dont doesnt didnt isnt wasnt arent werent wont wouldnt shouldnt
    couldnt havent hasnt hadnt aint nt
    """.split()
)

# How many preceding tokens a negation word reaches ("not very good" → negated).
_NEGATION_SCOPE = 3
# Words and punctuation that end a negation's reach ("not slow, but great": great stays positive).
_CLAUSE_BREAKS: frozenset[str] = frozenset({".", "but", "however", "although", "though", "yet"})


def _lexicon_frame() -> pl.DataFrame:
    words = [(w, 1) for w in sorted(POSITIVE_WORDS - NEGATIVE_WORDS)] + [
        (w, -1) for w in sorted(NEGATIVE_WORDS - POSITIVE_WORDS)
    ]
    return pl.DataFrame(words, schema={"token": pl.String, "polarity": pl.Int64}, orient="row")


def _comments(surveys: Any, period: tuple[str, str] | None) -> pl.DataFrame:
    """The surveys (optionally those dated in the period) as a polars frame."""
    lf = to_lazy(surveys)
    if period is not None:
        first, last = period_index(period)
        lf = lf.filter(in_months("responded_at", first, last))
    return collect(lf)


def _normalised_comment() -> pl.Expr:
    """Lower-cased comment: apostrophes dropped, clause punctuation kept as a "." token."""
    return (
        pl.col("comment")
        .str.to_lowercase()
        .str.replace_all(r"['’`]", "")
        .str.replace_all(r"[.,;:!?()]+", " . ")
        .str.replace_all(r"[^\p{L}\-.]+", " ")
        .str.strip_chars()
    )


def _add_sentiment(frame: pl.DataFrame) -> pl.DataFrame:
    negations = pl.Series(sorted(NEGATIONS)).implode()
    breaks = pl.Series(sorted(_CLAUSE_BREAKS)).implode()

    def negated_by(i: int) -> pl.Expr:
        # The token i places back is a negation and no clause break lies in between.
        before = pl.element().shift(i).is_in(negations).fill_null(False)
        for j in range(1, i):
            before = before & ~pl.element().shift(j).is_in(breaks).fill_null(False)
        return before

    tokens = (
        frame.select(
            pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"),
            _normalised_comment().str.split(" ").alias("token"),
        )
        .with_columns(
            pl.col("token")
            .list.eval(pl.any_horizontal(negated_by(i) for i in range(1, _NEGATION_SCOPE + 1)))
            .alias("negated")
        )
        .explode("token", "negated")
        .join(_lexicon_frame(), on="token", how="inner")
        .with_columns(
            pl.when(pl.col("negated")).then(-pl.col("polarity")).otherwise("polarity").alias("p")
        )
        .group_by("_row")
        .agg(
            (pl.col("p") > 0).sum().cast(pl.Int64).alias("pos"),
            (pl.col("p") < 0).sum().cast(pl.Int64).alias("neg"),
        )
    )
    has_text = pl.col("comment").is_not_null() & (pl.col("comment").str.strip_chars() != "")
    return (
        frame.with_columns(pl.int_range(pl.len(), dtype=pl.Int64).alias("_row"))
        .join(tokens, on="_row", how="left")
        .with_columns(
            pl.when(~has_text)
            .then(None)
            .when(pl.col("pos").fill_null(0) + pl.col("neg").fill_null(0) == 0)
            .then(0.0)
            .otherwise((pl.col("pos") - pl.col("neg")) / (pl.col("pos") + pl.col("neg")))
            .cast(pl.Float64)
            .alias("sentiment")
        )
        .sort("_row")
        .drop("_row", "pos", "neg")
    )


def comment_sentiment(surveys: Any) -> pl.DataFrame:
    """The surveys with a ``sentiment`` in [-1, 1] for each comment, from an offline lexicon.

    Comments are lower-cased and split into words; each word found in
    :data:`POSITIVE_WORDS` counts +1 and in :data:`NEGATIVE_WORDS` −1, flipped
    when one of the three preceding words is a negation (:data:`NEGATIONS`:
    "not good" is negative, "not bad" positive) with no clause break
    (punctuation, "but", "however", …) in between. sentiment = (positive −
    negative) / (positive + negative) matched words; 0 for a comment with no
    lexicon word; null for a missing or blank comment. Text work is done in
    polars after collecting (surveys are small).

    Args:
        surveys: surveys table (``comment`` and any other columns, kept).

    Returns:
        The surveys as a polars frame, in their order, plus ``sentiment`` (Float64).

    Examples:
        >>> surveys = pl.DataFrame({"comment": ["Great support, love it", "not good",
        ...     "Easy but slow", "Not bad at all", "Not slow, but great", None]})
        >>> comment_sentiment(surveys)["sentiment"].to_list()
        [1.0, -1.0, 0.0, 1.0, 1.0, None]
    """
    return _add_sentiment(collect(to_lazy(surveys)))


def sentiment_by_stage(
    surveys: Any,
    *,
    period: tuple[str, str] | None = None,
    stage_order: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Mean comment sentiment per journey stage, with a 95 % interval.

    Over the comments (non-blank) of responses with a stage, dated in the
    period when one is given. The interval is mean ± 1.96 × s / √n (s the
    sample standard deviation), clipped to [-1, 1]; null with fewer than 2
    comments. Stages are ordered as in :func:`nps_by_stage`.

    Args:
        surveys: surveys table (``responded_at``, ``stage``, ``comment``).
        period: closed range of calendar months, or None for all responses.
        stage_order: stage ids in template order.

    Returns:
        ``pl.DataFrame[stage, mean_sentiment, comments, ci_low, ci_high]``.

    Examples:
        >>> surveys = pl.DataFrame({"stage": ["onboarding", "onboarding", "retention"],
        ...                         "comment": ["great", "slow", "love it"]})
        >>> sentiment_by_stage(surveys, stage_order=["onboarding", "retention"]).select(
        ...     "stage", "mean_sentiment", "comments").rows()
        [('onboarding', 0.0, 2), ('retention', 1.0, 1)]
    """
    scored = _add_sentiment(_comments(surveys, period)).filter(
        pl.col("stage").is_not_null(), pl.col("sentiment").is_not_null()
    )
    out = scored.group_by("stage").agg(
        pl.col("sentiment").mean().alias("mean_sentiment"),
        pl.len().cast(pl.Int64).alias("comments"),
        pl.col("sentiment").std(ddof=1).alias("_sd"),
    )
    half = _Z95 * pl.col("_sd") / pl.col("comments").sqrt()
    defined = pl.col("comments") >= 2
    out = out.with_columns(
        pl.when(defined).then((pl.col("mean_sentiment") - half).clip(-1.0, 1.0)).alias("ci_low"),
        pl.when(defined).then((pl.col("mean_sentiment") + half).clip(-1.0, 1.0)).alias("ci_high"),
    )
    return _stage_sorted(out, stage_order).select(
        "stage", "mean_sentiment", "comments", "ci_low", "ci_high"
    )


# ---------------------------------------------------------------- themes
# Keyword prefixes per theme, '|'-separated; a trailing space asks for a whole word.
_THEME_KEYWORDS = {
    "onboarding_setup": (
        "onboard|setup|set up|set-up|getting started|get started|tutorial|walkthrough|"
        "install|configur|first steps|implementation|migrat"
    ),
    "pricing_billing": (
        "pric|billing|billed|bill |invoice|expensive|cost|payment|pay |charge|refund|"
        "discount|afford|overpriced|subscription fee|too much money"
    ),
    "performance_speed": (
        "slow|fast|speed|perform|lag|latency|loading|load time|timeout|time out|"
        "sluggish|snappy|quick"
    ),
    "support": (
        "support|help desk|helpdesk|customer service|agent|ticket|response time|"
        "responded|reply|replied|csm|account manager|success manager"
    ),
    "integrations": (
        "integrat|api|connector|connect|sync|plugin|plug-in|zapier|salesforce|slack|"
        "hubspot|webhook|import |imports|importing|imported|export"
    ),
    "reporting": ("report|dashboard|chart|analytics|metric|insight|visuali|graph|kpi"),
    "usability": (
        "easy|easier|intuitive|confus|usab|user friendly|user-friendly|interface|ui |"
        "ux |navigat|clunky|cumbersome|hard to use|learning curve|complicated"
    ),
    "bugs_reliability": (
        "bug|crash|error|broken|glitch|outage|downtime|reliab|unstable|freez|froze|"
        "fails|failed|failure|data loss|lost data"
    ),
}
DEFAULT_THEMES: dict[str, tuple[str, ...]] = {
    theme: tuple(words.split("|")) for theme, words in _THEME_KEYWORDS.items()
}


def _keyword_pattern(keywords: Sequence[str]) -> str:
    """Regex: any keyword at a word start; a keyword ending in a space must end the word too."""
    alts = [re.escape(k.lower().rstrip()) + (r"\b" if k.endswith(" ") else "") for k in keywords]
    return r"(?:^|\W)(?:" + "|".join(alts) + ")"


def comment_themes(
    surveys: Any,
    *,
    themes: Mapping[str, Sequence[str]] | None = None,
    period: tuple[str, str] | None = None,
    stage_order: Sequence[str] | None = None,
) -> pl.DataFrame:
    """Keyword themes of comments per journey stage: how many comments mention each.

    A comment mentions a theme when its lower-cased text contains one of the
    theme's keywords at the start of a word (keywords are word prefixes:
    ``"integrat"`` matches "integrations"; a keyword written with a trailing
    space must be a whole word: ``"import "`` does not match "important"). One row per (stage, theme) for every
    stage with comments; ``mentions`` = comments that mention the theme,
    ``share`` = mentions / comments of the stage, ``mean_score`` = mean NPS score
    of the mentioning responses that have a score (null when none). Comments
    without a stage form a stage-null group listed last.

    Args:
        surveys: surveys table (``stage``, ``comment``, ``score``, ``responded_at``).
        themes: theme id → keyword prefixes; default :data:`DEFAULT_THEMES`.
        period: closed range of calendar months, or None for all responses.
        stage_order: stage ids in template order.

    Returns:
        ``pl.DataFrame[stage, theme, mentions, comments, share, mean_score]``,
        in stage order, then in the order of ``themes``.

    Examples:
        >>> surveys = pl.DataFrame({"stage": ["onboarding", "onboarding"], "score": [9, 3],
        ...     "comment": ["Setup was easy", "Too expensive and slow"]})
        >>> out = comment_themes(surveys, themes={"setup": ["setup"], "price": ["expensive"]})
        >>> out.rows()
        [('onboarding', 'setup', 1, 2, 0.5, 9.0), ('onboarding', 'price', 1, 2, 0.5, 3.0)]
    """
    themes = dict(DEFAULT_THEMES if themes is None else themes)
    frame = _comments(surveys, period).filter(
        pl.col("comment").is_not_null(), pl.col("comment").str.strip_chars() != ""
    )
    text = pl.col("comment").str.to_lowercase()
    flags = [
        text.str.contains(_keyword_pattern(keywords)).alias(theme)
        if keywords
        else pl.lit(False).alias(theme)
        for theme, keywords in themes.items()
    ]
    score = (
        pl.col("score").cast(pl.Float64) if "score" in frame.columns else pl.lit(None, pl.Float64)
    )
    long = (
        frame.select(pl.col("stage"), score.alias("score"), *flags)
        .with_columns(pl.len().over("stage").cast(pl.Int64).alias("comments"))
        .unpivot(index=["stage", "score", "comments"], variable_name="theme", value_name="hit")
    )
    theme_pos = {t: i for i, t in enumerate(themes)}
    out = (
        long.group_by("stage", "theme")
        .agg(
            pl.col("hit").sum().cast(pl.Int64).alias("mentions"),
            pl.col("comments").first(),
            pl.col("score").filter(pl.col("hit")).mean().alias("mean_score"),
        )
        .with_columns(
            (pl.col("mentions") / pl.col("comments")).alias("share"),
            pl.col("theme").replace_strict(theme_pos, return_dtype=pl.Int64).alias("_tpos"),
        )
    )
    order = {s: i for i, s in enumerate(stage_order or [])}
    return (
        out.with_columns(
            pl.col("stage").replace_strict(order, default=None, return_dtype=pl.Int64).alias("_pos")
        )
        .sort(["_pos", "stage", "_tpos"], nulls_last=True)
        .select("stage", "theme", "mentions", "comments", "share", "mean_score")
        .cast({"stage": pl.String, "theme": pl.String, "mean_score": pl.Float64})
    )
