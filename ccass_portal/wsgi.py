import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccass_portal.settings")
application = get_wsgi_application()

from ccass_portal.warmup import warm_up  # noqa: E402  (needs the settings loaded above)

warm_up()
