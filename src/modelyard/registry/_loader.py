"""The one model loader: a package's verified files, its flavor chosen, its engine built.

:class:`~modelyard.registry.LoadedModel` (serving, local predict) and a batch
worker's scorer both load through here, so verification, the choice of flavor, the
engines and the decision exist once. Light on purpose: numpy, and the flavor's own
library when it is loaded; no pandas, no feature recipe class (each caller builds
its matrices its own way: a DataFrame or request columns, or Arrow record batches).
"""

from __future__ import annotations

import hashlib
import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
import numpy.typing as npt

from modelyard.errors import IntegrityError, NotFoundError
from modelyard.registry._archive import cached_package, files_digest, read_files
from modelyard.registry._manifest import MANIFEST, PackageManifest

if TYPE_CHECKING:
    from modelyard.artifacts import ArtifactStore

__all__ = [
    "ONNX_FILE",
    "PIPELINE_FILE",
    "Engine",
    "VerifiedPackage",
    "decision_index",
    "decision_indices",
    "open_cached",
    "open_directory",
]

PIPELINE_FILE = "pipeline.joblib"
ONNX_FILE = "model.onnx"
BASELINE_FILE = "baseline.json"


class Engine(Protocol):
    """A compiled model on the feature matrix: the ONNX graph or the native booster."""

    def run(self, matrix: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
        """Probabilities ``(n, k)`` for a classifier, values ``(n,)`` for a regressor."""
        ...


@dataclass(frozen=True)
class VerifiedPackage:
    """A package's files, every one checked, and its parsed manifest.

    Loading reads the flavor's file from these bytes, never from disk again, so
    what was checked is what is loaded.
    """

    directory: Path
    manifest: PackageManifest
    files: Mapping[str, bytes]

    def engine(self, flavor: str, *, use: str = "serve") -> Engine:
        """The ONNX graph's session or the native booster (``flavor``: ``onnx`` or
        ``native``); ``use``: what the ONNX session serves (see
        :class:`~modelyard.registry._onnx.OnnxModel`)."""
        classification = self.manifest.task != "regression"
        if flavor == "onnx":
            from modelyard.registry._onnx import OnnxModel

            return OnnxModel(self.files[ONNX_FILE], use=use)
        if flavor == "native":
            from modelyard.registry._native import NativeModel

            entry = self.manifest.native
            assert entry is not None  # parsed with the flavor
            return NativeModel(entry.library, self.files[entry.file], classification=classification)
        raise ValueError(f"the {flavor} flavor has no engine")

    def pipeline(self) -> Any:
        """The fitted scikit-learn pipeline: the one flavor that executes a pickle,
        so only ever from checked bytes."""
        import joblib

        return joblib.load(io.BytesIO(self.files[PIPELINE_FILE]))


def _checked(directory: Path, files: dict[str, bytes]) -> VerifiedPackage:
    """The package of ``files``, once each matches its hash in the manifest."""
    if MANIFEST not in files:
        raise NotFoundError(f"no {MANIFEST} in {directory}: not a model package")
    manifest = PackageManifest.parse(files[MANIFEST])
    for name, digest in manifest.files.items():
        data = files.get(name)
        if data is None or hashlib.sha256(data).hexdigest() != digest:
            raise IntegrityError(f"model package file {name} does not match its hash")
    needed = {
        "onnx": ONNX_FILE,
        "native": manifest.native.file if manifest.native else None,
        "pipeline": PIPELINE_FILE,
    }
    for flavor in manifest.flavors:
        file = needed[flavor]
        if file is None or file not in manifest.files:
            raise IntegrityError(f"model package flavor {flavor} has no hashed file")
    return VerifiedPackage(directory, manifest, files)


def open_directory(directory: Path, digest: str | None = None) -> VerifiedPackage:
    """A package folder's files, checked against ``digest`` (its archive's sha256,
    as the registry records it) when given, and each against the manifest's hashes.

    Raises:
        NotFoundError: no manifest: not a package.
        IntegrityError: a file does not match.
    """
    if not directory.is_dir():
        raise NotFoundError(f"model package {directory} is not a folder")
    files = read_files(directory)
    if digest is not None and files_digest(files) != digest:
        raise IntegrityError(
            f"model package {directory} does not match the registered digest {digest[:12]}",
            details={"package": str(directory), "digest": digest},
        )
    return _checked(directory, files)


def open_cached(
    artifacts: ArtifactStore | Callable[[], ArtifactStore], digest: str, cache: Path
) -> VerifiedPackage:
    """The registered package of archive ``digest``, through the local ``cache``
    (see :func:`~modelyard.registry._archive.cached_package`): checked against the
    digest, warm cache or cold, and each file against the manifest."""
    directory, files = cached_package(artifacts, digest, cache)
    return _checked(directory, files)


def decision_indices(
    probabilities: npt.NDArray[np.float64], task: str, threshold: float | None
) -> npt.NDArray[np.intp]:
    """The index of each row's predicted class: a binary model's tuned threshold on
    the positive class when it has one, else the most probable class."""
    if task == "binary" and threshold is not None:
        return (probabilities[:, 1] >= threshold).astype(np.intp)
    indices: npt.NDArray[np.intp] = np.argmax(probabilities, axis=1)
    return indices


def decision_index(row: npt.NDArray[np.float64], task: str, threshold: float | None) -> int:
    """:func:`decision_indices` of one row (a request's), without numpy's per-call
    cost of the vectorised form, which exceeds the rule itself on one row."""
    if task == "binary" and threshold is not None:
        return 1 if row[1] >= threshold else 0
    return int(row.argmax())
