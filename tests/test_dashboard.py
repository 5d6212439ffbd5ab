"""The dashboard in a real browser: Debian's headless Chromium through Selenium.

The app serves the suite's warehouse (streamed events, alerts, a forecast, loan scores, trained
models) through the suite's Spark session; the test waits for every panel's summary, checks its
numbers against the warehouse and saves a screenshot in tests/output/.
"""

from __future__ import annotations

import re
import shutil
import socket
import threading
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait
from werkzeug.serving import make_server

from frontier import dashboard

OUTPUT = Path(__file__).parent / "output"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def browser():
    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    assert chromium and driver, "install chromium and chromium-driver (make test does on Debian)"
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1400,3000"):  # fmt: skip
        options.add_argument(flag)
    session = webdriver.Chrome(service=Service(driver), options=options)
    yield session
    session.quit()


@pytest.fixture
def app_url(spark, streamed):
    port = _free_port()
    server = make_server(
        "127.0.0.1", port, dashboard.create_app(dashboard.SparkWarehouse()).server, threaded=True
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}/"
    server.shutdown()


def _number(text: str) -> int:
    return int(re.search(r"[\d,]+", text).group().replace(",", ""))


def test_every_panel_renders_real_numbers_in_chromium(spark, browser, app_url):
    browser.get(app_url)
    keys = [p.key for p in dashboard.PANELS]

    def summaries(driver):
        found = {k: driver.find_elements(By.ID, f"{k}-summary") for k in keys}
        return (
            {k: v[0].text for k, v in found.items() if v and v[0].text}
            if all(found.values())
            else False
        )

    texts = WebDriverWait(browser, 180, poll_frequency=1).until(summaries)
    OUTPUT.mkdir(exist_ok=True)
    screenshot = OUTPUT / "dashboard.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 20_000

    live_total = spark.sql(
        "select sum(transaction_count) from marts.live_volume_minute "
        "where minute_at >= (select max(minute_at) from marts.live_volume_minute) "
        "- interval 60 minutes"
    ).first()[0]
    assert _number(texts["live"]) == live_total > 0
    assert _number(texts["alerts"]) == spark.table("marts.transaction_alerts").count() > 0
    assert _number(texts["risk"]) == spark.table("marts.fct_loan_default_scores").count() > 0
    assert _number(texts["forecast"]) > 0
    assert _number(texts["health"]) >= 3  # three champions trained by the suite
    for key in ("live", "forecast", "risk"):  # Plotly drew its charts
        panel = browser.find_element(By.ID, f"panel-{key}")
        assert panel.find_elements(By.CSS_SELECTOR, "svg.main-svg"), key
    assert "Thrift server is not running" in browser.find_element(By.ID, "source").text


def test_empty_or_missing_tables_explain_themselves():
    class Empty(dashboard.Warehouse):
        describe = "nothing"

        def query(self, sql):
            raise RuntimeError("[TABLE_OR_VIEW_NOT_FOUND] marts.live_volume_minute")

    for panel in dashboard.PANELS:
        rendered = dashboard.render_panel(Empty(), panel)
        assert rendered[0].children == panel.empty
        assert "TABLE_OR_VIEW_NOT_FOUND" in rendered[1].children
