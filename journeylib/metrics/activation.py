"""The activation finder: which early behaviour goes with a sign-up that stays.

Definition (analytics.md §9): among the period's signups whose outcome can be
seen (with subscriptions: the month signup + 3 is not after the subscriptions
table's last month; without: signup_at + 90 days is not after the data's end),
outcome = *retained* (paid in month signup + 3 when subscriptions exist, else
any activity in days 60–90 after signup, both ends included). For each raw
event e seen in at least 5 % of these accounts, threshold n ∈ {1, 2, 3, 5, 10}
and window d ∈ {1, 7, 14, 30} days, the predictor is "did e at least n times
within d days of signup" (signup_at ≤ t ≤ signup_at + d × 24 h). Each
predictor reports ``share`` (accounts meeting it ÷ accounts), ``precision`` =
P(retained | met), ``recall`` = P(met | retained) and ``phi``, the Pearson
correlation of the two 0/1 variables; a predictor constant on either side is
left out. The top 20 by phi descending (ties: fewer times, fewer days, event
name).

Every function takes native frames of any narwhals-supported engine (polars
eager or lazy, DuckDB, PySpark), aggregates lazily down to one row per event
(40 counts each) and finishes in plain Python.

Readings of the spec chosen here (the "natural reading" rule):

* The period's signups are the accounts whose ``signup_at`` falls in the
  period's months (``metrics.md``'s signups, as activation and onboarding read
  them). The raw ``events`` table is read (never derived rows); a row without
  ``account_id`` is nobody's.
* "Paid in month signup + 3" = a subscriptions row of that month with
  ``mrr > 0``. The subscriptions table's last month is that of the whole table
  (a ``--period`` does not move it): an outcome is seen when the data holds it.
* Without subscriptions, "days 60–90 after signup" is signup_at + 60 × 24 h ≤
  t ≤ signup_at + 90 × 24 h, and the outcome is seen when signup_at + 90 × 24 h
  is not after the latest raw event (the data's end).
* "Seen in at least 5 % of these accounts" counts an account that has e at any
  time, before its signup too; the test is exact in integers (20 × seen ≥
  accounts).
* "Constant on either side": a predictor every account meets, or none, has no
  phi and is left out; so is every predictor when all accounts, or none, were
  retained (``candidates`` is then empty).
* Ties of phi are exact: predictors are ordered by phi computed in rational
  arithmetic (the sign of n11·n00 − n10·n01 and its square over the four
  margins), so two predictors whose phi is mathematically equal tie, and the
  spec's tie rule orders them, even when their floats differ in the last bit.
"""

from __future__ import annotations

import datetime as dt
import math
from fractions import Fraction
from typing import Any

import narwhals as nw
import polars as pl

from journeylib.frames import US_PER_DAY, collect, elapsed_us, to_lazy
from journeylib.metrics._ledger import table_bounds
from journeylib.metrics._signups import data_end, paying_months, signups
from journeylib.months import period_index

__all__ = ["DAYS", "MIN_SEEN_SHARE", "TIMES", "TOP", "activation_candidates"]

#: The thresholds n of "at least n times".
TIMES: tuple[int, ...] = (1, 2, 3, 5, 10)
#: The windows d of "within d days of signup".
DAYS: tuple[int, ...] = (1, 7, 14, 30)
#: An event is a candidate when at least this share of the accounts has it (1/20 = 5 %).
MIN_SEEN_SHARE = (1, 20)
#: How many candidates are listed.
TOP = 20
_HORIZON_DAYS = 90  # without subscriptions: outcome seen 90 days after signup
_ACTIVE_FROM_DAYS = 60  # … and retained = activity in days 60–90


def _cohort(
    accounts: Any, events: Any, subscriptions: Any | None, period: tuple[str, str]
) -> nw.LazyFrame | None:
    """The signups whose outcome can be seen: ``[account_id, signup_at, retained]``.

    None when no outcome can be seen at all (an empty subscriptions table, no raw event).
    """
    first, last = period_index(period)
    sig = signups(accounts, first, last)
    if subscriptions is not None:
        _, last_sub = table_bounds(subscriptions)
        if last_sub is None:
            return None
        seen = sig.filter(nw.col("cohort_idx") + 3 <= last_sub)
        paid = paying_months(subscriptions).with_columns(nw.lit(True).alias("retained"))
        return (
            seen.with_columns((nw.col("cohort_idx") + 3).alias("month_idx"))
            .join(paid, on=["account_id", "month_idx"], how="left")
            .select("account_id", "signup_at", nw.col("retained").fill_null(False))
        )
    end = data_end(events)
    if end is None:
        return None
    seen = sig.filter(nw.col("signup_at") <= nw.lit(end - dt.timedelta(days=_HORIZON_DAYS)))
    lf = to_lazy(events)
    late = (
        lf.filter(~nw.col("account_id").is_null())
        .select("account_id", "timestamp")
        .join(seen.select("account_id", "signup_at"), on="account_id", how="inner")
        .with_columns(elapsed_us("timestamp", "signup_at").alias("_el"))
        .filter(
            nw.col("_el") >= _ACTIVE_FROM_DAYS * US_PER_DAY,
            nw.col("_el") <= _HORIZON_DAYS * US_PER_DAY,
        )
        .select("account_id")
        .unique()
        .with_columns(nw.lit(True).alias("retained"))
    )
    return seen.join(late, on="account_id", how="left").select(
        "account_id", "signup_at", nw.col("retained").fill_null(False)
    )


def _name(n: int, d: int) -> str:
    return f"n{n}_d{d}"


def activation_candidates(
    accounts: Any,
    events: Any,
    subscriptions: Any | None = None,
    *,
    period: tuple[str, str],
    top: int = TOP,
) -> dict[str, Any]:
    """The early behaviours that best predict a retained sign-up (analytics.md §9).

    Args:
        accounts: accounts table (``account_id``, ``signup_at``).
        events: raw events (``account_id``, ``event``, ``timestamp``).
        subscriptions: subscriptions table (``account_id``, ``month``, ``mrr``),
            or None: then retained = activity in days 60–90 after signup.
        period: closed range of calendar months (the signups' months).
        top: how many candidates to list.

    Returns:
        ``{"accounts", "retained", "candidates": [{event, times, days, share,
        precision, recall, phi}]}``: the signups whose outcome is seen, how many
        were retained, and the ``top`` predictors by phi (ties: fewer times,
        fewer days, event name). See the module's readings.

    Examples:
        Four signups of January; ``a`` and ``b`` invite someone on their first
        day and pay in April, ``c`` and ``d`` do not invite and do not pay:

        >>> t = lambda m, d: dt.datetime(2024, m, d, tzinfo=dt.UTC)
        >>> accounts = pl.DataFrame({"account_id": list("abcd"), "signup_at": [t(1, 1)] * 4})
        >>> events = pl.DataFrame({"account_id": list("abcd"),
        ...     "event": ["invite", "invite", "login", "login"],
        ...     "timestamp": [t(1, 1), t(1, 2), t(1, 1), t(1, 1)]})
        >>> subs = pl.DataFrame({"account_id": list("ab"), "month": [dt.date(2024, 4, 1)] * 2,
        ...     "mrr": [10.0, 10.0]})
        >>> out = activation_candidates(accounts, events, subs, period=("2024-01", "2024-01"))
        >>> out["accounts"], out["retained"]
        (4, 2)
        >>> [(c["event"], c["times"], c["days"], c["share"], c["phi"]) for c in out["candidates"][:3]]
        [('invite', 1, 1, 0.5, 1.0), ('invite', 1, 7, 0.5, 1.0), ('invite', 1, 14, 0.5, 1.0)]
    """
    cohort = _cohort(accounts, events, subscriptions, period)
    if cohort is None:
        return {"accounts": 0, "retained": 0, "candidates": []}
    totals = collect(
        cohort.select(
            nw.len().alias("n"), nw.col("retained").cast(nw.Int64).sum().cast(nw.Int64).alias("r")
        )
    )
    n_acc = int(totals["n"][0] or 0)
    n_ret = int(totals["r"][0] or 0)
    out: dict[str, Any] = {"accounts": n_acc, "retained": n_ret, "candidates": []}
    if n_acc == 0:
        return out
    lf = to_lazy(events)
    rows = (
        lf.filter(~nw.col("account_id").is_null())
        .select("account_id", "event", "timestamp")
        .join(cohort, on="account_id", how="inner")
        .with_columns(elapsed_us("timestamp", "signup_at").alias("_el"))
    )
    inside = [
        ((nw.col("_el") >= 0) & (nw.col("_el") <= d * US_PER_DAY))
        .cast(nw.Int64)
        .sum()
        .cast(nw.Int64)  # DuckDB sums integers to a wider type
        .alias(f"c{d}")
        for d in DAYS
    ]
    per_account = rows.group_by("account_id", "event", "retained").agg(*inside)
    met = []
    for n in TIMES:
        for d in DAYS:
            hit = nw.col(f"c{d}") >= n
            met.append(hit.cast(nw.Int64).sum().cast(nw.Int64).alias(_name(n, d)))
            met.append(
                (hit & nw.col("retained"))
                .cast(nw.Int64)
                .sum()
                .cast(nw.Int64)
                .alias("r_" + _name(n, d))
            )
    per_event = collect(per_account.group_by("event").agg(nw.len().alias("seen"), *met)).filter(
        pl.col("seen") * MIN_SEEN_SHARE[1] >= n_acc * MIN_SEEN_SHARE[0]
    )
    if n_ret in (0, n_acc):  # the outcome is constant: no predictor has a phi
        return out
    found = []
    for row in per_event.iter_rows(named=True):
        for n in TIMES:
            for d in DAYS:
                m, mr = row[_name(n, d)], row["r_" + _name(n, d)]
                if m in (0, n_acc):
                    continue
                n11, n10, n01 = mr, m - mr, n_ret - mr
                n00 = n_acc - m - n01
                num = n11 * n00 - n10 * n01
                den = m * (n_acc - m) * n_ret * (n_acc - n_ret)
                phi = num / math.sqrt(den)
                # phi² = num² / den exactly: equal phis tie exactly, whatever the float rounding
                exact = Fraction(num * num, den) * (1 if num >= 0 else -1)
                found.append(
                    {
                        "event": row["event"],
                        "times": n,
                        "days": d,
                        "share": m / n_acc,
                        "precision": mr / m,
                        "recall": mr / n_ret,
                        "phi": phi,
                        "_exact": exact,
                    }
                )
    found.sort(key=lambda c: (-c["_exact"], c["times"], c["days"], c["event"]))
    for c in found:
        del c["_exact"]
    out["candidates"] = found[:top]
    return out
