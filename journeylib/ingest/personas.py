"""Assign personas to accounts by the rules in ``client.yaml`` (first match wins)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import polars as pl

from journeylib.config import PersonaRule

__all__ = ["UNASSIGNED", "assign_personas", "persona_condition"]

#: The persona of an account that no rule matches and that has none in the data.
UNASSIGNED = "unassigned"


def _as_text(value: Any) -> str:
    # 500 and 500.0 in YAML both mean the text "500" of an Int64 column.
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip().lower()


def _column_text(column: str) -> pl.Expr:
    return pl.col(column).cast(pl.String).str.strip_chars().str.to_lowercase()


def persona_condition(rule: PersonaRule, schema: pl.Schema | None = None) -> pl.Expr:
    """The boolean expression "this account matches ``rule``" (nulls never match).

    ``match`` values: a list means "one of" (compared as text, case-insensitive),
    a scalar means equality (also as text, case-insensitive), ``{min, max}`` an
    inclusive numeric range. All conditions of a rule must hold; a rule without
    conditions matches every account. A column absent from ``schema`` never matches.

    Examples:
        >>> rule = PersonaRule(id="big", match={"company_size": {"min": 500}})
        >>> df = pl.DataFrame({"company_size": [10, 500, None]})
        >>> df.select(persona_condition(rule)).to_series().to_list()
        [False, True, False]
    """
    conds: list[pl.Expr] = []
    for column, cond in rule.match.items():
        if schema is not None and column not in schema:
            conds.append(pl.lit(False))
            continue
        if isinstance(cond, list):
            conds.append(_column_text(column).is_in([_as_text(v) for v in cond]))
        elif isinstance(cond, str | int | float):
            conds.append(_column_text(column) == _as_text(cond))
        else:  # a Range
            num = pl.col(column).cast(pl.Float64, strict=False)
            expr = pl.lit(True)
            if cond.min is not None:
                expr = expr & (num >= cond.min)
            if cond.max is not None:
                expr = expr & (num <= cond.max)
            conds.append(expr & num.is_not_null())
    if not conds:
        return pl.lit(True)
    return pl.all_horizontal(conds).fill_null(False)


def assign_personas(accounts: pl.DataFrame, rules: Sequence[PersonaRule]) -> pl.DataFrame:
    """Fill the null ``persona`` values of ``accounts`` by the first matching rule.

    A persona already in the data wins; an account that no rule matches gets
    ``'unassigned'``. Returns a new frame (the input is not changed) whose
    ``persona`` column is a non-null String; a missing ``persona`` column is added.

    Examples:
        >>> rules = [
        ...     PersonaRule(id="enterprise", match={"company_size": {"min": 500}, "role": ["CTO"]}),
        ...     PersonaRule(id="smb", match={"company_size": {"max": 49}}),
        ... ]
        >>> accounts = pl.DataFrame({
        ...     "account_id": ["a", "b", "c", "d"],
        ...     "company_size": [900, 12, 200, 900],
        ...     "role": ["cto", "ceo", "cto", "ceo"],
        ...     "persona": [None, None, None, "founder"],
        ... })
        >>> assign_personas(accounts, rules)["persona"].to_list()
        ['enterprise', 'smb', 'unassigned', 'founder']
    """
    if "persona" not in accounts.columns:
        accounts = accounts.with_columns(pl.lit(None, dtype=pl.String).alias("persona"))
    chain: Any = None
    for rule in rules:
        cond = persona_condition(rule, accounts.schema)
        chain = (pl.when(cond) if chain is None else chain.when(cond)).then(pl.lit(rule.id))
    assigned = pl.lit(UNASSIGNED) if chain is None else chain.otherwise(pl.lit(UNASSIGNED))
    existing = pl.col("persona").cast(pl.String).str.strip_chars()
    existing = pl.when(existing.str.len_chars() > 0).then(existing)
    return accounts.with_columns(pl.coalesce(existing, assigned).alias("persona"))
