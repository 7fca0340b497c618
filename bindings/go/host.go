package scones

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"runtime/cgo"
	"sync"
	"unsafe"
)

// MeasureFunc fills out (m x d, row-major) with m points of a measure. seed comes from the
// training run's seeded stream: draw from it to make runs reproducible. out aliases the
// library's buffer and is valid only during the call: do not keep it. A non-nil error stops the
// training call, which returns an *Error with StatusCallback wrapping this error.
type MeasureFunc func(out Matrix[float64], seed uint64) error

// ScoreFunc writes the score s(y, sigma) at the n rows of y (n x d) into out (n x d); sigma = 0
// is the clean target. y and out alias the library's buffers and are valid only during the
// call. A non-nil error stops the calling function (an *Error with StatusCallback wrapping it).
type ScoreFunc func(out, y Matrix[float64], sigma float64) error

// CostFunc evaluates a ground cost at m row pairs: values[i] = c(x_i, y_i) for x (m x dx) and
// y (m x dy), and, when gradY has rows (it is empty when only values are needed), gradY (m x dy)
// = the gradient of c in y at each pair. All arguments alias the library's buffers and are
// valid only during the call. A non-nil error stops the calling function (an *Error with
// StatusCallback wrapping it).
type CostFunc func(values []float64, gradY, x, y Matrix[float64]) error

// costHolder owns one reference to a host cost's state for the TrainOptions values that carry
// it (copies share the holder); the finalizer drops it once no options refer to it. Duals
// trained with it hold references of their own.
type costHolder struct{ host *hostState }

func newCostHolder(f CostFunc) *costHolder {
	h := &costHolder{host: newHostState(nil, nil)}
	h.host.cost = f
	runtime.SetFinalizer(h, func(c *costHolder) { c.host.release() })
	return h
}

// hostState is the Go side of a host callback that a C object calls through a cgo.Handle. The
// handle is reference-counted: a callback score is shared by the Score and every Sampler made
// from it (they hold copies that call the same function), and the handle is deleted when the
// last of them is closed. A callback's error or panic is parked here and handed back to the Go
// caller once the library call returns (no panic unwinds through the library's frames).
type hostState struct {
	measure MeasureFunc
	score   ScoreFunc
	cost    CostFunc

	mu       sync.Mutex
	refs     int
	handle   cgo.Handle
	err      error
	panicked bool
	panicVal any
}

func newHostState(m MeasureFunc, s ScoreFunc) *hostState {
	h := &hostState{measure: m, score: s, refs: 1}
	h.handle = cgo.NewHandle(h)
	return h
}

func (h *hostState) acquire() *hostState {
	if h != nil {
		h.mu.Lock()
		h.refs++
		h.mu.Unlock()
	}
	return h
}

func (h *hostState) release() {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.refs--
	if h.refs == 0 {
		h.handle.Delete()
	}
}

// fail records the first failure of a callback during a call.
func (h *hostState) fail(err error, panicked bool, v any) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.err == nil && !h.panicked {
		h.err, h.panicked, h.panicVal = err, panicked, v
	}
}

// finish turns the outcome of a library call that may have run this callback into its error:
// a panic is re-raised, a callback error is wrapped by the library's StatusCallback error.
func (h *hostState) finish(err error) error {
	if h == nil {
		return err
	}
	h.mu.Lock()
	cbErr, panicked, v := h.err, h.panicked, h.panicVal
	h.err, h.panicked, h.panicVal = nil, false, nil
	h.mu.Unlock()
	if panicked {
		panic(v)
	}
	if e, ok := err.(*Error); ok && cbErr != nil && e.Status == StatusCallback && e.cause == nil {
		e.cause = cbErr
	}
	return err
}

func hostMatrix(p *C.double, rows, cols C.size_t) Matrix[float64] {
	n := int(rows) * int(cols)
	if n == 0 || p == nil {
		return Matrix[float64]{Rows: int(rows), Cols: int(cols), RowStride: int(cols), ColStride: 1}
	}
	return NewMatrix(unsafe.Slice((*float64)(unsafe.Pointer(p)), n), int(rows), int(cols))
}

func (h *hostState) guard(ret *C.int32_t) {
	if r := recover(); r != nil {
		h.fail(nil, true, r)
		*ret = 1
	}
}

//export goSconesMeasure
func goSconesMeasure(handle C.uintptr_t, m, d C.size_t, seed C.uint64_t, out *C.double) (ret C.int32_t) {
	h := cgo.Handle(handle).Value().(*hostState)
	defer h.guard(&ret)
	if err := h.measure(hostMatrix(out, m, d), uint64(seed)); err != nil {
		h.fail(err, false, nil)
		return 1
	}
	return 0
}

//export goSconesScore
func goSconesScore(handle C.uintptr_t, y *C.double, n, d C.size_t, sigma C.double, out *C.double) (ret C.int32_t) {
	h := cgo.Handle(handle).Value().(*hostState)
	defer h.guard(&ret)
	if err := h.score(hostMatrix(out, n, d), hostMatrix(y, n, d), float64(sigma)); err != nil {
		h.fail(err, false, nil)
		return 1
	}
	return 0
}

//export goSconesCost
func goSconesCost(handle C.uintptr_t, m, dx, dy C.size_t, x, y, values, gradY *C.double) (ret C.int32_t) {
	h := cgo.Handle(handle).Value().(*hostState)
	defer h.guard(&ret)
	grad := Matrix[float64]{Cols: int(dy), RowStride: int(dy), ColStride: 1}
	if gradY != nil {
		grad = hostMatrix(gradY, m, dy)
	}
	v := hostMatrix(values, m, 1)
	if err := h.cost(v.Data, grad, hostMatrix(x, m, dx), hostMatrix(y, m, dy)); err != nil {
		h.fail(err, false, nil)
		return 1
	}
	return 0
}
