/* What the staff pages (desk, canned replies, insights, outbound, policy lab) share: an element
 * maker that only ever sets text (never HTML), and one JSON request helper with the desk
 * session's rules: the CSRF token on every write, a 401 back to the login page, 204 as null, and
 * an error carrying the problem's status, field and detail. Loaded before each page's own script. */
(function (root) {
  'use strict';
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }
  /* csrf: the session's token (GET /desk/api/me), needed for anything but GET. */
  function request(method, path, body, csrf) {
    var opts = {method: method, headers: {}, credentials: 'same-origin'};
    if (method !== 'GET') {
      opts.headers['X-CSRF-Token'] = csrf;
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body || {});
    }
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { location.href = '/desk/login'; throw new Error('logged out'); }
      if (r.status === 204) return null;
      return r.json().then(function (data) {
        if (!r.ok) {
          var err = new Error(data.detail || data.title || r.status);
          err.status = r.status;
          err.field = data.field || null;
          throw err;
        }
        return data;
      });
    });
  }
  root.huanxinStaffPage = {el: el, request: request};
})(window);
