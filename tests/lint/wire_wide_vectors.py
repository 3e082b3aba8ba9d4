#!/usr/bin/env python3
"""lint.wire_wide_vectors: every vector of 8-byte elements in the wire schema
is checked for alignment by protocol/frame.cc.

The flatbuffers verifier checks only the 4-byte alignment of a vector's
length word, so a hostile peer can misalign a vector of 8-byte scalars (or of
structs holding one). protocol/frame.cc checks each such vector and names it
in a comment "wide vector: Table.field"; this lint fails when the schema has
one that frame.cc does not name, or names one the schema no longer has.

usage: wire_wide_vectors.py FRAME.cc SCHEMA.fbs...
"""
import re
import sys

WIDE_SCALARS = {"long", "ulong", "int64", "uint64", "double", "float64"}


def declarations(schema):
    """(kind, name, body) of every table and struct, comments removed."""
    text = re.sub(r"//[^\n]*", "", schema)
    return re.findall(r"\b(table|struct)\s+(\w+)\s*(?:\([^)]*\))?\s*\{([^}]*)\}", text)


def fields(body):
    return re.findall(r"(\w+)\s*:\s*(\[?\s*[\w.]+\s*\]?)", body)


def wide_vectors(schema):
    decls = declarations(schema)
    wide_structs = {name for kind, name, body in decls if kind == "struct"
                    and any(t.strip() in WIDE_SCALARS for _, t in fields(body))}
    found = set()
    for kind, name, body in decls:
        if kind != "table":
            continue
        for field, type_ in fields(body):
            m = re.fullmatch(r"\[\s*([\w.]+)\s*\]", type_.strip())
            if m and (m.group(1) in WIDE_SCALARS or m.group(1).split(".")[-1] in wide_structs):
                found.add(f"{name}.{field}")
    return found


def main():
    frame_path, schema_paths = sys.argv[1], sys.argv[2:]
    schema = ""
    for path in schema_paths:
        with open(path) as f:
            schema += f.read() + "\n"
    schema_path = " and ".join(schema_paths)
    in_schema = wide_vectors(schema)
    with open(frame_path) as f:
        checked = set(re.findall(r"wide vector: (\w+\.\w+)", f.read()))
    ok = True
    for v in sorted(in_schema - checked):
        print(f"{schema_path}: {v} is a vector of 8-byte elements that {frame_path} does not check for alignment")
        ok = False
    for v in sorted(checked - in_schema):
        print(f"{frame_path}: names wide vector {v}, which {schema_path} does not have")
        ok = False
    if ok:
        print(f"{len(in_schema)} wide vectors, each checked: {', '.join(sorted(in_schema))}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
