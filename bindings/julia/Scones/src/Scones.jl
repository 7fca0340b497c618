"""
    Scones

Julia binding of the scones C library: score-based neural optimal transport (SCONES). Learns the
regularized optimal-transport coupling between two point clouds with neural dual potentials
([`train_dual`](@ref), Algorithm 1) and samples y ~ π(y | x) with Langevin dynamics
([`Sampler`](@ref), [`sample`](@ref), Algorithm 2). All the math runs in the library; this
package only converts arguments.

Conventions:
- Points are the **columns** of a matrix (a `d × n` matrix holds `n` points), as in Julia's
  statistics packages. Any strided `Float64` or `Float32` matrix (views included) is passed to
  the library without copying; a `transpose`/`adjoint` of one holds points as rows.
- Handles ([`Dual`](@ref), [`Score`](@ref), [`Sampler`](@ref), [`Measure`](@ref),
  [`Barycentric`](@ref), [`Figure`](@ref)) are freed by finalizers, or at once with `close`
  (closing twice is a no-op).
- Failures throw [`SconesError`](@ref) (a status symbol, its code and the library's message).
- Long calls take `progress = p -> ...`: a function of a [`Progress`](@ref) that returns `false`
  to cancel (the call then throws `SconesError` with status `:cancelled`).
- SPOT (since 0.3): [`train_spot`](@ref) learns a generator of paired samples of the plan
  ([`Spot`](@ref), [`SpotOptions`](@ref)); [`sample`](@ref)`(spot, n)` returns one `d_k × n`
  matrix per marginal, column i of each from the same latent draw, and
  [`cost_estimate`](@ref) the plan's transport cost with its standard error.
- Discrete OT between point clouds: [`sinkhorn`](@ref), [`ipot`](@ref),
  [`discrete_fdual`](@ref) return named tuples with a [`DiscreteReport`](@ref);
  [`assignment`](@ref) solves the exact assignment of a cost matrix (1-based columns).
- Host callbacks ([`Measure`](@ref)`(f!, d)`, [`Score`](@ref)`(f!, d)`) receive column-major
  `d × n` matrices that alias the library's row-major buffers (no copies). An exception thrown by
  a callback (or by a progress function) stops the call and is rethrown as itself.

The library is found by its soname `libscones.so.0` (installed with `make install`), or from the
file or build folder named by the environment variable `SCONES_LIBRARY`, e.g.
`SCONES_LIBRARY=/path/to/scones/target/release julia`.
"""
module Scones

using Libdl
using LinearAlgebra: Adjoint, Transpose

include("capi.jl")
using .LibScones
const C = LibScones

export Dual, Score, Sampler, Figure, SconesError, Progress, Measure, Barycentric, DiscreteReport, Spot, SpotOptions
export train_dual, load_dual, save, dims, problem, train_report, potential, potential!,
       compatibility, compatibility!, gaussian_score, score, score!, sample, sample!, report,
       empirical_score, torchscript_score, train_score, load_score, train_barycentric,
       load_barycentric, barycentric, barycentric!, toy_sample, shape, set_progress!,
       scatter!, segments!, title!, legend!, bounds!, savepng, random_covariance, gaussian_sample,
       gaussian_entropic_coupling, bw_uvp, joint_covariance, sliced_w2, sinkhorn, ipot, discrete_fdual,
       sinkhorn_cost, ipot_cost, discrete_fdual_cost,
       assignment, train_spot, load_spot, cost_estimate

# ------------------------------------------------------------------------------ library

const _handle = Ref{Ptr{Cvoid}}(C_NULL)

function __init__()
    path = get(ENV, "SCONES_LIBRARY", "")
    if !isempty(path)
        isdir(path) && (path = joinpath(path, "libscones.so.0"))
        # Loaded globally under its soname: ccall((:f, "libscones.so.0")) then resolves to it.
        _handle[] = Libdl.dlopen(path, Libdl.RTLD_NOW | Libdl.RTLD_GLOBAL)
    end
    # The header's rule (scones_version): the same major and a minor at least the one this
    # package mirrors; a newer minor only appends.
    v = version()
    parts = tryparse.(Int, split(v, '.'))
    if length(parts) < 2 || parts[1] != C.SCONES_VERSION_MAJOR || something(parts[2], -1) < C.SCONES_VERSION_MINOR
        @warn "Scones.jl needs libscones $(C.SCONES_VERSION_MAJOR).x with x >= $(C.SCONES_VERSION_MINOR) but loaded $v"
    end
    return nothing
end

"""    version() -> String

Version of the loaded library ("MAJOR.MINOR.PATCH")."""
version() = unsafe_string(C.scones_version())

"""    cuda_available() -> Bool"""
cuda_available() = C.scones_cuda_available() != 0

# ------------------------------------------------------------------------------ errors

"""
    SconesError(code, status, message)

A failed library call: `status` is the library's name of the code (`:invalid_argument`,
`:shape_mismatch`, `:non_finite`, `:io`, `:format`, `:device_unavailable`, `:cancelled`,
`:diverged`, `:callback`, `:internal`), `code` its number, `message` the library's message.
"""
struct SconesError <: Exception
    code::Int32
    status::Symbol
    message::String
end

SconesError(code::Integer, message::AbstractString) =
    SconesError(Int32(code), Symbol(unsafe_string(C.scones_status_name(Int32(code)))), String(message))

Base.showerror(io::IO, e::SconesError) = print(io, "SconesError(", e.status, "): ", e.message)

# Calls a C function whose last argument is `scones_error **err`, throwing on failure.
function _check(f, args...)
    err = Ref{Ptr{C.scones_error}}(C_NULL)
    st = f(args..., err)
    st == C.SCONES_STATUS_OK && return nothing
    msg = err[] == C_NULL ? "" : unsafe_string(C.scones_error_message(err[]))
    C.scones_error_free(err[])
    throw(SconesError(st, msg))
end

# ------------------------------------------------------------------------------ views

const Real32or64 = Union{Float32,Float64}
_dtype(::Type{Float64}) = C.SCONES_DTYPE_F64
_dtype(::Type{Float32}) = C.SCONES_DTYPE_F32

# Inputs that are not strided Float32/Float64 arrays are converted (copied) once.
const PointsT{T} = Union{Transpose{T,<:StridedMatrix{T}},Adjoint{T,<:StridedMatrix{T}}}
_input(A::StridedMatrix{<:Real32or64}) = A
_input(A::PointsT{<:Real32or64}) = A
_input(A::AbstractMatrix) = Matrix{Float64}(A)
_input(v::StridedVector{<:Real32or64}) = v
_input(v::AbstractVector) = Vector{Float64}(v)

# The C view of points stored as the columns of A (d × n): n rows of d coordinates.
_points(A::StridedMatrix{T}) where {T<:Real32or64} =
    C.scones_matrix(Ptr{Cvoid}(pointer(A)), size(A, 2), size(A, 1), stride(A, 2), stride(A, 1), _dtype(T))
# transpose(P) / P' with P an n × d strided matrix: points are the rows of P.
function _points(A::PointsT{T}) where {T<:Real32or64}
    P = parent(A)
    C.scones_matrix(Ptr{Cvoid}(pointer(P)), size(P, 1), size(P, 2), stride(P, 1), stride(P, 2), _dtype(T))
end
_points_out(A::StridedMatrix{T}) where {T<:Real32or64} =
    C.scones_matrix_mut(Ptr{Cvoid}(pointer(A)), size(A, 2), size(A, 1), stride(A, 2), stride(A, 1), _dtype(T))
# A matrix as a matrix (covariances, pairwise tables): rows are rows.
_mat(A::StridedMatrix{T}) where {T<:Real32or64} =
    C.scones_matrix(Ptr{Cvoid}(pointer(A)), size(A, 1), size(A, 2), stride(A, 1), stride(A, 2), _dtype(T))
_mat_out(A::StridedMatrix{T}) where {T<:Real32or64} =
    C.scones_matrix_mut(Ptr{Cvoid}(pointer(A)), size(A, 1), size(A, 2), stride(A, 1), stride(A, 2), _dtype(T))
# A vector as a 1 × d row.
_row(v::StridedVector{T}) where {T<:Real32or64} =
    C.scones_matrix(Ptr{Cvoid}(pointer(v)), 1, length(v), length(v), stride(v, 1), _dtype(T))
_col_out(v::StridedVector{T}) where {T<:Real32or64} =
    C.scones_matrix_mut(Ptr{Cvoid}(pointer(v)), length(v), 1, stride(v, 1), 1, _dtype(T))

_npoints(A::AbstractMatrix) = A isa PointsT ? size(parent(A), 1) : size(A, 2)
_ndims(A::AbstractMatrix) = A isa PointsT ? size(parent(A), 2) : size(A, 1)

# ------------------------------------------------------------------------------ progress

"""
    Progress

A progress report: `phase` (`:dual_training`, `:sampling`, `:score_training`,
`:barycentric_training`, `:discrete`, `:spot_training`), `iteration`, `total`, `objective` (SPOT:
the batch plan cost), `mean_compatibility` (E[M(V)], tends to 1), `extension_fraction`,
`acceptance`, `marginal_error` (discrete solvers: the current l1 marginal violation; SPOT: the
critics' summed gap); `NaN` where a field does not apply.
"""
struct Progress
    phase::Symbol
    iteration::Int
    total::Int
    objective::Float64
    mean_compatibility::Float64
    extension_fraction::Float64
    acceptance::Float64
    marginal_error::Float64
end

const _PHASES = Dict(C.SCONES_PHASE_DUAL_TRAINING => :dual_training, C.SCONES_PHASE_SAMPLING => :sampling,
                     C.SCONES_PHASE_SCORE_TRAINING => :score_training,
                     C.SCONES_PHASE_BARYCENTRIC_TRAINING => :barycentric_training,
                     C.SCONES_PHASE_DISCRETE => :discrete, C.SCONES_PHASE_SPOT_TRAINING => :spot_training)

# What the C library's user_data points at (kept rooted by the call or the sampler).
mutable struct ProgressState
    fn::Any
    error::Any
end

function _progress_trampoline(user::Ptr{Cvoid}, p::Ptr{C.scones_progress})::Int32
    state = unsafe_pointer_to_objref(user)::ProgressState
    try
        r = unsafe_load(p)
        q = Progress(get(_PHASES, r.phase, :unknown), Int(r.iteration), Int(r.total), r.objective,
                     r.mean_compatibility, r.extension_fraction, r.acceptance,
                     r.struct_size >= sizeof(C.scones_progress) ? r.marginal_error : NaN)
        return state.fn(q) === false ? Int32(1) : Int32(0)
    catch e
        # No Julia exception may unwind through the library: keep it, cancel, rethrow after.
        state.error = e
        return Int32(1)
    end
end

_trampoline() = @cfunction(_progress_trampoline, Int32, (Ptr{Cvoid}, Ptr{C.scones_progress}))

# The exception a progress function threw during the last call (cleared), or nothing.
function _take_error!(state)
    state === nothing && return nothing
    err = state.error
    state.error = nothing
    return err
end

# Takes the first exception any of the host functions in `states` threw (or nothing).
function _take_errors!(states)
    found = nothing
    for st in states
        e = _take_error!(st)
        found === nothing && (found = e)
    end
    return found
end

# _check, but a failure caused by a host function (progress, measure or score callback) throws
# that function's own exception instead of the library's :cancelled / :callback error.
function _check_host(states::Tuple, f, args...)
    try
        _check(f, args...)
    catch
        e = _take_errors!(states)
        e === nothing ? rethrow() : throw(e)
    end
    _take_errors!(states)   # nothing stale for the next call
    return nothing
end

# Host sampler of a callback measure: fills `out` (d × m, points as columns, aliasing the
# library's row-major m × d buffer) with m points; `seed` comes from the training run's stream.
function _measure_trampoline(user::Ptr{Cvoid}, m::Csize_t, d::Csize_t, seed::UInt64, out::Ptr{Cdouble})::Int32
    state = unsafe_pointer_to_objref(user)::ProgressState
    try
        state.fn(unsafe_wrap(Array, out, (Int(d), Int(m))), seed)
        return Int32(0)
    catch e
        state.error === nothing && (state.error = e)
        return Int32(1)
    end
end

# Host score: fills `out` (d × n) with s(y, σ) at the columns of `y` (d × n); both alias the
# library's buffers for the duration of the call only.
function _score_trampoline(user::Ptr{Cvoid}, y::Ptr{Cdouble}, n::Csize_t, d::Csize_t, sigma::Cdouble,
                           out::Ptr{Cdouble})::Int32
    state = unsafe_pointer_to_objref(user)::ProgressState
    try
        state.fn(unsafe_wrap(Array, out, (Int(d), Int(n))), unsafe_wrap(Array, y, (Int(d), Int(n))), sigma)
        return Int32(0)
    catch e
        state.error === nothing && (state.error = e)
        return Int32(1)
    end
end

# Host cost: fills `values` (m) with c(x_i, y_i) at the columns of `x` (dx × m) and `y` (dy × m)
# and, unless `grad_y` is `nothing`, `grad_y` (dy × m) with the y-gradients; all alias the
# library's buffers for the duration of the call only.
function _cost_trampoline(user::Ptr{Cvoid}, m::Csize_t, dx::Csize_t, dy::Csize_t, x::Ptr{Cdouble}, y::Ptr{Cdouble},
                          values::Ptr{Cdouble}, grad_y::Ptr{Cdouble})::Int32
    state = unsafe_pointer_to_objref(user)::ProgressState
    try
        g = grad_y == C_NULL ? nothing : unsafe_wrap(Array, grad_y, (Int(dy), Int(m)))
        state.fn(unsafe_wrap(Array, values, Int(m)), g, unsafe_wrap(Array, x, (Int(dx), Int(m))),
                 unsafe_wrap(Array, y, (Int(dy), Int(m))))
        return Int32(0)
    catch e
        state.error === nothing && (state.error = e)
        return Int32(1)
    end
end

# The collective's all-reduce: `f(buf)` replaces `buf` (a Vector{Float32} aliasing the library's
# buffer for the call only) by its sum over the ranks, e.g. MPI.Allreduce!(buf, +, comm). An
# exception ends the training call on this rank (rethrown as itself after it).
function _allreduce_trampoline(user::Ptr{Cvoid}, buffer::Ptr{Cfloat}, count::Csize_t)::Int32
    state = unsafe_pointer_to_objref(user)::ProgressState
    try
        state.fn(unsafe_wrap(Array, buffer, Int(count)))
        return Int32(0)
    catch e
        state.error === nothing && (state.error = e)
        return Int32(1)
    end
end

_allreduce_cfun() = @cfunction(_allreduce_trampoline, Int32, (Ptr{Cvoid}, Ptr{Cfloat}, Csize_t))

# Installs `collective = (rank, size, f)` through `setter`; the returned state must stay
# referenced (GC.@preserve) through every training call with these options.
function _set_collective(setter, o, collective)
    collective === nothing && return nothing
    rank, size, f = collective
    state = ProgressState(f, nothing)
    c = C.scones_collective(sizeof(C.scones_collective), rank, size, _allreduce_cfun(), pointer_from_objref(state))
    _check(setter, o, Ref(c))
    return state
end

_cost_cfun() = @cfunction(_cost_trampoline, Int32,
                          (Ptr{Cvoid}, Csize_t, Csize_t, Csize_t, Ptr{Cdouble}, Ptr{Cdouble}, Ptr{Cdouble}, Ptr{Cdouble}))
_measure_cfun() = @cfunction(_measure_trampoline, Int32, (Ptr{Cvoid}, Csize_t, Csize_t, UInt64, Ptr{Cdouble}))
_score_cfun() = @cfunction(_score_trampoline, Int32, (Ptr{Cvoid}, Ptr{Cdouble}, Csize_t, Csize_t, Cdouble, Ptr{Cdouble}))

# ------------------------------------------------------------------------------ handles

for (T, CT, free) in ((:Figure, :scones_figure, :scones_figure_free),
                      (:Spot, :scones_spot, :scones_spot_free),
                      (:Barycentric, :scones_barycentric, :scones_barycentric_free),
                      (:TrainOptions, :scones_train_options, :scones_train_options_free),
                      (:DualOptions, :scones_dual_options, :scones_dual_options_free),
                      (:SamplerOptions, :scones_sampler_options, :scones_sampler_options_free),
                      (:DiscreteOptions, :scones_discrete_options, :scones_discrete_options_free))
    @eval begin
        mutable struct $T
            ptr::Ptr{C.$CT}
            function $T(ptr::Ptr{C.$CT})
                x = new(ptr)
                finalizer(Base.close, x)
                return x
            end
        end
        Base.unsafe_convert(::Type{Ptr{C.$CT}}, x::$T) = x.ptr
        function Base.close(x::$T)
            if x.ptr != C_NULL
                C.$free(x.ptr)
                x.ptr = C_NULL
            end
            return nothing
        end
        Base.isopen(x::$T) = x.ptr != C_NULL
    end
end

@doc "Trained dual potentials (φ, ψ): see [`train_dual`](@ref), [`load_dual`](@ref)." Dual
@doc """
A barycentric map T(x) = E_π[y | x]: see [`train_barycentric`](@ref), [`load_barycentric`](@ref).
Callable: `T(x)` maps the columns of `x`.""" Barycentric

# Handles that may carry a host function the C object calls (user_data points at `state`,
# which the handle keeps rooted for as long as the C object lives).
for (T, CT, free) in ((:Dual, :scones_dual, :scones_dual_free),  # state: a host cost function
                      (:Score, :scones_score, :scones_score_free), (:Measure, :scones_measure, :scones_measure_free),
                      (:SpotOptions, :scones_spot_options, :scones_spot_options_free))
    @eval begin
        mutable struct $T
            ptr::Ptr{C.$CT}
            state::Union{ProgressState,Nothing}
            function $T(ptr::Ptr{C.$CT}, state::Union{ProgressState,Nothing}=nothing)
                x = new(ptr, state)
                finalizer(Base.close, x)
                return x
            end
        end
        Base.unsafe_convert(::Type{Ptr{C.$CT}}, x::$T) = x.ptr
        function Base.close(x::$T)
            if x.ptr != C_NULL
                C.$free(x.ptr)
                x.ptr = C_NULL
            end
            return nothing
        end
        Base.isopen(x::$T) = x.ptr != C_NULL
    end
end

@doc """
A target score source s(y, σ): [`gaussian_score`](@ref), [`empirical_score`](@ref),
[`torchscript_score`](@ref), [`train_score`](@ref), [`load_score`](@ref), or a host function
`Score(f!, d)`.""" Score
@doc "A PNG figure of scatter panels: `Figure(width, height; rows=1, cols=1)`." Figure

# ------------------------------------------------------------------------------ options

const _REGULARIZERS = Dict(:kl => C.SCONES_REGULARIZER_KL, :chi_square => C.SCONES_REGULARIZER_CHI_SQUARE,
                           :kl_cuturi => C.SCONES_REGULARIZER_KL_CUTURI,
                           :reverse_kl => C.SCONES_REGULARIZER_REVERSE_KL,
                           :squared_hellinger => C.SCONES_REGULARIZER_SQUARED_HELLINGER,
                           :jensen_shannon => C.SCONES_REGULARIZER_JENSEN_SHANNON, :gan => C.SCONES_REGULARIZER_GAN)
const _COSTS = Dict(:sqeuclidean => C.SCONES_COST_SQEUCLIDEAN, :mean_sqeuclidean => C.SCONES_COST_MEAN_SQEUCLIDEAN,
                    :euclidean => C.SCONES_COST_EUCLIDEAN, :linear => C.SCONES_COST_LINEAR,
                    :torchscript => C.SCONES_COST_TORCHSCRIPT, :callback => C.SCONES_COST_CALLBACK)
const _BATCH = Dict(:paired => C.SCONES_BATCH_PAIRED, :all_pairs => C.SCONES_BATCH_ALL_PAIRS)
const _SCHEDULES = Dict(:constant => C.SCONES_LR_CONSTANT, :cosine => C.SCONES_LR_COSINE)
const _SCORE_PARAMETRIZATIONS = Dict(:preconditioned => C.SCONES_SCORE_PARAMETRIZATION_PRECONDITIONED,
                                     :ncsn => C.SCONES_SCORE_PARAMETRIZATION_NCSN)
const _INITS = Dict(:noise => C.SCONES_INIT_NOISE, :source => C.SCONES_INIT_SOURCE)
const _POTENTIALS = Dict(:phi => C.SCONES_POTENTIAL_PHI, :psi => C.SCONES_POTENTIAL_PSI)
const _SPECTRA = Dict(:geometric => C.SCONES_SPECTRUM_GEOMETRIC, :uniform_1_10 => C.SCONES_SPECTRUM_UNIFORM_1_10)
const _TOYS = Dict(:gaussian => C.SCONES_TOY_GAUSSIAN, :swiss_roll => C.SCONES_TOY_SWISS_ROLL,
                   :moons => C.SCONES_TOY_MOONS, :circle => C.SCONES_TOY_CIRCLE,
                   :eight_gaussians => C.SCONES_TOY_8GAUSSIANS)

# An unknown symbol goes to the library as -1, which rejects it with :invalid_argument.
_enum(table, s::Symbol) = get(table, s, Int32(-1))
_enum(table, s::Integer) = Int32(s)
_sym(table, v) = something(findfirst(==(v), table), :unknown)

# (what, dx, dy) or (what, dx, dy, curvature): the curvature bound defaults to 2 (|x - y|²'s).
_cost_spec(t) = length(t) == 3 ? (t[1], t[2], t[3], 2.0) : (t[1], t[2], t[3], Float64(t[4]))

# c(x, y) = |A y - B x|^2 from `linear_cost = (A, B)`, A k × dy and B k × dx (rows are rows).
function _set_linear_cost(setter, o, linear_cost)
    A, B = linear_cost
    a, b = _input(Matrix(A)), _input(Matrix(B))
    GC.@preserve a b begin
        _check(setter, o, _mat(a), _mat(b))
    end
end

function _dual_options(; regularizer=nothing, lambda=nothing, cost=nothing, linear_cost=nothing,
                       torchscript_cost=nothing, cost_callback=nothing, hidden=nothing, hidden_phi=nothing,
                       hidden_psi=nothing, learning_rate=nothing, betas=nothing, schedule=nothing,
                       final_fraction=0.01, batch_size=nothing, batch_mode=:all_pairs, iterations=nothing,
                       seed=nothing, device=nothing, threads=nothing, softplus_beta=nothing, progress=nothing,
                       progress_every=100, collective=nothing)
    out = Ref{Ptr{C.scones_dual_options}}(C_NULL)
    _check(C.scones_dual_options_new, out)
    o = DualOptions(out[])
    (regularizer !== nothing || lambda !== nothing) &&
        _check(C.scones_dual_options_set_regularizer, o, _enum(_REGULARIZERS, something(regularizer, :kl)),
               Float64(something(lambda, 1.0)))
    cost === nothing || _check(C.scones_dual_options_set_cost, o, _enum(_COSTS, cost))
    linear_cost === nothing || _set_linear_cost(C.scones_dual_options_set_linear_cost, o, linear_cost)
    if torchscript_cost !== nothing
        path, dx, dy, curvature = _cost_spec(torchscript_cost)
        _check(C.scones_dual_options_set_torchscript_cost, o, String(path), dx, dy, curvature)
    end
    cost_state = nothing
    if cost_callback !== nothing
        f, dx, dy, curvature = _cost_spec(cost_callback)
        cost_state = ProgressState(f, nothing)
        _check(C.scones_dual_options_set_callback_cost, o, _cost_cfun(), pointer_from_objref(cost_state), dx, dy,
               curvature)
    end
    if hidden !== nothing
        w = Csize_t[hidden...]
        _check(C.scones_dual_options_set_hidden, o, w, length(w))
    end
    if hidden_phi !== nothing || hidden_psi !== nothing
        a, b = Csize_t[something(hidden_phi, [256, 256])...], Csize_t[something(hidden_psi, [256, 256])...]
        _check(C.scones_dual_options_set_hidden_each, o, a, length(a), b, length(b))
    end
    if learning_rate !== nothing || betas !== nothing
        b1, b2 = something(betas, (0.9, 0.999))
        _check(C.scones_dual_options_set_adam, o, Float64(something(learning_rate, 1e-3)), Float64(b1), Float64(b2))
    end
    schedule === nothing || _check(C.scones_dual_options_set_schedule, o, _enum(_SCHEDULES, schedule), Float64(final_fraction))
    batch_size === nothing || _check(C.scones_dual_options_set_batch, o, batch_size, _enum(_BATCH, batch_mode))
    iterations === nothing || _check(C.scones_dual_options_set_iterations, o, iterations)
    seed === nothing || _check(C.scones_dual_options_set_seed, o, UInt64(seed))
    device === nothing || _check(C.scones_dual_options_set_device, o, String(device))
    threads === nothing || _check(C.scones_dual_options_set_threads, o, threads)
    softplus_beta === nothing || _check(C.scones_dual_options_set_softplus_beta, o, Float64(softplus_beta))
    state = nothing
    if progress !== nothing
        state = ProgressState(progress, nothing)
        _check(C.scones_dual_options_set_progress, o, _trampoline(), pointer_from_objref(state), progress_every)
    end
    collective_state = _set_collective(C.scones_dual_options_set_collective, o, collective)
    return o, state, cost_state, collective_state
end

function _sampler_options(; steps=nothing, step_size=nothing, annealing=nothing, samples_per_source=nothing,
                          init=nothing, metropolis=nothing, chain_batch=nothing, seed=nothing, device=nothing,
                          threads=nothing, softplus_beta=nothing, init_map=nothing, compatibility=nothing,
                          compatibility_tempering=nothing, compatibility_at_denoised=nothing, adapt_step=nothing,
                          init_resample=nothing, progress=nothing, progress_every=100)
    out = Ref{Ptr{C.scones_sampler_options}}(C_NULL)
    _check(C.scones_sampler_options_new, out)
    o = SamplerOptions(out[])
    if annealing !== nothing
        σ1, σN, levels, denoise = annealing
        _check(C.scones_sampler_options_set_annealing, o, Float64(σ1), Float64(σN), levels, Int32(denoise))
    end
    (steps !== nothing || step_size !== nothing) &&
        _check(C.scones_sampler_options_set_steps, o, something(steps, 1000), Float64(something(step_size, 0.01)))
    samples_per_source === nothing || _check(C.scones_sampler_options_set_samples_per_source, o, samples_per_source)
    init === nothing || _check(C.scones_sampler_options_set_init, o, _enum(_INITS, init))
    metropolis === nothing || _check(C.scones_sampler_options_set_metropolis, o, Int32(metropolis))
    chain_batch === nothing || _check(C.scones_sampler_options_set_chain_batch, o, chain_batch)
    seed === nothing || _check(C.scones_sampler_options_set_seed, o, UInt64(seed))
    device === nothing || _check(C.scones_sampler_options_set_device, o, String(device))
    threads === nothing || _check(C.scones_sampler_options_set_threads, o, threads)
    softplus_beta === nothing || _check(C.scones_sampler_options_set_softplus_beta, o, Float64(softplus_beta))
    # The options keep their own copy of the map.
    init_map === nothing || _check(C.scones_sampler_options_set_init_map, o, init_map::Barycentric)
    if init_resample !== nothing
        # (targets, σ_start) or targets alone (σ_start = 0: three times the last noise level);
        # the options copy the targets.
        targets, σ0 = init_resample isa Tuple ? init_resample : (init_resample, 0.0)
        t = _input(targets)
        GC.@preserve t begin
            _check(C.scones_sampler_options_set_init_resample, o, _points(t), Float64(σ0))
        end
    end
    compatibility === nothing || _check(C.scones_sampler_options_set_compatibility, o, Int32(Bool(compatibility)))
    compatibility_tempering === nothing ||
        _check(C.scones_sampler_options_set_compatibility_tempering, o, Int32(Bool(compatibility_tempering)))
    compatibility_at_denoised === nothing ||
        _check(C.scones_sampler_options_set_compatibility_at_denoised, o, Int32(Bool(compatibility_at_denoised)))
    adapt_step === nothing || _check(C.scones_sampler_options_set_adapt_step, o, Int32(Bool(adapt_step)))
    state = nothing
    if progress !== nothing
        state = ProgressState(progress, nothing)
        _check(C.scones_sampler_options_set_progress, o, _trampoline(), pointer_from_objref(state), progress_every)
    end
    return o, state
end

function _train_options(; hidden=nothing, learning_rate=nothing, betas=nothing, schedule=nothing,
                        final_fraction=0.01, batch_size=nothing, iterations=nothing, seed=nothing, device=nothing,
                        threads=nothing, noise_levels=nothing, score_parametrization=nothing, progress=nothing,
                        progress_every=100, collective=nothing)
    out = Ref{Ptr{C.scones_train_options}}(C_NULL)
    _check(C.scones_train_options_new, out)
    o = TrainOptions(out[])
    if hidden !== nothing
        w = Csize_t[hidden...]
        _check(C.scones_train_options_set_hidden, o, w, length(w))
    end
    if learning_rate !== nothing || betas !== nothing
        b1, b2 = something(betas, (0.9, 0.999))
        _check(C.scones_train_options_set_adam, o, Float64(something(learning_rate, 1e-3)), Float64(b1), Float64(b2))
    end
    schedule === nothing || _check(C.scones_train_options_set_schedule, o, _enum(_SCHEDULES, schedule), Float64(final_fraction))
    batch_size === nothing || _check(C.scones_train_options_set_batch_size, o, batch_size)
    iterations === nothing || _check(C.scones_train_options_set_iterations, o, iterations)
    seed === nothing || _check(C.scones_train_options_set_seed, o, UInt64(seed))
    device === nothing || _check(C.scones_train_options_set_device, o, String(device))
    threads === nothing || _check(C.scones_train_options_set_threads, o, threads)
    if noise_levels !== nothing
        σmax, σmin, levels = noise_levels
        _check(C.scones_train_options_set_noise_levels, o, Float64(σmax), Float64(σmin), levels)
    end
    score_parametrization === nothing ||
        _check(C.scones_train_options_set_score_parametrization, o, _enum(_SCORE_PARAMETRIZATIONS, score_parametrization))
    state = nothing
    if progress !== nothing
        state = ProgressState(progress, nothing)
        _check(C.scones_train_options_set_progress, o, _trampoline(), pointer_from_objref(state), progress_every)
    end
    collective_state = _set_collective(C.scones_train_options_set_collective, o, collective)
    return o, state, collective_state
end

function _discrete_options(; tolerance=nothing, max_iterations=nothing, beta=nothing, inner_iterations=nothing,
                           progress=nothing, progress_every=100)
    out = Ref{Ptr{C.scones_discrete_options}}(C_NULL)
    _check(C.scones_discrete_options_new, out)
    o = DiscreteOptions(out[])
    tolerance === nothing || _check(C.scones_discrete_options_set_tolerance, o, Float64(tolerance))
    max_iterations === nothing || _check(C.scones_discrete_options_set_max_iterations, o, UInt64(max_iterations))
    (beta !== nothing || inner_iterations !== nothing) &&
        _check(C.scones_discrete_options_set_ipot, o, Float64(something(beta, 0.05)), something(inner_iterations, 1))
    state = nothing
    if progress !== nothing
        state = ProgressState(progress, nothing)
        _check(C.scones_discrete_options_set_progress, o, _trampoline(), pointer_from_objref(state), progress_every)
    end
    return o, state
end

# ------------------------------------------------------------------------------ measures

"""
    Measure(points)
    Measure(f!, d)

A measure to train from. `Measure(points)`: the columns of `points` (d × n; the library keeps a
Float32 copy). `Measure(f!, d)`: a host sampler in dimension d; `f!(out, seed)` fills `out`
(a `d × m` `Matrix{Float64}`, points as columns, valid during the call only) with m fresh
points, and may draw them from `seed` (the training run's seeded stream) for reproducibility.
An exception thrown by `f!` stops training and is rethrown by the training call.
"""
function Measure(points::AbstractMatrix)
    p = _input(points)
    out = Ref{Ptr{C.scones_measure}}(C_NULL)
    GC.@preserve p begin
        _check(C.scones_measure_new_points, _points(p), out)
    end
    return Measure(out[])
end

function Measure(f!::Function, d::Integer)
    state = ProgressState(f!, nothing)
    out = Ref{Ptr{C.scones_measure}}(C_NULL)
    _check(C.scones_measure_new_callback, d, _measure_cfun(), pointer_from_objref(state), out)
    return Measure(out[], state)
end

_measure(m::Measure) = m
_measure(A::AbstractMatrix) = Measure(A)

# ------------------------------------------------------------------------------ dual

"""
    train_dual(source, target; kwargs...) -> Dual

Algorithm 1: trains the dual potentials φ, ψ between the points (columns) of `source` (dx × n)
and `target` (dy × m). Keywords (library defaults when omitted, the paper's settings):
`regularizer` (`:kl`, `:chi_square`, `:kl_cuturi`, `:reverse_kl`, `:squared_hellinger`,
`:jensen_shannon`, `:gan`), `lambda`, `cost` (`:sqeuclidean`, `:mean_sqeuclidean`, `:euclidean`),
`linear_cost = (A, B)` (|A y - B x|², A k × dy, B k × dx: source and target dimensions may differ),
`torchscript_cost = (path, dx, dy[, curvature])` (a module forward(x [m, dx], y [m, dy]) -> [m]; `curvature`
bounds its y-Hessian's norm, default 2; saved duals embed it), `cost_callback = (f, dx, dy[, curvature])`
(`f(values, grad_y, x, y)` fills `values[i]` = c(x_i, y_i) for the columns of `x` (dx × m) and `y` (dy × m)
and, unless `grad_y === nothing`, `grad_y` (dy × m); the dual and its samplers keep `f`; such a dual
cannot be saved), `hidden`
(widths of both networks) or `hidden_phi`/`hidden_psi`, `learning_rate`, `betas`, `schedule`
(`:constant`, `:cosine`) with `final_fraction`, `batch_size` with `batch_mode` (`:all_pairs`,
`:paired`), `iterations`, `seed`, `device` (`"cpu"`, `"cuda"`, `"cuda:N"`, `"auto"`), `threads`,
`softplus_beta`, `progress` (a function of a [`Progress`](@ref); `false` cancels) with
`progress_every`, `collective = (rank, size, f)`: data-parallel training across `size` ranks (see
`scones_collective` in scones.h), each rank calling `train_dual` with the same keywords on its own
shard, where `f(buf)` sums the `Vector{Float32}` `buf` in place over the ranks, e.g.
`buf -> MPI.Allreduce!(buf, +, comm)` with MPI.jl; every rank ends with the same dual, and a cancel
or failure on one rank ends the call on all of them.
"""
function train_dual(source::AbstractMatrix, target::AbstractMatrix; kwargs...)
    x, y = _input(source), _input(target)
    opts, state, cost_state, coll = _dual_options(; kwargs...)
    out = Ref{Ptr{C.scones_dual}}(C_NULL)
    try
        GC.@preserve x y opts state cost_state coll begin
            _check_host((state, cost_state, coll), C.scones_dual_train, _points(x), _points(y), opts, out)
        end
    finally
        close(opts)
    end
    return Dual(out[], cost_state)
end

"""
    train_dual(source::Measure, target::Measure; kwargs...) -> Dual

Algorithm 1 from measures (point sets or host samplers that fill each minibatch on request);
keywords as for matrices.
"""
function train_dual(source::Measure, target::Measure; kwargs...)
    opts, state, cost_state, coll = _dual_options(; kwargs...)
    out = Ref{Ptr{C.scones_dual}}(C_NULL)
    try
        GC.@preserve source target opts state cost_state coll begin
            _check_host((state, cost_state, coll, source.state, target.state), C.scones_dual_train_measures, source,
                        target, opts, out)
        end
    finally
        close(opts)
    end
    return Dual(out[], cost_state)
end

"""    load_dual(path; device="cpu") -> Dual"""
function load_dual(path::AbstractString; device::AbstractString="cpu")
    out = Ref{Ptr{C.scones_dual}}(C_NULL)
    _check(C.scones_dual_load, String(path), String(device), out)
    return Dual(out[])
end

"""    save(dual, path)

Writes the model to one self-describing file (atomically)."""
save(d::Dual, path::AbstractString) = _check(C.scones_dual_save, d, String(path))

"""    dims(dual) -> (dx, dy)"""
function dims(d::Dual)
    dx, dy = Ref{Csize_t}(0), Ref{Csize_t}(0)
    _check(C.scones_dual_dims, d, dx, dy)
    return (Int(dx[]), Int(dy[]))
end

"""    problem(dual) -> (regularizer = :kl, lambda = ..., cost = :sqeuclidean)"""
function problem(d::Dual)
    r, l, c = Ref{C.scones_regularizer}(0), Ref{Cdouble}(0), Ref{C.scones_cost}(0)
    _check(C.scones_dual_problem, d, r, l, c)
    return (regularizer=_sym(_REGULARIZERS, r[]), lambda=l[], cost=_sym(_COSTS, c[]))
end

"""    train_report(dual) -> NamedTuple

Summary of the training run (`:invalid_argument` for a loaded model)."""
function train_report(d::Dual)
    r = Ref(C.scones_train_report(sizeof(C.scones_train_report), 0, 0, 0, 0, 0, 0))
    _check(C.scones_dual_train_report, d, r)
    x = r[]
    return (iterations=Int(x.iterations), objective=x.objective, mean_compatibility=x.mean_compatibility,
            extension_fraction=x.extension_fraction, seconds=x.seconds, iterations_per_second=x.iterations_per_second)
end

"""    potential!(out, dual, which, points)

φ (`which = :phi`, on source points) or ψ (`:psi`, on target points) at each column of `points`
into the vector `out`."""
function potential!(out::StridedVector{<:Real32or64}, d::Dual, which::Symbol, points::AbstractMatrix)
    p = _input(points)
    GC.@preserve p out begin
        _check(C.scones_dual_potential, d, _enum(_POTENTIALS, which), _points(p), _col_out(out))
    end
    return out
end

"""    potential(dual, which, points) -> Vector{Float64}"""
potential(d::Dual, which::Symbol, points::AbstractMatrix) =
    potential!(Vector{Float64}(undef, _npoints(points)), d, which, points)

"""    compatibility!(out, dual, x, y)

`out[i, j] = M(V(x_i, y_j))` for the columns x_i of `x` and y_j of `y` (an n × m matrix)."""
function compatibility!(out::StridedMatrix{<:Real32or64}, d::Dual, x::AbstractMatrix, y::AbstractMatrix)
    a, b = _input(x), _input(y)
    GC.@preserve a b out begin
        _check(C.scones_dual_compatibility, d, _points(a), _points(b), _mat_out(out))
    end
    return out
end

"""    compatibility(dual, x, y) -> Matrix{Float64}

The learned coupling's density with respect to the product of the marginals, for all pairs."""
compatibility(d::Dual, x::AbstractMatrix, y::AbstractMatrix) =
    compatibility!(Matrix{Float64}(undef, _npoints(x), _npoints(y)), d, x, y)

# ------------------------------------------------------------------------------ score

"""    gaussian_score(mean, cov) -> Score

The exact score of N(mean, cov)."""
function gaussian_score(mean::AbstractVector, cov::AbstractMatrix)
    m, c = _input(mean), _input(cov)
    out = Ref{Ptr{C.scones_score}}(C_NULL)
    GC.@preserve m c begin
        _check(C.scones_score_new_gaussian, _row(m), _mat(c), out)
    end
    return Score(out[])
end

"""    empirical_score(points; bandwidth=0.05) -> Score

The exact score of the target points (columns of `points`) smoothed by a Gaussian kernel of
bandwidth h > 0 (annealing adds its noise level on top: s² = σ² + h²). No training."""
function empirical_score(points::AbstractMatrix; bandwidth::Real=0.05)
    p = _input(points)
    out = Ref{Ptr{C.scones_score}}(C_NULL)
    GC.@preserve p begin
        _check(C.scones_score_new_empirical, _points(p), Float64(bandwidth), out)
    end
    return Score(out[])
end

"""
    Score(f!, d) -> Score

A score computed by a host function in dimension d: `f!(out, y, σ)` writes s(y, σ) at the
columns of `y` into `out` (both `d × n` matrices that alias the library's buffers during the
call only). Samplers made from this score keep `f!` alive. An exception thrown by `f!` stops the
calling function and is rethrown by it.
"""
function Score(f!::Function, d::Integer)
    state = ProgressState(f!, nothing)
    out = Ref{Ptr{C.scones_score}}(C_NULL)
    _check(C.scones_score_new_callback, d, _score_cfun(), pointer_from_objref(state), out)
    return Score(out[], state)
end

"""    torchscript_score(path, d) -> Score

A TorchScript module (torch.jit.save) with forward(y::[n, d] float32, σ::[n] float32) -> [n, d]."""
function torchscript_score(path::AbstractString, d::Integer)
    out = Ref{Ptr{C.scones_score}}(C_NULL)
    _check(C.scones_score_new_torchscript, String(path), d, out)
    return Score(out[])
end

"""
    train_score(target; kwargs...) -> Score

Trains a score network by denoising score matching (NCSN) on `target` (a [`Measure`](@ref) or a
matrix of points as columns). Keywords: `hidden`, `learning_rate`, `betas`, `schedule` with
`final_fraction`, `batch_size`, `iterations`, `seed`, `device`, `threads`,
`noise_levels = (σ_max, σ_min, levels)` (σ_max = 0: the data's largest pairwise distance),
`progress` with `progress_every`, `collective = (rank, size, f)` as for [`train_dual`](@ref).
"""
function train_score(target; kwargs...)
    m = _measure(target)
    opts, state, coll = _train_options(; kwargs...)
    out = Ref{Ptr{C.scones_score}}(C_NULL)
    try
        GC.@preserve m opts state coll begin
            _check_host((state, coll, m.state), C.scones_score_train, m, opts, out)
        end
    finally
        close(opts)
    end
    return Score(out[])
end

"""    save(score, path)

Saves a trained score network (`:invalid_argument` for other kinds of score)."""
save(s::Score, path::AbstractString) = _check(C.scones_score_save, s, String(path))

"""    load_score(path) -> Score"""
function load_score(path::AbstractString)
    out = Ref{Ptr{C.scones_score}}(C_NULL)
    _check(C.scones_score_load, String(path), out)
    return Score(out[])
end

"""    dims(score) -> d"""
function dims(s::Score)
    d = Ref{Csize_t}(0)
    _check(C.scones_score_dim, s, d)
    return Int(d[])
end

"""    score!(out, s, y, σ)

s(y, σ) at the columns of `y` into `out` (same size)."""
function score!(out::StridedMatrix{<:Real32or64}, s::Score, y::AbstractMatrix, σ::Real)
    a = _input(y)
    GC.@preserve s a out begin
        _check_host((s.state,), C.scones_score_eval, s, _points(a), Float64(σ), _points_out(out))
    end
    return out
end

"""    score(s, y, σ=0) -> Matrix{Float64}"""
score(s::Score, y::AbstractMatrix, σ::Real=0.0) = score!(Matrix{Float64}(undef, _ndims(y), _npoints(y)), s, y, σ)

# ------------------------------------------------------------------------------ barycentric

"""
    train_barycentric(dual, source, target; kwargs...) -> Barycentric

Trains T(x) = E_π[y | x] for the coupling of `dual` from the source and target measures
([`Measure`](@ref)s or matrices of points as columns). Keywords as for [`train_score`](@ref)
(without `noise_levels`); hidden layers default to [256, 256].
"""
function train_barycentric(dual::Dual, source, target; kwargs...)
    a, b = _measure(source), _measure(target)
    opts, state, coll = _train_options(; kwargs...)
    out = Ref{Ptr{C.scones_barycentric}}(C_NULL)
    try
        GC.@preserve dual a b opts state coll begin
            _check_host((state, coll, a.state, b.state), C.scones_barycentric_train, dual, a, b, opts, out)
        end
    finally
        close(opts)
    end
    return Barycentric(out[])
end

"""    dims(map::Barycentric) -> (dx, dy)"""
function dims(T::Barycentric)
    dx, dy = Ref{Csize_t}(0), Ref{Csize_t}(0)
    _check(C.scones_barycentric_dims, T, dx, dy)
    return (Int(dx[]), Int(dy[]))
end

"""    barycentric!(out, map, x)

T(x) at the columns of `x` (dx × n) into `out` (dy × n)."""
function barycentric!(out::StridedMatrix{<:Real32or64}, T::Barycentric, x::AbstractMatrix)
    a = _input(x)
    GC.@preserve a out begin
        _check(C.scones_barycentric_map, T, _points(a), _points_out(out))
    end
    return out
end

"""    barycentric(map, x) -> Matrix{Float64} (dy × n); also `map(x)`"""
barycentric(T::Barycentric, x::AbstractMatrix) = barycentric!(Matrix{Float64}(undef, dims(T)[2], _npoints(x)), T, x)
(T::Barycentric)(x::AbstractMatrix) = barycentric(T, x)

"""    save(map::Barycentric, path)"""
save(T::Barycentric, path::AbstractString) = _check(C.scones_barycentric_save, T, String(path))

"""    load_barycentric(path) -> Barycentric"""
function load_barycentric(path::AbstractString)
    out = Ref{Ptr{C.scones_barycentric}}(C_NULL)
    _check(C.scones_barycentric_load, String(path), out)
    return Barycentric(out[])
end

# ------------------------------------------------------------------------------ SPOT

const _SPOT_PRESETS = Dict(:tuned => C.SCONES_SPOT_PRESET_TUNED, :thesis => C.SCONES_SPOT_PRESET_THESIS)
# Each preset's values of the settings that C sets in pairs, for a keyword given without its
# partner (scones.h: scones_spot_options_new and SCONES_SPOT_PRESET_THESIS).
const _SPOT_PAIRS = Dict(:tuned => (generator=[64, 64], critic=[64, 64], eta=0.0, batch_size=256),
                         :thesis => (generator=[8, 8], critic=[8], eta=1e4, batch_size=100))

"""
    SpotOptions(; kwargs...)

Options of [`train_spot`](@ref) (library defaults when omitted: the tuned setting, squared
Euclidean cost). Keywords: `preset` (`:tuned`, `:thesis`: the thesis' section 3.6.1; applied
first), `cost` (`:sqeuclidean`, `:mean_sqeuclidean`, `:euclidean`), `linear_cost = (A, B)`
(|A y - B x|², A k × dy, B k × dx), `torchscript_cost = (path, dx, dy[, curvature])`, `hidden_generator`,
`hidden_critic` (layer widths), `latent_dim` (0: the largest marginal dimension),
`shared_generator`, `eta` (0: from the data) with `n_critic`, `entropy = (λ, steps)` (the
thesis' section 3.4: λ E log p(G(Z)) added to the objective, the generator a neural ODE of
`steps` Euler steps; λ = 0 turns it off), `learning_rate`, `betas`, `schedule`
(`:constant`, `:cosine`) with `final_fraction`, `generator_ema`, `batch_size`, `iterations`,
`seed`, `device`, `threads`, `progress` (a function of a [`Progress`](@ref) with phase
`:spot_training`; `false` cancels) with `progress_every`.
"""
function SpotOptions(; preset=nothing, cost=nothing, linear_cost=nothing, torchscript_cost=nothing,
                     hidden_generator=nothing, hidden_critic=nothing,
                     latent_dim=nothing, shared_generator=nothing, eta=nothing, n_critic=nothing,
                     entropy=nothing, learning_rate=nothing, betas=nothing, schedule=nothing, final_fraction=0.1,
                     generator_ema=nothing, batch_size=nothing, iterations=nothing, seed=nothing, device=nothing,
                     threads=nothing, progress=nothing, progress_every=100)
    out = Ref{Ptr{C.scones_spot_options}}(C_NULL)
    _check(C.scones_spot_options_new, out)
    state = progress === nothing ? nothing : ProgressState(progress, nothing)
    o = SpotOptions(out[], state)
    pairs = get(_SPOT_PAIRS, preset === nothing ? :tuned : preset, _SPOT_PAIRS[:tuned])
    preset === nothing || _check(C.scones_spot_options_set_preset, o, _enum(_SPOT_PRESETS, preset))
    cost === nothing || _check(C.scones_spot_options_set_cost, o, _enum(_COSTS, cost))
    linear_cost === nothing || _set_linear_cost(C.scones_spot_options_set_linear_cost, o, linear_cost)
    if torchscript_cost !== nothing
        path, dx, dy, curvature = _cost_spec(torchscript_cost)
        _check(C.scones_spot_options_set_torchscript_cost, o, String(path), dx, dy, curvature)
    end
    if hidden_generator !== nothing || hidden_critic !== nothing
        g, c = Csize_t[something(hidden_generator, pairs.generator)...], Csize_t[something(hidden_critic, pairs.critic)...]
        _check(C.scones_spot_options_set_hidden, o, g, length(g), c, length(c))
    end
    latent_dim === nothing || _check(C.scones_spot_options_set_latent_dim, o, latent_dim)
    shared_generator === nothing || _check(C.scones_spot_options_set_shared_generator, o, Int32(Bool(shared_generator)))
    (eta !== nothing || n_critic !== nothing) &&
        _check(C.scones_spot_options_set_penalty, o, Float64(something(eta, pairs.eta)), something(n_critic, 5))
    if entropy !== nothing
        λ, steps = entropy
        _check(C.scones_spot_options_set_entropy, o, Float64(λ), steps)
    end
    if learning_rate !== nothing || betas !== nothing
        b1, b2 = something(betas, (0.5, 0.999))
        _check(C.scones_spot_options_set_adam, o, Float64(something(learning_rate, 1e-3)), Float64(b1), Float64(b2))
    end
    schedule === nothing || _check(C.scones_spot_options_set_schedule, o, _enum(_SCHEDULES, schedule), Float64(final_fraction))
    generator_ema === nothing || _check(C.scones_spot_options_set_generator_ema, o, Float64(generator_ema))
    (batch_size !== nothing || iterations !== nothing) &&
        _check(C.scones_spot_options_set_batch, o, something(batch_size, pairs.batch_size), something(iterations, 5000))
    seed === nothing || _check(C.scones_spot_options_set_seed, o, UInt64(seed))
    device === nothing || _check(C.scones_spot_options_set_device, o, String(device))
    threads === nothing || _check(C.scones_spot_options_set_threads, o, threads)
    state === nothing ||
        _check(C.scones_spot_options_set_progress, o, _trampoline(), pointer_from_objref(state), progress_every)
    return o
end

@doc """
A SPOT plan (Algorithm 3 of the thesis): a generator of paired samples of the coupling of its
marginals. See [`train_spot`](@ref), [`load_spot`](@ref), [`sample`](@ref),
[`cost_estimate`](@ref).""" Spot

"""
    train_spot(source, target; options=SpotOptions(), kwargs...) -> Spot
    train_spot(marginals::AbstractVector; options=SpotOptions(), kwargs...) -> Spot

Trains a SPOT plan between the points (columns) of `source` (dx × n) and `target` (dy × m), or
between 2 to 64 marginals (matrices or [`Measure`](@ref)s, host samplers included; more than two
give the multi-marginal plan of the cost summed over pairs). Keywords other than `options` build
a [`SpotOptions`](@ref) for this call.
"""
function train_spot(source::AbstractMatrix, target::AbstractMatrix; options=nothing, kwargs...)
    x, y = _input(source), _input(target)
    opts = options === nothing ? SpotOptions(; kwargs...) : options::SpotOptions
    out = Ref{Ptr{C.scones_spot}}(C_NULL)
    try
        GC.@preserve x y opts begin
            _check_host((opts.state,), C.scones_spot_train, _points(x), _points(y), opts, out)
        end
    finally
        options === nothing && close(opts)
    end
    return Spot(out[])
end

function train_spot(marginals::AbstractVector; options=nothing, kwargs...)
    ms = Measure[_measure(m) for m in marginals]
    opts = options === nothing ? SpotOptions(; kwargs...) : options::SpotOptions
    ptrs = Ptr{C.scones_measure}[m.ptr for m in ms]
    out = Ref{Ptr{C.scones_spot}}(C_NULL)
    try
        GC.@preserve ms ptrs opts begin
            _check_host((opts.state, (m.state for m in ms)...), C.scones_spot_train_measures, ptrs, length(ptrs), opts, out)
        end
    finally
        options === nothing && close(opts)
    end
    return Spot(out[])
end

"""    load_spot(path; device="cpu") -> Spot"""
function load_spot(path::AbstractString; device::AbstractString="cpu")
    out = Ref{Ptr{C.scones_spot}}(C_NULL)
    _check(C.scones_spot_load, String(path), String(device), out)
    return Spot(out[])
end

"""    save(spot, path)

Writes the plan to one self-describing file (atomically)."""
save(s::Spot, path::AbstractString) = _check(C.scones_spot_save, s, String(path))

"""    dims(spot) -> Vector{Int}

The marginals' dimensions, in training order."""
function dims(s::Spot)
    count = Ref{Csize_t}(0)
    _check(C.scones_spot_dims, s, C_NULL, 0, count)
    d = zeros(Csize_t, count[])
    _check(C.scones_spot_dims, s, d, length(d), count)
    return Int.(d)
end

"""    sample!(outs, spot; seed=0)

Paired samples into `outs`, one strided `Float64` or `Float32` matrix per marginal (`d_k × n`,
points as columns, the same n for all): column i of every matrix comes from the same latent
draw, and the same (seed, n) gives the same columns."""
function sample!(outs::AbstractVector{<:StridedMatrix{<:Real32or64}}, s::Spot; seed::Integer=0)
    views = C.scones_matrix_mut[_points_out(o) for o in outs]
    GC.@preserve outs views begin
        _check(C.scones_spot_sample, s, UInt64(seed), views, length(views))
    end
    return outs
end

"""    sample(spot, n; seed=0) -> Vector{Matrix{Float64}}

n paired samples of the plan: one `d_k × n` matrix per marginal (see [`sample!`](@ref))."""
sample(s::Spot, n::Integer; seed::Integer=0) = sample!([Matrix{Float64}(undef, d, n) for d in dims(s)], s; seed=seed)

"""    cost_estimate(spot, n; seed=0) -> (estimate = ..., standard_error = ...)

The plan's transport cost E c(G(Z)) from n >= 2 latent draws, with its standard error."""
function cost_estimate(s::Spot, n::Integer; seed::Integer=0)
    m, se = Ref{Cdouble}(NaN), Ref{Cdouble}(NaN)
    _check(C.scones_spot_cost_estimate, s, n, UInt64(seed), m, se)
    return (estimate=m[], standard_error=se[])
end

"""    train_report(spot) -> NamedTuple

Summary of the training run (`:invalid_argument` for a loaded plan)."""
function train_report(s::Spot)
    r = Ref(C.scones_spot_report(sizeof(C.scones_spot_report), 0, 0, 0, 0, 0))
    _check(C.scones_spot_train_report, s, r)
    x = r[]
    return (iterations=Int(x.iterations), cost=x.cost, marginal_gap=x.marginal_gap, seconds=x.seconds,
            iterations_per_second=x.iterations_per_second)
end

# ------------------------------------------------------------------------------ sampler

"""
    Sampler(dual, score; kwargs...)

A conditional sampler of π(y | x) (Algorithm 2). Keywords (library defaults when omitted):
`steps` (per noise level), `step_size`, `annealing = (σ_first, σ_last, levels, denoise)`,
`samples_per_source` (K), `init` (`:noise`, `:source`), `init_map` (a [`Barycentric`](@ref):
chains start at T(x)), `init_resample = (targets, σ_start)` (chains start at target points, columns
of `targets`, drawn with probability ∝ M(V(x, y_j)), and move only at levels ≤ σ_start, 0: 3 σ_last;
sources whose weights have an effective sample size below K start from noise),
`metropolis`, `adapt_step` (tune the Metropolis step towards 57%
acceptance), `compatibility` (`false`: the target score alone, ignoring the sources),
`chain_batch`, `seed`, `device`, `threads`, `softplus_beta`, `progress` with `progress_every`
(or later [`set_progress!`](@ref)). It holds copies of the dual and score, which may be closed
afterwards (a host score's function stays alive with the sampler).
"""
mutable struct Sampler
    ptr::Ptr{C.scones_sampler}
    progress::Union{ProgressState,Nothing}  # the C sampler keeps a pointer to it
    score::Union{ProgressState,Nothing}     # a host score's function, called by the sampler
    cost::Union{ProgressState,Nothing}      # the dual's host cost function, called by the sampler
    k::Int
    dy::Int
    function Sampler(dual::Dual, s::Score; kwargs...)
        opts, state = _sampler_options(; kwargs...)
        out = Ref{Ptr{C.scones_sampler}}(C_NULL)
        try
            _check_host((state, s.state, dual.state), C.scones_sampler_new, dual, s, opts, out)
        finally
            close(opts)
        end
        x = new(out[], state, s.state, dual.state, 1, 0)
        finalizer(Base.close, x)
        _, x.dy, x.k = shape(x)
        return x
    end
end
Base.unsafe_convert(::Type{Ptr{C.scones_sampler}}, x::Sampler) = x.ptr
function Base.close(x::Sampler)
    if x.ptr != C_NULL
        C.scones_sampler_free(x.ptr)
        x.ptr = C_NULL
    end
    return nothing
end
Base.isopen(x::Sampler) = x.ptr != C_NULL

"""    sample!(out, sampler, sources; first_source=nothing)

K samples y ~ π(y | x) for each column x of `sources` (dx × n) into `out` (dy × nK): columns
(i-1)K+1 … iK belong to source i. The sources are numbered on from the previous call's last
one (the first call starts at 0), so successive calls draw new numbers. With
`first_source = j`, column i is the source of global index j + i - 1 (0-based): its samples
depend only on the seed and that index, so MPI ranks that each sample their own range
reproduce one call over all sources bit for bit on the CPU (same thread count on every rank)."""
function sample!(out::StridedMatrix{<:Real32or64}, s::Sampler, sources::AbstractMatrix;
                 first_source::Union{Nothing,Integer}=nothing)
    x = _input(sources)
    GC.@preserve s x out begin
        if first_source === nothing
            _check_host((s.progress, s.score, s.cost), C.scones_sample_batch, s, _points(x), _points_out(out))
        else
            first_source >= 0 || throw(ArgumentError("first_source must be >= 0, got $first_source"))
            _check_host((s.progress, s.score, s.cost), C.scones_sample_batch_at, s, UInt64(first_source),
                        _points(x), _points_out(out))
        end
    end
    return out
end

"""    sample(sampler, sources; first_source=nothing) -> Matrix{Float64} (dy × nK)"""
sample(s::Sampler, sources::AbstractMatrix; first_source::Union{Nothing,Integer}=nothing) =
    sample!(Matrix{Float64}(undef, s.dy, _npoints(sources) * s.k), s, sources; first_source=first_source)

"""    shape(sampler) -> (dx, dy, K)

Source and target dimensions and samples per source: `sample` on n sources gives dy × nK."""
function shape(s::Sampler)
    dx, dy, k = Ref{Csize_t}(0), Ref{Csize_t}(0), Ref{Csize_t}(0)
    _check(C.scones_sampler_shape, s, dx, dy, k)
    return (Int(dx[]), Int(dy[]), Int(k[]))
end

"""
    set_progress!(sampler, f; every=100)
    set_progress!(sampler, nothing)

Replaces the progress function of later `sample` calls (`f(p::Progress)`; `false` cancels).
Lets each call carry its own cancellation without rebuilding the sampler.
"""
function set_progress!(s::Sampler, f; every::Integer=100)
    if f === nothing
        _check(C.scones_sampler_set_progress, s, C_NULL, C_NULL, 1)
        s.progress = nothing
    else
        state = ProgressState(f, nothing)
        _check(C.scones_sampler_set_progress, s, _trampoline(), pointer_from_objref(state), every)
        s.progress = state   # rooted by the sampler from now on
    end
    return s
end

"""    report(sampler) -> NamedTuple

Statistics of the last successful `sample`."""
function report(s::Sampler)
    r = Ref(C.scones_sample_report(sizeof(C.scones_sample_report), 0, 0, 0, 0, 0))
    _check(C.scones_sampler_report, s, r)
    x = r[]
    return (chains=Int(x.chains), steps_per_chain=Int(x.steps_per_chain), seconds=x.seconds,
            chain_steps_per_second=x.chain_steps_per_second, acceptance=x.acceptance)
end

# ------------------------------------------------------------------------------ figures

function Figure(width::Integer, height::Integer; rows::Integer=1, cols::Integer=1)
    out = Ref{Ptr{C.scones_figure}}(C_NULL)
    _check(C.scones_figure_new, UInt32(width), UInt32(height), UInt32(rows), UInt32(cols), out)
    return Figure(out[])
end

# Panels are numbered from 1 here, from 0 in C.
"""    scatter!(fig, panel, points; color=0x1f77b4ff, radius=1.5)

Scatter of the first two coordinates of the columns of `points`; colors are 0xRRGGBBAA."""
function scatter!(f::Figure, panel::Integer, points::AbstractMatrix; color::Integer=0x1f77b4ff, radius::Real=1.5)
    p = _input(points)
    GC.@preserve p begin
        _check(C.scones_figure_scatter, f, panel - 1, _points(p), UInt32(color), Float64(radius))
    end
    return f
end

"""    segments!(fig, panel, from, to; color=0x000000ff)"""
function segments!(f::Figure, panel::Integer, from::AbstractMatrix, to::AbstractMatrix; color::Integer=0x000000ff)
    a, b = _input(from), _input(to)
    GC.@preserve a b begin
        _check(C.scones_figure_segments, f, panel - 1, _points(a), _points(b), UInt32(color))
    end
    return f
end

"""    title!(fig, panel, text)"""
title!(f::Figure, panel::Integer, text::AbstractString) = (_check(C.scones_figure_title, f, panel - 1, String(text)); f)

"""    legend!(fig, panel, labels, colors)"""
function legend!(f::Figure, panel::Integer, labels::AbstractVector{<:AbstractString}, colors::AbstractVector{<:Integer})
    strs = String[labels...]
    cols = UInt32[colors...]
    GC.@preserve strs begin
        ptrs = Cstring[Base.unsafe_convert(Cstring, s) for s in strs]
        _check(C.scones_figure_legend, f, panel - 1, ptrs, cols, length(strs))
    end
    return f
end

"""    bounds!(fig, panel, xmin, xmax, ymin, ymax)"""
bounds!(f::Figure, panel::Integer, xmin, xmax, ymin, ymax) =
    (_check(C.scones_figure_set_bounds, f, panel - 1, Float64(xmin), Float64(xmax), Float64(ymin), Float64(ymax)); f)

"""    savepng(fig, path)"""
savepng(f::Figure, path::AbstractString) = (_check(C.scones_figure_save_png, f, String(path)); path)

# ------------------------------------------------------------------------------ Gaussians, metrics

"""    random_covariance(d; spectrum=:geometric, seed=0) -> Matrix{Float64}

U diag(w) U^T with Haar-random U; `spectrum` `:geometric` (geomspace(1/2, 2, d)) or
`:uniform_1_10`."""
function random_covariance(d::Integer; spectrum::Symbol=:geometric, seed::Integer=0)
    out = Matrix{Float64}(undef, d, d)
    GC.@preserve out begin
        _check(C.scones_gaussian_random_covariance, d, _enum(_SPECTRA, spectrum), UInt64(seed), _mat_out(out))
    end
    return out
end

"""    gaussian_sample(mean, cov, n; seed=0) -> Matrix{Float64} (d × n)"""
function gaussian_sample(mean::AbstractVector, cov::AbstractMatrix, n::Integer; seed::Integer=0)
    m, c = _input(mean), _input(cov)
    out = Matrix{Float64}(undef, length(m), n)
    GC.@preserve m c out begin
        _check(C.scones_gaussian_sample, _row(m), _mat(c), n, UInt64(seed), _points_out(out))
    end
    return out
end

"""    gaussian_entropic_coupling(cov_source, cov_target, lambda) -> Matrix{Float64}

Joint covariance (2d × 2d) of the closed-form KL-regularized coupling between N(0, cov_source)
and N(0, cov_target) for the squared Euclidean cost."""
function gaussian_entropic_coupling(a::AbstractMatrix, b::AbstractMatrix, lambda::Real)
    A, B = _input(a), _input(b)
    k = size(A, 1) + size(B, 1)
    out = Matrix{Float64}(undef, k, k)
    GC.@preserve A B out begin
        _check(C.scones_gaussian_entropic_coupling, _mat(A), _mat(B), Float64(lambda), _mat_out(out))
    end
    return out
end

"""    bw_uvp(cov_estimate, cov_reference) -> Float64"""
function bw_uvp(a::AbstractMatrix, b::AbstractMatrix)
    A, B = _input(a), _input(b)
    out = Ref{Cdouble}(0)
    GC.@preserve A B begin
        _check(C.scones_bw_uvp, _mat(A), _mat(B), out)
    end
    return out[]
end

"""    joint_covariance(x, y) -> Matrix{Float64}

Unbiased covariance of the stacked points (x_i; y_i) (columns of x and y)."""
function joint_covariance(x::AbstractMatrix, y::AbstractMatrix)
    a, b = _input(x), _input(y)
    k = _ndims(a) + _ndims(b)
    out = Matrix{Float64}(undef, k, k)
    GC.@preserve a b out begin
        _check(C.scones_joint_covariance, _points(a), _points(b), _mat_out(out))
    end
    return out
end

"""    toy_sample(toy, n; seed=0) -> Matrix{Float64} (2 × n)

n points of a 2-D toy distribution: `:gaussian` (N(0, I)), `:swiss_roll`, `:moons`, `:circle`,
`:eight_gaussians`."""
function toy_sample(toy::Union{Symbol,Integer}, n::Integer; seed::Integer=0)
    out = Matrix{Float64}(undef, 2, n)
    GC.@preserve out begin
        _check(C.scones_toy_sample, _enum(_TOYS, toy), n, UInt64(seed), _points_out(out))
    end
    return out
end

"""    sliced_w2(a, b; projections=256, seed=0) -> Float64

Sliced 2-Wasserstein distance between the points (columns) of `a` and `b`."""
function sliced_w2(a::AbstractMatrix, b::AbstractMatrix; projections::Integer=256, seed::Integer=0)
    A, B = _input(a), _input(b)
    out = Ref{Cdouble}(0)
    GC.@preserve A B begin
        _check(C.scones_sliced_w2, _points(A), _points(B), projections, UInt64(seed), out)
    end
    return out[]
end

# ------------------------------------------------------------------------------ discrete OT

"""
    DiscreteReport

Summary of a discrete solve: `transport_cost` (⟨C, P⟩ of the returned plan), `objective`
(Sinkhorn and the f-divergence dual: the dual value; IPOT: ⟨C, P⟩), `marginal_error` (l1
violation of the marginals by the plan), `iterations`, `converged` (`false` when the iteration
cap stopped the solver).
"""
struct DiscreteReport
    transport_cost::Float64
    objective::Float64
    marginal_error::Float64
    iterations::Int
    converged::Bool
end

_new_report() = Ref(C.scones_discrete_report(sizeof(C.scones_discrete_report), NaN, NaN, NaN, 0, 0))
_report(r::C.scones_discrete_report) =
    DiscreteReport(r.transport_cost, r.objective, r.marginal_error, Int(r.iterations), r.converged != 0)

# Optional arguments cross as Ptr: C_NULL, or a pointer to a Ref the caller keeps preserved.
_opt_input(::Nothing) = nothing
_opt_input(w::AbstractVector) = _input(w)
_weights_ref(::Nothing) = nothing
_weights_ref(w::StridedVector) = Ref(_row(w))
_ptr(::Type{T}, ::Nothing) where {T} = Ptr{T}(C_NULL)
_ptr(::Type{T}, r::Base.RefValue{T}) where {T} = Base.unsafe_convert(Ptr{T}, r)

const _DISCRETE_DOC = """
Keywords: `cost` (`:sqeuclidean`, `:mean_sqeuclidean`), `source_weights` / `target_weights`
(vectors, > 0, summing to 1; `nothing`: uniform), `tolerance`, `max_iterations`, `progress` (a
function of a [`Progress`](@ref); `false` cancels, the call then throws `SconesError` with status
`:cancelled`) with `progress_every`."""

"""
    sinkhorn(source, target, λ; plan=true, kwargs...) -> (f, g, plan, report)

Entropic OT between the points (columns) of `source` (d × m) and `target` (d × n) by log-domain
Sinkhorn with ε-scaling: min ⟨C, P⟩ + λ KL(P ‖ a bᵀ), λ in cost units. Returns the potentials
`f` (m) and `g` (n), gauge Σ a f = Σ b g, with P_ij = a_i b_j exp((f_i + g_j - C_ij) / λ), the
plan (m × n; `nothing` with `plan=false`, which forms the cost in blocks so large problems fit
in memory) and a [`DiscreteReport`](@ref).
$_DISCRETE_DOC
"""
function sinkhorn(source::AbstractMatrix, target::AbstractMatrix, lambda::Real; cost=:sqeuclidean,
                  source_weights=nothing, target_weights=nothing, plan::Bool=true, kwargs...)
    x, y = _input(source), _input(target)
    a, b = _opt_input(source_weights), _opt_input(target_weights)
    m, n = _npoints(x), _npoints(y)
    f, g = Vector{Float64}(undef, m), Vector{Float64}(undef, n)
    P = plan ? Matrix{Float64}(undef, m, n) : nothing
    opts, state = _discrete_options(; kwargs...)
    ar, br, pr, rep = _weights_ref(a), _weights_ref(b), P === nothing ? nothing : Ref(_mat_out(P)), _new_report()
    try
        GC.@preserve x y a b f g P ar br pr rep opts state begin
            _check_host((state,), C.scones_sinkhorn, _points(x), _points(y), _ptr(C.scones_matrix, ar),
                        _ptr(C.scones_matrix, br), _enum(_COSTS, cost), Float64(lambda), opts, _col_out(f), _col_out(g),
                        _ptr(C.scones_matrix_mut, pr), rep)
        end
    finally
        close(opts)
    end
    return (f=f, g=g, plan=P, report=_report(rep[]))
end

"""
    ipot(source, target; beta=0.05, inner_iterations=1, kwargs...) -> (plan, report)

Unregularized OT between the points (columns) of `source` and `target` by IPOT (inexact
proximal point): the plan (m × n) converges to an optimal plan. `beta` is the proximal step as a
fraction of max C, `inner_iterations` the Sinkhorn sweeps per step.
$_DISCRETE_DOC
"""
function ipot(source::AbstractMatrix, target::AbstractMatrix; cost=:sqeuclidean, source_weights=nothing,
              target_weights=nothing, kwargs...)
    x, y = _input(source), _input(target)
    a, b = _opt_input(source_weights), _opt_input(target_weights)
    P = Matrix{Float64}(undef, _npoints(x), _npoints(y))
    opts, state = _discrete_options(; kwargs...)
    ar, br, rep = _weights_ref(a), _weights_ref(b), _new_report()
    try
        GC.@preserve x y a b P ar br rep opts state begin
            _check_host((state,), C.scones_ipot, _points(x), _points(y), _ptr(C.scones_matrix, ar),
                        _ptr(C.scones_matrix, br), _enum(_COSTS, cost), opts, _mat_out(P), rep)
        end
    finally
        close(opts)
    end
    return (plan=P, report=_report(rep[]))
end

"""
    discrete_fdual(source, target, λ; regularizer=:kl, plan=true, kwargs...) -> (phi, psi, plan, report)

The f-divergence-regularized discrete dual between the points (columns) of `source` and
`target`, solved exactly (dense; up to a few thousand points), with the regularizers of
[`train_dual`](@ref) and λ > 0. Returns φ (m) and ψ (n), gauge Σ a φ = Σ b ψ, the plan
P_ij = a_i b_j M(V_ij) (m × n; `nothing` with `plan=false`) and a [`DiscreteReport`](@ref).
$_DISCRETE_DOC
"""
function discrete_fdual(source::AbstractMatrix, target::AbstractMatrix, lambda::Real; regularizer=:kl,
                        cost=:sqeuclidean, source_weights=nothing, target_weights=nothing, plan::Bool=true, kwargs...)
    x, y = _input(source), _input(target)
    a, b = _opt_input(source_weights), _opt_input(target_weights)
    m, n = _npoints(x), _npoints(y)
    phi, psi = Vector{Float64}(undef, m), Vector{Float64}(undef, n)
    P = plan ? Matrix{Float64}(undef, m, n) : nothing
    opts, state = _discrete_options(; kwargs...)
    ar, br, pr, rep = _weights_ref(a), _weights_ref(b), P === nothing ? nothing : Ref(_mat_out(P)), _new_report()
    try
        GC.@preserve x y a b phi psi P ar br pr rep opts state begin
            _check_host((state,), C.scones_discrete_fdual, _points(x), _points(y), _ptr(C.scones_matrix, ar),
                        _ptr(C.scones_matrix, br), _enum(_COSTS, cost), _enum(_REGULARIZERS, regularizer),
                        Float64(lambda), opts, _col_out(phi), _col_out(psi), _ptr(C.scones_matrix_mut, pr), rep)
        end
    finally
        close(opts)
    end
    return (phi=phi, psi=psi, plan=P, report=_report(rep[]))
end

# The dense forms take the m × n cost matrix as a matrix (rows: source atoms).
_cost_matrix(c::StridedMatrix{<:Real32or64}) = c
_cost_matrix(c::AbstractMatrix) = Matrix{Float64}(c)

"""
    sinkhorn_cost(C, λ; plan=true, kwargs...) -> (f, g, plan, report)

[`sinkhorn`](@ref) on a dense m × n cost matrix `C` (finite; rows are source atoms), as POT's
`ot.sinkhorn(a, b, M, reg)`. Keywords as for `sinkhorn` except `cost`.
"""
function sinkhorn_cost(cost::AbstractMatrix, lambda::Real; source_weights=nothing, target_weights=nothing,
                       plan::Bool=true, kwargs...)
    c = _cost_matrix(cost)
    a, b = _opt_input(source_weights), _opt_input(target_weights)
    m, n = size(c)
    f, g = Vector{Float64}(undef, m), Vector{Float64}(undef, n)
    P = plan ? Matrix{Float64}(undef, m, n) : nothing
    opts, state = _discrete_options(; kwargs...)
    ar, br, pr, rep = _weights_ref(a), _weights_ref(b), P === nothing ? nothing : Ref(_mat_out(P)), _new_report()
    try
        GC.@preserve c a b f g P ar br pr rep opts state begin
            _check_host((state,), C.scones_sinkhorn_cost, _mat(c), _ptr(C.scones_matrix, ar), _ptr(C.scones_matrix, br),
                        Float64(lambda), opts, _col_out(f), _col_out(g), _ptr(C.scones_matrix_mut, pr), rep)
        end
    finally
        close(opts)
    end
    return (f=f, g=g, plan=P, report=_report(rep[]))
end

"""
    ipot_cost(C; beta=0.05, inner_iterations=1, kwargs...) -> (plan, report)

[`ipot`](@ref) on a dense m × n cost matrix `C` (finite; rows are source atoms).
"""
function ipot_cost(cost::AbstractMatrix; source_weights=nothing, target_weights=nothing, kwargs...)
    c = _cost_matrix(cost)
    a, b = _opt_input(source_weights), _opt_input(target_weights)
    P = Matrix{Float64}(undef, size(c)...)
    opts, state = _discrete_options(; kwargs...)
    ar, br, rep = _weights_ref(a), _weights_ref(b), _new_report()
    try
        GC.@preserve c a b P ar br rep opts state begin
            _check_host((state,), C.scones_ipot_cost, _mat(c), _ptr(C.scones_matrix, ar), _ptr(C.scones_matrix, br),
                        opts, _mat_out(P), rep)
        end
    finally
        close(opts)
    end
    return (plan=P, report=_report(rep[]))
end

"""
    discrete_fdual_cost(C, λ; regularizer=:kl, plan=true, kwargs...) -> (phi, psi, plan, report)

[`discrete_fdual`](@ref) on a dense m × n cost matrix `C` (finite; rows are source atoms).
"""
function discrete_fdual_cost(cost::AbstractMatrix, lambda::Real; regularizer=:kl, source_weights=nothing,
                             target_weights=nothing, plan::Bool=true, kwargs...)
    c = _cost_matrix(cost)
    a, b = _opt_input(source_weights), _opt_input(target_weights)
    m, n = size(c)
    phi, psi = Vector{Float64}(undef, m), Vector{Float64}(undef, n)
    P = plan ? Matrix{Float64}(undef, m, n) : nothing
    opts, state = _discrete_options(; kwargs...)
    ar, br, pr, rep = _weights_ref(a), _weights_ref(b), P === nothing ? nothing : Ref(_mat_out(P)), _new_report()
    try
        GC.@preserve c a b phi psi P ar br pr rep opts state begin
            _check_host((state,), C.scones_discrete_fdual_cost, _mat(c), _ptr(C.scones_matrix, ar),
                        _ptr(C.scones_matrix, br), _enum(_REGULARIZERS, regularizer), Float64(lambda), opts,
                        _col_out(phi), _col_out(psi), _ptr(C.scones_matrix_mut, pr), rep)
        end
    finally
        close(opts)
    end
    return (phi=phi, psi=psi, plan=P, report=_report(rep[]))
end

"""
    assignment(C) -> (assignment, total_cost, u, v)

Exact optimal assignment of the n × n cost matrix `C` (shortest augmenting paths, O(n³)):
`assignment[i]` is the column (1-based) matched to row i, `total_cost` = Σ_i C[i, assignment[i]]
(between uniform measures the transport cost is `total_cost / n`), and dual potentials `u`, `v`
with u_i + v_j ≤ C_ij, equality on the assignment.
"""
function assignment(cost::AbstractMatrix)
    c = cost isa StridedMatrix{<:Real32or64} ? cost : Matrix{Float64}(cost)
    n = size(c, 1)
    cols = Vector{Csize_t}(undef, n)
    u, v = Vector{Float64}(undef, n), Vector{Float64}(undef, n)
    total = Ref{Cdouble}(NaN)
    ur, vr = Ref(_col_out(u)), Ref(_col_out(v))
    GC.@preserve c cols u v ur vr begin
        _check(C.scones_assignment, _mat(c), cols, total, _ptr(C.scones_matrix_mut, ur), _ptr(C.scones_matrix_mut, vr))
    end
    return (assignment=Int.(cols) .+ 1, total_cost=total[], u=u, v=v)
end

end # module Scones
