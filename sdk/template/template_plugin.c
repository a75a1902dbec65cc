/* A minimal CoDA Host plugin in plain C: one tool provider component offering the tool
 * `template_echo`, which answers with the text it was given. Copy this directory to start a plugin. */
#include <coda/plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const coda_host_t* g_host = NULL;

typedef struct echo_tools {
  int unused;
} echo_tools;

static const char kToolsJson[] =
    "[{\"name\":\"template_echo\",\"description\":\"Echo the given text back (template plugin).\","
    "\"inputSchema\":{\"type\":\"object\",\"properties\":{\"text\":{\"type\":\"string\"}},"
    "\"required\":[\"text\"]},\"annotations\":{\"readOnlyHint\":true,\"idempotentHint\":true,"
    "\"openWorldHint\":false}}]";

static coda_str_t str_of(const char* s) {
  coda_str_t out;
  out.ptr = s;
  out.len = strlen(s);
  return out;
}

static void* tools_create(const coda_host_t* host, coda_str_t config_json) {
  (void)config_json;
  (void)host;
  return calloc(1, sizeof(echo_tools));
}

static coda_status_t tools_list(void* self, coda_emit_fn emit, void* emit_ctx) {
  (void)self;
  emit(emit_ctx, str_of(kToolsJson));
  return CODA_OK;
}

/* Copies the value of "text" from arguments_json without a JSON library: the host has validated the
 * arguments against the input schema, so "text" is a string. Escapes are passed through unchanged. */
static coda_status_t tools_call(void* self, uint64_t call, coda_str_t name, coda_str_t arguments,
                                coda_str_t origin_json) {
  (void)self;
  (void)origin_json;
  if (name.len != strlen("template_echo") || memcmp(name.ptr, "template_echo", name.len) != 0) {
    g_host->set_error(g_host, str_of("unknown tool"));
    return CODA_E_NOT_FOUND;
  }
  const char* key = "\"text\"";
  const char* begin = NULL;
  size_t len = 0;
  for (size_t i = 0; i + strlen(key) <= arguments.len; ++i) {
    if (memcmp(arguments.ptr + i, key, strlen(key)) == 0) {
      size_t j = i + strlen(key);
      while (j < arguments.len && arguments.ptr[j] != '"') ++j;
      begin = arguments.ptr + j + 1;
      for (j = j + 1; j < arguments.len && arguments.ptr[j] != '"'; ++j) {
        if (arguments.ptr[j] == '\\') ++j;
      }
      len = (size_t)(arguments.ptr + j - begin);
      break;
    }
  }
  const char* head = "{\"content\":[{\"type\":\"text\",\"text\":\"";
  const char* tail = "\"}]}";
  size_t total = strlen(head) + len + strlen(tail);
  char* result = (char*)malloc(total + 1);
  if (result == NULL) return CODA_E_INTERNAL;
  snprintf(result, total + 1, "%s%.*s%s", head, (int)len, begin == NULL ? "" : begin, tail);
  coda_str_t out = {result, total};
  g_host->tool_done(g_host, call, out);
  free(result);
  return CODA_OK;
}

static void tools_cancel(void* self, uint64_t call) {
  (void)self;
  (void)call; /* every call finishes before tools_call returns: nothing to cancel */
}

static void tools_destroy(void* self) { free(self); }

static const coda_tools_vtbl_t kToolsVtbl = {
    sizeof(coda_tools_vtbl_t), tools_create, tools_list, tools_call, tools_cancel, tools_destroy};

static const coda_component_t kComponents[] = {
    {sizeof(coda_component_t), CODA_KIND_TOOLS, "com.example.template.echo", "0.1.0",
     "Template tool provider: template_echo", &kToolsVtbl}};

static coda_status_t plugin_init(const coda_host_t* host) {
  g_host = host;
  return CODA_OK;
}

static uint32_t plugin_component_count(void) {
  return (uint32_t)(sizeof(kComponents) / sizeof(kComponents[0]));
}

static const coda_component_t* plugin_component_at(uint32_t index) {
  return index < plugin_component_count() ? &kComponents[index] : NULL;
}

static void plugin_deinit(void) { g_host = NULL; }

static const coda_plugin_t kPlugin = {sizeof(coda_plugin_t),
                                      CODA_ABI_MAJOR,
                                      CODA_ABI_MINOR,
                                      (uint32_t)sizeof(void*),
                                      "com.example.template",
                                      "0.1.0",
                                      "A minimal plugin to copy from",
                                      plugin_init,
                                      plugin_component_count,
                                      plugin_component_at,
                                      plugin_deinit};

CODA_EXPORT const coda_plugin_t* coda_plugin_entry_v1(void) { return &kPlugin; }
