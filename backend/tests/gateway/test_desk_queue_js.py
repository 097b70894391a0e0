"""The desk's queue applies socket events as deltas (static/desk_queue.js, run under node):
a flood of messages on a listed conversation needs no request; only an unseen one needs one."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

STATIC = Path(__file__).resolve().parents[2] / "src" / "gateway" / "static"
NODE = shutil.which("node")

SCRIPT = r"""
const assert = require('assert');
const DeskQueue = require(process.argv[1]);
const me = {username: 'li.na', role: 'agent'};
const q = new DeskQueue(me, 900);
const t0 = Date.parse('2026-11-25T02:00:00Z');
const iso = (ms) => new Date(ms).toISOString();
q.setAll([
  {conversation_id: 'a', state: 'agent', assigned_agent: null, escalated_at: iso(t0), updated_at: iso(t0),
   last_message: 'x'},
  {conversation_id: 'b', state: 'agent', assigned_agent: 'li.na', escalated_at: iso(t0 - 60000), updated_at: iso(t0)},
]);
let fetches = 0;
for (let i = 0; i < 500; i++) {
  const r = q.apply({type: 'message', conversation_id: 'a', seq: i + 2, text: 'flood ' + i, created_at: iso(t0)});
  if (r.fetch) fetches++;
}
assert.strictEqual(fetches, 0);
assert.strictEqual(q.items.a.last_message, 'flood 499');
assert.deepStrictEqual(q.apply({type: 'message', conversation_id: 'new', seq: 1, text: 'hi'}).fetch, 'new');
// another agent takes 'a': it leaves this agent's queue
q.apply({type: 'conversation', conversation_id: 'a', state: 'agent', assigned_agent: 'wang.wei'});
assert.ok(!('a' in q.items));
// closing removes; a closed unseen conversation needs no fetch
q.apply({type: 'conversation', conversation_id: 'b', state: 'closed', assigned_agent: null});
assert.ok(!('b' in q.items));
assert.strictEqual(q.apply({type: 'conversation', conversation_id: 'zz', state: 'closed'}).fetch, null);
// overdue first, with wait times computed locally
q.setAll([
  {conversation_id: 'mine', state: 'agent', assigned_agent: 'li.na', escalated_at: iso(t0 - 3600000),
   updated_at: iso(t0)},
  {conversation_id: 'late', state: 'agent', assigned_agent: null, escalated_at: iso(t0 - 1200000), updated_at: iso(t0)},
  {conversation_id: 'bot', state: 'bot', assigned_agent: null, escalated_at: null, updated_at: iso(t0)},
]);
const list = q.list(t0);
assert.deepStrictEqual(list.map((i) => i.conversation_id), ['late', 'mine', 'bot']);
assert.strictEqual(list[0].overdue, true);
assert.strictEqual(list[0].wait_seconds, 1200);
// unread: the borrower's messages on a conversation the agent does not have open; opening clears it
q.opened('late');
q.apply({type: 'message', conversation_id: 'mine', seq: 9, sender: 'borrower', text: 'hello?'});
q.apply({type: 'message', conversation_id: 'mine', seq: 10, sender: 'bot', text: 'answer'});
q.apply({type: 'message', conversation_id: 'late', seq: 4, sender: 'borrower', text: 'seen as it comes'});
assert.strictEqual(q.items.mine.unread, 1);
assert.ok(!q.items.late.unread);
q.opened('mine');
assert.strictEqual(q.items.mine.unread, 0);
// labels follow conversation events
q.apply({type: 'conversation', conversation_id: 'mine', state: 'agent', assigned_agent: 'li.na', labels: ['vip']});
assert.deepStrictEqual(q.items.mine.labels, ['vip']);
// a line fetched while a newer event arrived (another agent got it meanwhile) is not listed stale
q.apply({type: 'conversation', conversation_id: 'race', state: 'agent', assigned_agent: 'wang.wei',
         updated_at: iso(t0 + 2000)});
q.put({conversation_id: 'race', state: 'agent', assigned_agent: null, updated_at: iso(t0 + 1000)});
assert.ok(!('race' in q.items));
console.log('ok');
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_desk_queue_applies_message_events_without_refetching():
    result = subprocess.run(
        [NODE, "-e", SCRIPT, str(STATIC / "desk_queue.js")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_desk_page_loads_the_queue_module_and_applies_events_without_reloading():
    html = (STATIC / "desk.html").read_text(encoding="utf-8")
    assert html.index("/static/desk_queue.js") < html.index("/static/desk.js")
    js = (STATIC / "desk.js").read_text(encoding="utf-8")
    assert "queue.apply(" in js and "scheduleQueue" not in js, json.dumps("desk.js still reloads the queue on events")
