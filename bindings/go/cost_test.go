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
