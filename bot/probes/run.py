"""The bot's own checks of a sensor, whatever its driver: the console and the TMSP servers.

Every probe has ``timeout`` seconds; a step that fails ends that target's chain, so a target
takes at most a few timeouts (DNS, TCP, TLS, and the console's trust check), and targets are
probed concurrently. Nothing here raises for network trouble: every failure is a result.
Bad input (an address or pin the inventory should have refused) raises ``ValueError``.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.probes.cert import certificate_info
from bot.probes.model import (
    DEFAULT_CONSOLE_PORT,
    ConsoleReport,
    Endpoint,
    Failure,
    ProbeKind,
    ProbeReport,
    ProbeResult,
    ServerReport,
    normalise_fingerprint,
    parse_endpoint,
)
from bot.probes.steps import (
    Link,
    Resolver,
    check_trust,
    connect,
    error_text,
    handshake,
    read_banner,
    resolve,
    server_context,
    system_resolver,
    unverified_context,
)

DEFAULT_TIMEOUT = 5.0
PLAIN_PORTS = frozenset({22})  # TMSP servers reached by SSH, not TLS (historically a log server)


def _endpoint(value: str | Endpoint, default_port: int | None) -> Endpoint:
    return (
        value if isinstance(value, Endpoint) else parse_endpoint(value, default_port=default_port)
    )


async def probe_console(
    console: str | Endpoint,
    *,
    pin: str | None = None,
    ca_file: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - per probe, not for the whole call
    resolver: Resolver = system_resolver,
    now: datetime | None = None,
    handshakes: asyncio.Semaphore | None = None,
) -> ConsoleReport:
    """DNS, TCP and TLS to the console; the certificate, its pin and whether it is trusted.

    The handshake accepts any certificate, to show it; trust is decided by a second, verifying
    handshake against ``ca_file`` (or the system trust store when it is None). ``handshakes``
    bounds the TLS work running at once (a sweep of hundreds of consoles: the handshakes run
    in the event loop's thread).
    """
    endpoint = _endpoint(console, DEFAULT_CONSOLE_PORT)
    pinned = normalise_fingerprint(pin) if pin else None
    probes: list[ProbeResult] = []

    def report() -> ConsoleReport:  # without a certificate: the chain stopped before TLS
        return ConsoleReport(str(endpoint), tuple(probes), None)

    dns, addresses = await resolve(endpoint, timeout, resolver)
    if dns is not None:
        probes.append(dns)
    if not addresses:
        return report()
    tcp, link = await connect(addresses, endpoint.port, timeout)
    probes.append(tcp)
    if link is None:
        return report()
    async with _gate(handshakes):
        try:
            tls, der = await handshake(link, unverified_context(), endpoint, timeout)
        finally:
            await link.close()
        probes.append(tls)
        if der is None:
            return report()
        info = certificate_info(der, pinned=pinned, now=now or datetime.now(UTC))
        trust = await check_trust(
            link.address, endpoint, ca_file=ca_file, seen_der=der, seconds=timeout
        )
    return ConsoleReport(str(endpoint), tuple(probes), replace(info, verification=trust))


def _gate(handshakes: asyncio.Semaphore | None) -> contextlib.AbstractAsyncContextManager[Any]:
    return handshakes if handshakes is not None else contextlib.nullcontext()


async def probe_server(
    server: str | Endpoint,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - per probe, not for the whole call
    plain_ports: frozenset[int] = PLAIN_PORTS,
    ca_file: str | None = None,
    resolver: Resolver = system_resolver,
    banner: bool = True,
    handshakes: asyncio.Semaphore | None = None,
) -> ServerReport:
    """DNS, TCP, then a verifying TLS handshake, or on a plain port the banner the server sends
    (``banner=False``: a plain port that accepts is enough; an HTTP proxy sends no banner, and
    waiting for one costs the whole timeout). ``handshakes``: as for ``probe_console``."""
    endpoint = _endpoint(server, None)
    probes: list[ProbeResult] = []
    dns, addresses = await resolve(endpoint, timeout, resolver)
    if dns is not None:
        probes.append(dns)
    if addresses:
        tcp, link = await connect(addresses, endpoint.port, timeout)
        probes.append(tcp)
        if link is not None:
            try:
                if endpoint.port not in plain_ports:
                    async with _gate(handshakes):
                        probes.append(await _verified(link, endpoint, timeout, ca_file))
                elif banner:
                    probes.append(await read_banner(link, str(endpoint), timeout))
            finally:
                await link.close()
    return ServerReport(str(endpoint), tuple(probes))


async def _verified(
    link: Link, endpoint: Endpoint, seconds: float, ca_file: str | None
) -> ProbeResult:
    """A verifying TLS handshake over ``link``."""
    try:
        context = server_context(ca_file)
    except (OSError, ValueError) as exc:  # the CA file: missing, unreadable, not PEM
        return ProbeResult.failed(
            ProbeKind.TLS,
            str(endpoint),
            Failure.TLS_FAILED,
            f"cannot load the CA file: {error_text(exc)}",
        )
    result, _ = await handshake(link, context, endpoint, seconds)
    return result


async def probe_tmsp(
    servers: Iterable[str | Endpoint],
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - per probe, not for the whole call
    plain_ports: frozenset[int] = PLAIN_PORTS,
    ca_file: str | None = None,
    resolver: Resolver = system_resolver,
) -> tuple[ServerReport, ...]:
    """Every TMSP server at once, in the order given."""
    endpoints = [_endpoint(s, None) for s in servers]  # bad input raises before any probing
    return tuple(
        await asyncio.gather(
            *(
                probe_server(
                    e, timeout=timeout, plain_ports=plain_ports, ca_file=ca_file, resolver=resolver
                )
                for e in endpoints
            )
        )
    )


async def probe_all(
    console: str | Endpoint | None,
    tmsp_servers: Iterable[str | Endpoint] = (),
    *,
    pin: str | None = None,
    ca_file: str | None = None,
    tmsp_ca_file: str | None = None,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - per probe, not for the whole call
    plain_ports: frozenset[int] = PLAIN_PORTS,
    resolver: Resolver = system_resolver,
    now: datetime | None = None,
) -> ProbeReport:
    """The console and every TMSP server, concurrently. ``console=None``: nothing to probe there.

    ``pin`` and ``ca_file`` are the console's (inventory ``tls_fingerprint``, ``tls_ca_file``);
    ``tmsp_ca_file`` adds a CA to the system store for the TMSP servers (a TLS-inspecting proxy).
    """
    # bad input raises here, before any coroutine exists
    servers = [_endpoint(s, None) for s in tmsp_servers]
    endpoint = _endpoint(console, DEFAULT_CONSOLE_PORT) if console is not None else None
    pinned = normalise_fingerprint(pin) if pin else None
    console_task = (
        probe_console(
            endpoint, pin=pinned, ca_file=ca_file, timeout=timeout, resolver=resolver, now=now
        )
        if endpoint is not None
        else None
    )
    tmsp_task = probe_tmsp(
        servers, timeout=timeout, plain_ports=plain_ports, ca_file=tmsp_ca_file, resolver=resolver
    )
    if console_task is None:
        return ProbeReport(None, await tmsp_task)
    console_report, tmsp = await asyncio.gather(console_task, tmsp_task)
    return ProbeReport(console_report, tmsp)


async def console_answers(
    console: str | Endpoint,
    *,
    timeout: float = DEFAULT_TIMEOUT,  # noqa: ASYNC109 - kept beside the other probes' name
    resolver: Resolver = system_resolver,
) -> bool:
    """True once the console completes TCP and a TLS handshake (any certificate) in ``timeout``.

    For watching a rebooting sensor come back; the whole attempt takes at most ``timeout``.
    """
    endpoint = _endpoint(console, DEFAULT_CONSOLE_PORT)
    try:
        async with asyncio.timeout(timeout):
            _, addresses = await resolve(endpoint, timeout, resolver)
            for address in addresses:
                _, link = await connect([address], endpoint.port, timeout)
                if link is None:
                    continue
                try:
                    tls, _ = await handshake(link, unverified_context(), endpoint, timeout)
                finally:
                    await link.close()
                if tls.ok:
                    return True
    except TimeoutError:
        pass
    return False
