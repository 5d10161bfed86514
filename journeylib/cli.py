"""The ``journey`` command line: thin wrappers over the public API.

Every user-facing error is a :class:`~journeylib.errors.JourneyError`; here,
and only here, it becomes one line on stderr and exit status 2.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import re
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Annotated, Any

import polars as pl
import typer
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from journeylib.engines import check_engine, frames_to_engine, to_engine
from journeylib.errors import JourneyError, check_choice
from journeylib.formatting import MISSING, format_p_value, format_value
from journeylib.frames import to_polars
from journeylib.ingest.client import data_quality, load_client, load_settings
from journeylib.ingest.lazy import bound_scan_memory
from journeylib.metrics import metrics_document, metrics_json, resolve_period, summary_lines
from journeylib.metrics.funnels import check_funnel_args, funnel_json, ordered_funnel
from journeylib.metrics.period import period_view, with_period
from journeylib.paths import client_dir_for_new, data_dir
from journeylib.sources.scaffold import init_client
from journeylib.store import Store, ensure_store

# `import journeylib.cli` runs journeylib/__init__.py, which loads polars, the ingest, the
# metrics and the stream (about 0.4 s, most of `journey --help`); the imports above add little
# to it. The importers, the synthesiser and the report runner (about 50 ms more) are imported
# inside the commands that use them. The heavy libraries are imported where they are used, not
# by any command's module: papermill when notebooks run, duckdb and pyspark when a client goes
# to that engine, altair only when a report is assembled without a charts bundle.

app = typer.Typer(
    name="journey",
    help="Journey Workbench: customer journey maps computed from a SaaS company's data.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
# No emoji codes, no highlighting: messages quote client text (":a:" is not an emoji code).
out = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, emoji=False)

# The library's errors name its parameters; each command names them as its flags and arguments.
_FUNNEL_FLAGS = {
    "steps": "--steps",
    "window": "--window",
    "mode": "--mode",
    "exclusions": "--exclude",
    "period": "--period",
}
_METRICS_FLAGS = {"engine": "--engine", "spark_master": "--spark-master", "period": "--period"}
_IMPORT_FLAGS = {
    "source": "SOURCE",
    "files": "FILE",
    "client": "--client",
    "identity": "--identity",
    "match": "--match",
    "date": "--date",
    "template": "--template",
}


def _friendly(
    flags: Mapping[str, str] | None = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Turn a JourneyError into one line on stderr and exit status 2.

    With ``flags``, the error names the command's flags where it names the
    library's parameters (:func:`_name_flags`).
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except JourneyError as exc:
                named = _name_flags(exc, flags) if flags else exc
                # Escaped: a message may hold brackets (pip install '.[spark]') rich would eat.
                err.print(f"[bold red]error:[/] {escape(str(named))}", markup=True, soft_wrap=True)
                raise typer.Exit(exc.exit_code) from None
            except KeyboardInterrupt:
                err.print("interrupted")
                raise typer.Exit(130) from None

        return wrapper

    return decorate


def _flag_text(text: str, flags: Mapping[str, str]) -> str:
    """``text`` with the library's parameters written as the command's flags.

    A parameter before a quoted value (``mode 'ordered'``) or written as a
    keyword argument (``date=YYYY-MM-DD``, ``engine='duckdb'``) becomes the flag
    (``--mode 'ordered'``, ``--date YYYY-MM-DD``, ``--engine duckdb``); a plain
    quoted value after ``=`` loses its quotes, as a shell word needs none.
    Prose keeps its words.

    Examples:
        >>> _flag_text("use engine='duckdb', or date=YYYY-MM-DD; the date", _IMPORT_FLAGS | _METRICS_FLAGS)
        'use --engine duckdb, or --date YYYY-MM-DD; the date'
    """
    names = "|".join(map(re.escape, flags))
    param = re.compile(rf"(?<![\w-])({names})(?: (?=')|=(?:'([\w./:-]+)')?)")
    return param.sub(lambda m: f"{flags[m[1]]} {m[2] or ''}", text)


def _name_flags(exc: JourneyError, flags: Mapping[str, str]) -> JourneyError:
    """The same error naming the command's flags where it names the library's parameters.

    ``where="window"`` becomes ``where="--window"``, and the details name the
    flags as :func:`_flag_text` writes them; ``what`` and prose keep their words.

    Examples:
        >>> from journeylib.errors import ConfigError
        >>> str(_name_flags(ConfigError("bad", where="mode", fix="use mode 'ordered'"), _FUNNEL_FLAGS))
        "--mode: bad. Fix: use --mode 'ordered'."
        >>> str(_name_flags(JourneyError("no date", where="date", fix="pass date=YYYY-MM-DD"), _IMPORT_FLAGS))
        '--date: no date. Fix: pass --date YYYY-MM-DD.'
    """

    def swap(text: str | None) -> str | None:
        return None if text is None else _flag_text(text, flags)

    return type(exc)(
        exc.what,
        where=flags.get(exc.where or "", exc.where),
        expected=swap(exc.expected),
        found=swap(exc.found),
        fix=swap(exc.fix),
    )


ClientArg = Annotated[
    str, typer.Argument(help="A client name under data/, or the path of a client folder.")
]


@app.command()
@_friendly()
def init(
    client: ClientArg,
    template: Annotated[
        str, typer.Option(help="Journey template name or path.")
    ] = "b2b_saas_8_stage",
) -> None:
    """Create a client folder with a commented client.yaml and empty table headers."""
    path = init_client(client_dir_for_new(client), template=template)
    out.print(f"created {path} — add your exports there, then run `journey validate {client}`")


@app.command()
@_friendly()
def validate(client: ClientArg) -> None:
    """Validate a client folder: rows in / valid / rejected per table, and the top reasons."""
    c = load_client(client)
    _print_quality(c)


def _print_quality(c: Any) -> None:
    _print_quality_table(c.config.client, c.path, data_quality(c)["tables"])


def _print_quality_table(name: str, path: Path, dq: dict[str, Any]) -> None:
    """The quality table of a client (``name``, its folder ``path``): ``dq`` as data_quality's tables."""
    # Client text is escaped: rich would take "[beta]" in a name or path for markup.
    table = Table(title=escape(f"{name} — {path}"), title_justify="left")
    for col in ("table", "rows in", "valid", "rejected", "top reasons"):
        table.add_column(
            col, justify="right" if col in ("rows in", "valid", "rejected") else "left"
        )
    for name, q in dq.items():
        reasons = sorted(q["reasons"].items(), key=lambda kv: (-kv[1], kv[0]))[:3]
        table.add_row(
            name,
            format_value(q["rows_in"], "count"),
            format_value(q["rows_valid"], "count"),
            format_value(q["rows_rejected"], "count"),
            ", ".join(f"{r} ({format_value(n, 'count')})" for r, n in reasons) or MISSING,
            style="yellow" if q["rows_rejected"] else None,
        )
    out.print(table)
    rejected = sum(q["rows_rejected"] for q in dq.values())
    if rejected:
        out.print(
            f"{rejected:,} rows quarantined; `journey run` writes them with reasons to rejected/<table>.csv"
        )
    else:
        out.print("all rows valid")


@app.command()
@_friendly()
def synth(
    directory: Annotated[
        str, typer.Argument(help="Where to write the client (a name under data/ or a path).")
    ],
    accounts: Annotated[int, typer.Option(min=1, help="Number of accounts.")] = 2000,
    months: Annotated[int, typer.Option(min=1, max=120, help="Months of history.")] = 12,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 42,
    start: Annotated[str, typer.Option(help="First month, YYYY-MM.")] = "2025-01",
    fmt: Annotated[str, typer.Option("--format", help="csv or parquet.")] = "csv",
) -> None:
    """Generate a realistic synthetic client of any size."""
    from journeylib.sources.synth import synthesize  # local: keeps `journey --help` faster

    check_choice(
        "format",
        fmt,
        ("csv", "parquet"),
        where="--format",
        fix="use --format csv or --format parquet",
    )
    path = client_dir_for_new(directory)
    t0 = time.perf_counter()
    with err.status(f"synthesising {accounts:,} accounts × {months} months into {path} …"):
        rows = synthesize(path, accounts=accounts, months=months, seed=seed, start=start, fmt=fmt)
    secs = time.perf_counter() - t0
    out.print(f"wrote {path} in {secs:.1f}s: " + ", ".join(f"{t} {n:,}" for t, n in rows.items()))


@app.command()
@_friendly()
def demo(
    accounts: Annotated[
        int, typer.Option(min=1, help="Accounts of a freshly generated demo client.")
    ] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed.")] = 42,
    no_run: Annotated[
        bool, typer.Option("--no-run", help="Only build and validate the demo client.")
    ] = False,
    language: Annotated[
        str,
        typer.Option(
            "--language",
            help="The report's language: en, ar (Arabic, right to left) or zh (Chinese); "
            "ar and zh use their own demo client, data/demo_ar or data/demo_zh.",
        ),
    ] = "en",
    pdf: Annotated[
        bool, typer.Option("--pdf", help="Also print report.pdf with headless Chromium.")
    ] = False,
) -> None:
    """Build (or reuse) the demo client in data/demo and run the full report on it."""
    from journeylib.sources.synth import synthesize  # local: keeps `journey --help` faster

    lang = _language_option(language)
    path = data_dir() / ("demo" if lang == "en" else f"demo_{lang}")
    if not (path / "client.yaml").exists():
        with err.status(f"synthesising the demo client into {path} …"):
            synthesize(
                path,
                accounts=accounts,
                months=12,
                seed=seed,
                start="2025-01",
                fmt="csv",
                language=lang,
            )
    c = _store(str(path)).client()  # the run reads the same store
    _print_quality(c)
    if no_run:
        return
    _run_one(str(path), out_dir=None, jobs=2, command="demo", pdf=pdf or None)


def _language_option(value: str) -> str:
    from journeylib.i18n import LANGUAGES

    if value not in LANGUAGES:
        raise JourneyError(
            "unknown language",
            where="--language",
            expected=f"one of {', '.join(LANGUAGES)}",
            found=repr(value),
            fix="pass --language en, --language ar or --language zh",
        )
    return value


def _stopped(command: str, text: str) -> typer.Exit:
    """Ctrl-C during a run: one line on stderr saying what was kept, and exit status 130."""
    err.print(f"journey {command}: {text}", markup=False, soft_wrap=True)
    return typer.Exit(130)


def _run_one(
    client: str, *, out_dir: str | None, jobs: int, command: str = "run", pdf: bool | None = None
) -> None:
    # local: keeps `journey --help` faster
    from journeylib.report.pdf import write_pdf_check
    from journeylib.report.runner import RunInterrupted, run_client

    if pdf:
        write_pdf_check()  # no browser to print with: say so before anything runs
    try:
        result = run_client(
            client, out_dir=Path(out_dir) if out_dir else None, jobs=jobs, progress=err, pdf=pdf
        )
    except RunInterrupted as exc:  # the run's kernels stopped, its folder removed
        raise _stopped(command, str(exc)) from None
    except KeyboardInterrupt:  # before the run claimed a folder
        raise _stopped(
            command, "stopped by Ctrl-C before the run started; no run folder was made"
        ) from None
    if result.status != "ok":
        raise JourneyError(
            "run failed",
            where=str(result.run_dir),
            found=result.error or "a notebook failed",
            fix="open the failed notebook in the run's notebooks/ folder to see the error",
        )
    out.print(str(result.run_dir / "report.html"))
    if (result.run_dir / "report.pdf").is_file():
        out.print(str(result.run_dir / "report.pdf"))


def _say(text: str) -> None:
    err.print(text, markup=False, soft_wrap=True)


def _store(client: str, *, rebuild: bool = False) -> Store:
    """The client's store, built first (with progress lines on stderr) when missing or stale."""
    return ensure_store(client, rebuild=rebuild, progress=_say)


@app.command()
@_friendly()
def ingest(
    client: ClientArg,
    rebuild: Annotated[
        bool,
        typer.Option("--rebuild", help="Build anew even when the store is current."),
    ] = False,
) -> None:
    """Read and validate a client's raw files once into its store, which every command reads.

    The store (reports/<client>/store/, or $JOURNEY_STORE_DIR/<client>/) holds the
    valid tables as typed Parquet, the quarantine, the quality counts, the journey
    stream and the per-account marts. Every command rebuilds it by itself when the
    raw files, client.yaml or the workbench changed; this command makes it explicit.
    """
    try:
        store = _store(client, rebuild=rebuild)
    except KeyboardInterrupt:
        err.print(
            "journey ingest: stopped by Ctrl-C; the store was left as it was before "
            "(the half-written copy was removed)",
            markup=False,
            soft_wrap=True,
        )
        raise typer.Exit(130) from None
    # from quality.json: the tables are not read again (at 50 M events 0.5 GB)
    cfg, _template = load_settings(store.client_dir)
    _print_quality_table(cfg.client, store.client_dir, store.quality())
    state = "built" if store.built else "current, reused (--rebuild builds it anew)"
    out.print(f"store {state}: {store.files.folder}", markup=False, soft_wrap=True)


@app.command()
@_friendly(_METRICS_FLAGS)
def metrics(
    client: ClientArg,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the metrics.json document.")
    ] = False,
    engine: Annotated[
        str,
        typer.Option(
            help="Engine the metrics run on: polars, duckdb or spark (needs the spark extra).",
        ),
    ] = "polars",
    spark_master: Annotated[
        str | None,
        typer.Option(
            help="Spark master URL for --engine spark (default local[2]; "
            "SPARK_REMOTE selects a Spark Connect server instead).",
        ),
    ] = None,
    rebuild: Annotated[
        bool,
        typer.Option(
            "--rebuild",
            help="Build the client store anew from the raw files, even when it is current.",
        ),
    ] = False,
    breakdown: Annotated[
        str | None,
        typer.Option(
            "--breakdown",
            help="An accounts column (persona, acquisition_channel, a numeric column in "
            "quartile bands …): adds retention and the stage funnel per group, with 95 % "
            "intervals and a chi-square test.",
        ),
    ] = None,
    period: PeriodOpt = None,
) -> None:
    """Compute every metric; print a readable summary or the metrics.json document.

    The client is read from its store (built first when missing or stale, see
    `journey ingest`). Every engine gives the same document: polars reads the
    stored events streaming; DuckDB and Spark get the stored tables, where the
    metric functions run.
    """
    engine = check_engine(engine)  # before loading: a bad name fails fast
    store, c, _ = _analysis_input(client, period, rebuild=rebuild)
    if breakdown is not None:  # an unknown column fails before the document is computed
        from journeylib.analysis._properties import check_columns

        check_columns(c.tables["accounts"], [breakdown], where="--breakdown")
    if engine != "polars":  # the other engines get in-memory tables
        c = dataclasses.replace(c, tables={n: to_polars(f) for n, f in c.tables.items()})
    c = to_engine(c, engine, spark_master=spark_master)
    doc = metrics_document(c)
    if breakdown is not None:
        from journeylib.analysis.breakdowns import metrics_breakdowns

        stream = store.stream() if engine == "polars" else None
        doc["breakdowns"] = metrics_breakdowns(c, breakdown, stream=stream)
    if as_json:
        sys.stdout.write(metrics_json(doc))
        return
    for line in summary_lines(doc):
        out.print(line, markup=False, soft_wrap=True)
    if breakdown is not None:
        _print_breakdowns(doc["breakdowns"])


def _p_text(p: float | None) -> str:
    if p is None:
        return "no test: fewer than two groups, or nothing differs to test"
    return "p " + format_p_value(p, relation=True)


def _print_breakdowns(b: dict[str, Any]) -> None:
    """The month-3 activity retention and the stage conversions per group, with their intervals."""
    from journeylib.analysis.breakdowns import SMALL_N

    table = Table(
        title=escape(
            f"by {b['column']}: month-3 activity retention ({_p_text(b['p_value'])}); "
            f"rates over fewer than {SMALL_N} accounts in grey"
        ),
        title_justify="left",
    )
    for col in ("group", "accounts", "month 3", "95 % interval", "n"):
        table.add_column(col, justify="left" if col == "group" else "right")
    for g in b["activity_retention"]:
        cell = next((r for r in g["rates"] if r["k"] == 3), None)
        if cell is None:
            table.add_row(
                escape(str(g["value"])), format_value(g["size"], "count"), MISSING, "", ""
            )
            continue
        table.add_row(
            escape(str(g["value"])),
            format_value(g["size"], "count"),
            format_value(cell["rate"], "fraction"),
            f"{format_value(cell['lo'], 'fraction')} – {format_value(cell['hi'], 'fraction')}",
            format_value(cell["n"], "count"),
            style="grey50" if cell["n"] < SMALL_N else None,
        )
    out.print(table)


@app.command()
@_friendly(_FUNNEL_FLAGS)
def funnel(
    client: ClientArg,
    steps: Annotated[str, typer.Option(help="Comma-separated event names, in order.")],
    window: Annotated[str, typer.Option(help="Conversion window: 300s, 5m, 1h, 14d.")] = "14d",
    mode: Annotated[str, typer.Option(help="ordered, strict or unordered.")] = "ordered",
    exclude: Annotated[
        list[str] | None,
        typer.Option(help="Exclusion X:I:J (event X between steps I and J, from 0)."),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the funnel as JSON.")] = False,
    by: Annotated[
        str | None,
        typer.Option(
            "--by",
            help="An accounts column: the funnel per group, with 95 % intervals and a "
            "chi-square test on the last step.",
        ),
    ] = None,
    period: PeriodOpt = None,
) -> None:
    """An ordered funnel over the client's events (metrics.md semantics)."""
    step_list = _steps_option(steps)
    # Mode, window and exclusions checked before the client is loaded: a bad one fails fast
    # (ordered_funnel checks the same settings again, so it raises no error about them).
    _, _, exclusions = check_funnel_args(
        step_list, window=window, mode=mode, exclusions=exclude or []
    )
    store, c, period_months = _analysis_input(client, period)
    if by is not None:
        from journeylib.analysis._properties import check_columns

        check_columns(c.tables["accounts"], [by], where="--by")
    stream = store.stream()
    has_variant = stream.select(pl.col("variant").is_not_null().any()).collect().item()
    result = ordered_funnel(
        stream,
        steps=step_list,
        window=window,
        mode=mode,
        exclusions=exclusions,
        period=period_months,
        by_variant=bool(has_variant),
    )
    doc = funnel_json(result)
    if by is not None:
        from journeylib.analysis.breakdowns import SMALL_N, funnel_breakdown

        doc.update(funnel_breakdown(result, c.tables["accounts"], column=by))
    if as_json:
        _print_json(doc)
        return
    table = Table(
        title=escape(f"funnel {' → '.join(step_list)} (window {window}, {mode})"),
        title_justify="left",
    )
    for col in (
        "step",
        "event",
        "accounts",
        "conversion",
        "from previous",
        "median time to convert",
    ):
        table.add_column(col)
    for i, s in enumerate(doc["steps"], start=1):
        table.add_row(
            str(i),
            escape(s["event"]),
            format_value(s["count"], "count"),
            format_value(s["conversion"], "fraction"),
            format_value(s["conversion_from_previous"], "fraction"),
            format_value(s["median_seconds_to_convert"], "seconds", style="compact"),
        )
    out.print(table)
    out.print(f"in progress (window still open): {format_value(doc['in_progress'], 'count')}")
    if by is not None:
        by_table = Table(
            title=escape(f"by {by}: conversion to the last step ({_p_text(doc['p_value'])})"),
            title_justify="left",
        )
        for col in ("group", "entered", "converted", "conversion", "95 % interval"):
            by_table.add_column(col, justify="left" if col == "group" else "right")
        for g in doc["breakdown"]:
            first, last = g["steps"][0], g["steps"][-1]
            by_table.add_row(
                escape(str(g["value"])),
                format_value(first["count"], "count"),
                format_value(last["count"], "count"),
                format_value(last["conversion"], "fraction"),
                f"{format_value(last['lo'], 'fraction')} – {format_value(last['hi'], 'fraction')}",
                style="grey50" if last["n"] < SMALL_N else None,
            )
        out.print(by_table)


# ---------------------------------------------------------------- analytics (analytics.md)
_ANALYTICS_FLAGS = (
    _METRICS_FLAGS
    | _FUNNEL_FLAGS
    | {
        "interval": "--interval",
        "events": "--events",
        "start": "--start",
        "end": "--end",
        "start, end": "--start, --end",
        "level": "--level",
        "min_accounts": "--min-accounts",
        "properties": "--properties",
        "column": "--breakdown",
    }
)

PeriodOpt = Annotated[
    str | None,
    typer.Option(
        "--period",
        help="START:END, months YYYY-MM (either may be left empty); default: client.yaml's period.",
    ),
]
EngineOpt = Annotated[
    str, typer.Option(help="Engine: polars, duckdb or spark (needs the spark extra).")
]
MasterOpt = Annotated[
    str | None, typer.Option(help="Spark master URL for --engine spark (default local[2]).")
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]


def _split_list(text: str | None) -> list[str] | None:
    """``"a, b,,c"`` → ``["a", "b", "c"]``; None or blank → None."""
    if text is None:
        return None
    items = [x.strip() for x in text.split(",") if x.strip()]
    return items or None


def _steps_option(text: str) -> list[str]:
    """``--steps E1,E2,…`` → the event names; fewer than two is a one-line error.

    Examples:
        >>> _steps_option(" view, buy ,")
        ['view', 'buy']
    """
    steps = _split_list(text) or []
    if len(steps) < 2:
        raise JourneyError(
            "a funnel needs at least two steps",
            where="--steps",
            expected="E1,E2[,…]",
            found=repr(text),
            fix="give two or more comma-separated event names",
        )
    return steps


def _period_option(text: str | None) -> tuple[str | None, str | None]:
    """``--period START:END`` → ``(start, end)``, each a ``YYYY-MM`` or None.

    Examples:
        >>> _period_option("2025-01:2025-06"), _period_option("2025-03:"), _period_option(None)
        (('2025-01', '2025-06'), ('2025-03', None), (None, None))
    """
    from journeylib.config import parse_month

    if text is None:
        return None, None
    parts = text.split(":")
    try:
        if len(parts) != 2:
            raise ValueError(text)
        start, end = (parse_month(x) if x.strip() else None for x in parts)
    except ValueError:
        raise JourneyError(
            "bad period",
            where="--period",
            expected="START:END with months written YYYY-MM, like 2025-01:2025-06",
            found=repr(text),
            fix="write the period as 2025-01:2025-06 (either side may be empty)",
        ) from None
    if start and end and start > end:
        raise JourneyError(
            "the period starts after it ends",
            where="--period",
            expected="START no later than END",
            found=repr(text),
            fix="swap the two months",
        )
    return start, end


def _analysis_input(
    client: str, period: str | None, *, rebuild: bool = False
) -> tuple[Store, Any, tuple[str, str]]:
    """The client's store, its client with ``--period`` applied, and the period resolved.

    A bad ``--period``, or one whose single end crosses client.yaml's other
    end, is a one-line error naming the flag.
    """
    start, end = _period_option(period)  # before loading: a bad period fails fast
    store = _store(client, rebuild=rebuild)
    c = store.client()
    try:
        c = with_period(c, start, end)
    except ValueError:  # one end given, the other from client.yaml, and they cross
        configured = c.config.period
        raise JourneyError(
            "the period starts after it ends",
            where="--period",
            expected="START no later than END (client.yaml's period gives the end left out)",
            found=f"{period!r} with client.yaml's period "
            f"{configured.start or '…'}:{configured.end or '…'}",
            fix="give both ends, like 2025-01:2025-06",
        ) from None
    return store, c, resolve_period(period_view(c))


def _need_subscriptions(c: Any, client: str, what: str, why: str) -> None:
    """A one-line error when the client has no subscriptions table, which ``what`` reads."""
    if c.tables.get("subscriptions") is None:
        raise JourneyError(
            f"{what} needs the subscriptions table",
            where=f"client {client!r}",
            expected=f"a subscriptions file ({why})",
            found="no subscriptions table",
            fix="add subscriptions.csv to the client folder (see `journey init`)",
        )


def _present(c: Any, *names: str) -> dict[str, Any]:
    """The client's tables among ``names`` that it has (optional tables may be missing)."""
    return {n: c.tables[n] for n in names if c.tables.get(n) is not None}


def _print_json(doc: Any) -> None:
    sys.stdout.write(json.dumps(doc, indent=2, ensure_ascii=False, allow_nan=False) + "\n")


@app.command()
@_friendly(_ANALYTICS_FLAGS)
def lifecycle(
    client: ClientArg,
    interval: Annotated[
        str, typer.Option(help="Buckets: day, week (ISO, from Monday) or month.")
    ] = "week",
    events: Annotated[
        str | None,
        typer.Option(help="Comma-separated raw event names that count as activity (default: all)."),
    ] = None,
    period: PeriodOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "polars",
    spark_master: MasterOpt = None,
) -> None:
    """Lifecycle of the active accounts per bucket: new, returning, resurrecting and dormant."""
    from journeylib.metrics.activity import INTERVALS, lifecycle_json
    from journeylib.metrics.activity import lifecycle as compute

    engine = check_engine(engine)
    check_choice(
        "interval",
        interval,
        INTERVALS,
        where="--interval",
        fix="use --interval day, week or month",
    )
    names = _split_list(events)
    store, c, per = _analysis_input(client, period)
    # Without an event filter the account-day mart answers (one row per account and day).
    activity = store.mart("account_days") if names is None else c.tables["events"]
    activity = frames_to_engine({"a": activity}, engine, spark_master=spark_master)["a"]
    frame = compute(activity, period=per, interval=interval, events=names)
    doc = lifecycle_json(frame, interval)
    if as_json:
        _print_json(doc)
        return
    table = Table(
        title=escape(f"lifecycle by {interval}, {per[0]} – {per[1]}"), title_justify="left"
    )
    for col in ("start", "new", "returning", "resurrecting", "dormant"):
        table.add_column(col, justify="left" if col == "start" else "right")
    for b in doc["buckets"]:
        table.add_row(
            b["start"],
            *(format_value(b[k], "count") for k in ("new", "returning", "resurrecting", "dormant")),
        )
    out.print(table)


@app.command()
@_friendly(_ANALYTICS_FLAGS)
def paths(
    client: ClientArg,
    start: Annotated[
        str | None, typer.Option(help="Paths beginning at the first occurrence of this event.")
    ] = None,
    end: Annotated[
        str | None, typer.Option(help="Paths ending at the first occurrence of this event.")
    ] = None,
    steps: Annotated[int, typer.Option(help="Items per path.")] = 5,
    level: Annotated[str, typer.Option(help="event or touchpoint.")] = "event",
    min_accounts: Annotated[
        int, typer.Option(help="Nodes with fewer accounts become (other) of their step.")
    ] = 1,
    period: PeriodOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "polars",
    spark_master: MasterOpt = None,
) -> None:
    """The paths accounts take: from an event, into an event, or from their first event."""
    from journeylib.analysis.paths import paths as compute
    from journeylib.analysis.paths import paths_json

    engine = check_engine(engine)
    store, _, per = _analysis_input(client, period)
    stream = frames_to_engine({"s": store.stream()}, engine, spark_master=spark_master)["s"]
    result = compute(
        stream,
        period=per,
        start=start,
        end=end,
        steps=steps,
        level=level,
        min_accounts=min_accounts,
        # the store's stream is in account, time, seq order: runs are found without a sort
        presorted=engine == "polars",
    )
    doc = paths_json(result)
    if as_json:
        _print_json(doc)
        return
    anchor = f"from {start}" if start else f"into {end}" if end else "from the first event"
    table = Table(
        title=escape(
            f"paths {anchor} ({level}s, {per[0]} – {per[1]}): {doc['accounts']:,} accounts"
        ),
        title_justify="left",
    )
    for col in ("step", "item", "accounts", "stop here", "go on to"):
        table.add_column(
            col, justify="right" if col in ("step", "accounts", "stop here") else "left"
        )
    for node in doc["nodes"]:
        nexts = [
            e for e in doc["edges"] if e["step"] == node["step"] and e["source"] == node["item"]
        ]
        shown = ", ".join(
            f"{e['target']} ({format_value(e['accounts'], 'count')})" for e in nexts[:3]
        )
        table.add_row(
            str(node["step"]),
            escape(node["item"]),
            format_value(node["accounts"], "count"),
            format_value(node["dropped"], "count"),
            escape(shown + (" …" if len(nexts) > 3 else "")),
        )
    out.print(table)


@app.command()
@_friendly(_ANALYTICS_FLAGS)
def correlation(
    client: ClientArg,
    steps: Annotated[
        str, typer.Option(help="Comma-separated funnel steps (event names), in order.")
    ],
    window: Annotated[str, typer.Option(help="Conversion window: 300s, 5m, 1h, 14d.")] = "14d",
    mode: Annotated[str, typer.Option(help="ordered or strict.")] = "ordered",
    properties: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated account columns (default: persona, acquisition_channel, "
            "industry where present)."
        ),
    ] = None,
    period: PeriodOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "polars",
    spark_master: MasterOpt = None,
) -> None:
    """What drives a funnel: the events and account properties that go with converting or dropping."""
    from journeylib.analysis.correlation import correlation_json, funnel_correlation

    engine = check_engine(engine)
    step_list = _steps_option(steps)
    check_funnel_args(step_list, window=window, mode=mode)
    store, c, per = _analysis_input(client, period)
    frames = frames_to_engine(
        {"stream": store.stream(), "accounts": c.tables["accounts"]},
        engine,
        spark_master=spark_master,
    )
    result = funnel_correlation(
        frames["stream"],
        frames["accounts"],
        steps=step_list,
        window=window,
        mode=mode,
        period=per,
        properties=_split_list(properties),
    )
    doc = correlation_json(result)
    if as_json:
        _print_json(doc)
        return
    out.print(
        f"funnel {' → '.join(step_list)} (window {window}, {mode}): "
        f"{doc['success_total']:,} converted, {doc['failure_total']:,} did not",
        markup=False,
        soft_wrap=True,
    )
    for title, rows, name in (
        ("events", doc["events"], lambda r: r["event"]),
        ("account properties", doc["properties"], lambda r: f"{r['column']} = {r['value']}"),
    ):
        table = Table(title=title, title_justify="left")
        for col in ("", "converted", "did not", "odds ratio", "p-value", "goes with"):
            table.add_column(col, justify="left" if col in ("", "goes with") else "right")
        for r in rows[:15]:
            table.add_row(
                escape(name(r)),
                format_value(r["success_count"], "count"),
                format_value(r["failure_count"], "count"),
                f"{r['odds_ratio']:.2f}",
                f"{r['p_value']:.3g}",
                "converting" if r["kind"] == "success" else "dropping",
            )
        out.print(table)


@app.command()
@_friendly(_ANALYTICS_FLAGS)
def attribution(
    client: ClientArg,
    period: PeriodOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "polars",
    spark_master: MasterOpt = None,
) -> None:
    """Which channels bring customers: five attribution models, Markov removal effects, CAC by model."""
    from journeylib.metrics.acquisition import MODELS, attribution_json

    engine = check_engine(engine)
    _, c, per = _analysis_input(client, period)
    _need_subscriptions(c, client, "attribution", "the conversions are first paid months")
    frames = frames_to_engine(
        _present(c, "events", "subscriptions", "accounts", "marketing"),
        engine,
        spark_master=spark_master,
    )
    doc = attribution_json(
        frames["events"],
        frames["subscriptions"],
        frames["accounts"],
        frames.get("marketing"),
        period=per,
        window_days=c.config.attribution_window_days,
    )
    if as_json:
        _print_json(doc)
        return
    paths = doc["paths"]
    out.print(
        f"attribution {per[0]} – {per[1]}: {doc['conversions']:,} conversions; "
        f"{paths['converting']:,} converting and {paths['non_converting']:,} "
        f"non-converting paths (window {c.config.attribution_window_days} days)",
        markup=False,
        soft_wrap=True,
    )
    effects = {r["channel"]: r["removal_effect"] for r in doc["removal_effects"]}
    table = Table(title="credited conversions by model", title_justify="left")
    for col in ("channel", *MODELS, "removal effect"):
        table.add_column(
            col.replace("_", " "),
            justify="left" if col == "channel" else "right",
            no_wrap=col == "channel",
        )
    for r in doc["attribution"]:
        table.add_row(
            escape(r["channel"]),
            *(f"{r[m]:,.1f}" for m in MODELS),
            format_value(effects.get(r["channel"]), "fraction"),
        )
    out.print(table)
    if doc["cac_by_model"] is None:
        out.print("CAC by model: no marketing table.", markup=False)
        return
    table = Table(title=escape(f"CAC by model ({c.config.currency})"), title_justify="left")
    for col in ("channel", "spend", *MODELS):
        table.add_column(
            col.replace("_", " "),
            justify="left" if col == "channel" else "right",
            no_wrap=col == "channel",
        )
    for r in doc["cac_by_model"]:
        table.add_row(
            escape(r["channel"]), *(format_value(r[k], digits=0) for k in ("spend", *MODELS))
        )
    out.print(table)


@app.command()
@_friendly(_ANALYTICS_FLAGS)
def forecast(
    client: ClientArg,
    seed: Annotated[
        int,
        typer.Option(help="Seed of the bootstrap that gives the 90 % band (same seed, same band)."),
    ] = 0,
    period: PeriodOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "polars",
    spark_master: MasterOpt = None,
) -> None:
    """Customers and MRR to expect in the next 12 months: a shifted-beta-geometric retention fit."""
    from journeylib.metrics.forecast import retention_forecast

    engine = check_engine(engine)
    _, c, per = _analysis_input(client, period)
    _need_subscriptions(c, client, "the forecast", "it follows paying customers")
    subs = frames_to_engine({"s": c.tables["subscriptions"]}, engine, spark_master=spark_master)[
        "s"
    ]
    doc = retention_forecast(subs, period=per, seed=seed)
    if as_json:
        _print_json(doc)
        return
    if doc["alpha"] is None:
        why = (
            f"none of the {doc['cohorts_used']} cohorts with 3 months or more behind them "
            "lost a customer, so churn cannot be estimated"
            if doc["cohorts_used"]
            else "no first-paid-month cohort of the period has 3 months or more behind it"
        )
        out.print(f"no forecast: {why} ({per[0]} – {per[1]}).", markup=False, soft_wrap=True)
        return
    out.print(
        f"retention fit (shifted-beta-geometric) over {doc['cohorts_used']} cohorts: "
        f"alpha {doc['alpha']:.3f}, beta {doc['beta']:.3f}",
        markup=False,
        soft_wrap=True,
    )
    table = Table(
        title=escape(f"forecast after {per[1]}, 90 % band from 200 resamples (seed {seed})"),
        title_justify="left",
    )
    for col in ("month", "customers", "90 % band", f"MRR ({c.config.currency})"):
        table.add_column(col, justify="left" if col == "month" else "right")
    for m in doc["months"]:
        band = "" if m["lo"] is None else f"{m['lo']:,.0f} – {m['hi']:,.0f}"
        table.add_row(m["month"], f"{m['customers']:,.0f}", band, format_value(m["mrr"], digits=0))
    out.print(table)


@app.command()
@_friendly(_ANALYTICS_FLAGS)
def activation(
    client: ClientArg,
    period: PeriodOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "polars",
    spark_master: MasterOpt = None,
) -> None:
    """Which early behaviour predicts a sign-up that stays: each event × times × days, ranked by phi."""
    from journeylib.metrics.activation import activation_candidates

    engine = check_engine(engine)
    _, c, per = _analysis_input(client, period)
    frames = frames_to_engine(
        _present(c, "accounts", "events", "subscriptions"),
        engine,
        spark_master=spark_master,
    )
    doc = activation_candidates(
        frames["accounts"], frames["events"], frames.get("subscriptions"), period=per
    )
    if as_json:
        _print_json(doc)
        return
    outcome = (
        "paid in the third month after signing up"
        if c.tables.get("subscriptions") is not None
        else "active 60-90 days after signing up"
    )
    out.print(
        f"activation finder {per[0]} – {per[1]}: {doc['accounts']:,} sign-ups whose outcome "
        f"can be seen, {doc['retained']:,} retained ({outcome})",
        markup=False,
        soft_wrap=True,
    )
    if not doc["candidates"]:
        out.print("no candidate: too few sign-ups, or all (or none) retained.", markup=False)
        return
    table = Table(title="what the retained did early (top 20 by phi)", title_justify="left")
    for col in ("event", "at least", "within", "share", "precision", "recall", "phi"):
        if col == "event":
            table.add_column(col, overflow="fold")
        else:
            table.add_column(col, justify="right", no_wrap=True)
    for r in doc["candidates"]:
        table.add_row(
            escape(r["event"]),
            f"{r['times']}×",
            f"{r['days']} d",
            format_value(r["share"], "fraction"),
            format_value(r["precision"], "fraction"),
            format_value(r["recall"], "fraction"),
            f"{r['phi']:.3f}",
        )
    out.print(table)
    if c.config.activation is not None:
        configured = c.config.activation.event
        mine = [r for r in doc["candidates"] if r["event"] == configured]
        best = doc["candidates"][0]
        said = f"best phi {mine[0]['phi']:.3f}" if mine else "not among the top candidates"
        out.print(
            f"client.yaml's activation event {configured!r}: {said}; the top candidate "
            f"is {best['event']!r} at least {best['times']}× within {best['days']} days "
            f"(phi {best['phi']:.3f}).",
            markup=False,
            soft_wrap=True,
        )


@app.command()
@_friendly(_ANALYTICS_FLAGS)
def health(
    client: ClientArg,
    top: Annotated[int, typer.Option(min=1, help="Riskiest accounts listed (text output).")] = 20,
    period: PeriodOpt = None,
    as_json: JsonOpt = False,
    engine: EngineOpt = "polars",
    spark_master: MasterOpt = None,
) -> None:
    """Account health of the paying accounts, riskiest first, and the score's backtested ROC AUC."""
    from journeylib.metrics.health import account_health

    engine = check_engine(engine)
    store, c, per = _analysis_input(client, period)
    _need_subscriptions(c, client, "account health", "the scored accounts are the paying ones")
    frames = frames_to_engine(
        {"stream": store.stream(), **_present(c, "subscriptions", "tickets", "surveys")},
        engine,
        spark_master=spark_master,
    )
    doc = account_health(
        frames["stream"],
        frames["subscriptions"],
        frames.get("tickets"),
        frames.get("surveys"),
        period=per,
        weights=c.config.health.weights,
    )
    if as_json:
        _print_json(doc)
        return
    bt = doc["backtest"]
    auc = doc["auc_backtest"]
    out.print(
        f"account health at the end of {doc['month']}: {len(doc['accounts']):,} paying accounts. "
        f"Backtest over {bt['months'][0]} – {bt['months'][-1]}: ROC AUC "
        + (
            "not computable (no churn, or no account kept)"
            if auc is None
            else f"{auc:.2f} on {bt['account_months']:,} account-months with "
            f"{bt['churned']:,} churns (0.5 = no better than chance, 1 = perfect)"
        ),
        markup=False,
        soft_wrap=True,
    )
    table = Table(
        title=escape(f"riskiest {min(top, len(doc['accounts']))} accounts"), title_justify="left"
    )
    table.add_column("account", no_wrap=True)
    for col in ("score", f"MRR ({c.config.currency})"):
        table.add_column(col, justify="right", no_wrap=True)
    table.add_column("what drags it down (its value)")
    whole = ("breadth", "support_load", "nps")  # counts and scores: no decimals
    for r in doc["accounts"][:top]:
        weakest = r["weakest"]
        table.add_row(
            escape(r["account_id"]),
            f"{r['score']:.1f}",
            format_value(r["mrr"], digits=0),
            f"{weakest.replace('_', ' ')} "
            f"({format_value(r['components'][weakest], digits=0 if weakest in whole else 2)})",
        )
    out.print(table)


@app.command()
@_friendly()
def run(
    client: ClientArg,
    out_dir: Annotated[
        str | None,
        typer.Option(
            "--out", help="Reports folder (default reports/); the run goes to DIR/CLIENT/RUN-ID."
        ),
    ] = None,
    jobs: Annotated[int, typer.Option(min=1, help="Notebooks run in parallel.")] = 2,
    pdf: Annotated[
        bool | None,
        typer.Option(
            "--pdf/--no-pdf",
            help="Also print report.pdf (A4 landscape) with headless Chromium; default: pdf: "
            "in client.yaml.",
        ),
    ] = None,
) -> None:
    """Run the seven mapping-step notebooks for a client and build report.html and analysis.html."""
    _run_one(client, out_dir=out_dir, jobs=jobs, pdf=pdf)


@app.command()
@_friendly()
def batch(
    clients: Annotated[list[str], typer.Argument(help="Client names or paths.")],
    jobs: Annotated[int, typer.Option(min=1, help="Workers.")] = 2,
) -> None:
    """Run many clients; one client's failure never stops the others."""
    # local: keeps `journey --help` faster
    from journeylib.report.runner import BatchInterrupted, summary_table
    from journeylib.report.runner import batch as run_batch

    try:
        results = run_batch(clients, jobs=jobs, progress=err)
    except BatchInterrupted as exc:  # the completed runs kept, the others removed
        raise _stopped("batch", str(exc)) from None
    out.print(summary_table(results))
    failed = [r for r in results if r.status != "ok"]
    if failed:
        raise typer.Exit(1)


@app.command(name="import")
@_friendly(_IMPORT_FLAGS)
def import_(
    source: Annotated[
        str,
        typer.Argument(
            help="segment (or rudderstack), stripe, hubspot, zendesk, search_console, nps."
        ),
    ],
    files: Annotated[list[Path], typer.Argument(help="The export files.")],
    client: Annotated[
        str,
        typer.Option(
            "--client", help="A client name under data/ or a folder path; created when new."
        ),
    ],
    identity: Annotated[
        Path | None,
        typer.Option(
            "--identity",
            help="CSV map of source keys to accounts: KEY,account_id; for stripe also the "
            "Dashboard's customers export.",
        ),
    ] = None,
    match: Annotated[
        str | None,
        typer.Option(
            "--match",
            help="How a Stripe customers export (--identity) finds accounts: domain (the "
            "e-mail's domain, default) or metadata:KEY (its 'KEY (metadata)' column).",
        ),
    ] = None,
    date: Annotated[
        str | None,
        typer.Option(
            "--date",
            help="YYYY-MM-DD: the day of a Search Console export, or a Stripe export's date.",
        ),
    ] = None,
    template: Annotated[
        str, typer.Option(help="Journey template of a newly created client.")
    ] = "b2b_saas_8_stage",
) -> None:
    """Import tool exports (Segment, Stripe, HubSpot, Zendesk, Search Console, NPS) into a client folder."""
    from journeylib.sources.importers import import_files  # local: keeps `journey --help` faster

    report = import_files(
        source,
        list(files),
        client,
        identity=identity,
        match=match,
        date=date,
        template=template,
    )
    # The notes, like the errors, name the library's parameters.
    report.notes = [_flag_text(note, _IMPORT_FLAGS) for note in report.notes]
    for line in report.lines():
        out.print(line, markup=False, soft_wrap=True)


def main() -> None:
    """Console-script entry point."""
    bound_scan_memory()  # before any Parquet is read
    app()


if __name__ == "__main__":
    main()
