// Terminal output to DOM: SGR colours and styles (16, 256 and true colour) become styled spans;
// every other escape sequence (cursor movement, erase, OSC titles) is dropped. Text is only ever
// inserted as text nodes, never as HTML.

const BASIC = ['black', 'red', 'green', 'yellow', 'blue', 'magenta', 'cyan', 'white'];

function color256(n) {
  if (n < 16) return null;  // handled as a class
  if (n >= 232) {
    const v = 8 + (n - 232) * 10;
    return `rgb(${v},${v},${v})`;
  }
  const i = n - 16;
  const steps = [0, 95, 135, 175, 215, 255];
  return `rgb(${steps[Math.floor(i / 36)]},${steps[Math.floor(i / 6) % 6]},${steps[i % 6]})`;
}

// The style state carried from one chunk of output to the next.
export class AnsiState {
  constructor() { this.reset(); }
  reset() {
    this.bold = false; this.dim = false; this.italic = false; this.underline = false;
    this.fg = null; this.bg = null;  // {cls} for the 16 colours or {rgb}
  }

  apply(params) {
    const codes = params.length ? params.split(';').map((p) => (p === '' ? 0 : Number(p))) : [0];
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i];
      if (c === 0) this.reset();
      else if (c === 1) this.bold = true;
      else if (c === 2) this.dim = true;
      else if (c === 3) this.italic = true;
      else if (c === 4) this.underline = true;
      else if (c === 22) { this.bold = false; this.dim = false; }
      else if (c === 23) this.italic = false;
      else if (c === 24) this.underline = false;
      else if (c >= 30 && c <= 37) this.fg = { cls: `fg-${BASIC[c - 30]}` };
      else if (c >= 90 && c <= 97) this.fg = { cls: `fg-bright-${BASIC[c - 90]}` };
      else if (c >= 40 && c <= 47) this.bg = { cls: `bg-${BASIC[c - 40]}` };
      else if (c >= 100 && c <= 107) this.bg = { cls: `bg-bright-${BASIC[c - 100]}` };
      else if (c === 39) this.fg = null;
      else if (c === 49) this.bg = null;
      else if ((c === 38 || c === 48) && codes[i + 1] === 5) {
        const n = codes[i + 2] ?? 0;
        const value = n < 8 ? { cls: `${c === 38 ? 'fg' : 'bg'}-${BASIC[n]}` }
          : n < 16 ? { cls: `${c === 38 ? 'fg' : 'bg'}-bright-${BASIC[n - 8]}` }
            : { rgb: color256(n) };
        if (c === 38) this.fg = value; else this.bg = value;
        i += 2;
      } else if ((c === 38 || c === 48) && codes[i + 1] === 2) {
        const [r, g, b] = [codes[i + 2] ?? 0, codes[i + 3] ?? 0, codes[i + 4] ?? 0];
        const value = { rgb: `rgb(${r & 255},${g & 255},${b & 255})` };
        if (c === 38) this.fg = value; else this.bg = value;
        i += 4;
      }
    }
  }

  plain() {
    return !this.bold && !this.dim && !this.italic && !this.underline && !this.fg && !this.bg;
  }

  // A span (or a bare text node) with the current style.
  node(text) {
    if (this.plain()) return document.createTextNode(text);
    const span = document.createElement('span');
    const classes = [];
    if (this.bold) classes.push('ansi-bold');
    if (this.dim) classes.push('ansi-dim');
    if (this.italic) classes.push('ansi-italic');
    if (this.underline) classes.push('ansi-underline');
    if (this.fg?.cls) classes.push(`ansi-${this.fg.cls}`);
    if (this.bg?.cls) classes.push(`ansi-${this.bg.cls}`);
    span.className = classes.join(' ');
    if (this.fg?.rgb) span.style.color = this.fg.rgb;  // CSSOM: allowed under the page's CSP
    if (this.bg?.rgb) span.style.backgroundColor = this.bg.rgb;
    span.textContent = text;
    return span;
  }
}

// Matches CSI sequences, OSC sequences (ended by BEL or ST) and other two-byte escapes.
const ESCAPE = /\x1b\[([0-9;?]*)([@-~])|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g;

// Splits `text` into styled pieces: [{text, node()}]. Applies SGR to `state` as it goes.
export function renderAnsi(text, state, parent) {
  let last = 0;
  ESCAPE.lastIndex = 0;
  let match;
  while ((match = ESCAPE.exec(text)) !== null) {
    if (match.index > last) parent.appendChild(state.node(text.slice(last, match.index)));
    if (match[2] === 'm') state.apply(match[1]);
    last = ESCAPE.lastIndex;
  }
  if (last < text.length) parent.appendChild(state.node(text.slice(last)));
}

// Removes every escape sequence (for searching, copying and titles).
export function stripAnsi(text) {
  return text.replace(ESCAPE, '');
}
