#!/usr/bin/env python3
"""Reporting-period closing benchmark (see bench/period_close.sh). Standard library only.

Starts the release service on a fresh PostgreSQL database (it migrates and creates the first
organization), seeds in SQL `--plans` running plans with `--actions` actions in all, one
comptroller finding per action and one accepted evidence per action dated on or before the
cut-off (plus one dated after it), then creates a SIRECI period through the API and times
`POST /reporting-periods/{id}/close`, with the service's peak RSS (VmHWM, reset before the
call). It then exports the period twice and checks the bytes are the same, and once in each
other format, with the service's peak RSS during each export (reset before it).

`--log-statements`: PostgreSQL logs every statement of the benchmark database with its
duration (`log_min_duration_statement = 0`); the close's statements are summed by kind from
the server log (`--pg-log`, Debian's default path) and the slowest are printed.
"""
import collections
import re
import argparse
import hashlib
import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request

EMAIL = "admin@bench.gov.co"
PASSWORD = "benchmark password 2026"


def psql(url, sql):
    done = subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"psql failed: {done.stderr.strip()}")
    return done.stdout.strip()


def with_db(server, name):
    base, _, query = server.partition("?")
    scheme, _, rest = base.partition("://")
    return f"{scheme}://{rest.split('/')[0]}/{name}" + (f"?{query}" if query else "")


def http(method, url, token=None, body=None, headers=None, raw=False):
    h = {"Content-Type": "application/json"}
    if token:
        h["Authorization"] = f"Bearer {token}"
    h.update(headers or {})
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=h)
    try:
        with urllib.request.urlopen(req, timeout=3600) as res:
            payload = res.read()
            return res.status, dict(res.headers), (payload if raw else json.loads(payload or b"null"))
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read().decode(errors="replace")


def rss(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid):
    """User + system CPU time of the process (all its threads)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_peak(pid):
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


SEED = """
WITH org AS (SELECT id FROM organization ORDER BY created_at LIMIT 1)
INSERT INTO plan (id, code, plan_version, title, policy_scope, status, start_date, end_date, approved_by,
                  approval_reference, approved_on, organization_id, created_at, updated_at, version)
SELECT gen_random_uuid(), 'PM-' || lpad(p::text, 3, '0'), 1, 'Plan de mejoramiento ' || p, 'mspi', 'in_progress',
       DATE '2024-08-01', DATE '2027-12-31', 'Comité', 'Acta ' || p, DATE '2024-07-15', org.id, now(), now(), 1
FROM generate_series(1, {plans}) p, org;

INSERT INTO category (id, plan_id, position, name, source, improvement_alternatives, control_refs,
                      organization_id, created_at, updated_at, version)
SELECT gen_random_uuid(), pl.id, 1, 'Gestión de accesos', 'furag', '["Revisar privilegios"]'::jsonb, '[]'::jsonb,
       pl.organization_id, now(), now(), 1
FROM plan pl;

INSERT INTO action (id, plan_id, category_id, number, action_type, focus, title, description, unit,
                    target_quantity, start_date, due_date, status, compliance, effectiveness,
                    organization_id, created_at, updated_at, version)
SELECT gen_random_uuid(), pl.id, c.id, n, 'corrective', 'maturity', 'Acción ' || n || ' de ' || pl.code,
       'Revisar trimestralmente los privilegios del sistema ' || n, 'Informe', 4,
       DATE '2025-01-01', DATE '2025-06-30' + (n % 200), CASE WHEN n % 10 = 0 THEN 'done' ELSE 'in_progress' END,
       CASE WHEN n % 10 = 0 THEN 'met' ELSE 'pending' END, CASE WHEN n % 20 = 0 THEN 'effective' ELSE 'pending' END,
       pl.organization_id, now(), now(), 1
FROM plan pl JOIN category c ON c.plan_id = pl.id, generate_series(1, {per_plan}) n;

UPDATE action SET completed_on = DATE '2025-05-31' WHERE status = 'done';

INSERT INTO finding (id, source, report_code, finding_code, title, condition, cause, effect, requirements,
                     presumed_incidence, status, plan_id, search, organization_id, created_at, updated_at, version)
SELECT gen_random_uuid(), 'comptroller', 'CGR-2025', 'H-' || a.id, 'Hallazgo de ' || a.title,
       'Sin revisión de privilegios', 'Sin procedimiento', 'Accesos indebidos', '[]'::jsonb, '["disciplinary"]'::jsonb,
       'in_treatment', a.plan_id, 'hallazgo', a.organization_id, now(), now(), 1
FROM action a;

INSERT INTO action_finding (action_id, finding_id, organization_id)
SELECT a.id, f.id, a.organization_id FROM action a JOIN finding f ON f.finding_code = 'H-' || a.id;

INSERT INTO evidence (id, action_id, cut_off_date, evidence_date, description, reported_quantity, links,
                      review_status, organization_id, created_at, updated_at, version)
SELECT gen_random_uuid(), a.id, DATE '2025-06-30', DATE '2025-06-20', 'Informe trimestral', 1 + (a.number % 3),
       '[]'::jsonb, 'accepted', a.organization_id, now(), now(), 1
FROM action a
UNION ALL
SELECT gen_random_uuid(), a.id, DATE '2025-12-31', DATE '2025-12-20', 'Informe posterior al corte', 1,
       '[]'::jsonb, 'accepted', a.organization_id, now(), now(), 1
FROM action a;
ANALYZE;
"""


def statement_profile(log_path, start, dbname):
    """Sums the durations PostgreSQL logged for `dbname` after byte `start` of its log."""
    with open(log_path, "rb") as f:
        f.seek(start)
        text = f.read().decode(errors="replace")
    by_kind = collections.defaultdict(lambda: [0, 0.0])
    slow = []
    entries = re.split(r"\n(?=\d{4}-\d\d-\d\d )", text)
    for e in entries:
        if f"@{dbname} " not in e:
            continue
        m = re.search(r"duration: ([0-9.]+) ms\s+(?:(parse|bind|execute)\s+[^:]*:\s*)?(.*)", e, re.S)
        if not m:
            continue
        ms, step, sql = float(m.group(1)), m.group(2) or "simple", " ".join(m.group(3).split())
        head = re.sub(r"\$\d+", "?", sql)
        head = re.sub(r"(\?, )+\?", "?…", head)[:110]
        by_kind[(step, head)][0] += 1
        by_kind[(step, head)][1] += ms
        slow.append((ms, step, head))
    total = sum(v[1] for v in by_kind.values())
    print(f"PostgreSQL time during the close: {total / 1000:.2f} s over {sum(v[0] for v in by_kind.values())} "
          f"logged steps (parse, bind, execute)", flush=True)
    for (step, head), (n, ms) in sorted(by_kind.items(), key=lambda kv: -kv[1][1])[:12]:
        print(f"  {ms / 1000:7.3f} s  {n:5d} × {step:7s} {head}", flush=True)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--plans", type=int, default=50)
    p.add_argument("--actions", type=int, default=20_000)
    p.add_argument("--port", type=int, default=18_181)
    p.add_argument("--log-statements", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the database (its name is printed)")
    p.add_argument("--pg-log", default="/var/log/postgresql/postgresql-15-main.log")
    a = p.parse_args()
    server = os.environ.get("BENCH_PG", "postgres://postgres:postgres@127.0.0.1:5432/postgres")
    dbname = f"mejora_period_bench_{os.getpid()}"
    psql(server, f"CREATE DATABASE {dbname}")
    url = with_db(server, dbname)
    if a.log_statements:
        psql(server, f"ALTER DATABASE {dbname} SET log_min_duration_statement = 0")
    env = dict(os.environ, DATABASE_URL=url, MEJORA_BIND=f"127.0.0.1:{a.port}", MEJORA_BOOTSTRAP_EMAIL=EMAIL,
               MEJORA_BOOTSTRAP_PASSWORD=PASSWORD, MEJORA_JWT_SECRET="x" * 40, MEJORA_LOG_FORMAT="json",
               RUST_LOG="warn", MEJORA_METRICS_BIND="off")
    proc = subprocess.Popen([a.binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    api = f"http://127.0.0.1:{a.port}/api/v1"
    try:
        for _ in range(240):
            try:
                if http("GET", f"http://127.0.0.1:{a.port}/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        per_plan = max(1, a.actions // a.plans)
        t0 = time.time()
        psql(url, SEED.format(plans=a.plans, per_plan=per_plan))
        counts = psql(url, "SELECT (SELECT count(*) FROM plan) || ' plans, ' || (SELECT count(*) FROM action) || "
                           "' actions, ' || (SELECT count(*) FROM evidence) || ' evidence'")
        print(f"seeded {counts} in {time.time() - t0:.1f}s", flush=True)
        status, _, body = http("POST", f"{api}/auth/login", body={"email": EMAIL, "password": PASSWORD})
        assert status == 200, body
        token = body["access_token"]
        status, headers, period = http("POST", f"{api}/reporting-periods", token, {
            "name": "SIRECI 2025 semestre 1", "kind": "sireci_semiannual", "cut_off_date": "2025-06-30",
            "filing_deadline": "2025-07-30"})
        assert status == 201, period
        idle = rss(proc.pid, "VmRSS")
        log_start = os.path.getsize(a.pg_log) if a.log_statements else 0
        reset_peak(proc.pid)
        cpu0 = cpu_seconds(proc.pid)
        t0 = time.time()
        status, _, closed = http("POST", f"{api}/reporting-periods/{period['id']}/close", token,
                                 headers={"If-Match": headers.get("ETag") or headers.get("etag")})
        elapsed = time.time() - t0
        cpu = cpu_seconds(proc.pid) - cpu0
        assert status == 200, closed
        peak = rss(proc.pid, "VmHWM")
        print(f"close: {closed['actions_count']:,} actions over {len(closed['plans'])} plans in {elapsed:.2f}s "
              f"({cpu:.2f} s of service CPU; load average {os.getloadavg()[0]:.1f}); "
              f"service RSS {idle:.0f} MB before, peak {peak:.0f} MB during the close; "
              f"progress {closed['progress_pct']} %, snapshot {closed['snapshot_sha256'][:12]}…", flush=True)
        if a.log_statements:
            statement_profile(a.pg_log, log_start, dbname)
        export = f"{api}/reporting-periods/{period['id']}/export"
        before = rss(proc.pid, "VmRSS")
        reset_peak(proc.pid)
        t0 = time.time()
        first = http("GET", f"{export}?format=xlsx", token, raw=True)[2]
        t_export = time.time() - t0
        peak = rss(proc.pid, "VmHWM")
        second = http("GET", f"{export}?format=xlsx", token, raw=True)[2]
        same = hashlib.sha256(first).hexdigest() == hashlib.sha256(second).hexdigest()
        print(f"export (SIRECI F14.1 xlsx, {len(first) / 1e6:.1f} MB) in {t_export:.2f}s; byte-identical twice: {same}; "
              f"service RSS {before:.0f} MB before, peak {peak:.0f} MB during it", flush=True)
        for query in ["format=csv", "format=json", "layout=ti-pl03&format=xlsx", "layout=ti-pl03&format=csv"]:
            before = rss(proc.pid, "VmRSS")
            reset_peak(proc.pid)
            t0 = time.time()
            body = http("GET", f"{export}?{query}", token, raw=True)[2]
            print(f"export {query} ({len(body) / 1e6:.1f} MB, sha256 {hashlib.sha256(body).hexdigest()[:12]}…) in "
                  f"{time.time() - t0:.2f}s; service RSS {before:.0f} MB before, peak {rss(proc.pid, 'VmHWM'):.0f} MB "
                  f"during it", flush=True)
        return 0 if same else 1
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        if a.keep:
            print(f"kept database {dbname} (period {period['id'] if 'period' in dir() else '?'})", flush=True)
        else:
            psql(server, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
