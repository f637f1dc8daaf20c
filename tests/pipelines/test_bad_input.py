"""Bad pipelines and bad parameters: one line naming the step or parameter, nothing run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modelyard.errors import InvalidInputError
from modelyard.pipelines import Pipeline, PipelineStore, steps, validate
from modelyard.workspace import Workspace
from tests.conftest import Cli
from tests.pipelines import _functions as fns


def _function_step(name: str, *inputs: Any) -> dict[str, Any]:
    args = {"function": "tests.pipelines._functions:add", "inputs": list(inputs), "kwargs": {}}
    return {"name": name, "kind": "function", "args": args, "when": None, "cache": True}


def _definition(*step_list: dict[str, Any], **params: Any) -> dict[str, Any]:
    return {"name": "bad", "params": params, "steps": list(step_list)}


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (
            _definition(
                _function_step("a", {"$output": ["c", "value"]}, 1),
                _function_step("b", {"$output": ["a", "value"]}, 1),
                _function_step("c", {"$output": ["b", "value"]}, 1),
            ),
            "steps a -> c -> b -> a form a cycle",
        ),
        (
            _definition(_function_step("a", {"$output": ["nowhere", "value"]}, 1)),
            "step a: its input comes from no step 'nowhere'",
        ),
        (
            _definition(_function_step("a", {"$param": "rate"}, 1), speed=1.0),
            "step a: parameter rate is not declared",
        ),
        (
            _definition({"name": "a", "kind": "sorcery", "args": {}}),
            "step a: unknown step kind 'sorcery' (known: batch, compare, condition, deploy, fail, "
            "function, ingest, register, train)",
        ),
        (
            _definition(_function_step("a", 1, 2), _function_step("a", 3, 4)),
            "step a: the name is used twice",
        ),
        (
            _definition(
                {"name": "gate", "kind": "condition", "args": {"check": True}},
                {
                    "name": "train",
                    "kind": "train",
                    "args": {"data": {"$output": ["gate", "value"]}},
                },
            ),
            "step train: input data takes a dataset, not a bool",
        ),
        (
            _definition(
                {"name": "data", "kind": "ingest", "args": {"path": "x.csv"}},
                {"name": "fit", "kind": "train", "args": {"data": {"$output": ["data", "rows"]}}},
            ),
            "step fit: step data has no output 'rows' (it has dataset)",
        ),
    ],
)
def test_a_bad_definition_is_one_line_naming_the_step(
    workspace: Workspace, definition: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidInputError) as caught:
        validate(definition)
    assert str(caught.value) == message
    store = PipelineStore(workspace)
    with pytest.raises(
        InvalidInputError, match=r"^" + message.replace("(", r"\(").replace(")", r"\)")
    ):
        store.save(definition)
    assert store.list() == []


def test_bad_steps_are_refused_as_they_are_added() -> None:
    p = Pipeline("p", params={"rate": 0.5})
    gate = p.add(steps.Condition(p.param("rate") > 0.1))
    with pytest.raises(
        InvalidInputError, match=r"^step train: input data takes a dataset, not a bool$"
    ):
        p.add(steps.Train(gate))
    with pytest.raises(InvalidInputError, match=r"^parameter speed is not declared in pipeline p$"):
        p.param("speed")
    data = steps.Ingest("x.csv")
    with pytest.raises(InvalidInputError, match="this ingest step is not in a pipeline yet"):
        steps.Train(data.output())
    with pytest.raises(InvalidInputError, match=r"Ingest takes a path or sql, and only one"):
        steps.Ingest("x.csv", sql="SELECT 1", source="sqlite://")
    with pytest.raises(InvalidInputError, match=r"^parameter when: a default must be"):
        Pipeline("q", params={"when": [1, 2]})


def test_a_wrong_parameter_type_runs_nothing(workspace: Workspace) -> None:
    p = Pipeline("typed", params={"rate": 0.5, "name": "x", "flag": True})
    p.add(steps.Function(fns.add, p.param("rate"), 1))
    store = PipelineStore(workspace)
    for given_params, message in [
        ({"rate": "fast"}, "parameter rate: expected float, got 'fast'"),
        ({"name": 3}, "parameter name: expected str, got int 3"),
        ({"flag": "maybe"}, "parameter flag: expected bool, got 'maybe'"),
        ({"other": 1}, "parameter other is not declared (declared: flag, name, rate)"),
    ]:
        with pytest.raises(InvalidInputError) as caught:
            store.run(p, given_params)
        assert str(caught.value) == message
    assert workspace.jobs.list_jobs(kind="pipeline") == []


def test_a_lambda_runs_from_python_but_cannot_be_saved(workspace: Workspace) -> None:
    p = Pipeline("inline")
    p.add(steps.Function(lambda: 41 + 1))
    store = PipelineStore(workspace)
    assert store.run(p).step("function").outputs == {"value": 42}
    with pytest.raises(InvalidInputError, match=r"^step function: a saved pipeline's function"):
        p.save(workspace)


@given(st.text(max_size=12))
def test_text_for_a_float_parameter_converts_or_names_the_parameter(text: str) -> None:
    from modelyard.pipelines._pipeline import check_params

    try:
        expected: float | None = float(text.strip())
    except ValueError:
        expected = None
    if expected is None:
        with pytest.raises(InvalidInputError, match=r"^parameter rate: expected float"):
            check_params({"rate": 0.5}, {"rate": text})
    else:
        got = check_params({"rate": 0.5}, {"rate": text})["rate"]
        assert got == expected or (got != got and expected != expected)  # NaN stays NaN


@given(
    st.lists(st.lists(st.integers(min_value=0, max_value=7), max_size=3), min_size=1, max_size=8)
)
def test_any_graph_is_ordered_with_inputs_first_or_refused_as_a_cycle(
    edges: list[list[int]],
) -> None:
    count = len(edges)
    step_list = [
        _function_step(f"s{i}", *[{"$output": [f"s{j % count}", "value"]} for j in sources])
        for i, sources in enumerate(edges)
    ]
    depends = {f"s{i}": {f"s{j % count}" for j in sources} for i, sources in enumerate(edges)}
    try:
        order = validate(_definition(*step_list))
    except InvalidInputError as exc:
        assert "form a cycle" in str(exc)
        assert _has_cycle(depends)
    else:
        assert sorted(order) == sorted(depends)
        for name, sources in depends.items():
            assert all(order.index(s) < order.index(name) for s in sources)


def _has_cycle(depends: dict[str, set[str]]) -> bool:
    """Kahn's algorithm: a cycle leaves steps that never become ready."""
    remaining = {name: set(sources) for name, sources in depends.items()}
    while True:
        ready = [name for name, sources in remaining.items() if not sources]
        if not ready:
            return bool(remaining)
        for name in ready:
            del remaining[name]
        for sources in remaining.values():
            sources.difference_update(ready)


def test_a_step_name_given_twice_is_refused_naming_it() -> None:
    p = Pipeline("dupes")
    p.add(steps.Function(fns.add, 1, 2, name="total"))
    with pytest.raises(InvalidInputError) as caught:
        p.add(steps.Condition(p.steps[0].output() > 1, name="total"))
    assert str(caught.value) == (
        "step total: pipeline dupes has a step of that name already "
        "(step names are unique: give this one another name=)"
    )
    assert [s.name for s in p.steps] == ["total"]  # nothing added


def test_a_step_added_twice_is_refused() -> None:
    p = Pipeline("again")
    step = p.add(steps.Function(fns.add, 1, 2))
    with pytest.raises(InvalidInputError, match="step add is already in pipeline again"):
        p.add(step)


def test_names_the_user_did_not_choose_are_numbered() -> None:
    p = Pipeline("numbered")
    p.add(steps.Function(fns.add, 1, 2), steps.Function(fns.add, 3, 4))
    p.add(steps.Fail("a"), steps.Fail("b"))
    assert [s.name for s in p.steps] == ["add", "add-2", "fail", "fail-2"]


def test_a_yaml_step_name_used_twice_is_one_line_from_the_cli(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "dupes.yaml"
    path.write_text(
        "name: dupes\nsteps:\n"
        "  - {name: total, kind: function, function: tests.pipelines._functions:add}\n"
        "  - {name: total, kind: fail, message: no}\n"
    )
    result = cli("pipeline", "save", str(path), check=False)
    assert result.exit_code == 2
    assert result.stderr.strip() == "error: step total: the name is used twice"


def test_compare_takes_a_champion_or_an_endpoint() -> None:
    message = "Compare takes a champion model or an endpoint, and only one"
    with pytest.raises(InvalidInputError, match=message):
        steps.Compare("churn:2", data="churn")
    with pytest.raises(InvalidInputError, match=message):
        steps.Compare("churn:2", data="churn", champion="churn:1", endpoint="churn-api")
