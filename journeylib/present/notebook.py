"""What every mapping-step notebook starts with and shows: :func:`setup` and :func:`show`.

A notebook's first cells are its imports and its ``parameters`` cell (the
names ``journey run`` injects through papermill); then one call loads the
client as every notebook does::

    step = setup(client, data_dir=data_dir, output_dir=output_dir,
                 period_start=period_start, period_end=period_end)
    show(step.intro)

and :func:`show` displays a polars frame as the workbench's escaped HTML table,
an altair chart offline (saved as SVG and PNG for slides when the run has a
charts folder), or Markdown text.
"""

from __future__ import annotations

import dataclasses
import html
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl
from IPython.display import HTML, Markdown, display

from journeylib.formatting import format_month, format_value
from journeylib.frames import write_csv_for_people
from journeylib.i18n import gettext, set_default_language
from journeylib.ingest.client import Client
from journeylib.metrics import (
    forecast,
    keep_results,
    metrics_document,
    resolve_period,
    with_period,
)
from journeylib.metrics.stages import remember_period_entries
from journeylib.paths import resolve_client_dir
from journeylib.present import render
from journeylib.present.tables import frame_html
from journeylib.store import Store, ensure_store

__all__ = ["FORECAST_FILE", "Step", "setup", "show"]

#: The run's retention forecast, beside ``metrics.json``: written by notebook 05
#: (:meth:`Step.retention_forecast`), read by the report's executive summary.
FORECAST_FILE = "forecast.json"


@dataclasses.dataclass(frozen=True)
class Step:
    """A notebook's client, loaded for its period, and where its files go.

    Attributes:
        client_dir: the client folder.
        out_dir: the run folder (``output_dir``), or None to write nothing.
        client: the validated client, its period set from the parameters.
        doc: the metrics document (the numbers of ``metrics.json``).
        stream: the journey event stream of the client's store, as a LazyFrame
            (read from disk by each function that uses it; collected, its rows
            are sorted by account_id, timestamp, seq).
        period: the analysis period ``(first month, last month)``.
    """

    client_dir: Path
    out_dir: Path | None
    client: Client
    doc: dict[str, Any]
    stream: pl.LazyFrame
    period: tuple[str, str]
    store: Store | None = None

    @property
    def stream_parts(self) -> list[pl.LazyFrame] | pl.LazyFrame | pl.DataFrame:
        """The journey stream in account parts (``Store.stream_parts``): one bucket at a time.

        What the functions that compute per account read in the memory of one
        part (:func:`journeylib.analysis.paths.paths`, ``funnel_correlation``,
        ``account_health_of``); the stream whole when the step was built
        without a store (same answers).
        """
        if self.store is not None:
            return self.store.stream_parts()
        return self.stream

    @property
    def account_days(self) -> list[pl.LazyFrame] | pl.LazyFrame | pl.DataFrame:
        """Raw-event activity per account and day: the store's ``account_days`` mart, in account parts.

        What :func:`journeylib.metrics.activity.lifecycle` reads fastest, part
        by part (``Store.mart_parts``); the raw events when the step was built
        without a store (same answers).
        """
        if self.store is not None:
            return self.store.mart_parts("account_days")
        return self.client.tables["events"]

    @property
    def activity_months(self) -> pl.LazyFrame | pl.DataFrame:
        """The months each account was active in (``Store.activity_months``): ``[account_id, timestamp]``.

        What :func:`journeylib.metrics.retention.activity_retention` reads
        fastest; the raw events when the step was built without a store (same
        answers).
        """
        if self.store is None:
            return self.client.tables["events"]
        return self.store.activity_months()

    @property
    def charts_dir(self) -> Path | None:
        """``out_dir/charts``, where charts are saved for slides; None without a run folder."""
        return self.out_dir / "charts" if self.out_dir else None

    @property
    def accounts(self) -> pl.DataFrame:
        """The accounts table."""
        return self.client.tables["accounts"]

    def retention_forecast(self, *, seed: int = 0) -> dict[str, Any] | None:
        """The retention forecast after the period, with today's base; recorded for the report.

        :func:`journeylib.metrics.forecast.retention_forecast` of the
        subscriptions (12 months, 200 resamples, ``seed``) with three keys
        added: ``base``, today's customers who have never churned (the accounts
        of every first paid month up to the period's end, earlier months than
        the period's too, that have paid every month since: the forecast's
        starting point; reactivated customers are not in it), ``base_month``
        (the period's last month) and ``seed``. In a run (``out_dir``) it is
        also written to ``out_dir/forecast.json`` (:data:`FORECAST_FILE`), where
        the report's executive summary reads it: the forecast is computed once
        per run, by the notebook that calls this. None without a subscriptions
        table.
        """
        subs = self.client.table("subscriptions")
        if subs is None:
            return None
        out = forecast.retention_forecast(subs, period=self.period, seed=seed)
        base = forecast.never_churned(subs, month=self.period[1])
        out = {**out, "base": base, "base_month": self.period[1], "seed": seed}
        if self.out_dir is not None:
            path = self.out_dir / FORECAST_FILE
            path.write_text(json.dumps(out, indent=1, allow_nan=False) + "\n", encoding="utf-8")
        return out

    def save_csv(self, frame: pl.DataFrame, name: str) -> Path | None:
        """Write ``frame`` to ``out_dir/name`` as a CSV for people; None without a run folder.

        The file opens safely in a spreadsheet
        (:func:`journeylib.frames.write_csv_for_people`: UTF-8 with a BOM, text
        cells that start like a formula get a leading ``'``). ``name`` is a
        plain file name ending in ``.csv``: it cannot leave the run folder.
        """
        if Path(name).name != name or not name.endswith(".csv") or name.startswith("."):
            raise ValueError(f"not a plain .csv file name: {name!r}")
        if self.out_dir is None:
            return None
        return write_csv_for_people(frame, self.out_dir / name)

    @property
    def intro(self) -> str:
        """One Markdown line naming the client, its period, accounts and journey template.

        Client text is escaped: it reaches the report as Markdown.
        """
        c, (first, last) = self.client, self.period
        return gettext(
            "**{client}**: period {first} to {last}, {accounts} accounts, journey template "
            "`{journey}` ({stages} stages, {touchpoints} touchpoints)."
        ).format(
            client=html.escape(c.config.client),
            first=format_month(first),
            last=format_month(last),
            accounts=format_value(self.accounts.height, "count"),
            journey=html.escape(c.config.journey),
            stages=format_value(len(c.template.stages), "count"),
            touchpoints=format_value(len(c.template.touchpoints), "count"),
        )


def setup(
    client: str | Path,
    *,
    data_dir: str | Path = "",
    output_dir: str | Path = "",
    period_start: str = "",
    period_end: str = "",
) -> Step:
    """Load a client for a mapping-step notebook, from the notebook's parameters.

    Args:
        client: a client name under ``data_dir`` (or under ``data/``), or the
            path of a client folder.
        data_dir: the folder that holds the client folders; empty for ``data/``.
        output_dir: the run folder (charts go to ``charts/`` below it); empty
            to write nothing.
        period_start: the first month ``YYYY-MM``; empty for ``client.yaml``
            or the data.
        period_end: the last month ``YYYY-MM``; empty likewise.

    Returns:
        The loaded client, its metrics document, stream, period and folders.

    The client is read from its store (:func:`journeylib.store.ensure_store`,
    built first when missing or stale, with a progress line). In a run
    (``output_dir`` holding the ``metrics.json`` the runner computed for the
    same period) the document is read from that file; otherwise it is computed.
    The client's ``language`` becomes the kernel's
    (:func:`journeylib.i18n.set_default_language`): the words and numbers of
    the tables, charts and findings that follow are written in it. The
    kernel keeps the intermediate results the metric functions share
    (:func:`journeylib.metrics.keep_results`): the notebook's cells call them
    on the same stream and accounts, which are computed once; each account's
    stage entries are read from the store's ``accounts`` mart up front.
    """
    keep_results()
    client_dir = resolve_client_dir(Path(data_dir) / client if data_dir else client)
    store = ensure_store(client_dir, progress=print)
    c = with_period(store.client(), period_start, period_end)
    set_default_language(c.config.language)
    out_dir = Path(output_dir) if output_dir else None
    doc = _run_document(out_dir, c)
    if doc is None:
        doc = metrics_document(c)
    step = Step(
        client_dir=client_dir,
        out_dir=out_dir,
        client=c,
        doc=doc,
        # lazy: a 10 M-event stream held in memory would take 2 GB in every kernel
        stream=store.stream(),
        # resolve_period(c), as the document computed it (reading the events' bounds again
        # would scan a Parquet client's events once more)
        period=(doc["period"]["start"], doc["period"]["end"]),
        store=store,
    )
    # Each account's stage entries, read from the store's accounts mart: the stage funnel,
    # the stalled accounts and the stage entries of this stream need no pass over it.
    remember_period_entries(
        step.stream,
        c.tables["accounts"],
        store.mart("accounts"),
        period=step.period,
        stages=[(s.id, s.label) for s in c.template.stages],
    )
    return step


def _run_document(out_dir: Path | None, client: Client) -> dict[str, Any] | None:
    """The run's ``metrics.json`` when it is there and covers the client's period; else None."""
    if out_dir is None:
        return None
    try:
        doc = json.loads((out_dir / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    period = doc.get("period") if isinstance(doc, dict) else None
    if not isinstance(period, dict) or (period.get("start"), period.get("end")) != resolve_period(
        client
    ):
        return None
    return doc


def show(
    obj: Any,
    *,
    save_as: str | None = None,
    charts_dir: str | Path | None = None,
    save_formats: Sequence[str] = ("svg", "png"),
    pre: bool = False,
    finding: str | None = None,
    report: str | None = None,
    **table_options: Any,
) -> None:
    """Display ``obj`` in the notebook: a table, a chart, or text.

    * a polars frame: the workbench's escaped HTML table
      (:func:`~journeylib.present.tables.frame_html`; ``table_options`` are its
      ``formats``, ``max_rows`` and ``caption``);
    * an altair chart (or a vega-lite spec dict): drawn offline
      (:func:`~journeylib.present.render.display`), and with ``save_as`` and a
      ``charts_dir`` also written to ``charts_dir/<save_as>.svg`` and ``.png``;
    * a str: Markdown, or with ``pre`` escaped preformatted text;
    * anything else: IPython's own display.

    Args:
        obj: what to show.
        save_as: the chart's file name without suffix (charts only).
        charts_dir: the charts folder; None writes nothing (a notebook run
            without ``output_dir``).
        save_formats: the file types written for ``save_as``.
        pre: show a str as preformatted text (e.g. a YAML snippet) instead of
            Markdown.
        finding: one sentence shown above a chart or a table (escaped); see
            :mod:`journeylib.analysis.findings`.
        report: also put this output in the client report (``report.html``), as
            this kind of item: ``"chart"`` (a card beside others), ``"wide"``
            (a card across the page), ``"table"``, or ``"recommendations"``
            (the report's recommendations section). Without it the output
            appears in ``analysis.html`` only.
        **table_options: passed to ``frame_html`` (frames only).

    Raises:
        TypeError: ``table_options`` for something that is not a frame,
            ``save_as`` for something that is not a chart, or ``finding`` for
            a str.

    Examples:
        >>> show(pl.DataFrame({"rate": [0.25]}), formats={"rate": "pct"})
        <IPython.core.display.HTML object>
        >>> show("**bold**")
        <IPython.core.display.Markdown object>
    """
    is_frame = isinstance(obj, pl.DataFrame | pl.LazyFrame)
    is_chart = isinstance(obj, alt.TopLevelMixin | dict)
    if table_options and not is_frame:
        raise TypeError(f"table options {sorted(table_options)} apply to polars frames only")
    if save_as is not None and not is_chart:
        raise TypeError("save_as applies to charts only")
    lead = f'<p class="jw-finding">{html.escape(finding)}</p>\n' if finding else ""
    meta = render.report_metadata(report)
    if is_frame:
        display(HTML(lead + frame_html(obj, **table_options)), metadata=meta)
    elif is_chart:
        render.display(obj, finding=finding, report=report, name=save_as)
        if save_as is not None:
            render.save_charts({save_as: obj}, charts_dir, formats=save_formats)
    elif isinstance(obj, str):
        if finding:
            raise TypeError("finding applies to charts and frames only")
        display(HTML(f"<pre>{html.escape(obj)}</pre>") if pre else Markdown(obj), metadata=meta)
    else:
        display(obj)
