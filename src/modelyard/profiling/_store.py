"""A version's profile, stored as artifacts so profiling it again reuses it.

The JSON report and the HTML report are content-addressed artifacts (verified
on every read, like the data). A small pointer file per version fingerprint,
``<profiles>/<fingerprint>.json``, names them; a readable copy of the HTML,
``<profiles>/<name>-<version>.html``, is what a browser opens. A version is
immutable, so its profile never goes stale; a profile of an older layout
(:data:`~modelyard.profiling._profile.FORMAT`) is recomputed.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from modelyard.artifacts import ArtifactStore
from modelyard.data import DatasetVersion
from modelyard.errors import IntegrityError, NotFoundError
from modelyard.profiling._profile import FORMAT, Profile, profile_parquet
from modelyard.profiling._report import render_report

__all__ = ["profile_version"]


def profile_version(
    version: DatasetVersion,
    artifacts: ArtifactStore,
    folder: Path | None,
    *,
    refresh: bool = False,
) -> Profile:
    """The profile of ``version``: the stored one, or computed and stored now.

    Args:
        version: the dataset version.
        artifacts: where its data is, and where the reports go.
        folder: where the pointers and readable HTML copies live (``None``: no
            reuse, nothing kept but the artifacts).
        refresh: compute again even when a stored profile exists.

    Raises:
        IntegrityError: the version's stored data no longer matches its hash.
    """
    pointer = folder / f"{version.fingerprint}.json" if folder is not None else None
    if folder is not None and pointer is not None and not refresh:
        stored = _load(pointer, artifacts)
        if stored is not None:
            stored.report_path = _readable_copy(folder, version, artifacts, _html_digest(pointer))
            return stored
    path = artifacts.local_path(version.data_digest)
    profile = profile_parquet(path, version.columns, version.ref)
    document = json.dumps(profile.to_dict(), allow_nan=False, default=str).encode()
    json_digest = artifacts.put_bytes(document)
    html_digest = artifacts.put_bytes(render_report(profile).encode())
    if pointer is not None and folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
        _write_atomically(
            pointer,
            json.dumps({"format": FORMAT, "json": json_digest, "html": html_digest}).encode(),
        )
        profile.report_path = _readable_copy(folder, version, artifacts, html_digest)
    return profile


def _load(pointer: Path, artifacts: ArtifactStore) -> Profile | None:
    try:
        entry: dict[str, Any] = json.loads(pointer.read_bytes())
    except (OSError, ValueError):
        return None
    if entry.get("format") != FORMAT:
        return None
    try:
        return Profile.from_dict(json.loads(artifacts.get_bytes(entry["json"])))
    except (NotFoundError, IntegrityError, KeyError, ValueError, FileNotFoundError):
        # A damaged or collected report is recomputed, never trusted.
        return None


def _html_digest(pointer: Path) -> str:
    digest: str = json.loads(pointer.read_bytes())["html"]
    return digest


def _readable_copy(
    folder: Path, version: DatasetVersion, artifacts: ArtifactStore, html_digest: str
) -> Path:
    target = folder / f"{version.name}-{version.version}.html"
    if not target.exists() or target.stat().st_size != artifacts.size(html_digest):
        _write_atomically(target, artifacts.get_bytes(html_digest))
    return target


def _write_atomically(path: Path, data: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        Path(temporary).replace(path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
