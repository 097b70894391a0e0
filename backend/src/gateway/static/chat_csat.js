/* Huanxin borrower chat: the CSAT card. When the conversation ends (the bot said goodbye, or an
 * agent closed it) the gateway tells the widget the rating is asked ({"type": "csat", "csat":
 * "asked", "language"}; the socket's state frame repeats it after a reload); the card asks in the
 * conversation's language for one tap from 1 to 5 and posts it with the conversation's own token.
 * Once rated ("rated"), it thanks the borrower and asks no more. Self-contained: chat.js only
 * calls update(). */
(function () {
  'use strict';
  var T = {
    zh: {ask: '本次对话对您有帮助吗？请为我们评分（1 分最低，5 分最高）', thanks: '感谢您的评分！',
         failed: '评分未能提交，请再点一次', scale: ['很不满意', '不满意', '一般', '满意', '很满意']},
    en: {ask: 'How helpful was this conversation? Please rate it (1 lowest, 5 highest)', thanks: 'Thank you for your rating!',
         failed: 'The rating was not sent; please tap again', scale: ['Very poor', 'Poor', 'Fair', 'Good', 'Very good']}
  };
  // container: the transcript element; session(): {conversation, token}; fallbackLanguage(): the widget's language
  window.huanxinCsat = function (container, session, fallbackLanguage) {
    var card = null, state = null, lang = null;
    function text(key) { return T[lang === 'en' ? 'en' : 'zh'][key]; }
    function thank() {
      card.textContent = '';
      var p = document.createElement('p');
      p.className = 'csat-thanks';
      p.textContent = text('thanks');
      card.appendChild(p);
    }
    function send(score, buttons, note) {
      buttons.forEach(function (b) { b.disabled = true; });
      var s = session();
      fetch('/api/chat/conversations/' + encodeURIComponent(s.conversation) + '/csat', {
        method: 'POST', headers: {'Content-Type': 'application/json', 'X-Client-Token': s.token},
        body: JSON.stringify({score: score})
      }).then(function (r) {
        if (r.ok || r.status === 409) { state = 'rated'; thank(); return; }  // 409: rated already (another tab)
        throw new Error(String(r.status));
      }).catch(function () {
        note.textContent = text('failed');
        buttons.forEach(function (b) { b.disabled = false; });
      });
    }
    function ask() {
      card.textContent = '';
      var q = document.createElement('p');
      q.id = 'csat-question';
      q.textContent = text('ask');
      card.appendChild(q);
      var row = document.createElement('div');
      row.className = 'csat-scores';
      row.setAttribute('role', 'group');
      row.setAttribute('aria-labelledby', 'csat-question');
      var note = document.createElement('p');
      note.className = 'csat-note';
      note.setAttribute('role', 'status');
      var buttons = [1, 2, 3, 4, 5].map(function (score) {
        var b = document.createElement('button');
        b.type = 'button';
        b.dataset.score = String(score);
        b.textContent = score + ' ★';
        b.title = text('scale')[score - 1];
        b.setAttribute('aria-label', score + ' – ' + text('scale')[score - 1]);
        b.addEventListener('click', function () { send(score, buttons, note); });
        row.appendChild(b);
        return b;
      });
      card.appendChild(row);
      card.appendChild(note);
    }
    return {
      update: function (newState, language) {
        if (!newState || newState === state) return;
        state = newState;
        lang = language || lang || fallbackLanguage();
        if (!card) {
          card = document.createElement('section');
          card.className = 'csat';
          card.setAttribute('aria-live', 'polite');
        }
        container.appendChild(card);  // at the end of the transcript
        if (state === 'asked') ask(); else thank();
        container.scrollTop = container.scrollHeight;
      },
      reset: function () { if (card && card.parentNode) card.parentNode.removeChild(card); card = null; state = null; }
    };
  };
})();
