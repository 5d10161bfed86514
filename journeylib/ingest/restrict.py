"""Restrict a client's tables to some accounts: the one home of that filter.

:func:`restrict_to_accounts` keeps the rows of given accounts in every table
that has an ``account_id`` (tables without one, marketing and search queries,
are kept whole; anonymous rows drop out). :func:`restrict_to_segment` picks
the accounts by their ``accounts`` columns first. Both work on polars frames
(eager or lazy, row order kept: a filter, not a join) and on any other
engine's frames through narwhals (a semi join).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import engine_of, to_lazy
from journeylib.ingest.client import stored_stream, with_stored_stream

__all__ = ["restrict_to_accounts", "restrict_to_segment"]


def restrict_to_accounts(tables: Mapping[str, Any], ids: Any) -> dict[str, Any]:
    """Every table keeping only the rows of the accounts ``ids`` (None keeps every row).

    Args:
        tables: table name → native frame (polars eager or lazy, DuckDB, Spark).
        ids: the accounts to keep: a polars Series of ids for polars tables, or
            any frame with an ``account_id`` column (then used as a semi join on
            other engines); None keeps every row.

    Returns:
        Table name → frame of the same kind as given (polars frames stay eager
        or lazy as they were).

    Examples:
        >>> ev = pl.DataFrame({"account_id": ["a", None, "b"], "event": ["x", "y", "z"]})
        >>> mk = pl.DataFrame({"month": ["2024-01"]})
        >>> out = restrict_to_accounts({"events": ev, "marketing": mk}, pl.Series(["b"]))
        >>> out["events"]["event"].to_list(), out["marketing"].height
        (['z'], 1)
    """
    if ids is None:
        return dict(tables)
    out: dict[str, Any] = {}
    series: pl.Series | None = None  # the ids for polars tables, collected once
    for name, frame in tables.items():
        if "account_id" not in to_lazy(frame).collect_schema().names():
            out[name] = frame
        elif isinstance(frame, pl.DataFrame | pl.LazyFrame):
            series = _id_series(ids) if series is None else series
            out[name] = frame.filter(pl.col("account_id").is_in(series.implode()))
        elif isinstance(ids, pl.Series):
            out[name] = to_lazy(frame).filter(nw.col("account_id").is_in(ids.to_list())).to_native()
        else:
            keep = to_lazy(ids).select("account_id").unique()
            out[name] = to_lazy(frame).join(keep, on="account_id", how="semi").to_native()
    return out


def _id_series(ids: Any) -> pl.Series:
    """The account ids as a polars Series (a Series as it is; a frame's ``account_id`` column)."""
    if isinstance(ids, pl.Series):
        return ids
    return to_lazy(ids).select("account_id").collect(backend="polars").to_native()["account_id"]


def restrict_to_segment(client: Any, segment: dict[str, str]) -> Any:
    """A copy of ``client`` whose tables keep only the accounts matching ``segment`` (accounts columns).

    Values compare as text, case-insensitively; a column the accounts table
    lacks matches no account. Tables without ``account_id`` (marketing, search
    queries) are kept whole; anonymous events are dropped.

    Examples:
        >>> import types
        >>> acc = pl.DataFrame({"account_id": ["a", "b"], "plan": ["Pro", "free"]})
        >>> ev = pl.DataFrame({"account_id": ["a", "b", None]})
        >>> c = types.SimpleNamespace(tables={"accounts": acc, "events": ev})
        >>> c = dataclasses.make_dataclass("C", ["tables"])(c.tables)
        >>> restrict_to_segment(c, {"plan": "pro"}).tables["events"]["account_id"].to_list()
        ['a']
    """
    accounts = client.tables["accounts"]
    if engine_of(accounts) == "polars":
        cond = pl.lit(True)
        for col, val in segment.items():
            if col in accounts.collect_schema().names():
                cond = cond & (pl.col(col).cast(pl.String).str.to_lowercase() == str(val).lower())
            else:
                cond = pl.lit(False)
        keep = accounts.filter(cond)
        ids: Any = _id_series(keep)
    else:  # DuckDB relations, Spark DataFrames
        lf = to_lazy(accounts)
        columns = lf.collect_schema().names()
        cond_nw = nw.lit(True)
        for col, val in segment.items():
            if col in columns:
                cond_nw = cond_nw & (
                    nw.col(col).cast(nw.String()).str.to_lowercase() == str(val).lower()
                )
            else:
                cond_nw = nw.lit(False)
        keep = lf.filter(cond_nw).to_native()
        ids = keep
    others = {k: v for k, v in client.tables.items() if k != "accounts"}
    tables = {"accounts": keep, **restrict_to_accounts(others, ids)}
    tables = {name: tables[name] for name in client.tables}  # the client's table order
    out = dataclasses.replace(client, tables=tables)
    stream = stored_stream(client)
    if stream is not None:  # the store's stream, kept to the same accounts
        out = with_stored_stream(out, restrict_to_accounts({"stream": stream}, ids)["stream"])
    return out
