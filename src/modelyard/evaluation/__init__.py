"""Model evaluation: metrics, decision threshold, success criteria, importance, report.

Typical use after training a classifier::

    from modelyard.evaluation import (
        Criterion, check_criteria, evaluate_classification, permutation_importance,
        render_report,
    )

    ev = evaluate_classification(y_test, model.predict_proba(X_test), model.classes_)
    ev.importance = permutation_importance(model, X_test, y_test, task=ev.task)
    criteria = [Criterion.parse("roc_auc>=0.80", ev.task)]
    passed, messages = check_criteria(criteria, ev.metrics)
    html = render_report(ev, title="churn v3", context={"dataset": "churn:2"})
"""

from modelyard.evaluation._criteria import Criterion, check_criteria
from modelyard.evaluation._evaluation import (
    Evaluation,
    evaluate_classification,
    evaluate_regression,
)
from modelyard.evaluation._importance import permutation_importance
from modelyard.evaluation._metrics import (
    METRICS,
    MetricInfo,
    Task,
    classification_metrics,
    regression_metrics,
)
from modelyard.evaluation._report import render_report
from modelyard.evaluation._threshold import ThresholdChoice, choose_threshold
from modelyard.evaluation._trivial import compare_to_baselines, trivial_baselines

__all__ = [
    "METRICS",
    "Criterion",
    "Evaluation",
    "MetricInfo",
    "Task",
    "ThresholdChoice",
    "check_criteria",
    "choose_threshold",
    "classification_metrics",
    "compare_to_baselines",
    "evaluate_classification",
    "evaluate_regression",
    "permutation_importance",
    "regression_metrics",
    "render_report",
    "trivial_baselines",
]
