"""The workspace: the composition root that builds every store from one Settings.

Each store's package is imported when the store is first asked for, so a command
pays only for the stores it uses (``batch show`` needs the job store, not the
registry's pandas nor serving's).
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.artifacts import ArtifactStore, FsspecArtifactStore
from modelyard.errors import AlreadyExistsError, ConfigurationError
from modelyard.metadata import MetadataStore, redact_url
from modelyard.settings import (
    SETTINGS_FILE,
    STATE_DIR,
    Settings,
    load_settings,
    write_settings_file,
)

if TYPE_CHECKING:
    from modelyard.data import DatasetStore
    from modelyard.jobs import JobStore
    from modelyard.monitoring import MonitorStore
    from modelyard.registry import ModelRegistry
    from modelyard.serving import EndpointStore
    from modelyard.tracking import Run, RunStore

__all__ = ["Workspace"]


class Workspace:
    """Where everything lives: a metadata database and an artifact root.

    Build one with :meth:`open` (an existing workspace) or :meth:`init` (a new one);
    every store it hands out shares its database engine and artifact store.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.metadata = MetadataStore(
            settings.resolved_database_url, busy_timeout_ms=settings.sqlite_busy_timeout_ms
        )
        self.artifacts: ArtifactStore = FsspecArtifactStore(settings.resolved_artifact_url)

    @classmethod
    def init(cls, path: str | Path, *, exist_ok: bool = False, **overrides: Any) -> Workspace:
        """Create a workspace at ``path`` with its database at the newest schema.

        The settings given (``database_url``, ``artifact_url``, ...) are written to
        the new ``modelyard.toml``, so every later command of the workspace uses
        them; a plain artifact path is made absolute first. A file holding a
        database URL is readable by its owner only.

        Raises:
            AlreadyExistsError: ``path`` already holds a workspace (unless ``exist_ok``).
            ConfigurationError: a setting is bad, or ``modelyard.toml`` already
                exists and says otherwise.
        """
        root = Path(path).expanduser().resolve()
        if (root / STATE_DIR).is_dir() and not exist_ok:
            raise AlreadyExistsError(f"{root} is already a modelyard workspace")
        if root.exists() and not root.is_dir():
            raise ConfigurationError(f"cannot create a workspace at {root}: it is a file")
        root.mkdir(parents=True, exist_ok=True)
        chosen = _persistable(overrides)
        toml_path = root / SETTINGS_FILE
        if toml_path.exists():
            _check_file_agrees(load_settings(root), chosen, toml_path)
        settings = load_settings(root, **chosen)
        workspace = cls(settings)
        (root / STATE_DIR).mkdir(exist_ok=True)
        if not toml_path.exists():
            try:
                write_settings_file(toml_path, {"executor": "local", **chosen})
            except BaseException:
                workspace.close()
                raise
        return workspace

    @classmethod
    def open(cls, path: str | Path | None = None, **overrides: Any) -> Workspace:
        """Open an existing workspace (see :func:`~modelyard.settings.load_settings`).

        Raises:
            ConfigurationError: no workspace there, or its database schema is older
                than this modelyard (run ``modelyard db upgrade``).
        """
        settings = load_settings(path, **overrides)
        root = settings.workspace
        if not (root / STATE_DIR).is_dir() and not (root / SETTINGS_FILE).is_file():
            raise ConfigurationError(
                f"no modelyard workspace at {root}: run `modelyard init {root}` or pass --workspace"
            )
        workspace = cls(settings)
        workspace.metadata.check_current()
        return workspace

    @cached_property
    def datasets(self) -> DatasetStore:
        """Versioned datasets."""
        from modelyard.data import DatasetStore

        # Ingests stage under the workspace, where the next one sweeps what a killed
        # one left (issue 16 finding 3), not in a shared $TMPDIR.
        return DatasetStore(self.metadata, self.artifacts, self.settings.state_dir / "staging")

    @cached_property
    def runs(self) -> RunStore:
        """Experiments and runs."""
        from modelyard.tracking import RunStore

        return RunStore(self.metadata, self.artifacts)

    @cached_property
    def models(self) -> ModelRegistry:
        """Registered models."""
        from modelyard.registry import ModelRegistry

        # unpacked packages under the workspace, not a shared /tmp (issue 16 finding 1)
        return ModelRegistry(
            self.metadata,
            self.artifacts,
            self.settings.state_dir / "packages",
            require_approval=self.settings.require_approval,
        )

    @cached_property
    def jobs(self) -> JobStore:
        """Long-running jobs (batch transform) and their committed partitions."""
        from modelyard.jobs import JobStore

        return JobStore(self.metadata)

    @cached_property
    def endpoints(self) -> EndpointStore:
        """Serving endpoints, their configuration history, and API tokens."""
        from modelyard.serving import EndpointStore

        return EndpointStore(self.metadata, self.models)

    @cached_property
    def monitors(self) -> MonitorStore:
        """Monitors of endpoints' captured traffic, and their labels."""
        from modelyard.monitoring import MonitorStore

        return MonitorStore(self)

    def start_run(
        self,
        experiment: str = "default",
        name: str | None = None,
        tags: dict[str, str] | None = None,
    ) -> Run:
        """Open a run; use it as a context manager so it is closed whatever happens."""
        from modelyard.tracking import Run, capture_environment

        run_id = self.runs.create(
            experiment,
            name,
            environment=capture_environment(self.settings.workspace),
            tags=tags,
        )
        return Run(self.runs, run_id)

    def describe(self) -> dict[str, Any]:
        """What this workspace uses, for ``modelyard info``."""
        from modelyard.metadata import head_revision

        return {
            "workspace": str(self.settings.workspace),
            "settings_file": str(self.settings.workspace / SETTINGS_FILE),
            "database": self.metadata.display_url,
            "schema_revision": self.metadata.revision(),
            "schema_head": head_revision(),
            "artifacts": self.settings.resolved_artifact_url,
            "executor": self.settings.executor,
            "ray_address": self.settings.ray_address,
            "max_workers": self.settings.max_workers,
        }

    def close(self) -> None:
        """Release database connections."""
        self.metadata.dispose()

    def __enter__(self) -> Workspace:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def _persistable(overrides: dict[str, Any]) -> dict[str, Any]:
    """The settings given to ``init``, as the file keeps them."""
    chosen = {key: value for key, value in overrides.items() if value is not None}
    artifact_url = chosen.get("artifact_url")
    if artifact_url and "://" not in artifact_url:
        # A relative path would be read relative to wherever a later command runs.
        chosen["artifact_url"] = str(Path(artifact_url).expanduser().resolve())
    return chosen


def _check_file_agrees(existing: Settings, chosen: dict[str, Any], path: Path) -> None:
    """Refuse settings that an existing file (which ``init`` leaves alone) contradicts."""
    for key, value in chosen.items():
        current = getattr(existing, key, None)
        if current != value:
            shown = redact_url(str(value)) if key == "database_url" else value
            raise ConfigurationError(
                f"{path} already exists and does not set {key} to {shown}: edit the file "
                "instead of passing the option to init",
                details={"setting": key},
            )
