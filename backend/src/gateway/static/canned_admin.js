/* Supervisors keep the desk's canned replies: each one edited in both languages (title and
 * text) and saved with the version it was read at (409 when another supervisor saved first),
 * retired, or added. The server checks every save with the file's rules and names the field. */
(function () {
  'use strict';
  var me = null;
  var $ = function (id) { return document.getElementById(id); };
  var el = window.huanxinStaffPage.el;
  function api(method, path, body) {
    return window.huanxinStaffPage.request(method, path, body, me && me.csrf_token).catch(function (err) {
      if (err.field) err.message = err.field + ': ' + err.message;  // the field the server names
      throw err;
    });
  }
  function say(error, status) { $('error').textContent = error || ''; $('status').textContent = status || ''; }
  function input(box, key, label, value, multiline) {
    var wrap = el('label', null, label);
    var field = el(multiline ? 'textarea' : 'input');
    if (multiline) field.rows = 3; else field.maxLength = 80;
    if (multiline) field.maxLength = 2000;
    field.value = value || '';
    field.dataset.key = key;
    wrap.appendChild(field);
    box.appendChild(wrap);
    return field;
  }
  function form(box, reply) {  // title and text in zh and en, side by side
    var cols = el('div', 'cols');
    input(cols, 'title.zh', '标题（中文）/ Title (zh)', reply && reply.title.zh);
    input(cols, 'title.en', '标题（英文）/ Title (en)', reply && reply.title.en);
    input(cols, 'text.zh', '内容（中文）/ Text (zh)', reply && reply.text.zh, true);
    input(cols, 'text.en', '内容（英文）/ Text (en)', reply && reply.text.en, true);
    box.appendChild(cols);
  }
  function read(box) {
    var v = function (key) { return box.querySelector('[data-key="' + key + '"]').value; };
    return {title: {zh: v('title.zh'), en: v('title.en')}, text: {zh: v('text.zh'), en: v('text.en')}};
  }
  function render(replies) {
    var list = $('replies');
    list.textContent = '';
    replies.forEach(function (r) {
      var box = el('section', 'reply' + (r.retired ? ' retired' : ''));
      box.dataset.id = r.id;
      box.appendChild(el('strong', null, r.id + (r.retired ? ' · 已停用 retired' : '')));
      box.appendChild(el('div', 'meta', 'v' + r.version + ' · ' + (r.updated_by || '默认 default') + ' · ' +
                                        new Date(r.updated_at).toLocaleString()));
      form(box, r);
      if (!r.retired) {
        var save = el('button', 'save', '保存 / Save');
        save.type = 'button';
        save.setAttribute('aria-label', '保存 / Save ' + r.id);
        save.addEventListener('click', function () {
          var body = read(box);
          body.version = r.version;
          say();
          api('POST', '/desk/api/canned/' + encodeURIComponent(r.id), body)
            .then(function () { say('', '已保存 / Saved ' + r.id); return load(); }).catch(function (e) { say(e.message); });
        });
        var retire = el('button', 'retire', '停用 / Retire');
        retire.type = 'button';
        retire.setAttribute('aria-label', '停用 / Retire ' + r.id);
        retire.addEventListener('click', function () {
          say();
          api('POST', '/desk/api/canned/' + encodeURIComponent(r.id) + '/retire', {version: r.version})
            .then(function () { say('', '已停用 / Retired ' + r.id); return load(); }).catch(function (e) { say(e.message); });
        });
        box.appendChild(save);
        box.appendChild(retire);
      } else {
        box.querySelectorAll('input,textarea').forEach(function (f) { f.disabled = true; });
      }
      list.appendChild(box);
    });
  }
  function renderNew() {
    var box = $('new-reply');
    box.className = 'reply';
    box.textContent = '';
    var id = input(box, 'id', '编号（小写字母、数字、_）/ Id (a-z, 0-9, _)', '');
    id.maxLength = 48;
    form(box, null);
    var add = el('button', 'add', '新增 / Add');
    add.type = 'button';
    add.addEventListener('click', function () {
      var body = read(box);
      body.id = id.value.trim();
      say();
      api('POST', '/desk/api/canned', body)
        .then(function () { say('', '已新增 / Added ' + body.id); renderNew(); return load(); }).catch(function (e) { say(e.message); });
    });
    box.appendChild(add);
  }
  function load() { return api('GET', '/desk/api/canned').then(function (d) { render(d.replies); }); }

  api('GET', '/desk/api/me').then(function (data) {
    me = data;
    $('whoami').textContent = me.display_name + ' (' + me.role + ')';
    renderNew();
    return load();
  }).catch(function (e) { say(e.message); });
})();
