#!/usr/bin/env python3
"""The serverless pipeline benchmark's check and report (run by run.sh).

Reads what run.sh left in --dir: the uploads' logs (uploads-PHASE.jsonl:
when each PUT started and was answered), the orchestrator's job log
(jobs.jsonl) and the serial baseline's (serial-jobs.jsonl), the outputs as
read back from the output bucket (outputs.jsonl: each holds the function's
own start and end, from bash's EPOCHREALTIME), s3rver's events
(s3-events.jsonl: when each output was stored), the calibration runs
(calibration.jsonl), the orchestrator's stats files and final-state.json
(queue, dead letters, ssgmd's leases).

Checks that nothing was lost or doubled: every upload has exactly one
output that says PASSED, written once (one ObjectCreated event), one job
that succeeded and no other job; no dead letter, nothing left in the queue,
no lease left, ssgmd's invariants hold. Exits 1 when any check fails.

Writes report.md (the table), faas-bench.png (queue depth and running
functions over time, during the burst) and summary.json.
"""
import argparse
import bisect
import collections
import json
import os
import statistics
import sys


def read_jsonl(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def pct(values, p):
    """The p-th percentile (nearest rank), or None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, int(round(p / 100.0 * len(ordered) + 0.4999)))
    return ordered[min(rank, len(ordered)) - 1]


def fmt(value, digits=1):
    return "-" if value is None else f"{value:,.{digits}f}"


class Run:
    def __init__(self, directory):
        d = directory
        self.uploads = {}  # key -> {start_ms, done_ms, ok, phase}
        for phase in ("latency", "burst", "serial"):
            for r in read_jsonl(os.path.join(d, f"uploads-{phase}.jsonl")):
                r["phase"] = phase
                self.uploads[r["key"]] = r
        self.jobs = read_jsonl(os.path.join(d, "jobs.jsonl"))
        self.serial_jobs = read_jsonl(os.path.join(d, "serial-jobs.jsonl"))
        self.outputs = {}  # input key -> output record (with fn_start_ms, fn_end_ms, passed)
        self.stray_outputs = []
        for r in read_jsonl(os.path.join(d, "outputs.jsonl")):
            key = r["key"]
            if not (key.startswith("results/") and key.endswith(".out")):
                self.stray_outputs.append(key)
                continue
            content = r.get("content", "")
            r["passed"] = "vector_add: PASSED" in content
            for line in content.splitlines():
                parts = line.split()
                if len(parts) == 3 and parts[0] == "function":
                    r["fn_start_ms"] = float(parts[1]) * 1000
                    r["fn_end_ms"] = float(parts[2]) * 1000
            self.outputs.setdefault("jobs/" + key[len("results/"):-len(".out")], []).append(r)
        self.output_events = collections.defaultdict(list)  # input key -> times its output was stored
        for e in read_jsonl(os.path.join(d, "s3-events.jsonl")):
            if e["bucket"] == "bench-out" and e["event"].startswith("ObjectCreated"):
                k = e["key"]
                if k.startswith("results/") and k.endswith(".out"):
                    self.output_events["jobs/" + k[len("results/"):-len(".out")]].append(e["t"])
        self.calibration = read_jsonl(os.path.join(d, "calibration.jsonl"))
        self.final = json.load(open(os.path.join(d, "final-state.json")))
        self.stats = {}
        for name in ("before-burst", "after-burst", "final"):
            path = os.path.join(d, f"stats-{name}.json")
            self.stats[name] = json.load(open(path)) if os.path.exists(path) else {}

    def check(self):
        """What is wrong, as a list of lines (empty: nothing lost, nothing doubled)."""
        problems = []
        runs = collections.Counter(j["key"] for j in self.jobs + self.serial_jobs)
        succeeded = collections.Counter(j["key"] for j in self.jobs + self.serial_jobs if j["outcome"] == "succeeded")
        for key, up in self.uploads.items():
            if not up["ok"]:
                problems.append(f"{key}: its upload failed: {up.get('error')}")
                continue
            outs = self.outputs.get(key, [])
            if len(outs) != 1:
                problems.append(f"{key}: {len(outs)} outputs")
            elif not outs[0]["passed"] or "fn_start_ms" not in outs[0]:
                problems.append(f"{key}: its output is not the function's: {outs[0].get('content', '')[:200]!r}")
            if len(self.output_events[key]) != 1:
                problems.append(f"{key}: its output was written {len(self.output_events[key])} times")
            if succeeded[key] != 1 or runs[key] != 1:
                problems.append(f"{key}: {succeeded[key]} job(s) succeeded, {runs[key]} in all")
        for key in set(self.outputs) - set(self.uploads):
            problems.append(f"an output for {key}, which was not uploaded")
        problems += [f"a stray object in the output bucket: {k}" for k in self.stray_outputs]
        f = self.final
        for name in ("queue_length", "queue_pending", "dead_letters"):
            if f[name] != 0:
                problems.append(f"{name} is {f[name]} at the end")
        if f["ssgmd"].get("lease_count") != 0:
            problems.append(f"ssgmd holds {f['ssgmd'].get('lease_count')} lease(s) at the end")
        if f["ssgmd"].get("invariants") != "ok":
            problems.append(f"ssgmd's invariants: {f['ssgmd'].get('invariants')}")
        counters = self.stats["final"].get("counters", {})
        for name in ("duplicate_deliveries", "jobs_failed", "jobs_retried", "jobs_dead_lettered", "messages_lost",
                     "leases_lost"):
            if counters.get(name, 0) != 0:
                problems.append(f"the orchestrator counted {name} = {counters[name]}")
        return problems


def phase_jobs(run, jobs, phase):
    """(upload, job, output) for the jobs of a phase, joined on the input key."""
    rows = []
    for j in jobs:
        up = run.uploads.get(j["key"])
        outs = run.outputs.get(j["key"], [])
        if up and up["phase"] == phase and j["outcome"] == "succeeded" and len(outs) == 1:
            events = run.output_events.get(j["key"], [])
            rows.append((up, j, outs[0], events[0] if events else None))
    return rows


def latencies(rows):
    """Per-job times, in ms, from the upload's completion and between steps."""
    d = collections.defaultdict(list)
    for up, j, out, stored in rows:
        done = up["done_ms"]
        d["upload_to_received"].append(j["received_ms"] - done)
        d["lease_wait"].append(j["lease_granted_ms"] - j["lease_requested_ms"])
        d["received_to_granted"].append(j["lease_granted_ms"] - j["received_ms"])
        d["granted_to_invoke"].append(j["invoke_start_ms"] - j["lease_granted_ms"])
        d["invoke_to_fn_start"].append(out["fn_start_ms"] - j["invoke_start_ms"])
        d["fn_run"].append(out["fn_end_ms"] - out["fn_start_ms"])
        d["upload_to_invoke"].append(j["invoke_start_ms"] - done)
        d["upload_to_fn_start"].append(out["fn_start_ms"] - done)
        if stored is not None:
            d["fn_end_to_stored"].append(stored - out["fn_end_ms"])
            d["upload_to_output"].append(stored - done)
        d["answer_to_released"].append(j["released_ms"] - j["invoke_end_ms"])
        d["released_to_settled"].append(j["settled_ms"] - j["released_ms"])
        d["lease_held"].append(j["released_ms"] - j["lease_granted_ms"])
        d["invocation"].append(j["invoke_end_ms"] - j["invoke_start_ms"])
    return d


def throughput(rows):
    """Jobs per second from the first upload's start to the last output stored; and in the middle 80%."""
    if not rows:
        return None, None, None
    first = min(up["start_ms"] for up, _, _, _ in rows)
    ends = sorted((stored if stored is not None else j["invoke_end_ms"]) for _, j, _, stored in rows)
    window = ends[-1] - first
    n = len(ends)
    lo, hi = ends[int(0.1 * (n - 1))], ends[int(0.9 * (n - 1))]
    steady = (int(0.9 * (n - 1)) - int(0.1 * (n - 1))) / ((hi - lo) / 1000) if hi > lo else None
    return n / (window / 1000), steady, (first, ends[-1])


def calibration(run, slots):
    alone = [(r["end"] - r["start"]) * 1000 for r in run.calibration if r["mode"] == "alone"]
    par = [r for r in run.calibration if r["mode"] == "parallel"]
    result = {"alone_ms_p50": pct(alone, 50), "alone_runs": len(alone)}
    spawn = [(r["end"] - r["start"]) * 1000 for r in run.calibration if r["mode"] == "spawn"]
    result["spawn_ms_p50"] = pct(spawn, 50)
    result["spawn_ms_p99"] = pct(spawn, 99)
    for r in run.calibration:
        if r["mode"] == "cpu" and r["runs"]:
            result["client_cpu_ms_per_run"] = r["client_cpu_ms"] / r["runs"]
    if par:
        span = max(r["end"] for r in par) - min(r["start"] for r in par)
        result["parallel_jobs_per_s"] = len(par) / span
        result["parallel_ms_mean"] = statistics.mean((r["end"] - r["start"]) * 1000 for r in par)
        result["parallel_runs"] = len(par)
    return result


COMPONENTS = {  # /proc/PID/comm (15 characters at most) -> what it is
    "rcuda-fn": "rcuda-fn, with the functions' processes (rcuda-fn-exec, bash, rcuda-run, the program)",
    "rcuda-server": "rcuda-server and its workers (the test backend's kernels run there)",
    "node": "s3rver (node)",
    "redis-server": "redis-server",
    "rcuda-faas-even": "rcuda-faas-events",
    "rcuda-orchestra": "rcuda-orchestrator",
    "ssgmd": "ssgmd",
    "rcuda-gpu-monit": "rcuda-gpu-monitor",
}


def cpu_account(directory, jobs):
    """CPU ms per burst job by component, from the snapshots at the burst's start and end."""
    records = read_jsonl(os.path.join(directory, "cpu.jsonl"))
    start = {r["pid"]: r for r in records if r["label"] == "burst-start" and "pid" in r}
    end = {r["pid"]: r for r in records if r["label"] == "burst-end" and "pid" in r}
    loads = {r["label"]: r for r in records if "loadavg" in r}
    if not start or not end or not jobs:
        return None
    per_job = collections.OrderedDict()
    for pid, e in end.items():
        if pid in start:
            name = COMPONENTS.get(e["name"], e["name"])
            per_job[name] = per_job.get(name, 0) + (e["cpu_ms"] - start[pid]["cpu_ms"]) / jobs
    up = read_jsonl(os.path.join(directory, "uploader-burst.json"))
    if up:
        per_job["the uploader (faas_bench upload)"] = up[0]["cpu_ms"] / jobs
    wall_s = loads["burst-end"]["t"] - loads["burst-start"]["t"]
    return {"per_job_ms": per_job, "total_ms": sum(per_job.values()), "wall_s": wall_s,
            "cores_used": sum(per_job.values()) * jobs / 1000 / wall_s, "cores": loads["burst-end"]["cores"],
            "loadavg_start": loads["burst-start"]["loadavg"], "loadavg_end": loads["burst-end"]["loadavg"]}


def smooth(values, width):
    """Moving average over `width` samples (the counts flicker at 50 ms)."""
    out, total = [], 0.0
    for i, v in enumerate(values):
        total += v
        if i >= width:
            total -= values[i - width]
        out.append(total / min(i + 1, width))
    return out


def series(rows, window, step_ms=50):
    """Counts over time during the burst: waiting in the queue, waiting for a lease, running, done."""
    first, last = window
    ups = sorted(up["done_ms"] for up, _, _, _ in rows)
    received = sorted(j["received_ms"] for _, j, _, _ in rows)
    granted = sorted(j["lease_granted_ms"] for _, j, _, _ in rows)
    released = sorted(j["released_ms"] for _, j, _, _ in rows)
    fn_start = sorted(out["fn_start_ms"] for _, _, out, _ in rows)
    fn_end = sorted(out["fn_end_ms"] for _, _, out, _ in rows)
    done = sorted((s if s is not None else j["invoke_end_ms"]) for _, j, _, s in rows)
    t, queue, leasing, held, running, finished = [], [], [], [], [], []
    x = first
    while x <= last + step_ms:
        c = lambda a: bisect.bisect_right(a, x)  # noqa: E731
        t.append((x - first) / 1000)
        queue.append(c(ups) - c(received))
        leasing.append(c(received) - c(granted))
        held.append(c(granted) - c(released))
        running.append(c(fn_start) - c(fn_end))
        finished.append(c(done))
        x += step_ms
    return t, queue, leasing, held, running, finished


def plot(path, rows, window, slots, ideal_rate, serial_rate, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    t, queue, leasing, held, running, finished = series(rows, window)
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    top.plot(t, queue, label="in the queue (uploaded, not yet taken)", color="tab:blue")
    top.set_ylabel("messages")
    twin = top.twinx()
    twin.plot(t, smooth(leasing, 20), label="taken, waiting for a lease (1 s average)", color="tab:orange",
              linewidth=1)
    twin.plot(t, smooth(held, 20), label="leases held (1 s average)", color="tab:green", linewidth=1)
    twin.plot(t, smooth(running, 20), label="functions running (1 s average)", color="tab:red", linewidth=1)
    twin.axhline(slots, color="grey", linestyle=":", label=f"{slots} slots")
    twin.set_ylim(0, max(slots * 1.6, max(leasing + [0]) * 1.1))
    twin.set_ylabel("jobs (slots scale)")
    lines = top.get_legend_handles_labels()
    lines2 = twin.get_legend_handles_labels()
    top.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper right", fontsize=8)
    top.set_title(title, fontsize=10)
    ups = sorted(up["done_ms"] for up, _, _, _ in rows)
    bottom.plot(t, [bisect.bisect_right(ups, window[0] + x * 1000) for x in t], label="uploaded", color="tab:blue")
    bottom.plot(t, finished, label="outputs stored", color="tab:purple")
    if serial_rate:
        bottom.plot(t, [min(len(rows), x * serial_rate) for x in t], linestyle=":", color="black",
                    label=f"serial baseline: {serial_rate:.1f} jobs/s")
    if ideal_rate:
        bottom.plot(t, [min(len(rows), x * ideal_rate) for x in t], linestyle="--", color="grey",
                    label=f"ideal: {ideal_rate:.1f} jobs/s")
    bottom.set_xlabel("seconds since the burst's first upload")
    bottom.set_ylabel("jobs done")
    bottom.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def summarize(run, a):
    """Every figure of the run, as a dict (summary.json)."""
    K = a.slots
    cal = calibration(run, K)
    lat_rows = phase_jobs(run, run.jobs, "latency")
    burst_rows = phase_jobs(run, run.jobs, "burst")
    serial_rows = phase_jobs(run, run.serial_jobs, "serial")
    lat, burst, serial = latencies(lat_rows), latencies(burst_rows), latencies(serial_rows)
    rate, steady, window = throughput(burst_rows)
    serial_rate, _, _ = throughput(serial_rows)
    mean = lambda v: statistics.mean(v) if v else None  # noqa: E731
    fn_mean, invocation_mean = mean(burst["fn_run"]), mean(burst["invocation"])
    span_s = (window[1] - window[0]) / 1000 if window else None

    def ratio(x, y):
        return None if not x or not y else x / y

    def per_s(ms):
        return K / (ms / 1000) if ms else None

    ideals = {  # what K slots allow, three ways
        "invocations": per_s(invocation_mean),  # the invocations as they ran (rcuda-fn's own time included)
        "function_in_run": per_s(fn_mean),      # the function's script alone, as it ran in the burst
        "calibrated": cal.get("parallel_jobs_per_s"),  # the program K at a time, outside the pipeline
    }
    final = run.stats["final"]
    return {
        "slots": K, "backend": a.backend, "sandbox": a.sandbox, "elements": a.elements,
        "uploads": {p: sum(1 for u in run.uploads.values() if u["phase"] == p) for p in ("latency", "burst", "serial")},
        "calibration": cal,
        "burst": {"jobs_per_s": rate, "steady_jobs_per_s": steady, "span_s": span_s, "window": window,
                  "function_ms_mean": fn_mean, "invocation_ms_mean": invocation_mean,
                  "ideal_jobs_per_s": ideals, "ratio_to_ideal": {k: ratio(rate, v) for k, v in ideals.items()},
                  "ratio_to_serial": ratio(rate, serial_rate),
                  "slot_utilisation_leases": sum(burst["lease_held"]) / (K * span_s * 1000) if span_s else None,
                  "slot_utilisation_functions": sum(burst["fn_run"]) / (K * span_s * 1000) if span_s else None,
                  "peak_invoking": final.get("in_flight", {}).get("peak_invoking"),
                  **{f"{k}_p50": pct(v, 50) for k, v in burst.items()},
                  **{f"{k}_p99": pct(v, 99) for k, v in burst.items()}},
        "latency": {**{f"{k}_p50": pct(v, 50) for k, v in lat.items()},
                    **{f"{k}_p99": pct(v, 99) for k, v in lat.items()},
                    **{f"{k}_max": (max(v) if v else None) for k, v in lat.items()}},
        "serial": {"jobs_per_s": serial_rate, **{f"{k}_p50": pct(v, 50) for k, v in serial.items()}},
        "cpu": cpu_account(a.dir, len(burst_rows)),
        "counters": final.get("counters", {}),
        "_rows": {"burst": burst_rows},
    }


def targets(s):
    lat, ratios = s["latency"], s["burst"]["ratio_to_ideal"]

    def le(value, limit):
        return value is not None and value <= limit

    return {
        "throughput >= 90% of what K slots allow for the invocations": (ratios["invocations"] or 0) >= 0.9,
        "throughput >= 90% of the calibrated ideal": (ratios["calibrated"] or 0) >= 0.9,
        "orchestration (upload to invocation) p50 <= 20 ms": le(lat.get("upload_to_invoke_p50"), 20),
        "orchestration (upload to invocation) p99 <= 100 ms": le(lat.get("upload_to_invoke_p99"), 100),
        "upload to the function's first line p50 <= 20 ms": le(lat.get("upload_to_fn_start_p50"), 20),
        "upload to the function's first line p99 <= 100 ms": le(lat.get("upload_to_fn_start_p99"), 100),
    }


def render(s, run, a, problems):
    """report.md's text."""
    K, b, l, cal, cpu = s["slots"], s["burst"], s["latency"], s["calibration"], s["cpu"]
    ideal, ratio = b["ideal_jobs_per_s"], b["ratio_to_ideal"]
    serial = s["serial"]
    pc = lambda x: fmt(100 * x, 0) + "%" if x is not None else "-"  # noqa: E731
    sec = lambda x: fmt(x / 1000, 2) if x is not None else "-"  # noqa: E731
    backend = "TEST BACKEND (test equipment, not a GPU)" if a.backend == "test" else a.backend
    md = [f"## {s['uploads']['burst']} uploads at once, {K} slots, {backend}, rcuda-fn sandbox {a.sandbox}", "",
          "| measure | value | against |", "| --- | --- | --- |",
          f"| burst throughput (first upload to last output stored) | {fmt(b['jobs_per_s'])} jobs/s over "
          f"{fmt(b['span_s'])} s | steady (10% to 90% done) {fmt(b['steady_jobs_per_s'])} jobs/s |",
          f"| what {K} slots allow for the invocations as they ran ({K} / {fmt(b['invocation_ms_mean'])} ms, "
          f"the mean invocation, rcuda-fn's own time included) | {fmt(ideal['invocations'])} jobs/s | "
          f"throughput {pc(ratio['invocations'])} of it |",
          f"| what {K} slots allow for the function's script as it ran ({K} / {fmt(b['function_ms_mean'])} ms) | "
          f"{fmt(ideal['function_in_run'])} jobs/s | throughput {pc(ratio['function_in_run'])} of it |",
          f"| calibrated ideal: the program through rcuda-run, {K} at a time, outside the pipeline "
          f"({cal.get('parallel_runs', 0)} runs, {fmt(cal.get('parallel_ms_mean'))} ms each; "
          f"{fmt(cal.get('alone_ms_p50'))} ms alone) | {fmt(ideal['calibrated'])} jobs/s | "
          f"throughput {pc(ratio['calibrated'])} of it |",
          f"| serial baseline (orchGPU's loop, {s['uploads']['serial']} uploads) | {fmt(serial['jobs_per_s'])} "
          f"jobs/s | the pipeline: {fmt(b['ratio_to_serial'])} x |",
          f"| slot utilisation (leases held / {K} x the span) | {pc(b['slot_utilisation_leases'])} | functions "
          f"running {pc(b['slot_utilisation_functions'])}; peak invocations {b['peak_invoking']} |",
          f"| with a slot free ({s['uploads']['latency']} paced uploads): upload to invocation sent "
          f"(orchestration) | p50 {fmt(l.get('upload_to_invoke_p50'))} ms, p99 {fmt(l.get('upload_to_invoke_p99'))}"
          f" ms | targets 20 / 100 ms |",
          f"| ... upload to the function's first line | p50 {fmt(l.get('upload_to_fn_start_p50'))} ms, "
          f"p99 {fmt(l.get('upload_to_fn_start_p99'))} ms, max {fmt(l.get('upload_to_fn_start_max'))} ms | |",
          f"| ... upload to output stored | p50 {fmt(l.get('upload_to_output_p50'))} ms, "
          f"p99 {fmt(l.get('upload_to_output_p99'))} ms | the function {fmt(l.get('fn_run_p50'))} ms (p50) |",
          f"| burst: upload to the function's first line | p50 {sec(b.get('upload_to_fn_start_p50'))} s, "
          f"p99 {sec(b.get('upload_to_fn_start_p99'))} s | queueing for {K} slots |",
          f"| burst: upload to output stored | p50 {sec(b.get('upload_to_output_p50'))} s, "
          f"p99 {sec(b.get('upload_to_output_p99'))} s | |",
          f"| none lost, none doubled | {'yes' if not problems else 'NO: ' + str(len(problems)) + ' problem(s)'} | "
          f"{len(run.uploads)} inputs, {sum(len(v) for v in run.outputs.values())} outputs, "
          f"{run.final['dead_letters']} dead letters, {run.final['ssgmd'].get('lease_count')} leases and "
          f"{run.final['queue_pending']} messages pending at the end |",
          "", "One job's steps (p50 / p99 ms), with a slot free and in the burst:", "",
          "| step | slot free | burst |", "| --- | --- | --- |"]
    steps = [("upload answered -> message received by the orchestrator (s3rver's event, rcuda-faas-events, Redis)",
              "upload_to_received"),
             ("received -> lease granted (ssgmd; in the burst: waiting for a slot)", "received_to_granted"),
             ("granted -> invocation sent", "granted_to_invoke"),
             ("invocation sent -> the script's first line (rcuda-fn: input download, rcuda-fn-exec, bash)",
              "invoke_to_fn_start"),
             ("the script (rcuda-run and the CUDA program)", "fn_run"),
             ("the script ends -> output stored (rcuda-fn's upload)", "fn_end_to_stored"),
             ("the invocation (sent -> answered)", "invocation"),
             ("answer -> lease released", "answer_to_released"),
             ("released -> message acknowledged", "released_to_settled")]
    for label, key in steps:
        md.append(f"| {label} | {fmt(l.get(key + '_p50'))} / {fmt(l.get(key + '_p99'))} | "
                  f"{fmt(b.get(key + '_p50'))} / {fmt(b.get(key + '_p99'))} |")
    if cpu:
        md += ["", f"CPU during the burst ({fmt(cpu['wall_s'])} s: the pipeline used {fmt(cpu['cores_used'], 2)} of "
               f"{cpu['cores']} cores; load average {cpu['loadavg_start']} at the start, {cpu['loadavg_end']} at the "
               f"end), per job:", "", "| component | CPU ms per job |", "| --- | --- |"]
        for name, ms in sorted(cpu["per_job_ms"].items(), key=lambda kv: -kv[1]):
            md.append(f"| {name} | {fmt(ms)} |")
        md.append(f"| all | {fmt(cpu['total_ms'])} |")
    if cal.get("client_cpu_ms_per_run") is not None:
        md += ["", f"The program's client side (rcuda-run and the CUDA program, alone, in the calibration) used "
               f"{fmt(cal['client_cpu_ms_per_run'])} ms of CPU per run."]
    if cal.get("spawn_ms_p50") is not None:
        md += ["", f"Starting a program on this machine (fork and exec of /bin/true, 20 times during the "
               f"calibration): p50 {fmt(cal['spawn_ms_p50'])} ms, max {fmt(cal['spawn_ms_p99'])} ms."]
    counters = s["counters"]
    md += ["", "Orchestrator counters (whole run): " + ", ".join(
        f"{k} {counters.get(k, 0)}" for k in ("messages_received", "jobs_succeeded", "jobs_failed",
                                              "duplicate_deliveries", "lease_busy", "invoke_throttled"))]
    if not a.short:
        md += ["", "Targets: " + "; ".join(f"{k}: {'met' if v else 'NOT met'}" for k, v in s["targets"].items())]
    return "\n".join(md) + "\n"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--slots", type=int, required=True)
    parser.add_argument("--backend", required=True)
    parser.add_argument("--sandbox", default="off")
    parser.add_argument("--elements", default="")
    parser.add_argument("--short", action="store_true", help="CI: the check only, no speed targets")
    a = parser.parse_args()
    run = Run(a.dir)
    problems = run.check()
    s = summarize(run, a)
    s["targets"] = targets(s)
    s["problems"] = problems
    rows = s.pop("_rows")["burst"]
    with open(os.path.join(a.dir, "summary.json"), "w") as f:
        json.dump(s, f, indent=1)
    text = render(s, run, a, problems)
    with open(os.path.join(a.dir, "report.md"), "w") as f:
        f.write(text)
    print(text)
    b = s["burst"]
    if rows and b["window"]:
        backend = "TEST BACKEND (test equipment, not a GPU)" if a.backend == "test" else a.backend
        plot(os.path.join(a.dir, "faas-bench.png"), rows, b["window"], a.slots, b["ideal_jobs_per_s"]["calibrated"],
             s["serial"]["jobs_per_s"], f"{len(rows)} uploads at once, {a.slots} slots, {backend}: "
             f"{fmt(b['jobs_per_s'])} jobs/s")
    if problems:
        print(f"\nCHECK FAILED: {len(problems)} problem(s):", file=sys.stderr)
        for p in problems[:30]:
            print("  " + p, file=sys.stderr)
        return 1
    print(f"\ncheck passed: {len(run.uploads)} inputs, each with exactly one output; nothing lost, nothing doubled")
    return 0


if __name__ == "__main__":
    sys.exit(main())
