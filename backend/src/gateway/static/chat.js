/* Huanxin borrower chat: one WebSocket to the gateway, authenticated in its first frame (the
 * token never goes in a URL), replay from the last seen seq on reconnect, an outbox of
 * unacknowledged messages re-sent with their client ids (the gateway stores each client id once),
 * buttons as buttons (a button carrying a plan card, as the gateway keeps the bot's {"plans": [...]},
 * is shown as that card: the plan's figures and its choose button, in place of the numbered text
 * that every other channel gets), typing indicator, zh/en interface. The conversation lives in sessionStorage
 * (gone when the tab closes); a conversation the gateway refuses (expired after being idle)
 * is dropped and a fresh chat starts. */
(function () {
  'use strict';
  var params = new URLSearchParams(location.search);
  var T = {
    zh: {title: '还信助手', placeholder: '输入消息…', inputLabel: '消息', send: '发送', reconnecting: '连接中断，正在重新连接…',
         connecting: '正在连接…', agent: '人工客服', you: '我', assistant: '助手', toggle: 'EN', closed: '已结束'},
    en: {title: 'Huanxin assistant', placeholder: 'Type a message…', inputLabel: 'Message', send: 'Send', reconnecting: 'Connection lost, reconnecting…',
         connecting: 'Connecting…', agent: 'Agent', you: 'You', assistant: 'Assistant', toggle: '中文', closed: 'Closed'}
  };
  var KEY = 'huanxin.chat.v1';
  var saved = {};
  try { localStorage.removeItem(KEY); } catch (e) { /* an old build kept the token for ever */ }
  try { saved = JSON.parse(sessionStorage.getItem(KEY) || '{}'); } catch (e) { saved = {}; }
  // The borrower's own choice (the toggle, kept for the tab) wins over the embedding page's ?lang=.
  var lang = saved.lang || params.get('lang') ||
    ((navigator.language || 'zh').toLowerCase().indexOf('zh') === 0 ? 'zh' : 'en');
  if (lang !== 'zh' && lang !== 'en') lang = 'zh';
  // languageChoice: the language the toggle chose, sent with the next message so that the bot
  // answers in it from then on (the gateway passes it to the bot as an explicit request).
  var state = {conversation: saved.conversation || null, token: saved.token || null, lastSeq: 0,
               outbox: saved.outbox || [], mode: 'bot', languageChoice: saved.languageChoice || null};
  var ws = null, retry = 0, rendered = {};
  var $ = function (id) { return document.getElementById(id); };
  var messagesEl = $('messages'), input = $('input'), statusEl = $('status'), typingEl = $('typing');
  // the rating asked at the end of a conversation (chat_csat.js)
  var csat = window.huanxinCsat ? window.huanxinCsat(messagesEl, function () { return state; }, function () { return lang; })
    : {update: function () {}, reset: function () {}};

  function persist() {
    sessionStorage.setItem(KEY, JSON.stringify({conversation: state.conversation, token: state.token, lang: lang,
                                             outbox: state.outbox, languageChoice: state.languageChoice}));
  }
  function applyLanguage() {
    var t = T[lang];
    document.documentElement.lang = lang;
    $('title').textContent = t.title;
    input.placeholder = t.placeholder;
    $('input-label').textContent = t.inputLabel;
    $('send').textContent = t.send;
    $('lang-toggle').textContent = t.toggle;
    showMode();
  }
  function showMode() {
    $('mode').textContent = state.mode === 'agent' ? T[lang].agent : (state.mode === 'closed' ? T[lang].closed : '');
  }
  function status(text) { statusEl.hidden = !text; statusEl.textContent = text || ''; }
  function scroll() { messagesEl.scrollTop = messagesEl.scrollHeight; }

  function bubble(sender, text, senderName) {
    var div = document.createElement('div');
    div.className = 'msg ' + sender;
    if (sender === 'agent') {
      var who = document.createElement('span');
      who.className = 'who';
      who.textContent = T[lang].agent + (senderName ? ' · ' + senderName : '');
      div.appendChild(who);
    }
    div.appendChild(document.createTextNode(text || ''));
    return div;
  }
  function render(m) {
    if (rendered[m.seq]) return;
    rendered[m.seq] = true;
    state.lastSeq = Math.max(state.lastSeq, m.seq);
    if (m.sender === 'borrower') {  // our own message echoed back: replace the pending copy
      var pending = messagesEl.querySelector('.msg.pending[data-text="' + CSS.escape(m.text) + '"]');
      if (pending) { pending.classList.remove('pending'); pending.dataset.seq = m.seq; return; }
    }
    var buttons = m.buttons || [];
    if (m.sender === 'borrower' || m.sender === 'system' || buttons.length) retireButtons();
    var cards = buttons.filter(function (b) { return b.card; });
    var allCards = cards.length > 0 && cards.length === buttons.length;  // the text restates the cards
    var div = bubble(m.sender, allCards ? '' : m.text, m.sender_name);
    div.dataset.seq = m.seq;
    function choose(b) {
      div.querySelectorAll('button').forEach(function (x) { x.disabled = true; });
      if (b.card && b.card.desk_card) { acceptDeskPlan(b, div); return; }
      send(b.title, b.payload);
    }
    if (cards.length) {
      div.classList.add('with-cards');
      var list = document.createElement('div');
      list.className = 'cards';
      cards.forEach(function (b) { list.appendChild(planCard(b, choose)); });
      div.appendChild(list);
    }
    var plain = buttons.filter(function (b) { return !b.card; });
    if (plain.length) {
      var row = document.createElement('div');
      row.className = 'buttons';
      plain.forEach(function (b) {
        var btn = document.createElement('button');
        btn.type = 'button';
        btn.textContent = b.title;
        btn.addEventListener('click', function () { choose(b); });
        row.appendChild(btn);
      });
      div.appendChild(row);
    }
    messagesEl.appendChild(div);
    scroll();
  }
  // Only the newest buttons are live: the borrower's message, a notice (a hand-off, an accepted
  // plan) or newer buttons retire the earlier ones, so a reload shows earlier turns' buttons
  // disabled as they were.
  function retireButtons() {
    messagesEl.querySelectorAll('.msg button').forEach(function (x) { x.disabled = true; });
  }
  // A plan an agent sent from the desk: accepted over HTTP (the ledger re-checks it and makes the
  // arrangement; the transcript then says so). A refusal is shown under the card, which stays disabled.
  function acceptDeskPlan(b, div) {
    fetch('/api/chat/conversations/' + encodeURIComponent(state.conversation) + '/plan-cards/' +
          encodeURIComponent(b.card.desk_card) + '/accept', {method: 'POST', headers: {'X-Client-Token': state.token}})
      .then(function (r) {
        if (r.ok) return;
        return r.json().then(function (p) {
          var note = document.createElement('p');
          note.className = 'card-refused';
          note.setAttribute('role', 'alert');
          note.textContent = (lang === 'zh' ? '未能接受：' : 'Not accepted: ') + (p.detail || p.code || r.status);
          div.appendChild(note);
        });
      })
      .catch(function () { div.querySelectorAll('button').forEach(function (x) { x.disabled = false; }); });
  }
  // One offered plan: its title, its figures (label: value), and the button that chooses it.
  function planCard(b, choose) {
    var card = document.createElement('section');
    card.className = 'card';
    var title = document.createElement('h3');
    title.textContent = b.card.title || b.title;
    card.appendChild(title);
    var rows = document.createElement('dl');
    (b.card.rows || []).forEach(function (r) {
      var dt = document.createElement('dt');
      dt.textContent = r.label;
      var dd = document.createElement('dd');
      dd.textContent = r.value;
      rows.appendChild(dt);
      rows.appendChild(dd);
    });
    card.appendChild(rows);
    var btn = document.createElement('button');
    btn.type = 'button';
    btn.textContent = b.card.choose || b.title;
    btn.addEventListener('click', function () { choose(b); });
    card.appendChild(btn);
    return card;
  }

  function newId() {
    return (crypto.randomUUID ? crypto.randomUUID() : Date.now().toString(36) + Math.random().toString(36).slice(2));
  }
  function send(text, payload) {
    text = (text || '').trim();
    if (!text) return;
    var item = {client_msg_id: newId(), text: text, payload: payload || null, language: state.languageChoice};
    state.languageChoice = null;
    state.outbox.push(item);
    persist();
    retireButtons();
    var div = bubble('borrower', text);
    div.className += ' pending';
    div.dataset.text = text;
    messagesEl.appendChild(div);
    scroll();
    flush();
  }
  function flush() {
    if (!ws || ws.readyState !== 1) return;
    state.outbox.forEach(function (item) {
      ws.send(JSON.stringify({type: 'message', text: item.text, payload: item.payload, client_msg_id: item.client_msg_id,
                              language: item.language || null}));
    });
  }

  // A chat opened from a reminder's link (?r=<reference>) tells the gateway which reminder it
  // follows; the bot starts from it after verification (docs/outbound.md).
  function newConversationBody() {
    var body = {language: lang};
    var ref = params.get('r');
    if (ref && /^r[0-9a-z]{1,12}$/.test(ref)) body.reminder_ref = ref;
    return body;
  }
  function startConversation() {
    return fetch('/api/chat/conversations', {method: 'POST', headers: {'Content-Type': 'application/json'},
                                             body: JSON.stringify(newConversationBody())})
      .then(function (r) { if (!r.ok) throw new Error('create failed'); return r.json(); })
      .then(function (d) { state.conversation = d.conversation_id; state.token = d.token; persist(); });
  }
  function connect() {
    var ready = state.conversation ? Promise.resolve() : startConversation();
    ready.then(function () {
      var proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
      ws = new WebSocket(proto + '//' + location.host + '/ws/chat');
      ws.onopen = function () {
        ws.send(JSON.stringify({type: 'auth', conversation_id: state.conversation, token: state.token,
                                after: state.lastSeq}));
        retry = 0; status(''); flush();
      };
      ws.onmessage = function (e) {
        var ev = JSON.parse(e.data);
        if (ev.type === 'message') { render(ev); if (ev.sender !== 'borrower') typingEl.hidden = true; }
        else if (ev.type === 'typing') { typingEl.hidden = !ev.on; if (ev.on) scroll(); }
        else if (ev.type === 'state') { state.mode = ev.state; showMode(); if (ev.csat) csat.update(ev.csat, ev.language); }
        else if (ev.type === 'csat') { csat.update(ev.csat, ev.language); }
        else if (ev.type === 'ack') {
          state.outbox = state.outbox.filter(function (i) { return i.client_msg_id !== ev.client_msg_id; });
          persist();
        } else if (ev.type === 'error' && (ev.code === 'rate_limited' || ev.code === 'unavailable')) {
          setTimeout(flush, (ev.retry_after || 5) * 1000);  // the outbox keeps it; send again later
        }
      };
      ws.onclose = function (e) {
        typingEl.hidden = true;
        if (e.code === 4403) { freshChat(); connect(); return; }  // unknown or expired: start again
        if (e.code === 1008 || e.code === 4401) return;
        status(T[lang].reconnecting);
        retry = Math.min(retry + 1, 6);
        setTimeout(connect, Math.min(500 * Math.pow(2, retry - 1), 10000));
      };
    }).catch(function () {
      status(T[lang].reconnecting);
      retry = Math.min(retry + 1, 6);
      setTimeout(connect, Math.min(500 * Math.pow(2, retry - 1), 10000));
    });
  }
  // An unknown or expired conversation (403, or socket close 4403) is dropped for a fresh chat.
  function freshChat() {
    state.conversation = null; state.token = null; state.outbox = []; state.lastSeq = 0; rendered = {};
    csat.reset();
    messagesEl.textContent = '';
    persist();
  }
  function checkConversation() {
    if (!state.conversation) return Promise.resolve();
    return fetch('/api/chat/conversations/' + encodeURIComponent(state.conversation) + '/messages?after=0',
                 {headers: {'X-Client-Token': state.token}})
      .then(function (r) { if (r.status === 403) freshChat(); }).catch(function () {});
  }

  $('composer').addEventListener('submit', function (e) { e.preventDefault(); send(input.value); input.value = ''; });
  input.addEventListener('keydown', function (e) {
    if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) { e.preventDefault(); send(input.value); input.value = ''; }
  });
  $('lang-toggle').addEventListener('click', function () {
    lang = lang === 'zh' ? 'en' : 'zh';
    state.languageChoice = lang;
    persist();
    applyLanguage();
  });
  if (params.get('embedded')) {
    $('close-frame').hidden = false;
    $('close-frame').addEventListener('click', function () { parent.postMessage('huanxin:close', '*'); });
  }
  window.huanxinChat = {state: state, reconnectNow: function () { if (ws) ws.close(); }};
  applyLanguage();
  status(T[lang].connecting);
  checkConversation().then(connect);
})();
