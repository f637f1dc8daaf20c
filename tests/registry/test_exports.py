"""The public surface of modelyard.registry is pinned, and resolving a version stays light."""

from __future__ import annotations

import subprocess
import sys

import modelyard.registry as registry

EXPECTED = {
    "NATIVE_TOLERANCE",
    "ONNX_TOLERANCE",
    "PARALLEL_ROWS",
    "ApprovalStatus",
    "LoadedModel",
    "ModelEvent",
    "ModelRef",
    "ModelRegistry",
    "ModelVersion",
    "NativeOutcome",
    "OnnxOutcome",
    "PackageManifest",
    "Prediction",
    "compile_onnx",
    "diff_versions",
    "export_native",
    "load_model",
    "predict_file",
    "write_package",
}


def test_public_names_are_pinned() -> None:
    assert set(registry.__all__) == EXPECTED
    for name in registry.__all__:
        assert getattr(registry, name) is not None


def test_the_manifest_type_imports_nothing_heavy() -> None:
    """A batch job's driver parses manifests: that brings neither numpy nor pandas
    nor the database layer."""
    code = (
        "import sys; from modelyard.registry import PackageManifest; "
        "print(','.join(m for m in ('numpy', 'pandas', 'sqlalchemy', 'sklearn') "
        "if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == ""
