"""modelyard: the machine-learning lifecycle on your own machine.

Start with :class:`Workspace` (or :func:`start_run`, which finds the workspace of
the current directory)::

    import modelyard

    ws = modelyard.Workspace.init("my-workspace")
    version, created = ws.datasets.ingest("churn.csv", name="churn")
    with ws.start_run(experiment="churn") as run:
        run.log_params({"algorithm": "xgboost"})
        run.log_metric("roc_auc", 0.87)

Names are imported on first use (PEP 562), so ``import modelyard`` and the CLI's
``--help`` stay fast and pull in no pandas, pyarrow or scikit-learn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard._lazy import lazy_names

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS: dict[str, str] = {
    "AutoResult": "modelyard.automl",
    "Leaderboard": "modelyard.automl",
    "TuneResult": "modelyard.automl",
    "ColumnSchema": "modelyard.data",
    "DatasetRef": "modelyard.data",
    "DatasetVersion": "modelyard.data",
    "IngestOptions": "modelyard.data",
    "LogicalType": "modelyard.data",
    "Role": "modelyard.data",
    "SplitSpec": "modelyard.data",
    "ModelyardError": "modelyard.errors",
    "Monitor": "modelyard.monitoring",
    "MonitorStore": "modelyard.monitoring",
    "Pipeline": "modelyard.pipelines",
    "PipelineStore": "modelyard.pipelines",
    "Comparison": "modelyard.profiling",
    "Profile": "modelyard.profiling",
    "ProfileWarning": "modelyard.profiling",
    "Endpoint": "modelyard.serving",
    "EndpointStore": "modelyard.serving",
    "GatewayOptions": "modelyard.serving",
    "VariantConfig": "modelyard.serving",
    "batch_predict": "modelyard.batch",
    "Executor": "modelyard.execution",
    "Job": "modelyard.jobs",
    "JobStatus": "modelyard.jobs",
    "Settings": "modelyard.settings",
    "load_settings": "modelyard.settings",
    "Run": "modelyard.tracking",
    "RunInfo": "modelyard.tracking",
    "RunStatus": "modelyard.tracking",
    "Workspace": "modelyard.workspace",
    "start_run": "modelyard._start",
}
_SUBMODULES = {"datasets", "errors"}

__all__ = [
    "AutoResult",
    "ColumnSchema",
    "Comparison",
    "DatasetRef",
    "DatasetVersion",
    "Endpoint",
    "EndpointStore",
    "Executor",
    "GatewayOptions",
    "IngestOptions",
    "Job",
    "JobStatus",
    "Leaderboard",
    "LogicalType",
    "ModelyardError",
    "Monitor",
    "MonitorStore",
    "Pipeline",
    "PipelineStore",
    "Profile",
    "ProfileWarning",
    "Role",
    "Run",
    "RunInfo",
    "RunStatus",
    "Settings",
    "SplitSpec",
    "TuneResult",
    "VariantConfig",
    "Workspace",
    "__version__",
    "batch_predict",
    "datasets",
    "errors",
    "load_settings",
    "start_run",
]

if TYPE_CHECKING:
    from modelyard import datasets, errors
    from modelyard._start import start_run
    from modelyard.automl import AutoResult, Leaderboard, TuneResult
    from modelyard.batch import batch_predict
    from modelyard.data import (
        ColumnSchema,
        DatasetRef,
        DatasetVersion,
        IngestOptions,
        LogicalType,
        Role,
        SplitSpec,
    )
    from modelyard.errors import ModelyardError
    from modelyard.execution import Executor
    from modelyard.jobs import Job, JobStatus
    from modelyard.monitoring import Monitor, MonitorStore
    from modelyard.pipelines import Pipeline, PipelineStore
    from modelyard.profiling import Comparison, Profile, ProfileWarning
    from modelyard.serving import Endpoint, EndpointStore, GatewayOptions, VariantConfig
    from modelyard.settings import Settings, load_settings
    from modelyard.tracking import Run, RunInfo, RunStatus
    from modelyard.workspace import Workspace


__getattr__, __dir__ = lazy_names(__name__, globals(), _EXPORTS, __all__, _SUBMODULES)
