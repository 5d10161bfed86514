import pytest

from journeylib.sources.synth import synthesize


@pytest.fixture(scope="session")
def small_client(tmp_path_factory):
    """A small synthetic client (14 months, so 12-month NRR is defined)."""
    path = tmp_path_factory.mktemp("clients") / "acme"
    synthesize(path, accounts=300, months=14, seed=3, start="2024-01", fmt="csv")
    return path
