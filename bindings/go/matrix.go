package scones

import (
	"errors"
	"fmt"
	"unsafe"
)

// Float is the element type of a Matrix: float32 or float64.
type Float interface{ ~float32 | ~float64 }

// Matrix is a strided view over a Go slice: rows are points, columns coordinates, and element
// (i, j) is Data[i*RowStride + j*ColStride]. Strides are in elements and must not be negative.
// It is passed to the library without copying; outputs are written into it.
type Matrix[T Float] struct {
	Data                 []T
	Rows, Cols           int
	RowStride, ColStride int
}

// NewMatrix views data as a row-major rows x cols matrix.
func NewMatrix[T Float](data []T, rows, cols int) Matrix[T] {
	return Matrix[T]{Data: data, Rows: rows, Cols: cols, RowStride: cols, ColStride: 1}
}

// ColMajor views data as a column-major rows x cols matrix (as Fortran, gonum's transposes or
// Julia store them).
func ColMajor[T Float](data []T, rows, cols int) Matrix[T] {
	return Matrix[T]{Data: data, Rows: rows, Cols: cols, RowStride: 1, ColStride: rows}
}

// Zeros allocates a row-major rows x cols matrix of float64.
func Zeros(rows, cols int) Matrix[float64] {
	return NewMatrix(make([]float64, rows*cols), rows, cols)
}

// At returns element (i, j).
func (m Matrix[T]) At(i, j int) T { return m.Data[i*m.RowStride+j*m.ColStride] }

// Set writes element (i, j).
func (m Matrix[T]) Set(i, j int, v T) { m.Data[i*m.RowStride+j*m.ColStride] = v }

// T is the transposed view of the same data.
func (m Matrix[T]) T() Matrix[T] {
	return Matrix[T]{Data: m.Data, Rows: m.Cols, Cols: m.Rows, RowStride: m.ColStride, ColStride: m.RowStride}
}

// Slice is the view of rows [from, to).
func (m Matrix[T]) Slice(from, to int) Matrix[T] {
	if from < 0 || to < from || to > m.Rows {
		panic(fmt.Sprintf("scones: rows [%d, %d) out of range [0, %d)", from, to, m.Rows))
	}
	s := m
	s.Rows = to - from
	if s.Rows > 0 {
		s.Data = m.Data[from*m.RowStride:]
	}
	return s
}

// View is what the library's functions accept: Matrix[float32] or Matrix[float64].
type View interface {
	layout() (layout, error)
}

type layout struct {
	ptr                  unsafe.Pointer
	rows, cols           int
	rowStride, colStride int
	f32                  bool
	keep                 any
}

func (m Matrix[T]) layout() (layout, error) {
	var zero T
	l := layout{rows: m.Rows, cols: m.Cols, rowStride: m.RowStride, colStride: m.ColStride,
		f32: unsafe.Sizeof(zero) == 4, keep: m.Data}
	if m.Rows < 0 || m.Cols < 0 || m.RowStride < 0 || m.ColStride < 0 {
		return l, errors.New("negative dimension or stride")
	}
	if m.Rows == 0 || m.Cols == 0 {
		return l, nil // the library reports empty matrices itself
	}
	last := (m.Rows-1)*m.RowStride + (m.Cols-1)*m.ColStride
	if last >= len(m.Data) {
		return l, fmt.Errorf("%d x %d view with strides (%d, %d) reaches element %d of a slice of %d",
			m.Rows, m.Cols, m.RowStride, m.ColStride, last, len(m.Data))
	}
	l.ptr = unsafe.Pointer(&m.Data[0])
	return l, nil
}
