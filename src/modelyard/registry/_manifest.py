"""The model package's manifest (``model.json``): one typed object, parsed here only.

Every reader of a package (the registry's loader, serving, a batch job's driver and
its workers) gets a :class:`PackageManifest` from :meth:`PackageManifest.parse`
instead of looking keys up in the JSON itself, so a field renamed or added has one
place to change. The module imports nothing beyond the standard library: a batch
job's driver reads manifests without paying for numpy or pandas.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from modelyard.errors import IntegrityError, InvalidInputError

__all__ = ["FLAVORS", "MANIFEST", "NativeEntry", "PackageManifest"]

MANIFEST = "model.json"
FLAVORS = ("onnx", "native", "pipeline")  # also the order of preference when unasked


@dataclass(frozen=True)
class NativeEntry:
    """The native flavor's booster file: which library reads it, and its name."""

    library: str
    file: str


@dataclass(frozen=True)
class PackageManifest:
    """What a package says about itself.

    Attributes:
        task: ``binary``, ``multiclass`` or ``regression``.
        flavors: the flavors the package holds (of :data:`FLAVORS`).
        files: each package file's sha256, as written.
        inputs: the input signature's columns (name, kind, nullable, categories).
        classes: class labels in probability order; ``None`` for regression.
        threshold: the binary decision threshold, when one was tuned.
        recipe: the fitted feature recipe (JSON), for the ONNX and native flavors.
        native: the native flavor's booster file, when the package has that flavor.
        document: the whole manifest as written (metrics, lineage, parity records).
    """

    task: str
    flavors: tuple[str, ...]
    files: Mapping[str, str]
    inputs: tuple[Mapping[str, Any], ...]
    classes: tuple[Any, ...] | None = None
    threshold: float | None = None
    recipe: Mapping[str, Any] | None = None
    native: NativeEntry | None = None
    document: Mapping[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, data: bytes | str | Mapping[str, Any]) -> PackageManifest:
        """The manifest of ``model.json``'s bytes (or its parsed JSON).

        Raises:
            IntegrityError: not JSON, or a field missing or of the wrong type.
        """
        try:
            document = json.loads(data) if isinstance(data, bytes | str) else dict(data)
            if not isinstance(document, dict):
                raise TypeError("not a JSON object")
            if not isinstance(document["task"], str):
                raise TypeError("task is not text")
            flavors = tuple(str(f) for f in document["flavors"])
            if not flavors:
                raise ValueError("no flavor")
            unknown = [f for f in flavors if f not in FLAVORS]
            if unknown:
                raise ValueError(f"unknown flavor(s) {', '.join(unknown)}")
            native_entry = document.get("native") or {}
            native = (
                NativeEntry(str(native_entry["library"]), str(native_entry["file"]))
                if "native" in flavors
                else None
            )
            classes = document.get("classes")
            threshold = (document.get("threshold") or {}).get("value")
            recipe = document.get("recipe")
            if recipe is not None and not isinstance(recipe, dict):
                raise TypeError("recipe is not a JSON object")
            inputs = tuple(dict(c) for c in document["signature"]["inputs"])
            if any(not isinstance(c.get("name"), str) for c in inputs):
                raise ValueError("an input of the signature has no name")
            return cls(
                task=document["task"],
                flavors=flavors,
                files={str(k): str(v) for k, v in dict(document.get("files") or {}).items()},
                inputs=inputs,
                classes=tuple(classes) if classes is not None else None,
                threshold=float(threshold) if threshold is not None else None,
                recipe=recipe,
                native=native,
                document=document,
            )
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            reason = f"no field {exc}" if isinstance(exc, KeyError) else str(exc)
            raise IntegrityError(
                f"model package manifest {MANIFEST} is not valid: {reason}"
            ) from exc

    @property
    def input_names(self) -> list[str]:
        """The raw columns the model reads, in signature order."""
        return [str(c["name"]) for c in self.inputs]

    def choose_flavor(self, prefer: str) -> str:
        """``prefer`` when the package has it, else the first of :data:`FLAVORS` it has.

        Raises:
            InvalidInputError: ``prefer`` is not a flavor.
        """
        if prefer not in FLAVORS:
            raise InvalidInputError(f"unknown flavor {prefer!r}: use onnx, native or pipeline")
        if prefer in self.flavors:
            return prefer
        return next(f for f in FLAVORS if f in self.flavors)

    def to_dict(self) -> dict[str, Any]:
        """The manifest as written (a copy)."""
        return dict(self.document)
