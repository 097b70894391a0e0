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


FILTERS_SCRIPT = r"""
const assert = require('assert');
const DeskQueue = require(process.argv[1]);
const me = {username: 'li.na', role: 'agent'};
const t0 = Date.parse('2026-11-25T02:00:00Z');
const iso = (ms) => new Date(ms).toISOString();
const ids = (q, now) => q.list(now === undefined ? t0 : now).map((i) => i.conversation_id).sort().join(',');
const q = new DeskQueue(me, 900);
q.setAll([
  {conversation_id: 'a1b2c3d4e5', state: 'agent', assigned_agent: null, escalation_reason: 'request_human',
   escalated_at: iso(t0 - 16 * 60000), updated_at: iso(t0), language: 'en', labels: ['vip'], bucket: 'M1',
   borrower_name: '王芳', case_number: 'ESC-2026-000123', loan_numbers: ['HX0000000001'], last_message: 'my phone 138'},
  {conversation_id: 'b2c3d4e5f6', state: 'agent', assigned_agent: null, escalation_reason: 'complaint',
   escalated_at: iso(t0 - 6 * 60000), updated_at: iso(t0), language: 'zh', labels: [], bucket: 'M3+',
   borrower_name: 'Li Qiang', case_number: null, loan_numbers: ['HX0000000002', 'HX0000000009']},
  {conversation_id: 'c3d4e5f6a7', state: 'agent', assigned_agent: 'li.na', escalation_reason: 'agent_pickup',
   escalated_at: iso(t0 - 60 * 60000), updated_at: iso(t0), language: 'en', labels: ['vip'], bucket: null,
   borrower_name: null, case_number: null, loan_numbers: []},
  {conversation_id: 'd4e5f6a7b8', state: 'bot', assigned_agent: null, escalation_reason: null, escalated_at: null,
   updated_at: iso(t0), language: 'zh', labels: [], bucket: null, borrower_name: null, loan_numbers: []},
]);
const A = 'a1b2c3d4e5', B = 'b2c3d4e5f6', C = 'c3d4e5f6a7', D = 'd4e5f6a7b8';
const check = (filters, expected) => {
  q.setFilters(filters);
  assert.strictEqual(ids(q), expected.slice().sort().join(','), JSON.stringify(filters));
};
check({}, [A, B, C, D]);
check({filter: 'mine'}, [C]);
check({filter: 'waiting'}, [A, B]);
check({filter: 'unassigned'}, [A, B, D]);
check({reason: 'complaint'}, [B]);
check({language: 'zh'}, [B, D]);
check({bucket: 'M3+'}, [B]);
check({waiting_min: 5}, [A, B]);
check({waiting_min: '15'}, [A]);  // as read back from localStorage
check({waiting_min: 60}, []);  // C waited an hour but is taken: not waiting
check({label: 'vip', filter: 'waiting'}, [A]);
check({q: '王'}, [A]);
check({q: ' li QIANG '}, [B]);
check({q: 'esc-2026-000123'}, [A]);
check({q: '0000000009'}, [B]);
check({q: 'HX'}, [A, B]);
check({q: 'C3D4'}, [C]);  // the short reference, from its start
check({q: 'd4e5'}, [D]);
check({q: 'pickup'}, [C]);
check({q: 'phone'}, []);  // message text is not searched
check({q: 'HX', bucket: 'M1', language: 'en', waiting_min: 15, reason: 'request_human', filter: 'waiting',
       label: 'vip'}, [A]);
check({q: 'HX', language: 'zh', filter: 'mine'}, []);
// waiting time moves with the clock: B passes 15 minutes nine minutes later
q.setFilters({waiting_min: 15});
assert.strictEqual(ids(q, t0 + 9 * 60000), [A, B].sort().join(','));
// live updates respect the filters: a line that stops matching goes, one that starts matching comes
q.setFilters({filter: 'waiting', language: 'en'});
assert.strictEqual(ids(q), A);
q.apply({type: 'conversation', conversation_id: A, state: 'agent', assigned_agent: 'li.na', language: 'en'});
assert.strictEqual(ids(q), '');
q.apply({type: 'conversation', conversation_id: B, state: 'agent', assigned_agent: null, language: 'en'});
assert.strictEqual(ids(q), B);
// a fetched line that does not match is kept (no fetch on its next message) but not shown
q.put({conversation_id: 'e5', state: 'bot', assigned_agent: null, language: 'zh', updated_at: iso(t0)});
assert.strictEqual(ids(q), B);
const onE5 = {type: 'message', conversation_id: 'e5', seq: 3, sender: 'borrower', text: 'x'};
assert.strictEqual(q.apply(onE5).fetch, null);
// filters read back: unknown keys, empty values and bad values dropped; the query string
assert.deepStrictEqual(DeskQueue.cleanFilters({filter: 'all', q: '  ', waiting_min: 'x', evil: 1, bucket: 'M3+'}),
                       {bucket: 'M3+'});
assert.deepStrictEqual(DeskQueue.cleanFilters(null), {});
assert.deepStrictEqual(DeskQueue.cleanFilters({label: 'a b', q: 'x'.repeat(65)}), {});  // the gateway would refuse them
assert.deepStrictEqual(DeskQueue.cleanFilters({label: '回访_1', q: 'a\u0000b'}), {label: '回访_1'});
assert.strictEqual(DeskQueue.queryString({filter: 'waiting', bucket: 'M3+', q: '王 芳', waiting_min: 15}),
                   '?filter=waiting&bucket=M3%2B&waiting_min=15&q=%E7%8E%8B%20%E8%8A%B3');
assert.strictEqual(DeskQueue.queryString({}), '');
console.log('ok');
"""

ALERTS_SCRIPT = r"""
const assert = require('assert');
const DeskQueue = require(process.argv[1]);
const t0 = Date.parse('2026-11-25T02:00:00Z');
const iso = (ms) => new Date(ms).toISOString();
const q = new DeskQueue({username: 'li.na', role: 'agent'}, 900);
q.setAll([
  {conversation_id: 'listed', state: 'agent', assigned_agent: null, escalated_at: iso(t0 - 60000),
   updated_at: iso(t0)},
  {conversation_id: 'bot', state: 'bot', assigned_agent: null, escalated_at: null, updated_at: iso(t0)},
]);
q.setFilters({filter: 'mine'});  // an alert does not depend on what the queue shows
const esc = (id, at, extra) => Object.assign({type: 'conversation', conversation_id: id, state: 'agent',
  assigned_agent: null, escalated_at: iso(at), updated_at: iso(at), escalated: true}, extra || {});
// a new escalation (not listed before): one alert, taken once
q.apply(esc('new', t0));
assert.strictEqual(q.takeAlert('new'), true);
assert.strictEqual(q.takeAlert('new'), false);
q.apply(esc('new', t0));  // the same event again (e.g. a resend): no second alert
assert.strictEqual(q.takeAlert('new'), false);
// a conversation listed with the bot that escalates: it newly enters the waiting queue, and its
// line is asked for again (the escalation's case number, the borrower it names)
assert.strictEqual(q.apply(esc('bot', t0)).fetch, 'bot');
assert.strictEqual(q.takeAlert('bot'), true);
// already listed as waiting: none
q.apply(esc('listed', t0 - 60000));
assert.strictEqual(q.takeAlert('listed'), false);
// a conversation event without the hand-off mark (labels, a pick-up, a reassignment): none
q.apply(Object.assign(esc('other', t0), {escalated: undefined}));
assert.strictEqual(q.takeAlert('other'), false);
// taken before the alert was due (auto-assignment): none
q.apply(esc('auto', t0));
q.apply({type: 'conversation', conversation_id: 'auto', state: 'agent', assigned_agent: 'wang.wei',
         previous_agent: null});
assert.strictEqual(q.takeAlert('auto'), false);
// an escalation already given to someone in the event itself: none
q.apply(esc('given', t0, {assigned_agent: 'wang.wei'}));
assert.strictEqual(q.takeAlert('given'), false);
// back to the bot, then escalated again later: a new escalation, a new alert
q.apply({type: 'conversation', conversation_id: 'new', state: 'bot', assigned_agent: null});
q.apply(esc('new', t0 + 600000));
assert.strictEqual(q.takeAlert('new'), true);
console.log('ok');
"""


def run_node(script: str) -> None:
    result = subprocess.run(
        [NODE, "-e", script, str(STATIC / "desk_queue.js")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_the_queue_filters_and_search_as_the_gateway_applies_them():
    run_node(FILTERS_SCRIPT)


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_a_new_escalation_alerts_once_and_only_when_new():
    run_node(ALERTS_SCRIPT)


STALE_LIST_SCRIPT = r"""
const assert = require('assert');
const DeskQueue = require(process.argv[1]);
const t0 = Date.parse('2026-11-25T02:00:00Z');
const iso = (ms) => new Date(ms).toISOString();
const q = new DeskQueue({username: 'wang.wei', role: 'agent'}, 900);
// the list was asked for; meanwhile li.na took 'a', 'b' came to this agent, a borrower wrote on 'c'
const arrived = [
  {type: 'conversation', conversation_id: 'a', state: 'agent', assigned_agent: 'li.na'},
  {type: 'conversation', conversation_id: 'b', state: 'agent', assigned_agent: 'wang.wei'},
  {type: 'message', conversation_id: 'c', seq: 7, sender: 'borrower', text: 'in the list already'},
  {type: 'message', conversation_id: 'c', seq: 8, sender: 'borrower', text: 'after the list'},
  {type: 'conversation', conversation_id: 'd', state: 'agent', assigned_agent: null, escalated: true},
];
arrived.forEach((ev) => q.apply(ev));
const fetch = q.setAll([  // the server's answer, worked out before those events
  {conversation_id: 'a', state: 'agent', assigned_agent: null, escalated_at: iso(t0), updated_at: iso(t0)},
  {conversation_id: 'b', state: 'agent', assigned_agent: null, escalated_at: iso(t0), updated_at: iso(t0)},
  {conversation_id: 'c', state: 'agent', assigned_agent: 'wang.wei', last_seq: 7, unread: 1, updated_at: iso(t0),
   last_message: 'in the list already'},
], arrived);
assert.deepStrictEqual(fetch, ['d']);  // new since the list: its line is asked for again
assert.ok(!('a' in q.items), 'a stale list gave back a conversation another agent took');
assert.strictEqual(q.items.b.assigned_agent, 'wang.wei');
assert.strictEqual(q.items.c.unread, 2);  // seq 7 counted once (in the list), seq 8 once
assert.strictEqual(q.items.c.last_message, 'after the list');
console.log('ok');
"""


@pytest.mark.skipif(NODE is None, reason="node is not installed")
def test_a_list_that_arrives_after_newer_events_does_not_undo_them():
    """The queue's list is fetched over HTTP while the socket goes on: the events that came
    meanwhile are applied again on top of it (a message the list already counts, once)."""
    run_node(STALE_LIST_SCRIPT)
