"""Touchpoints: which go with buying, their channel mix and the template's description of them.

* :func:`touchpoint_conversion`: per touchpoint, the share of its accounts
  that paid, and its lift over the average;
* :func:`touchpoint_channel_mix`: the marketing channels of its events;
* :func:`touchpoint_details`: the template's qualitative description;
* :func:`event_mapping_snippet`: a ``client.yaml`` example mapping unmapped
  events to a touchpoint;
* :func:`stream_in_period`: the journey stream's rows dated in the period.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.analysis._shares import top_shares
from journeylib.frames import collect, to_lazy
from journeylib.i18n import gettext as _
from journeylib.months import month_index, months_filter, period_index

__all__ = [
    "event_mapping_snippet",
    "stream_in_period",
    "touchpoint_channel_mix",
    "touchpoint_conversion",
    "touchpoint_details",
]

_TPC_SCHEMA = {
    "touchpoint": pl.String,
    "stage": pl.String,
    "accounts": pl.Int64,
    "paying": pl.Int64,
    "not_paying": pl.Int64,
    "conversion": pl.Float64,
    "lift": pl.Float64,
}


def touchpoint_conversion(
    stream: Any, subscriptions: Any | None, *, period: tuple[str, str] | None = None
) -> pl.DataFrame:
    """Which touchpoints go with conversion: per touchpoint, the share of its accounts that paid.

    Accounts are those of the stream (rows with an account), with their
    events up to the period's end (the whole stream without a period). An
    account *paid* when it has a month with MRR > 0 up to the period's end;
    only touches **before** its first paid month count for a paying account
    (touches after buying cannot explain the purchase), all touches for the
    others. ``conversion`` = paying / accounts touching the touchpoint;
    ``lift`` = conversion / the share of all stream accounts that paid (above
    1: the touchpoint goes with buying more than average; an association, not
    a cause). Without subscriptions nobody paid and conversion is null.

    Returns:
        ``pl.DataFrame[touchpoint, stage, accounts, paying, not_paying,
        conversion, lift]`` for the touchpoints touched, highest conversion first.

    Examples:
        >>> import datetime as dt
        >>> t = lambda m: dt.datetime(2024, m, 3, tzinfo=dt.UTC)
        >>> s = pl.DataFrame({"account_id": ["a", "a", "b"], "timestamp": [t(1), t(3), t(1)],
        ...     "touchpoint": ["demo", "renewal", "blog"], "stage": ["c", "r", "a"]})
        >>> subs = pl.DataFrame({"account_id": ["a"], "month": [dt.date(2024, 2, 1)], "mrr": [9.0]})
        >>> touchpoint_conversion(s, subs).select("touchpoint", "accounts", "conversion", "lift").rows()
        [('demo', 1, 1.0, 2.0), ('blog', 1, 0.0, 0.0)]
    """
    lf = to_lazy(stream).filter(~nw.col("account_id").is_null())
    last = month_index(period[1]) if period is not None else None
    if last is not None:
        lf = lf.filter(months_filter(lf, "timestamp", last=last))
    touched = collect(
        lf.filter(~nw.col("touchpoint").is_null())
        .group_by("account_id", "touchpoint")
        .agg(nw.col("timestamp").min().alias("first_at"), nw.col("stage").min().alias("stage"))
    )
    all_accounts = collect(lf.select("account_id").unique())
    if subscriptions is not None:
        subs = to_lazy(subscriptions).filter(nw.col("mrr") > 0)
        if last is not None:
            subs = subs.filter(months_filter(subs, "month", last=last))
        paid = collect(subs)
        first_paid = paid.group_by("account_id").agg(
            pl.col("month").min().cast(pl.Datetime("us", "UTC")).alias("paid_from")
        )
    else:
        first_paid = pl.DataFrame(
            schema={"account_id": pl.String, "paid_from": pl.Datetime("us", "UTC")}
        )
    n_all = all_accounts.height
    n_paid = all_accounts.join(first_paid, on="account_id", how="inner").height
    base = n_paid / n_all if n_all and subscriptions is not None else None
    per = (
        touched.with_columns(pl.col("first_at").cast(pl.Datetime("us", "UTC")))
        .join(first_paid, on="account_id", how="left")
        .filter(pl.col("paid_from").is_null() | (pl.col("first_at") < pl.col("paid_from")))
        .group_by("touchpoint")
        .agg(
            pl.col("stage").drop_nulls().first(),
            pl.len().cast(pl.Int64).alias("accounts"),
            pl.col("paid_from").is_not_null().sum().cast(pl.Int64).alias("paying"),
        )
        .with_columns((pl.col("accounts") - pl.col("paying")).alias("not_paying"))
    )
    if subscriptions is None:
        per = per.with_columns(
            pl.lit(None, pl.Int64).alias("paying"),
            pl.lit(None, pl.Int64).alias("not_paying"),
            pl.lit(None, pl.Float64).alias("conversion"),
        )
    else:
        per = per.with_columns((pl.col("paying") / pl.col("accounts")).alias("conversion"))
    per = per.with_columns(
        (pl.col("conversion") / base if base else pl.lit(None, pl.Float64)).alias("lift")
    )
    return (
        per.sort(
            ["conversion", "accounts", "touchpoint"],
            descending=[True, True, False],
            nulls_last=True,
        )
        .select(list(_TPC_SCHEMA))
        .cast(_TPC_SCHEMA)
    )


def stream_in_period(stream: pl.DataFrame, period: tuple[str, str]) -> pl.DataFrame:
    """The rows of a (polars) journey stream dated in the period's months.

    Examples:
        >>> import datetime as dt
        >>> s = pl.DataFrame({"timestamp": [dt.datetime(2024, m, 1, tzinfo=dt.UTC) for m in (1, 2, 3)]})
        >>> stream_in_period(s, ("2024-02", "2024-03")).height
        2
    """
    frame = nw.from_native(stream)
    return frame.filter(months_filter(frame, "timestamp", *period_index(period))).to_native()


def touchpoint_channel_mix(stream: Any, *, top: int = 3) -> pl.DataFrame:
    """Per touchpoint, its events' most common marketing channels (``channel``) as text.

    Over the mapped rows of the stream that carry a channel; shares are of
    those rows. Touchpoints whose events carry no channel are absent.

    Returns:
        ``pl.DataFrame[touchpoint, channel_mix]``, e.g. ``"organic_search 60%, social 40%"``.

    Examples:
        >>> s = pl.DataFrame({"touchpoint": ["web", "web", "web", "app"],
        ...     "channel": ["seo", "seo", "ads", None]})
        >>> touchpoint_channel_mix(s).rows()
        [('web', 'seo 67%, ads 33%')]
    """
    counts = collect(
        to_lazy(stream)
        .filter(~nw.col("touchpoint").is_null(), ~nw.col("channel").is_null())
        .group_by("touchpoint", "channel")
        .agg(nw.len().alias("n"))
    )
    mix = top_shares(counts, "touchpoint", "channel", top=top, name="channel_mix")
    return mix.select(pl.col("touchpoint").cast(pl.String), pl.col("channel_mix").cast(pl.String))


_TP_FIELDS = (
    "description",
    "customer_goal",
    "company_goal",
    "customer_does",
    "company_does",
    "customer_feels",
    "desired_outcome",
    "feeds_into",
)


def touchpoint_details(
    template: Any, fields: Sequence[str] | None = None, *, drop_empty: bool = True
) -> pl.DataFrame:
    """The template's qualitative description of every touchpoint, in template order.

    Args:
        template: the journey template.
        fields: touchpoint fields to show (default all: description,
            customer_goal, company_goal, customer_does, company_does,
            customer_feels, desired_outcome, feeds_into).
        drop_empty: leave out the fields no touchpoint fills.

    Returns:
        ``pl.DataFrame[stage, touchpoint, label, kind, *fields]`` (``feeds_into``
        joined as text; missing values null).

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "a", "label": "A",
        ...     "touchpoints": [{"id": "web", "events": ["pv"], "customer_goal": "learn",
        ...                      "feeds_into": ["demo"]}]}]})
        >>> touchpoint_details(tpl).columns
        ['stage', 'touchpoint', 'label', 'kind', 'customer_goal', 'feeds_into']
        >>> touchpoint_details(tpl, ["customer_goal"]).row(0)
        ('a', 'web', 'web', None, 'learn')
    """
    wanted = list(_TP_FIELDS if fields is None else fields)
    rows = []
    for stage in template.stages:
        for tp in stage.touchpoints:
            row = {"stage": stage.id, "touchpoint": tp.id, "label": tp.display, "kind": tp.kind}
            for f in wanted:
                v = getattr(tp, f, None)
                row[f] = (", ".join(v) if isinstance(v, list) else v) or None
            rows.append(row)
    schema = {c: pl.String for c in ("stage", "touchpoint", "label", "kind", *wanted)}
    out = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
    if drop_empty and out.height:
        out = out.select(
            [c for c in out.columns if c not in wanted or out[c].null_count() < out.height]
        )
    return out


def event_mapping_snippet(template: Any, events: Sequence[str]) -> str:
    """An example ``event_mapping`` block for client.yaml that maps unmapped ``events``.

    ``event_mapping`` *replaces* a touchpoint's event list, so the example
    repeats the touchpoint's current events and adds the new ones; the analyst
    picks the right touchpoint (the example uses the template's last
    touchpoint of a direct kind, else its last touchpoint). Plain text: escape it when shown;
    its comment is in the current language.

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "a", "label": "A",
        ...     "touchpoints": [{"id": "app", "events": ["login"], "kind": "direct"}]}]})
        >>> print(event_mapping_snippet(tpl, ["help_search"]))
        event_mapping:
          # touchpoint id: [its current events ..., the events to add]
          app: [login, help_search]
    """
    tps = template.touchpoints
    if not tps:
        return "event_mapping: {}"
    direct = [tp for tp in tps if tp.kind == "direct"]
    tp = (direct or tps)[-1]
    evs = list(tp.events) + [e for e in events if e not in tp.events]
    comment = _("# touchpoint id: [its current events ..., the events to add]")
    return f"event_mapping:\n  {comment}\n  {tp.id}: [{', '.join(evs)}]"
