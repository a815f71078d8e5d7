"""The upload page (/upload) in a real browser: a DTM team's key, a round chosen or made,
a file dry-run with what it would change and every problem, the write on confirm and the
round's history, all through the ingest API; in English and Arabic."""

from __future__ import annotations

import base64
import io
from pathlib import Path

import httpx
import openpyxl
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from app.auth import create_key
from app.db import session_scope
from tests.chromium import make_driver, viewport
from tests.test_accessibility import violations
from tests.test_browser import wait_for

pytestmark = pytest.mark.usefixtures("scratch_rounds")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SOURCE = "IOM DTM Libya (upload test)"
SHOTS = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
DERNA, BENGHAZI = "LY010102", "LY010304"


@pytest.fixture(scope="module")
def keys(db_url, first_load):
    with session_scope(db_url) as session:
        return {
            "ingest": create_key(session, "test-upload-page", ["ingest"]),
            "read": create_key(session, "test-upload-read", ["read"]),
        }


@pytest.fixture(scope="module")
def service(live_server, keys):
    """The API as a script sees it, with the ingest key."""
    with httpx.Client(
        base_url=live_server, timeout=30, headers={"X-API-Key": keys["ingest"]}
    ) as client:
        yield client


@pytest.fixture(scope="module")
def browser():
    driver = make_driver(1280, 800)
    yield driver
    driver.quit()


def make_round(service, code: str, rows: list[dict] | None = None) -> None:
    meta = {
        "kind": "mobility_tracking",
        "title": f"upload test {code}",
        "reporting_date": "2031-01-31",
        "source": SOURCE,
    }
    service.put(f"/api/v1/rounds/{code}", json=meta).raise_for_status()
    if rows:
        body = {"source": SOURCE, "rows": rows}
        service.post(f"/api/v1/rounds/{code}/observations", json=body).raise_for_status()


def workbook(rows: list[list]) -> bytes:
    """DTM Libya's IDP and returnee baseline layout (README, 'Files')."""
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Baladiyas"
    sheet.append(["DTM Libya IDP and returnee baseline"])
    sheet.append(
        [
            "ADM 3 Baladiya (EN)",
            "Baladiya PCode",
            "IDPs (IND)",
            "IDPs (HH)",
            "Returnees (IND)",
            "Returnees (HH)",
        ]
    )
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


GOOD = workbook(
    [["Derna", DERNA, 500, 100, 2000, 400], ["Benghazi", BENGHAZI, 700, 140, 9000, 1800]]
)
# row 3: a negative count; row 4: a pcode no area has
BAD = workbook([["Derna", DERNA, -5, 1, 20, 4], ["Nowhere", "LY019999", 7, 1, 0, 0]])


def open_upload(driver, base: str, key: str | None, query: str = "lang=en") -> None:
    driver.get(f"{base}/upload?{query}")
    wait_for(driver, "document.body.dataset.ready === '1'")
    if key:
        driver.find_element(By.ID, "key").send_keys(key)
        driver.find_element(By.ID, "key-save").click()


def choose_round(driver, code: str) -> None:
    wait_for(driver, f"document.querySelector('#round option[value=\"{code}\"]')")
    Select(driver.find_element(By.ID, "round")).select_by_value(code)


def choose_file(driver, tmp_path: Path, name: str, content: bytes) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    driver.find_element(By.ID, "file").send_keys(str(path))


def drop_file(driver, name: str, content: bytes, media: str) -> None:
    """Drop a file on the drop area, as a drag from the desktop does."""
    driver.execute_script(
        "const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));"
        "const data = new DataTransfer();"
        "data.items.add(new File([bytes], arguments[1], {type: arguments[2]}));"
        "document.getElementById('drop').dispatchEvent("
        "  new DragEvent('drop', {dataTransfer: data, bubbles: true, cancelable: true}));",
        base64.b64encode(content).decode(),
        name,
        media,
    )


def shown_counts(driver) -> dict:
    return driver.execute_script(
        "return Object.fromEntries([...document.querySelectorAll('[data-testid^=count-]')]"
        ".map((n) => [n.dataset.testid.slice(6), Number(n.dataset.value)]))"
    )


def screenshot(driver, name: str, width: int, height: int, selector: str) -> None:
    viewport(driver, width, height)
    driver.execute_script(
        "document.querySelector(arguments[0]).scrollIntoView({block: 'start'})", selector
    )
    driver.save_screenshot(str(SHOTS / name))
    driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def written(service, code: str) -> tuple[int, list[str]]:
    """The round's figure count and the datasets of its history."""
    observations = service.get(f"/api/v1/rounds/{code}").json()["data"]["observations"]
    history = service.get(f"/api/v1/rounds/{code}/history").json()["data"]
    return observations, [h["dataset"] for h in history]


def test_a_good_workbook_dry_runs_shows_the_changes_and_writes_on_confirm(
    browser, live_server, keys, service, tmp_path
):
    code = "T-UPGOOD"
    make_round(service, code, [{"pcode": DERNA, "population_type": "idp", "individuals": 400}])
    open_upload(browser, live_server, keys["ingest"])
    choose_round(browser, code)
    assert browser.find_element(By.ID, "source").get_attribute("value") == SOURCE
    choose_file(browser, tmp_path, "round.xlsx", GOOD)
    wait_for(browser, "document.querySelector('[data-testid=count-inserted]')")

    expected = service.post(
        f"/api/v1/rounds/{code}/files",
        content=GOOD,
        params={"source": SOURCE, "dry_run": "true"},
        headers={"Content-Type": XLSX},
    ).json()
    counts = shown_counts(browser)
    assert counts == {k: expected[k] for k in counts}
    assert (counts["inserted"], counts["updated"], counts["rows"]) == (3, 1, 4)
    texts = {
        k: browser.find_element(By.CSS_SELECTOR, f"[data-testid=count-{k}]").text for k in counts
    }
    assert texts == {k: f"{v:,}" for k, v in counts.items()}
    # the changed row with its old and new value; the added ones with theirs
    changed = browser.find_element(By.CSS_SELECTOR, "[data-testid=examples-updated] td.chg")
    assert (changed.get_attribute("data-old"), changed.get_attribute("data-new")) == ("400", "500")
    assert "400" in changed.text and "500" in changed.text
    added = browser.find_element(By.CSS_SELECTOR, "[data-testid=examples-inserted]").text
    assert BENGHAZI in added and "9,000" in added
    assert written(service, code) == (1, ["round", "observations"])  # the dry run wrote nothing
    screenshot(browser, "upload-en-1280x800.png", 1280, 800, "#file-h")

    browser.find_element(By.ID, "confirm").click()
    wait_for(browser, "document.querySelector('[data-testid=history] tr[data-dataset=file]')")
    assert "revision" in browser.find_element(By.CSS_SELECTOR, "[data-testid=result-note]").text
    stats = service.get("/api/v1/stats", params={"level": 2, "round": code, "pcode": DERNA}).json()[
        "data"
    ]
    assert {(r["population_type"], r["individuals"]) for r in stats} == {
        ("idp", 500),
        ("returnee", 2000),
    }
    history = service.get(f"/api/v1/rounds/{code}/history").json()["data"]
    last = history[-1]
    assert last["dataset"] == "file" and last["key_name"] == "test-upload-page"
    assert (last["counts"]["inserted"], last["counts"]["updated"]) == (3, 1)
    row = browser.find_element(By.CSS_SELECTOR, "[data-testid=history] tbody tr")
    assert row.get_attribute("data-submission") == str(last["submission_id"])
    assert browser.find_element(By.ID, "confirm").get_attribute("hidden") is not None
    assert violations(browser) == []


def test_a_new_round_and_a_bad_file_show_every_problem_and_write_nothing(
    browser, live_server, keys, service
):
    code = "T-UPBAD"
    open_upload(browser, live_server, keys["ingest"])
    Select(browser.find_element(By.ID, "round")).select_by_value("__new__")
    browser.find_element(By.ID, "nr-code").send_keys(code)
    browser.find_element(By.ID, "nr-title").send_keys("DTM Libya upload test")
    browser.find_element(By.ID, "nr-source").send_keys(SOURCE)
    browser.execute_script("document.getElementById('nr-reported').value = '2031-02-28'")
    browser.find_element(By.ID, "nr-create").click()
    wait_for(browser, f"document.getElementById('round').value === '{code}'")
    assert code in browser.find_element(By.ID, "round-msg").text
    made = service.get(f"/api/v1/rounds/{code}").json()["data"]
    assert (made["title"], made["reporting_date"], made["source"]) == (
        "DTM Libya upload test",
        "2031-02-28",
        SOURCE,
    )

    # the drop area opens the file chooser from the keyboard too
    browser.execute_script(
        "document.getElementById('file').addEventListener('click', (e) => {"
        "  window.chooserOpened = true; e.preventDefault(); }, {once: true})"
    )
    drop = browser.find_element(By.ID, "drop")
    assert drop.get_attribute("tabindex") == "0"
    drop.send_keys(Keys.ENTER)
    assert browser.execute_script("return window.chooserOpened") is True
    drop_file(browser, "bad.xlsx", BAD, XLSX)
    wait_for(browser, "document.querySelector('[data-testid=problems] tbody tr')")
    rows = browser.execute_script(
        "return [...document.querySelectorAll('[data-testid=problems] tbody tr')]"
        ".map((tr) => [...tr.cells].map((c) => c.textContent))"
    )
    # sheet, row, column (as the workbook names it), value, message
    assert ["Baladiyas", "3", "IDPs (IND)", "-5", "must not be negative"] in rows
    assert any(r[:4] == ["Baladiyas", "4", "Baladiya PCode", "LY019999"] for r in rows)
    assert all("unknown pcode" in r[4] for r in rows if r[3] == "LY019999")
    assert browser.find_element(By.ID, "confirm").get_attribute("hidden") is not None
    assert written(service, code) == (0, ["round"])


def test_a_wrong_key_says_so_and_writes_nothing(browser, live_server, keys, service, tmp_path):
    code = "T-UPKEY"
    make_round(service, code)
    open_upload(browser, live_server, "dtmgeo_000000000000_forged")
    choose_round(browser, code)
    choose_file(browser, tmp_path, "round.xlsx", GOOD)
    wait_for(browser, "document.querySelector('#file-msg [data-testid=error]')")
    message = browser.find_element(By.ID, "file-msg")
    assert message.get_attribute("data-status") == "401"
    assert "key was refused" in message.text
    # a key that may read but not write
    browser.find_element(By.ID, "key").send_keys(keys["read"])
    browser.find_element(By.ID, "key-save").click()
    browser.find_element(By.ID, "check").click()
    wait_for(browser, "document.getElementById('file-msg').dataset.status === '403'")
    assert "may not do this" in browser.find_element(By.ID, "file-msg").text
    # nor may it make a round
    Select(browser.find_element(By.ID, "round")).select_by_value("__new__")
    browser.find_element(By.ID, "nr-code").send_keys("T-UPNOPE")
    browser.find_element(By.ID, "nr-title").send_keys("refused")
    browser.find_element(By.ID, "nr-source").send_keys(SOURCE)
    browser.find_element(By.ID, "nr-create").click()
    wait_for(browser, "document.getElementById('round-msg').dataset.status === '403'")
    assert written(service, code) == (0, ["round"])
    assert service.get("/api/v1/rounds/T-UPNOPE").status_code == 404


def test_arabic_is_right_to_left_with_translated_headings(browser, live_server, keys, service):
    code = "T-UPAR"
    make_round(service, code)
    viewport(browser, 390, 844)
    try:
        open_upload(browser, live_server, keys["ingest"], "lang=ar")
        html = browser.find_element(By.TAG_NAME, "html")
        assert (html.get_attribute("lang"), html.get_attribute("dir")) == ("ar", "rtl")
        assert browser.find_element(By.CSS_SELECTOR, "#key-h [data-i18n]").text == "مفتاحك"
        assert browser.find_element(By.CSS_SELECTOR, "label[for=round]").text == "الجولة"
        choose_round(browser, code)
        drop_file(browser, "bad.xlsx", BAD, XLSX)
        wait_for(browser, "document.querySelector('[data-testid=problems] tbody tr')")
        head = browser.execute_script(
            "return [...document.querySelectorAll('[data-testid=problems] th')]"
            ".map((th) => th.textContent)"
        )
        assert head == ["الورقة", "الصف", "العمود", "القيمة", "المشكلة"]
        assert "lang=ar" in browser.current_url and "key" not in browser.current_url.lower()
        assert violations(browser) == []
        screenshot(browser, "upload-ar-390x844.png", 390, 844, "#result-h")
        browser.find_element(By.ID, "lang").click()
        assert html.get_attribute("dir") == "ltr" and "lang=en" in browser.current_url
        assert browser.find_element(By.CSS_SELECTOR, "[data-testid=problems] th").text == "Sheet"
        # the key lives in the tab's session storage only
        stored = browser.execute_script(
            "return [Object.values(localStorage).includes(arguments[0]),"
            " Object.values(sessionStorage).includes(arguments[0])]",
            keys["ingest"],
        )
        assert stored == [False, True]
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# The write reaches the service and is committed, but its answer is lost on the way back.
LOSE_THE_FIRST_ANSWER = """
const real = window.fetch;
window.writeKeys = [];
window.fetch = async (url, options) => {
  const write = options && options.method === 'POST' && !String(url).includes('dry_run');
  if (!write) return real(url, options);
  window.writeKeys.push(options.headers['Idempotency-Key']);
  const answer = await real(url, options);
  if (window.writeKeys.length === 1) throw new TypeError('connection reset');
  return answer;
};
"""


def test_a_retried_write_keeps_its_idempotency_key_and_writes_once(
    browser, live_server, keys, service, tmp_path
):
    code = "T-UPRETRY"
    make_round(service, code)
    open_upload(browser, live_server, keys["ingest"])
    choose_round(browser, code)
    choose_file(browser, tmp_path, "round.xlsx", GOOD)
    wait_for(browser, "document.querySelector('[data-testid=count-inserted]')")
    browser.execute_script(LOSE_THE_FIRST_ANSWER)
    browser.find_element(By.ID, "confirm").click()
    wait_for(browser, "document.getElementById('confirm-msg').dataset.status === '0'")
    assert "could not be reached" in browser.find_element(By.ID, "confirm-msg").text
    browser.find_element(By.ID, "confirm").click()  # the officer tries again
    wait_for(browser, "document.querySelector('[data-testid=history] tr[data-dataset=file]')")
    first, again = browser.execute_script("return window.writeKeys")
    assert first == again and len(first) == 36
    assert written(service, code) == (4, ["round", "file"])  # once


def test_a_write_after_the_dry_run_is_caught(browser, live_server, keys, service, tmp_path):
    code = "T-UPSTALE"
    make_round(service, code)
    open_upload(browser, live_server, keys["ingest"])
    choose_round(browser, code)
    choose_file(browser, tmp_path, "round.xlsx", GOOD)
    wait_for(browser, "document.querySelector('[data-testid=count-inserted]')")
    body = {
        "source": SOURCE,
        "rows": [{"pcode": DERNA, "population_type": "idp", "individuals": 9}],
    }
    service.post(f"/api/v1/rounds/{code}/observations", json=body).raise_for_status()
    browser.find_element(By.ID, "confirm").click()
    wait_for(browser, "document.getElementById('confirm-msg').dataset.status === '412'")
    assert "changed since the dry run" in browser.find_element(By.ID, "confirm-msg").text
    assert written(service, code) == (1, ["round", "observations"])
