"""Buyer personas in numbers: who the customers are, by the persona rules of client.yaml.

* :func:`persona_profile` summarises the rule-based personas
  (``accounts.persona``): size, firmographics, roles, channels, conversion,
  churn and revenue share: the input of ``chart_persona_comparison``;
* :func:`persona_rules_text` and :func:`persona_cards` put the rules and cards
  of ``client.yaml`` in words; :func:`persona_labels` names the personas;
* :func:`day_in_life_frame`: when in the week and day each persona is active.

The rules' text is in the current language (:mod:`journeylib.i18n`);
``NO_PERSONAS_HELP`` stays English (marked with ``N_``): translate it where it
is shown. Client text (ids, labels, cards) is returned as written.

Readings chosen where the brief leaves room (the "natural reading" rule):

* The population is every account first seen no later than the period's last
  month (a persona is a lifetime view of the customer base, so earlier
  customers count); subscriptions and events after the period are ignored.
  The segments read it the same way (:mod:`journeylib.analysis._accounts`).
* ``conversion_rate`` = accounts that signed up and paid in some month up to
  the period's end / accounts that signed up (null when none signed up).
* ``churn_rate`` (logo churn over the lifetime) = accounts that paid and later
  had a month without payment, no later than the period's last month / accounts
  that paid (a reactivated account still counts as having churned once).
* ``revenue_share`` = the persona's MRR in the period's last month / all MRR
  of that month.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.analysis._accounts import paid_summary, population
from journeylib.analysis._shares import top_shares
from journeylib.frames import collect, engine_of, to_lazy, to_polars
from journeylib.i18n import N_
from journeylib.i18n import gettext as _
from journeylib.months import filter_period, month_index, month_index_of, months_filter

__all__ = [
    "NO_PERSONAS_HELP",
    "day_in_life_frame",
    "persona_cards",
    "persona_labels",
    "persona_profile",
    "persona_rules_text",
]

#: Shown by notebook 02 when client.yaml has no persona rules (Markdown).
NO_PERSONAS_HELP = N_("""\
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
```""")


def persona_labels(client: Any) -> dict[str, str]:
    """Persona id -> display label, from client.yaml (the id when it has no label)."""
    return {p.id: p.label or p.id for p in client.config.personas}


def _top_text(frame: pl.DataFrame, group: str, col: str, n: int = 3) -> pl.DataFrame:
    """Per group: the ``n`` most common values of ``col`` with their share, as text."""
    name = f"top_{col}"
    if col not in frame.columns:
        return frame.select(group).unique().with_columns(pl.lit(None, pl.String).alias(name))
    counts = frame.filter(pl.col(col).is_not_null()).group_by(group, col).agg(pl.len().alias("n"))
    return top_shares(counts, group, col, top=n, name=name)


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
    first = month_index(period[0])
    last = month_index(period[1])
    acc = population(accounts, last)
    if "persona" not in acc.columns:
        acc = acc.with_columns(pl.lit(None, pl.String).alias("persona"))
    acc = acc.with_columns(pl.col("persona").cast(pl.String).fill_null("unassigned"))
    signed = (
        (~nw.col("signup_at").is_null() & (month_index_of("signup_at") <= last))
        if "signup_at" in acc.columns
        else nw.lit(False)
    )
    size = (
        nw.col("company_size").cast(nw.Float64())
        if "company_size" in acc.columns
        else nw.lit(None, nw.Float64())
    )
    paid = paid_summary(subscriptions, last)
    base = (
        nw.from_native(acc)
        .select("account_id", "persona", signed.alias("_signed"), size.alias("_size"))
        .to_native()
        .join(paid, on="account_id", how="left")
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
        lf = to_lazy(stream)
        if "source" in lf.collect_schema().names():
            lf = lf.filter(nw.col("source") == "events")
        counts = collect(
            lf.filter(~nw.col("account_id").is_null(), months_filter(lf, "timestamp", first, last))
            .group_by("account_id")
            .agg(nw.len().alias("_events"))
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
    """A value of a client.yaml persona rule, as the analyst wrote it.

    Not a metric, so not :func:`journeylib.formatting.format_value`: a rule's
    bound has no unit and keeps its own digits (``0.5`` stays ``0.5``, a string
    stays as it is); only a whole number gets thousands separators
    (``500.0`` and ``500`` read ``500``, ``5000`` reads ``5,000``).
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return f"{value:,}" if isinstance(value, int) else str(value)


def persona_rules_text(rules: Sequence[Any]) -> pl.DataFrame:
    """The persona rules of ``client.yaml`` in plain words, in the order they are tried.

    Args:
        rules: ``PersonaRule`` objects (``id``, ``label``, ``match``).

    Returns:
        ``pl.DataFrame[order, persona, label, rule]``, ``rule`` in the current
        language; a rule without conditions reads "every account not matched by
        an earlier rule".

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
                values = _(", ").join(_value_text(v) for v in cond)
                parts.append(_("{column} is one of {values}").format(column=col, values=values))
            elif isinstance(cond, str | int | float):
                parts.append(_("{column} is {value}").format(column=col, value=_value_text(cond)))
            else:
                lo, hi = cond.min, cond.max
                if lo is not None and hi is not None:
                    parts.append(
                        _("{column} between {low} and {high}").format(
                            column=col, low=_value_text(lo), high=_value_text(hi)
                        )
                    )
                elif lo is not None:
                    parts.append(
                        _("{column} at least {value}").format(column=col, value=_value_text(lo))
                    )
                elif hi is not None:
                    parts.append(
                        _("{column} at most {value}").format(column=col, value=_value_text(hi))
                    )
        text = (
            _(" and ").join(parts) if parts else _("every account not matched by an earlier rule")
        )
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


def day_in_life_frame(
    stream: Any,
    accounts: Any,
    *,
    period: tuple[str, str] | None = None,
    timezone: str = "UTC",
    labels: Mapping[str, str] | None = None,
) -> pl.DataFrame:
    """When in the week and day accounts are active, per persona.

    Counts the raw events (``source == 'events'``) of accounts, in the period
    when one is given, by weekday (1 = Monday … 7 = Sunday) and hour of day in
    ``timezone`` (the client's time zone reads better than UTC). Accounts
    without a persona form the group '(none)' (in the current language); ``labels``
    renames persona ids.

    Returns:
        ``pl.DataFrame[persona, weekday, hour, events]`` sorted by persona, weekday, hour.

    Examples:
        >>> import datetime as dt
        >>> t = dt.datetime(2024, 1, 1, 9, tzinfo=dt.timezone.utc)  # a Monday
        >>> s = pl.DataFrame({"account_id": ["a", "a"], "timestamp": [t, t],
        ...     "source": ["events", "subscriptions"]})
        >>> day_in_life_frame(s, pl.DataFrame({"account_id": ["a"], "persona": ["ops"]})).rows()
        [('ops', 1, 9, 1)]
    """
    rows = (
        filter_period(to_lazy(stream), "timestamp", period)
        .filter(~nw.col("account_id").is_null(), nw.col("source") == "events")
        .select("account_id", "timestamp")
    )
    # A polars stream is counted where it lies (a store's, from disk, never whole in memory);
    # another engine's rows are collected first.
    s = rows.to_native().lazy() if engine_of(stream) == "polars" else collect(rows).lazy()
    acc = to_polars(accounts).select("account_id", pl.col("persona").cast(pl.String))
    local = pl.col("timestamp").dt.convert_time_zone(timezone)
    out = (
        s.select("account_id", local.alias("t"))
        .join(acc.lazy(), on="account_id", how="left")
        .with_columns(pl.col("persona").fill_null(_("(none)")))
        .group_by(
            "persona",
            pl.col("t").dt.weekday().cast(pl.Int64).alias("weekday"),
            pl.col("t").dt.hour().cast(pl.Int64).alias("hour"),
        )
        .agg(pl.len().cast(pl.Int64).alias("events"))
        .collect()
    )
    if labels:
        out = out.with_columns(pl.col("persona").replace(dict(labels)))
    return out.sort("persona", "weekday", "hour")
