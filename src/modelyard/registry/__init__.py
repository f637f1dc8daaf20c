"""Register: model versions with lineage, aliases, approval and verified packages.

Names are imported on first use (PEP 562): the registry's store needs SQLAlchemy,
loading brings numpy and the model libraries, predicting on DataFrames pandas; a
batch job's driver (it only resolves a version) and its workers (they only load
through :mod:`._loader`) each pay for what they use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard._lazy import lazy_names

if TYPE_CHECKING:
    from modelyard.registry._manifest import PackageManifest
    from modelyard.registry._native import NATIVE_TOLERANCE, NativeOutcome, export_native
    from modelyard.registry._onnx import ONNX_TOLERANCE, PARALLEL_ROWS, OnnxOutcome, compile_onnx
    from modelyard.registry._package import LoadedModel, Prediction, load_model, write_package
    from modelyard.registry._predict import predict_file
    from modelyard.registry._records import ApprovalStatus, ModelEvent, ModelRef, ModelVersion
    from modelyard.registry._store import ModelRegistry, diff_versions

_EXPORTS = {
    "ApprovalStatus": "modelyard.registry._records",
    "ModelEvent": "modelyard.registry._records",
    "ModelRef": "modelyard.registry._records",
    "ModelVersion": "modelyard.registry._records",
    "ModelRegistry": "modelyard.registry._store",
    "diff_versions": "modelyard.registry._store",
    "PackageManifest": "modelyard.registry._manifest",
    "NATIVE_TOLERANCE": "modelyard.registry._native",
    "NativeOutcome": "modelyard.registry._native",
    "export_native": "modelyard.registry._native",
    "ONNX_TOLERANCE": "modelyard.registry._onnx",
    "PARALLEL_ROWS": "modelyard.registry._onnx",
    "OnnxOutcome": "modelyard.registry._onnx",
    "compile_onnx": "modelyard.registry._onnx",
    "LoadedModel": "modelyard.registry._package",
    "Prediction": "modelyard.registry._package",
    "load_model": "modelyard.registry._package",
    "write_package": "modelyard.registry._package",
    "predict_file": "modelyard.registry._predict",
}

__all__ = [
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
]


__getattr__, __dir__ = lazy_names(__name__, globals(), _EXPORTS, __all__)
