package scones

/*
#include "shim.h"
*/
import "C"

import (
	"runtime"
	"unsafe"
)

// Regularizer is the f-divergence regularizing the transport problem.
type Regularizer int32

const (
	KL               Regularizer = C.SCONES_REGULARIZER_KL
	ChiSquare        Regularizer = C.SCONES_REGULARIZER_CHI_SQUARE
	KLCuturi         Regularizer = C.SCONES_REGULARIZER_KL_CUTURI
	ReverseKL        Regularizer = C.SCONES_REGULARIZER_REVERSE_KL
	SquaredHellinger Regularizer = C.SCONES_REGULARIZER_SQUARED_HELLINGER
	JensenShannon    Regularizer = C.SCONES_REGULARIZER_JENSEN_SHANNON
	GAN              Regularizer = C.SCONES_REGULARIZER_GAN
)

// Cost is the ground cost c(x, y).
type Cost int32

const (
	SqEuclidean     Cost = C.SCONES_COST_SQEUCLIDEAN
	MeanSqEuclidean Cost = C.SCONES_COST_MEAN_SQEUCLIDEAN
	// Euclidean is |x - y| (since 0.3): dual training, the discrete solvers and SPOT; the
	// Langevin sampler refuses it (it needs a cost with bounded curvature in y).
	Euclidean Cost = C.SCONES_COST_EUCLIDEAN
	// Linear is |A y - B x|^2 (since 0.3), reported by Dual.Problem for a dual trained with
	// TrainOptions.LinearCost; Cost(Linear) is refused (the cost needs its matrices).
	Linear Cost = C.SCONES_COST_LINEAR
	// TorchScript is a cost module (since 0.3), reported for TrainOptions.TorchScriptCost.
	TorchScript Cost = C.SCONES_COST_TORCHSCRIPT
	// Callback is a host cost function (since 0.3), reported for TrainOptions.CostFunc.
	Callback Cost = C.SCONES_COST_CALLBACK
)

// BatchMode pairs minibatch terms in dual training.
type BatchMode int32

const (
	BatchPaired   BatchMode = C.SCONES_BATCH_PAIRED
	BatchAllPairs BatchMode = C.SCONES_BATCH_ALL_PAIRS
)

// LRSchedule is the learning-rate schedule of dual training.
type LRSchedule int32

const (
	LRConstant LRSchedule = C.SCONES_LR_CONSTANT
	LRCosine   LRSchedule = C.SCONES_LR_COSINE
)

// ScoreParametrization is how a trained score network's output becomes a score.
type ScoreParametrization int32

const (
	// ScorePreconditioned (default): the EDM denoiser scalings from the data's mean and spread.
	ScorePreconditioned ScoreParametrization = C.SCONES_SCORE_PARAMETRIZATION_PRECONDITIONED
	// ScoreNCSN: net(y, log sigma) / sigma at geometric levels, as the reference code.
	ScoreNCSN ScoreParametrization = C.SCONES_SCORE_PARAMETRIZATION_NCSN
)

// ChainInit is where Langevin chains start.
type ChainInit int32

const (
	InitNoise  ChainInit = C.SCONES_INIT_NOISE
	InitSource ChainInit = C.SCONES_INIT_SOURCE
)

// Potential selects phi (on source points) or psi (on target points).
type Potential int32

const (
	Phi Potential = C.SCONES_POTENTIAL_PHI
	Psi Potential = C.SCONES_POTENTIAL_PSI
)

// Spectrum is the eigenvalue spectrum of RandomCovariance.
type Spectrum int32

const (
	SpectrumGeometric  Spectrum = C.SCONES_SPECTRUM_GEOMETRIC
	SpectrumUniform110 Spectrum = C.SCONES_SPECTRUM_UNIFORM_1_10
)

type dualSetter func(*C.scones_dual_options, **C.scones_error) C.scones_status
type samplerSetter func(*C.scones_sampler_options, **C.scones_error) C.scones_status

// TrainOptions configures Train. The zero value is the library's defaults (the paper's
// settings); each method returns a copy with one more setting, applied in order by Train,
// which reports any invalid value as an error:
//
//	opts := scones.TrainOptions{}.Regularizer(scones.KL, 4).Hidden(64, 64).Iterations(500)
type TrainOptions struct {
	setters  []dualSetter
	progress ProgressFunc
	every    int
	err      error       // a setting refused before it reached the library (reported by Train)
	cost     *costHolder // the last host cost function set, if any
	// collective trains data-parallel (Collective), nil alone
	collective *collective
}

func (o TrainOptions) with(f dualSetter) TrainOptions {
	o.setters = append(append([]dualSetter(nil), o.setters...), f)
	return o
}

// Regularizer and its strength lambda > 0.
func (o TrainOptions) Regularizer(r Regularizer, lambda float64) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		return C.scones_dual_options_set_regularizer(p, C.scones_regularizer(r), C.double(lambda), e)
	})
}

// Cost is the ground cost.
func (o TrainOptions) Cost(c Cost) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		return C.scones_dual_options_set_cost(p, C.scones_cost(c), e)
	})
}

// LinearCost sets c(x, y) = |A y - B x|^2 with A (k x dy) and B (k x dx): sources and targets of
// different dimensions compared in a shared k-dimensional view. A and B are read when Train
// runs (finite; A not zero).
func (o TrainOptions) LinearCost(a, b View) TrainOptions {
	if _, _, err := linearViews(a, b); err != nil {
		o.err = err
		return o
	}
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		ca, cb, _ := linearViews(a, b)
		defer ca.keepAlive()
		defer cb.keepAlive()
		return C.go_dual_options_set_linear_cost(p, ca.ptr, &ca.shape, cb.ptr, &cb.shape, e)
	})
}

// TorchScriptCost sets c(x, y) = forward(x, y) of a TorchScript module saved with
// torch.jit.save: forward(x [m, dx] float32, y [m, dy] float32) -> [m], differentiable in y.
// curvature (> 0) bounds the norm of its y-Hessian (2 for |x - y|^2), which the sampler's
// step-size schedule assumes. Saved duals embed the module.
func (o TrainOptions) TorchScriptCost(path string, dx, dy int, curvature float64) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		cp := C.CString(path)
		defer C.free(unsafe.Pointer(cp))
		return C.scones_dual_options_set_torchscript_cost(p, cp, C.size_t(dx), C.size_t(dy), C.double(curvature), e)
	})
}

// CostFunc sets a cost evaluated by the host (see CostFunc); sources of dimension dx, targets
// of dimension dy, curvature (> 0) a bound on the norm of its y-Hessian. The trained Dual and
// its samplers keep the function; such a dual cannot be saved.
func (o TrainOptions) CostFunc(f CostFunc, dx, dy int, curvature float64) TrainOptions {
	if f == nil {
		o.err = errorf(StatusInvalidArgument, "CostFunc: nil function")
		return o
	}
	holder := newCostHolder(f)
	o = o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		st := C.go_dual_options_set_callback_cost(p, C.uintptr_t(holder.host.handle), C.size_t(dx), C.size_t(dy),
			C.double(curvature), e)
		runtime.KeepAlive(holder)
		return st
	})
	o.cost = holder
	return o
}

// linearViews checks the operators of a linear cost on the Go side (nil, strides).
func linearViews(a, b View) (cview, cview, error) {
	ca, err := toC(a, "A")
	if err != nil {
		return cview{}, cview{}, err
	}
	cb, err := toC(b, "B")
	return ca, cb, err
}

// Hidden sets the hidden layer widths of both potentials.
func (o TrainOptions) Hidden(widths ...int) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		w := sizes(widths)
		return C.scones_dual_options_set_hidden(p, ptrOrNil(w), C.size_t(len(w)), e)
	})
}

// HiddenEach sets the hidden layer widths of phi and psi separately.
func (o TrainOptions) HiddenEach(phi, psi []int) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		a, b := sizes(phi), sizes(psi)
		return C.scones_dual_options_set_hidden_each(p, ptrOrNil(a), C.size_t(len(a)), ptrOrNil(b), C.size_t(len(b)), e)
	})
}

// Adam sets the learning rate and moment decays.
func (o TrainOptions) Adam(learningRate, beta1, beta2 float64) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		return C.scones_dual_options_set_adam(p, C.double(learningRate), C.double(beta1), C.double(beta2), e)
	})
}

// Schedule sets the learning-rate schedule (finalFraction is used by LRCosine).
func (o TrainOptions) Schedule(s LRSchedule, finalFraction float64) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		return C.scones_dual_options_set_schedule(p, C.scones_lr_schedule(s), C.double(finalFraction), e)
	})
}

// Batch sets the minibatch size and pairing.
func (o TrainOptions) Batch(size int, mode BatchMode) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		return C.scones_dual_options_set_batch(p, C.size_t(size), C.scones_batch_mode(mode), e)
	})
}

// Iterations sets the number of training iterations.
func (o TrainOptions) Iterations(n int) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		return C.scones_dual_options_set_iterations(p, C.size_t(n), e)
	})
}

// Seed of initialization and minibatch draws.
func (o TrainOptions) Seed(seed uint64) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		return C.scones_dual_options_set_seed(p, C.uint64_t(seed), e)
	})
}

// Device: "cpu", "cuda", "cuda:N" or "auto"; an absent device is an error.
func (o TrainOptions) Device(device string) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		cs := C.CString(device)
		defer C.free(unsafe.Pointer(cs))
		return C.scones_dual_options_set_device(p, cs, e)
	})
}

// Threads sets libtorch's intra-op threads during the call (process-wide; 0 leaves it).
func (o TrainOptions) Threads(n int) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		return C.scones_dual_options_set_threads(p, C.size_t(n), e)
	})
}

// SoftplusBeta sets the chi-square softplus smoothing of log M used when sampling.
func (o TrainOptions) SoftplusBeta(beta float64) TrainOptions {
	return o.with(func(p *C.scones_dual_options, e **C.scones_error) C.scones_status {
		return C.scones_dual_options_set_softplus_beta(p, C.double(beta), e)
	})
}

// Progress calls fn every `every` iterations; fn returning false cancels training.
func (o TrainOptions) Progress(fn ProgressFunc, every int) TrainOptions {
	o.progress, o.every = fn, every
	return o
}

// SamplerOptions configures NewSampler, like TrainOptions (zero value: the library's defaults,
// the paper's Gaussian setting).
type SamplerOptions struct {
	setters  []samplerSetter
	progress ProgressFunc
	every    int
	k        int
	initMap  *Barycentric // kept reachable until the options are applied
}

func (o SamplerOptions) with(f samplerSetter) SamplerOptions {
	o.setters = append(append([]samplerSetter(nil), o.setters...), f)
	return o
}

// Annealing over `levels` geometric noise levels (0 switches annealing off), with a final
// denoising step when denoise is true.
func (o SamplerOptions) Annealing(sigmaFirst, sigmaLast float64, levels int, denoise bool) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_annealing(p, C.double(sigmaFirst), C.double(sigmaLast), C.size_t(levels), cbool(denoise), e)
	})
}

// Steps sets Langevin steps per noise level and the step size eps.
func (o SamplerOptions) Steps(stepsPerLevel int, stepSize float64) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_steps(p, C.size_t(stepsPerLevel), C.double(stepSize), e)
	})
}

// SamplesPerSource sets K: output rows i*K .. i*K+K-1 belong to source i.
func (o SamplerOptions) SamplesPerSource(k int) SamplerOptions {
	o = o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_samples_per_source(p, C.size_t(k), e)
	})
	o.k = k
	return o
}

// Init sets where chains start.
func (o SamplerOptions) Init(i ChainInit) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_init(p, C.scones_chain_init(i), e)
	})
}

// Metropolis switches the Metropolis-adjusted Langevin step on or off.
func (o SamplerOptions) Metropolis(on bool) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_metropolis(p, cbool(on), e)
	})
}

// ChainBatch bounds the chains advanced together.
func (o SamplerOptions) ChainBatch(chains int) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_chain_batch(p, C.size_t(chains), e)
	})
}

// Seed of chain initialization and Langevin noise.
func (o SamplerOptions) Seed(seed uint64) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_seed(p, C.uint64_t(seed), e)
	})
}

// Device, as for TrainOptions.
func (o SamplerOptions) Device(device string) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		cs := C.CString(device)
		defer C.free(unsafe.Pointer(cs))
		return C.scones_sampler_options_set_device(p, cs, e)
	})
}

// Threads sets libtorch's intra-op threads during sampling (process-wide; 0 leaves it).
func (o SamplerOptions) Threads(n int) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_threads(p, C.size_t(n), e)
	})
}

// SoftplusBeta overrides the chi-square softplus beta stored in the dual.
func (o SamplerOptions) SoftplusBeta(beta float64) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_softplus_beta(p, C.double(beta), e)
	})
}

// InitMap starts chains at T(x) for a barycentric map (the options copy the map when the
// sampler is made, so the map may be closed after NewSampler).
func (o SamplerOptions) InitMap(m *Barycentric) SamplerOptions {
	o = o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		var mp *C.scones_barycentric
		if m != nil {
			m.mu.RLock()
			defer m.mu.RUnlock()
			mp = m.ptr
		}
		return C.scones_sampler_options_set_init_map(p, mp, e)
	})
	o.initMap = m
	return o
}

// InitResample starts chains at rows of targets drawn, for each source x, with probability
// proportional to M(V(x, y_j)) (the duals' own discrete conditional); they move only at noise
// levels at or below sigmaStart (0: three times the last). Sources whose weights have an
// effective sample size below K start from noise. The options copy the targets when the
// sampler is made.
func (o SamplerOptions) InitResample(targets View, sigmaStart float64) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		// A nil or malformed view reaches the library as an empty one, which it refuses.
		t, _ := toC(targets, "targets")
		defer t.keepAlive()
		return C.go_sampler_options_set_init_resample(p, t.ptr, &t.shape, C.double(sigmaStart), e)
	})
}

// Compatibility true (default) samples pi(y | x); false samples the target score alone,
// ignoring the sources (a check of a score source).
func (o SamplerOptions) Compatibility(on bool) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_compatibility(p, cbool(on), e)
	})
}

// CompatibilityTempering true (default) tempers the compatibility term at the noise levels of
// annealed sampling whose step would be unstable against it (M^w, w = min(1, 1 / (a p))), which
// keeps small lambda stable; false reproduces the reference code's schedule.
func (o SamplerOptions) CompatibilityTempering(on bool) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_compatibility_tempering(p, cbool(on), e)
	})
}

// CompatibilityAtDenoised true (default) evaluates grad log M at the denoised point
// y + sigma^2 s(y, sigma) during annealed unadjusted sampling (exact as sigma -> 0; keeps psi
// inside the target's support at large sigma); false evaluates it at y (the reference code).
func (o SamplerOptions) CompatibilityAtDenoised(on bool) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_compatibility_at_denoised(p, cbool(on), e)
	})
}

// AdaptStep, with Metropolis adjustment, tunes the step size towards 57% acceptance during the
// first half of each noise level's steps.
func (o SamplerOptions) AdaptStep(on bool) SamplerOptions {
	return o.with(func(p *C.scones_sampler_options, e **C.scones_error) C.scones_status {
		return C.scones_sampler_options_set_adapt_step(p, cbool(on), e)
	})
}

// Progress calls fn every `every` Langevin steps; fn returning false cancels sampling.
func (o SamplerOptions) Progress(fn ProgressFunc, every int) SamplerOptions {
	o.progress, o.every = fn, every
	return o
}

func cbool(b bool) C.int32_t {
	if b {
		return 1
	}
	return 0
}

// sizes converts widths to size_t (Go memory without pointers, which cgo may pass to C).
func sizes(v []int) []C.size_t {
	out := make([]C.size_t, len(v))
	for i, x := range v {
		if x < 0 {
			x = 0 // the library rejects zero widths with InvalidArgument
		}
		out[i] = C.size_t(x)
	}
	return out
}

func ptrOrNil(v []C.size_t) *C.size_t {
	if len(v) == 0 {
		return nil
	}
	return &v[0]
}
