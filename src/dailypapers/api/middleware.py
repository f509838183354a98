"""HTTP under /api/ (and /feeds/ for CORS): HEAD wherever GET is, a JSON 405 for the
other methods, and CORS.

django-ninja routes only the methods each endpoint declares and answers any other with a
bare text/html "Method not allowed". HEAD is one of those, though RFC 9110 asks every GET
resource to answer it (curl -I, link checkers and uptime monitors send it), and an API
whose errors are JSON must not answer one in HTML.
"""

from django.http import HttpResponse

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


# Read by any origin: the API (whose tokens travel in a header a browser never adds on
# its own, so no page can act as a member by reaching it) and the feeds.
SHARED_PREFIXES = (API, "/feeds/")
PREFLIGHT = {
    "Access-Control-Allow-Methods": "GET, HEAD, POST, PUT, DELETE",
    "Access-Control-Allow-Headers": "Authorization, Content-Type, If-None-Match",
    "Access-Control-Max-Age": "86400",
}
# What a page's script may read beyond the basic headers: pagination, validators, waits.
EXPOSED = "Link, ETag, Last-Modified, Retry-After"


class CrossOrigin:
    """CORS for /api/ and /feeds/: any origin may read them, without credentials.

    A web app on another site (a lab's reading list, a dashboard) can then call the API
    from the browser as huggingface.co's allows; cookies are never honoured cross-origin
    (no Allow-Credentials), so a signed-in member's session is not lent to other sites.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not request.path.startswith(SHARED_PREFIXES):
            return self.get_response(request)
        if _preflight(request):
            response = HttpResponse(status=204)
            for key, value in PREFLIGHT.items():
                response[key] = value
        else:
            response = self.get_response(request)
            response["Access-Control-Expose-Headers"] = EXPOSED
        response["Access-Control-Allow-Origin"] = "*"
        return response


def _preflight(request):
    return request.method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in request.META
