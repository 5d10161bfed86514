"""Account properties as groups: one home for the banding of analytics.md § 4 and § 5.

Private to :mod:`journeylib.analysis`: the funnel correlation and the
breakdowns turn an ``accounts`` column into one value per account the same way.
Text columns keep their values (an empty or blank value is no value); numeric
columns fall into quartile bands of the column over the accounts studied
(linear interpolation), ``[q0, q1)``, ``[q1, q2)``, ``[q2, q3)``, ``[q3, q4]``,
the last closed and equal edges merged, labelled ``f"{lo:g}–{hi:g}"``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from journeylib.errors import ConfigError
from journeylib.frames import collect, to_lazy

__all__ = ["DEFAULT_PROPERTIES", "band_edges", "check_columns", "property_values"]

#: The account properties studied when none are named, those the accounts table has.
DEFAULT_PROPERTIES = ("persona", "acquisition_channel", "industry")


def check_columns(accounts: Any, columns: Sequence[str], *, where: str = "properties") -> None:
    """Raise a one-line :class:`ConfigError` naming the first column the accounts table lacks.

    Examples:
        >>> check_columns(pl.DataFrame({"account_id": ["a"], "plan": ["x"]}), ["plan"])
        >>> check_columns(pl.DataFrame({"account_id": ["a"], "plan": ["x"]}), ["size"])
        Traceback (most recent call last):
        ...
        journeylib.errors.ConfigError: properties: no such account column (expected a column of accounts: plan, found 'size'). Fix: name a column of the accounts table.
    """
    names = to_lazy(accounts).collect_schema().names()
    for column in columns:
        if column not in names or column == "account_id":
            shown = ", ".join(n for n in names if n != "account_id")
            raise ConfigError(
                "no such account column",
                where=where,
                expected=f"a column of accounts: {shown}",
                found=repr(column),
                fix="name a column of the accounts table",
            )


def band_edges(values: Sequence[float] | np.ndarray) -> list[float]:
    """The distinct quartile edges q0 … q4 of ``values`` (linear interpolation), equal edges merged.

    Examples:
        >>> band_edges([1, 2, 3, 4, 5])
        [1.0, 2.0, 3.0, 4.0, 5.0]
        >>> band_edges([1, 1, 1, 1, 9])
        [1.0, 9.0]
        >>> band_edges([])
        []
    """
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return []
    qs = np.quantile(arr, [0.0, 0.25, 0.5, 0.75, 1.0], method="linear")
    return sorted({float(q) for q in qs})


def _band_labels(edges: list[float]) -> list[str]:
    if len(edges) == 1:
        return [f"{edges[0]:g}–{edges[0]:g}"]
    return [f"{lo:g}–{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


def _band_expr(column: str, edges: list[float]) -> pl.Expr:
    """The band label of each value: ``[lo, hi)``, the last band closed; outside the edges: null."""
    labels = _band_labels(edges)
    col = pl.col(column).cast(pl.Float64)
    if len(edges) == 1:
        return pl.when(col == edges[0]).then(pl.lit(labels[0]))
    expr = pl.when(col.is_null() | col.is_nan() | (col < edges[0]) | (col > edges[-1])).then(
        pl.lit(None, dtype=pl.String)
    )
    for i, label in enumerate(labels):
        upper = col <= edges[i + 1] if i == len(labels) - 1 else col < edges[i + 1]
        expr = expr.when(upper).then(pl.lit(label))
    return expr.otherwise(pl.lit(None, dtype=pl.String))


def property_values(
    accounts: Any, column: str, *, among: Sequence[str] | pl.Series | None = None
) -> pl.DataFrame:
    """Each account's value of ``column`` as a group label, or null when it has none.

    Text (and other non-numeric) columns give their value as text, blank text
    being no value. Numeric columns give their quartile band over the accounts
    ``among`` (all accounts when None); an account whose value lies outside
    those bands has none. Only the accounts ``among`` are returned when given.

    Args:
        accounts: the accounts table (``account_id`` and ``column``), any engine.
        column: the account column; a missing one raises :class:`ConfigError`.
        among: the account ids studied (the bands are computed over them).

    Returns:
        ``pl.DataFrame[account_id, value]``, one row per account, ``value`` a String.

    Examples:
        >>> acc = pl.DataFrame({"account_id": list("abcde"), "size": [1, 2, 3, 4, 5],
        ...                     "industry": ["saas", "", "retail", None, "saas"]})
        >>> property_values(acc, "size").rows()
        [('a', '1–2'), ('b', '2–3'), ('c', '3–4'), ('d', '4–5'), ('e', '4–5')]
        >>> property_values(acc, "industry", among=["a", "b"]).rows()
        [('a', 'saas'), ('b', None)]
    """
    check_columns(accounts, [column])
    df = collect(to_lazy(accounts).select("account_id", column)).unique(
        "account_id", keep="first", maintain_order=True
    )
    if among is not None:
        ids = pl.Series("account_id", list(among), dtype=pl.String)
        df = df.filter(pl.col("account_id").is_in(ids.implode()))
    dtype = df.schema[column]
    if dtype.is_numeric():
        edges = band_edges(df[column].drop_nulls().to_numpy())
        value = _band_expr(column, edges) if edges else pl.lit(None, dtype=pl.String)
    else:
        text = pl.col(column).cast(pl.String)
        value = pl.when(text.str.strip_chars() == "").then(None).otherwise(text)
    return df.select(pl.col("account_id").cast(pl.String), value.cast(pl.String).alias("value"))
