#!/usr/bin/env python3
"""The stall the Jetty client's lazy start causes on a fresh sidecar (bench/README.md, "Lazy Jetty
start off the IO thread (s18)"). Opens N keep-alive connections to URL and warms each with plain
GETs (same-loop), then sends one POST with Expect: 100-continue on a new connection (same-loop
hands it to Jetty: the first such request starts the Jetty client) from a thread, while the main
thread keeps sending plain GETs round the N connections for DURATION seconds. Prints the Expect
request's time, and the plain requests' count, max and the number over 50 ms while the Expect
request was in flight.

  jetty-start-stall.py URL [N] [DURATION]
"""
import http.client
import sys
import threading
import time
import urllib.parse

url = urllib.parse.urlsplit(sys.argv[1])
n = int(sys.argv[2]) if len(sys.argv) > 2 else 16
duration = float(sys.argv[3]) if len(sys.argv) > 3 else 2.0


def connect():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=10)


def get(c):
    c.request("GET", url.path)
    r = c.getresponse()
    r.read()
    return r.status


conns = [connect() for _ in range(n)]
for c in conns:
    for _ in range(3):
        assert get(c) == 200

expect = {}


def send_expect():
    c = connect()
    t0 = time.monotonic()
    expect["start"] = t0
    c.request("POST", url.path, body=b"x" * 64, headers={"Expect": "100-continue"})
    r = c.getresponse()
    r.read()
    expect["end"] = time.monotonic()
    expect["status"] = r.status


t = threading.Thread(target=send_expect)
samples = []  # (sent, latency)
deadline = time.monotonic() + duration
started = False
i = 0
while time.monotonic() < deadline:
    if not started and time.monotonic() > deadline - duration + 0.2:
        t.start()
        started = True
    c = conns[i % n]
    i += 1
    t0 = time.monotonic()
    assert get(c) == 200
    samples.append((t0, time.monotonic() - t0))
t.join()
s, e = expect["start"], expect["end"]
during = [lat for sent, lat in samples if sent + lat >= s and sent <= e]
print(
    "expect_status=%d expect_ms=%.1f plain_during=%d plain_max_ms=%.1f plain_over_50ms=%d"
    " plain_all=%d plain_all_max_ms=%.1f"
    % (
        expect["status"],
        (e - s) * 1000,
        len(during),
        max(during, default=0) * 1000,
        sum(1 for lat in during if lat > 0.05),
        len(samples),
        max(lat for _, lat in samples) * 1000,
    )
)
