#!/usr/bin/env python3
"""A TCP proxy that records what passes (test equipment, for making the fuzz
corpus from real traffic; tests/fuzz/make_corpus.sh runs it).

    record_proxy.py UPSTREAM_PORT PORT_FILE OUT_DIR

Listens on 127.0.0.1 (a free port, written to PORT_FILE), forwards each
connection to 127.0.0.1:UPSTREAM_PORT and writes what each side sent to
OUT_DIR/<n>.c2s and OUT_DIR/<n>.s2c. Runs until killed.
"""
import os
import socket
import sys
import threading


def pump(src, dst, path):
    with open(path, "wb") as log:
        while True:
            try:
                data = src.recv(1 << 16)
            except OSError:
                data = b""
            if not data:
                break
            log.write(data)
            log.flush()
            try:
                dst.sendall(data)
            except OSError:
                break
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def main():
    upstream, port_file, out = int(sys.argv[1]), sys.argv[2], sys.argv[3]
    os.makedirs(out, exist_ok=True)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    with open(port_file + ".tmp", "w") as f:
        f.write(str(listener.getsockname()[1]))
    os.rename(port_file + ".tmp", port_file)
    n = 0
    while True:
        client, _ = listener.accept()
        server = socket.create_connection(("127.0.0.1", upstream))
        for s in (client, server):
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        n += 1
        base = os.path.join(out, "%04d" % n)
        threading.Thread(target=pump, args=(client, server, base + ".c2s"), daemon=True).start()
        threading.Thread(target=pump, args=(server, client, base + ".s2c"), daemon=True).start()


if __name__ == "__main__":
    main()
