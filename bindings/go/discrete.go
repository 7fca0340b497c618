package scones

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"runtime/cgo"
	"unsafe"
)

// ---------------------------------------------------------------------------- discrete OT

type discreteSetter func(*C.scones_discrete_options, **C.scones_error) C.scones_status

// DiscreteOptions configures the discrete solvers (Sinkhorn, IPOT, DiscreteFDual). The zero
// value is the library's defaults (each solver's own tolerance, squared Euclidean cost, uniform
// weights, the plan returned); each method returns a copy with one more setting:
//
//	opts := scones.DiscreteOptions{}.Tolerance(1e-9).MaxIterations(5000)
type DiscreteOptions struct {
	setters        []discreteSetter
	progress       ProgressFunc
	every          int
	cost           Cost
	source, target View // weights; nil: uniform
	noPlan         bool
}

func (o DiscreteOptions) with(f discreteSetter) DiscreteOptions {
	o.setters = append(append([]discreteSetter(nil), o.setters...), f)
	return o
}

// Tolerance sets the stopping tolerance on the l1 marginal violation (> 0).
func (o DiscreteOptions) Tolerance(tol float64) DiscreteOptions {
	return o.with(func(p *C.scones_discrete_options, e **C.scones_error) C.scones_status {
		return C.scones_discrete_options_set_tolerance(p, C.double(tol), e)
	})
}

// MaxIterations caps Sinkhorn iterations, IPOT proximal steps or the f-divergence dual's
// Newton steps (>= 1).
func (o DiscreteOptions) MaxIterations(n uint64) DiscreteOptions {
	return o.with(func(p *C.scones_discrete_options, e **C.scones_error) C.scones_status {
		return C.scones_discrete_options_set_max_iterations(p, C.uint64_t(n), e)
	})
}

// IPOT sets IPOT's proximal step as a fraction of max C (> 0; default 0.05) and its Sinkhorn
// sweeps per proximal step (>= 1; default 1).
func (o DiscreteOptions) IPOT(betaRelative float64, innerIterations int) DiscreteOptions {
	if innerIterations < 0 {
		innerIterations = 0 // rejected by the library
	}
	return o.with(func(p *C.scones_discrete_options, e **C.scones_error) C.scones_status {
		return C.scones_discrete_options_set_ipot(p, C.double(betaRelative), C.size_t(innerIterations), e)
	})
}

// Cost sets the ground cost (default SqEuclidean).
func (o DiscreteOptions) Cost(c Cost) DiscreteOptions {
	o.cost = c
	return o
}

// Weights sets the weights of the source and target points (each 1 x n or n x 1, > 0, summing
// to 1); nil keeps a side uniform. The views are read during the solver call.
func (o DiscreteOptions) Weights(source, target View) DiscreteOptions {
	o.source, o.target = source, target
	return o
}

// WithoutPlan skips the m x n plan of Sinkhorn and DiscreteFDual (their Plan is then empty):
// Sinkhorn then forms the cost in row blocks, so large problems fit in memory.
func (o DiscreteOptions) WithoutPlan() DiscreteOptions {
	o.noPlan = true
	return o
}

// Progress calls fn every `every` iterations (Objective is the solver's current objective);
// fn returning false cancels the solve.
func (o DiscreteOptions) Progress(fn ProgressFunc, every int) DiscreteOptions {
	o.progress, o.every = fn, every
	return o
}

// build makes the C options, with a progress hook when there is a ProgressFunc or ctx can be
// cancelled; done releases them after the call.
func (o DiscreteOptions) build(ctx context.Context) (*C.scones_discrete_options, *progressState, func(), error) {
	var p *C.scones_discrete_options
	var cerr *C.scones_error
	if err := check(C.scones_discrete_options_new(&p, &cerr), cerr); err != nil {
		return nil, nil, nil, err
	}
	for _, set := range o.setters {
		if err := check(set(p, &cerr), cerr); err != nil {
			C.scones_discrete_options_free(p)
			return nil, nil, nil, err
		}
	}
	if o.progress == nil && ctx.Done() == nil {
		return p, nil, func() { C.scones_discrete_options_free(p) }, nil
	}
	state := &progressState{ctx: ctx, fn: o.progress}
	h := cgo.NewHandle(state)
	done := func() {
		C.scones_discrete_options_free(p)
		h.Delete()
	}
	every := o.every
	if o.progress == nil || every <= 0 {
		every = defaultEvery
	}
	if err := check(C.go_discrete_options_set_progress(p, C.uintptr_t(h), C.size_t(every), &cerr), cerr); err != nil {
		done()
		return nil, nil, nil, err
	}
	return p, state, done, nil
}

// DiscreteReport summarizes a discrete solve.
type DiscreteReport struct {
	TransportCost float64 // <C, P> of the returned plan
	Objective     float64 // Sinkhorn, DiscreteFDual: the dual value; IPOT: <C, P>
	MarginalError float64 // l1 violation of the marginals by the plan
	Iterations    uint64
	Converged     bool // false when the iteration cap stopped the solver
}

func newReport() C.scones_discrete_report {
	var r C.scones_discrete_report
	r.struct_size = C.size_t(unsafe.Sizeof(r))
	return r
}

func (r *C.scones_discrete_report) toGo() DiscreteReport {
	return DiscreteReport{
		TransportCost: float64(r.transport_cost), Objective: float64(r.objective),
		MarginalError: float64(r.marginal_error), Iterations: uint64(r.iterations), Converged: r.converged != 0,
	}
}

// discreteCall holds the C views of a discrete problem: the points (x, y; the cost is
// opts.cost) or a dense cost matrix c, and the optional weights.
type discreteCall struct {
	x, y, c, a, b cview
	dense         bool
	hasA, hasB    bool
	m, n          int
}

func (c *discreteCall) keepAlive() {
	c.x.keepAlive()
	c.y.keepAlive()
	c.c.keepAlive()
	c.a.keepAlive()
	c.b.keepAlive()
}

// optShape is the shape of an optional view: nil when absent.
func optShape(v *cview, present bool) *C.go_shape {
	if !present {
		return nil
	}
	return &v.shape
}

func (c *discreteCall) weights(o DiscreteOptions) error {
	var err error
	if c.hasA = o.source != nil; c.hasA {
		if c.a, err = toC(o.source, "source weights"); err != nil {
			return err
		}
	}
	if c.hasB = o.target != nil; c.hasB {
		if c.b, err = toC(o.target, "target weights"); err != nil {
			return err
		}
	}
	return nil
}

func newDiscreteCall(source, target View, o DiscreteOptions) (*discreteCall, error) {
	c := &discreteCall{}
	var err error
	if c.x, err = toC(source, "source"); err != nil {
		return nil, err
	}
	if c.y, err = toC(target, "target"); err != nil {
		return nil, err
	}
	c.m, c.n = int(c.x.shape.rows), int(c.y.shape.rows)
	return c, c.weights(o)
}

// newCostCall is a problem given by its m x n cost matrix (opts.cost does not apply).
func newCostCall(cost View, o DiscreteOptions) (*discreteCall, error) {
	c := &discreteCall{dense: true}
	var err error
	if c.c, err = toC(cost, "cost"); err != nil {
		return nil, err
	}
	c.m, c.n = int(c.c.shape.rows), int(c.c.shape.cols)
	return c, c.weights(o)
}

// potentials views the caller's two potential slices, refusing lengths other than m and n
// before anything is called.
func (c *discreteCall) potentials(f, g []float64, names [2]string) (cview, cview, error) {
	if len(f) != c.m || len(g) != c.n {
		return cview{}, cview{}, errorf(StatusShapeMismatch, "%s and %s need %d and %d entries, got %d and %d",
			names[0], names[1], c.m, c.n, len(f), len(g))
	}
	fv, err := toC(NewMatrix(f, c.m, 1), names[0])
	if err != nil {
		return cview{}, cview{}, err
	}
	gv, err := toC(NewMatrix(g, c.n, 1), names[1])
	return fv, gv, err
}

// optPlan views an optional plan output (nil: not wanted).
func optPlan(plan View) (cview, bool, error) {
	if plan == nil {
		return cview{}, false, nil
	}
	p, err := toC(plan, "plan")
	return p, true, err
}

func (c *discreteCall) sinkhorn(ctx context.Context, lambda float64, f, g []float64, plan View, opts DiscreteOptions) (DiscreteReport, error) {
	fv, gv, err := c.potentials(f, g, [2]string{"f", "g"})
	if err != nil {
		return DiscreteReport{}, err
	}
	p, hasPlan, err := optPlan(plan)
	if err != nil {
		return DiscreteReport{}, err
	}
	o, state, done, err := opts.build(ctx)
	if err != nil {
		return DiscreteReport{}, err
	}
	defer done()
	rep := newReport()
	var cerr *C.scones_error
	var st C.scones_status
	a, b, ps := optShape(&c.a, c.hasA), optShape(&c.b, c.hasB), optShape(&p, hasPlan)
	if c.dense {
		st = C.go_sinkhorn_cost(c.c.ptr, &c.c.shape, c.a.ptr, a, c.b.ptr, b, C.double(lambda), o,
			fv.ptr, &fv.shape, gv.ptr, &gv.shape, p.ptr, ps, &rep, &cerr)
	} else {
		st = C.go_sinkhorn(c.x.ptr, &c.x.shape, c.y.ptr, &c.y.shape, c.a.ptr, a, c.b.ptr, b,
			C.scones_cost(opts.cost), C.double(lambda), o, fv.ptr, &fv.shape, gv.ptr, &gv.shape, p.ptr, ps, &rep, &cerr)
	}
	c.keepAlive()
	fv.keepAlive()
	gv.keepAlive()
	p.keepAlive()
	if err := state.finish(check(st, cerr)); err != nil {
		return DiscreteReport{}, err
	}
	return rep.toGo(), nil
}

func (c *discreteCall) ipot(ctx context.Context, plan View, opts DiscreteOptions) (DiscreteReport, error) {
	p, err := toC(plan, "plan")
	if err != nil {
		return DiscreteReport{}, err
	}
	o, state, done, err := opts.build(ctx)
	if err != nil {
		return DiscreteReport{}, err
	}
	defer done()
	rep := newReport()
	var cerr *C.scones_error
	var st C.scones_status
	a, b := optShape(&c.a, c.hasA), optShape(&c.b, c.hasB)
	if c.dense {
		st = C.go_ipot_cost(c.c.ptr, &c.c.shape, c.a.ptr, a, c.b.ptr, b, o, p.ptr, &p.shape, &rep, &cerr)
	} else {
		st = C.go_ipot(c.x.ptr, &c.x.shape, c.y.ptr, &c.y.shape, c.a.ptr, a, c.b.ptr, b, C.scones_cost(opts.cost), o,
			p.ptr, &p.shape, &rep, &cerr)
	}
	c.keepAlive()
	p.keepAlive()
	if err := state.finish(check(st, cerr)); err != nil {
		return DiscreteReport{}, err
	}
	return rep.toGo(), nil
}

func (c *discreteCall) fdual(ctx context.Context, r Regularizer, lambda float64, phi, psi []float64, plan View, opts DiscreteOptions) (DiscreteReport, error) {
	fv, gv, err := c.potentials(phi, psi, [2]string{"phi", "psi"})
	if err != nil {
		return DiscreteReport{}, err
	}
	p, hasPlan, err := optPlan(plan)
	if err != nil {
		return DiscreteReport{}, err
	}
	o, state, done, err := opts.build(ctx)
	if err != nil {
		return DiscreteReport{}, err
	}
	defer done()
	rep := newReport()
	var cerr *C.scones_error
	var st C.scones_status
	a, b, ps := optShape(&c.a, c.hasA), optShape(&c.b, c.hasB), optShape(&p, hasPlan)
	if c.dense {
		st = C.go_discrete_fdual_cost(c.c.ptr, &c.c.shape, c.a.ptr, a, c.b.ptr, b, C.scones_regularizer(r),
			C.double(lambda), o, fv.ptr, &fv.shape, gv.ptr, &gv.shape, p.ptr, ps, &rep, &cerr)
	} else {
		st = C.go_discrete_fdual(c.x.ptr, &c.x.shape, c.y.ptr, &c.y.shape, c.a.ptr, a, c.b.ptr, b,
			C.scones_cost(opts.cost), C.scones_regularizer(r), C.double(lambda), o, fv.ptr, &fv.shape, gv.ptr,
			&gv.shape, p.ptr, ps, &rep, &cerr)
	}
	c.keepAlive()
	fv.keepAlive()
	gv.keepAlive()
	p.keepAlive()
	if err := state.finish(check(st, cerr)); err != nil {
		return DiscreteReport{}, err
	}
	return rep.toGo(), nil
}

// SinkhornResult is the entropic optimum: potentials F (m) and G (n), gauge sum a F = sum b G,
// with P_ij = a_i b_j exp((F_i + G_j - C_ij) / lambda), and the plan P (m x n) unless
// WithoutPlan was set.
type SinkhornResult struct {
	F, G   []float64
	Plan   Matrix[float64]
	Report DiscreteReport
}

// Sinkhorn solves entropic OT, min <C, P> + lambda KL(P || a b^T), between the rows of source
// (m x d) and target (n x d) by log-domain Sinkhorn with epsilon scaling. lambda is in cost
// units. ctx cancels the solve (checked at progress reports); the error then matches both
// ErrCancelled and ctx.Err().
func Sinkhorn(ctx context.Context, source, target View, lambda float64, opts DiscreteOptions) (SinkhornResult, error) {
	c, err := newDiscreteCall(source, target, opts)
	if err != nil {
		return SinkhornResult{}, err
	}
	return c.sinkhornResult(ctx, lambda, opts)
}

func (c *discreteCall) sinkhornResult(ctx context.Context, lambda float64, opts DiscreteOptions) (SinkhornResult, error) {
	r := SinkhornResult{F: make([]float64, c.m), G: make([]float64, c.n)}
	var plan View
	if !opts.noPlan {
		r.Plan = Zeros(c.m, c.n)
		plan = r.Plan
	}
	rep, err := c.sinkhorn(ctx, lambda, r.F, r.G, plan, opts)
	if err != nil {
		return SinkhornResult{}, err
	}
	r.Report = rep
	return r, nil
}

// IPOTResult is IPOT's plan (m x n), which converges to an optimal plan.
type IPOTResult struct {
	Plan   Matrix[float64]
	Report DiscreteReport
}

// IPOT solves unregularized OT between the rows of source and target by the inexact proximal
// point method (the step and inner sweeps are set with DiscreteOptions.IPOT); ctx as for
// Sinkhorn.
func IPOT(ctx context.Context, source, target View, opts DiscreteOptions) (IPOTResult, error) {
	c, err := newDiscreteCall(source, target, opts)
	if err != nil {
		return IPOTResult{}, err
	}
	return c.ipotResult(ctx, opts)
}

func (c *discreteCall) ipotResult(ctx context.Context, opts DiscreteOptions) (IPOTResult, error) {
	r := IPOTResult{Plan: Zeros(c.m, c.n)}
	rep, err := c.ipot(ctx, r.Plan, opts)
	if err != nil {
		return IPOTResult{}, err
	}
	r.Report = rep
	return r, nil
}

// FDualResult is the f-divergence dual's optimum: Phi (m) and Psi (n) in the gauge
// sum a Phi = sum b Psi, and the plan P_ij = a_i b_j M(V_ij) unless WithoutPlan was set.
type FDualResult struct {
	Phi, Psi []float64
	Plan     Matrix[float64]
	Report   DiscreteReport
}

// DiscreteFDual solves the f-divergence-regularized discrete dual exactly (to the tolerance)
// with the regularizer r and lambda > 0 of the neural dual; dense, meant for up to a few
// thousand points. ctx as for Sinkhorn.
func DiscreteFDual(ctx context.Context, source, target View, r Regularizer, lambda float64, opts DiscreteOptions) (FDualResult, error) {
	c, err := newDiscreteCall(source, target, opts)
	if err != nil {
		return FDualResult{}, err
	}
	return c.fdualResult(ctx, r, lambda, opts)
}

func (c *discreteCall) fdualResult(ctx context.Context, r Regularizer, lambda float64, opts DiscreteOptions) (FDualResult, error) {
	res := FDualResult{Phi: make([]float64, c.m), Psi: make([]float64, c.n)}
	var plan View
	if !opts.noPlan {
		res.Plan = Zeros(c.m, c.n)
		plan = res.Plan
	}
	rep, err := c.fdual(ctx, r, lambda, res.Phi, res.Psi, plan, opts)
	if err != nil {
		return FDualResult{}, err
	}
	res.Report = rep
	return res, nil
}
