package scones_test

import (
	"context"
	"errors"
	"math"
	"path/filepath"
	"testing"

	"scones.dev/scones"
)

// The linear cost |A y - B x|^2 between a 1-d source and a 2-d target: the problem reports it,
// a file keeps it, bad operators are refused and the sampler follows its y-gradient.
func TestLinearCost(t *testing.T) {
	eye := scones.NewMatrix([]float64{1, 0, 0, 1}, 2, 2)
	x := must[scones.Matrix[float64]](t)(scones.GaussianSample([]float64{0}, scones.NewMatrix([]float64{1}, 1, 1), 500, 3))
	y := must[scones.Matrix[float64]](t)(scones.GaussianSample([]float64{0, 0}, eye, 500, 4))
	a := scones.NewMatrix([]float64{0.5, 0.5}, 1, 2) // A averages y
	b := scones.NewMatrix([]float64{1}, 1, 1)
	ctx := context.Background()
	dual, err := scones.Train(ctx, x, y, scones.TrainOptions{}.LinearCost(a, b).Hidden(8).
		Batch(32, scones.BatchAllPairs).Iterations(20).Threads(1))
	if err != nil {
		t.Fatal(err)
	}
	defer dual.Close()
	path := filepath.Join(t.TempDir(), "linear.scones")
	if err := dual.Save(path); err != nil {
		t.Fatal(err)
	}
	back := must[*scones.Dual](t)(scones.LoadDual(path, ""))
	defer back.Close()
	for _, d := range []*scones.Dual{dual, back} {
		if pr, err := d.Problem(); err != nil || pr.Cost != scones.Linear {
			t.Errorf("problem of a linear-cost dual: %+v, %v", pr, err)
		}
	}
	xs, ys := x.Slice(0, 8), y.Slice(0, 8)
	c1 := must[scones.Matrix[float64]](t)(dual.Compatibility(xs, ys))
	c2 := must[scones.Matrix[float64]](t)(back.Compatibility(xs, ys))
	if !equal(c1.Data, c2.Data) {
		t.Error("compatibilities changed through a file")
	}

	bad := []struct {
		a, b scones.Matrix[float64]
		want error
		what string
	}{
		{scones.NewMatrix([]float64{1, 0, 0, 1}, 2, 2), b, scones.ErrShapeMismatch, "A and B with different row counts"},
		{scones.NewMatrix([]float64{math.NaN(), 1}, 1, 2), b, scones.ErrNonFinite, "NaN in A"},
		{scones.NewMatrix([]float64{0, 0}, 1, 2), b, scones.ErrInvalidArgument, "A = 0"},
	}
	for _, c := range bad {
		_, err := scones.Train(ctx, x, y, scones.TrainOptions{}.LinearCost(c.a, c.b).Iterations(1))
		if !errors.Is(err, c.want) {
			t.Errorf("%s: %v", c.what, err)
		}
		_, err = scones.TrainSpot(ctx, x, y, scones.SpotOptions{}.LinearCost(c.a, c.b))
		if !errors.Is(err, c.want) {
			t.Errorf("SPOT, %s: %v", c.what, err)
		}
	}
	if _, err := scones.Train(ctx, x, y, scones.TrainOptions{}.LinearCost(nil, b)); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("nil A: %v", err)
	}

	score := must[*scones.Score](t)(scones.NewGaussianScore([]float64{0, 0}, eye))
	defer score.Close()
	sampler := must[*scones.Sampler](t)(scones.NewSampler(back, score, scones.SamplerOptions{}.Steps(20, 0.05).Threads(1)))
	defer sampler.Close()
	s := must[scones.Matrix[float64]](t)(sampler.Sample(ctx, xs))
	if s.Rows != 8 || s.Cols != 2 {
		t.Fatalf("samples %d x %d", s.Rows, s.Cols)
	}
	for _, v := range s.Data {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			t.Fatal("non-finite sample under the linear cost")
		}
	}
}

// A host cost |x - y|^2 trains the same dual as the built-in one (same seed); the sampler uses
// its y-gradient; saving is refused; its error comes back wrapped. A TorchScript cost module
// survives a file.
func TestExternalCosts(t *testing.T) {
	eye := scones.NewMatrix([]float64{1, 0, 0, 1}, 2, 2)
	x := must[scones.Matrix[float64]](t)(scones.GaussianSample([]float64{0, 0}, eye, 300, 5))
	y := must[scones.Matrix[float64]](t)(scones.GaussianSample([]float64{0, 0}, eye, 300, 6))
	ctx := context.Background()
	calls, withGrad := 0, 0
	sq := func(values []float64, gradY, xs, ys scones.Matrix[float64]) error {
		calls++
		if gradY.Rows > 0 {
			withGrad++
		}
		for i := range values {
			values[i] = 0
			for k := 0; k < xs.Cols; k++ {
				d := ys.At(i, k) - xs.At(i, k)
				values[i] += d * d
				if gradY.Rows > 0 {
					gradY.Set(i, k, 2*d)
				}
			}
		}
		return nil
	}
	base := scones.TrainOptions{}.Hidden(16).Batch(64, scones.BatchAllPairs).Iterations(50).Seed(4).Threads(1)
	builtin := must[*scones.Dual](t)(scones.Train(ctx, x, y, base))
	defer builtin.Close()
	hosted := must[*scones.Dual](t)(scones.Train(ctx, x, y, base.CostFunc(sq, 2, 2, 2)))
	defer hosted.Close()
	if pr, err := hosted.Problem(); err != nil || pr.Cost != scones.Callback {
		t.Errorf("problem of a callback-cost dual: %+v, %v", pr, err)
	}
	xs, ys := x.Slice(0, 8), y.Slice(0, 8)
	cb := must[scones.Matrix[float64]](t)(builtin.Compatibility(xs, ys))
	ch := must[scones.Matrix[float64]](t)(hosted.Compatibility(xs, ys))
	worst := 0.0
	for i := range cb.Data {
		worst = math.Max(worst, math.Abs(cb.Data[i]-ch.Data[i])/math.Max(1, cb.Data[i]))
	}
	if worst > 1e-4 {
		t.Errorf("callback and built-in |x - y|^2 duals differ by %g", worst)
	}
	score := must[*scones.Score](t)(scones.NewGaussianScore([]float64{0, 0}, eye))
	defer score.Close()
	sampler := must[*scones.Sampler](t)(scones.NewSampler(hosted, score, scones.SamplerOptions{}.Steps(10, 0.05).Threads(1)))
	hosted.Close() // the sampler keeps the cost function
	before := withGrad
	if _, err := sampler.Sample(ctx, xs); err != nil || withGrad == before {
		t.Errorf("sampling with a host cost: %v (%d gradient calls)", err, withGrad-before)
	}
	sampler.Close()
	again := must[*scones.Dual](t)(scones.Train(ctx, x, y, base.CostFunc(sq, 2, 2, 2).Iterations(2)))
	if err := again.Save(filepath.Join(t.TempDir(), "callback.scones")); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("saving a callback-cost dual: %v", err)
	}
	again.Close()
	broke := errors.New("cost broke")
	_, err := scones.Train(ctx, x, y, base.CostFunc(func(_ []float64, _, _, _ scones.Matrix[float64]) error { return broke }, 2, 2, 2))
	if !errors.Is(err, broke) || !errors.Is(err, scones.ErrCallback) {
		t.Errorf("a failing host cost: %v", err)
	}

	module := filepath.Join("..", "..", "tests", "fixtures", "cost_softplus.pt")
	ts := must[*scones.Dual](t)(scones.Train(ctx, x, y, base.TorchScriptCost(module, 2, 2, 4)))
	defer ts.Close()
	path := filepath.Join(t.TempDir(), "torchscript.scones")
	if err := ts.Save(path); err != nil {
		t.Fatal(err)
	}
	back := must[*scones.Dual](t)(scones.LoadDual(path, ""))
	defer back.Close()
	if pr, err := back.Problem(); err != nil || pr.Cost != scones.TorchScript {
		t.Errorf("problem of a loaded TorchScript-cost dual: %+v, %v", pr, err)
	}
	c1 := must[scones.Matrix[float64]](t)(ts.Compatibility(xs, ys))
	c2 := must[scones.Matrix[float64]](t)(back.Compatibility(xs, ys))
	if !equal(c1.Data, c2.Data) {
		t.Error("TorchScript-cost compatibilities changed through a file")
	}
	if _, err := scones.TrainSpot(ctx, x, y, scones.SpotOptions{}.TorchScriptCost("missing.pt", 2, 2, 4)); !errors.Is(err, scones.ErrIO) {
		t.Errorf("SPOT with a missing module: %v", err)
	}
}
