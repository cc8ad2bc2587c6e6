"""The questionnaire page in a real headless browser (Chromium through Selenium), at a phone's width.

A whole questionnaire is answered with a known pattern of right and wrong picks, by mouse and by
keyboard, with a reload half-way, and the report must give exactly the error rates of that
pattern. Chromium comes from Debian's ``chromium`` and ``chromium-driver`` packages (.ci/run
installs them); without them these tests fail and say how to install them.
"""
import os
import shutil

import pytest

from tests.questionnaire_support import QUESTIONS, Served, built_template, db_rows, fresh_copy, read_key

CHROMIUM = os.environ.get("GAN_KERAS_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = os.environ.get("GAN_KERAS_CHROMEDRIVER") or shutil.which("chromedriver") or "/usr/bin/chromedriver"
INSTALL = ("install them with: sudo apt-get install -y chromium chromium-driver (Debian/Ubuntu), then "
           "pip install -r requirements.txt (selenium); or set GAN_KERAS_CHROMIUM / GAN_KERAS_CHROMEDRIVER")
WAIT = 20


@pytest.fixture(scope="module")
def driver(tmp_path_factory):
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.isfile(p)]
    if missing:
        pytest.fail(f"the browser tests need Chromium and its driver; {', '.join(missing)} not found: {INSTALL}")
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.fail(f"the browser tests need selenium: {INSTALL}")
    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager must never try to download a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=412,915", "--disable-extensions", "--no-first-run"):
        options.add_argument(arg)
    # Chromium leaves a folder of its own in $TMPDIR after quitting: this module's temporary folder, not /tmp
    env = {**os.environ, "TMPDIR": str(tmp_path_factory.mktemp("chromium_tmp"))}
    drv = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER, env=env), options=options)
    drv.set_page_load_timeout(WAIT)
    yield drv
    drv.quit()


@pytest.fixture(scope="module")
def template(tmp_path_factory, shared_data_dir):
    return built_template(tmp_path_factory, shared_data_dir)


@pytest.fixture
def served(template, tmp_path, driver):
    s = Served(fresh_copy(template, tmp_path))
    driver.delete_all_cookies()
    yield s
    s.stop()


def wait_for(driver, condition, what):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, WAIT).until(lambda d: condition(d), message=what)


def visible(driver, element_id):
    return driver.find_element("id", element_id).is_displayed()


def checked(driver):
    return [int(b.get_attribute("value")) for b in driver.find_elements("css selector", "#choices input")
            if b.is_selected()]


def current_question(driver):
    wait_for(driver, lambda d: visible(d, "question") or visible(d, "done"), "a question or the end")
    if visible(driver, "done"):
        return None
    return driver.find_element("id", "answer-form").get_attribute("data-question")


def click_choice(driver, pos):
    driver.find_element("id", f"choice-{pos + 1}").click()


def submit_and_wait(driver, qid, by_keyboard=False):
    if by_keyboard:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        ActionChains(driver).send_keys(Keys.ENTER).perform()
    else:
        driver.find_element("id", "submit").click()
    wait_for(driver, lambda d: visible(d, "done") or (visible(d, "question") and d.find_element(
        "id", "answer-form").get_attribute("data-question") != qid), f"the page to move on from {qid}")


def test_whole_questionnaire_with_known_pattern_gives_the_reported_error_rates(driver, served):
    from selenium.webdriver.common.action_chains import ActionChains

    from gan_keras.questionnaire.report import compute_report
    from tests.questionnaire_support import picks_with_wrong

    key = read_key(served.folder)
    order = list(key["questions"])
    wrong = [0, 1, 0, 2, 1, 2]  # GAN: 1 of 6 picks wrong; DCGAN: 5 of 6
    driver.get(served.url)
    wait_for(driver, lambda d: visible(d, "consent"), "the consent page")
    text = driver.find_element("id", "consent").text
    assert "Would you like to take part in the survey?" in text and "voluntary" in text
    assert driver.find_element("id", "n-questions").text == str(2 * QUESTIONS)
    assert db_rows(served.folder) == []
    driver.find_element("id", "consent-yes").click()
    for i, qid in enumerate(order):
        if i == 3:  # a reload half-way resumes at the next unanswered question
            driver.refresh()
        assert current_question(driver) == qid
        assert driver.find_element("id", "q-title").text == f"Question {i + 1} of {len(order)}"
        assert driver.find_element("id", "q-progress").get_attribute("value") == str(i)
        picks = picks_with_wrong(key["questions"][qid]["generated"], wrong[i])
        if i == 0:  # exactly two picks: one is not enough, a third is refused
            submit = driver.find_element("id", "submit")
            click_choice(driver, picks[0])
            assert not submit.is_enabled() and checked(driver) == [picks[0]]
            others = [p for p in range(4) if p not in picks]
            click_choice(driver, picks[1])
            assert submit.is_enabled()
            click_choice(driver, others[0])
            assert checked(driver) == picks and "exactly two" in driver.find_element("id", "message").text
            # a phone's width: the four images are a 2 x 2 grid
            tops = [driver.find_element("id", f"choice-{k}").location["y"] for k in (1, 2, 3)]
            assert tops[0] == tops[1] < tops[2]
            submit_and_wait(driver, qid)
        elif i == 1:  # the keyboard: digits select, Enter submits
            actions = ActionChains(driver)
            for p in picks:
                actions.send_keys(str(p + 1))
            actions.perform()
            assert checked(driver) == picks
            submit_and_wait(driver, qid, by_keyboard=True)
        elif i == 4:  # answered meanwhile in another tab: the 409 is explained, and the page moves on
            cookie = driver.get_cookie("participant")
            assert served.answer(f"participant={cookie['value']}", qid, picks)[0] == 200
            for p in picks:
                click_choice(driver, p)
            submit_and_wait(driver, qid)
            wait_for(driver, lambda d: "another tab" in d.find_element("id", "message").text, "the 409 message")
        else:
            for p in picks:
                click_choice(driver, p)
            submit_and_wait(driver, qid)
    assert current_question(driver) is None and "All 6 answers are recorded" in driver.find_element("id", "done").text
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(r.startswith(served.url) for r in resources)
    driver.refresh()  # after the end, a reload shows the end again and stores nothing more
    assert current_question(driver) is None
    rows = db_rows(served.folder)
    assert len(rows) == len(order) and len({r[0] for r in rows}) == 1
    rep = compute_report(served.folder)
    gan, dcgan = rep["models"]
    assert (gan["wrong_picks"], gan["picks"]) == (1, 6) and gan["error_rate"] == pytest.approx(1 / 6)
    assert (dcgan["wrong_picks"], dcgan["picks"]) == (5, 6) and dcgan["error_rate"] == pytest.approx(5 / 6)
    assert [q["wrong_picks"] for q in rep["questions"]] == wrong and rep["participants_answering"] == 1
    assert all(q["median_seconds"] is not None and q["median_seconds"] >= 0 for q in rep["questions"])


def test_declining_stores_nothing(driver, served):
    driver.get(served.url)
    wait_for(driver, lambda d: visible(d, "consent"), "the consent page")
    driver.find_element("id", "consent-no").click()
    wait_for(driver, lambda d: visible(d, "declined"), "the thank-you page")
    assert driver.get_cookies() == []
    import sqlite3

    db = sqlite3.connect(os.path.join(served.folder, "answers.sqlite"))
    try:
        assert db.execute("SELECT COUNT(*) FROM participants").fetchone()[0] == 0
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        db.close()
