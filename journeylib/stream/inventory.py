"""What the journey stream covers: unmapped events, touchpoint reach, stage entries."""

from __future__ import annotations

from typing import Any

import narwhals as nw
import polars as pl

from journeylib.config import JourneyTemplate
from journeylib.frames import collect, to_lazy
from journeylib.stream.derived import TS
from journeylib.stream.unified import map_events

__all__ = [
    "account_stage_entries",
    "distinct_counts",
    "touchpoint_inventory",
    "touchpoint_table",
    "unmapped_events",
]


def distinct_counts(stream: nw.LazyFrame[Any], keys: list[str]) -> pl.DataFrame:
    """Per ``keys``: ``rows``, and ``accounts``, the distinct non-null account_ids (Int64 both).

    Two group-bys, on any engine.
    """
    per_account = stream.group_by(*keys, "account_id").agg(nw.len().alias("_rows"))
    return collect(
        per_account.group_by(*keys).agg(
            nw.col("_rows").sum().cast(nw.Int64()).alias("rows"),
            nw.col("account_id").count().cast(nw.Int64()).alias("accounts"),
        )
    )


def unmapped_events(stream: Any) -> pl.DataFrame:
    """The events no touchpoint covers, with counts, for the analyst to map.

    Args:
        stream: the journey event stream (any engine), or any frame with
            event, source, account_id and touchpoint columns.

    Returns:
        Columns event, source, rows (Int64), accounts (Int64: distinct
        non-null account_id), sorted by rows descending, then event, then source.

    Examples:
        >>> s = pl.DataFrame({"event": ["x", "x", "pageview"], "source": ["events"] * 3,
        ...     "account_id": ["a", None, "a"], "touchpoint": [None, None, "website"]})
        >>> unmapped_events(s).rows()
        [('x', 'events', 2, 1)]
    """
    lf = to_lazy(stream).filter(nw.col("touchpoint").is_null())
    out = distinct_counts(lf, ["event", "source"])
    return out.select("event", "source", "rows", "accounts").sort(
        ["rows", "event", "source"], descending=[True, False, False]
    )


def touchpoint_inventory(
    stream: Any, template: JourneyTemplate, *, total_accounts: int | None = None
) -> pl.DataFrame:
    """Every touchpoint of the template, in template order, with its reach in the stream.

    The share's denominator is the number of distinct accounts in the stream
    (accounts with at least one raw or derived event), unless
    ``total_accounts`` is given (e.g. the size of the accounts table).
    Anonymous rows count as ``visitors`` (distinct anonymous_id), never as accounts.

    Args:
        stream: the journey event stream (any engine).
        template: the journey template.
        total_accounts: the share's denominator; default: accounts in the stream.

    Returns:
        One row per touchpoint: touchpoint, label (the label, or the id),
        stage, kind, channel, events (rows mapped to it, Int64), accounts
        (distinct accounts reached, Int64), share (accounts / total, null when
        the total is 0), visitors (distinct anonymous visitors, Int64),
        covers (list of the raw event names it covers in the template; an
        event also listed under an earlier touchpoint counts there).

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "awareness", "label": "A",
        ...     "touchpoints": [{"id": "website", "events": ["pageview"]},
        ...                     {"id": "blog", "events": ["blog_read"]}]}]})
        >>> s = pl.DataFrame({"event": ["pageview", "pageview", "login"], "account_id": ["a", "b", "b"],
        ...     "anonymous_id": [None, None, None], "touchpoint": ["website", "website", None]})
        >>> touchpoint_inventory(s, tpl).select("touchpoint", "events", "accounts", "share").rows()
        [('website', 2, 2, 1.0), ('blog', 0, 0, 0.0)]
    """
    lf = to_lazy(stream)
    counts = distinct_counts(lf.filter(~nw.col("touchpoint").is_null()), ["touchpoint"])
    visitors = collect(
        lf.filter(
            ~nw.col("touchpoint").is_null()
            & nw.col("account_id").is_null()
            & ~nw.col("anonymous_id").is_null()
        )
        .group_by("touchpoint")
        .agg(nw.col("anonymous_id").n_unique().cast(nw.Int64()).alias("visitors"))
    )
    if total_accounts is None:
        accounts = lf.filter(~nw.col("account_id").is_null())
        total_accounts = int(collect(accounts.select(nw.col("account_id").n_unique())).item())
    vis = {r["touchpoint"]: r["visitors"] for r in visitors.iter_rows(named=True)}
    return touchpoint_table(template, counts, vis, total_accounts)


def touchpoint_table(
    template: JourneyTemplate,
    counts: pl.DataFrame,
    visitors: dict[str, int] | None = None,
    total_accounts: int | None = None,
) -> pl.DataFrame:
    """:func:`touchpoint_inventory`'s table from counts made elsewhere.

    Args:
        template: the journey template (its touchpoints, in order).
        counts: ``[touchpoint, rows, accounts]``: the stream rows mapped to each
            touchpoint and the distinct accounts among them (touchpoints left
            out count 0).
        visitors: distinct anonymous visitors per touchpoint (absent: 0).
        total_accounts: the share's denominator (None: no share).

    Examples:
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [{"id": "awareness", "label": "A",
        ...     "touchpoints": [{"id": "website", "events": ["pageview"]},
        ...                     {"id": "blog", "events": ["blog_read"]}]}]})
        >>> c = pl.DataFrame({"touchpoint": ["website"], "rows": [5], "accounts": [2]})
        >>> touchpoint_table(tpl, c, total_accounts=4).select("touchpoint", "events", "share").rows()
        [('website', 5, 0.5), ('blog', 0, 0.0)]
    """
    by_tp = {r["touchpoint"]: r for r in counts.iter_rows(named=True)}
    vis = visitors or {}
    rows = []
    for stage in template.stages:
        for tp in stage.touchpoints:
            c = by_tp.get(tp.id, {})
            n_acc = int(c.get("accounts", 0))
            rows.append(
                {
                    "touchpoint": tp.id,
                    "label": tp.display,
                    "stage": stage.id,
                    "kind": tp.kind,
                    "channel": tp.channel,
                    "events": int(c.get("rows", 0)),
                    "accounts": n_acc,
                    "share": n_acc / total_accounts if total_accounts else None,
                    "visitors": int(vis.get(tp.id, 0)),
                    "covers": list(tp.events),
                }
            )
    schema = {
        "touchpoint": pl.String,
        "label": pl.String,
        "stage": pl.String,
        "kind": pl.String,
        "channel": pl.String,
        "events": pl.Int64,
        "accounts": pl.Int64,
        "share": pl.Float64,
        "visitors": pl.Int64,
        "covers": pl.List(pl.String),
    }
    return pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)


def account_stage_entries(stream: Any, template: JourneyTemplate) -> pl.DataFrame:
    """When each account entered each stage: its first event mapped to that stage.

    Only accounts (non-null account_id) and the template's stages count; a
    stream without a ``stage`` column is mapped with the template first.

    Args:
        stream: the journey event stream (any engine).
        template: the journey template (gives the stage order).

    Returns:
        Columns account_id, stage, entered_at (Datetime us UTC), sorted by
        account_id, then stage in template order.

    Examples:
        >>> import datetime as dt
        >>> from journeylib.config import JourneyTemplate
        >>> tpl = JourneyTemplate.model_validate({"stages": [
        ...     {"id": "awareness", "label": "A", "touchpoints": [{"id": "web", "events": ["pageview"]}]},
        ...     {"id": "conversion", "label": "C", "touchpoints": [{"id": "su", "events": ["signed_up"]}]}]})
        >>> t = [dt.datetime(2024, 1, d, tzinfo=dt.timezone.utc) for d in (1, 2, 3)]
        >>> s = pl.DataFrame({"account_id": ["a", "a", "a"], "timestamp": t,
        ...     "event": ["signed_up", "pageview", "pageview"]})
        >>> [(r[1], r[2].day) for r in account_stage_entries(s, tpl).rows()]
        [('awareness', 2), ('conversion', 1)]
    """
    lf = to_lazy(stream)
    if "stage" not in lf.collect_schema().names():
        lf = to_lazy(map_events(lf.to_native(), template))
    order = template.stage_ids
    return collect(
        lf.filter(~nw.col("account_id").is_null() & nw.col("stage").is_in(order))
        .group_by("account_id", "stage")
        .agg(nw.col("timestamp").min().cast(TS).alias("entered_at"))
        .with_columns(
            nw.col("stage")
            .replace_strict(order, list(range(len(order))), default=None, return_dtype=nw.Int64())
            .alias("_rank")
        )
        .sort("account_id", "_rank")
        .select("account_id", "stage", "entered_at")
    )
