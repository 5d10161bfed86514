"""The synthetic data generator: structure, rules of data.md, determinism and realism."""

from __future__ import annotations

import re
from pathlib import Path

import polars as pl
import pytest

from journeylib.config import load_client_config, load_template
from journeylib.errors import JourneyError
from journeylib.sources.synth import CHANNELS, RAW_EVENTS, UNMAPPED_EVENTS, synthesize

TABLES = [
    "accounts",
    "events",
    "subscriptions",
    "marketing",
    "search_queries",
    "tickets",
    "surveys",
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
START = "2024-01"
MONTHS = 12


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, int]]:
    out = tmp_path_factory.mktemp("synth") / "acme"
    rows = synthesize(out, accounts=600, months=MONTHS, seed=7, start=START, fmt="parquet")
    return out, rows


@pytest.fixture(scope="module")
def t(client: tuple[Path, dict[str, int]]) -> dict[str, pl.DataFrame]:
    out, _ = client
    return {name: pl.read_parquet(out / f"{name}.parquet") for name in TABLES}


def _month_index(col: str) -> pl.Expr:
    return pl.col(col).dt.year() * 12 + pl.col(col).dt.month() - 1


def _first_paid(subs: pl.DataFrame) -> pl.DataFrame:
    return subs.group_by("account_id").agg(first_k=_month_index("month").min())


# ------------------------------------------------------------------ structure
def test_every_table_and_client_yaml_written(client, t):
    out, rows = client
    assert sorted(rows) == sorted(TABLES)
    for name in TABLES:
        assert t[name].height == rows[name] > 0
        assert t[name].columns == COLUMNS[name]
    cfg = load_client_config(out / "client.yaml")
    assert (cfg.client, cfg.journey, cfg.currency, cfg.gross_margin) == (
        "acme",
        "b2b_saas_8_stage",
        "USD",
        0.8,
    )
    assert cfg.activation.event == "first_report_created" and cfg.activation.within_days == 14
    assert cfg.first_value.event == "first_report_created"
    assert cfg.branded_terms == ["acme"]
    assert [p.id for p in cfg.personas] == ["enterprise_it", "mid_market_ops", "smb_founder"]
    assert {m.event for m in cfg.milestones} == {
        "onboarding_completed",
        "first_report_created",
        "referral_sent",
    }
    assert {g.metric for g in cfg.goals} == {
        "ttfv_days_median",
        "activation_rate",
        "logo_churn_rate",
    }
    assert all(g.deadline.isoformat()[:7] >= "2024-12" for g in cfg.goals)
    assert (cfg.period.start, cfg.period.end) == ("2024-01", "2024-12")


def test_parquet_has_canonical_types(t):
    assert t["events"].schema["timestamp"] == pl.Datetime("us", "UTC")
    assert t["accounts"].schema["signup_at"] == pl.Datetime("us", "UTC")
    assert t["subscriptions"].schema["month"] == pl.Date
    assert t["marketing"].schema["month"] == pl.Date
    assert t["search_queries"].schema["date"] == pl.Date
    assert t["subscriptions"].schema["mrr"] == pl.Float64
    assert t["accounts"].schema["company_size"] == pl.Int64


def test_csv_timestamps_are_iso_utc_and_months_yyyy_mm(tmp_path):
    synthesize(tmp_path / "c", accounts=60, months=3, seed=1, start="2025-01")
    ev = pl.read_csv(tmp_path / "c" / "events.csv", infer_schema=False)
    assert ev["timestamp"].str.contains(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$").all()
    subs = pl.read_csv(tmp_path / "c" / "subscriptions.csv", infer_schema=False)
    assert subs["month"].str.contains(r"^\d{4}-\d\d$").all()
    assert ev["timestamp"].min() >= "2025-01-01" and ev["timestamp"].max() < "2025-04-01"


def test_every_row_follows_the_rules_of_data_md(t):
    acc, ev, subs, mk, sq, tk, sv = (t[n] for n in TABLES)
    assert acc["account_id"].is_unique().all()
    assert acc.filter(pl.col("signup_at") < pl.col("first_seen_at")).height == 0
    assert acc["company_size"].min() >= 1
    assert set(acc["acquisition_channel"].unique()) <= set(CHANNELS)
    # events: an account or an anonymous id, never both missing; no exact duplicates
    assert ev.filter(pl.col("account_id").is_null() & pl.col("anonymous_id").is_null()).height == 0
    assert (
        ev.filter(pl.col("account_id").is_not_null() & pl.col("anonymous_id").is_not_null()).height
        == 0
    )
    assert ev.is_duplicated().sum() == 0
    assert subs.select("account_id", "month").is_duplicated().sum() == 0
    assert subs["mrr"].min() >= 0 and subs["seats"].min() >= 0
    assert mk["spend"].min() >= 0
    assert mk.filter(pl.col("clicks") > pl.col("impressions")).height == 0
    assert mk["clicks"].drop_nulls().len() > 0
    assert sq.filter(pl.col("clicks") > pl.col("impressions")).height == 0
    assert sq["position"].min() >= 1
    assert tk["ticket_id"].is_unique().all()
    assert tk.filter(pl.col("resolved_at") < pl.col("opened_at")).height == 0
    assert tk["satisfaction"].drop_nulls().is_between(1, 5).all()
    assert sv["response_id"].is_unique().all()
    assert sv["score"].drop_nulls().is_between(0, 10).all()


def test_every_account_id_exists_in_accounts(t):
    known = set(t["accounts"]["account_id"])
    for name in ["events", "subscriptions", "tickets", "surveys"]:
        assert set(t[name]["account_id"].drop_nulls()) <= known, name


def test_the_first_event_of_an_account_is_at_first_seen(t):
    acc = t["accounts"].filter(pl.col("first_seen_at") >= pl.datetime(2024, 1, 1, time_zone="UTC"))
    first = t["events"].group_by("account_id").agg(pl.col("timestamp").min())
    j = acc.join(first, on="account_id")
    assert j.height == acc.height
    assert (j["timestamp"] == j["first_seen_at"]).all()


def test_users_belong_to_their_account(t):
    ev = t["events"].filter(pl.col("user_id").is_not_null())
    assert ev["user_id"].str.starts_with(ev["account_id"] + "-u").all()


def test_persona_is_left_to_the_rules_and_the_rules_cover_everyone(client, t):
    out, _ = client
    acc = t["accounts"]
    assert acc["persona"].null_count() == acc.height
    rules = load_client_config(out / "client.yaml").personas
    covered = pl.lit(False)
    for rule in rules:
        r = rule.match["company_size"]
        cond = pl.col("company_size").is_between(r.min or 0, r.max or 10**9)
        covered = covered | cond
    assert acc.select(covered.all()).item()


# ------------------------------------------------------------------ determinism
def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("fmt", ["csv", "parquet", "csv.gz"])
def test_same_seed_gives_identical_bytes(tmp_path, fmt):
    a = synthesize(tmp_path / "a" / "x", accounts=150, months=4, seed=3, fmt=fmt)
    b = synthesize(tmp_path / "b" / "x", accounts=150, months=4, seed=3, fmt=fmt)
    assert a == b
    assert _bytes(tmp_path / "a" / "x") == _bytes(tmp_path / "b" / "x")


def test_a_different_seed_gives_different_data(tmp_path):
    synthesize(tmp_path / "a" / "x", accounts=150, months=4, seed=3)
    synthesize(tmp_path / "b" / "x", accounts=150, months=4, seed=4)
    a, b = _bytes(tmp_path / "a" / "x"), _bytes(tmp_path / "b" / "x")
    assert a["client.yaml"] == b["client.yaml"]
    assert a["events.csv"] != b["events.csv"]
    assert a["accounts.csv"] != b["accounts.csv"]


def test_rewriting_in_another_format_leaves_one_file_per_table(tmp_path):
    synthesize(tmp_path / "x", accounts=50, months=2, fmt="csv")
    synthesize(tmp_path / "x", accounts=50, months=2, fmt="parquet")
    assert sorted(p.name for p in (tmp_path / "x").iterdir()) == sorted(
        [f"{n}.parquet" for n in TABLES] + ["client.yaml"]
    )


@pytest.mark.parametrize(
    "kwargs", [{"accounts": 0}, {"months": 0}, {"fmt": "xlsx"}, {"start": "January"}]
)
def test_bad_arguments_are_user_errors(tmp_path, kwargs):
    with pytest.raises(JourneyError):
        synthesize(tmp_path / "x", **kwargs)


# ------------------------------------------------------------------ realism
def test_anonymous_visitors_have_events_without_account(t):
    anon = t["events"].filter(pl.col("account_id").is_null())
    assert anon["anonymous_id"].n_unique() > 100
    assert anon["user_id"].null_count() == anon.height


def test_the_stage_funnel_narrows(t):
    tpl = load_template("b2b_saas_8_stage")
    stage_of = {ev: stage for ev, (_, stage) in tpl.event_map().items()}
    new = t["accounts"].filter(pl.col("first_seen_at") >= pl.datetime(2024, 1, 1, time_zone="UTC"))
    ev = t["events"].filter(pl.col("account_id").is_in(new["account_id"].implode()))
    ev = ev.with_columns(stage=pl.col("event").replace_strict(stage_of, default=None))
    reached = [set(ev.filter(pl.col("stage") == s)["account_id"]) for s in tpl.stage_ids]
    for earlier, later in zip(reached, reached[1:], strict=False):
        assert later <= earlier
    sizes = [len(r) for r in reached]
    assert sizes[0] == new.height
    assert sizes[0] > sizes[1] > sizes[2] > sizes[3] > sizes[-1] > 0


def test_fewer_sign_up_than_are_known_and_fewer_pay_than_sign_up(t):
    new = t["accounts"].filter(pl.col("first_seen_at") >= pl.datetime(2024, 1, 1, time_zone="UTC"))
    signed = new.filter(pl.col("signup_at").is_not_null())
    paying = _first_paid(t["subscriptions"]).filter(
        pl.col("account_id").is_in(new["account_id"].implode())
    )
    assert new.height > signed.height > paying.height > 0


def test_churn_and_reactivation_happen(t):
    subs = t["subscriptions"].select("account_id", k=_month_index("month"))
    last_k = subs["k"].max()
    nxt = subs.with_columns(k=pl.col("k") + 1).filter(pl.col("k") <= last_k)
    churned = nxt.join(subs, on=["account_id", "k"], how="anti")
    assert churned.height > 0
    # reactivated: a paid month after a gap
    gaps = subs.sort("account_id", "k").with_columns(
        gap=pl.col("k") - pl.col("k").shift(1).over("account_id", order_by="k")
    )
    assert gaps.filter(pl.col("gap") > 1).height > 0


def test_mrr_moves_both_ways(t):
    subs = (
        t["subscriptions"]
        .sort("account_id", "month")
        .with_columns(
            prev=pl.col("mrr").shift(1).over("account_id", order_by="month"),
            prev_k=_month_index("month").shift(1).over("account_id", order_by="month"),
        )
        .filter(pl.col("prev_k") == _month_index("month") - 1)
    )
    assert subs.filter(pl.col("mrr") > pl.col("prev")).height > 0  # expansion
    assert subs.filter(pl.col("mrr") < pl.col("prev")).height > 0  # contraction


def test_how_to_share_of_tickets_falls_with_tenure(t):
    tk = (
        t["tickets"]
        .join(_first_paid(t["subscriptions"]), on="account_id")
        .with_columns(tenure=_month_index("opened_at") - pl.col("first_k"))
    )
    early = tk.filter(pl.col("tenure") <= 1)["category"].eq("how_to").mean()
    late = tk.filter(pl.col("tenure") >= 6)["category"].eq("how_to").mean()
    assert early > late + 0.1
    assert set(tk["category"].unique()) == {
        "how_to",
        "bug",
        "billing",
        "advanced",
        "feature_request",
    }


def test_paid_search_costs_more_per_customer_than_organic(t):
    table_first = _month_index("month").min()
    first = _first_paid(t["subscriptions"]).filter(
        pl.col("first_k") > t["subscriptions"].select(table_first).item()
    )
    new = first.join(t["accounts"], on="account_id").group_by("acquisition_channel").len()
    spend = t["marketing"].group_by("channel").agg(pl.col("spend").sum())
    cac = dict(
        spend.join(new, left_on="channel", right_on="acquisition_channel")
        .select("channel", cac=pl.col("spend") / pl.col("len"))
        .iter_rows()
    )
    assert cac["paid_search"] > 1.3 * cac["organic_search"]


def test_time_to_first_value_depends_on_persona(t):
    first = (
        t["events"]
        .filter(pl.col("event") == "first_report_created")
        .group_by("account_id")
        .agg(fv=pl.col("timestamp").min())
    )
    j = (
        t["accounts"]
        .join(first, on="account_id")
        .with_columns(days=(pl.col("fv") - pl.col("signup_at")).dt.total_seconds() / 86400)
    )
    assert j["days"].min() >= 0
    smb = j.filter(pl.col("company_size") <= 50)["days"].median()
    ent = j.filter(pl.col("company_size") >= 500)["days"].median()
    assert ent > 2 * smb


def test_the_checkout_ab_test_has_both_arms_on_its_steps_only(t):
    ev = t["events"]
    steps = ["checkout_started", "plan_selected", "payment_submitted"]
    arms = ev.filter(pl.col("variant").is_not_null())
    assert set(arms["event"].unique()) == set(steps)
    assert set(arms["variant"].unique()) == {"control", "treatment"}
    assert ev.filter(pl.col("event").is_in(steps) & pl.col("variant").is_null()).height == 0


def test_the_treatment_converts_better_on_a_larger_sample(tmp_path):
    synthesize(tmp_path / "ab", accounts=6000, months=6, seed=11, fmt="parquet")
    ev = pl.read_parquet(tmp_path / "ab" / "events.parquet").filter(pl.col("variant").is_not_null())
    c = ev.group_by("variant", "event").agg(pl.col("account_id").n_unique())
    rate = {
        v: c.filter((pl.col("variant") == v) & (pl.col("event") == "payment_submitted"))[
            "account_id"
        ].item()
        / c.filter((pl.col("variant") == v) & (pl.col("event") == "checkout_started"))[
            "account_id"
        ].item()
        for v in ["control", "treatment"]
    }
    assert rate["treatment"] > rate["control"] + 0.05


def test_marketing_search_and_channels(t):
    mk, sq, ev = t["marketing"], t["search_queries"], t["events"]
    assert mk.select("month").n_unique() == MONTHS
    assert "direct" not in set(mk["channel"])  # direct traffic costs nothing
    branded = sq.filter(pl.col("query").str.to_lowercase().str.contains("acme"))
    assert 0 < branded.height < sq.height
    assert set(ev["channel"].drop_nulls().unique()) <= set(CHANNELS)
    assert ev["campaign"].drop_nulls().len() > 0


def test_surveys_use_template_stages_and_carry_sentiment(t):
    tpl = load_template("b2b_saas_8_stage")
    sv = t["surveys"]
    assert set(sv["stage"].unique()) <= set(tpl.stage_ids)
    assert sv["stage"].n_unique() >= 6
    assert set(sv["touchpoint"].drop_nulls().unique()) <= {tp.id for tp in tpl.touchpoints}
    comments = " ".join(sv["comment"].drop_nulls().to_list()).lower()
    assert re.search(r"\b(love|great|easy)\b", comments)
    assert re.search(r"\b(confusing|slow|frustrating|expensive)\b", comments)
    # promoters and detractors both present
    assert sv.filter(pl.col("score") >= 9).height > 0 and sv.filter(pl.col("score") <= 6).height > 0


def test_raw_events_are_the_published_vocabulary(t):
    seen = set(t["events"]["event"].unique())
    assert seen <= set(RAW_EVENTS)
    assert set(UNMAPPED_EVENTS) <= seen
    assert len(seen) >= len(RAW_EVENTS) - 3  # rare events may be absent in a small sample


@pytest.mark.parametrize("seed", range(5))
def test_tiny_clients_are_written_even_with_empty_tables(tmp_path, seed):
    rows = synthesize(tmp_path / "x", accounts=3, months=1, seed=seed, anonymous_visitors=0)
    assert rows["accounts"] == 3 and rows["events"] >= 1
    for name in TABLES:
        assert pl.read_csv(tmp_path / "x" / f"{name}.csv").columns == COLUMNS[name]
