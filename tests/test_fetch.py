"""`dtm-geo data fetch`: downloads from a mirror served on loopback (never the internet),
verifies checksums, keeps nothing that fails, resumes a dropped connection."""

from __future__ import annotations

import csv
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from app.errors import FetchError
from app.loaders.fetch import fetch_missing, manifest_rows
from tests.test_cli import assert_one_line_error, run_cli


class Mirror:
    """An HTTP server on 127.0.0.1 serving `files` by path; `drop` names paths whose first
    answer stops half-way; Range requests are honoured (206)."""

    def __init__(self, files: dict[str, bytes], drop: set[str] = frozenset()):
        self.files, self.drop, self.requests = files, set(drop), []
        mirror = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                path = self.path.lstrip("/")
                mirror.requests.append((path, self.headers.get("Range")))
                body = mirror.files.get(path)
                if body is None:
                    self.send_error(404)
                    return
                start = 0
                if rng := self.headers.get("Range"):
                    start = int(rng.removeprefix("bytes=").split("-")[0])
                    self.send_response(206)
                    self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
                else:
                    self.send_response(200)
                self.send_header("Content-Length", str(len(body) - start))
                self.end_headers()
                if path in mirror.drop:
                    mirror.drop.discard(path)
                    self.wfile.write(body[start : start + len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.wfile.write(body[start:])

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Mirror:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def _manifest(tmp_path: Path, files: dict[str, bytes], wrong: set[str] = frozenset()) -> Path:
    path = tmp_path / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "source", "licence", "sha256", "bytes", "url"])
        for name, body in files.items():
            digest = hashlib.sha256(b"other" if name in wrong else body).hexdigest()
            writer.writerow([name, "test", "test", digest, len(body), ""])
    return path


@pytest.fixture
def files() -> dict[str, bytes]:
    return {
        "a/good.csv": b"pcode,value\n" + b"LY010102,1\n" * 5000,
        "b/bad.xlsx": b"not what the manifest says" * 100,
        "c/dropped.bin": bytes(range(256)) * 2000,
    }


def test_good_file_is_downloaded_and_verified(tmp_path, files):
    manifest = _manifest(tmp_path, {"a/good.csv": files["a/good.csv"]})
    seen = []
    with Mirror(files) as mirror:
        results = fetch_missing(
            tmp_path / "data", mirror.url, manifest=manifest, progress=lambda *a: seen.append(a)
        )
    assert [r.status for r in results] == ["downloaded"]
    assert (tmp_path / "data" / "a" / "good.csv").read_bytes() == files["a/good.csv"]
    assert seen[-1] == ("a/good.csv", len(files["a/good.csv"]), len(files["a/good.csv"]))
    # a second run finds it and asks nothing
    with Mirror(files) as mirror:
        again = fetch_missing(tmp_path / "data", mirror.url, manifest=manifest)
        assert mirror.requests == []
    assert [r.status for r in again] == ["present"]


def test_wrong_checksum_is_refused_and_nothing_is_kept(tmp_path, files):
    manifest = _manifest(tmp_path, {"b/bad.xlsx": files["b/bad.xlsx"]}, wrong={"b/bad.xlsx"})
    with Mirror(files) as mirror, pytest.raises(FetchError, match="checksum mismatch"):
        fetch_missing(tmp_path / "data", mirror.url, manifest=manifest, backoff=0)
    assert list((tmp_path / "data" / "b").iterdir()) == []


def test_dropped_connection_is_resumed_with_a_range_request(tmp_path, files):
    body = files["c/dropped.bin"]
    manifest = _manifest(tmp_path, {"c/dropped.bin": body})
    with Mirror(files, drop={"c/dropped.bin"}) as mirror:
        results = fetch_missing(tmp_path / "data", mirror.url, manifest=manifest, backoff=0)
    assert [r.status for r in results] == ["downloaded"]
    assert (tmp_path / "data" / "c" / "dropped.bin").read_bytes() == body
    assert mirror.requests[0] == ("c/dropped.bin", None)
    assert mirror.requests[1] == ("c/dropped.bin", f"bytes={len(body) // 2}-")
    assert not (tmp_path / "data" / "c" / "dropped.bin.part").exists()


def test_offline_fails_naming_the_file_its_url_and_data_dir(tmp_path, files):
    manifest = _manifest(tmp_path, {"a/good.csv": files["a/good.csv"]})
    with Mirror(files) as mirror:
        url = mirror.url
    # the server is gone: connection refused, retried, then one clear message
    with pytest.raises(FetchError) as caught:
        fetch_missing(tmp_path / "data", url, manifest=manifest, attempts=2, backoff=0)
    message = str(caught.value)
    assert "a/good.csv" in message and f"{url}/a/good.csv" in message and "DATA_DIR" in message
    assert not (tmp_path / "data" / "a" / "good.csv").exists()


def test_cli_fetches_the_default_data_set_from_a_mirror(tmp_path, data_dir):
    """A machine without ../shared: the real manifest, every file from a loopback mirror."""
    files = {row.path: (data_dir / row.path).read_bytes() for row in manifest_rows()}
    target = tmp_path / "data"
    with Mirror(files, drop={next(iter(files))}) as mirror:
        result = run_cli("data", "fetch", "--data-dir", str(target), DATA_MIRROR_URL=mirror.url)
    assert result.returncode == 0, result.stderr
    assert f"{len(files)} file(s) downloaded" in result.stderr
    check = run_cli("data", "check", "--data-dir", str(target))
    assert check.returncode == 0 and check.stdout.count("ok ") == len(files), check.stdout


def test_cli_offline_is_one_line(tmp_path):
    result = run_cli(
        "data",
        "fetch",
        "--data-dir",
        str(tmp_path),
        DATA_MIRROR_URL="http://127.0.0.1:9",
        DATA_FETCH_ATTEMPTS="1",
    )
    assert_one_line_error(result, "http://127.0.0.1:9/ocha_cod_ab_lby/")
    assert "DATA_DIR" in result.stderr


def test_cli_refuses_an_altered_file_from_the_mirror(tmp_path, data_dir):
    files = {row.path: (data_dir / row.path).read_bytes() for row in manifest_rows()}
    altered = "dtm_libya_r39_idps_returnees/hdx_dtm-libya-r39-public-idps-returnees-dataset.xlsx"
    files[altered] = files[altered][:-10] + b"0123456789"
    with Mirror(files) as mirror:
        result = run_cli("data", "fetch", "--data-dir", str(tmp_path), DATA_MIRROR_URL=mirror.url)
    assert result.returncode == 1
    assert "checksum mismatch" in result.stderr and altered in result.stderr
    assert not (tmp_path / altered).exists()
    assert not (tmp_path / (altered + ".part")).exists()


def test_make_run_on_a_machine_without_shared_data_serves_round_39(tmp_path, data_dir, scratch_url):
    """`dtm-geo run` (what `make run` runs) with an empty data directory and a mirror URL:
    it fetches every file, loads them and serves Round 39."""
    import json
    import os
    import socket
    import subprocess
    import sys
    import time
    import urllib.request

    files = {row.path: (data_dir / row.path).read_bytes() for row in manifest_rows()}
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with Mirror(files) as mirror:
        env = {
            **os.environ,
            "DATA_DIR": str(tmp_path / "data"),
            "DATA_MIRROR_URL": mirror.url,
            "DATABASE_URL": scratch_url,
            "WORKERS": "1",
            "ACCESS_LOG": "false",
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "run", "--port", str(port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            url = f"http://127.0.0.1:{port}/api/v1/stats?level=0&round=R39&population_type=idp"
            body = None
            for _ in range(600):  # polled until it answers, or the process ends
                if process.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(url, timeout=5) as response:
                        body = json.loads(response.read())
                        break
                except OSError:
                    time.sleep(0.5)
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=60)
    assert body is not None, stderr
    assert body["data"][0]["individuals"] == 179_047
    assert f"{len(files)} file(s) downloaded" in stderr
