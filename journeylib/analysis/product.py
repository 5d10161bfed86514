"""Product intelligence for the notebooks: the activation finder and account health of a client.

Thin readers of :mod:`journeylib.metrics.activation` and
:mod:`journeylib.metrics.health` (analytics.md §§ 9–10) for a loaded client,
and the tables the notebooks show: the activation candidates, and the paying
accounts with their health, riskiest first (also written for people as a CSV).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from journeylib.analysis.findings import component_label
from journeylib.config import HEALTH_COMPONENTS
from journeylib.i18n import N_
from journeylib.i18n import gettext as _
from journeylib.metrics.activation import activation_candidates
from journeylib.metrics.health import health_json, health_months, health_scores
from journeylib.metrics.period import resolve_period

__all__ = [
    "account_health_of",
    "activation_finder",
    "activation_frame",
    "call_first",
    "health_frame",
]


def activation_finder(client: Any) -> dict[str, Any]:
    """:func:`~journeylib.metrics.activation.activation_candidates` of a client over its period.

    Reads the raw events, the accounts and (when present) the subscriptions.
    """
    t = client.tables
    return activation_candidates(
        t["accounts"], t["events"], client.table("subscriptions"), period=resolve_period(client)
    )


def activation_frame(result: Mapping[str, Any]) -> pl.DataFrame:
    """The candidates of :func:`activation_finder` as a table, best first.

    Returns:
        ``pl.DataFrame[event, times, days, share, precision, recall, phi]``.
    """
    schema = {
        "event": pl.String,
        "times": pl.Int64,
        "days": pl.Int64,
        "share": pl.Float64,
        "precision": pl.Float64,
        "recall": pl.Float64,
        "phi": pl.Float64,
    }
    return pl.DataFrame(list(result.get("candidates") or []), schema=schema)


def account_health_of(client: Any, stream: Any) -> tuple[dict[str, Any], pl.DataFrame] | None:
    """The ``journey health`` document of a client, and the backtest's scored account-months.

    Args:
        client: a loaded client (its period's last month E is scored).
        stream: its journey stream (touchpoints for ``breadth``), whole or in
            account parts (``Store.stream_parts``).

    Returns:
        ``(health, backtest)``: :func:`~journeylib.metrics.health.health_json`
        with ``client.yaml``'s ``health.weights``, and the rows of E−6 … E−1
        (``month, account_id, score, churned`` …) the AUC was computed on; None
        without a subscriptions table.
    """
    subs = client.table("subscriptions")
    if subs is None:
        return None
    period = resolve_period(client)
    weights = client.config.health.weights
    scores = health_scores(
        stream,
        subs,
        client.table("tickets"),
        client.table("surveys"),
        months=health_months(period),
        weights=weights,
    )
    doc = health_json(scores, period=period, weights=weights)
    return doc, scores.filter(pl.col("month").is_in(doc["backtest"]["months"]))


def health_frame(health: Mapping[str, Any], accounts: Any) -> pl.DataFrame:
    """The scored accounts of a health document with their names, riskiest first.

    Returns:
        ``pl.DataFrame[account_id, name, persona, mrr, score, weakest,
        usage_trend, breadth, support_load, nps, mrr_trend]``: ``weakest`` is
        the component that drags the account down, in words; the components
        are the raw values that were ranked.
    """
    rows = [
        {
            "account_id": a["account_id"],
            "mrr": a["mrr"],
            "score": a["score"],
            "weakest": component_label(a["weakest"]),
            **{c: a["components"][c] for c in HEALTH_COMPONENTS},
        }
        for a in health.get("accounts") or []
    ]
    schema = {
        "account_id": pl.String,
        "mrr": pl.Float64,
        "score": pl.Float64,
        "weakest": pl.String,
        **dict.fromkeys(HEALTH_COMPONENTS, pl.Float64),
    }
    frame = pl.DataFrame(rows, schema=schema)
    acc = accounts.collect() if isinstance(accounts, pl.LazyFrame) else accounts
    names = [c for c in ("name", "persona") if c in acc.columns]
    info = acc.select("account_id", *names).unique("account_id", keep="first")
    for c in ("name", "persona"):
        if c not in info.columns:
            info = info.with_columns(pl.lit(None, dtype=pl.String).alias(c))
    out = frame.join(
        info.cast({"name": pl.String, "persona": pl.String}),
        on="account_id",
        how="left",
        maintain_order="left",  # riskiest first, as the health document lists them
    )
    return out.select(
        "account_id", "name", "persona", "mrr", "score", "weakest", *HEALTH_COMPONENTS
    )


#: The headers of :func:`call_first`'s table (translated where shown).
_CALL_FIRST = {
    "name": N_("account"),
    "mrr": N_("MRR"),
    "score": N_("health score"),
    "weakest": N_("what drags it down"),
}


def call_first(at_risk: pl.DataFrame, *, n: int = 10) -> tuple[pl.DataFrame, dict[str, str]]:
    """The ``n`` riskiest accounts of :func:`health_frame` for the report, and their formats.

    Returns:
        ``(frame, formats)``: the account's name (its id when it has none),
        MRR, health score and the component that drags it down, under headers
        in the current language; ``formats`` is the ``show`` formats of those
        headers (MRR as money, the score with one decimal).
    """
    head = {k: _(v) for k, v in _CALL_FIRST.items()}
    frame = at_risk.head(n).select(
        pl.coalesce("name", "account_id").alias(head["name"]),
        pl.col("mrr").alias(head["mrr"]),
        pl.col("score").alias(head["score"]),
        pl.col("weakest").alias(head["weakest"]),
    )
    return frame, {head["mrr"]: "money", head["score"]: "num1"}
