"""A synthetic client in Arabic or Chinese: its client.yaml texts in that language, same data."""

from __future__ import annotations

import re

import pytest
import yaml

from journeylib.errors import JourneyError
from journeylib.ingest.client import load_client
from journeylib.sources.synth import synthesize

SCRIPT = {"ar": re.compile("[\u0600-\u06ff]"), "zh": re.compile("[\u4e00-\u9fff]")}


@pytest.mark.parametrize("language", ["ar", "zh"])
def test_client_texts_in_the_language_and_the_same_tables(tmp_path, language):
    en, other = tmp_path / "en", tmp_path / language
    synthesize(en, accounts=60, months=3, seed=3, start="2025-01")
    synthesize(other, accounts=60, months=3, seed=3, start="2025-01", language=language)
    cfg = yaml.safe_load((other / "client.yaml").read_text(encoding="utf-8"))
    assert cfg["language"] == language
    texts = [cfg["description"]]
    for p in cfg["personas"]:
        texts += [p["label"], p["description"], p["buying_behaviour"], *p["goals"]]
        texts += p["challenges"]
    texts += [m["label"] for m in cfg["milestones"]] + [g["label"] for g in cfg["goals"]]
    assert all(SCRIPT[language].search(t) for t in texts), texts
    assert "Acme Analytics" in cfg["description"]  # the vendor's name stays a name
    for table in ("accounts", "events", "subscriptions"):  # the data does not change
        assert (other / f"{table}.csv").read_bytes() == (en / f"{table}.csv").read_bytes()
    c = load_client(other)  # loads, and the persona rules still sort the accounts
    assert c.config.language == language
    assert c.tables["accounts"]["persona"].drop_nulls().n_unique() >= 2


def test_english_has_no_language_line_and_an_unknown_language_is_one_error(tmp_path):
    synthesize(tmp_path / "en", accounts=20, months=2, seed=1, start="2025-01")
    assert "language:" not in (tmp_path / "en" / "client.yaml").read_text()
    with pytest.raises(JourneyError, match="language"):
        synthesize(tmp_path / "fr", accounts=20, months=2, seed=1, start="2025-01", language="fr")
