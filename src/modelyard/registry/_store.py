"""The model registry: versions per name, aliases, approval, and verified packages."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, func, select
from sqlalchemy.orm import Session

from modelyard.artifacts import ArtifactStore
from modelyard.data._version import check_name
from modelyard.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.metadata import MetadataStore, actor_name, lock_name
from modelyard.metadata._tables import (
    EndpointRow,
    ModelAliasRow,
    ModelEventRow,
    ModelRow,
    ModelVersionRow,
    utcnow,
)
from modelyard.registry._archive import cached_package, pack_directory, user_cache
from modelyard.registry._records import (
    ApprovalStatus,
    ModelEvent,
    ModelRef,
    ModelVersion,
    check_alias,
)

if TYPE_CHECKING:
    from modelyard.registry._loader import VerifiedPackage
    from modelyard.registry._manifest import PackageManifest
    from modelyard.registry._package import LoadedModel

__all__ = ["ModelRegistry"]

# Built once: the dashboard asks it before a model page's first byte, and building a
# statement costs more than the database takes to answer it.
_MODEL_NAMED = select(ModelRow.id).where(ModelRow.name == bindparam("name"))


class ModelRegistry:
    """Registered models of one workspace.

    Args:
        metadata: the workspace's database.
        artifacts: the store holding each version's package archive.
        cache: where packages are unpacked for use (the workspace gives its own
            state folder's; default: this user's private folder under the temporary
            directory). It must be the user's alone, and every file read from it is
            checked against the version's recorded digest first.
    """

    def __init__(
        self,
        metadata: MetadataStore,
        artifacts: ArtifactStore,
        cache: Path | None = None,
        *,
        require_approval: bool = False,
    ) -> None:
        self._metadata = metadata
        self._artifacts = artifacts
        self.cache = cache if cache is not None else user_cache()
        self.require_approval = require_approval

    # -- registering -----------------------------------------------------------

    def register(
        self,
        name: str,
        package_dir: Path,
        *,
        task: str,
        algorithm: str,
        metrics: dict[str, Any],
        params: dict[str, Any],
        lineage: dict[str, Any],
        flavors: list[str],
        run_id: str | None = None,
        status: ApprovalStatus = ApprovalStatus.PENDING,
        status_reason: str | None = None,
        actor: str | None = None,
    ) -> ModelVersion:
        """Store a package directory as the next version of model ``name``.

        The package is stored before the version row, so no version exists without
        its package. It is never removed here, even when the row cannot be written:
        content-addressed, it may be the package of another writer's version.
        Registrations of one name take turns (:func:`~modelyard.metadata.lock_name`),
        so versions are numbered 1, 2, 3... without gaps or clashes.
        """
        check_name(name, "model")
        archive = pack_directory(package_dir)
        digest = self._artifacts.put_bytes(archive)
        with self._metadata.session() as session:
            lock_name(session, "model", name)
            model = session.scalars(select(ModelRow).where(ModelRow.name == name)).first()
            if model is None:
                model = ModelRow(name=name)
                session.add(model)
                session.flush()
            # the events remember deleted versions too: a number is never reused, so
            # a reference kept anywhere (a lineage, a log) never means another model
            latest = max(
                session.scalar(
                    select(func.max(ModelVersionRow.version)).where(
                        ModelVersionRow.model_id == model.id
                    )
                )
                or 0,
                session.scalar(
                    select(func.max(ModelEventRow.version)).where(
                        ModelEventRow.model_id == model.id
                    )
                )
                or 0,
            )
            row = ModelVersionRow(
                model_id=model.id,
                version=(latest or 0) + 1,
                package_digest=digest,
                task=task,
                algorithm=algorithm,
                status=status.value,
                status_reason=status_reason,
                status_by=actor_name(actor) if status is not ApprovalStatus.PENDING else None,
                status_at=utcnow() if status is not ApprovalStatus.PENDING else None,
                run_id=run_id,
                metrics=metrics,
                params=params,
                lineage=lineage,
                flavors=flavors,
            )
            session.add(row)
            session.add(
                ModelEventRow(
                    model_id=model.id,
                    version=row.version,
                    kind="registered",
                    actor=actor_name(actor),
                    details={"status": status.value, "reason": status_reason},
                )
            )
            session.flush()
            return self._to_version(session, name, row)

    # -- reading ---------------------------------------------------------------

    def get(self, ref: str | ModelRef) -> ModelVersion:
        """A version by ``name``, ``name:N``, ``name:latest`` or ``name:alias``.

        Raises:
            NotFoundError: no such model, version or alias.
        """
        parsed = ModelRef.parse(ref) if isinstance(ref, str) else ref
        with self._metadata.session() as session:
            model = self._model(session, parsed.name)
            version = parsed.version
            if parsed.alias is not None:
                alias = session.get(ModelAliasRow, (model.id, parsed.alias))
                if alias is None:
                    raise NotFoundError(f"model {parsed.name} has no alias {parsed.alias!r}")
                version = alias.version
            query = select(ModelVersionRow).where(ModelVersionRow.model_id == model.id)
            if version is None:
                query = query.order_by(ModelVersionRow.version.desc()).limit(1)
            else:
                query = query.where(ModelVersionRow.version == version)
            row = session.scalars(query).first()
            if row is None:
                raise NotFoundError(f"model {parsed} not found")
            return self._to_version(session, parsed.name, row)

    def list_versions(self, name: str | None = None) -> list[ModelVersion]:
        """Versions, newest first, of one model or all."""
        with self._metadata.session() as session:
            query = (
                select(ModelRow.name, ModelVersionRow)
                .join(ModelRow, ModelRow.id == ModelVersionRow.model_id)
                .order_by(ModelRow.name, ModelVersionRow.version.desc())
            )
            if name is not None:
                query = query.where(ModelRow.name == name)
            return self._to_versions(session, [(n, row) for n, row in session.execute(query).all()])

    def page(
        self, name: str | None = None, offset: int = 0, limit: int = 50
    ) -> tuple[list[ModelVersion], int]:
        """One page of versions, newest registered first, and how many there are in all.

        ``name``: one model's versions, else every model's. For a dashboard over a
        model with 1,000 versions, which reads the 50 it shows.

        Raises:
            NotFoundError: ``name`` is given and no such model exists.
            InvalidInputError: a negative offset, or a page of fewer than 1 or more
                than 500 versions.
        """
        if offset < 0 or not 1 <= limit <= 500:
            raise InvalidInputError("a page holds 1 to 500 versions from an offset of 0 or more")
        with self._metadata.session() as session:
            query = select(ModelRow.name, ModelVersionRow).join(
                ModelRow, ModelRow.id == ModelVersionRow.model_id
            )
            counting = select(func.count()).select_from(ModelVersionRow)
            if name is not None:
                model = self._model(session, name)
                query = query.where(ModelVersionRow.model_id == model.id)
                counting = counting.where(ModelVersionRow.model_id == model.id)
            query = query.order_by(ModelVersionRow.id.desc()).offset(offset).limit(limit)
            rows = session.execute(query).all()
            total = session.scalar(counting) or 0
            return self._to_versions(session, [(n, row) for n, row in rows]), total

    def names(self) -> dict[str, int]:
        """Every model's name and its number of versions, by name."""
        with self._metadata.session() as session:
            counts = session.execute(
                select(ModelRow.name, func.count(ModelVersionRow.id))
                .join(ModelVersionRow, ModelVersionRow.model_id == ModelRow.id, isouter=True)
                .group_by(ModelRow.name)
                .order_by(ModelRow.name)
            ).all()
            return {model: int(n) for model, n in counts}

    def exists(self, name: str) -> bool:
        """Whether a model of this name is registered (with versions or none left):
        one indexed row, where :meth:`names` counts every model's versions."""
        with self._metadata.session() as session:
            return session.scalar(_MODEL_NAMED, {"name": name}) is not None

    def history(self, name: str, last: int | None = None) -> list[ModelEvent]:
        """Everything that happened to a model, oldest first; with ``last``, only the
        newest ``last`` events (a dashboard showing 20 of a model's 1,000
        registrations reads 20).

        Raises:
            NotFoundError: no such model.
            InvalidInputError: ``last`` below 1.
        """
        if last is not None and last < 1:
            raise InvalidInputError(f"last={last}: ask for 1 event or more")
        with self._metadata.session() as session:
            model = self._model(session, name)
            query = (
                select(ModelEventRow)
                .where(ModelEventRow.model_id == model.id)
                .order_by(ModelEventRow.id.desc())
                .limit(last)
            )
            rows = list(reversed(session.scalars(query).all()))
            return [ModelEvent(r.kind, r.version, r.actor, r.details, r.created_at) for r in rows]

    def package_path(self, ref: str | ModelRef | ModelVersion) -> Path:
        """A local directory holding the version's unpacked package, its files checked
        against the version's recorded digest as this returns.

        Raises:
            IntegrityError: the package (stored or unpacked) does not match.
        """
        version = ref if isinstance(ref, ModelVersion) else self.get(ref)
        return cached_package(self._artifacts, version.package_digest, self.cache)[0]

    def manifest(self, ref: str | ModelRef | ModelVersion) -> PackageManifest:
        """The version's package manifest, from its checked files."""
        return self._open(ref).manifest

    def load(self, ref: str | ModelRef | ModelVersion, prefer: str = "onnx") -> LoadedModel:
        """A verified, ready-to-predict model (the ONNX flavor when it has one): every
        file checked against the version's recorded digest, warm cache or cold,
        before anything is loaded from it.

        Raises:
            IntegrityError: the package (stored or unpacked) does not match.
        """
        from modelyard.registry._package import LoadedModel  # numpy, pandas: on use

        return LoadedModel(self._open(ref), prefer)

    def _open(self, ref: str | ModelRef | ModelVersion) -> VerifiedPackage:
        from modelyard.registry._loader import open_cached  # numpy: on use

        version = ref if isinstance(ref, ModelVersion) else self.get(ref)
        return open_cached(self._artifacts, version.package_digest, self.cache)

    # -- changing --------------------------------------------------------------

    def set_status(
        self,
        ref: str,
        status: ApprovalStatus,
        reason: str | None = None,
        actor: str | None = None,
        force: bool = False,
    ) -> ModelVersion:
        """Approve or reject a version, recording who, when and why.

        Approving a rejected version (rejected by its success criteria or by
        someone) overrides that verdict: it needs ``force`` and a reason, and the
        history records that it was forced.

        Raises:
            ConflictError: approving a rejected version without ``force`` and a reason.
        """
        version = self.get(ref)
        overrides = status is ApprovalStatus.APPROVED and version.status is ApprovalStatus.REJECTED
        if overrides and not (force and reason and reason.strip()):
            raise ConflictError(
                f"model {version.ref} is rejected ({version.status_reason or 'no reason given'}); "
                "approving it anyway needs --force and a --reason"
            )
        with self._metadata.session() as session:
            model = self._model(session, version.name)
            row = self._version_row(session, model.id, version.version)
            previous = row.status
            row.status = status.value
            row.status_reason = reason
            row.status_by = actor_name(actor)
            row.status_at = utcnow()
            session.add(
                ModelEventRow(
                    model_id=model.id,
                    version=row.version,
                    kind=status.value,
                    actor=row.status_by,
                    details={"from": previous, "reason": reason}
                    | ({"forced": True, "overridden": version.status_reason} if overrides else {}),
                )
            )
            session.flush()
            return self._to_version(session, version.name, row)

    def servable(self, ref: str, purpose: str = "serving it") -> ModelVersion:
        """The version ``ref`` names, if the workspace's approval policy lets it be
        served: the one rule for aliases and endpoints.

        A rejected version never is; a pending one is unless the workspace sets
        ``require_approval``.

        Raises:
            NotFoundError: no such model version.
            ConflictError: the policy refuses it (the message says why and what to do).
        """
        version = self.get(ref)
        if version.status is ApprovalStatus.REJECTED:
            raise ConflictError(
                f"model {version.ref} is rejected ({version.status_reason or 'no reason given'}); "
                f"approve it before {purpose}",
                details={"model": version.ref, "status": version.status.value},
            )
        if version.status is ApprovalStatus.PENDING and self.require_approval:
            raise ConflictError(
                f"model {version.ref} is pending approval, and this workspace requires "
                f"approval before {purpose} (modelyard model approve {version.ref}, or set "
                "require_approval = false in modelyard.toml)",
                details={"model": version.ref, "status": version.status.value},
            )
        return version

    def set_alias(self, ref: str, alias: str, actor: str | None = None) -> ModelVersion:
        """Point ``alias`` at a version (moving it if it pointed elsewhere).

        Raises:
            ConflictError: the version is rejected (it may not be given an alias).
        """
        check_alias(alias)
        version = self.servable(ref, "giving it an alias")
        with self._metadata.session() as session:
            # alias moves of a model take turns: no clash creating it, and each
            # event's "from" is the version the previous move left
            lock_name(session, "model", version.name)
            model = self._model(session, version.name)
            row = session.get(ModelAliasRow, (model.id, alias))
            previous = row.version if row is not None else None
            if row is None:
                session.add(ModelAliasRow(model_id=model.id, alias=alias, version=version.version))
            else:
                row.version = version.version
                row.updated_at = utcnow()
            session.add(
                ModelEventRow(
                    model_id=model.id,
                    version=version.version,
                    kind="alias",
                    actor=actor_name(actor),
                    details={"alias": alias, "from": previous, "to": version.version},
                )
            )
        return self.get(f"{version.name}:{version.version}")

    def remove_alias(self, name: str, alias: str, actor: str | None = None) -> None:
        """Delete an alias."""
        with self._metadata.session() as session:
            model = self._model(session, name)
            row = session.get(ModelAliasRow, (model.id, check_alias(alias)))
            if row is None:
                raise NotFoundError(f"model {name} has no alias {alias!r}")
            session.add(
                ModelEventRow(
                    model_id=model.id,
                    version=row.version,
                    kind="alias_removed",
                    actor=actor_name(actor),
                    details={"alias": alias},
                )
            )
            session.delete(row)

    # -- deleting --------------------------------------------------------------

    def delete(self, ref: str, *, force: bool = False, actor: str | None = None) -> ModelVersion:
        """Delete one version's row (``name:N``: a number, not an alias).

        Refused, naming what holds it, unless ``force``: an alias that points at it,
        or an endpoint that serves it (the gateway would lose its model). With
        ``force`` its aliases go too, so none points at nothing. The package stays:
        content-addressed, it may be another version's as well, and a writer never
        deletes it (see :mod:`modelyard.artifacts`). A ``deleted`` event keeps the
        model's history, and the number is never given again (see :meth:`register`).

        Raises:
            InvalidInputError: ``ref`` names no version number.
            NotFoundError: no such version.
            ConflictError: an alias or an endpoint holds it (and not ``force``).
        """
        parsed = ModelRef.parse(ref)
        if parsed.version is None or parsed.alias is not None:
            raise InvalidInputError(f"name the version number to delete: {parsed.name}:N")
        with self._metadata.session() as session:
            lock_name(session, "model", parsed.name)
            model = self._model(session, parsed.name)
            row = self._version_row(session, model.id, parsed.version)
            version = self._to_version(session, parsed.name, row)
            if not force:
                serving = sorted(
                    endpoint.name
                    for endpoint in session.scalars(
                        select(EndpointRow).where(EndpointRow.deleted_at.is_(None))
                    )
                    if any(
                        v.get("model") == version.ref for v in endpoint.config.get("variants", [])
                    )
                )
                holders = [f"alias {a}" for a in version.aliases]
                holders += [f"endpoint {name}" for name in serving]
                if holders:
                    raise ConflictError(
                        f"model {version.ref} is held by {', '.join(holders)}; "
                        "pass --force to delete it anyway"
                    )
            session.execute(
                delete(ModelAliasRow).where(
                    ModelAliasRow.model_id == model.id, ModelAliasRow.version == row.version
                )
            )
            session.add(
                ModelEventRow(
                    model_id=model.id,
                    version=row.version,
                    kind="deleted",
                    actor=actor_name(actor),
                    details={"forced": force, "aliases": version.aliases},
                )
            )
            session.delete(row)
        return version

    # -- helpers ---------------------------------------------------------------

    def _model(self, session: Session, name: str) -> ModelRow:
        model = session.scalars(select(ModelRow).where(ModelRow.name == name)).first()
        if model is None:
            raise NotFoundError(f"model {name} not found")
        return model

    def _version_row(self, session: Session, model_id: int, version: int) -> ModelVersionRow:
        row = session.scalars(
            select(ModelVersionRow).where(
                ModelVersionRow.model_id == model_id, ModelVersionRow.version == version
            )
        ).first()
        if row is None:
            raise NotFoundError(f"model version {version} not found")
        return row

    def _to_version(self, session: Session, name: str, row: ModelVersionRow) -> ModelVersion:
        return self._to_versions(session, [(name, row)])[0]

    def _to_versions(
        self, session: Session, rows: Sequence[tuple[str, ModelVersionRow]]
    ) -> list[ModelVersion]:
        """Records of ``(model name, row)`` pairs, their aliases read in one query (a
        page of 50 versions is one alias query, not 50)."""
        aliases: dict[tuple[int, int], list[str]] = {}
        model_ids = {row.model_id for _, row in rows}
        if model_ids:
            for model_id, version, alias in session.execute(
                select(ModelAliasRow.model_id, ModelAliasRow.version, ModelAliasRow.alias).where(
                    ModelAliasRow.model_id.in_(model_ids)
                )
            ):
                aliases.setdefault((model_id, version), []).append(alias)
        return [
            ModelVersion(
                name=name,
                version=row.version,
                task=row.task,
                algorithm=row.algorithm,
                status=ApprovalStatus(row.status),
                status_reason=row.status_reason,
                status_by=row.status_by,
                status_at=row.status_at,
                package_digest=row.package_digest,
                run_id=row.run_id,
                metrics=row.metrics,
                params=row.params,
                lineage=row.lineage,
                flavors=list(row.flavors),
                created_at=row.created_at,
                aliases=sorted(aliases.get((row.model_id, row.version), [])),
            )
            for name, row in rows
        ]


def diff_versions(a: ModelVersion, b: ModelVersion) -> dict[str, Any]:
    """Metrics and params of two versions side by side."""
    if not isinstance(a, ModelVersion) or not isinstance(b, ModelVersion):
        raise InvalidInputError("diff needs two model versions")
    metric_keys = sorted(set(a.metrics) | set(b.metrics))
    param_keys = sorted(set(a.params) | set(b.params))
    return {
        "a": a.ref,
        "b": b.ref,
        "metrics": [{"key": k, "a": a.metrics.get(k), "b": b.metrics.get(k)} for k in metric_keys],
        "params": [{"key": k, "a": a.params.get(k), "b": b.params.get(k)} for k in param_keys],
        "lineage": {"a": a.lineage, "b": b.lineage},
    }
