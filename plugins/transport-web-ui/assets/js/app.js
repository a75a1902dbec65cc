// The CoDA dashboard: an MCP client of the host (coda_inbox, coda_run, coda_get_result,
// coda_cancel) with a hash router:
//   #/                 the inbox (and, on a wide screen, an empty detail pane)
//   #/tasks/<task_id>  one task: live output, result, cancel, continue its session
//   #/new[?session=…]  the submit form (chained to a session when given)
import { McpClient, ToolError } from './mcp_client.js';
import { OutputLog } from './output_log.js';
import { stripAnsi } from './ansi.js';

const FINAL = new Set(['completed', 'failed', 'cancelled', 'timed_out', 'timeout', 'interrupted',
  'needs_approval', 'info_needed', 'error']);
const STATUS_ORDER = ['running', 'queued', 'completed', 'failed', 'cancelled', 'timed_out',
  'interrupted', 'needs_approval', 'info_needed'];
// Names under which coda_get_result may accept "only events after this sequence number".
const EVENT_PARAMS = ['events_after', 'after_seq', 'output_after', 'since_seq'];
const LONG_POLL_S = 20;  // below the proxies' ~60 s cut and the client's request timeout

const client = new McpClient();
const state = {
  tools: new Map(),     // name -> Tool definition
  eventsParam: null,    // coda_get_result's "events after" parameter, when the host has one
  longPollS: 0,         // wait_s for live output calls (0: the host cannot wait; poll instead)
  filter: '',
  tasks: [],
  counts: {},
  inboxError: null,
  inboxLoaded: false,
  inboxBusy: false,
  view: null,           // {kind, id, token}
  known: new Map(),     // task_id -> the latest inbox entry or result seen
};
let viewToken = 0;

// ---- small DOM helpers ------------------------------------------------------------------------

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.appendChild(typeof child === 'string' ? document.createTextNode(child) : child);
  }
  return node;
}

const $ = (id) => document.getElementById(id);

function statusLabel(status) {
  return (status || 'unknown').replace(/_/g, ' ');
}

function statusPill(status) {
  return el('span', { class: `pill status-${status || 'unknown'}`, text: statusLabel(status) });
}

function duration(seconds) {
  if (seconds === undefined || seconds === null || Number.isNaN(Number(seconds))) return '';
  let s = Math.max(0, Math.round(Number(seconds)));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60); s %= 60;
  if (m < 60) return `${m}m ${String(s).padStart(2, '0')}s`;
  const h = Math.floor(m / 60);
  return `${h}h ${String(m % 60).padStart(2, '0')}m`;
}

function parseTime(value) {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number') return new Date(value > 1e12 ? value : value * 1000);
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d;
}

function relativeTime(value) {
  const d = parseTime(value);
  if (!d) return '';
  const s = (Date.now() - d.getTime()) / 1000;
  if (s < 45) return 'just now';
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86400) return `${Math.round(s / 3600)} h ago`;
  return d.toLocaleDateString();
}

function taskTitle(task) {
  const text = stripAnsi(task.prompt_summary || task.prompt || '').trim();
  return text || task.task_id || 'Task';
}

function showBanner(message, kind = 'error') {
  const banner = $('banner');
  if (!message) { banner.hidden = true; return; }
  banner.dataset.kind = kind;
  banner.replaceChildren(el('span', { text: message }),
    el('button', { type: 'button', class: 'button ghost small', text: 'Dismiss',
      onclick: () => { banner.hidden = true; } }));
  banner.hidden = false;
}

function errorText(err) {
  if (err instanceof ToolError) return err.message;
  return err?.message || String(err);
}

// ---- connection mode ------------------------------------------------------------------------

const MODE_LABELS = {
  connecting: 'Connecting…',
  websocket: 'Live · WebSocket',
  http: 'Polling · HTTP',
  offline: 'Offline',
};
const MODE_TITLES = {
  connecting: 'Connecting to the host',
  websocket: 'Live updates over a WebSocket',
  http: 'The WebSocket is unavailable: updates are fetched over HTTP every few seconds',
  offline: 'The host cannot be reached: retrying',
};

function renderMode(mode, reason) {
  const badge = $('connection');
  badge.dataset.mode = mode;
  badge.querySelector('.label').textContent = MODE_LABELS[mode] || mode;
  badge.title = MODE_TITLES[mode] + (reason ? ` (${reason})` : '');
}

// ---- inbox ----------------------------------------------------------------------------------

async function loadInbox() {
  if (state.inboxBusy) return;
  state.inboxBusy = true;
  try {
    const args = { limit: 200 };
    if (state.filter) args.status = state.filter;
    const result = await client.callTool('coda_inbox', args);
    state.tasks = result.tasks || [];
    state.counts = result.counts || {};
    state.inboxError = null;
    for (const t of state.tasks) state.known.set(t.task_id, { ...state.known.get(t.task_id), ...t });
  } catch (err) {
    state.inboxError = errorText(err);
  } finally {
    state.inboxBusy = false;
    state.inboxLoaded = true;
  }
  renderInbox();
}

function renderFilters() {
  const total = Object.values(state.counts).reduce((a, b) => a + Number(b || 0), 0);
  const present = STATUS_ORDER.filter((s) => state.counts[s] > 0 || s === state.filter);
  for (const s of Object.keys(state.counts)) if (!present.includes(s) && state.counts[s] > 0) present.push(s);
  const chip = (value, label, count) => el('button', {
    type: 'button', class: 'chip', 'aria-pressed': String(state.filter === value),
    dataset: { status: value || 'all' },
    onclick: () => { state.filter = value; renderFilters(); loadInbox(); },
  }, el('span', { text: label }), el('span', { class: 'count', text: String(count) }));
  $('filters').replaceChildren(chip('', 'All', total),
    ...present.map((s) => chip(s, statusLabel(s), state.counts[s] || 0)));
}

function renderInbox() {
  renderFilters();
  const list = $('task-list');
  const empty = $('inbox-empty');
  const activeId = state.view?.kind === 'task' ? state.view.id : null;
  list.replaceChildren(...state.tasks.map((task) => {
    const live = !FINAL.has(task.status);
    const meta = [relativeTime(task.created_at), task.elapsed_s !== undefined ? duration(task.elapsed_s) : '']
      .filter(Boolean).join(' · ');
    const sub = live ? (task.progress || '') : (task.summary || '');
    return el('li', { class: 'task-item', dataset: { taskId: task.task_id, status: task.status } },
      el('a', { href: `#/tasks/${encodeURIComponent(task.task_id)}`, class: 'task-link',
        'aria-current': task.task_id === activeId ? 'page' : null },
      el('div', { class: 'task-row' }, statusPill(task.status), el('span', { class: 'task-meta', text: meta })),
      el('div', { class: 'task-title', text: taskTitle(task) }),
      sub ? el('div', { class: 'task-sub', text: stripAnsi(sub) }) : null));
  }));
  if (state.inboxError) {
    empty.hidden = false;
    empty.dataset.kind = 'error';
    empty.replaceChildren(el('strong', { text: 'The inbox could not be loaded.' }),
      el('p', { text: state.inboxError }),
      el('button', { type: 'button', class: 'button', text: 'Try again', onclick: loadInbox }));
  } else if (state.inboxLoaded && state.tasks.length === 0) {
    empty.hidden = false;
    empty.dataset.kind = 'empty';
    empty.replaceChildren(
      el('strong', { text: state.filter ? `No ${statusLabel(state.filter)} tasks.` : 'No tasks yet.' }),
      el('p', { text: state.filter ? 'Choose another filter, or start a new task.'
        : 'Tasks you start here or from an MCP client (Genie Code, Claude, Cursor) show up here.' }),
      el('a', { class: 'button primary', href: '#/new', text: 'New task' }));
  } else {
    empty.hidden = true;
  }
}

async function inboxLoop() {
  for (;;) {
    await new Promise((r) => setTimeout(r, client.mode === 'websocket' ? 3000
      : Math.max(2 * (client.config?.poll_interval_ms || 1500), 3000)));
    if (document.visibilityState !== 'hidden') await loadInbox();
  }
}

// ---- task detail ----------------------------------------------------------------------------

function eventsOf(result) {
  if (Array.isArray(result.events)) return result.events;
  if (Array.isArray(result.output)) return result.output;
  return null;
}

function renderList(title, items) {
  if (!Array.isArray(items) || items.length === 0) return null;
  return el('div', { class: 'result-block' }, el('h3', { text: title }),
    el('ul', { class: 'plain-list' }, ...items.map((i) => el('li', {
      text: typeof i === 'string' ? i : (i.path || i.name || i.message || JSON.stringify(i)) }))));
}

async function showTask(taskId) {
  const token = ++viewToken;
  state.view = { kind: 'task', id: taskId, token };
  document.body.dataset.route = 'task';
  renderInbox();
  const known = state.known.get(taskId) || { task_id: taskId };
  const titleEl = el('h2', { class: 'detail-title', text: taskTitle(known) });
  const statusEl = el('span', { class: 'detail-status' }, statusPill(known.status));
  const metaEl = el('dl', { class: 'meta' });
  const actionsEl = el('div', { class: 'actions' });
  const progressEl = el('p', { class: 'progress', hidden: true });
  const outputEl = el('div', { class: 'log', tabindex: '0', role: 'log', 'aria-label': 'Task output' });
  const outputEmpty = el('p', { class: 'log-empty', text: 'Waiting for output…' });
  const resultEl = el('div', { class: 'result' });
  const errorEl = el('div', { class: 'inline-error', role: 'alert', hidden: true });
  $('detail').replaceChildren(el('div', { class: 'detail-inner' },
    el('a', { class: 'back', href: '#/', text: '← Tasks' }),
    el('div', { class: 'detail-head' }, titleEl, statusEl), metaEl, actionsEl, errorEl, progressEl,
    el('div', { class: 'log-head' }, el('h3', { text: 'Output' }),
      el('span', { class: 'log-info', id: 'log-info' })),
    outputEl, outputEmpty, resultEl));
  const log = new OutputLog(outputEl);
  let after = 0;
  let lastProgress = '';
  let status = known.status;
  let sawEvents = false;
  let cancelArmed = false;

  const renderMeta = (t) => {
    const rows = [['Task', t.task_id], ['Session', t.session_id], ['Agent', t.agent],
      ['Started', parseTime(t.created_at)?.toLocaleString()], ['Elapsed', t.elapsed_s !== undefined ? duration(t.elapsed_s) : ''],
      ['Continues', t.previous_session_id]];
    metaEl.replaceChildren(...rows.filter(([, v]) => v).flatMap(([k, v]) => [el('dt', { text: k }),
      el('dd', { text: String(v), class: k === 'Task' || k === 'Session' || k === 'Continues' ? 'mono' : null })]));
  };

  const renderActions = (t) => {
    const buttons = [];
    if (!FINAL.has(t.status)) {
      const cancel = el('button', { type: 'button', class: 'button danger', id: 'cancel-task',
        text: cancelArmed ? 'Confirm cancel' : 'Cancel task' });
      cancel.addEventListener('click', async () => {
        if (!cancelArmed) {
          cancelArmed = true; renderActions(t);
          setTimeout(() => { if (cancelArmed && token === viewToken) { cancelArmed = false; renderActions(t); } }, 5000);
          document.getElementById('cancel-task')?.focus();
          return;
        }
        cancel.disabled = true; cancel.textContent = 'Cancelling…';
        try {
          const r = await client.callTool('coda_cancel', { task_id: taskId });
          cancelArmed = false;
          update({ ...t, ...r });
          loadInbox();
        } catch (err) {
          errorEl.hidden = false; errorEl.textContent = `Cancel failed: ${errorText(err)}`;
          cancelArmed = false; renderActions(t);
        }
      });
      buttons.push(cancel);
    } else if (t.session_id) {
      buttons.push(el('a', { class: 'button', id: 'continue-task',
        href: `#/new?session=${encodeURIComponent(t.session_id)}&from=${encodeURIComponent(taskId)}`,
        text: 'Continue this session' }));
    }
    actionsEl.replaceChildren(...buttons);
  };

  const renderResult = (r) => {
    if (!FINAL.has(r.status)) { resultEl.replaceChildren(); return; }
    const blocks = [];
    if (r.summary) blocks.push(el('div', { class: 'result-block' }, el('h3', { text: 'Summary' }),
      el('p', { class: 'summary', text: stripAnsi(r.summary) })));
    if (r.feedback) blocks.push(el('div', { class: 'result-block' }, el('h3', { text: 'The agent needs' }),
      el('p', { class: 'summary', text: r.feedback })));
    blocks.push(renderList('Files changed', r.files_changed));
    blocks.push(renderList('Artifacts', r.artifacts));
    blocks.push(renderList('Errors', r.errors));
    if (r.exit_code !== undefined && r.exit_code !== null) {
      blocks.push(el('p', { class: 'muted', text: `Exit code ${r.exit_code}` }));
    }
    resultEl.replaceChildren(el('h3', { class: 'result-title', text: 'Result' }), ...blocks.filter(Boolean));
  };

  const update = (r) => {
    const merged = { ...state.known.get(taskId), ...r, task_id: taskId };
    state.known.set(taskId, merged);
    status = merged.status;
    titleEl.textContent = taskTitle(merged);
    statusEl.replaceChildren(statusPill(status));
    renderMeta(merged);
    renderActions(merged);
    renderResult(merged);
    const progress = merged.progress ? stripAnsi(merged.progress) : '';
    progressEl.hidden = !progress || FINAL.has(status);
    progressEl.textContent = progress;
    if (!sawEvents && progress && progress !== lastProgress && !FINAL.has(status)) {
      log.append(`${merged.progress}\n`, 'progress');  // no output stream: show progress lines
    }
    lastProgress = progress || lastProgress;
    outputEmpty.hidden = log.lineCount > 0;
    if (FINAL.has(status) && log.lineCount === 0) outputEmpty.textContent = 'No output was recorded.';
    $('log-info').textContent = log.lineCount ? `${log.lineCount} lines` : '';
  };

  // Live view: ask for what is new until the task is final and its output is drained. A push from
  // the host (a notification naming this task) wakes the loop at once; otherwise it polls, quickly
  // over the WebSocket and at the configured interval over HTTP.
  let wake = null;
  const onNotification = (e) => {
    const p = e.detail.params || {};
    const id = p.task_id || p.data?.task_id || p.uri?.split('/').pop();
    if (id === taskId && wake) wake();
  };
  client.addEventListener('notification', onNotification);
  try {
    for (;;) {
      if (token !== viewToken) return;
      const args = { task_id: taskId };
      // With an events parameter and a live task, the call itself waits (up to longPollS) and
      // returns the moment new output arrives: a push channel over the WebSocket, a long poll over
      // HTTP. Without one, the loop polls.
      const longPoll = Boolean(state.eventsParam && state.longPollS > 0 && status && !FINAL.has(status));
      if (state.eventsParam) args[state.eventsParam] = after;
      if (longPoll) args.wait_s = state.longPollS;
      let result;
      try {
        result = await client.callTool('coda_get_result', args,
          longPoll ? (state.longPollS + 15) * 1000 : undefined);
        errorEl.hidden = true;
      } catch (err) {
        if (token !== viewToken) return;
        if (err instanceof ToolError) {
          statusEl.replaceChildren(statusPill('unknown'));
          errorEl.hidden = false;
          errorEl.textContent = `${errorText(err)} — it may have been purged, or it belongs to someone else.`;
          outputEmpty.hidden = true;
          return;
        }
        errorEl.hidden = false;
        errorEl.textContent = `Cannot reach the host: ${errorText(err)}. Retrying…`;
        await new Promise((r) => setTimeout(r, 2000));
        continue;
      }
      if (token !== viewToken) return;
      const events = eventsOf(result);
      let more = false;
      if (events) {
        sawEvents = sawEvents || events.length > 0;
        for (const ev of events) {
          const seq = Number(ev.seq ?? 0);
          if (seq && seq <= after) continue;
          const stream = ev.stream || 'stdout';
          if (['stdout', 'stderr', 'output', 'text', 'host'].includes(stream)) {
            log.append(String(ev.data ?? ev.text ?? ''), stream);
          }
          if (seq) after = Math.max(after, seq);
        }
        if (result.next_seq !== undefined) after = Math.max(after, Number(result.next_seq) - 1);
        more = Boolean(result.events_truncated || result.more_events || result.has_more);
      } else if (typeof result.output === 'string' && result.output.length > log.text().length) {
        log.append(result.output.slice(log.text().length));
        sawEvents = true;
      }
      update(result);
      if (FINAL.has(result.status) && !more) return;
      if (more || longPoll) continue;
      await new Promise((resolve) => {
        wake = resolve;
        setTimeout(resolve, client.mode === 'websocket' ? 1000 : (client.config?.poll_interval_ms || 1500));
      });
      wake = null;
    }
  } finally {
    client.removeEventListener('notification', onNotification);
  }
}

function showHome() {
  ++viewToken;
  state.view = { kind: 'home' };
  document.body.dataset.route = 'home';
  renderInbox();
  $('detail').replaceChildren(el('div', { class: 'placeholder' },
    el('p', { text: 'Select a task to see its live output, or start a new one.' }),
    el('a', { class: 'button primary', href: '#/new', text: 'New task' })));
}

// ---- submit form ----------------------------------------------------------------------------

function showForm(params) {
  ++viewToken;
  state.view = { kind: 'new' };
  document.body.dataset.route = 'new';
  renderInbox();
  const runTool = state.tools.get('coda_run');
  const props = runTool?.inputSchema?.properties || {};
  const session = params.get('session') || '';
  const from = params.get('from') || '';
  const fromTask = from ? state.known.get(from) : null;
  const errorEl = el('div', { class: 'inline-error', role: 'alert', hidden: true });

  let agentField = null;
  if (props.agent) {
    const choices = props.agent.enum || [];
    agentField = el('div', { class: 'field' }, el('label', { for: 'f-agent', text: 'Agent' }),
      choices.length
        ? el('select', { id: 'f-agent', name: 'agent' }, el('option', { value: '', text: 'Default (first available)' }),
          ...choices.map((c) => el('option', { value: c, text: c })))
        : el('input', { id: 'f-agent', name: 'agent', type: 'text', placeholder: 'Default (first available)',
          autocomplete: 'off' }),
      el('p', { class: 'help', text: props.agent.description || 'Which agent backend runs the task.' }));
  }
  const permissions = props.permissions?.enum || ['smart', 'yolo'];
  const timeoutDefault = props.timeout_s?.default ?? 3600;
  const form = el('form', { class: 'task-form', novalidate: true },
    el('h2', { text: session ? 'Continue the session' : 'New task' }),
    session ? el('p', { class: 'chain-note' }, 'Continues session ', el('code', { text: session }),
      fromTask ? ` (after “${taskTitle(fromTask)}”)` : '', ' — same workspace, the agent resumes where it left off. ',
      el('a', { href: '#/new', text: 'Start fresh instead' })) : null,
    el('div', { class: 'field' }, el('label', { for: 'f-prompt', text: 'What should the agent do?' }),
      el('textarea', { id: 'f-prompt', name: 'prompt', rows: '6', required: true,
        placeholder: 'e.g. Add a unit test for the date parser and fix the bug it finds' })),
    el('div', { class: 'field' }, el('label', { for: 'f-context', text: 'Context (JSON, optional)' }),
      el('textarea', { id: 'f-context', name: 'context', rows: '3', class: 'mono', spellcheck: 'false',
        placeholder: '{"catalog": "main", "schema": "sales", "tables": ["orders"]}' }),
      el('p', { class: 'help', text: 'Facts the agent should know, e.g. Unity Catalog names.' })),
    el('div', { class: 'field-row' },
      agentField,
      el('fieldset', { class: 'field' }, el('legend', { text: 'Permissions' }),
        ...permissions.map((p, i) => el('label', { class: 'radio' },
          el('input', { type: 'radio', name: 'permissions', value: p, checked: i === 0 }),
          el('span', { text: p === 'smart' ? 'Smart (asks before risky steps)' : p === 'yolo' ? 'YOLO (approve everything, if the admin allows)' : p })))),
      el('div', { class: 'field' }, el('label', { for: 'f-timeout', text: 'Timeout (seconds)' }),
        el('input', { id: 'f-timeout', name: 'timeout_s', type: 'number', min: '1',
          max: String(props.timeout_s?.maximum ?? 86400), value: String(timeoutDefault) }))),
    errorEl,
    el('div', { class: 'form-actions' },
      el('button', { type: 'submit', class: 'button primary', id: 'submit-task', text: 'Start task' }),
      el('a', { class: 'button ghost', href: from ? `#/tasks/${encodeURIComponent(from)}` : '#/', text: 'Cancel' })));

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const prompt = String(data.get('prompt') || '').trim();
    const fail = (message, field) => {
      errorEl.hidden = false; errorEl.textContent = message;
      if (field) form.querySelector(`[name="${field}"]`)?.focus();
    };
    if (!prompt) return fail('Describe the task first.', 'prompt');
    const args = { prompt };
    const context = String(data.get('context') || '').trim();
    if (context) {
      try {
        const parsed = JSON.parse(context);
        if (typeof parsed !== 'object' || Array.isArray(parsed) || parsed === null) throw new Error('not an object');
      } catch {
        return fail('Context must be a JSON object, like {"catalog": "main"}.', 'context');
      }
      args.context = context;
    }
    if (session) args.previous_session_id = session;
    const agent = String(data.get('agent') || '').trim();
    if (agent) args.agent = agent;
    const perm = String(data.get('permissions') || 'smart');
    if (perm !== 'smart' || props.permissions) args.permissions = perm;
    const timeout = Number(data.get('timeout_s'));
    if (timeout && timeout !== timeoutDefault) args.timeout_s = timeout;
    const submit = form.querySelector('#submit-task');
    submit.disabled = true; submit.textContent = 'Starting…';
    try {
      const r = await client.callTool('coda_run', args);
      if (r.status === 'error') throw new ToolError(r.error || 'the host refused the task');
      state.known.set(r.task_id, { ...r, prompt_summary: prompt.slice(0, 100), previous_session_id: session || undefined });
      location.hash = `#/tasks/${encodeURIComponent(r.task_id)}`;
      loadInbox();
    } catch (err) {
      submit.disabled = false; submit.textContent = 'Start task';
      fail(`The task was not started: ${errorText(err)}`);
    }
  });
  $('detail').replaceChildren(el('div', { class: 'detail-inner' },
    el('a', { class: 'back', href: '#/', text: '← Tasks' }), form));
  form.querySelector('#f-prompt').focus();
}

// ---- routing, keys, start-up ----------------------------------------------------------------

function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query = ''] = hash.split('?');
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'tasks' && parts[1]) showTask(decodeURIComponent(parts[1]));
  else if (parts[0] === 'new') showForm(new URLSearchParams(query));
  else showHome();
}

function onKey(e) {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const tag = e.target?.tagName;
  const typing = tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || e.target?.isContentEditable;
  if (e.key === 'Escape') {
    if (typing) e.target.blur();
    if (state.view?.kind !== 'home') location.hash = '#/';
    return;
  }
  if (typing) return;
  if (e.key === 'n') { e.preventDefault(); location.hash = '#/new'; }
  else if (e.key === 'r') { e.preventDefault(); loadInbox(); }
  else if (e.key === 'j' || e.key === 'k') {
    e.preventDefault();
    const links = [...document.querySelectorAll('.task-link')];
    if (!links.length) return;
    const i = links.indexOf(document.activeElement);
    const next = e.key === 'j' ? Math.min(links.length - 1, i + 1) : Math.max(0, i < 0 ? 0 : i - 1);
    links[next].focus();
  }
}

async function main() {
  client.addEventListener('mode', (e) => renderMode(e.detail.mode, e.detail.reason));
  document.addEventListener('keydown', onKey);
  $('refresh').addEventListener('click', () => loadInbox());
  renderMode('connecting');
  try {
    await client.start();
  } catch (err) {
    renderMode('offline', errorText(err));
    showBanner(`The host cannot be reached: ${errorText(err)}. Reload to try again.`);
    return;
  }
  renderMode(client.mode);
  const user = client.config?.user;
  if (user && (user.email || user.name)) {
    $('user').hidden = false;
    $('user').textContent = user.email || user.name;
  }
  try {
    for (const tool of await client.listTools()) state.tools.set(tool.name, tool);
    const props = state.tools.get('coda_get_result')?.inputSchema?.properties || {};
    state.eventsParam = EVENT_PARAMS.find((p) => p in props) || null;
    state.longPollS = Math.min(LONG_POLL_S, Number(props.wait_s?.maximum ?? 0));
    if (!state.tools.has('coda_run')) {
      showBanner('This host offers no task tools (coda_run): is the task engine enabled?', 'warning');
    }
  } catch (err) {
    showBanner(`The tool list could not be loaded: ${errorText(err)}`);
  }
  window.addEventListener('hashchange', route);
  route();
  await loadInbox();
  inboxLoop();
}

main();
