/* The borrower's earlier conversations on the desk (GET /desk/api/conversations/{id}/history):
 * shown to the agent who has the open conversation or a supervisor, each opened read-only
 * (agent-only notes marked), and a search over their messages. Loaded when desk.js opens a
 * conversation (the desk:opened event); text is always set with textContent. */
(function () {
  'use strict';
  var openId = null, loadedKey = null;
  var $ = function (id) { return document.getElementById(id); };
  var el = window.huanxinStaffPage.el;
  function get(path) { return window.huanxinStaffPage.request('GET', path); }
  function base() { return '/desk/api/conversations/' + encodeURIComponent(openId) + '/history'; }
  function day(iso) { return new Date(iso).toLocaleString(); }
  function describe(c) {
    return [day(c.started_at), c.channel, c.outcome || c.state, c.escalation_reason || '—',
            (c.agents.length ? c.agents.join(', ') : '—'), '#' + c.reference].join(' · ');
  }
  function showTranscript(earlierId) {
    var box = $('history-transcript');
    get(base() + '/' + encodeURIComponent(earlierId)).then(function (data) {
      box.textContent = '';
      box.hidden = false;
      box.setAttribute('aria-label', '只读记录 / Read-only transcript #' + data.conversation.reference);
      box.appendChild(el('strong', null, '只读 / Read-only · ' + describe(data.conversation)));
      data.messages.forEach(function (m) {
        var div = el('div', 'line ' + m.sender + (m.agent_only ? ' internal' : ''));
        div.appendChild(el('span', 'who', m.sender + (m.sender_name ? ' · ' + m.sender_name : '') +
                          (m.agent_only ? ' · 内部 internal' : '') + ' · ' + day(m.created_at)));
        div.appendChild(document.createTextNode(m.text));
        box.appendChild(div);
      });
      box.focus();
    }).catch(function (e) { box.hidden = false; box.textContent = String(e.message); });
  }
  function button(text, earlierId) {
    var li = el('li'), b = el('button', null, text);
    b.type = 'button';
    b.dataset.id = earlierId;
    b.addEventListener('click', function () { showTranscript(earlierId); });
    li.appendChild(b);
    return li;
  }
  function load() {
    var list = $('history-list');
    $('history-matches').textContent = '';
    $('history-transcript').hidden = true;
    get(base()).then(function (data) {
      list.textContent = '';
      if (!data.verified) { list.appendChild(el('li', 'empty', '借款人未核实 / Borrower not verified: ' + data.reason)); return; }
      if (!data.conversations.length) list.appendChild(el('li', 'empty', '无往来记录 / No earlier conversations'));
      data.conversations.forEach(function (c) { list.appendChild(button(describe(c), c.conversation_id)); });
    }).catch(function (e) { list.textContent = String(e.message); });
  }
  document.addEventListener('desk:opened', function (e) {
    var view = e.detail.view, me = e.detail.me, c = view.conversation;
    var allowed = me.role === 'supervisor' || (c.state === 'agent' && c.assigned_agent === me.username);
    $('history-box').hidden = !allowed;
    var key = c.conversation_id + '|' + allowed + '|' + !!(view.verification && view.verification.verified);
    if (!allowed || key === loadedKey) return;
    loadedKey = key;
    openId = c.conversation_id;
    load();
  });
  $('history-search-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var q = $('history-q').value.trim(), out = $('history-matches');
    if (!q || !openId) return;
    get(base() + '/search?q=' + encodeURIComponent(q)).then(function (data) {
      out.textContent = '';
      if (!data.matches.length) out.appendChild(el('li', 'empty', '没有找到 / Nothing found'));
      data.matches.forEach(function (m) {
        out.appendChild(button('#' + m.reference + ' · ' + day(m.created_at) + ' · ' + m.sender +
                               (m.agent_only ? ' (内部 internal)' : '') + ': ' + m.text, m.conversation_id));
      });
    }).catch(function (err) { out.textContent = String(err.message); });
  });
})();
