"""RunStore.search: the filter language, order and pages, answered by the database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import InvalidInputError
from modelyard.tracking import Clause, RunStatus, parse_filter
from modelyard.workspace import Workspace


def test_parse_filter_reads_every_kind_of_clause() -> None:
    clauses = parse_filter(
        "metrics.roc_auc > 0.8 and params.algorithm = 'xgboost' AND tags.`my tag` != \"a b\""
        " and status = 'finished' and metrics.loss <= -1e-3"
    )
    assert clauses == [
        Clause("metrics", "roc_auc", ">", 0.8),
        Clause("params", "algorithm", "=", "xgboost"),
        Clause("tags", "my tag", "!=", "a b"),
        Clause("attributes", "status", "=", "finished"),
        Clause("metrics", "loss", "<=", -0.001),
    ]
    assert parse_filter("  ") == []
    assert parse_filter("params.n_estimators = 10") == [Clause("params", "n_estimators", "=", "10")]


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("metrics.auc >", "incomplete comparison"),
        ("metrics.auc > 'high'", "compare it with a number"),
        ("bogus.x = 1", "unknown field 'bogus.x'"),
        ("metrics.auc > 0.5 or metrics.auc < 0.1", "expected 'and'"),
        ("metrics.auc ~ 3", "unexpected '~ 3'"),
        ("metrics.auc = 0.5 and", "incomplete comparison"),
        ("attributes.colour = 'red'", "unknown attribute 'colour'"),
        ("metrics.auc > 0.5; drop table runs", "unexpected ';"),
    ],
)
def test_a_bad_filter_names_the_problem(text: str, says: str) -> None:
    with pytest.raises(InvalidInputError, match="bad filter at character") as caught:
        parse_filter(text)
    assert says in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("metrics.paus_ =<>!'\"`0123456789and-")), max_size=40))
def test_parse_filter_answers_clauses_or_a_located_error(text: str) -> None:
    try:
        clauses = parse_filter(text)
    except InvalidInputError as error:
        assert 0 <= error.details["position"] <= len(text)
        return
    for clause in clauses:
        assert clause.kind in ("metrics", "params", "tags", "attributes") and clause.key
        assert clause.op in ("=", "!=", "<", "<=", ">", ">=")
        assert isinstance(clause.value, float) == (clause.kind == "metrics")


@pytest.fixture
def runs_workspace(database_url: str, tmp_path: Path) -> Iterator[Workspace]:
    ws = Workspace.init(tmp_path / "ws", database_url=database_url)
    for i in range(12):
        with ws.start_run("exp") as run:
            run.log_params({"algorithm": "xgboost" if i % 3 == 0 else "lightgbm", "depth": i})
            for step in range(3):
                run.log_metrics({"auc": i / 10 + step / 100}, step=step)
            if i % 2 == 0:
                run.set_tags({"parity": "even"})
    with ws.start_run("other") as run:
        run.log_metrics({"auc": 0.99})
    yield ws
    ws.close()


def test_search_filters_on_last_values_and_counts_all(runs_workspace: Workspace) -> None:
    runs = runs_workspace.runs
    page = runs.search("exp", "metrics.auc > 0.8 and params.algorithm = 'xgboost'")
    # last auc of run i is i/10 + 0.02; xgboost runs are 0, 3, 6, 9
    assert sorted(r.params["depth"] for r in page.runs) == ["9"]
    assert page.total == 1
    everything = runs.search("exp", "tags.parity = 'even'", order="metrics.auc asc")
    assert [r.params["depth"] for r in everything.runs] == ["0", "2", "4", "6", "8", "10"]
    assert everything.metric_keys == ["auc"] and everything.param_keys == ["algorithm", "depth"]
    assert all(r.status is RunStatus.FINISHED for r in everything.runs)
    only_other = runs.search(None, "metrics.auc >= 0.99 and metrics.auc < 1")
    assert [r.experiment for r in only_other.runs] == ["other"]


def test_search_pages_in_order(runs_workspace: Workspace) -> None:
    runs = runs_workspace.runs
    first = runs.search("exp", order="metrics.auc desc", offset=0, limit=5)
    second = runs.search("exp", order="metrics.auc desc", offset=5, limit=5)
    last = runs.search("exp", order="metrics.auc desc", offset=10, limit=5)
    assert first.total == second.total == last.total == 12
    seen = [r.metrics["auc"] for page in (first, second, last) for r in page.runs]
    assert seen == sorted(seen, reverse=True) and len(set(seen)) == 12
    assert [r.metric_counts["auc"] for r in first.runs] == [3] * 5
    by_param = runs.search("exp", order="params.algorithm asc", limit=12)
    assert [r.params["algorithm"] for r in by_param.runs] == ["lightgbm"] * 8 + ["xgboost"] * 4


def test_search_refuses_a_bad_order_or_page(runs_workspace: Workspace) -> None:
    runs = runs_workspace.runs
    with pytest.raises(InvalidInputError, match="bad order"):
        runs.search("exp", order="metrics.auc sideways")
    with pytest.raises(InvalidInputError, match="a page holds"):
        runs.search("exp", limit=0)
    assert runs.experiments() == ["exp", "other"]
