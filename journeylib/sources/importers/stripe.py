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

The identity can be the Dashboard's *customers* export (``id``, ``Description``,
``Email``, ``Name``, ``Created (UTC)``, …, ``<key> (metadata)``): each customer
is matched to an account by its e-mail domain (:func:`match_customers`), or
takes the account id from a metadata column (``match="metadata:account_id"``).
The subscriptions of customers it does not match are quarantined.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from journeylib.errors import DataError, JourneyError
from journeylib.sources.importers import _common as common

__all__ = ["CustomerMatch", "convert", "customers_export", "match_customers", "parse_match"]

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

# The customers export (the identity source): what tells it from a customer_id,account_id map.
C_CUSTOMERS_ID = ["id"]
C_EMAIL = ["Email"]
# Extra columns of the accounts table that hold a company's domain (not in data.md, but kept).
C_ACCOUNT_DOMAIN = ["domain", "company domain", "email domain", "website", "url"]
_METADATA = "(metadata)"
# Legal forms dropped from account names before they are compared with a domain's name.
_LEGAL = re.compile(
    r"(?:[\s,.]+(?:inc|incorporated|llc|ltd|limited|gmbh|ag|sa|sas|bv|plc|corp|"
    r"corporation|co|company|group|holdings?))+\.?$"
)
# Second-level labels of country domains: acme.co.uk is acme's.
_SECOND_LEVEL = {"co", "com", "org", "net", "ac", "gov", "edu", "ne", "or"}

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


@dataclass
class CustomerMatch:
    """A Stripe customers export matched to the client's accounts.

    Attributes:
        file: the export's file name.
        by: how the customers were matched, for the report.
        accounts: customer id -> account_id, for each matched customer.
        unmatched: customer id -> why it was not matched (``no_email``, ``free_mail``,
            ``no_account_for_domain``, ``ambiguous_domain``, ``no_metadata``).
        emails: customer id -> e-mail, to name unmatched customers in the report.
    """

    file: str
    by: str
    accounts: dict[str, str] = field(default_factory=dict)
    unmatched: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)

    def summary(self) -> str:
        """One line for the import report: how many customers were matched, and how.

        Examples:
            >>> CustomerMatch("c.csv", "e-mail domain", {"cus_A": "1"}, {"cus_B": "free_mail"}).summary()
            'Stripe customers export c.csv: 1 of 2 customers matched by e-mail domain, 1 not matched (free_mail 1)'
        """
        total = len(self.accounts) + len(self.unmatched)
        text = (
            f"Stripe customers export {self.file}: {len(self.accounts):,} of {total:,} "
            f"customers matched by {self.by}"
        )
        if self.unmatched:
            why = Counter(self.unmatched.values()).most_common()
            text += (
                f", {len(self.unmatched):,} not matched ("
                + ", ".join(f"{r} {n:,}" for r, n in why)
                + ")"
            )
        return text


def parse_match(match: str | None) -> str | None:
    """The metadata key named by ``match`` (``metadata:KEY``), or None to match by e-mail domain.

    Examples:
        >>> parse_match(None), parse_match("domain"), parse_match("metadata: account_id (metadata)")
        (None, None, 'account_id')

    Raises:
        JourneyError: (``where="match"``) for any other value.
    """
    if match is None or match.strip().lower() == "domain":
        return None
    kind, sep, key = match.partition(":")
    key = re.sub(r"\s*\(metadata\)\s*$", "", key.strip(), flags=re.IGNORECASE)
    if kind.strip().lower() != "metadata" or not sep or not key:
        raise common.bad_option(
            "match",
            match,
            expected="domain, or metadata:KEY naming a metadata column of the customers export",
            fix="write match='metadata:account_id' (the account id in that column) or match='domain'",
        )
    return key


def customers_export(path: Path) -> pl.DataFrame | None:
    """The Stripe customers export at ``path``, or None when the file is a ``KEY,account_id`` map.

    A customers export has an ``id`` column and customer columns (``Email``,
    ``Name``, ``Description``, ``<key> (metadata)``, …) but no ``account_id`` column.

    Raises:
        DataError: the file is the subscriptions export (a ``Customer ID`` column or
            ``sub_`` ids): it shares ``id`` and ``Created (UTC)`` with the customers
            export, and taken for one it would match no customer at all.
    """
    df = common.read_export_csv(path, "identity map")
    if common.find_col(df, ["account_id"]) is not None or not common.find_col(df, C_CUSTOMERS_ID):
        return None
    ids = df.get_column(common.find_col(df, C_CUSTOMERS_ID)).cast(pl.String).drop_nulls()
    sub_ids = int(ids.str.strip_chars().str.starts_with("sub_").sum())
    customer_col = common.find_col(df, ["Customer ID"])
    if customer_col is not None or sub_ids:
        found = [f"a '{customer_col}' column"] if customer_col else []
        found += [f"{sub_ids} sub_ ids"] if sub_ids else []
        raise DataError(
            "the identity file is a Stripe subscriptions export, not the customers export",
            where=f"{path.name}: {customer_col or 'id'}",
            expected="the Dashboard's customers export (id cus_…, Email, Name, … (metadata)) "
            "or a customer_id,account_id map",
            found=" and ".join(found),
            fix="import the subscriptions export as the file, with identity=customers.csv: "
            "the Dashboard's Customers > Export, or a customer_id,account_id CSV",
        )
    customer_cols = [*C_EMAIL, "Name", "Description", "Created (UTC)"]
    if common.find_col(df, customer_cols) or _metadata_columns(df):
        return df
    return None


def _metadata_columns(df: pl.DataFrame) -> dict[str, str]:
    # "account_id (metadata)" -> {"account_id": "account_id (metadata)"}
    return {c[: -len(_METADATA)].strip(): c for c in df.columns if c.lower().endswith(_METADATA)}


def _domain_of(text: str | None) -> str | None:
    """The domain of an e-mail or web address: lower case, without ``www.``; None without one.

    Examples:
        >>> _domain_of("Jane@Acme-Analytics.com"), _domain_of("https://www.acme.co.uk/x"), _domain_of("jane")
        ('acme-analytics.com', 'acme.co.uk', None)
    """
    if not text:
        return None
    text = text.strip().lower()
    text = text.rsplit("@", 1)[1] if "@" in text else re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/", 1)[0].split(":", 1)[0].strip(".").removeprefix("www.")
    return text if "." in text else None


def _org_name(domain: str) -> str:
    """The company part of a domain.

    Examples:
        >>> _org_name("acme-analytics.com"), _org_name("billing.acme.co.uk"), _org_name("globex.io")
        ('acme-analytics', 'acme', 'globex')
    """
    labels = domain.split(".")
    if len(labels) >= 3 and labels[-2] in _SECOND_LEVEL and len(labels[-1]) == 2:
        return labels[-3]
    return labels[-2]


def _name_keys(name: str) -> set[str]:
    """An account name as the domain names it could match, with and without its legal form.

    Examples:
        >>> sorted(_name_keys("Acme Analytics, Inc.")), sorted(_name_keys("Blueloop Ltd"))
        (['acmeanalytics', 'acmeanalyticsinc'], ['blueloop', 'blueloopltd'])
    """
    keys = {common.norm_name(name), common.norm_name(_LEGAL.sub("", name.lower()))}
    return keys - {""}


def _index(pairs: list[tuple[str | None, set[str]]]) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for aid, keys in pairs:
        for key in keys:
            if aid:
                out.setdefault(key, set()).add(aid)
    return out


def match_customers(
    df: pl.DataFrame, path: Path, accounts: pl.DataFrame, match: str | None = None
) -> CustomerMatch:
    """Match the customers of a Stripe customers export to the client's accounts.

    By default by the e-mail's domain: against a domain column of the accounts
    (``domain``, ``website``, …, when the table has one), then against the
    account names (``jane@acme-analytics.com`` -> "Acme Analytics", legal forms
    such as Inc. or Ltd ignored). Free-mail domains never match, nor a domain
    that fits several accounts. With ``match="metadata:KEY"`` the account id is
    the value of the customer's ``KEY (metadata)`` column.

    Raises:
        JourneyError: (``where="match"``) a bad ``match``, or a metadata column the
            export does not have (the message lists those it has).
    """
    key = parse_match(match)
    ids = common.col(df, common.find_col(df, C_CUSTOMERS_ID)).to_list()
    emails = common.optional_col(df, C_EMAIL).str.to_lowercase().to_list()
    if key is not None:
        meta = _metadata_columns(df)
        column = common.find_col(df, [f"{key} {_METADATA}"])
        if column is None:
            raise JourneyError(
                f"the Stripe customers export has no metadata column '{key}'",
                where="match",
                expected=f"a column '{key} {_METADATA}' in {path.name}",
                found="metadata columns " + ", ".join(meta) if meta else "no metadata columns",
                fix=f"name one of them, e.g. match='metadata:{next(iter(meta))}'"
                if meta
                else "add the metadata column to the export (Edit columns), "
                "or match by e-mail domain with match='domain'",
            )
        values = common.col(df, column).to_list()
        found = [(v, None if v else "no_metadata") for v in values]
        by = f"metadata {key}"
    else:
        found, by = _match_domains(emails, accounts)
    out = CustomerMatch(file=path.name, by=by)
    for cid, email, (aid, why) in zip(ids, emails, found, strict=True):
        if not cid or cid in out.accounts or cid in out.unmatched:
            continue  # the first row of a customer wins
        if email:
            out.emails[cid] = email
        if aid:
            out.accounts[cid] = aid
        else:
            out.unmatched[cid] = why or "no_account_for_domain"
    return out


def _match_domains(
    emails: list[str | None], accounts: pl.DataFrame
) -> tuple[list[tuple[str | None, str | None]], str]:
    # The accounts table has no domain column in data.md; an extra one is used when present.
    domain_col = common.find_col(accounts, C_ACCOUNT_DOMAIN)
    ids = common.optional_col(accounts, ["account_id"]).to_list()
    by_domain: dict[str, set[str]] = {}
    if domain_col is not None:
        domains = [_domain_of(d) for d in common.col(accounts, domain_col).to_list()]
        by_domain = _index([(a, {d} if d else set()) for a, d in zip(ids, domains, strict=True)])
    names = common.optional_col(accounts, ["name"]).to_list()
    by_name = _index([(a, _name_keys(n) if n else set()) for a, n in zip(ids, names, strict=True)])
    found: list[tuple[str | None, str | None]] = []
    for email in emails:
        domain = _domain_of(email) if email and "@" in email else None
        if domain is None:
            found.append((None, "no_email"))
            continue
        if domain in common.FREE_MAIL:
            found.append((None, "free_mail"))
            continue
        labels = domain.split(".")
        # jane@eu.acme.com belongs to acme.com as well
        parents = [".".join(labels[i:]) for i in range(len(labels) - 1)]
        hits = next((by_domain[d] for d in parents if d in by_domain), None)
        hits = hits or by_name.get(common.norm_name(_org_name(domain)), set())
        if len(hits) == 1:
            found.append((next(iter(hits)), None))
        else:
            found.append((None, "ambiguous_domain" if hits else "no_account_for_domain"))
    on = f"accounts.{domain_col}, then account names" if domain_col else "account names"
    return found, f"e-mail domain (on {on})"


def convert(
    files: list[Path], ctx: common.ImportContext, customers: CustomerMatch | None = None
) -> common.Converted:
    """Map Stripe subscriptions exports to monthly subscriptions rows (and accounts for new customers).

    Args:
        files: the subscriptions exports.
        ctx: the client and the options; ``ctx.identity`` maps customer ids to accounts.
        customers: the customers export given as the identity, matched
            (:func:`match_customers`): the subscriptions of customers it did not
            match are quarantined (``unmatched_customer:<why>``, ``unknown_customer``)
            instead of becoming new accounts.
    """
    # customer id -> reason, for the customers whose subscriptions were quarantined as unmatched
    dropped: dict[str, str] = {}
    # how ambiguous amounts ("1,234") were read, and values that fit only the other separator
    number_notes: list[str] = []

    def number(series: pl.Series, path: Path, column: str | None) -> pl.Series:
        return common.parse_number(series, notes=number_notes, name=f"{path.name}: {column}")

    def rows(df: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, pl.Series]:
        customer, amount, interval, created = common.require_columns(
            df, path, WHAT, [C_CUSTOMER, C_AMOUNT, C_INTERVAL, C_CREATED]
        )
        status = common.optional_col(df, C_STATUS).str.to_lowercase()
        tz = ctx.timezone
        frame = pl.DataFrame(
            {
                "customer": common.col(df, customer),
                "amount": number(common.col(df, amount), path, amount),
                "amount_text": common.col(df, amount),
                "interval": common.col(df, interval).str.to_lowercase().replace(_INTERVAL_WORDS),
                "count": common.parse_number(common.optional_col(df, C_COUNT)).fill_null(1.0),
                "quantity": number(
                    common.optional_col(df, C_QUANTITY), path, common.find_col(df, C_QUANTITY)
                ),
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
        if customers is not None:
            # A customers export as identity is the list of customers to keep: linking the
            # others to no account would create accounts named cus_… beside the real ones.
            why = pl.col("customer").replace_strict(
                {c: f"unmatched_customer:{r}" for c, r in customers.unmatched.items()},
                default=pl.lit("unknown_customer"),
                return_dtype=pl.String,
            )
            lost = pl.col("customer").is_not_null() & ~pl.col("customer").is_in(
                list(customers.accounts)
            )
            frame = frame.with_columns(
                reason=pl.coalesce(pl.col("reason"), pl.when(lost).then(why))
            )
            for cid, reason in frame.filter(lost).select("customer", "reason").iter_rows():
                if reason.startswith(("unmatched_customer", "unknown_customer")):
                    dropped.setdefault(cid, reason)
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
    notes: list[str] = list(number_notes)
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
                f"{new.height:,} accounts created for account ids of the customers export "
                "the client did not know"
                if customers is not None
                else f"{new.height:,} accounts created for Stripe customers the client did "
                "not know (map them with identity='map.csv', a CSV customer_id,account_id, "
                "to link them to existing accounts)"
            )
    if customers is not None:
        notes.insert(0, customers.summary())
        if dropped:
            named = ", ".join(
                f"{c} ({customers.emails.get(c, 'no e-mail')}: {r.partition(':')[2]})"
                if r.startswith("unmatched")
                else f"{c} (not in the customers export)"
                for c, r in list(dropped.items())[:5]
            )
            more = f" and {len(dropped) - 5:,} more" if len(dropped) > 5 else ""
            fix = (
                "fill in that metadata in Stripe and export the customers again"
                if customers.by.startswith("metadata")
                else "import their accounts first, or give the account id in a metadata "
                "column with match='metadata:KEY'"
            )
            notes.append(
                f"subscriptions of {len(dropped):,} customers quarantined, not matched to an "
                f"account: {named}{more}; {fix}"
            )
    return common.Converted(tables=tables, rejected=rejected, rows_read=rows_read, notes=notes)
