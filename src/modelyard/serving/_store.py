"""Endpoints in the metadata store, with an append-only history of configurations.

Every change (create, update, rollback) appends a history entry and copies it into
the endpoint row with a bumped ``config_version``; the gateway polls those versions
and reloads an endpoint only when its version moved. Model references are resolved
to concrete ``name:version`` when stored.
"""

from __future__ import annotations

import builtins
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select
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
                if session.scalars(select(EndpointRow).where(EndpointRow.name == name)).first():
                    raise AlreadyExistsError(f"endpoint {name} already exists")
                row = EndpointRow(name=name, config_version=1, config=config.to_dict())
                session.add(row)
                session.flush()
                session.add(
                    EndpointConfigRow(
                        endpoint_id=row.id,
                        version=1,
                        config=config.to_dict(),
                        action="create",
                        actor=actor_name(actor),
                    )
                )
                session.flush()
                return _endpoint(row)
        except SqlIntegrityError:
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
    ) -> Endpoint:
        """Change an endpoint; unchanged fields keep their values.

        ``variants`` replaces the variant list; ``weights`` (by variant name or model
        ref) then sets weights of production variants.

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
        return self._append(name, config, "update", actor, expect=current.config_version)

    def rollback(self, name: str, to: int | None = None, *, actor: str | None = None) -> Endpoint:
        """Return to the configuration before the current one (or to version ``to``).

        The rollback is itself a new history entry, so it can be rolled back too.

        Raises:
            NotFoundError: no such endpoint or history version.
            ConflictError: there is no earlier configuration.
        """
        with self._metadata.session() as session:
            row = self._row(session, name)
            target = to if to is not None else row.config_version - 1
            if target < 1:
                raise ConflictError(f"endpoint {name} has no earlier configuration to roll back to")
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
        return self._append(name, config, "rollback", actor, expect=row.config_version)

    def delete(self, name: str) -> None:
        """Delete an endpoint and its history (the gateway stops serving it).

        Raises:
            NotFoundError: no such endpoint.
        """
        with self._metadata.session() as session:
            row = self._row(session, name)
            session.execute(
                delete(EndpointConfigRow).where(EndpointConfigRow.endpoint_id == row.id)
            )
            session.delete(row)

    # -- reading ---------------------------------------------------------------

    def get(self, name: str) -> Endpoint:
        """The endpoint and its current configuration.

        Raises:
            NotFoundError: no such endpoint.
        """
        with self._metadata.session() as session:
            return _endpoint(self._row(session, name))

    def list(self) -> list[Endpoint]:
        """Every endpoint, by name."""
        with self._metadata.session() as session:
            rows = session.scalars(select(EndpointRow).order_by(EndpointRow.name)).all()
            return [_endpoint(r) for r in rows]

    def history(self, name: str) -> builtins.list[EndpointRevision]:
        """Every configuration the endpoint had, oldest first.

        Raises:
            NotFoundError: no such endpoint.
        """
        with self._metadata.session() as session:
            row = self._row(session, name)
            entries = session.scalars(
                select(EndpointConfigRow)
                .where(EndpointConfigRow.endpoint_id == row.id)
                .order_by(EndpointConfigRow.version)
            ).all()
            return [
                EndpointRevision(
                    e.version, e.action, e.actor, EndpointConfig.from_dict(e.config), e.created_at
                )
                for e in entries
            ]

    def versions(self) -> dict[str, int]:
        """``{endpoint: config_version}``: what the gateway polls to notice changes."""
        with self._metadata.session() as session:
            rows = session.execute(select(EndpointRow.name, EndpointRow.config_version)).all()
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
                    )
                )
                row.config = config.to_dict()
                row.config_version = version
                row.updated_at = utcnow()
                session.flush()
                return _endpoint(row)
        except SqlIntegrityError:  # the same version stored at once (or the row deleted)
            raise conflict from None

    def _row(self, session: Session, name: str) -> EndpointRow:
        row = session.scalars(select(EndpointRow).where(EndpointRow.name == name)).first()
        if row is None:
            raise NotFoundError(f"endpoint {name} not found", details={"endpoint": name})
        return row


def _endpoint(row: EndpointRow) -> Endpoint:
    config: dict[str, Any] = row.config
    return Endpoint(
        name=row.name,
        config_version=row.config_version,
        config=EndpointConfig.from_dict(config),
        created_at=row.created_at,
        updated_at=row.updated_at,
    )
