//! Training options shared by the two networks trained by plain regression-style losses: score
//! networks (denoising score matching) and barycentric maps.

use std::ffi::{c_char, c_void};

use super::common::{self, widths, Options, Run, RunOptions};
use super::enums::{schedule_from, scones_lr_schedule};
use super::error::{free_box, scones_error, scones_status};
use super::progress::{scones_progress_fn, Caller, ProgressHook};
use crate::neural::optim::{check_widths, Optim};
use crate::runtime::error::{Error, Result};
use crate::runtime::limits;
use crate::score::trained::{NoiseLevels, Parametrization};

/// How a score network's output becomes a score; one of the SCONES_SCORE_PARAMETRIZATION_* values.
pub type scones_score_parametrization = i32;
/// Default. Karras et al. 2022 (EDM): a denoiser with input, skip and output scalings from the
/// data's mean and standard deviation, score (D - y) / sigma^2, sigma drawn log-uniformly from
/// [sigma_min, sigma_max] in training (the `levels` count is then unused).
pub const SCONES_SCORE_PARAMETRIZATION_PRECONDITIONED: scones_score_parametrization = 0;
/// NCSNv2 (Song & Ermon 2020): s = net(y, log sigma) / sigma, trained at the `levels` geometric
/// noise levels (the reference code's score networks).
pub const SCONES_SCORE_PARAMETRIZATION_NCSN: scones_score_parametrization = 1;

/// Options for scones_score_train and scones_barycentric_train. Defaults: hidden layers
/// {128, 128, 128} (SiLU) for score networks and {256, 256} for maps; Adam(0.9, 0.999) at
/// 3e-3 for score networks (whose weights are averaged with EMA 0.999) and 1e-3 for maps, with
/// cosine decay to 1% of it; batches of 500, 5000 iterations, seed 0, CPU; score noise levels:
/// 10 geometric levels from the largest pairwise distance of the data down to 0.01.
#[derive(Clone, Default)]
pub struct scones_train_options {
    pub(crate) optim: Optim,
    /// Set by scones_train_options_set_adam; otherwise each trainer's own default rate.
    pub(crate) learning_rate_set: bool,
    pub(crate) hidden: Option<Vec<usize>>,
    pub(crate) noise: NoiseLevels,
    pub(crate) parametrization: Option<Parametrization>,
    pub(crate) caller: Caller,
}

impl scones_train_options {
    /// The optimizer settings for a trainer whose own default learning rate is `default_lr`.
    pub(crate) fn optim_for(&self, default_lr: f64) -> Optim {
        let mut o = self.optim.clone();
        if !self.learning_rate_set {
            o.learning_rate = default_lr;
        }
        o
    }
}

impl Options for scones_train_options {
    const NAME: &'static str = "training options";
    fn validate(&self) -> Result<()> {
        self.optim.validate()?;
        if let Some(h) = &self.hidden {
            check_widths(h, "network")?;
            limits::network("network", 1, h, 1)?;
        }
        limits::count("batch size", self.optim.batch_size, limits::MAX_BATCH)?;
        limits::at_most("iterations", self.optim.iterations, limits::MAX_ITERATIONS)?;
        noise_levels_valid(&self.noise)
    }
    fn progress(&mut self) -> (&mut ProgressHook, &mut usize) {
        (&mut self.caller.progress, &mut self.optim.report_every)
    }
}

impl RunOptions for scones_train_options {
    fn run(&mut self) -> Run<'_> {
        Run { device: &mut self.optim.device, seed: &mut self.optim.seed, threads: &mut self.caller.threads }
    }
}

/// The rules score training applies to its noise levels (score::trained::train checks them at
/// the call; it has no validate of its own to call here yet).
fn noise_levels_valid(n: &NoiseLevels) -> Result<()> {
    if !(n.sigma_min.is_finite() && n.sigma_min > 0.0) {
        return Err(Error::invalid(format!("sigma_min must be a finite number > 0, got {}", n.sigma_min)));
    }
    limits::count("noise levels", n.levels, limits::MAX_NOISE_LEVELS)?;
    match n.sigma_max {
        Some(s) if !(s.is_finite() && s >= n.sigma_min) => {
            Err(Error::invalid(format!("sigma_max must be 0 (automatic) or >= sigma_min, got {s}")))
        }
        _ => Ok(()),
    }
}

/// Creates training options with the defaults above.
#[no_mangle]
pub extern "C" fn scones_train_options_new(
    out: *mut *mut scones_train_options,
    err: *mut *mut scones_error,
) -> scones_status {
    common::create(out, err)
}

/// Releases training options. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_train_options_free(opts: *mut scones_train_options) {
    free_box(opts)
}

/// Hidden layer widths (n layers).
#[no_mangle]
pub extern "C" fn scones_train_options_set_hidden(
    opts: *mut scones_train_options,
    widths_: *const usize,
    n: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.hidden = Some(widths(widths_, n)?);
        Ok(())
    })
}

/// Adam learning rate (> 0) and moment decays beta1, beta2 in [0, 1).
#[no_mangle]
pub extern "C" fn scones_train_options_set_adam(
    opts: *mut scones_train_options,
    learning_rate: f64,
    beta1: f64,
    beta2: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        (o.optim.learning_rate, o.optim.beta1, o.optim.beta2) = (learning_rate, beta1, beta2);
        o.learning_rate_set = true;
        Ok(())
    })
}

/// Learning-rate schedule; final_fraction (in [0, 1]) is used by SCONES_LR_COSINE.
#[no_mangle]
pub extern "C" fn scones_train_options_set_schedule(
    opts: *mut scones_train_options,
    schedule: scones_lr_schedule,
    final_fraction: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.optim.schedule = schedule_from(schedule, final_fraction)?;
        Ok(())
    })
}

/// Minibatch size (> 0).
#[no_mangle]
pub extern "C" fn scones_train_options_set_batch_size(
    opts: *mut scones_train_options,
    batch_size: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.optim.batch_size = batch_size;
        Ok(())
    })
}

/// Number of training iterations.
#[no_mangle]
pub extern "C" fn scones_train_options_set_iterations(
    opts: *mut scones_train_options,
    iterations: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.optim.iterations = iterations;
        Ok(())
    })
}

/// Seed of initialization and batch draws.
#[no_mangle]
pub extern "C" fn scones_train_options_set_seed(
    opts: *mut scones_train_options,
    seed: u64,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_seed(opts, seed, err)
}

/// Device, as for dual options.
#[no_mangle]
pub extern "C" fn scones_train_options_set_device(
    opts: *mut scones_train_options,
    device: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_device(opts, device, err)
}

/// libtorch intra-op threads used during the call: n > 0 uses exactly n; 0 (the default) the
/// fair share (see "Threads" at the top of this header).
#[no_mangle]
pub extern "C" fn scones_train_options_set_threads(
    opts: *mut scones_train_options,
    threads: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_threads(opts, threads, err)
}

/// Progress callback (NULL to remove), every `every` iterations (> 0); `objective` is the loss.
#[no_mangle]
pub extern "C" fn scones_train_options_set_progress(
    opts: *mut scones_train_options,
    callback: scones_progress_fn,
    user_data: *mut c_void,
    every: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::set_progress(opts, callback, user_data, every, err)
}

/// Noise levels of score training: from sigma_max down to sigma_min (0 < sigma_min <=
/// sigma_max); sigma_max = 0 means the largest pairwise distance of the data. `levels` geometric
/// levels with SCONES_SCORE_PARAMETRIZATION_NCSN; the default preconditioned parametrization
/// draws sigma continuously from the range and only checks that `levels` is valid.
#[no_mangle]
pub extern "C" fn scones_train_options_set_noise_levels(
    opts: *mut scones_train_options,
    sigma_max: f64,
    sigma_min: f64,
    levels: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.noise = NoiseLevels { sigma_max: (sigma_max != 0.0).then_some(sigma_max), sigma_min, levels };
        Ok(())
    })
}

/// The score network's parametrization (score training only): one of the
/// SCONES_SCORE_PARAMETRIZATION_* values; the default is PRECONDITIONED.
#[no_mangle]
pub extern "C" fn scones_train_options_set_score_parametrization(
    opts: *mut scones_train_options,
    parametrization: scones_score_parametrization,
    err: *mut *mut scones_error,
) -> scones_status {
    common::update(opts, err, |o| {
        o.parametrization = Some(match parametrization {
            SCONES_SCORE_PARAMETRIZATION_PRECONDITIONED => Parametrization::Preconditioned,
            SCONES_SCORE_PARAMETRIZATION_NCSN => Parametrization::Ncsn,
            other => return Err(Error::invalid(format!("unknown score parametrization value {other}"))),
        });
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ffi::error::{scones_error_free, SCONES_STATUS_INVALID_ARGUMENT, SCONES_STATUS_OK};

    #[test]
    fn a_rejected_value_leaves_the_options_as_they_were() {
        let mut o = scones_train_options::default();
        let mut err = std::ptr::null_mut();
        assert_eq!(scones_train_options_set_noise_levels(&mut o, 2.0, 0.1, 4, &mut err), SCONES_STATUS_OK);
        assert_eq!(
            scones_train_options_set_noise_levels(&mut o, 0.5, 1.0, 5, &mut err),
            SCONES_STATUS_INVALID_ARGUMENT
        );
        scones_error_free(err);
        assert_eq!((o.noise.sigma_max, o.noise.sigma_min, o.noise.levels), (Some(2.0), 0.1, 4));
        // beta1 = 1 breaks Optim's rule: neither the rate nor the "rate was set" mark may stick.
        let status = scones_train_options_set_adam(&mut o, 0.5, 1.0, 0.999, &mut err);
        assert_eq!(status, SCONES_STATUS_INVALID_ARGUMENT);
        scones_error_free(err);
        assert!(!o.learning_rate_set && o.optim.learning_rate != 0.5);
        assert_eq!(
            scones_train_options_set_progress(&mut o, None, std::ptr::null_mut(), 0, &mut err),
            SCONES_STATUS_INVALID_ARGUMENT
        );
        scones_error_free(err);
        assert_eq!(o.optim.report_every, Optim::default().report_every);
    }
}
