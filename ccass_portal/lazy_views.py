"""Views whose module is imported when a request first reaches one of them (issue 19).

A worker builds its whole URL map on its first request (`{% url %}` and `reverse()` need every
portal's names). With the views named by their dotted path, DMS's and the back-office's view
modules (their forms, selectors, services and exports: 0.6 MiB per worker) load only once a worker
serves a DMS or back-office page, not because a participant's staff logged on to the Terminal
(docs/benchmarks.md, "Idle RSS").

Sync function views only: Django asks a URL pattern's callback for `view_class` while it builds the
map (a class-based view has one), and it calls an async view only if the callback itself is a
coroutine function. Both are refused when the view is loaded; `tests/test_web_worker.py` loads every
lazy view of the URL map, so a mistyped path fails the tests, not a first request.
"""

from importlib import import_module
from inspect import iscoroutinefunction

from django.core.exceptions import ImproperlyConfigured


class LazyView:
    """The function view at `dotted_path`, imported on first use; then it is that view."""

    def __init__(self, dotted_path: str):
        module, _, name = dotted_path.rpartition(".")
        # Django's URL map and ResolverMatch name a view by these, without calling it.
        self.__module__, self.__name__, self.__qualname__ = module, name, name
        self._view = None

    def _load(self):
        if self._view is None:
            view = getattr(import_module(self.__module__), self.__name__)
            if hasattr(view, "view_class") or iscoroutinefunction(view):
                raise ImproperlyConfigured(
                    f"{self.__module__}.{self.__name__}: LazyView takes sync function views only."
                )
            self._view = view
        return self._view

    def __call__(self, request, *args, **kwargs):
        return self._load()(request, *args, **kwargs)

    def __getattr__(self, attribute):
        # Only for what the instance does not have: what a decorator set on the view (csrf_exempt, ...),
        # asked by the middleware once a request reaches it. `view_class` is asked while the URL map is
        # built: a function view has none, and answering so keeps the import for the first request.
        if attribute == "view_class" or attribute.startswith("__"):
            raise AttributeError(attribute)
        return getattr(self._load(), attribute)

    def __repr__(self):
        return f"<LazyView {self.__module__}.{self.__name__}>"


lazy = LazyView  # the URL files' name for it: path("create/", lazy("dms.profile_views.create"))
