"""`dtm-geo data fetch`: downloads from a mirror served on loopback (never the internet),
verifies checksums, keeps nothing that fails, resumes a dropped connection."""

from __future__ import annotations

import csv
import hashlib
import socket
import threading
import time
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


def _manifest(
    tmp_path: Path,
    files: dict[str, bytes],
    wrong: set[str] = frozenset(),
    urls: dict[str, str] | None = None,
) -> Path:
    path = tmp_path / "manifest.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "source", "licence", "sha256", "bytes", "url"])
        for name, body in files.items():
            digest = hashlib.sha256(b"other" if name in wrong else body).hexdigest()
            writer.writerow([name, "test", "test", digest, len(body), (urls or {}).get(name, "")])
    return path


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again on leaving: connections are refused


def _folders(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_dir()) if root.exists() else []


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
    assert not (tmp_path / "data").exists()  # no file, and no folder made for it


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


def test_unreachable_hosts_fail_at_once_listing_every_missing_file(tmp_path, files):
    """A mirror that serves one file, a host that does not resolve (two files) and a closed
    port: the served file lands, the other three are listed in one error with both
    remedies, within 5 s (no retries of a dead host), and no empty folder is left."""
    body = files["a/good.csv"]
    wanted = {
        "a/good.csv": body,
        "dns/one.csv": b"1",
        "dns/deeper/two.csv": b"2",
        "refused/three.csv": b"3",
    }
    with Mirror(files) as mirror:
        urls = {
            "a/good.csv": f"{mirror.url}/a/good.csv",
            "dns/one.csv": "http://nonexistent.invalid/one.csv",
            "dns/deeper/two.csv": "http://nonexistent.invalid/two.csv",
            "refused/three.csv": f"http://127.0.0.1:{_closed_port()}/three.csv",
        }
        manifest = _manifest(tmp_path, wanted, urls=urls)
        started = time.monotonic()
        with pytest.raises(FetchError) as caught:
            fetch_missing(tmp_path / "data", manifest=manifest, attempts=5, backoff=1)
        elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f} s"
    message = str(caught.value)
    assert "3 source file(s) missing" in message
    for path in ("dns/one.csv", "dns/deeper/two.csv", "refused/three.csv"):
        assert path in message
    assert "host not found" in message and "connection refused" in message
    assert "DATA_MIRROR_URL" in message and "DATA_DIR" in message
    assert (tmp_path / "data" / "a" / "good.csv").read_bytes() == body
    assert _folders(tmp_path / "data") == [tmp_path / "data" / "a"]


def test_cli_offline_lists_every_file_in_one_line_within_5_seconds(tmp_path):
    target = tmp_path / "fresh"
    started = time.monotonic()
    result = run_cli(
        "data", "fetch", "--data-dir", str(target), DATA_MIRROR_URL="http://nonexistent.invalid/"
    )
    elapsed = time.monotonic() - started
    assert elapsed < 5, f"took {elapsed:.1f} s"
    assert_one_line_error(result, f"{len(manifest_rows())} source file(s) missing")
    for row in manifest_rows():
        assert row.path in result.stderr
    assert "DATA_MIRROR_URL" in result.stderr and "DATA_DIR" in result.stderr
    assert not target.exists()


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


def test_make_run_on_a_machine_without_shared_data(tmp_path, data_dir, scratch_url, client):
    """`dtm-geo run` (what `make run` runs) with a fresh data directory and a loopback mirror
    of only the manifest's files (the ones with a public URL): it fetches them, loads them
    with the repository's transcriptions into an empty database and serves; /readyz is 200,
    and the R38-R39 change and the Storm Daniel timeline answer as with the full data."""
    import json
    import os
    import subprocess
    import sys
    import urllib.request

    files = {row.path: (data_dir / row.path).read_bytes() for row in manifest_rows()}
    assert all(row.url for row in manifest_rows())  # every one has a public URL
    port = _closed_port()
    paths = [
        "/api/v1/stats/change?level=0&from_round=R38&to_round=R39",
        "/api/v1/events/storm-daniel-2023",
    ]
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
        base, ready, answers = f"http://127.0.0.1:{port}", None, {}
        try:
            for _ in range(600):  # polled until it is ready, or the process ends
                if process.poll() is not None:
                    break
                try:
                    with urllib.request.urlopen(base + "/readyz", timeout=5) as response:
                        ready = response.status
                        break
                except OSError:
                    time.sleep(0.5)
            for path in paths if ready else []:
                with urllib.request.urlopen(base + path, timeout=30) as response:
                    answers[path] = json.loads(response.read())
        finally:
            process.terminate()
            _, stderr = process.communicate(timeout=60)
    assert ready == 200, stderr
    assert f"{len(files)} file(s) downloaded" in stderr
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == sorted(
        {row.path.split("/")[0] for row in manifest_rows()}
    )
    change = answers[paths[0]]
    idp = next(r for r in change["data"] if r["population_type"] == "idp")
    assert (idp["before"], idp["after"], idp["change"]) == (199_949, 179_047, -20_902)
    event = answers[paths[1]]
    assert any(f["value"] == 44_862 for f in event["timeline"])
    for path in paths:  # as the test database, loaded from the developers' full copy
        assert answers[path] == client.get(path).json(), path
