"""A remote service (arXiv's API, its PDFs) played on loopback by a real HTTP server from
recorded answers, so the code under test runs its real HTTP client."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class RecordedService(ThreadingHTTPServer):
    """Answers GET from `answers` (path -> (status, body, headers)), else from
    `default(server, path)`; keeps every request as (path, User-Agent)."""

    daemon_threads = True

    def __init__(self, default):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.default = default
        self.answers = {}
        self.requests = []

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        server = self.server
        server.requests.append((self.path, self.headers.get("User-Agent", "")))
        answer = server.answers.get(self.path) or server.default(server, self.path)
        status, body, headers = answer
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass
