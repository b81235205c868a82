"""Schemathesis checks of scripts/fuzz-contract.sh (loaded with SCHEMATHESIS_HOOKS=fuzz_hooks)."""

import os

import schemathesis

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
# Writes a viewer may make: changing their own password.
VIEWER_MAY = {
    ("POST", "/api/v1/me/password"),
    # Every member marks their own notifications read.
    ("POST", "/api/v1/me/notifications/{id}/read"),
    ("POST", "/api/v1/me/notifications/read-all"),
}


@schemathesis.check
def viewer_writes_are_forbidden(ctx, response, case):
    """With FUZZ_ROLE=viewer: every protected write answers 403, whatever the input."""
    if os.environ.get("FUZZ_ROLE") != "viewer":
        return None
    # Checks such as `ignored_auth` also send the request without credentials (401 is right).
    if not response.request.headers.get("Authorization"):
        return None
    method = case.method.upper()
    # Probes of undocumented methods (405) are not the operation's own writes.
    if method != case.operation.method.upper():
        return None
    path = case.operation.path
    secured = bool(case.operation.definition.raw.get("security"))
    if method in WRITES and secured and (method, path) not in VIEWER_MAY and response.status_code != 403:
        raise AssertionError(f"a viewer got {response.status_code} (not 403) from {method} {path}")
    return None
