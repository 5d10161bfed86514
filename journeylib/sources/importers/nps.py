"""NPS survey exports (CSV: Delighted or Typeform) -> surveys.

Delighted's responses export: ``Response ID``, ``Score``, ``Comment``,
``Created At`` (also seen as ``Response Date`` / ``Response timestamp``),
``Email``, ``Name``, and person properties such as ``Company``.
Typeform's responses download (CSV): ``#`` (the response token), one column
per question headed by the question text (the NPS question reads "How likely
are you to recommend …"), the next free-text question as the comment, hidden
fields under their own names (e.g. ``email``, ``company``), then ``Response
Type`` (completed / partial), ``Start Date (UTC)``, ``Stage Date (UTC)``,
``Submit Date (UTC)``, ``Network ID`` and ``Tags``. Partial responses are
quarantined (``partial_response``): they were never submitted.

The account comes from the identity map (email, company or domain ->
account_id), else the ``Company`` column matched on account names or ids,
else the email's domain matched on account names ("jane@acme-analytics.com"
-> an account named "Acme Analytics"). A response without an account is kept
with an empty account_id (surveys.account_id is optional).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import polars as pl

from journeylib.errors import DataError
from journeylib.sources.importers import _common as common

__all__ = ["convert"]

WHAT = "NPS survey export (Delighted or Typeform)"

# Column aliases, first the documented header; case, blanks and _ do not matter (find_col).
C_SCORE = ["Score", "NPS", "NPS Score", "Rating"]
C_DATE = [
    "Created At",
    "Response Date",
    "Response timestamp",
    "Responded At",
    "Submitted At",
    "Submit Date (UTC)",
    "Date",
    "Timestamp",
]
C_ID = ["Response ID", "#", "Token", "Id"]
C_COMMENT = ["Comment", "Comments", "Feedback", "Reason"]
C_EMAIL = ["Email", "E-mail", "Email Address"]
C_COMPANY = ["Company", "Company Name", "Organization", "Account"]
C_STAGE = ["Stage"]
C_RESPONSE_TYPE = ["Response Type"]  # Typeform: completed / partial
C_TOUCHPOINT = ["Touchpoint"]


def _score_column(df: pl.DataFrame) -> str | None:
    hit = common.find_col(df, C_SCORE)
    if hit is not None:
        return hit
    for c in df.columns:  # Typeform: the question text is the header
        if "likely" in c.lower() and "recommend" in c.lower():
            return c
    return None


def _comment_column(df: pl.DataFrame, score: str) -> str | None:
    hit = common.find_col(df, C_COMMENT)
    if hit is not None:
        return hit
    # Typeform: the follow-up question ("Why …?", "What is the main reason …?") right after the score.
    i = df.columns.index(score)
    for c in df.columns[i + 1 : i + 3]:
        if c.strip().lower().startswith(("why", "what")) or "reason" in c.lower():
            return c
    return None


def _stable_id(*parts: str | None) -> str:
    return "nps-" + hashlib.sha1("\x1f".join(p or "" for p in parts).encode()).hexdigest()[:12]


def convert(files: list[Path], ctx: common.ImportContext) -> common.Converted:
    """Map Delighted / Typeform NPS exports to surveys rows."""
    by_name = ctx.names_to_ids()
    known = ctx.account_ids()

    def rows(df: pl.DataFrame, path: Path) -> tuple[pl.DataFrame, pl.Series]:
        score_col = _score_column(df)
        date_col = common.find_col(df, C_DATE)
        for needed, hit in (("Score", score_col), ("Created At", date_col)):
            if hit is None:
                raise DataError(
                    f"this is not a {WHAT}",
                    where=f"{path}: {needed}",
                    expected=f"a column '{needed}'"
                    + (
                        " (or a 'How likely are you to recommend …' question)"
                        if needed == "Score"
                        else " (or 'Submitted At')"
                    ),
                    found="columns " + ", ".join(df.columns[:12]),
                    fix="export the survey responses again as CSV, or pick the importer that matches the file",
                )
        score_text = common.col(df, score_col)
        score = common.parse_number(score_text.str.extract(r"^\s*(\d+(?:\.\d+)?)", 1))
        # "Submit Date (UTC)" (Typeform) is UTC whatever the client's zone.
        responded = common.parse_timestamps(
            common.col(df, date_col), common.tz_of_column(date_col, ctx.timezone)
        )
        response_type = common.optional_col(df, C_RESPONSE_TYPE).str.to_lowercase()
        emails = common.optional_col(df, C_EMAIL).str.to_lowercase().to_list()
        companies = common.optional_col(df, C_COMPANY).to_list()
        accounts = []
        for email, company in zip(emails, companies, strict=True):
            domain = email.rsplit("@", 1)[-1] if email and "@" in email else None
            aid = None
            for key in (email, company, company.lower() if company else None, domain):
                if key and key in ctx.identity:
                    aid = ctx.identity[key]
                    break
            if aid is None and company:
                aid = common.match_account(company, ctx, by_name, known)
            if aid is None and domain and domain not in common.FREE_MAIL:
                org = domain.split(".")[-2] if domain.count(".") else domain  # acme in acme.com
                aid = by_name.get(common.norm_name(org))
            accounts.append(aid)
        ids = common.optional_col(df, C_ID).str.replace(r"\.0+$", "")
        dates = common.col(df, date_col).to_list()
        ids = pl.Series(
            [
                i or _stable_id(e, d, s)
                for i, e, d, s in zip(
                    ids.to_list(), emails, dates, score_text.to_list(), strict=True
                )
            ],
            dtype=pl.String,
        )
        comment_col = _comment_column(df, score_col)
        frame = pl.DataFrame(
            {
                "response_id": ids,
                "account_id": pl.Series(accounts, dtype=pl.String),
                "responded_at": responded,
                "score": score,
                "stage": common.optional_col(df, C_STAGE),
                "touchpoint": common.optional_col(df, C_TOUCHPOINT),
                "comment": common.col(df, comment_col),
            }
        )
        bad_score = score_text.is_not_null() & (
            score.is_null() | (score != score.floor()) | ~score.is_between(0, 10)
        )
        reason = pl.select(
            common.first_reason(
                (response_type == "partial", "partial_response"),
                (frame["responded_at"].is_null(), "bad_timestamp:responded_at"),
                (bad_score, "bad_score"),
                (~frame["response_id"].is_first_distinct(), "response_id_duplicate"),
            )
        ).to_series()
        return frame, reason

    kept, rejected, rows_read = common.map_exports(files, WHAT, rows)
    tables = {}
    notes = []
    if kept is not None:
        # The scores kept are whole numbers from 0 to 10 (or missing).
        kept = kept.with_columns(pl.col("score").cast(pl.Int64))
        tables["surveys"] = common.typed("surveys", kept)
        unmatched = kept["account_id"].null_count()
        if unmatched:
            notes.append(
                f"{unmatched:,} responses matched no account (kept with an empty account_id)"
            )
    return common.Converted(tables=tables, rejected=rejected, rows_read=rows_read, notes=notes)
