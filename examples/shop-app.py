#!/usr/bin/env python3
"""A tiny app for the docker-compose example: stands in for front, orders or inventory.

GET /<anything>/<id> answers after calling every URL in CALLS (with {id} filled in), in parallel.
Like most apps it knows nothing about tracing: it copies no header to its calls. It calls out with
urllib, which honours HTTP_PROXY, so every call goes through its hoptrace sidecar, which links the
call to the request that caused it. It binds 127.0.0.1: only its sidecar (same network
namespace) reaches it.

Environment: NAME (service name), PORT (default 8080), CALLS (comma-separated URL templates).
"""
import concurrent.futures
import http.server
import os
import random
import time
import urllib.request

NAME = os.environ.get("NAME", "app")
PORT = int(os.environ.get("PORT", "8080"))
CALLS = [c.strip() for c in os.environ.get("CALLS", "").split(",") if c.strip()]
POOL = concurrent.futures.ThreadPoolExecutor(max_workers=16)


def fetch(url):
    with urllib.request.urlopen(url, timeout=10) as response:  # via HTTP_PROXY
        return response.read().decode("utf-8", "replace").strip()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self):
        if self.path in ("/health", "/healthz"):
            return self.answer(200, "ok")
        item = self.path.rstrip("/").rsplit("/", 1)[-1] or "0"
        time.sleep(random.uniform(0.002, 0.010))  # some work
        try:
            results = list(POOL.map(fetch, [c.replace("{id}", item) for c in CALLS]))
        except Exception as e:  # a failed call fails this request, as it would in a real app
            return self.answer(502, f"{NAME}: {e}")
        self.answer(200, f"{NAME} {item}" + "".join(f" ({r})" for r in results))

    def answer(self, status, text):
        body = (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/plain; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        pass  # hoptrace's span log is the access log


if __name__ == "__main__":
    server = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
    print(f"{NAME}: listening on 127.0.0.1:{PORT}, calls: {CALLS or 'none'}", flush=True)
    server.serve_forever()
