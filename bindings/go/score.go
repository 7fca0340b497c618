package scones

/*
#include "shim.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"
	"unsafe"
)

// Score is a target score source s(y, sigma) = grad_y log (tau * N(0, sigma^2 I))(y).
type Score struct {
	mu   sync.RWMutex
	ptr  *C.scones_score
	host *hostState // a callback score's function, shared with the samplers made from it
}

func newScore(p *C.scones_score) *Score {
	s := &Score{ptr: p}
	runtime.SetFinalizer(s, (*Score).Close)
	return s
}

// Close releases the score; safe to call more than once. Samplers made from it stay valid.
func (s *Score) Close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ptr != nil {
		C.scones_score_free(s.ptr)
		s.ptr = nil
		s.host.release() // samplers made from the score hold their own reference
		s.host = nil
		runtime.SetFinalizer(s, nil)
	}
}

// NewGaussianScore is the exact score of N(mean, cov) (cov d x d symmetric positive definite).
func NewGaussianScore(mean []float64, cov View) (*Score, error) {
	m, err := toC(NewMatrix(mean, 1, len(mean)), "mean")
	if err != nil {
		return nil, err
	}
	c, err := toC(cov, "cov")
	if err != nil {
		return nil, err
	}
	var out *C.scones_score
	var cerr *C.scones_error
	st := C.go_score_new_gaussian(m.ptr, &m.shape, c.ptr, &c.shape, &out, &cerr)
	m.keepAlive()
	c.keepAlive()
	if err := check(st, cerr); err != nil {
		return nil, err
	}
	return newScore(out), nil
}

// Dim is the dimension of the score's space.
func (s *Score) Dim() (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var d C.size_t
	var cerr *C.scones_error
	st := C.scones_score_dim(s.ptr, &d, &cerr)
	runtime.KeepAlive(s)
	return int(d), check(st, cerr)
}

// EvalInto writes s(y, sigma) at the rows of y (n x d) into out (n x d).
func (s *Score) EvalInto(y View, sigma float64, out View) error {
	a, err := toC(y, "y")
	if err != nil {
		return err
	}
	o, err := toC(out, "out")
	if err != nil {
		return err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	var cerr *C.scones_error
	st := C.go_score_eval(s.ptr, a.ptr, &a.shape, C.double(sigma), o.ptr, &o.shape, &cerr)
	runtime.KeepAlive(s)
	a.keepAlive()
	o.keepAlive()
	return s.host.finish(check(st, cerr))
}

// Eval returns s(y, sigma) at the rows of y.
func (s *Score) Eval(y View, sigma float64) (Matrix[float64], error) {
	l, err := y.layout()
	if err != nil {
		return Matrix[float64]{}, &Error{Status: StatusInvalidArgument, Message: "y: " + err.Error()}
	}
	out := Zeros(l.rows, l.cols)
	return out, s.EvalInto(y, sigma, out)
}

// NewEmpiricalScore is the exact score of the target points (rows of points, n x d) smoothed by
// a Gaussian kernel of bandwidth h > 0 (annealing adds its noise level on top). No training.
func NewEmpiricalScore(points View, bandwidth float64) (*Score, error) {
	p, err := toC(points, "points")
	if err != nil {
		return nil, err
	}
	var out *C.scones_score
	var cerr *C.scones_error
	st := C.go_score_new_empirical(p.ptr, &p.shape, C.double(bandwidth), &out, &cerr)
	p.keepAlive()
	if err := check(st, cerr); err != nil {
		return nil, err
	}
	return newScore(out), nil
}

// NewCallbackScore is a score in dimension d computed by fn, called on the goroutine that
// evaluates the score or samples. Samplers made from it keep fn alive after Close.
func NewCallbackScore(d int, fn ScoreFunc) (*Score, error) {
	if fn == nil || d < 0 {
		return nil, errorf(StatusInvalidArgument, "NewCallbackScore: nil function or negative dimension")
	}
	host := newHostState(nil, fn)
	var out *C.scones_score
	var cerr *C.scones_error
	if err := check(C.go_score_new_callback(C.size_t(d), C.uintptr_t(host.handle), &out, &cerr), cerr); err != nil {
		host.release()
		return nil, err
	}
	s := newScore(out)
	s.host = host
	return s, nil
}

// NewTorchScriptScore loads a TorchScript module (torch.jit.save) with
// forward(y: Tensor[n, d] float32, sigma: Tensor[n] float32) -> Tensor[n, d].
func NewTorchScriptScore(path string, d int) (*Score, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var out *C.scones_score
	var cerr *C.scones_error
	if err := check(C.scones_score_new_torchscript(cp, C.size_t(d), &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newScore(out), nil
}

// TrainScore trains a score network by denoising score matching (NCSN) on the target measure.
// ctx cancels training (checked at progress reports).
func TrainScore(ctx context.Context, target *Measure, opts NetworkOptions) (*Score, error) {
	o, state, done, err := opts.build(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	ptrs, hosts, unlock := lockMeasures(target)
	defer unlock()
	var out *C.scones_score
	var cerr *C.scones_error
	st := C.scones_score_train(ptrs[0], o, &out, &cerr)
	runtime.KeepAlive(target)
	if err := state.finish(finishHosts(check(st, cerr), hosts)); err != nil {
		return nil, err
	}
	return newScore(out), nil
}

// LoadScore loads a score network written by Save.
func LoadScore(path string) (*Score, error) {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	var out *C.scones_score
	var cerr *C.scones_error
	if err := check(C.scones_score_load(cp, &out, &cerr), cerr); err != nil {
		return nil, err
	}
	return newScore(out), nil
}

// Save writes a trained score network to path (ErrInvalidArgument for other kinds of score).
func (s *Score) Save(path string) error {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	s.mu.RLock()
	defer s.mu.RUnlock()
	var cerr *C.scones_error
	st := C.scones_score_save(s.ptr, cp, &cerr)
	runtime.KeepAlive(s)
	return check(st, cerr)
}
