"""Acquire: versioned, immutable datasets with a schema and reproducible splits.

The store, ingest options and splits are imported on first use (PEP 562): they
need Arrow, which what only names a dataset version or reads its schema (the
registry, run listings, every command that opens a workspace) does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard._lazy import lazy_names
from modelyard.data._diff import DatasetDiff
from modelyard.data._schema import ColumnSchema, LogicalType, Role
from modelyard.data._version import DatasetRef, DatasetVersion

if TYPE_CHECKING:
    from modelyard.data._splits import SPLIT_CODES, SplitSpec
    from modelyard.data._store import DatasetStore, IngestOptions

_EXPORTS = {
    "SPLIT_CODES": "modelyard.data._splits",
    "SplitSpec": "modelyard.data._splits",
    "DatasetStore": "modelyard.data._store",
    "IngestOptions": "modelyard.data._store",
}

__all__ = [
    "SPLIT_CODES",
    "ColumnSchema",
    "DatasetDiff",
    "DatasetRef",
    "DatasetStore",
    "DatasetVersion",
    "IngestOptions",
    "LogicalType",
    "Role",
    "SplitSpec",
]

__getattr__, __dir__ = lazy_names(__name__, globals(), _EXPORTS, __all__)
