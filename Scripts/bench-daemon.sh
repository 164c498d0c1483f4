# shellcheck shell=bash
# Sourced by the benchmark scripts that load a running daemon (bench-load.sh, bench-memory.sh),
# with $bin set to the release build's folder:
#   start_daemon FOLDER [daemon arguments…]   starts $bin/demandscreend on the data folder FOLDER
#                                             (its log FOLDER/log) and waits for its ready line;
#                                             sets daemon (its pid) and port
#   wait_for_port FILE SED_SCRIPT LOG WHAT    waits until SED_SCRIPT prints a port from FILE
#                                             (the process $daemon writing it), else prints LOG and
#                                             stops the script; sets port
#   stop_daemon                               stops $daemon and waits for it
wait_for_port() {
    local file=$1 script=$2 log=$3 what=$4
    port=""
    for _ in $(seq 1 600); do
        port=$(sed -n "$script" "$file" | head -n 1)
        [ -n "$port" ] && return
        kill -0 "$daemon" 2>/dev/null || break
        sleep 0.1
    done
    echo "$(basename "$0"): $what did not start:" >&2
    cat "$log" >&2
    exit 1
}

start_daemon() {
    local folder=$1
    shift
    mkdir -p "$folder"
    DEMANDSCREEN_DATA_DIRECTORY=$folder "$bin/demandscreend" --port 0 --log-level notice "$@" 2>"$folder/log" &
    daemon=$!
    wait_for_port "$folder/log" '/demandscreend is ready/s/.*address=[^ ]*:\([0-9]*\) .*/\1/p' "$folder/log" "the daemon"
}

stop_daemon() {
    kill "$daemon"
    wait "$daemon" 2>/dev/null || true
}
