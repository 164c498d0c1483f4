/*
 * demandscreen-c: screens DemandRecords through libdemandscreen and prints the results, as the
 * Swift CLI's `demandscreen screen` does. The example of the library's use:
 *
 *   - the non-blocking API under a poll() loop with a window of calls in flight (the default),
 *     or the blocking API one call at a time (--blocking);
 *   - records from protobuf JSON (a .json file holds one record; a .jsonl file or - holds one
 *     per line) mapped generically through protobuf-c's descriptors (pbjson.c), or from
 *     binary files of varint-length-delimited DemandRecords (--binary, or .bin / .pb files);
 *   - `encode` turns JSON records into such a binary file, without a server.
 *
 * Exit codes, as the Swift CLI: 0 success; 1 a record or call failed; 3 the server could not be
 * reached or the connection failed; 64 bad usage or an unreadable input file.
 */
#define _POSIX_C_SOURCE 200809L

#include "demandscreen_client.h"
#include "pbjson.h"

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EXIT_CALL_FAILED = 1, EXIT_UNREACHABLE = 3, EXIT_USAGE = 64 };

/* Varint-delimited records larger than this are refused (the server's frame limit is 4 MiB). */
#define MAX_BINARY_RECORD (64u * 1024u * 1024u)

typedef enum input_format { INPUT_AUTO, INPUT_BINARY } input_format;
typedef enum output_format { OUTPUT_JSON, OUTPUT_TEXT } output_format;

static struct settings {
    const char *server;
    const char *ca;
    const char *token;
    const char *token_file;
    const char *cert;
    const char *key;
    const char *server_name;
    const char *data_directory;
    bool tls12;
    bool insecure_plaintext;
    unsigned timeout_ms;
    unsigned in_flight;
    bool blocking;
    input_format input;
    output_format output;
} settings = {.timeout_ms = 10000, .in_flight = 64};

/* What the run has seen. */
static struct run {
    bool record_failed;      /* a record could not be read or its call failed */
    ds_client *client;
    unsigned long answered;
} run;

static void usage(FILE *to) {
    fprintf(to,
            "usage: demandscreen-c [options] screen FILE...   screen DemandRecords, print each result\n"
            "       demandscreen-c [options] health [SERVICE]  the gRPC health check (SERVING: exit 0)\n"
            "       demandscreen-c encode FILE... > OUT.bin     JSON records to varint-delimited binary\n"
            "\n"
            "FILE: a .json file holds one DemandRecord (protobuf JSON), a .jsonl file or - one per line;\n"
            "      .bin/.pb files (or any with --binary) hold varint-length-delimited binary records.\n"
            "options:\n"
            "  --server HOST:PORT     the server (default 127.0.0.1:7443)\n"
            "  --ca FILE              CA of the server's certificate (default DATA/dev-ca.pem)\n"
            "  --server-name NAME     name the certificate must carry (default: HOST)\n"
            "  --token TOKEN          bearer token (default: DATA/agent.token, unless --cert)\n"
            "  --token-file FILE      read the bearer token from FILE\n"
            "  --cert FILE --key FILE client certificate and key (mutual TLS)\n"
            "  --tls12                accept TLS 1.2 too (default: TLS 1.3 only)\n"
            "  --insecure-plaintext   no TLS (a daemon run with --insecure-plaintext)\n"
            "  --data-directory DIR   the daemon's data folder (default $DEMANDSCREEN_DATA_DIRECTORY,\n"
            "                         $XDG_DATA_HOME/demandscreen, ~/.local/share/demandscreen)\n"
            "  --timeout-ms N         each call's deadline (default 10000)\n"
            "  --in-flight N          calls in flight at once (default 64)\n"
            "  --blocking             one blocking call at a time instead\n"
            "  --binary               read every FILE as binary records\n"
            "  --format json|text     how results are printed (default json: one line each)\n");
}

static char *path_join(const char *directory, const char *name) {
    size_t n = strlen(directory) + strlen(name) + 2;
    char *path = malloc(n);
    if (path) snprintf(path, n, "%s/%s", directory, name);
    return path;
}

/* The data folder of the embedded default, as the Swift CLI finds it. Returns malloc'd text. */
static char *data_directory(void) {
    if (settings.data_directory) return strdup(settings.data_directory);
    const char *env = getenv("DEMANDSCREEN_DATA_DIRECTORY");
    if (env && *env) return strdup(env);
    env = getenv("XDG_DATA_HOME");
    if (env && *env) return path_join(env, "demandscreen");
    env = getenv("HOME");
    return path_join(env && *env ? env : ".", ".local/share/demandscreen");
}

/* The first line of a small file, trimmed; NULL when unreadable. */
static char *read_token(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    char line[4096];
    char *token = NULL;
    if (fgets(line, sizeof line, f)) {
        size_t n = strlen(line);
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' || line[n - 1] == '\t')) line[--n] = '\0';
        char *start = line;
        while (*start == ' ' || *start == '\t') start++;
        token = strdup(start);
    }
    fclose(f);
    return token;
}

static bool has_suffix(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* ------------------------------------------------------------------------------------------ */
/* Printing results                                                                            */

static const char *enum_name(const ProtobufCEnumDescriptor *d, int value) {
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    return v ? v->name : "UNKNOWN";
}

/* The Swift CLI's --format text. */
static void print_text(const Demandscreen__V1__ScreeningResult *r) {
    printf("%s: %s %s score=%.3f signals=[", r->record_id, enum_name(&demandscreen__v1__verdict__descriptor, r->verdict),
           enum_name(&demandscreen__v1__risk_level__descriptor, r->risk_level), r->legitimacy_score);
    for (size_t i = 0; i < r->n_signals; i++) {
        const char *severity = enum_name(&demandscreen__v1__severity__descriptor, r->signals[i]->severity);
        if (strncmp(severity, "SEVERITY_", 9) == 0) severity += 9;
        printf("%s%s(%s)", i ? ", " : "", enum_name(&demandscreen__v1__signal_kind__descriptor, r->signals[i]->kind), severity);
    }
    printf("] actions=[");
    for (size_t i = 0; i < r->n_actions; i++)
        printf("%s%s", i ? ", " : "", enum_name(&demandscreen__v1__action__descriptor, r->actions[i]));
    printf("]\n");
    const Demandscreen__V1__WrittenResponse *response = r->response;
    if (!response) return;
    printf("response %s (%s):\n  Subject: %s\n", response->template_id, response->language, response->subject);
    const char *line = response->body;
    for (;;) {
        const char *end = strchr(line, '\n');
        size_t n = end ? (size_t)(end - line) : strlen(line);
        if (n) printf("  %.*s", (int)n, line);
        printf("\n");
        if (!end) break;
        line = end + 1;
    }
    printf("agent notes:\n");
    for (size_t i = 0; i < response->n_agent_notes; i++) printf("  - %s\n", response->agent_notes[i]);
}

static void print_result(const Demandscreen__V1__ScreeningResult *result) {
    if (settings.output == OUTPUT_TEXT) {
        print_text(result);
    } else {
        char *json = pbjson_render(&result->base);
        if (json) printf("%s\n", json);
        else fprintf(stderr, "demandscreen-c: out of memory rendering %s\n", result->record_id);
        free(json);
    }
    fflush(stdout);
}

/* ------------------------------------------------------------------------------------------ */
/* Reading records                                                                             */

/* Where a record came from, for messages; also the non-blocking call's user data. */
typedef struct origin {
    char *file;
    unsigned long line; /* JSON: the line; binary: the record's number */
    char *record_id;
} origin;

static void origin_free(origin *o) {
    if (!o) return;
    free(o->file);
    free(o->record_id);
    free(o);
}

static void report_record_error(const origin *o, const ds_error *error) {
    fprintf(stderr, "%s:%lu: record '%s': %s: %s\n", o->file, o->line, o->record_id, ds_status_name(error->status),
            error->message);
    run.record_failed = true;
}

/* Called for each record read; returns false to stop reading (the connection failed). */
typedef bool (*record_sink)(Demandscreen__V1__DemandRecord *record, const char *file, unsigned long line);

/* Reads a whole stream into memory. */
static char *slurp(FILE *f, size_t *length) {
    size_t capacity = 1 << 16, n = 0;
    char *text = malloc(capacity);
    if (!text) return NULL;
    for (;;) {
        if (n == capacity) {
            char *bigger = realloc(text, capacity * 2);
            if (!bigger) {
                free(text);
                return NULL;
            }
            text = bigger;
            capacity *= 2;
        }
        size_t got = fread(text + n, 1, capacity - n, f);
        n += got;
        if (got == 0) break;
    }
    if (ferror(f)) {
        free(text);
        return NULL;
    }
    *length = n;
    return text;
}

static bool read_json_records(FILE *f, const char *name, bool lines, record_sink sink) {
    char error[512];
    if (!lines) {
        size_t length = 0;
        char *text = slurp(f, &length);
        if (!text) {
            fprintf(stderr, "%s: cannot read: %s\n", name, strerror(errno));
            run.record_failed = true;
            return true;
        }
        ProtobufCMessage *m = pbjson_parse(&demandscreen__v1__demand_record__descriptor, text, length, error, sizeof error);
        free(text);
        if (!m) {
            fprintf(stderr, "%s:1: %s\n", name, error);
            run.record_failed = true;
            return true;
        }
        return sink((Demandscreen__V1__DemandRecord *)m, name, 1);
    }
    char *line = NULL;
    size_t capacity = 0;
    ssize_t n;
    unsigned long number = 0;
    bool go_on = true;
    while (go_on && (n = getline(&line, &capacity, f)) >= 0) {
        number++;
        size_t start = 0, end = (size_t)n;
        while (start < end && (line[start] == ' ' || line[start] == '\t' || line[start] == '\r' || line[start] == '\n')) start++;
        while (end > start && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r' || line[end - 1] == '\n')) end--;
        if (start == end) continue;
        ProtobufCMessage *m = pbjson_parse(&demandscreen__v1__demand_record__descriptor, line + start, end - start, error,
                                           sizeof error);
        if (!m) {
            fprintf(stderr, "%s:%lu: %s\n", name, number, error);
            run.record_failed = true;
            continue;
        }
        go_on = sink((Demandscreen__V1__DemandRecord *)m, name, number);
    }
    free(line);
    return go_on;
}

/* Varint-length-delimited DemandRecords (protobuf's writeDelimitedTo). */
static bool read_binary_records(FILE *f, const char *name, record_sink sink) {
    unsigned long number = 0;
    unsigned long long offset = 0;
    for (;;) {
        uint64_t length = 0;
        int shift = 0, c;
        size_t varint_bytes = 0;
        while ((c = fgetc(f)) != EOF) {
            varint_bytes++;
            if (shift >= 64) break;
            length |= (uint64_t)(c & 0x7F) << shift;
            shift += 7;
            if (!(c & 0x80)) break;
        }
        if (c == EOF && varint_bytes == 0) return true; /* the end, between records */
        number++;
        if (c == EOF) {
            fprintf(stderr, "%s: record %lu at byte %llu: the file ends in the length\n", name, number, offset);
            run.record_failed = true;
            return true;
        }
        if ((c & 0x80) || length > MAX_BINARY_RECORD) {
            fprintf(stderr, "%s: record %lu at byte %llu: bad length prefix\n", name, number, offset);
            run.record_failed = true;
            return true;
        }
        uint8_t *bytes = malloc(length ? (size_t)length : 1);
        if (!bytes) {
            fprintf(stderr, "%s: out of memory\n", name);
            run.record_failed = true;
            return true;
        }
        if (fread(bytes, 1, (size_t)length, f) != (size_t)length) {
            fprintf(stderr, "%s: record %lu at byte %llu: the file ends inside the record (%llu bytes announced)\n", name,
                    number, offset, (unsigned long long)length);
            free(bytes);
            run.record_failed = true;
            return true;
        }
        Demandscreen__V1__DemandRecord *record = demandscreen__v1__demand_record__unpack(NULL, (size_t)length, bytes);
        free(bytes);
        if (!record) {
            fprintf(stderr, "%s: record %lu at byte %llu: not a DemandRecord\n", name, number, offset);
            run.record_failed = true;
        } else if (!sink(record, name, number)) {
            return false;
        }
        offset += varint_bytes + length;
    }
}

/* Reads every record of `path`; returns false when it cannot be opened (usage error). */
static bool read_records(const char *path, record_sink sink, bool *stop) {
    bool is_stdin = strcmp(path, "-") == 0;
    FILE *f = is_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "demandscreen-c: cannot read %s: %s\n", path, strerror(errno));
        return false;
    }
    bool binary = settings.input == INPUT_BINARY || has_suffix(path, ".bin") || has_suffix(path, ".pb") ||
                  has_suffix(path, ".binpb");
    bool lines = is_stdin || has_suffix(path, ".jsonl") || has_suffix(path, ".ndjson");
    bool go_on = binary ? read_binary_records(f, path, sink) : read_json_records(f, path, lines, sink);
    if (!is_stdin) fclose(f);
    if (!go_on) *stop = true;
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* encode                                                                                      */

static bool encode_sink(Demandscreen__V1__DemandRecord *record, const char *file, unsigned long line) {
    (void)file;
    (void)line;
    size_t size = demandscreen__v1__demand_record__get_packed_size(record);
    uint8_t *bytes = malloc(size ? size : 1);
    if (bytes) {
        demandscreen__v1__demand_record__pack(record, bytes);
        uint8_t prefix[10];
        size_t n = 0;
        uint64_t v = size;
        do {
            prefix[n] = (uint8_t)(v & 0x7F);
            v >>= 7;
            if (v) prefix[n] |= 0x80;
            n++;
        } while (v);
        fwrite(prefix, 1, n, stdout);
        fwrite(bytes, 1, size, stdout);
        free(bytes);
    }
    demandscreen__v1__demand_record__free_unpacked(record, NULL);
    return true;
}

/* ------------------------------------------------------------------------------------------ */
/* screen                                                                                      */

static bool connection_failed;
static ds_error connection_error;

static void on_result(void *user_data, uint64_t call_id, const ds_error *error, Demandscreen__V1__ScreeningResult *result) {
    (void)call_id;
    origin *o = user_data;
    run.answered++;
    if (result) {
        print_result(result);
        ds_screening_result_free(result);
    } else if (error->kind == DS_ERR_STATUS || error->kind == DS_ERR_DEADLINE || ds_is_ready(run.client)) {
        report_record_error(o, error); /* this call alone failed */
    } else {
        run.record_failed = true; /* the connection failed: reported once, by main */
    }
    origin_free(o);
}

/* One poll() and ds_process(): the whole event loop of a host with nothing else to do. */
static bool step(void) {
    struct pollfd p = {.fd = ds_fd(run.client), .events = ds_events(run.client), .revents = 0};
    if (poll(&p, 1, ds_timeout(run.client)) < 0 && errno != EINTR) {
        perror("poll");
        return false;
    }
    if (ds_process(run.client, &connection_error) != 0) {
        connection_failed = true;
        return false;
    }
    return true;
}

static bool screen_sink(Demandscreen__V1__DemandRecord *record, const char *file, unsigned long line) {
    bool go_on = true;
    origin *o = calloc(1, sizeof *o);
    if (o) {
        o->file = strdup(file);
        o->line = line;
        o->record_id = strdup(record->record_id ? record->record_id : "");
    }
    if (!o || !o->file || !o->record_id) {
        fprintf(stderr, "demandscreen-c: out of memory\n");
        origin_free(o);
        demandscreen__v1__demand_record__free_unpacked(record, NULL);
        run.record_failed = true;
        return false;
    }
    ds_error error;
    if (settings.blocking) {
        Demandscreen__V1__ScreeningResult *result = NULL;
        if (ds_screen(run.client, record, settings.timeout_ms, &result, &error) == 0) {
            print_result(result);
            ds_screening_result_free(result);
        } else if (error.kind == DS_ERR_STATUS || error.kind == DS_ERR_DEADLINE || ds_is_ready(run.client)) {
            report_record_error(o, &error);
        } else {
            connection_failed = true;
            connection_error = error;
            go_on = false;
        }
        origin_free(o);
    } else {
        /* Keep at most in_flight calls outstanding: wait for answers before sending more. */
        while (go_on && ds_pending(run.client) >= settings.in_flight) go_on = step();
        if (go_on && ds_screen_start(run.client, record, settings.timeout_ms, on_result, o, NULL, &error) != 0) {
            if (error.kind == DS_ERR_USAGE) {
                report_record_error(o, &error); /* e.g. a record larger than a frame */
            } else {
                connection_failed = true;
                connection_error = error;
                go_on = false;
            }
            origin_free(o);
        } else if (!go_on) {
            origin_free(o);
        }
    }
    demandscreen__v1__demand_record__free_unpacked(record, NULL);
    return go_on;
}

static int connect_client(void) {
    char *directory = data_directory();
    char *ca = NULL, *token = NULL;
    if (!directory) {
        fprintf(stderr, "demandscreen-c: out of memory\n");
        return EXIT_UNREACHABLE;
    }
    ds_options options;
    ds_options_init(&options);

    /* host:port, [v6]:port */
    const char *server = settings.server ? settings.server : "127.0.0.1:7443";
    char host[256];
    const char *colon = strrchr(server, ':');
    char *end = NULL;
    unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
    size_t host_length = colon ? (size_t)(colon - server) : 0;
    if (host_length > 1 && server[0] == '[' && server[host_length - 1] == ']') {
        server++;
        host_length -= 2;
    }
    if (!colon || !end || *end || port == 0 || port > 65535 || host_length == 0 || host_length >= sizeof host) {
        fprintf(stderr, "demandscreen-c: --server must be host:port, got '%s'\n", settings.server);
        free(directory);
        return EXIT_USAGE;
    }
    memcpy(host, server, host_length);
    host[host_length] = '\0';
    options.host = host;
    options.port = (uint16_t)port;

    if (!settings.insecure_plaintext) {
        ca = settings.ca ? strdup(settings.ca) : path_join(directory, "dev-ca.pem");
        options.ca_file = ca;
    }
    options.server_name = settings.server_name;
    options.client_cert_file = settings.cert;
    options.client_key_file = settings.key;
    options.min_tls_version = settings.tls12 ? DS_TLS_1_2 : DS_TLS_1_3;
    options.insecure_plaintext = settings.insecure_plaintext;
    if (settings.token) {
        token = strdup(settings.token);
    } else if (settings.token_file) {
        token = read_token(settings.token_file);
        if (!token) {
            fprintf(stderr, "demandscreen-c: cannot read the token file %s: %s\n", settings.token_file, strerror(errno));
            free(directory);
            free(ca);
            return EXIT_USAGE;
        }
    } else if (!settings.cert) {
        char *path = path_join(directory, "agent.token");
        if (path) token = read_token(path);
        free(path);
    }
    options.bearer_token = token;

    ds_error error;
    int status = 0;
    if (ds_connect(&options, &run.client, &error) != 0) {
        fprintf(stderr, "demandscreen-c: %s\n", error.message);
        status = error.kind == DS_ERR_USAGE || error.kind == DS_ERR_CONFIG ? EXIT_USAGE : EXIT_UNREACHABLE;
    }
    if (token) memset(token, 0, strlen(token));
    free(token);
    free(ca);
    free(directory);
    return status;
}

static int command_screen(int count, char **files) {
    if (count == 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int status = connect_client();
    if (status != 0) return status;
    bool stop = false, unreadable = false;
    for (int i = 0; i < count && !stop; i++) {
        if (!read_records(files[i], screen_sink, &stop)) unreadable = true;
    }
    while (!connection_failed && ds_pending(run.client) > 0) step();
    ds_close(run.client);
    run.client = NULL;
    if (connection_failed) {
        fprintf(stderr, "demandscreen-c: %s\n", connection_error.message);
        return EXIT_UNREACHABLE;
    }
    if (unreadable) return EXIT_USAGE;
    return run.record_failed ? EXIT_CALL_FAILED : 0;
}

static int command_health(int count, char **arguments) {
    if (count > 1) {
        usage(stderr);
        return EXIT_USAGE;
    }
    int status = connect_client();
    if (status != 0) return status;
    Grpc__Health__V1__HealthCheckResponse__ServingStatus serving;
    ds_error error;
    int r = ds_health_check(run.client, count ? arguments[0] : "", settings.timeout_ms, &serving, &error);
    ds_close(run.client);
    run.client = NULL;
    if (r != 0) {
        fprintf(stderr, "demandscreen-c: %s: %s\n", ds_status_name(error.status), error.message);
        return error.kind == DS_ERR_STATUS || error.kind == DS_ERR_DEADLINE ? EXIT_CALL_FAILED : EXIT_UNREACHABLE;
    }
    bool up = serving == GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING;
    printf("%s\n", up ? "SERVING" : "NOT_SERVING");
    return up ? 0 : EXIT_CALL_FAILED;
}

static int command_encode(int count, char **files) {
    if (count == 0) {
        usage(stderr);
        return EXIT_USAGE;
    }
    bool stop = false, unreadable = false;
    for (int i = 0; i < count; i++)
        if (!read_records(files[i], encode_sink, &stop)) unreadable = true;
    if (fflush(stdout) != 0) {
        perror("demandscreen-c: stdout");
        return EXIT_CALL_FAILED;
    }
    if (unreadable) return EXIT_USAGE;
    return run.record_failed ? EXIT_CALL_FAILED : 0;
}

static bool parse_unsigned(const char *text, unsigned *out, unsigned minimum) {
    char *end = NULL;
    errno = 0;
    unsigned long v = strtoul(text, &end, 10);
    if (errno || !*text || *end || v < minimum || v > 0xFFFFFFFFul || text[0] == '-') return false;
    *out = (unsigned)v;
    return true;
}

int main(int argc, char **argv) {
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *option = argv[i];
        const char *value = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes_value = true;
        if (strcmp(option, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(option, "--tls12") == 0) {
            settings.tls12 = true, takes_value = false;
        } else if (strcmp(option, "--insecure-plaintext") == 0) {
            settings.insecure_plaintext = true, takes_value = false;
        } else if (strcmp(option, "--blocking") == 0) {
            settings.blocking = true, takes_value = false;
        } else if (strcmp(option, "--binary") == 0) {
            settings.input = INPUT_BINARY, takes_value = false;
        } else if (!value) {
            fprintf(stderr, "demandscreen-c: %s needs a value\n", option);
            return EXIT_USAGE;
        } else if (strcmp(option, "--server") == 0) {
            settings.server = value;
        } else if (strcmp(option, "--ca") == 0) {
            settings.ca = value;
        } else if (strcmp(option, "--server-name") == 0) {
            settings.server_name = value;
        } else if (strcmp(option, "--token") == 0) {
            settings.token = value;
        } else if (strcmp(option, "--token-file") == 0) {
            settings.token_file = value;
        } else if (strcmp(option, "--cert") == 0) {
            settings.cert = value;
        } else if (strcmp(option, "--key") == 0) {
            settings.key = value;
        } else if (strcmp(option, "--data-directory") == 0) {
            settings.data_directory = value;
        } else if (strcmp(option, "--timeout-ms") == 0) {
            if (!parse_unsigned(value, &settings.timeout_ms, 0)) {
                fprintf(stderr, "demandscreen-c: --timeout-ms must be a number of milliseconds\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(option, "--in-flight") == 0) {
            if (!parse_unsigned(value, &settings.in_flight, 1)) {
                fprintf(stderr, "demandscreen-c: --in-flight must be at least 1\n");
                return EXIT_USAGE;
            }
        } else if (strcmp(option, "--format") == 0) {
            if (strcmp(value, "json") == 0) settings.output = OUTPUT_JSON;
            else if (strcmp(value, "text") == 0) settings.output = OUTPUT_TEXT;
            else {
                fprintf(stderr, "demandscreen-c: --format must be json or text\n");
                return EXIT_USAGE;
            }
        } else {
            fprintf(stderr, "demandscreen-c: unknown option %s\n", option);
            usage(stderr);
            return EXIT_USAGE;
        }
        if (takes_value) i++;
    }
    if ((settings.cert == NULL) != (settings.key == NULL)) {
        fprintf(stderr, "demandscreen-c: --cert and --key go together\n");
        return EXIT_USAGE;
    }
    if (i >= argc) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *command = argv[i++];
    if (strcmp(command, "screen") == 0) return command_screen(argc - i, argv + i);
    if (strcmp(command, "health") == 0) return command_health(argc - i, argv + i);
    if (strcmp(command, "encode") == 0) return command_encode(argc - i, argv + i);
    fprintf(stderr, "demandscreen-c: unknown command '%s'\n", command);
    usage(stderr);
    return EXIT_USAGE;
}
