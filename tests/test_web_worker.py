"""What a web worker loads (issue 19, docs/benchmarks.md "A lighter web worker"): at rest it serves
pages, so it loads no Celery; the tasks it sends still go through the configured Celery app, and
`celery -A ccass_portal` (bin/worker, bin/beat) still finds that app with its beat schedule."""

from __future__ import annotations

import gzip
import json

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponseNotFound
from django.test import RequestFactory
from django.urls import URLResolver, get_resolver
from whitenoise.middleware import WhiteNoiseMiddleware

from ccass_portal.lazy_views import LazyView, lazy
from ccass_portal.static_files import StaticFilesOnFirstUse
from tests.test_logging import run as run_in_production


def run(code: str, tmp_path, **env) -> dict:
    """The last line `code` prints, as JSON, from a process with the production settings."""
    result = run_in_production(
        code,
        DATABASE_URL=f"sqlite:///{tmp_path / 'web.sqlite3'}",
        REDIS_URL="redis://127.0.0.1:9/0",  # never connected to here
        **env,
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_web_worker_at_rest_loads_no_celery(tmp_path):
    """gunicorn imports ccass_portal.wsgi (settings, apps, warm-up) in each worker: Celery, kombu and
    their dependencies are ~7 MiB per worker that a worker serving pages does not use."""
    loaded = run(
        "import json, sys, ccass_portal.wsgi; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))",
        tmp_path,
    )
    assert "django" in loaded and "accounts" in loaded
    assert not {"celery", "kombu", "billiard", "amqp"} & set(loaded)


def test_a_web_worker_freezes_what_it_loaded_before_serving(tmp_path):
    """After the warm-up the collector's full passes skip what lives as long as the worker: without the
    freeze a full pass walks every module's objects again (docs/benchmarks.md, "Garbage collection")."""
    counts = run(
        "import gc, json, ccass_portal.wsgi; "
        "print(json.dumps({'frozen': gc.get_freeze_count(), 'tracked': len(gc.get_objects())}))",
        tmp_path,
    )
    assert counts["frozen"] > 50_000
    assert counts["tracked"] < counts["frozen"] / 10


def test_a_task_sent_from_the_web_goes_through_the_configured_app(tmp_path):
    """Without the app loaded, a shared task would bind to Celery's default app (an AMQP broker on
    localhost): the e-mail OTP would never reach the worker."""
    app = run(
        "import json, django; django.setup(); from otp.tasks import send_email_otp; "
        "from accounts.tasks import send_change_notice; from terminal.tasks import generate_overnight_reports; "
        "print(json.dumps({t.name: [t.app.main, t.app.conf.broker_url] for t in "
        "(send_email_otp, send_change_notice, generate_overnight_reports)}))",
        tmp_path,
    )
    assert app == {
        "otp.tasks.send_email_otp": ["ccass_portal", "redis://127.0.0.1:9/0"],
        "accounts.tasks.send_change_notice": ["ccass_portal", "redis://127.0.0.1:9/0"],
        "terminal.tasks.generate_overnight_reports": ["ccass_portal", "redis://127.0.0.1:9/0"],
    }


def test_celery_dash_a_ccass_portal_finds_the_app_its_tasks_and_its_beat_schedule(tmp_path):
    """What `celery -A ccass_portal worker|beat` (bin/worker, bin/beat) resolves."""
    found = run(
        "import json; from celery.app.utils import find_app; app = find_app('ccass_portal'); "
        "app.loader.import_default_modules(); s = app.conf.beat_schedule; "
        "print(json.dumps({'main': app.main, 'tasks': sorted(t for t in app.tasks if not t.startswith('celery.')), "
        "'schedule': {k: repr(v['schedule']) for k, v in s.items()}}))",
        tmp_path,
    )
    assert found["main"] == "ccass_portal"
    assert {
        "otp.tasks.send_email_otp",
        "otp.tasks.sweep_lost_email_otps",
        "accounts.tasks.send_change_notice",
        "accounts.tasks.clear_expired_sessions",
        "accounts.tasks.sweep_keyed_attempts",
        "terminal.tasks.generate_overnight_reports",
    } <= set(found["tasks"])
    assert found["schedule"] == {
        "overnight-reports": "<crontab: 0 2 * * * (m/h/dM/MY/d)>",
        "otp-sweep-lost-email-otps": "5.0",
        "clear-expired-sessions": "<crontab: 40 * * * * (m/h/dM/MY/d)>",
        "sweep-keyed-attempts": "<crontab: 50 * * * * (m/h/dM/MY/d)>",
    }


def test_a_worker_that_served_the_pages_at_rest_loads_no_qr_code_library(tmp_path):
    """segno draws the authenticator's QR code at the first-time logon only: imported there, not
    with the URL conf (~1 MiB per worker at rest; docs/benchmarks.md "Idle RSS (issue 19, round 3)")."""
    loaded = run(
        "import json, sys, ccass_portal.wsgi\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "from django.test import Client\n"
        "client = Client(HTTP_HOST='localhost')\n"
        "pages = [client.get(p, secure=True).status_code for p in ('/', '/sso/', '/login/?service=online')]\n"
        "print(json.dumps({'pages': pages, 'segno': 'segno' in sys.modules}))",
        tmp_path,
    )
    assert set(loaded["pages"]) <= {200, 503}, loaded  # served (503: outside service hours, or no Redis)
    assert loaded["segno"] is False


STATIC_FILE = "/static/css/portal.css"


@pytest.fixture
def static_root(tmp_path, settings):
    """A STATIC_ROOT of two files, one with its gzip variant, as collectstatic leaves them."""
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "portal.css").write_text("body { color: #000; }\n" * 50)
    with gzip.open(tmp_path / "css" / "portal.css.gz", "wt") as out:
        out.write("body { color: #000; }\n" * 50)
    (tmp_path / "favicon.svg").write_text("<svg/>")
    settings.STATIC_ROOT = str(tmp_path)
    settings.STATIC_URL = "/static/"
    return tmp_path


def not_static(request):
    return HttpResponseNotFound("not a static file")


def answer(middleware, path, **headers):
    response = middleware(RequestFactory().get(path, **headers))
    body = b"".join(response) if response.streaming else response.content
    return response.status_code, sorted(response.items()), body


def test_the_portal_serves_static_files_through_the_index_made_on_first_use(settings):
    """WhiteNoise's own middleware in MIDDLEWARE would index STATIC_ROOT in every worker at start."""
    assert "ccass_portal.static_files.StaticFilesOnFirstUse" in settings.MIDDLEWARE
    assert "whitenoise.middleware.WhiteNoiseMiddleware" not in settings.MIDDLEWARE


def test_a_worker_indexes_static_files_only_when_it_first_serves_one(static_root):
    on_first_use = StaticFilesOnFirstUse(not_static)
    assert on_first_use.files == {}
    assert answer(on_first_use, "/login/")[0] == 404  # a page: passed on, nothing indexed
    assert on_first_use.files == {}

    stock = WhiteNoiseMiddleware(not_static)
    # The first static request indexes, and every answer is WhiteNoise's own, byte for byte.
    for path, headers in [
        (STATIC_FILE, {}),
        (STATIC_FILE, {"HTTP_ACCEPT_ENCODING": "gzip"}),
        ("/static/favicon.svg", {}),
        ("/static/missing.css", {}),
    ]:
        assert answer(on_first_use, path, **headers) == answer(stock, path, **headers), path
    assert on_first_use.files.keys() == stock.files.keys() == {STATIC_FILE, "/static/favicon.svg"}


def test_a_worker_serves_the_hashed_static_files_as_whitenoise_does(tmp_path):
    """With the production settings (manifest storage): the landing page's hashed stylesheet, served by
    the worker on first use with WhiteNoise's headers for a file that never changes."""
    served = run(
        "import json, re, ccass_portal.wsgi\n"
        "from django.core.management import call_command\n"
        "call_command('migrate', verbosity=0)\n"
        "call_command('collectstatic', interactive=False, verbosity=0)  # as bin/release does\n"
        "from django.test import Client\n"
        "client = Client(HTTP_HOST='localhost')\n"
        "page = client.get('/', secure=True).content.decode()\n"
        'css = re.search(r\'href="(/static/[^"]+[.][0-9a-f]{12}[.]css)"\', page).group(1)\n'
        "response = client.get(css, secure=True)\n"
        "print(json.dumps({'status': response.status_code, 'cache': response['Cache-Control'], "
        "'type': response['Content-Type']}))",
        tmp_path,
    )
    assert served == {
        "status": 200,
        "cache": "max-age=315360000, public, immutable",
        "type": 'text/css; charset="utf-8"',
    }


def test_dms_and_back_office_views_load_when_a_request_first_reaches_them(tmp_path):
    """A worker that has served the Terminal's pages (which reverse DMS's and the back-office's names)
    has not loaded their views; the first request to a DMS page does (ccass_portal/lazy_views.py)."""
    loaded = run(
        "import io, json, sys, ccass_portal.wsgi as w\n"
        "from wsgiref.util import setup_testing_defaults\n"
        "def get(path):\n"
        "    p, _, q = path.partition('?'); env = {'PATH_INFO': p, 'QUERY_STRING': q, 'wsgi.input': io.BytesIO(), 'wsgi.url_scheme': 'https'}\n"
        "    setup_testing_defaults(env); status = []\n"
        "    body = w.application(env, lambda s, h, e=None: status.append(s)); b''.join(body); body.close()\n"
        "    return status[0][:3]\n"
        "views = ('dms.views', 'dms.profile_views', 'dms.backoffice_views', 'dms.services', 'demo.views')\n"
        "served = [get(p) for p in ('/', '/login/?service=online', '/dms/login/')]\n"
        "before = [m for m in views if m in sys.modules]\n"
        "dms = get('/dms/')\n"
        "print(json.dumps({'served': served, 'before': before, 'dms': dms, "
        "'after': [m for m in views if m in sys.modules]}))",
        tmp_path,
        PORTAL_ENFORCE_SERVICE_HOURS="false",  # the pages themselves, whatever the hour of the run
    )
    assert loaded["served"] == ["200", "200", "200"]
    assert loaded["before"] == []
    assert "dms.views" in loaded["after"] and "dms.backoffice_views" not in loaded["after"]


def test_every_lazy_view_in_the_url_map_is_a_sync_function_view():
    """A mistyped path, a class-based or an async view fails here, not on a worker's first request to it."""
    lazy_views = []

    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns)
            elif isinstance(pattern.callback, LazyView):
                lazy_views.append(pattern.callback)

    walk(get_resolver().url_patterns)
    assert len(lazy_views) > 20  # DMS's, the back-office's and the demo's pages
    for view in lazy_views:
        assert callable(view._load()), view


def test_a_lazy_view_is_its_view_once_reached():
    """Called, it answers as the view; its decorators' marks reach the middleware; a class-based view,
    whose `view_class` Django reads while building the URL map, is refused."""
    view = lazy("tests.lazy_view_targets.exempt")
    assert not hasattr(view, "view_class")
    assert view.csrf_exempt is True
    assert view(RequestFactory().get("/"), value="7").content == b"exempt 7"
    with pytest.raises(ImproperlyConfigured):
        lazy("tests.lazy_view_targets.class_based")(RequestFactory().get("/"))
    with pytest.raises(ImproperlyConfigured):
        lazy("tests.lazy_view_targets.asynchronous")(RequestFactory().get("/"))
