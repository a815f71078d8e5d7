"""The publishers on loopback: a DTM API v3 and a CKAN (HDX) built from the real response
shapes in the data directory, with faults to order (an error status, a pause, a body cut
short, a body that is not JSON).

Iraq's records are the real v2 records (`../shared/data/iom_dtm_api_iraq`) given the
fields v3 adds, as v3 writes them (see `iom_dtm_api_samples`). No Libya response is
public: tests build Libya's records from the loaded figures, in the same shape.
"""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlparse

IRAQ_FILES = {
    level: f"iom_dtm_api_iraq/idpadmin{level}data-getadmin{level}datav2-admin0pcode-irq.json"
    for level in (0, 1, 2)
}
V3_FIELDS = {  # what v3 records hold beside v2's fields (values as the v3 samples write)
    "displacementReason": "Conflict",
    "numberMales": None,
    "numberFemales": None,
    "idpOriginAdmin1Name": "Not available",
    "idpOriginAdmin1Pcode": "Not available",
}


def iraq_records(data_dir: Path) -> dict[int, list[dict]]:
    """Iraq's records by level, as v3 gives them."""
    found = {}
    for level, name in IRAQ_FILES.items():
        rows = json.loads((data_dir / name).read_bytes())["result"]
        found[level] = [{**row, **V3_FIELDS} for row in rows]
    return found


def remove_iraq_api_rounds(url: str) -> None:
    """Take Iraq's DTM API rounds (all but the Master List's Round 123) and what a sync
    recorded of them out of the database at `url`, so that the next sync is a cold one."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as conn:
        gone = "SELECT id FROM rounds WHERE operation = 'IRQ' AND code <> 'IRQ-R123'"
        conn.execute(text(f"DELETE FROM observations WHERE round_id IN ({gone})"))
        conn.execute(text("DELETE FROM rounds WHERE operation = 'IRQ' AND code <> 'IRQ-R123'"))
        conn.execute(text("DELETE FROM sync_items"))
        conn.execute(text("UPDATE data_version SET version = version + 1"))
    engine.dispose()


def envelope(records: list[dict]) -> dict:
    return {
        "result": records,
        "statusCode": 200,
        "isSuccess": True,
        "errorMessages": [],
        "totalRecordsCount": len(records),
    }


@dataclass
class Fault:
    """What to answer instead, for the next request whose path contains `path`."""

    path: str
    status: int = 200
    headers: dict = field(default_factory=dict)
    body: bytes | None = None
    pause: float = 0.0  # seconds before answering (a timeout, when longer than the client's)
    cut: bool = False  # promise a long body, send a little, close the connection


@dataclass
class Upstream:
    key: str = "test-key"
    records: dict[str, dict[int, list[dict]]] = field(default_factory=dict)  # iso3 -> level
    packages: dict[str, dict] = field(default_factory=dict)  # name -> package_show result
    files: dict[str, bytes] = field(default_factory=dict)  # /files/<name>
    faults: deque = field(default_factory=deque)
    requests: list[tuple[float, str]] = field(default_factory=list)
    base: str = ""

    def fault(self, *faults: Fault) -> None:
        self.faults.extend(faults)

    def count(self, path: str) -> int:
        return sum(path in p for _, p in self.requests)

    def answer(self, handler: BaseHTTPRequestHandler) -> None:
        url = urlparse(handler.path)
        self.requests.append((time.monotonic(), handler.path))
        for f in list(self.faults):
            if f.path in url.path:
                self.faults.remove(f)
                return _send_fault(handler, f)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path.startswith("/v3/displacement/admin"):
            if handler.headers.get("Ocp-Apim-Subscription-Key") != self.key:
                return _send(handler, 401, {"statusCode": 401, "message": "Access denied"})
            level = int(url.path.rsplit("admin", 1)[1])
            rows = self.records.get(query.get("Admin0Pcode", ""), {}).get(level, [])
            low = int(query.get("FromRoundNumber", 0))
            high = int(query.get("ToRoundNumber", 1 << 30))
            rows = [r for r in rows if low <= r["roundNumber"] <= high]
            return _send(handler, 200, envelope(rows))
        if url.path == "/api/3/action/package_show":
            package = self.packages.get(query.get("id", ""))
            if package is None:
                return _send(handler, 404, {"success": False, "error": {"message": "Not found"}})
            return _send(handler, 200, {"success": True, "result": package})
        if url.path.startswith("/files/") and url.path[7:] in self.files:
            return _send_bytes(handler, 200, self.files[url.path[7:]], "application/octet-stream")
        return _send(handler, 404, {"message": "not found"})

    def start(self) -> ThreadingHTTPServer:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                upstream.answer(self)

            def log_message(self, *_):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.base = f"http://127.0.0.1:{server.server_address[1]}"
        return server


def _send(handler, status: int, body) -> None:
    _send_bytes(handler, status, json.dumps(body).encode(), "application/json")


def _send_bytes(handler, status: int, data: bytes, kind: str, headers: dict | None = None):
    handler.send_response(status)
    handler.send_header("Content-Type", kind)
    handler.send_header("Content-Length", str(len(data)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    handler.wfile.write(data)


def _send_fault(handler, f: Fault) -> None:
    if f.pause:
        time.sleep(f.pause)
    body = f.body if f.body is not None else json.dumps({"statusCode": f.status}).encode()
    if f.cut:
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body) + 100_000))
        handler.end_headers()
        handler.wfile.write(body[: len(body) // 2])
        handler.wfile.flush()
        handler.close_connection = True
        return
    with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
        _send_bytes(handler, f.status, body, "application/json", f.headers)
