"""Every URL of the project, from the resolver, so a new URL is covered automatically."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver


@dataclass(frozen=True)
class Route:
    pattern: str  # e.g. "dms/profiles/<str:user_id>/"
    name: str  # e.g. "dms:profile"

    def url(self, **values) -> str:
        def fill(match):
            converter, key = match.group(1) or "str", match.group(2)
            if key in values:
                return str(values[key])
            return {"int": "1", "slug": "x", "uuid": "00000000-0000-0000-0000-000000000000", "path": "x"}.get(
                converter, "x"
            )

        return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", fill, self.pattern)

    @property
    def parameters(self) -> list[str]:
        return re.findall(r"<(?:\w+:)?(\w+)>", self.pattern)


def _walk(patterns, prefix="", namespace=""):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            yield from _walk(entry.url_patterns, prefix + str(entry.pattern), ns)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else (entry.name or "")
            yield Route(prefix + str(entry.pattern), name)


def project_routes() -> list[Route]:
    """The project's own routes, and the admin's index (the admin's model pages follow the same rule)."""
    routes = []
    for route in _walk(get_resolver().url_patterns):
        if route.pattern.startswith("admin/") and route.name not in ("admin:index", "admin:login", "admin:logout"):
            continue
        if route.pattern.startswith("^") or "(?P" in route.pattern:
            continue  # regex routes: static serving, admin internals
        routes.append(route)
    return routes
