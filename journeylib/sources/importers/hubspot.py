"""HubSpot companies and deals exports (CSV) -> accounts and deal events.

HubSpot's exports (CRM > Companies / Deals > Export) name the columns by the
property *labels* and write option values as labels too ("Organic search",
"Computer Software", "Closed Won"), unless the internal values were asked for;
both are accepted. A companies export (``Record ID``, ``Company name``,
``Industry``, ``Number of Employees``, ``Lifecycle Stage``, ``Original Source``
(newer portals: ``Original Traffic Source``), ``Create Date``, …) becomes
accounts. A deals export (``Record ID``, ``Deal Name``, ``Deal Stage``,
``Amount``, ``Create Date``, ``Close Date``, ``Associated Company IDs (Primary)``,
``Associated Company IDs`` or ``Associated Company``, ``Is Closed Won``,
``Is closed lost``) becomes events: ``deal_created`` at the create date,
``deal_won`` / ``deal_lost`` at the close date of closed deals. Which file is
which is told by its columns (a deals export has one of :data:`C_DEALS_ONLY`,
e.g. ``Deal Stage``, ``Deal Name`` or ``Is Closed Won``).

Portals name their stages freely ("Contract Signed", "Paid", "Dead Deals"), so
won and lost are read from HubSpot's own ``Is Closed Won`` / ``Is closed lost``
properties when the export has them; the stage name (``closedwon`` /
``closedlost`` after case-folding and dropping blanks) is only the fallback, and
the import's notes say which was used.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from journeylib.sources.importers import _common as common

__all__ = [
    "ORIGINAL_SOURCE",
    "channel_from_original_source",
    "convert",
    "parse_boolean",
    "stage_outcome",
]

WHAT = "HubSpot companies or deals export"

#: HubSpot's Original Source values (internal names; labels are matched after upper-casing
#: and replacing blanks by ``_``) -> the workbench's channel vocabulary.
ORIGINAL_SOURCE: dict[str, str] = {
    "ORGANIC_SEARCH": "organic_search",
    "PAID_SEARCH": "paid_search",
    "SOCIAL_MEDIA": "social",
    "ORGANIC_SOCIAL": "social",
    "PAID_SOCIAL": "social",
    "REFERRALS": "referral",
    "AI_REFERRALS": "referral",
    "EMAIL_MARKETING": "email",
    "DIRECT_TRAFFIC": "direct",
    "OFFLINE": "events",
    "OFFLINE_SOURCES": "events",
    # HubSpot: visits from tracking URLs other than social, email and paid search ads.
    "OTHER_CAMPAIGNS": "other_campaigns",
}

# Column aliases, first the documented header; case, blanks and _ do not matter (find_col).
C_ID = ["Record ID", "Company ID", "Company ID (Record ID)", "hs_object_id"]
C_NAME = ["Company name", "Name"]
C_CREATE = ["Create Date", "Created Date", "createdate"]
C_INDUSTRY = ["Industry"]
C_EMPLOYEES = ["Number of Employees", "Employees", "numberofemployees"]
C_SOURCE = [
    "Original Source",
    "Original Source Type",
    "Original Traffic Source",
    "hs_analytics_source",
]
C_COUNTRY = ["Country/Region", "Country"]
C_STAGE = ["Deal Stage", "dealstage"]
C_DEAL_ID = ["Record ID", "Deal ID", "hs_object_id"]
# The primary company first: "Associated Company IDs" may list several companies.
C_DEAL_COMPANY_ID = [
    "Associated Company IDs (Primary)",
    "Associated Company IDs",
    "Associated Company ID",
    "Associated Company IDs (Sales Hub)",
]
C_DEAL_COMPANY = ["Associated Company (Primary)", "Associated Company", "Company"]
C_CLOSE = ["Close Date", "closedate"]
# HubSpot's calculated deal properties: true once the deal sits in a stage of the
# pipeline marked won (lost), whatever the stage is called.
C_IS_WON = ["Is Closed Won", "hs_is_closed_won"]
C_IS_LOST = ["Is closed lost", "hs_is_closed_lost"]
#: Columns only a deals export has; any one of them makes a file a deals export. Not
#: ``Close Date`` (companies have one too: the date the company became a customer) nor the
#: association columns (a companies export may list associated companies).
C_DEALS_ONLY = [*C_STAGE, *C_IS_WON, *C_IS_LOST, "Deal Name", "dealname", "Pipeline", "pipeline"]

# How HubSpot (and spreadsheets re-saving its exports) write booleans.
_TRUE = ("true", "yes", "y", "1", "1.0")
_FALSE = ("false", "no", "n", "0", "0.0")


def channel_from_original_source(value: str | None) -> str | None:
    """HubSpot's Original Source (internal value or label) as a channel.

    Unknown values are kept, in snake case.

    Examples:
        >>> channel_from_original_source("ORGANIC_SEARCH"), channel_from_original_source("Paid Social")
        ('organic_search', 'social')
        >>> channel_from_original_source("Offline Sources"), channel_from_original_source(None)
        ('events', None)
    """
    if value is None or not value.strip():
        return None
    key = "_".join(value.strip().upper().replace("-", " ").split())
    return ORIGINAL_SOURCE.get(key, key.lower())


def parse_boolean(s: pl.Series) -> pl.Series:
    """HubSpot's boolean text as Boolean: true/false, True/False, Yes/No, 1/0; null when empty or unreadable.

    Examples:
        >>> parse_boolean(pl.Series([" true", "FALSE", "Yes", "no", "1", "0", "", None, "maybe"])).to_list()
        [True, False, True, False, True, False, None, None, None]
    """
    key = s.cast(pl.String).str.strip_chars().str.to_lowercase()
    return pl.select(
        pl.when(key.is_in(_TRUE)).then(True).when(key.is_in(_FALSE)).then(False)
    ).to_series()


def stage_outcome(stage: pl.Series) -> tuple[pl.Series, pl.Series]:
    """``(won, lost)`` of deal stages told by their name alone (the fallback).

    The name is case-folded and stripped of everything but letters, so
    "Closed Won", "closedwon" and "Closed Lost " (trailing blank) are
    recognised; custom names ("Contract Signed", "Dead Deals") are not.

    Examples:
        >>> won, lost = stage_outcome(pl.Series(["Closed Won", "Closed Lost ", "closedlost", "Paid", None]))
        >>> won.to_list(), lost.to_list()
        ([True, False, False, False, False], [False, True, True, False, False])
    """
    key = stage.cast(pl.String).str.to_lowercase().str.replace_all(r"[^a-z]", "").fill_null("")
    won = key.str.contains("closedwon") | (key == "won")
    lost = key.str.contains("closedlost") | (key == "lost")
    return won, lost


def _first_listed(df: pl.DataFrame, aliases: list[str]) -> pl.Series:
    """Per row, the first value listed (``;``-separated) in the first present column of ``aliases`` that has one.

    Several association columns may be exported side by side; a row whose
    primary-company column is empty still has its company in the next one.
    """
    parts = []
    for alias in aliases:
        name = common.find_col(df, [alias])
        if name is not None and name not in {p.name for p in parts}:
            first = common.col(df, name).str.split(";").list.first().str.strip_chars()
            parts.append(pl.select(pl.when(first != "").then(first)).to_series().alias(name))
    if not parts:
        return pl.Series([None] * df.height, dtype=pl.String)
    return pl.select(pl.coalesce(parts)).to_series()


def _outcome_note(
    path: Path, won_col: str | None, lost_col: str | None, stage_col: str | None, fallback: int
) -> str:
    """Which source of truth decided won and lost in one deals export (for the import's notes)."""
    if stage_col is None:
        stages = "nowhere (the export has no Deal Stage column: such deals stay open)"
    else:
        stages = "the deal stage names (closedwon / closedlost, case and blanks ignored)"
    if won_col is None and lost_col is None:
        return (
            f"{path.name}: deals won/lost from {stages}; the export has no Is Closed Won / "
            "Is closed lost columns, so custom stage names are not recognised: add them to the export"
        )
    if won_col is not None and lost_col is not None:
        note = f"{path.name}: deals won/lost from the {won_col} / {lost_col} columns"
    elif won_col is not None:
        note = f"{path.name}: deals won from the {won_col} column, lost from {stages}"
    else:
        note = f"{path.name}: deals lost from the {lost_col} column, won from {stages}"
    if fallback:
        source = "from their stage name" if stage_col is not None else "left open (no Deal Stage)"
        note += f"; {fallback:,} deal(s) with an empty value there: {source}"
    return note


def _is_deals(df: pl.DataFrame) -> bool:
    return common.find_col(df, C_DEALS_ONLY) is not None


def _companies(
    df: pl.DataFrame, path: Path, ctx: common.ImportContext
) -> tuple[pl.DataFrame, pl.DataFrame]:
    id_col, create_col = common.require_columns(
        df, path, "HubSpot companies export", [C_ID, C_CREATE]
    )
    created = common.parse_timestamps(common.col(df, create_col), ctx.timezone)
    employees = common.parse_number(common.optional_col(df, C_EMPLOYEES))
    employees = pl.select(
        pl.when((employees >= 1) & (employees == employees.floor())).then(employees)
    ).to_series()
    frame = pl.DataFrame(
        {
            "account_id": common.col(df, id_col).str.replace(r"\.0+$", ""),
            "first_seen_at": created,
            "name": common.optional_col(df, C_NAME),
            "industry": common.optional_col(df, C_INDUSTRY),
            "company_size": employees.cast(pl.Int64),
            "country": common.optional_col(df, C_COUNTRY),
            "acquisition_channel": pl.Series(
                [
                    channel_from_original_source(v)
                    for v in common.optional_col(df, C_SOURCE).to_list()
                ],
                dtype=pl.String,
            ),
        }
    )
    reason = pl.select(
        common.first_reason(
            (frame["account_id"].is_null(), "record_id_missing"),
            (frame["first_seen_at"].is_null(), "bad_timestamp:create_date"),
            (~frame["account_id"].is_first_distinct(), "record_id_duplicate"),
        )
    ).to_series()
    kept = common.typed("accounts", frame.filter(reason.is_null()))
    return kept, common.rejected_frame(df, reason, path)


def _deals(
    df: pl.DataFrame,
    path: Path,
    ctx: common.ImportContext,
    known: set[str],
    by_name: dict[str, str],
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    stage_col = common.find_col(df, C_STAGE)
    company_id = _first_listed(df, C_DEAL_COMPANY_ID)
    company_name = _first_listed(df, C_DEAL_COMPANY)
    accounts = []
    for cid, cname in zip(company_id.to_list(), company_name.to_list(), strict=True):
        aid = None
        if cid:
            cid = cid.removesuffix(".0")
            aid = ctx.identity.get(cid) or (cid if cid in known else None)
        accounts.append(aid or common.match_account(cname, ctx, by_name, known))
    # A deal with no association at all is a CRM hygiene problem; one whose company
    # is not among the accounts usually means the companies file is missing rows.
    no_company = company_id.is_null() & company_name.is_null()

    won_col, lost_col = common.find_col(df, C_IS_WON), common.find_col(df, C_IS_LOST)
    won_text, lost_text = common.col(df, won_col), common.col(df, lost_col)
    won_flag, lost_flag = parse_boolean(won_text), parse_boolean(lost_text)
    stage_won, stage_lost = stage_outcome(common.col(df, stage_col))
    # The Is Closed columns win; the stage name decides only where they say nothing.
    won = pl.select(pl.coalesce(won_flag, stage_won)).to_series()
    lost = pl.select(pl.coalesce(lost_flag, stage_lost)).to_series()
    # Rows where a present Is Closed column is empty and the stage name had to decide
    # (unreadable values are quarantined as bad_boolean, not counted here).
    fallback = pl.Series([False] * df.height)
    if won_col is not None:
        fallback = fallback | won_text.is_null()
    if lost_col is not None:
        fallback = fallback | lost_text.is_null()

    created = common.parse_timestamps(common.optional_col(df, C_CREATE), ctx.timezone)
    closed = common.parse_timestamps(common.optional_col(df, C_CLOSE), ctx.timezone)
    frame = pl.DataFrame(
        {
            "account_id": pl.Series(accounts, dtype=pl.String),
            "created": created,
            "closed": closed,
            "won": won,
            "lost": lost,
        }
    )
    reason = pl.select(
        common.first_reason(
            (no_company, "no_company"),
            (frame["account_id"].is_null(), "unknown_company"),
            (won_text.is_not_null() & won_flag.is_null(), "bad_boolean:is_closed_won"),
            (lost_text.is_not_null() & lost_flag.is_null(), "bad_boolean:is_closed_lost"),
            (won & lost, "won_and_lost"),
            (
                frame["created"].is_null() & ~((won | lost) & frame["closed"].is_not_null()),
                "no_dated_stage",
            ),
            # Won or lost, but HubSpot gives no date for it: the outcome cannot be placed.
            ((won | lost) & frame["closed"].is_null(), "closed_without_date"),
        )
    ).to_series()
    ok = frame.filter(reason.is_null())
    # A closed_without_date row still has a good creation: keep its deal_created (a
    # re-import of the fixed export skips that copy and adds the outcome).
    created_ev = (
        frame.with_columns(reason=reason)
        .filter(
            pl.col("reason").fill_null("closed_without_date") == "closed_without_date",
            pl.col("created").is_not_null(),
        )
        .select("account_id", timestamp="created", event=pl.lit("deal_created"))
    )
    closed_ev = ok.filter(pl.col("won") | pl.col("lost")).select(
        "account_id",
        timestamp="closed",
        event=pl.when(pl.col("won")).then(pl.lit("deal_won")).otherwise(pl.lit("deal_lost")),
    )
    ev = pl.concat([created_ev, closed_ev]).sort("timestamp", "account_id")
    notes = [_outcome_note(path, won_col, lost_col, stage_col, int(fallback.sum()))]
    if common.find_col(df, C_DEAL_COMPANY_ID + C_DEAL_COMPANY) is None:
        notes.append(
            f"{path.name}: no Associated Company column, so every deal is quarantined as "
            "no_company: export the deals again with their associated company"
        )
    return common.typed("events", ev), common.rejected_frame(df, reason, path), notes


def convert(files: list[Path], ctx: common.ImportContext) -> common.Converted:
    """Map HubSpot companies (and deals) exports to accounts (and deal events)."""
    frames = []
    for path in files:
        df = common.read_export_csv(path, WHAT)
        deals = _is_deals(df)
        if not deals and common.find_col(df, C_ID) is None:
            common.require_columns(df, path, "HubSpot companies export", [C_ID, C_CREATE])
        frames.append((path, df, deals))
    rows_read = sum(df.height for _, df, _ in frames)
    accounts, events, rejected = [], [], []
    for path, df, deals in frames:  # companies first: deals refer to them
        if not deals:
            acc, rej = _companies(df, path, ctx)
            accounts.append(acc)
            rejected.append(rej)
    acc_all = pl.concat(accounts) if accounts else None
    known = ctx.account_ids() | (
        set(acc_all["account_id"].to_list()) if acc_all is not None else set()
    )
    by_name = ctx.names_to_ids()
    if acc_all is not None:
        for aid, name in acc_all.select("account_id", "name").iter_rows():
            if name:
                by_name.setdefault(common.norm_name(name), aid)
    notes: list[str] = []
    for path, df, deals in frames:
        if deals:
            ev, rej, deal_notes = _deals(df, path, ctx, known, by_name)
            events.append(ev)
            rejected.append(rej)
            notes.extend(deal_notes)
    tables: dict[str, pl.DataFrame] = {}
    if acc_all is not None:
        tables["accounts"] = acc_all
    if events:
        tables["events"] = pl.concat(events)
    return common.Converted(
        tables=tables, rejected=common.concat_rejected(rejected), rows_read=rows_read, notes=notes
    )
