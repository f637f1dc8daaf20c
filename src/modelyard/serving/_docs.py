"""The gateway's ``/docs`` page: Swagger UI served from installed files, never a CDN.

FastAPI's default ``/docs`` loads Swagger UI's script and stylesheet from a CDN, so
the page stays blank for a user without internet access (an air-gapped server, a
laptop on a train). This follows FastAPI's documented pattern for self-hosted docs:
the page is :func:`fastapi.openapi.docs.get_swagger_ui_html` pointing at static
files that the gateway serves itself. The files come from ``swagger-ui-bundle-v2``
(a dependency: Swagger UI's release files as a Python package, kept by the
Connexion maintainers), so no JavaScript bundle is vendored into this repository.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

__all__ = ["ASSETS_PATH", "add_docs"]

ASSETS_PATH = "/docs/assets"


def add_docs(api: FastAPI, path: str = "/docs") -> None:
    """Serve Swagger UI for ``api``'s OpenAPI document at ``path``, assets included.

    ``api`` must be built with ``docs_url=None`` (FastAPI's own CDN page off).
    Paths honour the ASGI ``root_path``, so the page works behind a proxy prefix.
    """
    from modelyard._imports import optional_dependency

    with optional_dependency("the /docs page"):
        from swagger_ui_bundle import swagger_ui_path  # type: ignore[import-untyped]

    openapi_url = api.openapi_url or "/openapi.json"
    api.mount(ASSETS_PATH, StaticFiles(directory=str(swagger_ui_path)), name="docs-assets")

    @api.get(path, include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = str(request.scope.get("root_path", "")).rstrip("/")
        assets = f"{root}{ASSETS_PATH}"
        return get_swagger_ui_html(
            openapi_url=f"{root}{openapi_url}",
            title=f"{api.title} - Swagger UI",
            swagger_js_url=f"{assets}/swagger-ui-bundle.js",
            swagger_css_url=f"{assets}/swagger-ui.css",
            swagger_favicon_url=f"{assets}/favicon-32x32.png",
            swagger_ui_parameters=api.swagger_ui_parameters,
        )
