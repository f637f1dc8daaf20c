"""``modelyard pipeline`` through the real command line, as a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

from modelyard.pipelines import Pipeline, steps
from modelyard.workspace import Workspace
from tests.conftest import Cli
from tests.pipelines import _functions as fns


def _write_csv(path: Path, rows: int) -> None:
    lines = ["age,plan,churned"] + [
        f"{20 + i % 50},{'ab'[i % 2]},{i % 3 == 0:d}" for i in range(rows)
    ]
    path.write_text("\n".join(lines) + "\n")


def _save(workspace: Workspace, tmp_path: Path) -> None:
    p = Pipeline("weekly", params={"offset": 1.0})
    data = p.add(steps.Ingest(str(tmp_path / "customers.csv"), dataset="customers"))
    p.add(steps.Function(fns.describe, data, name="describe"))
    total = p.add(steps.Function(fns.add, p.param("offset"), 2, name="total"))
    p.add(steps.Fail("offset too large", name="guard", when=total.output() > 100))
    p.save(workspace)


def test_run_twice_then_a_new_dataset_version_and_explain_cache(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    _write_csv(tmp_path / "customers.csv", 50)
    _save(workspace, tmp_path)
    listed = json.loads(cli("pipeline", "list", "--json").stdout)
    assert [(p["name"], p["steps"]) for p in listed] == [("weekly", 4)]

    first = json.loads(cli("pipeline", "run", "weekly", "--json").stdout)
    assert first["status"] == "succeeded"
    second = json.loads(cli("pipeline", "run", "weekly", "--json").stdout)
    assert [(s["name"], s["cache"]) for s in second["steps"]] == [
        ("ingest", "hit"),
        ("describe", "hit"),
        ("total", "hit"),
        ("guard", None),  # its condition is false: skipped before any cache question
    ]

    _write_csv(tmp_path / "customers.csv", 60)
    third = json.loads(cli("pipeline", "run", "weekly", "--json").stdout)
    assert {s["name"]: s["cache"] for s in third["steps"]} == {
        "ingest": "miss",
        "describe": "miss",
        "total": "hit",
        "guard": None,
    }
    why = cli("pipeline", "explain-cache", third["id"][:8], "describe")
    assert "step describe: cache miss" in why.stdout
    assert f"previous run {second['id'][:12]}" in why.stdout
    assert "changed inputs.ingest.dataset: customers:1 -> customers:2" in why.stdout
    same = cli("pipeline", "explain-cache", third["id"][:8], "total")
    assert "key unchanged" in same.stdout

    shown = cli("pipeline", "show", third["id"][:8]).stdout
    assert "weekly (succeeded)" in shown
    assert "ingest [ingest] · succeeded · cache miss" in shown
    assert "describe [function] · succeeded · cache miss" in shown
    assert "guard [fail] · skipped · its condition is false" in shown


def test_a_failing_run_and_bad_input_are_one_line_and_non_zero(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    _write_csv(tmp_path / "customers.csv", 20)
    _save(workspace, tmp_path)
    failed = cli("pipeline", "run", "weekly", "--param", "offset=500", check=False)
    assert failed.exit_code == 1
    assert failed.stderr.strip() == ("error: step guard failed: StepFailedError: offset too large")
    assert "guard [fail] · failed" in failed.stdout

    for args, message in [
        (["--param", "offset=lots"], "error: parameter offset: expected float, got 'lots'"),
        (["--param", "speed=3"], "error: parameter speed is not declared (declared: offset)"),
        (["--param", "offset"], "error: --param 'offset': write it as name=value"),
    ]:
        bad = cli("pipeline", "run", "weekly", *args, check=False)
        assert bad.exit_code != 0 and bad.stderr.strip() == message
        assert bad.stdout == ""
    missing = cli("pipeline", "run", "nothing", check=False)
    assert missing.exit_code != 0 and missing.stderr.strip() == "error: pipeline nothing not found"
    unknown_step = cli("pipeline", "explain-cache", failed_run_id(cli), "nope", check=False)
    assert unknown_step.exit_code != 0 and "has no step nope" in unknown_step.stderr


def failed_run_id(cli: Cli) -> str:
    runs = json.loads(cli("pipeline", "run", "weekly", "--json").stdout)
    return str(runs["id"])


def test_resume_through_the_cli_carries_on_from_the_failed_step(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    marker = tmp_path / "ready"
    p = Pipeline("fixable")
    first = p.add(steps.Function(fns.add, 1, 2, name="first"))
    fixable = p.add(steps.Function(fns.needs_file, str(marker), first, name="fixable"))
    p.add(steps.Function(fns.add, fixable, 1, name="last"))
    p.save(workspace)
    failed = cli("pipeline", "run", "fixable", check=False)
    assert failed.exit_code == 1
    assert failed.stderr.strip() == (
        f"error: step fixable failed: FileNotFoundError: {marker} is not there yet"
    )
    run_id = failed.stdout.split()[1]
    before = json.loads(cli("pipeline", "show", run_id, "--json").stdout)
    assert [s["status"] for s in before["steps"]] == ["succeeded", "failed", "pending"]
    marker.touch()
    resumed = json.loads(cli("pipeline", "resume", run_id[:10], "--json").stdout)
    assert resumed["id"] == run_id and resumed["status"] == "succeeded"
    assert resumed["steps"][0]["started_at"] == before["steps"][0]["started_at"]  # not rerun
    assert [s["outputs"]["value"] for s in resumed["steps"]] == [3, 30, 31]
    listed = json.loads(cli("pipeline", "runs", "fixable", "--json").stdout)
    assert [(r["id"], r["status"]) for r in listed] == [(run_id, "succeeded")]
    table = cli("pipeline", "runs").stdout
    assert run_id[:12] in table and "fixable" in table and "succeeded" in table
    again = cli("pipeline", "resume", run_id, check=False)
    assert again.exit_code != 0 and "already succeeded" in again.stderr


def test_show_writes_the_dag_as_an_html_picture(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    import xml.etree.ElementTree as ET

    p = Pipeline("diamond")
    left = p.add(steps.Function(fns.add, 1, 2, name="left"))
    right = p.add(steps.Function(fns.add, 3, 4, name="right"))
    joined = p.add(steps.Function(fns.add, left, right, name="join<&>"))
    p.add(steps.Fail("too big", name="guard", when=joined.output() > 100))
    p.save(workspace)
    run = json.loads(cli("pipeline", "run", "diamond", "--json").stdout)
    page = tmp_path / "run.html"
    shown = cli("pipeline", "show", run["id"][:8], "--html", str(page))
    assert f"wrote {page}" in shown.stderr and "diamond (succeeded)" in shown.stdout
    html = page.read_text()
    assert html.startswith("<!DOCTYPE html>") and "<script" not in html
    svg = ET.fromstring(html[html.index("<svg") : html.index("</svg>") + len("</svg>")])
    ns = "{http://www.w3.org/2000/svg}"
    boxes = {g.get("data-name"): g for g in svg.iter(f"{ns}g")}
    assert {name: g.get("data-status") for name, g in boxes.items()} == {
        "left": "succeeded",
        "right": "succeeded",
        "join<&>": "succeeded",
        "guard": "skipped",
    }
    edges = {(e.get("data-from"), e.get("data-to")) for e in svg.iter(f"{ns}path")}
    edges.discard((None, None))  # the arrow head's own path
    assert edges == {("left", "join<&>"), ("right", "join<&>"), ("join<&>", "guard")}

    def x_of(name: str) -> float:
        rect = boxes[name].find(f"{ns}rect")
        assert rect is not None
        return float(rect.get("x", "0"))

    assert x_of("left") == x_of("right") < x_of("join<&>") < x_of("guard")
