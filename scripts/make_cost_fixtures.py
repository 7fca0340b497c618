"""Makes the TorchScript cost fixtures of tests/external_costs.rs and tests/c/costs.c:

- tests/fixtures/cost_linear.pt: c(x, y) = |A y - B x|^2 for the A (2 x 3) and B (2 x 2) in
  tests/fixtures/cost_fixtures.json (dyadic entries, exact in float32), the built-in linear
  cost's formula, so the two can be compared;
- tests/fixtures/cost_softplus.pt: c(x, y) = sum_k softplus(y_k - x_k)^2 (dx = dy = 2), smooth
  and not quadratic, not symmetric in x and y;
- tests/fixtures/cost_fixtures.json: A, B, dimensions, and a few values PyTorch computes.

The contract scones expects: forward(x: Tensor[m, dx] float32, y: Tensor[m, dy] float32) ->
Tensor[m]. Run with the cached torch environment:
  $(dirname $(scripts/setup-torch.sh))/../../../bin/python scripts/make_cost_fixtures.py
"""
import json
import os

import torch

A = [[0.5, 0.25, -1.0], [0.0, 1.5, 0.75]]
B = [[1.0, -0.5], [0.25, 1.0]]


class LinearCost(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.register_buffer("a", torch.tensor(A))
        self.register_buffer("b", torch.tensor(B))

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return (y @ self.a.t() - x @ self.b.t()).pow(2).sum(1)


class SoftplusCost(torch.nn.Module):
    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return torch.nn.functional.softplus(y - x).pow(2).sum(1)


def main():
    here = os.path.join(os.path.dirname(__file__), "..", "tests", "fixtures")
    lin, sp = torch.jit.script(LinearCost()), torch.jit.script(SoftplusCost())
    lin.save(os.path.join(here, "cost_linear.pt"))
    sp.save(os.path.join(here, "cost_softplus.pt"))
    x2 = torch.tensor([[0.0, 0.0], [1.0, -2.0], [0.5, 0.25]])
    y3 = torch.tensor([[0.0, 0.0, 0.0], [1.0, 2.0, -1.0], [-0.5, 0.75, 2.0]])
    y2 = torch.tensor([[0.0, 0.0], [2.0, -1.0], [-1.5, 0.5]])
    with torch.no_grad():
        out = {
            "A": A, "B": B, "linear_dims": [2, 3], "softplus_dims": [2, 2],
            "x": x2.tolist(), "y_linear": y3.tolist(), "y_softplus": y2.tolist(),
            "linear_values": lin(x2, y3).tolist(), "softplus_values": sp(x2, y2).tolist(),
            "torch": torch.__version__,
        }
    with open(os.path.join(here, "cost_fixtures.json"), "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main()
