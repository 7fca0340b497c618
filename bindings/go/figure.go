package scones

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"sync"
	"unsafe"
)

// Figure is a grid of scatter-plot panels (numbered row by row from 0) drawn into a PNG.
type Figure struct {
	mu  sync.Mutex
	ptr *C.scones_figure
}

// NewFigure makes a width x height pixel figure with rows x cols panels.
func NewFigure(width, height, rows, cols int) (*Figure, error) {
	var out *C.scones_figure
	var cerr *C.scones_error
	if err := check(C.scones_figure_new(C.uint32_t(width), C.uint32_t(height), C.uint32_t(rows), C.uint32_t(cols), &out, &cerr), cerr); err != nil {
		return nil, err
	}
	f := &Figure{ptr: out}
	runtime.SetFinalizer(f, (*Figure).Close)
	return f, nil
}

// Close releases the figure; safe to call more than once.
func (f *Figure) Close() {
	if f == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.ptr != nil {
		C.scones_figure_free(f.ptr)
		f.ptr = nil
		runtime.SetFinalizer(f, nil)
	}
}

// Scatter draws the first two columns of points in color 0xRRGGBBAA, disks of radius pixels.
func (f *Figure) Scatter(panel int, points View, rgba uint32, radius float64) error {
	p, err := toC(points, "points")
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var cerr *C.scones_error
	st := C.go_figure_scatter(f.ptr, C.size_t(panel), p.ptr, &p.shape, C.uint32_t(rgba), C.double(radius), &cerr)
	runtime.KeepAlive(f)
	p.keepAlive()
	return check(st, cerr)
}

// Segments draws lines from row i of from to row i of to.
func (f *Figure) Segments(panel int, from, to View, rgba uint32) error {
	a, err := toC(from, "from")
	if err != nil {
		return err
	}
	b, err := toC(to, "to")
	if err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var cerr *C.scones_error
	st := C.go_figure_segments(f.ptr, C.size_t(panel), a.ptr, &a.shape, b.ptr, &b.shape, C.uint32_t(rgba), &cerr)
	runtime.KeepAlive(f)
	a.keepAlive()
	b.keepAlive()
	return check(st, cerr)
}

// Title sets a panel's title (printable ASCII).
func (f *Figure) Title(panel int, text string) error {
	ct := C.CString(text)
	defer C.free(unsafe.Pointer(ct))
	f.mu.Lock()
	defer f.mu.Unlock()
	var cerr *C.scones_error
	st := C.scones_figure_title(f.ptr, C.size_t(panel), ct, &cerr)
	runtime.KeepAlive(f)
	return check(st, cerr)
}

// Legend adds a legend: labels[i] in colors[i] (0xRRGGBBAA).
func (f *Figure) Legend(panel int, labels []string, colors []uint32) error {
	if len(labels) != len(colors) {
		return errorf(StatusShapeMismatch, "legend: %d labels, %d colors", len(labels), len(colors))
	}
	n := len(labels)
	// The label array holds pointers, so it lives in C memory, as do the strings.
	arr := (**C.char)(C.calloc(C.size_t(n+1), C.size_t(unsafe.Sizeof((*C.char)(nil)))))
	defer C.free(unsafe.Pointer(arr))
	cl := unsafe.Slice(arr, n+1)
	cc := make([]C.uint32_t, n+1)
	for i := range labels {
		cl[i] = C.CString(labels[i])
		defer C.free(unsafe.Pointer(cl[i]))
		cc[i] = C.uint32_t(colors[i])
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	var cerr *C.scones_error
	st := C.scones_figure_legend(f.ptr, C.size_t(panel), arr, &cc[0], C.size_t(n), &cerr)
	runtime.KeepAlive(f)
	return check(st, cerr)
}

// SetBounds fixes a panel's data bounds (otherwise fitted to its data).
func (f *Figure) SetBounds(panel int, xmin, xmax, ymin, ymax float64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	var cerr *C.scones_error
	st := C.scones_figure_set_bounds(f.ptr, C.size_t(panel), C.double(xmin), C.double(xmax), C.double(ymin), C.double(ymax), &cerr)
	runtime.KeepAlive(f)
	return check(st, cerr)
}

// SavePNG writes the figure as a PNG file (atomically).
func (f *Figure) SavePNG(path string) error {
	cp := C.CString(path)
	defer C.free(unsafe.Pointer(cp))
	f.mu.Lock()
	defer f.mu.Unlock()
	var cerr *C.scones_error
	st := C.scones_figure_save_png(f.ptr, cp, &cerr)
	runtime.KeepAlive(f)
	return check(st, cerr)
}
