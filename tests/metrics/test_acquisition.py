"""Acquisition metrics (metrics.md § Acquisition): hand-computed cases on every engine.

CAC scenario (subscriptions, ``-`` = no row):

    account   2024-01  2024-02  2024-03   acquisition_channel
    a         100      100      100       ads      opening balance (table's first month)
    b         -        50       50        ads      new Feb
    c         -        100      -         null     new Feb  → channel "(none)"
    d         10       -        10        email    reactivation Mar: not a new customer
    e         -        -        200       referral new Mar

New customers Jan..Mar: b, c, e = 3.
"""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from journeylib.metrics.acquisition import (
    attribution,
    branded_search_by_month,
    branded_search_share,
    cac,
    cac_by_channel,
    cac_by_month,
    cac_payback_months,
    ctr,
)

UTC = dt.UTC


def subs(rows: list[tuple[str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "account_id": [r[0] for r in rows],
            "month": [dt.date(int(r[1][:4]), int(r[1][5:7]), 1) for r in rows],
            "mrr": [float(r[2]) for r in rows],
        },
        schema={"account_id": pl.String, "month": pl.Date, "mrr": pl.Float64},
    )


def accounts(channels: dict[str, str | None]) -> pl.DataFrame:
    return pl.DataFrame(
        {"account_id": list(channels), "acquisition_channel": list(channels.values())},
        schema={"account_id": pl.String, "acquisition_channel": pl.String},
    )


def marketing(rows: list[tuple]) -> pl.DataFrame:
    """(YYYY-MM, channel, campaign, spend, impressions, clicks) rows."""
    return pl.DataFrame(
        [(dt.date(int(r[0][:4]), int(r[0][5:7]), 1), *r[1:]) for r in rows],
        schema={
            "month": pl.Date,
            "channel": pl.String,
            "campaign": pl.String,
            "spend": pl.Float64,
            "impressions": pl.Int64,
            "clicks": pl.Int64,
        },
        orient="row",
    )


SUBS = subs(
    [
        ("a", "2024-01", 100), ("a", "2024-02", 100), ("a", "2024-03", 100),
        ("b", "2024-02", 50), ("b", "2024-03", 50),
        ("c", "2024-02", 100),
        ("d", "2024-01", 10), ("d", "2024-03", 10),
        ("e", "2024-03", 200),
    ]
)  # fmt: skip
ACCOUNTS = accounts({"a": "ads", "b": "ads", "c": None, "d": "email", "e": "referral"})
MKT = marketing(
    [
        ("2024-01", "ads", "brand", 100.0, 1000, 10),
        ("2024-02", "ads", "brand", 300.0, 2000, 30),
        ("2024-02", "email", None, 100.0, None, None),
        ("2024-03", "ads", "spring", 200.0, 500, None),
        ("2024-04", "ads", "spring", 999.0, 1, 1),  # after the period
    ]
)
PERIOD = ("2024-01", "2024-03")


# ---------------------------------------------------------------- CAC
def test_cac_of_the_period(constructor):
    # Spend Jan..Mar = 100 + 300 + 100 + 200 = 700; new customers b, c, e.
    assert cac(constructor(MKT), constructor(SUBS), period=PERIOD) == pytest.approx(700 / 3)


def test_cac_null_with_zero_new_customers(constructor):
    # Jan is the opening balance: no movements, so no new customers.
    assert cac(constructor(MKT), constructor(SUBS), period=("2024-01", "2024-01")) is None
    assert cac(constructor(MKT), constructor(subs([])), period=PERIOD) is None


def test_cac_by_month(constructor):
    got = cac_by_month(constructor(MKT), constructor(SUBS), period=PERIOD)
    assert got.columns == ["month", "spend", "new_customers", "cac"]
    assert got.rows() == [
        ("2024-01", 100.0, None, None),  # opening balance: new customers undefined
        ("2024-02", 400.0, 2, 200.0),
        ("2024-03", 200.0, 1, 200.0),  # d's reactivation does not count
    ]


def test_cac_by_month_without_spend_or_new_customers(constructor):
    got = cac_by_month(constructor(MKT), constructor(SUBS), period=("2024-04", "2024-05"))
    assert got.rows() == [("2024-04", 999.0, 0, None), ("2024-05", 0.0, 0, None)]


def test_cac_by_channel(constructor):
    got = cac_by_channel(constructor(MKT), constructor(SUBS), constructor(ACCOUNTS), period=PERIOD)
    assert got.columns == [
        "channel", "spend", "new_customers", "cac", "impressions", "clicks", "ctr"
    ]  # fmt: skip
    rows = {r[0]: r for r in got.rows()}
    assert list(rows) == ["(none)", "ads", "email", "referral"]
    # ads: spend 600, new b; impressions 1000+2000+500; clicks 10+30; CTR over rows with both.
    assert rows["ads"][:6] == ("ads", 600.0, 1, 600.0, 3500, 40)
    assert rows["ads"][6] == pytest.approx(40 / 3000)
    # email: marketing rows but no new customer (d reactivated) and no reach figures.
    assert rows["email"] == ("email", 100.0, 0, None, None, None, None)
    # Channels with new customers but no marketing rows: spend 0, reach null.
    assert rows["referral"] == ("referral", 0.0, 1, 0.0, None, None, None)
    assert rows["(none)"] == ("(none)", 0.0, 1, 0.0, None, None, None)


def test_cac_payback_hand_computed(constructor):
    # CAC 700/3; mean first-month MRR of b, c, e = (50 + 100 + 200) / 3; margin 0.5.
    got = cac_payback_months(constructor(MKT), constructor(SUBS), period=PERIOD, gross_margin=0.5)
    assert got == pytest.approx((700 / 3) / (350 / 3 * 0.5))  # 4.0


def test_cac_payback_vendor_example(constructor):
    # CAC $1,200, first-month MRR $100, 80 % gross margin → 1200 / 80 = 15 months.
    mkt = marketing([("2024-02", "ads", None, 1200.0, None, None)])
    data = subs([("old", "2024-01", 100), ("new", "2024-02", 100)])
    got = cac_payback_months(
        constructor(mkt), constructor(data), period=("2024-02", "2024-02"), gross_margin=0.8
    )
    assert got == pytest.approx(15.0)


def test_cac_payback_null_without_new_customers_or_margin(constructor):
    mkt, data = constructor(MKT), constructor(SUBS)
    assert cac_payback_months(mkt, data, period=("2024-01", "2024-01"), gross_margin=0.8) is None
    assert cac_payback_months(mkt, data, period=PERIOD, gross_margin=0.0) is None


# ---------------------------------------------------------------- CTR
def test_ctr_per_channel_over_rows_with_both_present(constructor):
    got = ctr(constructor(MKT), by="channel")
    # ads rows with both: Jan (1000, 10), Feb (2000, 30), Apr (1, 1); Mar lacks clicks.
    assert got.columns == ["channel", "impressions", "clicks", "ctr"]
    assert got.rows() == [("ads", 3001, 41, 41 / 3001), ("email", None, None, None)]


def test_ctr_per_campaign_with_period(constructor):
    got = ctr(constructor(MKT), by="campaign", period=PERIOD)
    assert got.rows() == [
        ("(none)", None, None, None),  # the email row: no campaign, no reach figures
        ("brand", 3000, 40, 40 / 3000),
        ("spring", None, None, None),  # Mar row has no clicks; Apr is outside the period
    ]
    assert ctr(constructor(MKT), by="campaign").filter(pl.col("campaign") == "spring").row(0) == (
        "spring", 1, 1, 1.0
    )  # fmt: skip


def test_ctr_rejects_unknown_grouping():
    with pytest.raises(ValueError):
        ctr(MKT, by="country")  # type: ignore[arg-type]


# ---------------------------------------------------------------- branded search
def queries(rows: list[tuple[dt.date, str, int, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"date": pl.Date, "query": pl.String, "clicks": pl.Int64, "impressions": pl.Int64},
        orient="row",
    )


SEARCH = queries(
    [
        (dt.date(2024, 1, 3), "Acme pricing", 30, 100),
        (dt.date(2024, 1, 9), "best crm", 60, 900),
        (dt.date(2024, 1, 31), "ACMECORP login", 10, 20),  # substring match, any case
        (dt.date(2024, 2, 1), "crm", 0, 50),
        (dt.date(2024, 4, 1), "acme", 1000, 1000),  # after the period
    ]
)


def test_branded_search_share(constructor):
    native = constructor(SEARCH)
    assert branded_search_share(native, period=PERIOD, branded_terms=["acme"]) == pytest.approx(
        40 / 100
    )
    # Several terms, matched case-insensitively.
    assert branded_search_share(
        native, period=PERIOD, branded_terms=["ACME", "Best"]
    ) == pytest.approx(1.0)


def test_branded_search_share_nulls(constructor):
    native = constructor(SEARCH)
    assert branded_search_share(native, period=PERIOD, branded_terms=[]) is None
    # Feb has impressions but no clicks.
    assert (
        branded_search_share(native, period=("2024-02", "2024-02"), branded_terms=["acme"]) is None
    )


def test_branded_search_by_month(constructor):
    got = branded_search_by_month(constructor(SEARCH), period=PERIOD, branded_terms=["acme"])
    assert got.columns == [
        "month", "clicks", "branded_clicks", "share",
        "impressions", "branded_impressions", "impression_share",
    ]  # fmt: skip
    assert got.rows() == [
        ("2024-01", 100, 40, 0.4, 1020, 120, 120 / 1020),
        ("2024-02", 0, 0, None, 50, 0, 0.0),
        ("2024-03", 0, 0, None, 0, 0, None),
    ]


# ---------------------------------------------------------------- attribution
def ts(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def events(rows: list[tuple[str | None, dt.datetime, str | None]], *, seq: bool = True):
    df = pl.DataFrame(
        rows,
        schema={
            "account_id": pl.String,
            "timestamp": pl.Datetime("us", "UTC"),
            "channel": pl.String,
        },
        orient="row",
    ).with_columns(event=pl.lit("visit"))
    return df.with_row_index("seq").with_columns(pl.col("seq").cast(pl.Int64)) if seq else df


# Conversions in Mar 2024 happen at 2024-03-01T00:00Z; 90 days before is 2023-12-02T00:00Z.
CONV = ts(2024, 3, 1)
ATTR_EVENTS = events(
    [
        # A: n = 3 inside the window (boundary and conversion instant included).
        ("A", ts(2023, 12, 1, 23, 59, 59, 999_999), "old"),  # 1 µs too old: excluded
        ("A", ts(2023, 12, 2), "ads"),  # exactly conversion − 90 days: included
        ("A", ts(2024, 1, 15), None),  # no channel: not a touch
        ("A", ts(2024, 2, 1), "email"),
        ("A", CONV, "seo"),  # at the conversion instant: included
        ("A", ts(2024, 3, 1, 0, 0, 0, 1), "late"),  # after the conversion: excluded
        # B: n = 2 at the same instant: row order decides (social first, then email).
        ("B", ts(2024, 2, 10), "social"),
        ("B", ts(2024, 2, 10), "email"),
        # C: n = 1.
        ("C", ts(2024, 2, 20), "email"),
        # F converts in April, outside the period.
        ("F", ts(2024, 3, 20), "ads"),
        # An anonymous visitor.
        (None, ts(2024, 2, 1), "ads"),
    ]
)
ATTR_SUBS = subs(
    [
        ("A", "2024-03", 10), ("B", "2024-03", 10), ("C", "2024-03", 10),
        ("D", "2024-03", 10), ("E", "2024-03", 10),
        ("F", "2024-04", 10),
        ("G", "2024-01", 10), ("G", "2024-03", 10),  # first paid month Jan: not a conversion in Mar
    ]
)  # fmt: skip
ATTR_ACCOUNTS = accounts(
    {"A": "ads", "B": None, "C": None, "D": "partner", "E": None, "F": "ads", "G": "ads"}
)


def as_dict(df: pl.DataFrame) -> dict[str, tuple[float, ...]]:
    return {r[0]: r[1:] for r in df.rows()}


def test_attribution_hand_computed(constructor):
    got = attribution(
        constructor(ATTR_EVENTS),
        constructor(ATTR_SUBS),
        constructor(ATTR_ACCOUNTS),
        period=("2024-03", "2024-03"),
    )
    assert got.columns == [
        "channel", "first_touch", "last_touch", "linear", "position_based", "markov"
    ]  # fmt: skip
    assert got["channel"].to_list() == ["(none)", "ads", "email", "partner", "seo", "social"]
    # Markov: the paths are ads→email→seo, social→email, email, partner, (none) (each
    # converting) and F's ads→(null) (touched in March, pays only in April). From
    # (start): ads 2/6, social, email, partner, (none) 1/6 each; ads → email or (null)
    # 1/2 each; every other channel converts for sure: P = (2·½ + 4) / 6 = 5/6.
    # Removing email: P = 2/6, RE = 1 − 2/5 = 0.6; removing any other: P = 4/6, RE = 0.2.
    # Σ RE = 1.6: credits 5 × 0.2 / 1.6 = 0.625 and 5 × 0.6 / 1.6 = 1.875.
    expected = {
        # (first, last, linear, position, markov)
        "(none)": (1, 1, 1, 1, 0.625),  # E: no touch, no acquisition channel
        "ads": (1, 0, 1 / 3, 0.4, 0.625),  # A's first of 3
        # A's middle touch, B's last, C's only one.
        "email": (0 + 0 + 1, 0 + 1 + 1, 1 / 3 + 1 / 2 + 1, 0.2 + 0.5 + 1.0, 1.875),
        "partner": (1, 1, 1, 1, 0.625),  # D: no touch → its acquisition channel
        "seo": (0, 1, 1 / 3, 0.4, 0.625),  # A's last
        "social": (1, 0, 1 / 2, 0.5, 0.625),  # B's first (row order at equal timestamps)
    }
    for channel, values in as_dict(got).items():
        assert values == pytest.approx(expected[channel]), channel
    # Each model's credits sum to the 5 conversions (A, B, C, D, E).
    assert got.select(pl.exclude("channel").sum()).row(0) == pytest.approx((5, 5, 5, 5, 5))


def test_attribution_window_is_configurable(constructor):
    # A 1-day window keeps only A's conversion-instant touch; B and C get no touch.
    got = attribution(
        constructor(ATTR_EVENTS),
        constructor(ATTR_SUBS),
        constructor(ATTR_ACCOUNTS),
        period=("2024-03", "2024-03"),
        window_days=1,
    )
    # Markov: F's ads → (null) converts nothing, so ads gets no credit and is not listed.
    assert as_dict(got) == {
        "(none)": (3.0, 3.0, 3.0, 3.0, pytest.approx(3.0)),  # B, C and E have no channel
        "partner": (1.0, 1.0, 1.0, 1.0, pytest.approx(1.0)),
        "seo": (1.0, 1.0, 1.0, 1.0, pytest.approx(1.0)),
    }


def test_attribution_ties_keep_row_order_of_a_polars_frame_without_seq():
    ev = ATTR_EVENTS.drop("seq")
    got = attribution(ev, ATTR_SUBS, ATTR_ACCOUNTS, period=("2024-03", "2024-03"))
    assert as_dict(got)["social"][:2] == (1.0, 0.0)
    # The same rows in the other order swap first and last touch of B.
    swapped = pl.concat([ev.slice(7, 1), ev.slice(6, 1), ev.slice(0, 6), ev.slice(8)])
    got = attribution(swapped, ATTR_SUBS, ATTR_ACCOUNTS, period=("2024-03", "2024-03"))
    assert as_dict(got)["social"][:2] == (0.0, 1.0)


def test_attribution_explicit_order_column(constructor):
    ev = ATTR_EVENTS.with_columns(order=-pl.col("seq"))  # reversed row order
    got = attribution(
        constructor(ev),
        constructor(ATTR_SUBS),
        constructor(ATTR_ACCOUNTS),
        period=("2024-03", "2024-03"),
        order_by="order",
    )
    assert as_dict(got)["social"][:2] == (0.0, 1.0)


def test_attribution_counts_the_table_first_month_and_no_conversions(constructor):
    # subscription_started exists in the table's first month too.
    data = subs([("A", "2024-03", 10)])
    got = attribution(
        constructor(ATTR_EVENTS),
        constructor(data),
        constructor(ATTR_ACCOUNTS),
        period=("2024-03", "2024-03"),
    )
    # Markov: ads→email→seo converts, F's ads→(null) does not; removing any of
    # the three leaves no way to convert: RE = 1 each, a third of the conversion each.
    third = pytest.approx(1 / 3)
    assert as_dict(got) == {
        "ads": (1.0, 0.0, third, pytest.approx(0.4), third),
        "email": (0.0, 0.0, third, pytest.approx(0.2), third),
        "seo": (0.0, 1.0, third, pytest.approx(0.4), third),
    }
    none = attribution(
        constructor(ATTR_EVENTS),
        constructor(data),
        constructor(ATTR_ACCOUNTS),
        period=("2024-05", "2024-06"),
    )
    assert none.height == 0 and none.columns[0] == "channel"


# ---------------------------------------------------------------- properties (polars only)
CHANNELS = ["ads", "email", "seo", None]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(list("pqrst")),
            st.integers(0, 200 * 24),  # hours after 2023-11-01
            st.sampled_from(CHANNELS),
        ),
        max_size=40,
    ),
    st.dictionaries(st.sampled_from(list("pqrst")), st.integers(0, 5), max_size=5),
    st.integers(0, 120),
)
def test_property_credits_sum_to_conversions(touch_rows, first_paid, window):
    start = ts(2023, 11, 1)
    ev = events([(a, start + dt.timedelta(hours=h), c) for a, h, c in touch_rows])
    months = ["2023-12", "2024-01", "2024-02", "2024-03", "2024-04", "2024-05"]
    data = subs([(a, months[i], 5.0) for a, i in first_paid.items()])
    acc = accounts({a: "partner" if a < "r" else None for a in "pqrst"})
    period = ("2024-01", "2024-03")
    got = attribution(ev, data, acc, period=period, window_days=window)
    conversions = sum(1 for i in first_paid.values() if 1 <= i <= 3)
    if conversions == 0:
        assert got.height == 0
        return
    for model in ("first_touch", "last_touch", "linear", "position_based", "markov"):
        assert got[model].sum() == pytest.approx(conversions), model
        assert (got[model] >= 0).all()
    assert got["channel"].to_list() == sorted(got["channel"].to_list())
    expected = reference_attribution(touch_rows, first_paid, window, start, acc)
    markov = reference_markov(touch_rows, first_paid, window, start, acc, period)
    for channel in markov:
        expected.setdefault(channel, (0, 0, 0, 0))
    expected = {c: (*expected[c], markov.get(c, 0)) for c in sorted(expected)}
    assert list(as_dict(got)) == list(expected)
    for channel, values in as_dict(got).items():
        assert values == pytest.approx(expected[channel]), channel


def reference_attribution(touch_rows, first_paid, window, start, acc) -> dict[str, tuple]:
    """Credits per channel by a direct reading of the definition (tests only)."""
    fallback = dict(acc.rows())
    credits: dict[str, list[Fraction]] = {}

    def give(channel: str, model: int, amount: Fraction) -> None:
        credits.setdefault(channel, [Fraction(0)] * 4)[model] += amount

    for a, i in first_paid.items():
        if not 1 <= i <= 3:
            continue
        conv = dt.datetime(2024, i, 1, tzinfo=UTC)
        lo = conv - dt.timedelta(days=window)
        touches = [
            (start + dt.timedelta(hours=h), row, c)
            for row, (b, h, c) in enumerate(touch_rows)
            if b == a and c is not None and lo <= start + dt.timedelta(hours=h) <= conv
        ]
        chans = [c for _, _, c in sorted(touches)]
        n = len(chans)
        if n == 0:
            for model in range(4):
                give(fallback[a] or "(none)", model, Fraction(1))
            continue
        give(chans[0], 0, Fraction(1))
        give(chans[-1], 1, Fraction(1))
        for k, c in enumerate(chans):
            give(c, 2, Fraction(1, n))
            if n <= 2:
                give(c, 3, Fraction(1, n))
            else:
                give(c, 3, Fraction(2, 5) if k in (0, n - 1) else Fraction(1, 5 * (n - 2)))
    return {c: tuple(float(v) for v in credits[c]) for c in sorted(credits)}


def reference_markov(touch_rows, first_paid, window, start, acc, period) -> dict[str, float]:
    """Markov credits by a direct reading of analytics.md § 6, in exact fractions (tests only)."""
    fallback = dict(acc.rows())
    lo_p = dt.datetime(2024, 1, 1, tzinfo=UTC)
    hi_p = dt.datetime(2024, 4, 1, tzinfo=UTC)  # the period 2024-01 … 2024-03
    assert period == ("2024-01", "2024-03")

    def touches_of(a, lo, hi):
        found = [
            (start + dt.timedelta(hours=h), row, c)
            for row, (b, h, c) in enumerate(touch_rows)
            if b == a and c is not None and lo <= start + dt.timedelta(hours=h) <= hi
        ]
        return [c for _, _, c in sorted(found)]

    paths = []  # (channels, converted)
    for a in "pqrst":
        i = first_paid.get(a)
        if i is not None and 1 <= i <= 3:
            conv = dt.datetime(2024, i, 1, tzinfo=UTC)
            chans = touches_of(a, conv - dt.timedelta(days=window), conv)
            paths.append((chans or [fallback[a] or "(none)"], True))
        elif i is None or i > 3:  # never paid up to the period's end
            in_period = [
                start + dt.timedelta(hours=h)
                for b, h, c in touch_rows
                if b == a and c is not None and lo_p <= start + dt.timedelta(hours=h) < hi_p
            ]
            if in_period:
                last = max(in_period)
                paths.append((touches_of(a, last - dt.timedelta(days=window), last), False))
    conversions = sum(1 for _, ok in paths if ok)
    collapsed = [([c for k, c in enumerate(p) if k == 0 or p[k - 1] != c], ok) for p, ok in paths]
    names = sorted({c for p, _ in collapsed for c in p})

    def probability(removed):
        # States: the channels; x_c = Σ_b p(c→b) x_b + p(c→conversion), solved exactly.
        out = {c: Fraction(0) for c in names}
        q = {(a, b): Fraction(0) for a in names for b in names}
        r = {c: Fraction(0) for c in names}
        first = {c: Fraction(0) for c in names}
        for p, ok in collapsed:
            first[p[0]] += 1
            for a, b in zip(p, p[1:], strict=False):
                q[a, b] += 1
                out[a] += 1
            r[p[-1]] += 1 if ok else 0
            out[p[-1]] += 1
        if removed is not None:
            for a in names:
                q[a, removed] = Fraction(0)
            first[removed] = Fraction(0)
        live = [c for c in names if c != removed]
        # Gauss–Jordan on (I − Q) x = r over the live states.
        rows = [
            [(1 if a == b else 0) - q[a, b] / out[a] for b in live] + [r[a] / out[a]] for a in live
        ]
        n = len(live)
        for col in range(n):
            pivot = next(k for k in range(col, n) if rows[k][col] != 0)
            rows[col], rows[pivot] = rows[pivot], rows[col]
            rows[col] = [v / rows[col][col] for v in rows[col]]
            for k in range(n):
                if k != col and rows[k][col] != 0:
                    f = rows[k][col]
                    rows[k] = [v - f * w for v, w in zip(rows[k], rows[col], strict=True)]
        x = {c: rows[k][n] for k, c in enumerate(live)}
        total = sum(first.values()) if removed is None else len(collapsed)
        return sum(first[c] * x[c] for c in live) / total if total else Fraction(0)

    if conversions == 0:
        return {}
    p = probability(None)
    effects = {c: 1 - probability(c) / p for c in names}
    total = sum(effects.values())
    return {c: float(conversions * e / total) for c, e in effects.items() if e > 0}


def test_optional_columns_may_be_absent(constructor):
    mkt = MKT.select("month", "channel", "spend")
    acc = ACCOUNTS.select("account_id")
    got = cac_by_channel(constructor(mkt), constructor(SUBS), constructor(acc), period=PERIOD)
    assert got.rows() == [
        ("(none)", 0.0, 3, 0.0, None, None, None),  # b, c, e: no acquisition_channel column
        ("ads", 600.0, 0, None, None, None, None),
        ("email", 100.0, 0, None, None, None, None),
    ]
    assert ctr(constructor(mkt), by="campaign").rows() == [("(none)", None, None, None)]
