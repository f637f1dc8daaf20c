"""A generated movie-review sentiment table: free text with a learnable, noisy signal.

Each review is a few sentences built from neutral filler, genre words and
sentiment phrases (``"a wonderful cast"``, ``"not worth the ticket"``); the label
depends on the balance of positive and negative phrases, with negations
(``"not good"``) that only word pairs capture, and 8% of labels flipped. Nothing
is downloaded; the same ``(n_rows, seed)`` gives the same table.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["reviews"]

_POSITIVE = (
    "wonderful",
    "brilliant",
    "moving",
    "delightful",
    "gripping",
    "superb",
    "charming",
    "beautiful",
    "funny",
    "memorable",
    "clever",
    "touching",
)
_NEGATIVE = (
    "boring",
    "dull",
    "awful",
    "clumsy",
    "tedious",
    "predictable",
    "shallow",
    "forgettable",
    "messy",
    "weak",
    "lifeless",
    "painful",
)
_NEGATABLE = ("good", "great", "fun", "worth it", "interesting", "bad", "terrible")
_NEGATABLE_SIGN = (1, 1, 1, 1, 1, -1, -1)
_NOUNS = ("plot", "cast", "script", "ending", "soundtrack", "pacing", "lead", "dialogue")
_FILLER = (
    "i watched it on a sunday",
    "the theatre was half empty",
    "my friend picked it",
    "it runs about two hours",
    "the trailer promised a lot",
    "we saw the late show",
    "the director is known for dramas",
    "the sequel is already planned",
)
_GENRES = ("drama", "comedy", "thriller", "horror", "animation", "documentary")


def reviews(n_rows: int = 2_000, seed: int = 0) -> pd.DataFrame:
    """A review-sentiment table.

    Columns: ``review_id``, ``genre`` (categorical), ``runtime_minutes``,
    ``review`` (free text), ``positive`` (1 when the review is favourable).
    """
    rng = np.random.default_rng(seed)
    genres = rng.choice(_GENRES, n_rows)
    runtime = np.round(rng.normal(110, 18, n_rows)).clip(70, 200)
    texts, labels = [], []
    for _ in range(n_rows):
        score = 0.0
        sentences = [str(rng.choice(_FILLER))]
        for _ in range(int(rng.integers(2, 6))):
            noun = str(rng.choice(_NOUNS))
            pick = rng.random()
            if pick < 0.35:
                sentences.append(f"the {noun} was {rng.choice(_POSITIVE)}")
                score += 1
            elif pick < 0.7:
                sentences.append(f"the {noun} was {rng.choice(_NEGATIVE)}")
                score -= 1
            else:
                index = int(rng.integers(len(_NEGATABLE)))
                negated = rng.random() < 0.5
                sign = _NEGATABLE_SIGN[index] * (-1 if negated else 1)
                word = ("not " if negated else "") + _NEGATABLE[index]
                sentences.append(f"the {noun} was {word}")
                score += 0.8 * sign
            if rng.random() < 0.3:
                sentences.append(str(rng.choice(_FILLER)))
        texts.append(". ".join(sentences).capitalize() + ".")
        label = score + rng.normal(0, 0.6) > 0
        labels.append(int(label) if rng.random() >= 0.08 else int(not label))
    return pd.DataFrame(
        {
            "review_id": [f"R{i + 1:07d}" for i in range(n_rows)],
            "genre": genres,
            "runtime_minutes": runtime,
            "review": texts,
            "positive": np.asarray(labels, dtype=np.int64),
        }
    )
