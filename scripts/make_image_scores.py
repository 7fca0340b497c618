"""Writes the TorchScript score networks of the image-shape throughput benchmark
(`cargo run --release --example bench -- --image-shapes`, issue 13 item 5) into a folder the
benchmark reads, with a JSON file per module giving its forward FLOPs per sample.

  $PY scripts/make_image_scores.py OUT_DIR      (PY: the cached torch environment's python,
                                                 see scripts/train_digits_score.py)

The benchmark runs this itself when OUT_DIR lacks the files (default out/image_scores, git-ignored:
the conv module is small, but it is generated, not source).

Both modules keep scones' TorchScript contract (src/score/torchscript.rs):
forward(y: Tensor[n, d] float32, sigma: Tensor[n] float32) -> Tensor[n, d].

- score_d64.pt: a noise-conditional MLP for 8 x 8 images, the shape of scripts/train_digits_score.py's
  network (sigma through 16 Fourier features of ln(sigma) / 4, four SiLU layers of 128).
- score_d12288.pt: a small noise-conditional conv net for 3 x 64 x 64 images, a two-scale U-Net
  (32 channels at 64 x 64, 64 at 32 x 32, GroupNorm + SiLU, 3 x 3 convolutions, sigma as a
  per-channel bias from the same Fourier features, one skip connection), output divided by
  sigma as NCSNv2 does. It is far smaller than the paper's NCSNv2 64 px; it stands for "a score
  network that costs more per sample than psi's input gradient", which any image score does.

Weights are PyTorch's default initialization (seed 0), not trained: a throughput benchmark
needs the architecture's arithmetic, not a good score. FLOPs are torch.utils.flop_counter's
count of one forward pass on one sample: 2 per multiply-add of every matrix product and
convolution (norms, activations and the Fourier features are left out: O(d) per sample against
O(d x channels x 9) for a convolution).
"""
import json
import math
import os
import sys

import torch
from torch import nn

FEATURES = 16


class Fourier(nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("freq", torch.randn(FEATURES) * 4.0)

    def forward(self, sigma: torch.Tensor) -> torch.Tensor:
        t = torch.log(sigma.clamp(min=1e-4)).unsqueeze(1) / 4.0 * self.freq
        return torch.cat([torch.sin(t), torch.cos(t)], dim=1)


class MlpScore(nn.Module):
    def __init__(self, d: int, width: int = 128, depth: int = 4):
        super().__init__()
        self.embed = Fourier()
        layers, d_in = [], d + 2 * FEATURES
        for _ in range(depth):
            layers += [nn.Linear(d_in, width), nn.SiLU()]
            d_in = width
        layers.append(nn.Linear(d_in, d))
        self.net = nn.Sequential(*layers)

    def forward(self, y: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        h = torch.cat([y, self.embed(sigma)], dim=1)
        return self.net(h) / sigma.clamp(min=1e-4).unsqueeze(1)


class Block(nn.Module):
    """GroupNorm, SiLU, 3 x 3 conv, plus the noise level's per-channel bias."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.norm = nn.GroupNorm(8, c_in)
        self.conv = nn.Conv2d(c_in, c_out, 3, padding=1)
        self.bias = nn.Linear(2 * FEATURES, c_out)

    def forward(self, h: torch.Tensor, e: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.nn.functional.silu(self.norm(h))) + self.bias(e).unsqueeze(2).unsqueeze(3)


class ConvScore(nn.Module):
    def __init__(self, channels: int = 3, side: int = 64, c: int = 32):
        super().__init__()
        self.channels, self.side = channels, side
        self.embed = Fourier()
        self.head = nn.Conv2d(channels, c, 3, padding=1)
        self.hi1, self.hi2 = Block(c, c), Block(c, c)
        self.down = nn.Conv2d(c, 2 * c, 3, stride=2, padding=1)
        self.lo1, self.lo2 = Block(2 * c, 2 * c), Block(2 * c, 2 * c)
        self.up = Block(2 * c, c)
        self.merge = Block(2 * c, c)
        self.tail = nn.Conv2d(c, channels, 3, padding=1)

    def forward(self, y: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        n = y.shape[0]
        e = self.embed(sigma)
        h = self.head(y.view(n, self.channels, self.side, self.side))
        skip = self.hi2(self.hi1(h, e), e)
        low = self.lo2(self.lo1(self.down(skip), e), e)
        up = self.up(torch.nn.functional.interpolate(low, scale_factor=2.0, mode="nearest"), e)
        h = self.merge(torch.cat([up, skip], dim=1), e)
        out = self.tail(torch.nn.functional.silu(h)).reshape(n, -1)
        return out / sigma.clamp(min=1e-4).unsqueeze(1)


def forward_flops(model: nn.Module, d: int) -> int:
    """FLOPs of one forward pass on one sample, as PyTorch's own counter reports them."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter, torch.no_grad():
        model(torch.zeros(1, d), torch.full((1,), 0.5))
    return counter.get_total_flops()


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out_dir = sys.argv[1]
    os.makedirs(out_dir, exist_ok=True)
    for d, make, arch in [
        (64, lambda: MlpScore(64), "noise-conditional MLP 64+32 -> 128 x 4 (SiLU) -> 64"),
        (12288, ConvScore, "noise-conditional conv U-Net on 3 x 64 x 64: 32 ch at 64 px, 64 ch at 32 px, 9 convs 3 x 3"),
    ]:
        torch.manual_seed(0)
        model = make()
        model.eval()
        scripted = torch.jit.script(model)
        path = os.path.join(out_dir, f"score_d{d}.pt")
        scripted.save(path + ".tmp")
        os.replace(path + ".tmp", path)
        with torch.no_grad():
            y = torch.randn(2, d)
            s = scripted(y, torch.tensor([1.0, 0.1]))
            assert s.shape == (2, d) and torch.isfinite(s).all(), "the module breaks scones' contract"
        meta = {
            "d": d,
            "architecture": arch,
            "parameters": sum(p.numel() for p in model.parameters()),
            "forward_flops_per_sample": forward_flops(model, d),
            "weights": "PyTorch default initialization, seed 0 (untrained)",
            "torch": torch.__version__,
        }
        with open(os.path.join(out_dir, f"score_d{d}.json"), "w") as f:
            json.dump(meta, f, indent=1)
        print(f"wrote {path}: {meta['parameters']} parameters, {meta['forward_flops_per_sample'] / 1e6:.1f} MFLOP per sample")


if __name__ == "__main__":
    main()
