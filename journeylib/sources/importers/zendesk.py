"""Zendesk tickets export (CSV) -> tickets.

Zendesk's CSV export of tickets (Admin Center > Account > Tools > Reports >
Export; the columns are listed in Zendesk's help article "Exporting ticket,
user, or organization data from your account") has ``ID`` (written ``Id`` in
the files), ``Requester``, ``Subject``, ``Tags``, ``Via``, ``Ticket type``,
``Created at``, ``Organization``, ``Solved at``, ``Satisfaction Score`` (Not
Offered / Offered / Good / Bad) and more. Its dates are in the Zendesk
account's time zone, without an offset: they are read in the client's
``timezone``, which should be the same. Views exported from the agent
interface may say ``Requester organization`` and ``Type``; both are accepted.

The account is found from the organisation: the analyst's identity map
(organization,account_id), else an account of the client whose ``name``
matches (case, blanks and punctuation ignored), else an account whose
``account_id`` is the organisation itself. Tickets of an organisation that
matches no account are quarantined (``unknown_organization``): import the
accounts first (HubSpot, Segment) or give an identity map.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from journeylib.sources.importers import _common as common

__all__ = ["category_of", "channel_of_via", "convert"]

WHAT = "Zendesk tickets export"

# Column aliases, first the documented header; case, blanks and _ do not matter (find_col).
C_ID = ["Id", "Ticket ID"]
C_CREATED = ["Created at", "Created", "Ticket created - Timestamp"]
C_ORG = [
    "Organization",
    "Requester organization",
    "Organization name",
    "Requester organization name",
]
C_SOLVED = ["Solved at", "Solved"]
C_TYPE = ["Type", "Ticket type"]
C_TAGS = ["Tags"]
C_VIA = ["Via", "Channel", "Ticket channel"]
C_SAT = ["Satisfaction Score", "Satisfaction", "Satisfaction rating"]
C_SUBJECT = ["Subject"]

_TYPE = {"question": "how_to", "incident": "bug", "problem": "bug", "task": "task"}


def category_of(ticket_type: str | None, tags: str | None) -> str | None:
    """The ticket category: a billing or feature tag first, else the ticket type.

    Examples:
        >>> category_of("question", None), category_of("incident", "billing urgent")
        ('how_to', 'billing')
        >>> category_of(None, "feature_request"), category_of("problem", ""), category_of(None, None)
        ('feature_request', 'bug', None)
    """
    for tag in (tags or "").replace(",", " ").lower().split():
        if "billing" in tag or tag in ("invoice", "refund", "payment"):
            return "billing"
        if tag.startswith("feature"):
            return "feature_request"
        if tag in ("bug", "how_to", "advanced"):
            return tag
    if ticket_type is None:
        return None
    return _TYPE.get(ticket_type.strip().lower())


def channel_of_via(via: str | None) -> str | None:
    """Zendesk's Via as a support channel (email, chat, phone, web, api, social, …).

    Examples:
        >>> channel_of_via("Mail"), channel_of_via("Web Widget"), channel_of_via("Voicemail")
        ('email', 'chat', 'phone')
        >>> channel_of_via("Web form"), channel_of_via("Twitter DM")
        ('web', 'social')
    """
    if via is None:
        return None
    v = via.strip().lower()
    if v in ("mail", "email", "e-mail") or "mail" in v and "voice" not in v:
        return "email"
    if any(w in v for w in ("chat", "widget", "messaging", "messenger", "whatsapp", "sms")):
        return "chat"
    if any(w in v for w in ("voice", "phone", "call")):
        return "phone"
    if any(w in v for w in ("twitter", "facebook", "instagram", "social")):
        return "social"
    if v in ("web form", "web", "help center", "web service", "api"):
        return "api" if v in ("api", "web service") else "web"
    return "_".join(v.split())


def convert(files: list[Path], ctx: common.ImportContext) -> common.Converted:
    """Map Zendesk tickets exports to tickets."""
    by_name = ctx.names_to_ids()
    known = ctx.account_ids()

    def rows(df: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, pl.Series]:
        id_col, created_col, org_col = common.require_columns(
            df, path, WHAT, [C_ID, C_CREATED, C_ORG]
        )
        orgs = common.col(df, org_col).to_list()
        accounts = [common.match_account(org, ctx, by_name, known) for org in orgs]
        types = common.optional_col(df, C_TYPE).to_list()
        tags = common.optional_col(df, C_TAGS).to_list()
        sat = common.optional_col(df, C_SAT).str.to_lowercase()
        solved_text = common.optional_col(df, C_SOLVED)
        frame = pl.DataFrame(
            {
                "ticket_id": common.col(df, id_col).str.replace(r"\.0+$", ""),
                "account_id": pl.Series(accounts, dtype=pl.String),
                "opened_at": common.parse_timestamps(common.col(df, created_col), ctx.timezone),
                "resolved_at": common.parse_timestamps(solved_text, ctx.timezone),
                "category": pl.Series(
                    [category_of(t, g) for t, g in zip(types, tags, strict=True)], dtype=pl.String
                ),
                "channel": pl.Series(
                    [channel_of_via(v) for v in common.optional_col(df, C_VIA).to_list()],
                    dtype=pl.String,
                ),
                "satisfaction": pl.select(
                    pl.when(sat.str.starts_with("good"))
                    .then(5)
                    .when(sat.str.starts_with("bad"))
                    .then(1)
                )
                .to_series()
                .cast(pl.Int64),
                "text": common.optional_col(df, C_SUBJECT),
            }
        )
        reason = pl.select(
            common.first_reason(
                (frame["ticket_id"].is_null(), "ticket_id_missing"),
                (pl.Series(orgs, dtype=pl.String).is_null(), "organization_missing"),
                (frame["account_id"].is_null(), "unknown_organization"),
                (frame["opened_at"].is_null(), "bad_timestamp:created_at"),
                (
                    solved_text.is_not_null() & frame["resolved_at"].is_null(),
                    "bad_timestamp:solved_at",
                ),
                (~frame["ticket_id"].is_first_distinct(), "ticket_id_duplicate"),
            )
        ).to_series()
        return frame, reason

    kept, rejected, rows_read = common.map_exports(files, WHAT, rows)
    tables = {"tickets": common.typed("tickets", kept)} if kept is not None else {}
    return common.Converted(tables=tables, rejected=rejected, rows_read=rows_read)
