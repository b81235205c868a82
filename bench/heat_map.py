#!/usr/bin/env python3
"""Heat-map benchmark (see bench/heat_map.sh). Standard library only.

Starts the release service on a fresh PostgreSQL database, seeds `--risks` risks in SQL (each
with one control, valuations spread over every cell of the map, five processes, three kinds),
then runs `--connections` client threads, each with one keep-alive connection, calling
`GET /api/v1/risks/heat-map` (alternating `stage=inherent` and `stage=residual`) for
`--seconds` after a 3 s warm-up, and prints requests per second, p50 and p99.
"""
import argparse
import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from period_close import EMAIL, PASSWORD, psql, with_db  # noqa: E402
from period_close import http as call  # noqa: E402

SEED = """
WITH org AS (SELECT id FROM organization ORDER BY created_at LIMIT 1),
     p(i, code) AS (VALUES (0,'very_low'),(1,'low'),(2,'medium'),(3,'high'),(4,'very_high')),
     m(i, code) AS (VALUES (0,'slight'),(1,'minor'),(2,'moderate'),(3,'major'),(4,'catastrophic')),
     z(pi, ii, code) AS (VALUES
        (0,0,'low'),(0,1,'low'),(0,2,'moderate'),(0,3,'high'),(0,4,'extreme'),
        (1,0,'low'),(1,1,'moderate'),(1,2,'moderate'),(1,3,'high'),(1,4,'extreme'),
        (2,0,'moderate'),(2,1,'moderate'),(2,2,'moderate'),(2,3,'high'),(2,4,'extreme'),
        (3,0,'moderate'),(3,1,'moderate'),(3,2,'high'),(3,3,'high'),(3,4,'extreme'),
        (4,0,'high'),(4,1,'high'),(4,2,'high'),(4,3,'high'),(4,4,'extreme'))
INSERT INTO risk (id, code, process, kind, asset_ids, confidentiality, integrity, availability, impact,
                  immediate_cause, root_cause, threats, vulnerabilities, annual_frequency, economic_impact,
                  reputational_impact, inherent_probability, inherent_impact, inherent_zone,
                  residual_probability_pct, residual_impact_pct, residual_probability, residual_impact,
                  residual_zone, treatment, review_interval_days, organization_id, created_at, updated_at, version)
SELECT gen_random_uuid(), 'R-' || n, 'Proceso ' || (n % 5),
       (ARRAY['digital_security','management','corruption'])[1 + n % 3], '[]'::jsonb, true, n % 2 = 0, false,
       'pérdida de información', 'accesos indebidos', 'sin revisión', '[]'::jsonb, '[]'::jsonb, 10, im.code, im.code,
       pr.code, im.code, zi.code, 0.2, 0.2, rp.code, rm.code, zr.code, 'reduce', 180, org.id, now(), now(), 1
FROM generate_series(1, {risks}) n
CROSS JOIN org
JOIN p pr ON pr.i = n % 5
JOIN m im ON im.i = (n / 5) % 5
JOIN z zi ON zi.pi = pr.i AND zi.ii = im.i
JOIN p rp ON rp.i = GREATEST(pr.i - 1, 0)
JOIN m rm ON rm.i = im.i
JOIN z zr ON zr.pi = rp.i AND zr.ii = rm.i;

INSERT INTO risk_control (id, risk_id, position, responsible, action, control_type, implementation, documentation,
                          frequency, evidence, annex_a_refs, organization_id, created_at, updated_at, version)
SELECT gen_random_uuid(), r.id, 1, 'TI', 'revisa los accesos', 'preventive', 'manual', 'documented', 'continuous',
       'with_record', '["5.15"]'::jsonb, r.organization_id, now(), now(), 1
FROM risk r;
ANALYZE;
"""


def load(port, token, connections, seconds, warmup=3.0):
    latencies, errors, stop = [], [0], time.time() + warmup + seconds
    start_measure = time.time() + warmup
    lock = threading.Lock()

    def worker(k):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        i, mine = k, []
        while time.time() < stop:
            stage = "inherent" if i % 2 == 0 else "residual"
            i += 1
            t0 = time.perf_counter()
            conn.request("GET", f"/api/v1/risks/heat-map?stage={stage}", headers={"Authorization": f"Bearer {token}"})
            res = conn.getresponse()
            body = res.read()
            dt = time.perf_counter() - t0
            if res.status != 200:
                with lock:
                    errors[0] += 1
            elif time.time() >= start_measure:
                mine.append(dt)
            if not body:
                break
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    latencies.sort()
    pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else float("nan")
    return len(latencies) / seconds, pick(0.50), pick(0.99), errors[0]


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--binary", required=True)
    p.add_argument("--risks", type=int, default=10_000)
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--seconds", type=float, default=15.0)
    p.add_argument("--port", type=int, default=18_182)
    a = p.parse_args()
    server = os.environ.get("BENCH_PG", "postgres://postgres:postgres@127.0.0.1:5432/postgres")
    dbname = f"mejora_heat_bench_{os.getpid()}"
    psql(server, f"CREATE DATABASE {dbname}")
    url = with_db(server, dbname)
    env = dict(os.environ, DATABASE_URL=url, MEJORA_BIND=f"127.0.0.1:{a.port}", MEJORA_BOOTSTRAP_EMAIL=EMAIL,
               MEJORA_BOOTSTRAP_PASSWORD=PASSWORD, MEJORA_JWT_SECRET="x" * 40, MEJORA_LOG_FORMAT="json",
               RUST_LOG="warn", MEJORA_RATE_LIMITS="off")
    proc = subprocess.Popen([a.binary], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(240):
            try:
                if call("GET", f"http://127.0.0.1:{a.port}/health/ready")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        t0 = time.time()
        psql(url, SEED.format(risks=a.risks))
        print(f"seeded {psql(url, 'SELECT count(*) FROM risk')} risks in {time.time() - t0:.1f}s", flush=True)
        status, _, body = call("POST", f"http://127.0.0.1:{a.port}/api/v1/auth/login",
                               body={"email": EMAIL, "password": PASSWORD})
        assert status == 200, body
        token = body["access_token"]
        status, _, check = call("GET", f"http://127.0.0.1:{a.port}/api/v1/risks/heat-map?stage=residual", token)
        assert status == 200 and check["total"] == a.risks, check
        rps, p50, p99, errors = load(a.port, token, a.connections, a.seconds)
        print(json.dumps({"risks": a.risks, "connections": a.connections, "seconds": a.seconds,
                          "req_per_s": round(rps, 1), "p50_ms": round(p50, 1), "p99_ms": round(p99, 1),
                          "errors": errors, "load_average": round(os.getloadavg()[0], 1)}), flush=True)
        return 0
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        psql(server, f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")


if __name__ == "__main__":
    sys.exit(main())
