"""Pipeline schedules: cron expressions, firing, and the CLI's face for them."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import InvalidInputError
from modelyard.pipelines import Pipeline, PipelineStore, steps
from modelyard.pipelines._cron import Cron
from modelyard.pipelines._triggers import run_due
from modelyard.workspace import Workspace
from tests.conftest import Cli
from tests.pipelines import _functions as fns


def test_next_after_names_the_expected_times() -> None:
    monday_six = Cron.parse("0 6 * * MON")
    after = datetime(2026, 12, 7, 6, 0, tzinfo=UTC)  # a Monday, 06:00
    assert monday_six.next_after(after) == datetime(2026, 12, 14, 6, 0, tzinfo=UTC)
    every_15 = Cron.parse("*/15 9-10 1,15 * *")
    assert every_15.next_after(datetime(2026, 1, 1, 10, 50, tzinfo=UTC)) == datetime(
        2026, 1, 15, 9, 0, tzinfo=UTC
    )
    leap = Cron.parse("0 0 29 FEB *")
    assert leap.next_after(datetime(2026, 3, 1, tzinfo=UTC)) == datetime(2028, 2, 29, tzinfo=UTC)
    sunday = Cron.parse("30 12 * * 7")
    assert sunday.next_after(after) == datetime(2026, 12, 13, 12, 30, tzinfo=UTC)
    either = Cron.parse("0 0 1 * FRI")  # cron: the 1st or a Friday
    assert either.next_after(after) == datetime(2026, 12, 11, 0, 0, tzinfo=UTC)


_fields = st.tuples(
    st.sampled_from(["*", "0", "*/7", "5-10", "0,30"]),
    st.sampled_from(["*", "6", "*/5", "1-3,20"]),
    st.sampled_from(["*", "1", "13", "28-31"]),
    st.sampled_from(["*", "2", "JAN-MAR", "*/4"]),
    st.sampled_from(["*", "MON", "0", "1-5", "SAT,SUN"]),
)


@settings(max_examples=60, deadline=None)
@given(fields=_fields, start=st.datetimes(datetime(2025, 1, 1), datetime(2030, 1, 1)))
def test_next_after_is_the_first_matching_minute(fields: tuple[str, ...], start: datetime) -> None:
    cron = Cron.parse(" ".join(fields))
    moment = start.replace(tzinfo=UTC)
    found = cron.next_after(moment)
    assert found is not None and found > moment and cron.matches(found)
    probe = moment.replace(second=0, microsecond=0) + timedelta(minutes=1)
    for _ in range(2000):  # no earlier minute matches (checked up to 2,000 minutes)
        if probe >= found:
            break
        assert not cron.matches(probe), probe
        probe += timedelta(minutes=1)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0 6 * *", "five fields (minute hour day month weekday), got 4"),
        ("61 * * * *", "minute 61 is outside 0-59"),
        ("0 6 * * FUNDAY", "day of week 'FUNDAY' is not a number"),
        ("0 6 31 FEB *", "never matches a date"),
        ("*/0 * * * *", "minute step must be 1 or more"),
        ("0 9-5 * * *", "hour range 9-5 is backwards"),
    ],
)
def test_a_bad_cron_expression_is_one_line(text: str, message: str) -> None:
    with pytest.raises(InvalidInputError) as caught:
        Cron.parse(text)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def _save(workspace: Workspace) -> None:
    p = Pipeline("nightly", params={"offset": 1.0})
    p.add(steps.Function(fns.add, p.param("offset"), 2, name="total"))
    p.save(workspace)


def test_a_due_schedule_queues_one_run_and_moves_on(workspace: Workspace) -> None:
    _save(workspace)
    store = PipelineStore(workspace)
    made = store.schedule("nightly", "0 2 * * *", {"offset": 5})
    assert run_due(store, now=made.next_at - timedelta(minutes=1)) == []  # not yet
    late = made.next_at + timedelta(days=3)  # missed firings fire once
    runs = run_due(store, now=late)
    assert [(r.trigger, r.status.value) for r in runs] == [("schedule 0 2 * * *", "succeeded")]
    assert runs[0].step("total").outputs == {"value": 7.0}
    (moved,) = store.schedules()
    assert moved.next_at == late.replace(hour=2, minute=0, second=0, microsecond=0) + timedelta(
        days=1 if late.hour >= 2 else 0
    )
    _save(workspace)  # saving the pipeline again keeps its schedule
    assert [s.cron for s in store.schedules()] == ["0 2 * * *"]


def test_schedule_through_the_cli(cli: Cli, workspace: Workspace, tmp_path: Path) -> None:
    _save(workspace)
    bad = cli("pipeline", "schedule", "nightly", "--cron", "0 25 * * *", check=False)
    assert bad.exit_code == 2
    assert bad.stderr.strip() == "error: cron expression '0 25 * * *': hour 25 is outside 0-23"
    wrong = cli("pipeline", "schedule", "nightly", "--cron", "0 6 * * MON", "-p", "offset=x",
                check=False)  # fmt: skip
    assert wrong.exit_code == 2 and "parameter offset: expected float" in wrong.stderr
    made = cli("pipeline", "schedule", "nightly", "--cron", "0 6 * * MON", "-p", "offset=2")
    assert "pipeline nightly runs at 0 6 * * MON (UTC); next " in made.stdout
    listed = json.loads(cli("pipeline", "schedules", "--json").stdout)
    assert [(s["pipeline"], s["cron"], s["params"]) for s in listed] == [
        ("nightly", "0 6 * * MON", {"offset": 2.0})
    ]
    assert datetime.fromisoformat(listed[0]["next_at"]).weekday() == 0
    cli("pipeline", "schedule", "nightly", "--off")
    assert json.loads(cli("pipeline", "schedules", "--json").stdout) == []
    gone = cli("pipeline", "schedule", "nightly", "--off", check=False)
    assert gone.exit_code == 3 and "pipeline nightly has no schedule" in gone.stderr


def _write_csv(path: Path, rows: int) -> None:
    path.write_text("age,plan\n" + "".join(f"{20 + i % 50},{'ab'[i % 2]}\n" for i in range(rows)))


def test_a_new_dataset_version_triggers_one_run_through_the_worker(
    cli: Cli, workspace: Workspace, tmp_path: Path
) -> None:
    _save(workspace)
    bad = cli("pipeline", "trigger", "nightly", check=False)
    assert bad.exit_code == 2
    assert "give one of --on-dataset NAME, --on-monitor NAME, or --off" in bad.stderr
    unknown = cli("pipeline", "trigger", "nightly", "--on-monitor", "nobody", check=False)
    assert unknown.exit_code == 3 and "no monitor named 'nobody'" in unknown.stderr
    made = cli("pipeline", "trigger", "nightly", "--on-dataset", "customers", "-p", "offset=3")
    assert "pipeline nightly runs on each new version of dataset customers" in made.stdout

    def runs() -> list[dict[str, object]]:
        return list(json.loads(cli("pipeline", "runs", "nightly", "--json").stdout))

    cli("worker", "--once")
    assert runs() == []  # no dataset yet: nothing to run
    csv_path = tmp_path / "customers.csv"
    for rows, version in ((40, 1), (50, 2)):
        _write_csv(csv_path, rows)
        workspace.datasets.ingest(csv_path, "customers")
        cli("worker", "--once")
        cli("worker", "--once")  # the same version does not fire again
        found = runs()
        assert len(found) == version
        assert found[0]["trigger"] == f"dataset customers: version {version}"
        assert found[0]["status"] == "succeeded"
        assert found[0]["steps"][0]["outputs"] == {"value": 5.0}  # type: ignore[index]
    (listed,) = json.loads(cli("pipeline", "triggers", "--json").stdout)
    assert (listed["on"], listed["name"], listed["seen"]) == ("dataset", "customers", 2)
    assert "removed 1 trigger(s)" in cli("pipeline", "trigger", "nightly", "--off").stdout
    assert json.loads(cli("pipeline", "triggers", "--json").stdout) == []
