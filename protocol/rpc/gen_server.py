"""The server's side of operations.def: SessionWorker's dispatcher.

For every request it checks, in this order and from the description alone:
the request's table is there, bulk data comes only with the requests that
carry it (and its size is the announced one), every handle argument names an
object of its kind this session holds (server/handle_table.h), every device
pointer lies in memory this session allocated, and a session at its cap of
handles creates no more. Only then does it call the executor, a hook or a
handler. It keeps the handle and memory tables as the results say, and
answers (or records the error for the next answer, for async requests).
"""
import rpc_ops

WAIT_TARGETS = {"device": "kDevice", "stream": "kStream", "event": "kEvent"}


def hook_params(op):
    if op.shape == "hand":
        params = [f"const wire::{op.name}& r"]
    else:
        params = []
        for a in op.args:
            params.append(f"{a.cpp_type} {a.name}")
            if a.kind == "dptr" and a.life == "free":
                params.append(f"uint64_t {a.name}_bytes")
    params += [f"{r.cpp_type}* {r.name}" for r in op.results]
    return ", ".join(params)


def handler_params(op):
    params = [f"const wire::{op.name}& r"]
    if op.replies or op.mode == "hand":
        params.append("uint64_t id")
    if op.bulk in ("required", "optional"):
        params.append("uint64_t bulk_bytes")
    return ", ".join(params)


def served(ops):
    return [op for op in ops if op.server != "none"]


def declarations(ops, banner):
    out = [f"// {banner}",
           "// The dispatcher: Serve hands each request to its Serve<Op>, which checks it",
           "// by the description (table, bulk data, handles, device memory, the handle",
           "// cap) before anything runs.",
           "Status Serve(const wire::Message& m, uint64_t bulk_bytes);"]
    for op in served(ops):
        if op.shape == "call":
            out.append(f"Status Serve{op.name}(uint64_t id, std::span<const int64_t> args);")
        else:
            out.append(f"Status Serve{op.name}(const wire::Message& m, uint64_t bulk_bytes);")
    if any(op.shape == "call" for op in ops):
        out.append("Status ServeCall(const wire::Message& m, uint64_t bulk_bytes);")
    out.append("// Hooks (server=hook): the semantics beyond forwarding, by hand; the")
    out.append("// dispatcher answers with what they return.")
    for op in served(ops):
        if op.server == "hook":
            out.append(f"Status On{op.name}({hook_params(op)});")
    out.append("// Handlers (server=hand): they answer, or not, themselves.")
    for op in served(ops):
        if op.server == "hand":
            out.append(f"Status Handle{op.name}({handler_params(op)});")
    return out


def decode(op):
    out = []
    if op.shape == "call":
        n = len(op.args)
        out.append(f"  if (args.size() != {n}) {{")
        out.append(f'    return Status::Corruption("call {op.name} with " + std::to_string(args.size()) + '
                   f'" arguments instead of {n}");')
        out.append("  }")
        for i, a in enumerate(op.args):
            out.append(f"  const {a.cpp_type} {a.name} = static_cast<{a.cpp_type}>(args[{i}]);")
        return out
    # A handler (server=hand) reads the table itself: what it does not need
    # of these is unused, not a mistake.
    unused = "[[maybe_unused]] " if op.server == "hand" else ""
    for a in op.wire_args:
        out.append(f"  {unused}const {a.cpp_type} {a.name} = r->{a.name}();")
    return out


def bulk_policy(op):
    if op.shape == "call" or op.bulk in ("optional", "any"):
        return []
    if op.bulk == "required":
        return ["  if (!bulk_bytes) return Status::Corruption(\"%s without its bulk data\");" % op.name]
    if op.bulk == "exact":
        size = op.bulk_in().size
        return [f"  if (bulk_bytes != {size}) {{",
                f'    return Status::Corruption("{op.name}: its bulk data does not match its size (" + '
                f'std::to_string(bulk_bytes) + " bytes, " + std::to_string({size}) + " announced)");',
                "  }"]
    return [f'  if (bulk_bytes) return Status::Corruption("unexpected bulk data with {op.name}");']


def checks(op):
    out = []
    for a in op.args:
        if a.is_handle:
            cond = f"s.ok() && {a.name} != 0" if a.nullable else "s.ok()"
            out.append(f'  if ({cond}) s = CheckHandle(HandleKind::{rpc_ops.HANDLES[a.kind]}, {a.name}, '
                       f'"{op.name}", "{a.name}");')
    for a in op.args:
        if a.kind == "dptr" and a.life != "free":
            out.append(f'  if (s.ok()) s = CheckMemory("{op.name}", "{a.name}", {a.name}, {a.size});')
    if any(r.is_handle and r.life == "new" for r in op.results):
        out.append("  if (s.ok() && !handles_.HasRoom()) s = TooManyHandles();")
    # Last, once nothing else can refuse the request: a freed pointer leaves
    # the session's memory map.
    for a in op.args:
        if a.kind == "dptr" and a.life == "free":
            out.append(f"  uint64_t {a.name}_bytes = 0;")
            cond = f"s.ok() && {a.name} != 0" if a.nullable else "s.ok()"
            out.append(f'  if ({cond}) s = TakeAllocation("{op.name}", {a.name}, &{a.name}_bytes);')
    return out


def refuse(op, id_expr):
    has_bulk = op.shape != "call" and op.bulk in ("exact", "any", "required", "optional")
    discard = ["    RCUDA_RETURN_IF_ERROR(DiscardBulk(*connection_, bulk_bytes));"] if has_bulk else []
    out = ["  if (!s.ok()) {"] + discard
    if op.mode == "async":
        out += ["    RecordAsyncError(s);", "    return Status::Ok();"]
    elif op.mode == "hand":
        out += [f"    if ({op.reply_when}) {{", "      builder_.Clear();", f"      return SendReply({id_expr}, s);",
                "    }", "    RecordAsyncError(s);", "    return Status::Ok();"]
    else:
        out += ["    builder_.Clear();", f"    return SendReply({id_expr}, s);"]
    out.append("  }")
    return out


def perform(op):
    args = [a.name for a in op.args if not a.is_bulk]
    results = [f"&{r.name}" for r in op.results]
    out = [f"  {r.cpp_type} {r.name}{{}};" for r in op.results]
    if op.server == "hook":
        if op.shape == "hand":
            params = ["*r"] + results
        else:
            params = []
            for a in op.args:
                params.append(a.name)
                if a.kind == "dptr" and a.life == "free":
                    params.append(f"{a.name}_bytes")
            params += results
        out.append(f"  s = On{op.name}({', '.join(params)});")
    elif op.shape == "call":
        out.append(f"  s = calls::{op.name}({', '.join(['*executor_'] + args + results)});")
    elif op.bulk_in():
        reader = ["bulk_bytes", "read"] if op.bulk_in().size == "*" else ["read"]
        params = ", ".join(args + reader + results)
        out.append(f"  return ConsumeBulk(bulk_bytes, [&](const ChunkReader& read) {{")
        out.append(f"    return executor_->{op.exec_name}({params});")
        out.append("  });")
        return out, True
    else:
        out.append(f"  s = executor_->{op.exec_name}({', '.join(args + results)});")
    return out, False


def bookkeeping(op):
    out = []
    for r in op.results:
        if r.is_handle and r.life in ("new", "known"):
            counted = "true" if r.life == "new" else "false"
            out.append(f"    handles_.Add(HandleKind::{rpc_ops.HANDLES[r.kind]}, {r.name}, /*counted=*/{counted});")
        if r.kind == "dptr" and r.life == "new":
            out.append(f"    allocations_.Add({r.name}, {r.size}, AllocationTable::Kind::kMalloc);")
    for a in op.args:
        if a.is_handle and a.life == "del":
            out.append(f"    handles_.Remove(HandleKind::{rpc_ops.HANDLES[a.kind]}, {a.name});")
    if not out:
        return []
    return ["  if (s.ok()) {"] + out + ["  }"]


def answer(op, id_expr):
    if op.mode == "async":
        return ["  RecordAsyncError(s);", "  return Status::Ok();"]
    out = ["  builder_.Clear();"]
    if op.shape == "call":
        values = ", ".join(f"static_cast<int64_t>({r.name})" for r in op.results)
        out.append(f"  std::vector<int64_t> values;")
        if values:
            out.append(f"  if (s.ok()) values = {{{values}}};")
        out.append("  auto body = wire::CreateCallReplyDirect(builder_, &values);")
        out.append(f"  return SendReply({id_expr}, s, wire::ReplyBody::CallReply, body.Union());")
    elif op.reply:
        fields = "".join(f", {r.name}" for r in op.results)
        out.append(f"  auto body = wire::Create{op.reply}(builder_{fields});")
        out.append(f"  return SendReply({id_expr}, s, wire::ReplyBody::{op.reply}, body.Union());")
    else:
        out.append(f"  return SendReply({id_expr}, s);")
    return out


def serve(op):
    if op.shape == "call":
        out = [f"Status SessionWorker::Serve{op.name}(uint64_t id, std::span<const int64_t> args) {{"]
        id_expr = "id"
    else:
        out = [f"Status SessionWorker::Serve{op.name}(const wire::Message& m, uint64_t bulk_bytes) {{",
               f"  const wire::{op.name}* r = m.request_as_{op.name}();",
               f'  if (!r) return Status::Corruption("{op.name} without its table");']
        id_expr = "m.id()"
    decoded = decode(op)
    policy = bulk_policy(op)
    if op.bulk == "exact":
        out += decoded + policy  # the announced size is an argument
    else:
        out += policy + decoded
    checked = checks(op)
    uses_status = op.server not in ("hand",) and op.mode != "wait"
    if checked or uses_status:
        out.append("  Status s;")
    out += checked
    if checked:
        out += refuse(op, id_expr)
    if op.server == "hand":
        params = ["*r"]
        if op.replies or op.mode == "hand":
            params.append(id_expr)
        if op.bulk in ("required", "optional"):
            params.append("bulk_bytes")
        out.append(f"  return Handle{op.name}({', '.join(params)});")
    elif op.mode == "wait":
        handle = op.args[0].name if op.args else "0"
        out.append(f"  return WaitThenReply({id_expr}, Executor::WaitTarget::{WAIT_TARGETS[op.wait_target]}, {handle});")
    else:
        body, returned = perform(op)
        out += body
        if not returned:
            out += bookkeeping(op)
            if op.after:
                out.append(f"  {op.after}();")
            out += answer(op, id_expr)
    out.append("}")
    return out


def definitions(ops, banner):
    out = [f"// {banner}", '#include "server/session_worker.h"', "", "#include <string>", "#include <vector>", "",
           '#include "protocol/call_ops.h"', '#include "server/executor_calls.h"', "", "namespace rcuda {", "",
           "Status SessionWorker::Serve(const wire::Message& m, uint64_t bulk_bytes) {",
           "  switch (m.request_type()) {"]
    for member in rpc_ops.request_members(ops):
        op = next(o for o in ops if o.member == member)
        if op.server == "none":
            out.append(f"    case wire::Request::{member}:")
            out.append(f'      return Status::Corruption("a second {member} in one session");')
        else:
            out.append(f"    case wire::Request::{member}: return Serve{member}(m, bulk_bytes);")
    out += ["    default:", "      break;", "  }",
            '  return Status::Corruption("unknown request type " + std::to_string(static_cast<int>(m.request_type())));',
            "}", ""]
    calls = [op for op in served(ops) if op.shape == "call"]
    if calls:
        out += ["Status SessionWorker::ServeCall(const wire::Message& m, uint64_t bulk_bytes) {",
                "  const wire::Call* r = m.request_as_Call();",
                '  if (!r) return Status::Corruption("Call without its table");',
                '  if (bulk_bytes) return Status::Corruption("unexpected bulk data with Call");',
                "  std::span<const int64_t> args;",
                "  if (r->args()) args = std::span(r->args()->data(), r->args()->size());",
                "  switch (static_cast<CallOp>(r->op())) {"]
        out += [f"    case CallOp::k{op.name}: return Serve{op.name}(m.id(), args);" for op in calls]
        out += ["  }", "  builder_.Clear();",
                '  return SendReply(m.id(), Status::NotSupported("call " + std::to_string(r->op()) + '
                '" is not supported by this server"));', "}", ""]
    for op in served(ops):
        out += serve(op)
        out.append("")
    out.append("}  // namespace rcuda")
    return out
