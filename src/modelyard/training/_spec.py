"""What a training job is asked to do, as one typed, JSON-round-trippable object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from modelyard.features import PreprocessOptions

__all__ = ["TrainingSpec"]


@dataclass(frozen=True)
class TrainingSpec:
    """A training job's inputs; recorded with the run so ``runs reproduce`` can replay it.

    Attributes:
        dataset: ``name[:version]`` of a dataset stored with splits.
        target: the target column (default: the dataset's target role).
        algorithm: a catalog name (``modelyard algorithms``).
        params: hyperparameters overriding the algorithm's defaults.
        requirements: success criteria such as ``"roc_auc>=0.80"``.
        model_name: the registered model's name (default: the dataset's name).
        task: ``binary``, ``multiclass`` or ``regression`` (default: from the target).
        threshold: how a binary model picks its decision threshold (``f1``,
            ``precision:0.9``, ``recall:0.8``, ``default``).
        preprocessing: overrides of the schema-driven preprocessing.
        seed: random seed for the algorithm and permutation importance.
        experiment: the run's experiment (default: the model name).
        register: register the model (``runs reproduce`` turns this off).
        refit: once the rounds and the threshold are known, fit the final model
            again on the training and validation splits together.
        refit_all: after evaluation, fit the final model once more on every row
            (training, validation and test splits), the rounds and threshold kept.
            The registered model then learnt from every row; its recorded metrics
            stay those of the model evaluated on the test split before this refit
            (an honest, slightly pessimistic estimate: the model it describes saw
            fewer rows). What small data sets gain most from.
        allow_worse_than_baseline: register a model that is no better than the
            trivial baseline as pending instead of rejected.
        params_from: a training run's id (or prefix) whose params are used, under
            ``params``; the recorded spec holds the params it resolved to.
    """

    dataset: str
    target: str | None = None
    algorithm: str = "xgboost"
    params: dict[str, Any] = field(default_factory=dict)
    requirements: tuple[str, ...] = ()
    model_name: str | None = None
    task: str | None = None
    threshold: str = "f1"
    preprocessing: PreprocessOptions = field(default_factory=PreprocessOptions)
    seed: int = 0
    experiment: str | None = None
    register: bool = True
    refit: bool = False
    refit_all: bool = False
    allow_worse_than_baseline: bool = False
    params_from: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        data = asdict(self)
        data["requirements"] = list(self.requirements)
        data["preprocessing"] = self.preprocessing.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainingSpec:
        """Inverse of :meth:`to_dict`."""
        values = dict(data)
        values["requirements"] = tuple(values.get("requirements", ()))
        values["preprocessing"] = PreprocessOptions.from_dict(values.get("preprocessing", {}))
        return cls(**values)
