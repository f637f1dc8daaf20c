"""Data profile speed and memory, against ydata-profiling and skrub in the same run.

Prints one JSON line. The table: 1,000,000 rows x 30 columns (18 floats, some
with missing values; 4 integers; 6 categoricals of 3 to 1,000 categories; a
datetime; a boolean), generated once into ``benchmarks/.data``. Each tool runs
in a process of its own, and its wall time and peak RSS are that process's
(``os.wait4``, as in ``benchmarks/ingest.py``):

- modelyard: ``Workspace.datasets.profile(..., refresh=True)`` of the ingested
  version: every statistic, correlations (Pearson, Spearman, Cramér's V,
  correlation ratio), warnings, and the HTML report, stored;
- ydata-profiling: ``ProfileReport(df, minimal=True).to_file(...)`` (no
  correlations) after ``pandas.read_parquet``;
- skrub: ``TableReport(df).write_html(...)`` after ``pandas.read_parquet``.

ydata-profiling and skrub are not modelyard dependencies: they run with the
benchmark virtualenv's Python (``make bench`` builds ``.venv-bench``; or
``MODELYARD_BENCH_PYTHON``). Each ratio is the other tool's figure over
modelyard's, ``null`` with the reason when the tool is missing or fails. Each
tool's CPU seconds (user + system, all threads) are printed beside its wall
time, with the machine's load average: on a shared machine the wall times
stretch with the load, the CPU times much less.

Each tool runs twice, as ``benchmarks/ingest.py`` does: "cold", with the file
it reads first dropped from the page cache (``posix_fadvise(DONTNEED)``, no
root needed; for modelyard the version's stored Parquet), then "warm", the
same run straight after. The ratios are given for each.

Usage: python benchmarks/profile.py [--rows N]
(the other tools' Python: ``MODELYARD_BENCH_PYTHON``, else ``.venv-bench``)
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

from ingest import drop_from_page_cache, measure

DATA_DIR = Path(__file__).with_name(".data")
BENCH_PYTHON = Path(__file__).resolve().parents[1] / ".venv-bench" / "bin" / "python"
CARDINALITIES = (3, 10, 30, 100, 300, 1_000)
TEMPERATURES = ("cold", "warm")

MODELYARD_CODE = """
import json
from modelyard.workspace import Workspace
with Workspace.open({workspace!r}) as ws:
    profile = ws.datasets.profile("bench", refresh=True)
    print(json.dumps({{
        "profile_seconds": profile.seconds,
        "report_mib": profile.report_path.stat().st_size / 2**20,
        "warnings": len(profile.warnings),
    }}))
"""

OTHER_CODE = {
    "ydata_profiling": (
        "import pandas as pd\n"
        "from ydata_profiling import ProfileReport\n"
        "frame = pd.read_parquet({path!r})\n"
        "ProfileReport(frame, minimal=True, progress_bar=False).to_file({out!r})\n"
    ),
    "skrub": (
        "import pandas as pd\n"
        "from skrub import TableReport\n"
        "frame = pd.read_parquet({path!r})\n"
        "TableReport(frame).write_html({out!r})\n"
    ),
}


def make_table(path: Path, n_rows: int) -> Path:
    """The 30-column table as Parquet (made once; a row group per 250,000 rows)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    columns: dict[str, Any] = {}
    for i in range(18):
        values = rng.lognormal(3, 0.5, n_rows) if i % 3 == 2 else rng.normal(50 * i, 5 + i, n_rows)
        mask = rng.random(n_rows) < (0.02 * (i % 4)) if i % 4 else None
        columns[f"float_{i}"] = pa.array(values, mask=mask)
    for i in range(4):
        columns[f"int_{i}"] = rng.integers(0, 10 ** (i + 1), n_rows)
    for i, cardinality in enumerate(CARDINALITIES):
        weights = 1 / np.arange(1, cardinality + 1)
        codes = rng.choice(cardinality, n_rows, p=weights / weights.sum())
        labels = np.array([f"c{i}_{k}" for k in range(cardinality)])
        columns[f"cat_{i}"] = labels[codes]
    start = np.datetime64("2022-01-01T00:00:00", "s")
    columns["when"] = start + rng.integers(0, 3 * 365 * 86_400, n_rows).astype("timedelta64[s]")
    columns["flag"] = rng.random(n_rows) < 0.3
    temporary = path.with_suffix(".tmp")
    pq.write_table(pa.table(columns), temporary, row_group_size=250_000)
    temporary.replace(path)
    return path


def ingest(path: Path, root: Path) -> Path:
    """The table as dataset ``bench`` (not timed: ``benchmarks/ingest.py`` measures that);
    the path of its stored Parquet file."""
    from modelyard.data import IngestOptions
    from modelyard.workspace import Workspace

    with Workspace.init(root) as ws:
        version, _ = ws.datasets.ingest(path, "bench", IngestOptions(target="flag", split=None))
        return ws.artifacts.local_path(version.data_digest)


def other_python() -> tuple[str | None, str]:
    """The benchmark virtualenv's Python, or None and why not."""
    chosen = os.environ.get("MODELYARD_BENCH_PYTHON") or str(BENCH_PYTHON)
    if not Path(chosen).exists():
        return None, f"no benchmark virtualenv at {chosen} (make bench builds it)"
    return chosen, ""


def measure_cpu(command: list[str]) -> dict[str, Any]:
    """``measure`` plus the process's CPU seconds (user + system, every thread).

    On a shared, loaded machine the CPU time varies far less than the wall time.
    """
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    result: dict[str, Any] = measure(command)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    result["cpu_seconds"] = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return result


def run_other(tool: str, path: Path, scratch: Path) -> dict[str, Any]:
    python, why = other_python()
    if python is None:
        return {"error": why}
    module = tool
    found = subprocess.run(
        [python, "-c", f"import {module}"], capture_output=True, text=True, check=False
    )
    if found.returncode != 0:
        return {"error": f"{tool} is not installed in {python}"}
    code = OTHER_CODE[tool].format(path=str(path), out=str(scratch / f"{tool}.html"))
    try:
        result = measure_cpu([python, "-c", code])
    except RuntimeError as exc:
        return {"error": str(exc)[-300:]}
    result["report_mib"] = (scratch / f"{tool}.html").stat().st_size / 2**20
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    path = make_table(DATA_DIR / f"profile-{args.rows}.parquet", args.rows)
    figures: dict[str, Any] = {
        "benchmark": "profile",
        "rows": args.rows,
        "columns": 30,
        "load_average": os.getloadavg()[0],
    }
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        stored = ingest(path, scratch / "ws")
        code = MODELYARD_CODE.format(workspace=str(scratch / "ws"))
        for temperature in TEMPERATURES:
            if temperature == "cold":
                drop_from_page_cache(stored)
            modelyard = measure_cpu([sys.executable, "-c", code])
            figures[f"{temperature}_modelyard"] = modelyard
            for tool in OTHER_CODE:
                if temperature == "cold":
                    drop_from_page_cache(path)
                result = run_other(tool, path, scratch)
                figures[f"{temperature}_{tool}"] = result
                figures.update(ratios(f"{temperature}_{tool}", result, modelyard))
    figures["load_average_after"] = os.getloadavg()[0]
    print(json.dumps(figures))


def ratios(prefix: str, result: dict[str, Any], modelyard: dict[str, Any]) -> dict[str, Any]:
    """The other tool's wall time, CPU time and peak RSS over modelyard's (null if it failed)."""
    ok = "seconds" in result
    return {
        f"{prefix}_{figure}_ratio": result[key] / modelyard[key] if ok else None
        for figure, key in (("time", "seconds"), ("cpu", "cpu_seconds"), ("rss", "peak_rss_mib"))
    }


if __name__ == "__main__":
    main()
