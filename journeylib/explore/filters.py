"""What the explorer's filters select: the accounts, the months, and their restricted data.

Filters only choose a set of account ids (:func:`account_ids`); a
:class:`Scope` (one filter state: filters and period) restricts every table to
them lazily, through :func:`journeylib.ingest.restrict.restrict_to_accounts` on
polars ``LazyFrame`` s, and collects a table only when a panel asks for it.
:func:`client_months` gives the months the period slider offers and
:func:`dropped_accounts` the accounts behind a funnel's drop.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from typing import Any

import polars as pl

from journeylib.ingest.client import Client
from journeylib.ingest.restrict import restrict_to_accounts
from journeylib.metrics import funnels, metrics_document, resolve_period, with_period
from journeylib.metrics.period import data_months
from journeylib.months import month_from_index, month_index, month_range

__all__ = [
    "ALL",
    "STREAM",
    "Filters",
    "Scope",
    "account_ids",
    "client_months",
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


def _month_end(month: str) -> dt.datetime:
    """The first instant after ``month`` (UTC).

    Examples:
        >>> _month_end("2024-12")
        datetime.datetime(2025, 1, 1, 0, 0, tzinfo=datetime.timezone.utc)
    """
    following = month_from_index(month_index(month) + 1)
    return dt.datetime.strptime(following, "%Y-%m").replace(tzinfo=dt.UTC)


def account_ids(
    client: Client,
    stream: pl.DataFrame | pl.LazyFrame,
    filters: Filters,
    *,
    period: tuple[str, str],
) -> pl.Series | None:
    """The ids of the accounts that pass every set filter (None when no filter is set).

    Persona and channel compare ``accounts`` columns; plan keeps accounts with
    that plan in any month of ``subscriptions``; variant keeps accounts with
    that variant on any event of the stream; stage keeps accounts with a
    journey event mapped to the stage before the end of the period's last
    month (the natural reading of "reached": at any time up to the view's end).
    A plan filter on a client without subscriptions keeps nobody.

    Args:
        client: a loaded client.
        stream: its journey event stream.
        filters: the filters.
        period: the period shown (the stage filter looks up to its end).

    Returns:
        The sorted ids, or None when no filter is set (then every table is kept
        whole, anonymous events included).

    Examples:
        >>> import types
        >>> acc = pl.DataFrame({"account_id": ["a", "b", "c"], "persona": ["x", "y", "x"],
        ...                     "acquisition_channel": ["ads", "ads", "seo"]})
        >>> c = types.SimpleNamespace(tables={"accounts": acc}, table=lambda n: None)
        >>> s = pl.DataFrame(schema={"account_id": pl.String, "variant": pl.String})
        >>> account_ids(c, s, Filters(persona="x"), period=("2024-01", "2024-01")).to_list()
        ['a', 'c']
        >>> account_ids(c, s, Filters(), period=("2024-01", "2024-01")) is None
        True
    """
    if not filters.active():
        return None
    acc = client.tables["accounts"].lazy()
    if filters.persona != ALL:
        acc = acc.filter(pl.col("persona") == filters.persona)
    if filters.channel != ALL:
        acc = acc.filter(pl.col("acquisition_channel") == filters.channel)
    ids = acc.select("account_id")
    lazy_stream = stream.lazy()
    keep: list[pl.LazyFrame] = []
    if filters.plan != ALL:
        subs = client.table("subscriptions")
        if subs is None:
            return pl.Series("account_id", [], dtype=pl.String)
        keep.append(subs.lazy().filter(pl.col("plan") == filters.plan).select("account_id"))
    if filters.variant != ALL:
        keep.append(lazy_stream.filter(pl.col("variant") == filters.variant).select("account_id"))
    if filters.stage != ALL:
        end = _month_end(period[1])
        keep.append(
            lazy_stream.filter(pl.col("stage") == filters.stage, pl.col("timestamp") < end).select(
                "account_id"
            )
        )
    for other in keep:
        ids = ids.join(other.drop_nulls().unique(), on="account_id", how="semi")
    return ids.collect()["account_id"].unique().sort()


def client_months(client: Client) -> list[str]:
    """The months the period slider offers: the data's months and the configured period.

    From the first to the last month of ``events.timestamp`` and
    ``subscriptions.month``, widened to ``client.yaml: period`` when it reaches
    further.

    Examples:
        >>> import types
        >>> ev = pl.DataFrame({"timestamp": [dt.datetime(2024, 1, 5, tzinfo=dt.UTC),
        ...                                  dt.datetime(2024, 3, 1, tzinfo=dt.UTC)]})
        >>> cfg = types.SimpleNamespace(period=None)
        >>> c = types.SimpleNamespace(tables={"events": ev}, config=cfg)
        >>> client_months(c)
        ['2024-01', '2024-02', '2024-03']
    """
    ends = [m for m in data_months(client.tables) if m]
    cfg = client.config.period
    ends += [m for m in (cfg.start if cfg else None, cfg.end if cfg else None) if m]
    if not ends:
        ends = list(resolve_period(client))
    return month_range(min(ends), max(ends))


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
    """One filter state (filters + period) of a client: its tables restricted, collected on demand.

    Args:
        client: the loaded client (unrestricted).
        stream: its journey event stream (unrestricted).
        filters: the filters.
        period: the period shown.

    Attributes:
        base, base_stream: the unrestricted client and stream.
        filters, period: the state.
        ids: the accounts kept (:func:`account_ids`); None keeps every row.
    """

    def __init__(
        self,
        client: Client,
        stream: pl.DataFrame,
        filters: Filters,
        period: tuple[str, str],
    ) -> None:
        self.base = client
        self.base_stream = stream
        self.filters = filters
        self.period = period
        self.ids = account_ids(client, stream, filters, period=period)
        # Lazy frames, so nothing is filtered until a panel collects a table.
        tables = {**client.tables, STREAM: stream}
        self._lazy: dict[str, pl.LazyFrame] = restrict_to_accounts(
            {name: frame.lazy() for name, frame in tables.items()}, self.ids
        )
        self._frames: dict[str, pl.DataFrame] = {}
        self._memo: dict[Any, Any] = {}

    @property
    def empty(self) -> bool:
        """Whether the filters keep no account."""
        return self.ids is not None and self.ids.len() == 0

    def n_accounts(self) -> int:
        """How many accounts the filters keep."""
        return self.base.tables["accounts"].height if self.ids is None else self.ids.len()

    def lazy(self, name: str) -> pl.LazyFrame | None:
        """The restricted table ``name`` (:data:`STREAM` for the stream) as a ``LazyFrame``."""
        return self._lazy.get(name)

    def table(self, name: str) -> pl.DataFrame | None:
        """The restricted table ``name``, collected once (None when the client lacks it)."""
        if name not in self._lazy:
            return None
        if self.ids is None:
            return self.base_stream if name == STREAM else self.base.tables[name]
        if name not in self._frames:
            self._frames[name] = self._lazy[name].collect()
        return self._frames[name]

    @property
    def stream(self) -> pl.DataFrame:
        """The restricted journey event stream."""
        return self.table(STREAM)  # type: ignore[return-value]

    def memo(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()``, once per key and scope."""
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def client(self) -> Client:
        """The client with restricted tables and the scope's period."""

        def build() -> Client:
            tables = {n: self.table(n) for n in self.base.tables}
            return with_period(dataclasses.replace(self.base, tables=tables), *self.period)

        return self.memo("client", build)

    def doc(self) -> dict[str, Any]:
        """The metrics document of :meth:`client`."""
        return self.memo("doc", lambda: metrics_document(self.client()))

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
