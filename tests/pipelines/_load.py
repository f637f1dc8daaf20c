"""Clients calling an endpoint of a real gateway while something else happens."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx

CLIENTS = 8


def under_load(
    url: str, endpoint: str, rows: list[bytes], action: Any, settle: float = 2.0
) -> tuple[Any, list[tuple[str, str, int, str]]]:
    """Run ``action`` in a thread while clients call ``endpoint``; keep calling for
    ``settle`` seconds after it returns. Returns its result and every request's
    (configuration version, variant, status, body)."""
    log: list[tuple[str, str, int, str]] = []
    stop = asyncio.Event()

    async def client(index: int, http: httpx.AsyncClient) -> None:
        n = index
        while not stop.is_set():
            try:
                response = await http.post(
                    f"/endpoints/{endpoint}/invocations",
                    content=rows[n % len(rows)],
                    headers={"content-type": "application/json"},
                )
                log.append(
                    (
                        response.headers.get("x-modelyard-config-version", ""),
                        response.headers.get("x-modelyard-variant", ""),
                        response.status_code,
                        response.text if response.status_code != 200 else "",
                    )
                )
            except httpx.TransportError as exc:
                log.append(("", "", 0, type(exc).__name__))
            n += CLIENTS

    async def operator() -> Any:
        while len(log) < 50:  # the clients are calling
            await asyncio.sleep(0.05)
        result = await asyncio.to_thread(action)
        await asyncio.sleep(settle)  # requests after the change, too
        stop.set()
        return result

    async def run() -> Any:
        limits = httpx.Limits(max_connections=CLIENTS)
        async with httpx.AsyncClient(base_url=url, limits=limits, timeout=30) as http:
            result, *_ = await asyncio.gather(
                operator(), *(client(i, http) for i in range(CLIENTS))
            )
        return result

    return asyncio.run(run()), log
