"""Settings: defaults < modelyard.toml < MODELYARD_* environment < arguments."""

from __future__ import annotations

from pathlib import Path

import pytest

from modelyard.errors import ConfigurationError
from modelyard.settings import find_workspace, load_settings


def test_defaults_put_everything_inside_the_workspace(tmp_path: Path) -> None:
    settings = load_settings(tmp_path)
    assert settings.workspace == tmp_path.resolve()
    assert (
        settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/.modelyard/modelyard.db"
    )
    assert settings.resolved_artifact_url == str(tmp_path.resolve() / ".modelyard" / "artifacts")
    assert settings.executor == "local"


def test_precedence_file_then_environment_then_arguments(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "modelyard.toml").write_text('executor = "ray"\nmax_workers = 3\n')
    assert load_settings(tmp_path).max_workers == 3
    assert load_settings(tmp_path).executor == "ray"
    monkeypatch.setenv("MODELYARD_MAX_WORKERS", "5")
    assert load_settings(tmp_path).max_workers == 5
    assert load_settings(tmp_path, max_workers=7).max_workers == 7


def test_workspace_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MODELYARD_WORKSPACE", str(tmp_path))
    assert load_settings().workspace == tmp_path.resolve()


def test_workspace_found_from_a_subdirectory(tmp_path: Path) -> None:
    (tmp_path / ".modelyard").mkdir()
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    assert find_workspace(nested) == tmp_path.resolve()


def test_bad_value_names_the_setting(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="executor"):
        load_settings(tmp_path, executor="gpu-farm")


def test_malformed_settings_file_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "modelyard.toml").write_text("executor = \n")
    with pytest.raises(ConfigurationError, match=r"modelyard\.toml"):
        load_settings(tmp_path)


def test_unknown_key_in_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "modelyard.toml").write_text('exectuor = "local"\n')
    with pytest.raises(ConfigurationError, match="exectuor"):
        load_settings(tmp_path)
