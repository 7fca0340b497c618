// scones.hpp: header-only C++17 RAII wrapper over the scones C ABI (scones.h).
//
// Thin by design: no math here, every call forwards to one C function.
// - Handles (Dual, Score, Sampler, Measure, Barycentric, Figure, Spot, DualOptions, SamplerOptions,
//   TrainOptions, DiscreteOptions, SpotOptions) are move-only and free their C handle in the destructor. A moved-from handle
//   is empty; the library rejects it with Status::InvalidArgument.
// - Failures throw scones::Error, a std::runtime_error carrying the status code and the
//   library's message.
// - Arrays cross as non-owning strided views (View, MutView) over double or float data, with
//   rows = points and columns = coordinates: row-major, column-major, any strides; no copies.
// - Options have fluent setters: DualOptions().regularizer(Regularizer::Kl, 4).iterations(500).
// - Discrete OT (sinkhorn, ipot, discrete_fdual, assignment) returns owning results with a
//   DiscreteReport; DiscreteOptions().tolerance(1e-9).progress(fn) configures the solvers. Each
//   solver also has an overload that writes into caller views (MutView) and returns the report,
//   and a *_cost form on a dense cost matrix (as POT's ot.sinkhorn(a, b, M, reg)).
// - SPOT (since 0.3): Spot::train(x, y, SpotOptions().cost(Cost::Euclidean)) is a generator of
//   paired samples of the plan; sample(n, seed) returns one Matrix per marginal, row i of each
//   from the same latent draw, and cost_estimate(n, seed) the plan's cost with its standard error.
// - Progress is a std::function<bool(const Progress&)>: return false to cancel (the call then
//   throws Error with Status::Cancelled); an exception thrown by it is carried across the C
//   boundary and rethrown from the call.
// - Host callbacks (Score::callback, Measure::callback) are std::functions. One that throws stops
//   the call, which throws Error with Status::Callback; the callback's own exception is nested in
//   it (std::rethrow_if_nested recovers it). The wrapper keeps each function alive for as long as
//   a C object can call it (a Sampler keeps its score's function).
// - Thread safety as in scones.h: different handles may be used from different threads.
//
// Adding a C function is one line: a method whose body is detail::call(scones_fn, args...).
#ifndef SCONES_HPP
#define SCONES_HPP

#include <cstddef>
#include <cstdint>
#include <exception>
#include <functional>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "scones.h"

namespace scones {

// ---------------------------------------------------------------------------------- enums

enum class Status : scones_status {
  Ok = SCONES_STATUS_OK,
  InvalidArgument = SCONES_STATUS_INVALID_ARGUMENT,
  ShapeMismatch = SCONES_STATUS_SHAPE_MISMATCH,
  NonFinite = SCONES_STATUS_NON_FINITE,
  Io = SCONES_STATUS_IO,
  Format = SCONES_STATUS_FORMAT,
  DeviceUnavailable = SCONES_STATUS_DEVICE_UNAVAILABLE,
  Cancelled = SCONES_STATUS_CANCELLED,
  Diverged = SCONES_STATUS_DIVERGED,
  Callback = SCONES_STATUS_CALLBACK,
  Internal = SCONES_STATUS_INTERNAL,
};

enum class Regularizer : scones_regularizer {
  Kl = SCONES_REGULARIZER_KL,
  ChiSquare = SCONES_REGULARIZER_CHI_SQUARE,
  KlCuturi = SCONES_REGULARIZER_KL_CUTURI,
  ReverseKl = SCONES_REGULARIZER_REVERSE_KL,
  SquaredHellinger = SCONES_REGULARIZER_SQUARED_HELLINGER,
  JensenShannon = SCONES_REGULARIZER_JENSEN_SHANNON,
  Gan = SCONES_REGULARIZER_GAN,
};

enum class Cost : scones_cost {
  SqEuclidean = SCONES_COST_SQEUCLIDEAN,
  MeanSqEuclidean = SCONES_COST_MEAN_SQEUCLIDEAN,
  Euclidean = SCONES_COST_EUCLIDEAN,  // since 0.3: dual training, discrete solvers, SPOT; not sampling
  // since 0.3: |A y - B x|^2, reported by Dual::problem(); set with DualOptions::linear_cost(A, B)
  Linear = SCONES_COST_LINEAR,
  TorchScript = SCONES_COST_TORCHSCRIPT,  // since 0.3: DualOptions::torchscript_cost
  Callback = SCONES_COST_CALLBACK,        // since 0.3: DualOptions::cost_callback
};

enum class BatchMode : scones_batch_mode {
  Paired = SCONES_BATCH_PAIRED,
  AllPairs = SCONES_BATCH_ALL_PAIRS,
};

enum class LrSchedule : scones_lr_schedule {
  Constant = SCONES_LR_CONSTANT,
  Cosine = SCONES_LR_COSINE,
};

/// How a trained score network's output becomes a score.
enum class ScoreParametrization : scones_score_parametrization {
  Preconditioned = SCONES_SCORE_PARAMETRIZATION_PRECONDITIONED,
  Ncsn = SCONES_SCORE_PARAMETRIZATION_NCSN,
};

enum class ChainInit : scones_chain_init {
  Noise = SCONES_INIT_NOISE,
  Source = SCONES_INIT_SOURCE,
};

enum class Potential : scones_potential {
  Phi = SCONES_POTENTIAL_PHI,
  Psi = SCONES_POTENTIAL_PSI,
};

enum class Spectrum : scones_spectrum {
  Geometric = SCONES_SPECTRUM_GEOMETRIC,
  Uniform1To10 = SCONES_SPECTRUM_UNIFORM_1_10,
};

enum class Toy : scones_toy {
  Gaussian = SCONES_TOY_GAUSSIAN,
  SwissRoll = SCONES_TOY_SWISS_ROLL,
  Moons = SCONES_TOY_MOONS,
  Circle = SCONES_TOY_CIRCLE,
  EightGaussians = SCONES_TOY_8GAUSSIANS,
};

enum class Phase : scones_phase {
  DualTraining = SCONES_PHASE_DUAL_TRAINING,
  Sampling = SCONES_PHASE_SAMPLING,
  ScoreTraining = SCONES_PHASE_SCORE_TRAINING,
  BarycentricTraining = SCONES_PHASE_BARYCENTRIC_TRAINING,
  Discrete = SCONES_PHASE_DISCRETE,  // since 0.2: Sinkhorn, IPOT, the f-divergence dual
  SpotTraining = SCONES_PHASE_SPOT_TRAINING,  // since 0.3: objective = E c(G(z)), marginal_error = the critics' gap
};

/// Starting point of SpotOptions::preset (since 0.3).
enum class SpotPreset : scones_spot_preset {
  Tuned = SCONES_SPOT_PRESET_TUNED,    // the defaults
  Thesis = SCONES_SPOT_PRESET_THESIS,  // the thesis' section 3.6.1
};

/// A static name for a status ("ok", "invalid_argument", ...).
inline const char* status_name(Status s) noexcept { return scones_status_name(static_cast<scones_status>(s)); }

/// Library version "MAJOR.MINOR.PATCH" (of the loaded library, not of this header).
inline std::string version() { return scones_version(); }

/// Whether the loaded library can run a program built against this header: the rule of
/// scones.h (scones_version), the same major and a minor at least the header's.
inline bool version_compatible() noexcept {
  unsigned major = 0, minor = 0;
  const char* v = scones_version();
  std::size_t i = 0;
  for (; v[i] >= '0' && v[i] <= '9'; i++) major = major * 10 + static_cast<unsigned>(v[i] - '0');
  if (i == 0 || v[i++] != '.') return false;
  const std::size_t start = i;
  for (; v[i] >= '0' && v[i] <= '9'; i++) minor = minor * 10 + static_cast<unsigned>(v[i] - '0');
  return i > start && major == SCONES_VERSION_MAJOR && minor >= SCONES_VERSION_MINOR;
}

/// Whether this build can use CUDA on this machine.
inline bool cuda_available() noexcept { return scones_cuda_available() != 0; }

// ---------------------------------------------------------------------------------- errors

/// A failed call: the status code and the library's message.
class Error : public std::runtime_error {
 public:
  Error(Status status, const std::string& message)
      : std::runtime_error(std::string(status_name(status)) + ": " + message), status_(status), message_(message) {}
  Status status() const noexcept { return status_; }
  scones_status code() const noexcept { return static_cast<scones_status>(status_); }
  /// The library's message alone (what() is "<status name>: <message>").
  const std::string& message() const noexcept { return message_; }

 private:
  Status status_;
  std::string message_;
};

namespace detail {

/// Turns a status and its error object into an exception (freeing the object).
inline void throw_error(scones_status st, scones_error* err) {
  std::string msg = err ? scones_error_message(err) : "";
  scones_error_free(err);
  throw Error(static_cast<Status>(st), msg.empty() ? std::string(scones_status_name(st)) : msg);
}

/// Calls a fallible C function, appending the `scones_error**` argument, and throws on failure.
template <class F, class... Args>
void call(F f, Args&&... args) {
  scones_error* err = nullptr;
  scones_status st = f(std::forward<Args>(args)..., &err);
  if (st != SCONES_STATUS_OK) throw_error(st, err);
}

/// Unique ownership of a C handle released by Free (which accepts NULL).
template <class T, void (*Free)(T*)>
class Handle {
 public:
  Handle() noexcept = default;
  explicit Handle(T* p) noexcept : p_(p) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& o) noexcept : p_(std::exchange(o.p_, nullptr)) {}
  Handle& operator=(Handle&& o) noexcept {
    if (this != &o) reset(std::exchange(o.p_, nullptr));
    return *this;
  }
  ~Handle() { Free(p_); }
  T* get() const noexcept { return p_; }
  T* release() noexcept { return std::exchange(p_, nullptr); }
  void reset(T* p = nullptr) noexcept { Free(std::exchange(p_, p)); }
  explicit operator bool() const noexcept { return p_ != nullptr; }

 private:
  T* p_ = nullptr;
};

template <class T>
constexpr scones_dtype dtype_of() {
  static_assert(std::is_same<T, double>::value || std::is_same<T, float>::value,
                "scones views hold double or float");
  return std::is_same<T, double>::value ? SCONES_DTYPE_F64 : SCONES_DTYPE_F32;
}

}  // namespace detail

// ---------------------------------------------------------------------------------- views

/// A read-only strided matrix view (rows = points, columns = coordinates); strides count
/// elements. It does not own its data, which must outlive the calls it is passed to.
class View {
 public:
  /// Contiguous row-major rows x cols.
  template <class T>
  View(const T* data, std::size_t rows, std::size_t cols)
      : m_{data, rows, cols, static_cast<std::ptrdiff_t>(cols), 1, detail::dtype_of<T>()} {}
  /// Any strides (in elements; may be negative).
  template <class T>
  View(const T* data, std::size_t rows, std::size_t cols, std::ptrdiff_t row_stride, std::ptrdiff_t col_stride)
      : m_{data, rows, cols, row_stride, col_stride, detail::dtype_of<T>()} {}
  /// A contiguous container (std::vector<double>, std::array<float, N>, ...) read as row-major
  /// rows of `cols` coordinates; throws Error(ShapeMismatch) if its size is not a multiple.
  template <class C, class T = std::remove_const_t<std::remove_pointer_t<decltype(std::declval<const C&>().data())>>>
  View(const C& c, std::size_t cols) : View(c.data(), cols ? c.size() / cols : 0, cols) {
    if (cols == 0 || c.size() % cols != 0)
      throw Error(Status::ShapeMismatch, std::to_string(c.size()) + " values are not rows of " + std::to_string(cols));
  }
  /// A column-major rows x cols matrix (e.g. Eigen's default, Fortran) with leading dimension ld.
  template <class T>
  static View col_major(const T* data, std::size_t rows, std::size_t cols, std::ptrdiff_t ld = 0) {
    return View(data, rows, cols, 1, ld ? ld : static_cast<std::ptrdiff_t>(rows));
  }
  View(const scones_matrix& m) noexcept : m_(m) {}  // NOLINT: implicit from the C view

  std::size_t rows() const noexcept { return m_.rows; }
  std::size_t cols() const noexcept { return m_.cols; }
  const scones_matrix* c() const noexcept { return &m_; }

 private:
  scones_matrix m_;
};

/// A writable strided matrix view, filled by the library (only on success).
class MutView {
 public:
  template <class T>
  MutView(T* data, std::size_t rows, std::size_t cols)
      : m_{data, rows, cols, static_cast<std::ptrdiff_t>(cols), 1, detail::dtype_of<T>()} {}
  template <class T>
  MutView(T* data, std::size_t rows, std::size_t cols, std::ptrdiff_t row_stride, std::ptrdiff_t col_stride)
      : m_{data, rows, cols, row_stride, col_stride, detail::dtype_of<T>()} {}
  template <class C, class T = std::remove_pointer_t<decltype(std::declval<C&>().data())>,
            class = std::enable_if_t<!std::is_const<T>::value>>
  MutView(C& c, std::size_t cols) : MutView(c.data(), cols ? c.size() / cols : 0, cols) {
    if (cols == 0 || c.size() % cols != 0)
      throw Error(Status::ShapeMismatch, std::to_string(c.size()) + " values are not rows of " + std::to_string(cols));
  }
  template <class T>
  static MutView col_major(T* data, std::size_t rows, std::size_t cols, std::ptrdiff_t ld = 0) {
    return MutView(data, rows, cols, 1, ld ? ld : static_cast<std::ptrdiff_t>(rows));
  }
  MutView(const scones_matrix_mut& m) noexcept : m_(m) {}  // NOLINT: implicit from the C view

  std::size_t rows() const noexcept { return m_.rows; }
  std::size_t cols() const noexcept { return m_.cols; }
  const scones_matrix_mut* c() const noexcept { return &m_; }
  /// The same memory as a read-only view.
  View view() const noexcept { return View(scones_matrix{m_.data, m_.rows, m_.cols, m_.row_stride, m_.col_stride, m_.dtype}); }

 private:
  scones_matrix_mut m_;
};

/// An owning row-major matrix of doubles, returned by the convenience overloads.
struct Matrix {
  std::size_t rows = 0, cols = 0;
  std::vector<double> data;

  Matrix() = default;
  Matrix(std::size_t r, std::size_t c) : rows(r), cols(c), data(r * c) {}
  double& operator()(std::size_t i, std::size_t j) { return data[i * cols + j]; }
  double operator()(std::size_t i, std::size_t j) const { return data[i * cols + j]; }
  operator View() const { return View(data.data(), rows, cols); }  // NOLINT: a matrix is a view
  MutView mut() { return MutView(data.data(), rows, cols); }
};

// ---------------------------------------------------------------------------------- progress

/// A progress report (see scones_progress); NaN marks fields that do not apply.
struct Progress {
  Phase phase;
  std::uint64_t iteration, total;
  double objective, mean_compatibility, extension_fraction, acceptance;
  double marginal_error;  // Phase::Discrete: the current l1 marginal violation; SpotTraining: the critics' gap
};

/// Return true to continue, false to cancel the call.
using ProgressFn = std::function<bool(const Progress&)>;

namespace detail {

/// The host side of a progress callback. Shared by options and the calls/samplers that use
/// them: the C library keeps the user_data pointer for as long as a sampler lives.
struct ProgressState {
  ProgressFn fn;
  std::exception_ptr error;

  static int32_t trampoline(void* user, const scones_progress* p) noexcept {
    auto* self = static_cast<ProgressState*>(user);
    try {
      // marginal_error was appended in 0.2: struct_size says whether this library filled it.
      const bool has_marginal = p->struct_size >= offsetof(scones_progress, marginal_error) + sizeof(double);
      Progress q{static_cast<Phase>(p->phase), p->iteration, p->total, p->objective,
                 p->mean_compatibility, p->extension_fraction, p->acceptance,
                 has_marginal ? p->marginal_error : std::numeric_limits<double>::quiet_NaN()};
      return self->fn(q) ? 0 : 1;
    } catch (...) {
      self->error = std::current_exception();  // no exception crosses into the library
      return 1;
    }
  }
};

/// The first exception a host score or measure callback threw on this thread during the
/// current call. Callbacks run on the thread that made the call, so a thread-local slot keeps
/// concurrent calls (two samplers sharing one callback score) apart.
inline std::exception_ptr& callback_error() noexcept {
  thread_local std::exception_ptr e;
  return e;
}

inline int32_t keep_callback_error() noexcept {
  if (!callback_error()) callback_error() = std::current_exception();
  return 1;
}

/// Runs a call that may report progress to `state` or call host score / measure functions. An
/// exception from the progress function is rethrown as itself (the call was cancelled); one from
/// a host callback comes back as Error(Status::Callback) with the exception nested in it.
template <class F, class... Args>
void call_with_progress(ProgressState* state, F f, Args&&... args) {
  if (state) state->error = nullptr;
  std::exception_ptr outer = std::exchange(callback_error(), nullptr);  // a callback calling us
  scones_error* err = nullptr;
  scones_status st = f(std::forward<Args>(args)..., &err);
  std::exception_ptr from_callback = std::exchange(callback_error(), outer);
  if (st == SCONES_STATUS_OK) return;
  if (state && state->error) {
    scones_error_free(err);
    std::rethrow_exception(std::exchange(state->error, nullptr));
  }
  if (from_callback && st == SCONES_STATUS_CALLBACK) {
    std::string msg = err ? scones_error_message(err) : "host callback failed";
    scones_error_free(err);
    try {
      std::rethrow_exception(from_callback);
    } catch (const std::exception& e) {
      std::throw_with_nested(Error(Status::Callback, msg + ": " + e.what()));
    } catch (...) {
      std::throw_with_nested(Error(Status::Callback, msg + ": a non-standard exception"));
    }
  }
  throw_error(st, err);
}

/// Shared state of a progress callback installed in an option object.
inline std::shared_ptr<ProgressState> make_progress(ProgressFn fn) {
  if (!fn) return nullptr;
  auto state = std::make_shared<ProgressState>();
  state->fn = std::move(fn);
  return state;
}

}  // namespace detail

// ---------------------------------------------------------------------------------- host callbacks

/// A host score: fill out (n x d, row-major) with s(y, sigma) at the n rows of y (n x d,
/// row-major); sigma = 0 is the clean target. Throwing fails the call with Status::Callback.
using ScoreFn = std::function<void(const double* y, std::size_t n, std::size_t d, double sigma, double* out)>;

/// A host sampler of a measure: fill out (m x d, row-major) with m points, drawn with `seed`
/// (which comes from the training run's seeded stream). Throwing fails the call with
/// Status::Callback.
using MeasureFn = std::function<void(double* out, std::size_t m, std::size_t d, std::uint64_t seed)>;

/// A host ground cost (since 0.3): values[i] = c(x_i, y_i) for the m row pairs of x (m x dx) and
/// y (m x dy), row-major, and, when grad_y is not null, grad_y (m x dy) = its gradient in y.
/// Throwing fails the call with Status::Callback.
using CostFn = std::function<void(const double* x, const double* y, std::size_t m, std::size_t dx, std::size_t dy,
                                  double* values, double* grad_y)>;

/// The host's all-reduce of data-parallel training (since 0.3): replace buffer[0..count], on
/// every rank, by the element-wise sum over all ranks, e.g.
/// MPI_Allreduce(MPI_IN_PLACE, buffer, count, MPI_FLOAT, MPI_SUM, comm) == MPI_SUCCESS. Return
/// false or throw to end the training call on this rank with Status::Callback (the host's layer
/// must then fail the other ranks, as MPI's default error handler does).
using AllReduceFn = std::function<bool(float* buffer, std::size_t count)>;

namespace detail {

struct CostState {
  CostFn fn;
  static int32_t trampoline(void* user, std::size_t m, std::size_t dx, std::size_t dy, const double* x, const double* y,
                            double* values, double* grad_y) noexcept {
    try {
      static_cast<CostState*>(user)->fn(x, y, m, dx, dy, values, grad_y);
      return 0;
    } catch (...) {
      return keep_callback_error();
    }
  }
};

struct ScoreState {
  ScoreFn fn;
  static int32_t trampoline(void* user, const double* y, std::size_t n, std::size_t d, double sigma, double* out) noexcept {
    try {
      static_cast<ScoreState*>(user)->fn(y, n, d, sigma, out);
      return 0;
    } catch (...) {
      return keep_callback_error();  // no exception crosses into the library
    }
  }
};

struct MeasureState {
  MeasureFn fn;
  static int32_t trampoline(void* user, std::size_t m, std::size_t d, std::uint64_t seed, double* out) noexcept {
    try {
      static_cast<MeasureState*>(user)->fn(out, m, d, seed);
      return 0;
    } catch (...) {
      return keep_callback_error();
    }
  }
};

struct CollectiveState {
  AllReduceFn fn;
  static int32_t trampoline(void* user, float* buffer, std::size_t count) noexcept {
    try {
      return static_cast<CollectiveState*>(user)->fn(buffer, count) ? 0 : 1;
    } catch (...) {
      return keep_callback_error();
    }
  }
};

/// Installs (or, for an empty function, removes) a collective through `setter`; the state it
/// returns must outlive every training call that uses the options.
template <class Options, class Setter>
std::shared_ptr<CollectiveState> set_collective(Options* opts, Setter setter, std::size_t rank, std::size_t size,
                                                AllReduceFn fn) {
  if (!fn) {
    call(setter, opts, static_cast<const scones_collective*>(nullptr));
    return nullptr;
  }
  auto state = std::make_shared<CollectiveState>();
  state->fn = std::move(fn);
  scones_collective c{};
  c.struct_size = sizeof c;
  c.rank = rank;
  c.size = size;
  c.allreduce_sum = &CollectiveState::trampoline;
  c.user_data = state.get();
  call(setter, opts, static_cast<const scones_collective*>(&c));
  return state;
}

}  // namespace detail

// ---------------------------------------------------------------------------------- options

/// Options of Dual::train (defaults in scones.h: the paper's settings).
class DualOptions {
 public:
  DualOptions() {
    scones_dual_options* p = nullptr;
    detail::call(scones_dual_options_new, &p);
    h_.reset(p);
  }
  DualOptions& regularizer(Regularizer r, double lambda) { return set(scones_dual_options_set_regularizer, static_cast<scones_regularizer>(r), lambda); }
  DualOptions& cost(Cost c) { return set(scones_dual_options_set_cost, static_cast<scones_cost>(c)); }
  /// c(x, y) = |A y - B x|^2 with A (k x dy) and B (k x dx): sources and targets of different
  /// dimensions compared in a shared k-dimensional view (A, B copied; finite; A not zero).
  DualOptions& linear_cost(View a, View b) { return set(scones_dual_options_set_linear_cost, a.c(), b.c()); }
  /// c(x, y) = forward(x, y) of a TorchScript module (x [m, dx], y [m, dy] float32 -> [m]),
  /// differentiable in y; `curvature` bounds its y-Hessian's norm (2 for |x - y|^2). Saved duals
  /// embed the module.
  DualOptions& torchscript_cost(const std::string& path, std::size_t dx, std::size_t dy, double curvature = 2.0) {
    return set(scones_dual_options_set_torchscript_cost, path.c_str(), dx, dy, curvature);
  }
  /// A host cost (see CostFn), kept alive by these options and by every Dual and Sampler made
  /// from them. Such a dual cannot be saved.
  DualOptions& cost_callback(CostFn fn, std::size_t dx, std::size_t dy, double curvature = 2.0) {
    auto state = std::make_shared<detail::CostState>();
    state->fn = std::move(fn);
    set(scones_dual_options_set_callback_cost, &detail::CostState::trampoline, static_cast<void*>(state.get()), dx, dy,
        curvature);
    cost_ = std::move(state);
    return *this;
  }
  DualOptions& hidden(const std::vector<std::size_t>& widths) { return set(scones_dual_options_set_hidden, widths.data(), widths.size()); }
  DualOptions& hidden_each(const std::vector<std::size_t>& phi, const std::vector<std::size_t>& psi) {
    return set(scones_dual_options_set_hidden_each, phi.data(), phi.size(), psi.data(), psi.size());
  }
  DualOptions& adam(double learning_rate, double beta1 = 0.9, double beta2 = 0.999) { return set(scones_dual_options_set_adam, learning_rate, beta1, beta2); }
  DualOptions& schedule(LrSchedule s, double final_fraction = 0.01) { return set(scones_dual_options_set_schedule, static_cast<scones_lr_schedule>(s), final_fraction); }
  DualOptions& batch(std::size_t size, BatchMode mode = BatchMode::AllPairs) { return set(scones_dual_options_set_batch, size, static_cast<scones_batch_mode>(mode)); }
  DualOptions& iterations(std::size_t n) { return set(scones_dual_options_set_iterations, n); }
  DualOptions& seed(std::uint64_t s) { return set(scones_dual_options_set_seed, s); }
  DualOptions& device(const std::string& d) { return set(scones_dual_options_set_device, d.c_str()); }
  DualOptions& threads(std::size_t n) { return set(scones_dual_options_set_threads, n); }
  DualOptions& softplus_beta(double beta) { return set(scones_dual_options_set_softplus_beta, beta); }
  /// Progress every `every` iterations; an empty function removes it.
  DualOptions& progress(ProgressFn fn, std::size_t every = 100) {
    if (!fn) {
      set(scones_dual_options_set_progress, nullptr, nullptr, every);
      progress_.reset();
      return *this;
    }
    auto state = detail::make_progress(std::move(fn));
    set(scones_dual_options_set_progress, &detail::ProgressState::trampoline, static_cast<void*>(state.get()), every);
    progress_ = std::move(state);
    return *this;
  }

  /// Data-parallel training across `size` ranks (see scones_collective in scones.h): every rank
  /// calls Dual::train with the same options on its own shard, gradients are averaged with one
  /// `allreduce` call per iteration, and every rank ends with the same dual; a cancel or failure
  /// on one rank ends the call on all of them. An empty function trains alone again.
  DualOptions& collective(std::size_t rank, std::size_t size, AllReduceFn allreduce) {
    collective_ = detail::set_collective(h_.get(), scones_dual_options_set_collective, rank, size, std::move(allreduce));
    return *this;
  }

  const scones_dual_options* get() const noexcept { return h_.get(); }
  const std::shared_ptr<detail::ProgressState>& progress_state() const noexcept { return progress_; }
  const std::shared_ptr<detail::CostState>& cost_state() const noexcept { return cost_; }

 private:
  template <class F, class... Args>
  DualOptions& set(F f, Args... args) {
    detail::call(f, h_.get(), args...);
    return *this;
  }
  detail::Handle<scones_dual_options, scones_dual_options_free> h_;
  std::shared_ptr<detail::ProgressState> progress_;
  std::shared_ptr<detail::CostState> cost_;
  std::shared_ptr<detail::CollectiveState> collective_;
};

class Barycentric;

/// Options of Sampler (defaults in scones.h: the paper's Gaussian setting).
class SamplerOptions {
 public:
  SamplerOptions() {
    scones_sampler_options* p = nullptr;
    detail::call(scones_sampler_options_new, &p);
    h_.reset(p);
  }
  /// Annealed Langevin over `levels` geometric noise levels; levels = 0 switches it off.
  SamplerOptions& annealing(double sigma_first, double sigma_last, std::size_t levels, bool denoise = true) {
    return set(scones_sampler_options_set_annealing, sigma_first, sigma_last, levels, static_cast<int32_t>(denoise));
  }
  SamplerOptions& steps(std::size_t steps_per_level, double step_size) { return set(scones_sampler_options_set_steps, steps_per_level, step_size); }
  SamplerOptions& samples_per_source(std::size_t k) { return set(scones_sampler_options_set_samples_per_source, k); }
  SamplerOptions& init(ChainInit i) { return set(scones_sampler_options_set_init, static_cast<scones_chain_init>(i)); }
  SamplerOptions& metropolis(bool on) { return set(scones_sampler_options_set_metropolis, static_cast<int32_t>(on)); }
  SamplerOptions& chain_batch(std::size_t chains) { return set(scones_sampler_options_set_chain_batch, chains); }
  SamplerOptions& seed(std::uint64_t s) { return set(scones_sampler_options_set_seed, s); }
  SamplerOptions& device(const std::string& d) { return set(scones_sampler_options_set_device, d.c_str()); }
  SamplerOptions& threads(std::size_t n) { return set(scones_sampler_options_set_threads, n); }
  SamplerOptions& softplus_beta(double beta) { return set(scones_sampler_options_set_softplus_beta, beta); }
  /// true (default): the conditional score of pi(y | x); false: the target score alone (samples
  /// tau itself, a check of a score source).
  SamplerOptions& compatibility(bool on) { return set(scones_sampler_options_set_compatibility, static_cast<int32_t>(on)); }
  /// Annealed sampling: temper the compatibility term where a level's step would be unstable (default on).
  SamplerOptions& compatibility_tempering(bool on) {
    return set(scones_sampler_options_set_compatibility_tempering, static_cast<int32_t>(on));
  }
  /// Annealed, unadjusted sampling: grad log M at the denoised point y + sigma^2 s (default on).
  SamplerOptions& compatibility_at_denoised(bool on) {
    return set(scones_sampler_options_set_compatibility_at_denoised, static_cast<int32_t>(on));
  }
  /// With Metropolis adjustment: tune the step towards 57% acceptance in the first half of each level.
  SamplerOptions& adapt_step(bool on) { return set(scones_sampler_options_set_adapt_step, static_cast<int32_t>(on)); }
  /// Chains start at T(x) of a barycentric map (the options keep their own copy of it).
  SamplerOptions& init_map(const Barycentric& map);
  /// Chains start at rows of `targets` drawn with probability proportional to M(V(x, y_j)) and
  /// move only at noise levels <= `sigma_start` (0: three times the last); sources whose weights
  /// have an effective sample size below K start from noise. The options copy the targets.
  SamplerOptions& init_resample(View targets, double sigma_start = 0.0) {
    return set(scones_sampler_options_set_init_resample, targets.c(), sigma_start);
  }
  /// Progress every `every` Langevin steps; an empty function removes it. A Sampler made from
  /// these options keeps the function alive.
  SamplerOptions& progress(ProgressFn fn, std::size_t every = 100) {
    if (!fn) {
      set(scones_sampler_options_set_progress, nullptr, nullptr, every);
      progress_.reset();
      return *this;
    }
    auto state = detail::make_progress(std::move(fn));
    set(scones_sampler_options_set_progress, &detail::ProgressState::trampoline, static_cast<void*>(state.get()), every);
    progress_ = std::move(state);
    return *this;
  }

  const scones_sampler_options* get() const noexcept { return h_.get(); }
  const std::shared_ptr<detail::ProgressState>& progress_state() const noexcept { return progress_; }

 private:
  template <class F, class... Args>
  SamplerOptions& set(F f, Args... args) {
    detail::call(f, h_.get(), args...);
    return *this;
  }
  std::shared_ptr<detail::ProgressState> progress_;
  detail::Handle<scones_sampler_options, scones_sampler_options_free> h_;
};

/// Options of Score::train and Barycentric::train (defaults in scones.h).
class TrainOptions {
 public:
  TrainOptions() {
    scones_train_options* p = nullptr;
    detail::call(scones_train_options_new, &p);
    h_.reset(p);
  }
  /// Hidden layer widths (default {128, 128, 128} for score networks, {256, 256} for maps).
  TrainOptions& hidden(const std::vector<std::size_t>& widths) { return set(scones_train_options_set_hidden, widths.data(), widths.size()); }
  TrainOptions& adam(double learning_rate, double beta1 = 0.9, double beta2 = 0.999) { return set(scones_train_options_set_adam, learning_rate, beta1, beta2); }
  TrainOptions& schedule(LrSchedule s, double final_fraction = 0.01) { return set(scones_train_options_set_schedule, static_cast<scones_lr_schedule>(s), final_fraction); }
  TrainOptions& batch_size(std::size_t n) { return set(scones_train_options_set_batch_size, n); }
  TrainOptions& iterations(std::size_t n) { return set(scones_train_options_set_iterations, n); }
  TrainOptions& seed(std::uint64_t s) { return set(scones_train_options_set_seed, s); }
  TrainOptions& device(const std::string& d) { return set(scones_train_options_set_device, d.c_str()); }
  TrainOptions& threads(std::size_t n) { return set(scones_train_options_set_threads, n); }
  /// Score training: noise from sigma_max down to sigma_min (sigma_max = 0: the largest pairwise
  /// distance of the data); `levels` geometric levels with the Ncsn parametrization.
  TrainOptions& noise_levels(double sigma_max, double sigma_min, std::size_t levels) {
    return set(scones_train_options_set_noise_levels, sigma_max, sigma_min, levels);
  }
  /// Score training: the network's parametrization (default Preconditioned; Ncsn as the reference code).
  TrainOptions& score_parametrization(ScoreParametrization p) {
    return set(scones_train_options_set_score_parametrization, static_cast<scones_score_parametrization>(p));
  }
  /// Progress every `every` iterations (objective = the training loss); an empty function removes it.
  TrainOptions& progress(ProgressFn fn, std::size_t every = 100) {
    auto state = detail::make_progress(std::move(fn));
    if (state)
      set(scones_train_options_set_progress, &detail::ProgressState::trampoline, static_cast<void*>(state.get()), every);
    else
      set(scones_train_options_set_progress, nullptr, nullptr, every);
    progress_ = std::move(state);
    return *this;
  }

  /// Score networks and barycentric maps trained data-parallel across `size` ranks, as
  /// DualOptions::collective does for duals. An empty function trains alone again.
  TrainOptions& collective(std::size_t rank, std::size_t size, AllReduceFn allreduce) {
    collective_ = detail::set_collective(h_.get(), scones_train_options_set_collective, rank, size, std::move(allreduce));
    return *this;
  }

  const scones_train_options* get() const noexcept { return h_.get(); }
  const std::shared_ptr<detail::ProgressState>& progress_state() const noexcept { return progress_; }

 private:
  template <class F, class... Args>
  TrainOptions& set(F f, Args... args) {
    detail::call(f, h_.get(), args...);
    return *this;
  }
  std::shared_ptr<detail::ProgressState> progress_;
  std::shared_ptr<detail::CollectiveState> collective_;
  detail::Handle<scones_train_options, scones_train_options_free> h_;
};

// ---------------------------------------------------------------------------------- measures

/// A measure to train from: a point set (copied by the library) or a host sampler function.
class Measure {
 public:
  Measure() noexcept = default;  // empty

  /// The rows of `points` (n x d); the library keeps a float32 copy.
  static Measure points(View points) {
    scones_measure* out = nullptr;
    detail::call(scones_measure_new_points, points.c(), &out);
    return Measure(out, nullptr);
  }
  /// A measure in dimension d sampled by `fn`, called on the training thread for each minibatch.
  static Measure callback(std::size_t d, MeasureFn fn) {
    auto state = std::make_shared<detail::MeasureState>();
    state->fn = std::move(fn);
    scones_measure* out = nullptr;
    detail::call(scones_measure_new_callback, d, &detail::MeasureState::trampoline, static_cast<void*>(state.get()), &out);
    return Measure(out, std::move(state));
  }

  scones_measure* get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

 private:
  Measure(scones_measure* p, std::shared_ptr<detail::MeasureState> state) : state_(std::move(state)), h_(p) {}
  std::shared_ptr<detail::MeasureState> state_;  // the C measure's user_data; outlives it
  detail::Handle<scones_measure, scones_measure_free> h_;
};

// ---------------------------------------------------------------------------------- models

struct Problem {
  Regularizer regularizer;
  double lambda;
  Cost cost;
};

/// Summary of a training run (scones_train_report).
struct TrainReport {
  std::uint64_t iterations;
  double objective, mean_compatibility, extension_fraction, seconds, iterations_per_second;
};

/// Statistics of the last Sampler::sample (scones_sample_report).
struct SampleReport {
  std::uint64_t chains, steps_per_chain;
  double seconds, chain_steps_per_second, acceptance;
};

/// Trained dual potentials (phi, psi): Algorithm 1.
class Dual {
 public:
  Dual() noexcept = default;  // empty
  explicit Dual(scones_dual* adopt) noexcept : h_(adopt) {}

  /// Trains phi and psi between the rows of source (n x dx) and target (m x dy).
  static Dual train(View source, View target, const DualOptions& options = DualOptions()) {
    scones_dual* out = nullptr;
    std::shared_ptr<detail::ProgressState> keep = options.progress_state();
    detail::call_with_progress(keep.get(), scones_dual_train, source.c(), target.c(), options.get(), &out);
    return Dual(out, options.cost_state());
  }
  /// Trains phi and psi between two measures (point sets or host samplers drawn per minibatch).
  static Dual train(const Measure& source, const Measure& target, const DualOptions& options = DualOptions()) {
    scones_dual* out = nullptr;
    std::shared_ptr<detail::ProgressState> keep = options.progress_state();
    detail::call_with_progress(keep.get(), scones_dual_train_measures, source.get(), target.get(), options.get(), &out);
    return Dual(out, options.cost_state());
  }
  /// Loads a model written by save() onto `device`.
  static Dual load(const std::string& path, const std::string& device = "cpu") {
    scones_dual* out = nullptr;
    detail::call(scones_dual_load, path.c_str(), device.c_str(), &out);
    return Dual(out);
  }
  void save(const std::string& path) const { detail::call(scones_dual_save, get(), path.c_str()); }

  std::pair<std::size_t, std::size_t> dims() const {
    std::size_t dx = 0, dy = 0;
    detail::call(scones_dual_dims, get(), &dx, &dy);
    return {dx, dy};
  }
  Problem problem() const {
    scones_regularizer r = 0;
    scones_cost c = 0;
    double lambda = 0;
    detail::call(scones_dual_problem, get(), &r, &lambda, &c);
    return {static_cast<Regularizer>(r), lambda, static_cast<Cost>(c)};
  }
  TrainReport train_report() const {
    scones_train_report r{};
    r.struct_size = sizeof r;
    detail::call(scones_dual_train_report, get(), &r);
    return {r.iterations, r.objective, r.mean_compatibility, r.extension_fraction, r.seconds, r.iterations_per_second};
  }
  /// phi (on source points) or psi (on target points) into out (n x 1).
  void potential(Potential which, View points, MutView out) const {
    detail::call(scones_dual_potential, get(), static_cast<scones_potential>(which), points.c(), out.c());
  }
  std::vector<double> potential(Potential which, View points) const {
    std::vector<double> out(points.rows());
    potential(which, points, MutView(out.data(), points.rows(), 1));
    return out;
  }
  /// M(V(x_i, y_j)) for all pairs into out (n x m).
  void compatibility(View x, View y, MutView out) const { detail::call(scones_dual_compatibility, get(), x.c(), y.c(), out.c()); }
  Matrix compatibility(View x, View y) const {
    Matrix out(x.rows(), y.rows());
    compatibility(x, y, out.mut());
    return out;
  }

  scones_dual* get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  const std::shared_ptr<detail::CostState>& cost_state() const noexcept { return cost_; }

 private:
  Dual(scones_dual* adopt, std::shared_ptr<detail::CostState> cost) noexcept : cost_(std::move(cost)), h_(adopt) {}
  // Declared before the handle, so destroyed after it: a callback-cost dual calls it.
  std::shared_ptr<detail::CostState> cost_;
  detail::Handle<scones_dual, scones_dual_free> h_;
};

/// A target score source s(y, sigma) = grad_y log (tau * N(0, sigma^2 I))(y).
class Score {
 public:
  Score() noexcept = default;
  explicit Score(scones_score* adopt) noexcept : h_(adopt) {}

  /// The exact score of N(mean, cov); mean is 1 x d or d x 1.
  static Score gaussian(View mean, View cov) {
    scones_score* out = nullptr;
    detail::call(scones_score_new_gaussian, mean.c(), cov.c(), &out);
    return Score(out);
  }
  static Score gaussian(const std::vector<double>& mean, View cov) { return gaussian(View(mean.data(), 1, mean.size()), cov); }
  /// The exact score of the target points (n x d) smoothed by a Gaussian kernel of bandwidth h.
  static Score empirical(View points, double bandwidth) {
    scones_score* out = nullptr;
    detail::call(scones_score_new_empirical, points.c(), bandwidth, &out);
    return Score(out);
  }
  /// A score computed by `fn` in dimension d. Samplers made from this score keep `fn` alive.
  static Score callback(std::size_t d, ScoreFn fn) {
    auto state = std::make_shared<detail::ScoreState>();
    state->fn = std::move(fn);
    scones_score* out = nullptr;
    detail::call(scones_score_new_callback, d, &detail::ScoreState::trampoline, static_cast<void*>(state.get()), &out);
    Score s(out);
    s.state_ = std::move(state);
    return s;
  }
  /// A TorchScript module (torch.jit.save) with forward(y[n, d], sigma[n]) -> [n, d].
  static Score torchscript(const std::string& path, std::size_t d) {
    scones_score* out = nullptr;
    detail::call(scones_score_new_torchscript, path.c_str(), d, &out);
    return Score(out);
  }
  /// Trains a score network by denoising score matching on the target measure (NCSN).
  static Score train(const Measure& target, const TrainOptions& options = TrainOptions()) {
    scones_score* out = nullptr;
    std::shared_ptr<detail::ProgressState> keep = options.progress_state();
    detail::call_with_progress(keep.get(), scones_score_train, target.get(), options.get(), &out);
    return Score(out);
  }
  /// Loads a score network written by save().
  static Score load(const std::string& path) {
    scones_score* out = nullptr;
    detail::call(scones_score_load, path.c_str(), &out);
    return Score(out);
  }
  /// Saves a trained score network (Status::InvalidArgument for other kinds of score).
  void save(const std::string& path) const { detail::call(scones_score_save, get(), path.c_str()); }

  std::size_t dim() const {
    std::size_t d = 0;
    detail::call(scones_score_dim, get(), &d);
    return d;
  }
  void eval(View y, double sigma, MutView out) const {
    detail::call_with_progress(nullptr, scones_score_eval, get(), y.c(), sigma, out.c());
  }
  Matrix eval(View y, double sigma) const {
    Matrix out(y.rows(), y.cols());
    eval(y, sigma, out.mut());
    return out;
  }

  scones_score* get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }
  /// The host function of a callback score (null for other kinds), shared with its samplers.
  const std::shared_ptr<detail::ScoreState>& callback_state() const noexcept { return state_; }

 private:
  std::shared_ptr<detail::ScoreState> state_;  // user_data of a callback score
  detail::Handle<scones_score, scones_score_free> h_;
};

/// A trained barycentric map T(x) = E_pi[y | x]: the baseline SCONES is compared with.
class Barycentric {
 public:
  Barycentric() noexcept = default;
  explicit Barycentric(scones_barycentric* adopt) noexcept : h_(adopt) {}

  /// Trains T for the coupling of `dual` from its source and target measures.
  static Barycentric train(const Dual& dual, const Measure& source, const Measure& target,
                           const TrainOptions& options = TrainOptions()) {
    scones_barycentric* out = nullptr;
    std::shared_ptr<detail::ProgressState> keep = options.progress_state();
    detail::call_with_progress(keep.get(), scones_barycentric_train, dual.get(), source.get(), target.get(), options.get(), &out);
    return Barycentric(out);
  }
  static Barycentric load(const std::string& path) {
    scones_barycentric* out = nullptr;
    detail::call(scones_barycentric_load, path.c_str(), &out);
    return Barycentric(out);
  }
  void save(const std::string& path) const { detail::call(scones_barycentric_save, get(), path.c_str()); }
  /// Source and target dimensions (dx, dy).
  std::pair<std::size_t, std::size_t> dims() const {
    std::size_t dx = 0, dy = 0;
    detail::call(scones_barycentric_dims, get(), &dx, &dy);
    return {dx, dy};
  }
  /// T(x) for the rows of x (n x dx) into out (n x dy).
  void map(View x, MutView out) const { detail::call(scones_barycentric_map, get(), x.c(), out.c()); }
  Matrix map(View x) const {
    Matrix out(x.rows(), dims().second);
    map(x, out.mut());
    return out;
  }
  Matrix operator()(View x) const { return map(x); }

  scones_barycentric* get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

 private:
  detail::Handle<scones_barycentric, scones_barycentric_free> h_;
};

inline SamplerOptions& SamplerOptions::init_map(const Barycentric& map) {
  return set(scones_sampler_options_set_init_map, map.get());
}

/// Dimensions of a sampler: sample() on n sources writes (n k) x dy.
struct SamplerShape {
  std::size_t dx, dy, k;
};

/// A conditional sampler of pi(y | x): Algorithm 2. The dual and score may be destroyed after
/// construction (the sampler holds copies, and keeps a callback score's function alive).
class Sampler {
 public:
  Sampler() noexcept = default;
  Sampler(const Dual& dual, const Score& score, const SamplerOptions& options = SamplerOptions())
      : progress_(options.progress_state()), score_(score.callback_state()), cost_(dual.cost_state()) {
    scones_sampler* out = nullptr;
    detail::call(scones_sampler_new, dual.get(), score.get(), options.get(), &out);
    h_.reset(out);
  }

  /// K samples per source row into out ((n K) x dy); rows i K .. i K + K - 1 belong to source i.
  void sample(View sources, MutView out) {
    detail::call_with_progress(progress_.get(), scones_sample_batch, get(), sources.c(), out.c());
  }
  Matrix sample(View sources) {
    SamplerShape s = shape();
    Matrix out(sources.rows() * s.k, s.dy);
    sample(sources, out.mut());
    return out;
  }
  /// sample() with row r of sources the source of global index first_source + r: its samples
  /// depend only on the seed and that index, so ranks sampling their own ranges reproduce one
  /// call over all sources bit for bit on the CPU (same thread count on every rank).
  void sample_at(std::uint64_t first_source, View sources, MutView out) {
    detail::call_with_progress(progress_.get(), scones_sample_batch_at, get(), first_source, sources.c(), out.c());
  }
  Matrix sample_at(std::uint64_t first_source, View sources) {
    SamplerShape s = shape();
    Matrix out(sources.rows() * s.k, s.dy);
    sample_at(first_source, sources, out.mut());
    return out;
  }
  /// Replaces the progress function of later sample() calls (every `every` Langevin steps); an
  /// empty function removes it.
  Sampler& progress(ProgressFn fn, std::size_t every = 100) {
    auto state = detail::make_progress(std::move(fn));
    if (state)
      detail::call(scones_sampler_set_progress, get(), &detail::ProgressState::trampoline, static_cast<void*>(state.get()), every);
    else
      detail::call(scones_sampler_set_progress, get(), nullptr, nullptr, every);
    progress_ = std::move(state);  // the old state is no longer referenced by the library
    return *this;
  }
  SamplerShape shape() const {
    SamplerShape s{0, 0, 0};
    detail::call(scones_sampler_shape, get(), &s.dx, &s.dy, &s.k);
    return s;
  }
  SampleReport report() const {
    scones_sample_report r{};
    r.struct_size = sizeof r;
    detail::call(scones_sampler_report, get(), &r);
    return {r.chains, r.steps_per_chain, r.seconds, r.chain_steps_per_second, r.acceptance};
  }
  std::size_t samples_per_source() const { return shape().k; }

  scones_sampler* get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

 private:
  // Declared before the handle, so destroyed after it: the C sampler points at both.
  std::shared_ptr<detail::ProgressState> progress_;
  std::shared_ptr<detail::ScoreState> score_;
  std::shared_ptr<detail::CostState> cost_;
  detail::Handle<scones_sampler, scones_sampler_free> h_;
};

// ---------------------------------------------------------------------------------- SPOT

/// Options of Spot::train (defaults in scones.h: the tuned setting, squared Euclidean cost).
class SpotOptions {
 public:
  SpotOptions() {
    scones_spot_options* p = nullptr;
    detail::call(scones_spot_options_new, &p);
    h_.reset(p);
  }
  /// Replaces every setting of Algorithm 3 by the preset's (device, seed, threads and progress stay).
  SpotOptions& preset(SpotPreset p) { return set(scones_spot_options_set_preset, static_cast<scones_spot_preset>(p)); }
  SpotOptions& cost(Cost c) { return set(scones_spot_options_set_cost, static_cast<scones_cost>(c)); }
  /// |A y - B x|^2 as DualOptions::linear_cost; two marginals only.
  SpotOptions& linear_cost(View a, View b) { return set(scones_spot_options_set_linear_cost, a.c(), b.c()); }
  /// A TorchScript cost as DualOptions::torchscript_cost (SPOT differentiates through it).
  SpotOptions& torchscript_cost(const std::string& path, std::size_t dx, std::size_t dy, double curvature = 2.0) {
    return set(scones_spot_options_set_torchscript_cost, path.c_str(), dx, dy, curvature);
  }
  SpotOptions& hidden(const std::vector<std::size_t>& generator, const std::vector<std::size_t>& critic) {
    return set(scones_spot_options_set_hidden, generator.data(), generator.size(), critic.data(), critic.size());
  }
  /// 0: the largest marginal dimension.
  SpotOptions& latent_dim(std::size_t d) { return set(scones_spot_options_set_latent_dim, d); }
  SpotOptions& shared_generator(bool on) { return set(scones_spot_options_set_shared_generator, on ? 1 : 0); }
  /// eta = 0: chosen from the data.
  SpotOptions& penalty(double eta, std::size_t n_critic = 5) { return set(scones_spot_options_set_penalty, eta, n_critic); }
  /// Entropy regularisation (lambda > 0; 0 turns it off): the generator becomes a neural ODE of
  /// `steps` Euler steps and the plan minimises E c + lambda KL(pi || mu x nu).
  SpotOptions& entropy(double lambda, std::size_t steps) { return set(scones_spot_options_set_entropy, lambda, steps); }
  SpotOptions& adam(double learning_rate, double beta1 = 0.5, double beta2 = 0.999) {
    return set(scones_spot_options_set_adam, learning_rate, beta1, beta2);
  }
  SpotOptions& schedule(LrSchedule s, double final_fraction = 0.1) {
    return set(scones_spot_options_set_schedule, static_cast<scones_lr_schedule>(s), final_fraction);
  }
  SpotOptions& generator_ema(double decay) { return set(scones_spot_options_set_generator_ema, decay); }
  SpotOptions& batch(std::size_t size, std::size_t iterations) { return set(scones_spot_options_set_batch, size, iterations); }
  SpotOptions& seed(std::uint64_t s) { return set(scones_spot_options_set_seed, s); }
  SpotOptions& device(const std::string& d) { return set(scones_spot_options_set_device, d.c_str()); }
  SpotOptions& threads(std::size_t n) { return set(scones_spot_options_set_threads, n); }
  /// Progress every `every` generator steps (Phase::SpotTraining); an empty function removes it.
  SpotOptions& progress(ProgressFn fn, std::size_t every = 100) {
    if (!fn) {
      set(scones_spot_options_set_progress, nullptr, nullptr, every);
      progress_.reset();
      return *this;
    }
    auto state = detail::make_progress(std::move(fn));
    set(scones_spot_options_set_progress, &detail::ProgressState::trampoline, static_cast<void*>(state.get()), every);
    progress_ = std::move(state);
    return *this;
  }

  const scones_spot_options* get() const noexcept { return h_.get(); }
  const std::shared_ptr<detail::ProgressState>& progress_state() const noexcept { return progress_; }

 private:
  template <class F, class... Args>
  SpotOptions& set(F f, Args... args) {
    detail::call(f, h_.get(), args...);
    return *this;
  }
  detail::Handle<scones_spot_options, scones_spot_options_free> h_;
  std::shared_ptr<detail::ProgressState> progress_;
};

/// Summary of a SPOT training run (scones_spot_report).
struct SpotReport {
  std::uint64_t iterations;
  double cost, marginal_gap, seconds, iterations_per_second;
};

/// E c(G(Z)) over n latent draws and its standard error.
struct CostEstimate {
  double estimate, standard_error;
};

/// A SPOT plan (Algorithm 3 of the thesis): a generator of paired samples of the coupling.
class Spot {
 public:
  Spot() noexcept = default;  // empty
  explicit Spot(scones_spot* adopt) noexcept : h_(adopt) {}

  /// Trains between the rows of source (n x dx) and target (m x dy).
  static Spot train(View source, View target, const SpotOptions& options = SpotOptions()) {
    scones_spot* out = nullptr;
    std::shared_ptr<detail::ProgressState> keep = options.progress_state();
    detail::call_with_progress(keep.get(), scones_spot_train, source.c(), target.c(), options.get(), &out);
    return Spot(out);
  }
  /// Trains from 2 to 64 measures; more than two give the multi-marginal plan of the cost summed
  /// over pairs.
  static Spot train(const std::vector<std::reference_wrapper<const Measure>>& marginals,
                    const SpotOptions& options = SpotOptions()) {
    std::vector<const scones_measure*> ptrs;
    ptrs.reserve(marginals.size());
    for (const Measure& m : marginals) ptrs.push_back(m.get());
    scones_spot* out = nullptr;
    std::shared_ptr<detail::ProgressState> keep = options.progress_state();
    detail::call_with_progress(keep.get(), scones_spot_train_measures, ptrs.data(), ptrs.size(), options.get(), &out);
    return Spot(out);
  }
  /// Loads a plan written by save() onto `device`.
  static Spot load(const std::string& path, const std::string& device = "cpu") {
    scones_spot* out = nullptr;
    detail::call(scones_spot_load, path.c_str(), device.c_str(), &out);
    return Spot(out);
  }
  void save(const std::string& path) const { detail::call(scones_spot_save, get(), path.c_str()); }

  /// The marginals' dimensions, in training order.
  std::vector<std::size_t> dims() const {
    std::size_t count = 0;
    detail::call(scones_spot_dims, get(), static_cast<std::size_t*>(nullptr), std::size_t{0}, &count);
    std::vector<std::size_t> d(count);
    detail::call(scones_spot_dims, get(), d.data(), d.size(), &count);
    return d;
  }
  /// Paired samples into one view per marginal (same rows n; the marginal's dimension as
  /// columns); the same (seed, n) gives the same rows.
  void sample(std::uint64_t seed, const std::vector<MutView>& outs) const {
    std::vector<scones_matrix_mut> c;
    c.reserve(outs.size());
    for (const MutView& o : outs) c.push_back(*o.c());
    detail::call(scones_spot_sample, get(), seed, c.data(), c.size());
  }
  /// n paired samples: element k is n x (dimension of marginal k), row i of each from one draw.
  std::vector<Matrix> sample(std::size_t n, std::uint64_t seed = 0) const {
    std::vector<Matrix> out;
    std::vector<MutView> views;
    for (std::size_t d : dims()) out.emplace_back(n, d);
    for (Matrix& m : out) views.push_back(m.mut());
    sample(seed, views);
    return out;
  }
  /// The plan's transport cost E c(G(Z)) from n >= 2 draws, with its standard error.
  CostEstimate cost_estimate(std::size_t n, std::uint64_t seed = 0) const {
    CostEstimate e{0, 0};
    detail::call(scones_spot_cost_estimate, get(), n, seed, &e.estimate, &e.standard_error);
    return e;
  }
  /// Summary of the training run (Status::InvalidArgument for a loaded plan).
  SpotReport train_report() const {
    scones_spot_report r{};
    r.struct_size = sizeof r;
    detail::call(scones_spot_train_report, get(), &r);
    return {r.iterations, r.cost, r.marginal_gap, r.seconds, r.iterations_per_second};
  }

  scones_spot* get() const noexcept { return h_.get(); }
  explicit operator bool() const noexcept { return static_cast<bool>(h_); }

 private:
  detail::Handle<scones_spot, scones_spot_free> h_;
};

// ---------------------------------------------------------------------------------- figures

/// A PNG figure of rows x cols scatter panels (numbered row by row from 0).
class Figure {
 public:
  Figure(std::uint32_t width, std::uint32_t height, std::uint32_t rows = 1, std::uint32_t cols = 1) {
    scones_figure* p = nullptr;
    detail::call(scones_figure_new, width, height, rows, cols, &p);
    h_.reset(p);
  }
  /// Scatter of the first two columns in color 0xRRGGBBAA.
  Figure& scatter(std::size_t panel, View points, std::uint32_t rgba, double radius = 1.5) {
    detail::call(scones_figure_scatter, h_.get(), panel, points.c(), rgba, radius);
    return *this;
  }
  Figure& segments(std::size_t panel, View from, View to, std::uint32_t rgba) {
    detail::call(scones_figure_segments, h_.get(), panel, from.c(), to.c(), rgba);
    return *this;
  }
  Figure& title(std::size_t panel, const std::string& text) {
    detail::call(scones_figure_title, h_.get(), panel, text.c_str());
    return *this;
  }
  Figure& legend(std::size_t panel, const std::vector<std::pair<std::string, std::uint32_t>>& entries) {
    std::vector<const char*> labels;
    std::vector<std::uint32_t> colors;
    for (const auto& e : entries) {
      labels.push_back(e.first.c_str());
      colors.push_back(e.second);
    }
    detail::call(scones_figure_legend, h_.get(), panel, labels.data(), colors.data(), entries.size());
    return *this;
  }
  Figure& bounds(std::size_t panel, double xmin, double xmax, double ymin, double ymax) {
    detail::call(scones_figure_set_bounds, h_.get(), panel, xmin, xmax, ymin, ymax);
    return *this;
  }
  const Figure& save_png(const std::string& path) const {
    detail::call(scones_figure_save_png, h_.get(), path.c_str());
    return *this;
  }
  scones_figure* get() const noexcept { return h_.get(); }

 private:
  detail::Handle<scones_figure, scones_figure_free> h_;
};

// ---------------------------------------------------------------------------------- Gaussians, metrics

namespace gaussian {

/// U diag(w) U^T with Haar-random U (d x d).
inline void random_covariance(std::size_t d, Spectrum spectrum, std::uint64_t seed, MutView out) {
  detail::call(scones_gaussian_random_covariance, d, static_cast<scones_spectrum>(spectrum), seed, out.c());
}
inline Matrix random_covariance(std::size_t d, Spectrum spectrum, std::uint64_t seed) {
  Matrix out(d, d);
  random_covariance(d, spectrum, seed, out.mut());
  return out;
}
/// n exact samples of N(mean, cov) (n x d).
inline void sample(View mean, View cov, std::size_t n, std::uint64_t seed, MutView out) {
  detail::call(scones_gaussian_sample, mean.c(), cov.c(), n, seed, out.c());
}
inline Matrix sample(View mean, View cov, std::size_t n, std::uint64_t seed) {
  Matrix out(n, cov.cols());
  sample(mean, cov, n, seed, out.mut());
  return out;
}
/// Joint covariance (2d x 2d) of the closed-form KL coupling between N(0, a) and N(0, b).
inline void entropic_coupling(View cov_source, View cov_target, double lambda, MutView out) {
  detail::call(scones_gaussian_entropic_coupling, cov_source.c(), cov_target.c(), lambda, out.c());
}
inline Matrix entropic_coupling(View cov_source, View cov_target, double lambda) {
  Matrix out(cov_source.rows() + cov_target.rows(), cov_source.rows() + cov_target.rows());
  entropic_coupling(cov_source, cov_target, lambda, out.mut());
  return out;
}

}  // namespace gaussian

/// n points of a 2-D toy distribution into out (n x 2).
inline void toy_sample(Toy toy, std::size_t n, std::uint64_t seed, MutView out) {
  detail::call(scones_toy_sample, static_cast<scones_toy>(toy), n, seed, out.c());
}
inline Matrix toy_sample(Toy toy, std::size_t n, std::uint64_t seed) {
  Matrix out(n, 2);
  toy_sample(toy, n, seed, out.mut());
  return out;
}

/// BW-UVP (0-100 scale) of an estimated covariance against a reference.
inline double bw_uvp(View cov_estimate, View cov_reference) {
  double out = 0;
  detail::call(scones_bw_uvp, cov_estimate.c(), cov_reference.c(), &out);
  return out;
}
/// Unbiased covariance of the joint rows (x_i, y_i).
inline void joint_covariance(View x, View y, MutView out) { detail::call(scones_joint_covariance, x.c(), y.c(), out.c()); }
inline Matrix joint_covariance(View x, View y) {
  Matrix out(x.cols() + y.cols(), x.cols() + y.cols());
  joint_covariance(x, y, out.mut());
  return out;
}
/// Sliced 2-Wasserstein distance between the rows of a and b.
inline double sliced_w2(View a, View b, std::size_t projections = 256, std::uint64_t seed = 0) {
  double out = 0;
  detail::call(scones_sliced_w2, a.c(), b.c(), projections, seed, &out);
  return out;
}

// ---------------------------------------------------------------------------------- discrete OT

/// Options shared by the discrete solvers (defaults in scones.h: each solver's own tolerance).
class DiscreteOptions {
 public:
  DiscreteOptions() {
    scones_discrete_options* p = nullptr;
    detail::call(scones_discrete_options_new, &p);
    h_.reset(p);
  }
  /// Stopping tolerance on the l1 marginal violation (> 0).
  DiscreteOptions& tolerance(double tol) { return set(scones_discrete_options_set_tolerance, tol); }
  /// Sinkhorn iterations, IPOT proximal steps or the f-divergence dual's Newton steps (>= 1).
  DiscreteOptions& max_iterations(std::uint64_t n) { return set(scones_discrete_options_set_max_iterations, n); }
  /// IPOT: proximal step as a fraction of max C (> 0) and Sinkhorn sweeps per step (>= 1).
  DiscreteOptions& ipot(double beta_relative, std::size_t inner_iterations = 1) {
    return set(scones_discrete_options_set_ipot, beta_relative, inner_iterations);
  }
  /// Progress every `every` iterations (objective = the solver's current objective); an empty
  /// function removes it.
  DiscreteOptions& progress(ProgressFn fn, std::size_t every = 100) {
    auto state = detail::make_progress(std::move(fn));
    if (state)
      set(scones_discrete_options_set_progress, &detail::ProgressState::trampoline, static_cast<void*>(state.get()), every);
    else
      set(scones_discrete_options_set_progress, nullptr, nullptr, every);
    progress_ = std::move(state);
    return *this;
  }

  const scones_discrete_options* get() const noexcept { return h_.get(); }
  const std::shared_ptr<detail::ProgressState>& progress_state() const noexcept { return progress_; }

 private:
  template <class F, class... Args>
  DiscreteOptions& set(F f, Args... args) {
    detail::call(f, h_.get(), args...);
    return *this;
  }
  std::shared_ptr<detail::ProgressState> progress_;
  detail::Handle<scones_discrete_options, scones_discrete_options_free> h_;
};

/// Summary of a discrete solve (scones_discrete_report).
struct DiscreteReport {
  double transport_cost;  // <C, P> of the returned plan
  double objective;       // Sinkhorn / f-divergence dual: the dual value; IPOT: <C, P>
  double marginal_error;  // l1 violation of the marginals by the plan
  std::uint64_t iterations;
  bool converged;  // false when the iteration cap stopped the solver
};

/// Weights of the source and target points (each 1 x n or n x 1, > 0, summing to 1); an empty
/// side is uniform. Views: the data must outlive the call.
struct Weights {
  std::optional<View> source, target;
};

struct SinkhornResult {
  std::vector<double> f, g;  // potentials, P_ij = a_i b_j exp((f_i + g_j - C_ij) / lambda)
  Matrix plan;               // m x n; empty when not requested
  DiscreteReport report;
};
struct IpotResult {
  Matrix plan;  // m x n
  DiscreteReport report;
};
struct FDualResult {
  std::vector<double> phi, psi;  // dual potentials, gauge sum a phi = sum b psi
  Matrix plan;                   // m x n; empty when not requested
  DiscreteReport report;
};
struct AssignmentResult {
  std::vector<std::size_t> cols;  // cols[i]: the column matched to row i
  double total_cost;              // sum_i C_{i, cols[i]} (the transport cost is total_cost / n)
  std::vector<double> u, v;       // dual potentials, u_i + v_j <= C_ij, tight on the assignment
};

namespace detail {

inline scones_discrete_report new_report() noexcept {
  scones_discrete_report r{};
  r.struct_size = sizeof r;
  return r;
}
inline DiscreteReport to_report(const scones_discrete_report& r) noexcept {
  return {r.transport_cost, r.objective, r.marginal_error, r.iterations, r.converged != 0};
}
inline const scones_matrix* opt(const std::optional<View>& v) noexcept { return v ? v->c() : nullptr; }

}  // namespace detail

namespace detail {

inline const scones_matrix_mut* opt(const std::optional<MutView>& v) noexcept { return v ? v->c() : nullptr; }
inline std::optional<MutView> plan_view(Matrix& plan, bool with_plan) {
  return with_plan ? std::optional<MutView>(plan.mut()) : std::nullopt;
}

}  // namespace detail

/// Entropic OT between the rows of source (m x d) and target (n x d): log-domain Sinkhorn with
/// epsilon scaling, min <C, P> + lambda KL(P || a b^T); lambda is in cost units. Writes the
/// potentials into f (m x 1) and g (n x 1) and, when given, the plan (m x n), only on success.
inline DiscreteReport sinkhorn(View source, View target, double lambda, MutView f, MutView g,
                               std::optional<MutView> plan, const DiscreteOptions& options = DiscreteOptions(),
                               Cost cost = Cost::SqEuclidean, const Weights& weights = {}) {
  scones_discrete_report rep = detail::new_report();
  std::shared_ptr<detail::ProgressState> keep = options.progress_state();
  detail::call_with_progress(keep.get(), scones_sinkhorn, source.c(), target.c(), detail::opt(weights.source),
                             detail::opt(weights.target), static_cast<scones_cost>(cost), lambda, options.get(), f.c(),
                             g.c(), detail::opt(plan), &rep);
  return detail::to_report(rep);
}

/// As above, into new containers.
inline SinkhornResult sinkhorn(View source, View target, double lambda, const DiscreteOptions& options = DiscreteOptions(),
                               Cost cost = Cost::SqEuclidean, const Weights& weights = {}, bool with_plan = true) {
  SinkhornResult r{std::vector<double>(source.rows()), std::vector<double>(target.rows()),
                   with_plan ? Matrix(source.rows(), target.rows()) : Matrix(), {}};
  r.report = sinkhorn(source, target, lambda, MutView(r.f.data(), r.f.size(), 1), MutView(r.g.data(), r.g.size(), 1),
                      detail::plan_view(r.plan, with_plan), options, cost, weights);
  return r;
}

/// Sinkhorn on a dense m x n cost matrix (finite; rows are source atoms), as POT's
/// ot.sinkhorn(a, b, M, reg); outputs as for sinkhorn.
inline DiscreteReport sinkhorn_cost(View cost, double lambda, MutView f, MutView g, std::optional<MutView> plan,
                                    const DiscreteOptions& options = DiscreteOptions(), const Weights& weights = {}) {
  scones_discrete_report rep = detail::new_report();
  std::shared_ptr<detail::ProgressState> keep = options.progress_state();
  detail::call_with_progress(keep.get(), scones_sinkhorn_cost, cost.c(), detail::opt(weights.source),
                             detail::opt(weights.target), lambda, options.get(), f.c(), g.c(), detail::opt(plan), &rep);
  return detail::to_report(rep);
}

inline SinkhornResult sinkhorn_cost(View cost, double lambda, const DiscreteOptions& options = DiscreteOptions(),
                                    const Weights& weights = {}, bool with_plan = true) {
  SinkhornResult r{std::vector<double>(cost.rows()), std::vector<double>(cost.cols()),
                   with_plan ? Matrix(cost.rows(), cost.cols()) : Matrix(), {}};
  r.report = sinkhorn_cost(cost, lambda, MutView(r.f.data(), r.f.size(), 1), MutView(r.g.data(), r.g.size(), 1),
                           detail::plan_view(r.plan, with_plan), options, weights);
  return r;
}

/// Unregularized OT between the rows of source and target by IPOT (inexact proximal point);
/// the plan (m x n, written into `plan`) converges to an optimal plan (step and inner sweeps:
/// DiscreteOptions::ipot).
inline DiscreteReport ipot(View source, View target, MutView plan, const DiscreteOptions& options = DiscreteOptions(),
                           Cost cost = Cost::SqEuclidean, const Weights& weights = {}) {
  scones_discrete_report rep = detail::new_report();
  std::shared_ptr<detail::ProgressState> keep = options.progress_state();
  detail::call_with_progress(keep.get(), scones_ipot, source.c(), target.c(), detail::opt(weights.source),
                             detail::opt(weights.target), static_cast<scones_cost>(cost), options.get(), plan.c(), &rep);
  return detail::to_report(rep);
}

inline IpotResult ipot(View source, View target, const DiscreteOptions& options = DiscreteOptions(),
                       Cost cost = Cost::SqEuclidean, const Weights& weights = {}) {
  IpotResult r{Matrix(source.rows(), target.rows()), {}};
  r.report = ipot(source, target, r.plan.mut(), options, cost, weights);
  return r;
}

/// IPOT on a dense m x n cost matrix (finite; rows are source atoms).
inline DiscreteReport ipot_cost(View cost, MutView plan, const DiscreteOptions& options = DiscreteOptions(),
                                const Weights& weights = {}) {
  scones_discrete_report rep = detail::new_report();
  std::shared_ptr<detail::ProgressState> keep = options.progress_state();
  detail::call_with_progress(keep.get(), scones_ipot_cost, cost.c(), detail::opt(weights.source),
                             detail::opt(weights.target), options.get(), plan.c(), &rep);
  return detail::to_report(rep);
}

inline IpotResult ipot_cost(View cost, const DiscreteOptions& options = DiscreteOptions(), const Weights& weights = {}) {
  IpotResult r{Matrix(cost.rows(), cost.cols()), {}};
  r.report = ipot_cost(cost, r.plan.mut(), options, weights);
  return r;
}

/// The f-divergence-regularized discrete dual, solved exactly (dense; up to a few thousand
/// points): potentials phi (m x 1), psi (n x 1) and, when given, the plan P_ij = a_i b_j M(V_ij)
/// (m x n), written into the caller's views.
inline DiscreteReport discrete_fdual(View source, View target, Regularizer regularizer, double lambda, MutView phi,
                                     MutView psi, std::optional<MutView> plan,
                                     const DiscreteOptions& options = DiscreteOptions(), Cost cost = Cost::SqEuclidean,
                                     const Weights& weights = {}) {
  scones_discrete_report rep = detail::new_report();
  std::shared_ptr<detail::ProgressState> keep = options.progress_state();
  detail::call_with_progress(keep.get(), scones_discrete_fdual, source.c(), target.c(), detail::opt(weights.source),
                             detail::opt(weights.target), static_cast<scones_cost>(cost),
                             static_cast<scones_regularizer>(regularizer), lambda, options.get(), phi.c(), psi.c(),
                             detail::opt(plan), &rep);
  return detail::to_report(rep);
}

inline FDualResult discrete_fdual(View source, View target, Regularizer regularizer, double lambda,
                                  const DiscreteOptions& options = DiscreteOptions(), Cost cost = Cost::SqEuclidean,
                                  const Weights& weights = {}, bool with_plan = true) {
  FDualResult r{std::vector<double>(source.rows()), std::vector<double>(target.rows()),
                with_plan ? Matrix(source.rows(), target.rows()) : Matrix(), {}};
  r.report = discrete_fdual(source, target, regularizer, lambda, MutView(r.phi.data(), r.phi.size(), 1),
                            MutView(r.psi.data(), r.psi.size(), 1), detail::plan_view(r.plan, with_plan), options, cost,
                            weights);
  return r;
}

/// The f-divergence dual on a dense m x n cost matrix (finite; rows are source atoms).
inline DiscreteReport discrete_fdual_cost(View cost, Regularizer regularizer, double lambda, MutView phi, MutView psi,
                                          std::optional<MutView> plan, const DiscreteOptions& options = DiscreteOptions(),
                                          const Weights& weights = {}) {
  scones_discrete_report rep = detail::new_report();
  std::shared_ptr<detail::ProgressState> keep = options.progress_state();
  detail::call_with_progress(keep.get(), scones_discrete_fdual_cost, cost.c(), detail::opt(weights.source),
                             detail::opt(weights.target), static_cast<scones_regularizer>(regularizer), lambda,
                             options.get(), phi.c(), psi.c(), detail::opt(plan), &rep);
  return detail::to_report(rep);
}

inline FDualResult discrete_fdual_cost(View cost, Regularizer regularizer, double lambda,
                                       const DiscreteOptions& options = DiscreteOptions(), const Weights& weights = {},
                                       bool with_plan = true) {
  FDualResult r{std::vector<double>(cost.rows()), std::vector<double>(cost.cols()),
                with_plan ? Matrix(cost.rows(), cost.cols()) : Matrix(), {}};
  r.report = discrete_fdual_cost(cost, regularizer, lambda, MutView(r.phi.data(), r.phi.size(), 1),
                                 MutView(r.psi.data(), r.psi.size(), 1), detail::plan_view(r.plan, with_plan), options,
                                 weights);
  return r;
}

/// Exact optimal assignment for an n x n cost matrix (shortest augmenting paths, O(n^3)).
inline AssignmentResult assignment(View cost) {
  const std::size_t n = cost.rows();
  AssignmentResult r{std::vector<std::size_t>(n), 0.0, std::vector<double>(n), std::vector<double>(n)};
  MutView u(r.u.data(), n, 1), v(r.v.data(), n, 1);
  detail::call(scones_assignment, cost.c(), r.cols.data(), &r.total_cost, u.c(), v.c());
  return r;
}

}  // namespace scones

#endif  // SCONES_HPP
