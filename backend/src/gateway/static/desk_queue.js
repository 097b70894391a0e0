/* The desk's queue as plain state, updated by the desk socket's events (deltas) instead of
 * reloading the whole queue on every message. Only a conversation the desk has never listed
 * needs one request (GET /desk/api/queue/{id}); apply() says which. No DOM here: desk.js
 * renders, and the gateway's tests run this file under node. */
(function (root) {
  'use strict';
  var CONVERSATION_FIELDS = ['channel', 'language', 'state', 'assigned_agent', 'escalation_reason', 'escalated_at',
                             'outcome', 'labels', 'last_seq', 'created_at', 'updated_at'];

  function DeskQueue(me, overdueAfterSeconds) {
    this.me = me;
    this.overdueAfter = overdueAfterSeconds || 900;
    this.items = {};
    this.early = {};  // conversation events for lines being fetched: the fetched line may be older
    this.filters = {};  // the queue filters chosen on the desk (cleanFilters)
    this.pendingAlerts = {};  // new escalations not yet alerted: id -> escalated_at
    this.alerted = {};  // id -> escalated_at of the escalation already alerted
  }

  /* ---- Filters and search: the same rules as the gateway's (gateway/queue_filters.py) ---- */
  var FILTER_KEYS = ['filter', 'label', 'reason', 'bucket', 'language', 'waiting_min', 'q'];
  var WHICH = ['all', 'mine', 'unassigned', 'waiting'];
  /* Only the keys the queue takes, trimmed, empty ones dropped (e.g. from localStorage). */
  DeskQueue.cleanFilters = function (raw) {
    var out = {};
    if (!raw || typeof raw !== 'object') return out;
    FILTER_KEYS.forEach(function (k) {
      var v = raw[k];
      if (v === null || v === undefined) return;
      v = String(v).trim();
      if (!v) return;
      if (k === 'filter' && (WHICH.indexOf(v) < 0 || v === 'all')) return;
      if (k === 'waiting_min') { if (!/^[0-9]{1,4}$/.test(v) || +v < 1) return; v = +v; }
      if (k === 'label' && !/^[\p{L}\p{N}_-]{1,32}$/u.test(v)) return;  // as the gateway's LABEL
      if (k === 'q' && (v.length > 64 || /\p{C}/u.test(v))) return;  // the gateway refuses these
      out[k] = v;
    });
    return out;
  };
  /* The query string of GET /desk/api/queue for these filters ('' for none). */
  DeskQueue.queryString = function (filters) {
    var clean = DeskQueue.cleanFilters(filters);
    var parts = FILTER_KEYS.filter(function (k) { return k in clean; }).map(function (k) {
      return encodeURIComponent(k) + '=' + encodeURIComponent(clean[k]);
    });
    return parts.length ? '?' + parts.join('&') : '';
  };
  /* Whether a line passes the filters; waitSeconds: its wait now (null: not waiting). */
  DeskQueue.matches = function (item, filters, me, waitSeconds) {
    var f = filters || {};
    var nobodys = !item.assigned_agent, withDesk = item.state === 'agent';
    if (f.filter === 'mine' && !(withDesk && item.assigned_agent === me.username)) return false;
    if (f.filter === 'waiting' && !(withDesk && nobodys)) return false;
    if (f.filter === 'unassigned' && !nobodys) return false;
    if (f.label && (item.labels || []).indexOf(f.label) < 0) return false;
    if (f.reason && item.escalation_reason !== f.reason) return false;
    if (f.language && item.language !== f.language) return false;
    if (f.waiting_min && !(waitSeconds !== null && waitSeconds !== undefined && waitSeconds >= f.waiting_min * 60)) return false;
    if (f.bucket && item.bucket !== f.bucket) return false;
    if (f.q) {
      var needle = String(f.q).trim().toLowerCase();
      var fields = [item.escalation_reason, item.borrower_name, item.case_number].concat(item.loan_numbers || []);
      var found = String(item.conversation_id || '').toLowerCase().indexOf(needle) === 0 || fields.some(function (v) {
        return v !== null && v !== undefined && String(v).toLowerCase().indexOf(needle) >= 0;
      });
      if (!found) return false;
    }
    return true;
  };
  DeskQueue.prototype.setFilters = function (filters) { this.filters = DeskQueue.cleanFilters(filters); };

  /* ---- New-escalation alerts ---- */
  /* A conversation event the bot's hand-off marked (escalated), nobody's, that this desk did not
   * already list as waiting, and not alerted before: a new escalation this agent may take. */
  DeskQueue.prototype.isNewEscalation = function (ev, item) {
    if (ev.type !== 'conversation' || ev.escalated !== true || ev.state !== 'agent' || ev.assigned_agent) return false;
    if (item && item.state === 'agent' && !item.assigned_agent) return false;  // already listed as waiting
    return this.alerted[ev.conversation_id] !== ev.escalated_at;
  };
  /* An alert still due (nobody took the conversation meanwhile, e.g. auto-assignment): true once. */
  DeskQueue.prototype.takeAlert = function (id) {
    if (!(id in this.pendingAlerts)) return false;
    this.alerted[id] = this.pendingAlerts[id];
    delete this.pendingAlerts[id];
    return true;
  };
  /* The conversation the agent has open: its messages are read as they come. */
  DeskQueue.prototype.opened = function (id) {
    this.openId = id;
    if (this.items[id]) this.items[id].unread = 0;
  };
  DeskQueue.prototype.visible = function (item) {
    return this.me.role === 'supervisor' || !item.assigned_agent || item.assigned_agent === this.me.username;
  };
  /* The server's list, then `since`: the socket's events that came while it was fetched, which
   * may be newer than the list (a message the list already counts, seq <= its last_seq, is not
   * counted again). Returns the conversations to fetch a line for, as `apply` does. */
  DeskQueue.prototype.setAll = function (items, since) {
    var self = this, listed = {}, fetch = [];
    self.items = {};
    items.forEach(function (item) {
      self.items[item.conversation_id] = item;
      listed[item.conversation_id] = item.last_seq || 0;
    });
    (since || []).forEach(function (ev) {
      if (ev.type === 'message' && (ev.seq || 0) <= (listed[ev.conversation_id] || 0)) return;
      var result = self.apply(ev);
      if (result.fetch && fetch.indexOf(result.fetch) < 0) fetch.push(result.fetch);
    });
    return fetch;
  };
  /* One line from the server (a fetched queue item): kept if it belongs in the queue. */
  DeskQueue.prototype.put = function (item) {
    var early = this.early[item.conversation_id];
    delete this.early[item.conversation_id];
    if (early && Date.parse(early.updated_at || 0) >= Date.parse(item.updated_at || 0)) {
      CONVERSATION_FIELDS.forEach(function (k) { if (k in early) item[k] = early[k]; });  // the event is newer
    }
    if (item.state === 'closed' || !this.visible(item)) { delete this.items[item.conversation_id]; return; }
    this.items[item.conversation_id] = item;
  };
  /* Apply one socket event. Returns {changed: bool, fetch: conversation id or null}. */
  DeskQueue.prototype.apply = function (ev) {
    var item = this.items[ev.conversation_id];
    if (ev.type === 'message') {
      if (!item) return {changed: false, fetch: ev.conversation_id};
      item.last_message = String(ev.text || '').slice(0, 120);
      item.last_seq = Math.max(item.last_seq || 0, ev.seq || 0);
      item.updated_at = ev.created_at || item.updated_at;
      if (ev.sender === 'borrower' && ev.conversation_id !== this.openId) item.unread = (item.unread || 0) + 1;
      return {changed: true, fetch: null};
    }
    if (ev.type === 'conversation') {
      var escalated = this.isNewEscalation(ev, item);
      if (escalated) this.pendingAlerts[ev.conversation_id] = ev.escalated_at;
      else if (ev.state !== 'agent' || ev.assigned_agent) delete this.pendingAlerts[ev.conversation_id];
      if (!item) {
        this.early[ev.conversation_id] = ev;
        return {changed: false, fetch: ev.state === 'closed' ? null : ev.conversation_id};
      }
      CONVERSATION_FIELDS.forEach(function (k) { if (k in ev) item[k] = ev[k]; });
      if (item.state === 'closed' || !this.visible(item)) delete this.items[ev.conversation_id];
      // a listed bot conversation handed to the desk: its line again (the case, the borrower named)
      return {changed: true, fetch: escalated && this.items[ev.conversation_id] ? ev.conversation_id : null};
    }
    return {changed: false, fetch: null};
  };
  /* Seconds an unassigned escalation has waited at `now` (ms), else null. */
  DeskQueue.prototype.waitSeconds = function (item, now) {
    if (item.state !== 'agent' || item.assigned_agent || !item.escalated_at) return null;
    return Math.max(0, Math.floor((now - Date.parse(item.escalated_at)) / 1000));
  };
  /* The lines to show (those the filters pass): overdue first, then the longest waiting, then
   * the most recent. */
  DeskQueue.prototype.list = function (now) {
    var self = this;
    var out = Object.keys(self.items).map(function (id) {
      var item = self.items[id];
      item.wait_seconds = self.waitSeconds(item, now);
      item.overdue = item.wait_seconds !== null && item.wait_seconds >= self.overdueAfter;
      return item;
    }).filter(function (item) { return DeskQueue.matches(item, self.filters, self.me, item.wait_seconds); });
    out.sort(function (a, b) {
      if (a.overdue !== b.overdue) return a.overdue ? -1 : 1;
      var ea = a.escalated_at ? Date.parse(a.escalated_at) : Infinity, eb = b.escalated_at ? Date.parse(b.escalated_at) : Infinity;
      if (ea !== eb) return ea < eb ? -1 : 1;
      return Date.parse(b.updated_at || 0) - Date.parse(a.updated_at || 0);
    });
    return out;
  };

  if (typeof module !== 'undefined' && module.exports) module.exports = DeskQueue;
  else root.DeskQueue = DeskQueue;
})(this);
