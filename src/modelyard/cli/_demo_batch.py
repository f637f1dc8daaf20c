"""The demo's batch-transform stage: score a file of new customers with the production
model, through the same SDK call as ``modelyard batch predict``."""

from __future__ import annotations

from typing import Any

from modelyard.cli._render import console, table

__all__ = ["batch_stage"]

_ROWS = 20_000


def batch_stage(tour: Any) -> None:
    """Score generated new customers (a few of them malformed) in batch; print the summary."""
    import pyarrow.parquet as pq

    from modelyard import datasets
    from modelyard.batch import batch_predict
    from modelyard.execution import LocalExecutor

    customers = datasets.churn(_ROWS, seed=101).drop(columns=["churned"])
    customers = customers.astype({"tenure_months": object})
    customers.loc[[10, 500, 7000], "tenure_months"] = "unknown"  # rejected, with a reason
    source = tour.scratch / "new-customers-batch.csv"
    customers.to_csv(source, index=False)
    output = tour.scratch / "batch-scores"
    console.print(f"generated {_ROWS:,} new customers → {source}")
    with LocalExecutor(max_workers=2) as executor:
        result = batch_predict(
            tour.workspace,
            "churn:production",
            str(source),
            str(output),
            keep=["customer_id", "region"],
            executor=executor,
            partition_bytes=800_000,
        )
    manifest = result.manifest or {}
    console.print(
        table(
            f"Batch job {result.job.id[:12]} {result.job.status.value}",
            ["rows in", "scored", "rejected", "parts", "rows/s", "output"],
            [
                [
                    manifest.get("rows_in"),
                    manifest.get("rows_out"),
                    manifest.get("rows_rejected"),
                    len(manifest.get("parts", [])),
                    f"{result.job.rows_per_second or 0:,.0f}",
                    str(output),
                ]
            ],
        )
    )
    errors = pq.read_table(output / "_errors", columns=["customer_id", "_reason"]).to_pylist()
    for row in errors:
        console.print(f"  rejected {row['customer_id']}: {row['_reason']}")
    scored = pq.read_table(output, columns=["customer_id", "region", "proba_1"]).to_pandas()
    top = scored.sort_values("proba_1", ascending=False).head(3)
    console.print(table("Highest churn risk", list(top.columns), top.values.tolist()))
    tour.facts["batch_job"] = result.job.id
