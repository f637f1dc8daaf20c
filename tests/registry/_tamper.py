"""The package-cache attack of issue 16 finding 1, for the tests that must refuse it:
a swapped ``pipeline.joblib`` beside a ``model.json`` that names its hash, its
pickle creating a folder when loaded (proof that it ran)."""

from __future__ import annotations

import hashlib
import json
import os
import pickle
from pathlib import Path

__all__ = ["swap_pickle"]


class _Payload:
    """A pickle that creates a folder when it is loaded."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return os.mkdir, (str(self.marker),)


def swap_pickle(package: Path, marker: Path) -> None:
    """Swap the unpacked ``package``'s pipeline for one that creates ``marker`` when
    unpickled, and record the new pickle's hash in its manifest."""
    payload = pickle.dumps(_Payload(marker))
    (package / "pipeline.joblib").write_bytes(payload)
    manifest = json.loads((package / "model.json").read_text())
    manifest["files"]["pipeline.joblib"] = hashlib.sha256(payload).hexdigest()
    (package / "model.json").write_text(json.dumps(manifest))
