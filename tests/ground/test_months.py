"""Month arithmetic (journeylib.months): the text, plain-Python, polars and narwhals forms agree."""

from __future__ import annotations

import datetime as dt

import narwhals as nw
import polars as pl
import pytest

from journeylib.months import (
    in_months,
    month_from_index,
    month_index,
    month_index_of,
    month_label_expr,
    month_range,
    months_filter,
    period_index,
)

DATES = [dt.date(1999, 12, 31), dt.date(2000, 1, 1), dt.date(2024, 2, 29), dt.date(2024, 12, 1)]


def test_month_index_of_text_and_date_agree_and_invert():
    for d in DATES:
        idx = month_index(d)
        assert idx == month_index(d.strftime("%Y-%m")) == month_index(d.isoformat())
        assert month_from_index(idx) == d.strftime("%Y-%m")
    assert month_index(dt.datetime(2024, 3, 31, 23, 59, tzinfo=dt.UTC)) == month_index("2024-03")


def test_column_forms_agree_with_month_index():
    df = pl.DataFrame({"d": DATES})
    expected = [month_index(d) for d in DATES]
    narwhals_form = nw.from_native(df).select(month_index_of("d").alias("i"))["i"].to_list()
    assert narwhals_form == expected
    labels = pl.DataFrame({"i": expected}).select(month_label_expr("i"))["i"].to_list()
    assert labels == [d.strftime("%Y-%m") for d in DATES]


def test_period_index_and_range():
    assert period_index(("2024-11", "2025-02-28")) == (
        month_index("2024-11"),
        month_index("2025-02"),
    )
    assert month_range("2024-11", "2025-02") == ["2024-11", "2024-12", "2025-01", "2025-02"]
    with pytest.raises(ValueError, match="after period end"):
        period_index(("2024-03", "2024-01"))


@pytest.mark.parametrize("tz", [None, "UTC"])
def test_months_filter_selects_the_rows_in_months(tz):
    ts = [
        dt.datetime(2024, 1, 31, 23, 59, 59, 999999),
        dt.datetime(2024, 2, 1),
        dt.datetime(2024, 3, 31, 23, 59),
        dt.datetime(2024, 4, 1),
    ]
    lf = nw.from_native(pl.DataFrame({"t": ts}).with_columns(pl.col("t").dt.replace_time_zone(tz)))
    lf = lf.lazy()
    first, last = month_index("2024-02"), month_index("2024-03")
    for lo, hi in [(first, last), (first, None), (None, last), (None, None)]:
        by_bounds = lf.filter(months_filter(lf, "t", lo, hi)).collect().to_native()
        by_index = lf.filter(
            in_months("t", -1 if lo is None else lo, 10**6 if hi is None else hi)
        ).collect()
        assert by_bounds.equals(by_index.to_native())
