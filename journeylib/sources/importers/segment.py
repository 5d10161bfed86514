"""Segment / RudderStack calls (JSON lines) -> events and accounts.

Each line is one call as the Segment spec documents it (RudderStack uses the
same shape): ``type`` (track, page, screen, identify, group, alias), ``event``,
``userId``, ``anonymousId``, ``messageId``, ``timestamp``, ``context.campaign``
(UTM name, source, medium), ``context.groupId``, ``properties``, ``traits``,
``groupId``. Files may be gzipped (told by their first bytes, whatever their
name), one JSON array of calls, or ``{"batch": [...]}`` envelopes (the HTTP
tracking API's batch body; one per line, or one for the whole file), whose
``context`` applies to each of their calls.

* track -> one event named ``snake(event)`` ("Report Created" -> report_created);
  page / screen -> ``snake(name) + "_page_viewed"`` / ``"_screen_viewed"``
  (``page_viewed`` without a name).
* identify and group calls tie users to accounts (``traits.company.id`` or
  ``traits.company_id`` on identify; ``groupId`` on group) and carry the
  company traits (name, industry, employees); they are not events themselves.
* anonymousId -> userId links from any call carrying both, so a visitor's
  events before sign-up belong to the account too (anonymous_id is kept).
* the ``identity`` map (user_id,account_id) wins over the traits.
* ``messageId`` -> the events' extra ``message_id`` column, the event's identity
  when merged (see :data:`journeylib.sources.importers._merge.MESSAGE_ID`);
  timestamps keep their milliseconds.
* numeric timestamps (``1709283605123``, also as text) are epoch milliseconds when
  at least 1e11, epoch seconds below; any timestamp outside 1970-2099 is rejected
  as ``bad_timestamp``.
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import polars as pl

from journeylib.errors import DataError
from journeylib.sources.importers import _common as common
from journeylib.sources.importers._merge import MESSAGE_ID

__all__ = ["channel_from_utm", "convert"]

WHAT = "Segment/RudderStack event export (JSON lines)"

_PAID_SEARCH = {
    "cpc",
    "ppc",
    "paid_search",
    "paidsearch",
    "sem",
    "search_ads",
    "paid-search",
    "cpm_search",
}
_SOCIAL = {
    "social",
    "social-media",
    "social_media",
    "paid_social",
    "paidsocial",
    "paid-social",
    "sm",
    "social-network",
    "social_network",
}
_SOCIAL_SOURCES = {
    "facebook",
    "linkedin",
    "twitter",
    "x",
    "instagram",
    "reddit",
    "youtube",
    "tiktok",
    "t.co",
    "fb",
    "meta",
}
_EMAIL = {"email", "e-mail", "newsletter", "mail", "hs_email"}
_PARTNER = {"partner", "affiliate", "affiliates", "partners", "reseller"}
_EVENTS = {
    "event",
    "events",
    "webinar",
    "conference",
    "offline",
    "tradeshow",
    "trade_show",
    "meetup",
}
_DIRECT = {"(none)", "none", "direct", "(direct)"}

#: Events that mark the account's sign-up (the first sets accounts.signup_at).
SIGNUP_EVENTS = ("signed_up", "account_created")


def channel_from_utm(source: str | None, medium: str | None) -> str | None:
    """The channel of a UTM source/medium pair, in the workbench's channel vocabulary.

    The medium decides first, then the source; an unknown medium is kept,
    lower-cased (a channel of its own); no UTM at all gives None.

    Examples:
        >>> channel_from_utm("google", "cpc"), channel_from_utm("google", "organic")
        ('paid_search', 'organic_search')
        >>> channel_from_utm("linkedin", None), channel_from_utm("newsletter", "email")
        ('social', 'email')
        >>> channel_from_utm(None, None), channel_from_utm("(direct)", "(none)")
        (None, 'direct')
    """
    s = (source or "").strip().lower() or None
    m = (medium or "").strip().lower() or None
    if m is not None:
        if m == "organic":
            return "organic_search"
        if m in _PAID_SEARCH:
            return "paid_search"
        if m in _SOCIAL:
            return "social"
        if m in _EMAIL:
            return "email"
        if m == "referral":
            return "social" if s in _SOCIAL_SOURCES else "referral"
        if m in _PARTNER:
            return "partner"
        if m in _EVENTS:
            return "events"
        if m in _DIRECT:
            return "direct"
        if m in ("display", "banner", "paid"):
            return "paid_search" if s in ("google", "bing") else m
        return m
    if s is None:
        return None
    if s in _SOCIAL_SOURCES:
        return "social"
    if s in _EMAIL:
        return "email"
    if s in _DIRECT:
        return "direct"
    if s in _PARTNER:
        return "partner"
    return "referral"


def _get(d: Any, *path: str) -> Any:
    for p in path:
        if not isinstance(d, dict):
            return None
        d = d.get(p)
    return d


def _text(v: Any) -> str | None:
    if v is None or isinstance(v, dict | list):
        return None
    s = str(v).strip()
    if isinstance(v, float) and v.is_integer():
        s = str(int(v))
    return s or None


# Epoch numbers from 1e11 up are milliseconds: as seconds they would be past the year 5000.
_EPOCH_MS_FROM = Decimal(100_000_000_000)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Timestamps outside these bounds are typos or wrong units; Python's datetime cannot
# even hold some of them (polars would raise OverflowError converting them).
_TS_MIN = datetime(1970, 1, 1, tzinfo=UTC)
_TS_END = datetime(2100, 1, 1, tzinfo=UTC)
_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def _timestamp_text(v: Any) -> str | None:
    """A call's timestamp as text ``parse_timestamps`` reads; None when it cannot be a time.

    Numbers (and numeric text) are epoch milliseconds from 1e11 up, epoch seconds
    below, written as ISO 8601 UTC; outside 1970-2099 they are None.

    Examples:
        >>> _timestamp_text(1709283605123), _timestamp_text("1709283605.5")
        ('2024-03-01T09:00:05.123000+00:00', '2024-03-01T09:00:05.500000+00:00')
        >>> _timestamp_text(1e30), _timestamp_text(-5), _timestamp_text("2024-03-01T09:00:05Z")
        (None, None, '2024-03-01T09:00:05Z')
    """
    if isinstance(v, bool):
        return None
    if not isinstance(v, int | float) and not (isinstance(v, str) and _NUMBER.fullmatch(v.strip())):
        return _text(v)
    try:
        n = Decimal(str(v).strip())
    except InvalidOperation:
        return None
    if not n.is_finite():
        return None
    seconds = n / 1000 if abs(n) >= _EPOCH_MS_FROM else n
    if not Decimal(0) <= seconds < Decimal(int((_TS_END - _EPOCH).total_seconds())):
        return None
    return (_EPOCH + timedelta(microseconds=int(seconds * 1_000_000))).isoformat(
        timespec="microseconds"
    )


def _int(v: Any) -> int | None:
    if isinstance(v, bool) or v is None:
        return None
    if isinstance(v, int):
        return v if v >= 1 else None
    try:
        f = float(str(v).replace(",", "").strip())
    except ValueError:
        return None
    return int(f) if f.is_integer() and f >= 1 else None


def _company_traits(traits: dict) -> dict[str, Any]:
    return {
        "name": _text(traits.get("name")),
        "industry": _text(traits.get("industry")),
        "company_size": _int(
            traits.get("employees", traits.get("employee_count", traits.get("size")))
        ),
        "country": _text(_get(traits, "address", "country") or traits.get("country")),
    }


_GZIP_MAGIC = b"\x1f\x8b"
_Line = tuple[int, str, dict | None, str | None]


def _read_text(path: Path) -> str:
    """The file as text, gunzipped when it starts with gzip's magic bytes (any name)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise DataError(
            "cannot read the file",
            where=path,
            expected=f"a {WHAT}",
            found=str(exc),
            fix="check the path of the export",
        ) from None
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)  # several concatenated members are read too
        except (OSError, EOFError, zlib.error) as exc:
            raise DataError(
                "cannot read the gzip file",
                where=path,
                expected=f"a gzip-compressed {WHAT}",
                found=f"a damaged or truncated gzip file ({exc})",
                fix="download the file again",
            ) from None
    elif data[:4] == b"PK\x03\x04":
        raise DataError(
            "cannot read a zip archive",
            where=path,
            expected=f"a {WHAT}, plain or gzipped",
            found="a zip archive",
            fix="unzip it and import the JSON files it holds",
        )
    return data.decode("utf-8", errors="replace").removeprefix("\ufeff")


def _calls(n: int | None, obj: Any, raw: str) -> list[_Line]:
    """One parsed JSON value as calls: a call as is, a ``{"batch": [...]}`` envelope as its calls.

    ``n`` is the line of the value; None numbers an envelope's calls by their
    position in it (a file that is one envelope). The envelope's ``context``
    applies to every call (the call's own keys win), its ``sentAt`` to calls
    without one.

    Examples:
        >>> env = {"batch": [{"type": "track", "context": {"ip": "1"}}, 7],
        ...        "context": {"ip": "0", "locale": "de"}}
        >>> [(n, o and o["context"], why) for n, _, o, why in _calls(3, env, "")]
        [(3, {'ip': '1', 'locale': 'de'}, None), (3, None, 'bad_json')]
    """
    batch = obj.get("batch") if isinstance(obj, dict) and "type" not in obj else None
    if not isinstance(batch, list):
        ok = isinstance(obj, dict)
        return [(n or 1, raw, obj if ok else None, None if ok else "bad_json")]
    shared = obj.get("context") if isinstance(obj.get("context"), dict) else {}
    out: list[_Line] = []
    for i, call in enumerate(batch, start=1):
        text = json.dumps(call)[:500]
        if not isinstance(call, dict):
            out.append((n or i, text, None, "bad_json"))
            continue
        call = dict(call)
        own = call.get("context") if isinstance(call.get("context"), dict) else {}
        if shared:
            call["context"] = {**shared, **own}
        if obj.get("sentAt") is not None and call.get("sentAt") is None:
            call["sentAt"] = obj["sentAt"]
        out.append((n or i, text, call, None))
    return out


def _read_lines(path: Path) -> list[_Line]:
    """(line number, raw text, parsed call or None, reason) per call.

    A JSON array or a single JSON value (a pretty-printed envelope) over the
    whole file is read as such, numbered by position; else each non-blank line is
    one call or one envelope.
    """
    text = _read_text(path)
    stripped = text.strip()
    if stripped[:1] in ("[", "{"):
        try:
            whole = json.loads(stripped)
        except json.JSONDecodeError:  # JSON lines (or broken JSON): read line by line
            whole = None
        if isinstance(whole, list):  # a JSON array of calls (what some exports give)
            return [c for i, o in enumerate(whole) for c in _calls(i + 1, o, json.dumps(o)[:500])]
        if isinstance(whole, dict):
            return _calls(None, whole, stripped[:500])
    out: list[_Line] = []
    for i, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError:
            out.append((i, line[:500], None, "bad_json"))
            continue
        out.extend(_calls(i, obj, line[:500]))
    return out


def convert(files: list[Path], ctx: common.ImportContext) -> common.Converted:
    """Map Segment/RudderStack JSON-lines files to events and accounts."""
    calls: list[dict[str, Any]] = []
    rejected: list[dict[str, Any]] = []
    rows_read = 0
    for path in files:
        lines = _read_lines(path)
        rows_read += len(lines)
        if lines and not any(o is not None and "type" in o for _, _, o, _ in lines):
            first = next((o for _, _, o, _ in lines if o is not None), None)
            raise DataError(
                f"this is not a {WHAT}",
                where=f"{path}: type",
                expected="JSON objects with a 'type' field (track, page, identify, group)",
                found=f"keys {', '.join(list(first)[:10])}" if first else "no JSON objects",
                fix="export the raw Segment/RudderStack calls as JSON lines, or pick the importer that matches the file",
            )
        for n, raw, obj, reason in lines:
            if obj is None:
                rejected.append({"file": path.name, "line": str(n), "reason": reason, "raw": raw})
                continue
            calls.append({"file": path.name, "line": n, "raw": raw, "obj": obj})

    def reject(c: dict, reason: str) -> None:
        rejected.append(
            {"file": c["file"], "line": str(c["line"]), "reason": reason, "raw": c["raw"]}
        )

    # Timestamps in one vectorised pass.
    ts_text = [
        _timestamp_text(
            c["obj"].get("timestamp")
            or c["obj"].get("originalTimestamp")
            or c["obj"].get("sentAt")
            or c["obj"].get("receivedAt")
        )
        for c in calls
    ]
    parsed = common.parse_timestamps(pl.Series(ts_text, dtype=pl.String), ctx.timezone)
    # Null what lies outside the sane range before leaving polars: to_list cannot
    # convert years past 9999 and would raise OverflowError.
    ts = (
        pl.select(pl.when(parsed.is_between(_TS_MIN, _TS_END, closed="left")).then(parsed))
        .to_series()
        .to_list()
    )

    good: list[dict[str, Any]] = []
    for c, t in zip(calls, ts, strict=True):
        o = c["obj"]
        kind = str(o.get("type", "")).strip().lower()
        if kind not in ("track", "page", "screen", "identify", "group", "alias"):
            reject(c, "unsupported_type" if kind else "type_missing")
            continue
        if t is None:
            reject(c, "bad_timestamp")
            continue
        c.update(kind=kind, ts=t, user=_text(o.get("userId")), anon=_text(o.get("anonymousId")))
        if kind != "alias" and c["user"] is None and c["anon"] is None:
            reject(c, "user_and_anonymous_id_missing")
            continue
        good.append(c)

    # Identity: anonymousId -> userId, userId -> account, account traits. Later calls win.
    anon_user: dict[str, str] = {}
    user_account: dict[str, str] = {}
    traits_of: dict[str, dict[str, Any]] = {}
    for c in sorted(good, key=lambda c: c["ts"]):
        o = c["obj"]
        if c["kind"] == "alias":
            prev, new = _text(o.get("previousId")), c["user"]
            if prev and new:
                anon_user[prev] = new
            continue
        if c["user"] and c["anon"]:
            anon_user[c["anon"]] = c["user"]
        account = None
        traits: dict = {}
        if c["kind"] == "identify":
            t = o.get("traits") or {}
            company = t.get("company") if isinstance(t.get("company"), dict) else {}
            account = (
                _text(company.get("id")) or _text(t.get("company_id")) or _text(t.get("groupId"))
            )
            traits = _company_traits(company) if company else {}
        elif c["kind"] == "group":
            account = _text(o.get("groupId"))
            traits = _company_traits(o.get("traits") or {})
        if account:
            if c["user"]:
                user_account[c["user"]] = account
            rec = traits_of.setdefault(account, {})
            rec.update({k: v for k, v in traits.items() if v is not None})
    user_account.update(ctx.identity)  # the analyst's map wins over the traits

    events: list[dict[str, Any]] = []
    first_seen: dict[str, Any] = {}
    signup: dict[str, Any] = {}
    for c in good:
        o = c["obj"]
        user = c["user"] or (anon_user.get(c["anon"]) if c["anon"] else None)
        account = (user_account.get(user) if user else None) or _text(_get(o, "context", "groupId"))
        if c["kind"] in ("identify", "group"):
            aid = account if c["kind"] == "identify" else _text(o.get("groupId"))
            if aid:
                first_seen[aid] = min(first_seen.get(aid, c["ts"]), c["ts"])
            continue
        if c["kind"] == "alias":
            continue
        if c["kind"] == "track":
            name = common.snake(_text(o.get("event")) or "")
            if not name:
                reject(c, "event_missing")
                continue
        else:
            page = _text(o.get("name")) or _text(_get(o, "properties", "name"))
            suffix = "page_viewed" if c["kind"] == "page" else "screen_viewed"
            name = f"{common.snake(page)}_{suffix}" if page and common.snake(page) else suffix
        campaign = _get(o, "context", "campaign") or {}
        channel = channel_from_utm(_text(campaign.get("source")), _text(campaign.get("medium")))
        events.append(
            {
                "timestamp": c["ts"],
                "account_id": account,
                # unknown users stay anonymous visitors: their anonymousId, or their userId when absent
                "anonymous_id": c["anon"] or (c["user"] if account is None else None),
                "user_id": c["user"],
                "event": name,
                "channel": channel,
                "campaign": _text(campaign.get("name")),
                "variant": _text(_get(o, "properties", "variant")),
                MESSAGE_ID: _text(o.get("messageId")),
            }
        )
        if account:
            first_seen[account] = min(first_seen.get(account, c["ts"]), c["ts"])
            if name in SIGNUP_EVENTS:
                signup[account] = min(signup.get(account, c["ts"]), c["ts"])

    tables: dict[str, pl.DataFrame] = {}
    if events:
        cols = {k: [e[k] for e in events] for k in events[0]}
        cols["timestamp"] = pl.Series(cols["timestamp"], dtype=pl.Datetime("us", "UTC"))
        frame = common.typed("events", cols)
        if any(m is not None for m in cols[MESSAGE_ID]):  # no ids: no column, the old rows
            frame = frame.with_columns(pl.Series(MESSAGE_ID, cols[MESSAGE_ID], dtype=pl.String))
        tables["events"] = frame
    if first_seen:
        ids = sorted(first_seen)
        tables["accounts"] = common.typed(
            "accounts",
            {
                "account_id": ids,
                "first_seen_at": pl.Series(
                    [first_seen[a] for a in ids], dtype=pl.Datetime("us", "UTC")
                ),
                "signup_at": pl.Series(
                    [signup.get(a) for a in ids], dtype=pl.Datetime("us", "UTC")
                ),
                "name": pl.Series([traits_of.get(a, {}).get("name") for a in ids], dtype=pl.String),
                "industry": pl.Series(
                    [traits_of.get(a, {}).get("industry") for a in ids], dtype=pl.String
                ),
                "company_size": pl.Series(
                    [traits_of.get(a, {}).get("company_size") for a in ids], dtype=pl.Int64
                ),
                "country": pl.Series(
                    [traits_of.get(a, {}).get("country") for a in ids], dtype=pl.String
                ),
            },
        )
    rej = common.concat_rejected([pl.DataFrame(rejected)]) if rejected else pl.DataFrame()
    anon = sum(1 for e in events if e["account_id"] is None)
    notes = (
        [f"{anon:,} events of users without a known account kept as anonymous visitors"]
        if anon
        else []
    )
    return common.Converted(tables=tables, rejected=rej, rows_read=rows_read, notes=notes)
