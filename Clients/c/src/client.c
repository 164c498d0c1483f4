/*
 * libdemandscreen: the DemandScreen C client. See include/demandscreen_client.h for the API and
 * its rules; this file keeps to them.
 *
 * Shape: one non-blocking socket per client. TLS runs over two memory BIOs (OpenSSL never
 * touches the socket), so that the library alone sends (with MSG_NOSIGNAL: no SIGPIPE) and
 * receives, and the same code drives the plaintext mode. Outgoing frames queue in `plain_out`,
 * become TLS records in `net_out`, and leave through send(); received bytes go through the TLS
 * engine into `plain_in`, where frames are cut, checked and dispatched by call id. Calls in
 * flight live in a hash table by id and, when they have a deadline, in a min-heap by deadline.
 */
#define _POSIX_C_SOURCE 200809L

#include "demandscreen_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#define DEFAULT_CONNECT_TIMEOUT_MS 10000u
#define DEFAULT_MAX_FRAME_BYTES (4u * 1024u * 1024u)
#define FRAME_HEADER_LENGTH 5u
/* Stop turning queued frames into TLS records while this much is waiting for the socket. */
#define NET_OUT_HIGH_WATER (256u * 1024u)
#define IO_CHUNK (64u * 1024u)
#define TLS_WRITE_CHUNK (16u * 1024u)
/* At most this much is read per ds_process(), so that a server that never stops sending cannot
 * keep the host inside it; ds_timeout() is 0 while more is waiting. */
#define READ_BUDGET (1024u * 1024u)

/* ------------------------------------------------------------------------------------------ */
/* Errors                                                                                      */

static const char *const status_names[] = {
    "OK",         "CANCELLED",         "UNKNOWN",      "INVALID_ARGUMENT", "DEADLINE_EXCEEDED",
    "NOT_FOUND",  "ALREADY_EXISTS",    "PERMISSION_DENIED", "RESOURCE_EXHAUSTED",
    "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL",
    "UNAVAILABLE", "DATA_LOSS",        "UNAUTHENTICATED",
};

const char *ds_status_name(uint32_t status) {
    if (status < sizeof status_names / sizeof status_names[0]) return status_names[status];
    return "UNKNOWN_STATUS";
}

const char *ds_error_kind_name(ds_error_kind kind) {
    switch (kind) {
    case DS_ERR_NONE: return "none";
    case DS_ERR_USAGE: return "usage";
    case DS_ERR_RESOURCE: return "resource";
    case DS_ERR_CONFIG: return "config";
    case DS_ERR_CONNECT: return "connect";
    case DS_ERR_TLS: return "tls";
    case DS_ERR_CLOSED: return "closed";
    case DS_ERR_PROTOCOL: return "protocol";
    case DS_ERR_DEADLINE: return "deadline";
    case DS_ERR_STATUS: return "status";
    }
    return "unknown";
}

const char *ds_version(void) { return DS_VERSION_STRING; }

static uint32_t status_of_kind(ds_error_kind kind) {
    switch (kind) {
    case DS_ERR_NONE: return DS_STATUS_OK;
    case DS_ERR_USAGE: return DS_STATUS_INVALID_ARGUMENT;
    case DS_ERR_RESOURCE: return DS_STATUS_RESOURCE_EXHAUSTED;
    case DS_ERR_CONFIG: return DS_STATUS_INVALID_ARGUMENT;
    case DS_ERR_CONNECT: return DS_STATUS_UNAVAILABLE;
    case DS_ERR_TLS: return DS_STATUS_UNAVAILABLE;
    case DS_ERR_CLOSED: return DS_STATUS_UNAVAILABLE;
    case DS_ERR_PROTOCOL: return DS_STATUS_INTERNAL;
    case DS_ERR_DEADLINE: return DS_STATUS_DEADLINE_EXCEEDED;
    case DS_ERR_STATUS: return DS_STATUS_UNKNOWN;
    }
    return DS_STATUS_UNKNOWN;
}

/* Cuts a NUL-terminated UTF-8 string that was truncated at `size - 1` bytes back to the last
 * whole character. */
static void trim_utf8_tail(char *text) {
    size_t length = strlen(text);
    if (length == 0) return;
    size_t start = length;
    /* Find the start of the last character (at most 3 continuation bytes back). */
    while (start > 0 && length - start < 4 && ((unsigned char)text[start - 1] & 0xC0) == 0x80) start--;
    if (start == 0) return;
    unsigned char lead = (unsigned char)text[start - 1];
    size_t need = lead < 0x80 ? 1 : (lead & 0xE0) == 0xC0 ? 2 : (lead & 0xF0) == 0xE0 ? 3 : (lead & 0xF8) == 0xF0 ? 4 : 1;
    if (length - (start - 1) < need) text[start - 1] = '\0';
}

/* strerror(), thread-safe: the text of errno value `number`. strerror_r() is the XSI one
 * (returns int, fills the buffer) unless the build defines _GNU_SOURCE (returns the text, which
 * may not be in the buffer): _Generic takes either. */
typedef struct errno_text {
    char text[128];
} errno_text;

static const char *xsi_strerror_result(int result, const char *buffer) { return result == 0 ? buffer : NULL; }
static const char *gnu_strerror_result(const char *result, const char *buffer) {
    (void)buffer;
    return result;
}

static errno_text describe_errno(int number) {
    errno_text t;
    t.text[0] = '\0';
    const char *text = _Generic(strerror_r(number, t.text, sizeof t.text), char *: gnu_strerror_result,
                                default: xsi_strerror_result)(strerror_r(number, t.text, sizeof t.text), t.text);
    if (!text || !text[0]) snprintf(t.text, sizeof t.text, "error %d", number);
    else if (text != t.text) snprintf(t.text, sizeof t.text, "%s", text);
    return t;
}

static void error_clear(ds_error *error) {
    if (!error) return;
    error->kind = DS_ERR_NONE;
    error->status = DS_STATUS_OK;
    error->message[0] = '\0';
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void error_set(ds_error *error, ds_error_kind kind, const char *format, ...) {
    if (!error) return;
    error->kind = kind;
    error->status = status_of_kind(kind);
    va_list arguments;
    va_start(arguments, format);
    int written = vsnprintf(error->message, sizeof error->message, format, arguments);
    va_end(arguments);
    if (written < 0) {
        error->message[0] = '\0';
    } else if ((size_t)written >= sizeof error->message) {
        trim_utf8_tail(error->message);
    }
}

static void error_copy(ds_error *to, const ds_error *from) {
    if (to && from && to != from) *to = *from;
}

/* Appends OpenSSL's queued reasons (and consumes the queue) to `out`: "reason; reason". */
static void openssl_reasons(char *out, size_t size) {
    size_t used = strlen(out);
    bool first = true;
    unsigned long code;
    unsigned long last = 0;
    while ((code = ERR_get_error()) != 0) {
        if (code == last) continue;
        last = code;
        char reason[256];
        const char *text = ERR_reason_error_string(code);
        if (text == NULL) {
            ERR_error_string_n(code, reason, sizeof reason);
            text = reason;
        }
        if (used + 1 >= size) continue;
        int n = snprintf(out + used, size - used, "%s%s", first ? "" : "; ", text);
        if (n < 0) break;
        first = false;
        used += (size_t)n < size - used ? (size_t)n : size - used - 1;
    }
}

/* ------------------------------------------------------------------------------------------ */
/* Byte buffers                                                                                */

typedef struct buffer {
    uint8_t *data;
    size_t head; /* first valid byte */
    size_t length;
    size_t capacity;
} buffer;

static uint8_t *buffer_begin(buffer *b) { return b->data + b->head; }

/* Makes room for `extra` more bytes after the valid ones. */
static bool buffer_reserve(buffer *b, size_t extra) {
    if (extra > SIZE_MAX - b->length) return false;
    size_t needed = b->length + extra;
    if (b->head + needed <= b->capacity) return true;
    if (needed <= b->capacity && b->head > 0) {
        memmove(b->data, b->data + b->head, b->length);
        b->head = 0;
        return true;
    }
    size_t capacity = b->capacity ? b->capacity : 4096;
    while (capacity < needed) {
        if (capacity > SIZE_MAX / 2) {
            capacity = needed;
            break;
        }
        capacity *= 2;
    }
    uint8_t *data = malloc(capacity);
    if (!data) return false;
    if (b->length) memcpy(data, b->data + b->head, b->length);
    free(b->data);
    b->data = data;
    b->head = 0;
    b->capacity = capacity;
    return true;
}

static uint8_t *buffer_tail(buffer *b) { return b->data + b->head + b->length; }

static void buffer_consume(buffer *b, size_t n) {
    b->head += n;
    b->length -= n;
    if (b->length == 0) b->head = 0;
}

static void buffer_free(buffer *b) {
    free(b->data);
    memset(b, 0, sizeof *b);
}

/* ------------------------------------------------------------------------------------------ */
/* Calls in flight                                                                             */

typedef enum call_kind { CALL_RAW, CALL_SCREEN } call_kind;

typedef struct call {
    uint64_t id;
    int64_t deadline_ms; /* monotonic; 0 = none */
    uint32_t timeout_ms;
    size_t heap_index; /* SIZE_MAX when not in the heap */
    call_kind kind;
    ds_callback raw_callback;
    ds_screen_callback screen_callback;
    void *user_data;
} call;

/* Open addressing, linear probing, backward-shift deletion; the table stays at most half full. */
typedef struct call_table {
    call **slots;
    size_t capacity; /* a power of two, or 0 */
    size_t count;
} call_table;

static size_t table_home(uint64_t id, size_t capacity) {
    uint64_t mixed = id * UINT64_C(0x9E3779B97F4A7C15);
    mixed ^= mixed >> 29;
    return (size_t)mixed & (capacity - 1);
}

static bool table_grow(call_table *t) {
    size_t capacity = t->capacity ? t->capacity * 2 : 64;
    if (capacity > SIZE_MAX / sizeof(call *)) return false;
    call **slots = calloc(capacity, sizeof *slots);
    if (!slots) return false;
    for (size_t i = 0; i < t->capacity; i++) {
        call *c = t->slots[i];
        if (!c) continue;
        size_t j = table_home(c->id, capacity);
        while (slots[j]) j = (j + 1) & (capacity - 1);
        slots[j] = c;
    }
    free(t->slots);
    t->slots = slots;
    t->capacity = capacity;
    return true;
}

static bool table_insert(call_table *t, call *c) {
    if ((t->count + 1) * 2 > t->capacity && !table_grow(t)) return false;
    size_t j = table_home(c->id, t->capacity);
    while (t->slots[j]) j = (j + 1) & (t->capacity - 1);
    t->slots[j] = c;
    t->count++;
    return true;
}

/* Removes and returns the call with `id`, or NULL. */
static call *table_remove(call_table *t, uint64_t id) {
    if (t->count == 0) return NULL;
    size_t mask = t->capacity - 1;
    size_t i = table_home(id, t->capacity);
    while (t->slots[i] && t->slots[i]->id != id) i = (i + 1) & mask;
    call *found = t->slots[i];
    if (!found) return NULL;
    t->slots[i] = NULL;
    t->count--;
    /* Shift back the entries of the probe run that follows, so that lookups still find them. */
    size_t j = i;
    for (;;) {
        j = (j + 1) & mask;
        call *c = t->slots[j];
        if (!c) break;
        size_t home = table_home(c->id, t->capacity);
        /* c may move to i when its home is not in the cyclic range (i, j]. */
        bool in_range = i <= j ? (home > i && home <= j) : (home > i || home <= j);
        if (!in_range) {
            t->slots[i] = c;
            t->slots[j] = NULL;
            i = j;
        }
    }
    return found;
}

typedef struct deadline_heap {
    call **items;
    size_t length;
    size_t capacity;
} deadline_heap;

static bool heap_before(const call *a, const call *b) {
    return a->deadline_ms < b->deadline_ms || (a->deadline_ms == b->deadline_ms && a->id < b->id);
}

static void heap_place(deadline_heap *h, size_t i, call *c) {
    h->items[i] = c;
    c->heap_index = i;
}

static void heap_sift_up(deadline_heap *h, size_t i) {
    call *c = h->items[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!heap_before(c, h->items[parent])) break;
        heap_place(h, i, h->items[parent]);
        i = parent;
    }
    heap_place(h, i, c);
}

static void heap_sift_down(deadline_heap *h, size_t i) {
    call *c = h->items[i];
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= h->length) break;
        if (child + 1 < h->length && heap_before(h->items[child + 1], h->items[child])) child++;
        if (!heap_before(h->items[child], c)) break;
        heap_place(h, i, h->items[child]);
        i = child;
    }
    heap_place(h, i, c);
}

static bool heap_push(deadline_heap *h, call *c) {
    if (h->length == h->capacity) {
        size_t capacity = h->capacity ? h->capacity * 2 : 64;
        if (capacity > SIZE_MAX / sizeof(call *)) return false;
        call **items = realloc(h->items, capacity * sizeof *items);
        if (!items) return false;
        h->items = items;
        h->capacity = capacity;
    }
    h->items[h->length] = c;
    c->heap_index = h->length;
    h->length++;
    heap_sift_up(h, h->length - 1);
    return true;
}

static void heap_remove(deadline_heap *h, call *c) {
    size_t i = c->heap_index;
    if (i == SIZE_MAX || i >= h->length || h->items[i] != c) return;
    c->heap_index = SIZE_MAX;
    h->length--;
    if (i == h->length) return;
    call *last = h->items[h->length];
    heap_place(h, i, last);
    heap_sift_down(h, i);
    heap_sift_up(h, last->heap_index);
}

/* ------------------------------------------------------------------------------------------ */
/* The client                                                                                  */

typedef enum conn_state { STATE_CONNECTING, STATE_HANDSHAKING, STATE_READY, STATE_FAILED } conn_state;

struct ds_client {
    int fd;
    conn_state state;
    bool plaintext;
    bool eof; /* the peer closed its side */
    bool more_input; /* the last pump stopped at READ_BUDGET */

    char *host;
    char *label; /* "host:port" for messages */
    uint16_t port;
    uint32_t connect_timeout_ms;
    int64_t connect_deadline_ms; /* 0 = none */
    uint32_t max_frame_bytes;
    char *authorization; /* "Bearer <token>" or NULL */

    struct addrinfo *addresses;
    struct addrinfo *next_address;
    int last_connect_errno;

    SSL_CTX *ssl_ctx;
    SSL *ssl;
    BIO *rbio; /* network bytes in, for OpenSSL */
    BIO *wbio; /* network bytes out, from OpenSSL */

    buffer plain_out; /* frames not yet handed to TLS (plaintext mode: not yet sent) */
    buffer net_out;   /* TLS records not yet sent */
    buffer plain_in;  /* received bytes not yet cut into frames */
    uint8_t *chunk;   /* IO_CHUNK bytes for recv() */

    call_table calls;
    deadline_heap deadlines;
    uint64_t next_call_id;

    ds_error failure;          /* the connection's failure once STATE_FAILED */
    char server_goodbye[300];  /* a call id 0 ResponseFrame's "STATUS: message" */

    int callback_depth;  /* > 0 while a callback runs */
    int driving;         /* > 0 inside a library function that may run callbacks */
    bool close_requested; /* ds_close() was called from a callback */
};

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static char *copy_string(const char *s) {
    if (!s) return NULL;
    size_t n = strlen(s) + 1;
    char *copy = malloc(n);
    if (copy) memcpy(copy, s, n);
    return copy;
}

/* Runs a call's callback with its outcome and frees the call. */
static void complete_call(ds_client *client, call *c, const ds_error *error, const uint8_t *response,
                          size_t response_length) {
    client->callback_depth++;
    if (c->kind == CALL_RAW) {
        c->raw_callback(c->user_data, c->id, error, error ? NULL : response, error ? 0 : response_length);
    } else if (error) {
        c->screen_callback(c->user_data, c->id, error, NULL);
    } else {
        Demandscreen__V1__ScreeningResult *result =
            demandscreen__v1__screening_result__unpack(NULL, response_length, response);
        if (result) {
            c->screen_callback(c->user_data, c->id, NULL, result);
        } else {
            ds_error decode_error;
            error_set(&decode_error, DS_ERR_PROTOCOL,
                      "the server's answer to call %llu is not a valid ScreeningResult (%zu bytes)",
                      (unsigned long long)c->id, response_length);
            c->screen_callback(c->user_data, c->id, &decode_error, NULL);
        }
    }
    client->callback_depth--;
    free(c);
}

static int compare_call_ids(const void *a, const void *b) {
    uint64_t x = (*(call *const *)a)->id, y = (*(call *const *)b)->id;
    return (x > y) - (x < y);
}

/* Completes every pending call with `error`, in call id order. */
static void fail_all_calls(ds_client *client, const ds_error *error) {
    while (client->calls.count > 0) {
        size_t count = client->calls.count;
        call **all = malloc(count * sizeof *all);
        size_t n = 0;
        for (size_t i = 0; i < client->calls.capacity; i++) {
            call *c = client->calls.slots[i];
            if (!c) continue;
            if (all) {
                all[n++] = c;
            } else {
                /* No memory for the sorted list: complete them in table order, one by one. */
                client->calls.slots[i] = NULL;
                client->calls.count--;
                heap_remove(&client->deadlines, c);
                complete_call(client, c, error, NULL, 0);
            }
        }
        if (!all) continue;
        for (size_t i = 0; i < n; i++) {
            table_remove(&client->calls, all[i]->id);
            heap_remove(&client->deadlines, all[i]);
        }
        qsort(all, n, sizeof *all, compare_call_ids);
        for (size_t i = 0; i < n; i++) complete_call(client, all[i], error, NULL, 0);
        free(all);
    }
}

/* Marks the connection failed with `error` and completes every pending call with it. */
static void fail_connection(ds_client *client, const ds_error *error) {
    if (client->state == STATE_FAILED) return;
    client->state = STATE_FAILED;
    client->failure = *error;
    buffer_free(&client->plain_out);
    buffer_free(&client->net_out);
    if (client->fd >= 0) shutdown(client->fd, SHUT_RDWR);
    fail_all_calls(client, &client->failure);
}

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static void fail_connectionf(ds_client *client, ds_error_kind kind, const char *format, ...) {
    ds_error error;
    error.kind = kind;
    error.status = status_of_kind(kind);
    va_list arguments;
    va_start(arguments, format);
    int written = vsnprintf(error.message, sizeof error.message, format, arguments);
    va_end(arguments);
    if (written < 0) error.message[0] = '\0';
    else if ((size_t)written >= sizeof error.message) trim_utf8_tail(error.message);
    fail_connection(client, &error);
}

/* A TLS failure with OpenSSL's reason and, when the server's certificate was refused, why. */
static void tls_error(ds_client *client, const char *what, ds_error *error) {
    char reasons[400] = "";
    openssl_reasons(reasons, sizeof reasons);
    long verify = client->ssl ? SSL_get_verify_result(client->ssl) : X509_V_OK;
    if (verify != X509_V_OK) {
        error_set(error, DS_ERR_TLS, "%s %s failed: %s (%s)", what, client->label,
                  reasons[0] ? reasons : "certificate verify failed", X509_verify_cert_error_string(verify));
    } else {
        error_set(error, DS_ERR_TLS, "%s %s failed: %s", what, client->label, reasons[0] ? reasons : "unknown TLS error");
    }
}

static void fail_tls(ds_client *client, const char *what) {
    ds_error error;
    tls_error(client, what, &error);
    fail_connection(client, &error);
}

/* ------------------------------------------------------------------------------------------ */
/* Setting up                                                                                  */

void ds_options_init(ds_options *options) {
    if (!options) return;
    memset(options, 0, sizeof *options);
    options->min_tls_version = DS_TLS_1_3;
    options->connect_timeout_ms = DEFAULT_CONNECT_TIMEOUT_MS;
    options->max_frame_bytes = DEFAULT_MAX_FRAME_BYTES;
}

static bool is_ip_address(const char *name) {
    unsigned char address[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, name, address) == 1 || inet_pton(AF_INET6, name, address) == 1;
}

static bool file_readable(const char *path, const char *what, ds_error *error) {
    FILE *f = fopen(path, "r");
    if (!f) {
        error_set(error, DS_ERR_CONFIG, "cannot read the %s %s: %s", what, path, describe_errno(errno).text);
        return false;
    }
    fclose(f);
    return true;
}

static int setup_tls(ds_client *client, const ds_options *options, ds_error *error) {
    ERR_clear_error();
    client->ssl_ctx = SSL_CTX_new(TLS_client_method());
    if (!client->ssl_ctx) {
        error_set(error, DS_ERR_RESOURCE, "cannot set up TLS: ");
        if (error) openssl_reasons(error->message, sizeof error->message);
        return -1;
    }
    SSL_CTX *ctx = client->ssl_ctx;
    int minimum = options->min_tls_version == DS_TLS_1_2 ? TLS1_2_VERSION : TLS1_3_VERSION;
    if (!SSL_CTX_set_min_proto_version(ctx, minimum)) {
        error_set(error, DS_ERR_CONFIG, "cannot set the minimum TLS version: ");
        if (error) openssl_reasons(error->message, sizeof error->message);
        return -1;
    }
    if (options->insecure_skip_verify) {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
        if (options->ca_file) {
            if (!file_readable(options->ca_file, "CA file", error)) return -1;
            if (SSL_CTX_load_verify_locations(ctx, options->ca_file, NULL) != 1) {
                error_set(error, DS_ERR_CONFIG, "cannot load the CA file %s: ", options->ca_file);
                if (error) openssl_reasons(error->message, sizeof error->message);
                return -1;
            }
        } else if (SSL_CTX_set_default_verify_paths(ctx) != 1) {
            error_set(error, DS_ERR_CONFIG, "cannot load the system's trusted CAs: ");
            if (error) openssl_reasons(error->message, sizeof error->message);
            return -1;
        }
    }
    if (options->client_cert_file) {
        if (!file_readable(options->client_cert_file, "client certificate", error)) return -1;
        if (!file_readable(options->client_key_file, "client key", error)) return -1;
        if (SSL_CTX_use_certificate_chain_file(ctx, options->client_cert_file) != 1) {
            error_set(error, DS_ERR_CONFIG, "cannot load the client certificate %s: ", options->client_cert_file);
            if (error) openssl_reasons(error->message, sizeof error->message);
            return -1;
        }
        if (SSL_CTX_use_PrivateKey_file(ctx, options->client_key_file, SSL_FILETYPE_PEM) != 1) {
            error_set(error, DS_ERR_CONFIG, "cannot load the client key %s: ", options->client_key_file);
            if (error) openssl_reasons(error->message, sizeof error->message);
            return -1;
        }
        if (SSL_CTX_check_private_key(ctx) != 1) {
            error_set(error, DS_ERR_CONFIG, "the client key %s does not match the certificate %s: ",
                      options->client_key_file, options->client_cert_file);
            if (error) openssl_reasons(error->message, sizeof error->message);
            return -1;
        }
    }

    client->ssl = SSL_new(ctx);
    client->rbio = BIO_new(BIO_s_mem());
    client->wbio = BIO_new(BIO_s_mem());
    if (!client->ssl || !client->rbio || !client->wbio) {
        BIO_free(client->rbio);
        BIO_free(client->wbio);
        client->rbio = client->wbio = NULL;
        error_set(error, DS_ERR_RESOURCE, "cannot set up TLS: out of memory");
        return -1;
    }
    BIO_set_mem_eof_return(client->rbio, -1);
    BIO_set_mem_eof_return(client->wbio, -1);
    SSL_set_bio(client->ssl, client->rbio, client->wbio); /* the SSL owns both now */
    SSL_set_connect_state(client->ssl);

    const char *name = options->server_name ? options->server_name : options->host;
    if (!options->insecure_skip_verify) {
        X509_VERIFY_PARAM *param = SSL_get0_param(client->ssl);
        X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
        int ok = is_ip_address(name) ? X509_VERIFY_PARAM_set1_ip_asc(param, name)
                                      : X509_VERIFY_PARAM_set1_host(param, name, 0);
        if (ok != 1) {
            error_set(error, DS_ERR_CONFIG, "cannot check the server's certificate for '%s': ", name);
            if (error) openssl_reasons(error->message, sizeof error->message);
            return -1;
        }
    }
    if (!is_ip_address(name) && SSL_set_tlsext_host_name(client->ssl, name) != 1) {
        error_set(error, DS_ERR_CONFIG, "cannot send the server name '%s': ", name);
        if (error) openssl_reasons(error->message, sizeof error->message);
        return -1;
    }
    ERR_clear_error();
    return 0;
}

/* Starts a TCP connect to the next address that takes one. 0: started (or done), -1: none left. */
static int start_next_address(ds_client *client) {
    while (client->next_address) {
        struct addrinfo *address = client->next_address;
        client->next_address = address->ai_next;
        int fd = socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                        address->ai_protocol);
        if (fd < 0) {
            client->last_connect_errno = errno;
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        int r;
        do {
            r = connect(fd, address->ai_addr, address->ai_addrlen);
        } while (r < 0 && errno == EINTR);
        if (r == 0 || errno == EINPROGRESS) {
            if (client->fd >= 0) close(client->fd);
            client->fd = fd;
            client->state = STATE_CONNECTING;
            return 0;
        }
        client->last_connect_errno = errno;
        close(fd);
    }
    return -1;
}

static void free_client(ds_client *client) {
    if (client->ssl) SSL_free(client->ssl);
    if (client->ssl_ctx) SSL_CTX_free(client->ssl_ctx);
    if (client->addresses) freeaddrinfo(client->addresses);
    if (client->fd >= 0) close(client->fd);
    buffer_free(&client->plain_out);
    buffer_free(&client->net_out);
    buffer_free(&client->plain_in);
    free(client->chunk);
    free(client->calls.slots);
    free(client->deadlines.items);
    free(client->host);
    free(client->label);
    free(client->authorization);
    free(client);
}

int ds_connect_start(const ds_options *options, ds_client **out, ds_error *error) {
    error_clear(error);
    if (out) *out = NULL;
    if (!options || !out) {
        error_set(error, DS_ERR_USAGE, "ds_connect_start: options and client must not be NULL");
        return -1;
    }
    if (!options->host || !options->host[0]) {
        error_set(error, DS_ERR_USAGE, "no server host given");
        return -1;
    }
    if (options->port == 0) {
        error_set(error, DS_ERR_USAGE, "no server port given");
        return -1;
    }
    if (options->min_tls_version != DS_TLS_1_3 && options->min_tls_version != DS_TLS_1_2) {
        error_set(error, DS_ERR_USAGE, "min_tls_version must be DS_TLS_1_3 or DS_TLS_1_2");
        return -1;
    }
    if ((options->client_cert_file == NULL) != (options->client_key_file == NULL)) {
        error_set(error, DS_ERR_USAGE, "client_cert_file and client_key_file go together");
        return -1;
    }
    if (options->insecure_plaintext && (options->client_cert_file || options->ca_file)) {
        error_set(error, DS_ERR_USAGE, "insecure_plaintext cannot be combined with TLS files");
        return -1;
    }
    if (options->max_frame_bytes != 0 && options->max_frame_bytes < 64) {
        error_set(error, DS_ERR_USAGE, "max_frame_bytes must be at least 64 (got %u)", options->max_frame_bytes);
        return -1;
    }

    ds_client *client = calloc(1, sizeof *client);
    if (!client) {
        error_set(error, DS_ERR_RESOURCE, "out of memory");
        return -1;
    }
    client->fd = -1;
    client->state = STATE_CONNECTING;
    client->plaintext = options->insecure_plaintext != 0;
    client->port = options->port;
    client->connect_timeout_ms = options->connect_timeout_ms;
    client->max_frame_bytes = options->max_frame_bytes ? options->max_frame_bytes : DEFAULT_MAX_FRAME_BYTES;
    client->next_call_id = 1;
    client->host = copy_string(options->host);
    client->chunk = malloc(IO_CHUNK);
    size_t label_size = strlen(options->host) + 16;
    client->label = malloc(label_size);
    if (client->label) {
        bool v6 = strchr(options->host, ':') != NULL;
        snprintf(client->label, label_size, v6 ? "[%s]:%u" : "%s:%u", options->host, (unsigned)options->port);
    }
    if (options->bearer_token) {
        size_t n = strlen(options->bearer_token) + sizeof "Bearer ";
        client->authorization = malloc(n);
        if (client->authorization) snprintf(client->authorization, n, "Bearer %s", options->bearer_token);
    }
    if (!client->host || !client->chunk || !client->label || (options->bearer_token && !client->authorization)) {
        free_client(client);
        error_set(error, DS_ERR_RESOURCE, "out of memory");
        return -1;
    }

    if (!client->plaintext && setup_tls(client, options, error) != 0) {
        ERR_clear_error();
        free_client(client);
        return -1;
    }

    struct addrinfo hints;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    char port_text[8];
    snprintf(port_text, sizeof port_text, "%u", (unsigned)options->port);
    int r = getaddrinfo(options->host, port_text, &hints, &client->addresses);
    if (r != 0) {
        error_set(error, DS_ERR_CONNECT, "cannot resolve %s: %s", options->host,
                  r == EAI_SYSTEM ? describe_errno(errno).text : gai_strerror(r));
        client->addresses = NULL;
        free_client(client);
        return -1;
    }
    client->next_address = client->addresses;
    if (start_next_address(client) != 0) {
        error_set(error, DS_ERR_CONNECT, "cannot connect to %s: %s", client->label,
                  describe_errno(client->last_connect_errno ? client->last_connect_errno : ECONNREFUSED).text);
        free_client(client);
        return -1;
    }
    if (client->connect_timeout_ms) client->connect_deadline_ms = now_ms() + client->connect_timeout_ms;
    *out = client;
    return 0;
}

int ds_is_ready(const ds_client *client) { return client && client->state == STATE_READY; }

int ds_fd(const ds_client *client) {
    if (!client || client->state == STATE_FAILED) return -1;
    return client->fd;
}

size_t ds_pending(const ds_client *client) { return client ? client->calls.count : 0; }

short ds_events(const ds_client *client) {
    if (!client) return 0;
    switch (client->state) {
    case STATE_CONNECTING:
        return POLLOUT;
    case STATE_HANDSHAKING:
        return (short)(POLLIN | (client->net_out.length ? POLLOUT : 0));
    case STATE_READY:
        return (short)(POLLIN | (client->net_out.length || client->plain_out.length ? POLLOUT : 0));
    case STATE_FAILED:
        return 0;
    }
    return 0;
}

int ds_timeout(const ds_client *client) {
    if (!client || client->state == STATE_FAILED) return -1;
    if (client->more_input) return 0;
    int64_t next = 0;
    if (client->state != STATE_READY && client->connect_deadline_ms) next = client->connect_deadline_ms;
    if (client->deadlines.length > 0) {
        int64_t d = client->deadlines.items[0]->deadline_ms;
        if (next == 0 || d < next) next = d;
    }
    if (next == 0) return -1;
    int64_t wait = next - now_ms();
    if (wait < 0) return 0;
    if (wait > INT_MAX) return INT_MAX;
    return (int)wait;
}

/* ------------------------------------------------------------------------------------------ */
/* Moving bytes                                                                                */

/* Moves OpenSSL's output into net_out. */
static bool drain_tls_output(ds_client *client) {
    size_t pending;
    while ((pending = BIO_ctrl_pending(client->wbio)) > 0) {
        if (!buffer_reserve(&client->net_out, pending)) {
            fail_connectionf(client, DS_ERR_RESOURCE, "out of memory");
            return false;
        }
        int n = BIO_read(client->wbio, buffer_tail(&client->net_out), (int)(pending > INT_MAX ? INT_MAX : pending));
        if (n <= 0) break;
        client->net_out.length += (size_t)n;
    }
    return true;
}

/* Sends what it can. Returns false when the connection failed; sets *progress when it sent. */
static bool flush_output(ds_client *client, buffer *out, bool *progress) {
    while (out->length > 0) {
        ssize_t n = send(client->fd, buffer_begin(out), out->length, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n > 0) {
            buffer_consume(out, (size_t)n);
            *progress = true;
            continue;
        }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
        fail_connectionf(client, DS_ERR_CLOSED, "cannot send to %s: %s%s%s", client->label,
                         n < 0 ? describe_errno(errno).text : "connection closed", client->server_goodbye[0] ? "; the server said " : "",
                         client->server_goodbye);
        return false;
    }
    return true;
}

/* Receives one chunk. Returns the byte count, 0 for nothing now (or end of stream: see eof),
 * -1 when the connection failed. */
static ssize_t receive_chunk(ds_client *client, uint8_t *into, size_t size) {
    for (;;) {
        ssize_t n = recv(client->fd, into, size, MSG_DONTWAIT);
        if (n > 0) return n;
        if (n == 0) {
            client->eof = true;
            return 0;
        }
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        fail_connectionf(client, DS_ERR_CLOSED, "cannot receive from %s: %s%s%s", client->label, describe_errno(errno).text,
                         client->server_goodbye[0] ? "; the server said " : "", client->server_goodbye);
        return -1;
    }
}

/* Handles one decoded ResponseFrame. */
static void handle_response(ds_client *client, Demandscreen__V1__ResponseFrame *frame) {
    if (frame->call_id == 0) {
        /* A connection-level error; the server closes the connection after it. */
        snprintf(client->server_goodbye, sizeof client->server_goodbye, "%s: %s",
                 ds_status_name(frame->status_code), frame->status_message ? frame->status_message : "");
        trim_utf8_tail(client->server_goodbye);
        return;
    }
    call *c = table_remove(&client->calls, frame->call_id);
    if (!c) return; /* already completed (its deadline passed here first), or never ours */
    heap_remove(&client->deadlines, c);
    if (frame->status_code == DS_STATUS_OK) {
        complete_call(client, c, NULL, frame->message.data, frame->message.len);
    } else {
        ds_error error;
        error.kind = DS_ERR_STATUS;
        error.status = frame->status_code;
        snprintf(error.message, sizeof error.message, "%s", frame->status_message ? frame->status_message : "");
        trim_utf8_tail(error.message);
        complete_call(client, c, &error, NULL, 0);
    }
}

/* Cuts whole frames out of plain_in and dispatches them. False when the connection failed. */
static bool dispatch_frames(ds_client *client) {
    while (client->state == STATE_READY && client->plain_in.length >= FRAME_HEADER_LENGTH) {
        const uint8_t *p = buffer_begin(&client->plain_in);
        uint8_t flags = p[0];
        uint32_t length = (uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | (uint32_t)p[4];
        if (flags & 0x01) {
            fail_connectionf(client, DS_ERR_PROTOCOL,
                             "protocol error from %s: a frame has the compressed flag (bit 0) set, but compression is not supported",
                             client->label);
            return false;
        }
        if (flags != 0) {
            fail_connectionf(client, DS_ERR_PROTOCOL,
                             "protocol error from %s: a frame's flags byte 0x%02x has reserved bits set",
                             client->label, flags);
            return false;
        }
        if (length > client->max_frame_bytes) {
            fail_connectionf(client, DS_ERR_PROTOCOL,
                             "protocol error from %s: a frame payload of %u bytes exceeds the maximum of %u bytes",
                             client->label, length, client->max_frame_bytes);
            return false;
        }
        if (client->plain_in.length - FRAME_HEADER_LENGTH < length) return true; /* not whole yet */
        Demandscreen__V1__ResponseFrame *frame =
            demandscreen__v1__response_frame__unpack(NULL, length, p + FRAME_HEADER_LENGTH);
        buffer_consume(&client->plain_in, FRAME_HEADER_LENGTH + (size_t)length);
        if (!frame) {
            fail_connectionf(client, DS_ERR_PROTOCOL,
                             "protocol error from %s: the server sent a frame that is not a ResponseFrame (%u bytes)",
                             client->label, length);
            return false;
        }
        handle_response(client, frame);
        demandscreen__v1__response_frame__free_unpacked(frame, NULL);
        if (client->close_requested) return true;
    }
    return client->state == STATE_READY;
}

/* Reads what OpenSSL has decrypted into plain_in. False when the connection failed. */
static bool read_tls_plaintext(ds_client *client) {
    for (;;) {
        if (!buffer_reserve(&client->plain_in, TLS_WRITE_CHUNK)) {
            fail_connectionf(client, DS_ERR_RESOURCE, "out of memory");
            return false;
        }
        ERR_clear_error();
        int n = SSL_read(client->ssl, buffer_tail(&client->plain_in), (int)TLS_WRITE_CHUNK);
        if (n > 0) {
            client->plain_in.length += (size_t)n;
            continue;
        }
        int reason = SSL_get_error(client->ssl, n);
        if (reason == SSL_ERROR_WANT_READ || reason == SSL_ERROR_WANT_WRITE) return true;
        if (reason == SSL_ERROR_ZERO_RETURN) {
            client->eof = true; /* close_notify */
            return true;
        }
        fail_tls(client, "TLS error on the connection to");
        return false;
    }
}

/* The end of the connection, once every whole frame before it has been dispatched. */
static void fail_at_eof(ds_client *client) {
    if (client->plain_in.length > 0) {
        fail_connectionf(client, DS_ERR_PROTOCOL,
                         "protocol error from %s: the connection ended in the middle of a frame (%zu bytes buffered)",
                         client->label, client->plain_in.length);
    } else if (client->server_goodbye[0]) {
        fail_connectionf(client, DS_ERR_CLOSED, "the server %s closed the connection: %s", client->label,
                         client->server_goodbye);
    } else {
        fail_connectionf(client, DS_ERR_CLOSED, "the server %s closed the connection", client->label);
    }
}

static void check_connect_deadline(ds_client *client) {
    if (client->state == STATE_READY || client->state == STATE_FAILED || !client->connect_deadline_ms) return;
    if (now_ms() < client->connect_deadline_ms) return;
    fail_connectionf(client, client->state == STATE_CONNECTING ? DS_ERR_CONNECT : DS_ERR_TLS,
                     "cannot connect to %s: no %s within %u ms", client->label,
                     client->state == STATE_CONNECTING ? "TCP connection" : "TLS handshake",
                     client->connect_timeout_ms);
}

/* One round of everything: connect, handshake, write, read, dispatch. */
static void pump(ds_client *client) {
    if (client->state == STATE_CONNECTING) {
        struct pollfd p = {.fd = client->fd, .events = POLLOUT, .revents = 0};
        int r = poll(&p, 1, 0);
        if (r <= 0) {
            check_connect_deadline(client);
            return;
        }
        int so_error = 0;
        socklen_t length = sizeof so_error;
        if (getsockopt(client->fd, SOL_SOCKET, SO_ERROR, &so_error, &length) != 0) so_error = errno;
        if (so_error != 0) {
            client->last_connect_errno = so_error;
            if (start_next_address(client) != 0) {
                fail_connectionf(client, DS_ERR_CONNECT, "cannot connect to %s: %s", client->label,
                                 describe_errno(client->last_connect_errno).text);
            }
            return;
        }
        client->state = client->plaintext ? STATE_READY : STATE_HANDSHAKING;
    }

    bool progress = true;
    uint8_t *chunk = client->chunk;
    size_t received = 0;
    client->more_input = false;
    while (progress && client->state != STATE_FAILED && !client->close_requested) {
        progress = false;
        if (client->state == STATE_HANDSHAKING) {
            ERR_clear_error();
            int r = SSL_do_handshake(client->ssl);
            if (!drain_tls_output(client)) return;
            if (r == 1) {
                client->state = STATE_READY;
                progress = true;
            } else {
                int reason = SSL_get_error(client->ssl, r);
                if (reason != SSL_ERROR_WANT_READ && reason != SSL_ERROR_WANT_WRITE) {
                    ds_error error;
                    tls_error(client, "TLS handshake with", &error);
                    /* Our alert, if any, goes out before the connection is given up. */
                    if (client->net_out.length > 0)
                        (void)send(client->fd, buffer_begin(&client->net_out), client->net_out.length,
                                   MSG_NOSIGNAL | MSG_DONTWAIT);
                    fail_connection(client, &error);
                    return;
                }
            }
        }
        if (client->state == STATE_READY && !client->plaintext) {
            /* Queued frames become TLS records, while the socket keeps up. */
            while (client->plain_out.length > 0 && client->net_out.length < NET_OUT_HIGH_WATER) {
                size_t n = client->plain_out.length < TLS_WRITE_CHUNK ? client->plain_out.length : TLS_WRITE_CHUNK;
                ERR_clear_error();
                int w = SSL_write(client->ssl, buffer_begin(&client->plain_out), (int)n);
                if (w <= 0) {
                    fail_tls(client, "TLS error on the connection to");
                    return;
                }
                buffer_consume(&client->plain_out, (size_t)w);
                if (!drain_tls_output(client)) return;
            }
        }
        buffer *out = client->plaintext ? &client->plain_out : &client->net_out;
        if (client->state == STATE_READY || client->state == STATE_HANDSHAKING) {
            if (!flush_output(client, out, &progress)) return;
        }

        if (client->eof) break;
        if (received >= READ_BUDGET) {
            client->more_input = true;
            break;
        }
        ssize_t n = receive_chunk(client, chunk, IO_CHUNK);
        if (n < 0) return;
        if (n > 0) {
            progress = true;
            received += (size_t)n;
            if (client->plaintext) {
                if (!buffer_reserve(&client->plain_in, (size_t)n)) {
                    fail_connectionf(client, DS_ERR_RESOURCE, "out of memory");
                    return;
                }
                memcpy(buffer_tail(&client->plain_in), chunk, (size_t)n);
                client->plain_in.length += (size_t)n;
            } else {
                size_t offset = 0;
                while (offset < (size_t)n) {
                    int w = BIO_write(client->rbio, chunk + offset, (int)((size_t)n - offset));
                    if (w <= 0) {
                        fail_connectionf(client, DS_ERR_RESOURCE, "out of memory");
                        return;
                    }
                    offset += (size_t)w;
                }
            }
        }
        if (client->state == STATE_READY) {
            if (!client->plaintext) {
                if (!read_tls_plaintext(client)) return;
                /* Reading may make TLS output (a key update's answer). */
                if (!drain_tls_output(client)) return;
            }
            if (!dispatch_frames(client)) return;
        }
    }
    if (client->state == STATE_FAILED || client->close_requested) return;
    if (client->eof) {
        if (client->state == STATE_READY) {
            if (!client->plaintext && !read_tls_plaintext(client)) return;
            if (!dispatch_frames(client) || client->close_requested) return;
            fail_at_eof(client);
        } else {
            fail_connectionf(client, DS_ERR_TLS, "TLS handshake with %s failed: the server closed the connection",
                             client->label);
        }
        return;
    }
    check_connect_deadline(client);
}

/* Completes the calls whose deadline has passed. */
static void expire_calls(ds_client *client) {
    if (client->deadlines.length == 0) return;
    int64_t now = now_ms();
    while (client->deadlines.length > 0 && !client->close_requested) {
        call *c = client->deadlines.items[0];
        if (c->deadline_ms > now) break;
        heap_remove(&client->deadlines, c);
        table_remove(&client->calls, c->id);
        ds_error error;
        error_set(&error, DS_ERR_DEADLINE, "the call's deadline of %u ms passed before %s answered", c->timeout_ms,
                  client->label);
        complete_call(client, c, &error, NULL, 0);
    }
}

static void close_now(ds_client *client) {
    if (client->state == STATE_READY && !client->plaintext && client->ssl) {
        /* close_notify, if the socket takes it now. */
        ERR_clear_error();
        if (SSL_shutdown(client->ssl) >= 0 && drain_tls_output(client)) {
            bool ignored = false;
            flush_output(client, &client->net_out, &ignored);
        }
        ERR_clear_error();
    }
    ds_error closed;
    error_set(&closed, DS_ERR_CLOSED, "the client was closed before the call was answered");
    client->close_requested = true; /* a ds_close() or a new call from these callbacks is refused */
    fail_all_calls(client, &closed);
    free_client(client);
}

void ds_close(ds_client *client) {
    if (!client) return;
    if (client->callback_depth > 0 || client->driving > 0) {
        client->close_requested = true;
        return;
    }
    close_now(client);
}

/* The end of a function that ran callbacks: performs a close requested from one of them. */
static int finish_driving(ds_client *client, int result, ds_error *error) {
    client->driving--;
    if (client->driving == 0 && client->close_requested) {
        close_now(client);
        error_set(error, DS_ERR_CLOSED, "the client was closed by a callback");
        return -1;
    }
    return result;
}

static int process(ds_client *client, ds_error *error) {
    if (client->state != STATE_FAILED && !client->close_requested) pump(client);
    if (client->state != STATE_FAILED && !client->close_requested) expire_calls(client);
    if (client->state == STATE_FAILED) {
        error_copy(error, &client->failure);
        return -1;
    }
    return 0;
}

static bool usage_in_callback(const ds_client *client, const char *function, ds_error *error) {
    if (client->callback_depth > 0) {
        error_set(error, DS_ERR_USAGE, "%s cannot be called from a callback", function);
        return true;
    }
    return false;
}

int ds_process(ds_client *client, ds_error *error) {
    error_clear(error);
    if (!client) {
        error_set(error, DS_ERR_USAGE, "ds_process: client is NULL");
        return -1;
    }
    if (usage_in_callback(client, "ds_process", error)) return -1;
    client->driving++;
    int result = process(client, error);
    return finish_driving(client, result, error);
}

/* Polls and processes until *done (or the connection fails, or `until_ms` passes: returns 1). */
static int drive(ds_client *client, const bool *done, int64_t until_ms, ds_error *error) {
    while (!(done && *done)) {
        if (client->state == STATE_FAILED) {
            error_copy(error, &client->failure);
            return -1;
        }
        if (client->close_requested) return -1;
        if (!done && client->calls.count == 0) return 0;
        int wait = ds_timeout(client);
        if (until_ms >= 0) {
            int64_t left = until_ms - now_ms();
            if (left <= 0) return 1;
            if (wait < 0 || left < wait) wait = left > INT_MAX ? INT_MAX : (int)left;
        }
        struct pollfd p = {.fd = client->fd, .events = ds_events(client), .revents = 0};
        int r = poll(&p, 1, wait);
        if (r < 0 && errno != EINTR) {
            fail_connectionf(client, DS_ERR_RESOURCE, "poll failed: %s", describe_errno(errno).text);
            continue;
        }
        if (process(client, error) != 0) return -1;
    }
    return 0;
}

int ds_connect(const ds_options *options, ds_client **out, ds_error *error) {
    if (out) *out = NULL;
    ds_client *client = NULL;
    if (ds_connect_start(options, &client, error) != 0) return -1;
    while (client->state != STATE_READY) {
        if (client->state == STATE_FAILED) break;
        int wait = ds_timeout(client);
        struct pollfd p = {.fd = client->fd, .events = ds_events(client), .revents = 0};
        int r = poll(&p, 1, wait);
        if (r < 0 && errno != EINTR) {
            fail_connectionf(client, DS_ERR_RESOURCE, "poll failed: %s", describe_errno(errno).text);
            break;
        }
        pump(client);
    }
    if (client->state != STATE_READY) {
        error_copy(error, &client->failure);
        free_client(client);
        return -1;
    }
    *out = client;
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Calls                                                                                       */

static int start_call(ds_client *client, const char *method, const uint8_t *request, size_t request_length,
                      uint32_t timeout_ms, call *c, uint64_t *call_id, ds_error *error) {
    if (client->close_requested) {
        error_set(error, DS_ERR_CLOSED, "the client is being closed");
        free(c);
        return -1;
    }
    if (client->state == STATE_FAILED) {
        error_copy(error, &client->failure);
        free(c);
        return -1;
    }
    if (!method || method[0] != '/') {
        error_set(error, DS_ERR_USAGE, "the method must be a full method name such as \"%s\"", DS_METHOD_SCREEN);
        free(c);
        return -1;
    }
    if (!request && request_length > 0) {
        error_set(error, DS_ERR_USAGE, "the request is NULL but its length is %zu", request_length);
        free(c);
        return -1;
    }
    c->id = client->next_call_id++;
    c->timeout_ms = timeout_ms;
    c->heap_index = SIZE_MAX;
    c->deadline_ms = timeout_ms ? now_ms() + (int64_t)timeout_ms : 0;

    Demandscreen__V1__RequestFrame frame = DEMANDSCREEN__V1__REQUEST_FRAME__INIT;
    Demandscreen__V1__RequestFrame__MetadataEntry authorization = DEMANDSCREEN__V1__REQUEST_FRAME__METADATA_ENTRY__INIT;
    Demandscreen__V1__RequestFrame__MetadataEntry *metadata[1] = {&authorization};
    frame.call_id = c->id;
    frame.method = (char *)method;
    frame.timeout_ms = timeout_ms;
    frame.message.data = (uint8_t *)request;
    frame.message.len = request_length;
    if (client->authorization) {
        authorization.key = (char *)"authorization";
        authorization.value = client->authorization;
        frame.n_metadata = 1;
        frame.metadata = metadata;
    }
    size_t size = demandscreen__v1__request_frame__get_packed_size(&frame);
    if (size > client->max_frame_bytes) {
        error_set(error, DS_ERR_USAGE, "the request frame of %zu bytes exceeds the maximum of %u bytes", size,
                  client->max_frame_bytes);
        free(c);
        return -1;
    }
    if (!buffer_reserve(&client->plain_out, FRAME_HEADER_LENGTH + size)) {
        error_set(error, DS_ERR_RESOURCE, "out of memory");
        free(c);
        return -1;
    }
    if (!table_insert(&client->calls, c)) {
        error_set(error, DS_ERR_RESOURCE, "out of memory");
        free(c);
        return -1;
    }
    if (c->deadline_ms && !heap_push(&client->deadlines, c)) {
        table_remove(&client->calls, c->id);
        error_set(error, DS_ERR_RESOURCE, "out of memory");
        free(c);
        return -1;
    }
    uint8_t *header = buffer_tail(&client->plain_out);
    header[0] = 0;
    header[1] = (uint8_t)(size >> 24);
    header[2] = (uint8_t)(size >> 16);
    header[3] = (uint8_t)(size >> 8);
    header[4] = (uint8_t)size;
    demandscreen__v1__request_frame__pack(&frame, header + FRAME_HEADER_LENGTH);
    client->plain_out.length += FRAME_HEADER_LENGTH + size;
    if (call_id) *call_id = c->id;
    return 0;
}

int ds_call_start(ds_client *client, const char *method, const uint8_t *request, size_t request_length,
                  uint32_t timeout_ms, ds_callback callback, void *user_data, uint64_t *call_id, ds_error *error) {
    error_clear(error);
    if (!client || !callback) {
        error_set(error, DS_ERR_USAGE, "ds_call_start: client and callback must not be NULL");
        return -1;
    }
    call *c = calloc(1, sizeof *c);
    if (!c) {
        error_set(error, DS_ERR_RESOURCE, "out of memory");
        return -1;
    }
    c->kind = CALL_RAW;
    c->raw_callback = callback;
    c->user_data = user_data;
    return start_call(client, method, request, request_length, timeout_ms, c, call_id, error);
}

int ds_screen_start(ds_client *client, const Demandscreen__V1__DemandRecord *record, uint32_t timeout_ms,
                    ds_screen_callback callback, void *user_data, uint64_t *call_id, ds_error *error) {
    error_clear(error);
    if (!client || !record || !callback) {
        error_set(error, DS_ERR_USAGE, "ds_screen_start: client, record and callback must not be NULL");
        return -1;
    }
    size_t size = demandscreen__v1__demand_record__get_packed_size(record);
    if (size > client->max_frame_bytes) {
        error_set(error, DS_ERR_USAGE, "the DemandRecord of %zu bytes exceeds the maximum frame of %u bytes", size,
                  client->max_frame_bytes);
        return -1;
    }
    uint8_t *bytes = malloc(size ? size : 1);
    call *c = calloc(1, sizeof *c);
    if (!bytes || !c) {
        free(bytes);
        free(c);
        error_set(error, DS_ERR_RESOURCE, "out of memory");
        return -1;
    }
    demandscreen__v1__demand_record__pack(record, bytes);
    c->kind = CALL_SCREEN;
    c->screen_callback = callback;
    c->user_data = user_data;
    int result = start_call(client, DS_METHOD_SCREEN, bytes, size, timeout_ms, c, call_id, error);
    free(bytes);
    return result;
}

int ds_wait(ds_client *client, int timeout_ms, ds_error *error) {
    error_clear(error);
    if (!client) {
        error_set(error, DS_ERR_USAGE, "ds_wait: client is NULL");
        return -1;
    }
    if (usage_in_callback(client, "ds_wait", error)) return -1;
    client->driving++;
    int64_t until = timeout_ms >= 0 ? now_ms() + timeout_ms : -1;
    int r = drive(client, NULL, until, error);
    if (r >= 0) r = (int)(client->calls.count > INT_MAX ? INT_MAX : client->calls.count);
    return finish_driving(client, r, error);
}

/* A blocking call's outcome, filled by its callback. */
typedef struct blocking_outcome {
    bool done;
    ds_error error;
    bool failed;
    uint8_t *response;
    size_t response_length;
    bool out_of_memory;
} blocking_outcome;

static void blocking_callback(void *user_data, uint64_t call_id, const ds_error *error, const uint8_t *response,
                              size_t response_length) {
    (void)call_id;
    blocking_outcome *outcome = user_data;
    outcome->done = true;
    if (error) {
        outcome->failed = true;
        outcome->error = *error;
        return;
    }
    outcome->response = malloc(response_length ? response_length : 1);
    if (!outcome->response) {
        outcome->out_of_memory = true;
        return;
    }
    if (response_length) memcpy(outcome->response, response, response_length);
    outcome->response_length = response_length;
}

int ds_call(ds_client *client, const char *method, const uint8_t *request, size_t request_length,
            uint32_t timeout_ms, uint8_t **response, size_t *response_length, ds_error *error) {
    error_clear(error);
    if (response) *response = NULL;
    if (response_length) *response_length = 0;
    if (!client || !response || !response_length) {
        error_set(error, DS_ERR_USAGE, "ds_call: client, response and response_length must not be NULL");
        return -1;
    }
    if (usage_in_callback(client, "ds_call", error)) return -1;
    blocking_outcome outcome;
    memset(&outcome, 0, sizeof outcome);
    if (ds_call_start(client, method, request, request_length, timeout_ms, blocking_callback, &outcome, NULL,
                      error) != 0)
        return -1;
    client->driving++;
    int r = drive(client, &outcome.done, -1, error);
    r = finish_driving(client, r, error);
    /* The call has completed in every case: drive() returns only when it has, or when the
     * connection failed or the client was closed (which complete every pending call). */
    if (!outcome.done) {
        if (r == 0) error_set(error, DS_ERR_CLOSED, "the call did not complete");
        return -1;
    }
    if (outcome.failed) {
        error_copy(error, &outcome.error);
        return -1;
    }
    if (outcome.out_of_memory) {
        error_set(error, DS_ERR_RESOURCE, "out of memory");
        return -1;
    }
    error_clear(error);
    *response = outcome.response;
    *response_length = outcome.response_length;
    return 0;
}

int ds_call_message(ds_client *client, const char *method, const ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *response_type, uint32_t timeout_ms, ProtobufCMessage **response,
                    ds_error *error) {
    error_clear(error);
    if (response) *response = NULL;
    if (!client || !request || !response_type || !response) {
        error_set(error, DS_ERR_USAGE, "ds_call_message: client, request, response_type and response must not be NULL");
        return -1;
    }
    size_t size = protobuf_c_message_get_packed_size(request);
    uint8_t *bytes = malloc(size ? size : 1);
    if (!bytes) {
        error_set(error, DS_ERR_RESOURCE, "out of memory");
        return -1;
    }
    protobuf_c_message_pack(request, bytes);
    uint8_t *answer = NULL;
    size_t answer_length = 0;
    int r = ds_call(client, method, bytes, size, timeout_ms, &answer, &answer_length, error);
    free(bytes);
    if (r != 0) return -1;
    ProtobufCMessage *message = protobuf_c_message_unpack(response_type, NULL, answer_length, answer);
    free(answer);
    if (!message) {
        error_set(error, DS_ERR_PROTOCOL, "the server's answer to %s is not a valid %s (%zu bytes)", method,
                  response_type->name, answer_length);
        return -1;
    }
    *response = message;
    return 0;
}

int ds_screen(ds_client *client, const Demandscreen__V1__DemandRecord *record, uint32_t timeout_ms,
              Demandscreen__V1__ScreeningResult **result, ds_error *error) {
    error_clear(error);
    if (result) *result = NULL;
    if (!record || !result) {
        error_set(error, DS_ERR_USAGE, "ds_screen: record and result must not be NULL");
        return -1;
    }
    ProtobufCMessage *message = NULL;
    if (ds_call_message(client, DS_METHOD_SCREEN, &record->base, &demandscreen__v1__screening_result__descriptor,
                        timeout_ms, &message, error) != 0)
        return -1;
    *result = (Demandscreen__V1__ScreeningResult *)message;
    return 0;
}

int ds_health_check(ds_client *client, const char *service, uint32_t timeout_ms,
                    Grpc__Health__V1__HealthCheckResponse__ServingStatus *status, ds_error *error) {
    error_clear(error);
    if (!status) {
        error_set(error, DS_ERR_USAGE, "ds_health_check: status must not be NULL");
        return -1;
    }
    *status = GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__UNKNOWN;
    Grpc__Health__V1__HealthCheckRequest request = GRPC__HEALTH__V1__HEALTH_CHECK_REQUEST__INIT;
    if (service) request.service = (char *)service;
    ProtobufCMessage *message = NULL;
    if (ds_call_message(client, DS_METHOD_HEALTH_CHECK, &request.base,
                        &grpc__health__v1__health_check_response__descriptor, timeout_ms, &message, error) != 0)
        return -1;
    *status = ((Grpc__Health__V1__HealthCheckResponse *)message)->status;
    protobuf_c_message_free_unpacked(message, NULL);
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Freeing                                                                                     */

void ds_free(void *pointer) { free(pointer); }

void ds_message_free(ProtobufCMessage *message) {
    if (message) protobuf_c_message_free_unpacked(message, NULL);
}

void ds_screening_result_free(Demandscreen__V1__ScreeningResult *result) {
    if (result) demandscreen__v1__screening_result__free_unpacked(result, NULL);
}
