"""One typed settings object, and the only place that reads the environment.

Precedence, lowest to highest: defaults, ``<workspace>/modelyard.toml``,
``MODELYARD_*`` environment variables, explicit arguments. Everything else in
modelyard receives a :class:`Settings` and never looks at ``os.environ``.
"""

from __future__ import annotations

import json
import os
import tomllib
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from modelyard.errors import ConfigurationError

__all__ = [
    "SETTINGS_FILE",
    "STATE_DIR",
    "Settings",
    "find_workspace",
    "load_settings",
    "write_settings_file",
]

SETTINGS_FILE = "modelyard.toml"
STATE_DIR = ".modelyard"
_ENV_PREFIX = "MODELYARD_"


class Settings(BaseSettings):
    """Where a workspace keeps things and how modelyard runs work.

    Attributes:
        workspace: the workspace directory.
        database_url: SQLAlchemy URL of the metadata store; SQLite inside the
            workspace when unset.
        artifact_url: fsspec URL or path of the artifact root; inside the
            workspace when unset.
        sqlite_busy_timeout_ms: how long a SQLite writer waits for another.
        executor: where independent work items run.
        ray_address: the Ray cluster for the ``ray`` executor (``auto`` or
            ``ray://host:port``); a local Ray is started when unset.
        max_workers: worker processes of the ``local`` executor (0: one per core).
        max_threads: threads one model fit may use (XGBoost, LightGBM, forests);
            0: the cores this process may run on. Their OpenMP threads spin while
            waiting, so more threads than free cores slows a fit down many times.
        allowed_hosts: ``Host`` names the gateway answers to besides localhost, IP
            addresses and the host it was started on (``serve --host``); a name not
            listed is refused, so a page that rebinds its DNS name to this machine
            cannot read or call the gateway.
        open_management: let the gateway's management API run without a token
            again after the last admin token was revoked (revoking it closes the
            API, so that revoking cannot open it by accident).
        require_approval: a model version must be approved before an alias points
            at it or an endpoint serves it (a rejected one never may, either way).
    """

    model_config = SettingsConfigDict(env_prefix=_ENV_PREFIX, extra="forbid")

    workspace: Path
    database_url: str | None = None
    artifact_url: str | None = None
    sqlite_busy_timeout_ms: int = Field(default=60_000, ge=0)
    executor: Literal["local", "ray"] = "local"
    ray_address: str | None = None
    max_workers: int = Field(default=0, ge=0)
    max_threads: int = Field(default=0, ge=0)
    allowed_hosts: list[str] = Field(default_factory=list)
    open_management: bool = False
    require_approval: bool = False

    @property
    def state_dir(self) -> Path:
        """The hidden directory holding the default database and artifacts."""
        return self.workspace / STATE_DIR

    @property
    def resolved_database_url(self) -> str:
        """The metadata store URL actually used."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.state_dir / 'modelyard.db'}"

    @property
    def resolved_artifact_url(self) -> str:
        """The artifact root actually used."""
        if self.artifact_url:
            return self.artifact_url
        return str(self.state_dir / "artifacts")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # The workspace's file is named in model_config by load_settings.
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def find_workspace(start: Path | None = None) -> Path | None:
    """The nearest directory at or above ``start`` that holds a workspace."""
    here = (start or Path.cwd()).resolve()
    for candidate in (here, *here.parents):
        if (candidate / STATE_DIR).is_dir() or (candidate / SETTINGS_FILE).is_file():
            return candidate
    return None


def load_settings(workspace: str | Path | None = None, **overrides: Any) -> Settings:
    """Build the settings of a workspace.

    The workspace is ``workspace`` if given, else ``MODELYARD_WORKSPACE``, else the
    nearest workspace at or above the current directory, else the current directory.

    Raises:
        ConfigurationError: a setting has a bad value; the message names it.
    """
    if workspace is None:
        env_workspace = os.environ.get(f"{_ENV_PREFIX}WORKSPACE")
        workspace = env_workspace or find_workspace() or Path.cwd()
    root = Path(workspace).expanduser().resolve()
    toml_path = root / SETTINGS_FILE
    # pydantic-settings reads the TOML file named in the class config, and the file
    # is only known per workspace: a subclass per load names it.
    workspace_settings = type(
        "Settings",
        (Settings,),
        {"model_config": SettingsConfigDict(**{**Settings.model_config, "toml_file": toml_path})},
    )
    try:
        clean = {key: value for key, value in overrides.items() if value is not None}
        settings: Settings = workspace_settings(workspace=root, **clean)
        return settings
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(
            f"invalid settings for workspace {root}: {problems}",
            details={"errors": [dict(e) for e in exc.errors(include_url=False)]},
        ) from exc
    except ValueError as exc:  # a malformed modelyard.toml
        raise ConfigurationError(f"cannot read {toml_path}: {exc}") from exc


def environment_flag(name: str) -> str | None:
    """A raw ``MODELYARD_*`` environment value, for the few switches not in Settings."""
    return os.environ.get(f"{_ENV_PREFIX}{name}")


# The settings a new modelyard.toml explains, each with an example shown (commented
# out) when the workspace does not set it.
_DOCUMENTED = (
    (
        "database_url",
        "Metadata database (SQLAlchemy URL). Default: SQLite in .modelyard/modelyard.db",
        '"postgresql+psycopg://user@host:5432/modelyard"',
    ),
    (
        "artifact_url",
        "Artifact root (a path or any fsspec URL). Default: .modelyard/artifacts",
        '"s3://bucket/modelyard"',
    ),
    ("executor", 'Where work items run: "local" (process pool) or "ray".', '"local"'),
)
_HEADER = (
    "# modelyard workspace settings. Environment variables MODELYARD_<NAME> override these,\n"
    "# and command-line options override both. `modelyard info` shows what is in use.\n"
)


def write_settings_file(path: Path, values: Mapping[str, Any]) -> None:
    """Write a new settings file holding ``values`` (validated :class:`Settings` fields).

    What ``modelyard init`` was told is kept here, so every later command of the
    workspace uses it. A database URL is written as given, password included (the
    URL is what connects), so a file holding one is readable by its owner only
    (mode 0600). The file appears whole or not at all.

    Raises:
        ConfigurationError: a value TOML cannot hold, or the file cannot be written.
    """
    lines = [_HEADER]
    for key, comment, example in _DOCUMENTED:
        value = values.get(key)
        assignment = f"{key} = {_toml_value(key, value)}" if value is not None else None
        lines.append(f"\n# {comment}\n{assignment or f'# {key} = {example}'}\n")
    documented = {key for key, _, _ in _DOCUMENTED}
    extra = [
        f"{key} = {_toml_value(key, value)}\n"
        for key, value in values.items()
        if key not in documented and value is not None
    ]
    if extra:
        lines.append("\n" + "".join(extra))
    text = "".join(lines)
    private = values.get("database_url") is not None
    temporary = path.with_name(f".{path.name}.tmp-{uuid.uuid4().hex}")
    try:
        descriptor = os.open(
            temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600 if private else 0o644
        )
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            handle.write(text)
        temporary.replace(path)
    except OSError as exc:
        temporary.unlink(missing_ok=True)
        raise ConfigurationError(f"cannot write {path}: {exc.strerror or exc}") from exc


def _toml_value(key: str, value: Any) -> str:
    """``value`` as TOML, checked by reading it back."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int):
        text = str(value)
    elif isinstance(value, list):  # allowed_hosts
        text = "[" + ", ".join(_toml_value(key, item) for item in value) + "]"
    else:
        # A JSON string is a TOML basic string, except that TOML also wants DEL
        # escaped; non-ASCII stays as it is (JSON would split it into surrogates).
        text = json.dumps(str(value), ensure_ascii=False).replace("\x7f", "\\u007f")
    try:
        readable = tomllib.loads(f"v = {text}")["v"] == value and bool(text.encode())
    except (tomllib.TOMLDecodeError, UnicodeEncodeError):
        readable = False
    if not readable:
        raise ConfigurationError(
            f"setting {key} cannot be written to {SETTINGS_FILE}: {value!r}",
            details={"setting": key},
        )
    return text
