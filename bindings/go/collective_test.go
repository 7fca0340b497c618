package scones_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"scones.dev/scones"
)

// goroutineGroup is a collective of goroutines in one process: each AllReduce call adds its
// buffer into a shared sum and waits until every member has, then copies the sum back. It
// stands where MPI_Allreduce would across processes.
type goroutineGroup struct {
	mu      sync.Mutex
	cond    *sync.Cond
	size    int
	arrived int
	gen     int
	sum     []float32
	result  []float32
}

func newGroup(size int) *goroutineGroup {
	g := &goroutineGroup{size: size}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *goroutineGroup) allReduce(buf []float32) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.arrived == 0 {
		g.sum = make([]float32, len(buf))
	}
	if len(buf) != len(g.sum) {
		return fmt.Errorf("mismatched all-reduce: %d vs %d floats", len(buf), len(g.sum))
	}
	for i, v := range buf {
		g.sum[i] += v
	}
	g.arrived++
	if g.arrived == g.size {
		g.result, g.arrived = g.sum, 0
		g.gen++
		g.cond.Broadcast()
	} else {
		for gen := g.gen; gen == g.gen; {
			g.cond.Wait()
		}
	}
	copy(buf, g.result)
	return nil
}

// Two ranks on their halves of the data end with the same dual; a cancel on one rank ends
// both with ErrCancelled; an AllReduceFunc error comes back wrapped in ErrCallback.
func TestCollective(t *testing.T) {
	ctx := context.Background()
	p := newProblem(t, 64, 8)
	half := func(m scones.Matrix[float64], r int) scones.Matrix[float64] { return m.Slice(32*r, 32*(r+1)) }
	base := scones.TrainOptions{}.Hidden(16).Batch(16, scones.BatchPaired).Iterations(20).Seed(3).Threads(1)
	run := func(opts func(rank int, o scones.TrainOptions) scones.TrainOptions) ([]*scones.Dual, []error) {
		g := newGroup(2)
		duals, errs := make([]*scones.Dual, 2), make([]error, 2)
		var wg sync.WaitGroup
		for r := 0; r < 2; r++ {
			wg.Add(1)
			go func(r int) {
				defer wg.Done()
				o := opts(r, base.Collective(r, 2, g.allReduce))
				duals[r], errs[r] = scones.Train(ctx, half(p.x, r), half(p.y, r), o)
			}(r)
		}
		wg.Wait()
		return duals, errs
	}
	duals, errs := run(func(_ int, o scones.TrainOptions) scones.TrainOptions { return o })
	for r, err := range errs {
		if err != nil {
			t.Fatalf("rank %d: %v", r, err)
		}
	}
	a, err := duals[0].Potential(scones.Phi, p.xEval)
	if err != nil {
		t.Fatal(err)
	}
	b, err := duals[1].Potential(scones.Phi, p.xEval)
	if err != nil {
		t.Fatal(err)
	}
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("ranks differ at %d: %v vs %v", i, a[i], b[i])
		}
	}
	duals[0].Close()
	duals[1].Close()

	_, errs = run(func(r int, o scones.TrainOptions) scones.TrainOptions {
		return o.Progress(func(q scones.Progress) bool { return r != 1 || q.Iteration < 10 }, 5)
	})
	for r, err := range errs {
		if !errors.Is(err, scones.ErrCancelled) {
			t.Fatalf("rank %d after a cancel on rank 1: %v, want ErrCancelled", r, err)
		}
	}

	broke := errors.New("network down")
	_, err = scones.Train(ctx, p.x, p.y, base.Collective(0, 1, func([]float32) error { return broke }))
	if !errors.Is(err, broke) || !errors.Is(err, scones.ErrCallback) {
		t.Fatalf("a failing AllReduceFunc gave %v, want ErrCallback wrapping its error", err)
	}
	if _, err := scones.Train(ctx, p.x, p.y, base.Collective(2, 2, func([]float32) error { return nil })); !errors.Is(err, scones.ErrInvalidArgument) {
		t.Fatalf("rank 2 of 2 gave %v, want ErrInvalidArgument", err)
	}
}
