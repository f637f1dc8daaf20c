"""One test class over every metadata backend: SQLite always, PostgreSQL when set."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import sqlalchemy as sa
from hypothesis import given, settings
from hypothesis import strategies as st

from modelyard.errors import ConfigurationError, ModelyardError, StorageError
from modelyard.metadata import MetadataStore, connect_engine, head_revision, redact_url
from modelyard.metadata._migrate import SCHEMA_HEAD
from modelyard.metadata._tables import Base, ExperimentRow
from modelyard.workspace import Workspace
from tests._full_disk import fill, small_tmpfs


class TestMetadataStore:
    """The contract every metadata backend meets."""

    def test_new_database_is_created_at_head(self, database_url: str) -> None:
        store = MetadataStore(database_url)
        try:
            assert store.revision() == head_revision()
            store.check_current()
        finally:
            store.dispose()

    def test_migrations_create_exactly_the_mapped_tables(self, database_url: str) -> None:
        store = MetadataStore(database_url)
        try:
            inspector = sa.inspect(store.engine)
            tables = set(inspector.get_table_names()) - {"alembic_version"}
            assert tables == set(Base.metadata.tables)
            for name, table in Base.metadata.tables.items():
                columns = {c["name"] for c in inspector.get_columns(name)}
                assert columns == {c.name for c in table.columns}, name
        finally:
            store.dispose()

    def test_older_database_upgrades_and_keeps_its_rows(self, database_url: str) -> None:
        store = MetadataStore(database_url, auto_upgrade=False)
        try:
            assert store.revision() is None  # empty: no alembic_version table yet
            store.upgrade("0001")
            assert store.revision() == "0001"
            with pytest.raises(ConfigurationError, match="db upgrade"):
                store.check_current()
            with store.engine.begin() as connection:
                connection.execute(
                    sa.text(
                        "INSERT INTO dataset_versions (name, version, fingerprint, data_digest,"
                        " n_rows, n_columns, size_bytes, source, source_format, columns,"
                        " created_at) VALUES ('old', 1, 'f', 'd', 1, 1, 1, 's', 'csv', '[]',"
                        " CURRENT_TIMESTAMP)"
                    )
                )
            store.upgrade()
            assert store.revision() == head_revision()
            with store.engine.connect() as connection:
                names = connection.execute(sa.text("SELECT name FROM dataset_versions")).scalars()
                assert list(names) == ["old"]
                assert "runs" in sa.inspect(connection).get_table_names()
        finally:
            store.dispose()

    def test_workspace_on_backend_records_and_reads(self, any_workspace: Workspace) -> None:
        with any_workspace.start_run("backend") as run:
            run.log_params({"alpha": 0.5})
            with run.batch():
                for step in range(50):
                    run.log_metric("loss", 1.0 / (step + 1))
        info = any_workspace.runs.get(run.id)
        assert info.params == {"alpha": "0.5"}
        assert info.metric_counts == {"loss": 50}
        assert info.metrics["loss"] == pytest.approx(1 / 50)


def test_the_schema_check_knows_the_newest_migration() -> None:
    # check_current compares with SCHEMA_HEAD without loading Alembic's scripts.
    assert head_revision() == SCHEMA_HEAD


def test_unreachable_database_is_a_storage_error() -> None:
    with pytest.raises(StorageError, match="cannot connect"):
        MetadataStore("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2")


def test_malformed_url_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="bad database URL"):
        MetadataStore("not a url at all")


def test_unknown_driver_is_a_configuration_error() -> None:
    with pytest.raises(ConfigurationError, match="no database driver"):
        MetadataStore("nosuchdb://host/db")


_WRITER = textwrap.dedent(
    """
    import sys
    from modelyard.workspace import Workspace

    ws = Workspace.open(sys.argv[1])
    with ws.start_run("concurrent", name=sys.argv[2]) as run:
        print("ready", flush=True)
        sys.stdin.readline()  # both processes start logging together
        for step in range(1000):
            run.log_metric("value", float(step), step=step)
    ws.close()
    """
)


@pytest.mark.slow
def test_two_processes_log_1000_metrics_each_into_one_sqlite(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    Workspace.init(root).close()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(root), f"writer-{i}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    for writer in writers:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "ready"
    for writer in writers:  # release both at once
        assert writer.stdin is not None
        writer.stdin.write("go\n")
        writer.stdin.flush()
    for writer in writers:
        _, stderr = writer.communicate(timeout=300)
        assert writer.returncode == 0, stderr
    with Workspace.open(root) as ws:
        runs = ws.runs.list_runs("concurrent")
        assert sorted(r.name for r in runs) == ["writer-0", "writer-1"]
        assert all(r.status.value == "finished" for r in runs)
        assert sum(r.metric_counts["value"] for r in runs) == 2000
        for run in runs:
            steps = [p.step for p in ws.runs.metric_history(run.id, "value")]
            assert steps == list(range(1000))


def test_token_ids_are_never_reused_after_a_revoke(database_url: str) -> None:
    from modelyard.serving import TokenStore

    store = MetadataStore(database_url)
    try:
        tokens = TokenStore(store)
        first, _ = tokens.create("first", "admin")
        second, _ = tokens.create("second", "invoke")
        tokens.revoke(second.id)
        third, _ = tokens.create("third", "invoke")
        assert third.id not in (first.id, second.id)
        assert [t.id for t in tokens.list()] == [first.id, third.id]
    finally:
        store.dispose()


_SECRET = st.text(
    st.characters(codec="utf-8", exclude_characters="@/?#[]:%\x00"), min_size=1, max_size=30
).map(lambda text: f"Secret{text}")


@settings(deadline=None)  # the first example imports the PostgreSQL driver
@given(password=_SECRET, port=st.sampled_from(["5432", "notaport", ":1", ""]))
def test_a_url_shown_in_messages_never_holds_its_password(password: str, port: str) -> None:
    url = f"postgresql+psycopg://ana:{password}@db.example:{port}/prod"
    assert password not in redact_url(url)
    try:
        connect_engine(url, check=False).dispose()
    except ModelyardError as exc:
        assert password not in str(exc)


def test_an_unparsable_from_url_is_one_line_without_its_password(
    workspace: Workspace, tmp_path: Path
) -> None:
    url = "postgresql://ana:hunter2-secret@db.example:notaport/prod"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "modelyard",
            "-w",
            str(workspace.settings.workspace),
            "data",
            "ingest",
            "--sql",
            "SELECT 1",
            "--from",
            url,
            "--name",
            "x",
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == ConfigurationError.exit_code, result.stderr
    assert result.stderr.strip() == (
        "error: bad database URL 'postgresql://ana:***@db.example:notaport/prod': it is not a "
        "SQLAlchemy URL (dialect+driver://user:password@host:port/database)"
    )


def test_a_full_disk_under_the_database_names_it(tmp_path: Path) -> None:
    with small_tmpfs(tmp_path / "small") as point:
        store = MetadataStore(f"sqlite:///{point / 'meta.db'}")
        try:
            fill(point)
            rows = [{"name": f"experiment {i}" * 20} for i in range(2000)]
            with pytest.raises(StorageError) as caught, store.session() as session:
                session.execute(sa.insert(ExperimentRow), rows)
        finally:
            store.dispose()
    assert (
        str(caught.value)
        == f"metadata database sqlite:///{point}/meta.db: database or disk is full"
    )
