"""Buyer personas in numbers, and data-driven segments beside them (notebook 02).

Two views of "who the customers are":

* :func:`persona_profile` summarises the rule-based personas of ``client.yaml``
  (``accounts.persona``): size, firmographics, roles, channels, conversion,
  churn and revenue share: the input of ``chart_persona_comparison``.
* :func:`suggest_segments` clusters accounts on firmographic and behavioural
  features (scikit-learn k-means on a small standardised matrix) and describes
  each cluster in words, so an analyst can name it and compare it with the
  personas (:func:`persona_segment_crosstab`).

Readings chosen where the brief leaves room (the "natural reading" rule):

* The population is every account first seen no later than the period's last
  month (a persona is a lifetime view of the customer base, so earlier
  customers count); subscriptions and events after the period are ignored.
* ``conversion_rate`` = accounts that signed up and paid in some month up to
  the period's end / accounts that signed up (null when none signed up).
* ``churn_rate`` (logo churn over the lifetime) = accounts that paid and later
  had a month without payment, no later than the period's last month / accounts
  that paid (a reactivated account still counts as having churned once).
* ``revenue_share`` = the persona's MRR in the period's last month / all MRR
  of that month.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import numpy as np
import polars as pl

__all__ = [
    "FEATURE_COLUMNS",
    "NO_PERSONAS_HELP",
    "persona_cards",
    "persona_profile",
    "persona_rules_text",
    "persona_segment_crosstab",
    "segment_features",
    "suggest_segments",
]

#: Behavioural and firmographic feature columns of :func:`segment_features` (besides industry).
FEATURE_COLUMNS: tuple[str, ...] = (
    "company_size",
    "events_per_active_month",
    "distinct_touchpoints",
    "days_to_first_value",
    "paid",
    "mrr",
)

_OTHER = "other"
_K_SAMPLE = 20_000  # accounts on which k is chosen for large clients

#: Shown by notebook 02 when client.yaml has no persona rules (Markdown).
NO_PERSONAS_HELP = """\
No persona rules in `client.yaml` yet, so every account is `unassigned` (unless the accounts
table fills `persona`). Add rules under `personas:`; they are tried in order and the first
match wins. A rule matches on accounts columns: a list means "one of", `{min, max}` a range:

```yaml
personas:
  - id: enterprise_it
    label: Enterprise IT lead
    match: {company_size: {min: 500}, role: [it_director, cto]}
    goals: [consolidate reporting tools]
    challenges: [long security review]
  - id: smb_founder
    label: SMB founder
    match: {company_size: {max: 50}}
```"""


# ---------------------------------------------------------------- helpers
def _eager(native: Any) -> pl.DataFrame:
    """Any narwhals-compatible frame as a polars DataFrame."""
    if isinstance(native, pl.DataFrame):
        return native
    if isinstance(native, pl.LazyFrame):
        return native.collect()
    return nw.from_native(native).lazy().collect(backend="polars").to_native()


def _lazy(native: Any) -> nw.LazyFrame:
    frame = nw.from_native(native)
    return frame.lazy() if isinstance(frame, nw.DataFrame) else frame


def _month_index(month: str) -> int:
    y, m = month.split("-")[:2]
    return int(y) * 12 + int(m) - 1


def _mi_pl(col: str) -> pl.Expr:
    return pl.col(col).dt.year().cast(pl.Int64) * 12 + pl.col(col).dt.month().cast(pl.Int64) - 1


def _mi_nw(col: str) -> nw.Expr:
    return nw.col(col).dt.year().cast(nw.Int64()) * 12 + nw.col(col).dt.month().cast(nw.Int64()) - 1


def _population(accounts: Any, last: int | None) -> pl.DataFrame:
    acc = _eager(accounts)
    if last is not None and "first_seen_at" in acc.columns:
        acc = acc.filter(_mi_pl("first_seen_at") <= last)
    return acc


def _paid_summary(subscriptions: Any | None, last: int | None) -> pl.DataFrame:
    """Per account that paid up to month ``last``: first paid month, churned-once flag, MRR at ``last``."""
    schema = {
        "account_id": pl.String,
        "first_paid": pl.Int64,
        "churned": pl.Boolean,
        "mrr_last": pl.Float64,
    }
    if subscriptions is None:
        return pl.DataFrame(schema=schema)
    subs = _eager(subscriptions).select("account_id", _mi_pl("month").alias("mi"), "mrr")
    if last is None:
        last = subs["mi"].max() if subs.height else 0
    paid = subs.filter(pl.col("mrr") > 0, pl.col("mi") <= last)
    nxt = paid.select("account_id", (pl.col("mi") - 1).alias("mi"), pl.lit(True).alias("_next"))
    per = (
        paid.join(nxt, on=["account_id", "mi"], how="left")
        # a paid month whose next month is unpaid and inside the period = a churn
        .with_columns((pl.col("_next").is_null() & (pl.col("mi") < last)).alias("_ends"))
        .group_by("account_id")
        .agg(
            pl.col("mi").min().alias("first_paid"),
            pl.col("_ends").any().alias("churned"),
            pl.col("mrr").filter(pl.col("mi") == last).sum().alias("mrr_last"),
        )
    )
    return per.cast(schema).select(list(schema))


def _top_text(frame: pl.DataFrame, group: str, col: str, n: int = 3) -> pl.DataFrame:
    """Per group: the ``n`` most common values of ``col`` with their share, as text."""
    name = f"top_{col}"
    if col not in frame.columns:
        return frame.select(group).unique().with_columns(pl.lit(None, pl.String).alias(name))
    counts = (
        frame.filter(pl.col(col).is_not_null())
        .group_by(group, col)
        .agg(pl.len().alias("_n"))
        .with_columns((pl.col("_n") / pl.col("_n").sum().over(group)).alias("_share"))
        .sort([group, "_n", col], descending=[False, True, False])
        .with_columns(pl.int_range(pl.len()).over(group).alias("_rank"))
        .filter(pl.col("_rank") < n)
        .with_columns(
            pl.format(
                "{} {}%",
                pl.col(col).cast(pl.String),
                (pl.col("_share") * 100).round(0).cast(pl.Int64),
            ).alias("_txt")
        )
    )
    return counts.group_by(group).agg(pl.col("_txt").str.join(", ").alias(name))


# ---------------------------------------------------------------- personas
def persona_profile(
    accounts: Any,
    subscriptions: Any | None,
    stream: Any | None,
    *,
    period: tuple[str, str],
    labels: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """Per persona: size, firmographics, roles, channels, conversion, churn and revenue share.

    See the module docstring for the readings of conversion, churn and revenue
    share. ``events_per_account`` counts the raw events (``source == 'events'``)
    of the persona's accounts dated in the period, per account of the persona.
    Without subscriptions the revenue columns are null.

    Args:
        accounts: accounts table with ``persona`` filled (``load_client`` does it).
        subscriptions: subscriptions table, or None.
        stream: the journey event stream (or the raw events), or None.
        period: closed range of calendar months ``("YYYY-MM", "YYYY-MM")``.
        labels: optional persona id → label, added as ``label`` (else the id).

    Returns:
        One row per persona, most accounts first: ``persona, label, accounts,
        share, top_industry, top_role, top_acquisition_channel,
        median_company_size, signed_up, paid, conversion_rate, churned,
        churn_rate, mrr, revenue_share, events_per_account`` (the columns
        ``chart_persona_comparison`` needs, and more).

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "persona": ["smb", "smb", "ent"],
        ...     "first_seen_at": [t] * 3, "signup_at": [t, t, t], "company_size": [5, 9, 900]})
        >>> subs = pl.DataFrame({"account_id": ["a", "a", "c"],
        ...     "month": [dt.date(2024, 1, 1), dt.date(2024, 2, 1), dt.date(2024, 1, 1)],
        ...     "mrr": [10.0, 10.0, 30.0]})
        >>> out = persona_profile(acc, subs, None, period=("2024-01", "2024-02"))
        >>> out.select("persona", "accounts", "conversion_rate", "churn_rate", "revenue_share").rows()
        [('smb', 2, 0.5, 0.0, 1.0), ('ent', 1, 1.0, 1.0, 0.0)]
    """
    first = _month_index(period[0])
    last = _month_index(period[1])
    acc = _population(accounts, last)
    if "persona" not in acc.columns:
        acc = acc.with_columns(pl.lit(None, pl.String).alias("persona"))
    acc = acc.with_columns(pl.col("persona").cast(pl.String).fill_null("unassigned"))
    signed = (
        (pl.col("signup_at").is_not_null() & (_mi_pl("signup_at") <= last))
        if "signup_at" in acc.columns
        else pl.lit(False)
    )
    size = (
        pl.col("company_size").cast(pl.Float64)
        if "company_size" in acc.columns
        else pl.lit(None, pl.Float64)
    )
    paid = _paid_summary(subscriptions, last)
    base = acc.select("account_id", "persona", signed.alias("_signed"), size.alias("_size")).join(
        paid, on="account_id", how="left"
    )
    has_subs = subscriptions is not None
    is_paid = pl.col("first_paid").is_not_null()
    prof = base.group_by("persona").agg(
        pl.len().cast(pl.Int64).alias("accounts"),
        pl.col("_size").median().alias("median_company_size"),
        pl.col("_signed").sum().cast(pl.Int64).alias("signed_up"),
        is_paid.sum().cast(pl.Int64).alias("paid"),
        (pl.col("_signed") & is_paid).sum().cast(pl.Int64).alias("_signed_paid"),
        pl.col("churned").fill_null(False).sum().cast(pl.Int64).alias("churned"),
        pl.col("mrr_last").fill_null(0.0).sum().alias("mrr"),
    )
    total = prof["accounts"].sum()
    total_mrr = prof["mrr"].sum()
    prof = prof.with_columns(
        (pl.col("accounts") / total).alias("share")
        if total
        else pl.lit(None, pl.Float64).alias("share"),
        pl.when(pl.col("signed_up") > 0)
        .then(pl.col("_signed_paid") / pl.col("signed_up"))
        .alias("conversion_rate"),
        pl.when(pl.col("paid") > 0).then(pl.col("churned") / pl.col("paid")).alias("churn_rate"),
        (pl.col("mrr") / total_mrr if total_mrr else pl.lit(None, pl.Float64)).alias(
            "revenue_share"
        ),
    )
    if not has_subs:
        prof = prof.with_columns(
            pl.lit(None, pl.Int64).alias("paid"),
            pl.lit(None, pl.Float64).alias("conversion_rate"),
            pl.lit(None, pl.Int64).alias("churned"),
            pl.lit(None, pl.Float64).alias("churn_rate"),
            pl.lit(None, pl.Float64).alias("mrr"),
            pl.lit(None, pl.Float64).alias("revenue_share"),
        )
    # events per account of the persona, raw events dated in the period
    ev_col = pl.lit(None, pl.Float64).alias("events_per_account")
    if stream is not None:
        lf = _lazy(stream)
        names = lf.collect_schema().names()
        if "source" in names:
            lf = lf.filter(nw.col("source") == "events")
        counts = (
            lf.filter(~nw.col("account_id").is_null())
            .with_columns(_mi_nw("timestamp").alias("_mi"))
            .filter(nw.col("_mi") >= first, nw.col("_mi") <= last)
            .group_by("account_id")
            .agg(nw.len().alias("_events"))
            .collect(backend="polars")
            .to_native()
        )
        per = (
            base.select("account_id", "persona")
            .join(counts, on="account_id", how="left")
            .group_by("persona")
            .agg(pl.col("_events").fill_null(0).sum().alias("_ev"), pl.len().alias("_n"))
            .select("persona", (pl.col("_ev") / pl.col("_n")).alias("events_per_account"))
        )
        prof = prof.join(per, on="persona", how="left")
    else:
        prof = prof.with_columns(ev_col)
    for col in ("industry", "role", "acquisition_channel"):
        prof = prof.join(_top_text(acc, "persona", col), on="persona", how="left")
    label_map = dict(labels or {})
    prof = prof.with_columns(
        pl.col("persona")
        .replace_strict(label_map, default=pl.col("persona"), return_dtype=pl.String)
        .alias("label")
    )
    return prof.sort(["accounts", "persona"], descending=[True, False]).select(
        "persona",
        "label",
        "accounts",
        "share",
        "top_industry",
        "top_role",
        "top_acquisition_channel",
        "median_company_size",
        "signed_up",
        "paid",
        "conversion_rate",
        "churned",
        "churn_rate",
        "mrr",
        "revenue_share",
        "events_per_account",
    )


def _value_text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def persona_rules_text(rules: Sequence[Any]) -> pl.DataFrame:
    """The persona rules of ``client.yaml`` in plain words, in the order they are tried.

    Args:
        rules: ``PersonaRule`` objects (``id``, ``label``, ``match``).

    Returns:
        ``pl.DataFrame[order, persona, label, rule]``; a rule without conditions
        reads "every account not matched by an earlier rule".

    Examples:
        >>> from journeylib.config import PersonaRule
        >>> r = PersonaRule(id="ent", match={"company_size": {"min": 500}, "role": ["cto", "cio"]})
        >>> persona_rules_text([r])["rule"].to_list()
        ['company_size at least 500 and role is one of cto, cio']
    """
    rows = []
    for i, rule in enumerate(rules, start=1):
        parts = []
        for col, cond in rule.match.items():
            if isinstance(cond, list):
                parts.append(f"{col} is one of {', '.join(_value_text(v) for v in cond)}")
            elif isinstance(cond, str | int | float):
                parts.append(f"{col} is {_value_text(cond)}")
            else:
                lo, hi = cond.min, cond.max
                if lo is not None and hi is not None:
                    parts.append(f"{col} between {_value_text(lo)} and {_value_text(hi)}")
                elif lo is not None:
                    parts.append(f"{col} at least {_value_text(lo)}")
                elif hi is not None:
                    parts.append(f"{col} at most {_value_text(hi)}")
        text = " and ".join(parts) if parts else "every account not matched by an earlier rule"
        rows.append((i, rule.id, rule.label or rule.id, text))
    return pl.DataFrame(
        rows,
        schema={"order": pl.Int64, "persona": pl.String, "label": pl.String, "rule": pl.String},
        orient="row",
    )


def persona_cards(rules: Sequence[Any]) -> pl.DataFrame:
    """The persona cards of ``client.yaml``: description, goals, challenges, buying behaviour.

    Args:
        rules: ``PersonaRule`` objects.

    Returns:
        ``pl.DataFrame[persona, label, description, goals, challenges,
        buying_behaviour, preferred_channels]``; lists joined with "; " (null when empty).

    Examples:
        >>> from journeylib.config import PersonaRule
        >>> r = PersonaRule(id="smb", goals=["save time", "spend little"])
        >>> persona_cards([r]).select("persona", "label", "goals").row(0)
        ('smb', 'smb', 'save time; spend little')
    """

    def join(v: Sequence[str]) -> str | None:
        return "; ".join(v) if v else None

    rows = [
        (
            r.id,
            r.label or r.id,
            r.description,
            join(r.goals),
            join(r.challenges),
            r.buying_behaviour,
            join(r.preferred_channels),
        )
        for r in rules
    ]
    schema = {
        c: pl.String
        for c in (
            "persona",
            "label",
            "description",
            "goals",
            "challenges",
            "buying_behaviour",
            "preferred_channels",
        )
    }
    return pl.DataFrame(rows, schema=schema, orient="row")


# ---------------------------------------------------------------- segments
def segment_features(
    accounts: Any,
    stream: Any | None,
    subscriptions: Any | None,
    *,
    period: tuple[str, str] | None = None,
    first_value_event: str | None = None,
    top_industries: int = 5,
) -> pl.DataFrame:
    """Per account: the firmographic and behavioural features :func:`suggest_segments` clusters on.

    Features (all up to the period's last month; the whole data without a period):
    ``company_size`` (employees; null when unknown), ``industry_group`` (the
    ``top_industries`` most common industries, the rest ``other``),
    ``events_per_active_month`` (raw events / calendar months with a raw event;
    0 without events), ``distinct_touchpoints`` (touchpoints of the journey
    stream the account touched), ``days_to_first_value`` (days from sign-up, or
    first seen without a sign-up, to the first ``first_value_event``; null when
    never reached or no event is configured), ``paid`` (1 when it paid in any
    month, else 0), ``mrr`` (MRR in the last month).

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
        >>> acc = pl.DataFrame({"account_id": ["a", "b"], "first_seen_at": [t, t],
        ...     "industry": ["x", "y"], "company_size": [10, 20]})
        >>> ev = pl.DataFrame({"account_id": ["a", "a"], "timestamp": [t, t],
        ...     "event": ["login", "report"], "touchpoint": ["app", "app"], "source": ["events"] * 2})
        >>> f = segment_features(acc, ev, None, first_value_event="report")
        >>> f.select("account_id", "events_per_active_month", "distinct_touchpoints",
        ...     "days_to_first_value", "paid").rows()
        [('a', 2.0, 1, 0.0, 0), ('b', 0.0, 0, None, 0)]
    """
    last = _month_index(period[1]) if period else None
    acc = _population(accounts, last)
    cols = acc.columns
    size = (
        pl.col("company_size").cast(pl.Float64)
        if "company_size" in cols
        else pl.lit(None, pl.Float64)
    )
    industry = pl.col("industry").cast(pl.String) if "industry" in cols else pl.lit(None, pl.String)
    start = (
        pl.coalesce(pl.col("signup_at"), pl.col("first_seen_at"))
        if "signup_at" in cols
        else pl.col("first_seen_at")
    )
    feats = acc.select(
        "account_id", size.alias("company_size"), industry.alias("industry"), start.alias("_start")
    )
    top = (
        feats.filter(pl.col("industry").is_not_null())
        .group_by("industry")
        .agg(pl.len().alias("n"))
        .sort(["n", "industry"], descending=[True, False])
        .head(top_industries)["industry"]
        .to_list()
    )
    feats = feats.with_columns(
        pl.when(pl.col("industry").is_in(top))
        .then(pl.col("industry"))
        .otherwise(pl.lit(_OTHER))
        .alias("industry_group")
    )
    ev_rate = pl.DataFrame(schema={"account_id": pl.String, "events_per_active_month": pl.Float64})
    tps = pl.DataFrame(schema={"account_id": pl.String, "distinct_touchpoints": pl.Int64})
    fv = pl.DataFrame(schema={"account_id": pl.String, "_fv_at": pl.Datetime("us", "UTC")})
    if stream is not None:
        lf = _lazy(stream).filter(~nw.col("account_id").is_null())
        if last is not None:
            lf = lf.filter(_mi_nw("timestamp") <= last)
        names = lf.collect_schema().names()
        raw = lf.filter(nw.col("source") == "events") if "source" in names else lf
        ev_rate = (
            raw.with_columns(_mi_nw("timestamp").alias("_mi"))
            .group_by("account_id")
            .agg(nw.len().alias("_n"), nw.col("_mi").n_unique().alias("_months"))
            .with_columns(
                (nw.col("_n").cast(nw.Float64()) / nw.col("_months")).alias(
                    "events_per_active_month"
                )
            )
            .select("account_id", "events_per_active_month")
            .collect(backend="polars")
            .to_native()
        )
        if "touchpoint" in names:
            tps = (
                lf.filter(~nw.col("touchpoint").is_null())
                .group_by("account_id")
                .agg(nw.col("touchpoint").n_unique().cast(nw.Int64()).alias("distinct_touchpoints"))
                .collect(backend="polars")
                .to_native()
            )
        if first_value_event is not None:
            fv = (
                lf.filter(nw.col("event") == first_value_event)
                .group_by("account_id")
                .agg(nw.col("timestamp").min().alias("_fv_at"))
                .collect(backend="polars")
                .to_native()
            )
    paid = _paid_summary(subscriptions, last)
    days = (pl.col("_fv_at") - pl.col("_start")).dt.total_microseconds() / 86_400_000_000
    out = (
        feats.join(ev_rate, on="account_id", how="left")
        .join(tps, on="account_id", how="left")
        .join(
            fv.with_columns(pl.col("_fv_at").cast(pl.Datetime("us", "UTC"))),
            on="account_id",
            how="left",
        )
        .join(paid, on="account_id", how="left")
        .with_columns(
            pl.col("events_per_active_month").fill_null(0.0),
            pl.col("distinct_touchpoints").fill_null(0).cast(pl.Int64),
            # a first-value event before the start (e.g. during a trial without sign-up) counts as 0
            pl.when(days >= 0).then(days).when(days < 0).then(0.0).alias("days_to_first_value"),
            pl.col("first_paid").is_not_null().cast(pl.Int64).alias("paid"),
            pl.col("mrr_last").fill_null(0.0).alias("mrr"),
        )
    )
    return out.select(
        "account_id", "company_size", "industry", "industry_group", *FEATURE_COLUMNS[1:]
    ).sort("account_id")


def _model_matrix(feats: pl.DataFrame) -> tuple[np.ndarray, list[str]]:
    """Standardised numeric matrix: logs of skewed counts, imputed nulls, one-hot industry."""
    size = pl.col("company_size")
    med_size = feats["company_size"].median()
    fv = pl.col("days_to_first_value")
    fv_max = feats["days_to_first_value"].max()
    cols = {
        "log_company_size": (size.fill_null(med_size if med_size is not None else 1.0))
        .clip(1.0, None)
        .log(),
        "log_events_per_active_month": pl.col("events_per_active_month").log1p(),
        "distinct_touchpoints": pl.col("distinct_touchpoints").cast(pl.Float64),
        # never reached first value: as slow as the slowest that did
        "days_to_first_value": fv.fill_null(fv_max if fv_max is not None else 0.0).log1p(),
        "paid": pl.col("paid").cast(pl.Float64),
        "log_mrr": pl.col("mrr").log1p(),
    }
    num = feats.select(**cols)
    groups = sorted(set(feats["industry_group"].to_list()))
    onehot = feats.select(
        [(pl.col("industry_group") == g).cast(pl.Float64).alias(f"industry={g}") for g in groups]
    )
    mat = pl.concat([num, onehot], how="horizontal")
    x = mat.to_numpy().astype(float)
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0  # a constant column carries no information; keep it at 0
    x = (x - x.mean(axis=0)) / sd
    # One-hot columns together weigh like one numeric feature, so industry does not dominate.
    n_hot = onehot.width
    if n_hot:
        x[:, num.width :] /= math.sqrt(n_hot)
    return x, mat.columns


def _level(z: float, low: str, mid: str, high: str) -> str:
    return high if z >= 0.5 else low if z <= -0.5 else mid


def _describe(seg: dict[str, Any]) -> str:
    """One line that an analyst can turn into a segment name.

    ``seg`` holds the segment's raw summaries and, under ``z_<feature>``, the
    segment's mean of each standardised model column (0 = the average account,
    ±0.5 = half a standard deviation away).
    """

    def z(key: str) -> float:
        v = seg.get(f"z_{key}")
        return 0.0 if v is None else float(v)

    parts = []
    size = seg.get("company_size_median")
    if size is not None:
        # absolute bands (the usual SMB / mid-market / enterprise split), not relative ones
        size_word = (
            "small companies"
            if size <= 50
            else "mid-size companies"
            if size < 500
            else "large companies"
        )
        parts.append(f"{size_word} (median {size:,.0f} employees)")
    usage = _level(z("log_events_per_active_month"), "light usage", "moderate usage", "heavy usage")
    parts.append(f"{usage} ({seg['events_per_active_month']:.0f} events per active month)")
    paid = seg["paid_share"]
    paid_word = "mostly paying" if paid >= 0.6 else "few paying" if paid <= 0.2 else "partly paying"
    parts.append(f"{paid_word} ({100 * paid:.0f}% paid)")
    if seg.get("days_to_first_value") is not None:
        # a low standardised time to first value is fast
        speed = _level(-z("days_to_first_value"), "slow to first value", "", "fast to first value")
        if speed:
            parts.append(f"{speed} (median {seg['days_to_first_value']:.0f} days)")
    if (seg.get("top_industry_share") or 0) >= 0.4 and seg.get("top_industry") not in (
        None,
        _OTHER,
    ):
        parts.append(f"mostly {seg['top_industry']} ({100 * seg['top_industry_share']:.0f}%)")
    return ", ".join(parts)


def suggest_segments(
    accounts: Any,
    stream: Any | None,
    subscriptions: Any | None,
    *,
    k: int | None = None,
    seed: int = 0,
    period: tuple[str, str] | None = None,
    first_value_event: str | None = None,
    top_industries: int = 5,
    k_range: Sequence[int] = (3, 4, 5, 6),
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Data-driven segments: k-means on firmographic and behavioural features, described in words.

    The features of :func:`segment_features` become a standardised matrix:
    log company size (unknown sizes take the median), log events per active
    month, distinct touchpoints, log days to first value (never reached = the
    slowest observed), paid yes/no, log MRR, and one-hot industry groups (scaled
    so that together they weigh like one feature). scikit-learn's ``KMeans``
    (``n_init=10``, ``random_state=seed``) clusters it; with ``k=None`` the k of
    ``k_range`` with the best silhouette score (on a sample of at most 3,000
    accounts, drawn with ``seed``) wins; above 20,000 accounts k is chosen on
    a seeded sample of 20,000 and then fitted on all. Segments are numbered ``S1``, ``S2``, …
    from the largest; the same inputs give the same segments.

    The description reads: company size in absolute bands of the segment's
    median (up to 50 employees small, 51–499 mid-size, 500 and more large);
    usage and time to first value relative to the average account (half a
    standard deviation or more away); "mostly paying" from 60 % paid, "few
    paying" up to 20 %; the top industry when it holds 40 % of the segment.

    Args:
        accounts: accounts table.
        stream: the journey event stream (or None).
        subscriptions: subscriptions table (or None).
        k: number of segments, or None to choose by silhouette.
        seed: random seed (k-means initialisation, silhouette sample).
        period: closed range of months; features use data up to its end.
        first_value_event: the event of first value (``client.yaml: first_value``).
        top_industries: industries kept apart; the rest are grouped as ``other``.
        k_range: the k tried when ``k`` is None.

    Returns:
        ``(assignments, description)``: ``assignments[account_id, segment]`` and
        ``description[segment, size, share, description, company_size_median,
        events_per_active_month, distinct_touchpoints, days_to_first_value,
        paid_share, mrr_mean, top_industry, top_industry_share, silhouette]``
        (``days_to_first_value`` is the median over the accounts that reached it;
        ``silhouette`` is the score of the chosen k, the same on every row).

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
        >>> acc = pl.DataFrame({"account_id": [f"a{i}" for i in range(12)], "first_seen_at": [t] * 12,
        ...     "company_size": [5, 6, 7, 8, 50, 60, 70, 80, 900, 1000, 1100, 1200]})
        >>> assign, desc = suggest_segments(acc, None, None, k=3)
        >>> desc["size"].to_list(), assign.height
        ([4, 4, 4], 12)
    """
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from threadpoolctl import threadpool_limits

    feats = segment_features(
        accounts,
        stream,
        subscriptions,
        period=period,
        first_value_event=first_value_event,
        top_industries=top_industries,
    )
    n = feats.height
    if n == 0:
        return (
            pl.DataFrame(schema={"account_id": pl.String, "segment": pl.String}),
            pl.DataFrame(
                schema={
                    "segment": pl.String,
                    "size": pl.Int64,
                    "share": pl.Float64,
                    "description": pl.String,
                }
            ),
        )
    x, names = _model_matrix(feats)
    n_distinct = len(np.unique(x.round(9), axis=0))

    def fit(kk: int, data: np.ndarray = x) -> np.ndarray:
        # One thread: on a busy machine OpenMP oversubscription made this 10x slower.
        with threadpool_limits(1):
            return KMeans(n_clusters=kk, n_init=10, random_state=seed).fit_predict(data)

    best_sil: float | None = None
    if k is None:
        candidates = [kk for kk in k_range if 2 <= kk <= min(n_distinct, n - 1)]
        if not candidates:
            k = max(1, min(n_distinct, 2))
            labels = fit(k)
        else:
            # k is chosen on a seeded sample of large clients, then fitted on every account
            sel = x
            if n > _K_SAMPLE:
                rows = np.sort(np.random.default_rng(seed).choice(n, _K_SAMPLE, replace=False))
                sel = x[rows]
            best = None
            sample = min(sel.shape[0], 3000)
            for kk in candidates:
                lab = fit(kk, sel)
                if len(set(lab.tolist())) < 2:
                    continue
                with threadpool_limits(1):
                    sil = float(silhouette_score(sel, lab, sample_size=sample, random_state=seed))
                # strictly better only: ties keep the smaller k
                if best is None or sil > best[0] + 1e-12:
                    best = (sil, kk, lab)
            if best is None:
                k = candidates[0]
                labels = fit(k)
            else:
                best_sil, k, labels = best
                if sel is not x:
                    labels = fit(k)
    else:
        k = max(1, min(int(k), n_distinct))
        labels = fit(k)
        if 2 <= k <= n - 1 and len(set(labels.tolist())) > 1:
            best_sil = float(
                silhouette_score(x, labels, sample_size=min(n, 3000), random_state=seed)
            )

    feats = feats.with_columns(pl.Series("_cluster", labels.astype(np.int64)))
    # Number segments from the largest; ties by the cluster's mean MRR then id, for stability.
    order = (
        feats.group_by("_cluster")
        .agg(pl.len().alias("_n"), pl.col("mrr").mean().alias("_m"))
        .sort(["_n", "_m", "_cluster"], descending=[True, True, False])
        .with_columns(pl.format("S{}", pl.int_range(1, pl.len() + 1)).alias("segment"))
        .select("_cluster", "segment")
    )
    feats = feats.join(order, on="_cluster", how="left")
    desc = (
        feats.group_by("segment")
        .agg(
            pl.len().cast(pl.Int64).alias("size"),
            pl.col("company_size").median().alias("company_size_median"),
            pl.col("events_per_active_month").mean(),
            pl.col("distinct_touchpoints").mean().cast(pl.Float64),
            pl.col("days_to_first_value").median(),
            pl.col("paid").mean().alias("paid_share"),
            pl.col("mrr").mean().alias("mrr_mean"),
        )
        .with_columns((pl.col("size") / n).alias("share"))
    )
    top_ind = (
        feats.filter(pl.col("industry").is_not_null())
        .group_by("segment", "industry")
        .agg(pl.len().alias("_n"))
        .join(desc.select("segment", "size"), on="segment")
        .sort(["segment", "_n", "industry"], descending=[False, True, False])
        .group_by("segment", maintain_order=True)
        .agg(
            pl.col("industry").first().alias("top_industry"),
            (pl.col("_n").first() / pl.col("size").first()).alias("top_industry_share"),
        )
    )
    desc = desc.join(top_ind, on="segment", how="left")
    # words: the segment's means of the standardised numeric columns (the matrix is centred)
    model = pl.DataFrame(x[:, :6], schema=[f"z_{c}" for c in names[:6]], orient="row").with_columns(
        feats["segment"]
    )
    seg_means = {r["segment"]: r for r in model.group_by("segment").mean().iter_rows(named=True)}
    texts = [_describe({**row, **seg_means[row["segment"]]}) for row in desc.iter_rows(named=True)]
    desc = desc.with_columns(
        pl.Series("description", texts, dtype=pl.String),
        pl.lit(best_sil, pl.Float64).alias("silhouette"),
    ).with_columns(pl.col("segment").str.slice(1).cast(pl.Int64).alias("_i"))
    desc = desc.sort("_i").select(
        "segment",
        "size",
        "share",
        "description",
        "company_size_median",
        "events_per_active_month",
        "distinct_touchpoints",
        "days_to_first_value",
        "paid_share",
        "mrr_mean",
        "top_industry",
        "top_industry_share",
        "silhouette",
    )
    return feats.select("account_id", "segment").sort("account_id"), desc


def persona_segment_crosstab(accounts: Any, assignments: pl.DataFrame) -> pl.DataFrame:
    """Accounts per persona (rows) and data-driven segment (columns), with row totals.

    Examples:
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "persona": ["x", "x", "y"]})
        >>> seg = pl.DataFrame({"account_id": ["a", "b", "c"], "segment": ["S1", "S2", "S1"]})
        >>> persona_segment_crosstab(acc, seg).rows()
        [('x', 1, 1, 2), ('y', 1, 0, 1)]
    """
    acc = _eager(accounts).select(
        "account_id", pl.col("persona").cast(pl.String).fill_null("unassigned")
    )
    joined = acc.join(assignments, on="account_id", how="inner")
    segs = sorted(set(joined["segment"].to_list()), key=lambda s: (len(s), s))
    counts = joined.group_by("persona", "segment").agg(pl.len().cast(pl.Int64).alias("n"))
    wide = counts.pivot(on="segment", index="persona", values="n").fill_null(0)
    for s in segs:
        if s not in wide.columns:
            wide = wide.with_columns(pl.lit(0, pl.Int64).alias(s))
    return (
        wide.select("persona", *segs)
        .with_columns(pl.sum_horizontal(*segs).cast(pl.Int64).alias("total"))
        .sort("persona")
    )
