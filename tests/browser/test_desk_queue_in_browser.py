"""Working the desk's queue in headless Chromium: the filters (reason, bucket, language, waiting
time) and the search combined with show/label, kept across a reload and applied to live updates;
and the new-escalation alert (a tone through Web Audio, a browser notification, the count in the
title while the tab is hidden), with window.Notification and AudioContext stubbed by an init
script that records their calls. Screenshots 41- to 43- in test-artifacts/browser/."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk, send, verify_d1_and_ask_for_a_person
from stack_helpers.chromium_pages import open_chat as chromium_open_chat

from conftest import Stack

# Records what the desk asks of the browser: tones started, notifications shown, permission
# asked. The permission lives in sessionStorage, so a reload keeps what the agent allowed.
STUBS = """
(() => {
  const rec = window.__alerts = {tones: 0, contexts: 0, notifications: [], asked: 0};
  class FakeNotification {
    constructor(title, options) { rec.notifications.push({title: title, body: (options || {}).body || ''}); }
    close() {}
    static get permission() { return sessionStorage.getItem('stub-permission') || 'default'; }
    static requestPermission() {
      rec.asked += 1;
      sessionStorage.setItem('stub-permission', 'granted');
      return Promise.resolve('granted');
    }
  }
  window.Notification = FakeNotification;
  class FakeAudioContext {
    constructor() { rec.contexts += 1; this.state = 'running'; this.currentTime = 0; this.destination = {}; }
    createOscillator() {
      return {type: '', frequency: {value: 0}, connect() {}, start() { rec.tones += 1; }, stop() {}};
    }
    createGain() { return {gain: {value: 0, setValueAtTime() {}, exponentialRampToValueAtTime() {}}, connect() {}}; }
    resume() { return Promise.resolve(); }
  }
  window.AudioContext = FakeAudioContext;
  window.webkitAudioContext = FakeAudioContext;
  // the test says when the tab is hidden
  Object.defineProperty(document, 'hidden', {
    configurable: true, get: () => sessionStorage.getItem('stub-hidden') === '1'});
})();
"""


@pytest.fixture(scope="module")
def queue_stack(tmp_path_factory):
    s = Stack(tmp_path_factory.mktemp("queue"), agents=[("wang.wei", "agent", "王伟")])
    s.start_aside()
    yield s
    s.stop()


def open_chat(browser, stack):
    return chromium_open_chat(browser, stack.gateway_url)


def ask_for_a_person(chat) -> None:
    send(chat, "I want a person please")
    expect(chat.locator("#mode")).to_have_text("Agent")


def desk_page(browser, stack, username: str, grant: bool = False):
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    if grant:  # the permission given on an earlier visit
        context.add_init_script("sessionStorage.setItem('stub-permission', 'granted');")
    context.add_init_script(STUBS)
    page = context.new_page()
    page.goto(stack.gateway_url + "/desk")
    log_in_to_desk(page, username, AGENT_PASSWORD)
    expect(page.locator("#live.on")).to_be_visible()
    return page


def recorded(page) -> dict:
    return page.evaluate("window.__alerts")


def test_filters_and_search_combine_survive_a_reload_and_hold_for_live_updates(queue_stack, browser, artifacts):
    stack = queue_stack
    d1 = open_chat(browser, stack)
    other = open_chat(browser, stack)
    live = open_chat(browser, stack)
    late = open_chat(browser, stack)
    desk = desk_page(browser, stack, "li.na")
    try:
        verify_d1_and_ask_for_a_person(d1)  # 王芳, HX0000000001, bucket M1, a case number
        ask_for_a_person(other)  # nobody named: no name, bucket or loan
        send(live, "hello")  # live with the bot
        lines = desk.locator("#queue .item")
        expect(lines).to_have_count(3)
        line = desk.locator("#queue .item", has_text="王芳")
        expect(line).to_contain_text("HX0000000001")
        expect(line).to_contain_text(re.compile(r"ESC-\d{4}-\d{6}"))

        desk.fill("#queue-search", "hx0000000001")
        expect(lines).to_have_count(1)
        expect(lines.first).to_contain_text("王芳")
        desk.screenshot(path=str(artifacts / "41-desk-queue-search.png"), full_page=True)
        case = re.search(r"ESC-\d{4}-\d{6}", lines.first.inner_text()).group(0)
        desk.fill("#queue-search", case)
        expect(lines).to_have_count(1)
        desk.fill("#queue-search", "13800000001")  # an identity answer is never searched
        expect(lines).to_have_count(0)
        expect(desk.locator("#queue .empty")).to_contain_text("Nothing matches")
        desk.fill("#queue-search", "")
        expect(lines).to_have_count(3)

        desk.select_option("#queue-bucket", "M1")
        expect(lines).to_have_count(1)
        desk.select_option("#queue-bucket", "")
        desk.select_option("#queue-reason", "request_human")
        expect(lines).to_have_count(2)
        desk.select_option("#queue-language", "zh")  # every chat here is in English
        expect(lines).to_have_count(0)
        desk.select_option("#queue-language", "en")
        expect(lines).to_have_count(2)
        desk.select_option("#queue-wait", "5")  # nobody has waited 5 minutes yet
        expect(lines).to_have_count(0)
        desk.select_option("#queue-wait", "")

        # show=waiting and a search for the name, kept across a reload
        desk.select_option("#queue-filter", "waiting")
        desk.fill("#queue-search", "王芳")
        desk.reload()  # at once: typed and reloaded before the listing's 300 ms wait, still kept
        expect(desk.locator("#live.on")).to_be_visible()
        expect(desk.locator("#queue-filter")).to_have_value("waiting")
        expect(desk.locator("#queue-search")).to_have_value("王芳")
        expect(desk.locator("#queue-reason")).to_have_value("request_human")
        expect(desk.locator("#queue-language")).to_have_value("en")
        expect(lines).to_have_count(1)
        expect(lines.first).to_contain_text("王芳")

        # live: a new escalation that does not match the search stays out; it shows once cleared
        ask_for_a_person(late)
        desk.wait_for_timeout(1500)
        expect(lines).to_have_count(1)
        desk.screenshot(path=str(artifacts / "42-desk-queue-filters-after-reload.png"), full_page=True)
        desk.click("#queue-clear")
        expect(desk.locator("#queue-search")).to_have_value("")
        expect(lines).to_have_count(4)
        expect(desk.locator("#queue .item", has_text="request_human")).to_have_count(3)
    finally:
        for page in (d1, other, live, late, desk):
            page.close()


def test_a_new_escalation_alerts_once_on_a_desk_with_alerts_on_and_never_again(queue_stack, browser, artifacts):
    stack = queue_stack
    on = desk_page(browser, stack, "li.na")
    off = desk_page(browser, stack, "wang.wei", grant=True)  # allowed notifications once, alerts now off
    chat = open_chat(browser, stack)
    picked = open_chat(browser, stack)
    try:
        expect(on.locator("#alerts-toggle")).to_have_attribute("aria-pressed", "false")
        on.click("#alerts-toggle")  # the gesture that asks for the permission
        expect(on.locator("#alerts-toggle")).to_have_attribute("aria-pressed", "true")
        expect(on.locator("#alerts-toggle")).to_contain_text("Alerts on")
        assert recorded(on)["asked"] == 1
        expect(off.locator("#alerts-toggle")).to_have_attribute("aria-pressed", "false")
        on.evaluate("sessionStorage.setItem('stub-hidden', '1')")  # li.na is on another tab
        on.wait_for_function("document.querySelector('#queue .item, #queue .empty')")
        before = on.locator("#queue .item").count()

        ask_for_a_person(chat)
        expect(on.locator("#queue .item")).to_have_count(before + 1)
        on.wait_for_function("window.__alerts.tones >= 1")
        on.wait_for_timeout(2000)  # nothing more comes
        seen = recorded(on)
        assert seen["tones"] == 1, seen
        assert len(seen["notifications"]) == 1, seen
        assert "request_human" in seen["notifications"][0]["body"]
        assert on.title().startswith("(1) ")
        expect(off.locator("#queue .item")).to_have_count(before + 1)
        quiet = recorded(off)
        assert quiet["tones"] == 0 and quiet["notifications"] == [] and quiet["asked"] == 0, quiet
        on.evaluate("sessionStorage.setItem('stub-hidden', '0'); document.dispatchEvent(new Event('visibilitychange'))")
        assert not on.title().startswith("(")
        on.screenshot(path=str(artifacts / "43-desk-new-escalation-alert.png"), full_page=True)

        # the agent's own action (taking a live bot conversation) alerts nobody
        send(picked, "hello")
        reference = picked.evaluate("window.huanxinChat.state.conversation")[:8]
        line = on.locator("#queue .item", has_text=reference)
        expect(line).to_have_count(1)
        line.click()
        on.click("#take")
        expect(on.locator("#take")).to_be_hidden()
        on.wait_for_timeout(1500)
        assert recorded(on)["tones"] == 1 and len(recorded(on)["notifications"]) == 1
        assert recorded(off)["tones"] == 0

        # a reload lists the escalation again: no alert for what is already listed
        on.reload()
        expect(on.locator("#live.on")).to_be_visible()
        expect(on.locator("#alerts-toggle")).to_have_attribute("aria-pressed", "true")  # kept
        expect(on.locator("#queue .item")).to_have_count(before + 2)  # and the one taken
        on.wait_for_timeout(2000)
        again = recorded(on)
        assert again["tones"] == 0 and again["notifications"] == [] and again["asked"] == 0, again
    finally:
        for page in (on, off, chat, picked):
            page.close()


def test_a_click_on_the_queue_is_not_lost_when_the_list_is_redrawn_under_it(queue_stack, browser):
    """The queue is redrawn every 5 s and on every live update; a press that spans a redraw
    still opens the conversation (the redraw waits for the button's release)."""
    stack = queue_stack
    chat = open_chat(browser, stack)
    desk = desk_page(browser, stack, "wang.wei")
    try:
        ask_for_a_person(chat)
        cid = chat.evaluate("window.huanxinChat.state.conversation")
        item = desk.locator(f'#queue .item[data-id="{cid}"]')
        expect(item).to_be_visible()
        desk.wait_for_timeout(1000)  # the other chats' updates drawn: the line stays where it is
        item.scroll_into_view_if_needed()
        box = item.bounding_box()
        x, y = box["x"] + 20, box["y"] + 10
        desk.mouse.move(x, y)
        desk.mouse.down()
        under = "([x, y]) => (document.elementFromPoint(x, y).closest('.item') || {dataset: {}}).dataset.id"
        assert desk.evaluate(under, [x, y]) == cid  # pressed on this chat's line
        send(chat, "are you there?")  # a live update: the list is redrawn while the button is down
        desk.wait_for_timeout(5500)  # and the 5 s redraw of the waiting times
        desk.mouse.up()
        expect(desk.locator("#transcript")).to_contain_text("are you there?")
    finally:
        desk.context.close()
        chat.context.close()
