"""Choosing the variant that answers a request.

Weighted random among production variants (weights normalised, like SageMaker's
variant weights); a target-variant header picks one by name; a sticky key maps
the same caller to the same variant for as long as the weights stand, by hashing
the key onto the same cumulative-weight line the random draw uses.
"""

from __future__ import annotations

import bisect
import hashlib
import random
from collections.abc import Sequence
from typing import Generic, TypeVar

from modelyard.errors import InvalidInputError

__all__ = ["VariantRouter"]

T = TypeVar("T")


class VariantRouter(Generic[T]):
    """Pick one of ``choices`` by weight, by name, or by sticky key.

    Args:
        names: variant names.
        weights: their weights (>= 0, not all zero).
        choices: what to return for each name (loaded variants).
    """

    def __init__(self, names: Sequence[str], weights: Sequence[float], choices: Sequence[T]):
        total = float(sum(weights))
        if total <= 0:
            raise InvalidInputError("variant weights are all zero")
        running, cumulative = 0.0, []
        for weight in weights:
            running += weight / total
            cumulative.append(running)
        cumulative[-1] = 1.0
        self._cumulative = cumulative
        self._choices = list(choices)
        self._by_name = dict(zip(names, choices, strict=True))
        self._names = list(names)
        self._random = random.Random()

    def choose(self, target: str | None = None, sticky: str | None = None) -> T:
        """The variant for one request.

        Raises:
            InvalidInputError: ``target`` names no production variant.
        """
        if target:
            chosen = self._by_name.get(target)
            if chosen is None:
                raise InvalidInputError(
                    f"target variant {target!r} is not a production variant of this endpoint",
                    details={"variant": target, "variants": self._names},
                )
            return chosen
        if len(self._choices) == 1:
            return self._choices[0]
        if sticky:
            digest = hashlib.blake2b(sticky.encode("utf-8", "replace"), digest_size=8).digest()
            point = int.from_bytes(digest, "big") / 2**64
        else:
            point = self._random.random()
        index = bisect.bisect_right(self._cumulative, point)
        return self._choices[min(index, len(self._choices) - 1)]
