package scones

/*
#include "shim.h"
*/
import "C"

import (
	"runtime/cgo"
	"unsafe"
)

// AllReduceFunc replaces buf, on every rank, by the element-wise sum of every rank's buf (the
// same length everywhere), as MPI_Allreduce(MPI_IN_PLACE, buf, len, MPI_FLOAT, MPI_SUM) does.
// An error or a panic ends the training call on this rank with StatusCallback (the panic is
// re-raised); the host's collective layer must then fail the other ranks.
type AllReduceFunc func(buf []float32) error

// collective is what TrainOptions.Collective and NetworkOptions.Collective set.
type collective struct {
	rank, size int
	fn         AllReduceFunc
}

// Collective trains data-parallel across `size` ranks (see scones_collective in scones.h):
// every rank calls Train (or TrainMeasures) with the same options on its own shard, the
// gradients are averaged with one fn call per iteration and every rank ends with the same
// dual. A cancel or a failure on one rank ends the call on every rank with a status.
// fn nil trains alone again.
func (o TrainOptions) Collective(rank, size int, fn AllReduceFunc) TrainOptions {
	o.collective = newCollective(rank, size, fn)
	return o
}

// Collective trains score networks and barycentric maps data-parallel across `size` ranks,
// as TrainOptions.Collective does for duals. fn nil trains alone again.
func (o NetworkOptions) Collective(rank, size int, fn AllReduceFunc) NetworkOptions {
	o.collective = newCollective(rank, size, fn)
	return o
}

func newCollective(rank, size int, fn AllReduceFunc) *collective {
	if fn == nil {
		return nil
	}
	return &collective{rank: rank, size: size, fn: fn}
}

//export goSconesAllReduce
func goSconesAllReduce(h C.uintptr_t, buffer *C.float, count C.size_t) (ret C.int32_t) {
	s := cgo.Handle(h).Value().(*progressState)
	defer func() {
		if r := recover(); r != nil {
			s.panicked, s.panicVal = true, r
			ret = 1
		}
	}()
	var buf []float32
	if count > 0 {
		buf = unsafe.Slice((*float32)(unsafe.Pointer(buffer)), int(count))
	}
	if err := s.collective.fn(buf); err != nil {
		s.hostErr = err
		return 1
	}
	return 0
}

// rankAndSize converts the rank and size for C; negative values become sizes the library
// refuses (it checks rank < size and size >= 1).
func (c *collective) rankAndSize() (C.size_t, C.size_t) {
	if c.rank < 0 || c.size < 0 {
		return 1, 0
	}
	return C.size_t(c.rank), C.size_t(c.size)
}
