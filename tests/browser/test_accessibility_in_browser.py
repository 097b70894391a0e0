"""WCAG 2.1 AA basics in headless Chromium, on the borrower's widget (the lender's page with the
launcher, the chat in its iframe) and on the agent's desk with a conversation taken: every input
has a label, text contrast is at least 4.5:1 (3:1 for large text), each element Tab reaches shows
its focus, the transcripts are aria-live regions, and the launcher announces whether the chat is
open (aria-expanded). Screenshots 22- and 23- in test-artifacts/browser/."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import expect
from stack_helpers.browser_stack import AGENT_PASSWORD
from stack_helpers.chromium_pages import log_in_to_desk, send

# The page's problems as it is shown (labels, names, contrast): a function of a11y_audit.js.
AUDIT = (Path(__file__).parent / "a11y_audit.js").read_text(encoding="utf-8")

FOCUS = r"""
() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const cs = getComputedStyle(el);
  const shown = (cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0) || cs.boxShadow !== 'none';
  return {el: el.tagName.toLowerCase() + (el.id ? '#' + el.id : ''), shown: shown};
}
"""


def tab_through(page, presses: int, frame=None) -> list[str]:
    """Press Tab ``presses`` times; the elements (of ``frame``, else the page) that had the focus
    without showing it."""
    hidden = []
    for _ in range(presses):
        page.keyboard.press("Tab")
        focused = (frame or page).evaluate(FOCUS)
        if focused is not None and not focused["shown"]:
            hidden.append(focused["el"])
    return hidden


def test_the_widget_meets_the_basics_and_announces_the_launchers_state(stack, browser, artifacts):
    page = browser.new_page(viewport={"width": 1000, "height": 800})
    try:
        page.goto(stack.gateway_url + "/demo")
        launcher = page.locator("#huanxin-launcher")
        expect(launcher).to_have_attribute("aria-expanded", "false")
        expect(launcher).to_have_attribute("aria-controls", "huanxin-frame")
        launcher.focus()
        page.keyboard.press("Enter")
        expect(launcher).to_have_attribute("aria-expanded", "true")
        expect(launcher).to_have_accessible_name("Close chat")  # the browser speaks English here
        chat = page.frames[1]
        chat.wait_for_selector("#input")
        expect(chat.locator("#messages")).to_have_attribute("aria-live", "polite")
        send(chat, "how much do I owe?")
        expect(chat.locator("#messages .msg.bot").last).to_be_visible()
        expect(chat.locator("#messages .msg.pending")).to_have_count(0)
        assert chat.evaluate(AUDIT) == []
        assert page.evaluate(AUDIT) == []  # the lender's page with the launcher
        chat.locator("#input").focus()
        assert tab_through(page, 4, chat) == []
        page.screenshot(path=str(artifacts / "22-widget-accessibility.png"))
        launcher.focus()
        page.keyboard.press("Enter")
        expect(launcher).to_have_attribute("aria-expanded", "false")
        expect(launcher).to_have_accessible_name("Chat with us")
    finally:
        page.close()


def test_the_desk_login_and_a_conversation_taken_meet_the_basics(stack, browser, artifacts):
    chat = browser.new_page(viewport={"width": 420, "height": 760})
    desk = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    try:
        chat.goto(stack.gateway_url + "/chat?lang=en")
        chat.wait_for_selector("#input")
        send(chat, "I want a person")
        expect(chat.locator("#mode")).to_have_text("Agent")
        desk.goto(stack.gateway_url + "/desk")
        assert desk.evaluate(AUDIT) == []  # the login page
        assert tab_through(desk, 3) == []
        log_in_to_desk(desk, "li.na", AGENT_PASSWORD)
        desk.locator("#queue .item.waiting").first.click()
        desk.click("#take")
        expect(desk.locator("#reply-text")).to_be_enabled()
        expect(desk.locator("#transcript")).to_have_attribute("aria-live", "polite")
        desk.fill("#reply-text", "Hello, I can help.")
        desk.keyboard.press("Control+Enter")
        expect(desk.locator("#transcript .line.agent", has_text="I can help")).to_be_visible()
        problems = desk.evaluate(AUDIT)
        assert problems == [], "\n".join(problems)
        desk.locator("#queue-filter").focus()
        assert tab_through(desk, 30) == []
        desk.screenshot(path=str(artifacts / "23-desk-accessibility.png"), full_page=True)
        boss = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
        try:  # a supervisor's desk has more (reassignment, the guard's counts)
            boss.goto(stack.gateway_url + "/desk")
            log_in_to_desk(boss, "boss", AGENT_PASSWORD)
            boss.locator("#queue .item").first.click()
            expect(boss.locator("#transcript .line.agent", has_text="I can help")).to_be_visible()
            problems = boss.evaluate(AUDIT)
            assert problems == [], "\n".join(problems)
        finally:
            boss.context.close()
    finally:
        desk.context.close()
        chat.close()
