"""The management REST API (FastAPI, OpenAPI at ``/docs``) and the metadata routes.

Each handler parses, calls one :class:`~modelyard.serving.EndpointStore` method,
asks the gateway to pick the change up at once, and renders. Invocation routes
are declared here too so the OpenAPI document describes them, but requests to
them are answered by the plain-ASGI hot path before FastAPI sees them.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, Depends, FastAPI, Header, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from modelyard.errors import ModelyardError
from modelyard.serving._config import VariantConfig, parse_variant
from modelyard.serving._docs import add_docs
from modelyard.serving._gateway import Gateway
from modelyard.serving._kserve_routes import kserve_router

__all__ = ["build_api"]

_Weight = Annotated[float, Field(ge=0, le=1e9, allow_inf_nan=False)]
_Percent = Annotated[float, Field(ge=0, le=100, allow_inf_nan=False)]


class VariantIn(BaseModel):
    """A variant to deploy."""

    model: str = Field(max_length=300, description="Model reference: NAME:VERSION or NAME:ALIAS.")
    name: str | None = Field(default=None, max_length=63, description="Variant name.")
    weight: _Weight = 1.0
    shadow: bool = False

    def to_config(self) -> VariantConfig:
        base = parse_variant(self.model, shadow=self.shadow)
        return VariantConfig(self.name or base.name, base.model, self.weight, self.shadow)


class EndpointIn(BaseModel):
    """A new endpoint."""

    name: str = Field(max_length=63)
    variants: list[VariantIn] = Field(min_length=1, max_length=20)
    capture_percent: _Percent = 0.0
    unexpected_columns: Literal["ignore", "reject"] = "ignore"
    hide_schema: bool = False


class EndpointPatch(BaseModel):
    """Changes to an endpoint; fields left out keep their values."""

    weights: dict[str, _Weight] | None = Field(default=None, max_length=20)
    variants: list[VariantIn] | None = Field(default=None, min_length=1, max_length=20)
    capture_percent: _Percent | None = None
    unexpected_columns: Literal["ignore", "reject"] | None = None
    hide_schema: bool | None = None


class RollbackIn(BaseModel):
    """Where to roll back to (default: the configuration before the current one)."""

    to: Annotated[int, Field(ge=1, le=2**31 - 1)] | None = None
    # why, kept in the endpoint's history beside the rollback
    reason: Annotated[str, Field(min_length=1, max_length=2000)] | None = None


_INVOCATION_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"type": ["object", "array"]}},
            "text/csv": {"schema": {"type": "string"}},
        },
    }
}


def build_api(gateway: Gateway, *, title: str = "modelyard gateway") -> FastAPI:
    """The FastAPI app for everything but the invocation hot path."""
    # /docs is served from installed files (FastAPI's own page loads a CDN)
    api = FastAPI(title=title, version="1", openapi_url="/openapi.json", docs_url=None)
    add_docs(api)
    store = gateway.workspace.endpoints

    def admin(authorization: Annotated[str | None, Header()] = None) -> None:
        gateway.guard.check(authorization, "admin")

    def invoker(authorization: Annotated[str | None, Header()] = None) -> None:
        gateway.guard.check(authorization, "invoke")

    @api.exception_handler(ModelyardError)
    async def _modelyard_error(request: Request, exc: ModelyardError) -> JSONResponse:
        return JSONResponse(exc.to_dict(), status_code=exc.http_status)

    @api.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            {"loc": [str(p) for p in e.get("loc", ())], "msg": str(e.get("msg", ""))}
            for e in exc.errors()
        ]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        body = {
            "error": {
                "type": "InvalidInputError",
                "message": f"{'.'.join(first['loc'])}: {first['msg']}",
                "details": {"errors": errors},
            }
        }
        return JSONResponse(body, status_code=422)

    manage = APIRouter(prefix="/api", dependencies=[Depends(admin)], tags=["endpoints"])

    async def changed(result: Any) -> Any:
        await gateway.refresh()
        return result

    @manage.get("/endpoints")
    async def list_endpoints() -> list[dict[str, Any]]:
        """Every endpoint and its current configuration."""
        endpoints = await asyncio.to_thread(store.list)
        return [_describe(gateway, e.to_dict()) for e in endpoints]

    @manage.post("/endpoints", status_code=201)
    async def create_endpoint(spec: EndpointIn) -> dict[str, Any]:
        """Deploy a new endpoint (variants load before it answers)."""
        variants = [v.to_config() for v in spec.variants]
        endpoint = await asyncio.to_thread(
            lambda: store.create(
                spec.name,
                variants,
                capture_percent=spec.capture_percent,
                unexpected_columns=spec.unexpected_columns,
                hide_schema=spec.hide_schema,
            )
        )
        return _describe(gateway, (await changed(endpoint)).to_dict())

    @manage.get("/endpoints/{name}")
    async def describe_endpoint(name: str) -> dict[str, Any]:
        """One endpoint: configuration, weights, what the gateway has loaded."""
        return _describe(gateway, (await asyncio.to_thread(store.get, name)).to_dict())

    @manage.patch("/endpoints/{name}")
    async def update_endpoint(name: str, patch: EndpointPatch) -> dict[str, Any]:
        """Change weights, variants or capture; traffic moves without a restart."""
        endpoint = await asyncio.to_thread(
            lambda: store.update(
                name,
                weights=patch.weights,
                variants=[v.to_config() for v in patch.variants] if patch.variants else None,
                capture_percent=patch.capture_percent,
                unexpected_columns=patch.unexpected_columns,
                hide_schema=patch.hide_schema,
            )
        )
        return _describe(gateway, (await changed(endpoint)).to_dict())

    @manage.delete("/endpoints/{name}", status_code=204)
    async def delete_endpoint(name: str) -> Response:
        """Stop serving an endpoint; its history stays (GET .../history)."""
        await asyncio.to_thread(store.delete, name)
        await gateway.refresh()
        return Response(status_code=204)

    @manage.get("/endpoints/{name}/history")
    async def endpoint_history(name: str) -> list[dict[str, Any]]:
        """Every configuration the endpoint had, oldest first."""
        return [r.to_dict() for r in await asyncio.to_thread(store.history, name)]

    @manage.post("/endpoints/{name}/rollback")
    async def rollback_endpoint(
        name: str, spec: Annotated[RollbackIn | None, Body()] = None
    ) -> dict[str, Any]:
        """Return to the previous configuration (or a given history version)."""
        to, reason = (spec.to, spec.reason) if spec is not None else (None, None)
        endpoint = await asyncio.to_thread(lambda: store.rollback(name, to, reason=reason))
        return _describe(gateway, (await changed(endpoint)).to_dict())

    api.include_router(manage)

    @api.get("/ping", tags=["health"])
    async def ping() -> Response:
        """SageMaker's health check: 200 once the endpoints are loaded."""
        ok = gateway.ready and (
            gateway.options.endpoint is None or gateway.options.endpoint in gateway.endpoints
        )
        return Response(status_code=200 if ok else 503)

    @api.get("/metrics", tags=["health"])
    async def metrics() -> Response:
        """Prometheus text format."""
        from prometheus_client import CONTENT_TYPE_LATEST

        return Response(gateway.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    api.include_router(kserve_router(gateway, invoker, _INVOCATION_BODY))

    invoke = APIRouter(tags=["invocations"])

    @invoke.post("/endpoints/{name}/invocations", openapi_extra=_INVOCATION_BODY)
    async def invocations(name: str) -> dict[str, Any]:
        """SageMaker Runtime InvokeEndpoint (answered by the hot path)."""
        raise AssertionError("served by the invocation hot path")  # pragma: no cover

    @invoke.post("/endpoints/{name}/predict", openapi_extra=_INVOCATION_BODY)
    async def predict(name: str) -> dict[str, Any]:
        """modelyard's own invocation (answered by the hot path)."""
        raise AssertionError("served by the invocation hot path")  # pragma: no cover

    @invoke.post("/invocations", openapi_extra=_INVOCATION_BODY)
    async def container_invocations() -> dict[str, Any]:
        """The SageMaker container contract (answered by the hot path)."""
        raise AssertionError("served by the invocation hot path")  # pragma: no cover

    api.include_router(invoke)
    return api


def _describe(gateway: Gateway, data: dict[str, Any]) -> dict[str, Any]:
    state = gateway.endpoints.get(data["name"])
    data["served_version"] = state.version if state is not None else None
    data["load_error"] = gateway.load_errors.get(data["name"])
    return data
