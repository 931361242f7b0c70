"""Who is asking: the client's address, decided in this one place.

For now REMOTE_ADDR. Behind the reverse proxy this is where X-Forwarded-For will be
trusted, and only from the proxy's own address; every throttle and the audit trail
read the address from here.
"""

from __future__ import annotations


def client_address(request) -> str | None:
    if request is None:
        return None
    return request.META.get("REMOTE_ADDR") or None
