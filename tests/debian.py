"""Debian packages the tests need beside Python's (a browser, QGIS, poppler, nginx),
installed with apt-get when missing and running as root, as app/localdb.py does for PostGIS.

`python3 -m tests.debian` installs all of them at once, in one apt transaction (CI runs it
before the test command, so that the suite's time is the tests' own; each test module
still installs what it lacks when run alone)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable

# every package a test module installs, by the module that needs it
TEST_PACKAGES = {
    "tests/chromium.py": ["chromium", "chromium-driver"],
    "tests/poppler.py": ["poppler-utils"],
    "tests/qgis.py": ["python3-qgis"],
    "tests/nginx.py": ["nginx"],
}


def ensure_packages(packages: list[str], present: Callable[[], bool]) -> None:
    """Install `packages` unless `present()`; RuntimeError saying how when it cannot."""
    if present():
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        raise RuntimeError(
            f"these tests need Debian's {' '.join(packages)}: apt-get install "
            f"{' '.join(packages)} (as root)"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *packages], check=True, env=env)
    if not present():
        raise RuntimeError(f"installed {' '.join(packages)}, but they are still missing")


def install_all() -> None:
    """Every test package missing from the machine, in one apt transaction (as root)."""
    wanted = [p for packages in TEST_PACKAGES.values() for p in packages]
    status = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package} ${db:Status-Status}\n", *wanted],
        capture_output=True,
        text=True,
    )
    lines = status.stdout.splitlines()
    installed = {line.split()[0] for line in lines if line.endswith(" installed")}
    missing = [p for p in wanted if p not in installed]
    if not missing:
        print("test packages: all present")
        return
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        print(f"test packages missing (the tests install them as root): {' '.join(missing)}")
        return
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
    subprocess.run(["apt-get", "install", "-y", "-qq", *missing], check=True, env=env)
    print(f"test packages installed: {' '.join(missing)}")


if __name__ == "__main__":
    install_all()
