package scones

/*
#include "shim.h"
*/
import "C"

// AssignmentResult is an optimal assignment: Cols[i] is the column matched to row i,
// TotalCost = sum_i C[i, Cols[i]] (between uniform measures the transport cost is
// TotalCost / n), and dual potentials U, V with U_i + V_j <= C_ij, tight on the assignment.
type AssignmentResult struct {
	Cols      []int
	TotalCost float64
	U, V      []float64
}

// Assignment solves the exact optimal assignment of an n x n cost matrix (shortest augmenting
// paths, O(n^3)).
func Assignment(cost View) (AssignmentResult, error) {
	cm, err := toC(cost, "cost")
	if err != nil {
		return AssignmentResult{}, err
	}
	n := int(cm.shape.rows)
	r := AssignmentResult{U: make([]float64, n), V: make([]float64, n)}
	u, err := toC(NewMatrix(r.U, n, 1), "u")
	if err != nil {
		return AssignmentResult{}, err
	}
	v, err := toC(NewMatrix(r.V, n, 1), "v")
	if err != nil {
		return AssignmentResult{}, err
	}
	cols := make([]C.size_t, n)
	var total C.double
	var cerr *C.scones_error
	st := C.go_assignment(cm.ptr, &cm.shape, ptrOrNil(cols), &total, u.ptr, &u.shape, v.ptr, &v.shape, &cerr)
	cm.keepAlive()
	u.keepAlive()
	v.keepAlive()
	if err := check(st, cerr); err != nil {
		return AssignmentResult{}, err
	}
	r.Cols = make([]int, n)
	for i, c := range cols {
		r.Cols[i] = int(c)
	}
	r.TotalCost = float64(total)
	return r, nil
}
