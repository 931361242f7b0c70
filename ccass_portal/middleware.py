"""Request-wide middleware of the portal."""

from functools import lru_cache

from csp.constants import HEADER, HEADER_REPORT_ONLY
from csp.middleware import CheckableLazyObject, CSPMiddleware
from csp.utils import build_policy
from django.conf import settings
from django.core.signals import setting_changed

from . import clock


class DemoClockMiddleware:
    """In demo mode, one simulated time per request: the offset is read once, at the first
    `clock.now()`, so a move made in any worker holds in every worker from the next request
    (ccass_portal/clock.py). Outside demo mode it does nothing."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not settings.PORTAL_DEMO:
            return self.get_response(request)
        with clock.demo_offset_scope():
            return self.get_response(request)


# django-csp's per-response settings; a response or request with any of them takes django-csp's path.
_PER_RESPONSE = (
    "_csp_exempt",
    "_csp_exempt_ro",
    "_csp_config",
    "_csp_update",
    "_csp_replace",
    "_csp_config_ro",
    "_csp_update_ro",
    "_csp_replace_ro",
)


@lru_cache(maxsize=2)
def _policy(report_only: bool) -> str:
    return build_policy(report_only=report_only)


def _forget_policy(*, setting, **kwargs) -> None:
    if setting.startswith("CONTENT_SECURITY_POLICY"):
        _policy.cache_clear()


setting_changed.connect(_forget_policy)


class ContentSecurityPolicyMiddleware(CSPMiddleware):
    """django-csp, with the policy built once per worker (issue 19): no page of the portal uses a
    nonce or changes the policy, so every answer carries the same header (docs/security.md, check 29)."""

    def process_response(self, request, response):
        nonce_used = getattr(request, "_csp_nonce", None) is not None
        if nonce_used or any(hasattr(response, name) for name in _PER_RESPONSE) or _excluded_prefixes():
            return super().process_response(request, response)
        if response.status_code in (500, 404) and settings.DEBUG:
            return response  # django-csp leaves the debug pages alone
        for header, report_only in ((HEADER, False), (HEADER_REPORT_ONLY, True)):
            policy = _policy(report_only)
            if policy and header not in response:
                response[header] = policy
        request.csp_nonce = CheckableLazyObject(self._csp_nonce_post_response)  # as django-csp: too late now
        return response


def _excluded_prefixes() -> bool:
    return any(
        (getattr(settings, name, None) or {}).get("EXCLUDE_URL_PREFIXES")
        for name in ("CONTENT_SECURITY_POLICY", "CONTENT_SECURITY_POLICY_REPORT_ONLY")
    )
