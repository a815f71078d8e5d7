"""Compare two servers' answers to the same GET paths, byte for byte.

Each path of the list (one a line; blank lines and `#` comments skipped) is fetched from
both base URLs, one request at a time, with a 30 s timeout. A path whose status,
Content-Type or body (SHA-256 of the raw bytes, nothing normalised) differ prints one
line with both statuses and sizes; a summary line follows. The exit status is always 0.

Answers that link to themselves are built from the request's Host header: with two servers
on two ports, `--host` sends both the same one (the request, not the answer, is made equal).

    python bench/compare_answers.py --before http://127.0.0.1:18101 \
        --after http://127.0.0.1:18102 --host dtm-geo.test bench/libya_paths.txt
"""

from __future__ import annotations

import argparse
import hashlib
from pathlib import Path

import httpx

TIMEOUT = 30.0


def read_paths(path: Path) -> list[str]:
    """The list's paths, comments (whole-line or trailing ` #...`) and blank lines dropped."""
    paths = []
    for line in path.read_text(encoding="utf-8").splitlines():
        line = line.split(" #", 1)[0].strip()
        if line and not line.startswith("#"):
            paths.append(line)
    return paths


def fetch(client: httpx.Client, base: str, path: str) -> tuple[str, str, bytes]:
    """(status, Content-Type, body) of GET base+path; an exception's name as the status."""
    try:
        response = client.get(base.rstrip("/") + path)
    except httpx.HTTPError as exc:
        return type(exc).__name__, "", b""
    return str(response.status_code), response.headers.get("content-type", ""), response.content


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="base URL of the server before")
    parser.add_argument("--after", required=True, help="base URL of the server after")
    parser.add_argument("--host", help="Host header sent to both (default: each URL's own)")
    parser.add_argument("paths", type=Path, help="file of URL paths, one a line")
    args = parser.parse_args()

    paths = read_paths(args.paths)
    differ = 0
    # Raw bytes: no decompression asked for (identity), no redirects followed.
    headers = {"Accept-Encoding": "identity"}
    if args.host:
        headers["Host"] = args.host
    with httpx.Client(timeout=TIMEOUT, headers=headers, follow_redirects=False) as client:
        for path in paths:
            before = fetch(client, args.before, path)
            after = fetch(client, args.after, path)
            what = [
                name for name, i in (("status", 0), ("content-type", 1)) if before[i] != after[i]
            ]
            if hashlib.sha256(before[2]).digest() != hashlib.sha256(after[2]).digest():
                what.append("body")
            if what:
                differ += 1
                print(
                    f"DIFF {path}  [{','.join(what)}]  before {before[0]} {len(before[2])} B"
                    f" {before[1]!r}  after {after[0]} {len(after[2])} B {after[1]!r}",
                    flush=True,
                )
    print(f"{len(paths)} paths: {len(paths) - differ} identical, {differ} differ")


if __name__ == "__main__":
    main()
