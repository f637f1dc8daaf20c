"""Monitors of a workspace: definitions, runs as jobs, checked windows, episodes.

A run lists the hour windows of captured traffic that the monitor has not
checked, records them as one job's partitions, and checks them oldest first.
Each checked window is written in one transaction with the monitor's open
episodes, so a run killed part-way leaves whole windows behind and the next run
checks only the rest. Alerts go out after that transaction: one when an episode
opens, one "resolved" when it closes.
"""

from __future__ import annotations

import builtins
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from modelyard.errors import AlreadyExistsError, InvalidInputError, NotFoundError
from modelyard.metadata._tables import MonitorRow, MonitorWindowRow, utcnow
from modelyard.monitoring._alerts import parse_alert, send_alert
from modelyard.monitoring._check import DEFAULT_LIMITS, Baseline, check_window
from modelyard.monitoring._labels import LabelIngest, ingest_labels, labels_glob
from modelyard.monitoring._rules import DRIFT_METRICS, QUALITY_METRICS, parse_rule
from modelyard.monitoring._window import capture_windows, read_window, window_bounds

if TYPE_CHECKING:
    from modelyard.monitoring._quality import VariantComparison
    from modelyard.workspace import Workspace

__all__ = ["Monitor", "MonitorRun", "MonitorStore"]

JOB_KIND = "monitor"
_MIN_LABELS = 30


@dataclass(frozen=True)
class Monitor:
    """A monitor as stored."""

    name: str
    endpoint: str
    spec: dict[str, Any]
    open_episodes: dict[str, Any]
    created_at: datetime
    last_run_at: datetime | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "name": self.name,
            "endpoint": self.endpoint,
            **self.spec,
            "open_episodes": self.open_episodes,
            "created_at": self.created_at.isoformat(),
            "last_run_at": self.last_run_at.isoformat() if self.last_run_at else None,
        }


@dataclass
class MonitorRun:
    """What one run did."""

    monitor: str
    job_id: str | None
    windows: list[str] = field(default_factory=list)
    violations: int = 0
    alerts: list[dict[str, Any]] = field(default_factory=list)
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "monitor": self.monitor,
            "job_id": self.job_id,
            "windows": self.windows,
            "violations": self.violations,
            "alerts": self.alerts,
            "message": self.message,
        }


class MonitorStore:
    """The monitors of one workspace (``ws.monitors``)."""

    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace
        self._metadata = workspace.metadata

    @property
    def capture_root(self) -> Path:
        """Where the gateway writes captured traffic."""
        return self._ws.settings.state_dir / "capture"

    @property
    def labels_root(self) -> Path:
        """Where ingested labels are kept."""
        return self._ws.settings.state_dir / "labels"

    @property
    def predictions_root(self) -> Path:
        """Where each checked window's ids, variants and scores are kept for the label join."""
        return self._ws.settings.state_dir / "monitoring" / "predictions"

    # -- definitions -----------------------------------------------------------

    def create(
        self,
        endpoint: str,
        *,
        name: str | None = None,
        every: str = "1h",
        drift: list[str] | None = None,
        quality: list[str] | None = None,
        alerts: list[str] | None = None,
        model: str | None = None,
        baseline: str | Path | None = None,
    ) -> Monitor:
        """Watch ``endpoint`` against its model's training statistics.

        Args:
            name: the monitor's name (default: the endpoint's).
            every: how often ``modelyard worker`` runs it (``30m``, ``1h``, ``1d``).
            drift: drift rules (default ``psi>0.2``).
            quality: quality rules on labelled rows (``roc_auc<0.75``).
            alerts: ``log`` and/or ``webhook:URL`` (default ``log``).
            model: the model whose baseline is used (default: the endpoint's first
                production variant's).
            baseline: a folder with SageMaker Model Monitor's ``statistics.json``
                (and ``constraints.json``), used instead of the model's statistics:
                SageMaker's own, or written by :meth:`suggest_baseline`.

        Raises:
            NotFoundError: no such endpoint or model.
            AlreadyExistsError: a monitor of that name exists.
            InvalidInputError: a rule, schedule or alert target that cannot be read.
        """
        config = self._ws.endpoints.get(endpoint).config
        if model is None:
            model = next(v.model for v in config.variants if not v.shadow)
        self._ws.models.get(model)
        drift_rules = [str(parse_rule(r, DRIFT_METRICS)) for r in (drift or ["psi>0.2"])]
        quality_rules = [str(parse_rule(r, QUALITY_METRICS)) for r in (quality or [])]
        statistics = None
        if baseline is not None:
            from modelyard.monitoring._sagemaker import baseline_from_sagemaker

            statistics = baseline_from_sagemaker(Path(baseline))
        described = (statistics or {}).get("dataset") or {}
        spec: dict[str, Any] = {
            "multivariate": self._reference(
                model, described.get("ref"), described.get("split") or "train"
            ),
            "every_seconds": _seconds(every),
            "drift": drift_rules,
            "quality": quality_rules,
            "alerts": [parse_alert(a) for a in (alerts or ["log"])],
            "model": model,
        }
        if statistics is not None:
            spec["statistics"] = statistics
        name = name or endpoint
        with self._metadata.session() as session:
            if session.get(MonitorRow, name) is not None:
                raise AlreadyExistsError(f"monitor {name!r} already exists")
            session.add(
                MonitorRow(name=name, endpoint=endpoint, spec=spec, state={}, created_at=utcnow())
            )
        return self.get(name)

    def get(self, name: str) -> Monitor:
        """A monitor by name.

        Raises:
            NotFoundError: no such monitor.
        """
        with self._metadata.session() as session:
            return _monitor(self._row(session, name))

    def list(self) -> builtins.list[Monitor]:
        """Every monitor, by name."""
        with self._metadata.session() as session:
            rows = session.scalars(select(MonitorRow).order_by(MonitorRow.name)).all()
            return [_monitor(row) for row in rows]

    def delete(self, name: str) -> None:
        """Remove a monitor and its checked windows (captured traffic and labels stay)."""
        with self._metadata.session() as session:
            self._row(session, name)
            session.execute(delete(MonitorWindowRow).where(MonitorWindowRow.monitor == name))
            session.execute(delete(MonitorRow).where(MonitorRow.name == name))

    def history(self, name: str) -> builtins.list[dict[str, Any]]:
        """Every checked window's result, oldest first."""
        self.get(name)
        with self._metadata.session() as session:
            rows = session.scalars(
                select(MonitorWindowRow)
                .where(MonitorWindowRow.monitor == name)
                .order_by(MonitorWindowRow.window)
            ).all()
            return [{**row.result, "job_id": row.job_id} for row in rows]

    def summary(self, name: str) -> dict[str, Any]:
        """What ``monitor show`` prints: the monitor, each window in brief, quality, A/B."""
        monitor = self.get(name)
        windows = []
        for result in self.history(name):
            drifts = result.get("drift") or []
            top = max(drifts, key=lambda d: d.get("psi") or 0.0, default=None)
            windows.append(
                {
                    "window": result["window"],
                    "rows": result["rows"],
                    "violations": len(result["violations"]),
                    "top_feature": top["feature"] if top else None,
                    "top_psi": top["psi"] if top else None,
                }
            )
        comparison = self.compare_variants(name)
        return {
            "monitor": monitor.to_dict(),
            "windows": windows,
            "quality": self.quality(name),
            "comparison": comparison.to_dict() if comparison is not None else None,
        }

    def export_sagemaker(self, name: str, directory: str | Path) -> builtins.list[Path]:
        """Write SageMaker Model Monitor's files for ``name``: ``statistics.json`` and
        ``constraints.json`` of its baseline, ``constraint_violations.json`` of its
        newest checked window."""
        from modelyard.monitoring._sagemaker import baseline_to_sagemaker, violations_document

        baseline = self._baseline(self.get(name))
        statistics, constraints = baseline_to_sagemaker(baseline.statistics)
        history = self.history(name)
        violations = violations_document(history[-1]["violations"] if history else [])
        target = Path(directory)
        target.mkdir(parents=True, exist_ok=True)
        written = []
        for file, document in (
            ("statistics.json", statistics),
            ("constraints.json", constraints),
            ("constraint_violations.json", violations),
        ):
            path = target / file
            path.write_text(json.dumps(document, indent=2, default=str))
            written.append(path)
        return written

    def suggest_baseline(
        self, dataset: str, directory: str | Path, *, split: str | None = None
    ) -> builtins.list[Path]:
        """Write SageMaker's ``statistics.json`` and ``constraints.json`` of a dataset
        version (``split`` of it, or every row), for ``create(baseline=directory)``.

        Edit ``constraints.json`` (completeness, allowed categories) before creating
        the monitor to loosen or tighten its data-quality checks.

        Raises:
            NotFoundError: no such dataset version.
            InvalidInputError: an unknown split, or a version without splits.
        """
        from modelyard.monitoring._suggest import suggest_baseline

        return suggest_baseline(self._ws, dataset, Path(directory), split=split)

    def report(self, name: str) -> dict[str, Any]:
        """The report's content as JSON: the summary and every window's result."""
        return {**self.summary(name), "history": self.history(name)}

    def write_report(self, name: str, directory: str | Path | None = None) -> Path:
        """Write ``report.html`` and ``report.json`` of ``name``; the HTML's path."""
        from modelyard.monitoring._report import render_report

        document = self.report(name)
        target = (
            Path(directory)
            if directory is not None
            else self._ws.settings.state_dir / "monitoring" / "reports" / name
        )
        target.mkdir(parents=True, exist_ok=True)
        (target / "report.json").write_text(json.dumps(document, indent=1, default=str))
        page = target / "report.html"
        page.write_text(render_report(document))
        return page

    # -- labels and quality ----------------------------------------------------

    def ingest_labels(
        self,
        path: str | Path,
        endpoint: str,
        *,
        id_column: str | None = None,
        label_column: str | None = None,
    ) -> LabelIngest:
        """Join a labels file to ``endpoint``'s captured requests by inference id.

        Raises:
            NotFoundError: no such endpoint.
            InvalidInputError: the file cannot be read or no row of it can be used.
        """
        config = self._ws.endpoints.get(endpoint).config
        model = next(v.model for v in config.variants if not v.shadow)
        classes = self._ws.models.manifest(model).classes
        return ingest_labels(
            Path(path),
            endpoint,
            capture_root=self.capture_root,
            labels_root=self.labels_root,
            classes=None if classes is None else [str(c) for c in classes],
            id_column=id_column,
            label_column=label_column,
        )

    def import_sagemaker_capture(self, paths: builtins.list[str | Path], endpoint: str) -> int:
        """Bring SageMaker data-capture JSON lines into ``endpoint``'s captured traffic.

        Raises:
            NotFoundError: no such endpoint.
            InvalidInputError: a file that cannot be read or is not SageMaker capture.
        """
        from modelyard.monitoring._sagemaker_capture import import_sagemaker_capture

        self._ws.endpoints.get(endpoint)
        return import_sagemaker_capture([Path(p) for p in paths], endpoint, self.capture_root)

    def quality(self, name: str) -> builtins.list[dict[str, Any]]:
        """Per checked window and variant: labelled rows, realised and estimated
        metrics, and the registered evaluation of the variant's model beside them
        (``versus_registered``: realised minus registered, once rows are labelled)."""
        from modelyard.monitoring._quality import estimate_binary, realised_binary

        monitor = self.get(name)
        baseline = self._baseline(monitor)
        registered = self._registered(monitor)
        out: builtins.list[dict[str, Any]] = []
        for window, variants in self._joined(monitor).items():
            for variant, (scores, labels, all_scores) in sorted(variants.items()):
                figures = {"window": window, "variant": variant, "rows": int(all_scores.size)}
                if baseline.task == "binary":
                    realised = realised_binary(scores, labels, baseline.threshold)
                    figures["realised"] = realised
                    figures["estimated"] = estimate_binary(all_scores, baseline.threshold)
                    evaluation = registered.get(variant)
                    figures["registered"] = evaluation
                    if evaluation is not None:
                        figures["versus_registered"] = {
                            metric: realised[metric] - evaluation[metric]
                            for metric in ("roc_auc", "accuracy")
                            if realised.get(metric) is not None
                            and evaluation.get(metric) is not None
                        }
                out.append(figures)
        return out

    def _registered(self, monitor: Monitor) -> dict[str, dict[str, Any]]:
        """Each variant's model as the endpoint is configured now, with the metrics
        its registered evaluation measured on the held-out test split."""
        from modelyard.errors import ModelyardError

        try:
            variants = self._ws.endpoints.get(monitor.endpoint).config.variants
            out = {}
            for variant in variants:
                metrics = self._ws.models.get(variant.model).metrics or {}
                out[variant.name] = {
                    "model": variant.model,
                    "roc_auc": metrics.get("roc_auc"),
                    "accuracy": metrics.get("accuracy"),
                }
            return out
        except ModelyardError:
            return {}  # the endpoint or a model is gone: the comparison is left out

    def compare_variants(self, name: str) -> VariantComparison | None:
        """The endpoint's two busiest variants compared on ROC-AUC over every labelled row."""
        import numpy as np

        from modelyard.monitoring._quality import compare_variants

        groups: dict[str, tuple[builtins.list[Any], builtins.list[Any]]] = {}
        for variants in self._joined(self.get(name)).values():
            for variant, (scores, labels, _) in variants.items():
                held = groups.setdefault(variant, ([], []))
                held[0].append(scores)
                held[1].append(labels)
        return compare_variants(
            {v: (np.concatenate(s), np.concatenate(y)) for v, (s, y) in groups.items()}
        )

    def _joined(self, monitor: Monitor) -> dict[str, dict[str, Any]]:
        """Per window and variant: scores and labels of the labelled rows, every score."""
        import duckdb
        import numpy as np

        baseline = self._baseline(monitor)
        predictions = self.predictions_root / f"endpoint={monitor.endpoint}"
        if not any(predictions.glob("window=*.parquet")):
            return {}
        labels = list((self.labels_root / f"endpoint={monitor.endpoint}").glob("labels-*.parquet"))
        with duckdb.connect() as db:
            db.execute(
                "CREATE TEMP TABLE p AS SELECT * FROM read_parquet(?)",
                [str(predictions / "window=*.parquet")],
            )
            if labels:
                db.execute(
                    "CREATE TEMP TABLE l AS SELECT id, last(label ORDER BY filename) AS label "
                    "FROM read_parquet(?, filename = true) GROUP BY id",
                    [labels_glob(self.labels_root, monitor.endpoint)],
                )
            else:
                db.execute("CREATE TEMP TABLE l (id VARCHAR, label VARCHAR)")
            rows = db.execute(
                "SELECT p.window, p.variant, p.score, l.label FROM p LEFT JOIN l ON p.id = l.id "
                "ORDER BY p.window, p.variant"
            ).fetchall()
        grouped: dict[str, dict[str, Any]] = {}
        raw: dict[
            tuple[str, str], tuple[builtins.list[float], builtins.list[float], builtins.list[int]]
        ] = {}
        for window, variant, score, label in rows:
            every, scored, labelled = raw.setdefault((window, variant), ([], [], []))
            value = float("nan") if score is None else float(score)
            every.append(value)
            if label is not None and score is not None:
                scored.append(value)
                labelled.append(1 if label == baseline.positive else 0)
        for (window, variant), (every, scored, labelled) in raw.items():
            grouped.setdefault(window, {})[variant] = (
                np.array(scored, dtype=np.float64),
                np.array(labelled, dtype=np.int64),
                np.array(every, dtype=np.float64),
            )
        return grouped

    # -- running ---------------------------------------------------------------

    def pending_windows(self, name: str, *, include_current: bool = False) -> builtins.list[str]:
        """The windows with captured traffic this monitor has not checked, oldest first.

        The current hour is still being written, so it waits for the next run unless
        ``include_current``.
        """
        monitor = self.get(name)
        with self._metadata.session() as session:
            checked = set(
                session.scalars(
                    select(MonitorWindowRow.window).where(MonitorWindowRow.monitor == name)
                ).all()
            )
        now = datetime.now(UTC)
        return [
            w
            for w in capture_windows(self.capture_root, monitor.endpoint)
            if w not in checked and (include_current or window_bounds(w)[1] <= now)
        ]

    def run(self, name: str, *, include_current: bool = False) -> MonitorRun:
        """Check every unchecked window of ``name`` as one job, and alert on episodes."""
        from modelyard.jobs import JobStatus

        monitor = self.get(name)
        windows = self.pending_windows(name, include_current=include_current)
        outcome = MonitorRun(name, None)
        if not windows:
            if not capture_windows(self.capture_root, monitor.endpoint):
                outcome.message = f"no captured traffic for endpoint {monitor.endpoint} yet"
            else:
                # labels may have arrived since: the quality rules are weighed again
                outcome.alerts.extend(self._send(monitor, self._quality_episodes(monitor)))
                outcome.message = (
                    "every window with captured traffic is already checked, "
                    f"{len(outcome.alerts)} alert(s)"
                )
            self._touch(name)
            return outcome
        baseline = self._baseline(monitor)
        rules = [parse_rule(r, DRIFT_METRICS) for r in monitor.spec.get("drift", [])]
        jobs = self._ws.jobs
        job = jobs.create(
            JOB_KIND, {"monitor": name, "endpoint": monitor.endpoint}, [(w, {}) for w in windows]
        )
        outcome.job_id = job.id
        jobs.start(job.id)
        try:
            for window in windows:
                started = time.perf_counter()
                rows = read_window(
                    self.capture_root,
                    monitor.endpoint,
                    window,
                    baseline.names,
                    baseline.positive,
                    baseline.kinds(),
                )
                result, violations = check_window(rows, baseline, rules, DEFAULT_LIMITS)
                self._write_predictions(monitor.endpoint, rows)
                alerts = self._record(name, job.id, window, result, violations)
                jobs.commit_partition(
                    job.id,
                    window,
                    rows_in=rows.rows,
                    rows_out=rows.rows,
                    rows_rejected=rows.failed_requests,
                    output=None,
                    checksum=None,
                    details={
                        "violations": len(violations),
                        "seconds": time.perf_counter() - started,
                    },
                )
                outcome.windows.append(window)
                outcome.violations += len(violations)
                outcome.alerts.extend(self._send(monitor, alerts))
            outcome.alerts.extend(self._send(monitor, self._quality_episodes(monitor)))
        except BaseException as exc:
            jobs.finish(job.id, JobStatus.FAILED, error=str(exc)[:2000])
            raise
        jobs.finish(job.id, JobStatus.SUCCEEDED)
        self._touch(name)
        outcome.message = (
            f"{len(outcome.windows)} window(s) checked, {outcome.violations} violation(s), "
            f"{len(outcome.alerts)} alert(s)"
        )
        return outcome

    def _record(
        self,
        name: str,
        job_id: str,
        window: str,
        result: dict[str, Any],
        violations: builtins.list[dict[str, Any]],
    ) -> builtins.list[dict[str, Any]]:
        """Write the window and move the episodes in one transaction; the alerts due."""
        with self._metadata.session() as session:
            row = self._row(session, name)
            if session.get(MonitorWindowRow, (name, window)) is not None:
                return []  # another run checked it meanwhile
            opened = dict((row.state or {}).get("open", {}))
            now_keys = {v["key"]: v for v in violations}
            alerts = []
            for key, violation in now_keys.items():
                if key not in opened:
                    opened[key] = {"since": window, "description": violation["description"]}
                    alerts.append({**violation, "status": "firing", "window": window})
            for key in [k for k in opened if not k.startswith("quality:")]:
                if key not in now_keys:
                    episode = opened.pop(key)
                    alerts.append(
                        {
                            "key": key,
                            "status": "resolved",
                            "window": window,
                            "since": episode["since"],
                            "description": f"resolved: {episode['description']}",
                        }
                    )
            row.state = {**(row.state or {}), "open": opened}
            session.add(
                MonitorWindowRow(
                    monitor=name,
                    window=window,
                    job_id=job_id,
                    violations=len(violations),
                    result=json.loads(json.dumps(result, default=str)),
                    checked_at=utcnow(),
                )
            )
            return alerts

    def _quality_episodes(self, monitor: Monitor) -> builtins.list[dict[str, Any]]:
        """Open or close quality episodes by the newest window with enough labels."""
        rules = [parse_rule(r, QUALITY_METRICS) for r in monitor.spec.get("quality", [])]
        if not rules:
            return []
        newest: dict[str, Any] | None = None
        for figures in self.quality(monitor.name):
            realised = figures.get("realised") or {}
            if realised.get("labelled", 0) >= _MIN_LABELS:
                newest = figures
        if newest is None:
            return []
        alerts = []
        with self._metadata.session() as session:
            row = self._row(session, monitor.name)
            opened = dict((row.state or {}).get("open", {}))
            for rule in rules:
                key = f"quality:{rule.metric}"
                value = newest["realised"].get(rule.metric)
                what = (
                    f"{rule.metric} {value:.3f} on {newest['realised']['labelled']:,} labelled rows"
                )
                if rule.violated(value) and key not in opened:
                    opened[key] = {"since": newest["window"], "description": what}
                    alerts.append(
                        {
                            "key": key,
                            "check": "model_quality_check",
                            "status": "firing",
                            "window": newest["window"],
                            "description": f"{what} ({rule})",
                        }
                    )
                elif not rule.violated(value) and key in opened:
                    opened.pop(key)
                    alerts.append(
                        {
                            "key": key,
                            "status": "resolved",
                            "window": newest["window"],
                            "description": f"resolved: {what}",
                        }
                    )
            row.state = {**(row.state or {}), "open": opened}
        return alerts

    def _send(
        self, monitor: Monitor, alerts: builtins.list[dict[str, Any]]
    ) -> builtins.list[dict[str, Any]]:
        for alert in alerts:
            payload = {
                "monitor": monitor.name,
                "endpoint": monitor.endpoint,
                **alert,
                "message": f"[{monitor.name}] {alert['status']}: {alert['description']}",
            }
            for target in monitor.spec.get("alerts", []):
                send_alert(target, payload)
        return alerts

    def _write_predictions(self, endpoint: str, rows: Any) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        directory = self.predictions_root / f"endpoint={endpoint}"
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / f"window={rows.window}.parquet"
        table = pa.table(
            {
                "window": pa.array([rows.window] * rows.rows, pa.string()),
                "id": pa.array(rows.ids, pa.string()),
                "variant": pa.array(rows.variants, pa.string()),
                "score": pa.array(rows.scores, pa.float64(), from_pandas=True),  # NaN: none
                "predicted": pa.array(rows.predicted, pa.string()),
            }
        )
        staging = directory / f".{target.name}.tmp"
        pq.write_table(table, staging)
        staging.replace(target)

    def _baseline(self, monitor: Monitor) -> Baseline:
        model = str(monitor.spec["model"])
        manifest = self._ws.models.manifest(model)
        path = self._ws.models.package_path(model) / "baseline.json"
        try:
            statistics = monitor.spec.get("statistics") or json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise InvalidInputError(
                f"model {model} has no readable baseline ({path}): {exc}"
            ) from exc
        if monitor.spec.get("statistics"):
            statistics = _with_kinds(statistics, manifest.inputs)
        classes = [str(c) for c in manifest.classes] if manifest.classes else None
        positive = classes[-1] if classes and manifest.task == "binary" else None
        return Baseline(
            manifest.input_names,
            statistics,
            manifest.task,
            positive,
            manifest.threshold if manifest.threshold is not None else 0.5,
            monitor.spec.get("multivariate"),
        )

    def _reference(
        self, model: str, dataset: str | None = None, split: str | None = "train"
    ) -> dict[str, Any] | None:
        """The multivariate check's PCA model, fitted on ``dataset`` (default: the
        model's training split); ``None`` when those rows cannot be read (the check
        is then left out)."""
        import numpy as np

        from modelyard.errors import ModelyardError
        from modelyard.monitoring._multivariate import fit_reference

        manifest = self._ws.models.manifest(model)
        if dataset is None:
            dataset = (manifest.document.get("lineage") or {}).get("dataset")
            split = "train"
        numeric = [str(c["name"]) for c in manifest.inputs if c.get("kind") == "numeric"]
        try:
            if dataset is None or len(numeric) < 2:
                return None
            table = self._ws.datasets.read(str(dataset), split=split, columns=numeric)
        except (ModelyardError, OSError, ValueError):
            return None
        arrays = {
            name: table.column(name).cast("float64").to_numpy(zero_copy_only=False)
            for name in numeric
        }
        return fit_reference({k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()})

    def _touch(self, name: str) -> None:
        with self._metadata.session() as session:
            self._row(session, name).last_run_at = utcnow()

    @staticmethod
    def _row(session: Any, name: str) -> MonitorRow:
        row = session.get(MonitorRow, name)
        if row is None:
            raise NotFoundError(f"no monitor named {name!r}")
        return row  # type: ignore[no-any-return]


def _monitor(row: MonitorRow) -> Monitor:
    return Monitor(
        row.name,
        row.endpoint,
        dict(row.spec),
        dict((row.state or {}).get("open", {})),
        row.created_at,
        row.last_run_at,
    )


def _with_kinds(statistics: dict[str, Any], inputs: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """Statistics read from SageMaker's files (numbers or strings only) with each
    column's kind as the model reads it: a boolean or date column is then
    compared as one, not refused as text that is not a number."""
    columns = dict(statistics.get("columns") or {})
    for entry in inputs:
        name, kind = str(entry["name"]), entry.get("kind")
        stats = columns.get(name)
        if stats is not None and stats.get("kind") == "numeric" and kind in ("boolean", "datetime"):
            columns[name] = {**stats, "kind": kind}
    return {**statistics, "columns": columns}


def _seconds(every: str) -> int:
    from modelyard._duration import parse_duration

    return max(1, round(parse_duration(every, what="schedule", positive=True)))
