#!/usr/bin/env python3
"""Verifies recorded webhook deliveries with the Standard Webhooks reference library.

Input (a file argument, or stdin): a JSON array of
  {"secret": "whsec_…", "headers": {"webhook-id": …, "webhook-timestamp": …,
   "webhook-signature": …}, "body": "<raw body text>"}
Exit 0 when every delivery verifies, 1 when one does not, 3 when the library is missing
(`pip install standardwebhooks`). The API tests call it (tests/api/webhooks.rs).
"""
import json
import sys

try:
    from standardwebhooks.webhooks import Webhook
except ImportError:
    print("standardwebhooks is not installed: pip install standardwebhooks", file=sys.stderr)
    sys.exit(3)


def main() -> int:
    source = open(sys.argv[1], encoding="utf-8") if len(sys.argv) > 1 else sys.stdin
    deliveries = json.load(source)
    failed = 0
    for i, d in enumerate(deliveries):
        try:
            payload = Webhook(d["secret"]).verify(d["body"], d["headers"])
        except Exception as e:  # noqa: BLE001 - report any refusal
            print(f"delivery {i} ({d['headers'].get('webhook-id')}): {e}", file=sys.stderr)
            failed += 1
            continue
        if not isinstance(payload, dict) or "type" not in payload or "data" not in payload:
            print(f"delivery {i}: payload lacks type/data: {payload!r}", file=sys.stderr)
            failed += 1
    print(f"{len(deliveries) - failed} of {len(deliveries)} deliveries verified with standardwebhooks")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
