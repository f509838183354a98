"""Refuse NUL characters in the address and form fields before any view sees them.

SQLite stores them, PostgreSQL refuses them with an error (a 500 at the first query), and
no legitimate title, id, name or search ever holds one: a clear 400 for both databases.
"""

from django.http import HttpResponseBadRequest, JsonResponse

MESSAGE = "The request contains a NUL character (%00), which no field may hold."


class RejectNulCharactersMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if self._has_nul(request):
            if request.path.startswith("/api/"):
                return JsonResponse({"error": MESSAGE}, status=400)
            return HttpResponseBadRequest(MESSAGE, content_type="text/plain; charset=utf-8")
        return self.get_response(request)

    @staticmethod
    def _has_nul(request):
        if "\x00" in request.path:
            return True
        fields = [request.GET]
        if request.method == "POST" and request.content_type in (
            "application/x-www-form-urlencoded",
            "multipart/form-data",
        ):
            fields.append(request.POST)
        return any("\x00" in key or "\x00" in value for q in fields for key, value in q.items())
