"""Alerts: one per violation episode and one "resolved", delivered to a real webhook."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from modelyard import datasets
from modelyard.errors import InvalidInputError
from modelyard.workspace import Workspace
from tests.monitoring.conftest import FIRST_HOUR, capture


class Receiver:
    """A webhook receiver on a loopback port that refuses its first POST (503)."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.refused = 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if receiver.refused == 0:
                    receiver.refused += 1
                    self.send_response(503)
                else:
                    receiver.received.append(json.loads(body))
                    self.send_response(204)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    live = Receiver()
    yield live
    live.close()


def test_one_alert_per_episode_and_one_resolved(
    ws: Workspace, endpoint: str, receiver: Receiver
) -> None:
    for k, drifted in enumerate([False, True, True, True, False, False]):
        frame = datasets.churn(500, seed=40 + k)
        if drifted:
            frame["monthly_charges"] = frame["monthly_charges"] * 1.6
        capture(ws, endpoint, frame, FIRST_HOUR + timedelta(hours=k))
    ws.monitors.create(endpoint, alerts=[f"webhook:{receiver.url}", "log"])
    run = ws.monitors.run(endpoint)
    assert len(run.windows) == 6
    assert receiver.refused == 1  # the first delivery was retried
    keys = Counter((a["key"], a["status"]) for a in receiver.received)
    assert keys[("drift:monthly_charges", "firing")] == 1
    assert keys[("drift:monthly_charges", "resolved")] == 1
    assert all(count == 1 for count in keys.values()), keys
    firing = next(a for a in receiver.received if a["status"] == "firing")
    assert firing["window"] == f"{FIRST_HOUR + timedelta(hours=1):%Y-%m-%dT%H}"
    assert firing["monitor"] == endpoint and "monthly_charges drifted" in firing["message"]
    assert ws.monitors.get(endpoint).open_episodes == {}


def test_quality_rules_open_an_episode_once_labels_show_it(
    ws: Workspace, endpoint: str, receiver: Receiver, tmp_path: Any
) -> None:
    frame = datasets.churn(600, seed=50)
    ids = capture(ws, endpoint, frame, FIRST_HOUR, variant="b", model="churn:2")
    ws.monitors.create(endpoint, quality=["roc_auc<0.99"], alerts=[f"webhook:{receiver.url}"])
    ws.monitors.run(endpoint)
    # no labels yet: nothing to judge (churn:2's scores do drift from churn:1's baseline)
    assert not [a for a in receiver.received if a["key"].startswith("quality:")]
    path = tmp_path / "labels.csv"
    pairs = zip(ids, frame["churned"], strict=True)
    path.write_text("inference_id,label\n" + "".join(f"{i},{y}\n" for i, y in pairs))
    ws.monitors.ingest_labels(path, endpoint)
    capture(ws, endpoint, datasets.churn(100, seed=51), FIRST_HOUR + timedelta(hours=1))
    ws.monitors.run(endpoint)
    ws.monitors.run(endpoint)
    quality = [a for a in receiver.received if a["key"] == "quality:roc_auc"]
    assert [a["status"] for a in quality] == ["firing"]
    assert "labelled rows" in quality[0]["description"]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"drift": ["psi>>1"]}, "not of the form"),
        ({"drift": ["speed>1"]}, "unknown metric"),
        ({"quality": ["psi<1"]}, "unknown metric"),
        ({"alerts": ["email:x"]}, "unknown alert target"),
        ({"every": "soon"}, "schedule 'soon'"),
    ],
)
def test_bad_monitor_definitions_name_the_problem(
    ws: Workspace, endpoint: str, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError, match=message):
        ws.monitors.create(endpoint, **kwargs)
    assert ws.monitors.list() == [] or all(m.endpoint != endpoint for m in ws.monitors.list())
