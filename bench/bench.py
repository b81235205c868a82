#!/usr/bin/env python3
"""Benchmark driver for mejora (see bench/run.sh). Standard library only.

Every figure is reported next to a ceiling measured in the same run:
- reads against bench/ceiling (actix-web + sqlx serving the same SQL and JSON, no auth);
- bulk import against PostgreSQL COPY of the same rows into a plain table.
"""
import argparse
import base64
import csv
import datetime
import json
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PASSWORD = "benchmark password 2026"
EMAIL = "admin@bench.gov.co"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


def psql(url, sql, capture=True):
    out = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                         capture_output=capture, text=True)
    return out.stdout.strip() if capture else ""


class Db:
    """The bench's own SQL on the service's database: psql for PostgreSQL, the standard
    library's sqlite3 for SQLite (whose UUIDs are 16-byte blobs, read back as text here)."""

    def __init__(self, url):
        self.url = url
        self.sqlite = url.startswith("sqlite:")

    def query(self, sql):
        if not self.sqlite:
            return psql(self.url, sql)
        import sqlite3
        path = self.url.split("://", 1)[1].split("?")[0]
        con = sqlite3.connect(path, timeout=60)
        try:
            rows = con.execute(sql).fetchall()
            con.commit()
        finally:
            con.close()
        def text(v):
            return str(uuid.UUID(bytes=v)) if isinstance(v, bytes) and len(v) == 16 else str(v)
        return "\n".join("|".join(text(v) for v in row) for row in rows)


def with_db(server, name):
    base, _, query = server.partition("?")
    scheme, _, rest = base.partition("://")
    hostpart = rest.split("/")[0]
    return f"{scheme}://{hostpart}/{name}" + (f"?{query}" if query else "")


class Rss:
    """Reads a process's resident set and resets its high-water mark per phase."""

    def __init__(self, pid):
        self.pid = pid

    def _field(self, name):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) / 1024.0
        return 0.0

    def now_mb(self):
        return self._field("VmRSS")

    def reset_peak(self):
        try:
            with open(f"/proc/{self.pid}/clear_refs", "w") as f:
                f.write("5")
        except OSError:
            pass

    def peak_mb(self):
        return self._field("VmHWM")


def http(method, url, token=None, body=None, content_type="application/json", timeout=3600):
    data = None
    headers = {}
    if body is not None:
        data = body if isinstance(body, (bytes, bytearray)) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as res:
            raw = res.read()
            try:
                return res.status, (json.loads(raw) if raw else None)
            except ValueError:
                return res.status, raw.decode(errors="replace")
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw)
        except ValueError:
            return e.code, raw.decode(errors="replace")


def upload_file(url, token, path, content_type="text/csv"):
    """Streams a file as the request body (chunked), like a script would."""
    def chunks():
        with open(path, "rb") as f:
            while True:
                block = f.read(1 << 20)
                if not block:
                    return
                yield block
    req = urllib.request.Request(url, data=chunks(), method="POST", headers={
        "Content-Type": content_type, "Authorization": f"Bearer {token}", "Transfer-Encoding": "chunked"})
    try:
        with urllib.request.urlopen(req, timeout=3600) as res:
            return res.status, json.loads(res.read())
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


SOURCES = ["internal_audit", "comptroller", "certification_audit", "independent_review", "self_assessment"]
SEVERITIES = ["critical", "high", "medium", "low", "info"]
CLASSES = ["major_nonconformity", "minor_nonconformity", "observation", "improvement_opportunity"]
HEADER = ["source", "auditor", "report_code", "report_date", "fiscal_year", "finding_code", "title",
          "condition", "criterion", "cause", "effect", "classification", "severity", "status", "requirements"]


def write_findings_csv(path, rows, prefix):
    rnd = random.Random(42)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        for i in range(rows):
            report = f"{prefix}-{i // 1000:05d}"
            w.writerow([
                SOURCES[i % len(SOURCES)], "Oficina de Control Interno", report, "2025-03-31", 2024,
                f"H-{i % 1000:04d}",
                f"Hallazgo {i}: control de acceso sin revisión periódica",
                "No se evidencian revisiones trimestrales de los privilegios de los usuarios del sistema financiero.",
                "ISO/IEC 27001:2022 A.5.18 Derechos de acceso",
                "Falta de procedimiento formal", "Riesgo de accesos no autorizados",
                CLASSES[rnd.randrange(len(CLASSES))], SEVERITIES[rnd.randrange(len(SEVERITIES))], "open",
                "5.15|5.18"])


def wrk(url, token, script, connections, duration, warmup):
    # Every run (warm-up included) and every wrk thread writes its own keys: `RUN` is fresh per
    # call and `setup` numbers the threads (their Lua states otherwise replay one sequence).
    lua = """
local threads = 0
setup = function(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
""" + script + """
done = function(summary, latency, requests)
  io.write(string.format("\\nRESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
"""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
        path = f.name
    base = ["wrk", "-t2", f"-c{connections}", "-s", path, "--timeout", "10s"]
    if token:
        base += ["-H", f"Authorization: Bearer {token}"]
    def run(seconds):
        with open(path, "w") as f:
            f.write(lua.replace("__RUN__", uuid.uuid4().hex[:12]))
        return subprocess.run(base + [f"-d{seconds}s", url], capture_output=True, text=True).stdout
    if warmup > 0:
        run(warmup)
    out = run(duration)
    os.unlink(path)
    for line in out.splitlines():
        if line.startswith("RESULT"):
            n, dur_us, p50, p99, errors = map(int, line.split()[1:])
            return {"rps": n / (dur_us / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000, "errors": errors}
    raise RuntimeError(f"wrk gave no result:\n{out}")


def start(cmd, env, log_path):
    logf = open(log_path, "w")
    proc = subprocess.Popen(cmd, env={**os.environ, **env}, stdout=logf, stderr=subprocess.STDOUT,
                            cwd=tempfile.gettempdir(), start_new_session=True)
    return proc


def wait_ready(url, seconds=120):
    deadline = time.time() + seconds
    while time.time() < deadline:
        try:
            status, _ = http("GET", url, timeout=2)
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{url} never became ready")


def stop(proc):
    if proc and proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def cursor_for(last_id):
    return base64.urlsafe_b64encode(json.dumps({"id": last_id}).encode()).decode().rstrip("=")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--quick", action="store_true", help="seconds-scale smoke run")
    p.add_argument("--findings", type=int, default=None, help="rows of the large import (default 1,000,000)")
    p.add_argument("--small", type=int, default=None, help="rows of the small import (default 100,000)")
    p.add_argument("--plans", type=int, default=None)
    p.add_argument("--actions", type=int, default=None)
    p.add_argument("--duration", type=int, default=None, help="seconds per load run (default 15)")
    p.add_argument("--warmup", type=int, default=None)
    p.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres:postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--bin-dir", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release"),
                   help="where the release mejora and mejora-ceiling binaries are")
    p.add_argument("--out", default=os.path.join(ROOT, "bench", "RESULTS.md"))
    p.add_argument("--db", choices=["postgres", "sqlite"], default="postgres",
                   help="backend of the service (sqlite: a file in the work directory, the default configuration)")
    p.add_argument("--only", default="import,reads,writes,reports,mixed",
                   help="comma-separated scenario groups: import, reads, writes, reports, mixed (reads during an import)")
    p.add_argument("--env", action="append", default=[], help="extra NAME=VALUE for the service (A/B runs)")
    p.add_argument("--label", default="", help="a label for this run in the results heading")
    p.add_argument("--append", action="store_true", help="append the results as a section of --out instead of rewriting it")
    a = p.parse_args()
    only = set(a.only.split(","))
    sqlite = a.db == "sqlite"
    q = a.quick
    big = a.findings or (20_000 if q else 1_000_000)
    small = a.small or (5_000 if q else 100_000)
    plans = a.plans or (3 if q else 50)
    actions = a.actions if a.actions is not None else (60 if q else 20_000)
    duration = a.duration or (2 if q else 15)
    warmup = a.warmup if a.warmup is not None else (1 if q else 5)
    # The deep page lies inside the data: page 20,000 of 1.1 M findings, or half way down smaller sets.
    deep_pages = 20 if q else min(20_000, (big + small) // 100)
    out_path = a.out if not q else os.path.join(tempfile.gettempdir(), "mejora-bench-quick.md")

    dbname = f"mejora_bench_{int(time.time())}"
    work = tempfile.mkdtemp(prefix="mejora-bench-")
    if sqlite:
        db = f"sqlite://{work}/bench.db?mode=rwc"
    else:
        # Only this run's own database is dropped: other checkouts may be benchmarking too.
        psql(a.pg, f"CREATE DATABASE {dbname}")
        db = with_db(a.pg, dbname)
    sql = Db(db)
    load_start = f"{os.getloadavg()[0]:.1f}"
    port, ceiling_port, metrics_port = 18181, 18182, 18183
    base = f"http://127.0.0.1:{port}"
    api = f"{base}/api/v1"
    env = {"DATABASE_URL": db, "MEJORA_BIND": f"127.0.0.1:{port}", "MEJORA_BOOTSTRAP_EMAIL": EMAIL,
           "MEJORA_BOOTSTRAP_PASSWORD": PASSWORD, "MEJORA_JWT_SECRET": "bench-secret-bench-secret-bench-secret-0123",
           "MEJORA_ACCESS_TOKEN_TTL": "86400", "MEJORA_IMPORT_LIMIT": "4G", "MEJORA_DB_MAX_CONNECTIONS": "10",
           "MEJORA_LOGIN_MAX_FAILURES": "1000", "RUST_LOG": "warn", "MEJORA_STORAGE_URL": f"file://{work}/files",
           # One token drives thousands of requests a second: the fair-use limits would measure
           # themselves. The figures are scraped from /metrics at the end.
           "MEJORA_RATE_LIMITS": "off", "MEJORA_METRICS_BIND": f"127.0.0.1:{metrics_port}"}
    env.update(dict(kv.split("=", 1) for kv in a.env))
    results = []
    service = ceiling = None
    try:
        log(f"database {dbname}; findings {big:,} (+{small:,}), plans {plans}, actions {actions:,}")
        service = start([os.path.join(a.bin_dir, "mejora"), "serve"], env, os.path.join(work, "service.log"))
        wait_ready(f"{base}/health/ready")
        rss = Rss(service.pid)
        # Idle means settled: the service hands startup memory (bootstrap password hash, each
        # worker's route tables) back to the system 2 s after it starts listening.
        time.sleep(5)
        idle = rss.now_mb()
        results.append(("Idle service", "", "", "", "", "", "", f"{idle:.1f} MB"))
        # The bootstrap admin also plans and audits here, so one token drives every scenario.
        sql.query("""UPDATE app_user SET roles = '["admin","planner","auditor"]'""")
        status, body = http("POST", f"{api}/auth/login", body={"email": EMAIL, "password": PASSWORD})
        assert status == 200, body
        token = body["access_token"]

        # Bulk import against COPY: into a plain text table, and into a copy of `finding` with
        # the same indexes and constraints (the rows just imported, exported as they are stored).
        imported = {}
        for label, rows, prefix in (("small", small, "S"), ("large", big, "L")):
            path = os.path.join(work, f"{label}.csv")
            write_findings_csv(path, rows, prefix)
            imported[label] = path
            if "import" not in only and label == "small":
                continue
            size_mb = os.path.getsize(path) / 1e6
            rss.reset_peak()
            t0 = time.time()
            status, body = upload_file(f"{api}/findings/imports?mode=atomic", token, path)
            elapsed = time.time() - t0
            peak = rss.peak_mb()
            if status not in (200, 201):
                raise RuntimeError(f"import failed: {status} {str(body)[:500]}")
            created = body["counts"]["created"]
            ours = rows / elapsed
            if "import" not in only:
                log(f"seeded {rows:,} rows at {ours:,.0f} rows/s")
                continue
            if sqlite:
                log(f"import {rows:,} rows: {ours:,.0f} rows/s, peak RSS {peak:.0f} MB, created {created:,}")
                results.append((f"Import CSV {rows:,} rows ({size_mb:.0f} MB)", f"{ours:,.0f} rows/s", "", "",
                                "—", "—", "", f"{peak:.0f} MB peak"))
                continue
            cols = ", ".join(f"{c} text" for c in HEADER)
            psql(db, f"DROP TABLE IF EXISTS copy_ceiling; CREATE TABLE copy_ceiling ({cols})")
            t1 = time.time()
            subprocess.run(["psql", db, "-qc", f"\\copy copy_ceiling FROM '{path}' WITH (FORMAT csv, HEADER true)"], check=True)
            copy_s = time.time() - t1
            psql(db, "DROP TABLE copy_ceiling")
            stored = os.path.join(work, f"{label}.stored.csv")
            subprocess.run(["psql", db, "-qc", f"\\copy (SELECT * FROM finding WHERE report_code LIKE '{prefix}-%') TO '{stored}' WITH (FORMAT csv)"], check=True)
            psql(db, "DROP TABLE IF EXISTS copy_ceiling_idx; CREATE TABLE copy_ceiling_idx (LIKE finding INCLUDING ALL)")
            t1 = time.time()
            subprocess.run(["psql", db, "-qc", f"\\copy copy_ceiling_idx FROM '{stored}' WITH (FORMAT csv)"], check=True)
            copy_idx_s = time.time() - t1
            psql(db, "DROP TABLE copy_ceiling_idx")
            os.unlink(stored)
            ceil, ceil_idx = rows / copy_s, rows / copy_idx_s
            log(f"import {rows:,} rows ({size_mb:.0f} MB): {ours:,.0f} rows/s, COPY {ceil:,.0f} rows/s, "
                f"indexed COPY {ceil_idx:,.0f} rows/s, peak RSS {peak:.0f} MB, created {created:,}")
            results.append((f"Import CSV {rows:,} rows ({size_mb:.0f} MB)", f"{ours:,.0f} rows/s", "", "",
                            f"{ceil:,.0f} rows/s (COPY, plain table); {ceil_idx:,.0f} rows/s (COPY, finding's indexes)",
                            f"{ours / ceil:.2f}; {ours / ceil_idx:.2f}", "", f"{peak:.0f} MB peak"))

        # Plans and actions, through the API.
        plan_ids = []
        for i in range(plans if "reports" in only else 0):
            status, body = http("POST", f"{api}/plans", token, {
                "code": f"TI.PL{i:02d}", "version": 1, "title": f"Plan de mejoramiento {i}", "policy_scope": "mspi",
                "fiscal_year": 2025, "start_date": "2025-01-01", "end_date": "2025-12-31"})
            if status != 201:
                log(f"plans endpoint unavailable ({status}); skipping plans and actions")
                break
            plan_ids.append(body["id"])
        if plan_ids and actions:
            per_plan = max(1, actions // len(plan_ids))
            errors = []

            def make(plan_id):
                for n in range(per_plan):
                    s, b = http("POST", f"{api}/plans/{plan_id}/actions", token, {
                        "type": "corrective", "focus": "corrective", "title": f"Acción {n}",
                        "goal": "Revisar privilegios trimestralmente", "unit": "revisiones", "target_quantity": 4,
                        "start_date": "2025-02-01", "due_date": "2025-11-30"})
                    if s != 201:
                        errors.append((s, b))
                        return
            t0 = time.time()
            threads = [threading.Thread(target=make, args=(pid,)) for pid in plan_ids]
            [t.start() for t in threads]
            [t.join() for t in threads]
            log(f"actions: {per_plan * len(plan_ids):,} in {time.time() - t0:.1f}s; errors: {errors[:1]}")

        org = sql.query("SELECT organization_id FROM finding LIMIT 1")
        if not sqlite:
            ceiling = start([os.path.join(a.bin_dir, "mejora-ceiling")],
                            {"DATABASE_URL": db, "CEILING_BIND": f"127.0.0.1:{ceiling_port}", "CEILING_ORG": ""},
                            os.path.join(work, "ceiling.log"))
            wait_ready(f"http://127.0.0.1:{ceiling_port}/health")

        def row(name, conns, ours, ceil, peak, extra=""):
            ceiling_text = f"{ceil['rps']:,.0f} req/s (p50 {ceil['p50_ms']:.1f}, p99 {ceil['p99_ms']:.1f} ms)" if ceil else "—"
            ratio = f"{ours['rps'] / ceil['rps']:.2f}{extra}" if ceil else ("—" + extra if extra else "—")
            log(f"{name} c{conns}: {ours['rps']:,.0f} req/s p50 {ours['p50_ms']:.1f} p99 {ours['p99_ms']:.1f} ms; "
                f"ceiling {ceiling_text}{extra}")
            results.append((f"{name}, {conns} conn.", f"{ours['rps']:,.0f} req/s", f"{ours['p50_ms']:.1f} ms",
                            f"{ours['p99_ms']:.1f} ms", ceiling_text, ratio, str(ours["errors"]),
                            f"{peak:.0f} MB" if peak else ""))

        # Reads: ours and the ceiling.
        first_page_p50 = {}
        if "reads" in only:
            ids = sql.query("SELECT id FROM finding ORDER BY random() LIMIT 5000").split()
            deep = sql.query(f"SELECT id FROM finding ORDER BY id LIMIT 1 OFFSET {deep_pages * 50 - 1}")
            deep_cursor = cursor_for(deep)
            status, body = http("GET", f"{api}/findings?limit=50&cursor={deep_cursor}", token)
            assert status == 200 and body["items"], f"deep cursor rejected: {status} {str(body)[:300]}"
            ids_lua = "ids = {" + ",".join(f'"{i}"' for i in ids) + "}\n"
            scenarios = [
                ("GET findings first page", "/api/v1/findings?limit=50", f"/findings?limit=50&org={org}", ""),
                (f"GET findings page {deep_pages:,} (cursor)", f"/api/v1/findings?limit=50&cursor={deep_cursor}",
                 f"/findings?limit=50&org={org}&after={deep}", ""),
                ("GET finding by id", None, None, ids_lua + """
request = function()
  return wrk.format("GET", PREFIX .. ids[math.random(#ids)] .. SUFFIX)
end
"""),
            ]
            for name, ours_path, ceil_path, script in scenarios:
                for conns in (16, 64):
                    rss.reset_peak()
                    ceil = None
                    if ours_path is None:
                        ours = wrk(f"{base}", token, script.replace("PREFIX", '"/api/v1/findings/"').replace("SUFFIX", '""'), conns, duration, warmup)
                        if ceiling:
                            ceil = wrk(f"http://127.0.0.1:{ceiling_port}", None,
                                       script.replace("PREFIX", '"/findings/"').replace("SUFFIX", f'"?org={org}"'), conns, duration, warmup)
                    else:
                        ours = wrk(f"{base}{ours_path}", token, "", conns, duration, warmup)
                        if ceiling:
                            ceil = wrk(f"http://127.0.0.1:{ceiling_port}{ceil_path}", None, "", conns, duration, warmup)
                    peak = rss.peak_mb()
                    if name.startswith("GET findings first"):
                        first_page_p50[conns] = ours["p50_ms"]
                    extra = ""
                    if "cursor" in name and conns in first_page_p50:
                        extra = f" (p50 {ours['p50_ms'] / max(first_page_p50[conns], 0.001):.2f}× first page)"
                    row(name, conns, ours, ceil, peak, extra)

        # Writes: one organization, its ceiling, and two organizations at once.
        def post_script(tokens=None):
            # With `tokens`, wrk's thread n writes as organization n (two threads, two tenants).
            auth = ""
            if tokens:
                auth = "tokens = {" + ",".join(f'"Bearer {t}"' for t in tokens) + "}\n"
            return auth + """
wrk.headers["Content-Type"] = "application/json"
counter = 0
request = function()
  counter = counter + 1
  local body = string.format('{"source":"internal_audit","report_code":"BENCH-__RUN__-%d","finding_code":"P-%d","title":"Hallazgo de carga","classification":"observation","severity":"low","requirements":[]}', tid, counter)
  if tokens then
    wrk.headers["Authorization"] = tokens[(tid - 1) % #tokens + 1]
  end
  -- nil headers: wrk.headers, which hold the -H Authorization (a table here would replace them)
  return wrk.format("POST", PATH, nil, body)
end
"""
        if "writes" in only:
            second = None
            email2 = "admin2@bench.gov.co"
            s2, b2 = http("POST", f"{api}/organizations", token, {
                "name": "Segunda entidad", "tax_id": "900123456",
                "admin": {"email": email2, "display_name": "Admin 2", "password": PASSWORD}})
            if s2 == 201:
                sql.query(f"""UPDATE app_user SET roles = '["admin","planner","auditor"]' WHERE email = '{email2}'""")
                s2, b2 = http("POST", f"{api}/auth/login", body={"email": email2, "password": PASSWORD})
                second = b2.get("access_token") if s2 == 200 else None
            if not second:
                log(f"second organization unavailable ({s2} {str(b2)[:200]}); skipping the two-organization scenario")
            for conns in (16, 64):
                rss.reset_peak()
                ours = wrk(base, token, post_script().replace("PATH", '"/api/v1/findings"'), conns, duration, warmup)
                peak = rss.peak_mb()
                ceil = None
                if ceiling:
                    ceil = wrk(f"http://127.0.0.1:{ceiling_port}", None,
                               post_script().replace("PATH", f'"/findings?org={org}"'), conns, duration, warmup)
                row("POST finding", conns, ours, ceil, peak)
                if second:
                    both = wrk(base, None, post_script([token, second]).replace("PATH", '"/api/v1/findings"'),
                               conns, duration, warmup)
                    row("POST finding, two organizations (one per wrk thread)", conns, both, ceil, 0)
            # The chains still verify after the load.
            for t in [token] + ([second] if second else []):
                s, v = http("GET", f"{api}/audit-events/verify", t)
                log(f"audit chain after the writes: {s} intact={v.get('intact') if isinstance(v, dict) else v} "
                    f"checked={v.get('checked') if isinstance(v, dict) else ''}")
                results.append(("Audit chain verified after the writes", "intact" if isinstance(v, dict) and v.get("intact") else f"NOT intact: {str(v)[:200]}",
                                "", "", "", "", "", ""))

        # Reports.
        if "reports" in only and plan_ids:
            for path, name in ((f"/api/v1/plans/{plan_ids[0]}/report", "GET plan report"), ("/api/v1/dashboard", "GET dashboard")):
                s, _ = http("GET", f"{base}{path}", token)
                if s != 200:
                    log(f"{name} unavailable ({s})")
                    continue
                for conns in (16, 64):
                    ours = wrk(f"{base}{path}", token, "", conns, duration, warmup)
                    row(name, conns, ours, None, 0)

        # Reads while an import runs: the file of the small import again (`on_conflict=update`),
        # in a loop until the reads are measured.
        if "mixed" in only:
            stop_flag = threading.Event()
            imported_rows = []

            def importer():
                while not stop_flag.is_set():
                    t0 = time.time()
                    s, b = upload_file(f"{api}/findings/imports?mode=atomic&on_conflict=update", token, imported["small"])
                    if s not in (200, 201):
                        log(f"parallel import failed: {s} {str(b)[:300]}")
                        return
                    imported_rows.append((small, time.time() - t0))
            th = threading.Thread(target=importer)
            th.start()
            time.sleep(1)
            ours = wrk(f"{base}/api/v1/findings?limit=50", token, "", 16, duration, 0)
            stop_flag.set()
            th.join()
            done = sum(r for r, _ in imported_rows)
            spent = sum(t for _, t in imported_rows)
            row(f"GET findings first page while an import runs ({done / spent if spent else 0:,.0f} rows/s re-imported)", 16, ours, None, 0)
        # What an operator's Prometheus would see after the run (histogram buckets left out).
        import urllib.request
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=10) as r:
            scraped = r.read().decode()
        excerpt = [l for l in scraped.splitlines() if l.startswith("mejora_") and "_bucket{" not in l]
        with open(out_path + ".metrics.txt", "w") as f:
            f.write("\n".join(excerpt) + "\n")
        log(f"/metrics after the run: {len(excerpt)} samples, written {out_path}.metrics.txt")
    finally:
        stop(ceiling)
        stop(service)
        shutil.rmtree(work, ignore_errors=True)
        try:
            psql(a.pg, f"DROP DATABASE IF EXISTS {dbname}")
        except subprocess.CalledProcessError:
            pass

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    pg_version = psql(a.pg, "SHOW server_version")
    backend = "SQLite (the default configuration: a file in the working directory)" if sqlite else f"PostgreSQL {pg_version}"
    args_text = " ".join(sys.argv[1:]).replace(f"--bin-dir {a.bin_dir}", "").strip()
    lines = [
        f"## {backend}{' — ' + a.label if a.label else ''}" if a.append else "# Benchmark results", "",
        f"Run {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC with `bench/run.sh"
        + (f" {args_text}" if args_text else "") + "`" + f", service on {backend}.", "",
        f"Machine: {os.cpu_count()} cores ({cpu}), {platform.system()} {platform.release()}, PostgreSQL {pg_version}; "
        "the load generator (wrk, 2 threads) shares the cores with the service and the database. "
        f"Shared machine: other sessions were building and testing (load average {load_start} at the start, "
        f"{os.getloadavg()[0]:.1f} at the end), so absolute figures are noisy; compare rows of the same run.", "",
        f"Data: {big + small:,} findings in one organization, {plans} plans, {actions:,} actions. Load runs: "
        f"{warmup} s warm-up, {duration} s measured, at 16 and 64 connections.", "",
        "| scenario | ours | p50 | p99 | ceiling | ratio | errors | RSS |",
        "|---|---|---|---|---|---|---|---|",
    ]
    lines += ["| " + " | ".join(r) + " |" for r in results]
    lines += ["", "Ceilings: reads are served by `bench/ceiling` (actix-web + sqlx, the same SQL and JSON shape, "
              "no authentication, no audit, no problem rendering); imports are compared with PostgreSQL `COPY` of "
              "the same CSV into a plain text table and into a copy of `finding` with its indexes and constraints "
              "(the rows just imported, as stored); writes are compared with `POST /findings` of the ceiling: one "
              "sqlx transaction inserting the same finding row and one audit row (JSON and SHA-256), without the "
              "per-organization chain.", ""]
    text = "\n".join(lines)
    if a.append:
        with open(out_path) as f:
            text = f.read().rstrip("\n") + "\n\n" + text
    with open(out_path, "w") as f:
        f.write(text)
    print(text)
    log(f"written {out_path}")


if __name__ == "__main__":
    main()
