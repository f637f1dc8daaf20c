"""`modelyard train --recipe` through the real command line: churn with a recipe
(ONNX kept, steps in `model show`, every flavor predicting alike), a bad recipe
refused before anything is registered, and the review-sentiment model against
scikit-learn's TfidfVectorizer + LogisticRegression on the same split."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest

from modelyard import datasets
from modelyard.workspace import Workspace
from tests.conftest import Cli

RECIPE = """
steps:
  - drop: [customer_id]
  - clip: {column: monthly_charges, quantiles: [0.01, 0.99]}
  - log1p: [total_charges]
  - ratio: {name: charge_per_month, numerator: total_charges, denominator: tenure_months}
  - date_parts: {column: signup_date, parts: [month, weekday], days_since: true}
  - bucket: {column: tenure_months, quantiles: 5}
  - target: plan_code
  - impute: {column: payment_method, strategy: mode}
  - filter: "tenure_months >= 0"
"""


def test_train_with_a_recipe(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "churn.csv"
    datasets.churn(1500, seed=4).to_csv(data, index=False)
    cli("data", "ingest", str(data), "--name", "churn", "--target", "churned")
    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - drop: customer_id\n  - log1p: [no_such_column]\n")
    refused = cli("train", "churn", "--recipe", str(bad), "-a", "xgboost", check=False)
    assert refused.exit_code != 0
    assert refused.stderr.strip() == "error: recipe step 2 (log1p): no column 'no_such_column'"
    assert json.loads(cli("model", "list", "--json").stdout) == []

    recipe = tmp_path / "features.yaml"
    recipe.write_text(RECIPE)
    trained = cli("train", "churn", "--recipe", str(recipe), "-a", "xgboost")
    assert "Registered churn:1 (xgboost, binary)" in trained.stdout
    assert "ONNX flavor: yes" in trained.stdout  # the graph takes the recipe's matrix
    shown = cli("model", "show", "churn:1").stdout
    assert "fitted recipe step 4: derived(total_charges, tenure_months; name='charge_" in shown
    assert "date_parts(signup_date; parts=['month', 'dayofweek']" in shown
    assert "tfidf" not in shown and "bucket(tenure_months; edges=[" in shown

    new = tmp_path / "new.csv"
    datasets.churn(40, seed=8).drop(columns=["churned"]).to_csv(new, index=False)
    scored = {}
    for flavor in ("onnx", "native", "pipeline"):
        out = tmp_path / f"{flavor}.csv"
        cli("model", "predict", "churn:1", "--input", str(new), "-o", str(out), "--flavor", flavor)
        with out.open() as handle:
            scored[flavor] = np.asarray([float(r["proba_1"]) for r in csv.DictReader(handle)])
    np.testing.assert_allclose(scored["onnx"], scored["pipeline"], atol=1e-5)
    np.testing.assert_allclose(scored["native"], scored["pipeline"], atol=1e-5)


@pytest.mark.slow
def test_review_sentiment_matches_scikit_learn(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import roc_auc_score

    from modelyard.data._splits import SPLIT_CODES

    data = tmp_path / "reviews.csv"
    datasets.reviews(2000, seed=1).to_csv(data, index=False)
    cli("data", "ingest", str(data), "--name", "reviews", "--target", "positive")
    recipe = tmp_path / "reviews.yaml"
    recipe.write_text(
        "steps:\n  - text: {column: review, method: tfidf, max_features: 2000, ngrams: [1, 2]}\n"
    )
    printed = cli("train", "reviews", "--recipe", str(recipe), "-a", "linear", "--json").stdout
    ours = json.loads(printed)["model"]["metrics"]["roc_auc"]

    version = workspace.datasets.get("reviews")
    frame = workspace.datasets.read(version).to_pandas()
    codes = workspace.datasets.split_codes(version)
    assert codes is not None
    train, test = frame[codes == SPLIT_CODES["train"]], frame[codes == SPLIT_CODES["test"]]
    vectorizer = TfidfVectorizer(max_features=2000, ngram_range=(1, 2))
    model = LogisticRegression(max_iter=1000).fit(
        vectorizer.fit_transform(train["review"]), train["positive"]
    )
    theirs = roc_auc_score(
        test["positive"], model.predict_proba(vectorizer.transform(test["review"]))[:, 1]
    )
    assert ours > 0.8 and abs(ours - theirs) <= 0.01, (ours, theirs)
