import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "dailypapers.settings")
application = get_wsgi_application()

# Import every view (and what they import: scikit-learn, numpy, tantivy) as the server
# process starts, not on its first request: that request took 4 s.
get_resolver().resolve("/")
