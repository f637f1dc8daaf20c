"""SageMaker data-capture files brought into modelyard's capture layout.

SageMaker writes one JSON line per invocation: ``captureData.endpointInput`` and
``endpointOutput`` (``data``, ``encoding`` CSV / JSON / BASE64,
``observedContentType``) and ``eventMetadata`` (``inferenceId``, ``eventId``,
``inferenceTime``). Each line becomes a capture record written by the gateway's
own capture writer, in the hour of its ``inferenceTime``, so its windows are
monitored like modelyard's own traffic and its ids join SageMaker ground truth.
A CSV output (a score per row) is recorded as ``{"predictions": [...]}``.
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from modelyard.errors import InvalidInputError

__all__ = ["import_sagemaker_capture"]


def import_sagemaker_capture(paths: list[Path], endpoint: str, capture_root: Path) -> int:
    """Write every invocation of SageMaker capture files as capture records; their count.

    Raises:
        InvalidInputError: a file missing, or a line that is not SageMaker capture.
    """
    from modelyard.serving._capture import CaptureRecord, CaptureWriter

    records = []
    for path in paths:
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise InvalidInputError(f"cannot read {path}: {exc.strerror or exc}") from exc
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                data = event["captureData"]
                meta = event.get("eventMetadata") or {}
                moment = datetime.fromisoformat(meta["inferenceTime"].replace("Z", "+00:00"))
                request, content_type = _payload(data["endpointInput"])
                output, _ = _payload(data.get("endpointOutput") or {})
            except (ValueError, KeyError, TypeError, AttributeError) as exc:
                raise InvalidInputError(
                    f"{path}, line {number}: not SageMaker capture ({exc!r})"
                ) from exc
            event_id = str(meta.get("eventId") or f"{path.name}:{number}")
            records.append(
                CaptureRecord(
                    moment.timestamp(),
                    endpoint,
                    str(meta.get("variant") or "AllTraffic"),
                    None,
                    False,
                    event_id,
                    meta.get("inferenceId") or event_id,
                    0.0,
                    200,
                    content_type,
                    request,
                    _response(output),
                )
            )
    writer = CaptureWriter(capture_root)
    for record in records:
        if not writer.offer(record):
            writer.close()  # the queue is full: write what it holds, then go on
            writer = CaptureWriter(capture_root)
            writer.offer(record)
    writer.close()
    return len(records)


def _payload(part: dict[str, Any]) -> tuple[str, str]:
    text = str(part.get("data") or "")
    if str(part.get("encoding", "")).upper() == "BASE64":
        text = base64.b64decode(text).decode("utf-8", "replace")
    return text, str(part.get("observedContentType") or "text/csv")


def _response(output: str) -> str:
    """SageMaker's output as modelyard's response: JSON kept, CSV scores as predictions."""
    text = output.strip()
    if text.startswith(("{", "[")):
        return text
    values: list[Any] = []
    for cell in text.replace("\n", ",").split(","):
        cell = cell.strip()
        if not cell:
            continue
        try:
            values.append(float(cell))
        except ValueError:
            values.append(cell)
    return json.dumps({"predictions": values})
