import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ccass_portal.settings")
django.setup(set_prefix=False)  # as django.core.wsgi.get_wsgi_application does

from ccass_portal.http import PortalWSGIHandler  # noqa: E402  (after django.setup())

# Django's handler with a request class that survives malformed headers (ccass_portal/http.py).
application = PortalWSGIHandler()

from ccass_portal.warmup import warm_up  # noqa: E402  (needs the settings loaded above)

warm_up()
