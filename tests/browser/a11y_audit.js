/* The WCAG 2.1 AA basics test_accessibility_in_browser.py checks, run in the page as it is shown:
 * the problems found, as strings: inputs without a label, buttons without a name, text (and
 * placeholders) under the contrast minimum. Disabled controls are exempt (WCAG 1.4.3: inactive
 * components), so is text shown faded on purpose (a message still being sent). */
() => {
  const problems = [];
  const visible = el => {
    const r = el.getBoundingClientRect(), cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const describe = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
    (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : '');
  const rgba = text => {
    const m = text.match(/rgba?\(([^)]+)\)/);
    if (!m) return [0, 0, 0, 0];
    const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
    return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
  };
  const over = (top, bottom) => [0, 1, 2].map(i => top[i] * top[3] + bottom[i] * (1 - top[3])).concat([1]);
  const background = el => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = rgba(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] === 1) break; }
    }
    let colour = [255, 255, 255, 1];
    for (let i = layers.length - 1; i >= 0; i--) colour = over(layers[i], colour);
    return colour;
  };
  const luminance = c => {
    const [r, g, b] = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
    return 0.2126 * r + 0.7152 * g + 0.0722 * b;
  };
  const ratio = (a, b) => { const [x, y] = [luminance(a), luminance(b)].sort((p, q) => q - p); return (x + 0.05) / (y + 0.05); };
  const minimum = cs => {
    const size = parseFloat(cs.fontSize), bold = parseInt(cs.fontWeight, 10) >= 700;
    return size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
  };
  const check = (el, colourText, cs, what) => {
    const bg = background(el), fg = over(rgba(colourText), bg), r = ratio(fg, bg);
    if (r < minimum(cs) - 0.005) problems.push(`contrast ${r.toFixed(2)}:1 ${what} ${describe(el)}`);
  };
  for (const el of document.querySelectorAll('input, select, textarea')) {
    if (el.type === 'hidden' || !visible(el)) continue;
    const labelled = [...(el.labels || [])].some(l => l.textContent.trim()) ||
      (el.getAttribute('aria-label') || '').trim() ||
      (el.getAttribute('aria-labelledby') || '').split(/\s+/).some(id => (document.getElementById(id)?.textContent || '').trim());
    if (!labelled) problems.push('no label: ' + describe(el));
    if (el.placeholder && !el.value && !el.disabled) check(el, getComputedStyle(el, '::placeholder').color, getComputedStyle(el), 'placeholder');
  }
  for (const el of document.querySelectorAll('button')) {
    if (visible(el) && !(el.textContent.trim() || (el.getAttribute('aria-label') || '').trim())) problems.push('no name: ' + describe(el));
  }
  for (const el of document.querySelectorAll('body *')) {
    if (!visible(el) || el.closest('[disabled], [aria-disabled="true"]')) continue;
    const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
    if (!own) continue;
    const cs = getComputedStyle(el);
    let faded = false;
    for (let e = el; e; e = e.parentElement) if (parseFloat(getComputedStyle(e).opacity) < 1) faded = true;
    if (faded) continue;  // a message still being sent: shown faded on purpose, then in full
    check(el, cs.color, cs, 'text');
  }
  return problems;
}
