"""Acquire: versioned, immutable datasets with a schema and reproducible splits."""

from modelyard.data._diff import DatasetDiff
from modelyard.data._schema import ColumnSchema, LogicalType, Role
from modelyard.data._splits import SPLIT_CODES, SplitSpec
from modelyard.data._store import DatasetStore, IngestOptions
from modelyard.data._version import DatasetRef, DatasetVersion

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
