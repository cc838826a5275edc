"""Read-aloud in a real browser: Debian's Chromium speaking through speech-dispatcher and
espeak-ng (installed by `make chromium`), whose Mandarin voice says its language is "cmn".

The page's own speechSynthesis.speak is wrapped to note what it was asked to say (and then
called): the words, the language, the voice, and that speaking really started.

The browser gets the session's own speech-dispatcher (the speech_dispatcher fixture,
tests/speech.py), with sound sent to libao's null driver: a test machine has no sound
card, and a dispatcher that failed to open one stops answering later browsers."""

import shutil

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import CHROMIUM_ARGS
from tests.e2e.helpers import new_kiosk_context

VOICES_MS = 30_000  # Chromium reads the dispatcher's voices on the first request for them

NOTE_WHAT_IS_SPOKEN = """
(() => {
  const speak = speechSynthesis.speak.bind(speechSynthesis);
  window.__spoken = [];
  speechSynthesis.speak = (words) => {
    const entry = {text: words.text, lang: words.lang, started: false,
                   voice: words.voice && words.voice.name, local: words.voice && words.voice.localService};
    words.addEventListener("start", () => { entry.started = true; });
    window.__spoken.push(entry);
    speak(words);
  };
})();
"""


@pytest.fixture(scope="module")
def speaking_browser(browser, speech_dispatcher):
    """Chromium with its speech-dispatcher voices enabled, as deploy/linli-kiosk starts it
    (launched by the session's Playwright: one may run per process)."""
    speaking = browser.browser_type.launch(executable_path=shutil.which("chromium"), headless=True,
                                           env=speech_dispatcher.env,
                                           args=[*CHROMIUM_ARGS, "--enable-speech-dispatcher"])
    try:
        yield speaking
    finally:
        speaking.close()


def _first_notice(page):
    page.goto("/c/main/notices/")
    page.locator("main .notice-card").first.tap()
    expect(page.locator("main .notice-body")).to_be_visible()


def test_a_notice_is_read_in_chinese_then_in_english(speaking_browser, live_server):
    context = new_kiosk_context(speaking_browser, live_server)
    context.add_init_script(NOTE_WHAT_IS_SPOKEN)
    page = context.new_page()
    try:
        _first_notice(page)
        speaker = page.locator("main button.speak")
        expect(speaker).to_be_visible(timeout=VOICES_MS)
        title = page.locator("main .notice h1").inner_text()
        speaker.tap()
        expect(speaker).to_have_attribute("aria-pressed", "true")
        spoken = page.evaluate("window.__spoken")
        assert len(spoken) == 1, spoken
        assert spoken[0]["lang"] == "cmn" and spoken[0]["local"] is True, spoken
        assert title in spoken[0]["text"] and page.locator("main .notice-body").inner_text()[:20] in spoken[0]["text"]
        page.wait_for_function("window.__spoken[0].started", timeout=10_000)
        # A second tap stops it.
        speaker.tap()
        expect(speaker).to_have_attribute("aria-pressed", "false")

        page.locator("#language-button").tap()
        expect(page.locator("html")).to_have_attribute("lang", "en")
        expect(speaker).to_be_visible(timeout=VOICES_MS)
        english_title = page.locator("main .notice h1").inner_text()
        assert english_title != title
        speaker.tap()
        spoken = page.evaluate("window.__spoken")
        assert spoken[-1]["lang"].lower().startswith("en") and spoken[-1]["local"] is True, spoken
        assert english_title in spoken[-1]["text"]
    finally:
        context.close()


def test_the_speaker_shows_on_posts_courses_and_experts(speaking_browser, live_server):
    context = new_kiosk_context(speaking_browser, live_server)
    context.add_init_script(NOTE_WHAT_IS_SPOKEN)
    page = context.new_page()
    try:
        page.goto("/c/main/wall/")
        first_post = page.locator("main .post-card").first
        expect(first_post.locator("button.speak")).to_be_visible(timeout=VOICES_MS)
        first_post.locator("button.speak").tap()
        assert page.evaluate("window.__spoken")[-1]["text"] == first_post.locator(".post-text").inner_text()

        page.goto("/c/main/classes/all")
        page.locator("main .course-card").first.tap()
        expect(page.locator("main .course-page button.speak")).to_be_visible(timeout=VOICES_MS)
        page.locator("main .course-page button.speak").tap()
        assert page.locator("main h1").inner_text() in page.evaluate("window.__spoken")[-1]["text"]

        page.goto("/c/main/experts/")
        page.locator("main .expert-card").first.tap()
        expect(page.locator("main .expert-page button.speak")).to_be_visible(timeout=VOICES_MS)
        page.locator("main .expert-page button.speak").tap()
        said = page.evaluate("window.__spoken")[-1]["text"]
        assert page.locator("main h1").inner_text() in said
        assert "Staff put you in touch" not in said and "工作人员" not in said
    finally:
        context.close()


def test_without_a_local_voice_the_speaker_stays_hidden(browser, live_server):
    """The session's browser is started without speech-dispatcher: it has no voices."""
    context = new_kiosk_context(browser, live_server)
    page = context.new_page()
    try:
        _first_notice(page)
        assert page.evaluate("speechSynthesis.getVoices().length") == 0
        speaker = page.locator("main button.speak")
        expect(speaker).to_have_count(1)
        page.wait_for_timeout(500)
        expect(speaker).to_be_hidden()
    finally:
        context.close()
