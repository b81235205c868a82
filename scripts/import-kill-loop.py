#!/usr/bin/env python3
"""Kill loop for bulk imports (not in CI): 20 times, start an atomic findings upload, kill the
service (SIGKILL) or the client connection part-way, restart, and check that the upload is
either all there or not there at all; then retry with the same Idempotency-Key and check it
completes exactly once.

    scripts/import-kill-loop.py [--rounds 20] [--rows 50000] [--pg postgres://…/postgres]

Needs a release build (`cargo build --release`) and PostgreSQL. Prints one line per round and a
summary; exits 1 on any partial import or failed retry.
"""
import argparse
import csv
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "kill loop password 2026"


def psql(url, sql):
    return subprocess.run(["psql", url, "-qAtc", sql], check=True, capture_output=True, text=True).stdout.strip()


def with_db(server, name):
    base, _, query = server.partition("?")
    scheme, _, rest = base.partition("://")
    return f"{scheme}://{rest.split('/')[0]}/{name}" + (f"?{query}" if query else "")


def start(binary, env, log):
    return subprocess.Popen([binary, "serve"], env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(base):
    for _ in range(300):
        try:
            with urllib.request.urlopen(f"{base}/health/ready", timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("service not ready")


def login(api):
    req = urllib.request.Request(f"{api}/auth/login", data=json.dumps({"email": "auditor@kill.gov.co", "password": PASSWORD}).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["access_token"]


def upload_raw(port, token, path, key, cut_after_bytes=None):
    """Sends the file with chunked encoding over a raw socket; optionally stops after N bytes."""
    s = socket.create_connection(("127.0.0.1", port))
    head = (f"POST /api/v1/findings/imports?mode=atomic HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
            f"Content-Type: text/csv\r\nIdempotency-Key: {key}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n")
    s.sendall(head.encode())
    sent = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(64 * 1024)
            if not block:
                break
            if cut_after_bytes is not None and sent + len(block) > cut_after_bytes:
                s.close()
                return None
            s.sendall(f"{len(block):x}\r\n".encode() + block + b"\r\n")
            sent += len(block)
    s.sendall(b"0\r\n\r\n")
    data = b""
    s.settimeout(600)
    while True:
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        data += chunk
    s.close()
    return data.split(b"\r\n", 1)[0].decode(errors="replace") if data else "no reply"


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--rounds", type=int, default=20)
    p.add_argument("--rows", type=int, default=50_000)
    p.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres:postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--binary", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.expanduser("~/.cache/mejora-target")), "release", "mejora"))
    a = p.parse_args()
    name = f"mejora_kill_{int(time.time())}"
    psql(a.pg, f"CREATE DATABASE {name}")
    db = with_db(a.pg, name)
    port = 18281
    base, api = f"http://127.0.0.1:{port}", f"http://127.0.0.1:{port}/api/v1"
    env = {"DATABASE_URL": db, "MEJORA_BIND": f"127.0.0.1:{port}", "MEJORA_BOOTSTRAP_EMAIL": "auditor@kill.gov.co",
           "MEJORA_BOOTSTRAP_PASSWORD": PASSWORD, "MEJORA_JWT_SECRET": "kill-loop-secret-kill-loop-secret-kill-loop",
           "MEJORA_ACCESS_TOKEN_TTL": "86400", "RUST_LOG": "warn", "MEJORA_LOGIN_MAX_FAILURES": "1000"}
    work = tempfile.mkdtemp(prefix="mejora-kill-")
    log = open(os.path.join(work, "service.log"), "w")
    svc = start(a.binary, env, log)
    failures = 0
    try:
        wait_ready(base)
        # The bootstrap admin also needs the auditor role to upload.
        psql(db, "UPDATE app_user SET roles = '[\"admin\",\"auditor\"]'")
        token = login(api)
        rnd = random.Random(7)
        for r in range(a.rounds):
            path = os.path.join(work, f"round{r}.csv")
            with open(path, "w", newline="") as f:
                w = csv.writer(f)
                w.writerow(["source", "report_code", "finding_code", "title", "severity"])
                for i in range(a.rows):
                    w.writerow(["internal_audit", f"KILL-{r}", f"H-{i}", f"Hallazgo {i}", "low"])
            size = os.path.getsize(path)
            kill_server = r % 2 == 0
            key = f"kill-round-{r}"
            if kill_server:
                # Send everything, kill the service while it writes.
                import threading
                t = threading.Thread(target=upload_raw, args=(port, token, path, key))
                t.start()
                time.sleep(rnd.uniform(0.2, 1.5))
                svc.send_signal(signal.SIGKILL)
                svc.wait()
                t.join(30)
                svc = start(a.binary, env, log)
                wait_ready(base)
                how = "server killed"
            else:
                upload_raw(port, token, path, key, cut_after_bytes=int(size * rnd.uniform(0.1, 0.9)))
                time.sleep(0.5)
                how = "connection cut"
            count = int(psql(db, f"SELECT count(*) FROM finding WHERE report_code = 'KILL-{r}'"))
            whole = count in (0, a.rows)
            status = upload_raw(port, token, path, key)
            after = int(psql(db, f"SELECT count(*) FROM finding WHERE report_code = 'KILL-{r}'"))
            again = upload_raw(port, token, path, key)
            final = int(psql(db, f"SELECT count(*) FROM finding WHERE report_code = 'KILL-{r}'"))
            ok = whole and after == a.rows and final == a.rows
            failures += 0 if ok else 1
            print(f"round {r + 1:2d} ({how}): after the fault {count:>6} rows ({'all or nothing' if whole else 'PARTIAL'}); "
                  f"retry: {status}; rows {after}; second retry: {again}; rows {final}; {'ok' if ok else 'FAIL'}", flush=True)
    finally:
        svc.send_signal(signal.SIGTERM)
        svc.wait(30)
        psql(a.pg, f"DROP DATABASE IF EXISTS {name}")
    print(f"{a.rounds - failures}/{a.rounds} rounds all-or-nothing with a completing retry")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
