/* The desk's account panel (the ledger's DeskDoor.account_panel): the borrower's line, then per
 * loan a header (figures) and tables: schedule, payments, arrangements, promises, disputes,
 * payment traces, hardship facts, open offers. Every label is bilingual; no field name, id or raw
 * JSON is shown; instants are printed as the ledger gives them, in the borrower's time zone.
 * desk.js calls DeskAccount.render(box, account); text is always set with textContent. */
(function () {
  'use strict';
  var serial = 0;
  var LABELS = {  // the ledger's values, as an agent reads them
    paid: '已还 / paid', overdue: '逾期 / overdue', due: '本期 / due', upcoming: '未到期 / upcoming',
    replaced: '已替代 / replaced', open: '进行中 / open', kept: '已履行 / kept', broken: '已违约 / broken',
    active: '生效 / active', withdrawn: '已撤回 / withdrawn', resolved: '已解决 / resolved', closed: '已结案 / closed',
    fenfu: '分付 / Fenfu', cash_loan: '现金贷 / Cash loan', consumer_instalment: '消费分期 / Consumer instalment',
    fee_waiver: '费用减免 / Fee waiver', deferral: '延期 / Deferral', term_extension: '展期 / Term extension',
    reduced_rate: '降息 / Reduced rate', quarterly: '按季还款 / Quarterly', settlement: '和解 / Settlement',
    monthly: '每月 / monthly', bank_transfer: '银行转账 / bank transfer', wechat_pay: '微信支付 / WeChat Pay',
    alipay: '支付宝 / Alipay', job_loss: '失业 / job loss', illness: '疾病 / illness', income_drop: '收入下降 / income drop',
    business_failure: '经营失败 / business failure', family_emergency: '家庭变故 / family emergency',
    irregular_income: '收入不稳定 / irregular income', other: '其他 / other', temporary: '暂时 / temporary',
    long_term: '长期 / long term', zh: '中文 / Chinese', en: '英文 / English', sms: '短信 / SMS',
    voice: '电话 / voice', email: '邮件 / email', wechat: '微信 / WeChat', web: '网页 / web'
  };
  var el = window.huanxinStaffPage.el;
  function label(value) {
    if (value === null || value === undefined || value === '') return '—';
    return LABELS[value] || String(value).replace(/_/g, ' ');
  }
  function show(value) { return value === null || value === undefined || value === '' ? '—' : String(value); }
  function instant(iso) {  // "2026-03-01T10:00:00+08:00" -> "2026-03-01 10:00 +08:00" (the borrower's clock)
    return iso ? iso.slice(0, 10) + ' ' + iso.slice(11, 16) + ' ' + iso.slice(19) : '—';
  }
  function section(box, title, rows, columns, rowClass) {
    var id = 'acct-s' + (++serial);
    box.appendChild(el('h4', 'acct-title', title)).id = id;
    if (!rows || !rows.length) { box.appendChild(el('p', 'empty acct-none', '无 / None')); return; }
    var scroll = el('div', 'acct-scroll');
    scroll.tabIndex = 0;  // a table wider than the pane scrolls, by keyboard too
    scroll.setAttribute('role', 'region');
    scroll.setAttribute('aria-labelledby', id);
    var table = el('table', 'acct-table');
    table.setAttribute('aria-labelledby', id);
    var head = table.appendChild(el('thead')).appendChild(el('tr'));
    columns.forEach(function (c) { head.appendChild(el('th', c.num ? 'num' : null, c.th)).scope = 'col'; });
    var body = table.appendChild(el('tbody'));
    rows.forEach(function (row) {
      var tr = body.appendChild(el('tr', rowClass ? rowClass(row) : null));
      columns.forEach(function (c, n) {
        var cell = el(n ? 'td' : 'th', c.num ? 'num' : (c.wrap ? 'wrap' : null), show(c.cell(row)));
        if (!n) cell.scope = 'row';
        tr.appendChild(cell);
      });
    });
    scroll.appendChild(table);
    box.appendChild(scroll);
  }
  function facts(box, pairs) {  // [label, value] pairs as a definition list; empty values left out
    var dl = el('dl', 'acct-facts');
    pairs.forEach(function (p) {
      if (p[1] === null || p[1] === undefined || p[1] === '') return;
      dl.appendChild(el('dt', null, p[0]));
      dl.appendChild(el('dd', p[2] || null, p[1]));
    });
    box.appendChild(dl);
  }
  function charges(row) {
    var parts = [];
    if (row.penalty_interest) parts.push('罚息 penalty ' + row.penalty_interest);
    if (row.late_fee) parts.push('违约金 late fee ' + row.late_fee);
    return parts.join(' · ');
  }
  function renderLoan(box, loan) {
    var part = box.appendChild(el('section', 'acct-loan'));
    var id = 'acct-loan-' + (++serial);
    part.setAttribute('aria-labelledby', id);
    part.appendChild(el('h3', 'acct-loan-title', loan.loan_number + ' · ' + label(loan.product))).id = id;
    var o = loan.overdue, next = loan.next_due, plan = loan.active_arrangement, dispute = loan.open_dispute;
    facts(part, [
      ['逾期天数 / DPD', loan.days_past_due === undefined ? null : loan.days_past_due + (loan.bucket ? ' (' + loan.bucket + ')' : ''),
       loan.days_past_due > 0 ? 'late' : null],
      ['逾期总额 / Overdue', o ? o.total + ' ' + loan.currency : null, o && Number(o.total) > 0 ? 'late' : null],
      ['逾期构成 / Made of', o && Number(o.total) > 0 ? '本金 principal ' + o.principal + ' · 利息 interest ' + o.interest +
        ' · 罚息 penalty ' + o.penalty_interest + ' · 违约金 late fees ' + o.late_fees : null],
      ['补足当期 / To bring current', loan.amount_to_bring_current],
      ['结清金额 / Payoff', loan.payoff_amount],
      ['下期 / Next due', next ? next.amount + ' · ' + next.due_date : null],
      ['方案 / Plan', plan ? label(plan.plan_type) + ' · ' + label(plan.state) + ' · ' + plan.total_to_repay : null],
      ['争议 / Dispute', dispute ? dispute.case_number + ' · 答复期限 reply by ' + dispute.reply_due_by : null]
    ]);
    var withCharges = (loan.schedule || []).some(function (r) { return r.penalty_interest || r.late_fee; });
    var scheduleColumns = [
      {th: '期 / No.', cell: function (r) { return r.number; }},
      {th: '到期日 / Due date', cell: function (r) { return r.due_date; }},
      {th: '应还 / Amount due', num: true, cell: function (r) { return r.amount_due; }},
      {th: '已还 / Paid', num: true, cell: function (r) { return r.paid; }},
      {th: '未还 / Outstanding', num: true, cell: function (r) { return r.outstanding; }},
      {th: '状态 / State', cell: function (r) { return label(r.state) + (r.plan ? ' · 方案 plan' : ''); }},
      {th: '逾期天数 / DPD', num: true, cell: function (r) { return r.days_past_due || '—'; }}
    ];
    if (withCharges) scheduleColumns.push({th: '费用 / Charges', cell: charges});
    section(part, '还款计划 / Schedule', loan.schedule, scheduleColumns, function (r) {
      return 'inst-' + r.state + (r.plan ? ' inst-plan' : '');
    });
    section(part, '还款记录 / Payments', loan.payments, [
      {th: '收款日 / Received on', cell: function (p) { return p.received_on; }},
      {th: '金额 / Amount', num: true, cell: function (p) { return p.amount; }},
      {th: '渠道 / Channel', cell: function (p) { return label(p.channel); }},
      {th: '参考号 / Reference', cell: function (p) { return p.reference; }},
      {th: '入账时间 / Recorded', cell: function (p) { return instant(p.recorded_at); }}
    ]);
    section(part, '还款方案 / Arrangements', loan.arrangements, [
      {th: '方案 / Plan', wrap: true, cell: function (a) { return label(a.plan_type); }},
      {th: '接受日 / Accepted on', cell: function (a) { return a.accepted_on; }},
      {th: '状态 / State', cell: function (a) { return label(a.state); }},
      {th: '应还总额 / Total to repay', num: true, cell: function (a) { return a.total_to_repay; }},
      {th: '减免 / Waived', num: true, cell: function (a) { return a.waived_total; }},
      {th: '替代期数 / Replaces', cell: function (a) { return a.replaces_instalments; }},
      {th: '方案计划 / Its schedule', wrap: true, cell: function (a) {
        var s = a.schedule, pay = s.smallest_payment === s.largest_payment ? s.smallest_payment : s.smallest_payment + '–' + s.largest_payment;
        return s.instalments ? s.instalments + ' 期 instalments · ' + s.first_due + ' → ' + s.last_due + ' · ' + pay + ' ' + label(a.payment_frequency) : '—';
      }}
    ]);
    section(part, '还款承诺 / Promises', loan.promises, [
      {th: '金额 / Amount', num: true, cell: function (p) { return p.amount; }},
      {th: '承诺日期 / Promised for', cell: function (p) { return p.promised_date; }},
      {th: '作出日 / Made on', cell: function (p) { return p.made_on; }},
      {th: '状态 / State', cell: function (p) { return label(p.state); }},
      {th: '已付 / Paid toward', num: true, cell: function (p) { return p.paid_toward; }}
    ]);
    section(part, '争议 / Disputes', loan.disputes, [
      {th: '案件号 / Case', cell: function (d) { return d.case_number; }},
      {th: '原因 / Reason', wrap: true, cell: function (d) { return d.reason; }},
      {th: '状态 / Status', cell: function (d) { return label(d.status); }},
      {th: '答复期限 / Reply by', cell: function (d) { return d.reply_due_by; }},
      {th: '撤回于 / Withdrawn', cell: function (d) { return d.withdrawn_at ? instant(d.withdrawn_at) : '—'; }}
    ]);
    section(part, '付款查询 / Payment traces', loan.payment_traces, [
      {th: '案件号 / Case', cell: function (t) { return t.case_number; }},
      {th: '付款日 / Paid on', cell: function (t) { return t.paid_on; }},
      {th: '金额 / Amount', num: true, cell: function (t) { return t.amount; }},
      {th: '参考号 / Reference', cell: function (t) { return t.reference; }},
      {th: '渠道 / Channel', wrap: true, cell: function (t) { return label(t.channel); }},
      {th: '开立 / Opened', cell: function (t) { return t.opened_on; }},
      {th: '答复期限 / Reply by', cell: function (t) { return t.reply_due_by; }},
      {th: '状态 / Status', cell: function (t) { return label(t.status); }}
    ]);
    section(part, '困难情况 / Hardship', loan.hardship_cases, [
      {th: '原因 / Reason', wrap: true, cell: function (h) { return label(h.reason); }},
      {th: '期限 / Duration', cell: function (h) { return label(h.duration); }},
      {th: '月收入 / Monthly income', num: true, cell: function (h) { return h.monthly_income; }},
      {th: '必要支出 / Essential expenses', num: true, cell: function (h) { return h.essential_expenses; }},
      {th: '其他债务 / Other debt payments', num: true, cell: function (h) { return h.other_debt_payments; }},
      {th: '记录于 / Recorded', cell: function (h) { return instant(h.created_at); }}
    ]);
    section(part, '待接受方案 / Open offers', loan.offers, [
      {th: '方案 / Plan', wrap: true, cell: function (f) { return label(f.plan_type); }},
      {th: '每期 / Payment', num: true, cell: function (f) { return f.payment_amount; }},
      {th: '应还总额 / Total to repay', num: true, cell: function (f) { return f.total_to_repay; }},
      {th: '有效至 / Expires', cell: function (f) { return instant(f.expires_at); }}
    ]);
  }
  function render(box, account) {
    box.textContent = '';
    if (!account) { box.className = 'empty'; box.textContent = '借款人尚未验证 / Borrower not verified yet'; return; }
    box.className = 'acct';
    var pref = account.contact_preferences || {};
    var opted = (pref.opted_out_channels || []).map(label).join(', ');
    facts(box, [
      ['借款人 / Borrower', account.borrower_name],
      ['语言 / Language', label(account.language)],
      ['时区 / Time zone', account.timezone ? account.timezone + ' · 时间按此时区 / times shown in it' : null],
      ['截至 / As of', account.as_of],
      ['最差分组 / Worst bucket', account.bucket],
      ['停止联络 / Stop contact', pref.stop_all ? '是 / yes' : '否 / no', pref.stop_all ? 'late' : null],
      ['已退订渠道 / Opted-out channels', opted || '无 / none']
    ]);
    if (!(account.loans || []).length) box.appendChild(el('p', 'empty', '无贷款 / No loans'));
    (account.loans || []).forEach(function (loan) { renderLoan(box, loan); });
  }
  window.DeskAccount = {render: render};
})();
