"""Guarded deployment: move traffic to a candidate in steps, watch it, promote or roll back.

SageMaker's deployment guardrails on modelyard's gateway. A strategy says how
traffic moves (``all-at-once``, ``canary:10%:30m``, ``linear:25%:5m``); alarms say
what counts as a bad candidate (its share of failed answers, its p99 latency). Each
shift is a new endpoint configuration, so the gateway picks it up without a restart
or a failed request, and the rollback is the store's own ``rollback`` to the
configuration the deployment started from: the old variants, untouched, kept
loaded at weight 0 (all-at-once) or with their share (canary, linear) all along.

The guard reads the alarms' evidence where the gateway counts it: ``/metrics`` of
every gateway serving the endpoint, per variant, as differences from the moment
the candidate got its traffic, through the gateway's one reader
(``modelyard.serving.read_gateway_metrics``). A failure is a 5xx answer (the model
raised, or the gateway could not answer it); a 4xx is the client's bad request and
never fires an alarm, since a candidate is not worse for being sent a bad row.
Every shift, the promotion or the rollback is a history entry of the endpoint
whose actor names the guard (``deploy guard JOB``) and whose reason says why; the
whole deployment (each step with its evidence) is a job of kind ``deployment``.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Literal

from modelyard._duration import parse_duration
from modelyard.errors import ConflictError, InvalidInputError, NotFoundError
from modelyard.jobs import JobStatus

if TYPE_CHECKING:
    from modelyard.serving import VariantConfig, VariantReading
    from modelyard.workspace import Workspace

__all__ = [
    "Alarms",
    "DeployStrategy",
    "Deployment",
    "RolledBackError",
    "get_deployment",
    "guarded_deploy",
    "recover_deployments",
]

DEPLOYMENT_KIND = "deployment"
log = logging.getLogger("modelyard.worker")


class RolledBackError(ConflictError):
    """An alarm fired during a guarded deployment: the endpoint is back where it was."""


def _duration(text: str, strategy: str) -> float:
    return parse_duration(text, what=f"strategy {strategy!r}:")


def _share(text: str, strategy: str) -> float:
    number = text.strip().removesuffix("%")
    try:
        share = float(number) / 100
    except ValueError:
        share = math.nan
    if not 0 < share <= 1:
        raise InvalidInputError(
            f"strategy {strategy!r}: {text!r} is not a share of traffic (use e.g. 10%)"
        )
    return share


@dataclass(frozen=True)
class DeployStrategy:
    """How traffic moves to the candidate.

    Attributes:
        kind: ``all-at-once`` (every request at once, the old variants kept at
            weight 0 during the bake), ``canary`` (``share`` for ``interval``, then
            all) or ``linear`` (``share`` more every ``interval`` until all).
        share: the canary's share, or each linear step's.
        interval: seconds each traffic level is watched (the bake time).
    """

    kind: Literal["all-at-once", "canary", "linear"]
    share: float
    interval: float

    @classmethod
    def parse(cls, text: str) -> DeployStrategy:
        """``all-at-once[:BAKE]``, ``canary:SHARE%:BAKE`` or ``linear:STEP%:INTERVAL``.

        Raises:
            InvalidInputError: anything else, in one line naming the strategy.
        """
        kind, *rest = [part.strip() for part in str(text).split(":")]
        if kind in ("all-at-once", "all") and len(rest) <= 1:
            return cls("all-at-once", 1.0, _duration(rest[0], text) if rest else 0.0)
        if kind in ("canary", "linear") and len(rest) == 2:
            return cls(kind, _share(rest[0], text), _duration(rest[1], text))  # type: ignore[arg-type]
        raise InvalidInputError(
            f"deployment strategy {text!r}: use all-at-once[:BAKE], canary:SHARE%:BAKE "
            "or linear:STEP%:INTERVAL (e.g. canary:10%:30m)"
        )

    def levels(self) -> list[float]:
        """The candidate's share of traffic at each watched step, ending at 1."""
        if self.kind == "canary":
            return [self.share] if self.share >= 1 else [self.share, 1.0]
        if self.kind == "linear":
            steps = math.ceil(round(1 / self.share, 9))
            return [min(1.0, self.share * (i + 1)) for i in range(steps)]
        return [1.0]

    def __str__(self) -> str:
        bake = f"{self.interval:g}s"
        if self.kind == "all-at-once":
            return f"all-at-once:{bake}"
        return f"{self.kind}:{self.share * 100:g}%:{bake}"


@dataclass(frozen=True)
class Alarms:
    """When the candidate is bad: checked on its own requests since it got traffic.

    Attributes:
        max_error_rate: the share of its answers that may be failures (5xx: the
            model raised, or the gateway could not answer); more fires the alarm.
            A client's bad request (4xx, on SageMaker's route too, where it is sent
            as 424) is not the candidate's failure and counts only as a request.
        max_p99_seconds: its 99th-percentile latency limit (``None``: not watched);
            estimated from the gateway's latency histogram as Prometheus'
            ``histogram_quantile`` does, so at most the histogram's last bound
            (2.5 s).
        min_requests: answers needed before either alarm may fire (so one slow
            first request does not roll a deployment back), and at the end of each
            traffic level: with fewer the candidate is rolled back, since nothing
            shows it works (a gateway that could not load it sends it nothing).
            ``0`` moves on without evidence.
    """

    max_error_rate: float = 0.01
    max_p99_seconds: float | None = None
    min_requests: int = 20

    def __post_init__(self) -> None:
        if not 0 <= self.max_error_rate < 1:
            raise InvalidInputError("max_error_rate is a share from 0 up to (not including) 1")
        if self.max_p99_seconds is not None and not self.max_p99_seconds > 0:
            raise InvalidInputError("max_p99_seconds is a positive number of seconds")
        from modelyard.serving._readings import LATENCY_BUCKETS

        if self.max_p99_seconds is not None and self.max_p99_seconds >= LATENCY_BUCKETS[-1]:
            raise InvalidInputError(
                f"max_p99_seconds {self.max_p99_seconds:g}: the gateway's latency histogram "
                f"ends at {LATENCY_BUCKETS[-1]:g}s, so a p99 from there up cannot be told "
                f"apart; use less than {LATENCY_BUCKETS[-1]:g}"
            )
        if self.min_requests < 0:
            raise InvalidInputError("min_requests is 0 or more")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "max_error_rate": self.max_error_rate,
            "max_p99_seconds": self.max_p99_seconds,
            "min_requests": self.min_requests,
        }


@dataclass(frozen=True)
class Deployment:
    """A guarded deployment as recorded (its job's parameters).

    Attributes:
        id: the deployment's job id.
        promoted: the candidate took all traffic; ``False``: rolled back.
        reason: why it was promoted or rolled back, in one line.
        events: each shift, the promotion or rollback: ``{"action", "share",
            "config_version", "reason", "evidence"}``.
    """

    id: str
    endpoint: str
    model: str
    variant: str
    strategy: str
    promoted: bool
    reason: str
    config_version: int
    events: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "id": self.id,
            "endpoint": self.endpoint,
            "model": self.model,
            "variant": self.variant,
            "strategy": self.strategy,
            "promoted": self.promoted,
            "reason": self.reason,
            "config_version": self.config_version,
            "events": self.events,
        }


def guarded_deploy(
    workspace: Workspace,
    endpoint: str,
    model: str,
    *,
    strategy: DeployStrategy | str,
    gateways: Sequence[str],
    alarms: Alarms | None = None,
    variant: str | None = None,
    poll: float = 1.0,
    on_event: Callable[[dict[str, Any]], None] | None = None,
) -> Deployment:
    """Deploy ``model`` to an existing ``endpoint`` behind the guard.

    Each traffic level of ``strategy`` is watched for its interval, reading the
    candidate's answers from ``gateways`` every ``poll`` seconds; the first alarm
    rolls the endpoint back to the configuration it had before, at once. When every
    level passed, the candidate takes all traffic and the old production variants
    are removed (shadow variants stay).

    Returns:
        The deployment, promoted or rolled back (see :class:`Deployment`).

    Raises:
        NotFoundError: no such endpoint or model.
        InvalidInputError: a bad strategy, or no gateway to watch.
        ConflictError: the endpoint was changed by someone else meanwhile, or a
            gateway stopped answering (the endpoint is rolled back first).
    """
    plan = strategy if isinstance(strategy, DeployStrategy) else DeployStrategy.parse(strategy)
    if not gateways:
        raise InvalidInputError(
            f"a guarded deployment ({plan}) watches the gateway's metrics: give the gateway "
            "URL(s) serving the endpoint"
        )
    return _Guard(workspace, endpoint, model, plan, list(gateways), alarms or Alarms(), variant,
                  poll, on_event).run()  # fmt: skip


class _Guard:
    def __init__(
        self,
        workspace: Workspace,
        endpoint: str,
        model: str,
        plan: DeployStrategy,
        gateways: list[str],
        alarms: Alarms,
        variant: str | None,
        poll: float,
        on_event: Callable[[dict[str, Any]], None] | None,
    ) -> None:
        self.store = workspace.endpoints
        self.jobs = workspace.jobs
        self.endpoint = endpoint
        self.plan, self.gateways, self.alarms, self.poll = plan, gateways, alarms, poll
        self.on_event = on_event
        recover_deployments(workspace, endpoint)  # a dead guard's canary goes first
        before = self.store.get(endpoint)  # NotFoundError: no such endpoint
        self.before = before
        self.model = workspace.models.servable(model, "deploying it").ref
        taken = {v.name for v in before.config.variants}
        self.variant = _free_name(variant or self.model.replace(":", "-"), taken)
        self.events: list[dict[str, Any]] = []
        self.job_id = self.jobs.create(
            DEPLOYMENT_KIND,
            {
                "endpoint": endpoint,
                "model": self.model,
                "variant": self.variant,
                "strategy": str(plan),
                "alarms": alarms.to_dict(),
                "gateways": gateways,
                "from_version": before.config_version,
                "events": [],
            },
        ).id
        self.jobs.start(self.job_id)

    @property
    def actor(self) -> str:
        """Who changes the endpoint: this guard (the reason goes beside it)."""
        return _guard_actor(self.job_id)

    def record(self, action: str, share: float, version: int, reason: str, **evidence: Any) -> None:
        event = {
            "at": time.time(),
            "action": action,
            "share": share,
            "config_version": version,
            "reason": reason,
            "evidence": evidence,
        }
        self.events.append(event)
        self.jobs.update_params(self.job_id, events=self.events)
        if self.on_event is not None:
            self.on_event(event)

    def run(self) -> Deployment:
        current = self.before.config_version
        last: dict[str, Any] = {}
        try:
            for share in self.plan.levels():
                reason = f"{share * 100:g}% of traffic to {self.variant} ({self.model})"
                shifted = self.store.update(
                    self.endpoint,
                    variants=self._variants(share),
                    actor=self.actor,
                    reason=f"shift: {reason}",
                )
                if shifted.config_version != current + 1:  # another change slipped in
                    raise ConflictError(f"endpoint {self.endpoint} changed during the deployment")
                current = shifted.config_version
                self.record("shift", share, current, reason)
                alarm, last = self._bake(share)
                if alarm is not None:
                    return self._roll_back(share, alarm, last)
            reason = (
                f"no alarm in {len(self.plan.levels())} step(s) of {self.plan.interval:g}s; "
                f"{self.variant} answered {last.get('requests', 0):g} requests"
            )
            promoted = self.store.update(
                self.endpoint,
                variants=self._final(),
                actor=self.actor,
                reason=f"promoted: {reason}",
            )
            self.record("promote", 1.0, promoted.config_version, reason, **last)
            self.jobs.finish(self.job_id, JobStatus.SUCCEEDED)
            return self._result(True, reason, promoted.config_version)
        except BaseException as exc:  # never leave the candidate serving unwatched
            if self.events and self.events[-1]["action"] == "shift":
                why = f"the guard stopped: {type(exc).__name__}: {exc}"
                self._roll_back(self.events[-1]["share"], why, last)
            else:
                self.jobs.finish(self.job_id, JobStatus.FAILED, error=str(exc))
            raise

    def _bake(self, share: float) -> tuple[str | None, dict[str, Any]]:
        """Watch the candidate for the interval; the alarm that fired (or ``None``)."""
        start = self._counts()
        deadline = time.monotonic() + self.plan.interval
        while True:
            seen = self._counts().minus(start)
            evidence = {
                "requests": seen.requests,
                "failures": seen.failures,
                "client_errors": seen.client_errors,
                "error_rate": seen.failure_rate,
                "p99_seconds": seen.quantile(0.99),
            }
            alarm = self._alarm(seen)
            if alarm is not None:
                return alarm, evidence
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                if seen.requests < self.alarms.min_requests:
                    return self._too_little(seen), evidence
                return None, evidence
            time.sleep(min(self.poll, remaining))  # the guard's tick

    def _too_little(self, seen: VariantReading) -> str:
        return (
            f"not enough evidence: {self.variant} answered {seen.requests:g} requests in "
            f"{self.plan.interval:g}s, fewer than min_requests {self.alarms.min_requests} "
            "(did the gateway load it? `modelyard endpoint show` gives its load error)"
        )

    def _alarm(self, seen: VariantReading) -> str | None:
        rate = seen.failure_rate
        if rate is None or seen.requests < self.alarms.min_requests:
            return None
        if rate > self.alarms.max_error_rate:
            return (
                f"error rate alarm: {self.variant} answered {seen.failures:g} of "
                f"{seen.requests:g} requests with a server error ({rate:.1%} > "
                f"{self.alarms.max_error_rate:.1%})"
            )
        p99, limit = seen.quantile(0.99), self.alarms.max_p99_seconds
        if limit is not None and p99 is not None and p99 > limit:
            return f"latency alarm: {self.variant} p99 {p99:g}s > {limit:g}s"
        return None

    def _counts(self) -> VariantReading:
        from modelyard.serving import VariantReading, read_gateway_metrics

        found = read_gateway_metrics(self.gateways, self.endpoint)
        return found.get(self.variant) or VariantReading()

    def _roll_back(self, share: float, reason: str, evidence: dict[str, Any]) -> Deployment:
        back = self.store.rollback(
            self.endpoint,
            to=self.before.config_version,
            actor=self.actor,
            reason=f"rolled back: {reason}",
        )
        self.record("rollback", share, back.config_version, reason, **evidence)
        self.jobs.finish(self.job_id, JobStatus.FAILED, error=f"rolled back: {reason}")
        return self._result(False, reason, back.config_version)

    def _variants(self, share: float) -> list[VariantConfig]:
        """The old variants with ``1 - share`` of their weight, and the candidate."""
        from modelyard.serving import VariantConfig

        old = self.before.config
        total = sum(v.weight for v in old.production)
        variants = [
            v if v.shadow else replace(v, weight=(1 - share) * v.weight / total)
            for v in old.variants
        ]
        return [*variants, VariantConfig(self.variant, self.model, weight=share)]

    def _final(self) -> list[VariantConfig]:
        from modelyard.serving import VariantConfig

        shadows = [v for v in self.before.config.variants if v.shadow]
        return [VariantConfig(self.variant, self.model, weight=1.0), *shadows]

    def _result(self, promoted: bool, reason: str, version: int) -> Deployment:
        return Deployment(
            id=self.job_id,
            endpoint=self.endpoint,
            model=self.model,
            variant=self.variant,
            strategy=str(self.plan),
            promoted=promoted,
            reason=reason,
            config_version=version,
            events=list(self.events),
        )


def _guard_actor(job_id: str) -> str:
    """The history's actor for a deployment's guard, whether the guard itself or the
    worker that rolls back after it died: one name per deployment job."""
    return f"deploy guard {job_id[:12]}"


def _free_name(name: str, taken: set[str]) -> str:
    if name not in taken:
        return name
    number = 2
    while f"{name}-{number}" in taken:
        number += 1
    return f"{name}-{number}"


def recover_deployments(workspace: Workspace, endpoint: str | None = None) -> list[Deployment]:
    """Roll back every deployment whose guard died in the middle (its process gone,
    the candidate left with a share of traffic and no one watching), of ``endpoint``
    or of every endpoint. One the endpoint moved on from (changed by someone since
    the guard's last shift) is closed without touching the endpoint.

    ``modelyard worker`` calls this each tick, and a new guarded deployment first
    for its endpoint. Returns the deployments closed.
    """
    workspace.jobs.collect_stale()
    closed = []
    for job in workspace.jobs.list_jobs(kind=DEPLOYMENT_KIND, limit=1000):
        events: list[dict[str, Any]] = job.params.get("events", [])
        params = job.params
        if endpoint is not None and params["endpoint"] != endpoint:
            continue
        if job.status != JobStatus.FAILED or not events or events[-1]["action"] != "shift":
            continue
        last = events[-1]
        reason = f"its guard stopped during the shift to {last['share'] * 100:g}% ({job.error})"
        current = workspace.endpoints.get(params["endpoint"])
        if current.config_version == last["config_version"]:
            back = workspace.endpoints.rollback(
                params["endpoint"],
                to=params["from_version"],
                actor=_guard_actor(job.id),
                reason=f"rolled back: {reason}",
            )
            action, version = "rollback", back.config_version
        else:
            reason += "; the endpoint changed since, so it was left as it is"
            action, version = "abandoned", current.config_version
        event = {"at": time.time(), "action": action, "share": last["share"],
                 "config_version": version, "reason": reason, "evidence": {}}  # fmt: skip
        workspace.jobs.update_params(job.id, events=[*events, event])
        log.warning("deployment %s on %s: %s", job.id, params["endpoint"], reason)
        closed.append(get_deployment(workspace, job.id))
    return closed


def get_deployment(workspace: Workspace, deployment_id: str) -> Deployment:
    """A recorded guarded deployment by id or prefix.

    Raises:
        NotFoundError: no such deployment.
    """
    job = workspace.jobs.get(deployment_id)
    if job.kind != DEPLOYMENT_KIND:
        raise NotFoundError(f"job {job.id} is a {job.kind} job, not a deployment")
    params = job.params
    events: list[dict[str, Any]] = params.get("events", [])
    final = events[-1] if events else {}
    return Deployment(
        id=job.id,
        endpoint=params["endpoint"],
        model=params["model"],
        variant=params["variant"],
        strategy=params["strategy"],
        promoted=final.get("action") == "promote",
        reason=final.get("reason") or job.error or job.status.value,
        config_version=int(final.get("config_version") or params["from_version"]),
        events=events,
    )
