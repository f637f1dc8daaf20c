"""Pipelines written as YAML: the same definition as the SDK's, saved and run by the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modelyard.errors import InvalidInputError
from modelyard.pipelines import Pipeline, definition_from_yaml, steps
from tests.conftest import Cli
from tests.pipelines import _functions as fns

YAML = """
name: weekly
params: {offset: 1.0, limit: 100}
steps:
  - {name: data, kind: ingest, path: "{path}", dataset: customers}
  - name: describe
    kind: function
    function: tests.pipelines._functions:describe
    inputs: ["${data}"]
  - name: total
    kind: function
    function: tests.pipelines._functions:add
    inputs: ["${params.offset}", 2]
  - {name: too_big, kind: condition, check: "${total.value} > ${params.limit}"}
  - {name: guard, kind: fail, message: total too large, when: "${too_big}"}
"""


def _sdk_twin(path: str) -> Pipeline:
    p = Pipeline("weekly", params={"offset": 1.0, "limit": 100})
    data = p.add(steps.Ingest(path, dataset="customers", name="data"))
    p.add(steps.Function(fns.describe, data, name="describe"))
    total = p.add(steps.Function(fns.add, p.param("offset"), 2, name="total"))
    too_big = p.add(steps.Condition(total.output() > p.param("limit"), name="too_big"))
    p.add(steps.Fail("total too large", name="guard", when=too_big))
    return p


def test_yaml_reads_to_the_same_definition_as_the_sdk(tmp_path: Path) -> None:
    path = str(tmp_path / "c.csv")
    assert definition_from_yaml(YAML.replace("{path}", path)) == _sdk_twin(path).to_dict()


def test_yaml_saved_and_run_through_the_cli(cli: Cli, tmp_path: Path) -> None:
    data = tmp_path / "c.csv"
    data.write_text("age,plan\n" + "".join(f"{i},{'ab'[i % 2]}\n" for i in range(30)))
    file = tmp_path / "weekly.yaml"
    file.write_text(YAML.replace("{path}", str(data)))
    assert cli("pipeline", "save", str(file)).stdout.strip() == "saved pipeline weekly (5 steps)"
    run = json.loads(cli("pipeline", "run", "weekly", "--json").stdout)
    assert run["status"] == "succeeded"
    assert {s["name"]: s["status"] for s in run["steps"]} == {
        "data": "succeeded",
        "describe": "succeeded",
        "total": "succeeded",
        "too_big": "succeeded",
        "guard": "skipped",
    }
    failed = cli("pipeline", "run", "weekly", "-p", "limit=2", check=False)
    assert failed.exit_code == 1
    assert failed.stderr.strip() == "error: step guard failed: StepFailedError: total too large"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "name: p\nsteps:\n  - {name: a, kind: teleport}\n",
            "step a: unknown step kind 'teleport'",
        ),
        (
            "name: p\nsteps:\n  - {name: a, kind: fail, mesage: typo}\n",
            "step a: unknown argument 'mesage' for a fail step (takes: message)",
        ),
        (
            "name: p\nsteps:\n  - {name: a, kind: condition, check: '${b.value} >= 1'}\n"
            "  - {name: b, kind: condition, check: '${a.value} >= 1'}\n",
            "steps a -> b -> a form a cycle",
        ),
        (
            "name: p\nsteps:\n  - {name: a, kind: fail, message: '${params.nope}'}\n",
            "step a: parameter nope is not declared",
        ),
        ("name: p\nsteps: [\n", "the pipeline is not valid YAML"),
        ("- just\n- a list\n", "the pipeline: expected a mapping with name, params and steps"),
    ],
)
def test_bad_yaml_is_one_line_naming_the_step(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        definition_from_yaml(text)
    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_bad_yaml_file_through_the_cli_saves_nothing(cli: Cli, tmp_path: Path) -> None:
    file = tmp_path / "bad.yaml"
    file.write_text("name: p\nsteps:\n  - {name: a, kind: teleport}\n")
    bad = cli("pipeline", "save", str(file), check=False)
    assert bad.exit_code != 0
    assert bad.stderr.strip().startswith("error: step a: unknown step kind 'teleport'")
    assert json.loads(cli("pipeline", "list", "--json").stdout) == []
