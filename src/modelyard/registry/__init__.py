"""Register: model versions with lineage, aliases, approval and verified packages."""

from modelyard.registry._native import NATIVE_TOLERANCE, NativeOutcome, export_native
from modelyard.registry._onnx import ONNX_TOLERANCE, OnnxOutcome, compile_onnx
from modelyard.registry._package import LoadedModel, Prediction, load_model, write_package
from modelyard.registry._predict import predict_file
from modelyard.registry._records import ApprovalStatus, ModelEvent, ModelRef, ModelVersion
from modelyard.registry._store import ModelRegistry, diff_versions

__all__ = [
    "NATIVE_TOLERANCE",
    "ONNX_TOLERANCE",
    "ApprovalStatus",
    "LoadedModel",
    "ModelEvent",
    "ModelRef",
    "ModelRegistry",
    "ModelVersion",
    "NativeOutcome",
    "OnnxOutcome",
    "Prediction",
    "compile_onnx",
    "diff_versions",
    "export_native",
    "load_model",
    "predict_file",
    "write_package",
]
