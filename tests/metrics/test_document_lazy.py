"""metrics.json is the same whether the events are read eagerly or scanned lazily.

The metric path (``journey metrics``, the bench) loads Parquet events lazily and
builds the journey stream without a global sort; the report's numbers must not
move by a byte because of either.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from journeylib.ingest.client import load_client
from journeylib.metrics import metrics_document, metrics_json
from journeylib.sources.synth import synthesize


@pytest.fixture(scope="module")
def clients(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("lazydoc")
    out = {}
    for fmt in ("csv", "parquet"):
        out[fmt] = root / fmt / "acme"
        synthesize(out[fmt], accounts=300, months=8, seed=3, start="2024-01", fmt=fmt)
    # the same events as month partitions: events/month=YYYY-MM/part-0.parquet
    hive = root / "hive" / "acme"
    synthesize(hive, accounts=300, months=8, seed=3, start="2024-01", fmt="parquet")
    events = pl.read_parquet(hive / "events.parquet")
    (hive / "events.parquet").unlink()
    month = pl.col("timestamp").dt.strftime("%Y-%m")
    for (key,), part in events.group_by(month.alias("m"), maintain_order=True):
        d = hive / "events" / f"month={key}"
        d.mkdir(parents=True)
        part.write_parquet(d / "part-0.parquet")
    out["hive"] = hive
    return out


def test_lazy_parquet_document_equals_eager_csv(clients: dict[str, Path]) -> None:
    eager = load_client(clients["csv"])
    lazy = load_client(clients["parquet"], lazy=True)
    assert isinstance(lazy.tables["events"], pl.LazyFrame)
    assert metrics_json(metrics_document(lazy)) == metrics_json(metrics_document(eager))


def test_partitioned_events_document_equals_single_file(clients: dict[str, Path]) -> None:
    """Partitions are read in path order; events of one month stay in file order."""
    flat = metrics_json(metrics_document(load_client(clients["parquet"], lazy=True)))
    hive = load_client(clients["hive"], lazy=True)
    assert hive.sources["events"] == clients["hive"] / "events"
    assert metrics_json(metrics_document(hive)) == flat


def test_streaming_mode_document_equals_in_memory(
    clients: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Big clients keep the stream lazy and run on the streaming engine: same document."""
    from journeylib.metrics import document

    in_memory = metrics_json(metrics_document(load_client(clients["hive"], lazy=True)))
    monkeypatch.setattr(document, "STREAMING_ABOVE_ROWS", 0)
    lazy = load_client(clients["hive"], lazy=True)
    assert document._streaming(lazy)
    assert metrics_json(metrics_document(lazy)) == in_memory


def test_cli_metrics_reads_partitioned_parquet(clients: dict[str, Path]) -> None:
    """`journey metrics` (lazy on polars) prints the eager document for a partitioned client."""
    import subprocess
    import sys

    journey = Path(sys.executable).with_name("journey")
    out = subprocess.run(
        [str(journey), "metrics", str(clients["hive"]), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout == metrics_json(metrics_document(load_client(clients["csv"])))


@pytest.mark.parametrize("streaming", [False, True])
def test_document_reads_shared_results_once(
    clients: dict[str, Path], monkeypatch: pytest.MonkeyPatch, streaming: bool
) -> None:
    """The data's end, each revenue ledger and each check of the account keys: once per document."""
    from journeylib.metrics import _keys, _ledger, _memo, _signups, document

    computed: list[tuple[str, int]] = []

    def counting_once(kind, frame, compute):
        def counted():
            computed.append((kind, id(frame)))
            return compute()

        return _memo.once(kind, frame, counted)

    monkeypatch.setattr(_signups, "once", counting_once)
    monkeypatch.setattr(_ledger, "once", counting_once)
    monkeypatch.setattr(_keys, "once", counting_once)
    if streaming:
        monkeypatch.setattr(document, "STREAMING_ABOVE_ROWS", 0)
    client = load_client(clients["hive"], lazy=True)
    doc = metrics_document(client)
    assert doc["onboarding"]["activation_rate"] is not None and doc["milestones"]
    kinds = [kind for kind, _ in computed]
    assert kinds.count("data_end") == 1
    assert kinds.count("revenue_ledger") >= 1
    # The accounts' keys: checked once for the stage funnel, once for retention and
    # engagement; on a streaming document the stage funnel packs the stage into the
    # key too, and the one check of the account parts serves all three.
    assert kinds.count("account_keys_distinct:account_id") == (0 if streaming else 1)
    assert kinds.count("account_part_keys_distinct:account_id") == 1
    assert len(computed) == len(set(computed))  # no (kind, frame) computed twice
    # outside a document nothing is kept
    computed.clear()
    _signups.data_end(client.tables["events"])
    _signups.data_end(client.tables["events"])
    assert len(computed) == 2
