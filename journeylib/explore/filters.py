"""What the explorer's filters select: the accounts, the months, and their restricted data.

Filters only choose a set of account ids, on the store's ``accounts`` mart
(:func:`account_ids`); a :class:`Scope` (one filter state: filters and
period) restricts every table, the journey stream and the marts to them
lazily, through :func:`journeylib.ingest.restrict.restrict_to_accounts` on
polars ``LazyFrame`` s, and collects only what a panel asks for.
:func:`dropped_accounts` gives the accounts behind a funnel's drop.
"""

from __future__ import annotations

import dataclasses
import datetime as dt  # noqa: F401  (used by the doctests)
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import polars as pl

from journeylib.ingest.client import Client
from journeylib.ingest.restrict import restrict_to_accounts
from journeylib.metrics import funnels, with_period
from journeylib.months import month_end

if TYPE_CHECKING:
    from journeylib.explore.source import Source

__all__ = [
    "ALL",
    "STREAM",
    "Filters",
    "Scope",
    "account_ids",
    "dropped_accounts",
]

#: The value of a filter dropdown that keeps every account.
ALL = ""

#: The name of the journey event stream among a :class:`Scope`'s tables.
STREAM = "__stream__"


@dataclasses.dataclass(frozen=True)
class Filters:
    """The account filters; :data:`ALL` (empty) keeps every account.

    Attributes:
        persona: ``accounts.persona``.
        channel: ``accounts.acquisition_channel``.
        plan: accounts with this ``subscriptions.plan`` in any month.
        variant: accounts with this ``variant`` on any event.
        stage: accounts that reached this stage (a journey event mapped to it)
            by the end of the period.
    """

    persona: str = ALL
    channel: str = ALL
    plan: str = ALL
    variant: str = ALL
    stage: str = ALL

    def active(self) -> dict[str, str]:
        """The filters that are set, by name.

        Examples:
            >>> Filters(persona="smb").active()
            {'persona': 'smb'}
        """
        return {k: v for k, v in dataclasses.asdict(self).items() if v != ALL}

    def describe(self) -> str:
        """The set filters as text, for notes and titles.

        Examples:
            >>> Filters(persona="smb", plan="pro").describe()
            'persona = smb, plan = pro'
            >>> Filters().describe()
            'no filters'
        """
        act = self.active()
        return ", ".join(f"{k} = {v}" for k, v in act.items()) if act else "no filters"


def account_ids(
    accounts: pl.DataFrame | pl.LazyFrame,
    stream: pl.DataFrame | pl.LazyFrame,
    filters: Filters,
    *,
    period: tuple[str, str],
    subscriptions: pl.DataFrame | pl.LazyFrame | None = None,
) -> pl.Series | None:
    """The ids of the accounts that pass every set filter (None when no filter is set).

    Read from the ``accounts`` mart (:mod:`journeylib.store.marts`): persona
    and channel compare its ``persona`` and ``channel`` columns; stage keeps
    accounts whose ``entered_<stage>`` (their first journey event mapped to the
    stage) falls before the end of the period's last month (the natural
    reading of "reached": at any time up to the view's end). Plan keeps
    accounts with that plan in any month of ``subscriptions`` (a small table;
    the mart's ``plan`` is only the last paid month's); variant keeps accounts
    with that variant on any event of the stream (a scan of two columns). A
    plan filter on a client without subscriptions keeps nobody.

    Args:
        accounts: the ``accounts`` mart (``account_id``, ``persona``,
            ``channel``, ``entered_<stage>``).
        stream: the journey event stream (read only for a variant filter).
        filters: the filters.
        period: the period shown (the stage filter looks up to its end).
        subscriptions: the subscriptions table, if the client has one.

    Returns:
        The sorted ids, or None when no filter is set (then every table is kept
        whole, anonymous events included).

    Examples:
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "persona": ["x", "y", "x"],
        ...                     "channel": ["ads", "ads", "seo"]})
        >>> s = pl.DataFrame(schema={"account_id": pl.String, "variant": pl.String})
        >>> account_ids(acc, s, Filters(persona="x"), period=("2024-01", "2024-01")).to_list()
        ['a', 'c']
        >>> account_ids(acc, s, Filters(), period=("2024-01", "2024-01")) is None
        True
    """
    if not filters.active():
        return None
    acc = accounts.lazy()
    if filters.persona != ALL:
        acc = acc.filter(pl.col("persona") == filters.persona)
    if filters.channel != ALL:
        acc = acc.filter(pl.col("channel") == filters.channel)
    if filters.stage != ALL:
        entered = f"entered_{filters.stage}"
        if entered not in acc.collect_schema().names():
            return pl.Series("account_id", [], dtype=pl.String)
        acc = acc.filter(pl.col(entered) < month_end(period[1]))
    ids = acc.select("account_id")
    keep: list[pl.LazyFrame] = []
    if filters.plan != ALL:
        if subscriptions is None:
            return pl.Series("account_id", [], dtype=pl.String)
        keep.append(
            subscriptions.lazy().filter(pl.col("plan") == filters.plan).select("account_id")
        )
    if filters.variant != ALL:
        keep.append(stream.lazy().filter(pl.col("variant") == filters.variant).select("account_id"))
    for other in keep:
        ids = ids.join(other.drop_nulls().unique(), on="account_id", how="semi")
    return ids.collect()["account_id"].unique().sort()


def dropped_accounts(
    result: funnels.FunnelResult, step: int, accounts: pl.DataFrame | None = None
) -> pl.DataFrame:
    """The accounts that reached step ``step - 1`` of a funnel and never step ``step``.

    Reading: "dropped at step k" = furthest step k − 1, not excluded, and not
    still inside its conversion window (those may yet convert: they are
    ``FunnelResult.in_progress``). With ``accounts``, their name, persona,
    channel and sign-up date are joined on.

    Args:
        result: an :func:`~journeylib.metrics.funnels.ordered_funnel` result.
        step: the step they did not reach (2 … number of steps).
        accounts: the accounts table, optional.

    Returns:
        ``account_id, attempt_start, last_step_at`` (+ the account columns),
        sorted by account id.

    Examples:
        >>> t = lambda h: dt.datetime(2024, 1, 1, h, tzinfo=dt.UTC)
        >>> ev = pl.DataFrame({"account_id": ["a", "a", "b", "c"],
        ...                    "timestamp": [t(0), t(1), t(0), t(5)],
        ...                    "event": ["view", "buy", "view", "view"], "seq": [0, 1, 2, 3]})
        >>> res = funnels.ordered_funnel(ev, steps=["view", "buy"], window="2h")
        >>> dropped_accounts(res, 2)["account_id"].to_list()  # c may still buy: in progress
        ['b']
    """
    n = result.steps.height
    if not 2 <= step <= n:
        raise ValueError(f"step must be between 2 and {n}, got {step}")
    out = result.accounts.filter(
        pl.col("furthest_step") == step - 1, ~pl.col("excluded"), ~pl.col("in_progress")
    ).select("account_id", "attempt_start", pl.col(f"step_{step - 1}_at").alias("last_step_at"))
    if accounts is not None:
        cols = [
            c
            for c in ("name", "persona", "acquisition_channel", "signup_at")
            if c in accounts.columns
        ]
        out = out.join(accounts.select("account_id", *cols), on="account_id", how="left")
    return out.sort("account_id")


class Scope:
    """One filter state (filters + period) of a client: its data restricted, lazily.

    The accounts are chosen on the ``accounts`` mart (:func:`account_ids`);
    every table, the journey stream and the marts are then restricted to
    them as polars ``LazyFrame`` filters
    (:func:`journeylib.ingest.restrict.restrict_to_accounts`): nothing is read
    until a panel collects what it shows, and what several panels share (the
    stage funnel, an ordered funnel, the journey map's KPIs) is computed once
    per state (:meth:`memo`).

    Args:
        source: the client as the explorer reads it
            (:class:`~journeylib.explore.source.Source`).
        filters: the filters.
        period: the period shown.

    Attributes:
        source: the source; base: its (unrestricted) client.
        filters, period: the state.
        ids: the accounts kept (:func:`account_ids`); None keeps every row.
    """

    def __init__(self, source: Source, filters: Filters, period: tuple[str, str]) -> None:
        self.source = source
        self.base: Client = source.client
        self.filters = filters
        self.period = period
        self.ids = account_ids(
            source.mart("accounts"),
            source.stream,
            filters,
            period=period,
            subscriptions=self.base.table("subscriptions"),
        )
        tables = {name: frame.lazy() for name, frame in self.base.tables.items()}
        self._lazy: dict[str, pl.LazyFrame] = restrict_to_accounts(
            {**tables, STREAM: source.stream}, self.ids
        )
        self._marts: dict[str, pl.LazyFrame] = restrict_to_accounts(source.marts, self.ids)
        self._frames: dict[str, pl.DataFrame] = {}
        self._memo: dict[Any, Any] = {}

    @property
    def empty(self) -> bool:
        """Whether the filters keep no account."""
        return self.ids is not None and self.ids.len() == 0

    def n_accounts(self) -> int:
        """How many accounts the filters keep."""
        if self.ids is not None:
            return self.ids.len()
        return self.base.tables["accounts"].lazy().select(pl.len()).collect().item()

    def lazy(self, name: str) -> pl.LazyFrame | None:
        """The restricted table ``name`` (:data:`STREAM` for the stream) as a ``LazyFrame``."""
        return self._lazy.get(name)

    def mart(self, name: str) -> pl.LazyFrame:
        """The restricted mart ``name`` (``accounts``, ``account_months``, ``account_touchpoints``)."""
        return self._marts[name]

    def table(self, name: str) -> pl.DataFrame | None:
        """The restricted table ``name``, collected once (None when the client lacks it).

        The events and the stream of a store are big: the panels read them
        through :meth:`lazy` and collect only what they show.
        """
        if name not in self._lazy:
            return None
        if self.ids is None and isinstance(self.base.tables.get(name), pl.DataFrame):
            return self.base.tables[name]  # type: ignore[return-value]
        if name not in self._frames:
            self._frames[name] = self._lazy[name].collect()
        return self._frames[name]

    @property
    def stream(self) -> pl.DataFrame:
        """The restricted journey event stream, collected (all of it: for small clients)."""
        return self.table(STREAM)  # type: ignore[return-value]

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per key and scope."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def client(self) -> Client:
        """The client with restricted tables and the scope's period.

        A table the client holds lazily (a store's events) stays lazy; the
        others are collected (they are small).
        """

        def build() -> Client:
            tables = {
                n: self._lazy[n] if isinstance(f, pl.LazyFrame) else self.table(n)
                for n, f in self.base.tables.items()
            }
            return with_period(dataclasses.replace(self.base, tables=tables), *self.period)

        return self.memo("client", build)

    def funnel(
        self, steps: tuple[str, ...], window: str, mode: str, by_variant: bool
    ) -> funnels.FunnelResult:
        """The ordered funnel over the restricted stream, in the period."""
        return self.memo(
            ("funnel", steps, window, mode, by_variant),
            lambda: funnels.ordered_funnel(
                self.lazy(STREAM),
                steps=list(steps),
                window=window,
                mode=mode,
                period=self.period,
                by_variant=by_variant,
            ),
        )
