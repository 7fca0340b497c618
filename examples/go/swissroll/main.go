// Gaussian -> Swiss roll transport with SCONES, from Go (bindings/go).
//
//	PKG_CONFIG_PATH=<repo>/target/release/pkgconfig go run ./swissroll [-quick] [-out DIR]
//
// Trains dual potentials between N(0, I) in 2-D and a Swiss roll, samples y ~ pi(y | x) for fresh
// Gaussian sources with Langevin dynamics (Ctrl-C cancels through the context), and draws
// everything into a PNG.
//
// Stand-ins until the library has them (see README "Bindings"): the Swiss roll is generated
// here (t = 1.5 pi (1 + 2u), (t cos t, t sin t) / 5 + noise), and the target score is the exact
// score of the Gaussian with the roll's mean and covariance; the library's Swiss roll generator
// and the empirical (smoothed) target score should replace both when they land.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"math"
	"math/rand"
	"os"
	"os/signal"
	"path/filepath"

	"scones.dev/scones"
)

// swissRoll returns n points of the 2-D Swiss roll, row-major n x 2.
func swissRoll(n int, noise float64, seed int64) scones.Matrix[float64] {
	rng := rand.New(rand.NewSource(seed))
	m := scones.Zeros(n, 2)
	for i := 0; i < n; i++ {
		t := 1.5 * math.Pi * (1 + 2*rng.Float64())
		m.Set(i, 0, t*math.Cos(t)/5+noise*rng.NormFloat64())
		m.Set(i, 1, t*math.Sin(t)/5+noise*rng.NormFloat64())
	}
	return m
}

func main() {
	quick := flag.Bool("quick", false, "a small, fast run")
	out := flag.String("out", "out", "output folder")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	if err := run(ctx, *quick, *out); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, quick bool, outDir string) error {
	nTrain, nSamples, iterations, batch, steps, every := 4000, 2000, 2000, 256, 1000, 500
	if quick {
		nTrain, nSamples, iterations, batch, steps, every = 600, 300, 200, 128, 100, 100
	}
	const lambda = 0.5
	fmt.Printf("scones %s: Gaussian -> Swiss roll, lambda = %g\n", scones.Version(), lambda)
	identity := scones.NewMatrix([]float64{1, 0, 0, 1}, 2, 2)
	xTrain, err := scones.GaussianSample([]float64{0, 0}, identity, nTrain, 1)
	if err != nil {
		return err
	}
	yTrain := swissRoll(nTrain, 0.05, 2)

	opts := scones.TrainOptions{}.Regularizer(scones.KL, lambda).Hidden(64, 64).
		Batch(batch, scones.BatchAllPairs).Iterations(iterations).Seed(0).
		Progress(func(p scones.Progress) bool {
			fmt.Printf("  dual training: %6d / %d  objective %.4f  E[M(V)] %.3f\n", p.Iteration, p.Total, p.Objective, p.MeanCompatibility)
			return true // false would cancel
		}, every)
	dual, err := scones.Train(ctx, xTrain, yTrain, opts)
	if err != nil {
		return err
	}
	defer dual.Close()

	// Stand-in target score: the Gaussian with the roll's mean and covariance.
	mu := []float64{0, 0}
	for i := 0; i < nTrain; i++ {
		mu[0] += yTrain.At(i, 0) / float64(nTrain)
		mu[1] += yTrain.At(i, 1) / float64(nTrain)
	}
	cov := scones.Zeros(2, 2)
	for i := 0; i < nTrain; i++ {
		for a := 0; a < 2; a++ {
			for b := 0; b < 2; b++ {
				cov.Set(a, b, cov.At(a, b)+(yTrain.At(i, a)-mu[a])*(yTrain.At(i, b)-mu[b])/float64(nTrain-1))
			}
		}
	}
	score, err := scones.NewGaussianScore(mu, cov)
	if err != nil {
		return err
	}
	defer score.Close()

	sampler, err := scones.NewSampler(dual, score, scones.SamplerOptions{}.Steps(steps, 0.005).Init(scones.InitSource).Seed(7))
	if err != nil {
		return err
	}
	defer sampler.Close()
	x, err := scones.GaussianSample([]float64{0, 0}, identity, nSamples, 3)
	if err != nil {
		return err
	}
	y, err := sampler.Sample(ctx, x)
	if err != nil {
		return err
	}
	yRef := swissRoll(nSamples, 0.05, 4)
	sw, err := scones.SlicedW2(y, yRef, 256, 0)
	if err != nil {
		return err
	}
	swSource, err := scones.SlicedW2(x, yRef, 256, 0)
	if err != nil {
		return err
	}
	fmt.Printf("sliced W2 to the Swiss roll: SCONES samples %.3f, untransported sources %.3f\n", sw, swSource)

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	fig, err := scones.NewFigure(1200, 600, 1, 2)
	if err != nil {
		return err
	}
	defer fig.Close()
	few := 40
	steps2 := []error{
		fig.Scatter(0, x, 0x1f77b480, 1.5),
		fig.Scatter(0, yTrain, 0xff7f0e80, 1.5),
		fig.Title(0, "source N(0, I) and target Swiss roll"),
		fig.Legend(0, []string{"source x", "target"}, []uint32{0x1f77b4ff, 0xff7f0eff}),
		fig.Scatter(1, yTrain, 0xff7f0e40, 1.5),
		fig.Scatter(1, y, 0x2ca02c90, 1.5),
		fig.Segments(1, x.Slice(0, few), y.Slice(0, few), 0x00000090),
		fig.Scatter(1, x.Slice(0, few), 0x1f77b4ff, 3),
		fig.Title(1, fmt.Sprintf("y ~ pi(y|x), Gaussian stand-in score: sliced W2 %.3f", sw)),
		fig.Legend(1, []string{"samples", "x -> y"}, []uint32{0x2ca02cff, 0x000000ff}),
	}
	for _, e := range steps2 {
		if e != nil {
			return e
		}
	}
	png := filepath.Join(outDir, "swiss_roll_go.png")
	if err := fig.SavePNG(png); err != nil {
		return err
	}
	fmt.Println("wrote", png)
	return nil
}
