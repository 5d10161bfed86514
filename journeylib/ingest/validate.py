"""Row rules: split a parsed table into valid rows and quarantined rows.

A row that breaks a rule is quarantined whole, unchanged as read, with a
``reason`` column naming every rule it broke (``;``-separated, rule names from
:mod:`journeylib.schemas`). Rows in = rows valid + rows rejected, per table.
"""

from __future__ import annotations

import json
from typing import Any

import polars as pl

from journeylib.ingest.read import TableData
from journeylib.schemas import ROW, TABLES, UNKNOWN_ACCOUNT, later_copies, rule_names

__all__ = ["quarantined", "validate_table"]


def _as_text(col: pl.Series) -> pl.Series:
    """A column of the quarantine output: the value as read, as text."""
    if col.dtype == pl.String:
        return col
    if col.dtype.is_nested() or col.dtype == pl.Object:
        # No cast to text exists for these; the rows are few, so Python is fine here.
        return pl.Series(
            col.name,
            [None if v is None else json.dumps(v, default=str) for v in col.to_list()],
            dtype=pl.String,
        )
    try:
        return col.cast(pl.String, strict=False)
    except pl.exceptions.PolarsError:
        return pl.Series(
            col.name, [None if v is None else str(v) for v in col.to_list()], dtype=pl.String
        )


def quarantined(rows: pl.DataFrame, reason: pl.Series) -> pl.DataFrame:
    """The quarantine output of ``rows`` as read: every column as text, plus ``reason``.

    A ``reason`` column of the file itself is kept, renamed ``reason_in_file``.

    Examples:
        >>> rows = pl.DataFrame({"n": [1, 2], "reason": ["mine", None]})
        >>> quarantined(rows, pl.Series("reason", ["bad_n", "n_missing"])).rows()
        [('1', 'mine', 'bad_n'), ('2', None, 'n_missing')]
    """
    if "reason" in rows.columns:  # keep the file's own column next to ours
        rows = rows.rename({"reason": "reason_in_file"})
    return rows.select(_as_text(rows.get_column(c)) for c in rows.columns).with_columns(reason)


def validate_table(
    data: TableData, *, valid_account_ids: pl.Series | None = None
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, Any]]:
    """Split a parsed table into valid rows and quarantined rows.

    Args:
        data: the table from :func:`read_table`.
        valid_account_ids: the account_id values of the *valid* accounts, for the
            ``unknown_account`` rule (ignored for tables without the foreign key).

    Returns:
        ``(valid, rejected, quality)``: the valid rows in canonical columns and
        dtypes; the quarantined rows as read (all columns as text) plus ``reason``;
        and ``{rows_in, rows_valid, rows_rejected, reasons: {reason: count}}``.
    """
    spec = TABLES[data.name]
    good, failure = spec.row_schema.filter(data.parsed)
    details = failure.details()
    schema_rules = [c for c in details.columns if c not in data.parsed.columns]
    parts = [data.parse_failures]
    if schema_rules and details.height:
        parts.append(
            details.select(ROW, *schema_rules)
            .unpivot(index=ROW, variable_name="reason", value_name="status")
            .filter(pl.col("status").cast(pl.String) == "invalid")
            .select(ROW, "reason")
        )
    if spec.keep_first is not None:
        rule, cols = spec.keep_first
        copies = later_copies(data.parsed, cols)
        if copies.any():
            parts.append(data.parsed.select(ROW).filter(copies).with_columns(reason=pl.lit(rule)))
    if spec.foreign_key and valid_account_ids is not None:
        key = pl.col(spec.foreign_key)
        parts.append(
            data.parsed.lazy()
            .filter(key.is_not_null() & ~key.is_in(valid_account_ids.implode()))
            .select(ROW, reason=pl.lit(UNKNOWN_ACCOUNT))
            .collect()
        )
    long = pl.concat(parts)
    # A required cell that did not parse is reported as bad_*:<col>, not also as <col>_missing.
    implied = data.parse_failures.select(
        ROW, reason=pl.col("reason").str.split(":").list.last() + "_missing"
    )
    long = long.join(implied, on=[ROW, "reason"], how="anti")
    order = {name: i for i, name in enumerate(rule_names(data.name))}
    reasons = (
        long.with_columns(
            order=pl.col("reason").replace_strict(order, default=len(order), return_dtype=pl.Int64)
        )
        .sort(ROW, "order")
        .group_by(ROW, maintain_order=True)
        .agg(pl.col("reason").str.join(";"))
    )
    raw = data.raw
    bad_rows = reasons.get_column(ROW).implode()
    picked = raw.filter(pl.int_range(pl.len(), dtype=pl.Int64).is_in(bad_rows))  # few rows
    rejected = quarantined(picked, reasons.sort(ROW).get_column("reason"))
    valid = good if reasons.height == 0 else good.filter(~pl.col(ROW).is_in(bad_rows))
    valid = valid.drop(ROW)
    counts = long.get_column("reason").value_counts()
    quality = {
        "rows_in": raw.height,
        "rows_valid": valid.height,
        "rows_rejected": rejected.height,
        "reasons": {r: int(c) for r, c in sorted(counts.iter_rows())},
    }
    if quality["rows_in"] != quality["rows_valid"] + quality["rows_rejected"]:  # pragma: no cover
        raise AssertionError(f"{data.name}: rows in != valid + rejected ({quality})")
    return valid, rejected, quality
