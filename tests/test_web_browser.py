"""The staff's panel in a real headless browser (Debian's chromium + chromedriver, driven by selenium)
against the real engine in a subprocess: status, the live picture, blackout, scenes, a preset, a slider.

WEB_PANEL_SCREENSHOTS=docs writes the screenshots there (docs/web_panel.png, docs/web_panel_phone.png);
otherwise they go to the test's temporary folder.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np
import pytest

from engine.control.web.thumbnail import WANT_FOR_S
from engine.presets import Preset, Presets

from .test_http_status import free_port

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def wait_for(what: str, cond: Callable[[], object], timeout: float = 20.0) -> object:
    end = time.monotonic() + timeout
    while True:
        try:
            value = cond()
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            value = None
        if value:
            return value
        assert time.monotonic() < end, f"timed out waiting for {what}"
        time.sleep(0.1)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[str]:
    """The engine, realtime and headless, with one saved preset; yields its panel's URL."""
    data = tmp_path / "data"
    Presets(data / "latent-mirror" / "presets").save(Preset("evening", "drift", {}))
    port = free_port()
    cmd = [sys.executable, str(ROOT / "run_installation.py"), "--source", "demo", "--headless"]
    cmd += ["--size", "640x360", "--http", f"127.0.0.1:{port}", "--osc-in", "off"]
    env = {**os.environ, "XDG_DATA_HOME": str(data)}
    log = (tmp_path / "engine.log").open("w")
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for("the engine's first frames", lambda: get_json(url + "/status")["presented"] > 5, 90)
        yield url
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0, (tmp_path / "engine.log").read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        log.close()


@pytest.fixture
def browser():
    assert CHROMIUM.exists() and CHROMEDRIVER.exists(), "chromium and chromedriver: scripts/setup.sh dev"
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1100"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def thumbnail_mean(url: str) -> float:
    with urllib.request.urlopen(url + "/thumbnail.jpg", timeout=10) as r:
        return float(cv2.imdecode(np.frombuffer(r.read(), np.uint8), cv2.IMREAD_COLOR).mean())


def test_the_staff_run_the_piece_from_the_panel(engine: str, browser, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    url, d = engine, browser
    shots = ROOT / os.environ.get("WEB_PANEL_SCREENSHOTS", str(tmp_path))
    fps_closed = get_json(url + "/status")["fps"]
    assert get_json(url + "/api/state")["thumb"] == 0  # frames shown, none read back: nobody looks
    opened = time.monotonic()
    d.get(url + "/")
    text = lambda id_: d.find_element(By.ID, id_).text  # noqa: E731

    def click(css: str) -> None:
        """As a finger would: on the button where it shows (WebDriver scrolls it to under the header)."""
        el = d.find_element(By.CSS_SELECTOR, css)
        d.execute_script("arguments[0].scrollIntoView({block: 'center'})", el)
        el.click()

    # status from the event stream, and the live picture of the output
    wait_for("the status on the page", lambda: text("fps").endswith(" fps") and text("health") == "running")
    assert text("camera").startswith("demo") and text("scene") == "mirror" and text("errors") == "none"

    def natural() -> list:
        return d.execute_script("const i = document.getElementById('thumb'); return [i.complete, i.naturalWidth, i.naturalHeight];")  # fmt: skip  # noqa: E501

    complete, w, h = wait_for("the thumbnail", lambda: natural()[1] > 0 and natural())
    assert complete and (w, h) == (320, 180)
    first = d.find_element(By.ID, "thumb").get_attribute("src")
    wait_for("a newer thumbnail", lambda: d.find_element(By.ID, "thumb").get_attribute("src") != first, 10)
    assert thumbnail_mean(url) > 20  # a picture
    time.sleep(2)
    fps_open = get_json(url + "/status")["fps"]
    d.save_screenshot(str(shots / "web_panel.png"))

    # blackout: the engine's parameter, the button, and the picture itself
    values = lambda: {p["name"]: p["value"] for p in get_json(url + "/api/state")["params"]}  # noqa: E731
    click("#blackout")
    wait_for("engine.blackout = 1", lambda: values()["engine.blackout"] == 1.0, 10)
    wait_for(
        "the button pressed",
        lambda: d.find_element(By.ID, "blackout").get_attribute("aria-pressed") == "true",
    )
    wait_for("a black output", lambda: thumbnail_mean(url) < 3, 10)
    click("#blackout")
    wait_for("engine.blackout = 0", lambda: values()["engine.blackout"] == 0.0, 10)

    # scene switch: the pipeline's scene changes, the page follows
    click('#scenes button[data-name="pulse"]')
    wait_for("scene pulse", lambda: get_json(url + "/status")["scene"] == "pulse", 10)
    wait_for("the page's scene", lambda: text("scene") == "pulse")
    current = d.find_element(By.CSS_SELECTOR, "#scenes button.current")
    assert current.text == "pulse"

    # a slider (the scene's group opened itself): keyboard to the end of its range
    bpm = d.find_element(By.CSS_SELECTOR, 'input[data-param="pulse.bpm"]')
    assert bpm.is_displayed()
    bpm.send_keys(Keys.END)
    wait_for("pulse.bpm = 240", lambda: values()["pulse.bpm"] == 240.0, 10)
    bpm.send_keys(Keys.HOME)
    wait_for("pulse.bpm = 40", lambda: values()["pulse.bpm"] == 40.0, 10)

    # a preset: its scene comes with it
    click('#presets button[data-name="evening"]')
    wait_for("the preset's scene", lambda: get_json(url + "/status")["scene"] == "drift", 10)

    # a phone
    d.set_window_size(390, 844)
    d.execute_script("window.scrollTo(0, 0)")
    time.sleep(1.5)
    assert d.execute_script("return document.documentElement.scrollWidth") <= 390  # no sideways scrolling
    d.save_screenshot(str(shots / "web_panel_phone.png"))
    # closed: the read-back stops (after WANT_FOR_S), and ran at most 2 a second while open
    d.get("about:blank")
    wait_for("the event stream to end", lambda: get_json(url + "/api/state")["streams"] == 0, 10)
    time.sleep(WANT_FOR_S + 0.5)
    frames, open_s = get_json(url + "/api/state")["thumb"], time.monotonic() - opened
    time.sleep(1.5)
    assert get_json(url + "/api/state")["thumb"] == frames
    assert 0 < frames <= open_s / 0.5 + 1, (frames, open_s)
    print(f"\n{frames} frames read back in {open_s:.1f} s with a panel open, then none")
    print(f"fps {fps_closed:.1f} with no panel open, {fps_open:.1f} with one; screenshots in {shots}")
