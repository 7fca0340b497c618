package scones

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"sync"
)

// Score is a target score source s(y, sigma) = grad_y log (tau * N(0, sigma^2 I))(y).
type Score struct {
	mu  sync.RWMutex
	ptr *C.scones_score
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
	return check(st, cerr)
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
