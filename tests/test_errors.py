"""The exception tree: one root, builtin bases, distinct edge mappings."""

from __future__ import annotations

import errno
import inspect
from pathlib import Path

import pytest

from modelyard import errors
from modelyard.errors import ModelyardError

PUBLIC = [getattr(errors, name) for name in errors.__all__]


def test_every_public_exception_derives_from_modelyard_error() -> None:
    assert len(PUBLIC) >= 9
    for exc_type in PUBLIC:
        assert inspect.isclass(exc_type) and issubclass(exc_type, ModelyardError), exc_type


@pytest.mark.parametrize(
    ("exc_type", "builtin"),
    [
        (errors.NotFoundError, LookupError),
        (errors.InvalidInputError, ValueError),
        (errors.SchemaMismatchError, ValueError),
        (errors.StorageError, OSError),
        (errors.MissingDependencyError, ImportError),
    ],
)
def test_builtin_bases_stay_catchable(exc_type: type[Exception], builtin: type[Exception]) -> None:
    with pytest.raises(builtin):
        raise exc_type("x")


def test_client_errors_map_to_4xx_and_nonzero_exit() -> None:
    for exc_type in (errors.NotFoundError, errors.InvalidInputError, errors.ConflictError):
        assert 400 <= exc_type.http_status < 500
    for exc_type in PUBLIC:
        assert exc_type.exit_code != 0


def test_to_dict_is_the_api_error_body() -> None:
    body = errors.NotFoundError("dataset x not found", details={"name": "x"}).to_dict()
    assert body == {
        "error": {
            "type": "NotFoundError",
            "message": "dataset x not found",
            "details": {"name": "x"},
        }
    }


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="/dev/full is a Linux device")
def test_a_failed_write_is_one_line_naming_the_file_and_the_reason() -> None:
    with pytest.raises(OSError) as caught, Path("/dev/full").open("wb") as handle:
        handle.write(b"x")
        handle.flush()
    error = errors.StorageError.writing("artifact", "/dev/full", caught.value)
    assert str(error) == "cannot write artifact /dev/full: No space left on device"
    assert error.details == {"path": "/dev/full", "errno": errno.ENOSPC}
