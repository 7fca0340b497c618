// Gaussian -> Swiss roll (the paper's Fig. 4) with SCONES, from Go (bindings/go).
//
//	PKG_CONFIG_PATH=<repo>/target/release/pkgconfig go run ./swissroll [-quick] [-out DIR]
//
// KL-regularized OT with lambda = 2 and the squared Euclidean cost between N(0, I_2) and the
// library's Swiss roll (scones.ToySample). SCONES samples y ~ pi(y | x) by annealed Langevin
// dynamics with the empirical (kernel-smoothed, bandwidth 0.05) score of 3000 target points; the
// barycentric projection T(x) = E_pi[y | x] is the baseline. Prints the sliced W2 distance of
// each to a fresh target sample and writes a PNG. Ctrl-C cancels through the context.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"path/filepath"
	"time"

	"scones.dev/scones"
)

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
	nTrain, nEval, nEmp, kFixed := 20000, 3000, 3000, 150
	dualIters, mapIters, steps := 3000, 2000, 60
	if quick {
		nTrain, nEval, nEmp, kFixed, dualIters, mapIters, steps = 2000, 300, 1000, 20, 200, 200, 10
	}
	t0 := time.Now()
	// report prints a training phase at every quarter.
	report := func(what string) scones.ProgressFunc {
		return func(p scones.Progress) bool {
			if q := p.Total / 4; q == 0 || p.Iteration%q == 0 {
				fmt.Printf("  %s: %d / %d, objective %.4f (%.0f s)\n", what, p.Iteration, p.Total, p.Objective, time.Since(t0).Seconds())
			}
			return true // false would cancel
		}
	}
	fmt.Printf("scones %s: N(0, I) -> Swiss roll, KL, lambda = 2\n", scones.Version())
	var err error
	toy := func(t scones.Toy, n int, seed uint64) scones.Matrix[float64] {
		m, e := scones.ToySample(t, n, seed)
		if err == nil {
			err = e
		}
		return m
	}
	xTrain, yTrain := toy(scones.ToyGaussian, nTrain, 1), toy(scones.ToySwissRoll, nTrain, 2)
	x, fresh := toy(scones.ToyGaussian, nEval, 3), toy(scones.ToySwissRoll, nEval, 4)
	yEmp := toy(scones.ToySwissRoll, nEmp, 5)
	if err != nil {
		return err
	}
	source, err := scones.NewPointsMeasure(xTrain)
	if err != nil {
		return err
	}
	defer source.Close()
	target, err := scones.NewPointsMeasure(yTrain)
	if err != nil {
		return err
	}
	defer target.Close()

	// Algorithm 1: dual potentials phi, psi.
	dopt := scones.TrainOptions{}.Regularizer(scones.KL, 2).Hidden(128, 128).Batch(250, scones.BatchAllPairs).
		Iterations(dualIters).Progress(report("dual training"), 50)
	dual, err := scones.TrainMeasures(ctx, source, target, dopt)
	if err != nil {
		return err
	}
	defer dual.Close()

	// The baseline: barycentric projection T(x) = E_pi[y | x].
	topt := scones.NetworkOptions{}.Hidden(128, 128).BatchSize(250).Iterations(mapIters).Progress(report("barycentric map"), 50)
	bary, err := scones.TrainBarycentric(ctx, dual, source, target, topt)
	if err != nil {
		return err
	}
	defer bary.Close()
	tx, err := bary.Map(x)
	if err != nil {
		return err
	}

	// Algorithm 2: annealed Langevin, 10 levels from 3 down to 0.01 then denoising, with the
	// empirical score of the target points.
	score, err := scones.NewEmpiricalScore(yEmp, 0.05)
	if err != nil {
		return err
	}
	defer score.Close()
	sopt := scones.SamplerOptions{}.Annealing(3, 0.01, 10, true).Steps(steps, 2e-5).Seed(7)
	sampler, err := scones.NewSampler(dual, score, sopt)
	if err != nil {
		return err
	}
	defer sampler.Close()
	y, err := sampler.Sample(ctx, x)
	if err != nil {
		return err
	}

	// pi(y | x) for a few fixed sources, K samples each.
	fixed := scones.NewMatrix([]float64{-1.5, 0.0, -0.5, 1.0, 0.0, 0.0, 0.8, -0.8, 1.5, 0.5, 0.3, 1.8}, 6, 2)
	conditional, err := scones.NewSampler(dual, score, sopt.SamplesPerSource(kFixed))
	if err != nil {
		return err
	}
	defer conditional.Close()
	cond, err := conditional.Sample(ctx, fixed)
	if err != nil {
		return err
	}
	fixedRep := scones.Zeros(cond.Rows, 2)
	for i := 0; i < cond.Rows; i++ {
		fixedRep.Set(i, 0, fixed.At(i/kFixed, 0))
		fixedRep.Set(i, 1, fixed.At(i/kFixed, 1))
	}

	sw := func(a scones.Matrix[float64]) float64 {
		v, e := scones.SlicedW2(a, fresh, 200, 0)
		if err == nil {
			err = e
		}
		return v
	}
	swBP, swSC, swFloor := sw(tx), sw(y), sw(yEmp)
	if err != nil {
		return err
	}
	fmt.Printf("sliced W2 to a fresh Swiss roll sample (%d points):\n", nEval)
	fmt.Printf("  barycentric projection T(x)   %.4f\n", swBP)
	fmt.Printf("  SCONES, empirical score       %.4f\n", swSC)
	fmt.Printf("  another exact target sample   %.4f   (the sampling-noise floor)\n", swFloor)

	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	fig, err := scones.NewFigure(1600, 1600, 2, 2)
	if err != nil {
		return err
	}
	defer fig.Close()
	targetPts := yTrain.Slice(0, nEval)
	var calls []error
	for p := 0; p < 4; p++ {
		calls = append(calls, fig.SetBounds(p, -3.5, 3.5, -3.5, 3.5))
	}
	calls = append(calls,
		fig.Scatter(0, x, 0x1f77b440, 2),
		fig.Scatter(0, targetPts, 0xff7f0e90, 2),
		fig.Title(0, "source N(0, I) and target Swiss roll"),
		fig.Legend(0, []string{"source x", "Swiss roll", "T(x)", "SCONES"}, []uint32{0x1f77b4ff, 0xff7f0eff, 0xd62728ff, 0x2ca02cff}),
		fig.Scatter(1, targetPts, 0xff7f0e30, 2),
		fig.Scatter(1, tx, 0xd62728a0, 2),
		fig.Title(1, fmt.Sprintf("barycentric projection T(x): SW2 %.3f", swBP)),
		fig.Scatter(2, targetPts, 0xff7f0e30, 2),
		fig.Scatter(2, y, 0x2ca02ca0, 2),
		fig.Title(2, fmt.Sprintf("SCONES y ~ pi(y|x), empirical score: SW2 %.3f", swSC)),
		fig.Scatter(3, targetPts, 0xff7f0e30, 2),
		fig.Segments(3, fixedRep, cond, 0x00000018),
		fig.Scatter(3, cond, 0x2ca02cb0, 2.5),
		fig.Scatter(3, fixed, 0x1f77b4ff, 6),
		fig.Title(3, "pi(y|x) for 6 fixed sources (blue)"),
	)
	for _, e := range calls {
		if e != nil {
			return e
		}
	}
	png := filepath.Join(outDir, "swiss_roll_go.png")
	if err := fig.SavePNG(png); err != nil {
		return err
	}
	fmt.Printf("wrote %s in %.1f s\n", png, time.Since(t0).Seconds())
	return nil
}
