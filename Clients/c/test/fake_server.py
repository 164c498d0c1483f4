#!/usr/bin/env python3
"""A DemandScreen server that misbehaves on purpose, for the C client's tests.

Listens on 127.0.0.1, one port per mode, and writes "MODE PORT" lines to READY_FILE once all
listen. TLS with CERT/KEY (the daemon's development certificate, so that the client trusts it),
except the modes that test what happens before TLS. Exits by itself after LIFETIME seconds.

usage: fake_server.py CERT KEY READY_FILE [LIFETIME]

Modes (what the server does after reading the first request frame, unless said otherwise):
  truncated   announces a 100-byte frame, sends 10 bytes of it, closes
  oversize    announces a 2 GiB frame, then waits
  garbage     sends a frame whose payload is not a ResponseFrame, then waits
  compressed  sends a valid frame with the compressed flag set, then waits
  reserved    sends a valid frame with a reserved flag bit set, then waits
  silent      reads every frame and never answers
  close       closes without answering
  goodbye     sends the connection-level error (call id 0, RESOURCE_EXHAUSTED), closes
  badmessage  answers every call OK with a message that is not a ScreeningResult
  drip        answers OK with a valid ScreeningResult for record "drip", one byte at a time
  reverse     reads 8 frames, answers them in reverse order: NOT_FOUND "call N"
  unknownid   answers an unknown call id first, then the call: NOT_FOUND "after unknown id"
  tls12       TLS 1.2 at most; answers NOT_FOUND "served over TLSv1.2"
  flood       never answers the call, but sends answers to an unknown call id without end
  stall       accepts TCP and never starts TLS
  nottls      answers the TLS ClientHello with plain HTTP and closes
"""
import os
import socket
import ssl
import struct
import sys
import threading
import time

MODES = ["truncated", "oversize", "garbage", "compressed", "reserved", "silent", "close", "goodbye",
         "badmessage", "drip", "reverse", "unknownid", "flood", "tls12", "stall", "nottls"]


def varint(value):
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def field_varint(number, value):
    return varint(number << 3) + varint(value)


def field_bytes(number, data):
    return varint(number << 3 | 2) + varint(len(data)) + data


def response_frame(call_id, status=0, message="", payload=b""):
    body = b""
    if call_id:
        body += field_varint(1, call_id)
    if status:
        body += field_varint(2, status)
    if message:
        body += field_bytes(3, message.encode())
    if payload:
        body += field_bytes(5, payload)
    return body


def frame(payload, flags=0):
    return struct.pack(">BI", flags, len(payload)) + payload


def read_exactly(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            return None
        data += chunk
    return data


def read_call_id(sock):
    """Reads one request frame; returns its call_id (field 1), or None at the end."""
    header = read_exactly(sock, 5)
    if header is None:
        return None
    _, length = struct.unpack(">BI", header)
    body = read_exactly(sock, length)
    if body is None:
        return None
    i = 0
    while i < len(body):
        key, i = read_varint(body, i)
        number, wire_type = key >> 3, key & 7
        if wire_type == 0:
            value, i = read_varint(body, i)
            if number == 1:
                return value
        elif wire_type == 2:
            length, i = read_varint(body, i)
            i += length
        elif wire_type == 1:
            i += 8
        elif wire_type == 5:
            i += 4
        else:
            break
    return 0


def read_varint(data, i):
    value, shift = 0, 0
    while True:
        byte = data[i]
        i += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return value, i


def hold(sock, seconds=8):
    """Keeps the connection open, reading and discarding, until the client goes or time is up."""
    sock.settimeout(seconds)
    try:
        while sock.recv(65536):
            pass
    except (OSError, socket.timeout):
        pass


def serve(mode, sock):
    if mode == "truncated":
        read_call_id(sock)
        sock.sendall(struct.pack(">BI", 0, 100) + b"\x08\x01" + b"\x00" * 8)
    elif mode == "oversize":
        read_call_id(sock)
        sock.sendall(struct.pack(">BI", 0, 0x7FFFFFFF) + b"\x08\x01")
        hold(sock)
    elif mode == "garbage":
        read_call_id(sock)
        sock.sendall(frame(b"\xff" * 16))
        hold(sock)
    elif mode in ("compressed", "reserved"):
        call_id = read_call_id(sock)
        sock.sendall(frame(response_frame(call_id, 5, "x"), 0x01 if mode == "compressed" else 0x80))
        hold(sock)
    elif mode == "silent":
        hold(sock, 20)
    elif mode == "close":
        read_call_id(sock)
    elif mode == "goodbye":
        read_call_id(sock)
        sock.sendall(frame(response_frame(0, 8, "too many calls on this connection")))
    elif mode == "badmessage":
        while True:
            call_id = read_call_id(sock)
            if call_id is None:
                break
            sock.sendall(frame(response_frame(call_id, 0, "", b"\xff\xff\xff\xff")))
    elif mode == "drip":
        call_id = read_call_id(sock)
        result = field_bytes(1, b"drip") + field_varint(2, 1)  # record_id, verdict
        data = frame(response_frame(call_id, 0, "", result))
        for i in range(len(data)):
            sock.sendall(data[i:i + 1])
            time.sleep(0.003)
        hold(sock, 3)
    elif mode == "reverse":
        ids = []
        while len(ids) < 8:
            call_id = read_call_id(sock)
            if call_id is None:
                return
            ids.append(call_id)
        for call_id in reversed(ids):
            sock.sendall(frame(response_frame(call_id, 5, "call %d" % call_id)))
        hold(sock, 3)
    elif mode == "unknownid":
        call_id = read_call_id(sock)
        sock.sendall(frame(response_frame(call_id + 1000, 5, "wrong")))
        sock.sendall(frame(response_frame(call_id, 5, "after unknown id")))
        hold(sock, 3)
    elif mode == "flood":
        read_call_id(sock)
        block = frame(response_frame(999999, 5, "noise")) * 4096
        deadline = time.time() + 20
        while time.time() < deadline:
            sock.sendall(block)
    elif mode == "tls12":
        while True:
            call_id = read_call_id(sock)
            if call_id is None:
                break
            sock.sendall(frame(response_frame(call_id, 5, "served over " + sock.version())))


def handle(mode, raw, contexts):
    try:
        raw.settimeout(20)
        if mode == "stall":
            hold(raw, 10)
            return
        if mode == "nottls":
            raw.recv(4096)
            raw.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
            return
        context = contexts["tls12" if mode == "tls12" else "tls"]
        try:
            sock = context.wrap_socket(raw, server_side=True)
        except (ssl.SSLError, OSError):
            return  # the client refused the handshake, as some tests want
        serve(mode, sock)
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            raw.close()
        except OSError:
            pass


def listen(mode, contexts):
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind(("127.0.0.1", 0))
    server.listen(64)

    def accept_loop():
        while True:
            try:
                raw, _ = server.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(mode, raw, contexts), daemon=True).start()

    threading.Thread(target=accept_loop, daemon=True).start()
    return server.getsockname()[1]


def main():
    if len(sys.argv) not in (4, 5):
        sys.exit(__doc__)
    cert, key, ready = sys.argv[1:4]
    lifetime = float(sys.argv[4]) if len(sys.argv) == 5 else 170
    tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls.load_cert_chain(cert, key)
    tls12 = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    tls12.load_cert_chain(cert, key)
    tls12.maximum_version = ssl.TLSVersion.TLSv1_2
    contexts = {"tls": tls, "tls12": tls12}
    lines = ["%s %d\n" % (mode, listen(mode, contexts)) for mode in MODES]
    with open(ready + ".tmp", "w") as f:
        f.writelines(lines)
    os.rename(ready + ".tmp", ready)
    time.sleep(lifetime)


if __name__ == "__main__":
    main()
