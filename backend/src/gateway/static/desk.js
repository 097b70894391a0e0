/* Huanxin agent desk: queue, transcript, account panel and actions. Every POST carries the
 * session's CSRF token; live updates come from /ws/desk as deltas applied to the queue in place
 * (DeskQueue, desk_queue.js): only a conversation never listed before costs one request.
 * Text is always set with textContent. */
(function () {
  'use strict';
  var canned = null, canned_for = null, prefilled_for = null;  // {id, text} of the canned reply put in the reply box, sent by its id if unedited
  var me = null, selected = null, current = null, ws = null, queue = null, renderTimer = null, fetching = {};
  var $ = function (id) { return document.getElementById(id); };

  function api(method, path, body) { return window.huanxinStaffPage.request(method, path, body, me && me.csrf_token); }
  var el = window.huanxinStaffPage.el;
  function wait(seconds) {
    if (seconds === null || seconds === undefined) return '';
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return (m ? m + 'm ' : '') + s + 's';
  }
  function showError(err) { $('error').textContent = err ? String(err.message || err) : ''; }

  // A redraw between a press on a line and its release would swap the line under the pointer
  // and the click would be lost: while a button is down on the queue, the redraw waits.
  var queuePressed = false, redrawAfterPress = false;
  $('queue').addEventListener('pointerdown', function () { queuePressed = true; });
  function queueReleased() {
    if (!queuePressed) return;
    queuePressed = false;
    if (redrawAfterPress) { redrawAfterPress = false; setTimeout(renderQueue, 0); }  // after the click
  }
  document.addEventListener('pointerup', queueReleased);
  document.addEventListener('pointercancel', queueReleased);

  function renderQueue() {
    if (queuePressed) { redrawAfterPress = true; return; }
    var items = queue.list(Date.now());  // the filters chosen (DeskQueue.matches)
    var box = $('queue');
    // A live update rebuilds the list: the line that had the keyboard focus gets it back.
    var focused = document.activeElement && box.contains(document.activeElement) ? document.activeElement.dataset.id : null;
    box.textContent = '';
    var groups = [
      ['等待接入 / Waiting', items.filter(function (c) { return c.state === 'agent' && !c.assigned_agent; })],
      ['我的 / Mine', items.filter(function (c) { return c.state === 'agent' && c.assigned_agent === me.username; })],
      ['其他坐席 / Other agents', items.filter(function (c) { return c.state === 'agent' && c.assigned_agent && c.assigned_agent !== me.username; })],
      ['机器人对话中 / Live with the bot', items.filter(function (c) { return c.state === 'bot'; })]
    ];
    groups.forEach(function (g) {
      if (!g[1].length) return;
      box.appendChild(el('div', 'section-title', g[0] + ' (' + g[1].length + ')'));
      g[1].forEach(function (c) {
        var item = el('div', 'item' + (c.conversation_id === selected ? ' selected' : '') + (c.wait_seconds !== null ? ' waiting' : '') +
                      (c.overdue ? ' overdue' : ''));
        item.dataset.id = c.conversation_id;
        item.tabIndex = 0;
        item.setAttribute('role', 'listitem');
        if (c.unread) item.appendChild(el('span', 'unread', c.unread)).setAttribute('aria-label', c.unread + ' 未读 unread');
        if (c.labels && c.labels.length) item.appendChild(el('div', 'meta labels', '#' + c.labels.join(' #')));
        item.appendChild(el('div', 'reason', (c.escalation_reason || 'live') + ' · ' + c.channel + ' · ' + c.language +
                            ' · ' + c.conversation_id.slice(0, 8)));
        var meta = [];
        if (c.borrower_name) meta.push(c.borrower_name);
        if (c.case_number) meta.push(c.case_number);
        if (c.loan_numbers && c.loan_numbers.length) meta.push(c.loan_numbers.join(' '));
        meta.push('bucket ' + (c.bucket || '?'));
        if (c.wait_seconds !== null) meta.push((c.overdue ? '超时 OVERDUE · ' : '') + 'wait ' + wait(c.wait_seconds));
        if (c.assigned_agent) meta.push('→ ' + c.assigned_agent);
        item.appendChild(el('div', 'meta', meta.join(' · ')));
        item.appendChild(el('div', 'meta', c.last_message));
        item.addEventListener('click', function () { open(c.conversation_id); });
        item.addEventListener('keydown', function (e) {  // Enter opens; arrows move along the queue
          if (e.key === 'Enter') { open(c.conversation_id); return; }
          var all = Array.prototype.slice.call(box.querySelectorAll('.item')), i = all.indexOf(item);
          if (e.key === 'ArrowDown' && all[i + 1]) { all[i + 1].focus(); e.preventDefault(); }
          if (e.key === 'ArrowUp' && all[i - 1]) { all[i - 1].focus(); e.preventDefault(); }
        });
        box.appendChild(item);
      });
    });
    if (!box.childNodes.length) {
      box.appendChild(el('div', 'empty', Object.keys(queue.filters).length ? '没有符合筛选的会话 / Nothing matches the filters'
                                                                           : '队列为空 / Queue is empty'));
    }
    var again = focused && box.querySelector('.item[data-id="' + CSS.escape(focused) + '"]');
    if (again) again.focus();
  }
  var loading = [];  // per list request under way: the socket's events since it was asked for
  function loadQueue() {  // the server applies the same filters: a search reaches past the first 200 lines
    var since = [];
    loading.push(since);
    function done() { loading.splice(loading.indexOf(since), 1); }
    return api('GET', '/desk/api/queue' + DeskQueue.queryString(queue.filters))
      .then(function (d) { done(); queue.setAll(d.conversations, since).forEach(fetchLine); renderQueue(); })
      .catch(function (err) {
        done();
        if (err.status === 400 && Object.keys(queue.filters).length) { filtersReset(); return loadQueue(); }
        showError(err);
      });
  }
  function scheduleRender() {
    if (renderTimer) return;
    renderTimer = setTimeout(function () { renderTimer = null; renderQueue(); }, 250);
  }
  function fetchLine(id) {  // one conversation the desk has not listed yet
    if (fetching[id]) return;
    fetching[id] = true;
    api('GET', '/desk/api/queue/' + encodeURIComponent(id))
      .then(function (item) { queue.put(item); scheduleRender(); })
      .catch(function () {})
      .finally(function () { delete fetching[id]; });
  }
  function applyEvent(ev) {
    loading.forEach(function (since) { since.push(ev); });
    var result = queue.apply(ev);
    if (result.fetch) fetchLine(result.fetch);
    if (result.changed) scheduleRender();
    if (ev.conversation_id in queue.pendingAlerts) {  // a new escalation: alert unless taken at once
      setTimeout(function () { if (queue.takeAlert(ev.conversation_id)) newEscalation(ev); }, 600);
    }
  }

  function line(m) {
    var cls = 'line ' + m.sender + (m.agent_only ? ' internal' : '');
    var div = el('div', cls);
    div.dataset.seq = m.seq;
    var who = m.sender + (m.sender_name ? ' · ' + m.sender_name : '') + (m.agent_only ? ' · 内部 internal' : '') +
      ' · #' + m.seq + ' · ' + new Date(m.created_at).toLocaleTimeString();
    div.appendChild(el('span', 'who', who));
    div.appendChild(document.createTextNode(m.text));
    if (m.buttons && m.buttons.length) {
      div.appendChild(el('div', 'btns', '[' + m.buttons.map(function (b) { return b.title; }).join('] [') + ']'));
    }
    return div;
  }
  function appendLine(m) {
    var t = $('transcript');
    if (t.querySelector('[data-seq="' + m.seq + '"]')) return;
    t.appendChild(line(m));
    t.scrollTop = t.scrollHeight;
  }
  function renderAccount(account) { DeskAccount.render($('account'), account); }  // desk_account.js
  function renderVerification(v) {
    var box = $('verification');
    var mine = current && current.state === 'agent' && (current.assigned_agent === me.username || me.role === 'supervisor');
    $('manual-box').hidden = !(v && mine);
    if (!v) { box.className = 'empty'; box.textContent = '尚未提供身份信息 / No borrower named yet'; return; }
    box.className = v.locked ? 'locked' : '';
    var parts = [v.verified ? '已核实 / verified' : '未核实 / not verified'];
    if (v.locked) parts.push('已锁定至 / locked until ' + new Date(v.locked_until).toLocaleString());
    else parts.push('剩余尝试 / attempts left: ' + v.attempts_left);
    if (v.last_manual_verification) {
      parts.push('人工核实 / manually verified: ' + v.last_manual_verification.agent + ' · ' +
                 v.last_manual_verification.method + ' · ' + new Date(v.last_manual_verification.at).toLocaleString());
    }
    box.textContent = parts.join(' · ');
  }
  function field(box, label, value) {
    var row = el('div', 'card-row');
    row.appendChild(el('span', 'card-label', label));
    row.appendChild(el('span', 'card-value', value === null || value === undefined || value === '' ? '—' : value));
    box.appendChild(row);
    return row;
  }
  function loanLine(loan) {
    var parts = [loan.loan_number, 'DPD ' + loan.days_past_due + ' (' + loan.bucket + ')',
                 '逾期 overdue ' + loan.overdue_total];
    if (loan.next_due) parts.push('下期 next due ' + loan.next_due.amount + ' · ' + loan.next_due.due_date);
    if (loan.open_dispute) parts.push('争议 dispute ' + loan.open_dispute.case_number + ' (reply by ' + loan.open_dispute.reply_due_by + ')');
    if (loan.open_promise) parts.push('承诺 promise ' + loan.open_promise.amount + ' by ' + loan.open_promise.promised_date);
    if (loan.active_arrangement) parts.push('方案 plan ' + loan.active_arrangement.plan_type + ' · ' + loan.active_arrangement.state);
    return parts.join(' · ');
  }
  function renderHandoff(card) {  // why it came to the desk and what the bot learnt, before the transcript
    var box = $('handoff');
    box.textContent = '';
    box.hidden = !card;
    if (!card) return;
    box.appendChild(el('h2', null, '交接 / Hand-off'));
    field(box, '原因 / Reason', card.reason).classList.add('card-reason');
    field(box, '案件号 / Case', card.case_number).classList.add('card-case');
    field(box, '语言 / Language', card.language + (card.conversation_language !== card.language ? ' (chat: ' + card.conversation_language + ')' : ''));
    field(box, '身份 / Verified', card.verified === null ? '尚未提供 / not named yet' : (card.verified ? '已核实 / verified' : '未核实 / not verified'))
      .classList.add('card-verified');
    if (card.stop_contact) field(box, '停止联络 / Stop contact', '是 / yes').classList.add('card-stop');
    field(box, '摘要 / Summary', card.summary);
    field(box, '借款人消息 / Borrower wrote', card.borrower_messages + (card.last_borrower_messages.length ? ': ' + card.last_borrower_messages.join(' | ') : ''));
    var loans = el('ul', 'card-loans');
    card.loans.forEach(function (loan) { loans.appendChild(el('li', null, loanLine(loan))); });
    if (!card.loans.length) loans.appendChild(el('li', 'empty', '无账户信息 / no account linked'));
    box.appendChild(loans);
  }
  function updateSend() {  // a reply needs the conversation taken; a note for the desk does not
    var mine = current && current.state === 'agent' && current.assigned_agent === me.username;
    $('reply-send').disabled = !(mine || $('reply-internal').checked);
    $('reply-send').title = $('reply-send').disabled ? '先接管会话 / Take the conversation over first' : '';
  }
  function prefillHandback(account) {  // what the bot collected, for the agent to confirm or correct
    var hardship = null;
    ((account && account.loans) || []).forEach(function (loan) {
      (loan.hardship_cases || []).forEach(function (h) { if (!hardship || h.created_at > hardship.created_at) hardship = h; });
    });
    var fields = {monthly_income: 'monthly_income', essential_expenses: 'essential_expenses',
                  other_debt_payments: 'other_debt_payments', hardship_reason: 'reason', hardship_duration: 'duration'};
    Object.keys(fields).forEach(function (slot) {
      var input = $('slot-' + slot);
      input.value = hardship && hardship[fields[slot]] ? hardship[fields[slot]] : '';
    });
  }
  function renderPromiseBox(view) {  // only for the agent who has it, with a verified borrower
    var mine = current.state === 'agent' && current.assigned_agent === me.username;
    var loans = (view.handoff && view.handoff.loans) || [];
    $('promise-box').hidden = !(mine && view.verification && view.verification.verified && loans.length);
    var select = $('promise-loan'), chosen = select.value;
    select.textContent = '';
    loans.forEach(function (loan) {
      var option = el('option', null, loan.loan_number + ' · 逾期 overdue ' + loan.overdue_total);
      option.value = loan.loan_number;
      select.appendChild(option);
    });
    if (chosen) select.value = chosen;
    renderActionBoxes(view, loans, !$('promise-box').hidden);
  }
  // Plans and payment traces: shown when the promise form is (the agent has it, verified borrower).
  function renderActionBoxes(view, loans, allowed) {
    ['plans', 'trace'].forEach(function (name) {
      $(name + '-box').hidden = !allowed;
      var select = $(name + '-loan'), chosen = select.value;
      select.textContent = '';
      loans.forEach(function (loan) {
        var option = el('option', null, loan.loan_number);
        option.value = loan.loan_number;
        select.appendChild(option);
      });
      if (chosen) select.value = chosen;
    });
    if (plansFor !== current.conversation_id) { plansFor = current.conversation_id; $('plans-list').textContent = ''; }
  }
  var plansFor = null;
  function renderPlans(evaluation) {  // each plan: eligible with its figures and a send button, or why not
    var list = $('plans-list');
    list.textContent = '';
    evaluation.plans.forEach(function (p) {
      var item = el('li', 'plan ' + (p.eligible ? 'eligible' : 'not-eligible'));
      item.dataset.plan = p.plan_type;
      item.appendChild(el('strong', null, p.plan_type));
      if (p.offer) {
        item.appendChild(el('span', null, ' · ' + p.offer.payment_amount + ' × ' + p.offer.payment_count +
          ' · 共 total ' + p.offer.total_to_repay + ' · 首期 first ' + p.offer.first_payment_date));
        var send = el('button', 'plan-send', '发送给借款人 / Send to borrower');
        send.type = 'button';
        send.setAttribute('aria-label', '发送方案 / Send plan ' + p.plan_type);
        send.addEventListener('click', function () {
          act('/plans/send', {loan_number: evaluation.loan_number, plan_type: p.plan_type});
        });
        item.appendChild(send);
      } else {
        item.appendChild(el('span', 'why', ' · ' + p.reasons.map(function (r) { return r.zh + ' / ' + r.en; }).join('; ')));
      }
      list.appendChild(item);
    });
  }
  function renderConversation(view) {
    current = view.conversation;
    $('convo-empty').hidden = true;
    $('convo').hidden = false;
    $('convo-title').textContent = current.conversation_id.slice(0, 8) + ' · ' + current.channel + ' · ' + current.language;
    $('convo-state').textContent = current.state + (current.assigned_agent ? ' → ' + current.assigned_agent : '') +
      (current.escalation_reason ? ' · ' + current.escalation_reason : '');
    var mine = current.state === 'agent' && current.assigned_agent === me.username;
    $('take').hidden = mine || current.state === 'closed';
    var labels = $('labels');
    labels.textContent = '';
    (current.labels || []).forEach(function (name) {
      var chip = el('button', 'label-chip', '#' + name + ' ×');
      chip.type = 'button';
      chip.setAttribute('aria-label', '移除标签 / remove label ' + name);
      chip.addEventListener('click', function () { act('/labels', {remove: [name]}); });
      labels.appendChild(chip);
    });
    $('assign-box').hidden = !(me.role === 'supervisor' && current.state === 'agent');
    updateSend();
    $('handback').disabled = !(current.state === 'agent' && (mine || me.role === 'supervisor'));
    var t = $('transcript');
    t.textContent = '';
    view.messages.forEach(appendLine);
  }
  function loadCanned(id) {
    var select = $('canned');
    return api('GET', '/desk/api/conversations/' + encodeURIComponent(id) + '/canned').then(function (data) {
      select.textContent = '';
      select.appendChild(el('option', null, '— ' + data.language + ' —')).value = '';
      data.replies.forEach(function (r) {
        var option = el('option', null, r.title + (r.text ? '' : ' (缺 missing: ' + r.missing.join(', ') + ')'));
        option.value = r.id;
        option.disabled = !r.text;
        option.dataset.text = r.text || '';
        select.appendChild(option);
      });
    }).catch(function () {});
  }
  function open(id) {
    selected = id;
    queue.opened(id);
    showError('');
    return api('GET', '/desk/api/conversations/' + encodeURIComponent(id)).then(function (view) {
      renderConversation(view);
      renderHandoff(view.handoff);
      renderPromiseBox(view);
      if (id !== canned_for) { canned_for = id; canned = null; loadCanned(id); }
      renderVerification(view.verification);
      renderAccount(view.account);
      if (id !== prefilled_for) { prefilled_for = id; prefillHandback(view.account); }
      document.dispatchEvent(new CustomEvent('desk:opened', {detail: {view: view, me: me}}));  // desk_history.js
      scheduleRender();
    }).catch(showError);
  }
  function refresh() { if (selected) return open(selected); }

  function act(path, body) {
    showError('');
    return api('POST', '/desk/api/conversations/' + encodeURIComponent(selected) + path, body)
      .then(function () { return refresh(); }).catch(showError);
  }

  $('take').addEventListener('click', function () {
    // the Take button hides once taken: the keyboard goes on in the reply box, not lost on the page
    act('/take').then(function () { if ($('take').hidden) $('reply-text').focus(); });
  });
  document.addEventListener('keydown', function (e) {  // Alt+Q: back to the queue (the open line, else the first)
    if (!e.altKey || e.code !== 'KeyQ') return;
    var item = $('queue').querySelector('.item.selected') || $('queue').querySelector('.item');
    if (item) { item.focus(); e.preventDefault(); }
  });
  $('label-add').addEventListener('click', function () {
    var name = $('label-new').value.trim();
    if (!name) return;
    act('/labels', {add: [name]}).then(function () { $('label-new').value = ''; });
  });
  $('assign').addEventListener('click', function () {
    var agent = $('assign-agent').value.trim();
    if (!agent) { showError('填写坐席用户名 / enter the agent\'s username'); return; }
    act('/assign', {agent: agent}).then(function () { $('assign-agent').value = ''; });
  });
  $('reply-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var text = $('reply-text').value.trim();
    if (!text) return;
    showError('');
    var internal = $('reply-internal').checked;
    var body = canned && canned.text === text && !internal ? {canned_id: canned.id} : {text: text, agent_only: internal};
    api('POST', '/desk/api/conversations/' + encodeURIComponent(selected) + '/messages', body)
      .then(function (m) { $('reply-text').value = ''; canned = null; typing(false); $('canned').value = ''; appendLine(m); }).catch(showError);
  });
  $('reply-internal').addEventListener('change', updateSend);
  var typingOn = false, typingTimer = null;
  function typing(on) {  // the borrower sees "typing…" while the agent writes a reply (not a note)
    var mine = current && current.state === 'agent' && current.assigned_agent === me.username;
    if (!mine || on === typingOn || (on && $('reply-internal').checked)) return;
    typingOn = on;
    api('POST', '/desk/api/conversations/' + encodeURIComponent(selected) + '/typing', {on: on}).catch(function () {});
  }
  $('reply-text').addEventListener('input', function () {
    typing(this.value.trim() !== '');
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { typing(false); }, 5000);
  });
  $('canned').addEventListener('change', function () {
    var option = this.options[this.selectedIndex];
    if (!option || !option.value) { canned = null; return; }
    canned = {id: option.value, text: option.dataset.text};
    $('reply-text').value = canned.text;
    $('reply-text').focus();
  });
  $('reply-text').addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) $('reply-form').requestSubmit();
  });
  $('handback').addEventListener('click', function () {
    var slots = {};
    ['language', 'monthly_income', 'essential_expenses', 'other_debt_payments', 'hardship_reason', 'hardship_duration']
      .forEach(function (name) { var v = $('slot-' + name).value.trim(); if (v) slots[name] = v; });
    act('/handback', {note: $('handback-note').value, internal_note: $('handback-internal').value, slots: slots})
      .then(function () { $('handback-note').value = ''; $('handback-internal').value = ''; $('handback-box').open = false; });
  });
  $('promise-record').addEventListener('click', function () {
    act('/promise', {loan_number: $('promise-loan').value, amount: $('promise-amount').value.trim(),
                     promised_date: $('promise-date').value})
      .then(function () { if (!$('error').textContent) { $('promise-amount').value = ''; $('promise-box').open = false; } });
  });
  $('plans-evaluate').addEventListener('click', function () {
    showError('');
    api('POST', '/desk/api/conversations/' + encodeURIComponent(selected) + '/plans/evaluate',
        {loan_number: $('plans-loan').value}).then(renderPlans).catch(showError);
  });
  $('trace-record').addEventListener('click', function () {
    var body = {loan_number: $('trace-loan').value};
    [['paid_on', 'trace-date'], ['amount', 'trace-amount'], ['reference', 'trace-reference'], ['channel', 'trace-channel']]
      .forEach(function (f) { var v = $(f[1]).value.trim(); if (v) body[f[0]] = v; });
    act('/payment-trace', body).then(function () {
      if (!$('error').textContent) { $('trace-amount').value = ''; $('trace-reference').value = ''; $('trace-box').open = false; }
    });
  });
  $('manual-verify').addEventListener('click', function () {
    act('/manual-verification', {method: $('manual-method').value, note: $('manual-note').value})
      .then(function () { $('manual-note').value = ''; $('manual-box').open = false; });
  });
  $('close').addEventListener('click', function () {
    var outcome = $('close-outcome').value;
    if (!outcome) { showError('选择结果代码 / choose an outcome code'); return; }
    act('/close', {outcome: outcome});
  });
  $('logout').addEventListener('click', function () {
    api('POST', '/desk/logout').finally(function () { location.href = '/desk/login'; });
  });

  // ---- Queue filters: filter, label, reason, bucket, language, waiting time, search. Kept in
  // localStorage; the server filters the list it sends, DeskQueue.matches the live updates. ----
  var FILTER_STORE = 'huanxin.desk.queueFilters', FILTER_CONTROLS = {filter: 'queue-filter', label: 'queue-label',
    reason: 'queue-reason', bucket: 'queue-bucket', language: 'queue-language', waiting_min: 'queue-wait', q: 'queue-search'};
  var filterTimer = null;
  function fillOptions(id, values, text) {
    values.forEach(function (v) { var o = el('option', null, text ? text(v) : v); o.value = String(v); $(id).appendChild(o); });
  }
  function filtersFromControls() {
    var raw = {};
    Object.keys(FILTER_CONTROLS).forEach(function (k) { raw[k] = $(FILTER_CONTROLS[k]).value; });
    return DeskQueue.cleanFilters(raw);
  }
  function filtersToControls(filters) {
    Object.keys(FILTER_CONTROLS).forEach(function (k) {
      var input = $(FILTER_CONTROLS[k]);
      input.value = k in filters ? String(filters[k]) : (k === 'filter' ? 'all' : '');
      if (input.tagName === 'SELECT' && input.selectedIndex < 0) input.value = k === 'filter' ? 'all' : '';
    });
  }
  function filtersChanged(delay) {
    // Kept at once (a reload right after typing keeps the search); only the listing waits.
    try { localStorage.setItem(FILTER_STORE, JSON.stringify(filtersFromControls())); } catch (e) { /* private mode */ }
    clearTimeout(filterTimer);
    filterTimer = setTimeout(function () {
      queue.setFilters(filtersFromControls());
      renderQueue();  // at once from what is listed, then the server's answer
      loadQueue();
    }, delay || 0);
  }
  function filtersReset() {  // a stored choice the server refuses (e.g. a bucket no longer in the policy)
    queue.setFilters({});
    filtersToControls({});
    try { localStorage.removeItem(FILTER_STORE); } catch (e) { /* private mode */ }
  }
  function setupFilters() {
    var choices = me.queue_filters || {reasons: [], buckets: [], languages: [], waiting_min: []};
    fillOptions('queue-reason', choices.reasons);
    fillOptions('queue-bucket', choices.buckets);
    fillOptions('queue-language', choices.languages);
    var steps = choices.waiting_min.slice(), overdue = Math.round((me.overdue_after_s || 900) / 60);
    if (steps.indexOf(overdue) < 0) { steps.push(overdue); steps.sort(function (a, b) { return a - b; }); }
    fillOptions('queue-wait', steps, function (m) { return '≥ ' + m + ' min' + (m === overdue ? ' (超时 overdue)' : ''); });
    $('queue-bucket').disabled = !choices.buckets.length;
    var stored = {};
    try { stored = JSON.parse(localStorage.getItem(FILTER_STORE) || '{}'); } catch (e) { stored = {}; }
    filtersToControls(DeskQueue.cleanFilters(stored));
    queue.setFilters(filtersFromControls());  // what the controls could hold
    Object.keys(FILTER_CONTROLS).forEach(function (k) {
      var input = $(FILTER_CONTROLS[k]);
      input.addEventListener(input.tagName === 'SELECT' ? 'change' : 'input', function () {
        filtersChanged(input.tagName === 'SELECT' ? 0 : 300);
      });
    });
    $('queue-clear').addEventListener('click', function () { filtersToControls({}); filtersChanged(0); });
  }

  // ---- New-escalation alerts: a short tone (Web Audio) and, when allowed, a browser
  // notification; the toggle is the user gesture that may ask for the permission. While the tab
  // is hidden the title counts the escalations not seen yet. ----
  var ALERT_STORE = 'huanxin.desk.alerts', alertsOn = false, unseen = 0, baseTitle = document.title, audio = null;
  function renderAlertsToggle() {
    $('alerts-toggle').textContent = alertsOn ? '提醒 开 / Alerts on' : '提醒 关 / Alerts off';
    $('alerts-toggle').setAttribute('aria-pressed', String(alertsOn));
  }
  function tone() {
    var Ctx = window.AudioContext || window.webkitAudioContext;
    if (!Ctx) return;
    try {
      audio = audio || new Ctx();
      if (audio.state === 'suspended' && audio.resume) audio.resume();
      var osc = audio.createOscillator(), gain = audio.createGain();
      osc.type = 'sine';
      osc.frequency.value = 880;
      gain.gain.setValueAtTime(0.15, audio.currentTime);
      gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.35);
      osc.connect(gain);
      gain.connect(audio.destination);
      osc.start();
      osc.stop(audio.currentTime + 0.35);
    } catch (e) { /* no sound device: the notification and the title still tell */ }
  }
  function newEscalation(ev) {
    if (document.hidden) { unseen += 1; document.title = '(' + unseen + ') ' + baseTitle; }
    if (!alertsOn) return;
    tone();
    if (window.Notification && Notification.permission === 'granted') {
      try {
        var n = new Notification('新的转人工 / New escalation', {
          body: (ev.escalation_reason || '') + ' · ' + (ev.language || '') + ' · ' + String(ev.conversation_id).slice(0, 8),
          tag: 'huanxin-escalation-' + ev.conversation_id});
        n.onclick = function () { window.focus(); open(ev.conversation_id); n.close(); };
      } catch (e) { /* notifications unavailable here (e.g. an insecure origin) */ }
    }
  }
  function setupAlerts() {
    try { alertsOn = localStorage.getItem(ALERT_STORE) === 'on'; } catch (e) { alertsOn = false; }
    renderAlertsToggle();
    $('alerts-toggle').addEventListener('click', function () {
      alertsOn = !alertsOn;
      try { localStorage.setItem(ALERT_STORE, alertsOn ? 'on' : 'off'); } catch (e) { /* private mode */ }
      renderAlertsToggle();
      if (!alertsOn) return;
      var Ctx = window.AudioContext || window.webkitAudioContext;  // created in the gesture: allowed to sound
      if (Ctx && !audio) { try { audio = new Ctx(); } catch (e) { audio = null; } }
      if (window.Notification && Notification.permission === 'default') Notification.requestPermission();
    });
    document.addEventListener('visibilitychange', function () {
      if (!document.hidden) { unseen = 0; document.title = baseTitle; }
    });
  }

  function connect() {
    var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    ws = new WebSocket(proto + '//' + location.host + '/ws/desk');
    ws.onopen = function () { $('live').className = 'live on'; loadQueue(); if (selected) refresh(); };
    ws.onmessage = function (e) {
      var ev = JSON.parse(e.data);
      if (ev.type === 'message') {
        if (ev.conversation_id === selected) appendLine(ev);
        applyEvent(ev);
      } else if (ev.type === 'conversation') {
        var lost = ev.previous_agent === me.username && ev.assigned_agent !== me.username && me.role !== 'supervisor';
        if (lost && ev.conversation_id === selected) {  // a supervisor gave it to someone else
          selected = null;
          $('convo').hidden = true;
          $('convo-empty').hidden = false;
          $('convo-empty').textContent = '该会话已转给 ' + ev.assigned_agent + ' / This conversation was reassigned to ' + ev.assigned_agent;
        } else if (ev.conversation_id === selected) refresh();
        applyEvent(ev);
      } else if (ev.type === 'canned_changed') {  // a supervisor saved the canned replies: offer the new set
        if (selected) loadCanned(selected);
      } else if (ev.type === 'delivery_failed' && ev.conversation_id === selected) {
        showError('未送达 / Not delivered: ' + ev.reason);
        refresh();
      }
    };
    ws.onclose = function (e) {
      $('live').className = 'live';
      if (e.code === 4401) { location.href = '/desk/login'; return; }  // the session ended
      setTimeout(connect, 2000);
    };
  }

  api('GET', '/desk/api/me').then(function (data) {
    me = data;
    queue = new DeskQueue(me, me.overdue_after_s);
    $('whoami').textContent = me.display_name + ' (' + me.role + ')';
    $('canned-admin-link').hidden = me.role !== 'supervisor';
    setupFilters();
    setupAlerts();
    loadQueue();
    connect();
    setInterval(renderQueue, 5000);  // wait times move even when nothing happens (computed here)
    setInterval(loadQueue, 300000);  // a slow resync (bot conversations leave the live window)
  });
})();
