#!/usr/bin/env bash
# The issue's "32 sessions waiting on long kernels: server CPU use" (target:
# under one core in total). N programs (bench/micro/waiting_session.cu), each
# its own rcuda session against a private rcuda-server on 127.0.0.1, launch a
# long kernel and wait in cudaDeviceSynchronize, again and again. Once every
# one waits, it measures for a window the CPU time (utime + stime from
# /proc/<pid>/stat) of the server it started (the daemon, by pid, and its
# workers, found as the daemon's children) and of the programs, per second
# of wall time: "cores". With a GPU it then runs the same N programs
# natively (NATIVE_CUDART_DIR: NVIDIA's libcudart, as compare.sh) and
# measures them the same way (the native baseline: there the waiting
# happens in the programs).
#
#   bench/micro/waiting_sessions.sh <build-dir> [--short] [--backend auto|cuda|test]
#                                   [--sessions N] [--kernel-ms K] [--window S]
#
# Defaults: 32 sessions, 500 ms kernels, a 3 s window; --short: 4, 100 ms,
# 0.5 s. --backend auto is cuda where nvidia-smi lists a GPU, else test.
# On the TEST backend (the fake libcuda.so.1, TEST EQUIPMENT: host memory,
# kernels that sleep on the host) the CPU figures say nothing about a GPU;
# the fake's call counts (RCUDA_FAKE_DRIVER_CALL_COUNTS) say instead how
# many of the workers' waits would have spun a core on a GPU. CI runs
# --short --backend test as a smoke run (ctest -L bench), no figure asserted.
set -u
build=$(cd "$1" && pwd)
shift
exec python3 - "$build" "$@" <<'PY'
import argparse, glob, os, signal, struct, subprocess, sys, tempfile, time

p = argparse.ArgumentParser()
p.add_argument("build")
p.add_argument("--short", action="store_true")
p.add_argument("--backend", default="auto", choices=["auto", "cuda", "test"])
p.add_argument("--sessions", type=int)
p.add_argument("--kernel-ms", type=int)
p.add_argument("--window", type=float)
a = p.parse_args()
sessions = a.sessions or (4 if a.short else 32)
kernel_ms = a.kernel_ms or (100 if a.short else 500)
window = a.window or (0.5 if a.short else 3.0)
build = a.build
tick = os.sysconf("SC_CLK_TCK")


def have_gpu():
    try:
        return subprocess.run(["nvidia-smi", "-L"], capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


backend = a.backend
if backend == "auto":
    backend = "cuda" if have_gpu() else "test"


def cpu_seconds(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    except (OSError, IndexError, ValueError):
        return None


def children(pid):
    out = []
    for path in glob.glob(f"/proc/{pid}/task/*/children"):
        try:
            with open(path) as f:
                out += [int(x) for x in f.read().split()]
        except OSError:
            pass
    return out


def tree(pid):
    pids, todo = [], [pid]
    while todo:
        q = todo.pop()
        pids.append(q)
        todo += children(q)
    return pids


def snapshot(pids):
    return {q: cpu_seconds(q) for q in pids}


def cores(before, after, wall):
    # Processes alive at both ends; one gone in between is left out (said).
    common = [q for q in before if before[q] is not None and after.get(q) is not None]
    return sum(after[q] - before[q] for q in common) / wall, len(before) - len(common)


def wait_until(done, timeout, what):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if done():
            return
        time.sleep(0.02)
    sys.exit(f"waiting_sessions.sh: timed out waiting for {what}")


started_clients = []  # every client started, killed by pid at the end if still running


def kill_leftover_clients():
    for pr in started_clients:
        if pr.poll() is None:
            pr.kill()
            pr.wait()


def start_clients(tmp, env, prefix):
    stop = f"{tmp}/stop-{prefix}"
    procs = []
    for i in range(sessions):
        out = open(f"{tmp}/{prefix}-{i}.out", "w")
        procs.append(subprocess.Popen(prefix_cmd(prefix) + [f"{build}/bin/waiting_session", str(kernel_ms), stop, "100000"],
                                      stdout=out, stderr=subprocess.STDOUT, env=env))
        started_clients.append(procs[-1])
    def all_waiting():
        for i, pr in enumerate(procs):
            if pr.poll() is not None:
                sys.exit(f"waiting_sessions.sh: {prefix} client {i} exited early:\n" + open(f"{tmp}/{prefix}-{i}.out").read())
        return all("waiting" in open(f"{tmp}/{prefix}-{i}.out").read() for i in range(sessions))
    wait_until(all_waiting, 120, f"{sessions} {prefix} sessions to wait")
    return procs, stop


def stop_clients(procs, stop):
    open(stop, "w").close()
    deadline = time.monotonic() + 2 * kernel_ms / 1000 + 60
    for pr in procs:
        try:
            pr.wait(timeout=max(1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pr.kill()
            pr.wait()
            print(f"a client (pid {pr.pid}) did not stop: killed", file=sys.stderr)


def prefix_cmd(prefix):
    return [f"{build}/bin/rcuda-run", "--"] if prefix == "rcuda" else []


def measure(procs, server_pid):
    client_pids = [q for pr in procs for q in tree(pr.pid)]
    server_pids = tree(server_pid) if server_pid else []
    s0, c0, t0 = snapshot(server_pids), snapshot(client_pids), time.monotonic()
    time.sleep(window)  # the measurement window itself
    s1, c1, t1 = snapshot(server_pids), snapshot(client_pids), time.monotonic()
    return cores(s0, s1, t1 - t0), cores(c0, c1, t1 - t0), len(server_pids)


def fake_waits(counts_dir):
    spinning = blocking = 0
    for path in glob.glob(f"{counts_dir}/calls.*"):
        data = open(path, "rb").read()
        n = len(data) // 8
        if n >= 2:
            values = struct.unpack(f"{n}Q", data[: n * 8])
            spinning += values[-2]
            blocking += values[-1]
    return spinning, blocking


with tempfile.TemporaryDirectory() as tmp:
    env = dict(os.environ)
    args = [f"{build}/bin/rcuda-server", "--backend", backend, "--listen", "127.0.0.1", "--port", "0",
            "--port-file", f"{tmp}/port", "--log-level", "warn", "--max-connections-per-peer", "0"]
    counts = f"{tmp}/counts"
    if backend == "test":
        os.makedirs(counts)
        args += ["--test-kernels", f"{build}/lib/libmicro_test_kernels.so"]
        env["RCUDA_FAKE_DRIVER_CALL_COUNTS"] = counts
    log = open(f"{tmp}/server.log", "w")
    server = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        def started():
            if server.poll() is not None:
                sys.exit("waiting_sessions.sh: rcuda-server exited:\n" + open(f"{tmp}/server.log").read())
            return os.path.exists(f"{tmp}/port") and open(f"{tmp}/port").read().strip() != ""
        wait_until(started, 30, "rcuda-server to start")
        port = open(f"{tmp}/port").read().strip()
        cenv = dict(os.environ, RCUDA_DEVICE_COUNT="1", RCUDA_DEVICE_0=f"127.0.0.1@{port}")
        procs, stop = start_clients(tmp, cenv, "rcuda")
        (server_cores, gone_s), (client_cores, gone_c), nserver = measure(procs, server.pid)
        stop_clients(procs, stop)
    finally:
        kill_leftover_clients()
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    print(f"== {sessions} sessions waiting on {kernel_ms} ms kernels (cudaDeviceSynchronize), "
          f"CPU over a {window} s window, in cores (CPU s per wall s)")
    if backend == "test":
        print("TEST backend: the fake libcuda.so.1 (TEST EQUIPMENT, host memory, kernels sleep on the host):"
              " the CPU figures say nothing about a GPU")
    print(f"METRIC rcuda_server_cores {server_cores:.3f}  (daemon + {nserver - 1} workers; {gone_s} ended in the window)")
    print(f"METRIC rcuda_client_cores {client_cores:.3f}  ({gone_c} ended in the window)")
    if backend == "test":
        spinning, blocking = fake_waits(counts)
        print(f"fake driver counts: {spinning} worker waits that would spin a core on a GPU, {blocking} blocking")
    if backend == "cuda" and have_gpu():
        nenv = dict(os.environ)
        if os.environ.get("NATIVE_CUDART_DIR"):  # NVIDIA's libcudart, as compare.sh runs natively
            nenv["LD_LIBRARY_PATH"] = os.environ["NATIVE_CUDART_DIR"]
        try:
            procs, stop = start_clients(tmp, nenv, "native")
            _, (native_cores, gone_n), _ = measure(procs, None)
            stop_clients(procs, stop)
        finally:
            kill_leftover_clients()
        print(f"METRIC native_cores {native_cores:.3f}  (the programs themselves; {gone_n} ended in the window)")
    else:
        print("native baseline: no GPU here")
PY
