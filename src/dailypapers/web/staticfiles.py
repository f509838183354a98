"""Static file URLs that change when the file does.

`{% static 'web/site.css' %}` gives `/static/web/site.css?v=<12 hex digits of the file's
SHA-256>`. Browsers and proxies may keep a static file for days (nginx sends `expires 7d`),
and the new URL of a changed file makes them fetch it at once; an unchanged file keeps its
URL and its cached copy. Unlike hashed file names (ManifestStaticFilesStorage) this needs no
`collectstatic` first: one-process mode serves the files straight from the package, and
WhiteNoise and nginx both ignore the query string.

The digest of a file is what the app's finders find (what WhiteNoise serves and what
`collectstatic` copies), else the collected copy; it is computed once per process (per
request when DEBUG, so an edited file shows at once). A file that cannot be read gets a
plain URL: the 500 and 503 pages render this on a failing server too.
"""

import hashlib
from functools import lru_cache

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import StaticFilesStorage
from django.core.exceptions import SuspiciousFileOperation


def _digest(path):
    sha = hashlib.sha256()
    with open(path, "rb") as file:
        for block in iter(lambda: file.read(1 << 16), b""):
            sha.update(block)
    return sha.hexdigest()[:12]


class VersionedStaticFilesStorage(StaticFilesStorage):
    def url(self, name):
        url = super().url(name)
        version = self.version(name)
        return f"{url}?v={version}" if version else url

    def version(self, name):
        if settings.DEBUG:
            return self._version(name)
        return self._cached_version(name)

    def _version(self, name):
        try:
            path = finders.find(name) or (self.path(name) if self.exists(name) else None)
            return _digest(path) if path else ""
        except (OSError, SuspiciousFileOperation):  # unreadable, or outside the static folders
            return ""

    @lru_cache(maxsize=1024)  # noqa: B019  (one storage per process: it lives as long)
    def _cached_version(self, name):
        return self._version(name)
