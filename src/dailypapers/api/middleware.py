"""HTTP methods under /api/: HEAD wherever GET is, and a JSON 405 for the others.

django-ninja routes only the methods each endpoint declares and answers any other with a
bare text/html "Method not allowed". HEAD is one of those, though RFC 9110 asks every GET
resource to answer it (curl -I, link checkers and uptime monitors send it), and an API
whose errors are JSON must not answer one in HTML.
"""

from .http import error

API = "/api/"


class ApiMethods:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(API):
            return self.get_response(request)
        head = request.method == "HEAD"
        if head:
            request.method = "GET"  # the same answer, headers and all; the body is dropped below
        response = self.get_response(request)
        if head:
            request.method = "HEAD"
            response.content = b""  # Content-Length stays the GET's, as HEAD means
        if response.status_code == 405 and "json" not in response.get("Content-Type", ""):
            response = _not_allowed(request, response.get("Allow", ""))
        return response


def _not_allowed(request, allow):
    methods = [method.strip() for method in allow.split(",") if method.strip()]
    if "GET" in methods and "HEAD" not in methods:
        methods.append("HEAD")
    allowed = ", ".join(sorted(methods))
    message = f"{request.method} is not allowed on {request.path[:200]}; use {allowed}."
    return error(405, message, headers={"Allow": allowed})
