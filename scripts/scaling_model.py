#!/usr/bin/env python3
"""The communication model of docs/SCALING.md: bytes exchanged per step against compute per step
for the benchmark shapes of examples/bench.rs, and the predicted efficiency of data-parallel
dual training at 8, 64 and 512 ranks.

Per step every rank sends one buffer of B = 4 (P + 14) bytes (P parameters of phi and psi, 4
loop values, 10 control slots) through an all-reduce, after its backward pass and before Adam:
nothing overlaps, so the step takes T_c + T_ar and the efficiency (weak scaling: a fixed batch
per rank) is E = T_c / (T_c + T_ar), with
  ring:        T_ar = 2 (p - 1) / p * B / BW + 2 (p - 1) * alpha
  Rabenseifner (reduce-scatter + allgather by halving / doubling, what MPI libraries pick for
               medium messages): T_ar = 2 (p - 1) / p * B / BW + 2 log2(p) * alpha.
T_c on a CPU rank is this repository's measured step time (docs/results/bench.json, 2 threads,
an idle moment of this host: a cluster node with more cores computes faster, which lowers E).
T_c on a GPU rank is a model (stated below; no GPU was lent to this task).

  scripts/scaling_model.py            markdown tables on stdout, docs/results/scaling_model.json
"""

import json
import math
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "docs" / "results" / "bench.json"
OUT = ROOT / "docs" / "results" / "scaling_model.json"

BW = 25e9  # bytes / s per link
ALPHA = 5e-6  # s per message (MPI over RDMA: 1-5 us; TCP: 10-30 us)
RANKS = [8, 64, 512]
# GPU step model: ~60 kernels per step (forward and backward of two 3-layer MLPs, the pair
# terms, Adam's fused update) at ~5 us of launch each, or the FLOPs at 30 TFLOP/s (fp32 on
# tensor cores, small matrices), whichever is larger; plus a device-to-host copy of the gradient
# buffer and back (2 B at 25 GB/s, PCIe 5) when the hook carries host buffers.
GPU_KERNELS, GPU_LAUNCH, GPU_FLOPS, PCIE = 60, 5e-6, 30e12, 25e9


def params(d, w):
    one = (d * w + w) + (w * w + w) + (w + 1)
    return 2 * one


def flops(d, w, mode, m):
    """Forward + backward (3x forward) of phi and psi on m points each, plus the pair terms."""
    net = 3 * 2 * params(d, w) * m
    pairs = m if mode == "paired" else m * m
    return net + pairs * (3 * d + 20)


def t_ar(p, b, alpha, ring):
    lat = 2 * (p - 1) * alpha if ring else 2 * math.log2(p) * alpha
    return 2 * (p - 1) / p * b / BW + lat


def main():
    bench = json.loads(BENCH.read_text())["results"]
    rows = []
    for d in (2, 16):
        for w in (64, 256):
            for mode, m in (("paired", 1000), ("all_pairs", 500)):
                r = next(x for x in bench if x.get("bench") == "dual_training" and x["d"] == d and x["width"] == w
                         and x["batch_mode"] == mode and x["batch"] == m)
                p_count = params(d, w)
                b = 4 * (p_count + 14)
                tc_cpu = 1 / r["iterations_per_second"]
                f = flops(d, w, mode, m)
                tc_gpu = max(GPU_KERNELS * GPU_LAUNCH, f / GPU_FLOPS)
                row = {"d": d, "width": w, "batch_mode": mode, "batch_per_rank": m, "parameters": p_count,
                       "bytes_per_step": b, "flops_per_step": f, "cpu_step_s": tc_cpu, "gpu_step_s_model": tc_gpu,
                       "efficiency": {}}
                for p in RANKS:
                    e = {}
                    for name, tc, extra in (("cpu", tc_cpu, 0.0), ("gpu_host_buffers", tc_gpu, 2 * b / PCIE),
                                            ("gpu_nccl", tc_gpu, 0.0)):
                        for ring in (True, False):
                            ar = t_ar(p, b, ALPHA, ring) + extra
                            e[f"{name}_{'ring' if ring else 'rabenseifner'}"] = round(tc / (tc + ar), 4)
                    row["efficiency"][str(p)] = e
                rows.append(row)
    OUT.write_text(json.dumps({"bandwidth_bytes_per_s": BW, "latency_s": ALPHA, "ranks": RANKS,
                               "gpu_model": {"kernels_per_step": GPU_KERNELS, "launch_s": GPU_LAUNCH,
                                             "flops_per_s": GPU_FLOPS, "pcie_bytes_per_s": PCIE},
                               "rows": rows}, indent=1) + "\n")
    print("| d | width | batch / rank | parameters | bytes / step | FLOPs / step | CPU step (ms) | "
          "bytes / FLOP | E cpu ring 8 / 64 / 512 | E cpu Rabenseifner 8 / 64 / 512 |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        e = r["efficiency"]
        ring = " / ".join(f"{e[str(p)]['cpu_ring']:.2f}" for p in RANKS)
        rab = " / ".join(f"{e[str(p)]['cpu_rabenseifner']:.2f}" for p in RANKS)
        print(f"| {r['d']} | {r['width']} | {r['batch_mode'].replace('_', '-')} {r['batch_per_rank']} | "
              f"{r['parameters']:,} | {r['bytes_per_step'] / 1e3:.0f} kB | {r['flops_per_step']:.2e} | "
              f"{1e3 * r['cpu_step_s']:.1f} | {r['bytes_per_step'] / r['flops_per_step']:.1e} | {ring} | {rab} |")
    print()
    print("| d | width | batch / rank | GPU step (ms, model) | E host buffers, Rabenseifner 8 / 64 / 512 | "
          "E NCCL-style device buffers, Rabenseifner 8 / 64 / 512 | E NCCL ring 8 / 64 / 512 |")
    print("|---|---|---|---|---|---|---|")
    for r in rows:
        e = r["efficiency"]
        hb = " / ".join(f"{e[str(p)]['gpu_host_buffers_rabenseifner']:.2f}" for p in RANKS)
        nc = " / ".join(f"{e[str(p)]['gpu_nccl_rabenseifner']:.2f}" for p in RANKS)
        nr = " / ".join(f"{e[str(p)]['gpu_nccl_ring']:.2f}" for p in RANKS)
        print(f"| {r['d']} | {r['width']} | {r['batch_mode'].replace('_', '-')} {r['batch_per_rank']} | "
              f"{1e3 * r['gpu_step_s_model']:.2f} | {hb} | {nc} | {nr} |")


if __name__ == "__main__":
    main()
