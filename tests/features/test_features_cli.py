"""`modelyard features suggest` and `features preview` as real processes."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from modelyard import datasets
from modelyard.features import Recipe
from modelyard.workspace import Workspace
from tests.conftest import Cli


def test_suggest_then_preview(cli: Cli, workspace: Workspace, tmp_path: Path) -> None:
    frame = datasets.churn(1200, seed=3)
    frame["notes"] = datasets.reviews(1200, seed=3)["review"]
    data = tmp_path / "churn.csv"
    frame.to_csv(data, index=False)
    cli("data", "ingest", str(data), "--name", "churn", "--target", "churned")

    printed = cli("features", "suggest", "churn").stdout
    lines = printed.splitlines()
    # each step sits under the warning that motivated it
    drop = lines.index("  - drop: [customer_id]")
    assert lines[drop - 1].startswith("  # identifier: customer_id looks like an identifier")
    assert "  - text:" in lines and "  - date_parts:" in lines
    suggested = Recipe.from_yaml(printed)
    suggested.plan(workspace.datasets.get("churn").columns)  # trains as printed
    path = tmp_path / "features.yaml"
    path.write_text(printed)

    shown = cli("features", "preview", str(path), "--data", "churn", "-n", "4", "--json").stdout
    preview = json.loads(shown)
    assert len(preview["before"]) == 4 and len(preview["after"]) == 4
    assert "customer_id" not in preview["before"][0]
    sources = {o["name"]: (o["source"], o["step"]) for o in preview["outputs"]}
    assert sources["signup_date__days_since"] == ("signup_date", "impute")
    words = [name for name, (source, step) in sources.items() if step == "tfidf"]
    assert words and all(sources[w][0] == "notes" for w in words)
    first = preview["after"][0]
    norm = float(np.sqrt(sum(first[w] ** 2 for w in words)))
    assert abs(norm - 1.0) < 1e-5  # a TF-IDF row is l2-normalised
    table = cli("features", "preview", str(path), "--data", "churn", "-n", "2").stdout
    assert "Before" in table and "After" in table and "Output columns" in table

    bad = tmp_path / "bad.yaml"
    bad.write_text("steps:\n  - ratio: {name: r, numerator: tenure_months}\n")
    refused = cli("features", "preview", str(bad), "--data", "churn", check=False)
    assert refused.exit_code != 0
    assert refused.stderr.strip() == (
        "error: recipe step 1 (ratio): missing argument(s) denominator"
    )
