"""Versioned datasets: ingest a source once, find and read its versions.

A version is identified by its content: the Parquet bytes of the data plus the
schema choices and split. Ingesting the same content again returns the existing
version; anything different makes the next version, numbered past every version
the name ever had, deleted ones included (so ``name:N`` never comes to mean other
data: a model's lineage or a notebook may still say it). An ingest that fails leaves no
version; the content files it stored stay (another ingest of the same bytes may
already point at them) for a collector that checks the database.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.parquet as pq
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as DBIntegrityError

from modelyard.artifacts import ArtifactStore
from modelyard.data._casts import BatchCaster
from modelyard.data._diff import DatasetDiff, diff_versions
from modelyard.data._ingest import Staged, stage
from modelyard.data._readers import open_file, read_sql
from modelyard.data._schema import (
    ColumnSchema,
    LogicalType,
    Role,
    check_overrides,
    override_schema,
)
from modelyard.data._source import BatchSource, TableSource
from modelyard.data._splits import (
    SPLIT_CODES,
    SplitSpec,
    assign_splits,
    decode_splits,
    encode_splits,
)
from modelyard.data._staging import Staging
from modelyard.data._version import DatasetRef, DatasetVersion, check_name
from modelyard.errors import ConflictError, InvalidInputError, NotFoundError, StorageError
from modelyard.metadata import MetadataStore, actor_name, lock_name
from modelyard.metadata._tables import (
    DatasetDeletionRow,
    DatasetVersionRow,
    ModelRow,
    ModelVersionRow,
)

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from modelyard.profiling import Comparison, Profile

__all__ = ["DatasetStore", "IngestOptions"]

_CLASS_TYPES = {LogicalType.BOOLEAN, LogicalType.CATEGORICAL, LogicalType.INTEGER}
_MAX_CLASSES_TO_STRATIFY = 50


@dataclass(frozen=True)
class IngestOptions:
    """The user's choices for one ingest.

    Attributes:
        target: the target column.
        types: logical type per column, overriding inference.
        roles: role per column (``target``, ``identifier``, ``ignore``, ``feature``).
        split: how to split; ``None`` for no split.
        file_format: ``csv``, ``parquet`` or ``jsonl`` when the suffix does not say.
        delimiter: CSV delimiter.
        encoding: the CSV's text encoding (``latin-1``, ``cp1252``, ...); by
            default UTF-8, and a file that is not is refused with a suggestion.
        date_formats: a ``strftime`` format per column (``%d/%m/%Y``): the column
            is read as a datetime in that format.
    """

    target: str | None = None
    types: dict[str, str] = field(default_factory=dict)
    roles: dict[str, str] = field(default_factory=dict)
    split: SplitSpec | None = field(default_factory=SplitSpec)
    file_format: str | None = None
    delimiter: str | None = None
    encoding: str | None = None
    date_formats: dict[str, str] = field(default_factory=dict)


class DatasetStore:
    """Datasets of one workspace."""

    def __init__(
        self, metadata: MetadataStore, artifacts: ArtifactStore, staging: Path | None = None
    ) -> None:
        """``staging``: where ingests stage their files (``$TMPDIR`` when ``None``)."""
        self._metadata = metadata
        self._artifacts = artifacts
        self._staging = Staging(staging)
        # Profiles' pointers and readable HTML copies sit beside the staging folder.
        self._profiles = staging.parent / "profiles" if staging is not None else None

    # -- writing ---------------------------------------------------------------

    def ingest(
        self, source: str | Path, name: str, options: IngestOptions | None = None
    ) -> tuple[DatasetVersion, bool]:
        """Ingest a file as a version of dataset ``name``, streamed in bounded memory.

        Returns:
            The version, and whether it was newly created (``False``: identical
            content was already stored as that version).

        Raises:
            NotFoundError: the file does not exist.
            InvalidInputError: the file is empty, malformed (a line that does not
                parse, a quote left open, text not in its encoding), a column of a
                type a dataset cannot hold, or an option that names a column that
                does not exist or a value that does not convert.
            StorageError: the machine ran out of memory.
        """
        options = options or IngestOptions()
        check_name(name)
        check_overrides(options.types, options.roles)
        batches = open_file(source, options.file_format, options.delimiter, options.encoding)
        fmt = options.file_format or Path(source).suffix.lstrip(".").lower() or "csv"
        return self._ingest(batches, name, options, source=str(source), source_format=fmt)

    def ingest_sql(
        self, query: str, url: str, name: str, options: IngestOptions | None = None
    ) -> tuple[DatasetVersion, bool]:
        """Ingest the result of a SQL query on any SQLAlchemy URL.

        Raises:
            ConfigurationError, StorageError: the database URL is bad or unreachable.
            InvalidInputError: the query fails or returns nothing usable.
        """
        from modelyard.metadata import redact_url

        check_name(name)
        table = read_sql(query, url)
        source = f"{redact_url(url)} :: {query}"
        return self.ingest_table(table, name, options or IngestOptions(), source, "sql")

    def ingest_table(
        self,
        table: pa.Table,
        name: str,
        options: IngestOptions,
        source: str = "<table>",
        source_format: str = "arrow",
    ) -> tuple[DatasetVersion, bool]:
        """Ingest an Arrow table (any type a pandas, Polars or Spark user has).

        Raises:
            InvalidInputError: as :meth:`ingest`.
        """
        check_name(name)
        check_overrides(options.types, options.roles)
        return self._ingest(TableSource(table), name, options, source, source_format)

    def _ingest(
        self,
        batches: BatchSource,
        name: str,
        options: IngestOptions,
        source: str,
        source_format: str,
    ) -> tuple[DatasetVersion, bool]:
        """The common path of every source: stage, infer, split, store."""
        try:
            return self._stage_and_store(batches, name, options, source, source_format)
        except MemoryError as exc:
            # Arrow's allocator raises this (ArrowMemoryError) under a memory limit;
            # a one-line error beats a traceback, and the staging folder is gone.
            raise StorageError(
                f"out of memory while ingesting {source}: {exc or 'allocation failed'}",
                details={"source": source},
            ) from exc

    def _stage_and_store(
        self,
        batches: BatchSource,
        name: str,
        options: IngestOptions,
        source: str,
        source_format: str,
    ) -> tuple[DatasetVersion, bool]:
        caster = BatchCaster(types=dict(options.types), date_formats=dict(options.date_formats))
        with self._staging.folder() as scratch:
            staged = stage(batches, caster, scratch / "data.parquet", source)
            types = {**dict.fromkeys(options.date_formats, "datetime"), **options.types}
            columns = override_schema(
                staged.infer(), types=types, roles=options.roles, target=options.target
            )
            target = next((c for c in columns if c.role is Role.TARGET), None)
            if target is not None and target.missing_share == 1.0:
                raise InvalidInputError(
                    f"target column {target.name!r} has no values",
                    details={"column": target.name},
                )
            codes, summary = self._split(staged, columns, target, options.split)
            data_path = staged.path
            data_digest = _sha256(data_path)
            splits_bytes = encode_splits(codes) if codes is not None else None
            fingerprint = _fingerprint(data_digest, columns, options.split, splits_bytes)
            existing = self._find_by_fingerprint(name, fingerprint)
            if existing is not None:
                return existing, False
            return self._store(
                name=name,
                fingerprint=fingerprint,
                data_path=data_path,
                splits_bytes=splits_bytes,
                n_rows=staged.n_rows,
                n_columns=len(staged.schema),
                columns=columns,
                split=options.split,
                split_summary=summary,
                source=source,
                source_format=source_format,
            )

    def _split(
        self,
        staged: Staged,
        columns: list[ColumnSchema],
        target: ColumnSchema | None,
        spec: SplitSpec | None,
    ) -> tuple[npt.NDArray[np.uint8] | None, dict[str, Any] | None]:
        if spec is None:
            return None, None
        is_class = (
            target is not None
            and target.logical_type in _CLASS_TYPES
            and target.distinct_count <= _MAX_CLASSES_TO_STRATIFY
        )
        # Only the columns the split looks at are read back from the staged rows.
        wanted = [c.name for c in columns if c.name in (spec.time_column, target and target.name)]
        return assign_splits(staged.read(wanted), spec, target.name if target else None, is_class)

    def _store(
        self,
        *,
        name: str,
        fingerprint: str,
        data_path: Path,
        splits_bytes: bytes | None,
        n_rows: int,
        n_columns: int,
        columns: list[ColumnSchema],
        split: SplitSpec | None,
        split_summary: dict[str, Any] | None,
        source: str,
        source_format: str,
    ) -> tuple[DatasetVersion, bool]:
        # Content-addressed files are shared by every version (of any name) with the
        # same bytes, and another writer may commit a version pointing at them at any
        # moment: they are stored before the row and never deleted here, whatever
        # happens to this ingest. A failure leaves at most an unreferenced file.
        data_digest = self._artifacts.put_file(data_path)
        splits_digest = self._artifacts.put_bytes(splits_bytes) if splits_bytes else None
        try:
            with self._metadata.session() as session:
                # Serialises ingests of this name: the fingerprint check and the
                # version number below see every version committed before.
                lock_name(session, "dataset", name)
                existing = session.scalars(
                    select(DatasetVersionRow).where(
                        DatasetVersionRow.name == name,
                        DatasetVersionRow.fingerprint == fingerprint,
                    )
                ).first()
                if existing is not None:
                    return _to_version(existing), False
                row = DatasetVersionRow(
                    name=name,
                    version=_last_number(session, name) + 1,
                    fingerprint=fingerprint,
                    data_digest=data_digest,
                    splits_digest=splits_digest,
                    n_rows=n_rows,
                    n_columns=n_columns,
                    size_bytes=data_path.stat().st_size,
                    source=source,
                    source_format=source_format,
                    columns=[c.to_dict() for c in columns],
                    split_spec=split.to_dict() if split else None,
                    split_counts=split_summary,
                )
                session.add(row)
                session.flush()
                version = _to_version(row)
        except DBIntegrityError:
            # Only on a database without name locks (see lock_name): the same
            # content was stored at the same moment, and theirs stands.
            found = self._find_by_fingerprint(name, fingerprint)
            if found is not None:
                return found, False
            raise
        return version, True

    # -- reading ---------------------------------------------------------------

    def get(self, ref: str | DatasetRef) -> DatasetVersion:
        """A version by ``name[:version]`` (the newest when no version is given).

        Raises:
            NotFoundError: no such dataset or version.
        """
        parsed = DatasetRef.parse(ref) if isinstance(ref, str) else ref
        with self._metadata.session() as session:
            query = select(DatasetVersionRow).where(DatasetVersionRow.name == parsed.name)
            if parsed.version is None:
                query = query.order_by(DatasetVersionRow.version.desc()).limit(1)
            else:
                query = query.where(DatasetVersionRow.version == parsed.version)
            row = session.scalars(query).first()
            if row is not None:
                return _to_version(row)
        known = self.list_versions(parsed.name) if parsed.version else []
        detail = f"; versions: {', '.join(str(v.version) for v in known)}" if known else ""
        raise NotFoundError(f"dataset {parsed} not found{detail}")

    def list_versions(self, name: str | None = None) -> list[DatasetVersion]:
        """Every version, newest first, of one dataset or of all."""
        with self._metadata.session() as session:
            query = select(DatasetVersionRow).order_by(
                DatasetVersionRow.name, DatasetVersionRow.version.desc()
            )
            if name is not None:
                query = query.where(DatasetVersionRow.name == name)
            return [_to_version(row) for row in session.scalars(query)]

    def read(
        self,
        ref: str | DatasetVersion,
        split: str | None = None,
        columns: list[str] | None = None,
    ) -> pa.Table:
        """The rows of a version (of one split when ``split`` is given), verified.

        Raises:
            InvalidInputError: an unknown split name, or a version stored without
                splits, or an unknown column.
            IntegrityError: the stored data no longer matches its hash.
        """
        version = self.get(ref) if isinstance(ref, str) else ref
        if columns is not None:
            for column in columns:
                version.column(column)
        table = pq.read_table(self._artifacts.local_path(version.data_digest), columns=columns)
        if split is None:
            return table
        if split not in SPLIT_CODES:
            raise InvalidInputError(
                f"unknown split {split!r}: use train, validation or test",
                details={"split": split},
            )
        if version.splits_digest is None:
            raise InvalidInputError(f"dataset {version.ref} was stored without splits")
        codes = decode_splits(self._artifacts.get_bytes(version.splits_digest))
        return table.filter(pa.array(codes == SPLIT_CODES[split]))

    def split_codes(self, version: DatasetVersion) -> npt.NDArray[np.uint8] | None:
        """The stored split code of every row (0 train, 1 validation, 2 test)."""
        if version.splits_digest is None:
            return None
        return decode_splits(self._artifacts.get_bytes(version.splits_digest))

    def head(self, ref: str | DatasetVersion, n_rows: int = 10) -> pa.Table:
        """The first rows of a version."""
        version = self.get(ref) if isinstance(ref, str) else ref
        path = self._artifacts.local_path(version.data_digest)
        batches = pq.ParquetFile(path).iter_batches(batch_size=max(n_rows, 1))
        first = next(batches, None)
        if first is None:
            return pq.read_schema(path).empty_table()
        return pa.Table.from_batches([first]).slice(0, n_rows)

    def diff(self, old: str, new: str) -> DatasetDiff:
        """Compare two versions."""
        return diff_versions(self.get(old), self.get(new))

    def profile(self, ref: str | DatasetVersion, *, refresh: bool = False) -> Profile:
        """The profile of a version (:mod:`modelyard.profiling`): stored, or computed now.

        Raises:
            NotFoundError: no such version.
            MissingDependencyError: the ``profiling`` extra is not installed.
        """
        from modelyard.profiling import profile_version

        version = self.get(ref) if isinstance(ref, str) else ref
        return profile_version(version, self._artifacts, self._profiles, refresh=refresh)

    def compare(self, reference: str, current: str) -> Comparison:
        """Two versions (or datasets) side by side with a shift measure per column."""
        from modelyard.profiling import compare_profiles

        old, new = self.get(reference), self.get(current)
        return compare_profiles(
            self.profile(old),
            self.profile(new),
            self._artifacts.local_path(old.data_digest),
            self._artifacts.local_path(new.data_digest),
        )

    # -- deleting --------------------------------------------------------------

    def delete(self, ref: str, *, force: bool = False, actor: str | None = None) -> DatasetVersion:
        """Delete one version's row (``name:version``; the version must be named).

        Only the metadata goes: the Parquet and split files are content-addressed and
        may be another version's too, so a writer never removes them (see
        :mod:`modelyard.artifacts`). A version that a registered model version's
        lineage names is refused, naming that model version, unless ``force``.
        A record of the deletion stays, and its number is never given again.

        Raises:
            InvalidInputError: no version in ``ref``.
            NotFoundError: no such version.
            ConflictError: a model version's lineage names it (and not ``force``).
        """
        parsed = DatasetRef.parse(ref)
        if parsed.version is None:
            raise InvalidInputError(f"name the version to delete: {parsed.name}:VERSION")
        version = self.get(parsed)
        with self._metadata.session() as session:
            lock_name(session, "dataset", version.name)
            if not force:
                holders = session.execute(
                    select(ModelRow.name, ModelVersionRow.version, ModelVersionRow.lineage)
                    .join(ModelRow, ModelRow.id == ModelVersionRow.model_id)
                    .order_by(ModelRow.name, ModelVersionRow.version)
                ).all()
                users = [
                    f"{n}:{v}" for n, v, lineage in holders if lineage.get("dataset") == version.ref
                ]
                if users:
                    raise ConflictError(
                        f"dataset {version.ref} is in the lineage of model "
                        f"{', '.join(users)}; pass --force to delete it anyway"
                    )
            row = session.scalars(
                select(DatasetVersionRow).where(
                    DatasetVersionRow.name == version.name,
                    DatasetVersionRow.version == version.version,
                )
            ).first()
            if row is None:
                raise NotFoundError(f"dataset {version.ref} not found")
            session.add(
                DatasetDeletionRow(
                    name=row.name,
                    version=row.version,
                    fingerprint=row.fingerprint,
                    forced=force,
                    actor=actor_name(actor),
                )
            )
            session.delete(row)
        return version

    def _find_by_fingerprint(self, name: str, fingerprint: str) -> DatasetVersion | None:
        with self._metadata.session() as session:
            row = session.scalars(
                select(DatasetVersionRow).where(
                    DatasetVersionRow.name == name, DatasetVersionRow.fingerprint == fingerprint
                )
            ).first()
            return _to_version(row) if row is not None else None


def _sha256(path: Path) -> str:
    from modelyard.artifacts import sha256_file

    return sha256_file(path)


def _fingerprint(
    data_digest: str,
    columns: list[ColumnSchema],
    split: SplitSpec | None,
    splits_bytes: bytes | None,
) -> str:
    """Identity of a version: its data plus every choice that changes what it means."""
    choices = {
        "data": data_digest,
        "columns": [[c.name, c.logical_type.value, c.role.value] for c in columns],
        "split": split.to_dict() if split else None,
        "splits": hashlib.sha256(splits_bytes).hexdigest() if splits_bytes else None,
    }
    return hashlib.sha256(json.dumps(choices, sort_keys=True).encode()).hexdigest()


def _last_number(session: Session, name: str) -> int:
    """The highest number ``name`` ever gave a version, deleted ones included."""
    kept = select(func.max(DatasetVersionRow.version)).where(DatasetVersionRow.name == name)
    deleted = select(func.max(DatasetDeletionRow.version)).where(DatasetDeletionRow.name == name)
    return max(session.scalar(kept) or 0, session.scalar(deleted) or 0)


def _to_version(row: DatasetVersionRow) -> DatasetVersion:
    return DatasetVersion(
        name=row.name,
        version=row.version,
        fingerprint=row.fingerprint,
        data_digest=row.data_digest,
        splits_digest=row.splits_digest,
        n_rows=row.n_rows,
        n_columns=row.n_columns,
        size_bytes=row.size_bytes,
        source=row.source,
        source_format=row.source_format,
        columns=[ColumnSchema.from_dict(c) for c in row.columns],
        split_spec=row.split_spec,
        split_summary=row.split_counts,
        created_at=row.created_at,
    )
