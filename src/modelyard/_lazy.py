"""Names of a package imported on first use (PEP 562), for the packages that must
stay light to import.

``import modelyard.batch`` (the batch driver), ``modelyard.registry`` (resolving a
version) and ``modelyard`` itself (every command line start) would otherwise load
pandas, scikit-learn or the model libraries that only some of their names need.
Each such package names where its lazy names live; this module gives it the
``__getattr__`` and ``__dir__`` that import them on first use and keep them. A name
whose module needs a missing extra raises
:class:`~modelyard.errors.MissingDependencyError` naming the extra.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping, Sequence
from importlib import import_module
from typing import Any

from modelyard._imports import optional_dependency

__all__ = ["lazy_names"]


def lazy_names(
    package: str,
    namespace: dict[str, Any],
    exports: Mapping[str, str],
    public: Sequence[str],
    submodules: Collection[str] = (),
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The ``(__getattr__, __dir__)`` of ``package``.

    Args:
        package: the package's ``__name__`` (for error messages and submodules).
        namespace: its ``globals()``: a name, once imported, is kept there, so the
            next access does not come back here.
        exports: lazy name -> the module that defines it.
        public: the package's ``__all__``, listed by ``dir()`` with what is loaded.
        submodules: subpackages reached as attributes (``modelyard.datasets``).
    """

    def __getattr__(name: str) -> Any:  # noqa: N807  (the module hook's own name)
        if name in submodules:
            return import_module(f"{package}.{name}")
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        # a lazy name that needs an extra says so in one line (modelyard._imports)
        with optional_dependency(f"{package}.{name}"):
            value = getattr(import_module(module), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*namespace, *public})

    return __getattr__, __dir__
