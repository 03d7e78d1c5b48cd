"""The HTML report in a real browser: headless Chromium driven by Selenium."""

import json
import os
import shutil
from pathlib import Path

import pytest

from publisher.demo import demo_data
from publisher.reporting.render import render_html

CHROMIUM = shutil.which("chromium")
DRIVER = shutil.which("chromedriver")


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    if not (CHROMIUM and DRIVER):
        if os.environ.get("CI"):
            pytest.fail("chromium and chromium-driver must be installed in CI (.ci/run does it)")
        pytest.skip("headless Chromium not installed (apt-get install chromium chromium-driver)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1100,1400",
        f"--user-data-dir={tmp_path_factory.mktemp('chromium')}",
    ):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def report_page(tmp_path_factory):
    from publisher.engine import evaluate

    evaluation = evaluate(demo_data(), "balanced", seed=3)
    folder = tmp_path_factory.mktemp("html")
    page = folder / "report.html"
    page.write_text(render_html(evaluation.report), encoding="utf-8")
    (folder / "report.json").write_text(json.dumps(evaluation.report))
    return page


@pytest.mark.slow
def test_report_renders_cleanly_offline(browser, report_page, tmp_path):
    browser.get("about:blank")
    browser.get_log("performance")  # drop the browser's own start-up traffic (chrome:// pages)
    browser.get(report_page.as_uri())
    # every image decodes
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth]);"
    )
    assert len(images) == 6  # every figure of FIGURES, the utility one included
    assert all(complete and width > 0 for _, complete, width in images), images
    # no console errors or warnings
    console = [e for e in browser.get_log("browser") if e["level"] in ("SEVERE", "WARNING")]
    assert console == []
    # no request leaves the file: only the page itself and data: URIs are loaded
    urls = []
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    outside = [u for u in urls if not (u.startswith("data:") or u == report_page.as_uri())]
    assert outside == []
    # the verdict and the headline figures are on screen
    text = browser.find_element("tag name", "body").text
    assert "FAIL" in text
    assert "Biggest risk driver" in text
    height = browser.execute_script("return document.body.scrollHeight")
    browser.set_window_size(1100, min(height + 100, 9000))
    shot = tmp_path / "report.png"
    assert browser.save_screenshot(str(shot))
    assert shot.stat().st_size > 50_000
    Path(os.environ.get("PUBLISHER_SCREENSHOT", tmp_path / "keep.png")).write_bytes(
        shot.read_bytes()
    )


@pytest.mark.release
def test_report_has_no_script_and_prints(report_page):
    html = report_page.read_text()
    assert "<script" not in html
    assert "@media print" in html
    assert "http://" not in html.replace("http://www.w3.org", "")
    assert "https://" not in html.replace("https://json-schema.org", "")


def test_every_figure_the_template_names_is_built():
    import re
    from importlib import resources

    from publisher.reporting.plots import FIGURES

    template = (resources.files("publisher.reporting") / "templates" / "report.html.j2").read_text()
    named = set()
    for group in re.findall(r'fig\.name (?:==|in) (\([^)]*\)|"[^"]+")', template):
        named.update(re.findall(r'"([^"]+)"', group))
    assert named == {name for name, _, _ in FIGURES}
