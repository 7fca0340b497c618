package scones

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// Sampler draws y ~ pi(y | x) (Algorithm 2) from a dual and a target score.
type Sampler struct {
	mu     sync.Mutex // one Sample at a time per sampler (the library serializes too)
	ptr    *C.scones_sampler
	state  *progressState // designated by the C sampler's progress user_data
	handle cgo.Handle
	score  *hostState // a callback score's function, which the C sampler calls
	cost   *hostState // a host cost's function (from the dual), which the C sampler calls
	k, dy  int
}

// NewSampler makes a sampler; it copies what it needs, so dual and score may be closed after.
func NewSampler(dual *Dual, score *Score, opts SamplerOptions) (*Sampler, error) {
	var o *C.scones_sampler_options
	var cerr *C.scones_error
	if err := check(C.scones_sampler_options_new(&o, &cerr), cerr); err != nil {
		return nil, err
	}
	defer C.scones_sampler_options_free(o)
	for _, set := range opts.setters {
		if err := check(set(o, &cerr), cerr); err != nil {
			return nil, err
		}
	}
	// The C sampler keeps the progress hook for its lifetime, so the handle lives as long as
	// the sampler; each Sample call installs its context in the state.
	s := &Sampler{state: &progressState{fn: opts.progress}, k: opts.k}
	if s.k <= 0 {
		s.k = 1
	}
	s.handle = cgo.NewHandle(s.state)
	every := opts.every
	if opts.progress == nil || every <= 0 {
		every = defaultEvery
	}
	if err := check(C.go_sampler_options_set_progress(o, C.uintptr_t(s.handle), C.size_t(every), &cerr), cerr); err != nil {
		s.handle.Delete()
		return nil, err
	}
	// nil or closed handles reach the library, which reports them as ErrInvalidArgument.
	var dp *C.scones_dual
	var sp *C.scones_score
	var cost *hostState
	if dual != nil {
		dual.mu.RLock()
		defer dual.mu.RUnlock()
		dp, cost = dual.ptr, dual.cost
	}
	if score != nil {
		score.mu.RLock()
		defer score.mu.RUnlock()
		sp = score.ptr
	}
	var host *hostState
	if score != nil {
		host = score.host
	}
	st := C.scones_sampler_new(dp, sp, o, &s.ptr, &cerr)
	runtime.KeepAlive(score)
	runtime.KeepAlive(dual)
	runtime.KeepAlive(opts.initMap)
	if err := host.finish(check(st, cerr)); err != nil {
		s.handle.Delete()
		return nil, err
	}
	s.score = host.acquire()
	s.cost = cost.acquire()
	var dx, dy, k C.size_t
	st = C.scones_sampler_shape(s.ptr, &dx, &dy, &k, &cerr)
	if err := check(st, cerr); err != nil {
		C.scones_sampler_free(s.ptr)
		s.handle.Delete()
		s.score.release()
		s.cost.release()
		return nil, err
	}
	s.dy, s.k = int(dy), int(k)
	runtime.SetFinalizer(s, (*Sampler).Close)
	return s, nil
}

// Close releases the sampler; safe to call more than once.
func (s *Sampler) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.scones_sampler_free(s.ptr)
		s.ptr = nil
		s.handle.Delete()
		s.score.release()
		s.score = nil
		s.cost.release()
		s.cost = nil
		runtime.SetFinalizer(s, nil)
	}
}

// SampleInto draws K samples for each row of sources (n x dx) into out ((n K) x dy): rows
// i*K .. i*K+K-1 belong to source i. The sources are numbered on from the previous call's last
// one (the first call starts at 0), so successive calls draw new numbers. ctx cancels sampling
// (checked at progress reports).
func (s *Sampler) SampleInto(ctx context.Context, sources, out View) error {
	return s.sampleInto(ctx, sources, out, nil)
}

// SampleAtInto is SampleInto with row r of sources the source of global index firstSource+r:
// its samples depend only on the seed and that index, so ranks that each sample their own
// range reproduce one call over all sources bit for bit on the CPU (same thread count on
// every rank).
func (s *Sampler) SampleAtInto(ctx context.Context, firstSource uint64, sources, out View) error {
	return s.sampleInto(ctx, sources, out, &firstSource)
}

// SampleAt draws K samples for each row of sources, row r being global source firstSource+r,
// into a new ((n K) x dy) matrix.
func (s *Sampler) SampleAt(ctx context.Context, firstSource uint64, sources View) (Matrix[float64], error) {
	l, err := sources.layout()
	if err != nil {
		return Matrix[float64]{}, &Error{Status: StatusInvalidArgument, Message: "sources: " + err.Error()}
	}
	out := Zeros(l.rows*s.k, s.dy)
	if err := s.SampleAtInto(ctx, firstSource, sources, out); err != nil {
		return Matrix[float64]{}, err
	}
	return out, nil
}

func (s *Sampler) sampleInto(ctx context.Context, sources, out View, firstSource *uint64) error {
	x, err := toC(sources, "sources")
	if err != nil {
		return err
	}
	o, err := toC(out, "out")
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state.ctx = ctx
	defer func() { s.state.ctx = nil }()
	var cerr *C.scones_error
	var st C.scones_status
	if firstSource == nil {
		st = C.go_sample_batch(s.ptr, x.ptr, &x.shape, o.ptr, &o.shape, &cerr)
	} else {
		st = C.go_sample_batch_at(s.ptr, C.uint64_t(*firstSource), x.ptr, &x.shape, o.ptr, &o.shape, &cerr)
	}
	runtime.KeepAlive(s)
	x.keepAlive()
	o.keepAlive()
	return s.state.finish(s.cost.finish(s.score.finish(check(st, cerr))))
}

// Sample draws K samples for each row of sources into a new ((n K) x dy) matrix.
func (s *Sampler) Sample(ctx context.Context, sources View) (Matrix[float64], error) {
	l, err := sources.layout()
	if err != nil {
		return Matrix[float64]{}, &Error{Status: StatusInvalidArgument, Message: "sources: " + err.Error()}
	}
	out := Zeros(l.rows*s.k, s.dy)
	if err := s.SampleInto(ctx, sources, out); err != nil {
		return Matrix[float64]{}, err
	}
	return out, nil
}

// SampleReport holds statistics of the last successful Sample.
type SampleReport struct {
	Chains              uint64
	StepsPerChain       uint64
	Seconds             float64
	ChainStepsPerSecond float64
	Acceptance          float64 // NaN without Metropolis adjustment
}

// Report returns statistics of the last successful Sample.
func (s *Sampler) Report() (SampleReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var r C.scones_sample_report
	r.struct_size = C.size_t(unsafe.Sizeof(r))
	var cerr *C.scones_error
	st := C.scones_sampler_report(s.ptr, &r, &cerr)
	runtime.KeepAlive(s)
	return SampleReport{uint64(r.chains), uint64(r.steps_per_chain), float64(r.seconds),
		float64(r.chain_steps_per_second), float64(r.acceptance)}, check(st, cerr)
}

// Shape returns the source dimension dx, the target dimension dy and the samples per source K:
// Sample on n sources returns (n K) x dy.
func (s *Sampler) Shape() (dx, dy, k int, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var a, b, c C.size_t
	var cerr *C.scones_error
	st := C.scones_sampler_shape(s.ptr, &a, &b, &c, &cerr)
	runtime.KeepAlive(s)
	return int(a), int(b), int(c), check(st, cerr)
}

// SetProgress replaces the ProgressFunc of later Sample calls (nil removes it; a context passed
// to Sample is still checked), called every `every` Langevin steps.
func (s *Sampler) SetProgress(fn ProgressFunc, every int) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if fn == nil || every <= 0 {
		every = defaultEvery
	}
	var cerr *C.scones_error
	// The same handle stays installed: only the state it designates changes.
	st := C.go_sampler_set_progress(s.ptr, C.uintptr_t(s.handle), C.size_t(every), &cerr)
	runtime.KeepAlive(s)
	if err := check(st, cerr); err != nil {
		return err
	}
	s.state.fn = fn
	return nil
}
