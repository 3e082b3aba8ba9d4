#!/usr/bin/env python3
"""Generates rcuda's replacement of a CUDA math library (libcublas.so.13,
libcurand.so.10, libcufft.so.12, libcusolver.so.12, libcusparse.so.12)
from three sources, at build time:

  * the real library: its exported functions, their version node and its
    SONAME (`readelf -W --dyn-syms` and `readelf -d`);
  * the toolkit's headers: every export's prototype, read with libclang
    (Debian's python3-clang-14), not a hand-written parser;
  * a small description, client/libs/<library>.def: the forwarded functions
    and the kind of each of their arguments (checked against the prototypes),
    and the `local` ones, written by hand in client/libs/<library>_local.cc
    because they need no worker (status strings, host-to-device helpers).

Outputs:
  --exports FILE         C++ definitions of EVERY export of the real library.
                         An export that is not forwarded returns the
                         library's "not supported" status (or the zero of its
                         return type, for the legacy API's void/float/...
                         functions) and logs its name once: never a silent
                         success.
  --version-script FILE  the same version node(s) as the real library
  --check-readelf FILE   compare `readelf -W --dyn-syms` output of the built
                         library with the real library (names, versions);
                         exit 1 on any difference
  --check-soname FILE    compare `readelf -d` output's SONAME with the real one
  --forwards FILE        C++ thunks of the `forward` lines: the exports that
                         send a LibraryCall (gen_forwarding.py)
  --worker FILE          the worker's table of the `forward` lines (decode,
                         check, call the real function); needs only the
                         description, so the server's build runs it alone
  --coverage FILE        this library's section of docs/library-coverage.md:
                         the forwarded exports and the refused ones
                         (gen_library_coverage.py joins the sections)

See docs/design.md, "Library forwarding".
"""
import argparse
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_forwarding  # noqa: E402

try:
    import clang.cindex as cindex
except ImportError:
    # A python other than Debian's (pyenv, a venv): the bindings are pure
    # Python over libclang, so Debian's copy works from any python3.
    sys.path.append("/usr/lib/python3/dist-packages")
    try:
        import clang.cindex as cindex
    except ImportError:
        sys.exit("gen_library.py: needs libclang's Python bindings: apt-get install python3-clang-14")

ARG_KINDS = re.compile(
    r"^(handle(\.new|\.del)?(\(\w+\))?|stream(\.out)?|i8|i32(\.out)?|i64|u32|u64(\.out)?|f32|f64|enum(\.out)?|pointer_mode|"
    r"scalar\.(f16|f32|f64|c32|c64)|scalar\.typed\(\w+\)|scalar\.compute\(\w+,\w+\)|result\.(f16|f32|f64|c32|c64|i32)|dptr\??\[.+\]|"
    r"dptrs\[[^\]]+\]\[.+\]|dptr\.hook|dtype|i32s\[.+\]|i64s\[.+\]|i64\.out|hscratch\[.+\])$")
# A forward line's optional worker hooks, after its arguments:
#   check=HOOK(ARG,...)  called after decoding, before any range check and
#                        the call: a nonzero status refuses the call
#   then=HOOK(ARG,...)   called once the function succeeded
HOOK = re.compile(r"\s+(check|then)=([\w:]+\([\w,]*\))")


def fail(message):
    sys.exit(f"gen_library.py: {message}")


def read_description(path):
    """Returns (library keys, {function: [(arg, kind)]}) of a .def file."""
    library, forwards = None, {}
    text = open(path).read()
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        where = f"{path}:{number}"
        if line.startswith("library "):
            if library is not None:
                fail(f"{where}: a second library line")
            words = line.split()
            library = {"name": words[1]}
            for w in words[2:]:
                key, eq, value = w.partition("=")
                if not eq:
                    fail(f"{where}: expected key=value, got {w!r}")
                library[key] = value
            continue
        local = re.match(r"^local\s+(\w+)$", line)
        if local:
            if library is None:
                fail(f"{where}: local before the library line")
            locals_ = library.setdefault("locals", [])
            if local.group(1) in locals_:
                fail(f"{where}: {local.group(1)} twice")
            locals_.append(local.group(1))
            continue
        m = re.match(r"^forward\s+(\w+)\s*\((.*?)\)((?:\s+(?:check|then)=[\w:]+\([\w,]*\))*)$", line)
        if not m:
            fail(f"{where}: cannot parse {line!r}")
        hooks = {}
        for which, call in HOOK.findall(m.group(3)):
            if which in hooks:
                fail(f"{where}: a second {which}=")
            hooks[which] = call
        if library is None:
            fail(f"{where}: forward before the library line")
        name, args = m.group(1), []
        for part in split_top_level(m.group(2)):
            arg, colon, kind = part.partition(":")
            arg, kind = arg.strip(), kind.strip()
            if not colon or not ARG_KINDS.match(kind):
                fail(f"{where}: {name}: bad argument {part.strip()!r}")
            args.append((arg, kind))
        if name in forwards:
            fail(f"{where}: {name} twice")
        forwards[name] = args
        if hooks:
            library.setdefault("hooks", {})[name] = hooks
    if library is None:
        fail(f"{path}: no library line")
    for name in library.get("locals", []):
        if name in forwards:
            fail(f"{path}: {name} is both forwarded and local")
    for key in ("soname", "header", "status", "not_supported"):
        if key not in library:
            fail(f"{path}: the library line needs {key}=")
    return library, forwards


def split_top_level(text):
    """Splits on commas outside brackets and parentheses."""
    parts, depth, current = [], 0, ""
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current)
    return parts


def read_exports(real_library):
    """{name: version} of the real library's defined functions, and its SONAME."""
    syms = subprocess.run(["readelf", "-W", "--dyn-syms", real_library], check=True,
                          capture_output=True, text=True).stdout
    exports = parse_dyn_syms(syms)
    dynamic = subprocess.run(["readelf", "-d", real_library], check=True, capture_output=True, text=True).stdout
    return exports, parse_soname(dynamic)


def parse_dyn_syms(text):
    exports = {}
    for line in text.splitlines():
        f = line.split()
        # Num: Value Size Type Bind Vis Ndx Name
        if len(f) < 8 or not f[0].endswith(":") or f[3] != "FUNC" or f[6] == "UND":
            continue
        name, _, version = f[7].partition("@")
        exports[name] = version.lstrip("@")
    return exports


def parse_soname(text):
    m = re.search(r"\(SONAME\)\s+Library soname: \[(.+)\]", text)
    return m.group(1) if m else None


def parse_header(include_dir, header):
    """The header's translation unit, parsed once per run (the slow step)."""
    key = (include_dir, header)
    if key not in _UNITS:
        path = os.path.join(include_dir, header)
        # As C++: the half-precision functions (cublasHgemm...) are declared
        # only for C++ (they take __half).
        _UNITS[key] = cindex.Index.create().parse(
            path, args=["-x", "c++", "-std=c++17", "-I", include_dir],
            options=cindex.TranslationUnit.PARSE_SKIP_FUNCTION_BODIES)
    return _UNITS[key]


_UNITS = {}


def top_level(tu):
    """The translation unit's top-level declarations, extern "C" blocks
    opened (cheaper than walking every node of the C++ headers it includes)."""
    for c in tu.cursor.get_children():
        # libclang 14 shows an extern "C" block as UNEXPOSED_DECL.
        if c.kind in (cindex.CursorKind.LINKAGE_SPEC, cindex.CursorKind.UNEXPOSED_DECL):
            yield from c.get_children()
        else:
            yield c


def parameter_type(t):
    """A parameter's type as a declaration spells it before the name: an array
    parameter (cublasSgemmBatched's `const float *const Aarray[]`) as the
    pointer it is."""
    if t.kind in (cindex.TypeKind.INCOMPLETEARRAY, cindex.TypeKind.CONSTANTARRAY, cindex.TypeKind.VARIABLEARRAY):
        return t.element_type.spelling + " *"
    return t.spelling


def read_prototypes(include_dir, headers, wanted):
    """{name: (return type, [(type, name)])} of the wanted functions the headers declare."""
    prototypes = {}
    for header in headers:
        path = os.path.join(include_dir, header)
        tu = parse_header(include_dir, header)
        errors = [d for d in tu.diagnostics if d.severity >= cindex.Diagnostic.Error]
        if errors:
            fail(f"libclang could not parse {path}: {errors[0]}")
        for c in top_level(tu):
            if c.kind != cindex.CursorKind.FUNCTION_DECL or c.spelling not in wanted:
                continue
            if c.storage_class == cindex.StorageClass.STATIC:
                continue  # C++ convenience overloads (static inline), not exports
            params = [(parameter_type(a.type), a.spelling) for a in c.get_arguments()]
            proto = (c.result_type.spelling, params)
            if c.result_type.get_canonical().kind == cindex.TypeKind.ENUM:
                ENUM_RESULTS.add(c.result_type.spelling)
            if prototypes.setdefault(c.spelling, proto) != proto:
                fail(f"{c.spelling} is declared differently in {header}")
    return prototypes


# The by-value kinds whose C type decides how the worker passes them (a
# float travels in a floating-point register, an int in an integer one):
# the prototype's type must be one of these.
BY_VALUE_TYPES = {"i8": ("signed char", "char"), "i64.out": ("long long *",), "u32": ("unsigned int",),
                  "u64": ("unsigned long long", "size_t"), "f32": ("float",),
                  "f64": ("double",), "u64.out": ("unsigned long long *", "size_t *"),
                  "dtype": ("cudaDataType", "cudaDataType_t")}
FLOAT_KINDS = {"float": "f32", "double": "f64"}


def check_description(library, forwards, prototypes, exports):
    for name in library.get("locals", []):
        if name not in exports:
            fail(f"{name} (local) is not an export of the real library")
        if name not in prototypes:
            fail(f"{name} (local) has no prototype in the headers")
    for name, args in forwards.items():
        if name not in exports:
            fail(f"{name} is not an export of the real library")
        if name not in prototypes:
            fail(f"{name} has no prototype in the headers")
        params = [p[1] for p in prototypes[name][1]]
        if [a for a, _ in args] != params:
            fail(f"{name}: the description's arguments {[a for a, _ in args]} are not the prototype's {params}")
        for (ptype, _), (arg, kind) in zip(prototypes[name][1], args):
            if kind in BY_VALUE_TYPES and ptype not in BY_VALUE_TYPES[kind]:
                fail(f"{name}: {arg}: the kind {kind} is for {' or '.join(BY_VALUE_TYPES[kind])}, "
                     f"the prototype's type is {ptype}")
            # void *: an untyped host value the function reads as ints
            # (cusparseSpMatSetAttribute's enum; its check= hook checks the size).
            if kind.startswith("i64s[") and ptype not in ("long long *", "const long long *"):
                fail(f"{name}: {arg}: the kind {kind} is for long long *, the prototype's type is {ptype}")
            if kind.startswith("i32s[") and ptype not in ("int *", "const int *", "void *", "const void *"):
                fail(f"{name}: {arg}: the kind {kind} is for int * (or void *), the prototype's type is {ptype}")
            if ptype in FLOAT_KINDS and kind != FLOAT_KINDS[ptype]:
                fail(f"{name}: {arg}: the prototype's type is {ptype}, which only the kind {FLOAT_KINDS[ptype]} passes")


# The return types the headers declare as enums (cuSPARSE's legacy
# matrix-descriptor getters: cusparseGetMatType...), found by read_prototypes.
ENUM_RESULTS = set()

# The zero of each return type the legacy API's stubs return.
ZERO_OF = {"void": None, "float": "0.0f", "double": "0.0", "int": "0", "size_t": "0",
           "cuComplex": "cuComplex{}", "cuDoubleComplex": "cuDoubleComplex{}"}


def write_exports(library, exports, prototypes, forwards, path):
    status = library["status"]
    out = [
        f"// GENERATED by client/libs/gen_library.py from the real {library['soname']},",
        f"// the toolkit's headers and client/libs/{library['name']}.def. Do not edit.",
        f"// Every export the real library has. Those not forwarded return {library['not_supported']}",
        "// (or the zero of their return type, for the legacy API's non-status",
        "// functions) and log their name once. Parameters are left out: the",
        "// arguments are ignored, and a C function's return type alone decides",
        "// its ABI on x86-64 and aarch64.",
        "#include <cstddef>",
        "#include <cuComplex.h>",
        '#include "client/libs/library_log.h"',
        "",
        'extern "C" {',
    ]
    # The forwarded: --forwards; the local: client/libs/<name>_local.cc.
    for name in sorted(set(exports) - set(forwards) - set(library.get("locals", []))):
        # A few exports are in no header (internal entry points): they are
        # given the library's status type, as every declared cuBLAS
        # function of their family returns it.
        returns = prototypes[name][0] if name in prototypes else status
        log = f'rcuda::libs::LogNotForwarded("{library["soname"]}", "{name}")'
        if returns == status:
            out.append(f"__attribute__((visibility(\"default\"))) int {name}() {{ {log}; return {library['not_supported_value']}; }}")
        elif returns == "const char *":
            out.append(f"__attribute__((visibility(\"default\"))) const char* {name}() {{ {log}; "
                       f"return \"rcuda: {name} is not forwarded\"; }}")
        elif returns in ZERO_OF:
            zero = ZERO_OF[returns]
            ret = f" return {zero};" if zero else ""
            out.append(f"__attribute__((visibility(\"default\"))) {returns} {name}() {{ {log};{ret} }}")
        elif returns in ENUM_RESULTS:
            # An enum is an int in the C ABI; its stub returns 0, the
            # header's first enumerator (cuSPARSE's getters of a legacy
            # matrix descriptor, which no forwarded function creates).
            out.append(f"__attribute__((visibility(\"default\"))) int {name}() {{ {log}; return 0; }}")
        else:
            fail(f"{name} returns {returns!r}, which the generator does not know")
    out.append('}  // extern "C"')
    undeclared = sorted(set(exports) - set(prototypes))
    print(f"gen_library.py: {len(exports)} exports, {len(undeclared)} in no header (stubs returning "
          f"{status}): {' '.join(undeclared)}")
    open(path, "w").write("\n".join(out) + "\n")


def write_version_script(library, exports, path):
    versions = sorted(set(exports.values()))
    out = [f"/* GENERATED by client/libs/gen_library.py from the real {library['soname']}. */"]
    for v in versions:
        out.append(f"{v} {{")
        out.append("  global:")
        out += [f"    {n};" for n in sorted(exports) if exports[n] == v]
        if v == versions[-1]:
            out += ["  local:", "    *;"]
        out.append("};")
    open(path, "w").write("\n".join(out) + "\n")


def check_built(exports, soname, readelf_syms, readelf_dynamic):
    problems = []
    if readelf_syms:
        built = parse_dyn_syms(open(readelf_syms).read())
        for n in sorted(set(exports) - set(built)):
            problems.append(f"missing export: {n}")
        for n in sorted(set(built) - set(exports)):
            problems.append(f"unexpected export: {n}")
        for n in sorted(set(exports) & set(built)):
            if exports[n] != built[n]:
                problems.append(f"{n}: version {built[n]!r}, the real library's is {exports[n]!r}")
    if readelf_dynamic:
        built_soname = parse_soname(open(readelf_dynamic).read())
        if built_soname != soname:
            problems.append(f"SONAME {built_soname!r}, the real library's is {soname!r}")
    for p in problems:
        print(p)
    if problems:
        sys.exit(1)
    print(f"{len(exports)} exports, their versions and the SONAME {soname} match the real library")


def main():
    p = argparse.ArgumentParser()
    p.add_argument("description")
    p.add_argument("--real-library")
    p.add_argument("--include-dir")
    p.add_argument("--headers", default="", help="comma-separated extra headers to read prototypes from")
    p.add_argument("--exports")
    p.add_argument("--version-script")
    p.add_argument("--check-readelf")
    p.add_argument("--check-soname")
    p.add_argument("--forwards")
    p.add_argument("--worker")
    p.add_argument("--coverage")
    a = p.parse_args()
    library, forwards = read_description(a.description)
    deleter = gen_forwarding.check_forwardable(library, forwards, fail)
    if a.worker:
        gen_forwarding.write_worker_table(library, forwards, deleter, a.worker)
    if not (a.exports or a.version_script or a.check_readelf or a.check_soname or a.forwards or a.coverage):
        return
    if not a.real_library or not a.include_dir:
        fail("--real-library and --include-dir are needed but for --worker alone")
    exports, soname = read_exports(a.real_library)
    if not exports:
        fail(f"{a.real_library} exports no function")
    if soname != library["soname"]:
        fail(f"{a.real_library} has SONAME {soname!r}, the description says {library['soname']!r}")
    headers = [library["header"]] + [h for h in a.headers.split(",") if h]
    prototypes = read_prototypes(a.include_dir, headers, set(exports))
    library["not_supported_value"] = enum_value(a.include_dir, library["header"], library["not_supported"])
    check_description(library, forwards, prototypes, exports)
    if a.exports:
        write_exports(library, exports, prototypes, forwards, a.exports)
    if a.forwards:
        gen_forwarding.write_client_thunks(library, forwards, prototypes, a.forwards)
    if a.version_script:
        write_version_script(library, exports, a.version_script)
    if a.coverage:
        write_coverage(library, exports, prototypes, forwards, a.coverage)
    if a.check_readelf or a.check_soname:
        check_built(exports, soname, a.check_readelf, a.check_soname)


DISPLAY_NAMES = {"cublas": "cuBLAS", "curand": "cuRAND", "cufft": "cuFFT", "cusolver": "cuSOLVER",
                 "cusparse": "cuSPARSE"}


def write_coverage(library, exports, prototypes, forwards, path):
    """This library's section of the coverage document, from the same
    description and export list that generate the library: it cannot drift."""
    name = DISPLAY_NAMES.get(library["name"], library["name"])
    forwarded = sorted(forwards)
    local = sorted(library.get("locals", []))
    refused = sorted(set(exports) - set(forwards) - set(local))
    status = library["status"]
    # As write_exports: an export in no header is given the status type.
    non_status = [f for f in refused if f in prototypes and prototypes[f][0] != status]
    out = [
        f"## {name}: `{library['soname']}` ({len(forwarded)} forwarded, {len(local)} local, {len(refused)} refused)",
        "",
        f"Described by `client/libs/{library['name']}.def`. The real library exports {len(exports)} functions, "
        f"and rcuda's exports each of them with the same symbol version. The {len(refused)} that are not "
        f"forwarded log their name once and return `{library['not_supported']}`"
        + (f", or, for the {len(non_status)} of them that return no `{status}` (the legacy API), "
           "nothing or the zero of their return type" if non_status else "") + ".",
        "",
        "Forwarded: " + ", ".join(f"`{f}`" for f in forwarded) + ".",
        "",
    ] + ([
        f"Answered on the client (`client/libs/{library['name']}_local.cc`: no worker is needed): "
        + ", ".join(f"`{f}`" for f in local) + ".",
        "",
    ] if local else []) + [
        "Refused: " + ", ".join(f"`{f}`" for f in refused) + ".",
        "",
    ]
    with open(path, "w") as f:
        f.write("\n".join(out))


def enum_value(include_dir, header, constant):
    for decl in top_level(parse_header(include_dir, header)):
        if decl.kind not in (cindex.CursorKind.ENUM_DECL, cindex.CursorKind.TYPEDEF_DECL):
            continue
        for c in decl.walk_preorder():
            if c.kind == cindex.CursorKind.ENUM_CONSTANT_DECL and c.spelling == constant:
                return c.enum_value
    fail(f"{constant} is not an enumerator of {header}")


if __name__ == "__main__":
    main()
