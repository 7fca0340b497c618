#!/usr/bin/env python3
"""The library inside a busy host (issue 10 item 3): the demo's two C programs (the Gaussian
transport and the Swiss roll pipeline: dual training, score training, barycentric map, sampling)
run once on the idle machine and once while another process keeps one core busy, alternating
idle / busy runs. Reports wall time and CPU-seconds of each, the busy / idle ratios, and the
thread setting (the programs leave `threads` at 0, the library's fair share).

Targets from the issue: busy wall time <= 2.2x idle with one of two cores taken, and CPU-seconds
no more than the idle run's + 20 %.

  python3 benches/busy_host.py [--quick] [--rounds N] [--out out/busy_host.json]
  (run by `make bench-busy`; the programs must be built: `make demo` builds them)

The competitor is a plain busy loop in a child Python process (one core, never sleeps), the
kind of load a simulation's own thread puts on the machine. Environment variables that steer
OpenMP (OMP_NUM_THREADS, OMP_WAIT_POLICY, GOMP_SPINCOUNT) are removed from the programs'
environment: the library has to behave without the host's help.
"""
import argparse
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time

REL = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "target", "release")
STEERING = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY", "GOMP_SPINCOUNT", "MKL_NUM_THREADS")


def programs(quick):
    gauss = [os.path.join(REL, "gaussian_transport")]
    roll = [os.path.join(REL, "swiss_roll")]
    if quick:
        gauss += ["--iterations", "1000", "--samples", "1000"]
        roll += ["--quick"]
    return [("gaussian_transport", gauss), ("swiss_roll", roll)]


def run(cmd, out_dir):
    env = {k: v for k, v in os.environ.items() if k not in STEERING}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    subprocess.run(cmd + ["--out", out_dir], check=True, env=env, stdout=subprocess.DEVNULL)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def spinner():
    return subprocess.Popen([sys.executable, "-c", "while True: pass"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, default=None, help="idle/busy pairs per program")
    ap.add_argument("--out", default="out/busy_host.json")
    a = ap.parse_args()
    rounds = a.rounds or (2 if a.quick else 1)
    out_dir = tempfile.mkdtemp(prefix="scones-busy-")
    rows = []
    for name, cmd in programs(a.quick):
        idle, busy = [], []
        for _ in range(rounds):
            idle.append(run(cmd, out_dir))
            comp = spinner()
            try:
                time.sleep(0.5)  # the competitor is running before the program starts
                busy.append(run(cmd, out_dir))
            finally:
                comp.kill()
                comp.wait()
        med = lambda xs, i: statistics.median(x[i] for x in xs)
        row = {
            "program": name,
            "command": " ".join(os.path.relpath(cmd[0]) if i == 0 else c for i, c in enumerate(cmd)),
            "threads": "0 (library default: fair share)",
            "idle_wall_s": med(idle, 0),
            "idle_cpu_s": med(idle, 1),
            "busy_wall_s": med(busy, 0),
            "busy_cpu_s": med(busy, 1),
            "runs": {"idle": idle, "busy": busy},
        }
        row["wall_ratio"] = row["busy_wall_s"] / row["idle_wall_s"]
        row["cpu_ratio"] = row["busy_cpu_s"] / row["idle_cpu_s"]
        row["meets_wall_target_2.2x"] = row["wall_ratio"] <= 2.2
        row["meets_cpu_target_1.2x"] = row["cpu_ratio"] <= 1.2
        rows.append(row)
        print(f"{name}: idle {row['idle_wall_s']:.1f} s ({row['idle_cpu_s']:.1f} CPU-s), busy "
              f"{row['busy_wall_s']:.1f} s ({row['busy_cpu_s']:.1f} CPU-s): wall x{row['wall_ratio']:.2f}, "
              f"CPU x{row['cpu_ratio']:.2f}", flush=True)
    report = {
        "what": "demo programs idle vs with one core held by a busy loop (issue 10 item 3)",
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform()},
        "quick": a.quick,
        "rounds": rounds,
        "rows": rows,
    }
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "w") as f:
        json.dump(report, f, indent=1)
    print(f"wrote {a.out}")


if __name__ == "__main__":
    main()
