/* Huanxin insights overview: figures from /insights/api/overview, each with its definition.
 * Aggregates only; text is always set with textContent. */
(function () {
  'use strict';
  var $ = function (id) { return document.getElementById(id); };
  var me = null;
  var FIGURES = [
    ['conversations', '会话 / Conversations', 'count'],
    ['containment', '无需人工 / Containment', 'rate'],
    ['verification_success', '核实成功 / Verification success', 'rate'],
    ['escalation_rate', '转人工 / Escalation rate', 'rate'],
    ['fallback_rate', '未理解 / Fallback rate', 'rate'],
    ['abandonment', '中途离开 / Abandonment', 'rate'],
    ['median_turns', '轮次中位数 / Median turns', 'count'],
    ['median_duration_from_seconds', '时长中位数 / Median duration', 'duration', 'median_duration'],
    ['csat_average', '满意度 / CSAT', 'score', 'csat']
  ];

  var el = window.huanxinStaffPage.el;
  function seconds(s) {
    if (s < 60) return s + ' 秒 / s';
    if (s < 3600) return (s / 60) + ' 分 / min';
    return (s / 3600) + ' 时 / h';
  }
  function duration(row) {
    // the range holding the median: from ... to (none for the longest range)
    var from = row.median_duration_from_seconds, to = row.median_duration_to_seconds;
    if (from === null || from === undefined) return '–';
    return to === null ? '≥ ' + seconds(from) : seconds(from) + ' – ' + seconds(to);
  }
  function show(value, kind) {
    if (value === null || value === undefined) return '–';
    if (kind === 'score') return value.toFixed(2);
    return kind === 'rate' ? (value * 100).toFixed(1) + '%' : String(value);
  }
  function reasons(byReason) {
    var keys = Object.keys(byReason || {});
    return keys.map(function (k) { return k + ' ' + show(byReason[k], 'rate'); }).join(', ');
  }
  function get(path) { return window.huanxinStaffPage.request('GET', path); }

  function renderTotal(data) {
    var body = $('total').tBodies[0];
    body.textContent = '';
    FIGURES.forEach(function (f) {
      var tr = el('tr');
      tr.dataset.figure = f[0];
      tr.appendChild(el('th', null, f[1]));
      var value = f[2] === 'duration' ? duration(data.total) : show(data.total[f[0]], f[2]);
      if (f[0] === 'csat_average') value += ' (' + data.total.csat_count + ' 人评分 / rated)';
      tr.appendChild(el('td', 'value', value));
      var def = data.definitions[f[3] || f[0]];
      var text = def.en + ' ' + def.zh;
      if (f[0] === 'escalation_rate' && Object.keys(data.total.escalation_by_reason).length) {
        text = reasons(data.total.escalation_by_reason) + '. ' + text;
      }
      tr.appendChild(el('td', 'definition', text));
      body.appendChild(tr);
    });
  }
  function renderRows(data) {
    var table = $('rows');
    table.tHead.textContent = '';
    table.tBodies[0].textContent = '';
    var head = el('tr');
    ['时段 / Period', '语言 / Language', '渠道 / Channel'].concat(FIGURES.map(function (f) { return f[1]; }))
      .concat(['转人工原因 / Escalation by reason']).forEach(function (h) { head.appendChild(el('th', null, h)); });
    table.tHead.appendChild(head);
    data.rows.forEach(function (row) {
      var tr = el('tr');
      [row.period, row.language, row.channel].forEach(function (v) { tr.appendChild(el('td', null, v)); });
      FIGURES.forEach(function (f) {
        var value = f[2] === 'duration' ? duration(row) : show(row[f[0]], f[2]);
        tr.appendChild(el('td', null, value + (f[0] === 'csat_average' ? ' (' + row.csat_count + ')' : '')));
      });
      tr.appendChild(el('td', null, reasons(row.escalation_by_reason)));
      table.tBodies[0].appendChild(tr);
    });
  }
  var chart = null;
  function renderChart(data) {
    if (!window.echarts) return;  // the table carries the same numbers
    if (!chart) chart = window.echarts.init($('chart'));
    var periods = data.periods.map(function (p) { return p.period; });
    var pct = function (name) {
      return data.periods.map(function (p) { return p[name] === null ? null : +(p[name] * 100).toFixed(1); });
    };
    var rate = function (label, name) {
      return {name: label, type: 'line', yAxisIndex: 1, data: pct(name), connectNulls: true};
    };
    chart.setOption({
      tooltip: {trigger: 'axis'},
      legend: {top: 0},
      grid: {left: 50, right: 50, top: 40, bottom: 30},
      xAxis: {type: 'category', data: periods},
      yAxis: [{type: 'value', name: '会话 / conv.', minInterval: 1}, {type: 'value', name: '%', max: 100}],
      series: [
        {name: '会话 / Conversations', type: 'bar', barMaxWidth: 48, data: data.periods.map(function (p) { return p.conversations; })},
        rate('无需人工 / Containment', 'containment'),
        rate('转人工 / Escalation', 'escalation_rate'),
        rate('中途离开 / Abandonment', 'abandonment'),
        rate('未理解 / Fallback', 'fallback_rate')
      ]
    }, true);
    $('chart').dataset.periods = String(periods.length);
  }
  function table(id, headers, rows) {
    var t = $(id);
    t.tHead.textContent = '';
    t.tBodies[0].textContent = '';
    var head = el('tr');
    headers.forEach(function (h) { head.appendChild(el('th', null, h)); });
    t.tHead.appendChild(head);
    rows.forEach(function (cells) {
      var tr = el('tr');
      cells.forEach(function (c) {
        if (c instanceof Node) { var td = el('td'); td.appendChild(c); tr.appendChild(td); }
        else tr.appendChild(el('td', null, c));
      });
      t.tBodies[0].appendChild(tr);
    });
  }
  function def(d) { return d ? d.en + ' ' + d.zh : ''; }
  var STEP_NAMES = {
    started: '开始 / Started', verified: '已核实 / Verified', status_explained: '已说明状况 / Status explained',
    hardship_collected: '已了解困难 / Hardship collected', offers_shown: '已提供方案 / Offers shown',
    committed: '已接受方案或承诺 / Plan accepted or promise'
  };
  function lastBot(list) {
    // the bot's text in the borrower's language (figures as {placeholders}), its key beside it
    return (list || []).map(function (k) {
      var said = k.text ? '“' + k.text + '” [' + k.text_key + ', ' + k.language + ']' : k.text_key;
      return said + ' (' + k.conversations + ')';
    }).join('; ');
  }
  var funnelChart = null;
  function renderFunnel(data) {
    var steps = data.total.steps;
    $('funnel-definition').textContent = data.steps.map(function (s) {
      return STEP_NAMES[s] + ': ' + def(data.definitions[s]);
    }).join(' · ');
    table('funnel', ['步骤 / Step', '到达 / Reached', '占开始 / Of started', '停在此步 / Stopped here',
      '流失率 / Drop-off', '其中转人工 / Of them handed off', '停下前助手最后的话 / Bot\'s last text before stopping'],
      steps.map(function (s) {
        return [STEP_NAMES[s.step] || s.step, s.reached, show(s.share_of_started, 'rate'),
          s.stopped === null ? '–' : s.stopped, show(s.drop_off, 'rate'),
          s.stopped_escalated === null ? '–' : s.stopped_escalated, lastBot(s.last_bot_before_stop)];
      }));
    Array.prototype.forEach.call($('funnel').tBodies[0].rows, function (tr, i) { tr.dataset.step = steps[i].step; });
    $('committed-as').textContent = '方案 / Plan accepted: ' + data.total.committed_as.plan_accepted +
      ' · 承诺 / Promise: ' + data.total.committed_as.promise + '. ' + def(data.definitions.drop_off) + ' ' +
      def(data.definitions.last_bot_before_stop);
    table('funnel-groups', ['语言 / Language', '渠道 / Channel'].concat(data.steps.map(function (s) { return STEP_NAMES[s]; })),
      data.groups.map(function (g) {
        return [g.language, g.channel].concat(g.steps.map(function (s) {
          return s.reached + (s.drop_off === null ? '' : ' (−' + show(s.drop_off, 'rate') + ')');
        }));
      }));
    if (!window.echarts) return;
    if (!funnelChart) funnelChart = window.echarts.init($('funnel-chart'));
    funnelChart.setOption({
      tooltip: {trigger: 'item'},
      series: [{type: 'funnel', sort: 'none', minSize: '8%', left: '10%', width: '80%',
        label: {show: true, position: 'inside'},
        data: steps.map(function (s) { return {name: (STEP_NAMES[s.step] || s.step) + ' ' + s.reached, value: s.reached}; })}]
    }, true);
  }
  var NLU_FIGURES = [
    ['messages', '客户消息 / Borrower messages', 'count', null],
    ['fallback_rate', '未理解 / Fallback rate', 'rate', 'fallback_rate'],
    ['low_confidence', '低置信度 / Low confidence', 'count', 'low_confidence']
  ];
  function reviewLink(conversation, turn) {
    var a = el('a', null, conversation + ' #' + turn);
    a.href = '#review:' + encodeURIComponent(conversation);
    a.dataset.conversation = conversation;
    return a;
  }
  function renderNlu(data) {
    var body = $('nlu-total').tBodies[0];
    body.textContent = '';
    NLU_FIGURES.forEach(function (f) {
      var tr = el('tr');
      tr.dataset.figure = f[0];
      tr.appendChild(el('th', null, f[1]));
      tr.appendChild(el('td', 'value', show(data.total[f[0]], f[2])));
      tr.appendChild(el('td', 'definition', f[3] ? def(data.definitions[f[3]]) : ''));
      body.appendChild(tr);
    });
    table('nlu-languages', ['语言 / Language', '消息 / Messages', '未理解 / Fallback rate', '低置信度 / Low confidence',
      '未理解时的猜测 / Guesses on fallbacks'], data.languages.map(function (l) {
      return [l.language, l.messages, show(l.fallback_rate, 'rate'), l.low_confidence,
        l.fallback_guesses.map(function (g) { return g.intent + ' (' + g.messages + ')'; }).join(', ')];
    }));
    $('confused-definition').textContent = def(data.definitions.confused);
    table('nlu-confused', ['意图 / Intent', '消息 / Messages', '随后否定 / Then denied', '随后重复 / Then asked again',
      '随后未理解 / Then fallback', '随后要人工 / Then asked for a person', '合计 / Confused', '占比 / Share'],
      data.total.confused.map(function (c) {
        return [c.intent, c.messages, c.then_denied, c.then_asked_again, c.then_fallback, c.then_asked_for_person,
          c.confused, show(c.confused_share, 'rate')];
      }));
    table('nlu-intents', ['意图 / Intent', '消息 / Messages', '占比 / Share', '低置信度 / Low confidence'],
      data.total.intents.map(function (i) { return [i.intent, i.messages, show(i.share, 'rate'), i.low_confidence]; }));
    table('nlu-messages', ['会话 / Conversation', '语言 / Language', '意图 / Intent', '置信度 / Confidence', '猜测 / Guess'],
      data.low_confidence_messages.map(function (m) {
        return [reviewLink(m.conversation_id, m.turn), m.language || '-', m.intent,
          m.confidence === null ? '–' : m.confidence.toFixed(2), m.guess || ''];
      }));
  }
  function windowText(w) {
    return show(w.share, 'rate') + ' (' + w.paid + ' / ' + w.eligible + ') · ¥' + w.amount;
  }
  function ledgerCells(g) {
    return [g.conversations, windowText(g.paid_within_7d), windowText(g.paid_within_30d),
      show(g.promises.kept_share, 'rate') + ' (' + g.promises.kept + ' / ' + g.promises.made + ')',
      show(g.arrangements.broken_share, 'rate') + ' (' + g.arrangements.broken + ' / ' + g.arrangements.accepted + ')',
      show(g.cured_within_30d.share, 'rate') + ' (' + g.cured_within_30d.cured + ' / ' + g.cured_within_30d.eligible + ')'];
  }
  var LEDGER_HEAD = ['会话 / Conversations', '7 天内还款 / Paid within 7 days', '30 天内还款 / Paid within 30 days',
    '承诺兑现 / Promises kept', '方案违约 / Plans broken', '30 天内恢复正常 / Cured within 30 days'];
  function renderLedger(data) {
    var body = $('ledger-total').tBodies[0];
    body.textContent = '';
    var t = data.total;
    [['linked', '关联到客户 / Linked to a borrower', data.linked + ' / ' + data.conversations],
      ['paid_within_7d', '7 天内还款 / Paid within 7 days', windowText(t.paid_within_7d)],
      ['paid_within_30d', '30 天内还款 / Paid within 30 days', windowText(t.paid_within_30d)],
      ['promises', '承诺兑现 / Promises kept', ledgerCells(t)[3]],
      ['arrangements', '方案违约 / Plans broken', ledgerCells(t)[4]],
      ['cured_within_30d', '30 天内恢复正常 / Cured within 30 days', ledgerCells(t)[5]]
    ].forEach(function (f) {
      var tr = el('tr');
      tr.dataset.figure = f[0];
      tr.appendChild(el('th', null, f[1]));
      tr.appendChild(el('td', 'value', f[2]));
      tr.appendChild(el('td', 'definition', def(data.definitions[f[0]])));
      body.appendChild(tr);
    });
    table('ledger-buckets', ['账龄 / Bucket'].concat(LEDGER_HEAD),
      data.by_bucket.map(function (g) { return [g.bucket].concat(ledgerCells(g)); }));
    table('ledger-plans', ['方案类型 / Plan type'].concat(LEDGER_HEAD),
      data.by_plan_type.map(function (g) { return [g.plan_type].concat(ledgerCells(g)); }));
  }
  function params(names) {
    var p = new URLSearchParams();
    names.forEach(function (name) {
      var v = $(name).value;
      if (v) p.set(name, v);
    });
    return p.toString();
  }
  var PERIOD = ['since', 'until', 'language', 'channel'];
  function csvLinks() {
    // each table's CSV with the filters of its figures (the overview's group, NLU health's below)
    Array.prototype.forEach.call(document.querySelectorAll('a[data-csv]'), function (a) {
      var table = a.dataset.csv;
      var names = table === 'overview' ? PERIOD.concat(['group']) : table.indexOf('nlu_') === 0 ? PERIOD.concat(['below']) : PERIOD;
      a.href = '/insights/api/tables/' + table + '.csv?' + params(names);
    });
  }
  function load() {
    $('error').textContent = '';
    csvLinks();
    document.body.dataset.loaded = 'no';
    return get('/insights/api/overview?' + params(PERIOD.concat(['group']))).then(function (data) {
      $('since').value = data.filters.since;
      $('until').value = data.filters.until;
      renderTotal(data);
      renderRows(data);
      renderChart(data);
      return Promise.all([
        get('/insights/api/funnel?' + params(PERIOD)).then(renderFunnel),
        get('/insights/api/nlu?' + params(PERIOD.concat(['below']))).then(renderNlu),
        get('/insights/api/ledger?' + params(PERIOD)).then(renderLedger)
      ]);
    }).then(function () {
      document.body.dataset.loaded = 'yes';
    }).catch(function (err) { $('error').textContent = String(err.message || err); });
  }

  // ---- review and annotation ----
  var REVIEW = [['outcome', 'r-outcome'], ['escalated', 'r-escalated'], ['fallback', 'r-fallback'],
    ['intent', 'r-intent'], ['below', 'r-below'], ['step', 'r-step'], ['reviewed', 'r-reviewed'], ['tag', 'r-tag']];
  var current = null;
  function reviewQuery() {
    var p = new URLSearchParams(params(PERIOD));
    REVIEW.forEach(function (f) { var v = $(f[1]).value.trim(); if (v) p.set(f[0], v); });
    return p;
  }
  function fillChoices(select, values) {
    var have = Array.prototype.map.call(select.options, function (o) { return o.value; });
    values.forEach(function (v) {
      if (have.indexOf(v) < 0) { var o = el('option', null, v); o.value = v; select.appendChild(o); }
    });
  }
  function loadReview() {
    var query = reviewQuery();
    $('review-link').href = '#review?' + query.toString();
    $('facts-csv').href = '/insights/api/facts.csv?' + params(PERIOD);
    $('review-csv').href = '/insights/api/conversations.csv?' + query.toString();
    return get('/insights/api/conversations?' + query.toString()).then(function (data) {
      fillChoices($('r-outcome'), data.choices.outcomes);
      fillChoices($('r-step'), data.choices.steps);
      $('review-count').textContent = data.total + (data.total_capped ? '+' : '') + ' 个会话 / conversations';
      table('review-list', ['会话 / Conversation', '开始 / Started', '语言 / Language', '渠道 / Channel', '轮次 / Turns',
        '最远步骤 / Furthest step', '结果 / Outcome', '转人工 / Escalated', '未理解 / Fallbacks', '已复核 / Reviewed', '标签 / Tags', '满意度 / CSAT'],
        data.conversations.map(function (c) {
          var b = el('button', 'open', c.conversation_id);
          b.type = 'button';
          b.dataset.conversation = c.conversation_id;
          return [b, c.started_at, c.language || '-', c.channel || '-', c.turns, c.furthest_step, c.outcome,
            c.escalated ? '是 / yes' : '否 / no', c.fallbacks, c.reviewed ? '是 / yes' : '否 / no', c.tags.join(' '),
            c.csat === null || c.csat === undefined ? '–' : c.csat];
        }));
    }).catch(function (err) { $('error').textContent = String(err.message || err); });
  }
  function post(path, body) {
    return fetch(path, {method: 'POST', credentials: 'same-origin', body: JSON.stringify(body),
      headers: {'Content-Type': 'application/json', 'X-CSRF-Token': me ? me.csrf_token : ''}})
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) throw new Error(data.detail || data.title || r.status);
          return data;
        });
      });
  }
  function labelForm(message, intents) {
    var form = el('form', 'label');
    var select = el('select');
    select.setAttribute('aria-label', 'intent');
    var blank = el('option', null, '正确意图 / right intent'); blank.value = ''; select.appendChild(blank);
    intents.forEach(function (i) { var o = el('option', null, i); o.value = i; select.appendChild(o); });
    var tag = el('input'); tag.size = 12; tag.placeholder = '标签 / tag'; tag.setAttribute('aria-label', 'tag');
    var save = el('button', null, '标注 / Label'); save.type = 'submit';
    form.appendChild(select); form.appendChild(tag); form.appendChild(save);
    form.addEventListener('submit', function (e) {
      e.preventDefault();
      var body = {event_id: message.event_id};
      if (select.value) body.intent = select.value;
      if (tag.value.trim()) body.tag = tag.value.trim();
      post('/insights/api/conversations/' + encodeURIComponent(current) + '/annotations', body)
        .then(function () { $('t-status').textContent = '已保存 / Saved'; return openConversation(current); })
        .catch(function (err) { $('t-status').textContent = String(err.message || err); });
    });
    return form;
  }
  function renderTranscript(view) {
    $('t-id').textContent = view.conversation_id;
    var f = view.facts;
    $('t-facts').textContent = [f.channel, (f.languages || []).join('/'), f.started_at, 'verification ' + f.verification,
      'step ' + f.furthest_step, 'outcome ' + f.outcome, f.escalated ? 'escalated (' + f.escalation_reason + ')' : 'not escalated',
      'CSAT ' + (f.csat === null || f.csat === undefined ? '–' : f.csat)]
      .join(' · ');
    var list = $('t-messages');
    list.textContent = '';
    view.messages.forEach(function (m) {
      var li = el('li', m.kind);
      if (m.kind === 'user') {
        li.dataset.turn = String(m.turn);
        li.appendChild(el('span', 'who', '客户 / Borrower: '));
        li.appendChild(el('span', 'text', m.text));
        var conf = m.confidence === null ? '–' : m.confidence.toFixed(2);
        li.appendChild(el('span', 'meta', m.intent + ' ' + conf + (m.ranking.length ? ' [' + m.ranking.map(function (r) {
          return r.intent + ' ' + (r.confidence === null ? '–' : r.confidence.toFixed(2)); }).join(', ') + ']' : '')));
        if (m.annotation) {
          li.appendChild(el('span', 'annotation', '→ ' + (m.annotation.intent || '') + (m.annotation.tag ? ' #' + m.annotation.tag : '') +
            ' (' + m.annotation.annotator + ')'));
        }
        if (!m.identity_answer) li.appendChild(labelForm(m, view.intent_choices));
      } else if (m.kind === 'bot') {
        li.appendChild(el('span', 'who', '助手 / Bot: '));
        li.appendChild(el('span', 'text', m.text || ''));
        li.appendChild(el('span', 'meta', (m.text_key || '') + (m.actions.length ? ' ← ' + m.actions.join(', ') : '')));
      } else if (m.kind === 'actions') {
        li.appendChild(el('span', 'meta', '动作 / Actions: ' + m.actions.join(', ')));
      } else if (m.kind === 'agent') {
        li.appendChild(el('span', 'who', (m.agent_only ? '备注 / Note ' : '坐席 / Agent ') + m.agent + ': '));
        li.appendChild(el('span', 'text', m.text || ''));
      } else {
        li.appendChild(el('span', 'meta', m.name + (m.agent ? ' ' + m.agent : '') + (m.reason ? ' (' + m.reason + ')' : '') +
          (m.score ? ' ' + m.score + '/5' : '')));
      }
      list.appendChild(li);
    });
    var last = view.annotations.length ? view.annotations[view.annotations.length - 1] : null;
    $('t-reviewed').checked = !!(last && last.reviewed);
    $('transcript').hidden = false;
  }
  function openConversation(id) {
    current = id;
    return get('/insights/api/conversations/' + encodeURIComponent(id)).then(renderTranscript)
      .catch(function (err) { $('t-status').textContent = String(err.message || err); });
  }
  $('review-list').addEventListener('click', function (e) {
    var b = e.target.closest('button.open');
    if (b) { $('t-status').textContent = ''; openConversation(b.dataset.conversation); }
  });
  $('nlu-messages').addEventListener('click', function (e) {
    var a = e.target.closest('a[data-conversation]');
    if (a) { e.preventDefault(); openConversation(a.dataset.conversation); $('transcript').scrollIntoView(); }
  });
  $('review-filters').addEventListener('submit', function (e) { e.preventDefault(); loadReview(); });
  $('t-review').addEventListener('submit', function (e) {
    e.preventDefault();
    var body = {reviewed: $('t-reviewed').checked};
    if ($('t-tag').value.trim()) body.tag = $('t-tag').value.trim();
    if ($('t-note').value.trim()) body.note = $('t-note').value.trim();
    post('/insights/api/conversations/' + encodeURIComponent(current) + '/annotations', body)
      .then(function () { $('t-status').textContent = '已保存 / Saved'; $('t-note').value = ''; return loadReview(); })
      .catch(function (err) { $('t-status').textContent = String(err.message || err); });
  });
  function applyLink() {
    // #review?outcome=none&... : a saved or shared review filter
    if (location.hash.indexOf('#review?') !== 0) return;
    var p = new URLSearchParams(location.hash.slice('#review?'.length));
    PERIOD.forEach(function (name) { if (p.get(name)) $(name).value = p.get(name); });
    REVIEW.forEach(function (f) {
      var v = p.get(f[0]);
      if (v === null) return;
      var field = $(f[1]);
      if (field.tagName === 'SELECT' && !Array.prototype.some.call(field.options, function (o) { return o.value === v; })) {
        var o = el('option', null, v); o.value = v; field.appendChild(o);
      }
      field.value = v;
    });
  }

  window.addEventListener('resize', function () { if (chart) chart.resize(); if (funnelChart) funnelChart.resize(); });
  $('filters').addEventListener('submit', function (e) { e.preventDefault(); load().then(loadReview); });
  $('logout').addEventListener('click', function () {
    fetch('/desk/logout', {method: 'POST', credentials: 'same-origin', headers: {'X-CSRF-Token': me ? me.csrf_token : ''}})
      .then(function () { location.href = '/desk/login'; });
  });
  get('/desk/api/me').then(function (who) {
    me = who;
    $('whoami').textContent = who.display_name + ' (' + who.role + ')';
    applyLink();
    return load().then(loadReview);
  }).catch(function (err) { $('error').textContent = String(err.message || err); });
})();
