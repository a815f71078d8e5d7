"""Download the default data set's missing files from their publishers (or a mirror).

Each row of `data/boundaries/manifest.csv` names a file (relative to `DATA_DIR`), its
public source URL and its SHA-256. A missing file is downloaded to `<name>.part`,
resumed with an HTTP Range request when the connection drops, retried with a growing
pause (and the server's `Retry-After`), and moved into place only once its checksum
matches: a file that fails the check is deleted, never kept. With a mirror base URL
(`DATA_MIRROR_URL`), every file is taken from `<mirror>/<path>` instead.

Every missing file is tried before failing, and the failure lists them all with both
remedies. A host that does not resolve or refuses connections is not retried (nor asked
again for its other files): offline, the command fails at once. A file's folder is made
only when its download starts, and folders made for files that failed are removed.
"""

from __future__ import annotations

import csv
import http.client
import os
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from app.errors import FetchError
from app.loaders.manifest import MANIFEST
from app.loaders.sources import sha256

CHUNK = 64 * 1024
USER_AGENT = "dtm-geo data fetch (+https://github.com/; polite: one file at a time)"


@dataclass(frozen=True)
class ManifestRow:
    path: str
    url: str
    sha256: str
    bytes: int
    licence: str


@dataclass(frozen=True)
class Fetched:
    path: str
    status: str  # 'present', 'downloaded' or 'changed' (present, differs from the manifest)
    url: str = ""


# progress(path, done_bytes, total_bytes); total is 0 when unknown
Progress = Callable[[str, int, int], None]


def manifest_rows(manifest: Path = MANIFEST) -> list[ManifestRow]:
    with manifest.open(encoding="utf-8") as handle:
        return [
            ManifestRow(
                r["path"], r.get("url") or "", r["sha256"], int(r["bytes"] or 0), r["licence"]
            )
            for r in csv.DictReader(handle)
        ]


def source_url(row: ManifestRow, mirror: str | None) -> str:
    if mirror:
        return f"{mirror.rstrip('/')}/{row.path}"
    return row.url


def fetch_missing(
    data_dir: Path,
    mirror: str | None = None,
    progress: Progress = lambda *_: None,
    manifest: Path = MANIFEST,
    attempts: int = 5,
    backoff: float = 1.0,
    timeout: float = 60.0,
) -> list[Fetched]:
    """Make sure every manifest file is in `data_dir`; download the missing ones.

    Raises one FetchError naming every file that is still missing afterwards."""
    data_dir = Path(data_dir)
    results, failures = [], []
    unreachable: dict[str, str] = {}  # host -> why it cannot be reached
    for row in manifest_rows(manifest):
        target = data_dir / row.path
        if target.exists():
            same = sha256(target) == row.sha256
            results.append(Fetched(row.path, "present" if same else "changed"))
            continue
        url = source_url(row, mirror)
        if not url:
            failures.append(f"{row.path} (no public download URL)")
            continue
        host = urlsplit(url).netloc
        if host in unreachable:
            failures.append(f"{row.path} ({url}: {unreachable[host]})")
            continue
        made = _missing_parents(target.parent, data_dir)
        try:
            download(row, url, target, progress, attempts, backoff, timeout)
        except _Unreachable as exc:
            unreachable[host] = str(exc)
            failures.append(f"{row.path} ({url}: {exc})")
        except FetchError as exc:
            failures.append(str(exc))
        else:
            results.append(Fetched(row.path, "downloaded", url))
        finally:
            _remove_if_empty(made)
    if failures:
        raise FetchError(
            f"{len(failures)} source file(s) missing from DATA_DIR ({data_dir}) and not "
            f"downloaded: {'; '.join(failures)}. Set DATA_MIRROR_URL to a mirror of the "
            "data directory that serves them, or DATA_DIR to a folder that holds them"
        )
    return results


def _missing_parents(folder: Path, data_dir: Path) -> list[Path]:
    """The folders between `data_dir` (inclusive) and `folder` that do not exist yet,
    deepest first: the ones a download would create."""
    missing = []
    for path in [folder, *folder.parents]:
        if path.exists():
            break
        missing.append(path)
        if path == data_dir:
            break
    return missing


def _remove_if_empty(folders: list[Path]) -> None:
    for folder in folders:  # deepest first
        try:
            folder.rmdir()
        except OSError:  # not empty (a file landed) or never made
            return


def download(
    row: ManifestRow,
    url: str,
    target: Path,
    progress: Progress,
    attempts: int,
    backoff: float,
    timeout: float,
) -> None:
    part = target.with_name(target.name + ".part")
    last_error = ""
    for attempt in range(attempts):
        try:
            _get(url, part, target, row, progress, timeout)
            break
        except _Retry as exc:
            last_error = str(exc)
            if attempt + 1 < attempts:
                time.sleep(exc.wait if exc.wait is not None else backoff * 2**attempt)
        except urllib.error.HTTPError as exc:
            part.unlink(missing_ok=True)
            raise FetchError(f"{row.path} ({url} answered {exc.code} {exc.reason})") from None
    else:
        part.unlink(missing_ok=True)
        raise FetchError(f"{row.path} ({url}: {last_error}, after {attempts} attempts)")
    digest = sha256(part)
    if digest != row.sha256:
        part.unlink(missing_ok=True)
        raise FetchError(
            f"{row.path} (checksum mismatch for {url}: sha256 {digest[:16]}..., manifest "
            f"{row.sha256[:16]}...; the download was deleted)"
        )
    os.replace(part, target)


class _Unreachable(Exception):
    """The host does not resolve or refuses connections: retrying will not help."""


def _unreachable(exc: BaseException) -> str | None:
    reason = getattr(exc, "reason", exc)
    if isinstance(reason, socket.gaierror):
        return "host not found (no network, or a wrong address)"
    if isinstance(reason, ConnectionRefusedError):
        return "connection refused"
    return None


class _Retry(Exception):
    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.wait = wait


def _get(
    url: str, part: Path, target: Path, row: ManifestRow, progress: Progress, timeout: float
) -> None:
    """One attempt: resume `part` from its size; raise _Retry on transient failures."""
    have = part.stat().st_size if part.exists() else 0
    if row.bytes and have >= row.bytes:
        return  # complete from an earlier attempt; the checksum decides
    headers = {"User-Agent": USER_AGENT}
    if have:
        headers["Range"] = f"bytes={have}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # range past the end: the part is complete
            return
        if exc.code in (429, 500, 502, 503, 504):
            retry_after = exc.headers.get("Retry-After", "")
            wait = float(retry_after) if retry_after.isdigit() else None
            raise _Retry(f"HTTP {exc.code}", None if wait is None else min(wait, 60)) from None
        raise
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        if why := _unreachable(exc):
            raise _Unreachable(why) from None
        reason = getattr(exc, "reason", exc)
        raise _Retry(f"{type(exc).__name__}: {reason}") from None
    target.parent.mkdir(parents=True, exist_ok=True)  # the download starts: now a folder
    with response:
        if have and response.status != 206:
            have = 0  # the server ignored the range: start again
        total = row.bytes or have + int(response.headers.get("Content-Length") or 0)
        done = have
        progress(row.path, done, total)
        try:
            with part.open("ab" if have else "wb") as out:
                while chunk := response.read(CHUNK):
                    out.write(chunk)
                    done += len(chunk)
                    progress(row.path, done, total)
        except (OSError, http.client.HTTPException) as exc:
            raise _Retry(f"connection lost after {done} bytes ({type(exc).__name__})") from None
    if row.bytes and done < row.bytes:
        raise _Retry(f"connection closed after {done} of {row.bytes} bytes")
