"""Client text full of script payloads goes through the real run and never runs in the report.

Every text field a client supplies (client and persona names, industries, roles,
channels, campaigns, event names, variants, ticket text and categories,
survey comments, search queries) carries ``<script>`` and ``onerror=``
payloads; the seven notebooks run on it, and headless Chromium opens the
report.html and analysis.html in English, Arabic and Chinese and checks that
nothing ran.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import polars as pl
import pytest
import yaml

from journeylib.report.runner import run_client
from journeylib.sources.synth import synthesize

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PWN = "document.documentElement.setAttribute('data-pwned','1')"
PAYLOAD = f'<script>{PWN}</script><img src=x onerror="{PWN}">'
LINK = "[link](https://evil.example)"
FORMULA = '=HYPERLINK("https://evil.example","open") '
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

pytestmark = pytest.mark.slow


def _poison(df: pl.DataFrame, columns: list[str], every: int = 7) -> pl.DataFrame:
    idx = pl.int_range(pl.len())
    return df.with_columns(
        pl.when(idx % every == 0).then(pl.col(c) + PAYLOAD).otherwise(pl.col(c)).alias(c)
        for c in columns
        if c in df.columns
    )


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory):
    path = tmp_path_factory.mktemp("xss") / "xssco"
    synthesize(path, accounts=250, months=8, seed=11, start="2025-01")
    fields = {
        "accounts": ["name", "industry", "role", "acquisition_channel"],
        "events": ["event", "channel", "campaign", "variant"],
        "tickets": ["text", "category", "channel"],
        "surveys": ["comment"],
        "marketing": ["campaign", "channel"],
        "search_queries": ["query"],
    }
    for table, cols in fields.items():
        f = path / f"{table}.csv"
        df = pl.read_csv(f, infer_schema=False)
        df = _poison(df, cols)
        if table == "accounts":  # and some names that a spreadsheet would run as a formula
            formula = pl.int_range(pl.len()) % 5 == 1
            df = df.with_columns(
                pl.when(formula)
                .then(pl.lit(FORMULA) + pl.col("name"))
                .otherwise(pl.col("name"))
                .alias("name")
            )
        df.write_csv(f)
    cfg = yaml.safe_load((path / "client.yaml").read_text())
    cfg["client"] = "Acme " + PAYLOAD
    for p in cfg.get("personas", []):
        p["label"] = (p.get("label") or p["id"]) + PAYLOAD
        p["goals"] = [*p.get("goals", []), PAYLOAD]
    for g in cfg.get("goals", []):  # shown in Markdown paragraphs: no link may open either
        g["label"] = (g.get("label") or g["id"]) + PAYLOAD + LINK
    (path / "client.yaml").write_text(yaml.safe_dump(cfg, sort_keys=False))
    return path


@pytest.mark.skipif(CHROMIUM is None, reason="no headless Chromium")
@pytest.mark.parametrize("language", ["en", "ar", "zh"])
def test_payloads_in_every_text_field_never_run(poisoned, tmp_path, language):
    client = tmp_path / "xssco"
    shutil.copytree(poisoned, client)
    cfg = yaml.safe_load((client / "client.yaml").read_text())
    (client / "client.yaml").write_text(
        yaml.safe_dump({**cfg, "language": language}, sort_keys=False)
    )
    result = run_client(client, out_dir=tmp_path / "reports", jobs=2)
    assert result.status == "ok", result.error
    for page in ("report.html", "analysis.html"):
        _never_runs(result.run_dir / page, tmp_path / f"chrome-{page}")
    _no_live_formula(result.run_dir / "account_health.csv", expect_defused=True)
    _no_live_formula(result.run_dir / "opportunities.csv", expect_defused=False)


def _no_live_formula(path: Path, *, expect_defused: bool) -> None:
    """No text cell of a CSV written for people starts like a formula (quality.md)."""
    import csv

    with path.open(encoding="utf-8-sig", newline="") as f:
        cells = [cell for row in csv.reader(f) for cell in row]
    assert cells, path
    live = [c for c in cells if c.startswith(FORMULA_STARTS) and not _number(c)]
    assert live == [], (path.name, live[:3])
    if expect_defused:  # the poisoned names are there, as text
        assert any(c.startswith("'" + FORMULA) for c in cells), path.name


def _number(cell: str) -> bool:
    try:
        float(cell)
    except ValueError:
        return False
    return True


def _never_runs(page: Path, profile: Path) -> None:
    html = page.read_text()
    assert "&lt;script&gt;" in html  # the payload is shown as text
    assert "evil.example" in html and 'href="https://evil.example' not in html
    dom = subprocess.run(
        [
            CHROMIUM,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=20000",
            "--dump-dom",
            page.as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=180,
    ).stdout
    assert "<html" in dom
    assert 'data-pwned="1"' not in dom
