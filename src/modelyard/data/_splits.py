"""Reproducible train / validation / test splits.

A split is stored with its dataset version as one small array (0 train,
1 validation, 2 test per row), so every later step sees exactly the same rows.
"""

from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import numpy.random
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from modelyard.data._types import numpy_values
from modelyard.errors import InvalidInputError

__all__ = ["SPLIT_CODES", "SplitSpec", "assign_splits", "decode_splits", "encode_splits"]

SPLIT_CODES = {"train": 0, "validation": 1, "test": 2}

# numpy.random is a set of shared libraries that numpy loads on first use. Loaded
# at the end of a large ingest, under a memory limit, with Arrow's threads running,
# glibc could not give the new libraries' thread-local storage to those threads and
# aborted the process; loaded here, that happens before any data is read.


@dataclass(frozen=True)
class SplitSpec:
    """How rows are divided.

    Attributes:
        train, validation, test: shares summing to 1.
        seed: random seed (ignored for time-ordered splits).
        stratify: keep the target's class shares in each split.
        time_column: order rows by this datetime column instead: the oldest go to
            train, the newest to test.
    """

    train: float = 0.7
    validation: float = 0.15
    test: float = 0.15
    seed: int = 42
    stratify: bool = True
    time_column: str | None = None

    def __post_init__(self) -> None:
        shares = (self.train, self.validation, self.test)
        if any(share < 0 or share > 1 for share in shares) or abs(sum(shares) - 1) > 1e-6:
            raise InvalidInputError(
                f"split shares must be between 0 and 1 and sum to 1, got "
                f"train={self.train}, validation={self.validation}, test={self.test}",
                details={"split": asdict(self)},
            )
        if self.train == 0:
            raise InvalidInputError("the train share of a split must be above 0")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)

    @classmethod
    def parse_ratios(cls, text: str, **kwargs: Any) -> SplitSpec:
        """``"0.7,0.15,0.15"`` (train, validation, test) into a spec."""
        try:
            parts = [float(part) for part in text.split(",")]
        except ValueError:
            parts = []
        if len(parts) != 3:
            raise InvalidInputError(
                f"bad split ratios {text!r}: give three numbers, e.g. 0.7,0.15,0.15"
            )
        return cls(train=parts[0], validation=parts[1], test=parts[2], **kwargs)


def _counts(n_rows: int, spec: SplitSpec) -> tuple[int, int, int]:
    n_test = round(n_rows * spec.test)
    n_validation = round(n_rows * spec.validation)
    n_train = n_rows - n_test - n_validation
    if n_train < 1:
        n_train, n_validation, n_test = n_rows, 0, 0
    return n_train, n_validation, n_test


def assign_splits(
    table: pa.Table, spec: SplitSpec, target: str | None, target_is_class: bool
) -> tuple[npt.NDArray[np.uint8], dict[str, Any]]:
    """Give each row a split code; return the codes and a summary.

    Stratifies on ``target`` when the spec asks and the target is a class label
    with at least as many rows per class as there are non-empty splits; otherwise
    falls back to a plain shuffle and says why in the summary.

    Raises:
        InvalidInputError: ``time_column`` does not exist or is not a datetime.
    """
    n_rows = table.num_rows
    n_train, n_validation, _ = _counts(n_rows, spec)
    codes = np.full(n_rows, SPLIT_CODES["test"], dtype=np.uint8)
    summary: dict[str, Any] = {"method": "random", "stratified_on": None}
    if spec.time_column is not None:
        order = _time_order(table, spec.time_column)
        summary = {"method": "time", "ordered_by": spec.time_column}
    else:
        rng = np.random.default_rng(spec.seed)
        order = rng.permutation(n_rows)
        if spec.stratify and target is not None and target_is_class:
            stratified, reason = _stratified_order(table, target, spec, rng)
            if stratified is not None:
                order = stratified
                summary = {"method": "stratified", "stratified_on": target}
            else:
                summary["note"] = reason
    codes[order[:n_train]] = SPLIT_CODES["train"]
    codes[order[n_train : n_train + n_validation]] = SPLIT_CODES["validation"]
    summary["counts"] = {name: int((codes == code).sum()) for name, code in SPLIT_CODES.items()}
    return codes, summary


def _time_order(table: pa.Table, column_name: str) -> npt.NDArray[np.int64]:
    if column_name not in table.column_names:
        raise InvalidInputError(
            f"cannot order the split by {column_name!r}: no such column",
            details={"column": column_name},
        )
    column = table.column(column_name)
    if not (pa.types.is_timestamp(column.type) or pa.types.is_date(column.type)):
        raise InvalidInputError(
            f"cannot order the split by {column_name!r}: it is {column.type}, not a datetime",
            details={"column": column_name},
        )
    indices = pc.array_sort_indices(
        column.combine_chunks(), order="ascending", null_placement="at_end"
    )
    return numpy_values(indices).astype(np.int64)


def _stratified_order(
    table: pa.Table, target: str, spec: SplitSpec, rng: np.random.Generator
) -> tuple[npt.NDArray[np.int64] | None, str]:
    """An order in which every prefix keeps the class shares (round-robin by share)."""
    encoded = pc.dictionary_encode(table.column(target).combine_chunks(), null_encoding="encode")
    inverse = numpy_values(encoded.indices).astype(np.int64)
    classes = encoded.dictionary.to_pylist()
    counts = np.bincount(inverse, minlength=len(classes))
    needed = sum(1 for share in (spec.train, spec.validation, spec.test) if share > 0)
    if counts.min() < needed:
        rare = classes[counts.argmin()]
        return None, (
            f"not stratified: class {rare!r} of {target!r} has {counts.min()} rows, "
            f"fewer than the {needed} splits"
        )
    # Each row gets a key: its rank within its class divided by the class size, so
    # sorting by key interleaves classes in proportion; a random tie-break shuffles.
    within_rank = np.empty(len(inverse), dtype=np.float64)
    order_by_class = np.argsort(inverse, kind="stable")
    boundaries = np.cumsum(counts)[:-1]
    for members in np.split(order_by_class, boundaries):
        within_rank[rng.permutation(members)] = (np.arange(len(members)) + rng.random()) / len(
            members
        )
    return np.argsort(within_rank, kind="stable").astype(np.int64), ""


def encode_splits(codes: npt.NDArray[np.uint8]) -> bytes:
    """Serialise split codes for the artifact store."""
    buffer = io.BytesIO()
    np.save(buffer, codes, allow_pickle=False)
    return buffer.getvalue()


def decode_splits(data: bytes) -> npt.NDArray[np.uint8]:
    """Inverse of :func:`encode_splits`."""
    return np.asarray(np.load(io.BytesIO(data), allow_pickle=False), dtype=np.uint8)
