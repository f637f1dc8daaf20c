"""Models: every model, one model's versions, one version (lineage, flavors, parity),
its evaluation report, and the admin's changes (approve, reject, move an alias)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.responses import Response

from modelyard.errors import InvalidInputError, NotFoundError
from modelyard.ui._context import PageRequest
from modelyard.ui._stored import stored_page

if TYPE_CHECKING:
    from modelyard.registry import ModelRegistry

__all__ = ["model_page", "models", "report", "set_alias", "set_status", "version_page"]


def models(page: PageRequest) -> Response:
    """Each model with its number of versions and its newest version."""
    registry = page.ui.workspace.models
    counts = registry.names()
    latest = {name: registry.get(name) for name, n in counts.items() if n}
    return page.render(
        "models.html", title="Models", cli="modelyard model list", latest=latest, counts=counts
    )


_PAGE = 50


def model_page(page: PageRequest) -> Response:
    """One model's versions (a page of them) with status, aliases and metrics, and
    its recent history.

    An unknown model is a 404 page, checked before the layout's top is sent (one
    row looked up); the versions and history are read after (see
    :meth:`PageRequest.render`).
    """
    name = page.param("name")
    registry = page.ui.workspace.models
    offset = page.query_int("offset", 0)
    if not registry.exists(name):
        raise NotFoundError(f"model {name} not found")

    def versions() -> dict[str, Any]:
        shown, total = registry.page(name, offset, _PAGE)
        keys = sorted({key for v in shown for key, value in v.metrics.items() if _number(value)})
        keys = keys[:12]
        # the table's figures formatted here: half the template's time as Jinja filters
        rows = [(v, [_figure(v.metrics.get(key)) for key in keys]) for v in shown]
        history = registry.history(name, last=20)
        return {"rows": rows, "total": total, "keys": keys, "history": history}

    return page.render(
        "model.html",
        title=f"Model {name}",
        cli=f"modelyard model list {name}",
        name=name,
        offset=offset,
        limit=_PAGE,
        later=versions,
    )


def version_page(page: PageRequest) -> Response:
    """One version: metrics, params, flavors and ONNX parity, lineage as a graph."""
    workspace = page.ui.workspace
    version = workspace.models.get(f"{page.param('name')}:{page.param('version')}")
    document = dict(workspace.models.manifest(version).document)
    serving = [
        (endpoint.name, variant.name, variant.weight, variant.shadow)
        for endpoint in workspace.endpoints.list()
        for variant in endpoint.config.variants
        if _resolves_to(workspace.models, variant.model, version.ref)
    ]
    lineage = version.lineage
    graph = {
        "dataset": lineage.get("dataset"),
        "split": lineage.get("split"),
        "run": version.run_id,
        "model": version.ref,
        "endpoints": [f"{name} ({variant})" for name, variant, _, _ in serving],
    }
    return page.render(
        "version.html",
        title=f"Model {version.ref}",
        cli=f"modelyard model show {version.ref}",
        version=version,
        onnx=document.get("onnx") or {},
        native=document.get("native") or {},
        serving=serving,
        graph=graph,
        numbers={k: v for k, v in version.metrics.items() if _number(v)},
    )


def report(page: PageRequest) -> Response:
    """The version's evaluation report, as its training run stored it."""
    from modelyard.training._report import REPORT_ARTIFACT

    workspace = page.ui.workspace
    version = workspace.models.get(f"{page.param('name')}:{page.param('version')}")
    if version.run_id is None:
        raise NotFoundError(f"model {version.ref} was not trained by a run: it has no report")
    return stored_page(workspace.runs.artifact_bytes(version.run_id, REPORT_ARTIFACT))


def set_status(page: PageRequest) -> Response:
    """Approve or reject the version (admin)."""
    from modelyard.registry import ApprovalStatus

    ref = f"{page.param('name')}:{page.param('version')}"
    choice = page.form.get("status", "")
    if choice not in ("approved", "rejected"):
        raise InvalidInputError(f"status {choice!r}: use approved or rejected")
    reason = page.form.get("reason") or None
    page.ui.workspace.models.set_status(
        ref, ApprovalStatus(choice), reason=reason, actor=page.actor, force=bool(reason)
    )
    return page.redirect(f"/models/{page.param('name')}/{page.param('version')}")


def set_alias(page: PageRequest) -> Response:
    """Point an alias at the version (admin)."""
    ref = f"{page.param('name')}:{page.param('version')}"
    page.ui.workspace.models.set_alias(ref, page.form.get("alias", "").strip(), actor=page.actor)
    return page.redirect(f"/models/{page.param('name')}/{page.param('version')}")


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _figure(value: object) -> str:
    """A metric as the versions table shows it (4 significant digits), or nothing."""
    return f"{value:.4g}" if _number(value) else ""


def _resolves_to(registry: ModelRegistry, model: str, ref: str) -> bool:
    """Whether a variant's model reference (``churn:production``) names version ``ref``."""
    try:
        return registry.get(model).ref == ref
    except NotFoundError:
        return False
