# The C ABI of libscones, one Julia line per C declaration of include/scones.h: constants,
# typedefs, structs (same layout), opaque handle types and one ccall wrapper per function.
# scripts/check-julia-binding.py verifies every line here against the header (names, argument
# counts and types, struct fields, constant values) and fails when a C function is not wrapped;
# `python3 scripts/check-julia-binding.py --suggest` prints the line to add for a new function.
module LibScones

# The library is looked up by its soname; Scones.__init__ first dlopens the file named by
# SCONES_LIBRARY when set, and the dynamic loader then resolves this name to that library.
const libscones = "libscones.so.0"

const SCONES_VERSION_MAJOR = 0
const SCONES_VERSION_MINOR = 5
const SCONES_VERSION_PATCH = 0
const SCONES_VERSION_STRING = "0.5.0"

# typedefs
const scones_status = Int32
const scones_dtype = Int32
const scones_regularizer = Int32
const scones_cost = Int32
const scones_potential = Int32
const scones_spectrum = Int32
const scones_lr_schedule = Int32
const scones_batch_mode = Int32
const scones_phase = Int32
const scones_chain_init = Int32
const scones_score_parametrization = Int32
const scones_toy = Int32
const scones_spot_preset = Int32

# opaque handles
mutable struct scones_dual end
mutable struct scones_dual_options end
mutable struct scones_error end
mutable struct scones_figure end
mutable struct scones_sampler end
mutable struct scones_sampler_options end
mutable struct scones_score end
mutable struct scones_measure end
mutable struct scones_barycentric end
mutable struct scones_train_options end
mutable struct scones_discrete_options end
mutable struct scones_spot end
mutable struct scones_spot_options end

# structs (C layout)
struct scones_matrix
    data::Ptr{Cvoid}
    rows::Csize_t
    cols::Csize_t
    row_stride::Cptrdiff_t
    col_stride::Cptrdiff_t
    dtype::scones_dtype
end

struct scones_matrix_mut
    data::Ptr{Cvoid}
    rows::Csize_t
    cols::Csize_t
    row_stride::Cptrdiff_t
    col_stride::Cptrdiff_t
    dtype::scones_dtype
end

struct scones_train_report
    struct_size::Csize_t
    iterations::UInt64
    objective::Cdouble
    mean_compatibility::Cdouble
    extension_fraction::Cdouble
    seconds::Cdouble
    iterations_per_second::Cdouble
end

struct scones_discrete_report
    struct_size::Csize_t
    transport_cost::Cdouble
    objective::Cdouble
    marginal_error::Cdouble
    iterations::UInt64
    converged::Int32
end

struct scones_progress
    struct_size::Csize_t
    phase::scones_phase
    iteration::UInt64
    total::UInt64
    objective::Cdouble
    mean_compatibility::Cdouble
    extension_fraction::Cdouble
    acceptance::Cdouble
    marginal_error::Cdouble
end

struct scones_collective
    struct_size::Csize_t
    rank::Csize_t
    size::Csize_t
    allreduce_sum::Ptr{Cvoid}
    user_data::Ptr{Cvoid}
end

struct scones_sample_report
    struct_size::Csize_t
    chains::UInt64
    steps_per_chain::UInt64
    seconds::Cdouble
    chain_steps_per_second::Cdouble
    acceptance::Cdouble
end

struct scones_spot_report
    struct_size::Csize_t
    iterations::UInt64
    cost::Cdouble
    marginal_gap::Cdouble
    seconds::Cdouble
    iterations_per_second::Cdouble
end

# constants
const SCONES_POTENTIAL_PHI = Int32(0)
const SCONES_POTENTIAL_PSI = Int32(1)
const SCONES_STATUS_OK = Int32(0)
const SCONES_STATUS_INVALID_ARGUMENT = Int32(1)
const SCONES_STATUS_SHAPE_MISMATCH = Int32(2)
const SCONES_STATUS_NON_FINITE = Int32(3)
const SCONES_STATUS_IO = Int32(4)
const SCONES_STATUS_FORMAT = Int32(5)
const SCONES_STATUS_DEVICE_UNAVAILABLE = Int32(6)
const SCONES_STATUS_CANCELLED = Int32(7)
const SCONES_STATUS_DIVERGED = Int32(8)
const SCONES_STATUS_CALLBACK = Int32(9)
const SCONES_STATUS_INTERNAL = Int32(10)
const SCONES_SPECTRUM_GEOMETRIC = Int32(0)
const SCONES_SPECTRUM_UNIFORM_1_10 = Int32(1)
const SCONES_TOY_GAUSSIAN = Int32(0)
const SCONES_TOY_SWISS_ROLL = Int32(1)
const SCONES_TOY_MOONS = Int32(2)
const SCONES_TOY_CIRCLE = Int32(3)
const SCONES_TOY_8GAUSSIANS = Int32(4)
const SCONES_DTYPE_F32 = Int32(0)
const SCONES_DTYPE_F64 = Int32(1)
const SCONES_REGULARIZER_KL = Int32(0)
const SCONES_REGULARIZER_CHI_SQUARE = Int32(1)
const SCONES_REGULARIZER_KL_CUTURI = Int32(2)
const SCONES_REGULARIZER_REVERSE_KL = Int32(3)
const SCONES_REGULARIZER_SQUARED_HELLINGER = Int32(4)
const SCONES_REGULARIZER_JENSEN_SHANNON = Int32(5)
const SCONES_REGULARIZER_GAN = Int32(6)
const SCONES_COST_SQEUCLIDEAN = Int32(0)
const SCONES_COST_MEAN_SQEUCLIDEAN = Int32(1)
const SCONES_COST_EUCLIDEAN = Int32(2)
const SCONES_COST_LINEAR = Int32(3)
const SCONES_COST_TORCHSCRIPT = Int32(4)
const SCONES_COST_CALLBACK = Int32(5)
const SCONES_BATCH_PAIRED = Int32(0)
const SCONES_BATCH_ALL_PAIRS = Int32(1)
const SCONES_LR_CONSTANT = Int32(0)
const SCONES_LR_COSINE = Int32(1)
const SCONES_SCORE_PARAMETRIZATION_PRECONDITIONED = Int32(0)
const SCONES_SCORE_PARAMETRIZATION_NCSN = Int32(1)
const SCONES_INIT_NOISE = Int32(0)
const SCONES_INIT_SOURCE = Int32(1)
const SCONES_PHASE_DUAL_TRAINING = Int32(0)
const SCONES_PHASE_SAMPLING = Int32(1)
const SCONES_PHASE_SCORE_TRAINING = Int32(2)
const SCONES_PHASE_BARYCENTRIC_TRAINING = Int32(3)
const SCONES_PHASE_DISCRETE = Int32(4)
const SCONES_PHASE_SPOT_TRAINING = Int32(5)
const SCONES_SPOT_PRESET_TUNED = Int32(0)
const SCONES_SPOT_PRESET_THESIS = Int32(1)

# functions
scones_barycentric_dims(map, dx, dy, err) = ccall((:scones_barycentric_dims, libscones), scones_status, (Ptr{scones_barycentric}, Ref{Csize_t}, Ref{Csize_t}, Ref{Ptr{scones_error}}), map, dx, dy, err)
scones_barycentric_free(map) = ccall((:scones_barycentric_free, libscones), Cvoid, (Ptr{scones_barycentric},), map)
scones_barycentric_load(path, out, err) = ccall((:scones_barycentric_load, libscones), scones_status, (Cstring, Ref{Ptr{scones_barycentric}}, Ref{Ptr{scones_error}}), path, out, err)
scones_barycentric_map(map, x, out, err) = ccall((:scones_barycentric_map, libscones), scones_status, (Ptr{scones_barycentric}, Ref{scones_matrix}, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), map, x, out, err)
scones_barycentric_save(map, path, err) = ccall((:scones_barycentric_save, libscones), scones_status, (Ptr{scones_barycentric}, Cstring, Ref{Ptr{scones_error}}), map, path, err)
scones_barycentric_train(dual, source, target, options, out, err) = ccall((:scones_barycentric_train, libscones), scones_status, (Ptr{scones_dual}, Ptr{scones_measure}, Ptr{scones_measure}, Ptr{scones_train_options}, Ref{Ptr{scones_barycentric}}, Ref{Ptr{scones_error}}), dual, source, target, options, out, err)
scones_bw_uvp(cov_estimate, cov_reference, out, err) = ccall((:scones_bw_uvp, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Ref{Cdouble}, Ref{Ptr{scones_error}}), cov_estimate, cov_reference, out, err)
scones_cuda_available() = ccall((:scones_cuda_available, libscones), Int32, ())
scones_dual_compatibility(dual, x, y, out, err) = ccall((:scones_dual_compatibility, libscones), scones_status, (Ptr{scones_dual}, Ref{scones_matrix}, Ref{scones_matrix}, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), dual, x, y, out, err)
scones_dual_dims(dual, dx, dy, err) = ccall((:scones_dual_dims, libscones), scones_status, (Ptr{scones_dual}, Ref{Csize_t}, Ref{Csize_t}, Ref{Ptr{scones_error}}), dual, dx, dy, err)
scones_dual_free(dual) = ccall((:scones_dual_free, libscones), Cvoid, (Ptr{scones_dual},), dual)
scones_dual_load(path, device, out, err) = ccall((:scones_dual_load, libscones), scones_status, (Cstring, Cstring, Ref{Ptr{scones_dual}}, Ref{Ptr{scones_error}}), path, device, out, err)
scones_dual_options_free(opts) = ccall((:scones_dual_options_free, libscones), Cvoid, (Ptr{scones_dual_options},), opts)
scones_dual_options_new(out, err) = ccall((:scones_dual_options_new, libscones), scones_status, (Ref{Ptr{scones_dual_options}}, Ref{Ptr{scones_error}}), out, err)
scones_dual_options_set_adam(opts, learning_rate, beta1, beta2, err) = ccall((:scones_dual_options_set_adam, libscones), scones_status, (Ptr{scones_dual_options}, Cdouble, Cdouble, Cdouble, Ref{Ptr{scones_error}}), opts, learning_rate, beta1, beta2, err)
scones_dual_options_set_batch(opts, batch_size, mode, err) = ccall((:scones_dual_options_set_batch, libscones), scones_status, (Ptr{scones_dual_options}, Csize_t, scones_batch_mode, Ref{Ptr{scones_error}}), opts, batch_size, mode, err)
scones_dual_options_set_cost(opts, cost, err) = ccall((:scones_dual_options_set_cost, libscones), scones_status, (Ptr{scones_dual_options}, scones_cost, Ref{Ptr{scones_error}}), opts, cost, err)
scones_dual_options_set_linear_cost(opts, a, b, err) = ccall((:scones_dual_options_set_linear_cost, libscones), scones_status, (Ptr{scones_dual_options}, Ref{scones_matrix}, Ref{scones_matrix}, Ref{Ptr{scones_error}}), opts, a, b, err)
scones_dual_options_set_torchscript_cost(opts, path, dx, dy, curvature, err) = ccall((:scones_dual_options_set_torchscript_cost, libscones), scones_status, (Ptr{scones_dual_options}, Cstring, Csize_t, Csize_t, Cdouble, Ref{Ptr{scones_error}}), opts, path, dx, dy, curvature, err)
scones_dual_options_set_callback_cost(opts, callback, user_data, dx, dy, curvature, err) = ccall((:scones_dual_options_set_callback_cost, libscones), scones_status, (Ptr{scones_dual_options}, Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Csize_t, Cdouble, Ref{Ptr{scones_error}}), opts, callback, user_data, dx, dy, curvature, err)
scones_dual_options_set_device(opts, device, err) = ccall((:scones_dual_options_set_device, libscones), scones_status, (Ptr{scones_dual_options}, Cstring, Ref{Ptr{scones_error}}), opts, device, err)
scones_dual_options_set_hidden(opts, widths_, n, err) = ccall((:scones_dual_options_set_hidden, libscones), scones_status, (Ptr{scones_dual_options}, Ptr{Csize_t}, Csize_t, Ref{Ptr{scones_error}}), opts, widths_, n, err)
scones_dual_options_set_hidden_each(opts, phi_widths, phi_n, psi_widths, psi_n, err) = ccall((:scones_dual_options_set_hidden_each, libscones), scones_status, (Ptr{scones_dual_options}, Ptr{Csize_t}, Csize_t, Ptr{Csize_t}, Csize_t, Ref{Ptr{scones_error}}), opts, phi_widths, phi_n, psi_widths, psi_n, err)
scones_dual_options_set_iterations(opts, iterations, err) = ccall((:scones_dual_options_set_iterations, libscones), scones_status, (Ptr{scones_dual_options}, Csize_t, Ref{Ptr{scones_error}}), opts, iterations, err)
scones_dual_options_set_collective(opts, collective, err) = ccall((:scones_dual_options_set_collective, libscones), scones_status, (Ptr{scones_dual_options}, Ref{scones_collective}, Ref{Ptr{scones_error}}), opts, collective, err)
scones_dual_options_set_progress(opts, callback, user_data, every, err) = ccall((:scones_dual_options_set_progress, libscones), scones_status, (Ptr{scones_dual_options}, Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Ref{Ptr{scones_error}}), opts, callback, user_data, every, err)
scones_dual_options_set_regularizer(opts, regularizer, lambda, err) = ccall((:scones_dual_options_set_regularizer, libscones), scones_status, (Ptr{scones_dual_options}, scones_regularizer, Cdouble, Ref{Ptr{scones_error}}), opts, regularizer, lambda, err)
scones_dual_options_set_schedule(opts, schedule, final_fraction, err) = ccall((:scones_dual_options_set_schedule, libscones), scones_status, (Ptr{scones_dual_options}, scones_lr_schedule, Cdouble, Ref{Ptr{scones_error}}), opts, schedule, final_fraction, err)
scones_dual_options_set_seed(opts, seed, err) = ccall((:scones_dual_options_set_seed, libscones), scones_status, (Ptr{scones_dual_options}, UInt64, Ref{Ptr{scones_error}}), opts, seed, err)
scones_dual_options_set_softplus_beta(opts, beta, err) = ccall((:scones_dual_options_set_softplus_beta, libscones), scones_status, (Ptr{scones_dual_options}, Cdouble, Ref{Ptr{scones_error}}), opts, beta, err)
scones_dual_options_set_threads(opts, threads, err) = ccall((:scones_dual_options_set_threads, libscones), scones_status, (Ptr{scones_dual_options}, Csize_t, Ref{Ptr{scones_error}}), opts, threads, err)
scones_dual_potential(dual, which, points, out, err) = ccall((:scones_dual_potential, libscones), scones_status, (Ptr{scones_dual}, scones_potential, Ref{scones_matrix}, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), dual, which, points, out, err)
scones_dual_problem(dual, regularizer, lambda, cost, err) = ccall((:scones_dual_problem, libscones), scones_status, (Ptr{scones_dual}, Ref{scones_regularizer}, Ref{Cdouble}, Ref{scones_cost}, Ref{Ptr{scones_error}}), dual, regularizer, lambda, cost, err)
scones_dual_save(dual, path, err) = ccall((:scones_dual_save, libscones), scones_status, (Ptr{scones_dual}, Cstring, Ref{Ptr{scones_error}}), dual, path, err)
scones_dual_train(source, target, options, out, err) = ccall((:scones_dual_train, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Ptr{scones_dual_options}, Ref{Ptr{scones_dual}}, Ref{Ptr{scones_error}}), source, target, options, out, err)
scones_dual_train_measures(source, target, options, out, err) = ccall((:scones_dual_train_measures, libscones), scones_status, (Ptr{scones_measure}, Ptr{scones_measure}, Ptr{scones_dual_options}, Ref{Ptr{scones_dual}}, Ref{Ptr{scones_error}}), source, target, options, out, err)
scones_dual_train_report(dual, out, err) = ccall((:scones_dual_train_report, libscones), scones_status, (Ptr{scones_dual}, Ref{scones_train_report}, Ref{Ptr{scones_error}}), dual, out, err)
scones_error_code(err) = ccall((:scones_error_code, libscones), scones_status, (Ptr{scones_error},), err)
scones_error_free(err) = ccall((:scones_error_free, libscones), Cvoid, (Ptr{scones_error},), err)
scones_error_message(err) = ccall((:scones_error_message, libscones), Cstring, (Ptr{scones_error},), err)
scones_figure_free(fig) = ccall((:scones_figure_free, libscones), Cvoid, (Ptr{scones_figure},), fig)
scones_figure_legend(fig, panel, labels, colors, n, err) = ccall((:scones_figure_legend, libscones), scones_status, (Ptr{scones_figure}, Csize_t, Ptr{Cstring}, Ptr{UInt32}, Csize_t, Ref{Ptr{scones_error}}), fig, panel, labels, colors, n, err)
scones_figure_new(width, height, rows, cols, out, err) = ccall((:scones_figure_new, libscones), scones_status, (UInt32, UInt32, UInt32, UInt32, Ref{Ptr{scones_figure}}, Ref{Ptr{scones_error}}), width, height, rows, cols, out, err)
scones_figure_save_png(fig, path, err) = ccall((:scones_figure_save_png, libscones), scones_status, (Ptr{scones_figure}, Cstring, Ref{Ptr{scones_error}}), fig, path, err)
scones_figure_scatter(fig, panel, points_, rgba, radius, err) = ccall((:scones_figure_scatter, libscones), scones_status, (Ptr{scones_figure}, Csize_t, Ref{scones_matrix}, UInt32, Cdouble, Ref{Ptr{scones_error}}), fig, panel, points_, rgba, radius, err)
scones_figure_segments(fig, panel, from, to, rgba, err) = ccall((:scones_figure_segments, libscones), scones_status, (Ptr{scones_figure}, Csize_t, Ref{scones_matrix}, Ref{scones_matrix}, UInt32, Ref{Ptr{scones_error}}), fig, panel, from, to, rgba, err)
scones_figure_set_bounds(fig, panel, xmin, xmax, ymin, ymax, err) = ccall((:scones_figure_set_bounds, libscones), scones_status, (Ptr{scones_figure}, Csize_t, Cdouble, Cdouble, Cdouble, Cdouble, Ref{Ptr{scones_error}}), fig, panel, xmin, xmax, ymin, ymax, err)
scones_figure_title(fig, panel, text, err) = ccall((:scones_figure_title, libscones), scones_status, (Ptr{scones_figure}, Csize_t, Cstring, Ref{Ptr{scones_error}}), fig, panel, text, err)
scones_gaussian_entropic_coupling(cov_source, cov_target, lambda, out, err) = ccall((:scones_gaussian_entropic_coupling, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Cdouble, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), cov_source, cov_target, lambda, out, err)
scones_gaussian_random_covariance(d, spectrum, seed, out, err) = ccall((:scones_gaussian_random_covariance, libscones), scones_status, (Csize_t, scones_spectrum, UInt64, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), d, spectrum, seed, out, err)
scones_gaussian_sample(mean, cov, n, seed, out, err) = ccall((:scones_gaussian_sample, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Csize_t, UInt64, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), mean, cov, n, seed, out, err)
scones_joint_covariance(x, y, out, err) = ccall((:scones_joint_covariance, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), x, y, out, err)
scones_measure_free(measure) = ccall((:scones_measure_free, libscones), Cvoid, (Ptr{scones_measure},), measure)
scones_measure_new_callback(d, callback, user_data, out, err) = ccall((:scones_measure_new_callback, libscones), scones_status, (Csize_t, Ptr{Cvoid}, Ptr{Cvoid}, Ref{Ptr{scones_measure}}, Ref{Ptr{scones_error}}), d, callback, user_data, out, err)
scones_measure_new_points(points, out, err) = ccall((:scones_measure_new_points, libscones), scones_status, (Ref{scones_matrix}, Ref{Ptr{scones_measure}}, Ref{Ptr{scones_error}}), points, out, err)
scones_sample_batch(sampler, sources, out, err) = ccall((:scones_sample_batch, libscones), scones_status, (Ptr{scones_sampler}, Ref{scones_matrix}, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), sampler, sources, out, err)
scones_sample_batch_at(sampler, first_source_index, sources, out, err) = ccall((:scones_sample_batch_at, libscones), scones_status, (Ptr{scones_sampler}, UInt64, Ref{scones_matrix}, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), sampler, first_source_index, sources, out, err)
scones_sampler_free(sampler) = ccall((:scones_sampler_free, libscones), Cvoid, (Ptr{scones_sampler},), sampler)
scones_sampler_new(dual, score, options, out, err) = ccall((:scones_sampler_new, libscones), scones_status, (Ptr{scones_dual}, Ptr{scones_score}, Ptr{scones_sampler_options}, Ref{Ptr{scones_sampler}}, Ref{Ptr{scones_error}}), dual, score, options, out, err)
scones_sampler_options_free(opts) = ccall((:scones_sampler_options_free, libscones), Cvoid, (Ptr{scones_sampler_options},), opts)
scones_sampler_options_new(out, err) = ccall((:scones_sampler_options_new, libscones), scones_status, (Ref{Ptr{scones_sampler_options}}, Ref{Ptr{scones_error}}), out, err)
scones_sampler_options_set_adapt_step(opts, enabled, err) = ccall((:scones_sampler_options_set_adapt_step, libscones), scones_status, (Ptr{scones_sampler_options}, Int32, Ref{Ptr{scones_error}}), opts, enabled, err)
scones_sampler_options_set_annealing(opts, sigma_first, sigma_last, levels, denoise, err) = ccall((:scones_sampler_options_set_annealing, libscones), scones_status, (Ptr{scones_sampler_options}, Cdouble, Cdouble, Csize_t, Int32, Ref{Ptr{scones_error}}), opts, sigma_first, sigma_last, levels, denoise, err)
scones_sampler_options_set_chain_batch(opts, chains, err) = ccall((:scones_sampler_options_set_chain_batch, libscones), scones_status, (Ptr{scones_sampler_options}, Csize_t, Ref{Ptr{scones_error}}), opts, chains, err)
scones_sampler_options_set_compatibility(opts, enabled, err) = ccall((:scones_sampler_options_set_compatibility, libscones), scones_status, (Ptr{scones_sampler_options}, Int32, Ref{Ptr{scones_error}}), opts, enabled, err)
scones_sampler_options_set_compatibility_tempering(opts, enabled, err) = ccall((:scones_sampler_options_set_compatibility_tempering, libscones), scones_status, (Ptr{scones_sampler_options}, Int32, Ref{Ptr{scones_error}}), opts, enabled, err)
scones_sampler_options_set_compatibility_at_denoised(opts, enabled, err) = ccall((:scones_sampler_options_set_compatibility_at_denoised, libscones), scones_status, (Ptr{scones_sampler_options}, Int32, Ref{Ptr{scones_error}}), opts, enabled, err)
scones_sampler_options_set_device(opts, device, err) = ccall((:scones_sampler_options_set_device, libscones), scones_status, (Ptr{scones_sampler_options}, Cstring, Ref{Ptr{scones_error}}), opts, device, err)
scones_sampler_options_set_init(opts, init, err) = ccall((:scones_sampler_options_set_init, libscones), scones_status, (Ptr{scones_sampler_options}, scones_chain_init, Ref{Ptr{scones_error}}), opts, init, err)
scones_sampler_options_set_init_map(opts, map, err) = ccall((:scones_sampler_options_set_init_map, libscones), scones_status, (Ptr{scones_sampler_options}, Ptr{scones_barycentric}, Ref{Ptr{scones_error}}), opts, map, err)
scones_sampler_options_set_init_resample(opts, targets, sigma_start, err) = ccall((:scones_sampler_options_set_init_resample, libscones), scones_status, (Ptr{scones_sampler_options}, Ref{scones_matrix}, Cdouble, Ref{Ptr{scones_error}}), opts, targets, sigma_start, err)
scones_sampler_options_set_metropolis(opts, enabled, err) = ccall((:scones_sampler_options_set_metropolis, libscones), scones_status, (Ptr{scones_sampler_options}, Int32, Ref{Ptr{scones_error}}), opts, enabled, err)
scones_sampler_options_set_progress(opts, callback, user_data, every, err) = ccall((:scones_sampler_options_set_progress, libscones), scones_status, (Ptr{scones_sampler_options}, Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Ref{Ptr{scones_error}}), opts, callback, user_data, every, err)
scones_sampler_options_set_samples_per_source(opts, k, err) = ccall((:scones_sampler_options_set_samples_per_source, libscones), scones_status, (Ptr{scones_sampler_options}, Csize_t, Ref{Ptr{scones_error}}), opts, k, err)
scones_sampler_options_set_seed(opts, seed, err) = ccall((:scones_sampler_options_set_seed, libscones), scones_status, (Ptr{scones_sampler_options}, UInt64, Ref{Ptr{scones_error}}), opts, seed, err)
scones_sampler_options_set_softplus_beta(opts, beta, err) = ccall((:scones_sampler_options_set_softplus_beta, libscones), scones_status, (Ptr{scones_sampler_options}, Cdouble, Ref{Ptr{scones_error}}), opts, beta, err)
scones_sampler_options_set_steps(opts, steps_per_level, step_size, err) = ccall((:scones_sampler_options_set_steps, libscones), scones_status, (Ptr{scones_sampler_options}, Csize_t, Cdouble, Ref{Ptr{scones_error}}), opts, steps_per_level, step_size, err)
scones_sampler_options_set_threads(opts, threads, err) = ccall((:scones_sampler_options_set_threads, libscones), scones_status, (Ptr{scones_sampler_options}, Csize_t, Ref{Ptr{scones_error}}), opts, threads, err)
scones_sampler_report(sampler, out, err) = ccall((:scones_sampler_report, libscones), scones_status, (Ptr{scones_sampler}, Ref{scones_sample_report}, Ref{Ptr{scones_error}}), sampler, out, err)
scones_sampler_set_progress(sampler, callback, user_data, every, err) = ccall((:scones_sampler_set_progress, libscones), scones_status, (Ptr{scones_sampler}, Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Ref{Ptr{scones_error}}), sampler, callback, user_data, every, err)
scones_sampler_shape(sampler, dx, dy, k, err) = ccall((:scones_sampler_shape, libscones), scones_status, (Ptr{scones_sampler}, Ref{Csize_t}, Ref{Csize_t}, Ref{Csize_t}, Ref{Ptr{scones_error}}), sampler, dx, dy, k, err)
scones_score_dim(score, dim, err) = ccall((:scones_score_dim, libscones), scones_status, (Ptr{scones_score}, Ref{Csize_t}, Ref{Ptr{scones_error}}), score, dim, err)
scones_score_eval(score, y, sigma, out, err) = ccall((:scones_score_eval, libscones), scones_status, (Ptr{scones_score}, Ref{scones_matrix}, Cdouble, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), score, y, sigma, out, err)
scones_score_free(score) = ccall((:scones_score_free, libscones), Cvoid, (Ptr{scones_score},), score)
scones_score_load(path, out, err) = ccall((:scones_score_load, libscones), scones_status, (Cstring, Ref{Ptr{scones_score}}, Ref{Ptr{scones_error}}), path, out, err)
scones_score_new_callback(d, callback, user_data, out, err) = ccall((:scones_score_new_callback, libscones), scones_status, (Csize_t, Ptr{Cvoid}, Ptr{Cvoid}, Ref{Ptr{scones_score}}, Ref{Ptr{scones_error}}), d, callback, user_data, out, err)
scones_score_new_empirical(points, bandwidth, out, err) = ccall((:scones_score_new_empirical, libscones), scones_status, (Ref{scones_matrix}, Cdouble, Ref{Ptr{scones_score}}, Ref{Ptr{scones_error}}), points, bandwidth, out, err)
scones_score_new_gaussian(mean, cov, out, err) = ccall((:scones_score_new_gaussian, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Ref{Ptr{scones_score}}, Ref{Ptr{scones_error}}), mean, cov, out, err)
scones_score_new_torchscript(path, d, out, err) = ccall((:scones_score_new_torchscript, libscones), scones_status, (Cstring, Csize_t, Ref{Ptr{scones_score}}, Ref{Ptr{scones_error}}), path, d, out, err)
scones_score_save(score, path, err) = ccall((:scones_score_save, libscones), scones_status, (Ptr{scones_score}, Cstring, Ref{Ptr{scones_error}}), score, path, err)
scones_score_train(target, options, out, err) = ccall((:scones_score_train, libscones), scones_status, (Ptr{scones_measure}, Ptr{scones_train_options}, Ref{Ptr{scones_score}}, Ref{Ptr{scones_error}}), target, options, out, err)
scones_sliced_w2(a, b, projections, seed, out, err) = ccall((:scones_sliced_w2, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Csize_t, UInt64, Ref{Cdouble}, Ref{Ptr{scones_error}}), a, b, projections, seed, out, err)
scones_status_name(status) = ccall((:scones_status_name, libscones), Cstring, (scones_status,), status)
scones_toy_sample(toy, n, seed, out, err) = ccall((:scones_toy_sample, libscones), scones_status, (scones_toy, Csize_t, UInt64, Ref{scones_matrix_mut}, Ref{Ptr{scones_error}}), toy, n, seed, out, err)
scones_train_options_free(opts) = ccall((:scones_train_options_free, libscones), Cvoid, (Ptr{scones_train_options},), opts)
scones_train_options_new(out, err) = ccall((:scones_train_options_new, libscones), scones_status, (Ref{Ptr{scones_train_options}}, Ref{Ptr{scones_error}}), out, err)
scones_train_options_set_adam(opts, learning_rate, beta1, beta2, err) = ccall((:scones_train_options_set_adam, libscones), scones_status, (Ptr{scones_train_options}, Cdouble, Cdouble, Cdouble, Ref{Ptr{scones_error}}), opts, learning_rate, beta1, beta2, err)
scones_train_options_set_batch_size(opts, batch_size, err) = ccall((:scones_train_options_set_batch_size, libscones), scones_status, (Ptr{scones_train_options}, Csize_t, Ref{Ptr{scones_error}}), opts, batch_size, err)
scones_train_options_set_device(opts, device, err) = ccall((:scones_train_options_set_device, libscones), scones_status, (Ptr{scones_train_options}, Cstring, Ref{Ptr{scones_error}}), opts, device, err)
scones_train_options_set_hidden(opts, widths_, n, err) = ccall((:scones_train_options_set_hidden, libscones), scones_status, (Ptr{scones_train_options}, Ptr{Csize_t}, Csize_t, Ref{Ptr{scones_error}}), opts, widths_, n, err)
scones_train_options_set_iterations(opts, iterations, err) = ccall((:scones_train_options_set_iterations, libscones), scones_status, (Ptr{scones_train_options}, Csize_t, Ref{Ptr{scones_error}}), opts, iterations, err)
scones_train_options_set_noise_levels(opts, sigma_max, sigma_min, levels, err) = ccall((:scones_train_options_set_noise_levels, libscones), scones_status, (Ptr{scones_train_options}, Cdouble, Cdouble, Csize_t, Ref{Ptr{scones_error}}), opts, sigma_max, sigma_min, levels, err)
scones_train_options_set_score_parametrization(opts, parametrization, err) = ccall((:scones_train_options_set_score_parametrization, libscones), scones_status, (Ptr{scones_train_options}, scones_score_parametrization, Ref{Ptr{scones_error}}), opts, parametrization, err)
scones_train_options_set_collective(opts, collective, err) = ccall((:scones_train_options_set_collective, libscones), scones_status, (Ptr{scones_train_options}, Ref{scones_collective}, Ref{Ptr{scones_error}}), opts, collective, err)
scones_train_options_set_progress(opts, callback, user_data, every, err) = ccall((:scones_train_options_set_progress, libscones), scones_status, (Ptr{scones_train_options}, Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Ref{Ptr{scones_error}}), opts, callback, user_data, every, err)
scones_train_options_set_schedule(opts, schedule, final_fraction, err) = ccall((:scones_train_options_set_schedule, libscones), scones_status, (Ptr{scones_train_options}, scones_lr_schedule, Cdouble, Ref{Ptr{scones_error}}), opts, schedule, final_fraction, err)
scones_train_options_set_seed(opts, seed, err) = ccall((:scones_train_options_set_seed, libscones), scones_status, (Ptr{scones_train_options}, UInt64, Ref{Ptr{scones_error}}), opts, seed, err)
scones_train_options_set_threads(opts, threads, err) = ccall((:scones_train_options_set_threads, libscones), scones_status, (Ptr{scones_train_options}, Csize_t, Ref{Ptr{scones_error}}), opts, threads, err)
scones_version() = ccall((:scones_version, libscones), Cstring, ())

# discrete OT; nullable matrices (weights, plan, duals) cross as Ptr (C_NULL or a pointer to a Ref)
scones_assignment(cost, assignment, total_cost, u, v, err) = ccall((:scones_assignment, libscones), scones_status, (Ref{scones_matrix}, Ptr{Csize_t}, Ref{Cdouble}, Ptr{scones_matrix_mut}, Ptr{scones_matrix_mut}, Ref{Ptr{scones_error}}), cost, assignment, total_cost, u, v, err)
scones_discrete_fdual(source, target, source_weights, target_weights, cost, regularizer, lambda, options, phi, psi, plan, report_out, err) = ccall((:scones_discrete_fdual, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Ptr{scones_matrix}, Ptr{scones_matrix}, scones_cost, scones_regularizer, Cdouble, Ptr{scones_discrete_options}, Ref{scones_matrix_mut}, Ref{scones_matrix_mut}, Ptr{scones_matrix_mut}, Ref{scones_discrete_report}, Ref{Ptr{scones_error}}), source, target, source_weights, target_weights, cost, regularizer, lambda, options, phi, psi, plan, report_out, err)
scones_discrete_options_free(opts) = ccall((:scones_discrete_options_free, libscones), Cvoid, (Ptr{scones_discrete_options},), opts)
scones_discrete_options_new(out, err) = ccall((:scones_discrete_options_new, libscones), scones_status, (Ref{Ptr{scones_discrete_options}}, Ref{Ptr{scones_error}}), out, err)
scones_discrete_options_set_ipot(opts, beta_relative, inner_iterations, err) = ccall((:scones_discrete_options_set_ipot, libscones), scones_status, (Ptr{scones_discrete_options}, Cdouble, Csize_t, Ref{Ptr{scones_error}}), opts, beta_relative, inner_iterations, err)
scones_discrete_options_set_max_iterations(opts, max_iterations, err) = ccall((:scones_discrete_options_set_max_iterations, libscones), scones_status, (Ptr{scones_discrete_options}, UInt64, Ref{Ptr{scones_error}}), opts, max_iterations, err)
scones_discrete_options_set_progress(opts, callback, user_data, every, err) = ccall((:scones_discrete_options_set_progress, libscones), scones_status, (Ptr{scones_discrete_options}, Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Ref{Ptr{scones_error}}), opts, callback, user_data, every, err)
scones_discrete_options_set_tolerance(opts, tol, err) = ccall((:scones_discrete_options_set_tolerance, libscones), scones_status, (Ptr{scones_discrete_options}, Cdouble, Ref{Ptr{scones_error}}), opts, tol, err)
scones_ipot(source, target, source_weights, target_weights, cost, options, plan, report_out, err) = ccall((:scones_ipot, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Ptr{scones_matrix}, Ptr{scones_matrix}, scones_cost, Ptr{scones_discrete_options}, Ref{scones_matrix_mut}, Ref{scones_discrete_report}, Ref{Ptr{scones_error}}), source, target, source_weights, target_weights, cost, options, plan, report_out, err)
scones_sinkhorn(source, target, source_weights, target_weights, cost, lambda, options, f, g, plan, report_out, err) = ccall((:scones_sinkhorn, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Ptr{scones_matrix}, Ptr{scones_matrix}, scones_cost, Cdouble, Ptr{scones_discrete_options}, Ref{scones_matrix_mut}, Ref{scones_matrix_mut}, Ptr{scones_matrix_mut}, Ref{scones_discrete_report}, Ref{Ptr{scones_error}}), source, target, source_weights, target_weights, cost, lambda, options, f, g, plan, report_out, err)
scones_discrete_fdual_cost(cost, source_weights, target_weights, regularizer, lambda, options, phi, psi, plan, report_out, err) = ccall((:scones_discrete_fdual_cost, libscones), scones_status, (Ref{scones_matrix}, Ptr{scones_matrix}, Ptr{scones_matrix}, scones_regularizer, Cdouble, Ptr{scones_discrete_options}, Ref{scones_matrix_mut}, Ref{scones_matrix_mut}, Ptr{scones_matrix_mut}, Ref{scones_discrete_report}, Ref{Ptr{scones_error}}), cost, source_weights, target_weights, regularizer, lambda, options, phi, psi, plan, report_out, err)
scones_ipot_cost(cost, source_weights, target_weights, options, plan, report_out, err) = ccall((:scones_ipot_cost, libscones), scones_status, (Ref{scones_matrix}, Ptr{scones_matrix}, Ptr{scones_matrix}, Ptr{scones_discrete_options}, Ref{scones_matrix_mut}, Ref{scones_discrete_report}, Ref{Ptr{scones_error}}), cost, source_weights, target_weights, options, plan, report_out, err)
scones_sinkhorn_cost(cost, source_weights, target_weights, lambda, options, f, g, plan, report_out, err) = ccall((:scones_sinkhorn_cost, libscones), scones_status, (Ref{scones_matrix}, Ptr{scones_matrix}, Ptr{scones_matrix}, Cdouble, Ptr{scones_discrete_options}, Ref{scones_matrix_mut}, Ref{scones_matrix_mut}, Ptr{scones_matrix_mut}, Ref{scones_discrete_report}, Ref{Ptr{scones_error}}), cost, source_weights, target_weights, lambda, options, f, g, plan, report_out, err)
scones_spot_cost_estimate(spot, n, seed, estimate, standard_error, err) = ccall((:scones_spot_cost_estimate, libscones), scones_status, (Ptr{scones_spot}, Csize_t, UInt64, Ref{Cdouble}, Ref{Cdouble}, Ref{Ptr{scones_error}}), spot, n, seed, estimate, standard_error, err)
scones_spot_dims(spot, dims, capacity, count, err) = ccall((:scones_spot_dims, libscones), scones_status, (Ptr{scones_spot}, Ptr{Csize_t}, Csize_t, Ref{Csize_t}, Ref{Ptr{scones_error}}), spot, dims, capacity, count, err)
scones_spot_free(spot) = ccall((:scones_spot_free, libscones), Cvoid, (Ptr{scones_spot},), spot)
scones_spot_load(path, device, out, err) = ccall((:scones_spot_load, libscones), scones_status, (Cstring, Cstring, Ref{Ptr{scones_spot}}, Ref{Ptr{scones_error}}), path, device, out, err)
scones_spot_options_free(opts) = ccall((:scones_spot_options_free, libscones), Cvoid, (Ptr{scones_spot_options},), opts)
scones_spot_options_new(out, err) = ccall((:scones_spot_options_new, libscones), scones_status, (Ref{Ptr{scones_spot_options}}, Ref{Ptr{scones_error}}), out, err)
scones_spot_options_set_adam(opts, learning_rate, beta1, beta2, err) = ccall((:scones_spot_options_set_adam, libscones), scones_status, (Ptr{scones_spot_options}, Cdouble, Cdouble, Cdouble, Ref{Ptr{scones_error}}), opts, learning_rate, beta1, beta2, err)
scones_spot_options_set_batch(opts, batch_size, iterations, err) = ccall((:scones_spot_options_set_batch, libscones), scones_status, (Ptr{scones_spot_options}, Csize_t, Csize_t, Ref{Ptr{scones_error}}), opts, batch_size, iterations, err)
scones_spot_options_set_cost(opts, cost, err) = ccall((:scones_spot_options_set_cost, libscones), scones_status, (Ptr{scones_spot_options}, scones_cost, Ref{Ptr{scones_error}}), opts, cost, err)
scones_spot_options_set_linear_cost(opts, a, b, err) = ccall((:scones_spot_options_set_linear_cost, libscones), scones_status, (Ptr{scones_spot_options}, Ref{scones_matrix}, Ref{scones_matrix}, Ref{Ptr{scones_error}}), opts, a, b, err)
scones_spot_options_set_torchscript_cost(opts, path, dx, dy, curvature, err) = ccall((:scones_spot_options_set_torchscript_cost, libscones), scones_status, (Ptr{scones_spot_options}, Cstring, Csize_t, Csize_t, Cdouble, Ref{Ptr{scones_error}}), opts, path, dx, dy, curvature, err)
scones_spot_options_set_entropy(opts, lambda, steps, err) = ccall((:scones_spot_options_set_entropy, libscones), scones_status, (Ptr{scones_spot_options}, Cdouble, Csize_t, Ref{Ptr{scones_error}}), opts, lambda, steps, err)
scones_spot_options_set_device(opts, device, err) = ccall((:scones_spot_options_set_device, libscones), scones_status, (Ptr{scones_spot_options}, Cstring, Ref{Ptr{scones_error}}), opts, device, err)
scones_spot_options_set_generator_ema(opts, decay, err) = ccall((:scones_spot_options_set_generator_ema, libscones), scones_status, (Ptr{scones_spot_options}, Cdouble, Ref{Ptr{scones_error}}), opts, decay, err)
scones_spot_options_set_hidden(opts, generator, n_generator, critic, n_critic_layers, err) = ccall((:scones_spot_options_set_hidden, libscones), scones_status, (Ptr{scones_spot_options}, Ptr{Csize_t}, Csize_t, Ptr{Csize_t}, Csize_t, Ref{Ptr{scones_error}}), opts, generator, n_generator, critic, n_critic_layers, err)
scones_spot_options_set_latent_dim(opts, latent_dim, err) = ccall((:scones_spot_options_set_latent_dim, libscones), scones_status, (Ptr{scones_spot_options}, Csize_t, Ref{Ptr{scones_error}}), opts, latent_dim, err)
scones_spot_options_set_penalty(opts, eta, n_critic, err) = ccall((:scones_spot_options_set_penalty, libscones), scones_status, (Ptr{scones_spot_options}, Cdouble, Csize_t, Ref{Ptr{scones_error}}), opts, eta, n_critic, err)
scones_spot_options_set_preset(opts, preset, err) = ccall((:scones_spot_options_set_preset, libscones), scones_status, (Ptr{scones_spot_options}, scones_spot_preset, Ref{Ptr{scones_error}}), opts, preset, err)
scones_spot_options_set_progress(opts, callback, user_data, every, err) = ccall((:scones_spot_options_set_progress, libscones), scones_status, (Ptr{scones_spot_options}, Ptr{Cvoid}, Ptr{Cvoid}, Csize_t, Ref{Ptr{scones_error}}), opts, callback, user_data, every, err)
scones_spot_options_set_schedule(opts, schedule, final_fraction, err) = ccall((:scones_spot_options_set_schedule, libscones), scones_status, (Ptr{scones_spot_options}, scones_lr_schedule, Cdouble, Ref{Ptr{scones_error}}), opts, schedule, final_fraction, err)
scones_spot_options_set_seed(opts, seed, err) = ccall((:scones_spot_options_set_seed, libscones), scones_status, (Ptr{scones_spot_options}, UInt64, Ref{Ptr{scones_error}}), opts, seed, err)
scones_spot_options_set_shared_generator(opts, shared, err) = ccall((:scones_spot_options_set_shared_generator, libscones), scones_status, (Ptr{scones_spot_options}, Int32, Ref{Ptr{scones_error}}), opts, shared, err)
scones_spot_options_set_threads(opts, threads, err) = ccall((:scones_spot_options_set_threads, libscones), scones_status, (Ptr{scones_spot_options}, Csize_t, Ref{Ptr{scones_error}}), opts, threads, err)
scones_spot_sample(spot, seed, outs, count, err) = ccall((:scones_spot_sample, libscones), scones_status, (Ptr{scones_spot}, UInt64, Ptr{scones_matrix_mut}, Csize_t, Ref{Ptr{scones_error}}), spot, seed, outs, count, err)
scones_spot_save(spot, path, err) = ccall((:scones_spot_save, libscones), scones_status, (Ptr{scones_spot}, Cstring, Ref{Ptr{scones_error}}), spot, path, err)
scones_spot_train(source, target, options, out, err) = ccall((:scones_spot_train, libscones), scones_status, (Ref{scones_matrix}, Ref{scones_matrix}, Ptr{scones_spot_options}, Ref{Ptr{scones_spot}}, Ref{Ptr{scones_error}}), source, target, options, out, err)
scones_spot_train_measures(marginals, count, options, out, err) = ccall((:scones_spot_train_measures, libscones), scones_status, (Ptr{Ptr{scones_measure}}, Csize_t, Ptr{scones_spot_options}, Ref{Ptr{scones_spot}}, Ref{Ptr{scones_error}}), marginals, count, options, out, err)
scones_spot_train_report(spot, out, err) = ccall((:scones_spot_train_report, libscones), scones_status, (Ptr{scones_spot}, Ref{scones_spot_report}, Ref{Ptr{scones_error}}), spot, out, err)

end # module LibScones
