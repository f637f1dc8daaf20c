"""Generated tables for the profiling tests: one with planted issues, one clean."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

N_ROWS = 3_000


def planted(n_rows: int = N_ROWS, seed: int = 0) -> pa.Table:
    """A constant, an identifier, a leak, a 60%-missing column, e-mails, a scaled copy."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n_rows) < 0.4).astype(np.int64)
    a = rng.normal(50, 10, n_rows)
    missing = rng.normal(0, 1, n_rows)
    gone = rng.permutation(n_rows)[: int(0.6 * n_rows)]
    return pa.table(
        {
            "row_id": np.arange(100_000, 100_000 + n_rows),
            "constant": ["same"] * n_rows,
            "leak": y * 10.0 + rng.normal(0, 0.1, n_rows),
            "mostly_missing": pa.array(missing, mask=np.isin(np.arange(n_rows), gone)),
            "email": [f"person{i}@example.com" for i in range(n_rows)],
            "a": a,
            "a_scaled": a * 3.5,
            "noise": rng.normal(0, 1, n_rows),
            "group": rng.choice(["red", "green", "blue"], n_rows),
            "y": y,
        }
    )


def clean(n_rows: int = N_ROWS, seed: int = 1) -> pa.Table:
    """Ordinary features and a learnable, balanced target: nothing to warn about."""
    rng = np.random.default_rng(seed)
    x1 = rng.normal(0, 1, n_rows)
    x2 = rng.normal(5, 2, n_rows)
    x3 = rng.uniform(0, 10, n_rows)
    days = rng.integers(0, 730, n_rows).astype("timedelta64[D]")
    logit = 0.8 * x1 + 0.3 * (x2 - 5) + rng.normal(0, 1, n_rows)
    return pa.table(
        {
            "x1": x1,
            "x2": x2,
            "x3": x3,
            "count": rng.integers(0, 10, n_rows),
            "colour": rng.choice(["red", "green", "blue", "grey"], n_rows),
            "size": rng.choice(["S", "M", "L"], n_rows),
            "flag": rng.random(n_rows) < 0.5,
            "day": np.datetime64("2024-01-01") + days,
            "y": (logit > 0).astype(np.int64),
        }
    )


def mixed(n_rows: int, seed: int = 0) -> pa.Table:
    """The shape of ``benchmarks/profile.py``'s table: 30 columns of every kind.

    18 floats (some missing), 4 integers, 6 categoricals of 3 to 1,000 values, a
    datetime and a boolean (the target).
    """
    rng = np.random.default_rng(seed)
    columns: dict[str, object] = {}
    for i in range(18):
        values = rng.lognormal(3, 0.5, n_rows) if i % 3 == 2 else rng.normal(50 * i, 5 + i, n_rows)
        mask = rng.random(n_rows) < (0.02 * (i % 4)) if i % 4 else None
        columns[f"float_{i}"] = pa.array(values, mask=mask)
    for i in range(4):
        columns[f"int_{i}"] = rng.integers(0, 10 ** (i + 1), n_rows)
    for i, cardinality in enumerate((3, 10, 30, 100, 300, 1_000)):
        weights = 1 / np.arange(1, cardinality + 1)
        codes = rng.choice(cardinality, n_rows, p=weights / weights.sum())
        columns[f"cat_{i}"] = np.array([f"c{i}_{k}" for k in range(cardinality)])[codes]
    start = np.datetime64("2022-01-01T00:00:00", "s")
    seconds = rng.integers(0, 3 * 365 * 86_400, n_rows).astype("timedelta64[s]")
    columns["when"] = start + seconds
    columns["flag"] = rng.random(n_rows) < 0.3
    return pa.table(columns)
