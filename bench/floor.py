"""The floor: the cheapest WSGI app, served by the same gunicorn options as the portal.

CPU per request here is what gunicorn's sync workers cost before any Django code runs
(accept, parse, one access-log line, close); bench.run reports it beside the portal's pages.
"""


def app(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", "2")])
    return [b"ok"]
