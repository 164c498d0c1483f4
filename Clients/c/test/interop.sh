#!/usr/bin/env bash
# The C client's interoperability test: Clients/c/test/interop.sh BIN_DIR
#
# BIN_DIR holds demandscreend and demandscreen (e.g. .build/debug). Builds the C client (make),
# starts the daemon on a free loopback port with a temporary data folder (its development CA and
# tokens), and a fake misbehaving server (fake_server.py), then checks, with a plain build and
# again with an AddressSanitizer + UndefinedBehaviorSanitizer build (make SANITIZE=1):
#   - the sample records (Examples/*.json and test/records.jsonl) screened through the C client
#     (pipelined, blocking, and from a binary file) and through the Swift CLI give the same
#     results: verdicts, signals, written responses, every field (compared as canonical JSON);
#   - replays of the same record ids (stored results) print the same text through both;
#   - bad records are reported as the CLI reports them;
#   - 64 calls pipelined on one connection are all answered and matched by call id;
#   - an untrusted certificate, a certificate for another name, a wrong token (16
#     UNAUTHENTICATED), mutual TLS, and the fake server's truncated, oversize, garbage and other
#     bad frames, silences and closes, each with the right error and no crash or hang;
#   - the README's snippets compile against the installed library (pkg-config) and run.
# Exits non-zero on any failure; stops the daemon and removes its files on exit.
#
# Environment: DS_INTEROP_SANITIZE=0 skips the sanitizer pass; DS_INTEROP_RUNNER="valgrind ..."
# runs the C programs under a tool (test/valgrind.sh); DS_INTEROP_TIME_FACTOR scales the time
# limits of the timing checks (default 1).
set -euo pipefail

if [ $# -ne 1 ] || [ ! -x "$1/demandscreend" ] || [ ! -x "$1/demandscreen" ]; then
    echo "usage: $0 BIN_DIR   (a folder with the demandscreend and demandscreen executables)" >&2
    exit 64
fi
bin=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
client_dir=$(dirname "$here")
repo=$(cd "$client_dir/../.." && pwd)
runner=${DS_INTEROP_RUNNER:-}
factor=${DS_INTEROP_TIME_FACTOR:-1}
started_at=$(date +%s)

work=$(mktemp -d /tmp/demandscreen-c-interop.XXXXXX)
daemon_pid=""
plain_pid=""
fake_pid=""
cleanup() {
    local status=$?
    for pid in $fake_pid $plain_pid $daemon_pid; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in $fake_pid $plain_pid $daemon_pid; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
    exit $status
}
trap cleanup EXIT
trap 'exit 130' INT TERM

passed=0
failed=0
# check NAME COMMAND...: runs COMMAND, counts it, shows its output when it fails.
check() {
    local name=$1
    shift
    if "$@" > "$work/check.out" 2>&1; then
        passed=$((passed + 1))
        echo "ok - $name"
        grep -E '^(ok|#) ' "$work/check.out" | sed 's/^/    /' | head -n 8 || true
    else
        failed=$((failed + 1))
        echo "not ok - $name"
        sed 's/^/    /' "$work/check.out" | tail -n 30
    fi
}
ms() { echo $(($1 * factor)); }

missing=()
for tool in make cc pkg-config protoc-c python3 openssl; do command -v "$tool" > /dev/null || missing+=("$tool"); done
for module in libprotobuf-c openssl json-c; do pkg-config --exists "$module" 2> /dev/null || missing+=("pkg-config:$module"); done
if [ ${#missing[@]} -gt 0 ]; then
    echo "interop: missing ${missing[*]} (Debian: make gcc pkg-config protobuf-c-compiler libprotobuf-c-dev libssl-dev libjson-c-dev python3 openssl)" >&2
    exit 1
fi

echo "== generated code"
check "Clients/c/generated is up to date with Protos/" "$client_dir/check-generated.sh"

echo "== build"
make -C "$client_dir" -j2 > "$work/make.log" 2>&1 || { cat "$work/make.log"; echo "interop: the build failed"; exit 1; }
if [ "${DS_INTEROP_SANITIZE:-1}" != 0 ]; then
    make -C "$client_dir" -j2 SANITIZE=1 > "$work/make-sanitize.log" 2>&1 ||
        { cat "$work/make-sanitize.log"; echo "interop: the sanitizer build failed"; exit 1; }
fi
echo "built in $(($(date +%s) - started_at)) s"

echo "== daemon"
free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# wait_ready PID LOG HEALTH-ARGS...: until the daemon answers the health check (at most 60 s).
wait_ready() {
    local pid=$1 log=$2
    shift 2
    for _ in $(seq 1 240); do
        "$bin/demandscreen" health --timeout-ms 2000 "$@" > /dev/null 2>&1 && return 0
        kill -0 "$pid" 2>/dev/null || { cat "$log"; echo "interop: the daemon exited"; exit 1; }
        sleep 0.25
    done
    cat "$log"
    echo "interop: the daemon does not answer after 60 s"
    exit 1
}
data="$work/data"
mkdir -p "$data"
port=$(free_port)
server="127.0.0.1:$port"
"$bin/demandscreend" --data-directory "$data" --host 127.0.0.1 --port "$port" --log-level notice > "$work/daemon.log" 2>&1 &
daemon_pid=$!
# A second daemon without TLS (loopback only) and without storage, for the plaintext mode.
mkdir -p "$work/plain-data"
plain_port=$(free_port)
"$bin/demandscreend" --data-directory "$work/plain-data" --host 127.0.0.1 --port "$plain_port" --insecure-plaintext \
    --storage-url none --log-level notice > "$work/plain-daemon.log" 2>&1 &
plain_pid=$!
wait_ready "$daemon_pid" "$work/daemon.log" --server "$server" --data-directory "$data"
wait_ready "$plain_pid" "$work/plain-daemon.log" --server "127.0.0.1:$plain_port" --data-directory "$work/plain-data" \
    --insecure-plaintext
token=$(cat "$data/agent.token")
plain_token=$(cat "$work/plain-data/agent.token")
echo "daemon on $server (plaintext daemon on 127.0.0.1:$plain_port), data $data"

python3 "$here/fake_server.py" "$data/server.pem" "$data/server-key.pem" "$work/fake.ready" 900 > "$work/fake.log" 2>&1 &
fake_pid=$!
for _ in $(seq 1 100); do [ -f "$work/fake.ready" ] && break; sleep 0.1; done
[ -f "$work/fake.ready" ] || { cat "$work/fake.log"; echo "interop: the fake server did not start"; exit 1; }
fake_port() { awk -v mode="$1" '$1 == mode { print $2 }' "$work/fake.ready"; }

# A CA that signed nothing of the daemon's (untrusted), and a client certificate from the
# development CA with the role in its OU (mutual TLS).
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj "/CN=Untrusted Test CA" \
    -keyout "$work/other-ca-key.pem" -out "$work/other-ca.pem" > "$work/openssl.log" 2>&1
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -subj "/O=DemandScreen/OU=agent/CN=c-client" \
    -keyout "$work/client-key.pem" -out "$work/client.csr" >> "$work/openssl.log" 2>&1
printf 'extendedKeyUsage = clientAuth\n' > "$work/client.ext"
openssl x509 -req -in "$work/client.csr" -CA "$data/dev-ca.pem" -CAkey "$data/dev-ca-key.pem" -CAcreateserial \
    -days 1 -extfile "$work/client.ext" -out "$work/client.pem" >> "$work/openssl.log" 2>&1

# The records of the comparison: the examples and the test's own.
samples=("$repo"/Examples/*.json "$here/records.jsonl")
sample_count=$(python3 "$here/compare.py" prepare "" "$work/all.jsonl" "${samples[@]}")
cli=("$bin/demandscreen" screen --server "$server" --data-directory "$data")

# Bad records, each with what the report must say.
cat > "$work/bad.jsonl" <<'EOF'
{"recordId": "bad-1", "claimantId": "cl-bad-1", "utterances": [{"speaker": "SPEAKER_CUSTOMER", "text": "ok"}, {"speaker": "SPEAKER_BOSS", "text": "no"}]}
{"recordId": "bad-2", "claimantId": "cl-bad-2", "utterances": [{"speaker": "SPEAKER_CUSTOMER", "txt": "typo"}]}
{"recordId": "bad-3", "claimantId": 
{"recordId": "bad-4", "utterances": [{"speaker": "SPEAKER_CUSTOMER", "text": "no claimant id"}]}
EOF

echo "== the Swift CLI (reference)"
python3 "$here/compare.py" prepare "s-" "$work/s.jsonl" "${samples[@]}" > /dev/null
cli_reference() {
    "${cli[@]}" "$work/s.jsonl" > "$work/s.out" || return 1
    [ "$(python3 "$here/compare.py" canon "s-" "$work/s.out" "$work/s.canon")" = "$sample_count" ]
}
check "the Swift CLI screens the $sample_count sample records" cli_reference

# ------------------------------------------------------------------------------------------------
# One pass of the C client's checks with the programs in BUILD (build or build-sanitize); TAG
# keeps its record ids apart from the other pass's.
run_suite() {
    local build=$1 tag=$2
    local c="$client_dir/$build/demandscreen-c"
    local t="$client_dir/$build/client_test"
    local cc=($runner "$c" --server "$server" --data-directory "$data")
    local ct=($runner "$t" --port "$port" --ca "$data/dev-ca.pem" --token "$token")
    local fake=($runner "$t" --ca "$data/dev-ca.pem" --token fake --timeout-ms "$(ms 3000)")

    echo "== C client, $build"
    check "$build: health" "${cc[@]}" health

    # Same records, new ids, through each way the example reads and sends them.
    compare_pass() {
        local prefix=$1
        shift
        python3 "$here/compare.py" prepare "$prefix" "$work/$prefix.jsonl" "${samples[@]}" > /dev/null || return 1
        "$@" > "$work/$prefix.out" || return 1
        [ "$(python3 "$here/compare.py" canon "$prefix" "$work/$prefix.out" "$work/$prefix.canon")" = "$sample_count" ] &&
            diff -u "$work/s.canon" "$work/$prefix.canon"
    }
    check "$build: JSON lines, 64 in flight (non-blocking API): results equal the CLI's" \
        compare_pass "${tag}c-" "${cc[@]}" --in-flight 64 screen "$work/${tag}c-.jsonl"
    check "$build: JSON lines, one blocking call at a time: results equal the CLI's" \
        compare_pass "${tag}k-" "${cc[@]}" --blocking screen "$work/${tag}k-.jsonl"
    binary_pass() {
        local prefix="${tag}b-"
        python3 "$here/compare.py" prepare "$prefix" "$work/$prefix.jsonl" "${samples[@]}" > /dev/null || return 1
        $runner "$c" encode "$work/$prefix.jsonl" > "$work/$prefix.bin" || return 1
        "${cc[@]}" --in-flight 7 screen "$work/$prefix.bin" > "$work/$prefix.out" || return 1
        [ "$(python3 "$here/compare.py" canon "$prefix" "$work/$prefix.out" "$work/$prefix.canon")" = "$sample_count" ] &&
            diff -u "$work/s.canon" "$work/$prefix.canon"
    }
    check "$build: varint-delimited binary records: results equal the CLI's" binary_pass
    replay_pass() {
        # The ids of the first pass again: stored results (idempotency), printed as text by both.
        "${cc[@]}" --in-flight 1 --format text screen "$work/${tag}c-.jsonl" > "$work/${tag}replay-c.txt" || return 1
        "${cli[@]}" --in-flight 1 --format text "$work/${tag}c-.jsonl" > "$work/${tag}replay-s.txt" || return 1
        [ "$(grep -c ': VERDICT_' "$work/${tag}replay-c.txt")" = "$sample_count" ] &&
            diff -u "$work/${tag}replay-s.txt" "$work/${tag}replay-c.txt"
    }
    check "$build: replayed record ids: the same stored results, the same text as the CLI's" replay_pass
    examples_pass() {
        # The pretty-printed one-record .json files as they are.
        "${cc[@]}" screen "$repo"/Examples/*.json > "$work/${tag}ex-c.out" || return 1
        : > "$work/${tag}ex-s.out"
        for f in "$repo"/Examples/*.json; do "${cli[@]}" "$f" >> "$work/${tag}ex-s.out" || return 1; done
        python3 "$here/compare.py" canon "" "$work/${tag}ex-c.out" "$work/${tag}ex-c.canon" > /dev/null || return 1
        python3 "$here/compare.py" canon "" "$work/${tag}ex-s.out" "$work/${tag}ex-s.canon" > /dev/null || return 1
        diff -u "$work/${tag}ex-s.canon" "$work/${tag}ex-c.canon"
    }
    check "$build: Examples/*.json files: results equal the CLI's" examples_pass
    bad_records() {
        local c_status=0 s_status=0
        "${cc[@]}" screen "$work/bad.jsonl" > /dev/null 2> "$work/${tag}bad-c.err" || c_status=$?
        "${cli[@]}" "$work/bad.jsonl" > /dev/null 2> "$work/${tag}bad-s.err" || s_status=$?
        cat "$work/${tag}bad-c.err"
        [ "$c_status" = 1 ] && [ "$s_status" = 1 ] &&
            grep -qF 'bad.jsonl:1: utterances[1].speaker: "SPEAKER_BOSS" is not one of the field'"'"'s values' "$work/${tag}bad-c.err" &&
            grep -qF "bad.jsonl:2: utterances[0]: there is no field 'txt'" "$work/${tag}bad-c.err" &&
            grep -qF 'bad.jsonl:3: not JSON:' "$work/${tag}bad-c.err" &&
            # The server's refusal is reported word for word as the CLI reports it.
            grep -F "record 'bad-4'" "$work/${tag}bad-s.err" > "$work/${tag}bad4-s" &&
            grep -F "record 'bad-4'" "$work/${tag}bad-c.err" > "$work/${tag}bad4-c" &&
            diff "$work/${tag}bad4-s" "$work/${tag}bad4-c"
    }
    check "$build: bad records: reported with the field at fault, the server's refusal as the CLI's (exit 1)" bad_records

    check "$build: 64 calls pipelined (500 calls), each answer matched by call id" \
        "${ct[@]}" pipeline 64 500 "${tag}pipe"
    check "$build: API: usage errors, close with calls pending, close from a callback" "${ct[@]}" api
    check "$build: large frames: 16 records of 1 MiB, 8 in flight" \
        "${ct[@]}" --record-kb 1024 pipeline 8 16 "${tag}big"
    check "$build: mutual TLS (client certificate, no token)" \
        $runner "$t" --port "$port" --ca "$data/dev-ca.pem" --cert "$work/client.pem" --key "$work/client-key.pem" \
        expect-screen-ok "${tag}mtls-1"

    wrong_token() {
        local status=0
        "${cc[@]}" --token not-a-token screen "$repo/Examples/gift-delivered-early.json" 2> "$work/${tag}token.err" || status=$?
        cat "$work/${tag}token.err"
        [ "$status" = 1 ] && grep -q "record 'rec-2026-12-01-0001': UNAUTHENTICATED: " "$work/${tag}token.err"
    }
    check "$build: wrong token: UNAUTHENTICATED (16), exit 1" wrong_token
    check "$build: wrong token: status 16 on every call, the connection goes on" \
        "${ct[@]}" --token not-a-token expect-call-fail status 16 "token" 5 "$(ms 5000)" still-ready
    check "$build: no token: status 16" \
        $runner "$t" --port "$port" --ca "$data/dev-ca.pem" expect-call-fail status 16 "" 1 "$(ms 5000)" still-ready
    untrusted() {
        local status=0
        "${cc[@]}" --ca "$work/other-ca.pem" health 2> "$work/${tag}untrusted.err" || status=$?
        cat "$work/${tag}untrusted.err"
        [ "$status" = 3 ] && grep -q "certificate verify failed (unable to get local issuer certificate)" "$work/${tag}untrusted.err"
    }
    check "$build: untrusted server certificate: the connect fails with OpenSSL's reason, exit 3" untrusted
    check "$build: untrusted server certificate (library)" \
        "${ct[@]}" --ca "$work/other-ca.pem" expect-connect-fail tls "certificate verify failed"
    check "$build: certificate for another name" \
        "${ct[@]}" --server-name other.example expect-connect-fail tls "hostname mismatch"
    check "$build: nothing listening" "${ct[@]}" --port 1 expect-connect-fail connect "Connection refused"

    check "$build: plaintext (a daemon run with --insecure-plaintext): 64 pipelined calls" \
        $runner "$t" --plaintext --port "$plain_port" --token "$plain_token" pipeline 64 100 "${tag}plain"
    plain_example() {
        "${cc[@]}" --insecure-plaintext --server "127.0.0.1:$plain_port" --token "$plain_token" --format text \
            screen "$repo/Examples/kneeling-and-exposure.json" > "$work/${tag}plain.txt" || return 1
        "${cli[@]}" --insecure-plaintext --server "127.0.0.1:$plain_port" --token "$plain_token" --format text \
            "$repo/Examples/kneeling-and-exposure.json" > "$work/${tag}plain-s.txt" || return 1
        diff -u "$work/${tag}plain-s.txt" "$work/${tag}plain.txt"
    }
    check "$build: plaintext: the example's text equals the CLI's" plain_example

    echo "-- fake server"
    check "$build: truncated frame" "${fake[@]}" --port "$(fake_port truncated)" \
        expect-call-fail protocol 13 "ended in the middle of a frame" 3 "$(ms 2000)"
    check "$build: oversize length (fails before buffering)" "${fake[@]}" --port "$(fake_port oversize)" \
        expect-call-fail protocol 13 "exceeds the maximum of 4194304 bytes" 3 "$(ms 2000)"
    check "$build: garbage payload" "${fake[@]}" --port "$(fake_port garbage)" \
        expect-call-fail protocol 13 "not a ResponseFrame" 3 "$(ms 2000)"
    check "$build: compressed flag" "${fake[@]}" --port "$(fake_port compressed)" \
        expect-call-fail protocol 13 "compressed flag" 3 "$(ms 2000)"
    check "$build: reserved flag bits" "${fake[@]}" --port "$(fake_port reserved)" \
        expect-call-fail protocol 13 "reserved bits" 3 "$(ms 2000)"
    check "$build: a server that never answers: the local deadline" \
        $runner "$t" --ca "$data/dev-ca.pem" --timeout-ms 300 --port "$(fake_port silent)" \
        expect-call-fail deadline 4 "deadline of 300 ms" 3 "$(ms 1500)" still-ready
    check "$build: 4 MiB of calls to a server that reads but never answers: written out, then the deadline" \
        $runner "$t" --ca "$data/dev-ca.pem" --timeout-ms 2000 --record-kb 1000 --port "$(fake_port silent)" \
        expect-call-fail deadline 4 "deadline of 2000 ms" 4 "$(ms 4000)" still-ready
    check "$build: closed without an answer" "${fake[@]}" --port "$(fake_port close)" \
        expect-call-fail closed 14 "closed the connection" 3 "$(ms 2000)"
    check "$build: connection-level error (call id 0) then close" "${fake[@]}" --port "$(fake_port goodbye)" \
        expect-call-fail closed 14 "RESOURCE_EXHAUSTED: too many calls on this connection" 3 "$(ms 2000)"
    check "$build: an answer that is not a ScreeningResult fails that call only" "${fake[@]}" --port "$(fake_port badmessage)" \
        expect-call-fail protocol 13 "not a valid ScreeningResult" 3 "$(ms 2000)" still-ready
    check "$build: an answer sent one byte at a time" "${fake[@]}" --port "$(fake_port drip)" expect-screen-ok drip
    check "$build: answers in reverse order" "${fake[@]}" --port "$(fake_port reverse)" expect-matched 8
    check "$build: an answer to an unknown call id is ignored" "${fake[@]}" --port "$(fake_port unknownid)" \
        expect-call-fail status 5 "after unknown id" 1 "$(ms 2000)" still-ready
    check "$build: a server flooding answers to unknown call ids: the deadline still fires" \
        $runner "$t" --ca "$data/dev-ca.pem" --timeout-ms 500 --port "$(fake_port flood)" \
        expect-call-fail deadline 4 "deadline of 500 ms" 1 "$(ms 3000)" still-ready
    check "$build: a TLS 1.2 server is refused by default" "${fake[@]}" --port "$(fake_port tls12)" \
        expect-connect-fail tls "protocol version"
    check "$build: a TLS 1.2 server with min_tls_version 1.2" "${fake[@]}" --tls12 --port "$(fake_port tls12)" \
        expect-call-fail status 5 "served over TLSv1.2" 2 "$(ms 2000)" still-ready
    check "$build: a server that never starts TLS: the connect timeout" "${fake[@]}" --connect-timeout-ms 500 \
        --port "$(fake_port stall)" expect-connect-fail tls "no TLS handshake within 500 ms"
    check "$build: a server that is not TLS" "${fake[@]}" --port "$(fake_port nottls)" expect-connect-fail tls "wrong version number"
}

snippets() {
    # Every ```c block of the README: the first is a whole program, run against the daemon.
    local stage="$work/stage"
    make -C "$client_dir" install PREFIX="$stage" > "$work/install.log" 2>&1 || { cat "$work/install.log"; return 1; }
    awk -v dir="$work" '/^```c$/ { n++; file = dir "/snippet" n ".c"; inside = 1; next }
        /^```$/ { inside = 0 } inside { print > file }' "$client_dir/README.md"
    [ -f "$work/snippet1.c" ] && [ -f "$work/snippet2.c" ] || { echo "README.md has fewer than two C snippets"; return 1; }
    export PKG_CONFIG_PATH="$stage/lib/pkgconfig"
    local flags
    flags=$(pkg-config --cflags --libs demandscreen) || return 1
    cc -std=c11 -Wall -Wextra -Werror -o "$work/snippet1" "$work/snippet1.c" $flags || return 1
    cc -std=c11 -Wall -Wextra -Werror -c -o "$work/snippet2.o" "$work/snippet2.c" $(pkg-config --cflags demandscreen) || return 1
    LD_LIBRARY_PATH="$stage/lib" "$work/snippet1" 127.0.0.1 "$port" "$data/dev-ca.pem" "$token" > "$work/snippet.out" || return 1
    cat "$work/snippet.out"
    grep -q '^readme-0001: VERDICT_' "$work/snippet.out" || return 1
    # The project README's snippet: a whole program too.
    awk '/^```c$/ { inside = 1; next } /^```$/ { inside = 0 } inside { print }' "$client_dir/../../README.md" > "$work/main-snippet.c"
    [ -s "$work/main-snippet.c" ] || { echo "the project README has no C snippet"; return 1; }
    cc -std=c11 -Wall -Wextra -Werror -o "$work/main-snippet" "$work/main-snippet.c" $flags || return 1
    LD_LIBRARY_PATH="$stage/lib" "$work/main-snippet" 127.0.0.1 "$port" "$data/dev-ca.pem" "$token" > "$work/main-snippet.out" || return 1
    cat "$work/main-snippet.out"
    grep -q '^readme-c-0001: verdict [0-9]' "$work/main-snippet.out"
}

run_suite build ""
check "build: the READMEs' snippets compile with pkg-config against the installed library, and run" snippets

if [ "${DS_INTEROP_SANITIZE:-1}" != 0 ]; then
    # Exit codes of their own, so that a report is never taken for the program's own exit 1.
    export ASAN_OPTIONS="detect_leaks=1:exitcode=66:abort_on_error=0:halt_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=67"
    run_suite build-sanitize "a"
fi

if ! kill -0 "$daemon_pid" 2>/dev/null; then
    failed=$((failed + 1))
    echo "not ok - the daemon is still running"
fi
echo "interop took $(($(date +%s) - started_at)) s"
echo "interop: $passed passed, $failed failed"
[ "$failed" = 0 ]
