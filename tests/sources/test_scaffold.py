"""``journey init``'s scaffold: a new client folder that loads as an empty client."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from journeylib import paths
from journeylib.errors import JourneyError
from journeylib.ingest.client import load_client
from journeylib.schemas import TABLES
from journeylib.sources.scaffold import init_client

COLUMNS = {t: spec.column_names for t, spec in TABLES.items()}
MINI_JOURNEY = "stages: [{id: s, label: S, touchpoints: [{id: t, events: [login]}]}]\n"


@pytest.fixture
def project_root(tmp_path: Path, monkeypatch) -> Path:
    """A project root with the shipped template names, so that init → load works offline."""
    root = tmp_path / "proj"
    (root / "templates" / "journeys").mkdir(parents=True)
    for name in ("b2b_saas_8_stage", "saas_5_stage"):
        (root / "templates" / "journeys" / f"{name}.yaml").write_text(MINI_JOURNEY)
    monkeypatch.setattr(paths, "PROJ_ROOT", root)
    monkeypatch.delenv("JOURNEY_DATA_DIR", raising=False)
    return root


def test_init_client_creates_a_loadable_empty_client(project_root: Path):
    path = init_client("newco")
    assert path == project_root / "data" / "newco"
    for table, cols in COLUMNS.items():
        assert (path / f"{table}.csv").read_text() == ",".join(cols) + "\n"
    cfg = yaml.safe_load((path / "client.yaml").read_text())
    assert cfg["client"] == "newco"
    assert cfg["journey"] == "b2b_saas_8_stage"
    client = load_client("newco")
    assert all(q["rows_in"] == 0 for q in client.quality.values())
    assert sorted(client.tables) == sorted(COLUMNS)


def test_init_client_uses_the_shipped_client_yaml(project_root: Path):
    (project_root / "templates" / "client.yaml").write_text(
        "# Who the client is\nclient: Example Corp   # display name\ncurrency: EUR\njourney: saas_5_stage\n"
        "# personas:\n#   - id: x\n"
    )
    path = init_client(
        project_root / "elsewhere" / "acme", template="saas_5_stage", name='Acme: "<b>" & Co'
    )
    text = (path / "client.yaml").read_text()
    assert "# Who the client is" in text and "# display name" in text and "#   - id: x" in text
    cfg = yaml.safe_load(text)
    assert cfg == {"client": 'Acme: "<b>" & Co', "currency": "EUR", "journey": "saas_5_stage"}
    assert load_client(path).config.client == 'Acme: "<b>" & Co'


def test_init_client_refuses_to_overwrite(project_root: Path):
    path = init_client("twice")
    (path / "accounts.csv").write_text("account_id,first_seen_at\na,2024-01-01\n")
    with pytest.raises(JourneyError, match="already exists") as info:
        init_client("twice")
    assert "Fix:" in str(info.value)
    (path / "client.yaml").unlink()
    init_client("twice")  # keeps the data that is there
    assert "a,2024-01-01" in (path / "accounts.csv").read_text()


def test_init_client_refuses_bad_names(project_root: Path):
    with pytest.raises(JourneyError):
        init_client("bad name!")


def test_init_with_the_real_templates_if_present(tmp_path: Path):
    if not (paths.templates_dir() / "journeys" / "b2b_saas_8_stage.yaml").is_file():
        pytest.skip("templates/journeys/b2b_saas_8_stage.yaml not written yet")
    path = init_client(tmp_path / "real")
    assert load_client(path).template.stage_ids[0] == "awareness"
