"""The client's side of operations.def: Session's proxy methods and the
exports that only forward (export=)."""
import re
import sys

import rpc_ops


def proxy_params(op):
    params = []
    for a in op.args:
        if a.kind == "bulk.in":
            params.append(f"std::span<const ConstBuffer> {a.name}" if a.size == "*" else f"const void* {a.name}")
        elif a.kind == "bulk.out":
            params.append(f"void* {a.name}")
        else:
            params.append(f"{a.cpp_type} {a.name}")
    params += [f"{r.cpp_type}* {r.name}" for r in op.results]
    return ", ".join(params)


def proxies(ops):
    return [op for op in ops if op.client == "proxy"]


def declarations(ops, banner):
    out = [f"// {banner}", "// Session's proxy: one method per operation whose client side is generated.",
           "// Each connects on first use, checks device pointers against the session's",
           "// memory map, and sends; async ones return without waiting (their errors",
           "// come with a later reply)."]
    for op in proxies(ops):
        note = {"async": "async", "sync": "", "wait": f"waits for the {op.wait_target}"}.get(op.mode, "")
        out.append(f"Status {op.name}({proxy_params(op)}) EXCLUDES(mu_);{'  // ' + note if note else ''}")
    return out


def deref_results(op, expr):
    """`expr` with the op's results read through their out-pointers."""
    results = {r.name for r in op.results}
    return re.sub(r"[A-Za-z_]\w*", lambda m: f"(*{m.group(0)})" if m.group(0) in results else m.group(0), expr)


def memory_checks(op):
    out = []
    for a in op.args:
        if a.kind != "dptr":
            continue
        if a.life == "free":
            cond = f"!allocations_.RemoveMalloc({a.name})"
            if a.nullable:
                cond = f"{a.name} != 0 && {cond}"
            out.append(f"  if ({cond}) {{")
            out.append(f'    return Status(cudaErrorInvalidValue, "{op.name}: " + Hex({a.name}) + '
                       f'" is not an allocation of this session");')
        else:
            out.append(f"  if (!allocations_.Contains({a.name}, {a.size})) {{")
            out.append(f'    return Status(cudaErrorInvalidValue, "{op.name}: {a.name} " + Hex({a.name}) + " (" + '
                       f'std::to_string({a.size}) + " bytes) is not inside a device allocation of this session");')
        out.append("  }")
    return out


def new_memory(op, deref):
    out = []
    for r in op.results:
        if r.kind == "dptr" and r.life == "new":
            ptr = f"(*{r.name})" if deref else r.name
            out.append(f"    allocations_.Add({ptr}, {deref_results(op, r.size) if deref else r.size}, "
                       "AllocationTable::Kind::kMalloc);")
    return out


def definition(op):
    out = [f"Status Session::{op.name}({proxy_params(op)}) {{"]
    bulk_in = op.bulk_in()
    if bulk_in:
        # A host function still to run in some stream may write this memory
        # first: the stream would read it after that, so rcuda reads it after too.
        nonempty = f"!{bulk_in.name}.empty()" if bulk_in.size == "*" else f"{bulk_in.size} != 0"
        out.append(f"  if ({nonempty}) RCUDA_RETURN_IF_ERROR(WaitForHostFunctions());")
    out.append("  MutexLock lock(&mu_);")
    out.append("  RCUDA_RETURN_IF_ERROR(ConnectLocked());")
    if op.empty:
        out.append(f"  if ({op.empty} == 0) return Status::Ok();")
    out += memory_checks(op)
    if op.shape == "call":
        packed = ", ".join(f"static_cast<int64_t>({a.name})" for a in op.args)
        out.append(f"  const std::vector<int64_t> args{{{packed}}};")
        if op.mode == "async":
            out.append(f"  return SendGenericLocked(CallOp::k{op.name}, args);")
        elif not op.results:
            out.append(f"  std::vector<int64_t> values;")
            out.append(f"  return CallGenericLocked(CallOp::k{op.name}, args, 0, &values);")
        else:
            n = len(op.results)
            out.append("  std::vector<int64_t> values;")
            out.append(f"  Status s = CallGenericLocked(CallOp::k{op.name}, args, {n}, &values);")
            out.append(f"  if (values.size() >= {n}) {{")
            for i, r in enumerate(op.results):
                out.append(f"    *{r.name} = static_cast<{r.cpp_type}>(values[{i}]);")
            out += new_memory(op, deref=True)
            out.append("  }")
            out.append("  return s;")
        out.append("}")
        return out
    fields = "".join(f", {a.name}" for a in op.wire_args)
    out.append(f"  auto body = wire::Create{op.name}(builder_{fields});")
    request = f"wire::Request::{op.name}"
    if op.mode == "async":
        if bulk_in and bulk_in.size == "*":
            out.append(f"  return SendLocked({request}, body.Union(), {bulk_in.name});")
        elif bulk_in:
            out.append(f"  ConstBuffer bulk{{{bulk_in.name}, {bulk_in.size}}};")
            out.append(f"  return SendLocked({request}, body.Union(), std::span(&bulk, 1));")
        else:
            out.append(f"  return SendLocked({request}, body.Union());")
    elif op.bulk_out():
        data = op.bulk_out()
        out.append("  uint64_t request_id = 0;")
        out.append(f"  RCUDA_RETURN_IF_ERROR(SendLocked({request}, body.Union(), {{}}, &request_id));")
        out.append(f"  return ReceiveLocked(request_id, nullptr, {data.name}, {data.size});")
    elif op.results:
        out.append(f"  const wire::{op.reply}* r = nullptr;")
        out.append(f"  Status s = CallForLocked({request}, body.Union(), &r);")
        out.append("  if (r) {")
        for res in op.results:
            out.append(f"    *{res.name} = r->{res.name}();")
        out += new_memory(op, deref=True)
        out.append("  }")
        out.append("  return s;")
    else:
        out.append(f"  return CallLocked({request}, body.Union());")
    out.append("}")
    return out


def definitions(ops, banner):
    out = [f"// {banner}", '#include "client/session.h"', "", "#include <cstdio>", "#include <string>",
           "#include <vector>", "", "namespace rcuda::client {", "namespace {", "",
           "std::string Hex(uint64_t v) {", "  char buf[32];",
           '  std::snprintf(buf, sizeof buf, "0x%llx", static_cast<unsigned long long>(v));', "  return buf;", "}",
           "", "}  // namespace", ""]
    for op in proxies(ops):
        out += definition(op)
        out.append("")
    out.append("}  // namespace rcuda::client")
    return out


# ---- Exports that only forward ------------------------------------------------

def read_signatures(path):
    sigs = {}
    for number, line in enumerate(open(path), 1):
        line = line.rstrip("\n")
        if not line or line.startswith("#"):
            continue
        fields = line.split("\t")
        sigs[fields[0]] = (number, fields[2], fields[4] if len(fields) > 4 else "")
    return sigs


def parse_signature(text):
    text = text.strip()
    if not (text.startswith("(") and text.endswith(")")):
        return None
    params = []
    for part in filter(None, (p.strip() for p in text[1:-1].split(","))):
        m = re.match(r"^(.*?[\s*&])(\w+)$", part)
        if not m:
            return None
        params.append((m.group(1).strip(), m.group(2)))
    return params


def export(op, name, table, path):
    if name not in table:
        sys.exit(f"{path}: {op.name} exports {name}, which is not in the table")
    number, status, signature = table[name]
    params = parse_signature(signature)
    if status != "forwarded" or params is None:
        sys.exit(f"{path}:{number}: {name} is generated from {op.name}: it needs status forwarded and its C "
                 "parameters in the fifth column, e.g. (size_t* value, cudaLimit limit)")
    by_name = dict((n, t) for t, n in params)
    used = set()
    out = [f"RCUDA_EXPORT cudaError_t {name}({', '.join(f'{t} {n}' for t, n in params)}) {{"]
    for r in op.results:
        if not by_name.get(r.name, "").endswith("*"):
            sys.exit(f"{path}:{number}: {name} has no pointer parameter {r.name} for {op.name}'s result")
        out.append(f"  if (!{r.name}) return Fail(cudaErrorInvalidValue);")
        used.add(r.name)
    if "device" in by_name and "device" not in [a.name for a in op.args]:
        out.append("  Session* session = Runtime::Get().session(device);")
        out.append("  if (!session) return Fail(cudaErrorInvalidDevice);")
        used.add("device")
    else:
        out.append("  RCUDA_CURRENT_SESSION(session);")
    call = []
    for a in op.args:
        if a.name not in by_name:
            sys.exit(f"{path}:{number}: {name} has no parameter {a.name} for {op.name}")
        call.append(f"static_cast<{a.cpp_type}>({a.name})")
        used.add(a.name)
    for r in op.results:
        out.append(f"  {r.cpp_type} {r.name}_value{{}};")
        call.append(f"&{r.name}_value")
    unused = set(by_name) - used
    if unused:
        sys.exit(f"{path}:{number}: {name}'s parameters {', '.join(sorted(unused))} are not {op.name}'s")
    if not op.results:
        out.append(f"  return Return(session->{op.name}({', '.join(call)}));")
    else:
        out.append(f"  rcuda::Status s = session->{op.name}({', '.join(call)});")
        out.append("  if (!s.ok()) return Return(s);")
        for r in op.results:
            out.append(f"  *{r.name} = static_cast<std::remove_pointer_t<decltype({r.name})>>({r.name}_value);")
        out.append("  return cudaSuccess;")
    out.append("}")
    return out


def exports(ops, table_path, banner):
    table = read_signatures(table_path)
    out = [f"// {banner}", "// The exports that only forward to one operation (export= in operations.def):",
           "// pointer results checked, the current device's session (or `device`'s),", "// the call, the results.",
           "#include <type_traits>", "", '#include "client/api_common.h"', "",
           "using namespace rcuda::client;", "", 'extern "C" {', ""]
    for op in ops:
        for name in op.exports:
            out += export(op, name, table, table_path)
            out.append("")
    out.append('}  // extern "C"')
    return out
