"""The public surface is pinned, and importing it stays light."""

from __future__ import annotations

import subprocess
import sys

import modelyard

EXPECTED = {
    "AutoResult",
    "Leaderboard",
    "TuneResult",
    "ColumnSchema",
    "Comparison",
    "Profile",
    "ProfileWarning",
    "DatasetRef",
    "DatasetVersion",
    "Endpoint",
    "EndpointStore",
    "GatewayOptions",
    "VariantConfig",
    "Executor",
    "IngestOptions",
    "Job",
    "JobStatus",
    "LogicalType",
    "ModelyardError",
    "Monitor",
    "MonitorStore",
    "Pipeline",
    "PipelineStore",
    "Role",
    "Run",
    "RunInfo",
    "RunStatus",
    "Settings",
    "SplitSpec",
    "Workspace",
    "__version__",
    "batch_predict",
    "datasets",
    "errors",
    "load_settings",
    "start_run",
}


def test_public_names_are_pinned() -> None:
    assert set(modelyard.__all__) == EXPECTED
    for name in modelyard.__all__:
        assert getattr(modelyard, name) is not None


def test_unknown_attribute_raises_attribute_error() -> None:
    try:
        modelyard.no_such_thing  # type: ignore[attr-defined]  # noqa: B018
    except AttributeError as exc:
        assert "no_such_thing" in str(exc)
    else:
        raise AssertionError("expected AttributeError")


def test_cli_import_pulls_in_no_heavy_library() -> None:
    code = (
        "import sys, modelyard.cli; "
        "heavy = [m for m in ('pandas', 'pyarrow', 'sklearn', 'sqlalchemy', 'numpy') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    output = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert output == ""


def test_exports_table_matches_all() -> None:
    exported = set(modelyard._EXPORTS) | modelyard._SUBMODULES | {"__version__"}
    assert exported == set(modelyard.__all__)
