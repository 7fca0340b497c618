package scones

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"math"
	"runtime/cgo"
	"unsafe"
)

// Phase says what a progress report is about.
type Phase int32

const (
	PhaseDualTraining        Phase = C.SCONES_PHASE_DUAL_TRAINING
	PhaseSampling            Phase = C.SCONES_PHASE_SAMPLING
	PhaseScoreTraining       Phase = C.SCONES_PHASE_SCORE_TRAINING
	PhaseBarycentricTraining Phase = C.SCONES_PHASE_BARYCENTRIC_TRAINING
	PhaseDiscrete            Phase = C.SCONES_PHASE_DISCRETE      // since 0.2: Sinkhorn, IPOT, DiscreteFDual
	PhaseSpotTraining        Phase = C.SCONES_PHASE_SPOT_TRAINING // since 0.3: TrainSpot, TrainSpotMeasures
)

// Progress is a progress report; NaN marks fields that do not apply to the phase.
type Progress struct {
	Phase             Phase
	Iteration, Total  uint64
	Objective         float64 // training: the objective since the last report (dual J; SPOT: E c(G(z)))
	MeanCompatibility float64 // dual training: E[M(V)], tends to 1
	ExtensionFraction float64 // dual training: pair terms on a conjugate's extension
	Acceptance        float64 // Metropolis-adjusted sampling: acceptance so far
	MarginalError     float64 // discrete solvers: the current l1 marginal violation; SPOT: the critics' gap
}

// ProgressFunc observes a long call; returning false cancels it (the call then fails with
// ErrCancelled). It runs on the goroutine that made the call.
type ProgressFunc func(Progress) bool

// defaultEvery is how often (iterations or Langevin steps) a context is checked when no
// ProgressFunc interval was given.
const defaultEvery = 10

// progressState is what the C library's user_data designates, through a cgo.Handle.
type progressState struct {
	ctx      context.Context
	fn       ProgressFunc
	panicked bool
	panicVal any
	// The call's collective (data-parallel training), whose AllReduceFunc shares the handle,
	// and the error it returned.
	collective *collective
	hostErr    error
}

//export goSconesProgress
func goSconesProgress(h C.uintptr_t, p *C.scones_progress) (ret C.int32_t) {
	s := cgo.Handle(h).Value().(*progressState)
	if s.ctx != nil && s.ctx.Err() != nil {
		return 1
	}
	if s.fn == nil {
		return 0
	}
	// A panic must not unwind through the library's frames: keep it, cancel the call, and
	// re-panic on the caller's side (rethrow).
	defer func() {
		if r := recover(); r != nil {
			s.panicked, s.panicVal = true, r
			ret = 1
		}
	}()
	q := Progress{
		Phase: Phase(p.phase), Iteration: uint64(p.iteration), Total: uint64(p.total),
		Objective: float64(p.objective), MeanCompatibility: float64(p.mean_compatibility),
		ExtensionFraction: float64(p.extension_fraction), Acceptance: float64(p.acceptance),
		MarginalError: math.NaN(),
	}
	// marginal_error was appended in 0.2: struct_size says whether this library filled it.
	if uintptr(p.struct_size) >= unsafe.Offsetof(p.marginal_error)+unsafe.Sizeof(p.marginal_error) {
		q.MarginalError = float64(p.marginal_error)
	}
	if s.fn(q) {
		return 0
	}
	return 1
}

// finish turns the outcome of a call that reported progress into its error: a panic in the
// ProgressFunc is re-raised, a cancellation by the context wraps ctx.Err().
func (s *progressState) finish(err error) error {
	if s == nil {
		return err
	}
	if s.panicked {
		v := s.panicVal
		s.panicked, s.panicVal = false, nil
		panic(v)
	}
	if e, ok := err.(*Error); ok && e.Status == StatusCancelled && s.ctx != nil && s.ctx.Err() != nil {
		e.cause = s.ctx.Err()
	}
	if e, ok := err.(*Error); ok && e.Status == StatusCallback && s.hostErr != nil && e.cause == nil {
		e.cause = s.hostErr
	}
	s.hostErr = nil
	return err
}
