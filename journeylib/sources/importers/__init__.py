"""Importers: from the exports analysts actually receive to the canonical tables.

``journey import SOURCE FILE… --client CLIENT`` (and :func:`import_files`) maps
each export of a tool into the canonical tables of ``data.md`` and merges them
into the client folder (created with :func:`journeylib.sources.scaffold.init_client` when it
does not exist). Rows that cannot be mapped are quarantined, with a reason, in
``<client>/import_rejected/<source>.csv``; nothing is dropped silently.

Sources: ``segment`` (also RudderStack), ``stripe``, ``hubspot``, ``zendesk``,
``search_console``, ``nps`` (Delighted or Typeform). The mapping of every
source is documented in ``docs/importers.md``.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

import polars as pl

from journeylib.config import load_client_config
from journeylib.errors import JourneyError, check_choice
from journeylib.paths import client_dir_for_new, find_table_file, parquet_source, scan_parquet
from journeylib.schemas import TABLE_ORDER
from journeylib.sources.importers import hubspot, nps, search_console, segment, stripe, zendesk
from journeylib.sources.importers._common import (
    Converted,
    ImportContext,
    bad_option,
    file_not_found,
    read_export_csv,
    read_identity_map,
)
from journeylib.sources.importers._merge import append_rejected, merge_table
from journeylib.sources.scaffold import init_client

__all__ = ["SOURCES", "ImportReport", "import_files"]

#: Source name -> one-line description. Aliases map onto the same source.
SOURCES: dict[str, str] = {
    "segment": "Segment / RudderStack track, page, identify and group calls (JSON lines)",
    "stripe": "Stripe subscriptions export (CSV)",
    "hubspot": "HubSpot companies and deals exports (CSV)",
    "zendesk": "Zendesk tickets export (CSV)",
    "search_console": "Google Search Console Queries export (CSV)",
    "nps": "NPS survey export: Delighted or Typeform (CSV)",
}
_MODULES: dict[str, ModuleType] = {
    "segment": segment,
    "stripe": stripe,
    "hubspot": hubspot,
    "zendesk": zendesk,
    "search_console": search_console,
    "nps": nps,
}
_ALIASES = {
    "rudderstack": "segment",
    "gsc": "search_console",
    "search-console": "search_console",
    "delighted": "nps",
    "typeform": "nps",
}


@dataclass
class ImportReport:
    """What an import did.

    Attributes:
        source: the importer used.
        client_dir: the client folder written to.
        created: whether the client folder was created by this import.
        files: the files read.
        rows_read: input rows (CSV rows or JSON lines) over all files.
        tables: per canonical table written, ``{"added", "updated", "skipped"}``.
        rejected: rows quarantined.
        reasons: quarantine reasons with their counts.
        rejected_path: the quarantine file, or None when nothing was quarantined.
        notes: extra remarks (e.g. accounts created for unknown Stripe customers).
    """

    source: str
    client_dir: Path
    created: bool
    files: list[Path]
    rows_read: int = 0
    tables: dict[str, dict[str, int]] = field(default_factory=dict)
    rejected: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    rejected_path: Path | None = None
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        """The report as short lines for the terminal."""
        out = [
            f"{'created' if self.created else 'updated'} {self.client_dir} from "
            f"{len(self.files)} {self.source} file(s), {self.rows_read:,} rows read"
        ]
        for t, s in self.tables.items():
            extra = f", {s['updated']:,} updated" if s["updated"] else ""
            extra += f", {s['skipped']:,} already present" if s["skipped"] else ""
            out.append(f"  {t}: {s['added']:,} added{extra}")
        if self.rejected:
            why = ", ".join(
                f"{r} ({n:,})" for r, n in sorted(self.reasons.items(), key=lambda kv: -kv[1])
            )
            out.append(f"  {self.rejected:,} rows quarantined in {self.rejected_path}: {why}")
        else:
            out.append("  no rows quarantined")
        out.extend(f"  note: {n}" for n in self.notes)
        return out


def _source_module(source: str) -> tuple[str, ModuleType]:
    name = _ALIASES.get(source.lower(), source.lower().replace("-", "_"))
    # The cleaned name is checked, the caller's own text is quoted.
    check_choice(
        "import source",
        name,
        tuple(SOURCES),
        where="source",
        fix="use one of: " + ", ".join(SOURCES),
        given=source,
    )
    return name, _MODULES[name]


def _client(client: str | Path, template: str) -> tuple[Path, bool]:
    path = client_dir_for_new(client)
    if (path / "client.yaml").exists():
        return path, False
    return init_client(path, template=template), True


#: The accounts of a client that has none yet.
_NO_ACCOUNTS = pl.DataFrame(schema={"account_id": pl.String, "name": pl.String})


def _existing_accounts(client_dir: Path) -> pl.DataFrame:
    """The client's accounts as text (no rows for a new client or one without accounts)."""
    path = find_table_file(client_dir, "accounts")
    if path is None:
        return _NO_ACCOUNTS
    if parquet_source(path) is not None:
        return scan_parquet(path).collect().with_columns(pl.all().cast(pl.String))
    return read_export_csv(path, "accounts table")


def _identity(
    source: str, identity: str | Path | None, match: str | None, accounts: pl.DataFrame
) -> tuple[dict[str, str], stripe.CustomerMatch | None]:
    """The identity map, and the matched customers when it is a Stripe customers export."""
    if match is not None and (source != "stripe" or identity is None):
        raise JourneyError(
            "match applies to a Stripe customers export given as identity",
            where="match",
            expected="source stripe with identity='customers.csv'",
            found=f"source {source}" + ("" if identity else " without identity"),
            fix="pass match='domain' or match='metadata:KEY' only with source stripe "
            "and identity='customers.csv'",
        )
    if identity is None:
        return {}, None
    path = Path(identity).expanduser()
    if source == "stripe":
        export = stripe.customers_export(path)
        if export is not None:
            customers = stripe.match_customers(export, path, accounts, match)
            return customers.accounts, customers
        if match is not None:
            raise JourneyError(
                "match applies to a Stripe customers export, not to a customer_id,account_id map",
                where="match",
                expected="the Dashboard's customers export (id, Email, …) as identity",
                found=f"a KEY,account_id map {path.name}",
                fix=f"import with identity='{path.name}' alone, or give the customers export",
            )
    return read_identity_map(path), None


def import_files(
    source: str,
    files: list[str | Path],
    client: str | Path,
    *,
    identity: str | Path | None = None,
    match: str | None = None,
    date: str | None = None,
    template: str = "b2b_saas_8_stage",
) -> ImportReport:
    """Import exports of ``source`` into the client folder ``client``.

    Every file is read and mapped before anything is written, so a wrong file
    (a fatal :class:`~journeylib.errors.DataError`) leaves the client untouched
    (except that a new client folder may have been created).

    Args:
        source: ``segment``, ``stripe``, ``hubspot``, ``zendesk``, ``search_console`` or ``nps``.
        files: the export files.
        client: a client name under ``data/`` or a folder path; created when it
            has no ``client.yaml``.
        identity: an identity map CSV (a source key column, such as ``user_id``
            or a Stripe customer id, and ``account_id``); for ``stripe`` also the
            Dashboard's customers export (``id``, ``Email``, …), matched to the
            client's accounts as ``match`` says.
        match: how a Stripe customers export given as ``identity`` is matched:
            ``"domain"`` (the default: the e-mail's domain against the accounts)
            or ``"metadata:KEY"`` (the account id is in the ``KEY (metadata)`` column).
        date: ``YYYY-MM-DD``: the day of a Search Console export, or the export
            date of a Stripe export (active subscriptions run through its month).
        template: the journey template of a newly created client.

    Returns:
        The :class:`ImportReport`.

    Raises:
        JourneyError: unknown source, a file that is not an export of ``source``,
            a bad argument value; the message names the parameter (``source``,
            ``files``, ``date``, ``identity``, ``match``).
    """
    name, module = _source_module(source)
    if not files:
        raise JourneyError(
            "no files to import",
            where="files",
            expected="one or more export files",
            found="none",
            fix="pass the paths of the export files",
        )
    paths = [Path(f).expanduser() for f in files]
    for p in paths:
        if not p.is_file():
            raise file_not_found(p, f"a {SOURCES[name]}")
    if date is not None:
        try:
            dt.date.fromisoformat(date)
        except ValueError:
            raise bad_option(
                "date", date, expected="a date YYYY-MM-DD", fix="write the date like 2024-03-31"
            ) from None
    if match is not None:
        stripe.parse_match(match)  # a bad value stops the import before any file is read
    client_dir = client_dir_for_new(client)
    exists = (client_dir / "client.yaml").exists()
    # A new client is read in UTC (what init_client writes); nothing is created before every
    # file has been read and mapped, so a wrong file leaves no half-made client behind.
    tz = load_client_config(client_dir / "client.yaml").timezone if exists else "UTC"
    accounts = _existing_accounts(client_dir) if exists else _NO_ACCOUNTS
    ident, customers = _identity(name, identity, match, accounts)
    ctx = ImportContext(
        client_dir=client_dir, timezone=tz, accounts=accounts, identity=ident, date=date
    )
    converted: Converted = (
        stripe.convert(paths, ctx, customers=customers)
        if customers is not None
        else module.convert(paths, ctx)
    )
    client_dir, created = _client(client_dir, template)
    report = ImportReport(
        source=name,
        client_dir=client_dir,
        created=created,
        files=paths,
        rows_read=converted.rows_read,
        notes=list(converted.notes),
    )
    for table in TABLE_ORDER:  # accounts first: later tables may refer to them
        frame = converted.tables.get(table)
        if frame is None:
            continue
        report.tables[table] = merge_table(client_dir, table, frame, timezone=tz)
    rej = converted.rejected
    if rej.height:
        report.rejected = rej.height
        report.reasons = dict(
            Counter(r for cell in rej["reason"].to_list() for r in cell.split(";"))
        )
        report.rejected_path = append_rejected(client_dir, name, rej)
    return report
