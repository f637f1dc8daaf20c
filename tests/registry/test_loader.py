"""The one loader's parts: the manifest's one parse, the package's checks, the decision."""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import IntegrityError, InvalidInputError, NotFoundError
from modelyard.registry import PackageManifest
from modelyard.registry._archive import pack_directory
from modelyard.registry._loader import decision_index, decision_indices, open_directory

MANIFEST: dict[str, Any] = {
    "task": "binary",
    "classes": ["no", "yes"],
    "threshold": {"value": 0.3, "strategy": "f1"},
    "signature": {"inputs": [{"name": "age", "kind": "numeric", "nullable": True}]},
    "recipe": {"steps": []},
    "flavors": ["native", "pipeline"],
    "native": {"available": True, "library": "xgboost", "file": "model.xgb.ubj"},
    "files": {"pipeline.joblib": "0" * 64, "model.xgb.ubj": "1" * 64},
    "metrics": {"roc_auc": 0.9},
}


def test_a_manifest_is_parsed_into_typed_fields() -> None:
    manifest = PackageManifest.parse(json.dumps(MANIFEST).encode())
    assert manifest.task == "binary" and manifest.classes == ("no", "yes")
    assert manifest.threshold == 0.3 and manifest.input_names == ["age"]
    assert manifest.native is not None and manifest.native.file == "model.xgb.ubj"
    assert manifest.to_dict()["metrics"] == {"roc_auc": 0.9}  # the rest, as written
    assert manifest.choose_flavor("native") == "native"
    assert manifest.choose_flavor("onnx") == "native"  # not there: the first it has
    with pytest.raises(InvalidInputError, match="unknown flavor 'fast'"):
        manifest.choose_flavor("fast")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=10,
)


@settings(max_examples=60, deadline=None)
@given(
    broken=st.dictionaries(
        st.sampled_from(sorted(MANIFEST)) | st.text(max_size=8), json_values, max_size=8
    ),
    keep=st.sets(st.sampled_from(sorted(MANIFEST))),
)
def test_any_damaged_manifest_is_an_integrity_error_or_parses(
    broken: dict[str, Any], keep: set[str]
) -> None:
    document = {**{k: MANIFEST[k] for k in keep}, **broken}
    try:
        manifest = PackageManifest.parse(json.dumps(document))
    except IntegrityError as exc:
        assert "model.json is not valid" in exc.message
    else:
        assert manifest.choose_flavor("onnx") in manifest.flavors
        assert all(isinstance(name, str) for name in manifest.input_names)
        assert manifest.recipe is None or isinstance(manifest.recipe, dict)


@pytest.mark.parametrize("text", [b"", b"[1, 2]", b"{", b"\xff\xfe", b'{"task": 1}'])
def test_a_manifest_that_is_not_one_is_an_integrity_error(text: bytes) -> None:
    with pytest.raises(IntegrityError, match=re.escape("model.json is not valid")):
        PackageManifest.parse(text)


def _package(directory: Path, files: dict[str, bytes], flavors: list[str]) -> Path:
    directory.mkdir()
    for name, data in files.items():
        (directory / name).write_bytes(data)
    manifest = {
        **MANIFEST,
        "flavors": flavors,
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    (directory / "model.json").write_text(json.dumps(manifest))
    return directory


def test_a_folder_is_checked_against_its_digest_and_its_manifest(tmp_path: Path) -> None:
    package = _package(tmp_path / "p", {"pipeline.joblib": b"pickle"}, ["pipeline"])
    digest = hashlib.sha256(pack_directory(package)).hexdigest()
    assert open_directory(package, digest).files["pipeline.joblib"] == b"pickle"
    with pytest.raises(IntegrityError, match="does not match the registered digest"):
        open_directory(package, "0" * 64)
    (package / "pipeline.joblib").write_bytes(b"other")
    with pytest.raises(IntegrityError, match=re.escape("pipeline.joblib does not match its hash")):
        open_directory(package)  # no digest: the manifest's own hashes still hold


def test_a_flavor_without_its_hashed_file_is_refused(tmp_path: Path) -> None:
    package = _package(tmp_path / "p", {"pipeline.joblib": b"pickle"}, ["onnx", "pipeline"])
    with pytest.raises(IntegrityError, match="flavor onnx has no hashed file"):
        open_directory(package)


def test_a_folder_that_is_not_a_package_is_not_found(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError, match="not a model package"):
        open_directory(tmp_path)
    with pytest.raises(NotFoundError, match="is not a folder"):
        open_directory(tmp_path / "absent")


@settings(max_examples=300, deadline=None)
@given(
    rows=st.integers(1, 6).flatmap(
        lambda k: st.lists(
            st.lists(st.floats(0, 1, allow_nan=False), min_size=k, max_size=k),
            min_size=1,
            max_size=5,
        )
    ),
    task=st.sampled_from(["binary", "multiclass"]),
    threshold=st.none() | st.floats(0, 1),
)
def test_one_rows_decision_is_the_vectorised_one(
    rows: list[list[float]], task: str, threshold: float | None
) -> None:
    probabilities = np.asarray(rows, dtype=np.float64)
    if task == "binary" and probabilities.shape[1] < 2:
        return  # a binary model always has two columns
    vectorised = decision_indices(probabilities, task, threshold)
    one_by_one = [decision_index(row, task, threshold) for row in probabilities]
    assert vectorised.tolist() == one_by_one
