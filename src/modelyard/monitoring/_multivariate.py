"""Multivariate drift: PCA reconstruction error against reference rows.

A change in how features move together (a correlation that breaks while each
feature's own distribution stays put) passes every univariate test. Compressing
the standardised numeric features onto the principal components of the reference
rows (those explaining 65% of the variance, as NannyML does) and measuring how
much is lost on the way back catches it: rows that no longer follow the
reference's structure reconstruct worse.

The reference rows are the training split of the model's dataset. The components
are fitted on one half of them and the reference error measured on the other, so
the reference figure is the error of unseen rows, as a window's is. A window
drifts when its mean error is above the reference's by more than four standard
errors and by more than 10%: significant and large enough to matter.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["fit_reference", "window_error"]

FloatArray = npt.NDArray[np.float64]
_VARIANCE = 0.65
_Z = 4.0
_RELATIVE = 0.10
_MAX_ROWS = 20_000
_BLOCK = 65_536


def fit_reference(columns: dict[str, FloatArray], seed: int = 0) -> dict[str, Any] | None:
    """The reference PCA model as JSON; ``None`` with fewer than two numeric columns."""
    names = [n for n, v in columns.items() if np.isfinite(v).sum() > 1 and np.nanstd(v) > 0]
    if len(names) < 2:
        return None
    matrix = np.column_stack([columns[n] for n in names])
    rng = np.random.default_rng(seed)
    order = rng.permutation(matrix.shape[0])[:_MAX_ROWS]
    half = order.size // 2
    fit, held = matrix[order[:half]], matrix[order[half:]]
    fill = np.nanmedian(fit, axis=0)
    mean = np.nanmean(fit, axis=0)
    std = np.nanstd(fit, axis=0)
    std[std == 0] = 1.0
    scaled = (_filled(fit, fill) - mean) / std
    _, singular, vt = np.linalg.svd(scaled, full_matrices=False)
    share = np.cumsum(singular**2) / np.sum(singular**2)
    keep = int(np.searchsorted(share, _VARIANCE) + 1)
    model: dict[str, Any] = {
        "names": names,
        "fill": fill.tolist(),
        "mean": mean.tolist(),
        "std": std.tolist(),
        "components": vt[:keep].tolist(),
    }
    errors = _errors(model, held)
    model["error_mean"] = float(errors.mean())
    model["error_std"] = float(errors.std())
    return model


def window_error(model: dict[str, Any], columns: dict[str, FloatArray]) -> dict[str, Any] | None:
    """The window's mean reconstruction error beside the reference's, and the verdict."""
    names = model["names"]
    if any(n not in columns for n in names):
        return None
    n_rows = len(columns[names[0]]) if names else 0
    if n_rows == 0:
        return None
    # A block of rows at a time: the window's matrix and its scaled copy would
    # otherwise each take rows x features x 8 bytes on top of the columns.
    errors = np.concatenate(
        [
            _errors(model, np.column_stack([columns[n][start : start + _BLOCK] for n in names]))
            for start in range(0, n_rows, _BLOCK)
        ]
    )
    value = float(errors.mean())
    reference = float(model["error_mean"])
    standard_error = float(model["error_std"]) / math.sqrt(errors.size)
    z = (value - reference) / standard_error if standard_error > 0 else 0.0
    drifted = z > _Z and value > reference * (1 + _RELATIVE)
    return {
        "reconstruction_error": value,
        "reference_error": reference,
        "z": z,
        "rows": int(errors.size),
        "drifted": bool(drifted),
    }


def _errors(model: dict[str, Any], matrix: FloatArray) -> FloatArray:
    """Each row's distance from its reconstruction. The components are orthonormal,
    so that is the part of the row's squared length its projection leaves out:
    one small matrix product, not a reconstruction of every row."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    fill = np.asarray(model["fill"])
    mean = np.asarray(model["mean"])
    std = np.asarray(model["std"])
    components = np.asarray(model["components"])
    scaled = _filled(matrix, fill)
    scaled -= mean
    scaled /= std
    with threadpool_limits(1):  # a thin product: BLAS threads only contend
        projected = scaled @ components.T
    lost = np.einsum("ij,ij->i", scaled, scaled) - np.einsum("ij,ij->i", projected, projected)
    errors: FloatArray = np.sqrt(np.clip(lost, 0.0, None))
    return errors


def _filled(matrix: FloatArray, fill: FloatArray) -> FloatArray:
    out = matrix.copy()
    missing = ~np.isfinite(out)
    out[missing] = np.broadcast_to(fill, out.shape)[missing]
    return out
