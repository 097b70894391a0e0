// The supervisors' outbound page: today's plan and the last 7 days' outcomes (GET
// /insights/api/outbound), and a dry run of an uploaded cadence file (POST, with the desk
// session's CSRF token from /desk/api/me). Text is set with textContent only.
(function () {
  'use strict';
  var me = null;
  function $(id) { return document.getElementById(id); }
  function say(text) { $('message').textContent = text; }
  function call(method, path, body) {
    return window.huanxinStaffPage.request(method, path, body, me ? me.csrf_token : '');
  }
  function rows(tableId, list) {
    var body = $(tableId).querySelector('tbody');
    body.textContent = '';
    list.forEach(function (cells) {
      var tr = document.createElement('tr');
      cells.forEach(function (c) { var td = document.createElement('td'); td.textContent = String(c); tr.appendChild(td); });
      body.appendChild(tr);
    });
  }
  function pairs(obj) { return Object.keys(obj).map(function (k) { return [k, obj[k]]; }); }
  function show(data) {
    var plan = data.plan;
    $('at').textContent = 'As of ' + data.at;
    $('plan-totals').textContent = plan.contacts + ' to contact, ' + plan.held + ' held back';
    rows('by-reason', pairs(plan.by_reason));
    rows('by-channel', pairs(plan.by_channel));
    rows('held-by-rule', pairs(plan.held_by_rule));
    var table = data.outcomes.by_reason;
    var keys = ['sent', 'delivered', 'answered', 'followed_by_payment', 'followed_by_promise', 'followed_by_plan',
                'followed_by_any'];
    var list = Object.keys(table).map(function (reason) {
      return [reason].concat(keys.map(function (k) { return table[reason][k]; }));
    });
    list.push(['total'].concat(keys.map(function (k) { return data.outcomes.total[k]; })));
    rows('outcomes', list);
  }
  function compare(result) {
    var live = result.live, cand = result.candidate;
    var list = [['contacts', live.contacts, cand.contacts], ['held back', live.held, cand.held]];
    var reasons = Object.keys(Object.assign({}, live.by_reason, cand.by_reason)).sort();
    reasons.forEach(function (r) { list.push(['reason ' + r, live.by_reason[r] || 0, cand.by_reason[r] || 0]); });
    var rules = Object.keys(Object.assign({}, live.held_by_rule, cand.held_by_rule)).sort();
    rules.forEach(function (r) { list.push(['held: ' + r, live.held_by_rule[r] || 0, cand.held_by_rule[r] || 0]); });
    rows('compare', list);
    $('compare').hidden = false;
  }
  $('dry-run').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var file = $('file').files[0];
    if (!file) { say('Choose a cadence file first.'); return; }
    $('compare').hidden = true;
    say('Planning with the candidate…');
    file.text().then(function (text) {
      return call('POST', '/insights/api/outbound/dry-run', {cadence: text});
    }).then(function (result) { say('Dry run at ' + result.at + ' (nothing sent).'); compare(result); })
      .catch(function (e) { say('Refused: ' + e.message); });
  });
  fetch('/desk/api/me', {credentials: 'same-origin'}).then(function (r) { return r.json(); }).then(function (data) {
    me = data;
    $('whoami').textContent = data.username + ' (' + data.role + ')';
    return call('GET', '/insights/api/outbound');
  }).then(show).catch(function (e) { $('at').textContent = e.message; });
}());
