"""The portal in a real browser: Debian's headless Chromium driven by Selenium against a real uvicorn
(127.0.0.1, a free port, a background thread) on the session warehouse. Each test saves a screenshot
of the page it ends on; `make portal-preview` runs them with UPDATE_PORTAL_PREVIEW=1 so the screenshots go
into docs/portal_preview/ (committed: what a commune officer sees), otherwise into a temporary folder
(a plain test run leaves the tree clean).

Skips, saying why, where chromium / chromedriver are not installed (`make test` installs them as root).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import time
from pathlib import Path

import pytest

from lensan import settings
from lensan.calendar import periods
from lensan.portal import codes, form_template

pytestmark = pytest.mark.integration

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
COMMITTED_PREVIEW = Path(__file__).resolve().parents[1] / "docs" / "portal_preview"
WEEK = periods.last_complete_week(dt.datetime.now(tz=settings.LOCAL_TZ))
UNIT, OTHER_UNIT, PROVINCE = "31420", "31135", "92"

if not (CHROMIUM and CHROMEDRIVER):
    pytest.skip("chromium / chromedriver missing: `apt-get install chromium chromium-driver` (make test does it "
                "as root) to run the portal's browser tests", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (requirements.txt)")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as EC  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402


@pytest.fixture(scope="module")
def portal(warehouse):
    """The portal on a real uvicorn; cookies without Secure (plain http on 127.0.0.1)."""
    from lensan.portal import server

    for path in settings.landing_dir("weekly_form").iterdir():
        path.unlink()
    with server.running() as url:
        yield url


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(portal, downloads):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--window-size=1280,900", "--lang=vi"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    driver = webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=CHROMEDRIVER))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def unit_code_text(warehouse) -> str:
    return codes.issue("unit", UNIT, dt.date(2099, 12, 31))


@pytest.fixture(scope="module")
def preview_dir(tmp_path_factory) -> Path:
    if os.environ.get("UPDATE_PORTAL_PREVIEW"):
        return COMMITTED_PREVIEW
    return tmp_path_factory.mktemp("portal_preview")


def shot(driver, name: str, preview: Path) -> Path:
    """A screenshot of the whole page (Chromium's DevTools capture beyond the viewport)."""
    import base64

    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 6000), "scale": 1}
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True,
                                                              "clip": clip})["data"]
    preview.mkdir(parents=True, exist_ok=True)
    path = preview / f"{name}.png"
    path.write_bytes(base64.b64decode(data))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    return path


def sign_in(driver, portal: str, code: str) -> None:
    driver.delete_all_cookies()
    driver.get(portal + "/sign-in")
    driver.find_element(By.ID, "code").send_keys(code)
    driver.find_element(By.ID, "sign-in").click()


def send(driver, portal: str, path: Path) -> None:
    driver.get(f"{portal}/unit/{UNIT}")
    driver.find_element(By.ID, "file").send_keys(str(path))
    driver.find_element(By.ID, "upload").click()


def test_sign_in(browser, portal, unit_code_text, preview_dir):
    browser.delete_all_cookies()
    browser.get(portal + "/")
    assert browser.current_url.endswith("/sign-in")
    shot(browser, "01_sign_in", preview_dir)
    sign_in(browser, portal, "WRONG0-0000-0000-0000-0000")
    # the click submits: wait for the answer page, not whatever the old page still shows
    WebDriverWait(browser, 20).until(EC.text_to_be_present_in_element((By.ID, "error"), "không đúng"))
    sign_in(browser, portal, unit_code_text)
    WebDriverWait(browser, 20).until(EC.url_contains(f"/unit/{UNIT}"))
    assert "Phụng Hiệp" in browser.page_source and form_template.week_line(WEEK) in browser.page_source
    shot(browser, "02_unit_home", preview_dir)


def test_download_template(browser, portal, unit_code_text, downloads):
    from lensan.landing.parsers import weekly_form

    sign_in(browser, portal, unit_code_text)
    WebDriverWait(browser, 20).until(EC.url_contains(f"/unit/{UNIT}"))
    WebDriverWait(browser, 20).until(EC.element_to_be_clickable((By.ID, "download-template"))).click()
    target = downloads / form_template.file_name(UNIT, WEEK)
    deadline = time.monotonic() + 30
    while not target.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    form = weekly_form.parse(target)
    assert (form.unit_code, form.week_key, len(form.rows)) == (UNIT, WEEK, 17)
    assert form.unit_name == "UBND XÃ PHỤNG HIỆP"


def test_upload_a_good_form_gives_a_receipt(browser, portal, unit_code_text, tmp_path, preview_dir):
    import hashlib

    path = tmp_path / "bao cao tuan.xlsx"
    path.write_bytes(form_template.blank_form(UNIT, "Xã Phụng Hiệp", WEEK,
                                              {"ocop_listed": (3, 12), "hh_with_shop": (6, 48),
                                               "volume_sold_t": (1.25, 30.5)}))
    sign_in(browser, portal, unit_code_text)
    WebDriverWait(browser, 20).until(EC.url_contains(f"/unit/{UNIT}"))
    send(browser, portal, path)
    receipt = WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.ID, "receipt")))
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    assert browser.find_element(By.ID, "sha256").text == sha
    on_time = dt.datetime.now(tz=settings.LOCAL_TZ) <= periods.weekly_deadline(WEEK)
    assert browser.find_element(By.ID, "timeliness").text == ("Đúng hạn" if on_time else "Trễ hạn")
    assert "tiếp nhận" in receipt.text
    landed = list(settings.landing_dir("weekly_form").glob(f"bao_cao_tuan_{UNIT}_{WEEK}_{sha[:16]}.xlsx"))
    assert len(landed) == 1
    shot(browser, "03_receipt", preview_dir)


def test_upload_a_bad_form_highlights_the_cell(browser, portal, unit_code_text, tmp_path, preview_dir):
    path = tmp_path / "bao cao sai.xlsx"
    path.write_bytes(form_template.blank_form(UNIT, "Xã Phụng Hiệp", WEEK,
                                              {"ocop_listed": (3, 12), "hh_with_shop": ("sáu", 48)}))
    sign_in(browser, portal, unit_code_text)
    WebDriverWait(browser, 20).until(EC.url_contains(f"/unit/{UNIT}"))
    send(browser, portal, path)
    WebDriverWait(browser, 30).until(EC.presence_of_element_located((By.ID, "refusal")))
    assert "VALUE_NOT_NUMBER" in browser.find_element(By.ID, "reason").text
    cells = browser.find_elements(By.CSS_SELECTOR, "table#sheet td.hl")
    assert [c.text for c in cells] == ["sáu"]
    cell_id = cells[0].get_attribute("id")
    assert cell_id.startswith("cell-D") and cell_id[len("cell-"):] in browser.find_element(By.ID, "reason").text
    color = cells[0].value_of_css_property("background-color")
    assert color in ("rgba(255, 205, 210, 1)", "rgb(255, 205, 210)")      # highlighted, visibly
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", cells[0])
    shot(browser, "04_refusal_highlighted_cell", preview_dir)


def test_history_shows_the_accepted_values(browser, portal, unit_code_text, preview_dir):
    from lensan.landing import land_pending

    land_pending(["weekly_form"])          # what the ingest DAG does with the landed upload
    sign_in(browser, portal, unit_code_text)
    WebDriverWait(browser, 20).until(EC.url_contains(f"/unit/{UNIT}"))
    browser.find_element(By.ID, "nav-history").click()
    table = WebDriverWait(browser, 20).until(EC.presence_of_element_located((By.ID, "history")))
    assert WEEK in table.text
    values = browser.find_element(By.CSS_SELECTOR, f"table.values[data-week='{WEEK}']").text
    assert "48" in values and "1,25" in values
    shot(browser, "05_history", preview_dir)


def test_province_view(browser, portal, preview_dir):
    sign_in(browser, portal, codes.issue("province", PROVINCE, dt.date(2099, 12, 31)))
    WebDriverWait(browser, 20).until(EC.url_contains(f"/province/{PROVINCE}"))
    row = WebDriverWait(browser, 20).until(EC.presence_of_element_located(
        (By.XPATH, f"//table[@id='units']//tr[td[1]='{UNIT}']"))).text
    assert "Phụng Hiệp" in row and ("Đúng hạn" in row or "Trễ hạn" in row)     # its upload counts
    assert "Chưa" in browser.find_element(By.XPATH, f"//table[@id='units']//tr[td[1]='31120']").text
    shot(browser, "06_province", preview_dir)


def test_a_second_unit_is_denied_the_first_units_pages(browser, portal, preview_dir):
    sign_in(browser, portal, codes.issue("unit", OTHER_UNIT, dt.date(2099, 12, 31)))
    WebDriverWait(browser, 20).until(EC.url_contains(f"/unit/{OTHER_UNIT}"))
    for page in (f"/unit/{UNIT}", f"/unit/{UNIT}/history"):
        browser.get(portal + page)
        assert "403" in browser.find_element(By.ID, "error-page").text
        assert "Phụng Hiệp" not in browser.page_source
    shot(browser, "07_denied", preview_dir)
