package scones_test

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"scones.dev/scones"
)

// SPOT (ABI 0.3): W1 between N((-2.5, 0), I) and N((2.5, 0), I) is 5 under c = |x - y|. 300
// iterations of 16-16 networks leave a training error under 1 (the doc example of api::Spot);
// the estimate's standard error at 10,000 draws is ~0.02.
func TestSpot(t *testing.T) {
	eye := scones.NewMatrix([]float64{1, 0, 0, 1}, 2, 2)
	x := must[scones.Matrix[float64]](t)(scones.GaussianSample([]float64{-2.5, 0}, eye, 4000, 1))
	y := must[scones.Matrix[float64]](t)(scones.GaussianSample([]float64{2.5, 0}, eye, 4000, 2))
	reports, otherPhase := 0, 0
	opts := scones.SpotOptions{}.Cost(scones.Euclidean).Hidden([]int{16, 16}, []int{16, 16}).Batch(256, 300).
		Progress(func(p scones.Progress) bool {
			reports++
			if p.Phase != scones.PhaseSpotTraining || math.IsNaN(p.MarginalError) {
				otherPhase++
			}
			return true
		}, 100)
	plan, err := scones.TrainSpot(context.Background(), x, y, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	if reports != 3 || otherPhase != 0 {
		t.Errorf("%d progress reports, %d not SPOT training with a gap", reports, otherPhase)
	}
	if d, err := plan.Dims(); err != nil || len(d) != 2 || d[0] != 2 || d[1] != 2 {
		t.Errorf("dims %v, %v", d, err)
	}
	w1, err := plan.CostEstimate(10000, 3)
	if err != nil || math.Abs(w1.Estimate-5) > 1 || w1.StandardError <= 0 || w1.StandardError > 0.1 {
		t.Errorf("W1 %+v (exact 5), %v", w1, err)
	}
	t.Logf("SPOT W1 %.4f +- %.4f (exact 5)", w1.Estimate, w1.StandardError)

	// Paired rows: their mean cost is the estimate from the same (n, seed) draws.
	pairs, err := plan.Sample(10000, 3)
	if err != nil || len(pairs) != 2 || pairs[0].Rows != 10000 || pairs[1].Cols != 2 {
		t.Fatalf("sample: %d matrices, %v", len(pairs), err)
	}
	sum := 0.0
	for i := 0; i < pairs[0].Rows; i++ {
		sum += math.Hypot(pairs[0].At(i, 0)-pairs[1].At(i, 0), pairs[0].At(i, 1)-pairs[1].At(i, 1))
	}
	if math.Abs(sum/10000-w1.Estimate) > 1e-4 {
		t.Errorf("paired rows' mean cost %g, estimate %g", sum/10000, w1.Estimate)
	}
	again, _ := plan.Sample(50, 3)
	other, _ := plan.Sample(50, 4)
	first50, _ := plan.Sample(50, 3)
	if !equal(again[1].Data, first50[1].Data) || equal(again[0].Data, other[0].Data) {
		t.Error("the same seed must give the same rows, another seed others")
	}
	if _, err := plan.Sample(0, 1); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("Sample(0): %v", err)
	}
	if _, err := plan.CostEstimate(1, 1); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("CostEstimate(1): %v", err)
	}
	if r, err := plan.TrainReport(); err != nil || r.Iterations != 300 || math.IsNaN(r.Cost) || r.Seconds <= 0 {
		t.Errorf("report %+v, %v", r, err)
	}

	// Save / load: the same samples, no report; a dual's file is not a plan.
	path := filepath.Join(t.TempDir(), "plan.scones")
	if err := plan.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := scones.LoadSpot(path, "")
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	if s, err := loaded.Sample(50, 3); err != nil || !equal(s[0].Data, first50[0].Data) || !equal(s[1].Data, first50[1].Data) {
		t.Errorf("the loaded plan samples differently (%v)", err)
	}
	if _, err := loaded.TrainReport(); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("loaded plan's report: %v", err)
	}
	dual, err := scones.Train(context.Background(), x, y, scones.TrainOptions{}.Cost(scones.Euclidean).Hidden(8).
		Batch(32, scones.BatchAllPairs).Iterations(5))
	if err != nil {
		t.Fatal(err)
	}
	defer dual.Close()
	dualPath := filepath.Join(t.TempDir(), "dual.scones")
	if err := dual.Save(dualPath); err != nil {
		t.Fatal(err)
	}
	if _, err := scones.LoadSpot(dualPath, ""); !errors.Is(err, scones.ErrFormat) {
		t.Errorf("a dual loaded as a plan: %v", err)
	}
	// The Langevin sampler refuses |x - y|, naming the cost.
	score := must[*scones.Score](t)(scones.NewGaussianScore([]float64{2.5, 0}, eye))
	defer score.Close()
	if _, err := scones.NewSampler(dual, score, scones.SamplerOptions{}); !errors.Is(err, scones.ErrInvalidArgument) ||
		!strings.Contains(err.Error(), "euclidean") {
		t.Errorf("sampler on a Euclidean-cost dual: %v", err)
	}

	plan.Close()
	if _, err := plan.Sample(10, 1); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("closed plan: %v", err)
	}
}

// Three marginals (two point sets and a host sampler), presets, cancellation and entropy.
func TestSpotMeasures(t *testing.T) {
	eye := scones.NewMatrix([]float64{1, 0, 0, 1}, 2, 2)
	x := must[scones.Matrix[float64]](t)(scones.GaussianSample([]float64{-1, 0}, eye, 500, 1))
	mx := must[*scones.Measure](t)(scones.NewPointsMeasure(x))
	defer mx.Close()
	my := must[*scones.Measure](t)(scones.NewPointsMeasure(x.Slice(0, 250)))
	defer my.Close()
	calls := 0
	mc := must[*scones.Measure](t)(scones.NewCallbackMeasure(2, func(out scones.Matrix[float64], seed uint64) error {
		calls++
		r := rand.New(rand.NewSource(int64(seed)))
		for i := 0; i < out.Rows; i++ {
			out.Set(i, 0, r.NormFloat64())
			out.Set(i, 1, 3+r.NormFloat64())
		}
		return nil
	}))
	defer mc.Close()
	opts := scones.SpotOptions{}.Preset(scones.SpotThesis).Hidden([]int{8}, []int{8}).Batch(64, 20).Seed(5)
	plan, err := scones.TrainSpotMeasures(context.Background(), []*scones.Measure{mx, my, mc}, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer plan.Close()
	if calls < 20 {
		t.Errorf("the host sampler ran %d times in 20 iterations", calls)
	}
	s, err := plan.Sample(30, 1)
	if err != nil || len(s) != 3 || s[2].Rows != 30 {
		t.Fatalf("three marginals: %d matrices, %v", len(s), err)
	}
	if _, err := scones.TrainSpotMeasures(context.Background(), []*scones.Measure{mx}, opts); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("one marginal: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancelled := opts.Batch(64, 100000).Progress(func(p scones.Progress) bool {
		if p.Iteration >= 10 {
			cancel()
		}
		return true
	}, 5)
	if _, err := scones.TrainSpotMeasures(ctx, []*scones.Measure{mx, my}, cancelled); !errors.Is(err, scones.ErrCancelled) ||
		!errors.Is(err, context.Canceled) {
		t.Errorf("cancelled SPOT training: %v", err)
	}
	if _, err := scones.TrainSpotMeasures(context.Background(), []*scones.Measure{mx, my}, opts.Preset(99)); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("preset 99: %v", err)
	}
	// Entropy regularisation: a neural-ODE generator; invalid settings are refused.
	entropic, err := scones.TrainSpotMeasures(context.Background(), []*scones.Measure{mx, my},
		scones.SpotOptions{}.Hidden([]int{8}, []int{8}).Batch(64, 10).Entropy(0.5, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer entropic.Close()
	if s, err := entropic.Sample(20, 1); err != nil || len(s) != 2 {
		t.Errorf("entropic plan: %v", err)
	}
	if _, err := scones.TrainSpotMeasures(context.Background(), []*scones.Measure{mx, my}, opts.Entropy(0.5, 0)); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("zero flow steps: %v", err)
	}
}

func equal(a, b []float64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
