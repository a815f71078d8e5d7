"""Post a round to DTM Geo over HTTP, the way a rapid-update script would.

    DTM_GEO_URL=http://127.0.0.1:8000 DTM_GEO_KEY=dtmgeo_... \
        python examples/post_round.py R55 observations.csv --source "IOM DTM Libya"

Creates the round if it does not exist (a mobility-tracking round numbered from its code,
or pass --kind and --event for a flash update), uploads the file (XLSX or long CSV) with
an Idempotency-Key derived from its content, so a retried run changes nothing, and prints
the server's summary. Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import sys
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def call(
    method: str,
    url: str,
    key: str,
    body: bytes | None = None,
    content_type: str = "application/json",
    headers: dict | None = None,
) -> tuple[int, dict]:
    request = urllib.request.Request(
        url,
        data=body,
        method=method,
        headers={"X-API-Key": key, "Content-Type": content_type, **(headers or {})},
    )
    try:
        with urllib.request.urlopen(request, timeout=600) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"{}")


def main() -> int:
    parser = argparse.ArgumentParser(description="Post a round's file to DTM Geo.")
    parser.add_argument("round", help="round code, e.g. R55")
    parser.add_argument("file", type=Path, help="an .xlsx (DTM Libya layout) or long .csv")
    parser.add_argument("--source", required=True, help="publication the figures come from")
    parser.add_argument("--title", help="round title when creating it")
    parser.add_argument(
        "--kind",
        default="mobility_tracking",
        choices=["mobility_tracking", "flash_update", "event_tracking"],
    )
    parser.add_argument("--event", help="event slug for flash updates, e.g. storm-daniel-2023")
    parser.add_argument("--dry-run", action="store_true", help="validate only")
    args = parser.parse_args()
    base = os.environ.get("DTM_GEO_URL", "http://127.0.0.1:8000").rstrip("/")
    key = os.environ.get("DTM_GEO_KEY") or sys.exit("set DTM_GEO_KEY to an API key")

    status, _ = call("GET", f"{base}/api/v1/rounds/{args.round}", key)
    if status == 404:
        number = int(args.round[1:]) if args.round[1:].isdigit() else None
        meta = {
            "kind": args.kind,
            "event_slug": args.event,
            "source": args.source,
            "number": number if args.kind == "mobility_tracking" else None,
            "title": args.title or f"DTM Libya {args.round}",
        }
        status, body = call(
            "PUT", f"{base}/api/v1/rounds/{args.round}", key, json.dumps(meta).encode()
        )
        if status not in (200, 201):
            print(f"could not create round {args.round}: {body.get('detail')}", file=sys.stderr)
            return 1
        print(f"created round {args.round}")

    data = args.file.read_bytes()
    content_type = XLSX if args.file.suffix.lower() == ".xlsx" else "text/csv"
    query = urllib.parse.urlencode({"source": args.source, "dry_run": str(args.dry_run).lower()})
    status, body = call(
        "POST",
        f"{base}/api/v1/rounds/{args.round}/files?{query}",
        key,
        data,
        content_type,
        {"Idempotency-Key": hashlib.sha256(data).hexdigest()[:32]},
    )
    if status != 200:
        print(f"refused ({status}): {body.get('detail')}", file=sys.stderr)
        for error in body.get("errors", [])[:20]:
            print(
                f"  row {error['row']}, {error['column']} = {error['value']!r}: {error['message']}",
                file=sys.stderr,
            )
        return 1
    print(
        f"round {body['round']}: {body['rows']} rows; {body['inserted']} inserted, "
        f"{body['updated']} updated, {body['removed']} removed, {body['unchanged']} unchanged"
        + (
            " (dry run: nothing written)"
            if body["dry_run"]
            else f"; now at revision {body['round_revision']}"
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
