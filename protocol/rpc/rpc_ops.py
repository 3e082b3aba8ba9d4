"""The model of protocol/rpc/operations.def: parsing and checking it.

Each operation is one line (a line that starts with whitespace continues the
one before it):

    Name  mode  [shape=hand]  [(args)]  [-> [Reply][(results)]]  [key=value ...]

The format is documented in protocol/rpc/README.md; everything the generators
rely on is checked here, so that a wrong description fails the build with its
line number rather than producing code that does not compile.
"""
import re
import sys
from dataclasses import dataclass, field

SCALARS = {
    # kind: (C++ type, flatbuffers type)
    "u8": ("uint8_t", "ubyte"),
    "u32": ("uint32_t", "uint32"),
    "i32": ("int32_t", "int32"),
    "u64": ("uint64_t", "uint64"),
    "i64": ("int64_t", "int64"),
    "f32": ("float", "float"),
    "bool": ("bool", "bool"),
}
# Handle kinds: the server keeps a table of each (server/handle_table.h).
HANDLES = {
    "stream": "kStream",
    "event": "kEvent",
    "function": "kFunction",
    "graph_exec": "kGraphExec",
    "pool": "kPool",
    "array": "kArray",
    "texture": "kTexture",
    "surface": "kSurface",
    "mipmap": "kMipmap",
}
MODES = ("async", "sync", "hand", "wait")
WAIT_TARGETS = ("device", "stream", "event")
KEYS = {"shape", "call", "exec", "server", "client", "empty", "after", "reply_when", "export", "bulk"}
RESERVED = {"r", "s", "m", "b", "read", "body", "args", "values", "lock", "reply", "bulk", "bulk_bytes",
            "request_id"}


@dataclass
class Param:
    name: str
    kind: str          # a SCALARS key, a HANDLES key, "dptr" or "bulk.in" / "bulk.out"
    life: str = ""     # handles: "", "new", "known", "del"; dptr: "", "new", "free"
    nullable: bool = False
    size: str = ""     # dptr and bulk: the byte count (a C++ expression of the op's names; "*": any)

    @property
    def is_handle(self):
        return self.kind in HANDLES

    @property
    def is_bulk(self):
        return self.kind.startswith("bulk.")

    @property
    def cpp_type(self):
        """The type of the value itself (results are passed as pointers to it)."""
        if self.kind in SCALARS:
            return SCALARS[self.kind][0]
        return "uint64_t"  # handles and device pointers

    @property
    def fbs_type(self):
        return SCALARS[self.kind][1] if self.kind in SCALARS else "uint64"


@dataclass
class Op:
    name: str
    line: int
    mode: str
    wait_target: str = ""
    shape: str = "table"        # table | hand | call
    call: int = 0
    args: list = field(default_factory=list)
    results: list = field(default_factory=list)
    reply: str = ""             # the reply table, "" when the reply has no body
    reply_hand: bool = False    # the reply table is written by hand in rcuda.fbs
    server: str = "exec"        # exec | hook | hand | none
    client: str = "proxy"       # proxy | hand | none
    exec_name: str = ""
    empty: str = ""
    after: str = ""
    reply_when: str = ""
    exports: list = field(default_factory=list)
    bulk: str = "none"          # none | exact | any | required | optional | out

    @property
    def member(self):
        """Its member of the wire's Request union."""
        return "Call" if self.shape == "call" else self.name

    @property
    def replies(self):
        """Whether the server answers it (hand ops: when reply_when holds)."""
        return self.mode in ("sync", "wait")

    @property
    def wire_args(self):
        return [a for a in self.args if not a.is_bulk]

    def bulk_in(self):
        return next((a for a in self.args if a.kind == "bulk.in"), None)

    def bulk_out(self):
        return next((a for a in self.args if a.kind == "bulk.out"), None)


def fail(path, line, message):
    sys.exit(f"{path}:{line}: {message}")


PARAM_RE = re.compile(r"^(\w+)\s*:\s*([a-z_0-9]+(?:\.[a-z]+)?)(\?)?(?:\[([^\]]+)\])?$")


def parse_param(path, line, text, result):
    m = PARAM_RE.match(text.strip())
    if not m:
        fail(path, line, f"cannot read the parameter {text.strip()!r} (expected name: kind)")
    name, kind, nullable, size = m.group(1), m.group(2), bool(m.group(3)), m.group(4) or ""
    if name in RESERVED:
        fail(path, line, f"{name!r} is reserved for the generated code")
    life = ""
    base = kind
    if "." in kind and not kind.startswith("bulk."):
        base, life = kind.split(".", 1)
    p = Param(name, base, life, nullable, size.strip())
    if base in SCALARS:
        if life or nullable or size:
            fail(path, line, f"{name}: a scalar takes no suffix")
    elif base in HANDLES:
        if size:
            fail(path, line, f"{name}: a handle has no size")
        allowed = ("new", "known") if result else ("", "del")
        if life not in allowed and not (result and life == ""):
            fail(path, line, f"{name}: {kind} cannot be {'a result' if result else 'an argument'}")
    elif base == "dptr":
        allowed = ("new",) if result else ("", "free")
        if life not in allowed:
            fail(path, line, f"{name}: {kind} cannot be {'a result' if result else 'an argument'}")
        if life != "free" and not size:
            fail(path, line, f"{name}: a device pointer needs its size, dptr[expr]")
        if life == "free" and size:
            fail(path, line, f"{name}: a freed pointer's size is the allocation's")
    elif base in ("bulk.in", "bulk.out"):
        if result:
            fail(path, line, f"{name}: bulk data is an argument")
        if not size:
            fail(path, line, f"{name}: bulk data needs its size, {base}[expr] ({base}[*]: any)")
        if base == "bulk.out" and size == "*":
            fail(path, line, f"{name}: a reply's bulk needs a known size")
    else:
        fail(path, line, f"{name}: unknown kind {kind!r}")
    return p


def split_params(path, line, text, result):
    text = text.strip()
    if not text:
        return []
    return [parse_param(path, line, part, result) for part in text.split(",")]


def scan(path, line, rest):
    """Splits what follows the mode into (args, reply, results, keys)."""
    args = results = None
    reply = ""
    keys = {}
    i = 0
    while i < len(rest):
        c = rest[i]
        if c.isspace():
            i += 1
            continue
        m = re.match(r"(\w+)=(\S+)", rest[i:])
        if m:
            if m.group(1) not in KEYS:
                fail(path, line, f"unknown key {m.group(1)!r}")
            keys[m.group(1)] = m.group(2)
            i += m.end()
            continue
        if c == "(":
            j = rest.index(")", i)
            if args is not None:
                fail(path, line, "two argument lists")
            args = rest[i + 1:j]
            i = j + 1
            continue
        if rest.startswith("->", i):
            m = re.match(r"->\s*(\w*)\s*(\(([^)]*)\))?", rest[i:])
            reply = m.group(1)
            results = m.group(3) if m.group(2) else None
            if not reply and results is None:
                fail(path, line, "-> needs a reply table or results")
            i += m.end()
            continue
        fail(path, line, f"cannot read {rest[i:]!r}")
    return args, reply, results, keys


def parse_line(path, line, text):
    m = re.match(r"^(\w+)\s+(async|sync|hand|wait:(\w+))(\s.*)?$", text)
    if not m:
        fail(path, line, "expected: Name mode ...")
    op = Op(m.group(1), line, m.group(2).split(":")[0], wait_target=m.group(3) or "")
    args, reply, results, keys = scan(path, line, m.group(4) or "")
    if op.mode == "wait" and op.wait_target not in WAIT_TARGETS:
        fail(path, line, f"wait:{op.wait_target}: the target is one of {', '.join(WAIT_TARGETS)}")
    op.shape = keys.get("shape", "call" if "call" in keys else "table")
    if op.shape not in ("table", "hand", "call"):
        fail(path, line, f"shape={op.shape}: table or hand")
    if "call" in keys:
        if op.shape != "call":
            fail(path, line, "call=N is its own shape")
        op.call = int(keys["call"])
    op.args = split_params(path, line, args or "", False)
    op.results = split_params(path, line, results or "", True)
    op.server = keys.get("server", "exec")
    op.client = keys.get("client", "proxy")
    op.exec_name = keys.get("exec", op.name)
    op.empty = keys.get("empty", "")
    op.after = keys.get("after", "")
    op.reply_when = keys.get("reply_when", "")
    op.exports = [e for e in keys.get("export", "").split(",") if e]
    if op.shape == "call":
        op.reply = "CallReply" if op.mode != "async" else ""
    elif reply:
        op.reply = reply
        op.reply_hand = results is None
    elif op.results:
        op.reply = op.name + "Reply"
    bulk_in, bulk_out = op.bulk_in(), op.bulk_out()
    if op.shape == "hand":
        op.bulk = keys.get("bulk", "none")
        if op.bulk not in ("none", "required", "optional"):
            fail(path, line, f"bulk={op.bulk}: none, required or optional")
    elif "bulk" in keys:
        fail(path, line, "bulk= is for hand-shaped tables; describe the data as a bulk.in argument")
    elif bulk_in:
        op.bulk = "any" if bulk_in.size == "*" else "exact"
    elif bulk_out:
        op.bulk = "out"
    check(path, op)
    return op


def names_in(expr):
    return set(re.findall(r"[A-Za-z_]\w*", expr))


def check(path, op):
    line = op.line
    names = [p.name for p in op.args + op.results]
    if len(set(names)) != len(names):
        fail(path, line, "a name appears twice")
    if op.server not in ("exec", "hook", "hand", "none"):
        fail(path, line, f"server={op.server}: exec, hook, hand or none")
    if op.client not in ("proxy", "hand", "none"):
        fail(path, line, f"client={op.client}: proxy, hand or none")
    for p in op.args + op.results:
        if p.size and p.size != "*":
            unknown = names_in(p.size) - set(names)
            if unknown:
                fail(path, line, f"{p.name}: its size names {', '.join(sorted(unknown))}, not a name of {op.name}")
    if op.empty and op.empty not in [a.name for a in op.args]:
        fail(path, line, f"empty={op.empty}: not an argument")
    if sum(1 for a in op.args if a.is_bulk) > 1:
        fail(path, line, "one bulk argument at most")
    if op.mode == "hand":
        if op.server != "hand" or not op.reply_when:
            fail(path, line, "a hand op is served by hand and says when it is answered (reply_when=)")
    elif op.reply_when:
        fail(path, line, "reply_when= is for hand ops")
    if op.mode == "async" and (op.results or op.reply):
        fail(path, line, "an async op has no reply")
    if op.mode == "wait":
        want = [] if op.wait_target == "device" else [op.wait_target]
        if [a.kind for a in op.args] != want or op.results or op.server != "exec":
            fail(path, line, f"a wait:{op.wait_target} op takes {want or 'no argument'} and returns nothing")
    if op.shape == "call":
        for p in op.args + op.results:
            if p.is_bulk or p.kind in ("f32", "bool"):
                fail(path, line, f"{p.name}: a generic call carries integers only")
    if op.shape == "hand":
        if op.server not in ("hand", "hook", "none") or op.client == "proxy":
            fail(path, line, "a hand-shaped table is served and sent by hand (server=hand or hook, client=hand)")
        for a in op.args:
            if not a.is_handle or a.life:
                fail(path, line, f"{a.name}: a hand-shaped op lists only the handle fields the dispatcher checks")
    if op.server == "hand" and op.results:
        fail(path, line, "a hand-served op builds its own reply; list no results")
    if op.exports:
        if op.client != "proxy" or op.server == "none":
            fail(path, line, "export= needs the generated proxy")
        for p in op.args + op.results:
            if p.kind not in SCALARS:
                fail(path, line, f"export=: {p.name} is not a scalar; write that export by hand")
    if op.bulk_in() and op.mode != "async":
        fail(path, line, "bulk data in a request is for async ops (an error reading it comes with a later reply)")
    if op.bulk_out() and op.server != "hand":
        fail(path, line, "a reply with bulk data is served by hand (it streams)")


def read_ops(path):
    ops = []
    pending = None
    for number, raw in enumerate(open(path), 1):
        text = re.sub(r"(^|\s)#.*$", "", raw.rstrip("\n")).rstrip()
        if not text.strip():
            continue
        if text[0].isspace() and pending:
            pending[1] += " " + text.strip()
            continue
        if pending:
            ops.append(parse_line(path, *pending))
        pending = [number, text.strip()]
    if pending:
        ops.append(parse_line(path, *pending))
    by_name = {}
    calls = {}
    for op in ops:
        if op.name in by_name:
            fail(path, op.line, f"{op.name} is described twice")
        by_name[op.name] = op
        if op.shape == "call":
            if op.call in calls:
                fail(path, op.line, f"call={op.call} is {calls[op.call]}'s")
            calls[op.call] = op.name
    replies = {}
    for op in ops:
        if op.reply and not op.reply_hand and op.shape != "call":
            fields = [(p.name, p.fbs_type) for p in op.results]
            if op.reply in replies and replies[op.reply][0] != fields:
                fail(path, op.line, f"{op.reply} is also {replies[op.reply][1]}'s reply, with other fields")
            replies.setdefault(op.reply, (fields, op.name))
    return ops


def request_members(ops):
    """The Request union's members, in wire order."""
    out = []
    for op in ops:
        if op.member not in out:
            out.append(op.member)
    return out


def reply_members(ops):
    out = []
    for op in ops:
        if op.reply and op.reply not in out:
            out.append(op.reply)
    return out


def camel_to_words(name):
    return re.sub(r"(?<!^)(?=[A-Z])", " ", name)
