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

// Dual holds trained dual potentials (phi, psi) with their regularizer, cost and dimensions.
type Dual struct {
	mu   sync.RWMutex // Close takes it exclusively; calls share it (the library serializes)
	ptr  *C.scones_dual
	cost *hostState // a host cost's function, which the C dual (and its samplers) call
}

func newDual(p *C.scones_dual) *Dual {
	d := &Dual{ptr: p}
	runtime.SetFinalizer(d, (*Dual).Close)
	return d
}

// Close releases the model. It is safe to call more than once; later calls fail with
// ErrInvalidArgument. Samplers made from the dual stay valid.
func (d *Dual) Close() {
	if d == nil {
		return
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ptr != nil {
		C.scones_dual_free(d.ptr)
		d.ptr = nil
		d.cost.release()
		d.cost = nil
		runtime.SetFinalizer(d, nil)
	}
}

// Train runs Algorithm 1 between the rows of source (n x dx) and target (m x dy). ctx cancels
// training (checked at progress reports); the error then matches both ErrCancelled and ctx.Err().
func Train(ctx context.Context, source, target View, opts TrainOptions) (*Dual, error) {
	x, err := toC(source, "source")
	if err != nil {
		return nil, err
	}
	y, err := toC(target, "target")
	if err != nil {
		return nil, err
	}
	o, state, done, err := dualOptions(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	var cerr *C.scones_error
	var out *C.scones_dual
	st := C.go_dual_train(x.ptr, &x.shape, y.ptr, &y.shape, o, &out, &cerr)
	x.keepAlive()
	y.keepAlive()
	host := opts.costHost()
	runtime.KeepAlive(opts.cost)
	if err := state.finish(host.finish(check(st, cerr))); err != nil {
		return nil, err
	}
	d := newDual(out)
	d.cost = host.acquire()
	return d, nil
}

// costHost is the state of the host cost opts set, if any.
func (o TrainOptions) costHost() *hostState {
	if o.cost == nil {
		return nil
	}
	return o.cost.host
}

// dualOptions builds the C options of opts, with a progress hook when opts has a ProgressFunc
// or ctx can be cancelled; done releases them (after the call).
func dualOptions(ctx context.Context, opts TrainOptions) (*C.scones_dual_options, *progressState, func(), error) {
	if opts.err != nil {
		return nil, nil, nil, opts.err
	}
	var o *C.scones_dual_options
	var cerr *C.scones_error
	if err := check(C.scones_dual_options_new(&o, &cerr), cerr); err != nil {
		return nil, nil, nil, err
	}
	for _, set := range opts.setters {
		if err := check(set(o, &cerr), cerr); err != nil {
			C.scones_dual_options_free(o)
			return nil, nil, nil, err
		}
	}
	if opts.progress == nil && ctx.Done() == nil && opts.collective == nil {
		return o, nil, func() { C.scones_dual_options_free(o) }, nil
	}
	state := &progressState{ctx: ctx, fn: opts.progress, collective: opts.collective}
	h := cgo.NewHandle(state)
	done := func() {
		C.scones_dual_options_free(o)
		h.Delete()
	}
	every := opts.every
	if opts.progress == nil || every <= 0 {
		every = defaultEvery
	}
	if opts.progress != nil || ctx.Done() != nil {
		if err := check(C.go_dual_options_set_progress(o, C.uintptr_t(h), C.size_t(every), &cerr), cerr); err != nil {
			done()
			return nil, nil, nil, err
		}
	}
	if c := opts.collective; c != nil {
		rank, size := c.rankAndSize()
		if err := check(C.go_dual_options_set_collective(o, rank, size, C.uintptr_t(h), &cerr), cerr); err != nil {
			done()
			return nil, nil, nil, err
		}
	}
	return o, state, done, nil
}

// LoadDual loads a model written by Save onto device ("" means "cpu").
func LoadDual(path, device string) (*Dual, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var cd *C.char
	if device != "" {
		cd = C.CString(device)
		defer C.free(unsafe.Pointer(cd))
	}
	var out *C.scones_dual
	var cerr *C.scones_error
	if err := check(C.scones_dual_load(cp, cd, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newDual(out), nil
}

// Save writes the model to path (one self-describing file, written atomically).
func (d *Dual) Save(path string) error {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	d.mu.RLock()
	defer d.mu.RUnlock()
	var cerr *C.scones_error
	st := C.scones_dual_save(d.ptr, cp, &cerr)
	runtime.KeepAlive(d)
	return check(st, cerr)
}

// Dims returns the source and target dimensions.
func (d *Dual) Dims() (dx, dy int, err error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var a, b C.size_t
	var cerr *C.scones_error
	st := C.scones_dual_dims(d.ptr, &a, &b, &cerr)
	runtime.KeepAlive(d)
	return int(a), int(b), check(st, cerr)
}

// Problem is the regularized transport problem a dual solves.
type Problem struct {
	Regularizer Regularizer
	Lambda      float64
	Cost        Cost
}

// Problem returns the model's regularizer, lambda and cost.
func (d *Dual) Problem() (Problem, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var r C.scones_regularizer
	var c C.scones_cost
	var l C.double
	var cerr *C.scones_error
	st := C.scones_dual_problem(d.ptr, &r, &l, &c, &cerr)
	runtime.KeepAlive(d)
	return Problem{Regularizer(r), float64(l), Cost(c)}, check(st, cerr)
}

// TrainReport summarizes the training run that made a dual.
type TrainReport struct {
	Iterations          uint64
	Objective           float64
	MeanCompatibility   float64
	ExtensionFraction   float64
	Seconds             float64
	IterationsPerSecond float64
}

// TrainReport returns the training summary (ErrInvalidArgument for a loaded model).
func (d *Dual) TrainReport() (TrainReport, error) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	var r C.scones_train_report
	r.struct_size = C.size_t(unsafe.Sizeof(r))
	var cerr *C.scones_error
	st := C.scones_dual_train_report(d.ptr, &r, &cerr)
	runtime.KeepAlive(d)
	return TrainReport{uint64(r.iterations), float64(r.objective), float64(r.mean_compatibility),
		float64(r.extension_fraction), float64(r.seconds), float64(r.iterations_per_second)}, check(st, cerr)
}

// PotentialInto evaluates phi (on source points) or psi (on target points) into out (n x 1).
func (d *Dual) PotentialInto(which Potential, points, out View) error {
	p, err := toC(points, "points")
	if err != nil {
		return err
	}
	o, err := toC(out, "out")
	if err != nil {
		return err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	var cerr *C.scones_error
	st := C.go_dual_potential(d.ptr, C.scones_potential(which), p.ptr, &p.shape, o.ptr, &o.shape, &cerr)
	runtime.KeepAlive(d)
	p.keepAlive()
	o.keepAlive()
	return check(st, cerr)
}

// Potential evaluates phi or psi at each row of points.
func (d *Dual) Potential(which Potential, points View) ([]float64, error) {
	l, err := points.layout()
	if err != nil {
		return nil, &Error{Status: StatusInvalidArgument, Message: "points: " + err.Error()}
	}
	out := make([]float64, l.rows)
	return out, d.PotentialInto(which, points, NewMatrix(out, l.rows, 1))
}

// CompatibilityInto writes M(V(x_i, y_j)) for all pairs into out (n x m).
func (d *Dual) CompatibilityInto(x, y, out View) error {
	a, err := toC(x, "x")
	if err != nil {
		return err
	}
	b, err := toC(y, "y")
	if err != nil {
		return err
	}
	o, err := toC(out, "out")
	if err != nil {
		return err
	}
	d.mu.RLock()
	defer d.mu.RUnlock()
	var cerr *C.scones_error
	st := C.go_dual_compatibility(d.ptr, a.ptr, &a.shape, b.ptr, &b.shape, o.ptr, &o.shape, &cerr)
	runtime.KeepAlive(d)
	a.keepAlive()
	b.keepAlive()
	o.keepAlive()
	return check(st, cerr)
}

// Compatibility returns the n x m matrix M(V(x_i, y_j)): the learned coupling's density with
// respect to the product of the marginals.
func (d *Dual) Compatibility(x, y View) (Matrix[float64], error) {
	lx, err := x.layout()
	if err != nil {
		return Matrix[float64]{}, &Error{Status: StatusInvalidArgument, Message: "x: " + err.Error()}
	}
	ly, err := y.layout()
	if err != nil {
		return Matrix[float64]{}, &Error{Status: StatusInvalidArgument, Message: "y: " + err.Error()}
	}
	out := Zeros(lx.rows, ly.rows)
	return out, d.CompatibilityInto(x, y, out)
}
