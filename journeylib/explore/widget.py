"""The interactive explorer of notebook ``00_explore``: the library's charts behind widgets.

An analyst picks a client, a period and filters (persona, acquisition channel,
plan, variant, stage reached) and the panels redraw: the journey map, the stage
funnel, an ordered funnel over events of their choice with what drives it
(the events and account properties that go with converting), the accounts
that dropped at one of its steps (exportable as CSV), activity retention, the
lifecycle of active accounts, revenue retention, MRR movements, the period's
conversions attributed to channels under five models (first touch, last touch,
linear, position-based, Markov) with CAC by model, the touchpoint flow, the
paths accounts take (a Sankey) and NPS by stage. A breakdown by an
account column adds, under the ordered funnel and under activity retention,
each group's numbers with their 95 % intervals and a test across the groups.

How it stays fast on large clients:

* a client is read from its **store** (:func:`journeylib.store.ensure_store`:
  ingested and validated once, built here when missing or stale, with its
  progress in the status line): the events and the journey stream stay Parquet
  scans, and the per-account marts answer most questions;
* filters only choose a set of account ids, on the ``accounts`` mart
  (:func:`~journeylib.explore.filters.account_ids`); each table, the stream and
  the marts are restricted to it lazily (a
  :class:`~journeylib.explore.filters.Scope`, polars ``LazyFrame`` filters);
* each panel computes only what it shows (:mod:`journeylib.explore.compute`),
  never the whole metrics document, and what panels share is computed once
  per filter state;
* every panel lists the control groups it depends on
  (:data:`~journeylib.explore.panels.DEPENDENCIES`): a change redraws only the
  panels that depend on the control, and by default only the panels on screen
  (a tab's panel and those drawn under it); the others are marked stale and
  redraw when their tab is opened (``lazy_tabs=False`` redraws every
  dependent panel at once).

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
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import ipywidgets as widgets

from journeylib import analysis
from journeylib.errors import JourneyError
from journeylib.explore import compute
from journeylib.explore.filters import ALL, Filters, Scope
from journeylib.explore.panels import (
    CONTROL_GROUPS,
    DEPENDENCIES,
    PANELS,
    Drawn,
    FunnelChoice,
    draw,
    note_html,
)
from journeylib.explore.source import Options, Source, load_options
from journeylib.formatting import format_value
from journeylib.frames import write_csv_for_people
from journeylib.ingest.client import Client
from journeylib.metrics import resolve_period, with_period
from journeylib.paths import data_dir, reports_dir, resolve_client_dir
from journeylib.present import render
from journeylib.store import Store, ensure_store

__all__ = ["Explorer", "explore"]

_SCOPES_KEPT = 4  # filter states whose restricted tables stay cached
_SAFE = re.compile(r"[^A-Za-z0-9_-]+")


def _safe_part(text: str) -> str:
    return _SAFE.sub("_", str(text)).strip("_") or "x"


def _bundle_html() -> str:
    """The vega bundle in a script element, then any chart that waited for it is drawn."""
    flush = (
        "(function(){var q=window.__jwPending||[];window.__jwPending=[];"
        "q.forEach(function(f){f();});})();"
    )
    return f'<script type="text/javascript" data-jw-bundle>{render.vega_bundle()}\n{flush}</script>'


_WIDE_LABEL = {"description_width": "initial"}  # a description longer than the default room
_PANEL_BY_ID = {p.id: p for p in PANELS}


def _heading(title: str | None) -> widgets.HTML:
    """The heading of a panel drawn under another one."""
    return widgets.HTML(f'<h4 style="margin:18px 0 4px">{html.escape(title or "")}</h4>')


def _html_output(fragment: str) -> dict[str, Any]:
    return {
        "output_type": "display_data",
        "data": {"text/html": fragment, "text/plain": "<explorer output>"},
        "metadata": {},
    }


# ---------------------------------------------------------------- cached state
@dataclasses.dataclass
class _Loaded:
    """A client opened once, with what every filter state shares."""

    source: Source
    options: Options
    scopes: OrderedDict[Any, Scope] = dataclasses.field(default_factory=OrderedDict)

    @property
    def client(self) -> Client:
        return self.source.client


# ---------------------------------------------------------------- the explorer
class Explorer:
    """The interactive explorer: controls, panels, and what each panel computed.

    Args:
        client: a client name under ``data/`` or a client folder's path (read
            from its client store, built first when missing or stale), a
            :class:`~journeylib.store.Store`, or a
            :class:`~journeylib.ingest.client.Client` loaded in memory; None
            picks ``demo`` (else the first client) under ``data/``.
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
        breakdown: the ``accounts`` column the ordered funnel and activity
            retention are broken down by (``ALL``: none; shown in both tabs).
        interval: the lifecycle's buckets (day, week, month).
        path_start, path_end, path_steps, path_level, path_min_accounts: the
            paths' anchor (``ALL``: none; one at a time), items per path
            (2 … 8), level (event, touchpoint) and the fewest accounts of a
            node of its own (0: picked so that each step keeps its largest
            items, :data:`~journeylib.explore.compute.AUTO_ITEMS` of them).
        tabs: the panels; outputs: panel id → ``Output``.
        results, charts, messages, redraws, timings: per panel id, the last
            frame, altair chart, empty-state note, redraw count and seconds.
        widget: the whole explorer (displaying the Explorer displays it).
    """

    def __init__(
        self,
        client: str | Path | Client | Store | None = None,
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
        self._displayed = False
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
        self.breakdown = w.Dropdown(
            description="Break down by", options=[("None", ALL)], style=_WIDE_LABEL, **drop
        )
        self.interval = w.Dropdown(
            options=["day", "week", "month"],
            value="week",
            description="Interval",
            layout=w.Layout(width="200px"),
        )
        self.path_start = w.Dropdown(description="Start at", options=[("(none)", ALL)], **drop)
        self.path_end = w.Dropdown(description="End at", options=[("(none)", ALL)], **drop)
        self.path_level = w.Dropdown(
            options=[("events", "event"), ("touchpoints", "touchpoint")],
            value="event",
            description="Level",
            layout=w.Layout(width="220px"),
        )
        self.path_steps = w.IntSlider(
            value=5, min=2, max=8, description="Steps", continuous_update=False
        )
        self.path_min_accounts = w.BoundedIntText(
            value=0,
            min=0,
            max=10**9,
            description="Min accounts",
            style=_WIDE_LABEL,
            layout=w.Layout(width="220px"),
        )
        self.hidden_note = w.HTML()
        self.outputs = {p.id: w.Output() for p in PANELS}
        # Filled when the explorer is first displayed: building the bundle takes seconds
        # and only a browser needs it.
        self._bundle = w.Output(layout=w.Layout(display="none"))
        funnel_box = w.VBox(
            [
                w.HBox([w.Label("Steps (drag to reorder)"), self.steps]),
                w.HBox([self.window, self.mode, self.by_variant, self.breakdown]),
                self.outputs["ordered_funnel"],
                self.outputs["funnel_breakdown"],
                _heading(_PANEL_BY_ID["funnel_drivers"].title),
                self.outputs["funnel_drivers"],
            ]
        )
        accounts_box = w.VBox(
            [
                w.HBox([self.drop_step, self.export_button]),
                self.export_note,
                self.outputs["accounts"],
            ]
        )
        retention_box = w.VBox(
            [
                w.HBox([self.breakdown]),  # the funnel tab's dropdown, shown here too
                self.outputs["activity_retention"],
                self.outputs["retention_breakdown"],
            ]
        )
        paths_box = w.VBox(
            [
                w.HBox(
                    [self.path_start, self.path_end, self.path_level],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
                w.HBox(
                    [
                        self.path_steps,
                        self.path_min_accounts,
                        w.Label(f"(0: the {compute.AUTO_ITEMS} largest items of each step)"),
                    ],
                    layout=w.Layout(flex_flow="row wrap"),
                ),
                self.outputs["paths"],
            ]
        )
        self._containers: dict[str, widgets.Widget] = {p.id: self.outputs[p.id] for p in PANELS}
        self._containers["ordered_funnel"] = funnel_box
        self._containers["accounts"] = accounts_box
        self._containers["activity_retention"] = retention_box
        self._containers["lifecycle"] = w.VBox([self.interval, self.outputs["lifecycle"]])
        self._containers["paths"] = paths_box
        self.tabs = w.Tab()
        self._shown: list[str] = []  # the panels shown, those drawn under another included
        self._tab_ids: list[str] = []  # the panel of each tab
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
        for name in CONTROL_GROUPS:
            getattr(self, name).observe(self._control_handler(name), names="value")
        self.tabs.observe(
            lambda _c: None if self._quiet else self._refresh(), names="selected_index"
        )
        self.export_button.on_click(lambda _b: self.export_dropped())

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        self._displayed = True
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
    def load(self, client: str | Path | Client | Store) -> None:
        """Open a client (once; later calls reuse it), fill the controls and redraw.

        A name or a folder is read from its client store
        (:func:`journeylib.store.ensure_store`), built first when missing or
        stale (the status line shows the build's progress).

        Args:
            client: a name under ``data/``, a folder's path, a client store, or
                a client loaded in memory.

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

    def _load(self, client: str | Path | Client | Store) -> _Loaded:
        if isinstance(client, Client | Store):
            folder = client.path if isinstance(client, Client) else client.client_dir
            key = str(Path(folder).resolve())
            if key not in self._loaded_by_key:
                t0 = time.perf_counter()
                if isinstance(client, Client):
                    source = Source.from_client(client)
                else:
                    source = Source.from_store(client)
                self._loaded_by_key[key] = self._prepare(source)
                self.timings["load"] = time.perf_counter() - t0
            return self._loaded_by_key[key]
        path = resolve_client_dir(client)
        key = str(path)
        if key not in self._loaded_by_key:
            t0 = time.perf_counter()
            store = ensure_store(path, progress=self._progress)
            self._loaded_by_key[key] = self._prepare(Source.from_store(store))
            self.timings["load"] = time.perf_counter() - t0
        return self._loaded_by_key[key]

    def _progress(self, line: str) -> None:
        """A line of a store build: in the status line, and printed while the explorer is not shown yet.

        A client opened by ``Explorer(...)`` is built before the cell shows the
        widget: the printed lines are then the cell's only sign of progress.
        """
        self._set_status(line)
        if not self._displayed:
            print(line, flush=True)

    @staticmethod
    def _prepare(source: Source) -> _Loaded:
        return _Loaded(source=source, options=load_options(source))

    def _fill_controls(self, loaded: _Loaded) -> None:
        c = loaded.client
        opts = loaded.options
        with self._silently():
            key = str(Path(c.path).resolve())
            picks = list(self.client_picker.options)
            if key not in dict(picks).values():
                picks.append((str(c.path), key))
                self.client_picker.options = picks
            self.client_picker.value = key
            months = opts.months
            lo, hi = resolve_period(with_period(c, *self._start_period))
            i0 = months.index(lo) if lo in months else 0
            i1 = months.index(hi) if hi in months else len(months) - 1
            self.period.options = months
            self.period.index = (min(i0, i1), max(i0, i1))
            labels = analysis.persona_labels(c)
            self._set_options(self.persona, [(labels.get(p, p), p) for p in opts.personas])
            self._set_options(self.channel, [(ch, ch) for ch in opts.channels])
            self._set_options(self.plan, [(p, p) for p in opts.plans])
            self._set_options(self.variant, [(v, v) for v in opts.variants])
            self._set_options(self.stage, [(s.label, s.id) for s in c.template.stages])
            self.by_variant.value = False
            self.by_variant.disabled = not opts.variants
            self.steps.allowed_tags = opts.events
            self.steps.value = list(opts.default_steps)
            self._fill_drop_steps()
            self.breakdown.options = [("None", ALL), *[(col, col) for col in opts.breakdowns]]
            self.breakdown.value = ALL
            self.breakdown.disabled = not opts.breakdowns
            self.interval.value = "week"
            self.path_level.value = "event"
            self.path_steps.value = 5
            self.path_min_accounts.value = 0
            self._fill_path_anchors()
            available = {p.id for p in PANELS if p.needs is None or c.table(p.needs) is not None}
            shown = [p for p in PANELS if p.id in available and (p.under or p.id) in available]
            self._shown = [p.id for p in shown]
            tabs = [p for p in shown if p.under is None]
            self._tab_ids = [p.id for p in tabs]
            self.tabs.children = [self._containers[p.id] for p in tabs]
            self.tabs.titles = tuple(p.title or p.id for p in tabs)
            self.tabs.selected_index = 0
            notes = [p for p in PANELS if p.id not in self._shown]
            for p in notes:
                self.messages[p.id] = p.note
                self.results[p.id] = self.charts[p.id] = None
                self.outputs[p.id].outputs = (_html_output(note_html(p.note or "")),)
            self.hidden_note.value = "".join(
                note_html(f"{p.title} is hidden: {p.note}") for p in notes
            )
        self._update_status()

    @staticmethod
    def _set_options(dropdown: widgets.Dropdown, options: list[tuple[str, str]]) -> None:
        dropdown.options = [("All", ALL), *options]
        dropdown.value = ALL
        dropdown.disabled = not options

    def _fill_path_anchors(self) -> None:
        """The paths' start and end choices for the level set, both back to none.

        At event level a path may start at a raw event or at the sign-up
        (``signed_up``) and end at any event of the stream; at touchpoint
        level both are the touchpoints the stream's accounts met.
        """
        if self._current is None:
            return
        opts = self._current.options
        if self.path_level.value == "touchpoint":
            names = {tp.id: tp.display for tp in self._current.client.template.touchpoints}
            starts = ends = [(names.get(t, t), t) for t in opts.touchpoints]
        else:
            first = [e for e in ("signed_up",) if e in opts.events and e not in opts.raw_events]
            starts = [(e, e) for e in [*first, *opts.raw_events]]
            ends = [(e, e) for e in opts.events]
        with self._silently():
            for dropdown, options in ((self.path_start, starts), (self.path_end, ends)):
                dropdown.options = [("(none)", ALL), *options]
                dropdown.value = ALL

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

    def scope(self) -> Scope:
        """The restricted data of the current filters and period (cached per state)."""
        assert self._current is not None
        key = (self.filters(), self.period_value())
        scopes = self._current.scopes
        if key in scopes:
            scopes.move_to_end(key)
        else:
            scopes[key] = Scope(self._current.source, *key)
            while len(scopes) > _SCOPES_KEPT:
                scopes.popitem(last=False)
        return scopes[key]

    def funnel_choice(self) -> FunnelChoice:
        """The panel controls as set (an empty window reads as ``14d``)."""
        return FunnelChoice(
            tuple(self.steps.value),
            self.window.value.strip() or "14d",
            self.mode.value,
            bool(self.by_variant.value),
            self.drop_step.value,
            breakdown=self.breakdown.value or ALL,
            interval=self.interval.value,
            path_start=self.path_start.value or None,
            path_end=self.path_end.value or None,
            path_steps=int(self.path_steps.value),
            path_level=self.path_level.value,
            path_min_accounts=int(self.path_min_accounts.value or 0),
        )

    # ------------------------------------------------------------ redrawing
    def _control_handler(self, name: str) -> Any:
        group = CONTROL_GROUPS[name]

        def handler(change: dict[str, Any]) -> None:
            if self._quiet or self._current is None:
                return
            if name == "steps":
                self._fill_drop_steps()
            elif name == "path_level":
                self._fill_path_anchors()
            elif name in ("path_start", "path_end") and change["new"] != ALL:
                other = self.path_end if name == "path_start" else self.path_start
                with self._silently():  # one anchor at a time: the other goes back to none
                    other.value = ALL
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
        return self._tab_ids[i] if i is not None and 0 <= i < len(self._tab_ids) else None

    def visible_panels(self) -> list[str]:
        """The panels on screen: the open tab's panel and those drawn under it."""
        tab = self.visible_panel()
        return [pid for pid in self._shown if tab in (pid, _PANEL_BY_ID[pid].under)]

    def _refresh(self) -> None:
        due = set(self._stale) if not self.lazy_tabs else self._stale & set(self.visible_panels())
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
        out.outputs = (_html_output(note_html("Computing…")),)
        t0 = time.perf_counter()
        try:
            sc = self.scope()
            if sc.empty and _PANEL_BY_ID[panel].under is not None:
                drawn = Drawn()  # the panel above says so
            elif sc.empty:
                drawn = Drawn(
                    message=f"No accounts match these filters ({sc.filters.describe()}) in "
                    f"{sc.period[0]} to {sc.period[1]}. Widen the filters or the period."
                )
            else:
                drawn = draw(panel, sc, self.funnel_choice())
        except JourneyError as exc:
            # an error of the panel above (a bad window …) is said once: there
            above = _PANEL_BY_ID[panel].under
            said = above is not None and self.messages.get(above) == str(exc)
            drawn = Drawn() if said else Drawn(message=str(exc))
        except Exception as exc:  # one broken panel must not take the explorer down
            drawn = Drawn(message=f"This panel could not be drawn: {type(exc).__name__}: {exc}")
        self.results[panel], self.charts[panel] = drawn.result, drawn.chart
        self.messages[panel] = drawn.message
        parts = []
        if drawn.message:
            parts.append(_html_output(note_html(drawn.message)))
        if drawn.chart is not None:
            parts.append(_html_output(render.chart_html(drawn.chart)))
        parts.extend(_html_output(x) for x in drawn.extra)
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
            f"{c.config.client}: {format_value(sc.n_accounts(), 'count')} of "
            f"{format_value(total, 'count')} accounts "
            f"({sc.filters.describe()}), {lo} to {hi}."
        )

    # ------------------------------------------------------------ export
    def export_dropped(self) -> Path | None:
        """Write the accounts of the accounts panel to CSV and show the path.

        The file goes to ``reports/<client>/explore/dropped_step<k>_<event>_<time>.csv``
        (or under ``export_dir``), written for a spreadsheet by
        :func:`~journeylib.frames.write_csv_for_people`: UTF-8 with a byte-order
        mark, and its text cells neutralised (a name or id that starts with
        ``=``, ``+``, ``-``, ``@``, a tab or a carriage return gets a leading
        ``'``, so an account named ``=HYPERLINK(...)`` is not a live formula).
        The panel's frame itself (``results["accounts"]``) keeps the values as
        they are.

        Returns:
            The path written, or None when there is nothing to export.
        """
        if self._current is None:
            return None
        if "accounts" in self._stale or self.results["accounts"] is None:
            self.redraw("accounts")
        frame = self.results["accounts"]
        if frame is None:
            self.export_note.value = note_html(self.messages["accounts"] or "Nothing to export.")
            return None
        k = int(self.drop_step.value)
        event = self.steps.value[k - 1]
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        folder = self._export_dir or (
            reports_dir() / _safe_part(self._current.client.name) / "explore"
        )
        path = write_csv_for_people(
            frame, folder / f"dropped_step{k}_{_safe_part(event)}_{stamp}.csv"
        )
        self.last_export = path
        self.export_note.value = (
            f"{format_value(frame.height, 'count')} accounts written to "
            f"<code>{html.escape(str(path))}</code>"
        )
        return path


def explore(client: str | Path | Client | Store | None = None, **options: Any) -> Explorer:
    """The explorer for ``client`` (options as :class:`Explorer`); show it as a cell's value."""
    return Explorer(client, **options)
