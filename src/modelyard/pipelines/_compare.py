"""Champion against candidate on the same labelled rows: the loop's decision to deploy.

Both models predict the same rows (a dataset version, or one of its splits), the
metric is computed by :mod:`modelyard.evaluation` as training computes it, and the
candidate is better only when it beats the champion by at least the margin in the
metric's own direction. The result carries its evidence (both scores, the rows,
the reason in one line), so a run records why it deployed or did not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    import pandas as pd

    from modelyard.registry import LoadedModel
    from modelyard.workspace import Workspace

__all__ = ["compare_models", "endpoint_champion"]


def endpoint_champion(workspace: Workspace, endpoint: str) -> str:
    """The model an endpoint mostly serves: its production variant of largest weight.

    Raises:
        NotFoundError: no such endpoint.
    """
    config = workspace.endpoints.get(endpoint).config
    return max(config.production, key=lambda v: v.weight).model


def compare_models(
    workspace: Workspace,
    candidate: str,
    champion: str,
    data: str,
    *,
    metric: str = "roc_auc",
    margin: float = 0.0,
    split: str | None = "test",
) -> dict[str, Any]:
    """Score ``candidate`` and ``champion`` on the rows of dataset ``data`` (its
    ``split``; ``None``: every row) and say whether the candidate is better by at
    least ``margin``.

    Returns:
        ``{"better", "candidate", "champion", "metric", "margin", "rows", "data",
        "candidate_model", "champion_model", "reason"}``.

    Raises:
        NotFoundError: a model or the dataset does not exist.
        InvalidInputError: the dataset has no target, or the metric does not apply.
    """
    from modelyard.evaluation import METRICS

    info = METRICS.get(metric)
    if info is None:
        raise InvalidInputError(f"unknown metric {metric!r} (known: {', '.join(METRICS)})")
    version = workspace.datasets.get(data)
    target = version.target
    if target is None:
        raise InvalidInputError(f"dataset {version.ref} has no target column to score against")
    frame = workspace.datasets.read(version, split).to_pandas()
    rows, truth = frame.drop(columns=[target]), frame[target]
    scores = {
        role: _score(workspace.models.load(ref), rows, truth, metric)
        for role, ref in (("candidate", candidate), ("champion", champion))
    }
    gain = scores["candidate"] - scores["champion"]
    if not info.greater_is_better:
        gain = -gain
    better = gain > 0 and gain >= margin
    where = f"{len(frame)} rows of {version.ref}" + (f" ({split})" if split else "")
    verdict = "better" if better else f"not better by the margin {margin:g}"
    reason = (
        f"candidate {candidate} {metric} {scores['candidate']:.4f} vs champion {champion} "
        f"{scores['champion']:.4f} on {where}: {verdict} ({gain:+.4f})"
    )
    return {
        "better": better,
        "candidate": scores["candidate"],
        "champion": scores["champion"],
        "metric": metric,
        "margin": margin,
        "rows": len(frame),
        "data": version.ref,
        "candidate_model": candidate,
        "champion_model": champion,
        "reason": reason,
    }


def _score(model: LoadedModel, rows: pd.DataFrame, truth: pd.Series, metric: str) -> float:
    import numpy as np

    from modelyard.evaluation import classification_metrics, regression_metrics

    prediction = model.predict(rows)
    if prediction.probabilities is None or prediction.classes is None:
        values = regression_metrics(
            truth.to_numpy(dtype=np.float64), np.asarray(prediction.predictions, np.float64)
        )
    else:
        index = {_key(label): i for i, label in enumerate(prediction.classes)}
        try:
            y = np.array([index[_key(label)] for label in truth], dtype=np.int64)
        except KeyError as exc:
            raise InvalidInputError(
                f"label {exc.args[0]!r} is not a class the model knows "
                f"({', '.join(map(str, prediction.classes))})"
            ) from None
        predicted = np.array([index[_key(p)] for p in prediction.predictions], dtype=np.int64)
        values = classification_metrics(y, prediction.probabilities, predicted)
    if metric not in values:
        raise InvalidInputError(f"metric {metric} does not apply to {model.task} models")
    return float(values[metric])


def _key(label: Any) -> str:
    """Labels compared as text: a parquet column may hold ``True`` where the model
    recorded ``1``, or ``1`` where it recorded ``1.0``."""
    if hasattr(label, "item"):  # a numpy scalar
        label = label.item()
    if isinstance(label, bool) or (isinstance(label, float) and label.is_integer()):
        return str(int(label))
    return str(label)
