#!/usr/bin/env python3
"""Event throughput benchmark (see bench/events.sh). Standard library only.

Starts the service on a fresh PostgreSQL database with the webhook dispatcher on, subscribes a
local receiver (a threaded http.server on 127.0.0.1) to `finding.created`, then
  1. creates findings with POST /findings from several client threads (events written/s),
  2. uploads a CSV of findings (one event per row, written in the upload's batches),
and waits until every event reached the receiver. Prints events written and delivered per
second and the delay from the event's timestamp (taken inside the committing transaction) to
its arrival at the receiver: p50, p99, max.
"""
import argparse
import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
_imp = importlib.import_module("import")  # bench/import.py: the same helpers and CSV
http, psql, with_db, write_csv = _imp.http, _imp.psql, _imp.with_db, _imp.write_csv

EMAIL = "admin@bench.gov.co"
PASSWORD = "benchmark password 2026"

arrivals = {}
lock = threading.Lock()


class Receiver(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("content-length", 0)))
        now = time.time()
        msg = json.loads(body)
        sent = datetime.fromisoformat(msg["timestamp"].replace("Z", "+00:00")).timestamp()
        with lock:
            arrivals.setdefault(self.headers["webhook-id"], (now, sent))
        self.send_response(204)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def wait_for(n, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        with lock:
            if len(arrivals) >= n:
                return True
        time.sleep(0.02)
    return False


def report(label, expected, started, written_at):
    ok = wait_for(expected, 600)
    with lock:
        got = list(arrivals.values())
    delays = [(a - s) * 1000 for a, s in got]
    last = max(a for a, _ in got)
    print(f"{label}: {expected} events written in {written_at - started:.2f} s "
          f"({expected / (written_at - started):,.0f}/s); delivered {len(got)} in {last - started:.2f} s "
          f"({len(got) / (last - started):,.0f}/s); commit→delivery p50 {pct(delays, 50):.0f} ms, "
          f"p99 {pct(delays, 99):.0f} ms, max {max(delays):.0f} ms{'' if ok else ' (TIMED OUT)'}", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres:postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--binary", required=True)
    p.add_argument("--port", type=int, default=18192)
    p.add_argument("--findings", type=int, default=2000)
    p.add_argument("--clients", type=int, default=8)
    p.add_argument("--rows", type=int, default=20000)
    a = p.parse_args()

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    hook_url = f"http://127.0.0.1:{receiver.server_address[1]}/hook"

    dbname = f"mejora_events_bench_{int(time.time())}"
    psql(a.pg, f"CREATE DATABASE {dbname}")
    work = tempfile.mkdtemp(prefix="mejora-events-bench-")
    base = f"http://127.0.0.1:{a.port}"
    env = {**os.environ, "DATABASE_URL": with_db(a.pg, dbname), "MEJORA_BIND": f"127.0.0.1:{a.port}",
           "MEJORA_BOOTSTRAP_EMAIL": EMAIL, "MEJORA_BOOTSTRAP_PASSWORD": PASSWORD,
           "MEJORA_JWT_SECRET": "bench-secret-bench-secret-bench-secret-0123", "MEJORA_ACCESS_TOKEN_TTL": "86400",
           "MEJORA_RATE_LIMITS": "off", "MEJORA_METRICS_BIND": "off", "RUST_LOG": "warn",
           "MEJORA_STORAGE_URL": f"file://{work}/files", "MEJORA_WEBHOOK_ALLOW_HOSTS": "127.0.0.1/32",
           "MEJORA_WEBHOOK_ALLOW_HTTP": "true", "MEJORA_WEBHOOK_DISPATCH_INTERVAL": "50"}
    log = open(os.path.join(work, "service.log"), "w")
    service = subprocess.Popen([a.binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                               cwd=work, start_new_session=True)
    try:
        for _ in range(600):
            try:
                if http("GET", f"{base}/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        status, body = http("POST", f"{base}/api/v1/auth/login", body={"email": EMAIL, "password": PASSWORD})
        assert status == 200, body
        token = body["access_token"]
        status, body = http("POST", f"{base}/api/v1/webhooks", token, {"url": hook_url, "event_types": ["finding.created"]})
        assert status == 201, body
        status, body = http("POST", f"{base}/api/v1/users", token, {
            "email": "auditor@bench.gov.co", "display_name": "Auditor", "password": PASSWORD, "roles": ["auditor"]})
        assert status == 201, body
        status, body = http("POST", f"{base}/api/v1/auth/login", body={"email": "auditor@bench.gov.co", "password": PASSWORD})
        token = body["access_token"]

        def create(i):
            s, b = http("POST", f"{base}/api/v1/findings", token, {
                "source": "internal_audit", "report_code": "BENCH", "finding_code": f"E-{i}", "title": f"Hallazgo {i}"})
            assert s == 201, b

        started = time.time()
        with ThreadPoolExecutor(a.clients) as pool:
            list(pool.map(create, range(a.findings)))
        report(f"POST /findings × {a.findings} ({a.clients} clients)", a.findings, started, time.time())

        with lock:
            arrivals.clear()
        path = os.path.join(work, "findings.csv")
        write_csv(path, a.rows, "EV")
        with open(path, "rb") as f:
            data = f.read()
        req = urllib.request.Request(f"{base}/api/v1/findings/imports", data=data, method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "text/csv"})
        started = time.time()
        with urllib.request.urlopen(req, timeout=600) as res:
            assert res.status == 201
        report(f"CSV upload of {a.rows} rows", a.rows, started, time.time())
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(timeout=60)
        receiver.shutdown()
        psql(a.pg, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


if __name__ == "__main__":
    main()
