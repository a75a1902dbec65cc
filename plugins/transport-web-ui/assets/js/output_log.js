// A task's output as a paged log: chunks arrive as the agent wrote them (not split into lines);
// they are split here, '\r' overwrites the current line as a terminal would, and only the newest
// `pageLines` lines are in the DOM (older ones are one click away), so a long run stays fast.
import { AnsiState, renderAnsi } from './ansi.js';

export class OutputLog {
  constructor(container, { pageLines = 1000 } = {}) {
    this.container = container;
    this.pageLines = pageLines;
    this.lines = [];         // {text, stream, state} — state: the ANSI style at the line's start
    this.partial = null;     // the unfinished last line, per stream
    this.state = new AnsiState();
    this.shown = pageLines;  // how many of the newest lines are rendered
    this.follow = true;      // keep the newest line in view
    this.domFrom = 0;        // index of the first rendered line
    this.list = document.createElement('div');
    this.list.className = 'log-lines';
    this.more = document.createElement('button');
    this.more.type = 'button';
    this.more.className = 'log-more';
    this.more.addEventListener('click', () => { this.shown += this.pageLines; this.render(); });
    this.container.replaceChildren(this.more, this.list);
    this.container.addEventListener('scroll', () => {
      const c = this.container;
      this.follow = c.scrollTop + c.clientHeight >= c.scrollHeight - 24;
    });
    this.render();
  }

  get lineCount() { return this.lines.length + (this.partial ? 1 : 0); }

  snapshot() {
    const s = new AnsiState();
    Object.assign(s, this.state);
    return s;
  }

  // Adds a chunk of output from `stream` ("stdout", "stderr", "progress", ...).
  append(text, stream = 'stdout') {
    if (!text) return;
    let startIndex = this.lines.length;
    let rest = text;
    if (this.partial && this.partial.stream !== stream) this.finishPartial();
    while (rest.length) {
      const nl = rest.indexOf('\n');
      const piece = nl < 0 ? rest : rest.slice(0, nl);
      rest = nl < 0 ? '' : rest.slice(nl + 1);
      if (!this.partial) this.partial = { text: '', stream, state: this.snapshot() };
      this.partial.text += piece;
      const cr = this.partial.text.lastIndexOf('\r', this.partial.text.length - 2);
      if (cr >= 0) this.partial.text = this.partial.text.slice(cr + 1);
      this.trackStyle(piece);
      if (nl >= 0) this.finishPartial();
    }
    this.renderAppended(startIndex);
  }

  trackStyle(piece) {
    // Keep this.state in step so that the next line starts with the right style.
    renderAnsi(piece, this.state, { appendChild() {} });
  }

  finishPartial() {
    if (!this.partial) return;
    this.partial.text = this.partial.text.replace(/\r$/, '');
    this.lines.push(this.partial);
    this.partial = null;
  }

  all() { return this.partial ? [...this.lines, this.partial] : this.lines; }

  lineNode(line) {
    const div = document.createElement('div');
    div.className = `log-line stream-${line.stream}`;
    const state = new AnsiState();
    Object.assign(state, line.state);
    renderAnsi(line.text, state, div);
    if (!line.text) div.textContent = '\u200b';
    return div;
  }

  // Full render of the newest `shown` lines.
  render() {
    const all = this.all();
    this.domFrom = Math.max(0, all.length - this.shown);
    this.list.replaceChildren(...all.slice(this.domFrom).map((l) => this.lineNode(l)));
    this.updateMore();
    this.scroll();
  }

  // Re-renders from line `startIndex` on (the old partial line may have grown), trimming the top.
  renderAppended(startIndex) {
    const all = this.all();
    const keep = startIndex - this.domFrom;
    if (keep < 0 || keep > this.list.childElementCount) { this.render(); return; }
    while (this.list.childElementCount > keep) this.list.lastElementChild.remove();
    for (let i = startIndex; i < all.length; i++) this.list.appendChild(this.lineNode(all[i]));
    while (this.list.childElementCount > this.shown) {
      this.list.firstElementChild.remove();
      this.domFrom++;
    }
    this.updateMore();
    this.scroll();
  }

  updateMore() {
    const hidden = this.domFrom;
    this.more.hidden = hidden === 0;
    this.more.textContent = `Show ${Math.min(this.pageLines, hidden)} earlier lines (${hidden} hidden)`;
  }

  scroll() {
    if (this.follow) this.container.scrollTop = this.container.scrollHeight;
  }

  text() { return this.all().map((l) => l.text).join('\n'); }
}
