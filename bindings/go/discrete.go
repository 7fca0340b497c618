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

// discreteCall holds the C views of a discrete problem's points and optional weights.
type discreteCall struct {
	x, y, a, b cview
	m, n       int
}

func (c *discreteCall) keepAlive() {
	c.x.keepAlive()
	c.y.keepAlive()
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

func newDiscreteCall(source, target View, o DiscreteOptions) (*discreteCall, error) {
	c := &discreteCall{}
	var err error
	if c.x, err = toC(source, "source"); err != nil {
		return nil, err
	}
	if c.y, err = toC(target, "target"); err != nil {
		return nil, err
	}
	if o.source != nil {
		if c.a, err = toC(o.source, "source weights"); err != nil {
			return nil, err
		}
	}
	if o.target != nil {
		if c.b, err = toC(o.target, "target weights"); err != nil {
			return nil, err
		}
	}
	c.m, c.n = int(c.x.shape.rows), int(c.y.shape.rows)
	return c, nil
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
	r := SinkhornResult{F: make([]float64, c.m), G: make([]float64, c.n)}
	f, err := toC(NewMatrix(r.F, c.m, 1), "f")
	if err != nil {
		return SinkhornResult{}, err
	}
	g, err := toC(NewMatrix(r.G, c.n, 1), "g")
	if err != nil {
		return SinkhornResult{}, err
	}
	var p cview
	if !opts.noPlan {
		r.Plan = Zeros(c.m, c.n)
		if p, err = toC(r.Plan, "plan"); err != nil {
			return SinkhornResult{}, err
		}
	}
	o, state, done, err := opts.build(ctx)
	if err != nil {
		return SinkhornResult{}, err
	}
	defer done()
	rep := newReport()
	var cerr *C.scones_error
	st := C.go_sinkhorn(c.x.ptr, &c.x.shape, c.y.ptr, &c.y.shape, c.a.ptr, optShape(&c.a, opts.source != nil),
		c.b.ptr, optShape(&c.b, opts.target != nil), C.scones_cost(opts.cost), C.double(lambda), o,
		f.ptr, &f.shape, g.ptr, &g.shape, p.ptr, optShape(&p, !opts.noPlan), &rep, &cerr)
	c.keepAlive()
	f.keepAlive()
	g.keepAlive()
	p.keepAlive()
	if err := state.finish(check(st, cerr)); err != nil {
		return SinkhornResult{}, err
	}
	r.Report = rep.toGo()
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
	r := IPOTResult{Plan: Zeros(c.m, c.n)}
	p, err := toC(r.Plan, "plan")
	if err != nil {
		return IPOTResult{}, err
	}
	o, state, done, err := opts.build(ctx)
	if err != nil {
		return IPOTResult{}, err
	}
	defer done()
	rep := newReport()
	var cerr *C.scones_error
	st := C.go_ipot(c.x.ptr, &c.x.shape, c.y.ptr, &c.y.shape, c.a.ptr, optShape(&c.a, opts.source != nil),
		c.b.ptr, optShape(&c.b, opts.target != nil), C.scones_cost(opts.cost), o, p.ptr, &p.shape, &rep, &cerr)
	c.keepAlive()
	p.keepAlive()
	if err := state.finish(check(st, cerr)); err != nil {
		return IPOTResult{}, err
	}
	r.Report = rep.toGo()
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
	res := FDualResult{Phi: make([]float64, c.m), Psi: make([]float64, c.n)}
	f, err := toC(NewMatrix(res.Phi, c.m, 1), "phi")
	if err != nil {
		return FDualResult{}, err
	}
	g, err := toC(NewMatrix(res.Psi, c.n, 1), "psi")
	if err != nil {
		return FDualResult{}, err
	}
	var p cview
	if !opts.noPlan {
		res.Plan = Zeros(c.m, c.n)
		if p, err = toC(res.Plan, "plan"); err != nil {
			return FDualResult{}, err
		}
	}
	o, state, done, err := opts.build(ctx)
	if err != nil {
		return FDualResult{}, err
	}
	defer done()
	rep := newReport()
	var cerr *C.scones_error
	st := C.go_discrete_fdual(c.x.ptr, &c.x.shape, c.y.ptr, &c.y.shape, c.a.ptr, optShape(&c.a, opts.source != nil),
		c.b.ptr, optShape(&c.b, opts.target != nil), C.scones_cost(opts.cost), C.scones_regularizer(r),
		C.double(lambda), o, f.ptr, &f.shape, g.ptr, &g.shape, p.ptr, optShape(&p, !opts.noPlan), &rep, &cerr)
	c.keepAlive()
	f.keepAlive()
	g.keepAlive()
	p.keepAlive()
	if err := state.finish(check(st, cerr)); err != nil {
		return FDualResult{}, err
	}
	res.Report = rep.toGo()
	return res, nil
}

// AssignmentResult is an optimal assignment: Cols[i] is the column matched to row i,
// TotalCost = sum_i C[i, Cols[i]] (between uniform measures the transport cost is
// TotalCost / n), and dual potentials U, V with U_i + V_j <= C_ij, tight on the assignment.
type AssignmentResult struct {
	Cols      []int
	TotalCost float64
	U, V      []float64
}

// Assignment solves the exact optimal assignment of an n x n cost matrix (shortest augmenting
// paths, O(n^3)).
func Assignment(cost View) (AssignmentResult, error) {
	cm, err := toC(cost, "cost")
	if err != nil {
		return AssignmentResult{}, err
	}
	n := int(cm.shape.rows)
	r := AssignmentResult{U: make([]float64, n), V: make([]float64, n)}
	u, err := toC(NewMatrix(r.U, n, 1), "u")
	if err != nil {
		return AssignmentResult{}, err
	}
	v, err := toC(NewMatrix(r.V, n, 1), "v")
	if err != nil {
		return AssignmentResult{}, err
	}
	cols := make([]C.size_t, n)
	var total C.double
	var cerr *C.scones_error
	st := C.go_assignment(cm.ptr, &cm.shape, ptrOrNil(cols), &total, u.ptr, &u.shape, v.ptr, &v.shape, &cerr)
	cm.keepAlive()
	u.keepAlive()
	v.keepAlive()
	if err := check(st, cerr); err != nil {
		return AssignmentResult{}, err
	}
	r.Cols = make([]int, n)
	for i, c := range cols {
		r.Cols[i] = int(c)
	}
	r.TotalCost = float64(total)
	return r, nil
}
