#!/usr/bin/env python3
"""Runs the README's Python upload scripts exactly as printed (scripts/client-smoke.sh).

usage: readme-upload.py README.md WORKDIR   (MEJORA_API, MEJORA_EMAIL, MEJORA_PASSWORD set)

Takes every ```python block of the README whose first line starts with `# upload`, creates the
account the README's walk-through creates (auditora@entidad.gov.co), and runs each block in
WORKDIR twice: with a `hallazgos.csv` that has bad rows (all-or-nothing mode must print every
row error and write nothing) and with a good one (it must print the counts).
"""

import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

readme, work = Path(sys.argv[1]), Path(sys.argv[2])
root = readme.resolve().parent
api = os.environ["MEJORA_API"]
blocks = [b for b in re.findall(r"```python\n(.*?)```", readme.read_text(), re.S) if b.startswith("# upload")]
if len(blocks) < 2:
    sys.exit(f"expected the README's two upload scripts, found {len(blocks)}")


def call(method, path, body=None, token=None):
    request = urllib.request.Request(f"{api}{path}", method=method, data=json.dumps(body).encode())
    request.add_header("Content-Type", "application/json")
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request) as reply:
            return reply.status, json.load(reply)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


# The walk-through's step 2: the administrator adds the auditor the upload scripts sign in as.
status, tokens = call("POST", "/auth/login", {"email": os.environ["MEJORA_EMAIL"], "password": os.environ["MEJORA_PASSWORD"]})
assert status == 200, tokens
status, user = call(
    "POST",
    "/users",
    {"email": "auditora@entidad.gov.co", "display_name": "Auditora", "password": "una clave larga y propia", "roles": ["auditor"]},
    tokens["access_token"],
)
assert status in (201, 409), user

header = "fuente;código informe;fecha informe;vigencia;código hallazgo;título;clasificación;severidad;requisitos\n"
good = (
    "Auditoría interna;OCI-2025-07;31/03/2025;2024;H-01;Sin revisión periódica de accesos;No conformidad menor;Alta;A.5.15\n"
    "Auditoría interna;OCI-2025-07;31/03/2025;2024;H-02;Copias de respaldo sin prueba;Observación;Media;A.8.13\n"
)
bad = good + (
    "Auditoría interna;OCI-2025-07;31/03/2025;2024;H-03;Severidad desconocida;Observación;Altísima;A.5.1\n"
    "Auditoría interna;OCI-2025-07;fecha;2024;H-04;Fecha ilegible;Observación;Baja;A.5.2\n"
)
work.mkdir(parents=True, exist_ok=True)
env = dict(os.environ, PYTHONPATH=str(root / "clients" / "python"))
failures = 0
for case, rows, expect in [("bad rows", bad, r"^row \d+: "), ("good file", good, r"created")]:
    (work / "hallazgos.csv").write_text(header + rows, encoding="utf-8")
    for block in blocks:
        name = block.splitlines()[0].lstrip("# ").split(":")[0]
        script = work / name
        script.write_text(block)
        run = subprocess.run([sys.executable, str(script)], cwd=work, env=env, capture_output=True, text=True)
        print(f"$ python {name}   # {case}\n{run.stdout}{run.stderr}", end="")
        if run.returncode != 0 or not re.search(expect, run.stdout, re.M):
            print(f"!! {name} with {case}: exit {run.returncode}, expected output matching {expect!r}")
            failures += 1
sys.exit(1 if failures else 0)
