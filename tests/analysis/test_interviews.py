"""Interview question banks (journeylib.analysis.interviews)."""

from __future__ import annotations

import pytest

from journeylib.analysis import interviews


def test_question_banks_cover_the_topics():
    cust = interviews.question_bank("customers")
    sup = interviews.question_bank("support_team")
    assert set(cust["topic"]) >= {"role", "company", "goals", "challenges", "buying", "usage"}
    assert set(sup["topic"]) >= {"problems", "who", "value", "channels", "requests"}
    assert cust["question"].str.ends_with("?").all() and sup["question"].str.ends_with("?").all()
    both = interviews.question_bank()
    assert both.height == cust.height + sup.height
    assert both["question"].n_unique() == both.height
    with pytest.raises(ValueError, match="unknown audience"):
        interviews.question_bank("sales")
