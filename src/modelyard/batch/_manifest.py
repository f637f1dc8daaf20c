"""The manifest of a finished batch job: what went in, what came out, with checksums.

It is written last, under a temporary name then renamed, and only when the job
succeeded: a folder with part files but no ``manifest.json`` is not a complete
output, whatever it holds.
"""

from __future__ import annotations

import json
from typing import Any

from modelyard.jobs import Job, Partition

__all__ = ["MANIFEST", "build_manifest", "write_manifest"]

MANIFEST = "_manifest.json"


def build_manifest(job: Job, partitions: list[Partition], seconds: float) -> dict[str, Any]:
    """The manifest's content for a job whose partitions are all committed."""
    params = job.params
    parts, errors = [], []
    for partition in partitions:
        details = partition.details or {}
        if partition.output:
            parts.append(
                {
                    "file": _name(partition.output),
                    "partition": partition.key,
                    "source": partition.spec.get("file"),
                    "rows": partition.rows_out,
                    "sha256": partition.checksum,
                }
            )
        if details.get("errors"):
            errors.append(
                {
                    "file": _name(details["errors"], depth=2),
                    "partition": partition.key,
                    "rows": partition.rows_rejected,
                    "sha256": details.get("errors_checksum"),
                }
            )
    flavors = {(p.details or {}).get("flavor") for p in partitions} - {None}
    rows_in = sum(p.rows_in or 0 for p in partitions)
    rows_out = sum(p.rows_out or 0 for p in partitions)
    return {
        "job_id": job.id,
        "model": params["model"],
        "model_version": params["model_version"],
        "package_digest": params["package_digest"],
        "flavor": "/".join(sorted(str(f) for f in flavors)) or None,
        "inputs": params["inputs"],
        "output_format": params["output_format"],
        "keep": params["keep"],
        "rows_in": rows_in,
        "rows_out": rows_out,
        "rows_rejected": sum(p.rows_rejected or 0 for p in partitions),
        "max_errors": params["max_errors"],
        "started_at": job.started_at.isoformat() if job.started_at else None,
        "seconds": round(seconds, 3),
        "rows_per_second": round(rows_in / seconds, 1) if seconds > 0 else None,
        "parts": parts,
        "errors": errors,
        "capture": params.get("capture"),
    }


def write_manifest(output: str, manifest: dict[str, Any]) -> str:
    """Write ``manifest.json`` into ``output`` atomically; return its URL."""
    import uuid

    from fsspec.core import url_to_fs

    fs, root = url_to_fs(output)
    final = f"{root.rstrip('/')}/{MANIFEST}"
    temp = f"{root.rstrip('/')}/.tmp-{uuid.uuid4().hex[:8]}-{MANIFEST}"
    with fs.open(temp, "w") as handle:
        handle.write(json.dumps(manifest, indent=1))
    fs.mv(temp, final)
    result: str = fs.unstrip_protocol(final)
    return result


def _name(url: str, depth: int = 1) -> str:
    """The file name relative to the output folder."""
    return "/".join(url.rstrip("/").split("/")[-depth:])
