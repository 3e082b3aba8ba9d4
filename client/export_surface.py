"""What the client libraries' export generators share (client/api/gen_exports.py
for libcudart.so.13, client/driver/gen_driver_exports.py for libcuda.so.1):
reading an exports table, and writing the stubs of the exports that are not
supported and the linker version script."""
import sys


def table_lines(path, field_counts):
    """Yields (line number, fields) of each row of a tab-separated table;
    blank lines and '#' comments are skipped, a row with another number of
    fields than `field_counts` allows stops the generator."""
    for number, line in enumerate(open(path), 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        if len(fields) not in field_counts:
            wanted = " or ".join(str(n) for n in field_counts)
            sys.exit(f"{path}:{number}: expected {wanted} tab-separated fields")
        yield number, fields


def check_unique(path, names, why="duplicate names"):
    if len(set(names)) != len(names):
        sys.exit(f"{path}: {why}")


def write_stubs(path, banner, include, export_macro, unsupported, names):
    """C++ definitions of `names`: each returns unsupported("name") (which
    logs the name once and returns the API's "not supported" code).
    Signatures are left out on purpose: returning an int from a function
    whose arguments are ignored is ABI-compatible with every prototype that
    returns an int-sized error enum on x86-64 and aarch64."""
    out = [f"// {line}" for line in banner]
    out += ["// Signatures are left out on purpose: see client/export_surface.py."]
    out += [f'#include "{include}"', "", 'extern "C" {']
    out += [f'{export_macro} int {n}() {{ return {unsupported}("{n}"); }}' for n in names]
    out.append("}")
    open(path, "w").write("\n".join(out) + "\n")


def write_version_script(path, banner, node, names, extra=()):
    """Exactly `names` global, everything else local; under the version
    `node` ("" for none, as the real libcuda.so.1 has)."""
    out = [f"/* {banner} */", f"{node} {{".lstrip(), "  global:"]
    out += [f"    {n};" for n in names]
    out += ["  local:", "    *;", "};"]
    out += list(extra)
    open(path, "w").write("\n".join(out) + "\n")
