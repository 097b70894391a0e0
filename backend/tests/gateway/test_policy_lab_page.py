"""/insights/policy-lab: for supervisors and analysts behind the desk login. An upload with a bad
key is a 400 naming it and runs nothing; a good one runs the ledger's policy lab in the
background and its report is served; only a supervisor applies the run's candidate, through the
ledger's audited step (the live file replaced, the old one kept)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

import ledger
from huanxin_testkit.gw_helpers import desk_for, other_client
from ledger.db.session import create_engine, create_session_factory
from ledger.policy_file import DEFAULT_POLICY_FILE
from ledger.services.seeding import seed_demo

DEFAULT_POLICY = (Path(ledger.__file__).parent / DEFAULT_POLICY_FILE).read_text(encoding="utf-8")
FEE_WAIVER = "  fee_waiver:\n    min_dpd: 1\n"
CANDIDATE = DEFAULT_POLICY.replace(FEE_WAIVER, "  fee_waiver:\n    min_dpd: 30\n")


@pytest.fixture
async def lab_env(tmp_path, monkeypatch, database_url):
    live = tmp_path / "live" / "policy.yaml"
    live.parent.mkdir()
    live.write_text(DEFAULT_POLICY, encoding="utf-8")
    monkeypatch.setenv("LEDGER_POLICY_FILE", str(live))
    monkeypatch.setenv("GATEWAY_POLICY_LAB_DIR", str(tmp_path / "runs"))
    engine = create_engine(database_url)
    try:
        await seed_demo(create_session_factory(engine), salt="s", today=datetime.now(UTC).date())
    finally:
        await engine.dispose()
    return live


async def finished(desk, run_id: str) -> dict:
    for _ in range(240):
        run = await (await desk.client.get(f"/insights/api/policy-lab/{run_id}")).json()
        if run["status"] != "running":
            return run
        await asyncio.sleep(0.5)
    raise AssertionError("the lab run did not finish in 120 s")


async def test_an_analyst_runs_the_lab_and_reads_the_report_but_cannot_apply(gateway_client, lab_env):
    analyst = await desk_for(gateway_client, "ana", role="analyst")
    page = await analyst.client.get("/insights/policy-lab")
    assert page.status == 200 and "policy_lab.js" in await page.text()
    bad = await analyst.post(
        "/insights/api/policy-lab", {"policy": DEFAULT_POLICY.replace(FEE_WAIVER, "  fee_waiver:\n")}
    )
    assert bad.status == 400 and "plans.fee_waiver.min_dpd" in (await bad.json())["detail"]
    started = await analyst.post("/insights/api/policy-lab", {"policy": CANDIDATE})
    assert started.status == 202
    run_id = (await started.json())["run_id"]
    run = await finished(analyst, run_id)
    assert run["status"] == "done", run
    assert run["summary"]["loans"] > 0 and run["summary"]["loans_losing_a_plan"] > 0
    assert {c["rule"] for c in run["summary"]["changes"]} == {"dpd_too_low"}
    report = await analyst.client.get(f"/insights/policy-lab/{run_id}/report.html")
    assert report.status == 200 and "Policy lab report" in await report.text()
    refused = await analyst.post(f"/insights/api/policy-lab/{run_id}/apply")
    assert refused.status == 403
    assert lab_env.read_text("utf-8") == DEFAULT_POLICY


async def test_a_supervisor_applies_the_run_and_the_old_policy_is_kept(gateway_client, lab_env):
    supervisor = await desk_for(gateway_client, "sue", role="supervisor")
    run_id = (await (await supervisor.post("/insights/api/policy-lab", {"policy": CANDIDATE})).json())["run_id"]
    assert (await finished(supervisor, run_id))["status"] == "done"
    applied = await supervisor.post(f"/insights/api/policy-lab/{run_id}/apply")
    assert applied.status == 200, await applied.text()
    assert lab_env.read_text("utf-8") == CANDIDATE
    [kept] = (lab_env.parent / "policy-history").iterdir()
    assert kept.read_text("utf-8") == DEFAULT_POLICY
    again = await supervisor.post(f"/insights/api/policy-lab/{run_id}/apply")
    assert again.status == 409 and "live policy already" in (await again.json())["detail"]


@pytest.mark.parametrize("role", ["agent"])
async def test_an_agent_gets_a_clear_403(gateway_client, aiohttp_client, role):
    desk = await desk_for(await other_client(aiohttp_client, gateway_client), f"user-{role}", role=role)
    page = await desk.client.get("/insights/policy-lab")
    assert page.status == 403 and "supervisors and analysts" in await page.text()
    api = await desk.post("/insights/api/policy-lab", {"policy": CANDIDATE})
    assert api.status == 403


async def test_not_logged_in_and_unknown_runs(gateway_client):
    resp = await gateway_client.post("/insights/api/policy-lab", json={"policy": CANDIDATE})
    assert resp.status == 401
    analyst = await desk_for(gateway_client, "ana2", role="analyst")
    for path in ("/insights/api/policy-lab/0123456789abcdef", "/insights/api/policy-lab/../../etc"):
        assert (await analyst.client.get(path)).status == 404
    assert (await analyst.post("/insights/api/policy-lab", {"policy": 3})).status == 400
    assert (
        await analyst.client.post("/insights/api/policy-lab", data=b"{", headers={"X-CSRF-Token": analyst.csrf})
    ).status == 400
