#!/usr/bin/env python3
"""Every function a math library description forwards or answers locally
(the `forward` and `local` lines of client/libs/*.def) is called by at least
one test program (tests/cuda/*.cu), as issue 13's target asks: a function
named in no program fails this check with its name.

  check_library_tested.py DEF_DIR PROGRAM_DIR
"""
import pathlib
import re
import sys


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    defs, programs = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
    sources = "\n".join(p.read_text() for p in sorted(programs.glob("*.cu")))
    # A program names a function as the header spells it: cuBLAS's v2 API
    # names cublasSgemm for cublasSgemm_v2.
    named = set(re.findall(r"\b\w+\b", sources))
    missing, total = [], 0
    for d in sorted(defs.glob("*.def")):
        for line in d.read_text().splitlines():
            m = re.match(r"^(?:forward|local)\s+(\w+)", line)
            if not m:
                continue
            total += 1
            name = m.group(1)
            if name not in named and name.removesuffix("_v2") not in named:
                missing.append(f"{d.name}: {name}")
    for m in missing:
        print(f"not called by any tests/cuda program: {m}")
    if missing:
        sys.exit(1)
    print(f"all {total} forwarded and local library functions are called by a test program")


if __name__ == "__main__":
    main()
