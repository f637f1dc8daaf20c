"""A batch job's driver (the ``modelyard batch predict`` process) imports neither the
model's library nor serving: its workers score, and the driver only plans and records."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from modelyard.workspace import Workspace
from tests.batch.conftest import new_customers
from tests.cli.test_imports import heavy_in, imported_by

NOT_IN_THE_DRIVER = (
    "alembic", "fastapi", "onnxruntime", "pandas", "ray", "sklearn", "starlette", "uvicorn",
    "xgboost",
)  # fmt: skip


def test_the_batch_driver_imports_no_model_library_nor_serving(
    model_workspace: Workspace, tmp_path: Path
) -> None:
    source = tmp_path / "customers.parquet"
    pq.write_table(pa.Table.from_pandas(new_customers(500, seed=90), preserve_index=False), source)
    modules = imported_by(
        "-w", str(model_workspace.settings.workspace), "batch", "predict",
        "--model", "churn:production", "--input", str(source),
        "--output", str(tmp_path / "out"), "--json",
    )  # fmt: skip
    assert heavy_in(modules, NOT_IN_THE_DRIVER) == []
    assert "modelyard.batch._preload" not in modules  # its workers' fork server imports it
    assert "modelyard.batch._run" in modules  # it did run the job
    assert (tmp_path / "out" / "_manifest.json").is_file()
