package scones_test

import (
	"context"
	"errors"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"scones.dev/scones"
)

// gaussianProblem is the paper's d = 2 Gaussian setting, tiny: two random covariances and
// training samples of both measures.
type gaussianProblem struct {
	covA, covB  scones.Matrix[float64]
	x, y, xEval scones.Matrix[float64]
	lambda      float64
}

func newProblem(t *testing.T, n, nEval int) gaussianProblem {
	t.Helper()
	const d = 2
	must := func(m scones.Matrix[float64], err error) scones.Matrix[float64] {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	p := gaussianProblem{lambda: 2 * d}
	p.covA = must(scones.RandomCovariance(d, scones.SpectrumGeometric, 1))
	p.covB = must(scones.RandomCovariance(d, scones.SpectrumGeometric, 2))
	zero := make([]float64, d)
	p.x = must(scones.GaussianSample(zero, p.covA, n, 10))
	p.y = must(scones.GaussianSample(zero, p.covB, n, 11))
	p.xEval = must(scones.GaussianSample(zero, p.covA, nEval, 12))
	return p
}

func TestVersion(t *testing.T) {
	if v := scones.Version(); v != scones.HeaderVersion {
		t.Fatalf("library %s, header %s", v, scones.HeaderVersion)
	}
}

// A tiny model trained and sampled through the Go types, checked against the closed-form
// entropic coupling; inputs as float32 column-major views (no copies).
func TestGaussianTransport(t *testing.T) {
	p := newProblem(t, 4000, 1000)
	n := p.y.Rows
	yColMajor := make([]float32, n*2)
	for i := 0; i < n; i++ {
		for k := 0; k < 2; k++ {
			yColMajor[k*n+i] = float32(p.y.At(i, k))
		}
	}
	reports := 0
	opts := scones.TrainOptions{}.Regularizer(scones.KL, p.lambda).Hidden(32, 32).
		Batch(100, scones.BatchAllPairs).Iterations(300).Seed(3).
		Threads(1). // tiny networks: one thread avoids OpenMP spinning on a busy machine
		Progress(func(pr scones.Progress) bool { reports++; return pr.Phase == scones.PhaseDualTraining }, 100)
	dual, err := scones.Train(context.Background(), p.x, scones.ColMajor(yColMajor, n, 2), opts)
	if err != nil {
		t.Fatal(err)
	}
	defer dual.Close()
	if reports != 3 {
		t.Errorf("%d progress reports, want 3", reports)
	}
	if dx, dy, err := dual.Dims(); err != nil || dx != 2 || dy != 2 {
		t.Errorf("dims %d x %d, %v", dx, dy, err)
	}
	if pr, err := dual.Problem(); err != nil || pr.Regularizer != scones.KL || pr.Lambda != p.lambda || pr.Cost != scones.SqEuclidean {
		t.Errorf("problem %+v, %v", pr, err)
	}
	if r, err := dual.TrainReport(); err != nil || r.Iterations != 300 {
		t.Errorf("train report %+v, %v", r, err)
	}

	score, err := scones.NewGaussianScore([]float64{0, 0}, p.covB)
	if err != nil {
		t.Fatal(err)
	}
	defer score.Close()
	sampler, err := scones.NewSampler(dual, score, scones.SamplerOptions{}.Steps(150, 0.05).Metropolis(true).Seed(7).Threads(1))
	if err != nil {
		t.Fatal(err)
	}
	defer sampler.Close()
	runtime.GC() // finalizers must not touch live handles
	yEval, err := sampler.Sample(context.Background(), p.xEval)
	if err != nil {
		t.Fatal(err)
	}
	if yEval.Rows != p.xEval.Rows || yEval.Cols != 2 {
		t.Fatalf("samples %d x %d", yEval.Rows, yEval.Cols)
	}
	joint, err := scones.JointCovariance(p.xEval, yEval)
	if err != nil {
		t.Fatal(err)
	}
	exact, err := scones.GaussianEntropicCoupling(p.covA, p.covB, p.lambda)
	if err != nil {
		t.Fatal(err)
	}
	bw, err := scones.BWUVP(joint, exact)
	if err != nil {
		t.Fatal(err)
	}
	rep, _ := sampler.Report()
	t.Logf("tiny d = 2 transport: BW-UVP %.3f, acceptance %.3f", bw, rep.Acceptance)
	checkShardedSampling(t, dual, score, p.xEval.Slice(0, 9))
	if !(bw >= 0 && bw < 3) {
		t.Errorf("BW-UVP %g, want < 3 against the closed-form coupling", bw)
	}
	// The samples' own covariance approaches the target's.
	tr := p.covB.At(0, 0) + p.covB.At(1, 1)
	for i := 0; i < 2; i++ {
		for j := 0; j < 2; j++ {
			if diff := math.Abs(joint.At(2+i, 2+j) - p.covB.At(i, j)); diff > 0.15*tr {
				t.Errorf("cov(y)[%d,%d] = %g, target %g", i, j, joint.At(2+i, 2+j), p.covB.At(i, j))
			}
		}
	}

	// Potentials survive a save / load round trip.
	path := filepath.Join(t.TempDir(), "dual.safetensors")
	if err := dual.Save(path); err != nil {
		t.Fatal(err)
	}
	loaded, err := scones.LoadDual(path, "cpu")
	if err != nil {
		t.Fatal(err)
	}
	defer loaded.Close()
	a, err1 := dual.Potential(scones.Phi, p.xEval.Slice(0, 100))
	b, err2 := loaded.Potential(scones.Psi, p.xEval.Slice(0, 100))
	c, err3 := loaded.Potential(scones.Phi, p.xEval.Slice(0, 100))
	if err1 != nil || err2 != nil || err3 != nil {
		t.Fatal(err1, err2, err3)
	}
	for i := range a {
		if a[i] != c[i] {
			t.Fatalf("phi differs after reload at %d: %g vs %g", i, a[i], c[i])
		}
	}
	_ = b

	// A figure.
	fig, err := scones.NewFigure(400, 300, 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	defer fig.Close()
	png := filepath.Join(t.TempDir(), "go.png")
	for _, e := range []error{
		fig.Scatter(0, p.xEval, 0x1f77b480, 1.5), fig.Scatter(1, yEval, 0x2ca02c80, 1.5),
		fig.Title(1, "y ~ pi(y|x)"), fig.Legend(1, []string{"samples"}, []uint32{0x2ca02cff}),
		fig.SavePNG(png),
	} {
		if e != nil {
			t.Fatal(e)
		}
	}
	if st, err := os.Stat(png); err != nil || st.Size() < 100 {
		t.Fatalf("png: %v", err)
	}
}

// Errors arrive as *scones.Error with the library's status, and match the sentinels.
func TestErrors(t *testing.T) {
	p := newProblem(t, 200, 10)
	_, err := scones.Train(context.Background(), p.x, p.y, scones.TrainOptions{}.Regularizer(scones.KL, -1))
	var se *scones.Error
	if !errors.As(err, &se) || se.Status != scones.StatusInvalidArgument || se.Message == "" {
		t.Fatalf("negative lambda: got %v", err)
	}
	if !errors.Is(err, scones.ErrInvalidArgument) || errors.Is(err, scones.ErrShapeMismatch) {
		t.Errorf("errors.Is does not match the status: %v", err)
	}
	t.Logf("ok: %v", err)

	_, err = scones.LoadDual(filepath.Join(t.TempDir(), "missing.safetensors"), "")
	if !errors.Is(err, scones.ErrIO) {
		t.Errorf("missing file: got %v", err)
	}
	// A view whose strides reach past its slice is refused before any C call.
	bad := scones.Matrix[float64]{Data: make([]float64, 3), Rows: 2, Cols: 2, RowStride: 2, ColStride: 1}
	if _, err := scones.JointCovariance(bad, bad); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("out-of-bounds view: got %v", err)
	}
	// Shape mismatch from the library.
	dual, err := scones.Train(context.Background(), p.x, p.y, scones.TrainOptions{}.Hidden(8).Batch(16, scones.BatchPaired).Iterations(2))
	if err != nil {
		t.Fatal(err)
	}
	if err := dual.PotentialInto(scones.Phi, p.x, scones.Zeros(3, 1)); !errors.Is(err, scones.ErrShapeMismatch) {
		t.Errorf("wrong output shape: got %v", err)
	}
	// Close twice, then use: an error, not a crash.
	dual.Close()
	dual.Close()
	if _, _, err := dual.Dims(); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Errorf("closed handle: got %v", err)
	}
}

// Cancellation through a context and through a ProgressFunc; a panic in the ProgressFunc is
// re-raised on the caller's goroutine.
func TestCancellation(t *testing.T) {
	p := newProblem(t, 500, 50)
	ctx, cancel := context.WithCancel(context.Background())
	calls := 0
	opts := scones.TrainOptions{}.Hidden(8).Batch(16, scones.BatchPaired).Iterations(100000).
		Progress(func(pr scones.Progress) bool {
			calls++
			if pr.Iteration >= 20 {
				cancel()
			}
			return true
		}, 10)
	_, err := scones.Train(ctx, p.x, p.y, opts)
	if !errors.Is(err, scones.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled context: got %v", err)
	}
	if calls < 2 || calls > 3 {
		t.Errorf("%d progress calls", calls)
	}

	_, err = scones.Train(context.Background(), p.x, p.y, opts.Progress(func(scones.Progress) bool { return false }, 5))
	if !errors.Is(err, scones.ErrCancelled) || errors.Is(err, context.Canceled) {
		t.Fatalf("progress returned false: got %v", err)
	}

	func() {
		defer func() {
			if r := recover(); r != "boom" {
				t.Errorf("recovered %v, want the callback's panic", r)
			}
		}()
		scones.Train(context.Background(), p.x, p.y, opts.Progress(func(scones.Progress) bool { panic("boom") }, 5))
		t.Error("no panic")
	}()

	dual, err := scones.Train(context.Background(), p.x, p.y, scones.TrainOptions{}.Hidden(8).Iterations(10))
	if err != nil {
		t.Fatal(err)
	}
	defer dual.Close()
	score, err := scones.NewGaussianScore([]float64{0, 0}, p.covB)
	if err != nil {
		t.Fatal(err)
	}
	sampler, err := scones.NewSampler(dual, score, scones.SamplerOptions{}.Steps(100000, 0.01))
	score.Close() // the sampler keeps its own copy
	if err != nil {
		t.Fatal(err)
	}
	defer sampler.Close()
	ctx2, cancel2 := context.WithCancel(context.Background())
	cancel2()
	if _, err := sampler.Sample(ctx2, p.xEval); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled sampling: got %v", err)
	}
}

// Handles left to the garbage collector are released by finalizers (run with GOGC=1).
func TestFinalizers(t *testing.T) {
	cov, _ := scones.RandomCovariance(2, scones.SpectrumGeometric, 1)
	for i := 0; i < 50; i++ {
		if _, err := scones.NewGaussianScore([]float64{0, 0}, cov); err != nil {
			t.Fatal(err)
		}
		if _, err := scones.NewFigure(10, 10, 1, 1); err != nil {
			t.Fatal(err)
		}
	}
	runtime.GC()
	runtime.GC()
}

// checkShardedSampling: two "ranks" sampling sources [0, 4) at offset 0 and [4, n) at offset 4,
// with a chain batch that splits a source's chains, reproduce one call over [0, n) bit for bit.
func checkShardedSampling(t *testing.T, dual *scones.Dual, score *scones.Score, x scones.Matrix[float64]) {
	t.Helper()
	ctx := context.Background()
	opts := scones.SamplerOptions{}.Steps(10, 0.05).Metropolis(true).SamplesPerSource(3).Seed(3).Threads(1)
	one := must[*scones.Sampler](t)(scones.NewSampler(dual, score, opts))
	defer one.Close()
	whole := must[scones.Matrix[float64]](t)(one.SampleAt(ctx, 0, x))
	r0 := must[*scones.Sampler](t)(scones.NewSampler(dual, score, opts.ChainBatch(2)))
	defer r0.Close()
	r1 := must[*scones.Sampler](t)(scones.NewSampler(dual, score, opts.ChainBatch(5)))
	defer r1.Close()
	head := must[scones.Matrix[float64]](t)(r0.SampleAt(ctx, 0, x.Slice(0, 4)))
	tail := must[scones.Matrix[float64]](t)(r1.SampleAt(ctx, 4, x.Slice(4, x.Rows)))
	split := append(append([]float64{}, head.Data...), tail.Data...)
	for i, v := range whole.Data {
		if math.Float64bits(v) != math.Float64bits(split[i]) {
			t.Fatalf("sharded sampling: element %d is %v split, %v whole", i, split[i], v)
		}
	}
}
