"""The WSGI handler gunicorn runs (ccass_portal/wsgi.py), with a request class that survives
headers Django's own cannot parse, so that no request escapes Django (docs/operations.md).

Django builds the request before any middleware or error handler runs: an exception there leaves
Django altogether, and gunicorn answers its bare "Internal Server Error". A Content-Type charset
holding a NUL made codecs.lookup raise ValueError (Django expects only LookupError), and a
Content-Length that is not a number, which Django reads as 0 for the body stream but parses again,
unguarded, when the body is read (gunicorn refuses one; another server in front might not).
"""

from __future__ import annotations

from django.core.handlers.wsgi import WSGIHandler, WSGIRequest


class PortalWSGIRequest(WSGIRequest):
    def __init__(self, environ):
        length = environ.get("CONTENT_LENGTH")
        if length is not None and not str(length).isdigit():
            environ = {**environ, "CONTENT_LENGTH": "0"}  # what Django's stream already assumes
        super().__init__(environ)

    def _set_content_type_params(self, meta):
        try:
            super()._set_content_type_params(meta)
        except ValueError:
            # A charset no codec could be named by: ignored, as Django ignores an unknown one.
            pass


class PortalWSGIHandler(WSGIHandler):
    request_class = PortalWSGIRequest
