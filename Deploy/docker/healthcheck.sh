#!/bin/bash
# The container's HEALTHCHECK: GET /healthz on demandscreend's ops port over loopback, with
# nothing but bash (its /dev/tcp redirection), so the runtime image needs no curl or wget.
# Exit 0 when the answer's status line is 200, 1 otherwise (no answer, refused, another status).
# The port is $DEMANDSCREEN_OPS_PORT (the image sets 9464), the address 127.0.0.1 (the image's
# ops.host is 0.0.0.0, which includes loopback). Scripts/check-deploy.sh runs this script against
# a real daemon.
set -u
port="${DEMANDSCREEN_OPS_PORT:-9464}"
exec 3<>"/dev/tcp/127.0.0.1/${port}" || exit 1
# HTTP/1.0: the ops server answers in the request's version and closes the connection.
printf 'GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' >&3 || exit 1
IFS= read -r -t 5 status <&3 || exit 1
case "$status" in
    "HTTP/1."?" 200 "*) exit 0 ;;
    *) echo "healthcheck: /healthz on port ${port} answered: ${status%$'\r'}" >&2; exit 1 ;;
esac
