/* Huanxin chat widget embed: <script src="https://GATEWAY/widget.js" data-lang="zh" async></script>
 * Adds a chat button; the chat itself runs in an iframe served by the gateway (/chat), so the
 * lender's page never touches the conversation token. Options: data-lang (zh|en), data-open. */
(function () {
  if (window.__huanxinWidget) return;
  window.__huanxinWidget = true;
  var script = document.currentScript || (function () {
    var all = document.getElementsByTagName('script');
    for (var i = all.length - 1; i >= 0; i--) if (/widget\.js(\?|$)/.test(all[i].src)) return all[i];
    return null;
  })();
  var origin = script ? new URL(script.src, location.href).origin : location.origin;
  var lang = (script && script.getAttribute('data-lang')) ||
    ((navigator.language || 'zh').toLowerCase().indexOf('zh') === 0 ? 'zh' : 'en');
  var style = document.createElement('style');
  style.textContent =
    '#huanxin-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;' +
    'background:#0b6e4f;color:#fff;font:600 15px/1 system-ui,sans-serif;padding:16px 20px;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}' +
    '#huanxin-frame{position:fixed;right:20px;bottom:84px;z-index:2147483000;width:380px;height:600px;max-height:calc(100vh - 104px);' +
    'border:0;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);background:#fff;display:none}' +
    '@media (max-width:480px){#huanxin-frame{right:0;bottom:0;width:100vw;height:100vh;max-height:none;border-radius:0}' +
    '#huanxin-frame.open + #huanxin-launcher{display:none}}';
  document.head.appendChild(style);
  var frame = document.createElement('iframe');
  frame.id = 'huanxin-frame';
  frame.title = lang === 'zh' ? '还信 在线客服' : 'Huanxin chat';
  frame.src = origin + '/chat?lang=' + encodeURIComponent(lang) + '&embedded=1';
  frame.setAttribute('allow', 'clipboard-write');
  var button = document.createElement('button');
  button.id = 'huanxin-launcher';
  button.type = 'button';
  button.textContent = lang === 'zh' ? '在线咨询' : 'Chat with us';
  // the launcher's state for screen readers: expanded or not, and named "close" while open
  button.setAttribute('aria-controls', frame.id);
  button.setAttribute('aria-expanded', 'false');
  function toggle(open) {
    var show = open === undefined ? frame.style.display !== 'block' : open;
    frame.style.display = show ? 'block' : 'none';
    frame.className = show ? 'open' : '';
    button.textContent = show ? '×' : (lang === 'zh' ? '在线咨询' : 'Chat with us');
    button.setAttribute('aria-expanded', show ? 'true' : 'false');
    if (show) button.setAttribute('aria-label', lang === 'zh' ? '关闭在线咨询' : 'Close chat');
    else button.removeAttribute('aria-label');
  }
  button.addEventListener('click', function () { toggle(); });
  window.addEventListener('message', function (e) {
    if (e.origin === origin && e.data === 'huanxin:close') toggle(false);
  });
  function mount() {
    document.body.appendChild(frame);
    document.body.appendChild(button);
    if (script && script.hasAttribute('data-open')) toggle(true);
  }
  if (document.body) mount(); else document.addEventListener('DOMContentLoaded', mount);
})();
