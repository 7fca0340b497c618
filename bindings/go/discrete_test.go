package scones_test

import (
	"context"
	"errors"
	"math"
	"testing"

	"scones.dev/scones"
)

// discretePoints is a deterministic 6 + 6 point problem in the unit square and its cost matrix.
func discretePoints() (x, y, c scones.Matrix[float64], maxc float64) {
	const n = 6
	x, y, c = scones.Zeros(n, 2), scones.Zeros(n, 2), scones.Zeros(n, n)
	s := uint32(12345)
	for _, m := range []scones.Matrix[float64]{x, y} {
		for i := range m.Data {
			s = s*1103515245 + 12345
			m.Data[i] = float64((s>>8)&0xFFFF) / 65536
		}
	}
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			dx, dy := x.At(i, 0)-y.At(j, 0), x.At(i, 1)-y.At(j, 1)
			c.Set(i, j, dx*dx+dy*dy)
			maxc = math.Max(maxc, c.At(i, j))
		}
	}
	return
}

// Sinkhorn at small lambda, IPOT and the exact assignment agree on the transport cost; the KL
// f-divergence dual meets uniform marginals.
func TestDiscreteAgreement(t *testing.T) {
	x, y, c, maxc := discretePoints()
	n := x.Rows
	a, err := scones.Assignment(c)
	if err != nil {
		t.Fatal(err)
	}
	opt, dual := a.TotalCost/float64(n), 0.0
	for i := 0; i < n; i++ {
		dual += a.U[i] + a.V[i]
	}
	if len(a.Cols) != n || math.Abs(dual-a.TotalCost) > 1e-12 {
		t.Errorf("assignment %v: duality gap %g", a.Cols, dual-a.TotalCost)
	}

	reports := 0
	sk, err := scones.Sinkhorn(context.Background(), x, y, 1e-6*maxc, scones.DiscreteOptions{}.Tolerance(1e-9).
		Progress(func(scones.Progress) bool { reports++; return true }, 5))
	if err != nil {
		t.Fatal(err)
	}
	if !sk.Report.Converged || math.Abs(sk.Report.TransportCost-opt) > 1e-5*opt || reports == 0 {
		t.Errorf("sinkhorn cost %.12g vs optimum %.12g (%+v, %d reports)", sk.Report.TransportCost, opt, sk.Report, reports)
	}
	for i := 0; i < n; i++ {
		if math.Abs(sk.Plan.At(i, a.Cols[i])-1/float64(n)) > 1e-5 {
			t.Errorf("sinkhorn plan off the assignment at row %d", i)
		}
	}
	if len(sk.F) != n || len(sk.G) != n {
		t.Errorf("potentials of %d and %d entries", len(sk.F), len(sk.G))
	}
	np, err := scones.Sinkhorn(context.Background(), x, y, 0.1, scones.DiscreteOptions{}.WithoutPlan())
	if err != nil || np.Plan.Data != nil {
		t.Errorf("sinkhorn without a plan: %v", err)
	}

	ip, err := scones.IPOT(context.Background(), x, y, scones.DiscreteOptions{}.IPOT(0.002, 1).MaxIterations(2000))
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(ip.Report.TransportCost-opt) > 1e-5*opt || ip.Report.MarginalError > 1e-8 {
		t.Errorf("ipot cost %.12g vs optimum %.12g (%+v)", ip.Report.TransportCost, opt, ip.Report)
	}
	t.Logf("optimum %.10g, sinkhorn %.10g (%d it), ipot %.10g (%d steps)", opt, sk.Report.TransportCost,
		sk.Report.Iterations, ip.Report.TransportCost, ip.Report.Iterations)

	// KL dual, source weights given explicitly as a float32 row.
	w := make([]float32, n)
	for i := range w {
		w[i] = 1 / float32(n)
	}
	fd, err := scones.DiscreteFDual(context.Background(), x, y, scones.KL, 0.05,
		scones.DiscreteOptions{}.Weights(scones.NewMatrix(w, 1, n), nil))
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i := 0; i < n; i++ {
		row, col := 0.0, 0.0
		for j := 0; j < n; j++ {
			row += fd.Plan.At(i, j)
			col += fd.Plan.At(j, i)
		}
		worst = math.Max(worst, math.Max(math.Abs(row-1/float64(n)), math.Abs(col-1/float64(n))))
	}
	if !fd.Report.Converged || worst > 1e-6 || len(fd.Phi) != n {
		t.Errorf("fdual marginal error %g (%+v)", worst, fd.Report)
	}
}

// Errors arrive as *Error with their status; the progress function and the context cancel.
func TestDiscreteErrorsAndCancellation(t *testing.T) {
	x, y, _, _ := discretePoints()
	ctx := context.Background()
	expect := func(err error, want error, what string) {
		t.Helper()
		var e *scones.Error
		if !errors.Is(err, want) || !errors.As(err, &e) || e.Message == "" {
			t.Errorf("%s: got %v, want %v", what, err, want)
		}
	}
	_, err := scones.Sinkhorn(ctx, x, y, 0, scones.DiscreteOptions{})
	expect(err, scones.ErrInvalidArgument, "sinkhorn lambda = 0")
	_, err = scones.DiscreteFDual(ctx, x, y, scones.GAN, -1, scones.DiscreteOptions{})
	expect(err, scones.ErrInvalidArgument, "fdual lambda < 0")
	_, err = scones.IPOT(ctx, x, scones.Zeros(6, 3), scones.DiscreteOptions{})
	expect(err, scones.ErrShapeMismatch, "ipot dimensions")
	_, err = scones.Assignment(x)
	expect(err, scones.ErrShapeMismatch, "non-square assignment")
	_, err = scones.Sinkhorn(ctx, x, y, 0.1, scones.DiscreteOptions{}.Tolerance(0))
	expect(err, scones.ErrInvalidArgument, "tolerance 0")
	_, err = scones.Sinkhorn(ctx, x, y, 0.1, scones.DiscreteOptions{}.Weights(scones.Zeros(1, 4), nil))
	expect(err, scones.ErrShapeMismatch, "weights length")

	calls := 0
	stop := scones.DiscreteOptions{}.Progress(func(scones.Progress) bool { calls++; return calls < 2 }, 1)
	_, err = scones.Sinkhorn(ctx, x, y, 1e-3, stop)
	expect(err, scones.ErrCancelled, "sinkhorn cancelled")
	if calls != 2 {
		t.Errorf("sinkhorn: %d progress calls before cancelling", calls)
	}
	calls = 0
	_, err = scones.IPOT(ctx, x, y, stop)
	expect(err, scones.ErrCancelled, "ipot cancelled")
	calls = 0
	_, err = scones.DiscreteFDual(ctx, x, y, scones.ChiSquare, 1e-3, stop)
	expect(err, scones.ErrCancelled, "fdual cancelled")

	// A cancelled context: the error matches ErrCancelled and context.Canceled.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = scones.Sinkhorn(cctx, x, y, 1e-3, scones.DiscreteOptions{})
	if !errors.Is(err, scones.ErrCancelled) || !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}
