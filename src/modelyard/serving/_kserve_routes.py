"""The Open Inference Protocol's (KServe V2) health and metadata routes.

Inference itself is answered by the plain-ASGI hot path (:mod:`modelyard.serving._http`);
the ``infer`` routes are declared here only so the OpenAPI document describes them.
Every error on these routes is the protocol's ``{"error": "message"}``, not the
management API's error object: the official clients read ``error`` as a string.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

from modelyard.errors import ModelyardError
from modelyard.serving._kserve import output_specs, version_variant

if TYPE_CHECKING:
    from modelyard.serving._gateway import EndpointState, Gateway
    from modelyard.serving._variant import LoadedVariant

__all__ = ["kserve_router"]

_DATATYPES = {"numeric": "FP64", "boolean": "BOOL"}


class KServeRoute(APIRoute):
    """A route answering errors as ``{"error": "message"}`` (FastAPI's documented
    custom route class: the handler of this route catches, so other routes keep the
    management API's error shape)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def answer(request: Request) -> Response:
            try:
                return await handler(request)
            except ModelyardError as exc:
                return JSONResponse({"error": exc.message}, status_code=exc.http_status)
            except RequestValidationError as exc:
                first = exc.errors()[0] if exc.errors() else {}
                where = ".".join(str(p) for p in first.get("loc", ()))
                message = f"{where}: {first.get('msg', 'invalid request')}"
                return JSONResponse({"error": message}, status_code=422)

        return answer


def kserve_router(
    gateway: Gateway, invoker: Callable[..., None], infer_body: dict[str, Any]
) -> APIRouter:
    """The ``/v2`` routes; ``invoker`` is the dependency that checks an invoke token,
    ``infer_body`` the OpenAPI request body the ``infer`` routes document."""
    router = APIRouter(prefix="/v2", tags=["kserve-v2"], route_class=KServeRoute)
    guarded = [Depends(invoker)]

    @router.get("")
    async def server_metadata() -> dict[str, Any]:
        """Open Inference Protocol server metadata."""
        from modelyard import __version__

        return {"name": "modelyard", "version": __version__, "extensions": ["binary_tensor_data"]}

    @router.get("/health/live")
    async def live() -> dict[str, bool]:
        """The server answers."""
        return {"live": True}

    @router.get("/health/ready")
    async def ready() -> JSONResponse:
        """The endpoints are loaded."""
        return JSONResponse({"ready": gateway.ready}, status_code=200 if gateway.ready else 503)

    @router.get("/models/{name}", dependencies=guarded)
    async def model_metadata(name: str) -> dict[str, Any]:
        """Inputs and outputs of an endpoint's (first production variant's) model."""
        state = gateway.state(name)
        return _metadata(
            state, state.production[0], sorted({v.model_ref for v in state.production})
        )

    @router.get("/models/{name}/versions/{version}", dependencies=guarded)
    async def version_metadata(name: str, version: str) -> dict[str, Any]:
        """Inputs and outputs of the variant serving one version."""
        state = gateway.state(name)
        variant = _variant(state, version)
        return _metadata(state, variant, [variant.model_ref])

    @router.get("/models/{name}/ready", dependencies=guarded)
    async def model_ready(name: str) -> dict[str, Any]:
        """Whether the gateway serves the endpoint."""
        gateway.state(name)
        return {"name": name, "ready": True}

    @router.get("/models/{name}/versions/{version}/ready", dependencies=guarded)
    async def version_ready(name: str, version: str) -> dict[str, Any]:
        """Whether the gateway serves the endpoint with this version."""
        _variant(gateway.state(name), version)
        return {"name": name, "version": version, "ready": True}

    @router.post("/models/{name}/infer", openapi_extra=infer_body)
    async def infer(name: str) -> dict[str, Any]:
        """Open Inference Protocol inference, JSON or binary tensors (answered by the
        hot path)."""
        raise AssertionError("served by the invocation hot path")  # pragma: no cover

    @router.post("/models/{name}/versions/{version}/infer", openapi_extra=infer_body)
    async def infer_version(name: str, version: str) -> dict[str, Any]:
        """Inference by the variant serving one version (answered by the hot path)."""
        raise AssertionError("served by the invocation hot path")  # pragma: no cover

    return router


def _variant(state: EndpointState, version: str) -> LoadedVariant:
    chosen = version_variant(state, version)
    return next(v for v in state.production if v.name == chosen)


def _metadata(state: EndpointState, variant: LoadedVariant, versions: list[str]) -> dict[str, Any]:
    return {
        "name": state.name,
        "versions": versions,
        "platform": "modelyard",
        "inputs": [
            {"name": f.name, "datatype": _DATATYPES.get(f.kind, "BYTES"), "shape": [-1]}
            for f in variant.signature.fields
        ],
        "outputs": [
            spec.to_dict() for spec in output_specs(variant.model.task, variant.model.classes)
        ],
    }
