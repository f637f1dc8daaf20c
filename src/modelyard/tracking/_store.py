"""The run store: experiments and runs in the metadata database."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from modelyard.artifacts import ArtifactStore, check_artifact_name
from modelyard.data._version import check_name
from modelyard.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.jobs._owner import ProcessOwner
from modelyard.metadata import MetadataStore, lock_name
from modelyard.metadata._tables import (
    ExperimentRow,
    MetricRow,
    ModelRow,
    ModelVersionRow,
    ParamRow,
    RunArtifactRow,
    RunRow,
    TagRow,
    utcnow,
)
from modelyard.tracking._records import (
    ArtifactInfo,
    MetricPoint,
    RunComparison,
    RunInfo,
    RunStatus,
)

if TYPE_CHECKING:
    from modelyard.tracking._search import RunPage

__all__ = ["RunStore"]

_MAX_KEY = 250


def _gone_owner(row: RunRow) -> ProcessOwner | None:
    """The owner of a run marked running, if that process certainly ended."""
    owner = ProcessOwner.parse(row.owner)
    if row.status != RunStatus.RUNNING.value or owner is None:
        return None
    return owner if owner.gone(row.start_time) else None


def _check_key(key: str, kind: str) -> str:
    if not isinstance(key, str) or not key.strip() or len(key) > _MAX_KEY:
        raise InvalidInputError(
            f"invalid {kind} name {key!r}: a non-empty string of at most {_MAX_KEY} characters",
            details={kind: key},
        )
    return key


def _check_value(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        try:
            import numpy as np

            if isinstance(value, np.generic) and np.issubdtype(type(value), np.number):
                return float(value)
        except ImportError:  # pragma: no cover - numpy is a core dependency
            pass
        raise InvalidInputError(
            f"metric {key!r} must be a number, got {type(value).__name__}",
            details={"metric": key},
        )
    return float(value)


class RunStore:
    """Experiments and runs of one workspace."""

    def __init__(self, metadata: MetadataStore, artifacts: ArtifactStore) -> None:
        self._metadata = metadata
        self._artifacts = artifacts

    # -- lifecycle -------------------------------------------------------------

    def create(
        self,
        experiment: str,
        name: str | None = None,
        *,
        environment: dict[str, Any] | None = None,
        tags: Mapping[str, str] | None = None,
    ) -> str:
        """Start a run in ``experiment`` (created on first use); return its id."""
        check_name(experiment, "experiment")
        run_id = uuid.uuid4().hex
        with self._metadata.session() as session:
            experiment_row = self._experiment(session, experiment)
            session.add(
                RunRow(
                    id=run_id,
                    experiment_id=experiment_row.id,
                    name=name or f"{experiment}-{run_id[:8]}",
                    status=RunStatus.RUNNING.value,
                    start_time=utcnow(),
                    environment=environment or {},
                    inputs=[],
                    owner=str(ProcessOwner.current()),
                )
            )
            for key, value in (tags or {}).items():
                session.add(TagRow(run_id=run_id, key=_check_key(key, "tag"), value=str(value)))
        return run_id

    def finish(self, run_id: str, status: RunStatus, error: str | None = None) -> None:
        """Mark a run ended; its record is then closed to writes."""
        with self._metadata.session() as session:
            row = self._running(session, run_id)
            row.status = status.value
            row.end_time = utcnow()
            row.error = error

    def collect_stale(self) -> list[str]:
        """Mark failed every run still marked running whose process certainly ended.

        A process killed with ``kill -9`` cannot close its run; only its own host
        can tell that it ended, so runs of other hosts are left as they are (run
        this there). Returns the ids of the runs marked failed.
        """
        with self._metadata.session() as session:
            rows = session.scalars(
                select(RunRow).where(RunRow.status == RunStatus.RUNNING.value)
            ).all()
            stale = [(row, owner) for row in rows if (owner := _gone_owner(row)) is not None]
            for row, owner in stale:
                row.status = RunStatus.FAILED.value
                row.end_time = utcnow()
                row.error = (
                    f"its process ({owner}) ended without closing the run (killed?); "
                    "marked failed by `runs gc`"
                )
            return [row.id for row, _ in stale]

    def _experiment(self, session: Session, name: str) -> ExperimentRow:
        """The experiment's row, created by the first run that needs it.

        Creators of one name take turns (:func:`~modelyard.metadata.lock_name`) and
        look again once they hold the lock: two first runs started at once both
        land in the one experiment, with no unique-constraint error.
        """
        query = select(ExperimentRow).where(ExperimentRow.name == name)
        row = session.scalars(query).first()
        if row is None:
            lock_name(session, "experiment", name)
            row = session.scalars(query).first()
        if row is None:
            row = ExperimentRow(name=name)
            session.add(row)
            session.flush()
        return row

    def _running(self, session: Session, run_id: str, *, lock: bool = False) -> RunRow:
        """The run's row, refusing an ended run.

        ``lock``: for a write that reads first (a parameter set once, the list of
        inputs, a tag or artifact replaced): writers of one run take turns
        (:func:`~modelyard.metadata.lock_name`), so two threads of a run neither
        hit a unique constraint nor lose each other's input.
        """
        if lock:
            lock_name(session, "run", run_id)
        row = session.get(RunRow, run_id)
        if row is None:
            raise NotFoundError(f"run {run_id} not found")
        if row.status != RunStatus.RUNNING.value:
            raise ConflictError(f"run {run_id} has ended ({row.status}); it cannot be changed")
        return row

    # -- logging ---------------------------------------------------------------

    def log_params(self, run_id: str, params: Mapping[str, Any]) -> None:
        """Record parameters; a parameter, once set, keeps its value.

        Raises:
            ConflictError: a parameter is logged again with a different value.
        """
        texts = {_check_key(key, "param"): str(value) for key, value in params.items()}
        with self._metadata.session() as session:
            self._running(session, run_id, lock=True)
            # one query for the values already set, not one per parameter
            existing = dict(
                session.execute(
                    select(ParamRow.key, ParamRow.value).where(
                        ParamRow.run_id == run_id, ParamRow.key.in_(list(texts))
                    )
                ).all()
            )
            for key, text in texts.items():
                if key not in existing:
                    session.add(ParamRow(run_id=run_id, key=key, value=text))
                elif existing[key] != text:
                    raise ConflictError(
                        f"param {key!r} of run {run_id} is already {existing[key]!r}; "
                        f"cannot change it to {text!r}",
                        details={"param": key},
                    )

    def log_metrics(self, run_id: str, points: Iterable[MetricPoint]) -> int:
        """Record metric values in one transaction; return how many."""
        rows = [
            {
                "run_id": run_id,
                "key": _check_key(p.key, "metric"),
                "value": _check_value(p.key, p.value),
                "step": int(p.step),
                "timestamp": float(p.timestamp),
            }
            for p in points
        ]
        if not rows:
            return 0
        with self._metadata.session() as session:
            self._running(session, run_id)
            session.execute(insert(MetricRow), rows)
        return len(rows)

    def set_tags(self, run_id: str, tags: Mapping[str, Any]) -> None:
        """Set tags, overwriting earlier values (allowed after the run ended)."""
        with self._metadata.session() as session:
            lock_name(session, "run", run_id)
            if session.get(RunRow, run_id) is None:
                raise NotFoundError(f"run {run_id} not found")
            for key, value in tags.items():
                session.merge(TagRow(run_id=run_id, key=_check_key(key, "tag"), value=str(value)))

    def add_input(self, run_id: str, record: dict[str, Any]) -> None:
        """Record a dataset (or other input) the run consumed, for lineage."""
        with self._metadata.session() as session:
            row = self._running(session, run_id, lock=True)
            row.inputs = [*row.inputs, record]

    def log_artifact(self, run_id: str, source: str | Path | bytes, name: str) -> ArtifactInfo:
        """Store a file (or bytes) as the run's artifact ``name``.

        Raises:
            InvalidInputError: a name that could escape the run (``..``, absolute).
            NotFoundError: the file does not exist.
        """
        name = check_artifact_name(name)
        if isinstance(source, bytes):
            digest = self._artifacts.put_bytes(source)
        else:
            path = Path(source)
            if not path.is_file():
                raise NotFoundError(f"file not found: {path}", details={"file": str(path)})
            digest = self._artifacts.put_file(path)
        size = self._artifacts.size(digest)
        with self._metadata.session() as session:
            self._running(session, run_id, lock=True)
            session.merge(RunArtifactRow(run_id=run_id, name=name, digest=digest, size_bytes=size))
        return ArtifactInfo(name=name, digest=digest, size_bytes=size)

    # -- reading ---------------------------------------------------------------

    def resolve_id(self, run_id: str) -> str:
        """The full id of a run given its id or a unique prefix (at least 4 characters).

        Raises:
            NotFoundError: no run, or several runs, match.
        """
        if len(run_id) < 4 or not all(c in "0123456789abcdef" for c in run_id.lower()):
            raise NotFoundError(f"run {run_id!r} not found (give at least 4 hex characters)")
        with self._metadata.session() as session:
            matches = session.scalars(
                select(RunRow.id).where(RunRow.id.startswith(run_id.lower())).limit(2)
            ).all()
        if len(matches) != 1:
            why = "not found" if not matches else "is ambiguous: give more characters"
            raise NotFoundError(f"run {run_id} {why}")
        return matches[0]

    def get(self, run_id: str) -> RunInfo:
        """The full record of a run (by id or unique prefix)."""
        full_id = self.resolve_id(run_id)
        with self._metadata.session() as session:
            row = session.get(RunRow, full_id)
            assert row is not None
            return self._info(session, row, full=True)

    def list_runs(
        self,
        experiment: str | None = None,
        status: RunStatus | None = None,
        limit: int = 50,
    ) -> list[RunInfo]:
        """Runs, newest first, with their params and last metric values."""
        with self._metadata.session() as session:
            query = select(RunRow).order_by(RunRow.start_time.desc()).limit(limit)
            if experiment is not None:
                query = query.join(ExperimentRow).where(ExperimentRow.name == experiment)
            if status is not None:
                query = query.where(RunRow.status == status.value)
            return [self._info(session, row, full=False) for row in session.scalars(query)]

    def search(
        self,
        experiment: str | None = None,
        filter: str = "",
        order: str = "start_time desc",
        offset: int = 0,
        limit: int = 50,
    ) -> RunPage:
        """One page of the runs matching a filter expression, in the database.

        ``filter``: clauses joined by ``and`` such as
        ``metrics.roc_auc > 0.8 and params.algorithm = 'xgboost'`` (see
        :func:`~modelyard.tracking.parse_filter`); ``order``: ``FIELD [asc|desc]``
        with FIELD ``start_time``, ``name``, ``status``, ``metrics.KEY`` or
        ``params.KEY`` (runs without the key last). The page holds each run's
        params, tags and last metric values; ``total`` counts every match.

        Raises:
            InvalidInputError: a filter or order that does not parse, or a bad page.
        """
        from modelyard.tracking._search import parse_filter, search_runs

        clauses = parse_filter(filter)
        with self._metadata.session() as session:
            return search_runs(session, experiment, clauses, order, offset, limit)

    def experiments(self) -> list[str]:
        """The names of every experiment, in order."""
        with self._metadata.session() as session:
            return list(session.scalars(select(ExperimentRow.name).order_by(ExperimentRow.name)))

    def metric_history(self, run_id: str, key: str) -> list[MetricPoint]:
        """Every logged value of one metric, in step then time order."""
        full_id = self.resolve_id(run_id)
        with self._metadata.session() as session:
            rows = session.scalars(
                select(MetricRow)
                .where(MetricRow.run_id == full_id, MetricRow.key == key)
                .order_by(MetricRow.step, MetricRow.timestamp, MetricRow.id)
            ).all()
            return [MetricPoint(r.key, r.value, r.step, r.timestamp) for r in rows]

    def artifact_bytes(self, run_id: str, name: str) -> bytes:
        """The verified content of a run's artifact."""
        full_id = self.resolve_id(run_id)
        with self._metadata.session() as session:
            row = session.get(RunArtifactRow, (full_id, check_artifact_name(name)))
            if row is None:
                raise NotFoundError(f"run {full_id[:8]} has no artifact {name!r}")
            digest = row.digest
        return self._artifacts.get_bytes(digest)

    # -- deleting --------------------------------------------------------------

    def delete(self, run_id: str, *, force: bool = False) -> str:
        """Delete a run's rows (its params, metrics, tags and artifact names with it).

        Refused, naming what holds it, unless ``force``: a registered model version
        that came from the run (its lineage would point nowhere), or a run still
        running (its process would fail at its next write). The artifacts' content
        stays: content-addressed, it may be another run's or a package's too, and
        a writer never deletes it (see :mod:`modelyard.artifacts`).

        Returns:
            The deleted run's full id.

        Raises:
            NotFoundError: no such run.
            ConflictError: a model version came from it, or it is running.
        """
        full_id = self.resolve_id(run_id)
        with self._metadata.session() as session:
            row = session.get(RunRow, full_id, with_for_update=True)
            if row is None:
                raise NotFoundError(f"run {run_id} not found")
            if not force:
                holders = session.execute(
                    select(
                        ModelRow.name,
                        ModelVersionRow.version,
                        ModelVersionRow.run_id,
                        ModelVersionRow.lineage,
                    )
                    .join(ModelRow, ModelRow.id == ModelVersionRow.model_id)
                    .order_by(ModelRow.name, ModelVersionRow.version)
                ).all()
                users = [
                    f"{name}:{version}"
                    for name, version, owner, lineage in holders
                    if full_id in (owner, lineage.get("run_id"))
                ]
                if users:
                    raise ConflictError(
                        f"run {full_id[:8]} is in the lineage of model {', '.join(users)}; "
                        "pass --force to delete it anyway"
                    )
                if row.status == RunStatus.RUNNING.value and _gone_owner(row) is None:
                    raise ConflictError(
                        f"run {full_id[:8]} is still running; pass --force to delete it anyway"
                    )
            for table in (ParamRow, MetricRow, TagRow, RunArtifactRow):
                session.execute(delete(table).where(table.run_id == full_id))
            session.delete(row)
        return full_id

    def download_artifacts(self, run_id: str, destination: str | Path) -> list[Path]:
        """Copy every artifact of a run under ``destination`` (by its name there).

        Each file is hashed as it is copied and written atomically, so a tampered or
        truncated artifact raises :class:`~modelyard.errors.IntegrityError` and
        leaves no file behind (the artifact store's contract). Existing files of
        the same name are replaced.

        Returns:
            The written files, in the order of the artifacts' names.
        """
        info = self.get(run_id)
        root = Path(destination)
        return [
            self._artifacts.fetch(a.digest, root / check_artifact_name(a.name))
            for a in sorted(info.artifacts, key=lambda a: a.name)
        ]

    def compare(self, a: str, b: str) -> RunComparison:
        """Two runs' params and metrics side by side."""
        left, right = self.get(a), self.get(b)
        param_keys = sorted(set(left.params) | set(right.params))
        metric_keys = sorted(set(left.metrics) | set(right.metrics))
        return RunComparison(
            a=left,
            b=right,
            params=[(k, left.params.get(k), right.params.get(k)) for k in param_keys],
            metrics=[(k, left.metrics.get(k), right.metrics.get(k)) for k in metric_keys],
        )

    def _info(self, session: Session, row: RunRow, *, full: bool) -> RunInfo:
        experiment = session.get(ExperimentRow, row.experiment_id)
        params = dict(
            session.execute(
                select(ParamRow.key, ParamRow.value).where(ParamRow.run_id == row.id)
            ).all()
        )
        tags = dict(
            session.execute(select(TagRow.key, TagRow.value).where(TagRow.run_id == row.id)).all()
        )
        metrics, counts = self._last_metrics(session, row.id)
        artifacts: list[ArtifactInfo] = []
        if full:
            artifacts = [
                ArtifactInfo(a.name, a.digest, a.size_bytes)
                for a in session.scalars(
                    select(RunArtifactRow)
                    .where(RunArtifactRow.run_id == row.id)
                    .order_by(RunArtifactRow.name)
                )
            ]
        return RunInfo(
            id=row.id,
            experiment=experiment.name if experiment else "?",
            name=row.name,
            status=RunStatus(row.status),
            start_time=row.start_time,
            end_time=row.end_time,
            error=row.error,
            environment=row.environment,
            inputs=row.inputs,
            params=params,
            metrics=metrics,
            metric_counts=counts,
            tags=tags,
            artifacts=artifacts,
            owner=row.owner,
            process_gone=_gone_owner(row) is not None,
        )

    def _last_metrics(
        self, session: Session, run_id: str
    ) -> tuple[dict[str, float], dict[str, int]]:
        latest = (
            select(MetricRow.key, func.max(MetricRow.id).label("last_id"), func.count().label("n"))
            .where(MetricRow.run_id == run_id)
            .group_by(MetricRow.key)
            .subquery()
        )
        rows = session.execute(
            select(MetricRow.key, MetricRow.value, latest.c.n).join(
                latest, MetricRow.id == latest.c.last_id
            )
        ).all()
        return {key: value for key, value, _ in rows}, {key: int(n) for key, _, n in rows}
