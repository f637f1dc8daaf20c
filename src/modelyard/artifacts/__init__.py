"""Content-addressed artifact storage on the local disk or any fsspec URL."""

from modelyard.artifacts._names import check_artifact_name
from modelyard.artifacts._store import (
    ArtifactStore,
    FsspecArtifactStore,
    check_digest,
    sha256_file,
)

__all__ = [
    "ArtifactStore",
    "FsspecArtifactStore",
    "check_artifact_name",
    "check_digest",
    "sha256_file",
]
