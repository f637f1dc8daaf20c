"""Deploy: endpoints with weighted and shadow variants, data capture, one gateway.

The store (:class:`EndpointStore`, ``Workspace.endpoints``) is imported eagerly;
the gateway (``create_app``, ``serve``) only when used, so opening a workspace
does not import the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from modelyard._lazy import lazy_names
from modelyard.serving._config import (
    Endpoint,
    EndpointConfig,
    EndpointRevision,
    VariantConfig,
    parse_variant,
    parse_weights,
)
from modelyard.serving._readings import (
    VariantReading,
    parse_gateway_metrics,
    read_gateway_metrics,
)
from modelyard.serving._store import EndpointStore
from modelyard.serving._tokens import TokenInfo, TokenStore

if TYPE_CHECKING:
    from modelyard.serving._app import create_app
    from modelyard.serving._capture import CaptureWriter
    from modelyard.serving._gateway import GatewayOptions
    from modelyard.serving._server import serve

__all__ = [
    "CaptureWriter",
    "Endpoint",
    "EndpointConfig",
    "EndpointRevision",
    "EndpointStore",
    "GatewayOptions",
    "TokenInfo",
    "TokenStore",
    "VariantConfig",
    "VariantReading",
    "create_app",
    "parse_gateway_metrics",
    "parse_variant",
    "parse_weights",
    "read_gateway_metrics",
    "serve",
]

_LAZY = {
    "create_app": "modelyard.serving._app",
    "CaptureWriter": "modelyard.serving._capture",
    "GatewayOptions": "modelyard.serving._gateway",
    "serve": "modelyard.serving._server",
}


__getattr__, __dir__ = lazy_names(__name__, globals(), _LAZY, __all__)
