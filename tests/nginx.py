"""nginx on loopback for the proxy test and bench/proxy.py: Debian's package, installed
with apt-get when missing and running as root (as tests/chromium.py does for Chromium),
run in the foreground with its own prefix, temp and cache folders; no system service."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

SITE = Path(__file__).resolve().parent.parent / "deploy" / "nginx" / "dtm-geo.conf"


def ensure_nginx() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found:
        return found
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError("the proxy test needs Debian's nginx: apt-get install nginx (as root)")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", "nginx"], check=True, env=env)
    return shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def site(backend: str, port: int, cache: Path) -> str:
    """The committed configuration with its upstream, listen address and cache folder."""
    text = SITE.read_text()
    text = text.replace("server 127.0.0.1:8000;", f"server {backend};")
    text = re.sub(r"listen 80;", f"listen 127.0.0.1:{port};", text)
    return text.replace("/var/cache/nginx/dtm-geo", str(cache))


@contextmanager
def nginx(http: str, workers: int = 2) -> Iterator[Path]:
    """nginx (master and `workers` workers) with `http` as its http {} block."""
    binary = ensure_nginx()
    with tempfile.TemporaryDirectory(prefix="dtm-geo-nginx-") as folder:
        prefix = Path(folder)
        for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "logs"):
            (prefix / name).mkdir()
        temps = "\n".join(
            f"{kind}_temp_path {prefix / name};"
            for kind, name in (
                ("client_body", "body"),
                ("proxy", "proxy"),
                ("fastcgi", "fastcgi"),
                ("uwsgi", "uwsgi"),
                ("scgi", "scgi"),
            )
        )
        (prefix / "nginx.conf").write_text(
            f"""daemon off;
master_process on;
user root;
worker_processes {workers};
pid {prefix / "nginx.pid"};
error_log {prefix / "logs" / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    {temps}
    {http}
}}
"""
        )
        process = subprocess.Popen(
            [binary, "-p", str(prefix), "-c", str(prefix / "nginx.conf"), "-e",
             str(prefix / "logs" / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )  # fmt: skip
        try:
            ports = [int(p) for p in re.findall(r"listen 127\.0\.0\.1:(\d+);", http)]
            deadline = time.monotonic() + 20
            while not all(_open(p) for p in ports):
                if process.poll() is not None:
                    raise RuntimeError(f"nginx exited: {process.stderr.read().decode()[-2000:]}")
                if time.monotonic() > deadline:
                    raise RuntimeError("nginx did not listen")
                time.sleep(0.05)
            yield prefix
        finally:
            process.terminate()
            process.wait(timeout=20)


def _open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0
