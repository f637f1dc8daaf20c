"""A synthetic telecom-churn table for binary classification.

The table mimics what a real churn extract looks like, warts included: mixed
types, a high-cardinality code, a date, missing values, and a target that
depends on the features through a known logistic model plus noise that no model
can remove. Because the generating process is known, the ``drift`` knob can move
both the feature distributions (covariate drift) and the feature-target relation
(concept drift) by a controlled amount, which is what monitoring and retraining
demos need.

Every random number comes from ``rng.random`` or ``rng.standard_normal``, called in
a fixed order with shapes that do not depend on ``drift``; drift only changes the
deterministic transforms applied to those draws (inverse CDFs, shifts, weights).
The same ``(n_rows, seed)`` therefore describes the same customers at every drift
value, and turning the dial changes their behaviour, not their identity.

The small sampling helpers here (``pick``, ``poisson``, ``interpolate``,
``labels``, ``make_identifiers``, ``validate_arguments``) are shared with
:mod:`modelyard.datasets._houses`.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelyard.errors import InvalidInputError

__all__ = [
    "REFERENCE_DATE",
    "churn",
    "interpolate",
    "labels",
    "make_identifiers",
    "pick",
    "poisson",
    "validate_arguments",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

REFERENCE_DATE = np.datetime64("2026-01-01", "D")
"""The "today" of every generated table: sign-up dates lie before it."""

_DAYS_PER_MONTH = 365.25 / 12

CONTRACTS = ("month-to-month", "one-year", "two-year")
PAYMENT_METHODS = ("electronic check", "mailed check", "bank transfer", "credit card")
INTERNET_SERVICES = ("dsl", "fiber", "none")
REGIONS = ("north", "south", "east", "west", "central", "coastal", "mountain", "metro")
PLAN_CODES = tuple(f"PL{k:02d}" for k in range(1, 41))

# Category shares at drift 0 and at drift 1; values in between are interpolated.
_CONTRACT_SHARES = ((0.55, 0.21, 0.24), (0.72, 0.15, 0.13))
_PAYMENT_SHARES = ((0.34, 0.23, 0.22, 0.21), (0.42, 0.16, 0.21, 0.21))
_INTERNET_SHARES = ((0.34, 0.44, 0.22), (0.22, 0.62, 0.16))
_REGION_SHARES = (
    (0.14, 0.13, 0.13, 0.12, 0.12, 0.12, 0.09, 0.15),
    (0.09, 0.09, 0.10, 0.09, 0.10, 0.12, 0.06, 0.35),
)
# Mean tenure (months) by contract: longer commitments mean longer customers.
_TENURE_MEANS = np.array([15.0, 34.0, 52.0])
_MAX_TENURE = 72

# Per-plan churn effects (log-odds), drawn from a fixed seed rather than the
# caller's: they are part of the "world", so a model trained on one seed transfers
# to another. Popularity is Zipf-like: a few plans are common, most are rare.
_PLAN_EFFECTS = np.random.default_rng(20260101).normal(0.0, 0.35, size=len(PLAN_CODES))
_PLAN_SHARES: FloatArray = 1.0 / np.arange(3.0, len(PLAN_CODES) + 3.0)

# Shares of missing values at drift 0 and drift 1 (data quality degrades too).
_MISSING = {
    "total_charges": (0.05, 0.07),
    "avg_call_minutes": (0.04, 0.06),
    "payment_method": (0.06, 0.09),
    "internet_service": (0.035, 0.05),
}


def validate_arguments(n_rows: int, drift: float) -> None:
    """Reject arguments no generator can honour, before any work is done.

    Args:
        n_rows: number of rows asked for; must be a positive integer.
        drift: drift amount; must lie in [0, 1] (NaN is rejected too).

    Raises:
        InvalidInputError: a ``ValueError`` naming the bad argument.
    """
    if isinstance(n_rows, bool) or not isinstance(n_rows, int | np.integer):
        raise InvalidInputError(
            f"n_rows must be an integer, got {n_rows!r}", details={"n_rows": repr(n_rows)}
        )
    if n_rows < 1:
        raise InvalidInputError(
            f"n_rows must be at least 1, got {n_rows}", details={"n_rows": int(n_rows)}
        )
    if not isinstance(drift, int | float | np.integer | np.floating) or not 0.0 <= drift <= 1.0:
        raise InvalidInputError(
            f"drift must be a number between 0 and 1, got {drift!r}",
            details={"drift": repr(drift)},
        )


def make_identifiers(prefix: str, n_rows: int) -> npt.NDArray[np.object_]:
    """``prefix`` followed by the 1-based row number, zero-padded to at least 6 digits.

    The width grows with ``n_rows`` so identifiers stay unique and sort in row order.
    """
    width = max(6, len(str(n_rows)))
    digits = np.char.zfill(np.arange(1, n_rows + 1).astype(f"U{width}"), width)
    identifiers: npt.NDArray[np.object_] = np.char.add(prefix, digits).astype(object)
    return identifiers


def pick(uniform: FloatArray, shares: FloatArray) -> IntArray:
    """Category codes from uniforms by inverting the cumulative shares.

    Inverting (rather than calling ``rng.choice``) keeps the random stream the same
    whatever the shares are, so drift moves rows between categories smoothly.
    """
    cumulative = np.cumsum(shares / shares.sum())
    codes = np.searchsorted(cumulative, uniform, side="right")
    return np.minimum(codes, len(shares) - 1).astype(np.int64)


def poisson(uniform: FloatArray, rate: FloatArray, max_count: int = 30) -> IntArray:
    """Poisson counts from uniforms by inverting the CDF, one vector step per count.

    ``rng.poisson`` with a row-dependent rate would consume a data-dependent number
    of random draws; inversion keeps one uniform per row.
    """
    probability = np.exp(-rate)
    cumulative = probability.copy()
    counts = np.zeros(uniform.shape, dtype=np.int64)
    for k in range(1, max_count + 1):
        above = uniform > cumulative
        if not above.any():
            break
        counts += above
        probability = probability * rate / k
        cumulative = cumulative + probability
    return counts


def interpolate(reference: npt.ArrayLike, drifted: npt.ArrayLike, drift: float) -> FloatArray:
    """Linear interpolation between the drift-0 and drift-1 versions of a parameter.

    Linear paths make drift a dial: half-way values give half-way populations.
    """
    start = np.asarray(reference, dtype=np.float64)
    end = np.asarray(drifted, dtype=np.float64)
    mixed: FloatArray = (1.0 - drift) * start + drift * end
    return mixed


def labels(
    levels: tuple[str, ...], codes: IntArray, missing: BoolArray | None = None
) -> npt.NDArray[np.object_]:
    """String labels for ``codes``, with ``None`` where ``missing`` is set.

    An object array of Python strings lets pandas pick its own string dtype
    (``str`` on pandas 3, ``object`` before), with missing values as NaN.
    """
    result: npt.NDArray[np.object_] = np.asarray(levels, dtype=object)[codes]
    if missing is not None:
        result[missing] = None
    return result


def _logit(
    *,
    drift: float,
    contract: IntArray,
    tenure: IntArray,
    support_calls: IntArray,
    monthly: FloatArray,
    internet: IntArray,
    payment: IntArray,
    senior: BoolArray,
    partner: BoolArray,
    paperless: BoolArray,
    plan: IntArray,
    region: IntArray,
    data_gb: FloatArray,
) -> FloatArray:
    """Churn log-odds: the reference concept at drift 0, a changed market at drift 1.

    At drift 1 contracts and support calls matter less, price and heavy data use
    matter more (a competitor undercuts on data plans), fiber stops being a churn
    driver, and a competitor launch in the metro region adds churn there.
    """
    d = drift
    month_to_month = (contract == 0).astype(np.float64)
    two_year = (contract == 2).astype(np.float64)
    fiber = (internet == 1).astype(np.float64)
    no_internet = (internet == 2).astype(np.float64)
    electronic = (payment == 0).astype(np.float64)
    metro = (region == REGIONS.index("metro")).astype(np.float64)
    calls = np.minimum(support_calls, 6).astype(np.float64)
    log_odds: FloatArray = (
        -1.1
        - 1.2 * d
        + (1.5 - 1.1 * d) * month_to_month
        - (1.2 - 0.8 * d) * two_year
        - (0.75 - 0.5 * d) * np.log1p(tenure)
        + (0.5 - 0.4 * d) * calls
        + (0.03 + 0.02 * d) * (monthly - 70.0)
        + (0.7 - 1.2 * d) * fiber
        - 0.45 * no_internet
        + 0.5 * electronic
        + 0.4 * senior
        - 0.3 * partner
        + 0.2 * paperless
        + (1.2 - 0.6 * d) * _PLAN_EFFECTS[plan]
        + 1.5 * d * metro
        + 0.05 * d * (data_gb - 15.0)
    )
    return log_odds


def churn(n_rows: int = 5000, seed: int = 0, drift: float = 0.0) -> pd.DataFrame:
    """Generate a synthetic telecom-churn table with target ``churned``.

    Use it for demos, tests and benchmarks of the whole lifecycle: nothing is
    downloaded, any size can be produced in seconds, and the signal is known to be
    learnable but noisy (a gradient-boosted model reaches a ROC-AUC of roughly
    0.80-0.90 at ``drift=0``).

    Args:
        n_rows: number of customers (rows), at least 1.
        seed: seed for ``numpy.random.default_rng``; the same ``(n_rows, seed,
            drift)`` always gives the same table.
        drift: 0 is the reference population; up to 1 the population shifts (higher
            charges, more month-to-month contracts, more metro customers, more
            support calls, more missing values) and the churn drivers change, so a
            model trained at drift 0 scores worse on drifted data.

    Returns:
        One row per customer: ``customer_id`` (unique string), float, integer,
        string, boolean and datetime features with some missing values, and
        ``churned`` (int 0/1, roughly a quarter positive at drift 0).

    Raises:
        InvalidInputError: (a ``ValueError``) when ``n_rows < 1`` or ``drift`` is
            outside [0, 1].
    """
    validate_arguments(n_rows, drift)
    drift = float(drift)
    n = int(n_rows)
    rng = np.random.default_rng(seed)

    def uniform() -> FloatArray:
        return rng.random(n)

    def normal() -> FloatArray:
        return rng.standard_normal(n)

    senior = uniform() < 0.16
    partner = uniform() < 0.48
    paperless = uniform() < 0.59 + 0.08 * drift
    contract = pick(uniform(), interpolate(*_CONTRACT_SHARES, drift))
    payment = pick(uniform(), interpolate(*_PAYMENT_SHARES, drift))
    internet = pick(uniform(), interpolate(*_INTERNET_SHARES, drift))
    region = pick(uniform(), interpolate(*_REGION_SHARES, drift))
    plan = pick(uniform(), _PLAN_SHARES)

    # Exponential tenure, shorter on monthly contracts; capped at six years.
    tenure_u = uniform()
    tenure = np.minimum(-_TENURE_MEANS[contract] * np.log1p(-tenure_u), _MAX_TENURE)
    tenure_months = np.floor(tenure).astype(np.int64)
    # Sign-up lies inside the tenure month counted back from the reference date, so
    # floor(days_back / days-per-month) == tenure_months exactly.
    first_day = np.ceil(tenure_months * _DAYS_PER_MONTH).astype(np.int64)
    days_back = first_day + np.floor(30.0 * uniform()).astype(np.int64)
    signup_date = (REFERENCE_DATE - days_back.astype("timedelta64[D]")).astype("datetime64[ns]")

    num_lines = np.minimum(1 + poisson(uniform(), np.full(n, 0.6)), 5)
    internet_price = np.array([28.0, 52.0, 0.0])[internet]
    monthly_charges = np.clip(
        20.0 + internet_price + 9.0 * (num_lines - 1) + 7.0 * normal() + 14.0 * drift,
        18.0,
        None,
    ).round(2)
    # Billed so far: the monthly charge over the tenure, with past price changes as noise.
    months_billed = tenure_months + uniform()
    total_charges = (monthly_charges * months_billed * np.exp(0.04 * normal())).round(2)
    avg_call_minutes = (np.exp(5.2 + 0.25 * senior + 0.55 * normal())).round(1)
    usage_median = np.array([7.0, 18.0, 0.6])[internet] * (1.0 + 0.5 * drift)
    data_usage_gb = (usage_median * np.exp(0.6 * normal())).round(2)
    call_rate = (0.6 + 0.5 * (internet == 1) + 0.3 * senior) * (1.0 + 0.8 * drift)
    support_calls = poisson(uniform(), call_rate)

    logit = _logit(
        drift=drift,
        contract=contract,
        tenure=tenure_months,
        support_calls=support_calls,
        monthly=monthly_charges,
        internet=internet,
        payment=payment,
        senior=senior,
        partner=partner,
        paperless=paperless,
        plan=plan,
        region=region,
        data_gb=data_usage_gb,
    )
    # Unobserved causes (a competitor's call, a move): noise no feature explains.
    logit = logit + (0.4 + 0.4 * drift) * normal()
    churned = (uniform() < 1.0 / (1.0 + np.exp(-logit))).astype(np.int64)

    # Missing values are masked after the target is drawn: the truth existed,
    # the extract lost it.
    missing = {
        column: uniform() < low + drift * (high - low) for column, (low, high) in _MISSING.items()
    }
    total_charges[missing["total_charges"]] = np.nan
    avg_call_minutes[missing["avg_call_minutes"]] = np.nan

    return pd.DataFrame(
        {
            "customer_id": make_identifiers("C", n),
            "signup_date": signup_date,
            "tenure_months": tenure_months,
            "contract": labels(CONTRACTS, contract),
            "payment_method": labels(PAYMENT_METHODS, payment, missing["payment_method"]),
            "paperless_billing": paperless,
            "internet_service": labels(INTERNET_SERVICES, internet, missing["internet_service"]),
            "num_lines": num_lines,
            "monthly_charges": monthly_charges,
            "total_charges": total_charges,
            "avg_call_minutes": avg_call_minutes,
            "data_usage_gb": data_usage_gb,
            "support_calls": support_calls,
            "region": labels(REGIONS, region),
            "plan_code": labels(PLAN_CODES, plan),
            "senior_citizen": senior,
            "has_partner": partner,
            "churned": churned,
        }
    )
