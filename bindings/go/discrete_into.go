package scones

import "context"

// ABI 0.2: the discrete solvers writing into caller buffers (no allocation per call; any
// Matrix[float32] or Matrix[float64] with any strides for the plan), and their forms on a dense
// m x n cost matrix, as POT's ot.sinkhorn(a, b, M, reg). Potential slices must hold exactly m
// and n entries (ErrShapeMismatch otherwise, before any work); a nil plan is not computed
// (Sinkhorn then forms the cost in row blocks). Buffers are written only on success. For the
// *Cost forms, opts.Cost does not apply; weights, tolerance, progress and ctx are as for the
// point-set forms.

// SinkhornInto is Sinkhorn writing F into f (m), G into g (n) and the plan into plan (m x n,
// or nil).
func SinkhornInto(ctx context.Context, source, target View, lambda float64, f, g []float64, plan View, opts DiscreteOptions) (DiscreteReport, error) {
	c, err := newDiscreteCall(source, target, opts)
	if err != nil {
		return DiscreteReport{}, err
	}
	return c.sinkhorn(ctx, lambda, f, g, plan, opts)
}

// SinkhornCost is Sinkhorn on the m x n cost matrix cost (finite; rows are source atoms).
func SinkhornCost(ctx context.Context, cost View, lambda float64, opts DiscreteOptions) (SinkhornResult, error) {
	c, err := newCostCall(cost, opts)
	if err != nil {
		return SinkhornResult{}, err
	}
	return c.sinkhornResult(ctx, lambda, opts)
}

// SinkhornCostInto is SinkhornCost writing into the caller's buffers, as SinkhornInto.
func SinkhornCostInto(ctx context.Context, cost View, lambda float64, f, g []float64, plan View, opts DiscreteOptions) (DiscreteReport, error) {
	c, err := newCostCall(cost, opts)
	if err != nil {
		return DiscreteReport{}, err
	}
	return c.sinkhorn(ctx, lambda, f, g, plan, opts)
}

// IPOTInto is IPOT writing the plan into plan (m x n, required).
func IPOTInto(ctx context.Context, source, target View, plan View, opts DiscreteOptions) (DiscreteReport, error) {
	c, err := newDiscreteCall(source, target, opts)
	if err != nil {
		return DiscreteReport{}, err
	}
	return c.ipot(ctx, plan, opts)
}

// IPOTCost is IPOT on the m x n cost matrix cost (finite; rows are source atoms).
func IPOTCost(ctx context.Context, cost View, opts DiscreteOptions) (IPOTResult, error) {
	c, err := newCostCall(cost, opts)
	if err != nil {
		return IPOTResult{}, err
	}
	return c.ipotResult(ctx, opts)
}

// IPOTCostInto is IPOTCost writing the plan into plan (m x n, required).
func IPOTCostInto(ctx context.Context, cost View, plan View, opts DiscreteOptions) (DiscreteReport, error) {
	c, err := newCostCall(cost, opts)
	if err != nil {
		return DiscreteReport{}, err
	}
	return c.ipot(ctx, plan, opts)
}

// DiscreteFDualInto is DiscreteFDual writing Phi into phi (m), Psi into psi (n) and the plan
// into plan (m x n, or nil).
func DiscreteFDualInto(ctx context.Context, source, target View, r Regularizer, lambda float64, phi, psi []float64, plan View, opts DiscreteOptions) (DiscreteReport, error) {
	c, err := newDiscreteCall(source, target, opts)
	if err != nil {
		return DiscreteReport{}, err
	}
	return c.fdual(ctx, r, lambda, phi, psi, plan, opts)
}

// DiscreteFDualCost is DiscreteFDual on the m x n cost matrix cost (finite; rows are source
// atoms).
func DiscreteFDualCost(ctx context.Context, cost View, r Regularizer, lambda float64, opts DiscreteOptions) (FDualResult, error) {
	c, err := newCostCall(cost, opts)
	if err != nil {
		return FDualResult{}, err
	}
	return c.fdualResult(ctx, r, lambda, opts)
}

// DiscreteFDualCostInto is DiscreteFDualCost writing into the caller's buffers, as
// DiscreteFDualInto.
func DiscreteFDualCostInto(ctx context.Context, cost View, r Regularizer, lambda float64, phi, psi []float64, plan View, opts DiscreteOptions) (DiscreteReport, error) {
	c, err := newCostCall(cost, opts)
	if err != nil {
		return DiscreteReport{}, err
	}
	return c.fdual(ctx, r, lambda, phi, psi, plan, opts)
}
