import re

from django.http import Http404
from django.views.static import serve

from .services import thumbnail_dir, thumbnail_lost

NAME = re.compile(r"^[A-Za-z0-9._-]+v\d+\.webp$")
A_YEAR = 365 * 24 * 3600


def thumbnail(request, name):
    """A rendered first page. The name holds the paper version, so the file never changes:
    browsers and proxies keep it a year. (A proxy in front may serve THUMBNAIL_DIR itself.)"""
    if not NAME.match(name):
        raise Http404("no such thumbnail")
    if not (thumbnail_dir() / name).is_file():
        thumbnail_lost(name)  # a restore without the folder, another machine's disk ...
        raise Http404("no such thumbnail")
    response = serve(request, name, document_root=thumbnail_dir())  # 404s, 304s, type
    response["Cache-Control"] = f"public, max-age={A_YEAR}, immutable"
    return response
