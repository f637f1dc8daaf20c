"""A synthetic house-sales table for regression.

Prices follow a multiplicative, nonlinear model of the kind appraisers use: a
price per square foot set by the neighborhood, diminishing returns on size, a
U-shaped effect of age (new builds and historic homes both sell at a premium),
condition, distance to the center and a gentle market trend over the year, times
noise no feature explains. ``drift`` moves buyers to the suburbs, makes homes
bigger, spreads heat pumps, and changes the price relation itself (distance
matters less, two neighborhoods gentrify, pools are worth more).

As in :mod:`modelyard.datasets._churn`, every random number is drawn with calls
whose shapes do not depend on ``drift``, so drift changes the houses, not which
houses are drawn.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

from modelyard.datasets._churn import (
    interpolate,
    labels,
    make_identifiers,
    pick,
    validate_arguments,
)

__all__ = ["houses"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]

LISTING_YEAR_START = np.datetime64("2025-01-01", "D")
"""Listings fall in the year starting here; ages are counted from that year."""
_LISTING_YEAR = 2025

CONDITIONS = ("poor", "fair", "good", "excellent")
HEATING = ("gas", "electric", "heat pump", "oil")

# name: (dollars per sqft, median km to center, median year built, median sqft, share)
_NEIGHBORHOODS: dict[str, tuple[float, float, float, float, float]] = {
    "old town": (420.0, 1.5, 1915.0, 1400.0, 0.06),
    "riverside": (380.0, 3.0, 1950.0, 1600.0, 0.07),
    "university": (330.0, 2.5, 1935.0, 1300.0, 0.06),
    "harbor": (450.0, 4.0, 1985.0, 1500.0, 0.05),
    "midtown": (360.0, 2.0, 1960.0, 1350.0, 0.08),
    "hillcrest": (300.0, 7.0, 1970.0, 1900.0, 0.07),
    "lakeside": (340.0, 10.0, 1990.0, 2200.0, 0.06),
    "westfield": (230.0, 12.0, 1975.0, 1800.0, 0.08),
    "eastgate": (190.0, 9.0, 1965.0, 1600.0, 0.08),
    "northpark": (250.0, 14.0, 1998.0, 2100.0, 0.08),
    "southview": (170.0, 11.0, 1958.0, 1500.0, 0.08),
    "pine valley": (210.0, 22.0, 2005.0, 2400.0, 0.06),
    "meadowbrook": (200.0, 18.0, 2010.0, 2300.0, 0.06),
    "industrial flats": (150.0, 6.0, 1945.0, 1200.0, 0.05),
    "greenfield": (180.0, 28.0, 2015.0, 2500.0, 0.06),
}
NEIGHBORHOODS = tuple(_NEIGHBORHOODS)
_TABLE = np.array(list(_NEIGHBORHOODS.values()))
_PRICE_PER_SQFT, _DISTANCE, _YEAR, _AREA, _SHARES = _TABLE.T
# At drift 1 demand moves outwards: suburbs (far from the center) gain share.
_DRIFTED_SHARES = _SHARES * (1.0 + _DISTANCE / 10.0)
# Gentrification at drift 1: price per sqft multipliers.
_GENTRIFIED = np.array(
    [1.3 if name in ("eastgate", "industrial flats") else 1.0 for name in NEIGHBORHOODS]
)

_HEATING_SHARES = ((0.45, 0.25, 0.18, 0.12), (0.33, 0.25, 0.36, 0.06))
_CONDITION_EFFECT = np.array([-0.25, -0.10, 0.0, 0.12])
_HEATING_EFFECT = np.array([0.0, -0.02, 0.04, -0.06])
_MISSING = {"lot_size": (0.06, 0.09), "heating": (0.05, 0.07), "condition": (0.03, 0.05)}
_MIN_PRICE, _MAX_PRICE = 50_000.0, 2_500_000.0


def _log_price(
    *,
    drift: float,
    neighborhood: IntArray,
    area: FloatArray,
    lot: FloatArray,
    bedrooms: IntArray,
    bathrooms: FloatArray,
    year_built: IntArray,
    condition: IntArray,
    heating: IntArray,
    garage: BoolArray,
    pool: BoolArray,
    distance: FloatArray,
    listed_day: IntArray,
) -> FloatArray:
    """Log of the noiseless price: the market at drift 0, a changed one at drift 1."""
    d = drift
    per_sqft = _PRICE_PER_SQFT * (1.0 + d * (_GENTRIFIED - 1.0))
    age = _LISTING_YEAR - year_built
    age_effect = (
        -0.0045 * np.minimum(age, 60.0) + 0.004 * np.maximum(age - 80.0, 0.0) + 0.08 * (age < 5)
    )
    log_price: FloatArray = (
        np.log(per_sqft[neighborhood] * 1800.0)
        + 0.85 * np.log(area / 1800.0)
        + 0.10 * np.log(lot / (3.0 * area))
        + 0.05 * (bathrooms - 0.6 * bedrooms)
        + age_effect
        + _CONDITION_EFFECT[condition]
        + _HEATING_EFFECT[heating]
        + 0.06 * garage
        + (0.05 + 0.10 * d) * pool
        - (0.015 - 0.010 * d) * distance
        + 0.05 * listed_day / 365.0
        - 0.08 * d
    )
    return log_price


def houses(n_rows: int = 5000, seed: int = 0, drift: float = 0.0) -> pd.DataFrame:
    """Generate a synthetic house-sales table with target ``price`` (dollars).

    Use it for regression demos, tests and benchmarks: nothing is downloaded, any
    size can be produced in seconds, and the price is learnable but noisy (a
    gradient-boosted model reaches an R² of roughly 0.8-0.9 at ``drift=0``).

    Args:
        n_rows: number of listings (rows), at least 1.
        seed: seed for ``numpy.random.default_rng``; the same ``(n_rows, seed,
            drift)`` always gives the same table.
        drift: 0 is the reference market; up to 1 listings move to the suburbs, get
            bigger and greener, and the price relation changes (distance matters
            less, two neighborhoods gentrify, pools are worth more).

    Returns:
        One row per listing: ``house_id`` (unique string), float, integer, string,
        boolean and datetime features with some missing values, and ``price``
        (positive float, between 50,000 and 2,500,000).

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

    shares = interpolate(_SHARES / _SHARES.sum(), _DRIFTED_SHARES / _DRIFTED_SHARES.sum(), drift)
    neighborhood = pick(uniform(), shares)
    distance = (_DISTANCE[neighborhood] * np.exp(0.3 * normal())).round(2)
    area = np.clip(
        _AREA[neighborhood] * (1.0 + 0.12 * drift) * np.exp(0.3 * normal()), 400.0, 9000.0
    ).round(-1)
    bedrooms = np.clip(np.round(area / 550.0 + 0.6 * normal()), 1, 7).astype(np.int64)
    bathrooms = np.clip(np.round(2.0 * (1.0 + 0.45 * (bedrooms - 1) + 0.4 * normal())) / 2.0, 1, 5)
    lot = (area * (1.5 + 0.35 * distance) * np.exp(0.4 * normal())).round(-1)
    year_built = np.clip(np.round(_YEAR[neighborhood] + 18.0 * normal()), 1880, _LISTING_YEAR)
    year_built = year_built.astype(np.int64)
    # Ordered condition: newer homes tend to be in better shape.
    condition_score = normal() + (year_built - 1970.0) / 40.0 + 0.3 * drift
    condition = np.searchsorted(np.array([-1.6, -0.6, 0.9]), condition_score).astype(np.int64)
    heating = pick(uniform(), interpolate(*_HEATING_SHARES, drift))
    garage = uniform() < np.minimum(0.35 + 0.03 * distance, 0.9)
    pool = uniform() < 0.04 + 0.006 * distance
    listed_day = np.floor(365.0 * uniform()).astype(np.int64)
    listed_date = (LISTING_YEAR_START + listed_day.astype("timedelta64[D]")).astype(
        "datetime64[ns]"
    )

    log_price = _log_price(
        drift=drift,
        neighborhood=neighborhood,
        area=area,
        lot=lot,
        bedrooms=bedrooms,
        bathrooms=bathrooms,
        year_built=year_built,
        condition=condition,
        heating=heating,
        garage=garage,
        pool=pool,
        distance=distance,
        listed_day=listed_day,
    )
    noise = (0.13 + 0.03 * drift) * normal()
    price = np.clip(np.exp(log_price + noise), _MIN_PRICE, _MAX_PRICE).round(-2)

    missing = {
        column: uniform() < low + drift * (high - low) for column, (low, high) in _MISSING.items()
    }
    lot[missing["lot_size"]] = np.nan

    return pd.DataFrame(
        {
            "house_id": make_identifiers("H", n),
            "listed_date": listed_date,
            "neighborhood": labels(NEIGHBORHOODS, neighborhood),
            "distance_to_center_km": distance,
            "area_sqft": area,
            "lot_size": lot,
            "bedrooms": bedrooms,
            "bathrooms": bathrooms,
            "year_built": year_built,
            "condition": labels(CONDITIONS, condition, missing["condition"]),
            "heating": labels(HEATING, heating, missing["heating"]),
            "has_garage": garage,
            "has_pool": pool,
            "price": price,
        }
    )
