"""Headless Chromium for the browser tests and the page-load benchmark.

Debian's `chromium` and `chromium-driver` are used, installed with apt-get when missing
and running as root (as app/localdb.py does for PostGIS). Selenium is given the driver's
path so that Selenium Manager never tries to download one."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from tests.debian import TEST_PACKAGES, ensure_packages

CHROMEDRIVER = Path(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver"))
PACKAGES = TEST_PACKAGES["tests/chromium.py"]


def chromium_binary() -> str | None:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    return os.environ.get("CHROMIUM") or found


def ensure_chromium() -> str:
    """The Chromium binary, installing Debian's packages first when missing (as root)."""
    ensure_packages(PACKAGES, lambda: bool(chromium_binary()) and CHROMEDRIVER.exists())
    return chromium_binary()


NO_WEBGL = ("--disable-webgl", "--disable-webgl2", "--disable-3d-apis", "--disable-gpu")
WEBGL = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--ignore-gpu-blocklist")


def make_driver(width: int = 1280, height: int = 800, lang: str = "en", webgl: bool = True):
    """A headless Chromium with WebGL (SwiftShader), or without any (`webgl=False`: as on
    old hardware or a locked-down machine), and browser + performance logs."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = ensure_chromium()
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        *(WEBGL if webgl else NO_WEBGL),
        "--hide-scrollbars",
        "--disable-extensions",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-default-apps",
        "--disable-sync",
        f"--lang={lang}",
        f"--window-size={width},{height}",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_window_size(width, height)
    driver.set_page_load_timeout(30)
    driver.set_script_timeout(30)
    return driver


def viewport(driver, width: int, height: int) -> None:
    """Make the page's viewport exactly width x height (screenshots)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
    )
