package scones_test

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"scones.dev/scones"
)

func must[T any](t *testing.T) func(T, error) T {
	return func(v T, err error) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

// meanVar returns the per-column means and the mean per-coordinate variance of m's rows.
func meanVar(m scones.Matrix[float64]) ([]float64, float64) {
	mean := make([]float64, m.Cols)
	for i := 0; i < m.Rows; i++ {
		for k := 0; k < m.Cols; k++ {
			mean[k] += m.At(i, k) / float64(m.Rows)
		}
	}
	v := 0.0
	for i := 0; i < m.Rows; i++ {
		for k := 0; k < m.Cols; k++ {
			d := m.At(i, k) - mean[k]
			v += d * d / float64(m.Rows*m.Cols)
		}
	}
	return mean, v
}

// Toy data, a host sampler measure (and its error and panic), dual training from measures.
func TestCallbackMeasure(t *testing.T) {
	g := must[scones.Matrix[float64]](t)(scones.ToySample(scones.ToyGaussian, 500, 1))
	roll := must[scones.Matrix[float64]](t)(scones.ToySample(scones.ToySwissRoll, 500, 2))
	if mean, v := meanVar(g); math.Abs(mean[0]) > 0.15 || math.Abs(v-1) > 0.2 {
		t.Errorf("toy Gaussian: mean %v, variance %v", mean, v)
	}
	if _, err := scones.ToySample(scones.Toy(99), 10, 0); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("unknown toy: got %v", err)
	}

	calls := 0
	src := must[*scones.Measure](t)(scones.NewCallbackMeasure(2, func(out scones.Matrix[float64], seed uint64) error {
		calls++
		r := rand.New(rand.NewSource(int64(seed)))
		for i := 0; i < out.Rows; i++ {
			for k := 0; k < out.Cols; k++ {
				out.Set(i, k, r.NormFloat64())
			}
		}
		return nil
	}))
	defer src.Close()
	tgt := must[*scones.Measure](t)(scones.NewPointsMeasure(roll))
	defer tgt.Close()
	opts := scones.TrainOptions{}.Regularizer(scones.KL, 2).Hidden(16).Batch(32, scones.BatchAllPairs).Iterations(20).Threads(1)
	dual := must[*scones.Dual](t)(scones.TrainMeasures(context.Background(), src, tgt, opts))
	defer dual.Close()
	if calls < 20 {
		t.Errorf("measure callback called %d times for 20 iterations", calls)
	}
	if dx, dy, err := dual.Dims(); err != nil || dx != 2 || dy != 2 {
		t.Errorf("dims %d %d %v", dx, dy, err)
	}

	// The callback's error arrives wrapped in the library's *Error (StatusCallback).
	errNoPoints := errors.New("no points today")
	bad := must[*scones.Measure](t)(scones.NewCallbackMeasure(2, func(scones.Matrix[float64], uint64) error { return errNoPoints }))
	_, err := scones.TrainMeasures(context.Background(), bad, tgt, opts)
	var se *scones.Error
	if !errors.As(err, &se) || se.Status != scones.StatusCallback || !errors.Is(err, errNoPoints) ||
		!errors.Is(err, scones.ErrCallback) {
		t.Fatalf("failing measure: got %v", err)
	}
	bad.Close()
	bad.Close() // twice is a no-op

	func() {
		defer func() {
			if r := recover(); r != "measure boom" {
				t.Errorf("recovered %v, want the callback's panic", r)
			}
		}()
		p := must[*scones.Measure](t)(scones.NewCallbackMeasure(2, func(scones.Matrix[float64], uint64) error { panic("measure boom") }))
		defer p.Close()
		scones.TrainMeasures(context.Background(), p, tgt, opts)
		t.Error("no panic")
	}()
}

// A host score: evaluated directly and through a sampler that ignores the compatibility term
// (so it samples the score's own N(0, I)), its error as a Go error, per-call cancellation with
// SetProgress, and the function kept alive by the sampler after the score is closed.
func TestCallbackScore(t *testing.T) {
	g := must[scones.Matrix[float64]](t)(scones.ToySample(scones.ToyGaussian, 200, 3))
	unit := must[*scones.Score](t)(scones.NewCallbackScore(2, func(out, y scones.Matrix[float64], sigma float64) error {
		for i := 0; i < y.Rows; i++ {
			for k := 0; k < y.Cols; k++ {
				out.Set(i, k, -y.At(i, k)/(1+sigma*sigma))
			}
		}
		return nil
	}))
	s := must[scones.Matrix[float64]](t)(unit.Eval(g.Slice(0, 5), 0))
	if math.Abs(s.At(3, 1)+g.At(3, 1)) > 1e-5 {
		t.Errorf("callback score: %v at %v", s.At(3, 1), g.At(3, 1))
	}
	dual := must[*scones.Dual](t)(scones.Train(context.Background(), g, g, scones.TrainOptions{}.Hidden(8).Iterations(5).Threads(1)))
	defer dual.Close()
	// (No Metropolis adjustment: a host score has no log-density.)
	sopt := scones.SamplerOptions{}.Compatibility(false).CompatibilityTempering(true).Steps(200, 0.05).SamplesPerSource(2).Seed(3).Threads(1)
	sampler := must[*scones.Sampler](t)(scones.NewSampler(dual, unit, sopt))
	defer sampler.Close()
	unit.Close() // the sampler keeps the Go function alive
	unit.Close()
	runtime.GC()
	if dx, dy, k, err := sampler.Shape(); err != nil || dx != 2 || dy != 2 || k != 2 {
		t.Fatalf("shape %d %d %d %v", dx, dy, k, err)
	}
	y := must[scones.Matrix[float64]](t)(sampler.Sample(context.Background(), g))
	if y.Rows != 400 {
		t.Fatalf("%d rows", y.Rows)
	}
	if mean, v := meanVar(y); math.Abs(mean[0]) > 0.25 || math.Abs(mean[1]) > 0.25 || v < 0.6 || v > 1.5 {
		t.Errorf("samples of N(0, I): mean %v, variance %v", mean, v)
	}

	// Cancellation of one call through SetProgress, then back to uncancelled sampling.
	if err := sampler.SetProgress(func(p scones.Progress) bool { return p.Iteration < 50 }, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := sampler.Sample(context.Background(), g.Slice(0, 10)); !errors.Is(err, scones.ErrCancelled) {
		t.Fatalf("SetProgress cancel: got %v", err)
	}
	if err := sampler.SetProgress(nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := sampler.Sample(context.Background(), g.Slice(0, 10)); err != nil {
		t.Fatal(err)
	}

	errScore := errors.New("score failed")
	failing := must[*scones.Score](t)(scones.NewCallbackScore(2, func(_, _ scones.Matrix[float64], _ float64) error { return errScore }))
	defer failing.Close()
	_, err := failing.Eval(g.Slice(0, 3), 0)
	var se *scones.Error
	if !errors.As(err, &se) || se.Status != scones.StatusCallback || !errors.Is(err, errScore) {
		t.Fatalf("failing score: got %v", err)
	}
	fs, err := scones.NewSampler(dual, failing, scones.SamplerOptions{}.Steps(2, 0.01).Threads(1))
	if err == nil {
		defer fs.Close()
		_, err = fs.Sample(context.Background(), g.Slice(0, 3))
	}
	if !errors.Is(err, errScore) || !errors.Is(err, scones.ErrCallback) {
		t.Fatalf("sampling with a failing score: got %v", err)
	}
}

// Empirical, trained and TorchScript scores, barycentric maps (train, map, save, load, chain
// start); closing twice.
func TestScoresAndBarycentric(t *testing.T) {
	ctx := context.Background()
	g := must[scones.Matrix[float64]](t)(scones.ToySample(scones.ToyGaussian, 300, 4))
	roll := must[scones.Matrix[float64]](t)(scones.ToySample(scones.ToySwissRoll, 300, 5))
	src := must[*scones.Measure](t)(scones.NewPointsMeasure(g))
	defer src.Close()
	tgt := must[*scones.Measure](t)(scones.NewPointsMeasure(roll))
	defer tgt.Close()
	dual := must[*scones.Dual](t)(scones.Train(ctx, g, roll, scones.TrainOptions{}.Hidden(8).Iterations(10).Threads(1)))
	defer dual.Close()
	dir := t.TempDir()

	net := scones.NetworkOptions{}.Hidden(16).BatchSize(32).Iterations(20).Seed(1).Threads(1)
	bary := must[*scones.Barycentric](t)(scones.TrainBarycentric(ctx, dual, src, tgt, net))
	defer bary.Close()
	if dx, dy, err := bary.Dims(); err != nil || dx != 2 || dy != 2 {
		t.Fatalf("barycentric dims %d %d %v", dx, dy, err)
	}
	tx := must[scones.Matrix[float64]](t)(bary.Map(g.Slice(0, 7)))
	path := filepath.Join(dir, "T.safetensors")
	if err := bary.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded := must[*scones.Barycentric](t)(scones.LoadBarycentric(path))
	tx2 := must[scones.Matrix[float64]](t)(loaded.Map(g.Slice(0, 7)))
	if tx2.At(6, 1) != tx.At(6, 1) {
		t.Errorf("loaded map differs: %v vs %v", tx2.At(6, 1), tx.At(6, 1))
	}
	loaded.Close()
	loaded.Close()

	emp := must[*scones.Score](t)(scones.NewEmpiricalScore(roll, 0.1))
	defer emp.Close()
	if d, err := emp.Dim(); err != nil || d != 2 {
		t.Fatalf("empirical dim %d %v", d, err)
	}
	if err := emp.Save(filepath.Join(dir, "emp.safetensors")); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("saving an empirical score: got %v", err)
	}
	sampler := must[*scones.Sampler](t)(scones.NewSampler(dual, emp, scones.SamplerOptions{}.InitMap(bary).Steps(10, 1e-4).
		Metropolis(true).AdaptStep(true).Threads(1)))
	defer sampler.Close()
	if y, err := sampler.Sample(ctx, g.Slice(0, 7)); err != nil || y.Rows != 7 {
		t.Fatalf("init-map sampling: %v", err)
	}
	// Resampled starts with steps of 1e-12: every sample is one of the given target rows.
	rs := must[*scones.Sampler](t)(scones.NewSampler(dual, emp, scones.SamplerOptions{}.InitResample(roll, 0).
		Steps(1, 1e-12).Threads(1)))
	defer rs.Close()
	ys := must[scones.Matrix[float64]](t)(rs.Sample(ctx, g.Slice(0, 7)))
	for i := 0; i < ys.Rows; i++ {
		best := math.Inf(1)
		for j := 0; j < roll.Rows; j++ {
			dx, dy := ys.At(i, 0)-roll.At(j, 0), ys.At(i, 1)-roll.At(j, 1)
			best = math.Min(best, dx*dx+dy*dy)
		}
		if best > 1e-8 {
			t.Errorf("resampled chain %d is %g from every target row", i, math.Sqrt(best))
		}
	}
	if _, err := scones.NewSampler(dual, emp, scones.SamplerOptions{}.InitResample(nil, 0)); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("nil resampling targets: got %v", err)
	}

	trained := must[*scones.Score](t)(scones.TrainScore(ctx, tgt, net.NoiseLevels(1, 0.05, 3)))
	defer trained.Close()
	spath := filepath.Join(dir, "score.safetensors")
	if err := trained.Save(spath); err != nil {
		t.Fatal(err)
	}
	reloaded := must[*scones.Score](t)(scones.LoadScore(spath))
	defer reloaded.Close()
	a := must[scones.Matrix[float64]](t)(trained.Eval(g.Slice(0, 4), 0.1))
	b := must[scones.Matrix[float64]](t)(reloaded.Eval(g.Slice(0, 4), 0.1))
	if a.At(3, 0) != b.At(3, 0) {
		t.Errorf("reloaded score differs: %v vs %v", a.At(3, 0), b.At(3, 0))
	}
	if _, err := scones.TrainScore(ctx, tgt, net.Progress(func(scones.Progress) bool { return false }, 5)); !errors.Is(err, scones.ErrCancelled) {
		t.Errorf("cancelled score training: got %v", err)
	}

	fixture := filepath.Join("..", "..", "tests", "fixtures", "score_module.pt")
	if _, err := os.Stat(fixture); err == nil {
		ts := must[*scones.Score](t)(scones.NewTorchScriptScore(fixture, 2))
		if _, err := ts.Eval(g.Slice(0, 3), 0.1); err != nil {
			t.Error(err)
		}
		ts.Close()
	}
	if _, err := scones.NewTorchScriptScore(filepath.Join(dir, "missing.pt"), 2); err == nil {
		t.Error("missing TorchScript file loaded")
	}
}
