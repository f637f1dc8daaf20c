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

from typing import TYPE_CHECKING

from modelyard._lazy import lazy_names

if TYPE_CHECKING:
    from modelyard.pipelines import steps
    from modelyard.pipelines._guard import (
        Alarms,
        Deployment,
        DeployStrategy,
        RolledBackError,
        get_deployment,
        guarded_deploy,
    )
    from modelyard.pipelines._kinds import StepFailedError
    from modelyard.pipelines._loop import create_loop, loop_history
    from modelyard.pipelines._pipeline import Pipeline, validate
    from modelyard.pipelines._records import CacheChange, CacheExplanation, PipelineRun, StepRecord
    from modelyard.pipelines._refs import Comparison, Output, Param
    from modelyard.pipelines._report import render_run_html
    from modelyard.pipelines._store import PipelineStore
    from modelyard.pipelines._triggers import Schedule, Trigger
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
    "Trigger",
    "create_loop",
    "definition_from_yaml",
    "get_deployment",
    "guarded_deploy",
    "loop_history",
    "render_run_html",
    "steps",
    "validate",
]

# name -> the module that defines it: imported on first use, so a step's worker
# process (it imports the function-step wrapper in ._kinds) loads no database stack
_EXPORTS = {
    "Alarms": "modelyard.pipelines._guard",
    "Deployment": "modelyard.pipelines._guard",
    "DeployStrategy": "modelyard.pipelines._guard",
    "RolledBackError": "modelyard.pipelines._guard",
    "get_deployment": "modelyard.pipelines._guard",
    "guarded_deploy": "modelyard.pipelines._guard",
    "StepFailedError": "modelyard.pipelines._kinds",
    "Pipeline": "modelyard.pipelines._pipeline",
    "validate": "modelyard.pipelines._pipeline",
    "CacheChange": "modelyard.pipelines._records",
    "CacheExplanation": "modelyard.pipelines._records",
    "PipelineRun": "modelyard.pipelines._records",
    "StepRecord": "modelyard.pipelines._records",
    "Comparison": "modelyard.pipelines._refs",
    "Output": "modelyard.pipelines._refs",
    "Param": "modelyard.pipelines._refs",
    "PipelineStore": "modelyard.pipelines._store",
    "Schedule": "modelyard.pipelines._triggers",
    "render_run_html": "modelyard.pipelines._report",
    "create_loop": "modelyard.pipelines._loop",
    "loop_history": "modelyard.pipelines._loop",
    "Trigger": "modelyard.pipelines._triggers",
    "definition_from_yaml": "modelyard.pipelines._yaml",
}

__getattr__, __dir__ = lazy_names(__name__, globals(), _EXPORTS, __all__, submodules=("steps",))
