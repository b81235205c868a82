"""Smoke test of the generated Python client (openapi-python-client) against a running service.

Signs in, adds an auditor, uploads a CSV of findings as multipart/form-data (partial mode, one
bad row), reads the row report, lists the findings the upload created, re-sends the same file as
a raw text/csv body (nothing changes) and checks that all-or-nothing mode refuses the file with
its row errors. Run by scripts/client-smoke.sh after generating `mejora_client` next to this file:

    MEJORA_URL=http://127.0.0.1:8080 MEJORA_EMAIL=… MEJORA_PASSWORD=… python smoke.py
"""

import io
import os
import sys
import time

from mejora_client import AuthenticatedClient, Client
from mejora_client.api.auth import login
from mejora_client.api.findings import import_findings, list_findings
from mejora_client.api.users import create_user
from mejora_client.models import (
    CreateUserRequest,
    ImportFileForm,
    ImportMode,
    ImportResponse,
    LoginRequest,
    PageFinding,
    Problem,
    Role,
    User,
)
from mejora_client.types import File

BASE_URL = os.environ.get("MEJORA_URL", "http://127.0.0.1:8080")
run = format(int(time.time() * 1000), "x")


def sign_in(email: str, password: str) -> AuthenticatedClient:
    reply = login.sync(client=Client(base_url=BASE_URL), body=LoginRequest(email=email, password=password))
    if isinstance(reply, Problem) or reply is None:
        sys.exit(f"sign in as {email} failed: {reply}")
    print(f"signed in as {email}")
    return AuthenticatedClient(base_url=BASE_URL, token=reply.access_token)


admin = sign_in(os.environ.get("MEJORA_EMAIL", "admin@mejora.local"), os.environ["MEJORA_PASSWORD"])
auditor_email = f"auditor.py.{run}@entidad.gov.co"
auditor_password = f"clave del cliente python {run}"
user = create_user.sync(
    client=admin,
    body=CreateUserRequest(
        email=auditor_email, display_name="Auditor Python", password=auditor_password, roles=[Role.AUDITOR]
    ),
)
assert isinstance(user, User), user
auditor = sign_in(auditor_email, auditor_password)

report = f"OCI-PY-{run}"
csv_text = (
    "fuente;código informe;fecha informe;vigencia;código hallazgo;título;clasificación;severidad;requisitos\n"
    f"Auditoría interna;{report};31/03/2025;2024;H-01;Sin revisión periódica de accesos;No conformidad menor;Alta;A.5.15|A.5.18\n"
    f"Auditoría interna;{report};31/03/2025;2024;H-02;Copias de respaldo sin prueba;Observación;Media;A.8.13\n"
    f"Auditoría interna;{report};31/03/2025;2024;H-03;Inventario de activos desactualizado;No conformidad menor;Baja;A.5.9\n"
    f"Auditoría interna;{report};31/03/2025;2024;H-04;Severidad mal escrita;Observación;Altísima;A.5.1\n"
)
csv_bytes = csv_text.encode("utf-8")

# 1. multipart/form-data with a `file` part, partial mode: good rows land, the bad one is reported.
form = ImportFileForm(file=File(payload=io.BytesIO(csv_bytes), file_name="hallazgos.csv", mime_type="text/csv"))
upload = import_findings.sync_detailed(client=auditor, body=form, mode=ImportMode.PARTIAL)
print(f"multipart upload: {upload.status_code}")
result = upload.parsed
assert isinstance(result, ImportResponse), upload.content
print(f"  counts: {result.counts.to_dict()}")
for e in result.errors:
    print(f"  row {e.row}: {e.field} {e.code} {e.message}")
assert (result.counts.created, result.counts.rejected) == (3, 1), result.counts
assert len(result.errors) == 1 and "Altísima" in result.errors[0].message, result.errors

# 2. the findings the upload created, found by its id.
page = list_findings.sync(client=auditor, import_id=result.id, limit=10)
assert isinstance(page, PageFinding), page
codes = sorted(f.finding_code for f in page.items)
print(f"  created findings: {', '.join(codes)}")
assert codes == ["H-01", "H-02", "H-03"], codes

# 3. the same file as a raw text/csv body: matched on the natural key, nothing changes.
again = import_findings.sync(
    client=auditor, body=File(payload=io.BytesIO(csv_bytes), mime_type="text/csv"), mode=ImportMode.PARTIAL
)
assert isinstance(again, ImportResponse), again
print(f"raw text/csv upload again: counts {again.counts.to_dict()}")
assert (again.counts.created, again.counts.unchanged) == (0, 3), again.counts

# 4. all or nothing: the bad row refuses the whole file (422) and says why, row by row.
form_again = ImportFileForm(file=File(payload=io.BytesIO(csv_bytes), file_name="hallazgos.csv", mime_type="text/csv"))
refused = import_findings.sync_detailed(client=auditor, body=form_again, mode=ImportMode.ATOMIC)
problem = refused.parsed
assert refused.status_code == 422 and isinstance(problem, Problem), refused.content
print(f"atomic upload: {refused.status_code} {problem.code} — {problem.detail}")
for e in problem.errors:
    print(f"  row {e.row}: {e.field} {e.message}")
assert len(problem.errors) == 1 and "Altísima" in problem.errors[0].message, problem.errors
print("Python client smoke test passed")
