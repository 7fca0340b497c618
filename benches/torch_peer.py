"""The PyTorch peer of the side-by-side benchmark: plain PyTorch 2.11 loops of the math the
library runs, on the same shapes, one row per invocation, printing one JSON line with the same
fields as `examples/bench_row.rs`.

    python benches/torch_peer.py row=NAME [key=value ...]

What "plain" means here: the same forward formulas as the library (network layout, loss,
Adam settings, schedules), with every gradient left to autograd (the library hand-derives the
dual's pair-term gradient and psi's input gradient), and the natural un-blocked tensor code a
PyTorch user would write (a full softmax for the empirical score). Networks are float32;
Sinkhorn runs POT on float64 NumPy arrays, as a POT user would.

Rows and keys as in examples/bench_row.rs, plus `row=machine` (the fp32 GEMM rate at
10000 x 256 x 256 and the exp throughput over n^2 entries) and, for sinkhorn, `method`
(sinkhorn | sinkhorn_log) and `max_iter`.
"""

import json
import math
import os
import sys
import time


def parse(argv):
    args = {}
    for a in argv:
        if "=" not in a:
            sys.exit(f"torch_peer.py: expected key=value, got {a!r}")
        k, v = a.split("=", 1)
        args[k] = v
    return args


if __name__ == "__main__":
    # NumPy's BLAS (POT's plain Sinkhorn) reads these once, at import: the row's thread count.
    # A caller that imports this module (the driver) sets them itself before importing NumPy.
    _threads = parse(sys.argv[1:]).get("threads", "1")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = _threads

import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

# The row being run (run_row sets it).
ARGS = {}
THREADS = 1


def get(key, default):
    return type(default)(ARGS[key]) if key in ARGS else default


def mlp(d_in, width, d_out):
    """The library's Mlp: Linear -> ReLU -> Linear -> ReLU -> Linear (no output activation),
    PyTorch's default init (uniform +-1/sqrt(fan_in) for weights and biases, as the library
    draws them)."""
    return nn.Sequential(nn.Linear(d_in, width), nn.ReLU(), nn.Linear(width, width), nn.ReLU(), nn.Linear(width, d_out))


def frozen(net):
    for p in net.parameters():
        p.requires_grad_(False)
    return net


def random_spd(d, seed):
    """A covariance with a geometric spectrum (as the library's Spectrum::Geometric): the
    arithmetic per step does not depend on which SPD matrix it is."""
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(d, d, generator=g, dtype=torch.float64))
    spec = torch.logspace(0, -1, d, dtype=torch.float64) if d > 1 else torch.ones(1, dtype=torch.float64)
    return q @ torch.diag(spec) @ q.T


def gaussian_data(d):
    a, b = random_spd(d, 1), random_spd(d, 2)
    x = (torch.randn(20_000, d, dtype=torch.float64) @ torch.linalg.cholesky(a).T).float()
    y = (torch.randn(20_000, d, dtype=torch.float64) @ torch.linalg.cholesky(b).T).float()
    return x, y, b


def sq_dist(x, y):
    """|x_i - y_j|^2 as the library forms it: |x|^2 + |y|^2 - 2 x.y, clamped at 0."""
    return ((x * x).sum(1, keepdim=True) + (y * y).sum(1)[None, :] - 2.0 * x @ y.T).clamp_min(0.0)


def emit(**fields):
    return {"side": "peer", **fields}


# ---------------------------------------------------------------- Langevin (Algorithm 2)


def langevin(row):
    d, width = get("d", 16), get("width", 256)
    chains, steps, warmup = get("chains", 10_000), get("steps", 20), get("warmup", 3)
    n_target = get("n_target", 1000)
    lam = 2.0 * d  # KL, lambda = 2 d as the library row: log M = V / lambda - 1
    a = 1e-2 / 2.0  # plain Algorithm 2: one level, step eps / 2 with eps = 1e-2
    mala = row == "langevin_mala_gaussian"
    psi, phi = frozen(mlp(d, width, 1)), frozen(mlp(d, width, 1))
    xs, ys, b = gaussian_data(d)
    precision = torch.linalg.inv(b).float()
    targets = ys[:n_target].contiguous()
    h2 = 0.1**2  # empirical score bandwidth h = 0.1, sigma = 0
    x = torch.randn(chains, d)
    phi_x = phi(x).squeeze(1) if mala else None

    def target_score(y):
        if row == "langevin_ula_empirical":
            w = torch.softmax(-sq_dist(y, targets) / (2.0 * h2), dim=1)
            return (w @ targets - y) / h2
        return -(y @ precision)

    def psi_and_grad(y):
        y = y.detach().requires_grad_(True)
        out = psi(y).squeeze(1)
        (g,) = torch.autograd.grad(out.sum(), y)
        return out.detach(), g

    def score_and_logp(y):
        """Conditional score s(y) + grad_y log M(V) and, for MALA, log tau(y) + log M(V)."""
        psi_y, g_psi = psi_and_grad(y)
        s = target_score(y) + (g_psi - 2.0 * (y - x)) / lam
        if not mala:
            return s, None
        v = phi_x + psi_y - ((x - y) ** 2).sum(1)
        log_tau = -0.5 * ((y @ precision) * y).sum(1)
        return s, log_tau + v / lam - 1.0

    def run(n_steps):
        y = torch.randn(chains, d)
        accepted = torch.zeros(())
        if mala:
            s, logp = score_and_logp(y)
        for _ in range(n_steps):
            z = torch.randn_like(y)
            if not mala:
                s, _ = score_and_logp(y)
                y = y + a * s + math.sqrt(2.0 * a) * z
                continue
            prop = y + a * s + math.sqrt(2.0 * a) * z
            s_p, logp_p = score_and_logp(prop)
            fwd = -0.5 * (z * z).sum(1)
            bwd = -((y - prop - a * s_p) ** 2).sum(1) / (4.0 * a)
            log_ratio = torch.nan_to_num(logp_p - logp + bwd - fwd, nan=-math.inf)
            accept = torch.log(torch.rand(chains)) < log_ratio
            accepted += accept.sum()
            y = torch.where(accept[:, None], prop, y)
            s = torch.where(accept[:, None], s_p, s)
            logp = torch.where(accept, logp_p, logp)
        if not bool(torch.isfinite(y).all()):
            sys.exit("peer: Langevin diverged")
        return float(accepted) / (chains * n_steps) if mala else None

    run(max(warmup, 1))
    t = time.perf_counter()
    acceptance = run(steps)
    wall = time.perf_counter() - t
    return emit(row=row, d=d, widths=[width, width], chains=chains, steps=steps,
         n_target=n_target if row == "langevin_ula_empirical" else None, threads=THREADS,
         rate=chains * steps / wall, unit="chain-steps/s", wall_s=round(wall, 4), acceptance=acceptance)


# ------------------------------------------------ dual training (Algorithm 1) and barycentric


def adam_cosine(params, iters):
    """Adam(1e-3, 0.9, 0.999, eps 1e-8), learning rate decayed by a cosine to 1% (the library's
    default Optim)."""
    opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8)

    def set_lr(it):
        c = 0.5 * (1.0 + math.cos(math.pi * it / max(iters, 1)))
        for g in opt.param_groups:
            g["lr"] = 1e-3 * (0.01 + 0.99 * c)

    return opt, set_lr


def dual(row):
    d, width, m = get("d", 16), get("width", 256), get("m", 500)
    iters, warmup = get("iters", 100), get("warmup", 5)
    lam = 2.0 * d
    xs, ys, _ = gaussian_data(d)
    all_pairs = row == "dual_all_pairs"

    def train(n_iters):
        phi, psi = mlp(d, width, 1), mlp(d, width, 1)
        opt, set_lr = adam_cosine(list(phi.parameters()) + list(psi.parameters()), n_iters)
        objective = torch.zeros(())
        for it in range(n_iters):
            x = xs.index_select(0, torch.randint(len(xs), (m,)))
            y = ys.index_select(0, torch.randint(len(ys), (m,)))
            phi_x, psi_y = phi(x).squeeze(1), psi(y).squeeze(1)
            if all_pairs:
                v = phi_x[:, None] + psi_y[None, :] - sq_dist(x, y)
            else:
                v = phi_x + psi_y - ((x - y) ** 2).sum(1)
            # J = E[phi] + E[psi] - E[H*(V)], H*(v) = lambda exp(v / lambda - 1) (KL)
            j = phi_x.mean() + psi_y.mean() - (lam * torch.exp(v / lam - 1.0)).mean()
            set_lr(it)
            opt.zero_grad()
            (-j).backward()
            opt.step()
            objective += j.detach()
            if (it + 1) % 100 == 0 and not bool(torch.isfinite(objective)):
                sys.exit("peer: dual training diverged")

    return timed_training(row, train, d, width, m, iters, warmup)


def timed_training(row, train, d, width, m, iters, warmup):
    """Runs train(warmup) untimed, then times train(iters): the record of a training row."""
    train(max(warmup, 1))
    t = time.perf_counter()
    train(iters)
    wall = time.perf_counter() - t
    return emit(row=row, d=d, widths=[width, width], m=m, iterations=iters, threads=THREADS,
                rate=iters / wall, unit="iterations/s", wall_s=round(wall, 4))


def barycentric(row):
    d, width, m = get("d", 16), get("width", 256), get("m", 500)
    iters, warmup = get("iters", 100), get("warmup", 5)
    lam = 2.0 * d
    xs, ys, _ = gaussian_data(d)
    phi, psi = frozen(mlp(d, width, 1)), frozen(mlp(d, width, 1))

    def train(n_iters):
        net = mlp(d, width, d)
        opt, set_lr = adam_cosine(list(net.parameters()), n_iters)
        total = torch.zeros(())
        for it in range(n_iters):
            x = xs.index_select(0, torch.randint(len(xs), (m,)))
            y = ys.index_select(0, torch.randint(len(ys), (m,)))
            # mean_ij M(V_ij) |T(x_i) - y_j|^2 expanded as in the library:
            # mean_i [r_i |T(x_i)|^2 - 2 T(x_i) . b_i] + const
            with torch.no_grad():
                v = phi(x).squeeze(1)[:, None] + psi(y).squeeze(1)[None, :] - sq_dist(x, y)
                w = torch.exp(v / lam - 1.0) / m
                r, bvec, y_term = w.sum(1), w @ y, w @ (y * y).sum(1)
            t = net(x)
            loss = ((t * t).sum(1) * r - 2.0 * (t * bvec).sum(1)).mean()
            set_lr(it)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.detach() + y_term.mean()

    return timed_training(row, train, d, width, m, iters, warmup)


# ------------------------------------------------------------------------- discrete Sinkhorn


def sinkhorn(row):
    import ot  # installed by scripts/setup-pot.sh

    n, d, rel, tol = get("n", 2000), get("d", 2), get("rel", 1e-2), get("tol", 1e-6)
    method, max_iter = get("method", "sinkhorn"), get("max_iter", 1000)
    path = ARGS.get("points", "")
    if path:
        pts = np.fromfile(path, dtype="<f8").reshape(2 * n, d)
    else:
        pts = np.random.default_rng(get("seed", 0)).uniform(size=(2 * n, d))
    x, y = pts[:n], pts[n:]
    a = np.full(n, 1.0 / n)
    # Warm-up on 200 points (imports, BLAS threads, allocator).
    mw = ot.dist(x[:200], y[:200])
    ot.sinkhorn(a[:200] * n / 200, a[:200] * n / 200, mw, rel * mw.max(), method=method, numItermax=20, warn=False)
    t = time.perf_counter()
    cost = ot.dist(x, y)  # squared Euclidean, dense n x n
    t_cost = time.perf_counter() - t
    lam = rel * cost.max()
    t = time.perf_counter()
    # stopThr is POT's l2 column violation, checked every 10 iterations; the library's tol is an
    # l1 violation: both are reported as l1 below, measured the same way.
    plan, log = ot.sinkhorn(a, a, cost, lam, method=method, numItermax=max_iter, stopThr=tol, log=True, warn=False)
    t_solve = time.perf_counter() - t
    iters = int(log["niter"]) + 1
    marginal = float(np.abs(plan.sum(0) - a).sum() + np.abs(plan.sum(1) - a).sum())
    wall = t_cost + t_solve
    return emit(row=row, method=method, d=d, n=n, lambda_relative=rel, **{"lambda": lam}, tol=tol, dtype="float64",
         domain="log" if method == "sinkhorn_log" else "scaling", threads=THREADS, iterations=iters,
         converged=iters < max_iter, marginal_l1=marginal, transport_cost=float((plan * cost).sum()),
         rate=iters / wall, unit="iterations/s", seconds_per_iteration=wall / iters,
         solver_seconds_per_iteration=t_solve / iters, cost_matrix_s=round(t_cost, 4), wall_s=round(wall, 4))


# ------------------------------------------------------------------------- machine limits


def best_of(f, repeats):
    f()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        f()
        times.append(time.perf_counter() - t)
    return min(times)


def machine(row):
    """fp32 GEMM rate (10000 x 256 @ 256 x 256) and exp throughput over n^2 entries, best of
    several runs (a machine limit, not a typical rate)."""
    a, b = torch.randn(10_000, 256), torch.randn(256, 256)
    out = torch.empty(10_000, 256)
    t = best_of(lambda: torch.matmul(a, b, out=out), 20)
    gflops = 2.0 * 10_000 * 256 * 256 / t / 1e9
    exp = {}
    for n in [int(s) for s in ARGS.get("exp_n", "2000").split(",") if s]:
        for dtype in (torch.float64, torch.float32):
            src = -torch.rand(n, n, dtype=dtype) * 50.0
            dst = torch.empty_like(src)
            t = best_of(lambda: torch.exp(src, out=dst), 5)
            exp[f"{n}_{str(dtype).split('.')[-1]}"] = t / (n * n) * 1e9
    return emit(row=row, threads=THREADS, gemm_gflops=gflops, gemm_shape=[10_000, 256, 256],
         exp_ns_per_entry=exp, torch=torch.__version__)


ROWS = {
    "langevin_ula_gaussian": langevin,
    "langevin_mala_gaussian": langevin,
    "langevin_ula_empirical": langevin,
    "dual_paired": dual,
    "dual_all_pairs": dual,
    "barycentric": barycentric,
    "sinkhorn": sinkhorn,
    "machine": machine,
}

def run_row(args):
    """Runs one row (a dict of key -> string, as on the command line) and returns its record."""
    global ARGS, THREADS
    ARGS, THREADS = dict(args), int(args.get("threads", 1))
    torch.set_num_threads(THREADS)
    torch.manual_seed(get("seed", 0))
    name = ARGS.get("row", "")
    if name not in ROWS:
        raise SystemExit(f"torch_peer.py: unknown row {name!r}; one of {', '.join(ROWS)}")
    return ROWS[name](name)


if __name__ == "__main__":
    print(json.dumps(run_row(parse(sys.argv[1:]))))
