// The policy lab page: upload a candidate, run the lab, poll, link the report; a supervisor
// may apply the run's candidate (the ledger's audited apply step). Every POST carries the
// desk session's CSRF token from /desk/api/me.
(function () {
  'use strict';
  var me = null;
  var runId = null;
  function $(id) { return document.getElementById(id); }
  function say(text) { $('message').textContent = text; }
  function call(method, path, body) {
    return window.huanxinStaffPage.request(method, path, body, me ? me.csrf_token : '');
  }
  function show(run) {
    var s = run.summary;
    $('result').hidden = false;
    $('summary').textContent = s.loans + ' loans as of ' + s.as_of + ': ' + s.loans_gaining_a_plan +
      ' gain and ' + s.loans_losing_a_plan + ' lose at least one plan. ' +
      s.changes.map(function (c) { return c.plan_type + ' ' + c.direction + ' (' + c.rule + '): ' + c.loans; }).join('; ');
    $('report').href = '/insights/policy-lab/' + runId + '/report.html';
    $('apply').hidden = !(me && me.role === 'supervisor') || Boolean(run.applied);
  }
  function poll() {
    call('GET', '/insights/api/policy-lab/' + runId).then(function (run) {
      if (run.status === 'running') { setTimeout(poll, 1000); return; }
      if (run.status === 'failed') { say('The lab failed: ' + run.detail); return; }
      say('Done.');
      show(run);
    }).catch(function (e) { say(e.message); });
  }
  $('upload').addEventListener('submit', function (ev) {
    ev.preventDefault();
    var file = $('file').files[0];
    if (!file) { say('Choose a policy file first.'); return; }
    $('result').hidden = true;
    file.text().then(function (text) {
      return call('POST', '/insights/api/policy-lab', {policy: text});
    }).then(function (data) {
      runId = data.run_id;
      say('Running the lab over the portfolio…');
      poll();
    }).catch(function (e) { say(e.message); });
  });
  $('apply').addEventListener('click', function () {
    call('POST', '/insights/api/policy-lab/' + runId + '/apply').then(function (data) {
      say('Applied: ' + data.detail);
      $('apply').hidden = true;
    }).catch(function (e) { say('Not applied: ' + e.message); });
  });
  fetch('/desk/api/me', {credentials: 'same-origin'}).then(function (r) { return r.json(); }).then(function (data) {
    me = data;
    $('whoami').textContent = data.username + ' (' + data.role + ')';
  });
}());
