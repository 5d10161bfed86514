"""Integer account keys for the heaviest group-bys on polars.

Polars groups 50 M events by a text ``account_id`` at about twice the time and
memory of a 64-bit integer key: a group keeps its key's text, and every row's
text is hashed and compared. On polars frames the stage funnel, activity
retention and engagement scores therefore group by polars' 64-bit hash of
``account_id`` (with the calendar month packed into its low 8 bits where they
group by account and month) and join the small result back to the account ids
of the accounts table (or of the subscriptions).

Exactness: the ids of that table are checked to have distinct keys, and the
text keys are used when they do not. An account id that occurs only on the
event side, outside that table, could merge with one of the table's only by a
key collision (odds about n·m / 2^56 for n and m distinct ids); a loaded
client has no such ids (events of unknown accounts are quarantined by
``journeylib.ingest.validate``). DuckDB and Spark frames always group by the text ids.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from journeylib.frames import engine_of
from journeylib.metrics._memo import once

__all__ = [
    "MONTH_BITS",
    "account_key",
    "account_month_key",
    "account_part",
    "keyed",
    "keys_distinct",
    "month_part",
]

#: Low bits of the account-month key that hold the month (offset from the period's first month).
MONTH_BITS = 8
_ACCOUNT_PART = (2**64 - 1) ^ (2**MONTH_BITS - 1)


def account_key(col: str = "account_id") -> pl.Expr:
    """The 64-bit key of an account id (polars' hash, fixed seed: stable within a run)."""
    return pl.col(col).hash(seed=0)


def account_month_key(month_offset: pl.Expr, col: str = "account_id") -> pl.Expr:
    """One 64-bit key per (account, month): the account key with ``month_offset`` in its low bits.

    ``month_offset`` must lie in ``[0, 2**MONTH_BITS)``.
    """
    return (account_key(col) & pl.lit(_ACCOUNT_PART, dtype=pl.UInt64)) | month_offset.cast(
        pl.UInt64
    )


def account_part(key: pl.Expr) -> pl.Expr:
    """The account part of an account-month key (the account key with its low bits cleared)."""
    return key & pl.lit(_ACCOUNT_PART, dtype=pl.UInt64)


def month_part(key: pl.Expr) -> pl.Expr:
    """The month offset packed into an account-month key (Int64)."""
    return (key & (2**MONTH_BITS - 1)).cast(pl.Int64)


def keyed(accounts: Any, *frames: Any, months: int | None = None, col: str = "account_id") -> bool:
    """Whether a function may group ``frames`` by account keys, the accounts' ids checked.

    True when ``accounts`` and every frame are polars frames with a text ``col``
    and the accounts' ids have distinct keys (:func:`keys_distinct`, with
    ``months``). False for other engines and for ids of another type (a
    Categorical or integer id hashes differently from its text, so keys would
    not match across frames; the text path compares them, or refuses to).
    """
    for f in (accounts, *frames):
        if engine_of(f) != "polars":
            return False
        if f.lazy().collect_schema().get(col) != pl.String:
            return False
    return keys_distinct(accounts, months=months, col=col)


def keys_distinct(
    ids: pl.DataFrame | pl.LazyFrame, *, months: int | None = None, col: str = "account_id"
) -> bool:
    """Whether the distinct non-null ids of ``ids`` have distinct keys.

    ``months``: the number of months the account-month keys must hold; False
    when they cannot (more than ``2**MONTH_BITS``), else the account part of
    the key (fewer bits) is checked. Inside ``_memo.shared_results`` (the
    metrics document) each frame is checked once per kind of key: the stage
    funnel, activity retention and engagement all check the accounts table.
    """
    if months is not None and months > 2**MONTH_BITS:
        return False
    key = account_key(col) if months is None else account_part(account_key(col))

    def check() -> bool:
        n_ids, n_keys = (
            ids.lazy()
            .select(col)
            .filter(pl.col(col).is_not_null())
            .unique()
            .select(pl.len().alias("ids"), key.n_unique().alias("keys"))
            .collect()
            .row(0)
        )
        return bool(n_ids == n_keys)

    kind = "account_keys_distinct" if months is None else "account_part_keys_distinct"
    return once(f"{kind}:{col}", ids, check)
