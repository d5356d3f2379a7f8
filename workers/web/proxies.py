"""Believing X-Forwarded-* only from our own reverse proxies.

Behind a proxy every request comes from the proxy's address over plain HTTP; the proxy
says who the client was and which scheme they used in X-Forwarded-For / -Proto / -Host.
Anyone can send those headers, so they count only when the connection itself comes from a
configured proxy (``SWITCHBOARD_TRUSTED_PROXIES``). Parsing them (several headers, chains
of proxies, the rightmost untrusted address) is aiohttp-remotes' ``XForwardedFiltered``;
this module adds the check on the connection's own address, which that class leaves out.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from aiohttp import web
from aiohttp.typedefs import Middleware
from aiohttp_remotes import XForwardedFiltered

from workers.web.errors import Handler

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def trusted_proxies_middleware(trusted: Sequence[str]) -> Middleware | None:
    if not trusted:
        return None
    networks: list[Network] = [ipaddress.ip_network(t, strict=False) for t in trusted]
    forwarded = XForwardedFiltered(set(networks))

    @web.middleware
    async def believe_our_proxies(request: web.Request,
                                  handler: Handler) -> web.StreamResponse:
        if _from(request, networks):
            return await forwarded.middleware(request, handler)
        return await handler(request)

    return believe_our_proxies


def _from(request: web.Request, networks: list[Network]) -> bool:
    peer = request.transport.get_extra_info("peername") if request.transport else None
    if not peer:
        return False
    try:
        address = ipaddress.ip_address(peer[0])
    except ValueError:  # a Unix socket: not a proxy we know
        return False
    return any(address in network for network in networks)
