"""The release check's report.html renders in headless Chromium: the verdict, the failed gate
naming the text that lost its figure, the wording change side by side; no script, no request
outside the file."""

from __future__ import annotations

import subprocess
from datetime import date

from ledger.release_check import run_release_check
from ledger.settings import REPO_ROOT

TEXTS = """T: dict[str, dict[str, str]] = {
    "pay_due": {"zh": "您需要还款{amount}元。", "en": "You owe CNY {amount}."},
    "bye": {"zh": "再见。", "en": "Goodbye."},
}
"""
POLICY = "backend/src/ledger/default_policy.yaml"


def test_the_release_report_page_renders(browser, artifacts, tmp_path):
    root = tmp_path / "repo"
    (root / "bot/actions").mkdir(parents=True)
    (root / "bot/domain").mkdir(parents=True)
    (root / POLICY).parent.mkdir(parents=True)
    (root / "bot/actions/texts.py").write_text(TEXTS, encoding="utf-8")
    (root / POLICY).write_text((REPO_ROOT / POLICY).read_text("utf-8"), encoding="utf-8")
    for args in (["init", "-q"], ["add", "."], ["-c", "user.name=t", "-c", "user.email=t@e", "commit", "-qm", "b"]):
        subprocess.run(["git", *args], cwd=root, check=True)
    (root / "bot/actions/texts.py").write_text(
        TEXTS.replace("Goodbye.", "Goodbye, take care.").replace("You owe CNY {amount}.", "You owe money."), "utf-8"
    )
    out = tmp_path / "out"
    summary = run_release_check(
        root=root,
        base="HEAD",
        thresholds_file=REPO_ROOT / "release-thresholds.yaml",
        out=out,
        policy_path=POLICY,
        candidate_policy=root / POLICY,
        database_url=None,
        nlu_results=root / "none.json",
        nlu_base=None,
        story_results=root / "none",
        as_of=date(2026, 11, 25),
    )
    assert not summary["passed"]
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "<script" not in html
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests, errors = [], []
    page.on("request", lambda r: requests.append(r.url))
    page.on("pageerror", lambda e: errors.append(str(e)))
    try:
        page.goto((out / "report.html").as_uri())
        assert page.locator("h1").inner_text() == "Release check: FAIL"
        assert page.locator("td", has_text="texts.pay_due (en) lost {amount}").is_visible()
        row = page.locator("tr", has_text="texts.bye")
        assert row.inner_text().split("\t")[:5] == ["texts.bye", "en", "changed", "Goodbye.", "Goodbye, take care."]
        page.screenshot(path=str(artifacts / "release-check-report.png"), full_page=True)
    finally:
        page.close()
    assert errors == []
    assert all(u.startswith("file://") for u in requests)
