"""The forwarding half of gen_library.py: from the `forward` lines of a
library's description (client/libs/<name>.def), both ends of each forwarded
function's LibraryCall (protocol/rpc/operations.def):

  * the client's thunk (write_client_thunks): the export itself, with the
    header's prototype, that encodes the arguments by their kinds
    (client/libs/library_call.h) and sends them through our libcudart's
    session (its private ABI, client/private_library_abi.h);
  * the worker's table (write_worker_table): for each function id, the code
    that decodes those arguments, checks them (handles, device ranges,
    streams; server/library_call.h) and calls the real function, resolved by
    name in the real library the worker dlopen()s.

The encoding, argument by argument, in order (values: LibraryCall.values, an
int64 vector; bytes: LibraryCall.bytes):

  handle, handle.del       value: the handle's id
  handle.new               nothing; the reply's next value is the new id
  stream                   value: the session's stream handle (0: legacy)
  stream.out               nothing; the reply's next value is a stream handle
  i8, i32, i64, enum,
  pointer_mode             value
  u32, u64                 value (u64: its bits, as the int64 they make)
  f32, f64                 value: the float's or double's bits (f32
                           zero-extended), passed to the function by value
  i32.out, enum.out        nothing; the reply's next value
  scalar.T                 value: the pointer mode the client believes in
                           (0 host, 1 device); host: sizeof(T) bytes;
                           device: value, the device pointer
  result.T                 value: the pointer mode; device: value, the
                           pointer; host: the reply's next sizeof(T) bytes
  dptr[SIZE]               value: the device pointer
  dptr?[SIZE]              as dptr[SIZE], or null (passed on: the library
                           decides; cublasSgetrfBatched's P, no pivoting)
  dptr.hook                value: the device pointer, whose range the
                           function's check= hook computes and checks
  u64.out                  nothing; the reply's next value (a size_t's bits)
  handle(C), handle.del(C) value: the id of a handle of class C
  handle.new(C)            nothing; the reply's next value is the new id
  scalar.typed(ARG)        as scalar.T, T the cudaDataType in the enum
                           argument ARG (cuSPARSE's alpha and beta, of the
                           compute type); travels after every other
                           argument, whatever its place in the prototype,
                           so that the worker knows ARG when it reads it
  scalar.compute(CT,DT)    as scalar.T, T the scale type of the cuBLAS
                           compute type in the enum argument CT, complex when
                           the dtype argument DT (C's type) is
                           (common/cublas_scale_type.h: cublasGemmEx's alpha
                           and beta); travels last, as scalar.typed
  dtype                    value: a cudaDataType naming an element type,
                           which the worker refuses unless
                           common/cuda_data_type_bytes.h sizes it; usable
                           in a SIZE as CudaDataTypeBytes(ARG)
  i32s[COUNT]              value: 0 for a null pointer, else 1 and the
                           COUNT ints of a host array (cuFFT's n, inembed,
                           onembed; at most 16); travels last, COUNT being
                           an expression of other arguments; the worker
                           passes its copy (or null), and hooks get an int*;
                           also for a void * the function reads as ints
  i64s[COUNT]              the same of long longs (cuFFT's 64-bit plans)
  i64.out                  nothing; the reply's next value (a long long)
  hscratch[SIZE]           value: 0 for a null pointer, else 1; the
                           client's buffer does not travel: the worker passes
                           a zeroed buffer of its own of SIZE bytes (at least
                           one; at most LibraryCallContext::kMaxHostScratch),
                           and waits for the device to be idle after the call
                           before freeing it (cuSOLVER's 64-bit API's
                           bufferOnHost, scratch the library may use from
                           queued work); travels last, as scalar.typed, SIZE
                           being an expression of other arguments
  dptrs[COUNT][SIZE]       value: the device pointer of an array of COUNT
                           device pointers, each to SIZE bytes (the batched
                           GEMMs' Aarray); the worker reads the array back
                           and checks it and each of its pointers

Handle classes. A library whose calls take several kinds of handle
(cuSPARSE: the library handle, sparse-matrix and dense-vector descriptors)
names each other kind a class: handle.new(spmat), handle(spmat),
handle.del(spmat). The worker records each handle's class and refuses a
handle of another class (a vector descriptor passed as a matrix), and
destroys a class's handles left at the session's end with that class's one
handle.del function. The plain handle kinds are the library handle (class
0), whose pointer mode the scalars follow.

A library whose handles are ints (handle_type=int on the library line:
cuFFT's cufftHandle) passes the id as the int itself; the worker keeps the
real int handle and passes it as an int.

A forward line may name worker hooks (check=HOOK(ARG,...), then=HOOK(...),
declared in the library's hooks_header=): functions of the library's
namespace on the worker, called with the call's context and the named
arguments (decoded: a handle is its session id) or constants; check= before
the call (a nonzero status refuses it), then= after it succeeded. They keep
what the worker must know of a handle to check a later call (cuFFT's plan
shapes, server/cufft_plans.h).

Function ids are the `forward` lines' order in the description.
"""
import re

SCALAR_BYTES = {"f16": 2, "f32": 4, "f64": 8, "c32": 8, "c64": 16,  # c: cuComplex, cuDoubleComplex
                "i32": 4}  # i32: results only (cublasIsamax)
OUT_VALUE_KINDS = ("handle.new", "stream.out", "i32.out", "enum.out", "u64.out", "i64.out")
CLASSED = re.compile(r"^(handle|handle\.new|handle\.del)\((\w+)\)$")
TYPED_SCALAR = re.compile(r"^scalar\.typed\((\w+)\)$")
COMPUTE_SCALAR = re.compile(r"^scalar\.compute\((\w+),(\w+)\)$")
INT_ARRAY = re.compile(r"^i32s\[(.+)\]$")
INT64_ARRAY = re.compile(r"^i64s\[(.+)\]$")
POINTER_ARRAY = re.compile(r"^dptrs\[([^\]]+)\]\[(.+)\]$")
HOST_SCRATCH = re.compile(r"^hscratch\[(.+)\]$")
# The kinds whose values a SIZE or COUNT expression may name.
SIZE_KINDS = ("i8", "i32", "i64", "u32", "u64", "enum", "pointer_mode", "dtype")


def travels_last(kind):
    """Scalars whose size depends on other arguments: the worker must have
    decoded those first."""
    return bool(TYPED_SCALAR.match(kind) or COMPUTE_SCALAR.match(kind) or INT_ARRAY.match(kind) or
                INT64_ARRAY.match(kind) or HOST_SCRATCH.match(kind))


def base_kind(kind):
    """A classed handle kind's plain kind (handle.new(spmat): handle.new)."""
    m = CLASSED.match(kind)
    return m.group(1) if m else kind


def handle_class(kind):
    """The class a handle kind names, None for the library handle."""
    m = CLASSED.match(kind)
    return m.group(2) if m else None


def handle_classes(forwards):
    """The classes the description names, in order of first appearance: the
    worker's class numbers are their positions + 1 (0: the library handle)."""
    classes = []
    for args in forwards.values():
        for _, kind in args:
            c = handle_class(kind)
            if c is not None and c not in classes:
                classes.append(c)
    return classes


def wire_order(args):
    """The arguments in the order they travel: typed scalars last."""
    return ([a for a in args if not travels_last(a[1])] + [a for a in args if travels_last(a[1])])


def forwardable(kind):
    return (kind in ("handle", "handle.new", "handle.del", "stream", "stream.out", "i8", "i32", "i64", "u32", "u64",
                     "f32", "f64", "enum", "pointer_mode", "i32.out", "enum.out", "u64.out", "i64.out", "dptr.hook",
                     "dtype")
            or re.match(r"^(scalar\.(f16|f32|f64|c32|c64)|result\.(f16|f32|f64|c32|c64|i32))$", kind) or re.match(r"^dptr\??\[.+\]$", kind)
            or CLASSED.match(kind) or TYPED_SCALAR.match(kind) or COMPUTE_SCALAR.match(kind)
            or POINTER_ARRAY.match(kind) or INT_ARRAY.match(kind) or INT64_ARRAY.match(kind)
            or HOST_SCRATCH.match(kind))


def check_forwardable(library, forwards, fail):
    for key in ("wire_id", "invalid_value", "lost", "no_room"):
        if key not in library:
            fail(f"the library line needs {key}= to forward")
    if library.get("handle_type", "pointer") not in ("pointer", "int"):
        fail(f"handle_type={library['handle_type']}: a handle is a pointer (the default) or an int")
    hooks = library.get("hooks", {})
    if hooks and "hooks_header" not in library:
        fail("a description with check= or then= hooks needs hooks_header= (where they are declared)")
    for name, args in forwards.items():
        handles = [a for a, k in args if k in ("handle", "handle.del")]
        for arg, kind in args:
            if arg == "ctx" or arg.endswith("_real"):
                # The worker's generated function names its context ctx and
                # a handle's real pointer ARG_real.
                fail(f"{name}: {arg}: an argument name the worker's generated code reserves")
            if not forwardable(kind):
                fail(f"{name}: {arg}: the kind {kind} cannot be forwarded yet")
            if (kind.startswith(("scalar.", "result.")) or kind == "pointer_mode") and not handles:
                fail(f"{name}: {arg}: a {kind} needs the function's handle (its pointer mode)")
            if (kind.startswith(("scalar.", "result.")) or kind == "pointer_mode") and int_handles(library):
                fail(f"{name}: {arg}: a {kind} needs pointer handles (the client keys pointer modes by them)")
            if kind == "dptr.hook" and "check" not in hooks.get(name, {}):
                fail(f"{name}: {arg}: a dptr.hook needs the function's check= hook (which checks its range)")
            if handle_class(kind) is not None and int_handles(library):
                fail(f"{name}: {arg}: handle classes need pointer handles")
            typed = TYPED_SCALAR.match(kind)
            if typed and (typed.group(1), "enum") not in args:
                fail(f"{name}: {arg}: {kind} names {typed.group(1)}, which is not an enum argument of {name}")
            if typed and (not handles or int_handles(library)):
                fail(f"{name}: {arg}: a {kind} needs the function's pointer handle (its pointer mode)")
            compute = COMPUTE_SCALAR.match(kind)
            if compute and ((compute.group(1), "enum") not in args or (compute.group(2), "dtype") not in args):
                fail(f"{name}: {arg}: {kind} names {compute.group(1)} and {compute.group(2)}, which must be an "
                     f"enum and a dtype argument of {name}")
        for which, call in hooks.get(name, {}).items():
            for word in re.match(r"^[\w:]+\((.*)\)$", call).group(1).split(","):
                if word and word not in [a for a, _ in args] and not re.match(r"^[A-Z0-9_]+$", word):
                    fail(f"{name}: {which}={call}: {word} is neither an argument nor a constant")
    deleters = [n for n, args in forwards.items() if any(k == "handle.del" for _, k in args)]
    creators = [n for n, args in forwards.items() if any(k == "handle.new" for _, k in args)]
    if creators and len(deleters) != 1:
        fail("a library that creates handles needs exactly one function that destroys them (handle.del)")
    for c in handle_classes(forwards):
        if len(class_deleters(forwards, c)) != 1:
            fail(f"the handle class {c} needs exactly one function that destroys its handles (handle.del({c}))")
    return deleters[0] if deleters else ""


def class_deleters(forwards, klass):
    return [n for n, args in forwards.items() if f"handle.del({klass})" in [k for _, k in args]]


def int_handles(library):
    return library.get("handle_type") == "int"


def handle_arg(args):
    return next((a for a, k in args if k in ("handle", "handle.del")), None)


# ---- The client's thunks ----------------------------------------------------

def client_thunk(library, function_id, name, args, prototype):
    returns, params = prototype
    signature = ", ".join(f"{t} {n}" if not t.endswith("*") else f"{t}{n}" for t, n in params)
    handle = handle_arg(args)
    lines = [f'extern "C" __attribute__((visibility("default"))) {returns} {name}({signature}) {{',
             f'  rcuda::libs::LibraryCall call({library["wire_id"]}, {function_id}, "{name}", '
             f'{library["invalid_value"]}, {library["lost"]});']
    after = []
    for arg, kind in wire_order(args):
        typed = TYPED_SCALAR.match(kind)
        if handle_class(kind) is not None:
            kind = base_kind(kind)
            if kind == "handle.new":  # no pointer mode to forget at handle.del
                lines.append(f"  call.NeedOut({arg});")
                after.append(f"  *{arg} = reinterpret_cast<std::remove_pointer_t<decltype({arg})>>(call.TakeValue());")
            else:
                lines.append(f"  call.Handle({arg});")
        elif typed:
            lines.append(f"  call.Scalar({handle}, {arg}, rcuda::CudaDataTypeBytes({typed.group(1)}));")
        elif COMPUTE_SCALAR.match(kind):
            compute = COMPUTE_SCALAR.match(kind)
            lines.append(f"  call.Scalar({handle}, {arg}, rcuda::CublasScaleBytes({compute.group(1)}, "
                         f"{compute.group(2)}));")
        elif kind in ("handle", "handle.del") and int_handles(library):
            lines.append(f"  call.Value(static_cast<int64_t>({arg}));")
        elif kind in ("handle", "handle.del"):
            lines.append(f"  call.Handle({arg});")
            if kind == "handle.del":
                after.append(f"  call.ForgetHandle({arg});")
        elif kind == "handle.new":
            lines.append(f"  call.NeedOut({arg});")
            cast = "static_cast" if int_handles(library) else "reinterpret_cast"
            after.append(f"  *{arg} = {cast}<std::remove_pointer_t<decltype({arg})>>(call.TakeValue());")
        elif kind == "stream":
            lines.append(f"  call.Stream({arg});")
        elif kind == "stream.out":
            lines.append(f"  call.NeedOut({arg});")
            after.append(f"  *{arg} = static_cast<std::remove_pointer_t<decltype({arg})>>(call.TakeStream());")
        elif kind in ("i8", "i32", "i64", "u32", "u64", "enum", "dtype"):
            lines.append(f"  call.Value(static_cast<int64_t>({arg}));")
        elif INT_ARRAY.match(kind):
            lines.append(f"  call.Ints(static_cast<const int*>({arg}), static_cast<int64_t>({INT_ARRAY.match(kind).group(1)}));")
        elif INT64_ARRAY.match(kind):
            lines.append(f"  call.Int64s({arg}, static_cast<int64_t>({INT64_ARRAY.match(kind).group(1)}));")
        elif HOST_SCRATCH.match(kind):
            lines.append(f"  call.Value({arg} != nullptr ? 1 : 0);")
        elif kind == "f32":
            lines.append(f"  call.ValueF32({arg});")
        elif kind == "f64":
            lines.append(f"  call.ValueF64({arg});")
        elif kind == "pointer_mode":
            lines.append(f"  call.Value(static_cast<int64_t>({arg}));")
            after.append(f"  call.RecordPointerMode({handle}, static_cast<int64_t>({arg}));")
        elif kind in ("i32.out", "enum.out", "u64.out", "i64.out"):
            lines.append(f"  call.NeedOut({arg});")
            after.append(f"  *{arg} = static_cast<std::remove_pointer_t<decltype({arg})>>(call.TakeValue());")
        elif kind.startswith("scalar."):
            lines.append(f"  call.Scalar({handle}, {arg}, {SCALAR_BYTES[kind.split('.')[1]]});")
        elif kind.startswith("result."):
            lines.append(f"  call.Result({handle}, {arg}, {SCALAR_BYTES[kind.split('.')[1]]});")
            after.append(f"  call.TakeResult({arg}, {SCALAR_BYTES[kind.split('.')[1]]});")
        elif kind.startswith("dptr"):
            lines.append(f"  call.Pointer({arg});")
    values = sum(1 for _, k in args if base_kind(k) in OUT_VALUE_KINDS)
    lines.append(f"  if (!call.Send({values})) return static_cast<{returns}>(call.status());")
    lines += after
    lines.append(f"  return static_cast<{returns}>(call.status());")
    lines.append("}")
    return lines


def write_client_thunks(library, forwards, prototypes, path):
    out = [
        f"// GENERATED by client/libs/gen_library.py (gen_forwarding.py) from",
        f"// client/libs/{library['name']}.def and the toolkit's headers. Do not edit.",
        "// The forwarded exports: each encodes its arguments by their kinds and",
        "// sends one LibraryCall through our libcudart's session.",
        "#include <cstdint>",
        "#include <type_traits>",
        f"#include <{library['header']}>",
        '#include "client/libs/library_call.h"',
    ] + (['#include "common/cuda_data_type_bytes.h"'] if any(
        TYPED_SCALAR.match(k) for args in forwards.values() for _, k in args) else []) + (
        ['#include "common/cublas_scale_type.h"'] if any(
            COMPUTE_SCALAR.match(k) for args in forwards.values() for _, k in args) else []) + [
        "",
    ]
    for function_id, (name, args) in enumerate(forwards.items()):
        out += client_thunk(library, function_id, name, args, prototypes[name]) + [""]
    open(path, "w").write("\n".join(out))


# ---- The worker's table -----------------------------------------------------

def size_expression(expr, names):
    """The SIZE expression in 128-bit arithmetic: no product of hostile
    64-bit values can overflow it."""
    expr = re.sub(r"\babs\(", "Abs128(", expr)
    for n in sorted(names, key=len, reverse=True):
        expr = re.sub(rf"\b{n}\b", f"Wide({n})", expr)
    return expr


C_TYPE = {"handle": "void*", "handle.del": "void*", "handle.new": "void**", "stream": "void*",
          "stream.out": "void**", "i8": "signed char", "i32": "int", "enum": "int", "pointer_mode": "int", "i64": "int64_t",
          "u32": "unsigned int", "u64": "uint64_t", "f32": "float", "f64": "double",
          "i32.out": "int*", "enum.out": "int*", "dtype": "int"}


def c_type(kind, library):
    kind = base_kind(kind)
    if int_handles(library) and kind in ("handle", "handle.del", "handle.new"):
        return "int*" if kind == "handle.new" else "int"
    if kind == "u64.out":
        return "size_t*"
    if INT_ARRAY.match(kind):
        return "int*"
    if INT64_ARRAY.match(kind) or kind == "i64.out":
        return "long long*"
    if kind in C_TYPE:
        return C_TYPE[kind]
    if kind.startswith("scalar."):
        return "const void*"
    return "void*"  # result.T, dptr[...]


def worker_function(library, name, args, classes):
    refuse = "return ctx.invalid_value();"
    handle = handle_arg(args)
    hooks = library.get("hooks", {}).get(name, {})
    lines = [f"int Forward_{name}(LibraryCallContext& ctx) {{"]
    call_args, after, ranges, arrays = {}, [], [], []
    scratch = False
    for arg, kind in wire_order(args):
        typed = TYPED_SCALAR.match(kind)
        klass = handle_class(kind)
        call_args[arg] = None
        if klass is not None:
            number = classes.index(klass) + 1
            if base_kind(kind) == "handle.new":
                lines.append(f"  if (!ctx.HasHandleRoom()) return ctx.no_room();")
                lines.append(f"  void* {arg}_real = nullptr;")
                call_args[arg] = f"&{arg}_real"
                after.append(f"  [[maybe_unused]] const int64_t {arg} = ctx.AddHandle({arg}_real, {number});")
            else:
                lines.append(f"  int64_t {arg} = 0;")
                lines.append(f"  void* {arg}_real = nullptr;")
                lines.append(f"  if (!ctx.Handle(&{arg}, &{arg}_real, {number})) {refuse}")
                call_args[arg] = f"{arg}_real"
                if base_kind(kind) == "handle.del":
                    after.append(f"  ctx.DropHandle({arg});")
        elif typed:
            lines.append(f"  const void* {arg} = nullptr;")
            lines.append(f"  if (!ctx.TypedScalar({handle}, {typed.group(1)}, &{arg})) {refuse}")
            call_args[arg] = arg
        elif COMPUTE_SCALAR.match(kind):
            compute = COMPUTE_SCALAR.match(kind)
            lines.append(f"  const void* {arg} = nullptr;")
            lines.append(f"  if (!ctx.Scalar({handle}, CublasScaleBytes({compute.group(1)}, {compute.group(2)}), "
                         f"&{arg})) {refuse}")
            call_args[arg] = arg
        elif INT_ARRAY.match(kind):
            count = size_expression(INT_ARRAY.match(kind).group(1), [a for a, k in args if k in SIZE_KINDS])
            lines.append(f"  int* {arg} = nullptr;")
            lines.append(f"  if (!ctx.Ints({count}, &{arg})) {refuse}")
            call_args[arg] = arg
        elif INT64_ARRAY.match(kind):
            count = size_expression(INT64_ARRAY.match(kind).group(1), [a for a, k in args if k in SIZE_KINDS])
            lines.append(f"  long long* {arg} = nullptr;")
            lines.append(f"  if (!ctx.Int64s({count}, &{arg})) {refuse}")
            call_args[arg] = arg
        elif HOST_SCRATCH.match(kind):
            size = size_expression(HOST_SCRATCH.match(kind).group(1), [a for a, k in args if k in SIZE_KINDS])
            lines.append(f"  void* {arg} = nullptr;")
            lines.append(f"  if (!ctx.HostScratch({size}, &{arg})) {refuse}")
            call_args[arg] = arg
            scratch = True
        elif kind in ("handle", "handle.del") and int_handles(library):
            lines.append(f"  int64_t {arg} = 0;")
            lines.append(f"  int {arg}_real = 0;")
            lines.append(f"  if (!ctx.IntHandle(&{arg}, &{arg}_real)) {refuse}")
            call_args[arg] = f"{arg}_real"
            if kind == "handle.del":
                after.append(f"  ctx.DropHandle({arg});")
        elif kind == "handle.new" and int_handles(library):
            lines.append(f"  if (!ctx.HasHandleRoom()) return ctx.no_room();")
            lines.append(f"  int {arg}_real = 0;")
            call_args[arg] = f"&{arg}_real"
            after.append(f"  [[maybe_unused]] const int64_t {arg} = ctx.AddIntHandle({arg}_real);")
        elif kind in ("handle", "handle.del"):
            lines.append(f"  int64_t {arg} = 0;")
            lines.append(f"  void* {arg}_real = nullptr;")
            lines.append(f"  if (!ctx.Handle(&{arg}, &{arg}_real)) {refuse}")
            call_args[arg] = f"{arg}_real"
            if kind == "handle.del":
                after.append(f"  ctx.DropHandle({arg});")
        elif kind == "handle.new":
            lines.append(f"  if (!ctx.HasHandleRoom()) return ctx.no_room();")
            lines.append(f"  void* {arg}_real = nullptr;")
            call_args[arg] = f"&{arg}_real"
            after.append(f"  ctx.AddHandle({arg}_real);")
        elif kind == "stream":
            lines.append(f"  void* {arg}_native = nullptr;")
            lines.append(f"  if (!ctx.Stream(&{arg}_native)) {refuse}")
            call_args[arg] = f"{arg}_native"
        elif kind == "stream.out":
            lines.append(f"  void* {arg}_native = nullptr;")
            call_args[arg] = f"&{arg}_native"
            after.append(f"  if (!ctx.OutStream({arg}_native)) {refuse}")
        elif kind in ("i32", "enum", "pointer_mode", "dtype"):
            lines.append(f"  int64_t {arg} = 0;")
            check = {"pointer_mode": "ctx.PointerMode", "dtype": "ctx.DataType"}.get(kind, "ctx.Int32")
            lines.append(f"  if (!{check}(&{arg})) {refuse}")
            call_args[arg] = f"static_cast<int>({arg})"
            if kind == "pointer_mode":
                after.append(f"  ctx.SetPointerMode({handle}, {arg});")
        elif kind == "i8":
            lines.append(f"  int64_t {arg} = 0;")
            lines.append(f"  if (!ctx.Value(&{arg}) || {arg} < -128 || {arg} > 127) {refuse}")
            call_args[arg] = f"static_cast<signed char>({arg})"
        elif kind == "i64":
            lines.append(f"  int64_t {arg} = 0;")
            lines.append(f"  if (!ctx.Value(&{arg})) {refuse}")
            call_args[arg] = arg
        elif kind == "u32":
            lines.append(f"  int64_t {arg} = 0;")
            lines.append(f"  if (!ctx.UInt32(&{arg})) {refuse}")
            call_args[arg] = f"static_cast<unsigned int>({arg})"
        elif kind == "u64":
            lines.append(f"  uint64_t {arg} = 0;")
            lines.append(f"  if (!ctx.UInt64(&{arg})) {refuse}")
            call_args[arg] = arg
        elif kind in ("f32", "f64"):
            lines.append(f"  {C_TYPE[kind]} {arg} = 0;")
            lines.append(f"  if (!ctx.{'Float32' if kind == 'f32' else 'Float64'}(&{arg})) {refuse}")
            call_args[arg] = arg
        elif kind in ("i32.out", "enum.out"):
            lines.append(f"  int {arg} = 0;")
            call_args[arg] = f"&{arg}"
            after.append(f"  ctx.OutValue({arg});")
        elif kind == "i64.out":
            lines.append(f"  long long {arg} = 0;")
            call_args[arg] = f"&{arg}"
            after.append(f"  ctx.OutValue(static_cast<int64_t>({arg}));")
        elif kind == "u64.out":
            lines.append(f"  size_t {arg} = 0;")
            call_args[arg] = f"&{arg}"
            after.append(f"  ctx.OutValue(static_cast<int64_t>({arg}));")
        elif kind == "dptr.hook":
            lines.append(f"  int64_t {arg} = 0;")
            lines.append(f"  if (!ctx.Value(&{arg})) {refuse}")
            call_args[arg] = f"reinterpret_cast<void*>({arg})"
        elif kind.startswith("scalar."):
            lines.append(f"  const void* {arg} = nullptr;")
            lines.append(f"  if (!ctx.Scalar({handle}, {SCALAR_BYTES[kind.split('.')[1]]}, &{arg})) {refuse}")
            call_args[arg] = arg
        elif kind.startswith("result."):
            lines.append(f"  void* {arg} = nullptr;")
            lines.append(f"  if (!ctx.Result({handle}, {SCALAR_BYTES[kind.split('.')[1]]}, &{arg})) {refuse}")
            call_args[arg] = arg
        elif kind.startswith(("dptr[", "dptr?[")):
            lines.append(f"  int64_t {arg} = 0;")
            lines.append(f"  if (!ctx.Value(&{arg})) {refuse}")
            call_args[arg] = f"reinterpret_cast<void*>({arg})"
            ranges.append((arg, kind[kind.index("[") + 1:-1], kind.startswith("dptr?")))
        elif POINTER_ARRAY.match(kind):
            lines.append(f"  int64_t {arg} = 0;")
            lines.append(f"  if (!ctx.Value(&{arg})) {refuse}")
            call_args[arg] = f"reinterpret_cast<void*>({arg})"
            arrays.append((arg, POINTER_ARRAY.match(kind).group(1), POINTER_ARRAY.match(kind).group(2)))
    lines.append(f"  if (!ctx.Finished()) {refuse}")
    if "check" in hooks:
        lines.append(f"  if (int refused = {hook_call(hooks['check'])}; refused != 0) return refused;")
    scalar_names = [a for a, k in args if k in SIZE_KINDS]
    for arg, size, nullable in ranges:
        null_passes = f"{arg} != 0 && " if nullable else ""
        lines.append(f"  if ({null_passes}!ctx.DeviceRange({arg}, {size_expression(size, scalar_names)})) {refuse}")
    for arg, count, size in arrays:
        lines.append(f"  if (!ctx.DevicePointerArray({arg}, {size_expression(count, scalar_names)}, "
                     f"{size_expression(size, scalar_names)})) {refuse}")
    types = ", ".join(c_type(k, library) for _, k in args)
    lines.append(f"  using Fn = int (*)({types});")
    lines.append(f'  auto fn = reinterpret_cast<Fn>(ctx.Resolve("{name}"));')
    lines.append("  if (fn == nullptr) return ctx.not_supported();")
    lines.append(f"  int status = fn({', '.join(call_args[a] for a, _ in args)});")
    if scratch:
        lines.append("  ctx.SettleHostScratch();")
    lines.append("  if (status != 0) return status;")
    lines += after
    if "then" in hooks:
        lines.append(f"  {hook_call(hooks['then'])};")
    lines.append("  ctx.EmitResults();")
    lines.append("  return status;")
    lines.append("}")
    return lines


def hook_call(call):
    """HOOK(A,B) -> HOOK(ctx, A, B): the call's context first."""
    name, _, rest = call.partition("(")
    args = [a for a in rest[:-1].split(",") if a]
    return f"{name}({', '.join(['ctx'] + args)})"


def write_worker_table(library, forwards, deleter, path):
    ns = library["name"]
    env = "RCUDA_WORKER_LIB" + ns.upper()
    out = [
        f"// GENERATED by client/libs/gen_library.py (gen_forwarding.py) from",
        f"// client/libs/{ns}.def. Do not edit. Included by server/library_registry.cc.",
        f"// The worker's side of {library['soname']}'s LibraryCall: one function per",
        "// function id, which decodes and checks the arguments by their kinds",
        "// (server/library_call.h) and calls the real function.",
        f"#include <{library['header']}>",
    ] + ([f'#include "{library["hooks_header"]}"'] if "hooks_header" in library else []) + [
        '#include "common/cublas_scale_type.h"',
        '#include "common/cuda_data_type_bytes.h"',
        "",
        f"namespace rcuda::library::{ns} {{",
        "namespace {",
        "",
    ]
    classes = handle_classes(forwards)
    for name, args in forwards.items():
        out += worker_function(library, name, args, classes) + [""]
    if classes:
        out.append("// The function that destroys each handle class's handles (class 1, 2, ...).")
        out.append("const char* const kClassDestroyers[] = {")
        out += [f'    "{class_deleters(forwards, c)[0]}",  // {c}' for c in classes]
        out.append("};")
        out.append("")
    out.append("const LibraryFunction kFunctions[] = {")
    out += [f'    {{"{name}", Forward_{name}}},' for name in forwards]
    out.append("};")
    out.append("")
    out.append("}  // namespace")
    out.append("")
    out.append("const LibraryDescription kDescription = {")
    out.append(f'    "{ns}", "{library["soname"]}", "{env}", {library["wire_id"]},')
    out.append(f"    kFunctions, sizeof kFunctions / sizeof kFunctions[0],")
    out.append(f'    "{deleter}", {library["invalid_value"]}, {library["not_supported"]}, {library["no_room"]},')
    if int_handles(library):
        out.append("    /*int_handles=*/true,")
    if classes:
        out.append(f"    /*int_handles=*/false, kClassDestroyers, {len(classes)},")
    out.append("};")
    out.append("")
    out.append(f"}}  // namespace rcuda::library::{ns}")
    open(path, "w").write("\n".join(out) + "\n")
