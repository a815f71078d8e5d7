"""`dtm-geo sync hdx`: the workbooks of an operation's HDX datasets, file by file, through
the same readers and ingest pipeline as an upload.

- A dataset's resources come from CKAN's `package_show`. HDX leaves `hash` empty, so a
  resource is new or changed by its id, `last_modified` and `size`; one that is neither is
  not downloaded again.
- A download must have the size the package record gives, else it is refused.
- The file's round is the one its resource name gives ("... Round 39"), created when new.
  Its rows are read by app.ingest.parse (the DTM Libya layouts, Iraq's Master List); a file
  no reader recognises is skipped, by name, with nothing written.
- Each file is written in one transaction, its source naming the dataset, the resource id
  and the file's SHA-256; sync_items keeps its URL, size, last_modified and retrieval time.
  A round holding a stronger source's figures (app.sync.precedence) is compared instead.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker

from app.auth import KeyInfo
from app.ingest import parse, service
from app.ingest.pipeline import RoundBusy, ValidationFailed, lock_round, run
from app.loaders import catalog
from app.services import operations
from app.sync import compare, precedence, state
from app.sync.dtm_api import Outcome
from app.sync.http import Client, SourceError

KIND = "hdx"
PACKAGE_PATH = "/api/3/action/package_show"
FORMATS = ("xlsx",)  # what the readers take (HDX's CSV resources are summaries)
ROUND = re.compile(r"\bround\s*(\d+)\b", re.IGNORECASE)


def source_name(dataset: str) -> str:
    return f"{KIND}/{dataset}"


@dataclass(frozen=True)
class Resource:
    id: str
    name: str
    url: str
    size: int | None
    last_modified: str | None
    format: str

    @property
    def round_number(self) -> int | None:
        found = ROUND.search(self.name)
        return int(found[1]) if found else None


def package_url(base: str) -> str:
    return base.rstrip("/") + PACKAGE_PATH


def resources(client: Client, base: str, dataset: str) -> tuple[str, list[Resource]]:
    """The dataset's title and resources; SourceError when CKAN's answer is not one."""
    url = package_url(base)
    body = client.get_json(url, {"id": dataset})
    shown = f"{url}?id={dataset}"
    result = body.get("result") if isinstance(body, dict) else None
    if not isinstance(result, dict) or not isinstance(result.get("resources"), list):
        raise SourceError(f"{shown}: not a CKAN package_show answer (no 'result' resources)")
    found = []
    for r in result["resources"]:
        if not isinstance(r, dict) or not r.get("id") or not r.get("url"):
            continue
        size = r.get("size")
        found.append(
            Resource(
                str(r["id"]),
                str(r.get("name") or r["id"]),
                str(r["url"]),
                size if isinstance(size, int) and size >= 0 else None,
                str(r["last_modified"]) if r.get("last_modified") else None,
                str(r.get("format") or "").lower(),
            )
        )
    return str(result.get("title") or dataset), found


@dataclass
class FileWriter:
    """Writes the files of one HDX dataset of an operation."""

    sessions: sessionmaker
    op: operations.Operation
    dataset: str
    title: str
    order: tuple[str, ...]

    def __post_init__(self) -> None:
        self.name = source_name(self.dataset)
        self.key = KeyInfo(id=None, name=f"sync {self.name}", scopes=frozenset({"ingest"}))

    def source(self, res: Resource, sha: str) -> str:
        """The figures' source (its family is HDX's, see app.sync.precedence)."""
        return f"HDX {self.dataset}, resource {res.id} '{res.name}', sha256 {sha[:16]}"

    def write(self, res: Resource, data: bytes) -> Outcome:
        sha = hashlib.sha256(data).hexdigest()
        if res.size is not None and len(data) != res.size:
            return self.refused(
                res,
                sha,
                f"{res.url}: {len(data):,} bytes downloaded, the package record says "
                f"{res.size:,}; refused",
                len(data),
            )
        if res.round_number is None:
            return self.skipped(res, sha, "its name gives no round number", len(data))
        try:
            datasets = parse.xlsx_datasets(data)
        except parse.LayoutError as exc:
            return self.skipped(res, sha, f"no reader knows its layout ({exc})", len(data))
        with self.sessions() as session:
            try:
                outcome = self._write(session, res, sha, datasets, len(data))
            except ValidationFailed as failed:
                session.rollback()
                first = failed.errors[0]
                where = f"row {first['row']}" + (
                    f", {first['column']}" if first.get("column") else ""
                )
                more = f" ({failed.total} problems in all)" if failed.total > 1 else ""
                message = f"{res.name}: {where}: {first['message']}{more}"
                return self.refused(res, sha, message, len(data))
            except RoundBusy as busy:
                session.rollback()
                return Outcome(self.name, None, "refused", f"{busy}; the next sync retries")
            session.commit()
            return outcome

    def _round(self, session: Session, res: Resource) -> tuple[str, bool]:
        """The round the file fills (the operation's of that number), created when new."""
        number = res.round_number
        code = session.execute(
            text("""
            SELECT code FROM rounds WHERE operation = :o AND number = :n
              AND kind = 'mobility_tracking' ORDER BY reporting_date NULLS LAST, code LIMIT 1"""),
            {"o": self.op.iso3, "n": number},
        ).scalar()
        if code is not None:
            lock_round(session, code)
            return code, False
        code = f"{self.op.round_prefix}R{number}"
        fields = {
            "operation": self.op.iso3,
            "number": number,
            "kind": "mobility_tracking",
            "event_slug": None,
            "title": f"{self.title}: {res.name}",
            "collection_start": None,
            "collection_end": None,
            "reporting_date": None,
            "published_on": _day(res.last_modified),
            "source": f"HDX {self.dataset}",
            "source_url": res.url,
        }
        checksum = hashlib.sha256(res.id.encode()).hexdigest()  # of what created the round
        service.put_round(session, code, fields, self.key, None, checksum)
        return code, True

    def _write(self, session: Session, res: Resource, sha: str, datasets, size: int) -> Outcome:
        code, created = self._round(session, res)
        parts = {name: list(rows) for name, rows in datasets.items()}
        records = sum(len(rows) for rows in parts.values())
        holders = session.execute(
            text("""
            SELECT DISTINCT o.source FROM observations o JOIN rounds r ON r.id = o.round_id
            WHERE r.code = :c"""),
            {"c": code},
        ).scalars()
        stronger = precedence.stronger(holders, KIND, self.order)
        if stronger:
            incoming = compare.totals_of(parts.get("observations", []))
            message = compare.report(
                session, self.op.iso3, code, incoming, stronger, f"HDX's '{res.name}'"
            )
            self._save(session, res, code, sha, "held", size, message, records)
            return Outcome(self.name, code, "held", message)
        reports = [
            run(session, sub)
            for sub in service.file_parts(
                parts,
                code,
                source=self.source(res, sha),
                source_url=res.url,
                payload_sha256=sha,
                mode="replace",
                key=self.key,
            )
        ]
        self._save(session, res, code, sha, "written", size, None, records)
        if created:
            rows = sum(r["inserted"] for r in reports)
            return Outcome(self.name, code, "added", f"{res.name}: {rows} figures")
        changed = {k: sum(r[k] for r in reports) for k in ("inserted", "updated", "removed")}
        if not any(changed.values()):
            return Outcome(self.name, code, "unchanged", res.name)
        counts = ", ".join(f"{n} {k}" for k, n in changed.items())
        return Outcome(self.name, code, "changed", f"{res.name}: {counts}")

    def _save(self, session, res, code, sha, status, size, message=None, records=0) -> None:
        state.save_item(
            session,
            self.name,
            res.id,
            round_code=code,
            sha256=sha,
            records=records,
            status=status,
            message=message,
            url=res.url,
            size=size,
            last_modified=res.last_modified,
        )

    def skipped(self, res: Resource, sha: str, why: str, size: int) -> Outcome:
        message = f"'{res.name}' ({res.id}): {why}; skipped, nothing written"
        with self.sessions() as session:
            self._save(session, res, None, sha, "skipped", size, message)
            session.commit()
        return Outcome(self.name, None, "skipped", message)

    def refused(self, res: Resource, sha: str, message: str, size: int) -> Outcome:
        with self.sessions() as session:
            self._save(session, res, None, sha, "refused", size, message)
            session.commit()
        return Outcome(self.name, None, "refused", message)


def _day(stamp: str | None) -> date | None:
    try:
        return date.fromisoformat(stamp[:10]) if stamp else None
    except ValueError:
        return None


def datasets_of(op: operations.Operation) -> list[str]:
    return [r["dataset"] for r in catalog.hdx_dataset_rows() if r["operation"] == op.iso3]


def sync_dataset(
    client: Client,
    sessions: sessionmaker,
    op: operations.Operation,
    dataset: str,
    base: str,
    order: tuple[str, ...],
    limit: int,
    progress: Callable[[str, int, int], None] = lambda *_: None,
) -> list[Outcome]:
    """Sync one dataset; SourceError when its package cannot be read (nothing written)."""
    name = source_name(dataset)
    with sessions() as session:
        state.ensure_source(session, name, KIND, op.iso3, f"{package_url(base)}?id={dataset}")
        state.attempted(session, name)
        session.commit()
    try:
        title, found = resources(client, base, dataset)
    except SourceError as exc:
        _finish(sessions, name, str(exc), success=False)
        raise
    with sessions() as session:
        known = state.held(session, name)
    writer = FileWriter(sessions, op, dataset, title, order)
    outcomes: list[Outcome] = []
    wanted = [r for r in found if r.format in FORMATS]
    for i, res in enumerate(wanted, start=1):
        progress(name, i - 1, len(wanted))
        before = known.get(res.id)
        if (
            before is not None
            and before.status in ("written", "held", "skipped")
            and before.size == res.size
            and before.last_modified == res.last_modified
        ):
            outcomes.append(Outcome(name, None, "unchanged", res.name))
            continue
        if res.size is not None and res.size > limit:
            outcomes.append(
                writer.refused(
                    res, "", f"'{res.name}' is {res.size:,} bytes, above {limit:,}", res.size
                )
            )
            continue
        try:
            data = client.get_bytes(res.url, limit)
        except SourceError as exc:
            outcomes.append(Outcome(name, None, "refused", str(exc)))
            continue
        outcomes.append(writer.write(res, data))
    progress(name, len(wanted), len(wanted))
    refused = [o for o in outcomes if o.status == "refused"]
    error = f"{len(refused)} file(s) refused; first: {refused[0].message}" if refused else None
    _finish(sessions, name, error, success=True)
    return outcomes


def _finish(sessions: sessionmaker, name: str, error: str | None, success: bool) -> None:
    with sessions() as session:
        state.finished(session, name, error, success)
        session.commit()
