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

type netSetter func(*C.scones_train_options, **C.scones_error) C.scones_status

// NetworkOptions configures the training of score networks (TrainScore) and barycentric maps
// (TrainBarycentric), the C library's scones_train_options. The zero value is the library's
// defaults; each method returns a copy with one more setting:
//
//	opts := scones.NetworkOptions{}.Hidden(64, 64).BatchSize(128).Iterations(500)
type NetworkOptions struct {
	setters    []netSetter
	progress   ProgressFunc
	every      int
	collective *collective // data-parallel training (Collective), nil alone
}

func (o NetworkOptions) with(f netSetter) NetworkOptions {
	o.setters = append(append([]netSetter(nil), o.setters...), f)
	return o
}

// Hidden sets the hidden layer widths.
func (o NetworkOptions) Hidden(widths ...int) NetworkOptions {
	return o.with(func(p *C.scones_train_options, e **C.scones_error) C.scones_status {
		w := sizes(widths)
		return C.scones_train_options_set_hidden(p, ptrOrNil(w), C.size_t(len(w)), e)
	})
}

// Adam sets the learning rate (> 0) and moment decays in [0, 1).
func (o NetworkOptions) Adam(learningRate, beta1, beta2 float64) NetworkOptions {
	return o.with(func(p *C.scones_train_options, e **C.scones_error) C.scones_status {
		return C.scones_train_options_set_adam(p, C.double(learningRate), C.double(beta1), C.double(beta2), e)
	})
}

// Schedule sets the learning-rate schedule (finalFraction is used by LRCosine).
func (o NetworkOptions) Schedule(s LRSchedule, finalFraction float64) NetworkOptions {
	return o.with(func(p *C.scones_train_options, e **C.scones_error) C.scones_status {
		return C.scones_train_options_set_schedule(p, C.scones_lr_schedule(s), C.double(finalFraction), e)
	})
}

// BatchSize sets the minibatch size (> 0).
func (o NetworkOptions) BatchSize(n int) NetworkOptions {
	return o.with(func(p *C.scones_train_options, e **C.scones_error) C.scones_status {
		return C.scones_train_options_set_batch_size(p, C.size_t(n), e)
	})
}

// Iterations sets the number of training iterations.
func (o NetworkOptions) Iterations(n int) NetworkOptions {
	return o.with(func(p *C.scones_train_options, e **C.scones_error) C.scones_status {
		return C.scones_train_options_set_iterations(p, C.size_t(n), e)
	})
}

// Seed of initialization and batch draws.
func (o NetworkOptions) Seed(seed uint64) NetworkOptions {
	return o.with(func(p *C.scones_train_options, e **C.scones_error) C.scones_status {
		return C.scones_train_options_set_seed(p, C.uint64_t(seed), e)
	})
}

// Device, as for TrainOptions.
func (o NetworkOptions) Device(device string) NetworkOptions {
	return o.with(func(p *C.scones_train_options, e **C.scones_error) C.scones_status {
		cs := C.CString(device)
		defer C.free(unsafe.Pointer(cs))
		return C.scones_train_options_set_device(p, cs, e)
	})
}

// Threads sets libtorch's intra-op threads during training (process-wide; 0 leaves it).
func (o NetworkOptions) Threads(n int) NetworkOptions {
	return o.with(func(p *C.scones_train_options, e **C.scones_error) C.scones_status {
		return C.scones_train_options_set_threads(p, C.size_t(n), e)
	})
}

// NoiseLevels sets score training's noise range from sigmaMax down to sigmaMin (sigmaMax = 0:
// the largest pairwise distance of the data); `levels` geometric levels with ScoreNCSN.
func (o NetworkOptions) NoiseLevels(sigmaMax, sigmaMin float64, levels int) NetworkOptions {
	return o.with(func(p *C.scones_train_options, e **C.scones_error) C.scones_status {
		return C.scones_train_options_set_noise_levels(p, C.double(sigmaMax), C.double(sigmaMin), C.size_t(levels), e)
	})
}

// ScoreParametrization sets how a trained score network's output becomes a score (score
// training only; default ScorePreconditioned).
func (o NetworkOptions) ScoreParametrization(p ScoreParametrization) NetworkOptions {
	return o.with(func(q *C.scones_train_options, e **C.scones_error) C.scones_status {
		return C.scones_train_options_set_score_parametrization(q, C.scones_score_parametrization(p), e)
	})
}

// Progress calls fn every `every` iterations (Objective is the loss); false cancels.
func (o NetworkOptions) Progress(fn ProgressFunc, every int) NetworkOptions {
	o.progress, o.every = fn, every
	return o
}

// build makes the C options, with a progress hook when there is a ProgressFunc or ctx can be
// cancelled; done releases them after the call.
func (o NetworkOptions) build(ctx context.Context) (*C.scones_train_options, *progressState, func(), error) {
	var p *C.scones_train_options
	var cerr *C.scones_error
	if err := check(C.scones_train_options_new(&p, &cerr), cerr); err != nil {
		return nil, nil, nil, err
	}
	for _, set := range o.setters {
		if err := check(set(p, &cerr), cerr); err != nil {
			C.scones_train_options_free(p)
			return nil, nil, nil, err
		}
	}
	if o.progress == nil && ctx.Done() == nil && o.collective == nil {
		return p, nil, func() { C.scones_train_options_free(p) }, nil
	}
	state := &progressState{ctx: ctx, fn: o.progress, collective: o.collective}
	h := cgo.NewHandle(state)
	done := func() {
		C.scones_train_options_free(p)
		h.Delete()
	}
	every := o.every
	if o.progress == nil || every <= 0 {
		every = defaultEvery
	}
	if o.progress != nil || ctx.Done() != nil {
		if err := check(C.go_train_options_set_progress(p, C.uintptr_t(h), C.size_t(every), &cerr), cerr); err != nil {
			done()
			return nil, nil, nil, err
		}
	}
	if c := o.collective; c != nil {
		rank, size := c.rankAndSize()
		if err := check(C.go_train_options_set_collective(p, rank, size, C.uintptr_t(h), &cerr), cerr); err != nil {
			done()
			return nil, nil, nil, err
		}
	}
	return p, state, done, nil
}

// ---------------------------------------------------------------------------- barycentric

// Barycentric is a trained barycentric map T(x) = E_pi[y | x].
type Barycentric struct {
	mu  sync.RWMutex
	ptr *C.scones_barycentric
}

func newBarycentric(p *C.scones_barycentric) *Barycentric {
	b := &Barycentric{ptr: p}
	runtime.SetFinalizer(b, (*Barycentric).Close)
	return b
}

// Close releases the map; safe to call more than once.
func (b *Barycentric) Close() {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.ptr != nil {
		C.scones_barycentric_free(b.ptr)
		b.ptr = nil
		runtime.SetFinalizer(b, nil)
	}
}

// TrainBarycentric trains T(x) = E_pi[y | x] for the coupling of dual from the source and
// target measures (hidden layers {256, 256} unless set). ctx cancels training.
func TrainBarycentric(ctx context.Context, dual *Dual, source, target *Measure, opts NetworkOptions) (*Barycentric, error) {
	o, state, done, err := opts.build(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	var dp *C.scones_dual
	if dual != nil {
		dual.mu.RLock()
		defer dual.mu.RUnlock()
		dp = dual.ptr
	}
	ptrs, hosts, unlock := lockMeasures(source, target)
	defer unlock()
	var out *C.scones_barycentric
	var cerr *C.scones_error
	st := C.scones_barycentric_train(dp, ptrs[0], ptrs[1], o, &out, &cerr)
	runtime.KeepAlive(dual)
	runtime.KeepAlive(source)
	runtime.KeepAlive(target)
	if err := state.finish(finishHosts(check(st, cerr), hosts)); err != nil {
		return nil, err
	}
	return newBarycentric(out), nil
}

// LoadBarycentric loads a map written by Save.
func LoadBarycentric(path string) (*Barycentric, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var out *C.scones_barycentric
	var cerr *C.scones_error
	if err := check(C.scones_barycentric_load(cp, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newBarycentric(out), nil
}

// Save writes the map to path (atomically).
func (b *Barycentric) Save(path string) error {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	b.mu.RLock()
	defer b.mu.RUnlock()
	var cerr *C.scones_error
	st := C.scones_barycentric_save(b.ptr, cp, &cerr)
	runtime.KeepAlive(b)
	return check(st, cerr)
}

// Dims returns the source and target dimensions of the map.
func (b *Barycentric) Dims() (dx, dy int, err error) {
	b.mu.RLock()
	defer b.mu.RUnlock()
	var a, c C.size_t
	var cerr *C.scones_error
	st := C.scones_barycentric_dims(b.ptr, &a, &c, &cerr)
	runtime.KeepAlive(b)
	return int(a), int(c), check(st, cerr)
}

// MapInto writes T(x) for the rows of x (n x dx) into out (n x dy).
func (b *Barycentric) MapInto(x, out View) error {
	a, err := toC(x, "x")
	if err != nil {
		return err
	}
	o, err := toC(out, "out")
	if err != nil {
		return err
	}
	b.mu.RLock()
	defer b.mu.RUnlock()
	var cerr *C.scones_error
	st := C.go_barycentric_map(b.ptr, a.ptr, &a.shape, o.ptr, &o.shape, &cerr)
	runtime.KeepAlive(b)
	a.keepAlive()
	o.keepAlive()
	return check(st, cerr)
}

// Map returns T(x) for the rows of x in a new n x dy matrix.
func (b *Barycentric) Map(x View) (Matrix[float64], error) {
	l, err := x.layout()
	if err != nil {
		return Matrix[float64]{}, &Error{Status: StatusInvalidArgument, Message: "x: " + err.Error()}
	}
	_, dy, err := b.Dims()
	if err != nil {
		return Matrix[float64]{}, err
	}
	out := Zeros(l.rows, dy)
	if err := b.MapInto(x, out); err != nil {
		return Matrix[float64]{}, err
	}
	return out, nil
}

// ---------------------------------------------------------------------------- toy data

// Toy is a 2-D toy distribution.
type Toy int32

const (
	ToyGaussian   Toy = C.SCONES_TOY_GAUSSIAN   // N(0, I_2)
	ToySwissRoll  Toy = C.SCONES_TOY_SWISS_ROLL // t = 1.5 pi (1 + 2u), (t cos t, t sin t) / 5 + N(0, 0.1^2 I)
	ToyMoons      Toy = C.SCONES_TOY_MOONS      // two interleaving half circles
	ToyCircle     Toy = C.SCONES_TOY_CIRCLE     // the circle of radius 2
	Toy8Gaussians Toy = C.SCONES_TOY_8GAUSSIANS // 8 Gaussians on the circle of radius 2
)

// ToySample draws n points (n x 2) of a toy distribution.
func ToySample(toy Toy, n int, seed uint64) (Matrix[float64], error) {
	if n < 0 {
		return Matrix[float64]{}, errorf(StatusInvalidArgument, "ToySample: negative n")
	}
	out := Zeros(n, 2)
	o, err := toC(out, "out")
	if err != nil {
		return Matrix[float64]{}, err
	}
	var cerr *C.scones_error
	st := C.go_toy_sample(C.scones_toy(toy), C.size_t(n), C.uint64_t(seed), o.ptr, &o.shape, &cerr)
	o.keepAlive()
	if err := check(st, cerr); err != nil {
		return Matrix[float64]{}, err
	}
	return out, nil
}
