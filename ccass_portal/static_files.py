"""WhiteNoise, with its index of the static files made when a worker first serves one (issue 19).

WhiteNoise indexes STATIC_ROOT when the middleware is made, at worker start: about 0.7 MiB per
worker (a response object and its headers per URL). A worker behind nginx (compose), which serves
/static/ from the same folder, never serves a static file, and the pages people log on through need
none from the worker; so the index is made on the first request for a path under the static prefix,
by WhiteNoise's own code, and from then on everything is WhiteNoise's as before (docs/benchmarks.md,
"Idle RSS (issue 19, round 3)")."""

from __future__ import annotations

import threading

from whitenoise.middleware import WhiteNoiseMiddleware


class StaticFilesOnFirstUse(WhiteNoiseMiddleware):
    def __init__(self, *args, **kwargs):
        self._unindexed: list[tuple[str, str]] = []
        self._lock = threading.Lock()  # a threaded server's requests index once, and wait for it
        super().__init__(*args, **kwargs)

    def update_files_dictionary(self, root, prefix):
        # WhiteNoise's add_files calls this to index a folder (never with autorefresh, which looks
        # each file up per request). With finders (their files overwrite STATIC_ROOT's) it indexes
        # at once, to keep WhiteNoise's order; otherwise the folder waits for `_index`.
        if self.use_finders:
            return super().update_files_dictionary(root, prefix)
        self._unindexed.append((root, prefix))

    def _index(self) -> None:
        with self._lock:
            for root, prefix in self._unindexed:
                super().update_files_dictionary(root, prefix)
            self._unindexed = []

    def __call__(self, request):
        if self._unindexed and any(request.path_info.startswith(prefix) for _, prefix in self._unindexed):
            self._index()
        return super().__call__(request)
