/*
 * client_test: checks libdemandscreen against a real daemon or the fake server (fake_server.py),
 * one case per run, driven by test/interop.sh. Prints "ok - ..." and exits 0 when the case
 * holds, prints "not ok - ..." with the reason and exits 1 when it does not.
 *
 * usage: client_test [connection options] CASE ARGS...
 *   pipeline DEPTH COUNT PREFIX   COUNT Screen calls, DEPTH in flight, each answer matched to its
 *                                 record by call id; then blocking calls on the same connection
 *   expect-connect-fail KIND TEXT ds_connect() fails with KIND and a message containing TEXT
 *   expect-call-fail KIND STATUS TEXT CALLS MAX_MS [still-ready]
 *                                 CALLS pipelined Screen calls all fail with KIND/STATUS/TEXT,
 *                                 within MAX_MS; then a blocking call fails the same way
 *                                 (connection failures) or the connection is still ready
 *   expect-screen-ok RECORD_ID    one Screen call answers a result for RECORD_ID
 *   expect-matched CALLS          CALLS raw calls, answered (by the fake) out of order with
 *                                 status messages "call N": each callback gets its own
 *   api                           usage errors, close with calls pending, close from a
 *                                 callback, health (needs a real daemon)
 * connection options: --host H --port P --ca F --token T --cert F --key F --server-name N
 *   --tls12 --no-verify --plaintext --timeout-ms N --connect-timeout-ms N
 *   --record-kb N (each record also carries an agent utterance of N KiB)
 */
#define _POSIX_C_SOURCE 200809L

#include "demandscreen_client.h"

#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static ds_options options;
static unsigned timeout_ms = 10000;
static unsigned record_kb; /* --record-kb: a second utterance of this many KiB */
static const char *case_name = "";

static int64_t now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

#if defined(__GNUC__)
__attribute__((format(printf, 1, 2), noreturn))
#endif
static void fail(const char *format, ...) {
    va_list arguments;
    va_start(arguments, format);
    printf("not ok - %s: ", case_name);
    vprintf(format, arguments);
    printf("\n");
    va_end(arguments);
    exit(1);
}

static ds_error_kind kind_named(const char *name) {
    for (int k = DS_ERR_NONE; k <= DS_ERR_STATUS; k++)
        if (strcmp(ds_error_kind_name((ds_error_kind)k), name) == 0) return (ds_error_kind)k;
    fail("unknown error kind '%s'", name);
}

static bool error_matches(const ds_error *e, ds_error_kind kind, long status, const char *text) {
    return e->kind == kind && (status < 0 || e->status == (uint32_t)status) && strstr(e->message, text) != NULL;
}

/* One poll() + ds_process(); false once the connection has failed. */
static bool step(ds_client *client, ds_error *error) {
    struct pollfd p = {.fd = ds_fd(client), .events = ds_events(client), .revents = 0};
    poll(&p, 1, ds_timeout(client));
    return ds_process(client, error) == 0;
}

/* A small record; `n` varies its language and its words. */
static Demandscreen__V1__DemandRecord *make_record(const char *record_id, unsigned n) {
    static const char *const texts[][2] = {
        {"en", "My order arrived broken. Please send a replacement."},
        {"ja", "届いた商品が壊れていました。交換をお願いします。"},
        {"en", "Refund me now or I will post your staff's names online."},
        {"ja", "誠意を見せろ。土下座しないならネットに晒すぞ。"},
    };
    Demandscreen__V1__DemandRecord *r = malloc(sizeof *r);
    Demandscreen__V1__Utterance *u = malloc(sizeof *u);
    Demandscreen__V1__Utterance **list = malloc(2 * sizeof *list);
    Demandscreen__V1__Incident *incident = malloc(sizeof *incident);
    char *claimant = malloc(strlen(record_id) + 4);
    char *product = malloc(strlen(record_id) + 4);
    if (!r || !u || !list || !incident || !claimant || !product) fail("out of memory");
    demandscreen__v1__demand_record__init(r);
    demandscreen__v1__utterance__init(u);
    demandscreen__v1__incident__init(incident);
    sprintf(claimant, "cl-%s", record_id);
    sprintf(product, "pk-%s", record_id);
    r->record_id = (char *)record_id;
    r->claimant_id = claimant;
    r->channel = DEMANDSCREEN__V1__CHANNEL__CHANNEL_PHONE;
    r->language = (char *)texts[n % 4][0];
    u->speaker = DEMANDSCREEN__V1__SPEAKER__SPEAKER_CUSTOMER;
    u->text = (char *)texts[n % 4][1];
    list[0] = u;
    r->n_utterances = 1;
    r->utterances = list;
    if (record_kb) {
        Demandscreen__V1__Utterance *filler = malloc(sizeof *filler);
        size_t size = (size_t)record_kb * 1024;
        char *text = malloc(size + 1);
        if (!filler || !text) fail("out of memory");
        demandscreen__v1__utterance__init(filler);
        for (size_t k = 0; k < size; k++) text[k] = "The box was fine otherwise. "[k % 28];
        text[size] = '\0';
        filler->speaker = DEMANDSCREEN__V1__SPEAKER__SPEAKER_AGENT;
        filler->text = text;
        list[1] = filler;
        r->n_utterances = 2;
    }
    incident->category = DEMANDSCREEN__V1__INCIDENT_CATEGORY__INCIDENT_PRODUCT_DEFECT;
    incident->description = (char *)"broken item";
    incident->product_key = product;
    r->incident = incident;
    return r;
}

/* Frees what make_record() allocated (not record_id, which the caller owns). */
static void free_record(Demandscreen__V1__DemandRecord *r) {
    if (r->n_utterances == 2) {
        free(r->utterances[1]->text);
        free(r->utterances[1]);
    }
    free(r->utterances[0]);
    free(r->utterances);
    free(r->incident->product_key);
    free(r->incident);
    free(r->claimant_id);
    free(r);
}

static int connect_or_fail(ds_client **client) {
    ds_error error;
    if (ds_connect(&options, client, &error) != 0)
        fail("ds_connect: %s (%s, %s)", error.message, ds_error_kind_name(error.kind), ds_status_name(error.status));
    return 0;
}

/* ------------------------------------------------------------------------------------------ */
/* pipeline                                                                                    */

typedef struct expected {
    char record_id[64];
    uint64_t call_id;
    bool answered;
} expected;

static struct pipeline_state {
    unsigned answered;
    unsigned out_of_order;
    uint64_t last_call_id;
    bool failed;
    char failure[600];
} pipeline;

static void on_pipelined(void *user_data, uint64_t call_id, const ds_error *error, Demandscreen__V1__ScreeningResult *result) {
    expected *e = user_data;
    if (e->answered && !pipeline.failed) {
        pipeline.failed = true;
        snprintf(pipeline.failure, sizeof pipeline.failure, "call %" PRIu64 " answered twice", call_id);
    }
    e->answered = true;
    pipeline.answered++;
    if (call_id < pipeline.last_call_id) pipeline.out_of_order++;
    pipeline.last_call_id = call_id;
    if (call_id != e->call_id && !pipeline.failed) {
        pipeline.failed = true;
        snprintf(pipeline.failure, sizeof pipeline.failure, "callback for call %" PRIu64 " got the user data of call %" PRIu64,
                 call_id, e->call_id);
    }
    if (error && !pipeline.failed) {
        pipeline.failed = true;
        snprintf(pipeline.failure, sizeof pipeline.failure, "call %" PRIu64 " (%s) failed: %s: %s", call_id, e->record_id,
                 ds_status_name(error->status), error->message);
    }
    if (result && strcmp(result->record_id, e->record_id) != 0 && !pipeline.failed) {
        pipeline.failed = true;
        snprintf(pipeline.failure, sizeof pipeline.failure, "call %" PRIu64 " for %s was answered with the result of %s",
                 call_id, e->record_id, result->record_id);
    }
    if (result && result->verdict == DEMANDSCREEN__V1__VERDICT__VERDICT_UNSPECIFIED && !pipeline.failed) {
        pipeline.failed = true;
        snprintf(pipeline.failure, sizeof pipeline.failure, "%s has no verdict", e->record_id);
    }
    ds_screening_result_free(result);
}

static void start_screen(ds_client *client, expected *e, unsigned n) {
    Demandscreen__V1__DemandRecord *record = make_record(e->record_id, n);
    ds_error error;
    if (ds_screen_start(client, record, timeout_ms, on_pipelined, e, &e->call_id, &error) != 0)
        fail("ds_screen_start: %s", error.message);
    free_record(record);
}

static void case_pipeline(unsigned depth, unsigned count, const char *prefix) {
    ds_client *client;
    connect_or_fail(&client);
    expected *all = calloc(count, sizeof *all);
    if (!all) fail("out of memory");
    for (unsigned i = 0; i < count; i++) snprintf(all[i].record_id, sizeof all[i].record_id, "%s-%04u", prefix, i);

    /* A burst of DEPTH calls before anything is read, then a window of DEPTH. */
    unsigned started = 0;
    size_t most_pending = 0;
    ds_error error;
    while (started < count && started < depth) start_screen(client, &all[started], started), started++;
    if (ds_pending(client) != started) fail("ds_pending() is %zu after %u starts", ds_pending(client), started);
    int64_t began = now_ms();
    while (pipeline.answered < count) {
        if (ds_pending(client) > most_pending) most_pending = ds_pending(client);
        if (!step(client, &error)) fail("the connection failed: %s", error.message);
        while (started < count && ds_pending(client) < depth) start_screen(client, &all[started], started), started++;
        if (now_ms() - began > 60000) fail("not all answered after 60 s (%u of %u)", pipeline.answered, count);
    }
    if (pipeline.failed) fail("%s", pipeline.failure);
    for (unsigned i = 0; i < count; i++)
        if (!all[i].answered) fail("%s was never answered", all[i].record_id);
    if (most_pending != depth && count >= depth) fail("at most %zu calls were in flight, not %u", most_pending, depth);
    if (ds_pending(client) != 0) fail("%zu calls still pending", ds_pending(client));
    printf("# %u calls, %zu in flight at most, %u answered out of call-id order, %" PRId64 " ms\n", count, most_pending,
           pipeline.out_of_order, now_ms() - began);

    /* The blocking API on the same connection: pipelining through ds_wait(), then one call. */
    memset(&pipeline, 0, sizeof pipeline);
    unsigned burst = depth < count ? depth : count;
    for (unsigned i = 0; i < burst; i++) {
        all[i].answered = false;
        snprintf(all[i].record_id, sizeof all[i].record_id, "%s-w%04u", prefix, i);
        start_screen(client, &all[i], i);
    }
    int left = ds_wait(client, 30000, &error);
    if (left != 0) fail("ds_wait returned %d: %s", left, error.message);
    if (pipeline.failed) fail("%s", pipeline.failure);
    if (pipeline.answered != burst) fail("ds_wait: %u of %u answered", pipeline.answered, burst);

    char id[64];
    snprintf(id, sizeof id, "%s-blocking", prefix);
    Demandscreen__V1__DemandRecord *record = make_record(id, 3);
    Demandscreen__V1__ScreeningResult *result = NULL;
    if (ds_screen(client, record, timeout_ms, &result, &error) != 0) fail("ds_screen: %s", error.message);
    if (strcmp(result->record_id, id) != 0) fail("ds_screen answered %s for %s", result->record_id, id);
    if (result->verdict != DEMANDSCREEN__V1__VERDICT__VERDICT_UNJUST_DEMAND)
        fail("ds_screen: a threat of exposure was judged %d", result->verdict);
    ds_screening_result_free(result);
    free_record(record);
    Grpc__Health__V1__HealthCheckResponse__ServingStatus serving;
    if (ds_health_check(client, "demandscreen.v1.Screening", timeout_ms, &serving, &error) != 0)
        fail("ds_health_check: %s", error.message);
    if (serving != GRPC__HEALTH__V1__HEALTH_CHECK_RESPONSE__SERVING_STATUS__SERVING) fail("health is %d", serving);
    ds_close(client);
    free(all);
    printf("ok - %s: %u pipelined calls at depth %u matched by call id; ds_wait, ds_screen, ds_health_check\n", case_name,
           count, depth);
}

/* ------------------------------------------------------------------------------------------ */
/* Expected failures                                                                           */

static void case_expect_connect_fail(const char *kind_name, const char *text) {
    ds_error_kind kind = kind_named(kind_name);
    ds_client *client = (ds_client *)&options; /* must be reset to NULL */
    ds_error error;
    int64_t began = now_ms();
    if (ds_connect(&options, &client, &error) == 0) {
        ds_close(client);
        fail("ds_connect succeeded");
    }
    if (client != NULL) fail("ds_connect failed but left *client set");
    if (!error_matches(&error, kind, -1, text))
        fail("expected %s containing '%s', got %s: %s", kind_name, text, ds_error_kind_name(error.kind), error.message);
    printf("ok - %s: %s (%s) after %" PRId64 " ms\n", case_name, error.message, ds_status_name(error.status), now_ms() - began);
}

static struct failure_state {
    unsigned completed;
    ds_error_kind kind;
    long status;
    const char *text;
    bool mismatch;
    ds_error first_mismatch;
    ds_error first; /* the first call's error, for the log */
} failures;

static void on_expected_failure(void *user_data, uint64_t call_id, const ds_error *error,
                                Demandscreen__V1__ScreeningResult *result) {
    (void)user_data;
    (void)call_id;
    failures.completed++;
    if (result) {
        ds_screening_result_free(result);
        if (!failures.mismatch) {
            failures.mismatch = true;
            failures.first_mismatch.kind = DS_ERR_NONE;
            failures.first_mismatch.status = DS_STATUS_OK;
            snprintf(failures.first_mismatch.message, sizeof failures.first_mismatch.message, "a call succeeded");
        }
        return;
    }
    if (!error_matches(error, failures.kind, failures.status, failures.text) && !failures.mismatch) {
        failures.mismatch = true;
        failures.first_mismatch = *error;
    }
    if (failures.completed == 1) failures.first = *error;
}

static void case_expect_call_fail(const char *kind_name, long status, const char *text, unsigned calls, unsigned max_ms,
                                  bool still_ready) {
    failures.kind = kind_named(kind_name);
    failures.status = status;
    failures.text = text;
    ds_client *client;
    connect_or_fail(&client);
    int64_t began = now_ms();
    ds_error error;
    for (unsigned i = 0; i < calls; i++) {
        char id[32];
        snprintf(id, sizeof id, "fail-%u", i);
        Demandscreen__V1__DemandRecord *record = make_record(id, i);
        if (ds_screen_start(client, record, timeout_ms, on_expected_failure, NULL, NULL, &error) != 0)
            fail("ds_screen_start: %s", error.message);
        free_record(record);
    }
    while (failures.completed < calls) {
        if (!step(client, &error)) break;
        if (now_ms() - began > (int64_t)max_ms + 5000) break;
    }
    int64_t elapsed = now_ms() - began;
    if (failures.completed != calls) fail("%u of %u calls completed after %" PRId64 " ms", failures.completed, calls, elapsed);
    if (failures.mismatch)
        fail("expected %s %ld containing '%s', got %s %s: %s", kind_name, status, text,
             ds_error_kind_name(failures.first_mismatch.kind), ds_status_name(failures.first_mismatch.status),
             failures.first_mismatch.message);
    if (elapsed > (int64_t)max_ms) fail("the calls took %" PRId64 " ms, more than %u", elapsed, max_ms);
    if (still_ready) {
        if (!ds_is_ready(client)) fail("the connection did not survive a per-call failure");
    } else if (failures.kind != DS_ERR_STATUS && failures.kind != DS_ERR_DEADLINE) {
        /* The connection has failed: a new call fails at once with the same error. */
        if (ds_is_ready(client) || ds_fd(client) != -1) fail("the connection still looks usable");
        Demandscreen__V1__DemandRecord *record = make_record("after-failure", 0);
        Demandscreen__V1__ScreeningResult *result = NULL;
        int64_t t = now_ms();
        if (ds_screen(client, record, timeout_ms, &result, &error) == 0) fail("a call after the failure succeeded");
        free_record(record);
        if (!error_matches(&error, failures.kind, status, text)) fail("after the failure: %s", error.message);
        if (now_ms() - t > 100) fail("a call after the failure took %" PRId64 " ms", now_ms() - t);
    }
    ds_close(client);
    printf("ok - %s: %u calls failed with %s %s: %s (%" PRId64 " ms)\n", case_name, calls, ds_error_kind_name(failures.kind),
           ds_status_name(failures.first.status), failures.first.message, elapsed);
}

static void case_expect_screen_ok(const char *record_id) {
    ds_client *client;
    connect_or_fail(&client);
    Demandscreen__V1__DemandRecord *record = make_record(record_id, 0);
    Demandscreen__V1__ScreeningResult *result = NULL;
    ds_error error;
    if (ds_screen(client, record, timeout_ms, &result, &error) != 0)
        fail("ds_screen: %s %s", ds_status_name(error.status), error.message);
    if (strcmp(result->record_id, record_id) != 0) fail("answered %s", result->record_id);
    printf("ok - %s: %s answered (verdict %d)\n", case_name, result->record_id, result->verdict);
    ds_screening_result_free(result);
    free_record(record);
    ds_close(client);
}

static unsigned matched_calls;

static void on_matched(void *user_data, uint64_t call_id, const ds_error *error, const uint8_t *response, size_t length) {
    (void)response;
    (void)length;
    uint64_t expected_id = *(uint64_t *)user_data;
    char want[64];
    snprintf(want, sizeof want, "call %" PRIu64, expected_id);
    if (call_id != expected_id) fail("callback for call %" PRIu64 " has the user data of call %" PRIu64, call_id, expected_id);
    if (!error || error->kind != DS_ERR_STATUS || strcmp(error->message, want) != 0)
        fail("call %" PRIu64 " got '%s'", call_id, error ? error->message : "OK");
    matched_calls++;
}

static void case_expect_matched(unsigned calls) {
    ds_client *client;
    connect_or_fail(&client);
    uint64_t *ids = calloc(calls, sizeof *ids);
    if (!ids) fail("out of memory");
    ds_error error;
    for (unsigned i = 0; i < calls; i++) {
        static const uint8_t request[] = {0x0a, 0x01, 'x'};
        if (ds_call_start(client, DS_METHOD_HEALTH_CHECK, request, sizeof request, timeout_ms, on_matched, &ids[i], &ids[i],
                          &error) != 0)
            fail("ds_call_start: %s", error.message);
    }
    if (ds_wait(client, 10000, &error) != 0) fail("ds_wait: %s", error.message);
    if (matched_calls != calls) fail("%u of %u answered", matched_calls, calls);
    ds_close(client);
    free(ids);
    printf("ok - %s: %u answers in reverse order, each matched to its call\n", case_name, calls);
}

/* ------------------------------------------------------------------------------------------ */
/* api                                                                                         */

static unsigned closed_callbacks;
static ds_client *close_me;

static void on_closed(void *user_data, uint64_t call_id, const ds_error *error, const uint8_t *response, size_t length) {
    (void)user_data;
    (void)call_id;
    (void)response;
    (void)length;
    if (!error || error->kind != DS_ERR_CLOSED) fail("expected DS_ERR_CLOSED, got %s", error ? error->message : "OK");
    closed_callbacks++;
}

static unsigned second_call_outcomes;

/* The call pending beside the one whose callback closes the client: the server may answer it
 * (UNIMPLEMENTED) before that, or the close ends it (CLOSED); either way exactly once. */
static void on_second_call(void *user_data, uint64_t call_id, const ds_error *error, const uint8_t *response,
                           size_t length) {
    (void)user_data;
    (void)call_id;
    (void)response;
    (void)length;
    if (!error || !(error->kind == DS_ERR_CLOSED || (error->kind == DS_ERR_STATUS && error->status == DS_STATUS_UNIMPLEMENTED)))
        fail("the second call ended with %s", error ? error->message : "OK");
    second_call_outcomes++;
}

static int nested_result;
static ds_error nested_error;

static void on_answer_then_close(void *user_data, uint64_t call_id, const ds_error *error, const uint8_t *response,
                                 size_t length) {
    (void)user_data;
    (void)call_id;
    (void)response;
    (void)length;
    if (error) fail("health call failed: %s", error->message);
    /* Nested driving is refused; closing is deferred to the end of ds_process(). */
    nested_result = ds_wait(close_me, 0, &nested_error);
    ds_close(close_me);
}

static void case_api(void) {
    ds_error error;
    ds_client *client = NULL;
    ds_options bad;

    if (ds_connect(NULL, &client, &error) == 0 || error.kind != DS_ERR_USAGE) fail("NULL options: %s", error.message);
    ds_options_init(&bad);
    if (ds_connect(&bad, &client, &error) == 0 || error.kind != DS_ERR_USAGE) fail("no host: %s", error.message);
    bad = options;
    bad.client_key_file = NULL;
    bad.client_cert_file = "cert.pem";
    if (ds_connect(&bad, &client, &error) == 0 || error.kind != DS_ERR_USAGE) fail("cert without key: %s", error.message);
    bad = options;
    bad.ca_file = "/nonexistent/ca.pem";
    if (ds_connect(&bad, &client, &error) == 0 || error.kind != DS_ERR_CONFIG || !strstr(error.message, "/nonexistent/ca.pem"))
        fail("missing CA file: %s", error.message);
    bad = options;
    bad.ca_file = "/dev/null";
    if (ds_connect(&bad, &client, &error) == 0 || error.kind != DS_ERR_CONFIG) fail("empty CA file: %s", error.message);
    printf("# empty CA file: %s\n", error.message);
    bad = options;
    bad.host = "nonexistent.invalid";
    if (ds_connect(&bad, &client, &error) == 0 || error.kind != DS_ERR_CONNECT) fail("unresolvable: %s", error.message);
    if (strcmp(ds_status_name(16), "UNAUTHENTICATED") != 0 || strcmp(ds_status_name(99), "UNKNOWN_STATUS") != 0)
        fail("ds_status_name");
    ds_close(NULL);
    ds_free(NULL);
    ds_message_free(NULL);
    ds_screening_result_free(NULL);

    /* Calls started while connecting are sent once connected; ds_close() completes the rest. */
    if (ds_connect_start(&options, &client, &error) != 0) fail("ds_connect_start: %s", error.message);
    static const uint8_t empty[1] = {0};
    if (ds_call_start(client, "no-slash", empty, 0, 0, on_closed, NULL, NULL, &error) == 0 || error.kind != DS_ERR_USAGE)
        fail("a bad method name was accepted");
    if (ds_call_start(client, DS_METHOD_HEALTH_CHECK, NULL, 5, 0, on_closed, NULL, NULL, &error) == 0)
        fail("a NULL request with a length was accepted");
    for (int i = 0; i < 3; i++)
        if (ds_call_start(client, "/demandscreen.v1.Test/Never", empty, 0, 0, on_closed, NULL, NULL, &error) != 0)
            fail("ds_call_start while connecting: %s", error.message);
    ds_close(client);
    if (closed_callbacks != 3) fail("ds_close ran %u callbacks, not 3", closed_callbacks);

    /* An unknown method: UNIMPLEMENTED from the server, the connection goes on. */
    connect_or_fail(&client);
    uint8_t *answer = NULL;
    size_t length = 0;
    if (ds_call(client, "/demandscreen.v1.Screening/Nope", empty, 0, timeout_ms, &answer, &length, &error) == 0 ||
        error.kind != DS_ERR_STATUS || error.status != DS_STATUS_UNIMPLEMENTED)
        fail("unknown method: %s %s", ds_status_name(error.status), error.message);
    printf("# unknown method: %s: %s\n", ds_status_name(error.status), error.message);
    /* A record without ids: INVALID_ARGUMENT naming the field. */
    Demandscreen__V1__DemandRecord empty_record = DEMANDSCREEN__V1__DEMAND_RECORD__INIT;
    Demandscreen__V1__ScreeningResult *result = NULL;
    if (ds_screen(client, &empty_record, timeout_ms, &result, &error) == 0 || error.status != DS_STATUS_INVALID_ARGUMENT)
        fail("empty record: %s %s", ds_status_name(error.status), error.message);
    printf("# empty record: %s: %s\n", ds_status_name(error.status), error.message);
    /* Health through ds_call with raw bytes. */
    if (ds_call(client, DS_METHOD_HEALTH_CHECK, empty, 0, timeout_ms, &answer, &length, &error) != 0)
        fail("raw health: %s", error.message);
    if (length != 2 || answer[0] != 0x08 || answer[1] != 0x01) fail("raw health answered %zu bytes", length);
    ds_free(answer);
    /* A request larger than a frame is refused locally. */
    size_t big = 5u * 1024u * 1024u;
    uint8_t *huge = calloc(1, big);
    if (!huge) fail("out of memory");
    if (ds_call(client, DS_METHOD_SCREEN, huge, big, timeout_ms, &answer, &length, &error) == 0 || error.kind != DS_ERR_USAGE)
        fail("a 5 MiB request was not refused: %s", error.message);
    free(huge);
    printf("# 5 MiB request: %s\n", error.message);

    /* A callback that closes the client: ds_process() returns -1 and the client is gone. */
    close_me = client;
    if (ds_call_start(client, DS_METHOD_HEALTH_CHECK, empty, 0, timeout_ms, on_answer_then_close, NULL, NULL, &error) != 0)
        fail("ds_call_start: %s", error.message);
    if (ds_call_start(client, "/demandscreen.v1.Test/Other", empty, 0, 0, on_second_call, NULL, NULL, &error) != 0)
        fail("ds_call_start: %s", error.message);
    int64_t began = now_ms();
    for (;;) {
        struct pollfd p = {.fd = ds_fd(client), .events = ds_events(client), .revents = 0};
        poll(&p, 1, 1000);
        if (ds_process(client, &error) != 0) break;
        if (now_ms() - began > 10000) fail("no answer to the health call");
    }
    if (error.kind != DS_ERR_CLOSED) fail("ds_process after a close in a callback: %s", error.message);
    if (nested_result != -1 || nested_error.kind != DS_ERR_USAGE) fail("ds_wait from a callback was not refused");
    if (second_call_outcomes != 1) fail("the second call ended %u times", second_call_outcomes);
    printf("ok - %s: usage errors, close with pending calls, close from a callback, raw calls\n", case_name);
}

int main(int argc, char **argv) {
    ds_options_init(&options);
    options.host = "127.0.0.1";
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        const char *o = argv[i];
        if (strcmp(o, "--tls12") == 0) {
            options.min_tls_version = DS_TLS_1_2;
            continue;
        }
        if (strcmp(o, "--plaintext") == 0) {
            options.insecure_plaintext = 1;
            continue;
        }
        if (strcmp(o, "--no-verify") == 0) {
            options.insecure_skip_verify = 1;
            continue;
        }
        if (i + 1 >= argc) fail("%s needs a value", o);
        const char *v = argv[++i];
        if (strcmp(o, "--host") == 0) options.host = v;
        else if (strcmp(o, "--port") == 0) options.port = (uint16_t)atoi(v);
        else if (strcmp(o, "--ca") == 0) options.ca_file = v;
        else if (strcmp(o, "--token") == 0) options.bearer_token = v;
        else if (strcmp(o, "--cert") == 0) options.client_cert_file = v;
        else if (strcmp(o, "--key") == 0) options.client_key_file = v;
        else if (strcmp(o, "--server-name") == 0) options.server_name = v;
        else if (strcmp(o, "--timeout-ms") == 0) timeout_ms = (unsigned)atoi(v);
        else if (strcmp(o, "--connect-timeout-ms") == 0) options.connect_timeout_ms = (uint32_t)atoi(v);
        else if (strcmp(o, "--record-kb") == 0) record_kb = (unsigned)atoi(v);
        else fail("unknown option %s", o);
    }
    if (i >= argc) fail("no case given");
    case_name = argv[i++];
    int n = argc - i;
    char **a = argv + i;
    if (strcmp(case_name, "pipeline") == 0 && n == 3) case_pipeline((unsigned)atoi(a[0]), (unsigned)atoi(a[1]), a[2]);
    else if (strcmp(case_name, "expect-connect-fail") == 0 && n == 2) case_expect_connect_fail(a[0], a[1]);
    else if (strcmp(case_name, "expect-call-fail") == 0 && (n == 5 || n == 6))
        case_expect_call_fail(a[0], atol(a[1]), a[2], (unsigned)atoi(a[3]), (unsigned)atoi(a[4]),
                              n == 6 && strcmp(a[5], "still-ready") == 0);
    else if (strcmp(case_name, "expect-screen-ok") == 0 && n == 1) case_expect_screen_ok(a[0]);
    else if (strcmp(case_name, "expect-matched") == 0 && n == 1) case_expect_matched((unsigned)atoi(a[0]));
    else if (strcmp(case_name, "api") == 0 && n == 0) case_api();
    else fail("unknown case or wrong arguments");
    return 0;
}
