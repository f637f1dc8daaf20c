"""``modelyard endpoint`` and ``modelyard token``: deploy, shift traffic, roll back."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer

from modelyard.cli._context import YesOption, confirm, state
from modelyard.cli._links import print_page_link
from modelyard.cli._render import console, print_json, table
from modelyard.errors import InvalidInputError

if TYPE_CHECKING:
    from modelyard.pipelines import Alarms
    from modelyard.serving import Endpoint

__all__ = ["app", "token_app"]

app = typer.Typer(
    help="Serving endpoints: variants, weights, capture, rollback.", no_args_is_help=True
)
token_app = typer.Typer(help="API tokens of the gateway.", no_args_is_help=True)

_JSON = typer.Option("--json", help="Print JSON.")


def _variants(variants: list[str], shadows: list[str]) -> list[Any]:
    from modelyard.serving import parse_variant

    return [parse_variant(v) for v in variants] + [parse_variant(s, shadow=True) for s in shadows]


def _policy(reject_unexpected: bool | None) -> Any:
    if reject_unexpected is None:
        return None
    return "reject" if reject_unexpected else "ignore"


@app.command("create")
def create(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name (used in URLs).")],
    variant: Annotated[
        list[str],
        typer.Option(
            "--variant",
            "-v",
            help="[VARIANT@]MODEL:VERSION[=WEIGHT], repeatable, e.g. churn:3=0.9.",
        ),
    ],
    shadow: Annotated[
        list[str] | None,
        typer.Option("--shadow", help="[VARIANT@]MODEL:VERSION receiving a copy of traffic."),
    ] = None,
    capture: Annotated[
        float, typer.Option("--capture", min=0, max=100, help="Percent of requests captured.")
    ] = 0.0,
    reject_unexpected: Annotated[
        bool,
        typer.Option("--reject-unexpected", help="Refuse requests with columns the model ignores."),
    ] = False,
    hide_schema: Annotated[
        bool, typer.Option("--hide-schema", help="Do not list expected columns in errors.")
    ] = False,
    json_output: Annotated[bool, _JSON] = False,
) -> None:
    """Deploy an endpoint (a running gateway picks it up within a second)."""
    endpoint = (
        state(ctx)
        .workspace()
        .endpoints.create(
            name,
            _variants(variant, shadow or []),
            capture_percent=capture,
            unexpected_columns="reject" if reject_unexpected else "ignore",
            hide_schema=hide_schema,
        )
    )
    _show(endpoint, json_output, f"created endpoint [bold]{endpoint.name}[/]")


@app.command("update")
def update(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name.")],
    weights: Annotated[
        str | None,
        typer.Option("--weights", help="VARIANT=W,... (variant names or model refs)."),
    ] = None,
    variant: Annotated[
        list[str] | None,
        typer.Option("--variant", "-v", help="Replace the variants (with --shadow)."),
    ] = None,
    shadow: Annotated[list[str] | None, typer.Option("--shadow", help="Shadow variant.")] = None,
    capture: Annotated[
        float | None, typer.Option("--capture", min=0, max=100, help="Percent captured.")
    ] = None,
    reject_unexpected: Annotated[
        bool | None,
        typer.Option("--reject-unexpected/--ignore-unexpected", help="Unexpected columns."),
    ] = None,
    model: Annotated[
        str | None,
        typer.Option("--model", help="With --strategy: the model version to deploy (NAME:VER)."),
    ] = None,
    strategy: Annotated[
        str | None,
        typer.Option(
            "--strategy",
            help="Deploy --model behind the guard: canary:10%:30m, linear:20%:5m, all-at-once:10m.",
        ),
    ] = None,
    gateway: Annotated[
        list[str] | None,
        typer.Option("--gateway", help="With --strategy: gateway URL to watch (repeatable)."),
    ] = None,
    max_error_rate: Annotated[
        float, typer.Option("--max-error-rate", help="With --strategy: share of 5xx allowed.")
    ] = 0.01,
    max_p99: Annotated[
        float | None,
        typer.Option("--max-p99", help="With --strategy: p99 latency limit in seconds."),
    ] = None,
    json_output: Annotated[bool, _JSON] = False,
) -> None:
    """Shift weights, replace variants or change capture, without a restart; or, with
    --strategy, deploy a model behind a guard that rolls back on an alarm."""
    if strategy is not None or model is not None:
        if weights or variant or shadow or capture is not None or reject_unexpected is not None:
            raise InvalidInputError(
                "--strategy deploys --model on its own: give --weights, --variant, --shadow, "
                "--capture or --reject-unexpected in another update"
            )
        if strategy is None or model is None:
            raise InvalidInputError("a guarded deployment needs both --model and --strategy")
        from modelyard.pipelines import Alarms

        alarms = Alarms(max_error_rate=max_error_rate, max_p99_seconds=max_p99)
        _guarded_update(ctx, name, model, strategy, gateway or [], alarms, json_output)
        return
    from modelyard.serving import parse_weights

    variants = _variants(variant, shadow or []) if variant else None
    endpoint = (
        state(ctx)
        .workspace()
        .endpoints.update(
            name,
            weights=parse_weights(weights) if weights else None,
            variants=variants,
            capture_percent=capture,
            unexpected_columns=_policy(reject_unexpected),
        )
    )
    _show(
        endpoint, json_output, f"updated {endpoint.name} to configuration {endpoint.config_version}"
    )


def _guarded_update(
    ctx: typer.Context,
    name: str,
    model: str,
    strategy: str,
    gateways: list[str],
    alarms: Alarms,
    json_output: bool,
) -> None:
    from modelyard.pipelines import RolledBackError, guarded_deploy

    def shown(event: dict[str, Any]) -> None:
        if not json_output:
            console.print(
                f"{event['action']}: {event['share']:.0%} to the candidate "
                f"(configuration {event['config_version']}) - {event['reason']}",
                markup=False,
                highlight=False,
            )

    deployment = guarded_deploy(
        state(ctx).workspace(),
        name,
        model,
        strategy=strategy,
        gateways=gateways,
        alarms=alarms,
        on_event=shown,
    )
    if json_output:
        print_json(deployment.to_dict())
    if not deployment.promoted:
        raise RolledBackError(f"{name}: {model} was rolled back: {deployment.reason}")
    if not json_output:
        console.print(f"{name}: {model} promoted ({deployment.strategy})", markup=False)


@app.command("rollback")
def rollback(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name.")],
    to: Annotated[int | None, typer.Option("--to", help="History version to return to.")] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="Why, kept in the endpoint's history.")
    ] = None,
    json_output: Annotated[bool, _JSON] = False,
) -> None:
    """Return to the previous configuration (or to ``--to VERSION``)."""
    endpoint = state(ctx).workspace().endpoints.rollback(name, to, reason=reason)
    _show(
        endpoint,
        json_output,
        f"rolled {endpoint.name} back (configuration {endpoint.config_version})",
    )


@app.command("list")
def list_(
    ctx: typer.Context,
    all_: Annotated[
        bool, typer.Option("--all", help="Deleted endpoints too (their last configuration).")
    ] = False,
    json_output: Annotated[bool, _JSON] = False,
) -> None:
    """List endpoints and their traffic split."""
    endpoints = state(ctx).workspace().endpoints.list(deleted=all_)
    if json_output:
        print_json([e.to_dict() for e in endpoints])
        return
    rows: list[list[Any]] = [
        [
            e.name,
            e.config_version,
            ", ".join(
                f"{v.name} ({v.model}) {w:.0%}"
                for v, w in zip(
                    e.config.production, e.config.normalised_weights().values(), strict=True
                )
            ),
            ", ".join(f"{v.name} ({v.model})" for v in e.config.shadows),
            f"{e.config.capture_percent:g}%",
            *([e.deleted_at or ""] if all_ else []),
        ]
        for e in endpoints
    ]
    headers = ["endpoint", "config", "variants", "shadows", "capture"]
    console.print(table("Endpoints", [*headers, *(["deleted"] if all_ else [])], rows))


@app.command("show")
def show(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name.")],
    json_output: Annotated[bool, _JSON] = False,
) -> None:
    """Show an endpoint's current configuration."""
    workspace = state(ctx).workspace()
    endpoint = workspace.endpoints.get(name)
    _show(endpoint, json_output, None)
    if not json_output:
        print_page_link(workspace, "endpoints", endpoint.name)


@app.command("history")
def history(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name.")],
    json_output: Annotated[bool, _JSON] = False,
) -> None:
    """Every configuration the endpoint had, oldest first."""
    revisions = state(ctx).workspace().endpoints.history(name)
    if json_output:
        print_json([r.to_dict() for r in revisions])
        return
    rows: list[list[Any]] = [
        [
            r.version,
            r.created_at,
            r.action,
            r.actor,
            ", ".join(
                f"{v.name}={v.weight:g}{' (shadow)' if v.shadow else ''}" for v in r.config.variants
            ),
            f"{r.config.capture_percent:g}%",
            r.reason or "",
        ]
        for r in revisions
    ]
    console.print(
        table(
            f"History of {name}",
            ["config", "when", "action", "who", "variants", "capture", "why"],
            rows,
            optional=["capture"],
        )
    )


@app.command("delete")
def delete(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(help="Endpoint name.")],
    yes: YesOption = False,
) -> None:
    """Stop serving an endpoint and delete it (asks first unless --yes).

    Its configuration history stays (`endpoint history NAME`, ending in the delete);
    creating the name again continues that history.
    """
    confirm(f"delete endpoint {name}? The gateway stops serving it; its history stays.", yes)
    endpoint = state(ctx).workspace().endpoints.delete(name)
    console.print(
        f"deleted endpoint {name} (configuration {endpoint.config_version}; "
        f"`modelyard endpoint history {name}` shows its history)"
    )


def _show(endpoint: Endpoint, json_output: bool, headline: str | None) -> None:
    if json_output:
        print_json(endpoint.to_dict())
        return
    if headline:
        console.print(headline)
    config = endpoint.config
    weights = config.normalised_weights()
    rows: list[list[Any]] = [
        [v.name, v.model, "shadow" if v.shadow else f"{weights[v.name]:.1%}", v.weight]
        for v in config.variants
    ]
    console.print(
        table(
            f"{endpoint.name} (configuration {endpoint.config_version})",
            ["variant", "model", "traffic", "weight"],
            rows,
        )
    )
    console.print(
        f"capture {config.capture_percent:g}%   unexpected columns: {config.unexpected_columns}"
        f"   invoke: POST /endpoints/{endpoint.name}/invocations"
    )


@token_app.command("create")
def token_create(
    ctx: typer.Context,
    scope: Annotated[str, typer.Option("--scope", help="invoke or admin.")] = "invoke",
    name: Annotated[str, typer.Option("--name", help="What the token is for.")] = "token",
    sigv4: Annotated[
        bool,
        typer.Option(
            "--sigv4",
            help="An access key id and secret for clients that sign with AWS SigV4 "
            "(boto3 sagemaker-runtime, the SageMaker SDK) instead of a bearer token.",
        ),
    ] = False,
    json_output: Annotated[bool, _JSON] = False,
) -> None:
    """Create an API token (shown once). Once a token exists, the gateway requires one."""
    info, secret = state(ctx).workspace().endpoints.tokens.create(name, scope, sigv4=sigv4)
    if sigv4:
        if json_output:
            print_json({**info.to_dict(), "secret_access_key": secret})
            return
        console.print(f"SigV4 key {info.id} ({info.scope})")
        console.print(f"aws_access_key_id     = [bold]{info.access_key_id}[/]")
        console.print(f"aws_secret_access_key = [bold]{secret}[/]")
        console.print("[dim]the secret is shown once; any region name works[/]")
        return
    if json_output:
        print_json({**info.to_dict(), "token": secret})
        return
    console.print(f"token {info.id} ({info.scope}): [bold]{secret}[/]")
    console.print("[dim]shown once; send it as 'Authorization: Bearer TOKEN'[/]")


@token_app.command("list")
def token_list(ctx: typer.Context, json_output: Annotated[bool, _JSON] = False) -> None:
    """List tokens (never their secrets)."""
    tokens = state(ctx).workspace().endpoints.tokens.list()
    if json_output:
        print_json([t.to_dict() for t in tokens])
        return
    rows: list[list[Any]] = [
        [t.id, t.name, t.scope, t.access_key_id or f"{t.prefix}…", t.created_at] for t in tokens
    ]
    console.print(table("API tokens", ["id", "name", "scope", "starts with", "created"], rows))


@token_app.command("revoke")
def token_revoke(
    ctx: typer.Context, token_id: Annotated[int, typer.Argument(help="Token id.")]
) -> None:
    """Delete a token."""
    state(ctx).workspace().endpoints.tokens.revoke(token_id)
    console.print(f"revoked token {token_id}")
