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

// ABI 0.3: SPOT, the thesis' push-forward plan generator (Algorithm 3). A plan is a generator
// G(Z) = (G_1(Z), ..., G_m(Z)) of paired samples of the coupling of m >= 2 marginals.

// SpotPreset is a starting point for SpotOptions.Preset.
type SpotPreset int32

const (
	SpotTuned  SpotPreset = C.SCONES_SPOT_PRESET_TUNED  // the defaults
	SpotThesis SpotPreset = C.SCONES_SPOT_PRESET_THESIS // the thesis' section 3.6.1
)

type spotSetter func(*C.scones_spot_options, **C.scones_error) C.scones_status

// SpotOptions configures TrainSpot like TrainOptions configures Train: the zero value is the
// library's defaults (the tuned setting, squared Euclidean cost), each method returns a copy
// with one more setting:
//
//	opts := scones.SpotOptions{}.Cost(scones.Euclidean).Hidden([]int{16, 16}, []int{16, 16}).Batch(256, 300)
type SpotOptions struct {
	setters  []spotSetter
	progress ProgressFunc
	every    int
	err      error // a setting refused before it reached the library (reported by TrainSpot)
}

func (o SpotOptions) with(f spotSetter) SpotOptions {
	o.setters = append(append([]spotSetter(nil), o.setters...), f)
	return o
}

// Preset replaces every setting of Algorithm 3 by the preset's (device, seed, threads and the
// progress function stay).
func (o SpotOptions) Preset(p SpotPreset) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_preset(q, C.scones_spot_preset(p), e)
	})
}

// Cost is the ground cost (for more than two marginals, summed over all pairs).
func (o SpotOptions) Cost(c Cost) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_cost(q, C.scones_cost(c), e)
	})
}

// LinearCost sets |A y - B x|^2 as TrainOptions.LinearCost; two marginals only.
func (o SpotOptions) LinearCost(a, b View) SpotOptions {
	if _, _, err := linearViews(a, b); err != nil {
		o.err = err
		return o
	}
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		ca, cb, _ := linearViews(a, b)
		defer ca.keepAlive()
		defer cb.keepAlive()
		return C.go_spot_options_set_linear_cost(q, ca.ptr, &ca.shape, cb.ptr, &cb.shape, e)
	})
}

// TorchScriptCost sets a TorchScript cost module as TrainOptions.TorchScriptCost (SPOT
// differentiates through it); two marginals only.
func (o SpotOptions) TorchScriptCost(path string, dx, dy int, curvature float64) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		cp := C.CString(path)
		defer C.free(unsafe.Pointer(cp))
		return C.scones_spot_options_set_torchscript_cost(q, cp, C.size_t(dx), C.size_t(dy), C.double(curvature), e)
	})
}

// Hidden sets the hidden layer widths of the generator(s) and of the critics.
func (o SpotOptions) Hidden(generator, critic []int) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		g, c := sizes(generator), sizes(critic)
		return C.scones_spot_options_set_hidden(q, ptrOrNil(g), C.size_t(len(g)), ptrOrNil(c), C.size_t(len(c)), e)
	})
}

// LatentDim is the dimension of Z ~ N(0, I); 0 takes the largest marginal dimension.
func (o SpotOptions) LatentDim(d int) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_latent_dim(q, C.size_t(d), e)
	})
}

// SharedGenerator: one network with an output head per marginal instead of one network each.
func (o SpotOptions) SharedGenerator(on bool) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_shared_generator(q, cbool(on), e)
	})
}

// Penalty sets the marginal penalty's weight eta (0: chosen from the data) and the critic steps
// per generator step.
func (o SpotOptions) Penalty(eta float64, nCritic int) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_penalty(q, C.double(eta), C.size_t(nCritic), e)
	})
}

// Entropy adds lambda E log p(G(Z)) to the objective (lambda > 0; 0 turns it off): the
// generator becomes a neural ODE of `steps` Euler steps and the plan minimises
// E c + lambda KL(pi || mu x nu).
func (o SpotOptions) Entropy(lambda float64, steps int) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_entropy(q, C.double(lambda), C.size_t(steps), e)
	})
}

// Adam sets the learning rate and moment decays of generator and critics.
func (o SpotOptions) Adam(learningRate, beta1, beta2 float64) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_adam(q, C.double(learningRate), C.double(beta1), C.double(beta2), e)
	})
}

// Schedule sets the learning-rate schedule (finalFraction is used by LRCosine).
func (o SpotOptions) Schedule(s LRSchedule, finalFraction float64) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_schedule(q, C.scones_lr_schedule(s), C.double(finalFraction), e)
	})
}

// GeneratorEMA is the decay in [0, 1) of the weight average sampled from (0: the last iterate).
func (o SpotOptions) GeneratorEMA(decay float64) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_generator_ema(q, C.double(decay), e)
	})
}

// Batch sets the minibatch size and the number of generator steps.
func (o SpotOptions) Batch(size, iterations int) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_batch(q, C.size_t(size), C.size_t(iterations), e)
	})
}

// Seed of the initial weights and of the data and latent draws.
func (o SpotOptions) Seed(seed uint64) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_seed(q, C.uint64_t(seed), e)
	})
}

// Device, as for TrainOptions.
func (o SpotOptions) Device(device string) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		cs := C.CString(device)
		defer C.free(unsafe.Pointer(cs))
		return C.scones_spot_options_set_device(q, cs, e)
	})
}

// Threads sets libtorch's intra-op threads during training (0: the fair share).
func (o SpotOptions) Threads(n int) SpotOptions {
	return o.with(func(q *C.scones_spot_options, e **C.scones_error) C.scones_status {
		return C.scones_spot_options_set_threads(q, C.size_t(n), e)
	})
}

// Progress calls fn every `every` generator steps (PhaseSpotTraining); false cancels training.
func (o SpotOptions) Progress(fn ProgressFunc, every int) SpotOptions {
	o.progress, o.every = fn, every
	return o
}

// spotOptions builds the C options of opts, as dualOptions does for TrainOptions.
func spotOptions(ctx context.Context, opts SpotOptions) (*C.scones_spot_options, *progressState, func(), error) {
	if opts.err != nil {
		return nil, nil, nil, opts.err
	}
	var o *C.scones_spot_options
	var cerr *C.scones_error
	if err := check(C.scones_spot_options_new(&o, &cerr), cerr); err != nil {
		return nil, nil, nil, err
	}
	for _, set := range opts.setters {
		if err := check(set(o, &cerr), cerr); err != nil {
			C.scones_spot_options_free(o)
			return nil, nil, nil, err
		}
	}
	if opts.progress == nil && ctx.Done() == nil {
		return o, nil, func() { C.scones_spot_options_free(o) }, nil
	}
	state := &progressState{ctx: ctx, fn: opts.progress}
	h := cgo.NewHandle(state)
	done := func() {
		C.scones_spot_options_free(o)
		h.Delete()
	}
	every := opts.every
	if opts.progress == nil || every <= 0 {
		every = defaultEvery
	}
	if err := check(C.go_spot_options_set_progress(o, C.uintptr_t(h), C.size_t(every), &cerr), cerr); err != nil {
		done()
		return nil, nil, nil, err
	}
	return o, state, done, nil
}

// Spot is a trained SPOT plan.
type Spot struct {
	mu  sync.RWMutex // Close takes it exclusively; calls share it (the library serializes)
	ptr *C.scones_spot
}

func newSpot(p *C.scones_spot) *Spot {
	s := &Spot{ptr: p}
	runtime.SetFinalizer(s, (*Spot).Close)
	return s
}

// Close releases the plan; safe to call more than once (later calls fail with
// ErrInvalidArgument).
func (s *Spot) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.scones_spot_free(s.ptr)
		s.ptr = nil
		runtime.SetFinalizer(s, nil)
	}
}

// TrainSpot trains a plan between the rows of source (n x dx) and target (m x dy). ctx cancels
// training as for Train.
func TrainSpot(ctx context.Context, source, target View, opts SpotOptions) (*Spot, error) {
	x, err := toC(source, "source")
	if err != nil {
		return nil, err
	}
	y, err := toC(target, "target")
	if err != nil {
		return nil, err
	}
	o, state, done, err := spotOptions(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	var cerr *C.scones_error
	var out *C.scones_spot
	st := C.go_spot_train(x.ptr, &x.shape, y.ptr, &y.shape, o, &out, &cerr)
	x.keepAlive()
	y.keepAlive()
	if err := state.finish(check(st, cerr)); err != nil {
		return nil, err
	}
	return newSpot(out), nil
}

// TrainSpotMeasures trains from 2 to 64 measures (point sets or host samplers); more than two
// give the multi-marginal plan of the cost summed over all pairs. Host callbacks fail and panic
// as for TrainMeasures.
func TrainSpotMeasures(ctx context.Context, marginals []*Measure, opts SpotOptions) (*Spot, error) {
	o, state, done, err := spotOptions(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	ptrs, hosts, unlock := lockMeasures(marginals...)
	defer unlock()
	var first **C.scones_measure
	if len(ptrs) > 0 {
		first = &ptrs[0] // Go memory holding C pointers only: cgo may pass it
	}
	var out *C.scones_spot
	var cerr *C.scones_error
	st := C.scones_spot_train_measures(first, C.size_t(len(ptrs)), o, &out, &cerr)
	runtime.KeepAlive(marginals)
	err = finishHosts(check(st, cerr), hosts)
	if err := state.finish(err); err != nil {
		return nil, err
	}
	return newSpot(out), nil
}

// LoadSpot loads a plan written by Save onto device ("" means "cpu").
func LoadSpot(path, device string) (*Spot, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var cd *C.char
	if device != "" {
		cd = C.CString(device)
		defer C.free(unsafe.Pointer(cd))
	}
	var out *C.scones_spot
	var cerr *C.scones_error
	if err := check(C.scones_spot_load(cp, cd, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newSpot(out), nil
}

// Save writes the plan to path (one self-describing file, written atomically).
func (s *Spot) Save(path string) error {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	s.mu.RLock()
	defer s.mu.RUnlock()
	var cerr *C.scones_error
	st := C.scones_spot_save(s.ptr, cp, &cerr)
	runtime.KeepAlive(s)
	return check(st, cerr)
}

// maxMarginals is the library's bound on a plan's marginals (neural/spot MAX_MARGINALS).
const maxMarginals = 64

func (s *Spot) dims() ([]C.size_t, error) {
	d := make([]C.size_t, maxMarginals)
	var count C.size_t
	var cerr *C.scones_error
	st := C.scones_spot_dims(s.ptr, &d[0], C.size_t(len(d)), &count, &cerr)
	runtime.KeepAlive(s)
	if err := check(st, cerr); err != nil {
		return nil, err
	}
	if int(count) > len(d) {
		return nil, errorf(StatusInternal, "the plan has %d marginals, more than %d", int(count), len(d))
	}
	return d[:count], nil
}

// Dims returns the marginals' dimensions in training order.
func (s *Spot) Dims() ([]int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	d, err := s.dims()
	if err != nil {
		return nil, err
	}
	out := make([]int, len(d))
	for i, v := range d {
		out[i] = int(v)
	}
	return out, nil
}

// The library's caps (runtime/limits.rs) on samples per call (64 MAX_BATCH) and on elements per
// view (MAX_ELEMENTS), checked here before the output is allocated.
const (
	maxSpotSamples = 1 << 26
	maxElements    = 1 << 31
)

// Sample draws n paired samples of the plan: element k is n x (dimension of marginal k), and
// row i of every matrix comes from the same latent draw. The same (n, seed) gives the same rows.
func (s *Spot) Sample(n int, seed uint64) ([]Matrix[float64], error) {
	if n < 1 || n > maxSpotSamples {
		return nil, errorf(StatusInvalidArgument, "Sample: n must lie in 1..=%d, got %d", maxSpotSamples, n)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	dims, err := s.dims()
	if err != nil {
		return nil, err
	}
	total := 0
	for k, d := range dims {
		if n*int(d) > maxElements {
			return nil, errorf(StatusInvalidArgument, "Sample: %d x %d for marginal %d exceeds %d elements", n, int(d),
				k, maxElements)
		}
		total += int(d)
	}
	buf := make([]float64, n*total)
	var cerr *C.scones_error
	st := C.go_spot_sample(s.ptr, C.uint64_t(seed), (*C.double)(unsafe.Pointer(&buf[0])), C.size_t(n), &dims[0],
		C.size_t(len(dims)), &cerr)
	runtime.KeepAlive(s)
	if err := check(st, cerr); err != nil {
		return nil, err
	}
	out := make([]Matrix[float64], len(dims))
	offset := 0
	for k, d := range dims {
		out[k] = NewMatrix(buf[offset:offset+n*int(d)], n, int(d))
		offset += n * int(d)
	}
	return out, nil
}

// CostEstimate is E c(G(Z)) over n latent draws and its standard error.
type CostEstimate struct {
	Estimate, StandardError float64
}

// CostEstimate estimates the plan's transport cost from n >= 2 draws.
func (s *Spot) CostEstimate(n int, seed uint64) (CostEstimate, error) {
	if n < 0 {
		return CostEstimate{}, errorf(StatusInvalidArgument, "CostEstimate: negative n %d", n)
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var m, se C.double
	var cerr *C.scones_error
	st := C.scones_spot_cost_estimate(s.ptr, C.size_t(n), C.uint64_t(seed), &m, &se, &cerr)
	runtime.KeepAlive(s)
	return CostEstimate{float64(m), float64(se)}, check(st, cerr)
}

// SpotReport summarizes the training run that made a plan.
type SpotReport struct {
	Iterations          uint64
	Cost                float64 // the batch plan cost E c(G(z)) over the last report interval
	MarginalGap         float64 // the critics' summed gap E phi(G(z)) - E phi(x)
	Seconds             float64
	IterationsPerSecond float64
}

// TrainReport returns the training summary (ErrInvalidArgument for a loaded plan).
func (s *Spot) TrainReport() (SpotReport, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var r C.scones_spot_report
	r.struct_size = C.size_t(unsafe.Sizeof(r))
	var cerr *C.scones_error
	st := C.scones_spot_train_report(s.ptr, &r, &cerr)
	runtime.KeepAlive(s)
	return SpotReport{uint64(r.iterations), float64(r.cost), float64(r.marginal_gap), float64(r.seconds),
		float64(r.iterations_per_second)}, check(st, cerr)
}
