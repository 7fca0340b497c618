"""Makes tests/fixtures/score_module.pt, a tiny TorchScript score module, and the scores PyTorch
computes with it (tests/fixtures/score_module_expected.json), so tests can check that scones
loads the module and gets the same numbers.

The contract scones expects: forward(y: Tensor[n, d] float32, sigma: Tensor[n] float32) ->
Tensor[n, d]. This module is the score of N(mu, diag(v)) smoothed by sigma, plus a small
nonlinear term so that a wrong argument order or a dropped sigma changes the result.

Run with the cached torch environment:
  $(dirname $(scripts/setup-torch.sh))/../../../bin/python scripts/make_torchscript_fixture.py
"""
import json
import os

import torch


class GaussianScore(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.mu = torch.nn.Parameter(torch.tensor([0.5, -1.0]))
        self.log_v = torch.nn.Parameter(torch.tensor([0.2, -0.3]))

    def forward(self, y: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        var = self.log_v.exp() + sigma.unsqueeze(1) ** 2
        return -(y - self.mu) / var + 0.1 * torch.tanh(y.flip(1))


def main():
    here = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
    torch.manual_seed(0)
    m = torch.jit.script(GaussianScore())
    m.save(os.path.join(here, "score_module.pt"))
    y = torch.tensor([[0.0, 0.0], [1.0, 2.0], [-3.0, 0.5], [0.25, -0.75]])
    out = {}
    for s in [0.0, 0.3, 2.0]:
        with torch.no_grad():
            out[str(s)] = m(y, torch.full((4,), s)).tolist()
    with open(os.path.join(here, "score_module_expected.json"), "w") as f:
        json.dump({"y": y.tolist(), "scores": out, "torch": torch.__version__}, f, indent=1)


if __name__ == "__main__":
    main()
