"""Persona assignment: first matching rule wins, explicit personas win, the rest 'unassigned'."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.config import PersonaRule
from journeylib.ingest.personas import UNASSIGNED, assign_personas


def _accounts(**cols) -> pl.DataFrame:
    n = len(next(iter(cols.values())))
    base = {"account_id": [f"a{i}" for i in range(n)], "persona": [None] * n}
    base.update(cols)
    return pl.DataFrame(base, schema_overrides={"persona": pl.String})


def _rule(id_: str, **match) -> PersonaRule:
    return PersonaRule(id=id_, match=match)


def test_list_match_is_case_insensitive_text():
    acc = _accounts(role=["CTO", "cto ", "ceo", None])
    got = assign_personas(acc, [_rule("tech", role=["Cto", "it_director"])])
    assert got["persona"].to_list() == ["tech", "tech", UNASSIGNED, UNASSIGNED]


def test_scalar_match_is_equality():
    acc = _accounts(country=["DE", "de", "FR"], company_size=[10, 500, 500])
    got = assign_personas(
        acc, [_rule("german", country="DE"), _rule("five_hundred", company_size=500)]
    )
    assert got["persona"].to_list() == ["german", "german", "five_hundred"]


def test_numeric_list_matches_int_column():
    acc = _accounts(company_size=[1, 2, 3])
    assert assign_personas(acc, [_rule("x", company_size=[2, 3.0])])["persona"].to_list() == [
        UNASSIGNED,
        "x",
        "x",
    ]


def test_range_is_inclusive_and_nulls_never_match():
    acc = _accounts(company_size=[49, 50, 500, 501, None])
    got = assign_personas(acc, [_rule("mid", company_size={"min": 50, "max": 500})])
    assert got["persona"].to_list() == [UNASSIGNED, "mid", "mid", UNASSIGNED, UNASSIGNED]


def test_open_ranges():
    acc = _accounts(company_size=[5, 5000])
    rules = [_rule("small", company_size={"max": 10}), _rule("big", company_size={"min": 1000})]
    assert assign_personas(acc, rules)["persona"].to_list() == ["small", "big"]


def test_all_conditions_of_a_rule_must_hold():
    acc = _accounts(company_size=[900, 900, 10], role=["cto", "ceo", "cto"])
    got = assign_personas(acc, [_rule("ent_it", company_size={"min": 500}, role=["cto"])])
    assert got["persona"].to_list() == ["ent_it", UNASSIGNED, UNASSIGNED]


def test_first_matching_rule_wins():
    acc = _accounts(company_size=[900])
    rules = [_rule("first", company_size={"min": 100}), _rule("second", company_size={"min": 500})]
    assert assign_personas(acc, rules)["persona"].to_list() == ["first"]


def test_explicit_persona_in_the_data_wins():
    acc = _accounts(company_size=[900, 900, 900]).with_columns(
        persona=pl.Series(["founder", None, "  "])
    )
    got = assign_personas(acc, [_rule("big", company_size={"min": 1})])
    assert got["persona"].to_list() == ["founder", "big", "big"]


def test_rule_without_conditions_is_a_catch_all():
    acc = _accounts(company_size=[1, 2000])
    rules = [_rule("big", company_size={"min": 1000}), _rule("everyone_else")]
    assert assign_personas(acc, rules)["persona"].to_list() == ["everyone_else", "big"]


def test_no_rules_means_unassigned_and_missing_column_is_added():
    acc = pl.DataFrame({"account_id": ["a", "b"]})
    got = assign_personas(acc, [])
    assert got["persona"].to_list() == [UNASSIGNED, UNASSIGNED]
    assert "persona" not in acc.columns  # the input is not changed


def test_rule_on_a_column_the_frame_lacks_never_matches():
    acc = pl.DataFrame(
        {"account_id": ["a"], "persona": [None]}, schema_overrides={"persona": pl.String}
    )
    assert assign_personas(acc, [_rule("x", industry=["retail"])])["persona"].to_list() == [
        UNASSIGNED
    ]


def test_input_frame_is_not_mutated():
    acc = _accounts(company_size=[900])
    assign_personas(acc, [_rule("big", company_size={"min": 1})])
    assert acc["persona"].to_list() == [None]


@pytest.mark.parametrize("n", [0, 1, 100_000])
def test_vectorised_over_many_rows(n):
    acc = (
        _accounts(company_size=list(range(n)) or [], role=["cto"] * n)
        if n
        else pl.DataFrame(
            {"account_id": [], "company_size": [], "role": [], "persona": []},
            schema={
                "account_id": pl.String,
                "company_size": pl.Int64,
                "role": pl.String,
                "persona": pl.String,
            },
        )
    )
    got = assign_personas(acc, [_rule("big", company_size={"min": 50_000}), _rule("rest")])
    assert got.height == n
    assert got["persona"].null_count() == 0
    assert (got["persona"] == "big").sum() == max(0, n - 50_000)


@settings(max_examples=50, deadline=None)
@given(
    sizes=st.lists(st.one_of(st.none(), st.integers(-5, 2000)), max_size=20),
    lo=st.integers(0, 1000),
)
def test_every_account_gets_exactly_one_persona(sizes, lo):
    acc = pl.DataFrame(
        {"company_size": sizes, "persona": [None] * len(sizes)},
        schema={"company_size": pl.Int64, "persona": pl.String},
    )
    got = assign_personas(acc, [_rule("big", company_size={"min": lo})])
    expected = ["big" if s is not None and s >= lo else UNASSIGNED for s in sizes]
    assert got["persona"].to_list() == expected
