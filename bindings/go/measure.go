package scones

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
)

// Measure is a measure to train from: a point set (NewPointsMeasure) or a host sampler
// (NewCallbackMeasure) that fills each minibatch on request.
type Measure struct {
	mu   sync.RWMutex
	ptr  *C.scones_measure
	host *hostState // the callback's state (nil for point sets)
}

func newMeasure(p *C.scones_measure, host *hostState) *Measure {
	m := &Measure{ptr: p, host: host}
	runtime.SetFinalizer(m, (*Measure).Close)
	return m
}

// Close releases the measure; safe to call more than once.
func (m *Measure) Close() {
	if m == nil {
		return
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.ptr != nil {
		C.scones_measure_free(m.ptr)
		m.ptr = nil
		m.host.release()
		m.host = nil
		runtime.SetFinalizer(m, nil)
	}
}

// NewPointsMeasure is the measure given by the rows of points (n x d); the library keeps a
// float32 copy, so points may be reused at once.
func NewPointsMeasure(points View) (*Measure, error) {
	p, err := toC(points, "points")
	if err != nil {
		return nil, err
	}
	var out *C.scones_measure
	var cerr *C.scones_error
	st := C.go_measure_new_points(p.ptr, &p.shape, &out, &cerr)
	p.keepAlive()
	if err := check(st, cerr); err != nil {
		return nil, err
	}
	return newMeasure(out, nil), nil
}

// NewCallbackMeasure is a measure in dimension d sampled by fn, called on the goroutine of the
// training call that needs a minibatch.
func NewCallbackMeasure(d int, fn MeasureFunc) (*Measure, error) {
	if fn == nil || d < 0 {
		return nil, errorf(StatusInvalidArgument, "NewCallbackMeasure: nil function or negative dimension")
	}
	host := newHostState(fn, nil)
	var out *C.scones_measure
	var cerr *C.scones_error
	if err := check(C.go_measure_new_callback(C.size_t(d), C.uintptr_t(host.handle), &out, &cerr), cerr); err != nil {
		host.release()
		return nil, err
	}
	return newMeasure(out, host), nil
}

// lockMeasures read-locks the measures (nil allowed) and returns their C pointers, the hosts
// whose callbacks the call may run, and the unlock function.
func lockMeasures(ms ...*Measure) ([]*C.scones_measure, []*hostState, func()) {
	ptrs := make([]*C.scones_measure, len(ms))
	var hosts []*hostState
	for i, m := range ms {
		if m == nil {
			continue
		}
		m.mu.RLock()
		ptrs[i] = m.ptr
		if m.host != nil {
			hosts = append(hosts, m.host)
		}
	}
	return ptrs, hosts, func() {
		for _, m := range ms {
			if m != nil {
				m.mu.RUnlock()
			}
		}
	}
}

// finishHosts hands the callbacks' failures back (a panic is re-raised).
func finishHosts(err error, hosts []*hostState) error {
	for _, h := range hosts {
		err = h.finish(err)
	}
	return err
}

// TrainMeasures runs Algorithm 1 between two measures (point sets or host samplers). ctx
// cancels training as for Train; a MeasureFunc's error comes back wrapped in an *Error with
// StatusCallback (errors.Is matches both), and its panic is re-raised here.
func TrainMeasures(ctx context.Context, source, target *Measure, opts TrainOptions) (*Dual, error) {
	o, state, done, err := dualOptions(ctx, opts)
	if err != nil {
		return nil, err
	}
	defer done()
	ptrs, hosts, unlock := lockMeasures(source, target)
	defer unlock()
	var out *C.scones_dual
	var cerr *C.scones_error
	st := C.scones_dual_train_measures(ptrs[0], ptrs[1], o, &out, &cerr)
	runtime.KeepAlive(source)
	runtime.KeepAlive(target)
	host := opts.costHost()
	runtime.KeepAlive(opts.cost)
	err = host.finish(finishHosts(check(st, cerr), hosts))
	if err := state.finish(err); err != nil {
		return nil, err
	}
	d := newDual(out)
	d.cost = host.acquire()
	return d, nil
}
