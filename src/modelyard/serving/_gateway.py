"""The gateway's runtime: loaded endpoints, hot swaps, and one invocation's flow.

Endpoint states are immutable snapshots in a dict that is replaced whole: a
request reads the dict once, so it sees either the old or the new configuration,
never half of one. A refresh (polled from the store, or right after a change made
through this gateway) loads and warms new variants in a thread before swapping,
reuses variants whose model did not change, and releases the others only after
their in-flight requests have answered: no request fails during a swap.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import itertools
import logging
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from modelyard.errors import InvalidInputError, ModelyardError, NotFoundError
from modelyard.serving._accesslog import AccessLog
from modelyard.serving._auth import TokenGuard
from modelyard.serving._capture import CaptureRecord, CaptureWriter
from modelyard.serving._metrics import GatewayMetrics
from modelyard.serving._parse import Table
from modelyard.serving._router import VariantRouter
from modelyard.serving._variant import LoadedVariant

if TYPE_CHECKING:
    from modelyard.registry import Prediction
    from modelyard.serving._config import Endpoint, EndpointConfig, VariantConfig
    from modelyard.workspace import Workspace

__all__ = ["EndpointState", "Gateway", "GatewayOptions", "Outcome"]

log = logging.getLogger("modelyard.serving")
_THREAD_ROWS = 256  # larger batches predict in a thread so the event loop keeps answering


@dataclass(frozen=True)
class GatewayOptions:
    """How a gateway runs.

    Attributes:
        endpoint: serve only this endpoint (the SageMaker container contract).
        poll_interval: seconds between checks of the store for endpoint changes.
        max_body_bytes: larger request bodies are refused with 413.
        head_timeout: seconds a request head may take to arrive whole (then the
            connection is closed: a client holding connections open by sending
            nothing, or a byte at a time, cannot use up the server's connections).
        body_timeout: seconds a request body may take after its head (then 408).
        max_connections: open connections at most (0: what the process's file
            descriptor limit allows); at the cap the connection waiting longest for
            its request head is closed to make room.
        capture_dir: where captured traffic goes (default ``<state_dir>/capture``).
        capture_queue_bytes: captured request and response text held in memory at
            most, waiting to be written; records beyond it are dropped and counted
            (``modelyard_capture_dropped``).
        shadow_queue: shadow copies waiting at most (more are dropped and counted).
        shadow_drain_seconds: on shutdown, how long waiting shadow copies may take;
            those still waiting then are dropped and counted.
        drain_quiet: on SIGTERM or Ctrl-C, ``modelyard serve`` stops accepting
            connections and answers with ``Connection: close`` until no request has
            started or ended for this many seconds (see ``_drain``).
        drain_seconds: how long that drain may last at most.
        cors_origins: origins allowed by CORS (none: CORS off); they may also change
            the management API from a browser.
        allowed_hosts: ``Host`` names answered besides localhost, IP addresses and
            the workspace's ``allowed_hosts`` (``serve`` adds the host it binds).
        access_log: write one structured log line per invocation.
        freeze_gc: after loading, exclude every existing object from garbage
            collection (``gc.freeze``); for a process that only serves, as
            ``modelyard serve`` is, not for an app embedded in a larger program.
    """

    endpoint: str | None = None
    poll_interval: float = 0.5
    max_body_bytes: int = 6 * 1024 * 1024
    head_timeout: float = 10.0
    body_timeout: float = 60.0
    max_connections: int = 0
    capture_dir: Path | None = None
    capture_queue_bytes: int = 64 * 1024 * 1024
    shadow_queue: int = 10_000
    shadow_drain_seconds: float = 10.0
    drain_quiet: float = 1.0
    drain_seconds: float = 10.0
    cors_origins: tuple[str, ...] = ()
    allowed_hosts: tuple[str, ...] = ()
    access_log: bool = True
    freeze_gc: bool = False


@dataclass(frozen=True)
class EndpointState:
    """One endpoint as served: its configuration and loaded variants."""

    name: str
    version: int
    config: EndpointConfig
    router: VariantRouter[LoadedVariant]
    production: tuple[LoadedVariant, ...]
    shadows: tuple[LoadedVariant, ...]


@dataclass
class Outcome:
    """What one invocation did, for the protocol to render and capture to record."""

    endpoint: str
    request_id: str
    inference_id: str | None
    started: float
    variant: LoadedVariant | None = None
    config_version: int = 0
    prediction: Prediction | None = None
    error: ModelyardError | None = None
    columns: dict[str, list[Any]] = field(default_factory=dict)

    def fail(self, error: ModelyardError) -> None:
        """Record ``error``, without its traceback or the exception it replaced.

        A traceback's frames hold this outcome, and with it the request body: kept,
        the error and the outcome form a cycle that only a full garbage collection
        frees (with ``gc.freeze`` that is rare), and 8 clients sending 6 MB bodies
        that failed left the gateway hundreds of MB larger.
        """
        error.__traceback__ = None
        error.__context__ = None
        self.error = error


class Gateway:
    """Loaded endpoints of one workspace, kept in step with the metadata store."""

    def __init__(self, workspace: Workspace, options: GatewayOptions) -> None:
        self.workspace = workspace
        self.options = options
        capture_dir = options.capture_dir or workspace.settings.state_dir / "capture"
        self.capture = CaptureWriter(capture_dir, max_queue_bytes=options.capture_queue_bytes)
        self.metrics = GatewayMetrics(self.capture, lambda: self.shadow_dropped)
        self.access_log = AccessLog()
        self.endpoints: dict[str, EndpointState] = {}
        self.load_errors: dict[str, str] = {}
        self._failed: dict[str, int] = {}  # endpoint -> configuration version that failed
        self.guard = TokenGuard()
        self.ready = False
        self.shadow_dropped = 0
        self._models: dict[str, LoadedVariant] = {}
        self._lock = asyncio.Lock()
        self._tasks: list[asyncio.Task[None]] = []
        self._shadows: asyncio.Queue[tuple[EndpointState, Outcome, str]] | None = None
        self._random = random.Random()
        # request ids: a random prefix per gateway and a counter (uuid4 per request
        # costs a getrandom syscall, more than the rest of the bookkeeping together)
        self._id_prefix = uuid.uuid4().hex[:12]
        self._ids = itertools.count(1)
        self._children: dict[tuple[str, str, int], tuple[Any, Any]] = {}

    # -- lifecycle ---------------------------------------------------------------

    async def start(self) -> None:
        """Load every endpoint, then poll for changes and run shadows in the background."""
        self.capture.start()
        self._shadows = asyncio.Queue(maxsize=self.options.shadow_queue)
        await self.refresh()
        if self.options.freeze_gc:
            # Everything loaded so far (libraries, models) lives as long as the server:
            # keep it out of the collector's scans, which otherwise stall requests for a
            # full traversal every few thousand allocations.
            gc.collect()
            gc.freeze()
        self.ready = True
        self._tasks = [
            asyncio.create_task(self._poll(), name="modelyard-poll"),
            asyncio.create_task(self._shadow_worker(), name="modelyard-shadow"),
        ]

    async def stop(self) -> None:
        """Finish shadow copies, stop polling, write every captured record."""
        self.ready = False
        if self._shadows is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self._shadows.join(), timeout=self.options.shadow_drain_seconds
                )
            # copies never run are dropped, and counted (they were lost silently)
            self.shadow_dropped += self._shadows.qsize()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await asyncio.to_thread(self.capture.close)
        self.access_log.flush()
        flush_logs()

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.options.poll_interval)
            try:
                await self.refresh()
            except Exception:  # a database hiccup must not stop serving what is loaded
                log.exception("refreshing endpoints failed")
            self.access_log.flush()
            flush_logs()

    # -- keeping in step with the store ------------------------------------------

    async def refresh(self) -> None:
        """Load endpoints whose configuration version moved; drop deleted ones."""
        async with self._lock:
            store = self.workspace.endpoints
            tokens = store.tokens
            credentials, closed = await asyncio.to_thread(
                lambda: (tokens.credentials(), tokens.management_closed())
            )
            self.guard.scopes, self.guard.sigv4 = credentials
            self.guard.management_closed = closed and not self.workspace.settings.open_management
            versions = await asyncio.to_thread(store.versions)
            if self.options.endpoint is not None:
                versions = {k: v for k, v in versions.items() if k == self.options.endpoint}
            current = self.endpoints
            changed = [
                n
                for n, v in versions.items()
                if (n not in current or current[n].version != v) and self._failed.get(n) != v
            ]
            if not changed and set(current).issubset(versions):
                return
            updated = {n: s for n, s in current.items() if n in versions}
            for name in changed:
                try:
                    endpoint = await asyncio.to_thread(store.get, name)
                    updated[name] = await self._build(endpoint)
                    self.load_errors.pop(name, None)
                    self._failed.pop(name, None)
                except NotFoundError:
                    updated.pop(name, None)
                except Exception as exc:  # keep serving the old state; say why
                    # not retried until the configuration changes again
                    self._failed[name] = versions[name]
                    self.load_errors[name] = f"{type(exc).__name__}: {exc}"
                    log.error("cannot load endpoint %s: %s", name, exc)
            self.endpoints = updated
            self._release_unused()

    async def _build(self, endpoint: Endpoint) -> EndpointState:
        config = endpoint.config
        loaded = [await self._variant(v) for v in config.variants]
        production = tuple(x for x in loaded if not x.config.shadow)
        shadows = tuple(x for x in loaded if x.config.shadow)
        # weights come from this configuration: a reused variant keeps its model only
        router = VariantRouter(
            [v.name for v in config.production],
            [v.weight for v in config.production],
            production,
        )
        return EndpointState(
            endpoint.name, endpoint.config_version, config, router, production, shadows
        )

    async def _variant(self, config: VariantConfig) -> LoadedVariant:
        existing = self._models.get(_key(config))
        if existing is not None:
            return existing
        models = self.workspace.models

        def load() -> LoadedVariant:
            variant = LoadedVariant(config, models.load(config.model))
            variant.warm()
            return variant

        variant = await asyncio.to_thread(load)
        self._models[_key(config)] = variant
        return variant

    def _release_unused(self) -> None:
        used = {
            _key(v.config)
            for state in self.endpoints.values()
            for v in (*state.production, *state.shadows)
        }
        self._tasks = [t for t in self._tasks if not t.done()]
        for key in [k for k in self._models if k not in used]:
            variant = self._models.pop(key)
            task = asyncio.get_running_loop().create_task(self._release(variant))
            self._tasks.append(task)

    async def _release(self, variant: LoadedVariant) -> None:
        """Forget a variant once its last in-flight request has answered."""
        await variant.drained()
        log.info("released variant %s (%s)", variant.name, variant.model_ref)

    # -- one invocation ----------------------------------------------------------

    def state(self, name: str) -> EndpointState:
        """The served state of endpoint ``name``.

        Raises:
            NotFoundError: the gateway serves no such endpoint.
        """
        state = self.endpoints.get(name)
        if state is None:
            raise NotFoundError(f"endpoint {name} not found", details={"endpoint": name})
        return state

    def single(self) -> str:
        """The endpoint ``/invocations`` answers for (``--endpoint``, or the only one).

        Raises:
            NotFoundError: none, or several and no ``--endpoint``.
        """
        if self.options.endpoint is not None:
            return self.options.endpoint
        if len(self.endpoints) == 1:
            return next(iter(self.endpoints))
        raise NotFoundError(
            "/invocations needs a gateway serving one endpoint (modelyard serve --endpoint "
            "NAME); use /endpoints/NAME/invocations"
        )

    def begin(self, name: str, inference_id: str | None) -> Outcome:
        """Start an invocation's record."""
        request_id = f"{self._id_prefix}{next(self._ids):012x}"
        return Outcome(name, request_id, inference_id, time.perf_counter())

    async def predict(
        self,
        outcome: Outcome,
        parse: Any,
        target: str | None = None,
        sticky: str | None = None,
    ) -> None:
        """Choose a variant, parse and check the request with its signature, predict.

        ``parse`` turns the variant's column names into a :class:`Table`. Errors are
        stored on ``outcome`` (never raised) so every protocol renders them its way.
        """
        try:
            state = self.state(outcome.endpoint)
            variant = state.router.choose(target, sticky)
            outcome.variant = variant
            outcome.config_version = state.version
            variant.inflight += 1
            try:
                table: Table = parse(variant.signature.names)
                columns = variant.signature.check(
                    table,
                    reject_unexpected=state.config.unexpected_columns == "reject",
                    hide=state.config.hide_schema,
                )
                outcome.columns = columns
                if table.n_rows > _THREAD_ROWS:
                    outcome.prediction = await asyncio.to_thread(variant.predict, columns)
                else:
                    outcome.prediction = variant.predict(columns)
            finally:
                variant.inflight -= 1
        except ModelyardError as exc:
            outcome.fail(exc)
        except Exception as exc:  # the model itself failed on checked input
            outcome.fail(ModelFailedError(f"the model failed: {type(exc).__name__}: {exc}"))

    def finish(
        self,
        outcome: Outcome,
        status: int,
        request: bytes,
        response: bytes,
        content_type: str,
    ) -> None:
        """Count, log, capture and mirror to shadows an answered invocation."""
        elapsed = time.perf_counter() - outcome.started
        variant = outcome.variant.name if outcome.variant is not None else ""
        metrics = self.metrics
        # Label only endpoints the gateway serves: a fuzzer's paths must not grow the series.
        label = outcome.endpoint if outcome.endpoint in self.endpoints else "_unknown"
        # Counted with modelyard's own status: SageMaker's route sends every error a
        # model container could cause as 424, a bad row and a raising model alike;
        # /metrics keeps them apart (4xx the client's fault, 5xx the variant's).
        counted = status if outcome.error is None else outcome.error.http_status
        children = self._children.get((label, variant, counted))
        if children is None:
            children = (
                metrics.requests.labels(label, variant, str(counted)),
                metrics.latency.labels(label, variant),
            )
            self._children[(label, variant, counted)] = children
        children[0].inc()
        children[1].observe(elapsed)
        if outcome.error is not None:
            metrics.errors.labels(label, type(outcome.error).__name__).inc()
        now = time.time()
        if self.options.access_log:
            self.access_log.add(now, outcome.endpoint, variant, status, elapsed, outcome.request_id)
        state = self.endpoints.get(outcome.endpoint)
        if state is None:
            return
        # Only what the model answered (or failed on) is traffic to monitor: a request
        # refused before it (no token, a body that does not parse or match the
        # signature) is not captured, so no one can fill the capture with junk.
        ran = outcome.prediction is not None or isinstance(outcome.error, ModelFailedError)
        if (
            ran
            and state.config.capture_percent > 0
            and (
                state.config.capture_percent >= 100
                or self._random.random() * 100 < state.config.capture_percent
            )
        ):
            self.capture.offer(
                CaptureRecord(
                    now,
                    outcome.endpoint,
                    variant,
                    outcome.variant.model_ref if outcome.variant else None,
                    False,
                    outcome.request_id,
                    outcome.inference_id,
                    elapsed * 1000,
                    status,
                    content_type,
                    request.decode("utf-8", "replace"),
                    response.decode("utf-8", "replace"),
                )
            )
        if state.shadows and outcome.prediction is not None and self._shadows is not None:
            try:
                self._shadows.put_nowait((state, outcome, request.decode("utf-8", "replace")))
            except asyncio.QueueFull:
                self.shadow_dropped += 1

    async def _shadow_worker(self) -> None:
        assert self._shadows is not None
        while True:
            state, outcome, request = await self._shadows.get()
            try:
                for shadow in state.shadows:
                    await self._run_shadow(state, shadow, outcome, request)
            finally:
                self._shadows.task_done()

    async def _run_shadow(
        self, state: EndpointState, shadow: LoadedVariant, outcome: Outcome, request: str
    ) -> None:
        import json

        from modelyard.serving._variant import prediction_body

        started = time.perf_counter()
        shadow.inflight += 1
        try:
            columns = {n: outcome.columns[n] for n in shadow.signature.names}
            prediction = await asyncio.to_thread(shadow.predict, columns)
            response, status = json.dumps(prediction_body(prediction)), 200
        except KeyError as exc:
            response, status = json.dumps({"error": f"missing column {exc}"}), 422
        except Exception as exc:
            response, status = json.dumps({"error": f"{type(exc).__name__}: {exc}"}), 500
        finally:
            shadow.inflight -= 1
        self.metrics.shadow.labels(state.name, shadow.name).inc()
        # A shadow's answers exist only to be compared: they are always captured.
        self.capture.offer(
            CaptureRecord(
                time.time(),
                state.name,
                shadow.name,
                shadow.model_ref,
                True,
                outcome.request_id,
                outcome.inference_id,
                (time.perf_counter() - started) * 1000,
                status,
                "application/json",
                request,
                response,
            )
        )


class ModelFailedError(ModelyardError):
    """The model raised on input that passed validation (a bug or a broken package)."""

    http_status = 500


class BodyTooLargeError(InvalidInputError):
    """A request body over the gateway's size limit."""

    http_status = 413


def flush_logs() -> None:
    """Write buffered log lines (``modelyard serve``'s handler buffers)."""
    for handler in log.handlers:
        handler.flush()


def _key(config: VariantConfig) -> str:
    return f"{config.name}\x00{config.model}"
