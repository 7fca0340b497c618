"""What the exact entropic coupling says about class agreement on the digits (issue 13): the
discrete KL-regularized plan between the 300 test sources (low resolution) and the 400 training
targets under the mean squared cost, solved by log-domain Sinkhorn to machine precision, and
the class agreement of its conditionals, sum_j pi(j | i) [class(target_j) == label_i] (target
classes by the same logistic-regression classifier the example uses). This is the agreement a
perfect sampler of the empirical plan would reach at each lambda: the reference for SCONES' and
barycentric projection's numbers in docs/results/digits.md.

  scripts/prepare_digits.sh target/digits   # once (the digits example does it too)
  $(scripts/setup-torch.sh)/../../../bin/python scripts/digits_plan_reference.py [target/digits]
"""
import os
import sys

import numpy as np
from scipy.special import logsumexp


def load(d, name, cols):
    return np.fromfile(os.path.join(d, name + ".f32"), dtype="<f4").reshape(-1, cols).astype(np.float64)


def main():
    d = sys.argv[1] if len(sys.argv) > 1 else "target/digits"
    xl, th = load(d, "test_low", 64), load(d, "target_high", 64)
    labels = load(d, "test_label", 1)[:, 0].astype(int)
    w, b = load(d, "classifier_coef", 64), load(d, "classifier_intercept", 10)[0]
    target_class = np.argmax(th @ w.T + b, 1)
    c = ((xl[:, None, :] - th[None, :, :]) ** 2).mean(-1)
    print(f"mean squared cost: nearest target {c.min(1).mean():.4f}, average {c.mean():.4f}")
    la, lb = -np.log(len(xl)), -np.log(len(th))
    for lam in [0.005, 0.01, 0.05]:
        f, g = np.zeros(len(xl)), np.zeros(len(th))
        for _ in range(5000):
            f = -lam * logsumexp((g[None, :] - c) / lam + lb, axis=1)
            g = -lam * logsumexp((f[:, None] - c) / lam + la, axis=0)
        p = np.exp((f[:, None] + g[None, :] - c) / lam + la + lb)
        cond = p / p.sum(1, keepdims=True)
        agree = (cond * (target_class[None, :] == labels[:, None])).sum(1).mean()
        err = np.abs(p.sum(0) - np.exp(lb)).sum()
        print(f"lambda {lam}: class agreement of the exact plan's conditionals {agree:.3f} (marginal l1 {err:.1e})")


if __name__ == "__main__":
    main()
