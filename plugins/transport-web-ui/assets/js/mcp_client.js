// A small MCP client for the dashboard. It speaks JSON-RPC over the host's WebSocket (/ws, one
// message per text frame) and falls back to POSTing to the Streamable HTTP endpoint (/mcp) when the
// WebSocket cannot connect or drops; it keeps trying to get back to the WebSocket in the background.
//
// Events (EventTarget):
//   "mode"          detail: {mode: "connecting" | "websocket" | "http" | "offline", reason}
//   "notification"  detail: a JSON-RPC notification object from the server

export const PROTOCOL_VERSION = '2025-11-25';
const CLIENT_INFO = { name: 'coda-web-ui', version: '1' };

// A JSON-RPC error answer, or a failure to reach the server (code is then null).
export class McpError extends Error {
  constructor(message, code = null, data = undefined) {
    super(message);
    this.code = code;
    this.data = data;
  }
  get isTransport() { return this.code === null; }
}

// A tool call that ran and answered isError: true (bad arguments, unknown task, ...).
export class ToolError extends Error {}

function delay(ms) { return new Promise((resolve) => setTimeout(resolve, ms)); }

// Every complete SSE event's data in `text`, in order.
function sseData(text) {
  const out = [];
  for (const block of text.split(/\r?\n\r?\n/)) {
    const data = block.split(/\r?\n/).filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).replace(/^ /, '')).join('\n');
    if (data) out.push(data);
  }
  return out;
}

// JSON-RPC over one WebSocket. Resolves connect() once open; onClose(reason) fires once when it ends.
class WebSocketChannel {
  constructor(url, onMessage, onClose) {
    this.url = url;
    this.onMessage = onMessage;
    this.onClose = onClose;
    this.socket = null;
    this.closed = false;
  }

  connect(timeoutMs) {
    return new Promise((resolve, reject) => {
      let settled = false;
      const socket = new WebSocket(this.url);
      this.socket = socket;
      const timer = setTimeout(() => fail('the WebSocket did not open in time'), timeoutMs);
      const fail = (reason) => {
        clearTimeout(timer);
        if (!settled) { settled = true; reject(new McpError(reason)); }
        this.close(reason);
      };
      socket.onopen = () => { clearTimeout(timer); settled = true; resolve(); };
      socket.onerror = () => fail('the WebSocket failed');
      socket.onclose = (e) => fail(`the WebSocket closed (${e.code || 'no code'})`);
      socket.onmessage = (e) => {
        let message;
        try { message = JSON.parse(e.data); } catch { return; }
        this.onMessage(message);
      };
    });
  }

  send(message) {
    if (this.closed || !this.socket || this.socket.readyState !== WebSocket.OPEN) {
      throw new McpError('the WebSocket is not open');
    }
    this.socket.send(JSON.stringify(message));
  }

  close(reason) {
    if (this.closed) return;
    this.closed = true;
    try { this.socket?.close(1000); } catch { /* already closing */ }
    this.onClose(reason);
  }
}

export class McpClient extends EventTarget {
  // options: {configUrl, requestTimeoutMs, wsOpenTimeoutMs, fetchImpl}
  constructor(options = {}) {
    super();
    this.options = { configUrl: 'api/config', requestTimeoutMs: 30000, wsOpenTimeoutMs: 5000,
      ...options };
    this.config = null;      // from the web UI plugin: paths, poll interval, user, version
    this.mode = 'connecting';
    this.server = null;      // the initialize result
    this.protocolVersion = PROTOCOL_VERSION;
    this.sessionId = null;   // Mcp-Session-Id when the HTTP endpoint uses sessions
    this.channel = null;     // the open WebSocketChannel
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, timer}
    this.retryDelayMs = 2000;
    this.retryTimer = null;
    this.stopped = false;
    this.httpInitialized = false;
  }

  // Loads the page config and connects: WebSocket first, HTTP when that fails. Resolves once one
  // transport works; rejects when neither does (the caller shows the error and may retry).
  async start() {
    const response = await fetch(this.options.configUrl, { credentials: 'same-origin',
      headers: { Accept: 'application/json' } });
    if (!response.ok) throw new McpError(`the dashboard config failed (HTTP ${response.status})`);
    this.config = await response.json();
    try {
      await this.connectWebSocket();
    } catch (err) {
      await this.useHttp(err.message);
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    this.channel?.close('stopped');
  }

  setMode(mode, reason = '') {
    if (this.mode === mode) return;
    this.mode = mode;
    this.dispatchEvent(new CustomEvent('mode', { detail: { mode, reason } }));
  }

  // Gets a single-use ticket over an ordinary (authenticated) request, then opens the socket with it:
  // proxies that do not forward identity on upgrade still let the socket act for the signed-in user.
  async connectWebSocket() {
    const ticketResponse = await fetch(this.config.ticket_path, { method: 'POST',
      credentials: 'same-origin', headers: { Accept: 'application/json' } });
    if (!ticketResponse.ok) throw new McpError(`no WebSocket ticket (HTTP ${ticketResponse.status})`);
    const { ticket } = await ticketResponse.json();
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const url = `${scheme}//${location.host}${this.config.ws_path}?ticket=${encodeURIComponent(ticket)}`;
    const channel = new WebSocketChannel(url, (m) => this.onMessage(m),
      (reason) => this.onChannelClosed(channel, reason));
    await channel.connect(this.options.wsOpenTimeoutMs);
    this.channel = channel;
    this.server = await this.requestOver('websocket', 'initialize', this.initializeParams());
    this.protocolVersion = this.server.protocolVersion || PROTOCOL_VERSION;
    channel.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    this.retryDelayMs = 2000;
    this.setMode('websocket');
    this.startHeartbeat(channel);
  }

  // A ping now and then: proxies keep the socket open, and a silently dead socket is noticed.
  startHeartbeat(channel) {
    const beat = async () => {
      if (channel.closed || this.channel !== channel) return;
      try {
        await this.requestOver('websocket', 'ping', {}, 10000);
        setTimeout(beat, 20000);
      } catch {
        channel.close('the WebSocket stopped answering');
      }
    };
    setTimeout(beat, 20000);
  }

  onChannelClosed(channel, reason) {
    if (this.channel !== channel) return;
    this.channel = null;
    for (const [id, p] of this.pending) {
      if (p.over === 'websocket') {
        clearTimeout(p.timer);
        this.pending.delete(id);
        p.reject(new McpError(reason));
      }
    }
    if (this.stopped) return;
    this.useHttp(reason).catch(() => {});
  }

  async useHttp(reason) {
    try {
      if (!this.httpInitialized) {
        this.server = await this.requestOver('http', 'initialize', this.initializeParams());
        this.protocolVersion = this.server.protocolVersion || PROTOCOL_VERSION;
        await this.notifyOverHttp('notifications/initialized');
        this.httpInitialized = true;
      }
      this.setMode('http', reason);
    } catch (err) {
      this.setMode('offline', err.message);
    }
    this.scheduleWebSocketRetry();
  }

  scheduleWebSocketRetry() {
    if (this.stopped || this.retryTimer) return;
    this.retryTimer = setTimeout(async () => {
      this.retryTimer = null;
      if (this.channel || this.stopped) return;
      try {
        await this.connectWebSocket();
      } catch (err) {
        this.retryDelayMs = Math.min(this.retryDelayMs * 2, 60000);
        if (this.mode === 'offline') await this.useHttp(err.message);
        else this.scheduleWebSocketRetry();
      }
    }, this.retryDelayMs);
  }

  initializeParams() {
    return { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: CLIENT_INFO };
  }

  onMessage(message) {
    if (message && message.id !== undefined && message.method === undefined) {
      const p = this.pending.get(message.id);
      if (!p) return;
      this.pending.delete(message.id);
      clearTimeout(p.timer);
      if (message.error) p.reject(new McpError(message.error.message, message.error.code,
        message.error.data));
      else p.resolve(message.result);
    } else if (message && message.method && message.id === undefined) {
      this.dispatchEvent(new CustomEvent('notification', { detail: message }));
    }
  }

  // One request over the current transport. Over HTTP a transport failure is retried once after the
  // WebSocket is tried again; errors from the server are never retried.
  async request(method, params = {}, timeoutMs = this.options.requestTimeoutMs) {
    if (this.channel) {
      try {
        return await this.requestOver('websocket', method, params, timeoutMs);
      } catch (err) {
        if (!err.isTransport) throw err;
        // The socket dropped under this request: the HTTP fallback answers it.
      }
    }
    try {
      if (!this.httpInitialized) await this.useHttp('the WebSocket is not available');
      const result = await this.requestOver('http', method, params, timeoutMs);
      if (this.mode === 'offline') this.setMode('http');
      return result;
    } catch (err) {
      if (err.isTransport && !this.channel) {
        this.setMode('offline', err.message);
        this.scheduleWebSocketRetry();
      }
      throw err;
    }
  }

  requestOver(over, method, params, timeoutMs = this.options.requestTimeoutMs) {
    const id = this.nextId++;
    const message = { jsonrpc: '2.0', id, method, params };
    if (over === 'http') return this.postOverHttp(message, timeoutMs);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new McpError(`no answer to ${method} within ${Math.round(timeoutMs / 1000)} s`));
      }, timeoutMs);
      this.pending.set(id, { resolve, reject, timer, over });
      try {
        this.channel.send(message);
      } catch (err) {
        clearTimeout(timer);
        this.pending.delete(id);
        reject(err);
      }
    });
  }

  httpHeaders() {
    const headers = { 'Content-Type': 'application/json', Accept: 'application/json, text/event-stream' };
    if (this.httpInitialized || this.server) headers['MCP-Protocol-Version'] = this.protocolVersion;
    if (this.sessionId) headers['Mcp-Session-Id'] = this.sessionId;
    return headers;
  }

  async notifyOverHttp(method, params) {
    const body = { jsonrpc: '2.0', method };
    if (params) body.params = params;
    await fetch(this.config.mcp_path, { method: 'POST', credentials: 'same-origin',
      headers: this.httpHeaders(), body: JSON.stringify(body) });
  }

  async postOverHttp(message, timeoutMs) {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    let response;
    let text;
    try {
      response = await fetch(this.config.mcp_path, { method: 'POST', credentials: 'same-origin',
        headers: this.httpHeaders(), body: JSON.stringify(message), signal: abort.signal });
      text = await response.text();
    } catch (err) {
      throw new McpError(abort.signal.aborted
        ? `no answer to ${message.method} within ${Math.round(timeoutMs / 1000)} s`
        : `the server cannot be reached (${err.message})`);
    } finally {
      clearTimeout(timer);
    }
    const session = response.headers.get('Mcp-Session-Id');
    if (session) this.sessionId = session;
    if (response.status === 404 && this.sessionId) {
      this.sessionId = null;  // the session expired: start a new one on the next request
      this.httpInitialized = false;
    }
    const type = response.headers.get('Content-Type') || '';
    const messages = [];
    try {
      if (type.includes('text/event-stream')) {
        for (const data of sseData(text)) messages.push(JSON.parse(data));
      } else if (text) {
        const parsed = JSON.parse(text);
        messages.push(...(Array.isArray(parsed) ? parsed : [parsed]));
      }
    } catch {
      throw new McpError(`the server answered HTTP ${response.status} with something that is not JSON`);
    }
    let answer = null;
    for (const m of messages) {
      if (m.id === message.id && m.method === undefined) answer = m;
      else if (m.method && m.id === undefined) this.dispatchEvent(new CustomEvent('notification', { detail: m }));
    }
    if (!answer) {
      if (response.status === 401 || response.status === 403) {
        throw new McpError(`not allowed (HTTP ${response.status}): sign in again and reload`, response.status);
      }
      throw new McpError(`the server answered HTTP ${response.status} without a reply`);
    }
    if (answer.error) throw new McpError(answer.error.message, answer.error.code, answer.error.data);
    return answer.result;
  }

  async listTools() {
    const tools = [];
    let cursor;
    do {
      const result = await this.request('tools/list', cursor ? { cursor } : {});
      tools.push(...(result.tools || []));
      cursor = result.nextCursor;
    } while (cursor);
    return tools;
  }

  // Calls a tool and returns its structured result (structuredContent, or the JSON of its first
  // text block). Throws ToolError when the tool answered isError.
  async callTool(name, args = {}, timeoutMs) {
    const result = await this.request('tools/call', { name, arguments: args }, timeoutMs);
    const text = (result.content || []).filter((c) => c.type === 'text').map((c) => c.text).join('\n');
    if (result.isError) {
      let message = text;
      try { message = JSON.parse(text).error || text; } catch { /* plain text */ }
      throw new ToolError(message || `${name} failed`);
    }
    if (result.structuredContent) return result.structuredContent;
    try { return JSON.parse(text); } catch { return { text }; }
  }
}

export { delay, sseData };
