"""The seven canonical tables as dataframely schemas, and every validation rule by name.

This module is the one place where the rules of ``data.md`` are declared. A
rule's name is the ``reason`` written next to a quarantined row:

* **within-table rules** are dataframely rules on the schemas below
  (``account_id_missing``, ``account_id_duplicate``, ``signup_before_first_seen``,
  ``duplicate_event``, ``score_out_of_range``, …);
* **parse rules** fire when one cell does not parse to its column's type while
  the column as a whole does: ``bad_timestamp:<col>``, ``bad_month:<col>``,
  ``bad_date:<col>``, ``bad_integer:<col>``, ``bad_number:<col>``
  (see :func:`parse_reason`);
* **the foreign-key rule** ``unknown_account``: an ``account_id`` that is not a
  *valid* row of accounts. It needs a second table, which a dataframely schema
  cannot see, so :mod:`journeylib.ingest.validate` evaluates it; its name lives here;
* **the keep-first rule** ``duplicate_event``: a later exact copy of an event
  row. A dataframely rule would flag every copy (or need a 10 M-entry hash
  table); :func:`later_copies` keeps the first copy, exactly and fast.

The schemas describe the canonical (valid) frames exactly, so
``AccountsSchema.validate(client.tables["accounts"])`` holds. Validation runs on
the *parsed* frame (canonical dtypes, one unparseable cell = null) plus the
row-number column :data:`ROW` (``TableSpec.row_schema``). Every column is
nullable because "required" is itself a named rule (``<col>_missing``). A rule evaluating to
null (e.g. a comparison with a null) counts as passed, as in dataframely.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import dataframely as dy
import polars as pl
from dataframely._rule import RuleFactory

__all__ = [
    "ROW",
    "TABLE_ORDER",
    "TABLES",
    "UNKNOWN_ACCOUNT",
    "AccountsSchema",
    "EventsSchema",
    "Kind",
    "MarketingSchema",
    "SearchQueriesSchema",
    "SubscriptionsSchema",
    "SurveysSchema",
    "TableSpec",
    "TicketsSchema",
    "DUPLICATE_EVENT",
    "canonical_dtype",
    "describe_reason",
    "later_copies",
    "missing_reason",
    "parse_reason",
    "rule_names",
    "shared_hash_rows",
]

#: The row-number column carried through validation (the 0-based row of the file).
ROW = "__row__"

#: Reason of the foreign-key rule: an account_id that is not a valid row of accounts.
UNKNOWN_ACCOUNT = "unknown_account"

#: Reason of a later exact copy of an event row (all canonical columns equal; the first is kept).
DUPLICATE_EVENT = "duplicate_event"

#: How a column is read: identifiers and free text stay strings; the rest are parsed.
Kind = Literal["id", "text", "datetime", "month", "date", "int", "float"]

_DTYPES: dict[str, pl.DataType] = {
    "id": pl.String(),
    "text": pl.String(),
    "datetime": pl.Datetime("us", "UTC"),
    "month": pl.Date(),
    "date": pl.Date(),
    "int": pl.Int64(),
    "float": pl.Float64(),
}

_PARSE_PREFIX: dict[str, str] = {
    "datetime": "bad_timestamp",
    "month": "bad_month",
    "date": "bad_date",
    "int": "bad_integer",
    "float": "bad_number",
}


def canonical_dtype(kind: Kind) -> pl.DataType:
    """The polars dtype of a column kind after loading.

    Examples:
        >>> canonical_dtype("datetime")
        Datetime(time_unit='us', time_zone='UTC')
    """
    return _DTYPES[kind]


def parse_reason(kind: Kind, column: str) -> str | None:
    """The reason for a cell of ``column`` that does not parse (None for string kinds).

    Examples:
        >>> parse_reason("datetime", "signup_at"), parse_reason("id", "account_id")
        ('bad_timestamp:signup_at', None)
    """
    prefix = _PARSE_PREFIX.get(kind)
    return f"{prefix}:{column}" if prefix else None


def missing_reason(column: str) -> str:
    """The reason for an empty required ``column``.

    Examples:
        >>> missing_reason("account_id")
        'account_id_missing'
    """
    return f"{column}_missing"


# ------------------------------------------------------------------ rule factories
# Small factories so that each schema reads as a list of named rules. The
# attribute name a factory is bound to is the rule's name (dataframely's rule).


def _rule(fn: Callable[[], pl.Expr]) -> RuleFactory:
    return dy.rule()(lambda _schema: fn())


def _required(col: str):  # noqa: ANN202 - a dataframely rule factory
    return _rule(lambda: pl.col(col).is_not_null())


def _unique(*cols: str):  # noqa: ANN202
    # Nulls are the business of the *_missing rules, not of uniqueness.
    key = pl.col(cols[0]) if len(cols) == 1 else pl.struct(cols)
    any_null = pl.any_horizontal(pl.col(c).is_null() for c in cols)
    return _rule(lambda: any_null | key.is_unique())


def _at_least(col: str, low: float):  # noqa: ANN202
    return _rule(lambda: pl.col(col) >= low)


def _between(col: str, low: float, high: float):  # noqa: ANN202
    return _rule(lambda: pl.col(col).is_between(low, high))


def _not_before(later: str, earlier: str):  # noqa: ANN202
    return _rule(lambda: pl.col(later) >= pl.col(earlier))


# ------------------------------------------------------------------ columns
#: Every table's canonical columns and their kinds, in canonical order: declared once,
#: for the schemas below (a dataframely column per kind) and for ``TABLES``.
_COLUMNS: dict[str, dict[str, Kind]] = {
    "accounts": {
        "account_id": "id",
        "first_seen_at": "datetime",
        "signup_at": "datetime",
        "name": "text",
        "industry": "text",
        "company_size": "int",
        "country": "text",
        "role": "text",
        "acquisition_channel": "text",
        "persona": "text",
    },
    "events": {
        "timestamp": "datetime",
        "account_id": "id",
        "anonymous_id": "id",
        "user_id": "id",
        "event": "text",
        "channel": "text",
        "campaign": "text",
        "variant": "text",
    },
    "subscriptions": {
        "account_id": "id",
        "month": "month",
        "mrr": "float",
        "plan": "text",
        "seats": "int",
    },
    "marketing": {
        "month": "month",
        "channel": "text",
        "campaign": "text",
        "spend": "float",
        "impressions": "int",
        "clicks": "int",
    },
    "search_queries": {
        "date": "date",
        "query": "text",
        "clicks": "int",
        "impressions": "int",
        "position": "float",
    },
    "tickets": {
        "ticket_id": "id",
        "account_id": "id",
        "opened_at": "datetime",
        "resolved_at": "datetime",
        "category": "text",
        "channel": "text",
        "satisfaction": "int",
        "text": "text",
    },
    "surveys": {
        "response_id": "id",
        "account_id": "id",
        "responded_at": "datetime",
        "score": "int",
        "stage": "text",
        "touchpoint": "text",
        "comment": "text",
    },
}

_DY_COLUMNS: dict[str, Callable[[], dy.Column]] = {
    "id": lambda: dy.String(nullable=True),
    "text": lambda: dy.String(nullable=True),
    "datetime": lambda: dy.Datetime(nullable=True, time_zone="UTC", time_unit="us"),
    "month": lambda: dy.Date(nullable=True),
    "date": lambda: dy.Date(nullable=True),
    "int": lambda: dy.Int64(nullable=True),
    "float": lambda: dy.Float64(nullable=True),
}


def _columns(table: str) -> type[dy.Schema]:
    """A schema of ``table``'s canonical columns, all nullable ("required" is a named rule)."""
    columns = {c: _DY_COLUMNS[k]() for c, k in _COLUMNS[table].items()}
    return type(dy.Schema)(f"_{table}_columns", (dy.Schema,), {"__module__": __name__, **columns})


# ------------------------------------------------------------------ schemas
class AccountsSchema(_columns("accounts")):
    """accounts: one row per known company or person (lead, trial, customer)."""

    account_id_missing = _required("account_id")
    account_id_duplicate = _unique("account_id")
    first_seen_at_missing = _required("first_seen_at")
    signup_before_first_seen = _not_before("signup_at", "first_seen_at")
    company_size_below_one = _at_least("company_size", 1)


class EventsSchema(_columns("events")):
    """events: every interaction, direct or indirect."""

    timestamp_missing = _required("timestamp")
    event_missing = _required("event")
    account_or_anonymous_id_missing = _rule(
        lambda: pl.col("account_id").is_not_null() | pl.col("anonymous_id").is_not_null()
    )
    # duplicate_event (a later exact copy of a row) is a keep-first rule: see later_copies().


class SubscriptionsSchema(_columns("subscriptions")):
    """subscriptions: monthly recurring revenue per account and month."""

    account_id_missing = _required("account_id")
    month_missing = _required("month")
    mrr_missing = _required("mrr")
    account_month_duplicate = _unique("account_id", "month")
    mrr_negative = _at_least("mrr", 0)
    seats_negative = _at_least("seats", 0)


class MarketingSchema(_columns("marketing")):
    """marketing: spend and reach per month and channel."""

    month_missing = _required("month")
    channel_missing = _required("channel")
    spend_missing = _required("spend")
    spend_negative = _at_least("spend", 0)
    impressions_negative = _at_least("impressions", 0)
    clicks_negative = _at_least("clicks", 0)
    clicks_above_impressions = _rule(lambda: pl.col("clicks") <= pl.col("impressions"))


class SearchQueriesSchema(_columns("search_queries")):
    """search_queries: a search-console style query export."""

    date_missing = _required("date")
    query_missing = _required("query")
    clicks_missing = _required("clicks")
    impressions_missing = _required("impressions")
    clicks_negative = _at_least("clicks", 0)
    impressions_below_clicks = _rule(lambda: pl.col("impressions") >= pl.col("clicks"))
    position_below_one = _at_least("position", 1)


class TicketsSchema(_columns("tickets")):
    """tickets: support interactions."""

    ticket_id_missing = _required("ticket_id")
    ticket_id_duplicate = _unique("ticket_id")
    account_id_missing = _required("account_id")
    opened_at_missing = _required("opened_at")
    resolved_before_opened = _not_before("resolved_at", "opened_at")
    satisfaction_out_of_range = _between("satisfaction", 1, 5)


class SurveysSchema(_columns("surveys")):
    """surveys: NPS and free-text feedback."""

    response_id_missing = _required("response_id")
    response_id_duplicate = _unique("response_id")
    responded_at_missing = _required("responded_at")
    score_out_of_range = _between("score", 0, 10)


def _with_row_number(schema: type[dy.Schema]) -> type[dy.Schema]:
    # The schema plus the row-number column, so that failures can be traced to file rows.
    return type(schema)(
        f"{schema.__name__}WithRow",
        (schema,),
        {"__module__": __name__, "row_nr": dy.Int64(nullable=True, alias=ROW)},
    )


# ------------------------------------------------------------------ table registry
@dataclass(frozen=True)
class TableSpec:
    """How one canonical table is found, read and validated.

    Attributes:
        name: the table name (also the file stem: ``accounts.csv``).
        schema: the dataframely schema holding the within-table rules.
        columns: canonical column → kind, in canonical order.
        required_columns: columns the file must have (fatal when missing).
        any_of_columns: groups of columns of which the file must have at least one.
        required_table: whether the client folder must contain the table.
        foreign_key: the column checked against the valid accounts, or None.
        keep_first: ``(rule name, columns)``: a row equal on those columns to an
            earlier row breaks the rule (the first copy is kept), see :func:`later_copies`.
    """

    name: str
    schema: type[dy.Schema]
    columns: dict[str, Kind]
    required_columns: tuple[str, ...]
    any_of_columns: tuple[tuple[str, ...], ...] = ()
    required_table: bool = False
    foreign_key: str | None = "account_id"
    keep_first: tuple[str, tuple[str, ...]] | None = None

    @property
    def row_schema(self) -> type[dy.Schema]:
        """``schema`` plus the ``__row__`` column: what validation runs on."""
        return _ROW_SCHEMAS[self.name]

    @property
    def column_names(self) -> list[str]:
        """Canonical column names in order."""
        return list(self.columns)

    @property
    def polars_schema(self) -> pl.Schema:
        """Canonical column names and dtypes of the valid frame."""
        return pl.Schema({c: canonical_dtype(k) for c, k in self.columns.items()})


TABLES: dict[str, TableSpec] = {
    "accounts": TableSpec(
        "accounts",
        AccountsSchema,
        _COLUMNS["accounts"],
        required_columns=("account_id", "first_seen_at"),
        required_table=True,
        foreign_key=None,
    ),
    "events": TableSpec(
        "events",
        EventsSchema,
        _COLUMNS["events"],
        required_columns=("timestamp", "event"),
        any_of_columns=(("account_id", "anonymous_id"),),
        required_table=True,
        keep_first=(DUPLICATE_EVENT, tuple(_COLUMNS["events"])),
    ),
    "subscriptions": TableSpec(
        "subscriptions",
        SubscriptionsSchema,
        _COLUMNS["subscriptions"],
        required_columns=("account_id", "month", "mrr"),
    ),
    "marketing": TableSpec(
        "marketing",
        MarketingSchema,
        _COLUMNS["marketing"],
        required_columns=("month", "channel", "spend"),
        foreign_key=None,
    ),
    "search_queries": TableSpec(
        "search_queries",
        SearchQueriesSchema,
        _COLUMNS["search_queries"],
        required_columns=("date", "query", "clicks", "impressions"),
        foreign_key=None,
    ),
    "tickets": TableSpec(
        "tickets",
        TicketsSchema,
        _COLUMNS["tickets"],
        required_columns=("ticket_id", "account_id", "opened_at"),
    ),
    "surveys": TableSpec(
        "surveys",
        SurveysSchema,
        _COLUMNS["surveys"],
        required_columns=("response_id", "responded_at"),
    ),
}

_ROW_SCHEMAS = {name: _with_row_number(spec.schema) for name, spec in TABLES.items()}

#: Tables in the order they are read and validated (accounts first: the FK target).
TABLE_ORDER: tuple[str, ...] = tuple(TABLES)


def _schema_rule_names(schema: type[dy.Schema]) -> list[str]:
    # dataframely keeps rules in declaration order; the attribute name is the rule name.
    names: list[str] = []
    for klass in reversed(schema.__mro__):
        for attr, value in vars(klass).items():
            if isinstance(value, RuleFactory) and attr not in names:
                names.append(attr)
    return names


def rule_names(table: str) -> list[str]:
    """Every reason a row of ``table`` can be quarantined for, in reporting order.

    Parse rules first (column order), then the schema's rules, then ``unknown_account``.

    Examples:
        >>> rule_names("surveys")  # doctest: +NORMALIZE_WHITESPACE
        ['bad_timestamp:responded_at', 'bad_integer:score', 'response_id_missing',
         'response_id_duplicate', 'responded_at_missing', 'score_out_of_range',
         'unknown_account']
    """
    spec = TABLES[table]
    names = [r for c, k in spec.columns.items() if (r := parse_reason(k, c))]
    names += _schema_rule_names(spec.schema)
    if spec.keep_first:
        names.append(spec.keep_first[0])
    if spec.foreign_key:
        names.append(UNKNOWN_ACCOUNT)
    return names


def shared_hash_rows(hashes: pl.Series) -> pl.Series:
    """The row numbers (Int64, ascending) whose hash occurs more than once.

    The candidates of the keep-first duplicate rule: only these rows need a
    value-by-value comparison. A sort of the hashes finds the shared ones,
    much cheaper than a hash table of every row.

    Examples:
        >>> shared_hash_rows(pl.Series([7, 3, 7, 5, 3], dtype=pl.UInt64)).to_list()
        [0, 1, 2, 4]
    """
    n = hashes.len()
    if n < 2:
        return pl.Series(ROW, [], dtype=pl.Int64)
    sorted_h = hashes.sort()
    # Neighbours compared through two zero-copy slices (a shifted copy would be
    # the size of the hashes again: 200 MB at 50 M rows).
    later = sorted_h.slice(1)
    shared = later.filter(later == sorted_h.slice(0, n - 1)).unique()
    del sorted_h, later
    if shared.len() == 0:
        return pl.Series(ROW, [], dtype=pl.Int64)
    return hashes.is_in(shared.implode()).arg_true().cast(pl.Int64).alias(ROW)


def later_copies(frame: pl.DataFrame, columns: list[str] | tuple[str, ...]) -> pl.Series:
    """True for each row equal on ``columns`` to an earlier row (the keep-first duplicate rule).

    Exact, and fast on big frames: rows are hashed and sorted by hash (a sort is
    much cheaper than a 10 M-entry hash table), and only rows whose hash occurs
    twice are compared value by value. Nulls compare equal to nulls.

    Examples:
        >>> df = pl.DataFrame({"a": [1, 2, 1, 1, None, None], "b": ["x", "y", "x", "z", None, None]})
        >>> later_copies(df, ["a", "b"]).to_list()
        [False, False, True, False, False, True]
    """
    n = frame.height
    none = pl.Series(DUPLICATE_EVENT, [False] * n, dtype=pl.Boolean)
    if n < 2:
        return none
    hashes = frame.select(pl.struct(list(columns)).hash(seed=0)).to_series()
    candidates = shared_hash_rows(hashes)
    if candidates.len() == 0:
        return none
    later = (
        ~frame.select(list(columns))[candidates]
        .select(pl.struct(list(columns)).is_first_distinct())
        .to_series()
    )
    return none.scatter(candidates.filter(later), True)


_DESCRIPTIONS = {
    "account_or_anonymous_id_missing": "neither account_id nor anonymous_id is given",
    "account_month_duplicate": "a second row for the same account_id and month",
    "duplicate_event": "an exact copy of an earlier event row (the first copy is kept)",
    "signup_before_first_seen": "signup_at is before first_seen_at",
    "resolved_before_opened": "resolved_at is before opened_at",
    "clicks_above_impressions": "more clicks than impressions",
    "impressions_below_clicks": "fewer impressions than clicks",
    UNKNOWN_ACCOUNT: "account_id is not a valid row of accounts",
}
_PARSE_WORDS = {
    "bad_timestamp": "an ISO 8601 timestamp",
    "bad_month": "a month (YYYY-MM)",
    "bad_date": "a date (YYYY-MM-DD)",
    "bad_integer": "an integer",
    "bad_number": "a finite number",
}


def describe_reason(reason: str) -> str:
    """A short English description of a reason, for reports.

    Examples:
        >>> describe_reason("bad_timestamp:signup_at")
        'signup_at is not an ISO 8601 timestamp'
        >>> describe_reason("score_out_of_range")
        'score is out of range'
    """
    if ":" in reason:
        prefix, col = reason.split(":", 1)
        return f"{col} is not {_PARSE_WORDS.get(prefix, 'readable')}"
    if reason in _DESCRIPTIONS:
        return _DESCRIPTIONS[reason]
    for suffix, text in (
        ("_missing", "is empty"),
        ("_duplicate", "appears more than once"),
        ("_out_of_range", "is out of range"),
        ("_negative", "is negative"),
        ("_below_one", "is below 1"),
    ):
        if reason.endswith(suffix):
            return f"{reason.removesuffix(suffix)} {text}"
    return reason.replace("_", " ")
