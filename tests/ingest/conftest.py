"""A small valid client, built in tmp_path, that tests mutate into broken ones.

Every table has an extra column ``note`` ("<table>-<n>") that the loader keeps in
the quarantine output, so a test can say *which* rows it expects there.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

JOURNEY_YAML = """\
id: mini
label: A two-stage test journey
stages:
  - id: awareness
    label: Awareness
    touchpoints:
      - {id: site_visit, events: [page_view], kind: indirect}
  - id: adoption
    label: Adoption
    touchpoints:
      - {id: login, events: [login]}
      - {id: reports, events: [report_created]}
"""

BASE_CONFIG: dict[str, Any] = {
    "client": "Test Co",
    "journey": "./journey.yaml",
    "timezone": "UTC",
    "personas": [
        {
            "id": "enterprise_it",
            "match": {"company_size": {"min": 500}, "role": ["IT_Director", "cto"]},
        },
        {"id": "smb", "match": {"company_size": {"max": 49}}},
    ],
}

_ACCOUNTS = [
    # account_id, first_seen_at, signup_at, name, industry, company_size, country, role, channel, persona
    (
        "a1",
        "2024-01-01T09:00:00Z",
        "2024-01-02T10:00:00Z",
        "Acme",
        "software",
        "120",
        "DE",
        "cto",
        "organic_search",
        "",
    ),
    ("a2", "2024-01-05T09:00:00Z", "", "Beta", "retail", "8", "FR", "ceo", "paid_search", ""),
    (
        "a3",
        "2024-02-01T09:00:00Z",
        "2024-02-03T09:00:00Z",
        "Gamma",
        "finance",
        "900",
        "US",
        "it_director",
        "referral",
        "",
    ),
    (
        "a4",
        "2024-02-10T09:00:00Z",
        "2024-02-11T09:00:00Z",
        "Delta",
        "software",
        "60",
        "GB",
        "cmo",
        "social",
        "founder",
    ),
]
_EVENTS = [
    # timestamp, account_id, anonymous_id, user_id, event, channel, campaign, variant
    ("2024-01-01T09:00:00Z", "", "anon1", "", "page_view", "organic_search", "", ""),
    ("2024-01-02T10:05:00Z", "a1", "anon1", "u1", "login", "", "", "A"),
    ("2024-01-03T11:00:00Z", "a1", "", "u1", "report_created", "", "", "A"),
    ("2024-01-06T08:00:00Z", "a2", "", "u2", "login", "", "", "B"),
    ("2024-02-03T09:30:00Z", "a3", "", "u3", "login", "", "spring", ""),
    ("2024-02-04T09:30:00Z", "a3", "", "u3", "unmapped_thing", "", "", ""),
]
_SUBSCRIPTIONS = [
    ("a1", "2024-01", "100.0", "pro", "5"),
    ("a1", "2024-02", "120.0", "pro", "6"),
    ("a3", "2024-02", "900", "enterprise", "50"),
    ("a4", "2024-02", "0", "", ""),
]
_MARKETING = [
    ("2024-01", "paid_search", "brand", "1000.5", "20000", "400"),
    ("2024-01", "social", "", "300", "", ""),
    ("2024-02", "paid_search", "brand", "900", "18000", "350"),
]
_SEARCH = [
    ("2024-01-03", "acme analytics", "40", "400", "1.5"),
    ("2024-01-03", "journey mapping tool", "5", "900", "7.2"),
    ("2024-01-04", "acme login", "12", "20", ""),
]
_TICKETS = [
    (
        "t1",
        "a1",
        "2024-01-04T10:00:00Z",
        "2024-01-04T12:00:00Z",
        "how_to",
        "chat",
        "5",
        "How do I export?",
    ),
    ("t2", "a3", "2024-02-05T10:00:00Z", "", "bug", "email", "", "Report fails"),
    (
        "t3",
        "a1",
        "2024-02-06T10:00:00Z",
        "2024-02-08T10:00:00Z",
        "billing",
        "email",
        "3",
        "Invoice",
    ),
]
_SURVEYS = [
    ("r1", "a1", "2024-01-20T10:00:00Z", "9", "adoption", "reports", "Great reports"),
    ("r2", "a3", "2024-02-20T10:00:00Z", "4", "adoption", "", "Slow"),
    ("r3", "", "2024-02-21T10:00:00Z", "10", "", "", "anonymous praise"),
]

COLUMNS = {
    "accounts": [
        "account_id",
        "first_seen_at",
        "signup_at",
        "name",
        "industry",
        "company_size",
        "country",
        "role",
        "acquisition_channel",
        "persona",
    ],
    "events": [
        "timestamp",
        "account_id",
        "anonymous_id",
        "user_id",
        "event",
        "channel",
        "campaign",
        "variant",
    ],
    "subscriptions": ["account_id", "month", "mrr", "plan", "seats"],
    "marketing": ["month", "channel", "campaign", "spend", "impressions", "clicks"],
    "search_queries": ["date", "query", "clicks", "impressions", "position"],
    "tickets": [
        "ticket_id",
        "account_id",
        "opened_at",
        "resolved_at",
        "category",
        "channel",
        "satisfaction",
        "text",
    ],
    "surveys": [
        "response_id",
        "account_id",
        "responded_at",
        "score",
        "stage",
        "touchpoint",
        "comment",
    ],
}
_ROWS = {
    "accounts": _ACCOUNTS,
    "events": _EVENTS,
    "subscriptions": _SUBSCRIPTIONS,
    "marketing": _MARKETING,
    "search_queries": _SEARCH,
    "tickets": _TICKETS,
    "surveys": _SURVEYS,
}


def base_tables() -> dict[str, list[dict[str, str]]]:
    """The base client's tables: rows of text cells, each with a ``note`` naming it."""
    out: dict[str, list[dict[str, str]]] = {}
    for table, rows in _ROWS.items():
        out[table] = [
            {**dict(zip(COLUMNS[table], row, strict=True)), "note": f"{table}-{i}"}
            for i, row in enumerate(rows)
        ]
    return out


class Folder:
    """A client folder under construction: mutate ``tables`` / ``config``, then ``write()``."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.tables = base_tables()
        self.config: dict[str, Any] = copy.deepcopy(BASE_CONFIG)
        self.config_text: str | None = None  # raw client.yaml text, overrides ``config``
        self.journey_text = JOURNEY_YAML
        self.formats: dict[str, str] = {}  # table -> ".csv" | ".csv.gz" | ".parquet"
        self.dropped: dict[str, list[str]] = {}
        self.renamed: dict[str, dict[str, str]] = {}
        self.after_write: list[Callable[[Path], None]] = []

    # mutations -------------------------------------------------------------
    def set(self, table: str, row: int, column: str, value: str) -> None:
        self.tables[table][row][column] = value

    def add(self, table: str, note: str, **cells: str) -> None:
        row = dict.fromkeys(COLUMNS[table], "")
        row.update(cells)
        row["note"] = note
        self.tables[table].append(row)

    def copy_row(self, table: str, row: int, note: str) -> None:
        self.tables[table].append({**self.tables[table][row], "note": note})

    def drop_column(self, table: str, column: str) -> None:
        self.dropped.setdefault(table, []).append(column)

    def rename_column(self, table: str, old: str, new: str) -> None:
        self.renamed.setdefault(table, {})[old] = new

    def remove_table(self, table: str) -> None:
        del self.tables[table]

    # output ----------------------------------------------------------------
    def frame(self, table: str) -> pl.DataFrame:
        rows = self.tables[table]
        extra = list(dict.fromkeys(k for r in rows for k in r if k not in COLUMNS[table]))
        cols = [c for c in [*COLUMNS[table], *extra] if c not in self.dropped.get(table, [])]
        df = pl.DataFrame(
            {c: [r.get(c, "") for r in rows] for c in cols}, schema=dict.fromkeys(cols, pl.String)
        )
        return df.rename(self.renamed.get(table, {}))

    def write(self) -> Path:
        self.path.mkdir(parents=True, exist_ok=True)
        text = (
            self.config_text
            if self.config_text is not None
            else yaml.safe_dump(self.config, sort_keys=False)
        )
        (self.path / "client.yaml").write_text(text)
        (self.path / "journey.yaml").write_text(self.journey_text)
        for table in self.tables:
            df = self.frame(table)
            fmt = self.formats.get(table, ".csv")
            target = self.path / f"{table}{fmt}"
            if fmt == ".parquet":
                df.write_parquet(target)
            elif fmt == ".csv.gz":
                import gzip

                target.write_bytes(gzip.compress(df.write_csv().encode()))
            else:
                df.write_csv(target)
        for hook in self.after_write:
            hook(self.path)
        return self.path

    def n_rows(self, table: str) -> int:
        return len(self.tables[table])


@pytest.fixture
def folder(tmp_path: Path) -> Folder:
    """A valid base client folder (not yet written) named ``testco``."""
    return Folder(tmp_path / "testco")


@pytest.fixture
def make_folder(tmp_path: Path) -> Callable[[str], Folder]:
    """Make more base client folders: ``make_folder("name")``."""
    return lambda name: Folder(tmp_path / name)


@pytest.fixture
def journey_yaml() -> str:
    """The text of the base client's two-stage journey template."""
    return JOURNEY_YAML
