"""The client store: same rows and numbers as the raw files, rebuilt when stale, never half-written."""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal

from journeylib.ingest.client import load_client
from journeylib.metrics import metrics_document, metrics_json
from journeylib.paths import find_table_file, parquet_files
from journeylib.sources.synth import synthesize
from journeylib.store import build as store_build
from journeylib.store import ensure_store, read_store, store_root
from journeylib.store.marts import build_marts


@pytest.fixture(scope="module")
def parquet_client(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("store") / "pqco"
    synthesize(path, accounts=200, months=6, seed=11, start="2024-01", fmt="parquet")
    return path


def _csv_client(tmp_path: Path) -> Path:
    path = tmp_path / "csvco"
    synthesize(path, accounts=120, months=4, seed=4, start="2024-01", fmt="csv")
    return path


def _with_bad_rows(path: Path) -> None:
    """Append events that break rules: an unknown account, a bad timestamp, an exact copy."""
    ev = path / "events.csv"
    lines = ev.read_text().splitlines()
    header, first = lines[0], lines[1]
    cols = header.split(",")
    row = dict(zip(cols, first.split(","), strict=True))
    unknown = {**row, "account_id": "NOPE"}
    bad_ts = {**row, "timestamp": "not a time"}
    extra = [",".join(d[c] for c in cols) for d in (unknown, bad_ts)] + [first]
    ev.write_text("\n".join([*lines, *extra]) + "\n")


def test_store_holds_valid_rows_quarantine_and_same_numbers(tmp_path):
    path = _csv_client(tmp_path)
    _with_bad_rows(path)
    raw = load_client(path)
    store = ensure_store(path)
    assert store.built
    c = store.client()
    for table, q in raw.quality.items():
        assert c.quality[table] == q
        assert q["rows_in"] == q["rows_valid"] + q["rows_rejected"]
    assert raw.quality["events"]["rows_rejected"] == 3
    assert_frame_equal(c.rejected["events"], raw.rejected["events"])
    # the valid events: the raw rows, in the raw order by seq, sorted by account and time on disk
    stored = c.tables["events"].collect()
    assert_frame_equal(stored.sort("seq").drop("seq"), raw.tables["events"])
    for part in sorted((store.files.table("events")).glob("month=*/part-0.parquet")):
        frame = pl.read_parquet(part)
        assert frame.equals(frame.sort("account_id", "timestamp", "seq", nulls_last=True))
        month = part.parent.name.removeprefix("month=")
        assert (frame["timestamp"].dt.strftime("%Y-%m") == month).all()
    assert metrics_json(metrics_document(c)) == metrics_json(metrics_document(raw))


def test_parquet_client_same_document_and_sorted_stream(parquet_client):
    raw = load_client(parquet_client, lazy=True)
    store = ensure_store(parquet_client)
    assert metrics_json(metrics_document(store.client())) == metrics_json(metrics_document(raw))
    from journeylib.stream import journey_events

    assert_frame_equal(store.stream().collect(), journey_events(raw))


def test_the_metrics_read_the_stored_stream_while_it_matches_the_tables(parquet_client):
    import dataclasses

    from journeylib.ingest.client import stored_stream
    from journeylib.ingest.restrict import restrict_to_segment
    from journeylib.metrics.period import with_period
    from journeylib.stream import journey_events

    raw = load_client(parquet_client, lazy=True)
    c = ensure_store(parquet_client).client()
    order = ["account_id", "timestamp", "seq"]
    built = journey_events(raw, sort=False).sort(order, nulls_last=True)
    assert stored_stream(c) is not None
    assert journey_events(c, sort=False, lazy=True) is not None
    assert_frame_equal(journey_events(c, sort=False).sort(order, nulls_last=True), built)
    assert stored_stream(with_period(c, "2024-02", "2024-03")) is not None  # settings only
    # another table or template: built from the tables again
    fewer = dataclasses.replace(c, tables={**c.tables, "tickets": c.tables["tickets"].head(3)})
    assert stored_stream(fewer) is None
    assert journey_events(fewer, sort=False).height < built.height
    other = dataclasses.replace(c, template=c.template.model_copy())
    assert stored_stream(other) is None
    # a segment: the stored stream of its accounts, the rows journey_events builds for it
    persona = c.tables["accounts"]["persona"].drop_nulls().sort()[0]
    seg, seg_raw = (restrict_to_segment(x, {"persona": persona}) for x in (c, raw))
    assert stored_stream(seg) is not None
    rows = ["account_id", "timestamp", "event", "source", "stage", "touchpoint"]
    got = journey_events(seg, sort=False).select(rows).sort(rows, nulls_last=True)
    want = journey_events(seg_raw, sort=False).select(rows).sort(rows, nulls_last=True)
    assert got.height > 0
    assert_frame_equal(got, want)
    assert metrics_json(metrics_document(seg)) == metrics_json(metrics_document(seg_raw))


def test_the_document_reads_the_activity_marts_of_the_store(parquet_client, monkeypatch):
    from journeylib.ingest.client import stored_mart
    from journeylib.metrics import activity, retention

    c = ensure_store(parquet_client).client()
    assert stored_mart(c, "account_days") is not None
    months = stored_mart(c, "activity_months").collect()
    assert months.columns == ["account_id", "timestamp"]
    seen = {}
    for module, name in ((activity, "stickiness_rows"), (retention, "activity_retention_matrix")):
        real = getattr(module, name)

        def spy(*args, _real=real, _name=name, **kw):
            seen[_name] = args[0 if _name == "stickiness_rows" else 1]
            return _real(*args, **kw)

        monkeypatch.setattr(module, name, spy)
    doc = metrics_json(metrics_document(c))
    assert "day" in seen["stickiness_rows"].collect_schema().names()
    assert seen["activity_retention_matrix"] is not c.tables["events"]
    assert doc == metrics_json(metrics_document(load_client(parquet_client, lazy=True)))
    # a store that is no longer current (template or files edited since) gives no stored stream
    store = ensure_store(parquet_client)
    monkeypatch.setattr(store_build, "store_key", lambda *_a: "edited since")
    assert stored_mart(store.client(), "account_days") is None


def test_marts_agree_with_a_fresh_build(parquet_client):
    store = ensure_store(parquet_client)
    c = store.client()
    fresh = build_marts(c.tables, store.stream(), c.config, c.template)
    for name, frame in fresh.items():
        assert_frame_equal(store.mart(name).collect(), frame)


def test_a_store_of_many_buckets_holds_the_same_rows_sorted(tmp_path, monkeypatch):
    """Buckets of a few accounts each: the events, the stream and the marts are those of one bucket."""
    from journeylib.stream import journey_events

    path = _csv_client(tmp_path)
    _with_bad_rows(path)
    # survey answers without an account: their derived rows come first in seq,
    # their bucket (one per month, after the accounts') last
    surveys = pl.read_csv(path / "surveys.csv", infer_schema=False)
    ids = surveys.get_column("account_id").scatter([0, surveys.height - 1], None)
    surveys.with_columns(ids).write_csv(path / "surveys.csv")
    raw = load_client(path)
    whole = journey_events(raw)
    assert whole["account_id"].null_count() > 0  # anonymous rows: the last buckets
    answers = whole.filter(pl.col("source") == "surveys")
    assert answers["account_id"].null_count() == 2
    assert answers["timestamp"].filter(answers["account_id"].is_null()).dt.month().n_unique() == 2
    monkeypatch.setattr(store_build, "STREAM_BUCKET_ROWS", 300)
    store = ensure_store(path)
    buckets = sorted(store.files.mart("stream").glob("bucket=*/part-0.parquet"))
    assert len(buckets) >= 8
    assert_frame_equal(store.stream().collect(), whole)
    c = store.client()
    assert_frame_equal(c.tables["events"].collect().sort("seq").drop("seq"), raw.tables["events"])
    months = sorted(store.files.table("events").glob("month=*/part-0.parquet"))
    assert len(months) == raw.tables["events"]["timestamp"].dt.strftime("%Y-%m").n_unique()
    for part in months:
        frame = pl.read_parquet(part)
        assert frame.equals(frame.sort("account_id", "timestamp", "seq", nulls_last=True))
        assert (frame["timestamp"].dt.strftime("%Y-%m") == part.parent.name[6:]).all()
    fresh = build_marts(raw.tables, whole, raw.config, raw.template)
    for name, frame in fresh.items():
        assert_frame_equal(store.mart(name).collect(), frame)
    assert metrics_json(metrics_document(c)) == metrics_json(metrics_document(raw))


def test_a_parquet_client_split_in_many_parts_gives_the_same_store(tmp_path, monkeypatch):
    """The events split part by part (a few row groups each), with quarantined rows in them."""
    from journeylib.stream import journey_events

    path = tmp_path / "parts"
    synthesize(path, accounts=80, months=4, seed=5, start="2024-01", fmt="parquet")
    source = find_table_file(path, "events")
    assert source is not None
    events = pl.read_parquet(parquet_files(source), hive_partitioning=False)
    if source.is_dir():
        shutil.rmtree(source)
    else:
        source.unlink()
    # an unknown account and an exact copy in the middle: quarantined, their seq skipped
    bad = events.slice(10, 2).with_columns(pl.lit("NOPE").alias("account_id"))
    events = pl.concat([events.slice(0, 500), bad, events.slice(0, 1), events.slice(500)])
    (path / "events").mkdir()
    half = events.height // 2
    events.slice(0, half).write_parquet(path / "events" / "a.parquet", row_group_size=97)
    events.slice(half).write_parquet(path / "events" / "b.parquet", row_group_size=97)
    raw = load_client(path)
    assert raw.quality["events"]["rows_rejected"] == 3
    lazy = load_client(path, lazy=True)
    assert len(lazy.event_parts(100) or []) > 4
    monkeypatch.setattr(store_build, "SPLIT_PART_ROWS", 100)
    monkeypatch.setattr(store_build, "STREAM_BUCKET_ROWS", 400)
    store = ensure_store(path)
    c = store.client()
    assert_frame_equal(c.tables["events"].collect().sort("seq").drop("seq"), raw.tables["events"])
    assert_frame_equal(store.stream().collect(), journey_events(raw))
    assert c.quality == raw.quality
    assert metrics_json(metrics_document(c)) == metrics_json(metrics_document(raw))


def test_current_store_is_reused_and_rebuild_builds(parquet_client):
    first = ensure_store(parquet_client)
    again = ensure_store(parquet_client)
    assert not again.built and again.key == first.key
    rebuilt = ensure_store(parquet_client, rebuild=True)
    assert rebuilt.built and rebuilt.key == first.key


def test_stale_store_is_rebuilt_after_a_raw_change_template_edit_or_code_bump(
    tmp_path, monkeypatch
):
    path = _csv_client(tmp_path)
    base = ensure_store(path)
    # a raw file changed in place, same size
    acc = path / "accounts.csv"
    text = acc.read_text()
    header, rest = text.split("\n", 1)
    acc.write_text(header + "\n" + rest.replace("a", "b", 1))  # one byte changed
    changed = ensure_store(path)
    assert changed.built and changed.key != base.key
    # the journey template edited
    cfg = (path / "client.yaml").read_text()
    tpl_name = next(
        line.split(":", 1)[1].strip() for line in cfg.splitlines() if line.startswith("journey:")
    )
    assert tpl_name  # a shipped template: copy it next to the client and edit a label
    from journeylib.config import load_template

    tpl = load_template(tpl_name, client_dir=path)
    data = tpl.model_dump(mode="json", exclude_none=True)
    data["stages"][0]["label"] = "Edited"
    (path / "journey.json").write_text(json.dumps(data))
    import yaml

    doc = yaml.safe_load(cfg)
    doc["journey"] = "./journey.json"
    (path / "client.yaml").write_text(yaml.safe_dump(doc))
    edited = ensure_store(path)
    assert edited.built and edited.key != changed.key
    # settings that do not shape the store need none
    doc["currency"] = "EUR"
    (path / "client.yaml").write_text(yaml.safe_dump(doc))
    assert not ensure_store(path).built
    # a new code version
    monkeypatch.setattr("journeylib.store.key.STORE_FORMAT", 999)
    assert ensure_store(path).built


def test_interrupted_ingest_leaves_the_previous_store(tmp_path, monkeypatch):
    path = _csv_client(tmp_path)
    before = ensure_store(path)
    listing = sorted(p.relative_to(before.root) for p in before.root.rglob("*"))

    def stop(*_args, **_kw):
        raise KeyboardInterrupt

    monkeypatch.setattr(store_build, "build_marts", stop)  # half-way: tables already written
    with pytest.raises(KeyboardInterrupt):
        ensure_store(path, rebuild=True)
    assert sorted(p.relative_to(before.root) for p in before.root.rglob("*")) == listing
    assert not list(before.root.glob(".tmp-*"))
    after = read_store(path)
    assert after is not None and after.key == before.key
    assert metrics_json(metrics_document(after.client())) == metrics_json(
        metrics_document(before.client())
    )


def test_a_rebuild_leaves_the_version_a_reader_opened(tmp_path):
    # Two runs of one client at once: the second's ``journey ingest`` (same key)
    # must not remove the files the first is reading.
    path = _csv_client(tmp_path)
    first = ensure_store(path)
    second = ensure_store(path, rebuild=True)
    assert second.key == first.key and second.files.folder != first.files.folder
    assert first.files.folder.exists()
    assert metrics_json(metrics_document(first.client())) == metrics_json(
        metrics_document(second.client())
    )
    third = ensure_store(path, rebuild=True)
    assert not first.files.folder.exists()  # the current and the previous version are kept
    assert second.files.folder.exists() and third.files.folder.exists()


def test_two_builds_at_once_leave_one_good_store(tmp_path):
    path = _csv_client(tmp_path)
    script = textwrap.dedent(
        f"""
        from journeylib.store import ensure_store
        from journeylib.metrics import metrics_document, metrics_json
        s = ensure_store({str(path)!r}, rebuild=True)
        print(len(metrics_json(metrics_document(s.client()))))
        """
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outs = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], outs
    assert outs[0][0] == outs[1][0]
    store = read_store(path)
    assert store is not None
    raw = load_client(path)
    assert metrics_json(metrics_document(store.client())) == metrics_json(metrics_document(raw))
    assert not list(store.root.glob(".tmp-*"))
    assert len(list(store.root.glob("v-*"))) <= 2


def test_a_client_folder_that_cannot_be_written_still_ingests(tmp_path):
    path = _csv_client(tmp_path)
    before = {p: p.stat().st_mtime_ns for p in path.rglob("*")}
    for p in [path, *path.rglob("*")]:
        p.chmod(0o555 if p.is_dir() else 0o444)
    try:
        store = ensure_store(path)
        assert store.built
        assert store_root(path).resolve() not in [path.resolve(), *path.resolve().parents]
        assert not str(store.root.resolve()).startswith(str(path.resolve()))
    finally:
        for p in [path, *path.rglob("*")]:
            p.chmod(0o755 if p.is_dir() else 0o644)
    assert {p: p.stat().st_mtime_ns for p in path.rglob("*")} == before


def test_store_root_is_outside_the_client_folder_and_per_path(tmp_path):
    a = tmp_path / "one" / "acme"
    b = tmp_path / "two" / "acme"
    assert store_root(a) != store_root(b)
    assert os.environ["JOURNEY_STORE_DIR"] in str(store_root(a))


def test_empty_events_table_gives_an_empty_store_table(tmp_path):
    path = _csv_client(tmp_path)
    ev = path / "events.csv"
    ev.write_text(ev.read_text().splitlines()[0] + "\n")
    store = ensure_store(path)
    c = store.client()
    assert c.tables["events"].collect().height == 0
    assert "seq" in c.tables["events"].collect_schema().names()
    assert metrics_json(metrics_document(c)) == metrics_json(metrics_document(load_client(path)))


def test_cleanup_of_unused_store(tmp_path):
    path = _csv_client(tmp_path)
    s = ensure_store(path)
    shutil.rmtree(s.root)
    assert read_store(path) is None
    assert ensure_store(path).built


def test_the_parts_of_a_store_of_many_buckets_give_the_answers_of_the_whole(tmp_path, monkeypatch):
    """Paths, drivers, health and lifecycle read part by part equal the same read whole."""
    from journeylib.analysis.correlation import funnel_correlation
    from journeylib.analysis.paths import paths
    from journeylib.metrics.activity import lifecycle
    from journeylib.metrics.health import health_scores

    path = _csv_client(tmp_path)
    monkeypatch.setattr(store_build, "STREAM_BUCKET_ROWS", 300)
    store = ensure_store(path)
    c = store.client()
    parts = store.stream_parts()
    assert len(parts) >= 8
    whole = store.stream().collect()
    assert_frame_equal(pl.concat([p.collect() for p in parts]), whole)
    # every account's rows are in one part
    owners = (
        pl.concat(
            [
                p.select("account_id").unique().with_columns(pl.lit(i).alias("part"))
                for i, p in enumerate(parts)
            ]
        )
        .collect()
        .drop_nulls("account_id")
    )
    assert owners["account_id"].is_unique().all()
    period = ("2024-01", "2024-04")
    for anchor in ({"start": "signed_up"}, {}, {"end": "subscription_started"}, {"end": "login"}):
        got = paths(parts, period=period, steps=4, presorted=True, **anchor)
        want = paths(whole, period=period, steps=4, **anchor)  # the general path, no presort
        assert got.accounts == want.accounts > 0, anchor
        assert_frame_equal(got.nodes, want.nodes)
        assert_frame_equal(got.edges, want.edges)
    steps = ["signed_up", "subscription_started"]
    got = funnel_correlation(parts, c.tables["accounts"], steps=steps, window="30d", period=period)
    want = funnel_correlation(whole, c.tables["accounts"], steps=steps, window="30d", period=period)
    assert got.success_total == want.success_total > 0
    assert_frame_equal(got.events, want.events)
    assert got.events.height > 0
    args = (c.tables["subscriptions"], c.tables["tickets"], c.tables["surveys"])
    months = ["2024-03", "2024-04"]
    got = health_scores(parts, *args, months=months)
    assert got.height > 0
    assert_frame_equal(got, health_scores(whole, *args, months=months))
    # one part (a small store's stream is one bucket), and a month named twice
    assert_frame_equal(health_scores([store.stream()], *args, months=months), got)
    assert_frame_equal(health_scores(whole, *args, months=[*months, months[0]]), got)
    one = paths([store.stream()], period=period, steps=4, presorted=True, start="signed_up")
    assert_frame_equal(one.edges, paths(whole, period=period, steps=4, start="signed_up").edges)
    drivers = funnel_correlation(
        [store.stream()], c.tables["accounts"], steps=steps, window="30d", period=period
    )
    assert_frame_equal(drivers.events, want.events)
    days = store.mart_parts("account_days", rows=100)
    assert len(days) >= 3
    assert_frame_equal(pl.concat([d.collect() for d in days]), store.mart("account_days").collect())
    for interval in ("day", "week", "month"):
        assert_frame_equal(
            lifecycle(days, period=period, interval=interval),
            lifecycle(c.tables["events"], period=period, interval=interval),
        )


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(
        st.tuples(
            st.one_of(st.none(), st.sampled_from(["a", "b", "ab", "B", "z9"])),
            st.one_of(st.none(), st.integers(0, 5), st.sampled_from([-(2**40), 2**45])),
        ),
        max_size=40,
    ),
    order=st.randoms(use_true_random=False),
    anonymous=st.booleans(),
)
@example(rows=[("b", 0), ("a", 5), ("a", 5), ("b", 1)], order=random.Random(1), anonymous=False)
@example(
    rows=[("a", -(2**40)), ("b", 2**45), ("a", 2**45)], order=random.Random(2), anonymous=False
)
def test_a_bucket_is_put_in_journey_order_as_by_the_three_columns(rows, order, anonymous):
    """The packed-key sort of a bucket equals sorting on account, time and seq, nulls last.

    Accounts with and without rows, ties in time (kept in seq order), null times
    and mixed buckets (both sorted on the three columns), times 2^45 µs apart,
    rows given out of seq order. The 63-bit limit: the test after the next.
    """
    if anonymous:  # a bucket of rows without an account
        rows = [(None, t) for _, t in rows]
    seq = list(range(len(rows)))
    order.shuffle(seq)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    frame = pl.DataFrame(
        {
            "account_id": [a for a, _ in rows],
            "timestamp": [
                None if t is None else start + dt.timedelta(microseconds=t) for _, t in rows
            ],
            "seq": seq,
        },
        schema={"account_id": pl.String, "timestamp": pl.Datetime("us", "UTC"), "seq": pl.Int64},
    )
    expected = frame.sort("account_id", "timestamp", "seq", nulls_last=True)
    assert_frame_equal(store_build._in_journey_order(frame), expected)


def test_a_month_written_in_several_files_is_read_in_order(tmp_path):
    """When polars must close a month's file (more months than open files), its parts read in order.

    Run in a child process with polars allowed 3 open files for 6 months: every
    month gets files ``part-0``, ``part-000001`` … beyond ``part-000009``, and
    the events table as the store reads it holds every row, each month sorted.
    """
    script = textwrap.dedent(
        """
        import datetime as dt, random, sys
        from pathlib import Path
        import polars as pl
        from journeylib.paths import parquet_files
        from journeylib.store import build

        root = Path(sys.argv[1])
        stream, events = root / "stream", root / "events"
        events.mkdir(parents=True)
        rng, seq, start = random.Random(1), 0, dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
        for k in range(24):
            n = 5000
            frame = pl.DataFrame({
                "seq": pl.int_range(seq, seq + n, eager=True),
                "account_id": [f"a{k:02d}_{rng.randrange(30):02d}" for _ in range(n)],
                "timestamp": [start + dt.timedelta(minutes=rng.randrange(6 * 30 * 24 * 60))
                              for _ in range(n)],
                "source": ["events"] * n,
            }).with_columns(pl.col("timestamp").cast(pl.Datetime("us", "UTC")))
            seq += n
            (stream / f"bucket={k:06d}").mkdir(parents=True)
            frame.sort("account_id", "timestamp", "seq").write_parquet(
                stream / f"bucket={k:06d}" / "part-0.parquet")
        build.MONTH_ROW_GROUP = 500
        build._write_months(stream, events, pl.Schema(
            {"seq": pl.Int64, "account_id": pl.String, "timestamp": pl.Datetime("us", "UTC")}), seq)
        months = sorted(events.iterdir())
        files = [len(list(m.iterdir())) for m in months]
        read = pl.read_parquet(parquet_files(events), hive_partitioning=False)
        label = pl.col("timestamp").dt.strftime("%Y-%m")
        in_order = read.with_columns(label.alias("m")).group_by("m", maintain_order=True).agg(
            pl.struct("account_id", "timestamp", "seq").is_sorted().alias("ok"))
        print(len(months), min(files), read.height, seq, in_order["ok"].all(),
              read.select(label.is_sorted()).item())
        """
    )
    env = {**os.environ, "POLARS_MAX_OPEN_SINKS": "3"}
    done = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    )
    months, fewest_files, rows, expected, sorted_months, months_in_order = done.stdout.split()
    assert int(months) >= 6
    assert int(fewest_files) > 10  # part-000010 sorts after part-000009, not after part-0000001
    assert rows == expected
    assert sorted_months == "True"
    assert months_in_order == "True"


@pytest.mark.parametrize("accounts", [2, 40])
def test_journey_order_of_times_far_apart_packed_or_not(accounts):
    """Times 2^61 µs apart: with 2 accounts the key just fits in 63 bits; with 40 the sort falls back."""
    ids = [f"acc{i:02d}" for i in range(accounts)] * 2
    micros = [2**60] * accounts + [-(2**60)] * accounts
    frame = pl.DataFrame(
        {
            "account_id": ids[::-1],
            "timestamp": pl.Series(micros).cast(pl.Datetime("us", "UTC")),
            "seq": range(2 * accounts),
        }
    )
    expected = frame.sort("account_id", "timestamp", "seq", nulls_last=True)
    assert_frame_equal(store_build._in_journey_order(frame), expected)
