"""Endpoints in the metadata store, with an append-only history of configurations.

Every change (create, update, rollback, delete) appends a history entry and copies it
into the endpoint row with a bumped ``config_version``; the gateway polls those
versions and reloads an endpoint only when its version moved. Model references are
resolved to concrete ``name:version`` when stored.

Deleting marks the row (``deleted_at``) and keeps its history, as SageMaker keeps a
deleted endpoint's trail: what served which model when stays answerable. A deleted
endpoint is not served, listed (unless asked) or changed. Creating the name again
revives the same row and continues its history and version numbers rather than
starting at 1: the gateway notices a change by a moved ``config_version``, so a
delete and re-create between two of its polls must not land on the number it
already holds, and ``history`` tells the whole story of the name. A rollback never
reaches back past the newest ``create``.
"""

from __future__ import annotations

import builtins
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError as SqlIntegrityError

from modelyard.errors import AlreadyExistsError, ConflictError, NotFoundError
from modelyard.metadata import actor_name
from modelyard.metadata._tables import EndpointConfigRow, EndpointRow, utcnow
from modelyard.serving._config import (
    Endpoint,
    EndpointConfig,
    EndpointRevision,
    UnexpectedColumns,
    VariantConfig,
    check_endpoint_name,
)
from modelyard.serving._tokens import TokenStore

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from modelyard.metadata import MetadataStore
    from modelyard.registry import ModelRegistry

__all__ = ["EndpointStore"]


class EndpointStore:
    """Create, change, roll back and read the endpoints of a workspace."""

    def __init__(self, metadata: MetadataStore, models: ModelRegistry) -> None:
        self._metadata = metadata
        self._models = models
        self.tokens = TokenStore(metadata)

    # -- changing --------------------------------------------------------------

    def create(
        self,
        name: str,
        variants: list[VariantConfig],
        *,
        capture_percent: float = 0.0,
        unexpected_columns: UnexpectedColumns = "ignore",
        hide_schema: bool = False,
        actor: str | None = None,
    ) -> Endpoint:
        """Create endpoint ``name`` serving ``variants``.

        Raises:
            InvalidInputError: a bad name or configuration.
            NotFoundError: a variant's model does not exist.
            AlreadyExistsError: the name is taken.
        """
        check_endpoint_name(name)
        config = EndpointConfig(
            variants=tuple(variants),
            capture_percent=capture_percent,
            unexpected_columns=unexpected_columns,
            hide_schema=hide_schema,
        )
        config = self._resolve(config.check())
        try:
            with self._metadata.session() as session:
                row = session.scalars(select(EndpointRow).where(EndpointRow.name == name)).first()
                if row is not None and row.deleted_at is None:
                    raise AlreadyExistsError(f"endpoint {name} already exists")
                if row is None:
                    row = EndpointRow(name=name, config_version=1, config=config.to_dict())
                    session.add(row)
                    session.flush()
                else:  # a deleted endpoint of this name: its history goes on
                    row.config_version += 1
                    row.config = config.to_dict()
                    row.deleted_at = None
                    row.created_at = row.updated_at = utcnow()
                session.add(
                    EndpointConfigRow(
                        endpoint_id=row.id,
                        version=row.config_version,
                        config=config.to_dict(),
                        action="create",
                        actor=actor_name(actor),
                    )
                )
                session.flush()
                return _endpoint(row)
        except SqlIntegrityError:  # created (or re-created) by someone else at once
            raise AlreadyExistsError(f"endpoint {name} already exists") from None

    def update(
        self,
        name: str,
        *,
        weights: dict[str, float] | None = None,
        variants: list[VariantConfig] | None = None,
        capture_percent: float | None = None,
        unexpected_columns: UnexpectedColumns | None = None,
        hide_schema: bool | None = None,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Endpoint:
        """Change an endpoint; unchanged fields keep their values.

        ``variants`` replaces the variant list; ``weights`` (by variant name or model
        ref) then sets weights of production variants. ``reason`` (why) is kept in
        the history beside ``actor`` (who).

        Raises:
            NotFoundError: no such endpoint or model.
            InvalidInputError: the new configuration cannot be served.
            ConflictError: another change was stored since this one read the endpoint.
        """
        current = self.get(name)
        config = current.config
        if variants is not None:
            config = replace(config, variants=tuple(variants))
        if weights is not None:
            config = config.with_weights(weights)
        if capture_percent is not None:
            config = replace(config, capture_percent=capture_percent)
        if unexpected_columns is not None:
            config = replace(config, unexpected_columns=unexpected_columns)
        if hide_schema is not None:
            config = replace(config, hide_schema=hide_schema)
        config = self._resolve(config.check())
        return self._append(
            name, config, "update", actor, expect=current.config_version, reason=reason
        )

    def rollback(
        self,
        name: str,
        to: int | None = None,
        *,
        actor: str | None = None,
        reason: str | None = None,
    ) -> Endpoint:
        """Return to the configuration before the current one (or to version ``to``).

        The rollback is itself a new history entry (with ``reason``, when given), so
        it can be rolled back too. Only
        configurations since the endpoint was last created count: one from before a
        deletion may name a model deleted since.

        Raises:
            NotFoundError: no such endpoint or history version.
            ConflictError: there is no earlier configuration (since the last create).
        """
        with self._metadata.session() as session:
            row = self._row(session, name)
            created = session.scalar(
                select(func.max(EndpointConfigRow.version)).where(
                    EndpointConfigRow.endpoint_id == row.id, EndpointConfigRow.action == "create"
                )
            )
            target = to if to is not None else row.config_version - 1
            if target < (created or 1):
                again = created is not None and created > 1
                since = f" since it was created again at configuration {created}" if again else ""
                raise ConflictError(
                    f"endpoint {name} has no earlier configuration to roll back to{since}"
                )
            if target > row.config_version:  # also keeps a huge number away from the driver
                raise NotFoundError(
                    f"endpoint {name} has no configuration version {target} "
                    f"(the newest is {row.config_version})"
                )
            entry = session.scalars(
                select(EndpointConfigRow).where(
                    EndpointConfigRow.endpoint_id == row.id, EndpointConfigRow.version == target
                )
            ).first()
            if entry is None:
                raise NotFoundError(f"endpoint {name} has no configuration version {target}")
            config = EndpointConfig.from_dict(entry.config)
        return self._append(
            name, config, "rollback", actor, expect=row.config_version, reason=reason
        )

    def delete(self, name: str, *, actor: str | None = None) -> Endpoint:
        """Delete an endpoint: the gateway stops serving it, its history stays.

        The history ends in a ``delete`` entry holding the configuration it had;
        :meth:`history` still answers, and :meth:`create` may use the name again.

        Raises:
            NotFoundError: no such endpoint (or deleted already).
            ConflictError: another change was stored since this one read the endpoint.
        """
        current = self.get(name)
        return self._append(name, current.config, "delete", actor, expect=current.config_version)

    # -- reading ---------------------------------------------------------------

    def get(self, name: str) -> Endpoint:
        """The endpoint and its current configuration.

        Raises:
            NotFoundError: no such endpoint, or it was deleted.
        """
        with self._metadata.session() as session:
            return _endpoint(self._row(session, name))

    def list(self, *, deleted: bool = False) -> list[Endpoint]:
        """Every endpoint, by name; deleted ones too when ``deleted``."""
        query = select(EndpointRow).order_by(EndpointRow.name)
        if not deleted:
            query = query.where(EndpointRow.deleted_at.is_(None))
        with self._metadata.session() as session:
            return [_endpoint(r) for r in session.scalars(query).all()]

    def history(self, name: str) -> builtins.list[EndpointRevision]:
        """Every configuration the endpoint had, oldest first, a deleted one's too.

        Raises:
            NotFoundError: no endpoint ever had this name.
        """
        with self._metadata.session() as session:
            row = self._row(session, name, deleted=True)
            entries = session.scalars(
                select(EndpointConfigRow)
                .where(EndpointConfigRow.endpoint_id == row.id)
                .order_by(EndpointConfigRow.version)
            ).all()
            return [
                EndpointRevision(
                    e.version,
                    e.action,
                    e.actor,
                    EndpointConfig.from_dict(e.config),
                    e.created_at,
                    reason=e.reason,
                )
                for e in entries
            ]

    def versions(self) -> dict[str, int]:
        """``{endpoint: config_version}``: what the gateway polls to notice changes.

        Deleted endpoints are left out, so the gateway drops them.
        """
        query = select(EndpointRow.name, EndpointRow.config_version).where(
            EndpointRow.deleted_at.is_(None)
        )
        with self._metadata.session() as session:
            rows = session.execute(query).all()
            return {name: version for name, version in rows}

    # -- helpers ---------------------------------------------------------------

    def _resolve(self, config: EndpointConfig) -> EndpointConfig:
        # the registry's approval policy, the same one its aliases follow
        variants = tuple(
            replace(v, model=self._models.servable(v.model, "deploying it").ref)
            for v in config.variants
        )
        return replace(config, variants=variants)

    def _append(
        self,
        name: str,
        config: EndpointConfig,
        action: str,
        actor: str | None,
        expect: int | None = None,
        reason: str | None = None,
    ) -> Endpoint:
        """Store ``config`` as the next version, if the endpoint is still at ``expect``.

        A change reads the endpoint, then writes: two at once would both build on
        the same version (the later undoing the earlier, or failing on the unique
        version); the second is refused as a conflict instead.
        """
        conflict = ConflictError(
            f"endpoint {name} was changed by someone else during this {action}; try again",
            details={"endpoint": name},
        )
        try:
            with self._metadata.session() as session:
                row = self._row(session, name)
                if expect is not None and row.config_version != expect:
                    raise conflict
                version = row.config_version + 1
                session.add(
                    EndpointConfigRow(
                        endpoint_id=row.id,
                        version=version,
                        config=config.to_dict(),
                        action=action,
                        actor=actor_name(actor),
                        reason=reason,
                    )
                )
                row.config = config.to_dict()
                row.config_version = version
                row.updated_at = utcnow()
                if action == "delete":
                    row.deleted_at = row.updated_at
                session.flush()
                return _endpoint(row)
        except SqlIntegrityError:  # the same version stored at once
            raise conflict from None

    def _row(self, session: Session, name: str, *, deleted: bool = False) -> EndpointRow:
        """The endpoint's row; a deleted one only when ``deleted`` (else not found)."""
        row = session.scalars(select(EndpointRow).where(EndpointRow.name == name)).first()
        if row is None or (row.deleted_at is not None and not deleted):
            gone = " (deleted; `endpoint history` shows it)" if row is not None else ""
            raise NotFoundError(f"endpoint {name} not found{gone}", details={"endpoint": name})
        return row


def _endpoint(row: EndpointRow) -> Endpoint:
    config: dict[str, Any] = row.config
    return Endpoint(
        name=row.name,
        config_version=row.config_version,
        config=EndpointConfig.from_dict(config),
        created_at=row.created_at,
        updated_at=row.updated_at,
        deleted_at=row.deleted_at,
    )
