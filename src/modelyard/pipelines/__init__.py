"""Pipelines: typed, cached, conditional steps over the lifecycle, run as jobs.

::

    from modelyard.pipelines import Pipeline, PipelineStore, steps

    p = Pipeline("churn-weekly", params={"min_auc": 0.8})
    data = p.add(steps.Ingest("churn.csv", target="churned"))
    model = p.add(steps.Train(data, algorithm="linear"))
    gate = p.add(steps.Condition(model.metric("roc_auc") >= p.param("min_auc")))
    p.add(steps.Fail("model too weak", when=gate.output().eq(False)))
    run = PipelineStore(ws).run(p)
"""

from modelyard.pipelines import steps
from modelyard.pipelines._guard import (
    Alarms,
    Deployment,
    DeployStrategy,
    RolledBackError,
    VariantCounts,
    get_deployment,
    guarded_deploy,
    read_gateway_counts,
)
from modelyard.pipelines._kinds import StepFailedError
from modelyard.pipelines._pipeline import Pipeline, validate
from modelyard.pipelines._records import CacheChange, CacheExplanation, PipelineRun, StepRecord
from modelyard.pipelines._refs import Comparison, Output, Param
from modelyard.pipelines._store import PipelineStore
from modelyard.pipelines._triggers import Schedule
from modelyard.pipelines._yaml import definition_from_yaml

__all__ = [
    "Alarms",
    "CacheChange",
    "CacheExplanation",
    "Comparison",
    "DeployStrategy",
    "Deployment",
    "Output",
    "Param",
    "Pipeline",
    "PipelineRun",
    "PipelineStore",
    "RolledBackError",
    "Schedule",
    "StepFailedError",
    "StepRecord",
    "VariantCounts",
    "definition_from_yaml",
    "get_deployment",
    "guarded_deploy",
    "read_gateway_counts",
    "steps",
    "validate",
]
