// Measured on the page as rendered: computed font sizes, tap-target boxes, text contrast.
// Returns {minText, maxText, small: [...], lowContrast: [...]} (see test_elder_mode.py).
() => {
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const s = getComputedStyle(el);
    return r.width > 1 && r.height > 1 && s.visibility !== "hidden" && s.display !== "none"
      && !el.closest("[hidden], .visually-hidden");
  };
  const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
  const parse = (c) => {
    let m = c.match(/^rgba?\(([^)]+)\)$/);
    if (m) {
      const p = m[1].split(/[\s,\/]+/).filter(Boolean).map(Number);
      return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
    }
    m = c.match(/^color\(srgb ([^)]+)\)$/);
    if (m) {
      const p = m[1].split(/[\s\/]+/).filter(Boolean).map(Number);
      return [p[0] * 255, p[1] * 255, p[2] * 255, p.length > 3 ? p[3] : 1];
    }
    throw new Error("unparsed colour " + c);
  };
  const lum = ([r, g, b]) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const over = (top, under) => under.map((v, i) => top[i] * top[3] + v * (1 - top[3]));
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
    }
    return layers.reverse().reduce((acc, layer) => over(layer, acc), [255, 255, 255]);
  };
  const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string" ? "." + el.className.trim().split(/\s+/).join(".") : ""} “${(el.innerText || el.value || el.getAttribute("aria-label") || "").trim().slice(0, 30)}”`;

  const texts = [...document.querySelectorAll("body *")].filter((el) => visible(el) && ownText(el)
    && !["SCRIPT", "STYLE", "OPTION", "svg"].includes(el.tagName));
  const sizes = texts.map((el) => ({ el, size: parseFloat(getComputedStyle(el).fontSize) }));
  const lowContrast = [];
  for (const { el } of sizes) {
    const s = getComputedStyle(el);
    const bg = background(el);
    const fg = over(parse(s.color), bg);
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x);
    const ratio = (a + 0.05) / (b + 0.05);
    if (ratio < 4.5) lowContrast.push(`${describe(el)} ${ratio.toFixed(2)}:1`);
  }
  const minEl = sizes.reduce((m, x) => (x.size < m.size ? x : m), sizes[0]);
  const interactive = [...document.querySelectorAll(
    "a[href], button, input:not([type=hidden]), select, textarea, summary, [role=button]")];
  const targets = [];
  for (const el of interactive) {
    let box = el;
    if (el.matches("input[type=checkbox], input[type=radio]") && el.closest("label")) box = el.closest("label");
    if (!visible(box)) continue;
    if (el.tagName === "A" && el.getAttribute("role") !== "button" && !el.closest(".site-header")) {
      const parent = el.parentElement;
      if (parent && parent.textContent.trim() !== el.textContent.trim()) continue; // in a sentence
    }
    const r = box.getBoundingClientRect();
    targets.push({ what: describe(el), width: r.width, height: r.height });
  }
  return {
    minText: minEl.size, minTextAt: describe(minEl.el),
    maxText: Math.max(...sizes.map((x) => x.size)),
    targets, lowContrast, textCount: sizes.length,
  };
}
