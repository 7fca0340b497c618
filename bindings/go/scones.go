// Package scones is a thin Go binding (cgo) of the scones C library: score-based neural
// optimal transport (SCONES). It learns the regularized optimal-transport coupling between two
// point sets with neural dual potentials (Train, Algorithm 1) and samples y ~ pi(y | x) with
// Langevin dynamics (Sampler, Algorithm 2). All the math runs in the library.
//
// Conventions:
//   - Handles (Dual, Score, Sampler, Measure, Barycentric, Figure) hold a C object. Close releases it and is safe to
//     call twice (and concurrently with nothing else); a finalizer releases what was not closed.
//   - Failures are *Error values carrying the library's Status and message; errors.Is matches
//     them against the sentinels (ErrCancelled, ErrShapeMismatch, ...), and a call cancelled
//     through its context.Context also matches ctx.Err().
//   - Points are rows: inputs and outputs are Matrix[float64] or Matrix[float32] views over Go
//     slices (row-major by default, any non-negative strides), passed without copies.
//   - Long calls take a context.Context (cancellation, checked at progress reports) and
//     optionally a ProgressFunc.
//   - Discrete OT (Sinkhorn, IPOT, DiscreteFDual, Assignment) returns plain Go results with a
//     DiscreteReport; DiscreteOptions configure the solvers, weights, cost and progress.
//   - Host callbacks (MeasureFunc, ScoreFunc) reach C through runtime/cgo handles, never Go
//     pointers; they run on the calling goroutine over matrices aliasing the library's buffers.
//     Their error comes back wrapped in an *Error with StatusCallback (errors.Is and errors.As
//     see both), their panic is re-raised on the caller's side. Training options of score
//     networks and barycentric maps are NetworkOptions (TrainOptions configure dual training).
//
// The package finds the library with pkg-config (`#cgo pkg-config: scones`): after
// `make install PREFIX=...`, set PKG_CONFIG_PATH=PREFIX/lib/pkgconfig; against a development
// build, PKG_CONFIG_PATH=<repo>/target/release/pkgconfig (written by `make build`).
package scones

/*
#cgo pkg-config: scones
#include "shim.h"
*/
import "C"

import (
	"fmt"
	"runtime"
	"unsafe"
)

// Version of the loaded library ("MAJOR.MINOR.PATCH").
func Version() string { return C.GoString(C.scones_version()) }

// HeaderVersion is the version of the scones.h this package was compiled against.
const HeaderVersion = C.SCONES_VERSION_STRING

// CUDAAvailable reports whether this build of the library can use CUDA on this machine.
func CUDAAvailable() bool { return C.scones_cuda_available() != 0 }

// Status is the library's status code (SCONES_STATUS_*).
type Status int32

const (
	StatusOK                Status = C.SCONES_STATUS_OK
	StatusInvalidArgument   Status = C.SCONES_STATUS_INVALID_ARGUMENT
	StatusShapeMismatch     Status = C.SCONES_STATUS_SHAPE_MISMATCH
	StatusNonFinite         Status = C.SCONES_STATUS_NON_FINITE
	StatusIO                Status = C.SCONES_STATUS_IO
	StatusFormat            Status = C.SCONES_STATUS_FORMAT
	StatusDeviceUnavailable Status = C.SCONES_STATUS_DEVICE_UNAVAILABLE
	StatusCancelled         Status = C.SCONES_STATUS_CANCELLED
	StatusDiverged          Status = C.SCONES_STATUS_DIVERGED
	StatusCallback          Status = C.SCONES_STATUS_CALLBACK
	StatusInternal          Status = C.SCONES_STATUS_INTERNAL
)

// String is the library's static name of the status ("invalid_argument", ...).
func (s Status) String() string { return C.GoString(C.scones_status_name(C.scones_status(s))) }

// Error is a failed call: the status code and the library's message.
type Error struct {
	Status  Status
	Message string
	cause   error // ctx.Err() of a cancelled call, or a host callback's error
}

func (e *Error) Error() string {
	if e.Message == "" {
		return "scones: " + e.Status.String()
	}
	return fmt.Sprintf("scones: %s: %s", e.Status, e.Message)
}

// Unwrap returns the context error that cancelled the call, or the error a host callback
// (MeasureFunc, ScoreFunc) returned, if any.
func (e *Error) Unwrap() error { return e.cause }

// Is matches sentinel errors by status: errors.Is(err, scones.ErrCancelled).
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Message == "" && t.cause == nil && t.Status == e.Status
}

// Sentinels for errors.Is.
var (
	ErrInvalidArgument   = &Error{Status: StatusInvalidArgument}
	ErrShapeMismatch     = &Error{Status: StatusShapeMismatch}
	ErrNonFinite         = &Error{Status: StatusNonFinite}
	ErrIO                = &Error{Status: StatusIO}
	ErrFormat            = &Error{Status: StatusFormat}
	ErrDeviceUnavailable = &Error{Status: StatusDeviceUnavailable}
	ErrCancelled         = &Error{Status: StatusCancelled}
	ErrDiverged          = &Error{Status: StatusDiverged}
	ErrCallback          = &Error{Status: StatusCallback}
	ErrInternal          = &Error{Status: StatusInternal}
)

// check turns a status and its error object into a Go error, freeing the object.
func check(st C.scones_status, cerr *C.scones_error) error {
	if st == C.SCONES_STATUS_OK {
		return nil
	}
	msg := C.GoString(C.scones_error_message(cerr))
	C.scones_error_free(cerr)
	return &Error{Status: Status(st), Message: msg}
}

func errorf(st Status, format string, args ...any) error {
	return &Error{Status: st, Message: fmt.Sprintf(format, args...)}
}

// cview is a Matrix ready for the shims: its data pointer and a pointer-free shape.
type cview struct {
	ptr   unsafe.Pointer
	shape C.go_shape
	keep  any // the slice, kept reachable until after the call
}

func toC(v View, what string) (cview, error) {
	if v == nil {
		return cview{}, errorf(StatusInvalidArgument, "%s: nil matrix", what)
	}
	l, err := v.layout()
	if err != nil {
		return cview{}, &Error{Status: StatusInvalidArgument, Message: what + ": " + err.Error()}
	}
	dtype := C.scones_dtype(C.SCONES_DTYPE_F64)
	if l.f32 {
		dtype = C.SCONES_DTYPE_F32
	}
	return cview{
		ptr: l.ptr,
		shape: C.go_shape{
			rows: C.size_t(l.rows), cols: C.size_t(l.cols),
			row_stride: C.ptrdiff_t(l.rowStride), col_stride: C.ptrdiff_t(l.colStride),
			dtype: dtype,
		},
		keep: l.keep,
	}, nil
}

// keepAlive keeps the slices behind views reachable until after a C call.
func (c *cview) keepAlive() { runtime.KeepAlive(c.keep) }
