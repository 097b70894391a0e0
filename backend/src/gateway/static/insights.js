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
    ['median_turns', '轮次中位数 / Median turns', 'count']
  ];

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  function show(value, kind) {
    if (value === null || value === undefined) return '–';
    return kind === 'rate' ? (value * 100).toFixed(1) + '%' : String(value);
  }
  function reasons(byReason) {
    var keys = Object.keys(byReason || {});
    return keys.map(function (k) { return k + ' ' + show(byReason[k], 'rate'); }).join(', ');
  }
  function get(path) {
    return fetch(path, {credentials: 'same-origin'}).then(function (r) {
      if (r.status === 401) { location.href = '/desk/login'; throw new Error('logged out'); }
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.detail || data.title || r.status);
        return data;
      });
    });
  }

  function renderTotal(data) {
    var body = $('total').tBodies[0];
    body.textContent = '';
    FIGURES.forEach(function (f) {
      var tr = el('tr');
      tr.dataset.figure = f[0];
      tr.appendChild(el('th', null, f[1]));
      tr.appendChild(el('td', 'value', show(data.total[f[0]], f[2])));
      var def = data.definitions[f[0]];
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
      FIGURES.forEach(function (f) { tr.appendChild(el('td', null, show(row[f[0]], f[2]))); });
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
  function load() {
    var params = new URLSearchParams();
    ['since', 'until', 'language', 'channel', 'group'].forEach(function (name) {
      var v = $(name).value;
      if (v) params.set(name, v);
    });
    $('error').textContent = '';
    return get('/insights/api/overview?' + params.toString()).then(function (data) {
      $('since').value = data.filters.since;
      $('until').value = data.filters.until;
      renderTotal(data);
      renderRows(data);
      renderChart(data);
      document.body.dataset.loaded = 'yes';
    }).catch(function (err) { $('error').textContent = String(err.message || err); });
  }

  window.addEventListener('resize', function () { if (chart) chart.resize(); });
  $('filters').addEventListener('submit', function (e) { e.preventDefault(); load(); });
  $('logout').addEventListener('click', function () {
    fetch('/desk/logout', {method: 'POST', credentials: 'same-origin', headers: {'X-CSRF-Token': me ? me.csrf_token : ''}})
      .then(function () { location.href = '/desk/login'; });
  });
  get('/desk/api/me').then(function (who) {
    me = who;
    $('whoami').textContent = who.display_name + ' (' + who.role + ')';
    return load();
  }).catch(function (err) { $('error').textContent = String(err.message || err); });
})();
