"""Built-in synthetic datasets: realistic tables generated locally, never downloaded.

Demos, tests and benchmarks need data with the warts of real extracts (mixed
types, missing values, a date, a high-cardinality code) and a signal that is
learnable but noisy. Both generators are vectorised (a million rows in about a
second), deterministic for a given ``(n_rows, seed, drift)``, and take a
``drift`` in [0, 1] that shifts the feature distributions and the
feature-target relation, to exercise drift monitoring and retraining::

    from modelyard import datasets

    reference = datasets.churn(10_000, seed=1)          # classification, target "churned"
    next_month = datasets.churn(10_000, seed=2, drift=0.6)
    listings = datasets.houses(5_000)                    # regression, target "price"
    opinions = datasets.reviews(2_000)                   # text, target "positive"

(``reviews`` takes no ``drift``: it is the text example of feature recipes.)
"""

from modelyard.datasets._churn import churn
from modelyard.datasets._houses import houses
from modelyard.datasets._reviews import reviews

__all__ = ["churn", "houses", "reviews"]
