"""Trains a small noise-conditional score network for the 8 x 8 digits in PyTorch and saves it as
TorchScript, for `examples/digits -- --score torchscript:PATH`.

Usage (scripts/prepare_digits.sh finds the cached environment's python the same way):
  PY=$(dirname $(dirname $(dirname $(dirname $(scripts/setup-torch.sh)))))/bin/python
  $PY scripts/train_digits_score.py DATA_DIR OUT.pt [--iterations 5000] [--seed 0]

DATA_DIR is what scripts/prepare_digits.py wrote; only its target half (target_high, the digits
the SCONES duals are trained against) is used.

The module keeps scones' TorchScript contract (src/score/torchscript.rs, and
scripts/make_torchscript_fixture.py): forward(y: Tensor[n, 64] float32, sigma: Tensor[n]
float32) -> Tensor[n, 64], the score of the target digits smoothed by N(0, sigma^2 I).

Model: the EDM preconditioning (Karras et al. 2022, Table 1), as scones' own trained score uses,
D(y, sigma) = mu + c_skip (y - mu) + c_out F(c_in (y - mu), sigma), score = (D - y) / sigma^2,
but a deeper network than scones' default (four SiLU layers of 128 against three) that
sees sigma through 16 random Fourier features of ln(sigma) / 4 rather than as one input.
Trained by denoising score matching with EDM's loss weighting, sigma log-uniform between 0.01 and
the largest pairwise distance of the data, Adam(1e-3) with cosine decay, batches of 400, and an
exponential moving average (0.999) of the weights, which is what is saved; 3000 iterations
(the loss stopped falling by then: 0.708 at 3000, 0.707 at 5000), about 4 min on 2 shared cores.
"""
import argparse
import copy
import math
import os
import sys

import numpy as np
import torch

D = 64
SIGMA_MIN = 0.01


def read_matrix(data_dir, name):
    with open(os.path.join(data_dir, "manifest.txt")) as f:
        for line in f:
            parts = line.split()
            if parts and not parts[0].startswith("#") and parts[0] == name:
                rows, cols = int(parts[1]), int(parts[2])
                m = np.fromfile(os.path.join(data_dir, parts[3]), dtype="<f4")
                assert m.size == rows * cols, f"{name}: {m.size} values, expected {rows} x {cols}"
                return torch.from_numpy(m.reshape(rows, cols).copy())
    sys.exit(f"{data_dir}/manifest.txt has no matrix {name}")


class Denoiser(torch.nn.Module):
    def __init__(self, mean: torch.Tensor, sigma_data: float, width: int = 128, features: int = 16):
        super().__init__()
        self.register_buffer("mean", mean.clone())
        self.sigma_data = sigma_data
        self.sigma_min = SIGMA_MIN
        self.register_buffer("freq", torch.randn(features) * 4.0)
        layers, d_in = [], D + 2 * features
        for _ in range(4):
            layers += [torch.nn.Linear(d_in, width), torch.nn.SiLU()]
            d_in = width
        layers.append(torch.nn.Linear(d_in, D))
        self.net = torch.nn.Sequential(*layers)

    def denoise(self, y: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        s = sigma.unsqueeze(1)
        sd2 = self.sigma_data**2
        c_in = 1.0 / torch.sqrt(s * s + sd2)
        c_skip = sd2 / (s * s + sd2)
        c_out = s * self.sigma_data / torch.sqrt(s * s + sd2)
        angle = (torch.log(s) / 4.0) * self.freq.unsqueeze(0) * 2.0 * math.pi
        h = torch.cat([c_in * (y - self.mean), torch.sin(angle), torch.cos(angle)], dim=1)
        return self.mean + c_skip * (y - self.mean) + c_out * self.net(h)

    def forward(self, y: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        # sigma = 0 asks for the unsmoothed score, which a denoiser cannot give: the smallest
        # trained level stands in for it.
        sigma = sigma.clamp_min(self.sigma_min)
        return (self.denoise(y, sigma) - y) / (sigma * sigma).unsqueeze(1)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("data_dir")
    p.add_argument("out")
    p.add_argument("--iterations", type=int, default=3000)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    if a.iterations < 1:
        sys.exit("--iterations must be >= 1")
    torch.manual_seed(a.seed)
    torch.set_num_threads(2)
    y = read_matrix(a.data_dir, "target_high")
    mean = y.mean(0)
    sigma_data = float((y - mean).pow(2).mean().sqrt())
    sigma_max = float(torch.cdist(y, y).max())
    model = Denoiser(mean, sigma_data)
    torch.jit.script(model)  # fails now rather than after training if the module is not scriptable
    ema = copy.deepcopy(model)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, a.iterations, eta_min=1e-5)
    n, batch = len(y), 400
    lo, hi = math.log(SIGMA_MIN), math.log(sigma_max)
    for it in range(a.iterations):
        x0 = y[torch.randint(0, n, (batch,))]
        sigma = torch.exp(lo + (hi - lo) * torch.rand(batch))
        noisy = x0 + sigma.unsqueeze(1) * torch.randn_like(x0)
        # EDM weighting: the loss of F against its unit-variance target.
        s2 = sigma.unsqueeze(1) ** 2
        weight = (s2 + sigma_data**2) / (s2 * sigma_data**2)
        loss = (weight * (model.denoise(noisy, sigma) - x0) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
        with torch.no_grad():
            for pe, pm in zip(ema.parameters(), model.parameters()):
                pe.mul_(0.999).add_(pm, alpha=0.001)
        if (it + 1) % 1000 == 0:
            print(f"iteration {it + 1}: loss {loss.item():.4f}", file=sys.stderr)
    ema.eval()
    scripted = torch.jit.script(ema)
    with torch.no_grad():
        check = scripted(torch.zeros(2, D), torch.full((2,), 0.1))
    assert check.shape == (2, D) and torch.isfinite(check).all()
    tmp = a.out + ".tmp"
    torch.jit.save(scripted, tmp)
    os.replace(tmp, a.out)
    print(f"saved {a.out} (sigma_data {sigma_data:.3f}, sigma_max {sigma_max:.3f})", file=sys.stderr)


if __name__ == "__main__":
    main()
