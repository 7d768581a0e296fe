import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fairshare.settings")
application = get_wsgi_application()

# The objects loaded so far (Django, the URL patterns, the API schema: hundreds of
# thousands) live as long as the worker: move them out of the cyclic collector's view, so
# a full collection during a rush does not walk them again (a pause in some request's
# latency), and collect the young generation less often. Each gunicorn worker imports
# this module after the fork.
gc.collect()
gc.freeze()
gc.set_threshold(50_000, 20, 20)
