"""The demo's monitoring stage: next month's customers reach the endpoint, drift shows.

The serving stage left ``churn-api`` with captured traffic from the training
population. Here a monitor is created on it, drifted traffic
(``datasets.churn(drift=...)``) is sent through a real gateway over HTTP, the
monitor checks the captured window (drift per feature, estimated quality before
any label), ground truth arrives for a share of the requests, and a second run
weighs the realised quality against the estimate. Every step is the SDK call a
``modelyard monitor`` or ``modelyard labels`` command makes.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from modelyard.cli._demo_serving import _plain, demo_gateway
from modelyard.cli._render import console, table

if TYPE_CHECKING:
    from modelyard.cli._demo import _Tour

__all__ = ["monitor_stage"]

_ENDPOINT = "churn-api"
_ROWS = 1500
_ROWS_PER_REQUEST = 50
_DRIFT = 1.0
_LABELLED = 0.3


def monitor_stage(tour: _Tour) -> None:
    """Monitor churn-api: drifted traffic, a run before labels, labels, a run after."""
    from modelyard import datasets

    monitors = tour.workspace.monitors
    monitor = monitors.create(
        _ENDPOINT, every="1h", drift=["psi>0.2"], quality=["roc_auc<0.8"], alerts=["log"]
    )
    console.print(
        f"monitor [bold]{monitor.name}[/] on {monitor.endpoint}: baseline = the training "
        f"statistics of {monitor.spec['model']}, drift {', '.join(monitor.spec['drift'])}, "
        f"quality {', '.join(monitor.spec['quality'])}"
    )
    frame = datasets.churn(_ROWS, seed=41, drift=_DRIFT)
    ids = _send(tour, frame.drop(columns=["churned", "customer_id"]))
    console.print(
        f"next month's customers (drift {_DRIFT}): {_ROWS:,} rows in "
        f"{_ROWS // _ROWS_PER_REQUEST} requests over HTTP, captured with their inference ids"
    )

    first = monitors.run(_ENDPOINT, include_current=True)
    console.print(f"monitor run: {first.message} (alerts go to the log; webhooks take them too)")
    _print_drift(monitors.history(_ENDPOINT)[-1])

    labelled = frame.sample(frac=_LABELLED, random_state=5).index
    labels_path = tour.scratch / "labels.csv"
    churned = dict(zip(frame.index, frame["churned"].astype(int).tolist(), strict=True))
    labels_path.write_text(
        "inference_id,label\n" + "".join(f"{ids[i]},{churned[i]}\n" for i in labelled)
    )
    ingested = monitors.ingest_labels(labels_path, _ENDPOINT)
    console.print(f"ground truth arrives a week later → {labels_path}: {ingested.message}")

    second = monitors.run(_ENDPOINT, include_current=True)
    console.print(f"monitor run with the labels: {second.message}")
    for alert in second.alerts:
        console.print(f"  {alert['status']}: {alert['description']}", markup=False)
    _print_quality(monitors.quality(_ENDPOINT))
    console.print(
        "the estimate reads calibrated scores, so it cannot see the churn drivers change "
        "(concept drift): the labels show the drop"
    )
    comparison = monitors.compare_variants(_ENDPOINT)
    if comparison is not None:
        console.print(f"A/B: {comparison.verdict}", markup=False)
    page = monitors.write_report(_ENDPOINT)
    console.print(f"report (HTML, works offline): {page}", soft_wrap=True)
    tour.facts["monitor"] = monitor.name
    tour.facts["monitor_report"] = str(page)


def _send(tour: _Tour, frame: Any) -> dict[int, str]:
    """Post ``frame`` to the endpoint through a real gateway; each row's inference id."""
    import httpx

    records = [_plain({str(k): v for k, v in r.items()}) for r in frame.to_dict("records")]
    ids: dict[int, str] = {}
    with demo_gateway(tour.workspace) as url, httpx.Client(base_url=url, timeout=30) as client:
        for start in range(0, len(records), _ROWS_PER_REQUEST):
            request_id = f"next-month-{start // _ROWS_PER_REQUEST}"
            chunk = records[start : start + _ROWS_PER_REQUEST]
            answer = client.post(
                f"/endpoints/{_ENDPOINT}/invocations",
                content=json.dumps(chunk),
                headers={
                    "content-type": "application/json",
                    "x-amzn-sagemaker-inference-id": request_id,
                },
            )
            answer.raise_for_status()
            # a request of several rows: its rows answer to ID:0, ID:1, ...
            ids.update({start + i: f"{request_id}:{i}" for i in range(len(chunk))})
    return {frame.index[position]: ids[position] for position in ids}


def _print_drift(window: dict[str, Any]) -> None:
    flagged = {v["feature"] for v in window["violations"] if v["check"] == "baseline_drift_check"}
    drifts = sorted(window["drift"], key=lambda d: -(d.get("psi") or 0.0))
    rows = [
        [
            d["feature"],
            d["kind"],
            f"{d['psi']:.3f}",
            f"{d['js_distance']:.3f}",
            f"{d['pvalue_adjusted']:.2g}",
            "drifted" if d["feature"] in flagged else "",
        ]
        for d in drifts
    ]
    console.print(
        table(
            f"Window {window['window']}: {window['rows']:,} rows, drift per feature "
            "against the training statistics",
            ["feature", "kind", "psi", "js", "p (Holm)", ""],
            rows,
        )
    )
    others = [
        v["description"] for v in window["violations"] if v["check"] != "baseline_drift_check"
    ]
    for description in others:
        console.print(f"  {description}", markup=False)
    estimated = (window.get("estimated") or {}).get("roc_auc")
    if estimated is not None:
        console.print(
            f"estimated roc_auc before any label (from the scores alone): {estimated:.3f}"
        )


def _print_quality(figures: list[dict[str, Any]]) -> None:
    rows = []
    for figure in figures:
        realised = figure.get("realised") or {}
        estimated = figure.get("estimated") or {}
        rows.append(
            [
                figure["window"],
                figure["variant"],
                figure["rows"],
                realised.get("labelled"),
                _fixed(realised.get("roc_auc")),
                _fixed(estimated.get("roc_auc")),
                _fixed((figure.get("registered") or {}).get("roc_auc")),
            ]
        )
    console.print(
        table(
            "Quality per window and variant",
            ["window", "variant", "rows", "labelled", "roc_auc", "estimated", "registered"],
            rows,
        )
    )


def _fixed(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"
