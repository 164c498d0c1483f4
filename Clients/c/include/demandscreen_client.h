/*
 * demandscreen_client.h: the C client library of DemandScreen (libdemandscreen).
 *
 * One connection (a `ds_client`) to a demandscreend server, over TLS (OpenSSL), on which any
 * number of calls run at once (pipelined): each call is a RequestFrame with its own call id,
 * and the server's ResponseFrames, which come back in whatever order the calls finish, are
 * matched to their calls by that id. Messages are the protobuf-c structures generated from the
 * project's Protos/ (included below); the wire protocol is described in the project's README
 * ("The protocol").
 *
 * Two ways to use a connection, which can be mixed:
 *
 *   Blocking:     ds_connect(), then ds_screen() / ds_health_check() / ds_call_message() /
 *                 ds_call(), each returning when its call is answered, fails or passes its
 *                 deadline; ds_wait() drives calls started with the non-blocking functions.
 *   Non-blocking: ds_connect_start(), then ds_screen_start() / ds_call_start() with a callback
 *                 per call; the host polls ds_fd() for ds_events() with at most ds_timeout()
 *                 milliseconds of wait, and calls ds_process() whenever poll returns. No
 *                 thread per call, no thread at all inside the library.
 *
 * Every function that can fail returns 0 on success and -1 on failure and, when its `error`
 * argument is not NULL, fills it (see `ds_error`): a status code in gRPC's numbering and a
 * message that says what went wrong (with OpenSSL's reason for TLS failures).
 *
 * Memory: everything the library allocates for the caller has its free function, named where
 * it is returned (ds_close(), ds_free(), ds_message_free(), ds_screening_result_free()). A
 * `ds_error` is a plain struct with its message inline: nothing to free.
 *
 * Thread safety:
 *   - The library keeps no global mutable state and starts no threads. It relies on OpenSSL 1.1
 *     or later, which initializes itself safely from any thread. Different `ds_client`s may be
 *     used at the same time from different threads.
 *   - One `ds_client` must not be used by two threads at the same time: every function taking
 *     it (including ds_process() and the read-only ones such as ds_fd()) must be serialized by
 *     the caller, e.g. by confining the client to one event-loop thread or by a mutex held
 *     around each call. A client may move from one thread to another between calls.
 *   - Callbacks run on the thread that called the library function that runs them
 *     (ds_process(), ds_wait(), a blocking call, or ds_close()), never on a library thread.
 *   - Results (protobuf-c messages, ds_call()'s bytes) belong to the caller and may be used
 *     and freed on any thread.
 *   - The library never raises SIGPIPE (it sends with MSG_NOSIGNAL) and changes no signal
 *     disposition. Before each TLS operation it clears the calling thread's OpenSSL error
 *     queue, and it empties that queue after a failure (its reason goes into the ds_error).
 */
#ifndef DEMANDSCREEN_CLIENT_H
#define DEMANDSCREEN_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "demandscreen/v1/frame.pb-c.h"
#include "demandscreen/v1/screening.pb-c.h"
#include "grpc/health/v1/health.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The library's version, as a string ("MAJOR.MINOR.PATCH") and as one number. */
#define DS_VERSION_STRING "1.0.0"
#define DS_VERSION_NUMBER 10000

/** The method names of the protocol (README, "The protocol"). */
#define DS_METHOD_SCREEN "/demandscreen.v1.Screening/Screen"
#define DS_METHOD_GET_CLAIMANT_RISK "/demandscreen.v1.Screening/GetClaimantRisk"
#define DS_METHOD_LIST_RISK_FLAGS "/demandscreen.v1.Screening/ListRiskFlags"
#define DS_METHOD_LIST_RECURRING_ISSUES "/demandscreen.v1.Screening/ListRecurringIssues"
#define DS_METHOD_ADD_CLAIMANT_NOTE "/demandscreen.v1.Screening/AddClaimantNote"
#define DS_METHOD_PURGE_CLAIMANT "/demandscreen.v1.Screening/PurgeClaimant"
#define DS_METHOD_HEALTH_CHECK "/grpc.health.v1.Health/Check"

/** gRPC's status codes, as the server sends them in ResponseFrame.status_code. */
enum {
    DS_STATUS_OK = 0,
    DS_STATUS_CANCELLED = 1,
    DS_STATUS_UNKNOWN = 2,
    DS_STATUS_INVALID_ARGUMENT = 3,
    DS_STATUS_DEADLINE_EXCEEDED = 4,
    DS_STATUS_NOT_FOUND = 5,
    DS_STATUS_ALREADY_EXISTS = 6,
    DS_STATUS_PERMISSION_DENIED = 7,
    DS_STATUS_RESOURCE_EXHAUSTED = 8,
    DS_STATUS_FAILED_PRECONDITION = 9,
    DS_STATUS_ABORTED = 10,
    DS_STATUS_OUT_OF_RANGE = 11,
    DS_STATUS_UNIMPLEMENTED = 12,
    DS_STATUS_INTERNAL = 13,
    DS_STATUS_UNAVAILABLE = 14,
    DS_STATUS_DATA_LOSS = 15,
    DS_STATUS_UNAUTHENTICATED = 16
};

/**
 * Where a failure comes from. `ds_error.status` gives the matching gRPC code, so that a caller
 * that only cares about gRPC semantics can look at that alone.
 */
typedef enum ds_error_kind {
    /** No error. status 0. */
    DS_ERR_NONE = 0,
    /** The caller's mistake: a NULL or invalid argument, a request larger than the maximum
     *  frame, or a function called where it may not be (e.g. a blocking call from a
     *  callback). status 3 INVALID_ARGUMENT. */
    DS_ERR_USAGE = 1,
    /** Out of memory or another local resource (file descriptors). status 8 RESOURCE_EXHAUSTED. */
    DS_ERR_RESOURCE = 2,
    /** A CA, certificate or key file cannot be read, or the key does not match the
     *  certificate; the message names the file. status 3 INVALID_ARGUMENT. */
    DS_ERR_CONFIG = 3,
    /** The server's name cannot be resolved, no address accepts the connection, or the
     *  connection (TCP and TLS handshake) took longer than connect_timeout_ms.
     *  status 14 UNAVAILABLE. */
    DS_ERR_CONNECT = 4,
    /** TLS failed: the handshake (including a server certificate that is not trusted or not
     *  issued for the server's name, with OpenSSL's reason and the verification error), or a
     *  TLS error on the established connection. status 14 UNAVAILABLE. */
    DS_ERR_TLS = 5,
    /** The connection ended: the server closed it (the message includes the server's reason
     *  when it sent one), a send or receive failed, or the client was closed with the call
     *  pending. status 14 UNAVAILABLE. */
    DS_ERR_CLOSED = 6,
    /** The server broke the protocol: a frame with the compressed or a reserved flag bit set,
     *  a payload length above max_frame_bytes, a frame cut off by the end of the connection, a
     *  payload that is not a ResponseFrame, or (for that call alone) a response message that
     *  is not the method's response type. status 13 INTERNAL. */
    DS_ERR_PROTOCOL = 7,
    /** The call's deadline passed before its answer arrived; enforced by the client itself
     *  (the server gets the same deadline as timeout_ms). status 4 DEADLINE_EXCEEDED. */
    DS_ERR_DEADLINE = 8,
    /** The server answered the call with a status other than OK; `status` and `message` are
     *  the server's (e.g. 16 UNAUTHENTICATED for a missing or unknown token, 3
     *  INVALID_ARGUMENT naming the record's field at fault). The connection goes on. */
    DS_ERR_STATUS = 9
} ds_error_kind;

/** The size of `ds_error.message`, its terminating NUL included. */
#define DS_ERROR_MESSAGE_SIZE 512

/**
 * A failure: where it comes from, its gRPC status code and a message for people (UTF-8,
 * NUL-terminated, cut at a character boundary when longer than the buffer). Functions taking
 * a `ds_error *` reset it to DS_ERR_NONE / 0 / "" on success.
 */
typedef struct ds_error {
    ds_error_kind kind;
    /** gRPC status code (DS_STATUS_*): the server's for DS_ERR_STATUS, else the code gRPC
     *  uses for that kind of local failure (see ds_error_kind). */
    uint32_t status;
    char message[DS_ERROR_MESSAGE_SIZE];
} ds_error;

/** TLS protocol versions for ds_options.min_tls_version. Nothing older than 1.2 is offered. */
typedef enum ds_tls_version {
    DS_TLS_1_3 = 0, /**< TLS 1.3 only (the default, as the server's). */
    DS_TLS_1_2 = 1  /**< TLS 1.2 or 1.3, for a server configured with tls.minimumVersion 1.2. */
} ds_tls_version;

/**
 * How to connect. Initialize with ds_options_init(), then set what you need; the library
 * copies what it keeps, so the strings need to live only during ds_connect() /
 * ds_connect_start(). New fields are only ever added at the end.
 */
typedef struct ds_options {
    /** The server's host name or IP address (IPv6 without brackets). Required. */
    const char *host;
    /** The server's TCP port. Required (the daemon's default is 7443). */
    uint16_t port;
    /** PEM file of the CA certificate(s) that the server's certificate must chain to (the
     *  daemon's development CA is dev-ca.pem in its data folder). NULL: the system's default
     *  trust store. */
    const char *ca_file;
    /** The name the server's certificate must be issued for, also sent as SNI when it is not
     *  an IP address. NULL: `host`. Checked as a DNS name or, for an address, as an IP. */
    const char *server_name;
    /** PEM client certificate (chain) and its private key, for mutual TLS; both or neither.
     *  The server takes the caller's role from the certificate (its OU by default). */
    const char *client_cert_file;
    const char *client_key_file;
    /** Sent as metadata "authorization: Bearer <token>" on every call. NULL: none. */
    const char *bearer_token;
    /** The oldest TLS version accepted. Default DS_TLS_1_3. */
    ds_tls_version min_tls_version;
    /** TCP connect plus TLS handshake must finish within this many milliseconds. Default
     *  10000; 0 = no limit. */
    uint32_t connect_timeout_ms;
    /** The largest frame payload accepted from the server and sent to it (the server's
     *  limits.maxFrameBytes). Default 4194304 (4 MiB); 0 = the default. A larger frame from the
     *  server fails the connection before its payload is buffered. */
    uint32_t max_frame_bytes;
    /** 1: do not verify the server's certificate at all. For tests only; never in production.
     *  Default 0. */
    int insecure_skip_verify;
    /** 1: no TLS, for a daemon run with --insecure-plaintext on loopback. Default 0. */
    int insecure_plaintext;
} ds_options;

/** A connection to a server. Opaque; create with ds_connect() or ds_connect_start(), free
 *  with ds_close(). */
typedef struct ds_client ds_client;

/**
 * A call's completion, for ds_call_start(). Called exactly once per call that
 * ds_call_start() accepted (returned 0), never from within ds_call_start() itself.
 *
 * `error` is NULL when the server answered OK; then `response`/`response_length` hold the
 * serialized response message, valid only until the callback returns (copy what you keep).
 * Otherwise `error` says why (`response` is NULL) and is valid only during the callback.
 *
 * A callback may start new calls (ds_call_start(), ds_screen_start()) and may call ds_close()
 * (the close then happens when the library function that ran the callback returns; that
 * function returns -1 with DS_ERR_CLOSED, and the client must not be used afterwards). It must
 * not call ds_process(), ds_wait() or any blocking call (they fail with DS_ERR_USAGE there).
 */
typedef void (*ds_callback)(void *user_data, uint64_t call_id, const ds_error *error,
                            const uint8_t *response, size_t response_length);

/**
 * A Screen call's completion, for ds_screen_start(). Same rules as ds_callback. On success
 * `error` is NULL and `result` is the decoded ScreeningResult, which now belongs to the
 * callee: free it with ds_screening_result_free() (at any time, on any thread). On failure
 * `result` is NULL.
 */
typedef void (*ds_screen_callback)(void *user_data, uint64_t call_id, const ds_error *error,
                                   Demandscreen__V1__ScreeningResult *result);

/* ------------------------------------------------------------------------------------------ */
/* Names and versions                                                                          */

/** The library's version string, e.g. "1.0.0" (the DS_VERSION_STRING it was built with). */
const char *ds_version(void);

/** gRPC's name of a status code, e.g. "UNAUTHENTICATED"; "UNKNOWN_STATUS" for a number that
 *  has none. A static string. */
const char *ds_status_name(uint32_t status);

/** A short name of an error kind, e.g. "tls"; a static string. */
const char *ds_error_kind_name(ds_error_kind kind);

/* ------------------------------------------------------------------------------------------ */
/* Connecting and closing                                                                      */

/** Sets every option to its default (no host, port 0, TLS 1.3, verification on against the
 *  system trust store, 10 s connect timeout, 4 MiB frames). */
void ds_options_init(ds_options *options);

/**
 * Connects and completes the TLS handshake, blocking for at most options->connect_timeout_ms
 * (plus the name lookup, which is blocking and not bounded by the library). On success
 * stores a new client in *client (free it with ds_close()). On failure *client is set to
 * NULL and `error` says why: DS_ERR_CONFIG, DS_ERR_CONNECT, DS_ERR_TLS (for an untrusted
 * server certificate the message is e.g. "TLS handshake with 127.0.0.1:7443 failed:
 * certificate verify failed (unable to get local issuer certificate)"), DS_ERR_USAGE,
 * DS_ERR_RESOURCE.
 */
int ds_connect(const ds_options *options, ds_client **client, ds_error *error);

/**
 * Starts connecting without waiting: resolves the name (blocking, as getaddrinfo() is; give an
 * IP address to avoid it), starts the TCP connect and returns a client whose connection the
 * host completes by polling ds_fd() and calling ds_process() (see there). Calls may be started
 * at once; they are sent when the handshake is done, and fail with the connection's error if
 * it cannot be made. Fails at once (with *client NULL) on bad options, unreadable TLS files,
 * a name that does not resolve, or when no address can even start a connection.
 */
int ds_connect_start(const ds_options *options, ds_client **client, ds_error *error);

/** 1 when the connection is established (TLS handshake done), 0 while it is being made or
 *  after it failed. */
int ds_is_ready(const ds_client *client);

/**
 * Closes the connection (sending TLS close_notify when it can without blocking) and frees the
 * client. Every call still pending gets its callback first, with DS_ERR_CLOSED ("the client
 * was closed before the call was answered"). NULL is ignored. From within a callback the
 * close is deferred (see ds_callback).
 */
void ds_close(ds_client *client);

/* ------------------------------------------------------------------------------------------ */
/* Blocking calls                                                                              */
/*                                                                                             */
/* Each sends one call on the connection (alongside any calls in flight) and drives the        */
/* connection until that call completes; callbacks of other calls that complete meanwhile run  */
/* on this thread, from inside the blocking function. `timeout_ms` is the call's deadline      */
/* (0 = none): sent to the server as timeout_ms and enforced locally (DS_ERR_DEADLINE). On a   */
/* server status other than OK the function returns -1 with DS_ERR_STATUS and the server's     */
/* status and message in `error`. A blocking call on a client that is still connecting waits   */
/* for the connection first (within the same deadline).                                        */

/**
 * Screens one DemandRecord. On success *result is the ScreeningResult: free it with
 * ds_screening_result_free(). On failure *result is NULL.
 */
int ds_screen(ds_client *client, const Demandscreen__V1__DemandRecord *record, uint32_t timeout_ms,
              Demandscreen__V1__ScreeningResult **result, ds_error *error);

/**
 * The standard gRPC health check of `service` ("" or NULL for the server as a whole, or
 * "demandscreen.v1.Screening"); *status receives the ServingStatus (SERVING = 1).
 */
int ds_health_check(ds_client *client, const char *service, uint32_t timeout_ms,
                    Grpc__Health__V1__HealthCheckResponse__ServingStatus *status, ds_error *error);

/**
 * Any unary method with protobuf-c messages: packs `request`, calls `method` (e.g.
 * DS_METHOD_GET_CLAIMANT_RISK) and unpacks the answer as `response_type` (e.g.
 * &demandscreen__v1__claimant_risk__descriptor). On success *response is the message: free it
 * with ds_message_free(). An answer that is not a valid `response_type` fails the call with
 * DS_ERR_PROTOCOL (the connection goes on).
 */
int ds_call_message(ds_client *client, const char *method, const ProtobufCMessage *request,
                    const ProtobufCMessageDescriptor *response_type, uint32_t timeout_ms,
                    ProtobufCMessage **response, ds_error *error);

/**
 * Any method with serialized messages: sends `request` (`request_length` bytes; may be NULL
 * when the length is 0) and on success stores a copy of the serialized response in *response
 * (free with ds_free(); not NULL even when empty) and its length in *response_length.
 */
int ds_call(ds_client *client, const char *method, const uint8_t *request, size_t request_length,
            uint32_t timeout_ms, uint8_t **response, size_t *response_length, ds_error *error);

/**
 * Drives the connection until no call is pending, blocking for at most `timeout_ms`
 * milliseconds (-1 = no limit besides the calls' own deadlines). Use it to wait for calls
 * started with ds_call_start() / ds_screen_start() without an event loop: this is how to
 * pipeline many calls from one thread with the blocking API. Returns the number of calls
 * still pending (0 when all completed, more when `timeout_ms` passed first), or -1 when the
 * connection failed (every pending call has had its callback) or on a usage error.
 */
int ds_wait(ds_client *client, int timeout_ms, ds_error *error);

/* ------------------------------------------------------------------------------------------ */
/* Non-blocking calls and the event loop                                                       */

/**
 * Starts one call and returns at once; `callback` runs when it completes (see ds_callback).
 * The request is copied. Stores the call's id in *call_id when call_id is not NULL (ids are
 * unique on the connection, never 0). Fails at once, without calling the callback, on a
 * usage error (NULL method or callback, a request frame larger than max_frame_bytes) or when
 * the connection has already failed (with that failure).
 */
int ds_call_start(ds_client *client, const char *method, const uint8_t *request,
                  size_t request_length, uint32_t timeout_ms, ds_callback callback,
                  void *user_data, uint64_t *call_id, ds_error *error);

/** Starts one Screen call; `callback` receives the decoded ScreeningResult (see
 *  ds_screen_callback). Otherwise as ds_call_start(). */
int ds_screen_start(ds_client *client, const Demandscreen__V1__DemandRecord *record,
                    uint32_t timeout_ms, ds_screen_callback callback, void *user_data,
                    uint64_t *call_id, ds_error *error);

/**
 * The socket to poll, or -1 when the client has failed. While connecting it can change (when
 * one address of the host fails and the next is tried): read it again after each
 * ds_process() until ds_is_ready() is 1; it stays the same from then on. The library owns it:
 * do not read, write or close it. After a failure ds_fd() returns -1, but the descriptor the
 * host registered stays open until ds_close(), so that the host can remove it from its event
 * loop first.
 */
int ds_fd(const ds_client *client);

/** The poll events to wait for on ds_fd(): POLLIN and/or POLLOUT (as in <poll.h>); 0 once the
 *  connection has failed. Ask again after each ds_process(): it changes as data queues up. */
short ds_events(const ds_client *client);

/** Milliseconds until the library needs ds_process() even without socket activity (the
 *  next call deadline, or the connect timeout), rounded up; 0 when ds_process() stopped with
 *  input left to read (see there); -1 when there is none. Use it as poll()'s timeout (or the
 *  minimum with your own timers). */
int ds_timeout(const ds_client *client);

/**
 * Does all the work that can be done without blocking: finishes connecting, sends queued
 * calls, reads and decodes answers and runs their callbacks, and fails calls whose deadline
 * has passed. Call it when ds_fd() is ready for ds_events() or ds_timeout() has passed; a
 * spurious call is harmless. It reads until the socket has nothing more or it has read 1 MiB
 * in this call (then ds_timeout() is 0: call it again soon), so that a server that never stops
 * sending cannot hold the host; with ds_timeout() as the wait it suits edge-triggered loops
 * too. Returns 0 while the connection is usable and -1 once it has
 * failed (then `error` holds the failure, every pending call has had its callback with it,
 * and the host should stop polling the fd and call ds_close()).
 */
int ds_process(ds_client *client, ds_error *error);

/** The number of calls started and not yet completed. */
size_t ds_pending(const ds_client *client);

/* ------------------------------------------------------------------------------------------ */
/* Freeing what the library returns                                                           */

/** Frees bytes returned by ds_call(). NULL is ignored. */
void ds_free(void *pointer);

/** Frees a message returned by ds_call_message() (protobuf-c's default allocator). NULL is
 *  ignored. */
void ds_message_free(ProtobufCMessage *message);

/** Frees a ScreeningResult returned by ds_screen() or handed to a ds_screen_callback. NULL is
 *  ignored. */
void ds_screening_result_free(Demandscreen__V1__ScreeningResult *result);

#ifdef __cplusplus
}
#endif

#endif /* DEMANDSCREEN_CLIENT_H */
