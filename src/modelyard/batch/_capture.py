"""Capture of batch scoring for monitoring, in the same layout and schema as endpoints.

The serving gateway records traffic as Parquet under
``<state_dir>/capture/endpoint=NAME/hour=YYYY-MM-DDTHH/`` with one row per request
(:data:`modelyard.serving._capture.CAPTURE_FIELDS`). A batch job with ``capture``
writes the same columns under ``endpoint=batch-<job id>``: one row per scored input
row, ``request`` the row's model inputs as a JSON object, ``response`` its outputs,
``request_id`` the job id and ``inference_id`` ``<partition>:<row>``. Monitoring
then reads batch scoring exactly as it reads endpoint traffic.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

__all__ = ["capture_path", "capture_table", "drop_earlier_capture"]


def capture_path(name: str, job_id: str, key: str) -> str:
    """The file of one partition, relative to the capture root."""
    hour = datetime.now(UTC).strftime("%Y-%m-%dT%H")
    return f"endpoint={name}/hour={hour}/part-{time.time_ns()}-{job_id[:12]}-{key}.parquet"


def drop_earlier_capture(root: str, name: str, job_id: str, key: str) -> None:
    """Remove what an earlier attempt at this partition captured (any hour), so a
    partition redone on resume is captured once, not once per attempt."""
    from fsspec.core import url_to_fs

    fs, base = url_to_fs(root)
    pattern = f"{base.rstrip('/')}/endpoint={name}/hour=*/part-*-{job_id[:12]}-{key}.parquet"
    for path in fs.glob(pattern):
        fs.rm(path)


def capture_table(
    rows: pa.RecordBatch,
    inputs: list[str],
    scored: dict[str, Any],
    *,
    endpoint: str,
    model: str,
    job_id: str,
    key: str,
    first_row: int,
) -> pa.Table:
    """Capture rows for scored ``rows``: the serving gateway's schema, one row each."""
    n = rows.num_rows
    present = [name for name in inputs if name in rows.schema.names]
    requests = _json_lines(pa.table({name: rows.column(name) for name in present}))
    responses = _json_lines(pa.table(scored).drop_columns(["model_version"]))
    string = pa.string()
    now = pa.scalar(datetime.now(UTC), type=pa.timestamp("us", tz="UTC"))
    return pa.table(
        {
            "time": pa.repeat(now, n),
            "endpoint": pa.repeat(pa.scalar(endpoint, string), n),
            "variant": pa.repeat(pa.scalar("batch", string), n),
            "model": pa.repeat(pa.scalar(model, string), n),
            "shadow": pa.repeat(pa.scalar(False), n),
            "request_id": pa.repeat(pa.scalar(job_id, string), n),
            "inference_id": pa.array([f"{key}:{first_row + i}" for i in range(n)], string),
            "latency_ms": pa.nulls(n, pa.float64()),
            "status": pa.repeat(pa.scalar(200, pa.int32()), n),
            "content_type": pa.repeat(pa.scalar("application/json", string), n),
            "request": pa.array(requests, string),
            "response": pa.array(responses, string),
        }
    )


def _json_lines(table: pa.Table) -> list[str]:
    """One JSON object per row (pandas' writer: vectorised, ISO dates)."""
    frame = table.to_pandas()
    text = frame.to_json(orient="records", lines=True, date_format="iso")
    return text.splitlines() if text else []
