"""The interactive explorer of notebook ``00_explore``: the library's charts behind widgets.

An analyst picks a client, a period and filters (persona, acquisition channel,
plan, variant, stage reached) and the panels redraw: the journey map, the stage
funnel, an ordered funnel over events of their choice, the accounts that dropped
at one of its steps (exportable as CSV), activity and revenue retention, MRR
movements, the touchpoint flow and NPS by stage.

How it stays fast on large clients:

* a client is loaded and validated **once** (its :class:`~journeylib.ingest.client.Client`
  and journey event stream are cached per folder);
* filters only choose a set of account ids (:func:`account_ids`); each table is
  restricted to it lazily (:func:`restrict_tables`, polars ``LazyFrame``
  filters) and collected only when a panel asks for it, once per filter state;
* every panel lists the control groups it depends on (:data:`DEPENDENCIES`): a
  change redraws only the panels that depend on the control, and by default
  only the panel on screen; the others are marked stale and redraw when their
  tab is opened (``lazy_tabs=False`` redraws every dependent panel at once).

Everything a panel computed stays inspectable without a browser:
``explorer.results[panel]`` (its frame), ``explorer.charts[panel]`` (its altair
chart), ``explorer.messages[panel]`` (an empty-state or missing-table note),
``explorer.redraws[panel]`` (a redraw counter) and ``explorer.timings[panel]``
(seconds of its last redraw). The controls are attributes too
(``explorer.persona``, ``explorer.period``, ``explorer.steps`` …), so tests set
``widget.value`` and the observers run synchronously.

Charts are drawn offline: the vega bundle is inlined once, in an output of its
own that is never cleared (a redraw cannot remove it), and each chart is the
HTML of :func:`journeylib.present.render.chart_html`. Client text reaches the page
escaped (chart specs are script-safe JSON; tables go through ``frame_html``).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import html
import re
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import altair as alt
import ipywidgets as widgets
import polars as pl

from journeylib import charts
from journeylib.analysis import journey_map as mapdata
from journeylib.errors import JourneyError
from journeylib.ingest.client import Client, load_client
from journeylib.metrics import feedback, funnels, retention, revenue, stages
from journeylib.metrics.document import metrics_document
from journeylib.metrics.period import resolve_period, with_period
from journeylib.months import month_range
from journeylib.paths import data_dir, reports_dir, resolve_client_dir
from journeylib.present import render
from journeylib.present.tables import frame_html
from journeylib.stream import journey_events

__all__ = [
    "ALL",
    "DEPENDENCIES",
    "PANELS",
    "Explorer",
    "Filters",
    "Panel",
    "account_ids",
    "client_months",
    "dropped_accounts",
    "explore",
    "restrict_tables",
]

#: The value of a filter dropdown that keeps every account.
ALL = ""


@dataclasses.dataclass(frozen=True)
class Panel:
    """One panel of the explorer.

    Attributes:
        id: the key of ``Explorer.results``, ``charts``, ``messages``, ``redraws``.
        title: the tab title.
        depends: the control groups whose change redraws it (``period``,
            ``filters``, ``funnel``, ``drop_step``).
        needs: an optional table the panel cannot do without.
        note: shown instead of the panel when that table is missing.
    """

    id: str
    title: str
    depends: frozenset[str]
    needs: str | None = None
    note: str | None = None


_BASE = frozenset({"period", "filters"})

#: The panels, in tab order.
PANELS: tuple[Panel, ...] = (
    Panel("journey_map", "Journey map", _BASE),
    Panel("stage_funnel", "Stage funnel", _BASE),
    Panel("ordered_funnel", "Ordered funnel", _BASE | {"funnel"}),
    Panel("accounts", "Accounts behind the number", _BASE | {"funnel", "drop_step"}),
    Panel("activity_retention", "Activity retention", _BASE),
    Panel(
        "revenue_retention",
        "Revenue retention",
        _BASE,
        "subscriptions",
        "Add subscriptions.csv to the client folder to see revenue retention.",
    ),
    Panel(
        "mrr_movements",
        "MRR movements",
        _BASE,
        "subscriptions",
        "Add subscriptions.csv to the client folder to see MRR movements.",
    ),
    Panel("touchpoint_flow", "Touchpoint flow", _BASE),
    Panel(
        "nps_by_stage",
        "NPS by stage",
        _BASE,
        "surveys",
        "Add surveys.csv to the client folder to see NPS by stage.",
    ),
)

#: Panel id → the control groups it depends on.
DEPENDENCIES: dict[str, frozenset[str]] = {p.id: p.depends for p in PANELS}

# Control attribute → its group in DEPENDENCIES.
_GROUP_OF = {
    "period": "period",
    "persona": "filters",
    "channel": "filters",
    "plan": "filters",
    "variant": "filters",
    "stage": "filters",
    "steps": "funnel",
    "window": "funnel",
    "mode": "funnel",
    "by_variant": "funnel",
    "drop_step": "drop_step",
}

_TABLE_ROWS = 200  # rows of the accounts table shown (the CSV export has them all)
_SCOPES_KEPT = 4  # filter states whose restricted tables stay cached
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


# ---------------------------------------------------------------- pure helpers
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
    """The first instant after ``month`` (UTC)."""
    y, m = (int(x) for x in month.split("-")[:2])
    return dt.datetime(y + m // 12, m % 12 + 1, 1, tzinfo=dt.UTC)


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


def restrict_tables(
    tables: Mapping[str, pl.DataFrame | pl.LazyFrame], ids: pl.Series | None
) -> dict[str, pl.LazyFrame]:
    """Every table as a ``LazyFrame`` keeping only the rows of the accounts ``ids``.

    The generalisation of :func:`journeylib.metrics.restrict_to_segment` to any
    set of accounts. Tables without ``account_id`` (marketing, search queries)
    are kept whole; rows without an account (anonymous events) are dropped when
    ``ids`` is given. A filter, not a join, so row order is kept. Nothing is
    computed until the frames are collected.

    Args:
        tables: table name → polars frame.
        ids: the accounts to keep; None keeps every row.

    Returns:
        Table name → ``pl.LazyFrame``.

    Examples:
        >>> ev = pl.DataFrame({"account_id": ["a", None, "b"], "event": ["x", "y", "z"]})
        >>> mk = pl.DataFrame({"month": ["2024-01"]})
        >>> out = restrict_tables({"events": ev, "marketing": mk}, pl.Series(["b"]))
        >>> out["events"].collect()["event"].to_list(), out["marketing"].collect().height
        (['z'], 1)
    """
    out: dict[str, pl.LazyFrame] = {}
    for name, frame in tables.items():
        lf = frame.lazy()
        if ids is not None and "account_id" in lf.collect_schema().names():
            lf = lf.filter(pl.col("account_id").is_in(ids.implode()))
        out[name] = lf
    return out


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
    ends: list[str] = []
    ev = client.tables.get("events")
    if ev is not None and ev.height:
        lo, hi = ev.select(
            pl.col("timestamp").min().alias("lo"), pl.col("timestamp").max().alias("hi")
        ).row(0)
        ends += [lo.strftime("%Y-%m"), hi.strftime("%Y-%m")]
    subs = client.tables.get("subscriptions")
    if subs is not None and subs.height:
        lo, hi = subs.select(
            pl.col("month").min().alias("lo"), pl.col("month").max().alias("hi")
        ).row(0)
        ends += [lo.strftime("%Y-%m"), hi.strftime("%Y-%m")]
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


def _chart_nps_by_stage(frame: pl.DataFrame, labels: Mapping[str, str]) -> alt.LayerChart:
    """NPS per stage with its 95 % interval (bars, error rules, zero line)."""
    rows = [
        {**r, "label": labels.get(r["stage"], r["stage"])}
        for r in frame.select("stage", "score", "responses", "ci_low", "ci_high").to_dicts()
    ]
    order = [r["label"] for r in rows]
    # plain dicts: alt.Data would validate every row
    base = alt.Chart({"values": rows}).encode(
        x=alt.X("label:N", sort=order, title=None, axis=alt.Axis(labelAngle=0)),
        tooltip=[
            alt.Tooltip("label:N", title="Stage"),
            alt.Tooltip("score:Q", title="NPS", format=".0f"),
            alt.Tooltip("responses:Q", title="Answers"),
            alt.Tooltip("ci_low:Q", title="95 % low", format=".0f"),
            alt.Tooltip("ci_high:Q", title="95 % high", format=".0f"),
        ],
    )
    bars = base.mark_bar().encode(
        y=alt.Y("score:Q", title="NPS", scale=alt.Scale(domain=[-100, 100])),
        color=alt.condition("datum.score >= 0", alt.value("#0072B2"), alt.value("#D55E00")),
    )
    err = base.mark_rule(color="#1f2933").encode(y="ci_low:Q", y2="ci_high:Q")
    zero = alt.Chart({"values": [{"y": 0}]}).mark_rule(color="#7b8794").encode(y="y:Q")
    return alt.layer(bars, err, zero).properties(title="NPS by stage", width=640, height=280)


def _safe_part(text: str) -> str:
    return _SAFE.sub("_", str(text)).strip("_") or "x"


def _bundle_html() -> str:
    """The vega bundle in a script element, then any chart that waited for it is drawn."""
    flush = (
        "(function(){var q=window.__jwPending||[];window.__jwPending=[];"
        "q.forEach(function(f){f();});})();"
    )
    return f'<script type="text/javascript" data-jw-bundle>{render.vega_bundle()}\n{flush}</script>'


def _html_output(fragment: str) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "data": {"text/html": fragment, "text/plain": "<explorer output>"},
        "metadata": {},
    }


def _note(text: str) -> str:
    return f'<p class="jw-note" style="color:#52606d;font-style:italic">{html.escape(text)}</p>'


# ---------------------------------------------------------------- cached state
@dataclasses.dataclass
class _Loaded:
    """A client loaded once, with what every filter state shares."""

    client: Client
    stream: pl.DataFrame
    months: list[str]
    events: list[str]
    default_steps: list[str]
    scopes: OrderedDict[Any, _Scope] = dataclasses.field(default_factory=OrderedDict)


class _Scope:
    """One filter state (filters + period): the restricted tables, collected on demand."""

    def __init__(self, loaded: _Loaded, filters: Filters, period: tuple[str, str]) -> None:
        self.loaded = loaded
        self.filters = filters
        self.period = period
        self.ids = account_ids(loaded.client, loaded.stream, filters, period=period)
        self._lazy = restrict_tables(
            {**loaded.client.tables, "__stream__": loaded.stream}, self.ids
        )
        self._frames: dict[str, pl.DataFrame] = {}
        self._memo: dict[Any, Any] = {}

    @property
    def empty(self) -> bool:
        return self.ids is not None and self.ids.len() == 0

    def n_accounts(self) -> int:
        return self.loaded.client.tables["accounts"].height if self.ids is None else self.ids.len()

    def lazy(self, name: str) -> pl.LazyFrame | None:
        return self._lazy.get(name)

    def table(self, name: str) -> pl.DataFrame | None:
        if name not in self._lazy:
            return None
        if self.ids is None:
            return self.loaded.stream if name == "__stream__" else self.loaded.client.tables[name]
        if name not in self._frames:
            self._frames[name] = self._lazy[name].collect()
        return self._frames[name]

    @property
    def stream(self) -> pl.DataFrame:
        return self.table("__stream__")  # type: ignore[return-value]

    def memo(self, key: Any, compute: Any) -> Any:
        if key not in self._memo:
            self._memo[key] = compute()
        return self._memo[key]

    def client(self) -> Client:
        def build() -> Client:
            base = self.loaded.client
            tables = {n: self.table(n) for n in base.tables}
            return with_period(dataclasses.replace(base, tables=tables), *self.period)

        return self.memo("client", build)

    def doc(self) -> dict[str, Any]:
        return self.memo("doc", lambda: metrics_document(self.client()))

    def funnel(
        self, steps: tuple[str, ...], window: str, mode: str, by_variant: bool
    ) -> funnels.FunnelResult:
        return self.memo(
            ("funnel", steps, window, mode, by_variant),
            lambda: funnels.ordered_funnel(
                self.lazy("__stream__"),
                steps=list(steps),
                window=window,
                mode=mode,
                period=self.period,
                by_variant=by_variant,
            ),
        )


# ---------------------------------------------------------------- the explorer
class Explorer:
    """The interactive explorer: controls, panels, and what each panel computed.

    Args:
        client: a client name under ``data/``, a client folder's path, or a
            loaded :class:`~journeylib.ingest.client.Client`; None picks ``demo`` (else the
            first client) under ``data/``.
        period: the first and last month shown at the start (``YYYY-MM``; None
            or empty for ``client.yaml`` or the data's months).
        export_dir: where the CSV exports go; default
            ``reports/<client>/explore/``.
        lazy_tabs: redraw only the panel on screen and the others when their tab
            is opened (the default, for large clients); False redraws every
            dependent panel at once (tests, timing).

    Attributes:
        client_picker, client_path, load_button: choose a client (a name under
            ``data/`` or a typed path, loaded on Enter or with the button).
        period: a ``SelectionRangeSlider`` over the client's months.
        persona, channel, plan, variant, stage: filter dropdowns (``ALL`` = "").
        steps, window, mode, by_variant: the ordered funnel's steps (a
            ``TagsInput``: its order is the funnel's), window, mode and the
            per-variant comparison.
        drop_step, export_button, export_note: the accounts panel's step, the
            CSV export and the path it wrote.
        tabs: the panels; outputs: panel id → ``Output``.
        results, charts, messages, redraws, timings: per panel id, the last
            frame, altair chart, empty-state note, redraw count and seconds.
        widget: the whole explorer (displaying the Explorer displays it).
    """

    def __init__(
        self,
        client: str | Path | Client | None = None,
        *,
        period: tuple[str | None, str | None] = (None, None),
        export_dir: str | Path | None = None,
        lazy_tabs: bool = True,
    ) -> None:
        self.lazy_tabs = lazy_tabs
        self._start_period = (period[0] or None, period[1] or None)
        self._export_dir = Path(export_dir) if export_dir else None
        self._loaded_by_key: dict[str, _Loaded] = {}
        self._current: _Loaded | None = None
        self._quiet = False
        self._stale: set[str] = set()
        self.results: dict[str, Any] = {p.id: None for p in PANELS}
        self.charts: dict[str, Any] = {p.id: None for p in PANELS}
        self.messages: dict[str, str | None] = {p.id: None for p in PANELS}
        self.redraws: dict[str, int] = {p.id: 0 for p in PANELS}
        self.timings: dict[str, float] = {}
        self.last_export: Path | None = None
        self._build_widgets()
        start = client if client is not None else self._default_client()
        if start is None:
            self._set_status(
                "No client under data/: run `journey demo`, or type the path of "
                "a client folder above and press Enter.",
                error=True,
            )
        else:
            self.load(start)

    # ------------------------------------------------------------ widgets
    def _build_widgets(self) -> None:
        w = widgets
        wide = w.Layout(width="98%")
        self.client_picker = w.Dropdown(description="Client", options=self._client_options())
        self.client_path = w.Text(
            placeholder="or a client folder's path, then Enter",
            continuous_update=False,
            layout=w.Layout(width="320px"),
        )
        self.load_button = w.Button(description="Load", icon="folder-open")
        self.status = w.HTML()
        self.period = w.SelectionRangeSlider(
            options=["-"], description="Period", continuous_update=False, layout=wide
        )
        drop = {"layout": w.Layout(width="auto")}
        self.persona = w.Dropdown(description="Persona", options=[("All", ALL)], **drop)
        self.channel = w.Dropdown(description="Channel", options=[("All", ALL)], **drop)
        self.plan = w.Dropdown(description="Plan", options=[("All", ALL)], **drop)
        self.variant = w.Dropdown(description="Variant", options=[("All", ALL)], **drop)
        self.stage = w.Dropdown(description="Reached", options=[("All", ALL)], **drop)
        self.steps = w.TagsInput(
            value=[], allowed_tags=[], allow_duplicates=False, layout=w.Layout(width="60%")
        )
        self.window = w.Text(
            value="14d",
            description="Window",
            continuous_update=False,
            layout=w.Layout(width="160px"),
        )
        self.mode = w.Dropdown(
            options=["ordered", "strict", "unordered"],
            value="ordered",
            description="Mode",
            layout=w.Layout(width="200px"),
        )
        self.by_variant = w.Checkbox(value=False, description="compare variants", indent=False)
        self.drop_step = w.Dropdown(
            description="Dropped at", options=[], layout=w.Layout(width="auto")
        )
        self.export_button = w.Button(description="Export CSV", icon="download")
        self.export_note = w.HTML()
        self.hidden_note = w.HTML()
        self.outputs = {p.id: w.Output() for p in PANELS}
        # Filled when the explorer is first displayed: building the bundle takes seconds
        # and only a browser needs it.
        self._bundle = w.Output(layout=w.Layout(display="none"))
        funnel_box = w.VBox(
            [
                w.HBox([w.Label("Steps (drag to reorder)"), self.steps]),
                w.HBox([self.window, self.mode, self.by_variant]),
                self.outputs["ordered_funnel"],
            ]
        )
        accounts_box = w.VBox(
            [
                w.HBox([self.drop_step, self.export_button]),
                self.export_note,
                self.outputs["accounts"],
            ]
        )
        self._containers: dict[str, widgets.Widget] = {p.id: self.outputs[p.id] for p in PANELS}
        self._containers["ordered_funnel"] = funnel_box
        self._containers["accounts"] = accounts_box
        self.tabs = w.Tab()
        self._shown: list[str] = []
        self.widget = w.VBox(
            [
                w.HBox([self.client_picker, self.client_path, self.load_button]),
                self.status,
                self.period,
                w.HBox(
                    [self.persona, self.channel, self.plan, self.variant, self.stage],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
                self.tabs,
                self.hidden_note,
                self._bundle,
            ]
        )
        self.client_picker.observe(self._on_pick, names="value")
        self.client_path.observe(self._on_path, names="value")
        self.load_button.on_click(lambda _b: self._on_path({"new": self.client_path.value}))
        for name in _GROUP_OF:
            getattr(self, name).observe(self._control_handler(name), names="value")
        self.tabs.observe(
            lambda _c: None if self._quiet else self._refresh(), names="selected_index"
        )
        self.export_button.on_click(lambda _b: self.export_dropped())

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        if not self._bundle.outputs:
            self._bundle.outputs = (_html_output(_bundle_html()),)
        return self.widget._repr_mimebundle_(**kwargs)

    @contextlib.contextmanager
    def _silently(self) -> Iterator[None]:
        """Set widget values without triggering redraws."""
        was, self._quiet = self._quiet, True
        try:
            yield
        finally:
            self._quiet = was

    @staticmethod
    def _client_options() -> list[tuple[str, str]]:
        root = data_dir()
        if not root.is_dir():
            return []
        return [
            (p.name, str(p.resolve()))
            for p in sorted(root.iterdir())
            if p.is_dir() and (p / "client.yaml").is_file()
        ]

    def _default_client(self) -> str | None:
        opts = dict(self.client_picker.options)
        if "demo" in opts:
            return opts["demo"]
        return next(iter(opts.values()), None)

    def _set_status(self, text: str, *, error: bool = False) -> None:
        colour = "#D55E00" if error else "#1f2933"
        self.status.value = f'<span style="color:{colour}">{html.escape(text)}</span>'

    # ------------------------------------------------------------ loading
    def load(self, client: str | Path | Client) -> None:
        """Load a client (once; later calls reuse it), fill the controls and redraw.

        Args:
            client: a name under ``data/``, a folder's path, or a loaded client.

        A client that cannot be loaded leaves the current one on screen and
        shows the one-line error in the status line.
        """
        try:
            loaded = self._load(client)
        except JourneyError as exc:
            self._set_status(str(exc), error=True)
            return
        self._current = loaded
        self._fill_controls(loaded)
        self._stale = set(self._shown)
        self._refresh()

    def _load(self, client: str | Path | Client) -> _Loaded:
        if isinstance(client, Client):
            key = str(Path(client.path).resolve())
            if key not in self._loaded_by_key:
                self._loaded_by_key[key] = self._prepare(client)
            return self._loaded_by_key[key]
        path = resolve_client_dir(client)
        key = str(path)
        if key not in self._loaded_by_key:
            t0 = time.perf_counter()
            loaded = self._prepare(load_client(path))
            self.timings["load"] = time.perf_counter() - t0
            self._loaded_by_key[key] = loaded
        return self._loaded_by_key[key]

    @staticmethod
    def _prepare(client: Client) -> _Loaded:
        stream = journey_events(client)
        events = stream.filter(pl.col("account_id").is_not_null())["event"].unique().sort()
        try:
            steps = mapdata.onboarding_steps(client, stream)
        except Exception:  # a default is a convenience: never block loading on it
            steps = []
        if len(steps) < 2:
            steps = [e for e in ("signed_up", "subscription_started") if e in events]
        return _Loaded(
            client=client,
            stream=stream,
            months=client_months(client),
            events=events.to_list(),
            default_steps=list(steps),
        )

    def _fill_controls(self, loaded: _Loaded) -> None:
        c = loaded.client
        acc = c.tables["accounts"]
        with self._silently():
            key = str(Path(c.path).resolve())
            opts = list(self.client_picker.options)
            if key not in dict(opts).values():
                opts.append((str(c.path), key))
                self.client_picker.options = opts
            self.client_picker.value = key
            months = loaded.months
            lo, hi = resolve_period(with_period(c, *self._start_period))
            i0 = months.index(lo) if lo in months else 0
            i1 = months.index(hi) if hi in months else len(months) - 1
            self.period.options = months
            self.period.index = (min(i0, i1), max(i0, i1))
            labels = mapdata.persona_labels(c)
            personas = sorted(acc["persona"].drop_nulls().unique().to_list())
            self._set_options(self.persona, [(labels.get(p, p), p) for p in personas])
            channels = sorted(acc["acquisition_channel"].drop_nulls().unique().to_list())
            self._set_options(self.channel, [(ch, ch) for ch in channels])
            subs = c.table("subscriptions")
            plans = [] if subs is None else sorted(subs["plan"].drop_nulls().unique().to_list())
            self._set_options(self.plan, [(p, p) for p in plans])
            variants = sorted(loaded.stream["variant"].drop_nulls().unique().to_list())
            self._set_options(self.variant, [(v, v) for v in variants])
            self._set_options(self.stage, [(s.label, s.id) for s in c.template.stages])
            self.by_variant.value = False
            self.by_variant.disabled = not variants
            self.steps.allowed_tags = loaded.events
            self.steps.value = list(loaded.default_steps)
            self._fill_drop_steps()
            shown = [p for p in PANELS if p.needs is None or c.table(p.needs) is not None]
            self._shown = [p.id for p in shown]
            self.tabs.children = [self._containers[p.id] for p in shown]
            self.tabs.titles = tuple(p.title for p in shown)
            self.tabs.selected_index = 0
            notes = [p for p in PANELS if p.id not in self._shown]
            for p in notes:
                self.messages[p.id] = p.note
                self.results[p.id] = self.charts[p.id] = None
                self.outputs[p.id].outputs = (_html_output(_note(p.note or "")),)
            self.hidden_note.value = "".join(_note(f"{p.title} is hidden: {p.note}") for p in notes)
        self._update_status()

    @staticmethod
    def _set_options(dropdown: widgets.Dropdown, options: list[tuple[str, str]]) -> None:
        dropdown.options = [("All", ALL), *options]
        dropdown.value = ALL
        dropdown.disabled = not options

    def _fill_drop_steps(self) -> None:
        steps = list(self.steps.value)
        options = [
            (f"{k}. {steps[k - 1]} (after step {k - 1})", k) for k in range(2, len(steps) + 1)
        ]
        old = self.drop_step.value
        with self._silently():
            self.drop_step.options = options
            values = [v for _, v in options]
            self.drop_step.value = old if old in values else (values[0] if values else None)

    def _on_pick(self, change: dict[str, Any]) -> None:
        if not self._quiet and change["new"]:
            self.load(change["new"])

    def _on_path(self, change: dict[str, Any]) -> None:
        text = (change.get("new") or "").strip()
        if not self._quiet and text:
            self.load(text)

    # ------------------------------------------------------------ state
    @property
    def client(self) -> Client | None:
        """The client on screen."""
        return self._current.client if self._current else None

    def filters(self) -> Filters:
        """The filters as set in the dropdowns."""
        return Filters(
            self.persona.value or ALL,
            self.channel.value or ALL,
            self.plan.value or ALL,
            self.variant.value or ALL,
            self.stage.value or ALL,
        )

    def period_value(self) -> tuple[str, str]:
        """The period of the slider as ``(first month, last month)``."""
        lo, hi = self.period.value
        return str(lo), str(hi)

    def scope(self) -> _Scope:
        """The restricted data of the current filters and period (cached per state)."""
        assert self._current is not None
        key = (self.filters(), self.period_value())
        scopes = self._current.scopes
        if key in scopes:
            scopes.move_to_end(key)
        else:
            scopes[key] = _Scope(self._current, *key)
            while len(scopes) > _SCOPES_KEPT:
                scopes.popitem(last=False)
        return scopes[key]

    # ------------------------------------------------------------ redrawing
    def _control_handler(self, name: str) -> Any:
        group = _GROUP_OF[name]

        def handler(_change: dict[str, Any]) -> None:
            if self._quiet or self._current is None:
                return
            if name == "steps":
                self._fill_drop_steps()
            if group in ("period", "filters"):
                self._update_status()
            self.invalidate(group)

        return handler

    def invalidate(self, group: str) -> None:
        """Mark the panels that depend on ``group`` stale and redraw those due now."""
        self._stale |= {pid for pid in self._shown if group in DEPENDENCIES[pid]}
        self._refresh()

    def visible_panel(self) -> str | None:
        """The id of the panel whose tab is open."""
        i = self.tabs.selected_index
        return self._shown[i] if i is not None and 0 <= i < len(self._shown) else None

    def _refresh(self) -> None:
        due = set(self._stale) if not self.lazy_tabs else self._stale & {self.visible_panel()}
        for pid in self._shown:
            if pid in due:
                self.redraw(pid)

    def redraw_all(self) -> float:
        """Redraw every shown panel now; returns the seconds it took."""
        t0 = time.perf_counter()
        for pid in self._shown:
            self.redraw(pid)
        return time.perf_counter() - t0

    def redraw(self, panel: str) -> None:
        """Recompute one panel and draw it into its output.

        A panel that cannot be computed shows its error as a note (the other
        panels keep working); its message is kept in ``messages``.
        """
        self._stale.discard(panel)
        self.redraws[panel] += 1
        out = self.outputs[panel]
        out.outputs = (_html_output(_note("Computing…")),)
        t0 = time.perf_counter()
        result = chart = message = None
        extra: list[str] = []
        try:
            sc = self.scope()
            if sc.empty:
                message = (
                    f"No accounts match these filters ({sc.filters.describe()}) in "
                    f"{sc.period[0]} to {sc.period[1]}. Widen the filters or the period."
                )
            else:
                result, chart, message, extra = getattr(self, f"_panel_{panel}")(sc)
        except JourneyError as exc:
            message = str(exc)
        except Exception as exc:  # one broken panel must not take the explorer down
            message = f"This panel could not be drawn: {type(exc).__name__}: {exc}"
        self.results[panel], self.charts[panel], self.messages[panel] = result, chart, message
        parts = []
        if message:
            parts.append(_html_output(_note(message)))
        if chart is not None:
            parts.append(_html_output(render.chart_html(chart)))
        parts.extend(_html_output(x) for x in extra)
        out.outputs = tuple(parts)
        self.timings[panel] = time.perf_counter() - t0

    def _update_status(self) -> None:
        if self._current is None:
            return
        c = self._current.client
        sc = self.scope()
        total = c.tables["accounts"].height
        lo, hi = sc.period
        self._set_status(
            f"{c.config.client}: {sc.n_accounts():,} of {total:,} accounts "
            f"({sc.filters.describe()}), {lo} to {hi}."
        )

    # ------------------------------------------------------------ panels
    # Each returns (result frame, chart, message, extra HTML fragments).
    def _panel_journey_map(self, sc: _Scope) -> tuple[Any, Any, str | None, list[str]]:
        data = mapdata.journey_map_data(sc.client(), sc.doc(), sc.stream)
        if sc.filters.active():
            data = dataclasses.replace(data, title=f"{data.title} · {sc.filters.describe()}")
        return data.stages, charts.chart_journey_map(data), None, []

    def _panel_stage_funnel(self, sc: _Scope) -> tuple[Any, Any, str | None, list[str]]:
        c = sc.loaded.client
        frame = stages.stage_funnel(
            sc.lazy("__stream__"),
            sc.lazy("accounts"),
            period=sc.period,
            stages=mapdata.stage_pairs(c.template),
        )
        if frame.height == 0 or not frame["reached"].sum():
            return (
                frame,
                None,
                (
                    "No account of these filters was first seen in the period: "
                    "the stage funnel is empty."
                ),
                [],
            )
        table = frame_html(
            frame, formats={"conversion_from_previous": "pct", "median_days_from_previous": "num1"}
        )
        return frame, charts.chart_stage_funnel(frame), None, [table]

    def _funnel(self, sc: _Scope) -> funnels.FunnelResult | None:
        steps = tuple(self.steps.value)
        if not steps:
            return None
        return sc.funnel(
            steps, self.window.value.strip() or "14d", self.mode.value, bool(self.by_variant.value)
        )

    def _panel_ordered_funnel(self, sc: _Scope) -> tuple[Any, Any, str | None, list[str]]:
        res = self._funnel(sc)
        if res is None:
            return None, None, "Pick at least one step (events of this client) for the funnel.", []
        if not res.steps["count"][0]:
            return res.steps, None, "No account did the first step in this period.", []
        chart = charts.chart_ordered_funnel(
            res.steps, variants=res.variants, title="Ordered funnel"
        )
        extra = [
            frame_html(
                res.steps.drop("mean_seconds_to_convert", strict=False),
                formats={
                    "conversion": "pct",
                    "conversion_from_previous": "pct",
                    "median_seconds_to_convert": "num0",
                },
            ),
            _note(
                f"Still inside their window: {res.in_progress:,} accounts; "
                f"excluded: {res.excluded:,}."
            ),
        ]
        if res.variant_tests is not None and res.variant_tests.height:
            extra.append(
                frame_html(
                    res.variant_tests,
                    formats={
                        "conversion": "pct",
                        "conversion_reference": "pct",
                        "z": "num2",
                        "p_value": "num4",
                    },
                )
            )
        return res.steps, chart, None, extra

    def _panel_accounts(self, sc: _Scope) -> tuple[Any, Any, str | None, list[str]]:
        res = self._funnel(sc)
        k = self.drop_step.value
        if res is None or k is None:
            return None, None, "Pick at least two funnel steps to see who dropped between them.", []
        frame = dropped_accounts(res, int(k), sc.table("accounts"))
        event = res.steps["event"][int(k) - 1]
        caption = (
            f"{frame.height:,} accounts did step {int(k) - 1} and not step {k} "
            f"({event}) within the window (accounts still inside it are left out)."
        )
        table = frame_html(frame, max_rows=_TABLE_ROWS, caption=caption)
        return frame, None, None, [table]

    def _panel_activity_retention(self, sc: _Scope) -> tuple[Any, Any, str | None, list[str]]:
        frame = retention.activity_retention(
            sc.lazy("accounts"), sc.lazy("events"), period=sc.period
        )
        if frame.height == 0:
            return frame, None, "No sign-ups in this period: no cohort to follow.", []
        return frame, charts.chart_retention_heatmap(frame), None, []

    def _panel_revenue_retention(self, sc: _Scope) -> tuple[Any, Any, str | None, list[str]]:
        frame = revenue.revenue_retention(sc.lazy("subscriptions"), period=sc.period)
        if frame.height == 0:
            return frame, None, "No account started paying in this period.", []
        chart = alt.vconcat(
            charts.chart_retention_heatmap(frame, value="logo_retention"),
            charts.chart_retention_heatmap(frame, value="nrr"),
        )
        return frame, chart, None, []

    def _panel_mrr_movements(self, sc: _Scope) -> tuple[Any, Any, str | None, list[str]]:
        frame = revenue.revenue_months(sc.lazy("subscriptions"), period=sc.period)
        if frame.height == 0:
            return frame, None, "No subscription months in this period.", []
        return frame, charts.chart_mrr_movements(frame), None, []

    def _panel_touchpoint_flow(self, sc: _Scope) -> tuple[Any, Any, str | None, list[str]]:
        frame = stages.touchpoint_transitions(sc.lazy("__stream__"), period=sc.period)
        if frame.height == 0:
            return frame, None, "No account moved between touchpoints in this period.", []
        order = [tp.id for tp in sc.loaded.client.template.touchpoints]
        return frame, charts.chart_touchpoint_flow(frame, order=order), None, []

    def _panel_nps_by_stage(self, sc: _Scope) -> tuple[Any, Any, str | None, list[str]]:
        tpl = sc.loaded.client.template
        frame = feedback.nps_by_stage(
            sc.lazy("surveys"), period=sc.period, stage_order=tpl.stage_ids
        )
        if frame.height == 0:
            return frame, None, "No scored survey answer with a stage in this period.", []
        ci = [
            feedback.nps_interval(r["promoters"], r["passives"], r["detractors"])
            for r in frame.iter_rows(named=True)
        ]
        frame = frame.with_columns(
            pl.Series("ci_low", [c[0] for c in ci], dtype=pl.Float64),
            pl.Series("ci_high", [c[1] for c in ci], dtype=pl.Float64),
        )
        labels = {s.id: s.label for s in tpl.stages}
        return frame, _chart_nps_by_stage(frame, labels), None, []

    # ------------------------------------------------------------ export
    def export_dropped(self) -> Path | None:
        """Write the accounts of the accounts panel to CSV and show the path.

        The file goes to ``reports/<client>/explore/dropped_step<k>_<event>_<time>.csv``.

        Returns:
            The path written, or None when there is nothing to export.
        """
        if self._current is None:
            return None
        if "accounts" in self._stale or self.results["accounts"] is None:
            self.redraw("accounts")
        frame = self.results["accounts"]
        if frame is None:
            self.export_note.value = _note(self.messages["accounts"] or "Nothing to export.")
            return None
        k = int(self.drop_step.value)
        event = self.steps.value[k - 1]
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        folder = self._export_dir or (
            reports_dir() / _safe_part(self._current.client.name) / "explore"
        )
        path = folder / f"dropped_step{k}_{_safe_part(event)}_{stamp}.csv"
        folder.mkdir(parents=True, exist_ok=True)
        frame.write_csv(path)
        self.last_export = path
        self.export_note.value = (
            f"{frame.height:,} accounts written to <code>{html.escape(str(path))}</code>"
        )
        return path


def explore(client: str | Path | Client | None = None, **options: Any) -> Explorer:
    """The explorer for ``client`` (options as :class:`Explorer`); show it as a cell's value."""
    return Explorer(client, **options)
