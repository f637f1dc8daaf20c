"""``modelyard data`` through the real command line, as a subprocess."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Cli


def _write_csv(path: Path, rows: int, extra_column: bool = False) -> None:
    header = "customer_id,age,plan,churned" + (",score" if extra_column else "")
    lines = [header]
    for i in range(rows):
        line = f"C{i:04d},{20 + i % 50},{['basic', 'plus', 'pro'][i % 3]},{i % 4 == 0:d}"
        lines.append(line + (f",{i * 0.5}" if extra_column else ""))
    path.write_text("\n".join(lines) + "\n")


def test_ingest_twice_then_changed_then_diff(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "customers.csv"
    _write_csv(path, 100)
    first = cli("data", "ingest", str(path), "--name", "customers", "--target", "churned")
    assert "Created dataset customers:1" in first.stdout
    assert "identifier" in first.stdout and "stratified on churned" in first.stdout
    again = cli("data", "ingest", str(path), "--name", "customers", "--target", "churned")
    assert "Unchanged: same content as dataset customers:1" in again.stdout
    _write_csv(path, 120, extra_column=True)
    changed = cli("data", "ingest", str(path), "--name", "customers", "--target", "churned")
    assert "Created dataset customers:2" in changed.stdout
    listing = json.loads(cli("data", "list", "--json").stdout)
    assert [d["ref"] for d in listing] == ["customers:2", "customers:1"]
    diff = cli("data", "diff", "customers:1", "customers:2")
    assert "rows: 100 → 120 (+20)" in diff.stdout
    assert "score" in diff.stdout and "added" in diff.stdout
    as_json = json.loads(cli("data", "diff", "customers:1", "customers:2", "--json").stdout)
    assert as_json["added"] == ["score"] and as_json["rows"] == {"old": 100, "new": 120}


def test_show_and_head(cli: Cli, tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    _write_csv(path, 40)
    cli("data", "ingest", str(path), "--name", "c", "--split", "0.5,0.25,0.25", "--seed", "3")
    shown = cli("data", "show", "c:1")
    assert "Schema" in shown.stdout and "Splits" in shown.stdout and "seed 3" in shown.stdout
    head = json.loads(cli("data", "head", "c", "-n", "3", "--json").stdout)
    assert [row["customer_id"] for row in head] == ["C0000", "C0001", "C0002"]


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        (None, ["data", "ingest", "{tmp}/missing.csv", "--name", "x"], "file not found"),
        ("", ["data", "ingest", "{tmp}/bad.csv", "--name", "x"], "is empty"),
        (
            "a,b\n1,2\n3\n",
            ["data", "ingest", "{tmp}/bad.csv", "--name", "x"],
            "line 3 has 1 field where",
        ),
        ("a,b\n1,2\n", ["data", "ingest", "{tmp}/bad.parquet", "--name", "x"], "as parquet"),
        (
            None,
            [
                "data",
                "ingest",
                "--sql",
                "SELECT * FROM nope",
                "--from",
                "sqlite:///{tmp}/s.db",
                "--name",
                "x",
            ],
            "no such table: nope",
        ),
        (
            None,
            ["data", "ingest", "--sql", "SELECT 1", "--from", "nodb://", "--name", "x"],
            "no database driver",
        ),
        (
            "a,b\n1,2\n",
            ["data", "ingest", "{tmp}/bad.csv", "--name", "x", "--target", "zz"],
            "no such column",
        ),
        (
            "a,b\n1,2\n",
            ["data", "ingest", "{tmp}/bad.csv", "--name", "../x"],
            "invalid dataset name",
        ),
        (None, ["data", "show", "ghost"], "dataset ghost not found"),
    ],
)
def test_bad_input_prints_one_line_and_leaves_nothing(
    cli: Cli, tmp_path: Path, setup: str | None, args: list[str], message: str
) -> None:
    if setup is not None:
        name = "bad.parquet" if any(a.endswith(".parquet") for a in args) else "bad.csv"
        (tmp_path / name).write_text(setup)
    result = cli(*[a.format(tmp=tmp_path) for a in args], check=False)
    assert result.exit_code != 0
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error:") and message in lines[0]
    assert json.loads(cli("data", "list", "--json").stdout) == []
    artifacts = cli.workspace / ".modelyard" / "artifacts"
    assert [p for p in artifacts.rglob("*") if p.is_file()] == []


def test_no_workspace_is_a_clear_error(tmp_path: Path) -> None:
    result = Cli(tmp_path / "not-a-workspace")("data", "list", check=False)
    assert result.exit_code == 6
    assert "no modelyard workspace" in result.stderr
