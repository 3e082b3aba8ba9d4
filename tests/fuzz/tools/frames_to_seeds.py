#!/usr/bin/env python3
"""Cuts recorded rcuda connections (record_proxy.py's *.c2s / *.s2c) into
seeds for the frame fuzz target (test equipment; make_corpus.sh runs it).

    frames_to_seeds.py OUT_DIR RECORDING...

Each frame is 16 bytes of header (u32 magic, u32 message bytes, u64 bulk
bytes), the flatbuffer, then the bulk. One seed per kind of message in each
direction (the request or reply union type, read from the flatbuffer), with
its bulk cut to at most 64 bytes (the header says so), and one seed per
recording with the session's first frames, in order.
"""
import hashlib
import os
import struct
import sys

MAGIC = 0x46554352
MAX_BULK = 64
SESSION_FRAMES = 8


def frames(data):
    pos = 0
    while pos + 16 <= len(data):
        magic, size, bulk = struct.unpack_from("<IIQ", data, pos)
        if magic != MAGIC or pos + 16 + size + bulk > len(data):
            return
        yield data[pos + 16:pos + 16 + size], data[pos + 16 + size:pos + 16 + size + bulk]
        pos += 16 + size + bulk


def union_type(message, field):
    """The ubyte of table field `field` of the flatbuffer's root, or -1."""
    try:
        (root,) = struct.unpack_from("<I", message, 0)
        (vt_back,) = struct.unpack_from("<i", message, root)
        vtable = root - vt_back
        (vt_size,) = struct.unpack_from("<H", message, vtable)
        if 4 + 2 * field + 2 > vt_size:
            return -1
        (offset,) = struct.unpack_from("<H", message, vtable + 4 + 2 * field)
        return message[root + offset] if offset else 0
    except (struct.error, IndexError):
        return -1


def encode(message, bulk):
    bulk = bulk[:MAX_BULK]
    return struct.pack("<IIQ", MAGIC, len(message), len(bulk)) + message + bulk


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    seen = set()
    written = 0
    for path in sorted(sys.argv[2:]):
        direction = path.rsplit(".", 1)[1]
        data = open(path, "rb").read()
        session = b""
        for i, (message, bulk) in enumerate(frames(data)):
            # Message.request_type is field 1; Reply.body_type is field 5.
            kind = union_type(message, 1 if direction == "c2s" else 5)
            key = (direction, kind, len(message) > 200)
            seed = encode(message, bulk)
            if i < SESSION_FRAMES:
                session += seed
            if key in seen:
                continue
            seen.add(key)
            name = "%s-type%d-%s" % (direction, kind, hashlib.sha1(seed).hexdigest()[:12])
            open(os.path.join(out, name), "wb").write(seed)
            written += 1
        if session and direction == "c2s":
            name = "session-%s" % hashlib.sha1(session).hexdigest()[:12]
            open(os.path.join(out, name), "wb").write(session)
            written += 1
    print("frames_to_seeds: %d seeds" % written)


if __name__ == "__main__":
    main()
