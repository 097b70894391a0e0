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
  }
  /* The conversation the agent has open: its messages are read as they come. */
  DeskQueue.prototype.opened = function (id) {
    this.openId = id;
    if (this.items[id]) this.items[id].unread = 0;
  };
  DeskQueue.prototype.visible = function (item) {
    return this.me.role === 'supervisor' || !item.assigned_agent || item.assigned_agent === this.me.username;
  };
  DeskQueue.prototype.setAll = function (items) {
    var self = this;
    self.items = {};
    items.forEach(function (item) { self.items[item.conversation_id] = item; });
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
      if (!item) {
        this.early[ev.conversation_id] = ev;
        return {changed: false, fetch: ev.state === 'closed' ? null : ev.conversation_id};
      }
      CONVERSATION_FIELDS.forEach(function (k) { if (k in ev) item[k] = ev[k]; });
      if (item.state === 'closed' || !this.visible(item)) delete this.items[ev.conversation_id];
      return {changed: true, fetch: null};
    }
    return {changed: false, fetch: null};
  };
  /* Seconds an unassigned escalation has waited at `now` (ms), else null. */
  DeskQueue.prototype.waitSeconds = function (item, now) {
    if (item.state !== 'agent' || item.assigned_agent || !item.escalated_at) return null;
    return Math.max(0, Math.floor((now - Date.parse(item.escalated_at)) / 1000));
  };
  /* The lines to show: overdue first, then the longest waiting, then the most recent. */
  DeskQueue.prototype.list = function (now) {
    var self = this;
    var out = Object.keys(self.items).map(function (id) {
      var item = self.items[id];
      item.wait_seconds = self.waitSeconds(item, now);
      item.overdue = item.wait_seconds !== null && item.wait_seconds >= self.overdueAfter;
      return item;
    });
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
