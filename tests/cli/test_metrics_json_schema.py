"""`journey metrics --json` against the metrics.json contract, checked by a JSON schema."""

import json
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

NUM = {"type": ["number", "null"]}
INT = {"type": ["integer", "null"]}
RATE = {"anyOf": [{"type": "null"}, {"type": "number", "minimum": 0, "maximum": 1}]}
MONTH = {"type": "string", "pattern": r"^\d{4}-\d{2}$"}


def obj(props: dict, *, nullable: bool = False) -> dict:
    o = {"type": "object", "required": list(props), "properties": props}
    return {"anyOf": [{"type": "null"}, o]} if nullable else o


def arr(item: dict, *, nullable: bool = False) -> dict:
    a = {"type": "array", "items": item}
    return {"anyOf": [{"type": "null"}, a]} if nullable else a


REVENUE_MONTH = obj(
    {
        "month": MONTH,
        "mrr": NUM,
        "customers": INT,
        "new_mrr": NUM,
        "expansion_mrr": NUM,
        "reactivation_mrr": NUM,
        "contraction_mrr": NUM,
        "churned_mrr": NUM,
        "net_new_mrr": NUM,
        "new_customers": INT,
        "reactivated_customers": INT,
        "churned_customers": INT,
        "logo_churn_rate": RATE,
        "churn_rate_simple": NUM,
        "gross_mrr_churn_rate": RATE,
        "nrr_1m": NUM,
        "grr_1m": RATE,
        "arpa": NUM,
        "quick_ratio": NUM,
    }
)

SCHEMA = obj(
    {
        "schema_version": {"const": 1},
        "client": {"type": "string"},
        "currency": {"type": "string"},
        "period": obj({"start": MONTH, "end": MONTH}),
        "revenue": obj(
            {"months": arr(REVENUE_MONTH), "nrr_12m": NUM, "grr_12m": RATE, "ltv": NUM},
            nullable=True,
        ),
        "acquisition": obj(
            {
                "cac": NUM,
                "cac_payback_months": NUM,
                "branded_search_share": RATE,
                "months": arr(
                    obj({"month": MONTH, "spend": NUM, "new_customers": INT, "cac": NUM}),
                    nullable=True,
                ),
                "by_channel": arr(
                    obj(
                        {
                            "channel": {"type": "string"},
                            "spend": NUM,
                            "new_customers": INT,
                            "cac": NUM,
                            "impressions": INT,
                            "clicks": INT,
                            "ctr": RATE,
                        }
                    ),
                    nullable=True,
                ),
                "attribution": arr(
                    obj(
                        {
                            "channel": {"type": "string"},
                            "first_touch": NUM,
                            "last_touch": NUM,
                            "linear": NUM,
                            "position_based": NUM,
                        }
                    ),
                    nullable=True,
                ),
            },
            nullable=True,
        ),
        "onboarding": obj(
            {
                "activation_rate": RATE,
                "cohorts": arr(
                    obj(
                        {
                            "cohort": MONTH,
                            "size": INT,
                            "activation_rate": RATE,
                            "complete": {"type": "boolean"},
                        }
                    ),
                    nullable=True,
                ),
                "ttfv_days": obj(
                    {"median": NUM, "p75": NUM, "p90": NUM, "reached_share": RATE}, nullable=True
                ),
            },
            nullable=True,
        ),
        "retention": obj(
            {"activity": arr(obj({"cohort": MONTH, "size": INT, "rates": arr(RATE)}))},
            nullable=True,
        ),
        "stages": arr(
            obj(
                {
                    "id": {"type": "string"},
                    "label": {"type": "string"},
                    "reached": INT,
                    "conversion_from_previous": RATE,
                    "median_days_from_previous": NUM,
                }
            )
        ),
        "visitors": INT,
        "nps": obj(
            {
                "overall": obj(
                    {
                        "score": NUM,
                        "responses": INT,
                        "promoters": INT,
                        "passives": INT,
                        "detractors": INT,
                    }
                ),
                "by_stage": arr(obj({"stage": {"type": "string"}, "score": NUM, "responses": INT})),
            },
            nullable=True,
        ),
        "support": obj(
            {"resolution_hours_median": NUM, "resolution_hours_p90": NUM}, nullable=True
        ),
        "milestones": arr(
            obj({"id": {"type": "string"}, "reached_share": RATE, "median_days": NUM}),
            nullable=True,
        ),
        "stickiness": arr(
            obj(
                {
                    "month": MONTH,
                    "active_accounts": {"type": "integer", "minimum": 0},
                    "dau_mau": RATE,
                    "days": {
                        "type": "array",
                        "items": {"type": "integer", "minimum": 0},
                        "minItems": 31,
                        "maxItems": 31,
                    },
                }
            )
        ),
        "goals": arr(
            obj(
                {
                    "id": {"type": "string"},
                    "metric": {"type": "string"},
                    "baseline": NUM,
                    "current": NUM,
                    "target": NUM,
                    "deadline": {"type": "string"},
                    "progress": NUM,
                    "status": {"enum": ["on_track", "at_risk", "off_track", "achieved", None]},
                }
            )
        ),
        "data_quality": obj(
            {
                "tables": {
                    "type": "object",
                    "additionalProperties": obj(
                        {
                            "rows_in": INT,
                            "rows_valid": INT,
                            "rows_rejected": INT,
                            "reasons": {
                                "type": "object",
                                "additionalProperties": {"type": "integer"},
                            },
                        }
                    ),
                }
            }
        ),
    }
)


def _metrics_json(path: Path) -> dict:
    exe = Path(sys.executable).with_name("journey")
    proc = subprocess.run(
        [str(exe), "metrics", str(path), "--json"], capture_output=True, text=True, timeout=300
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture(scope="module")
def doc(small_client):
    return _metrics_json(small_client)


def test_document_matches_the_contract(doc):
    jsonschema.validate(doc, SCHEMA)


def test_lists_are_sorted(doc):
    months = [m["month"] for m in doc["revenue"]["months"]]
    assert months == sorted(months)
    assert [c["cohort"] for c in doc["onboarding"]["cohorts"]] == sorted(
        c["cohort"] for c in doc["onboarding"]["cohorts"]
    )
    channels = [c["channel"] for c in doc["acquisition"]["by_channel"]]
    assert channels == sorted(channels)
    assert [c["channel"] for c in doc["acquisition"]["attribution"]] == sorted(
        c["channel"] for c in doc["acquisition"]["attribution"]
    )


def test_stickiness_lists_every_month_of_the_period(doc):
    months = [m["month"] for m in doc["stickiness"]]
    assert months[0] == doc["period"]["start"] and months[-1] == doc["period"]["end"]
    assert months == sorted(set(months))
    for m in doc["stickiness"]:
        assert sum(m["days"]) == m["active_accounts"]
        assert (m["dau_mau"] is None) == (m["active_accounts"] == 0)


def test_rows_in_equal_valid_plus_rejected(doc):
    for table, q in doc["data_quality"]["tables"].items():
        assert q["rows_in"] == q["rows_valid"] + q["rows_rejected"], table


def test_net_new_mrr_reconciles(doc):
    months = doc["revenue"]["months"]
    for prev, cur in zip(months, months[1:], strict=False):
        assert cur["net_new_mrr"] == pytest.approx(cur["mrr"] - prev["mrr"], abs=1e-6)


def test_absent_optional_tables_give_null_sections(small_client, tmp_path):
    lean = tmp_path / "lean"
    lean.mkdir()
    for name in ("client.yaml", "accounts.csv", "events.csv"):
        (lean / name).write_bytes((small_client / name).read_bytes())
    doc = _metrics_json(lean)
    jsonschema.validate(doc, SCHEMA)
    assert doc["revenue"] is None and doc["nps"] is None and doc["support"] is None
    assert doc["acquisition"]["cac"] is None
    assert set(doc["data_quality"]["tables"]) == {"accounts", "events"}
