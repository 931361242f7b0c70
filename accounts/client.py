"""The client's address, as the audit trail records it (docs/security.md, "Reverse proxy").

Behind nginx (deploy/nginx/) every request comes from the proxy; nginx appends the address
it saw to X-Forwarded-For. That header is anyone's to write, so it is believed only when the
request comes from a configured proxy (PORTAL_TRUSTED_PROXIES), and then read from the right:
the first address that is not one of our proxies is the client (the leftmost if all are).
Otherwise REMOTE_ADDR.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.conf import settings


@lru_cache(maxsize=8)
def _networks(trusted: tuple[str, ...]) -> tuple:
    return tuple(ipaddress.ip_network(entry.strip(), strict=False) for entry in trusted if entry.strip())


def _address(value: str):
    try:
        return ipaddress.ip_address(value.strip())
    except ValueError:
        return None


def is_trusted_proxy(address, networks) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(request) -> str | None:
    if request is None:
        return None
    remote = request.META.get("REMOTE_ADDR") or None
    networks = _networks(tuple(settings.PORTAL_TRUSTED_PROXIES))
    if not networks or not is_trusted_proxy(_address(remote or ""), networks):
        return remote
    # nginx sends both; X-Real-IP alone would be one hop (a proxy configured without the list).
    hops = [h for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if h.strip()]
    hops = hops or [request.META.get("HTTP_X_REAL_IP", "")]
    believed = None
    for hop in reversed(hops):
        address = _address(hop)
        if address is None:  # a garbled entry: nothing left of it can be believed
            break
        believed = address
        if not is_trusted_proxy(address, networks):
            break
    return str(believed) if believed is not None else remote
