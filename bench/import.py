#!/usr/bin/env python3
"""Bulk-import benchmark (see bench/import.sh). Standard library and curl only.

Starts the release service on a fresh PostgreSQL database, creates an auditor, uploads
generated CSV files of findings with curl, and prints rows/s end to end and the service's
peak RSS (VmHWM, reset before each upload) for each size.
"""
import argparse
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

EMAIL = "admin@bench.gov.co"
PASSWORD = "benchmark password 2026"
AUDITOR = "auditor@bench.gov.co"
SOURCES = ["internal_audit", "comptroller", "certification_audit", "independent_review", "self_assessment"]
SEVERITIES = ["Crítica", "Alta", "Media", "Baja", "Informativa"]
CLASSES = ["No conformidad mayor", "No conformidad menor", "Observación", "Oportunidad de mejora"]


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                          capture_output=True, text=True).stdout.strip()


def with_db(server, name):
    base, _, query = server.partition("?")
    scheme, _, rest = base.partition("://")
    return f"{scheme}://{rest.split('/')[0]}/{name}" + (f"?{query}" if query else "")


def http(method, url, token=None, body=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            return res.status, json.loads(res.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def write_csv(path, rows, prefix, revision=""):
    """Spanish headers, `;` separated, as Excel writes them; ~360 bytes per row. `revision`
    changes every title (an `on_conflict=update` upload then changes every finding)."""
    rnd = random.Random(7)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("Fuente;Ente auditor;Código informe;Fecha informe;Vigencia;Código hallazgo;Título;Condición;"
                "Criterio;Causa;Efecto;Clasificación;Severidad;Estado;Requisitos\r\n")
        for i in range(rows):
            f.write(
                f"{SOURCES[i % 5]};Oficina de Control Interno;{prefix}-{i // 1000:05d};31/03/2025;2024;H-{i % 1000:04d};"
                f"Hallazgo {i}: control de acceso sin revisión periódica{revision};"
                "\"No se evidencian revisiones trimestrales de los privilegios de los usuarios del sistema financiero.\";"
                "ISO/IEC 27001:2022 A.5.18 Derechos de acceso;Falta de procedimiento formal;"
                f"Riesgo de accesos no autorizados;{rnd.choice(CLASSES)};{rnd.choice(SEVERITIES)};Abierto;A.5.15|A.5.18\r\n")


def cpu_seconds(pids):
    """User + system CPU time of the given processes (and their threads)."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return total / os.sysconf("SC_CLK_TCK")


def backend_pids(pg, dbname):
    """PostgreSQL server processes serving the benchmark database."""
    out = psql(pg, f"SELECT pid FROM pg_stat_activity WHERE datname = '{dbname}'")
    return [int(p) for p in out.split()]


class Rss:
    def __init__(self, pid):
        self.pid = pid

    def field(self, name):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(name + ":"):
                    return int(line.split()[1]) / 1024.0
        return 0.0

    def reset_peak(self):
        with open(f"/proc/{self.pid}/clear_refs", "w") as f:
            f.write("5")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("sizes", nargs="*", type=int, default=[100_000, 1_000_000])
    p.add_argument("--pg", default=os.environ.get("BENCH_PG", "postgres://postgres@127.0.0.1:5432/postgres"))
    p.add_argument("--binary", required=True)
    p.add_argument("--port", type=int, default=18191)
    p.add_argument("--perf", metavar="FILE", help="record a perf profile of the service during the uploads")
    p.add_argument("--updates", action="store_true",
                   help="after each all-new upload, upload it again with on_conflict=update (nothing changes), "
                        "then with every title changed (every finding changes, one audit event each)")
    a = p.parse_args()

    dbname = f"mejora_import_bench_{int(time.time())}"
    psql(a.pg, f"CREATE DATABASE {dbname}")
    work = tempfile.mkdtemp(prefix="mejora-import-bench-")
    base = f"http://127.0.0.1:{a.port}"
    env = {**os.environ, "DATABASE_URL": with_db(a.pg, dbname), "MEJORA_BIND": f"127.0.0.1:{a.port}",
           "MEJORA_BOOTSTRAP_EMAIL": EMAIL, "MEJORA_BOOTSTRAP_PASSWORD": PASSWORD,
           "MEJORA_JWT_SECRET": "bench-secret-bench-secret-bench-secret-0123", "MEJORA_ACCESS_TOKEN_TTL": "86400",
           "MEJORA_IMPORT_LIMIT": "4G", "RUST_LOG": "warn", "MEJORA_STORAGE_URL": f"file://{work}/files"}
    log = open(os.path.join(work, "service.log"), "w")
    service = subprocess.Popen([a.binary, "serve"], env=env, stdout=log, stderr=subprocess.STDOUT,
                               cwd=work, start_new_session=True)
    results = []
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
        admin = body["access_token"]
        status, body = http("POST", f"{base}/api/v1/users", admin, {
            "email": AUDITOR, "display_name": "Auditor de carga", "password": PASSWORD, "roles": ["auditor"]})
        assert status == 201, body
        status, body = http("POST", f"{base}/api/v1/auth/login", body={"email": AUDITOR, "password": PASSWORD})
        token = body["access_token"]
        rss = Rss(service.pid)
        print(f"service RSS before the uploads (after three sign-ins) {rss.field('VmRSS'):.1f} MB; database {dbname}", flush=True)
        for n, rows in enumerate(a.sizes):
            path = os.path.join(work, f"findings-{rows}.csv")
            write_csv(path, rows, f"R{n}")
            size_mb = os.path.getsize(path) / 1e6
            rss.reset_peak()
            pg_pids = backend_pids(a.pg, dbname)
            cpu0, pg0 = cpu_seconds([service.pid]), cpu_seconds(pg_pids)
            perf = None
            if a.perf:
                pids = ",".join(str(p) for p in [service.pid] + backend_pids(a.pg, dbname))
                perf = subprocess.Popen(["perf", "record", "-F", "499", "-g", "-p", pids, "-o",
                                         f"{a.perf}.{rows}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            passes = [("all new", path, "skip", "created")]
            if a.updates:
                changed = os.path.join(work, f"findings-{rows}-changed.csv")
                write_csv(changed, rows, f"R{n}", " (revisado)")
                passes += [("update, nothing changes", path, "update", "unchanged"),
                           ("update, all change", changed, "update", "updated")]
            for label, upload, policy, expected in passes:
                rss.reset_peak()
                cpu0, pg0 = cpu_seconds([service.pid]), cpu_seconds(pg_pids)
                t0 = time.time()
                out = subprocess.run(
                    ["curl", "-sS", "-X", "POST", "-T", upload, "-H", f"Authorization: Bearer {token}",
                     "-H", "Content-Type: text/csv",
                     f"{base}/api/v1/findings/imports?mode=atomic&on_conflict={policy}"],
                    capture_output=True, text=True, check=True).stdout
                elapsed = time.time() - t0
                peak = rss.field("VmHWM")
                if perf:
                    perf.send_signal(signal.SIGINT)
                    perf.wait(60)
                    perf = None
                cpu, pg_cpu = cpu_seconds([service.pid]) - cpu0, cpu_seconds(pg_pids) - pg0
                record = json.loads(out)
                if record.get("counts", {}).get(expected) != rows:
                    sys.exit(f"import of {rows} rows ({label}) failed: {out[:1000]}")
                line = (f"{rows:>9,} rows ({size_mb:6.1f} MB, {label}): {elapsed:6.2f} s, {rows / elapsed:>8,.0f} rows/s, "
                        f"peak RSS {peak:5.1f} MB; CPU: service {cpu:.1f} s, its PostgreSQL backends {pg_cpu:.1f} s")
                print(line, flush=True)
                results.append(line)
            if a.updates:
                os.unlink(changed)
            os.unlink(path)
    finally:
        os.killpg(service.pid, signal.SIGTERM)
        service.wait(30)
        psql(a.pg, f"DROP DATABASE IF EXISTS {dbname}")
    return results


if __name__ == "__main__":
    main()
