"""WSGI application of the bare app (``DJANGO_SETTINGS_MODULE=bare.settings``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ["DJANGO_SETTINGS_MODULE"] = "bare.settings"
application = get_wsgi_application()
