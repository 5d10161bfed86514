"""Stripe subscriptions export (CSV) -> subscriptions (monthly MRR rows) and missing accounts.

The Stripe Dashboard's subscriptions export has one row per subscription with
``id``, ``Customer ID``, ``Status``, ``Plan`` / ``Product``, ``Quantity``,
``Interval``, ``Amount`` (major units: 49.00 means $49), ``Created (UTC)``,
``Start (UTC)``, ``Trial End (UTC)``, ``Canceled At (UTC)``, ``Ended At (UTC)``
and, where a coupon applies, ``Coupon``. Older layouts say ``Plan Amount`` /
``Plan Interval``; both are accepted.

Each subscription becomes one row per calendar month from its first paid month
(the month of ``Created``, or of ``Trial End`` when the trial ends later)
through the month *before* it ended (``Ended At``, else ``Canceled At``), or
through the export month when it is still active. MRR = amount × quantity,
normalised to a month (year / 12, week × 52 / 12, day × 365 / 12, divided by
the interval count), minus a percent discount when the export has one.
Several subscriptions of one customer in one month are summed.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from journeylib.sources.importers import _common as common

__all__ = ["convert"]

WHAT = "Stripe subscriptions export"

# Column aliases, first the documented header; case, blanks and _ do not matter (find_col).
C_CUSTOMER = ["Customer ID", "Customer"]
C_AMOUNT = ["Amount", "Plan Amount", "Price Amount", "Unit Amount"]
C_INTERVAL = ["Interval", "Plan Interval", "Price Interval"]
C_CREATED = ["Created (UTC)", "Created", "Start (UTC)", "Start Date (UTC)"]
C_COUNT = ["Interval Count", "Plan Interval Count", "Price Interval Count"]
C_QUANTITY = ["Quantity"]
C_STATUS = ["Status"]
C_TRIAL_END = ["Trial End (UTC)", "Trial End"]
C_CANCELED = ["Canceled At (UTC)", "Canceled At", "Cancelled At (UTC)"]
C_ENDED = ["Ended At (UTC)", "Ended At"]
C_PLAN = [
    "Plan",
    "Plan Name",
    "Product",
    "Product Name",
    "Plan Nickname",
    "Price Nickname",
    "Plan ID",
    "Plan price ID",
    "Price ID",
]
C_DISCOUNT = ["Discount Percent", "Percent Off", "Coupon Percent Off", "Discount %"]
C_NAME = ["Customer Name", "Customer Description", "Customer Email"]
C_PERIOD_START = ["Current Period Start (UTC)", "Current Period Start"]

_PER_MONTH = {"month": 1.0, "year": 1 / 12, "week": 52 / 12, "day": 365 / 12}
_INTERVAL_WORDS = {
    "monthly": "month",
    "yearly": "year",
    "annual": "year",
    "annually": "year",
    "weekly": "week",
    "daily": "day",
}
_UNPAID = {"incomplete", "incomplete_expired"}


def _timestamps(
    df: pl.DataFrame, aliases: list[str], tz: str, name: str | None = None
) -> pl.Series:
    # The Dashboard names the zone in the header ("Created (UTC)"): such columns are read
    # in UTC, others (older layouts without the suffix) in the client's zone.
    name = name if name is not None else common.find_col(df, aliases)
    return common.parse_timestamps(common.col(df, name), common.tz_of_column(name, tz))


def convert(files: list[Path], ctx: common.ImportContext) -> common.Converted:
    """Map Stripe subscriptions exports to monthly subscriptions rows (and accounts for new customers)."""

    def rows(df: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, pl.Series]:
        customer, amount, interval, created = common.require_columns(
            df, path, WHAT, [C_CUSTOMER, C_AMOUNT, C_INTERVAL, C_CREATED]
        )
        status = common.optional_col(df, C_STATUS).str.to_lowercase()
        tz = ctx.timezone
        frame = pl.DataFrame(
            {
                "customer": common.col(df, customer),
                "amount": common.parse_number(common.col(df, amount)),
                "amount_text": common.col(df, amount),
                "interval": common.col(df, interval).str.to_lowercase().replace(_INTERVAL_WORDS),
                "count": common.parse_number(common.optional_col(df, C_COUNT)).fill_null(1.0),
                "quantity": common.parse_number(common.optional_col(df, C_QUANTITY)),
                "quantity_text": common.optional_col(df, C_QUANTITY),
                "status": status,
                "created": _timestamps(df, C_CREATED, tz, created),
                "created_text": common.col(df, created),
                "trial_end": _timestamps(df, C_TRIAL_END, tz),
                "canceled": _timestamps(df, C_CANCELED, tz),
                "canceled_text": common.optional_col(df, C_CANCELED),
                "ended": _timestamps(df, C_ENDED, tz),
                "ended_text": common.optional_col(df, C_ENDED),
                "period_start": _timestamps(df, C_PERIOD_START, tz),
                "plan": common.optional_col(df, C_PLAN),
                "discount": common.parse_number(common.optional_col(df, C_DISCOUNT)),
                "name": common.optional_col(df, C_NAME),
            }
        )
        frame = frame.with_columns(
            quantity=pl.col("quantity").fill_null(
                pl.when(pl.col("quantity_text").is_null()).then(1.0)
            ),
        )
        # The export month: the date given to the import, else the latest date the file knows of.
        if ctx.date:
            as_of = pl.Series([ctx.date]).str.to_date()[0]
        else:
            latest = pl.concat(
                [frame["created"], frame["canceled"], frame["ended"], frame["period_start"]]
            ).max()
            as_of = latest.date() if latest is not None else None
        end_ts = pl.coalesce(pl.col("ended"), pl.col("canceled"))
        reason = common.first_reason(
            (pl.col("customer").is_null(), "customer_id_missing"),
            (pl.col("amount").is_null() | (pl.col("amount") < 0), "bad_amount"),
            (~pl.col("interval").is_in(list(_PER_MONTH)), "unknown_interval"),
            (
                (pl.col("count") <= 0) | (pl.col("quantity").is_null()) | (pl.col("quantity") < 0),
                "bad_quantity",
            ),
            (pl.col("created").is_null(), "bad_timestamp:created"),
            (pl.col("status").is_in(list(_UNPAID)), "never_paid"),
            (
                pl.col("ended_text").is_not_null() & pl.col("ended").is_null(),
                "bad_timestamp:ended_at",
            ),
            (
                pl.col("canceled_text").is_not_null() & pl.col("canceled").is_null(),
                "bad_timestamp:canceled_at",
            ),
            ((pl.col("status") == "canceled") & end_ts.is_null(), "canceled_without_date"),
        )
        frame = frame.with_columns(reason=reason)
        # The paid months (UTC calendar months, as their first days): from the month of the
        # first payment through the month before the end, or through the export month.
        start = pl.max_horizontal(pl.col("created"), pl.col("trial_end"))
        frame = frame.with_columns(
            first_month=start.dt.date().dt.truncate("1mo"),
            last_month=pl.when(end_ts.is_not_null())
            .then(end_ts.dt.date().dt.truncate("1mo").dt.offset_by("-1mo"))
            .otherwise(pl.lit(as_of, dtype=pl.Date).dt.truncate("1mo")),
        )
        frame = frame.with_columns(
            reason=pl.when(
                pl.col("reason").is_null() & (pl.col("last_month") < pl.col("first_month"))
            )
            .then(pl.lit("no_paid_month"))
            .otherwise(pl.col("reason"))
        )
        return frame, frame["reason"]

    ok, rejected, rows_read = common.map_exports(files, WHAT, rows)
    subs = pl.DataFrame()
    if ok is not None:
        mrr = (
            pl.col("amount")
            * pl.col("quantity")
            * pl.col("interval").replace_strict(_PER_MONTH, return_dtype=pl.Float64)
            / pl.col("count")
            * (1 - pl.col("discount").fill_null(0.0).clip(0, 100) / 100)
        )
        ok = ok.with_columns(
            mrr=mrr,
            seats=pl.col("quantity").round(0).cast(pl.Int64),
            month=pl.date_ranges(pl.col("first_month"), pl.col("last_month"), "1mo"),
        )
        subs = ok.explode("month").select(
            "customer", "name", "created", "month", "mrr", "plan", "seats"
        )
    tables: dict[str, pl.DataFrame] = {}
    notes: list[str] = []
    if subs.height:
        subs = subs.with_columns(account_id=pl.col("customer").replace(ctx.identity))
        monthly = (
            subs.sort("mrr", descending=True)
            .group_by("account_id", "month", maintain_order=True)
            .agg(pl.col("mrr").sum(), pl.col("seats").sum(), pl.col("plan").first())
            .sort("account_id", "month")
        )
        tables["subscriptions"] = common.typed(
            "subscriptions",
            {c: monthly[c] for c in ("account_id", "month", "mrr", "plan", "seats")},
        )
        # Customers the client does not know yet get an account, so their revenue is not lost.
        known = ctx.account_ids()
        new = (
            subs.filter(~pl.col("account_id").is_in(list(known)))
            .group_by("account_id")
            .agg(
                pl.col("created").min().alias("first_seen_at"), pl.col("name").drop_nulls().first()
            )
            .sort("account_id")
        )
        if new.height:
            tables["accounts"] = common.typed("accounts", new)
            notes.append(
                f"{new.height:,} accounts created for Stripe customers the client did not know "
                "(map them with identity='map.csv', a CSV customer_id,account_id, "
                "to link them to existing accounts)"
            )
    return common.Converted(tables=tables, rejected=rejected, rows_read=rows_read, notes=notes)
