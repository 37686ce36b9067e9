import gc
import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Load the views now and move everything loaded so far out of the collector's reach: a full
# collection otherwise walks all of it, and stalled about one request in twenty by 150 ms or more.
import_module(settings.ROOT_URLCONF)
gc.freeze()
