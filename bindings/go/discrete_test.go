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

// ABI 0.2: the Into forms write into caller buffers (a float32 column-major plan too) and the
// Cost forms on the cost matrix agree with the point-set calls; short buffers are refused
// untouched; progress arrives under PhaseDiscrete with a marginal error.
func TestDiscreteIntoAndCost(t *testing.T) {
	x, y, c, maxc := discretePoints()
	n := x.Rows
	ctx := context.Background()
	maxDiff := func(p, q []float64) float64 {
		d := 0.0
		for i := range p {
			d = math.Max(d, math.Abs(p[i]-q[i]))
		}
		return d
	}
	phases := map[scones.Phase]int{}
	opts := scones.DiscreteOptions{}.Tolerance(1e-9).Progress(func(p scones.Progress) bool {
		if p.Phase == scones.PhaseDiscrete && !(p.MarginalError >= 0) {
			t.Errorf("discrete progress with marginal error %g", p.MarginalError)
		}
		phases[p.Phase]++
		return true
	}, 5)
	sk, err := scones.Sinkhorn(ctx, x, y, 1e-3*maxc, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(phases) != 1 || phases[scones.PhaseDiscrete] == 0 {
		t.Errorf("progress phases %v, want only PhaseDiscrete", phases)
	}
	f, g := make([]float64, n), make([]float64, n)
	plan32 := scones.ColMajor(make([]float32, n*n), n, n)
	rep, err := scones.SinkhornInto(ctx, x, y, 1e-3*maxc, f, g, plan32, opts)
	if err != nil {
		t.Fatal(err)
	}
	worst := 0.0
	for i := 0; i < n; i++ {
		for j := 0; j < n; j++ {
			worst = math.Max(worst, math.Abs(float64(plan32.At(i, j))-sk.Plan.At(i, j)))
		}
	}
	if maxDiff(f, sk.F) > 1e-12 || maxDiff(g, sk.G) > 1e-12 || worst > 1e-7 || rep.Iterations != sk.Report.Iterations {
		t.Errorf("SinkhornInto: potentials differ by %g, float32 plan by %g", math.Max(maxDiff(f, sk.F), maxDiff(g, sk.G)), worst)
	}
	skc, err := scones.SinkhornCost(ctx, c, 1e-3*maxc, opts)
	if err != nil || maxDiff(skc.Plan.Data, sk.Plan.Data) > 1e-10 || maxDiff(skc.F, sk.F) > 1e-10 {
		t.Errorf("SinkhornCost differs from Sinkhorn (%v)", err)
	}
	if _, err := scones.SinkhornCostInto(ctx, c, 1e-3*maxc, f, g, nil, opts); err != nil {
		t.Errorf("SinkhornCostInto without a plan: %v", err)
	}

	io := scones.DiscreteOptions{}.IPOT(0.002, 1).MaxIterations(2000)
	ip, err := scones.IPOT(ctx, x, y, io)
	if err != nil {
		t.Fatal(err)
	}
	buf := scones.Zeros(n, n)
	if _, err := scones.IPOTCostInto(ctx, c, buf, io); err != nil || maxDiff(buf.Data, ip.Plan.Data) > 1e-10 {
		t.Errorf("IPOTCostInto differs from IPOT (%v)", err)
	}
	if ipc, err := scones.IPOTCost(ctx, c, io); err != nil || maxDiff(ipc.Plan.Data, ip.Plan.Data) > 1e-10 {
		t.Errorf("IPOTCost differs from IPOT (%v)", err)
	}

	fd, err := scones.DiscreteFDual(ctx, x, y, scones.GAN, 0.05, scones.DiscreteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	phi, psi := make([]float64, n), make([]float64, n)
	if _, err := scones.DiscreteFDualCostInto(ctx, c, scones.GAN, 0.05, phi, psi, nil, scones.DiscreteOptions{}); err != nil ||
		maxDiff(phi, fd.Phi) > 1e-10 || maxDiff(psi, fd.Psi) > 1e-10 {
		t.Errorf("DiscreteFDualCostInto differs from DiscreteFDual (%v)", err)
	}
	if fdc, err := scones.DiscreteFDualCost(ctx, c, scones.GAN, 0.05, scones.DiscreteOptions{}); err != nil ||
		maxDiff(fdc.Plan.Data, fd.Plan.Data) > 1e-10 {
		t.Errorf("DiscreteFDualCost differs from DiscreteFDual (%v)", err)
	}
	if _, err := scones.DiscreteFDualInto(ctx, x, y, scones.GAN, 0.05, phi, psi, scones.Zeros(n, n), scones.DiscreteOptions{}); err != nil {
		t.Errorf("DiscreteFDualInto: %v", err)
	}

	// Wrong lengths and shapes: refused before any work, buffers untouched.
	short := []float64{7, 7, 7}
	if _, err := scones.SinkhornInto(ctx, x, y, 0.1, short, g, nil, scones.DiscreteOptions{}); !errors.Is(err, scones.ErrShapeMismatch) || short[0] != 7 {
		t.Errorf("short f: %v", err)
	}
	if _, err := scones.DiscreteFDualCostInto(ctx, c, scones.KL, 0.1, phi, short, nil, scones.DiscreteOptions{}); !errors.Is(err, scones.ErrShapeMismatch) {
		t.Errorf("short psi: %v", err)
	}
	if _, err := scones.IPOTCostInto(ctx, c, scones.Zeros(n, n-1), io); !errors.Is(err, scones.ErrShapeMismatch) {
		t.Errorf("plan of the wrong shape: %v", err)
	}
	bad := scones.Zeros(n, n)
	copy(bad.Data, c.Data)
	bad.Data[3] = math.Inf(-1)
	if _, err := scones.SinkhornCost(ctx, bad, 0.1, scones.DiscreteOptions{}); !errors.Is(err, scones.ErrNonFinite) {
		t.Errorf("-Inf cost: %v", err)
	}
}
