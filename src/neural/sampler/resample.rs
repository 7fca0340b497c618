//! Resampled chain starts (ChainInit::Resample): each chain starts at a target sample drawn
//! with probability M(V(x, y_j)) / sum_j M(V(x, y_j)), the duals' own discrete conditional.

use tch::{Device, Kind, Tensor};

use super::chains::{BatchNoise, ROW_BLOCK};
use super::{ChainInit, Sampler};
use crate::neural::mlp::Mlp;
use crate::runtime::error::{Error, Result};

/// The targets of [`ChainInit::Resample`] as an [N, dy] tensor on `device` with psi at them,
/// checked against the dual's dy; None for the other starts.
pub(super) fn targets(init: &ChainInit, psi: &Mlp, dy: usize, device: Device) -> Result<Option<(Tensor, Tensor)>> {
    let ChainInit::Resample { targets, dim, .. } = init else {
        return Ok(None);
    };
    if *dim != dy || targets.is_empty() || targets.len() % dim != 0 {
        return Err(Error::shape(format!(
            "resampling starts need target samples of dimension {dy} ({} values of dimension {dim} given)",
            targets.len()
        )));
    }
    if targets.iter().any(|v| !v.is_finite()) {
        return Err(Error::non_finite("the target samples for resampled starts hold NaN or infinity"));
    }
    let t = Tensor::f_from_slice(targets.as_slice())?.f_view([-1, *dim as i64])?.f_to_device(device)?;
    let psi_t = tch::no_grad(|| psi.forward(&t))?.f_squeeze_dim(1)?;
    Ok(Some((t, psi_t)))
}

impl Sampler {
    /// One target sample per chain, drawn with probability M(V(x, y_j)) / sum_j M(V(x, y_j))
    /// by inverse CDF from one normal of the chain's own stream (u = Phi(z)), so that a chain's
    /// start depends on its stream only. Rows in blocks so that the [rows, N] weights stay small.
    /// Also returns which chains keep their resampled start (the others start from noise): those
    /// whose source's weights have an effective sample size 1 / sum_j w_j^2 of at least K.
    pub(super) fn resampled_starts(
        &mut self,
        x: &Tensor,
        phi_x: Option<&Tensor>,
        noise: &mut BatchNoise,
    ) -> Result<(Tensor, Tensor)> {
        let (targets, psi_t) = self.init_targets.as_ref().ok_or_else(|| Error::internal("no resampling targets"))?;
        let chains = x.size()[0];
        let n = targets.size()[0];
        let u =
            noise.normals(chains as usize, 1)?.f_to_device(self.cfg.device)?.f_special_ndtr()?.f_reshape([-1, 1])?;
        let from_noise = noise.normals(chains as usize, self.dy)?.f_to_device(self.cfg.device)?;
        let min_ess = self.cfg.samples_per_source as f64;
        let mut keep = Vec::new();
        // Whole ROW_BLOCKs of rows, as the batches are padded: the cost's GEMM then computes a
        // row the same way whichever batch it is in.
        let block = ((1i64 << 22) / n.max(1) / ROW_BLOCK as i64).max(1) * ROW_BLOCK as i64;
        let mut picks = Vec::new();
        tch::no_grad(|| -> Result<()> {
            let mut start = 0;
            while start < chains {
                let rows = block.min(chains - start);
                let xb = x.f_narrow(0, start, rows)?;
                let mut v = psi_t.f_unsqueeze(0)?.f_sub(&self.cost.pairwise(&xb, targets)?)?;
                if let Some(phi) = phi_x {
                    v = v.f_add_(&phi.f_narrow(0, start, rows)?.f_unsqueeze(1)?)?;
                }
                let log_m = if self.regularizer.log_compatibility_is_linear() {
                    v.f_div_scalar(self.regularizer.lambda)?
                } else {
                    self.regularizer.log_compatibility(&v)?
                };
                let p = log_m.f_softmax(1, Kind::Double)?;
                keep.push(p.f_square()?.f_sum_dim_intlist(1, true, Kind::Double)?.f_reciprocal()?.f_ge(min_ess)?);
                let w = p.f_cumsum(1, Kind::Double)?;
                let ub = u.f_narrow(0, start, rows)?.f_to_kind(Kind::Double)?;
                // the last entry is 1 up to rounding: clamp so that u close to 1 stays in range
                let idx = ub.f_searchsorted(&w, false, false, "left", None::<&Tensor>)?.f_clamp_max(n - 1)?;
                picks.push(targets.f_index_select(0, &idx.f_reshape([-1])?)?);
                start += rows;
            }
            Ok(())
        })?;
        let keep = Tensor::f_cat(&keep, 0)?;
        Ok((Tensor::f_cat(&picks, 0)?.f_where_self(&keep, &from_noise)?, keep))
    }
}
