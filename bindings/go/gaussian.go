package scones

/*
#include "shim.h"
*/
import "C"

// RandomCovariance returns U diag(w) U^T (d x d) with Haar-random U and eigenvalues w from
// spectrum.
func RandomCovariance(d int, spectrum Spectrum, seed uint64) (Matrix[float64], error) {
	out := Zeros(d, d)
	o, err := toC(out, "out")
	if err != nil {
		return Matrix[float64]{}, err
	}
	var cerr *C.scones_error
	st := C.go_gaussian_random_covariance(C.size_t(d), C.scones_spectrum(spectrum), C.uint64_t(seed), o.ptr, &o.shape, &cerr)
	o.keepAlive()
	return out, check(st, cerr)
}

// GaussianSample returns n exact samples of N(mean, cov) (n x d).
func GaussianSample(mean []float64, cov View, n int, seed uint64) (Matrix[float64], error) {
	m, err := toC(NewMatrix(mean, 1, len(mean)), "mean")
	if err != nil {
		return Matrix[float64]{}, err
	}
	c, err := toC(cov, "cov")
	if err != nil {
		return Matrix[float64]{}, err
	}
	out := Zeros(n, len(mean))
	o, err := toC(out, "out")
	if err != nil {
		return Matrix[float64]{}, err
	}
	var cerr *C.scones_error
	st := C.go_gaussian_sample(m.ptr, &m.shape, c.ptr, &c.shape, C.size_t(n), C.uint64_t(seed), o.ptr, &o.shape, &cerr)
	m.keepAlive()
	c.keepAlive()
	o.keepAlive()
	return out, check(st, cerr)
}

// GaussianEntropicCoupling returns the joint covariance (2d x 2d) of the closed-form
// KL-regularized coupling between N(0, covSource) and N(0, covTarget) (squared Euclidean cost).
func GaussianEntropicCoupling(covSource, covTarget View, lambda float64) (Matrix[float64], error) {
	a, err := toC(covSource, "cov_source")
	if err != nil {
		return Matrix[float64]{}, err
	}
	b, err := toC(covTarget, "cov_target")
	if err != nil {
		return Matrix[float64]{}, err
	}
	k := int(a.shape.rows + b.shape.rows)
	out := Zeros(k, k)
	o, err := toC(out, "out")
	if err != nil {
		return Matrix[float64]{}, err
	}
	var cerr *C.scones_error
	st := C.go_gaussian_entropic_coupling(a.ptr, &a.shape, b.ptr, &b.shape, C.double(lambda), o.ptr, &o.shape, &cerr)
	a.keepAlive()
	b.keepAlive()
	o.keepAlive()
	return out, check(st, cerr)
}

// BWUVP is the BW-UVP (0-100 scale) of an estimated covariance against a reference.
func BWUVP(covEstimate, covReference View) (float64, error) {
	a, err := toC(covEstimate, "cov_estimate")
	if err != nil {
		return 0, err
	}
	b, err := toC(covReference, "cov_reference")
	if err != nil {
		return 0, err
	}
	var out C.double
	var cerr *C.scones_error
	st := C.go_bw_uvp(a.ptr, &a.shape, b.ptr, &b.shape, &out, &cerr)
	a.keepAlive()
	b.keepAlive()
	return float64(out), check(st, cerr)
}

// JointCovariance is the unbiased covariance ((dx + dy) square) of the joint rows (x_i, y_i).
func JointCovariance(x, y View) (Matrix[float64], error) {
	a, err := toC(x, "x")
	if err != nil {
		return Matrix[float64]{}, err
	}
	b, err := toC(y, "y")
	if err != nil {
		return Matrix[float64]{}, err
	}
	k := int(a.shape.cols + b.shape.cols)
	out := Zeros(k, k)
	o, err := toC(out, "out")
	if err != nil {
		return Matrix[float64]{}, err
	}
	var cerr *C.scones_error
	st := C.go_joint_covariance(a.ptr, &a.shape, b.ptr, &b.shape, o.ptr, &o.shape, &cerr)
	a.keepAlive()
	b.keepAlive()
	o.keepAlive()
	return out, check(st, cerr)
}

// SlicedW2 is the sliced 2-Wasserstein distance between the rows of a and b.
func SlicedW2(a, b View, projections int, seed uint64) (float64, error) {
	p, err := toC(a, "a")
	if err != nil {
		return 0, err
	}
	q, err := toC(b, "b")
	if err != nil {
		return 0, err
	}
	var out C.double
	var cerr *C.scones_error
	st := C.go_sliced_w2(p.ptr, &p.shape, q.ptr, &q.shape, C.size_t(projections), C.uint64_t(seed), &out, &cerr)
	p.keepAlive()
	q.keepAlive()
	return float64(out), check(st, cerr)
}
