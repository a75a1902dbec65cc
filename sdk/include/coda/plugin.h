/* CoDA Host plugin ABI — the only header a plugin needs.
 *
 * A plugin is a shared library that exports exactly one function, coda_plugin_entry_v1, returning a
 * static description of the plugin: the ABI version it was compiled against, build facts, and a factory
 * of components (transports, agent backends, tool providers). The host loads the library, checks the
 * description, calls init() with a table of host services, creates the components that the
 * configuration enables, starts them, and tears everything down in the reverse order.
 *
 * Conventions used on every declaration below:
 *   [control]     called only from the host's control thread (start-up, shutdown)
 *   [any thread]  may be called from any thread, concurrently
 *   OWNER:        who owns the memory a pointer refers to, and until when it stays valid
 *
 * Rules of the boundary:
 *   - Only C types cross. No C++ exception, longjmp or panic may cross: catch at the edge and return
 *     a status (plugin.hpp has a barrier for C++ plugins).
 *   - Strings are coda_str_t {ptr, len}, UTF-8, not NUL-terminated, borrowed for the duration of the
 *     call that received them. The receiver copies what it keeps.
 *   - Structured payloads are JSON text, so the ABI stays small while the messages evolve.
 *   - Every struct starts with struct_size and only grows at its end. A reader checks CODA_HAS() before
 *     touching a field that was appended after ABI minor 0.
 *   - Whoever allocates, frees.
 *
 * Versioning: CODA_ABI_MAJOR changes only for a breaking change (the host refuses any other major);
 * CODA_ABI_MINOR grows when a field or function is appended (a plugin built against minor N loads in
 * any host with minor >= N; a plugin may refuse an older host in init()).
 *
 * History:
 *   1.0  first stable ABI: transports, agents, tool providers, HTTP routes, WebSocket, processes.
 *   1.1  coda_http_request_t.cross_origin: the listener's Host/Origin verdict for CORS answers.
 */
#ifndef CODA_PLUGIN_H
#define CODA_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CODA_ABI_MAJOR 1u
#define CODA_ABI_MINOR 1u

#if defined(_WIN32)
#define CODA_EXPORT __declspec(dllexport)
#else
#define CODA_EXPORT __attribute__((visibility("default")))
#endif

/* True when the struct `p` (written by the other side) is large enough to hold `field`. For a function
 * pointer, also check that it is non-NULL before calling it. */
#define CODA_HAS(p, T, field) \
  ((p) != NULL && offsetof(T, field) + sizeof(((T*)0)->field) <= (p)->struct_size)

/* ---- status codes ---------------------------------------------------------------------------------- */

typedef int32_t coda_status_t;
enum {
  CODA_OK = 0,
  CODA_E_INVALID = -1,     /* a bad argument or message */
  CODA_E_UNSUPPORTED = -2, /* the other side lacks the feature, or is too old */
  CODA_E_STATE = -3,       /* not started, already stopped, connection gone */
  CODA_E_NOT_FOUND = -4,   /* no such component, route, call, process or executable */
  CODA_E_BUSY = -5,        /* a limit was reached: try again later */
  CODA_E_IO = -6,          /* the operating system said no (spawn, read, write) */
  CODA_E_CANCELLED = -7,   /* the operation was cancelled */
  CODA_E_INTERNAL = -8     /* a bug, including a caught C++ exception */
};

/* UTF-8 bytes, not NUL-terminated. OWNER: the caller; valid until the call that received it returns.
 * {NULL, 0} means absent; {"", 0} means present and empty. */
typedef struct coda_str_t {
  const char* ptr;
  size_t len;
} coda_str_t;

/* Receives a string produced by the other side (an out-parameter that needs no allocator agreement).
 * The callee calls emit zero or one time before it returns; emit copies the bytes it keeps. */
typedef void (*coda_emit_fn)(void* emit_ctx, coda_str_t text);

enum { CODA_LOG_DEBUG = 0, CODA_LOG_INFO = 1, CODA_LOG_WARN = 2, CODA_LOG_ERROR = 3 };

typedef struct coda_host_t coda_host_t;

/* ---- replies: how the host answers one dispatched JSON-RPC message -------------------------------- */

enum {
  CODA_SEND_NOTIFICATION = 0u, /* a JSON-RPC notification (or server request) tied to the message */
  CODA_SEND_FINAL = 1u         /* the last send for the message: the response, or {NULL,0} if none */
};

/* OWNER: the transport; the struct and ctx must stay valid until send(..., CODA_SEND_FINAL) returns,
 * or, for a connection's push sink, until close_connection() returns.
 * For a dispatched message the host calls send zero or more times with notifications tied to it
 * (progress, logging), then exactly once with CODA_SEND_FINAL carrying the response ({NULL,0} when the
 * message was a notification or a response). Calls for one message never overlap. [any thread] */
typedef struct coda_reply_sink_t {
  uint32_t struct_size;
  void* ctx;
  void (*send)(void* ctx, coda_str_t json, uint32_t flags);
} coda_reply_sink_t;

/* ---- HTTP: routes on the host's single listener --------------------------------------------------- */

typedef struct coda_http_header_t {
  coda_str_t name;
  coda_str_t value;
} coda_http_header_t;

/* OWNER: the host; valid until the route's handle() returns. The body is complete and already bounded
 * by the host's body limit. identity_json is the authenticated caller as JSON
 * {"subject","email","name","admin","authenticated"}, or the local user when auth is off. */
typedef struct coda_http_request_t {
  uint32_t struct_size;
  coda_str_t method;
  coda_str_t path;  /* the full path, without the query */
  coda_str_t query; /* after '?', without it; {NULL,0} when absent */
  coda_str_t remote_addr;
  coda_str_t identity_json;
  const coda_http_header_t* headers; /* names as sent; compare case-insensitively */
  size_t header_count;
  coda_str_t body;
  coda_str_t request_id; /* X-Request-Id when sent, else one the host generated */
  /* "scheme://host[:port]" as the client addressed the host (a proxy's X-Forwarded-Proto/-Host
   * first), for links handed back to this caller. Check struct_size before reading: appended. */
  coda_str_t base_url;
  /* [appended in 1.1: check CODA_HAS before reading] 1 when the Origin header is one the admin
   * allowed in server.allowed_origins (or "*"): a cross-origin browser caller that the route answers
   * with CORS headers (Access-Control-Allow-Origin); 0 without an Origin and for loopback or
   * same-origin pages, which need none. The host has already refused, before any route runs, every
   * request whose Host or Origin its policy does not allow: routes check neither. OWNER: the host,
   * like every member; read on the handle() thread. */
  uint32_t cross_origin;
} coda_http_request_t;

typedef struct coda_http_response_t coda_http_response_t; /* opaque; OWNER: host, valid in handle() */
typedef struct coda_ws_t coda_ws_t; /* opaque; OWNER: host, valid until on_close() returns */

/* OWNER: the plugin; valid until on_close() returns for every socket it was used for. */
typedef struct coda_ws_handler_t {
  uint32_t struct_size;
  void* ctx;
  /* [the socket's reader thread; never concurrent for one socket] One complete text frame. */
  void (*on_message)(void* ctx, coda_ws_t* ws, coda_str_t text);
  /* [the socket's reader thread] The last call for this ws; ws_send fails after it returns. */
  void (*on_close)(void* ctx, coda_ws_t* ws);
} coda_ws_handler_t;

/* OWNER: the plugin; valid until http_unmount() returns (the host waits for running handles). */
typedef struct coda_http_route_t {
  uint32_t struct_size;
  void* ctx;
  /* [any thread] Answer one request. May block while streaming (SSE) until the response is done.
   * Without any http_status call the status is 200; with no write the body is empty. */
  void (*handle)(void* ctx, const coda_http_request_t* req, coda_http_response_t* resp);
} coda_http_route_t;

/* ---- processes: how agent backends run their CLI ---------------------------------------------------
 * The host spawns without a shell, in a new process group, with stdin from stdin_path or /dev/null, an
 * environment built from the admin's allowlist plus `env` (entries outside policy are dropped and
 * logged), the configured resource limits and optional sandbox, and records the group so that crash
 * recovery can kill it. Guardrails live here so that every backend has them. */

typedef struct coda_spawn_t {
  uint32_t struct_size;
  const coda_str_t* argv; /* argv[0]: an absolute path, or a name looked up on the allowed PATH */
  size_t argc;
  const coda_str_t* env; /* extra "NAME=value" entries, subject to the host's policy */
  size_t envc;
  coda_str_t cwd;        /* {NULL,0}: the task's workspace */
  coda_str_t stdin_path; /* {NULL,0}: /dev/null */
  uint64_t task;         /* coda_task_t.handle of the task the process works for, or 0 */
  /* Paths the process may also write when the admin enabled the sandbox (cwd always is), e.g. the
   * task_dir for usage and report files. Ignored without a sandbox. {NULL,0}/0: none. */
  const coda_str_t* writable;
  size_t writable_count;
} coda_spawn_t;

enum { CODA_STREAM_STDOUT = 1, CODA_STREAM_STDERR = 2 };

/* OWNER: the plugin; valid until on_exit() returns. [a host I/O thread; calls for one process never
 * overlap] */
typedef struct coda_process_events_t {
  uint32_t struct_size;
  void* ctx;
  /* A chunk of output as read (not split into lines). */
  void (*on_output)(void* ctx, uint64_t proc, int32_t stream, coda_str_t bytes);
  /* The last call: after both pipes closed and the leader was reaped. exit_code is -1 when killed by a
   * signal, term_signal 0 when it exited. */
  void (*on_exit)(void* ctx, uint64_t proc, int32_t exit_code, int32_t term_signal);
} coda_process_events_t;

/* ---- host services, handed to the plugin's init --------------------------------------------------- */

/* OWNER: the host; valid from init() until deinit() returns. Every function is [any thread] unless
 * marked. Functions that fail return a status; last_error() gives the message (thread-local). */
struct coda_host_t {
  uint32_t struct_size;
  uint32_t abi_major, abi_minor; /* of the host */
  void* host_data;               /* private to the host */

  void (*log)(const coda_host_t* host, int32_t level, coda_str_t message);
  /* The message of the last failed host call on this thread; valid until the next host call on it. */
  coda_str_t (*last_error)(const coda_host_t* host);
  /* Detail for the status the plugin is about to return from a vtable call (copied). */
  void (*set_error)(const coda_host_t* host, coda_str_t message);

  /* ---- messages: the MCP engine ----
   * origin_json describes where the message came from: {"transport", "conn", "identity",
   * "session_id", "protocol_version", "request_id", "base_url"}: strings, except "conn" (an integer
   * >= 0) and "identity" (the object the host handed the route as identity_json: "subject", "email",
   * "name" strings, "admin", "authenticated" booleans). Other members are ignored; a known member of
   * another type (null aside) makes the call fail with CODA_E_INVALID. The reply arrives through
   * `sink` (possibly before dispatch returns). out_call (may be NULL) receives an id for cancel_call. */
  coda_status_t (*dispatch)(const coda_host_t* host, coda_str_t origin_json, coda_str_t message,
                            const coda_reply_sink_t* sink, uint64_t* out_call);
  /* The client went away: abort the call if it is still running; its FINAL is still sent. */
  void (*cancel_call)(const coda_host_t* host, uint64_t call);
  /* A long-lived connection (stdio, WebSocket) on which the host may push notifications later (only
   * CODA_SEND_NOTIFICATION is used on a push sink). Pass the returned id as "conn" in origin_json. */
  coda_status_t (*open_connection)(const coda_host_t* host, coda_str_t origin_json,
                                   const coda_reply_sink_t* push, uint64_t* out_conn);
  /* Returns once no push on this connection runs or will start. */
  void (*close_connection)(const coda_host_t* host, uint64_t conn);

  /* ---- HTTP on the host's listener. mount/unmount are [control]. ---- */
  /* Routes match by longest path prefix; "/mcp" matches "/mcp" and "/mcp/...", not "/mcpx". */
  coda_status_t (*http_mount)(const coda_host_t* host, coda_str_t path_prefix,
                              const coda_http_route_t* route);
  void (*http_unmount)(const coda_host_t* host, coda_str_t path_prefix);
  /* The functions below are valid only inside handle() for its resp. */
  void (*http_status)(coda_http_response_t* resp, int32_t status);
  void (*http_header)(coda_http_response_t* resp, coda_str_t name, coda_str_t value);
  /* Appends to the body. The host buffers it and sends it with Content-Length when handle() returns;
   * CODA_E_STATE once the client is gone. Content-Length, Transfer-Encoding and Connection headers
   * are the host's ("Connection: close" closes the connection after the response). */
  coda_status_t (*http_write)(coda_http_response_t* resp, coda_str_t bytes);
  /* Sends the status, the headers and the body so far, and switches to chunked streaming (SSE: write
   * an event, flush). More than 64 KiB of buffered body switches too. CODA_E_STATE once the client is
   * gone. */
  coda_status_t (*http_flush)(coda_http_response_t* resp);
  /* Completes a WebSocket handshake and runs the socket's reader loop on this thread: returns when the
   * socket has closed (after on_close). Fails with CODA_E_INVALID when the request is no upgrade. */
  coda_status_t (*http_upgrade)(coda_http_response_t* resp, const coda_ws_handler_t* handler);
  /* [any thread] Sends one text frame; CODA_E_STATE once closed. */
  coda_status_t (*ws_send)(coda_ws_t* ws, coda_str_t text);
  void (*ws_close)(coda_ws_t* ws, int32_t code);

  /* ---- processes, for agent backends ---- */
  coda_status_t (*process_spawn)(const coda_host_t* host, const coda_spawn_t* spec,
                                 const coda_process_events_t* events, uint64_t* out_proc);
  /* SIGTERM to the group, the configured grace, then SIGKILL to the group. Idempotent; on_exit follows. */
  coda_status_t (*process_terminate)(const coda_host_t* host, uint64_t proc);
  /* Resolves an executable name on the PATH that spawned processes get; emits the absolute path. */
  coda_status_t (*which)(const coda_host_t* host, coda_str_t name, coda_emit_fn emit, void* emit_ctx);

  /* ---- tool calls, for tool providers: notifications and the single final result of `call` ---- */
  void (*tool_progress)(const coda_host_t* host, uint64_t call, double progress, double total,
                        coda_str_t message); /* total <= 0: unknown */
  void (*tool_log)(const coda_host_t* host, uint64_t call, int32_t level, coda_str_t data_json);
  /* Exactly once per call, also after cancel: a CallToolResult object as JSON. */
  void (*tool_done)(const coda_host_t* host, uint64_t call, coda_str_t call_tool_result_json);
};

/* ---- component kinds ------------------------------------------------------------------------------ */

/* Every kind: create() gets the component's YAML config subtree as JSON ("{}" when absent) and returns
 * an instance or NULL after set_error(); destroy() frees it. OWNER of the instance: the plugin. */

typedef struct coda_transport_vtbl_t {
  uint32_t struct_size;
  void* (*create)(const coda_host_t* host, coda_str_t config_json); /* [control] */
  /* [control] Non-blocking: mount routes or start an I/O thread. */
  coda_status_t (*start)(void* self);
  /* [control] Returns once no call into the host runs or will start from this transport. */
  coda_status_t (*stop)(void* self);
  void (*destroy)(void* self); /* [control] after stop */
} coda_transport_vtbl_t;

/* OWNER: the host; valid until start() returns (copy what you keep). */
typedef struct coda_task_t {
  uint32_t struct_size;
  uint64_t handle;              /* the host's handle for this run; pass it in coda_spawn_t.task */
  coda_str_t task_id;           /* public ids */
  coda_str_t session_id;
  coda_str_t prompt;            /* the enveloped prompt */
  coda_str_t prompt_file;       /* the same text in a file inside the task's directory */
  coda_str_t workspace;         /* the working directory (shared by a session chain) */
  coda_str_t task_dir;          /* a private directory for this run (usage files, reports) */
  /* {"permissions":"smart|yolo","yolo_allowed":bool,"timeout_s":n,"owner":{identity},
   *  "resume_session":"<agent's own session id from the previous task>"|null,"model":...} */
  coda_str_t options_json;
} coda_task_t;

enum {
  CODA_TASK_TEXT = 1,      /* output text for the task's log (stream in the JSON when relevant) */
  CODA_TASK_PROGRESS = 2,  /* a short human-readable progress message */
  CODA_TASK_EVENT_JSON = 3 /* a structured event: {"type":..., ...} */
};

/* OWNER: the host; valid until finished() returns. [any thread] */
typedef struct coda_task_events_t {
  uint32_t struct_size;
  void* ctx;
  void (*event)(void* ctx, uint64_t handle, int32_t kind, coda_str_t data);
  /* Exactly once per started task, always the last call for it — after cancel too. result_json:
   * {"status":"completed|failed|cancelled|timed_out|needs_approval|info_needed", "summary",
   *  "exit_code", "usage":{...}, "agent_session", "errors":[...], "files_changed":[...],
   *  "artifacts":[...], "feedback"} (only status is required). */
  void (*finished)(void* ctx, uint64_t handle, coda_str_t result_json);
} coda_task_events_t;

typedef struct coda_agent_vtbl_t {
  uint32_t struct_size;
  void* (*create)(const coda_host_t* host, coda_str_t config_json); /* [control] */
  /* [any thread] Can this backend run now (binary on PATH, gateway reachable)? If not, set_error why. */
  coda_status_t (*probe)(void* self);
  /* [any thread] Returns at once; progress and the end arrive through `events`. A non-OK status means
   * nothing started and finished() will not be called (the host may fall back to the next backend). */
  coda_status_t (*start)(void* self, const coda_task_t* task, const coda_task_events_t* events);
  /* [any thread] Idempotent; finished() follows (with status "cancelled" unless already done). */
  coda_status_t (*cancel)(void* self, uint64_t handle);
  void (*destroy)(void* self); /* [control] only when no task is live */
} coda_agent_vtbl_t;

typedef struct coda_tools_vtbl_t {
  uint32_t struct_size;
  void* (*create)(const coda_host_t* host, coda_str_t config_json); /* [control] */
  /* [any thread] The provider's MCP Tool objects as one JSON array, given to emit (which copies). */
  coda_status_t (*list)(void* self, coda_emit_fn emit, void* emit_ctx);
  /* [any thread] Start call `call`; answer later or before returning, exactly once, with
   * host->tool_done. A non-OK status means the call failed to start and no tool_done follows.
   * origin_json is the dispatching message's origin (identity etc.). */
  coda_status_t (*call)(void* self, uint64_t call, coda_str_t name, coda_str_t arguments_json,
                        coda_str_t origin_json);
  void (*cancel)(void* self, uint64_t call); /* [any thread] idempotent; tool_done still follows */
  void (*destroy)(void* self);               /* [control] when no call is live */
} coda_tools_vtbl_t;

/* ---- the registry entry --------------------------------------------------------------------------- */

enum { CODA_KIND_TRANSPORT = 1, CODA_KIND_AGENT = 2, CODA_KIND_TOOLS = 3 }; /* unknown kinds: skipped */

/* OWNER: the plugin; static, valid until the library is unloaded. Readable before init(), so that
 * listing plugins never starts them. */
typedef struct coda_component_t {
  uint32_t struct_size;
  int32_t kind;
  const char* id;          /* reverse-DNS, unique across all loaded plugins, e.g. "dev.coda.agent.cli" */
  const char* version;     /* semver of the component */
  const char* description; /* one line */
  const void* vtbl;        /* coda_transport_vtbl_t*, coda_agent_vtbl_t* or coda_tools_vtbl_t* */
} coda_component_t;

/* OWNER: the plugin; static, valid until the library is unloaded. */
typedef struct coda_plugin_t {
  uint32_t struct_size;
  uint32_t abi_major, abi_minor; /* CODA_ABI_MAJOR / MINOR as compiled into the plugin */
  uint32_t pointer_size;         /* sizeof(void*): a build fact the host checks */
  const char* id;                /* reverse-DNS id of the plugin (the library) */
  const char* version;
  const char* description;
  /* [control] The first call; idempotent per load. May refuse (e.g. a host too old) with set_error. */
  coda_status_t (*init)(const coda_host_t* host);
  uint32_t (*component_count)(void);                       /* [any thread] no init needed */
  const coda_component_t* (*component_at)(uint32_t index); /* [any thread] no init needed */
  /* [control] The last call: every instance destroyed; the plugin joins all its threads here. */
  void (*deinit)(void);
} coda_plugin_t;

/* The only exported symbol: a function, so that dlsym is portable. A future breaking ABI exports
 * coda_plugin_entry_v2 beside it. */
#define CODA_PLUGIN_ENTRY_SYMBOL "coda_plugin_entry_v1"
CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void);

#ifdef __cplusplus
}
#endif
#endif /* CODA_PLUGIN_H */
