#!/usr/bin/env python3
"""Unit tests of client/driver/gen_driver_exports.py: the table's checks and
what it generates (stubs only for unsupported names, cuGetProcAddress's table
only for forwarded ones, the version script with every name)."""
import os
import subprocess
import sys
import tempfile
import unittest

GEN = sys.argv.pop(1)


def run(table_text, *args):
    with tempfile.TemporaryDirectory() as d:
        table = os.path.join(d, "t.tsv")
        open(table, "w").write(table_text)
        outs = {}
        cmd = [sys.executable, GEN, table]
        for a in args:
            path = os.path.join(d, a.lstrip("-"))
            cmd += [a, path]
            outs[a] = path
        p = subprocess.run(cmd, capture_output=True, text=True)
        texts = {a: open(path).read() for a, path in outs.items() if os.path.exists(path)}
        return p.returncode, p.stdout + p.stderr, texts


GOOD = "# comment\ncuInit\tforwarded\tcuInit\ncuMemAlloc_v2\tforwarded\tcuMemAlloc\ncuArrayCreate\tunsupported\t-\n"


class GeneratorTest(unittest.TestCase):
    def test_outputs(self):
        rc, log, out = run(GOOD, "--stubs", "--version-script", "--proc-table")
        self.assertEqual(rc, 0, log)
        stubs = out["--stubs"]
        self.assertIn('int cuArrayCreate() { return rcuda::client::driver::Unsupported("cuArrayCreate"); }', stubs)
        self.assertNotIn("cuInit", stubs)
        self.assertNotIn("cuMemAlloc_v2", stubs)
        script = out["--version-script"]
        for name in ("cuInit;", "cuMemAlloc_v2;", "cuArrayCreate;", "local:"):
            self.assertIn(name, script)
        procs = out["--proc-table"]
        self.assertIn('{"cuMemAlloc", reinterpret_cast<void*>(&cuMemAlloc_v2), 0, false}', procs)
        self.assertIn('{"cuInit", reinterpret_cast<void*>(&cuInit), 0, false}', procs)
        self.assertNotIn("cuArrayCreate", procs)
        self.assertIn("kProcTableSize = 2;", procs)

    def test_abi_versions(self):
        with tempfile.TemporaryDirectory() as d:
            typedefs = os.path.join(d, "cudaTypedefs.h")
            open(typedefs, "w").write(
                "typedef CUresult (CUDAAPI *PFN_cuInit_v2000)(unsigned int Flags);\n"
                "typedef CUresult (CUDAAPI *PFN_cuMemAlloc_v3020)(CUdeviceptr_v2 *dptr, size_t bytesize);\n"
                "typedef CUresult (CUDAAPI *PFN_cuMemAlloc_v7000_ptds)(CUdeviceptr_v2 *dptr, size_t bytesize);\n"
                "    typedef CUresult (CUDAAPI *PFN_cuMemAlloc_v2000)(CUdeviceptr_v1 *dptr, unsigned int bytesize);\n")
            table = os.path.join(d, "t.tsv")
            open(table, "w").write(GOOD)
            procs = os.path.join(d, "procs.cc")
            p = subprocess.run([sys.executable, GEN, table, "--proc-table", procs, "--typedefs", typedefs],
                               capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            text = open(procs).read()
            self.assertIn('{"cuMemAlloc", reinterpret_cast<void*>(&cuMemAlloc_v2), 3020, true}', text)
            self.assertIn('{"cuInit", reinterpret_cast<void*>(&cuInit), 2000, false}', text)
            open(typedefs, "w").write("typedef CUresult (CUDAAPI *PFN_cuInit_v2000)(unsigned int Flags);\n")
            p = subprocess.run([sys.executable, GEN, table, "--proc-table", procs, "--typedefs", typedefs],
                               capture_output=True, text=True)
            self.assertNotEqual(p.returncode, 0)
            self.assertIn("no PFN_cuMemAlloc_v* typedef", p.stderr)

    def test_rejects_bad_tables(self):
        for bad, why in [
            ("cuInit\tforwarded\n", "fields"),
            ("cuInit\tmaybe\tcuInit\n", "unknown status"),
            ("cuArrayCreate\tunsupported\tcuArrayCreate\n", "cannot serve"),
            ("cuInit\tforwarded\tcuInit\ncuInit\tforwarded\t-\n", "duplicate"),
            ("cuA\tforwarded\tx\ncuB\tforwarded\tx\n", "two exports"),
            ("notCuda\tunsupported\t-\n", "not a driver API name"),
        ]:
            rc, log, _ = run(bad, "--stubs")
            self.assertNotEqual(rc, 0, bad)
            self.assertIn(why, log, bad)

    def test_check_nm(self):
        with tempfile.TemporaryDirectory() as d:
            table = os.path.join(d, "t.tsv")
            open(table, "w").write(GOOD)
            nm = os.path.join(d, "nm")
            same = "0 T cuInit\n0 T cuMemAlloc_v2\n0 T cuArrayCreate\n"
            open(nm, "w").write(same)
            self.assertEqual(subprocess.run([sys.executable, GEN, table, "--check-nm", nm]).returncode, 0)
            open(nm, "w").write(same + "0 T cuNewFunction\n")
            p = subprocess.run([sys.executable, GEN, table, "--check-nm", nm], capture_output=True, text=True)
            self.assertEqual(p.returncode, 1)
            self.assertIn("cuNewFunction", p.stdout)


if __name__ == "__main__":
    unittest.main()
