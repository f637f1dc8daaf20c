"""A package's lazy names: imported on first use, kept, listed, and refused by name."""

from __future__ import annotations

from typing import Any

import pytest

from modelyard._lazy import lazy_names


def test_a_lazy_name_is_imported_once_and_kept() -> None:
    namespace: dict[str, Any] = {}
    getattr_, dir_ = lazy_names(
        "pkg", namespace, {"dumps": "json"}, ["dumps", "eager"], submodules={"path"}
    )
    import json

    assert "dumps" not in namespace
    assert getattr_("dumps") is json.dumps
    assert namespace["dumps"] is json.dumps  # the next access finds it as a global
    assert set(dir_()) == {"dumps", "eager"}


def test_submodules_and_unknown_names() -> None:
    getattr_, _ = lazy_names("os", {}, {}, [], submodules={"path"})
    import os.path

    assert getattr_("path") is os.path
    with pytest.raises(AttributeError, match="module 'os' has no attribute 'nope'"):
        getattr_("nope")
