"""The embedded PostGIS: a private cluster in a git-ignored folder of the project.

Used when DATABASE_URL is unset. It installs Debian's PostgreSQL and PostGIS packages
when they are missing and we run as root, initialises a cluster under `.pgdata/`, and
starts it on its own port (loopback only). No system service is touched.
"""

from __future__ import annotations

import ctypes.util
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.errors import ConfigError
from app.settings import Settings

PG_ROOT = Path("/usr/lib/postgresql")
Say = Callable[[str], None]


@dataclass(frozen=True)
class Binaries:
    version: str
    bindir: Path

    def __getitem__(self, name: str) -> str:
        return str(self.bindir / name)


def _is_root() -> bool:
    return os.geteuid() == 0


def find_binaries() -> Binaries | None:
    """The newest PostgreSQL server installation on this machine, if any."""
    if not PG_ROOT.is_dir():
        return None
    versions = sorted(
        (d for d in PG_ROOT.iterdir() if (d / "bin" / "initdb").exists()),
        key=lambda d: int(d.name) if d.name.isdigit() else 0,
    )
    return Binaries(versions[-1].name, versions[-1] / "bin") if versions else None


def postgis_available(version: str) -> bool:
    return Path(f"/usr/share/postgresql/{version}/extension/postgis.control").exists()


def _apt_install(packages: list[str], say: Say) -> None:
    say(f"Installing Debian packages: {' '.join(packages)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", *packages]):
        result = subprocess.run(cmd, env=env, capture_output=True, text=True)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise ConfigError(f"'{' '.join(cmd)}' failed: {tail[0]}")


def ensure_binaries(say: Say) -> Binaries:
    """PostgreSQL server binaries with PostGIS, installing them when root and missing."""
    binaries = find_binaries()
    if binaries and postgis_available(binaries.version):
        return binaries
    hint = (
        "postgresql postgresql-<version>-postgis-3"
        if not binaries
        else (f"postgresql-{binaries.version}-postgis-3")
    )
    if not (_is_root() and shutil.which("apt-get")):
        raise ConfigError(
            f"PostgreSQL server with PostGIS is not installed: run 'sudo apt-get install {hint}' "
            "or set DATABASE_URL to an existing PostGIS database"
        )
    if not binaries:
        _apt_install(["postgresql"], say)
        binaries = find_binaries()
        if not binaries:
            raise ConfigError(
                "installed 'postgresql' but found no server under /usr/lib/postgresql"
            )
    if not postgis_available(binaries.version):
        _apt_install([f"postgresql-{binaries.version}-postgis-3"], say)
    if not postgis_available(binaries.version):
        raise ConfigError(f"PostGIS for PostgreSQL {binaries.version} is still missing")
    return binaries


# What reports and print maps typeset with (WeasyPrint: Pango shapes the Arabic), and the
# fonts they name: each package, and a library or file that says it is installed.
TYPESETTING = {
    "libpango-1.0-0": "pango-1.0",
    "libpangoft2-1.0-0": "pangoft2-1.0",
    "fonts-noto-core": "/usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf",
    "fonts-dejavu-core": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
}


def _installed(marker: str) -> bool:
    if marker.startswith("/"):
        return Path(marker).exists()
    return ctypes.util.find_library(marker) is not None


def ensure_typesetting(say: Say) -> None:
    """Pango and the fonts for PDF reports, installed as PostGIS is (when root and missing);
    without them the service still runs and a PDF answers 503 saying what is missing."""
    missing = [name for name, marker in TYPESETTING.items() if not _installed(marker)]
    if not missing:
        return
    if not (_is_root() and shutil.which("apt-get")):
        say(f"PDF reports need {' '.join(missing)}: sudo apt-get install {' '.join(missing)}")
        return
    _apt_install(missing, say)


class LocalCluster:
    """Start, stop and inspect the project's private cluster."""

    def __init__(self, settings: Settings, say: Say = print):
        self.settings = settings
        self.say = say
        self.root = settings.local_db_dir.resolve()
        self.datadir = self.root / "cluster"
        self.logfile = self.root / "postgres.log"
        self.port = settings.local_db_port

    # -- running commands as the cluster's owner ---------------------------------------
    def _as_owner(self, args: list[str]) -> list[str]:
        # PostgreSQL refuses to run as root: hand the work to the 'postgres' user.
        return ["runuser", "-u", "postgres", "--", *args] if _is_root() else args

    def _run(self, args: list[str], check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(self._as_owner(args), capture_output=True, text=True)
        if check and result.returncode != 0:
            detail = (result.stderr or result.stdout).strip().splitlines()
            raise ConfigError(
                f"{Path(args[0]).name} failed: {detail[-1] if detail else 'no output'}"
            )
        return result

    # -- lifecycle ----------------------------------------------------------------------
    def initialised(self) -> bool:
        return (self.datadir / "PG_VERSION").exists()

    def running(self, binaries: Binaries) -> bool:
        if not self.initialised():
            return False
        return (
            self._run(
                [binaries["pg_ctl"], "status", "-D", str(self.datadir)], check=False
            ).returncode
            == 0
        )

    def _prepare_folder(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if _is_root():
            shutil.chown(self.root, "postgres", "postgres")
            probe = subprocess.run(
                ["runuser", "-u", "postgres", "--", "test", "-w", str(self.root)]
            )
            if probe.returncode != 0:
                raise ConfigError(
                    f"the 'postgres' user cannot write {self.root}: make its parent folders "
                    "traversable (chmod o+x) or set LOCAL_DB_DIR elsewhere"
                )

    def init(self, binaries: Binaries) -> None:
        self._prepare_folder()
        self.say(f"Initialising a PostgreSQL {binaries.version} cluster in {self.datadir}")
        self._run(
            [
                binaries["initdb"],
                "-D",
                str(self.datadir),
                "-U",
                self.settings.local_db_user,
                "--auth=trust",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
            ]
        )

    def _port_busy(self) -> bool:
        with socket.socket() as s:
            s.settimeout(0.5)
            return s.connect_ex(("127.0.0.1", self.port)) == 0

    def start(self, binaries: Binaries) -> None:
        if self._port_busy():
            raise ConfigError(
                f"port {self.port} is taken by another program: set LOCAL_DB_PORT to a free port"
            )
        self.say(f"Starting the local PostGIS on 127.0.0.1:{self.port}")
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=''"
        self._run(
            [
                binaries["pg_ctl"],
                "start",
                "-w",
                "-t",
                "60",
                "-D",
                str(self.datadir),
                "-l",
                str(self.logfile),
                "-o",
                options,
            ]
        )

    def stop(self) -> None:
        binaries = find_binaries()
        if binaries and self.running(binaries):
            self._run([binaries["pg_ctl"], "stop", "-m", "fast", "-D", str(self.datadir)])
            self.say("Stopped the local PostGIS")

    def destroy(self) -> None:
        self.stop()
        if self.root.exists():
            shutil.rmtree(self.root)
            self.say(f"Removed {self.root}")

    def ensure_running(self) -> str:
        """Install, initialise and start as needed; return the server's admin URL."""
        binaries = ensure_binaries(self.say)
        if not self.initialised():
            self.init(binaries)
        if not self.running(binaries):
            self.start(binaries)
        self._wait_ready()
        return self.server_url("postgres")

    def _wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while not self._port_busy():
            if time.monotonic() > deadline:
                raise ConfigError(
                    f"the local PostGIS did not open port {self.port}; see {self.logfile}"
                )
            time.sleep(0.2)

    def server_url(self, database: str) -> str:
        return (
            f"postgresql+psycopg2://{self.settings.local_db_user}@127.0.0.1:{self.port}/{database}"
        )
