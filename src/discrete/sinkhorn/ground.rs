//! Where Sinkhorn's cost comes from, one block of rows at a time: a dense matrix, or points whose
//! squared distances are formed on the fly (so an n x n cost never has to exist).

use crate::ot::Cost;
use crate::runtime::error::Result;
use tch::Tensor;

/// Where blocks of the cost come from.
pub(super) enum Ground<'a> {
    Dense(&'a Tensor),
    /// c = s (|x|^2 + |y|^2 - 2 x.y): `xx` = s |x_i|^2 [m], `yy` = s |y_j|^2 [n], `yt` = y^T.
    Points {
        cost: Cost,
        x: &'a Tensor,
        y: &'a Tensor,
        s: f64,
        xx: Tensor,
        yy: Tensor,
        yt: Tensor,
    },
    /// Points under a cost that does not split (|x - y|, |A y - B x|^2): blocks come from
    /// `Cost::pairwise`.
    Rows {
        cost: Cost,
        x: &'a Tensor,
        y: &'a Tensor,
    },
}

impl<'a> Ground<'a> {
    pub(super) fn points(cost: Cost, x: &'a Tensor, y: &'a Tensor) -> Result<Ground<'a>> {
        if !cost.splits() {
            return Ok(Ground::Rows { cost, x, y });
        }
        let s = cost.scale(x.size()[1]);
        let sq =
            |t: &Tensor| -> Result<Tensor> { Ok(t.f_square()?.f_sum_dim_intlist(1, false, None)?.f_mul_scalar(s)?) };
        Ok(Ground::Points { cost, x, y, s, xx: sq(x)?, yy: sq(y)?, yt: y.f_transpose(0, 1)?.f_contiguous()? })
    }

    pub(super) fn shape(&self) -> (i64, i64) {
        match self {
            Ground::Dense(c) => (c.size()[0], c.size()[1]),
            Ground::Points { x, y, .. } | Ground::Rows { x, y, .. } => (x.size()[0], y.size()[0]),
        }
    }

    /// h_j + (r_i + k_j - C_ij) / lambda on rows [i0, i0 + len), where C_ij = r_i + k_j + (rest)
    /// splits off the row term r and column term k of the cost (both 0 for a dense cost).
    pub(super) fn shifted_block(&self, i0: i64, len: i64, h: &Tensor, inv_lambda: f64) -> Result<Tensor> {
        match self {
            Ground::Dense(c) => {
                let mut b = c.f_narrow(0, i0, len)?.f_mul_scalar(-inv_lambda)?;
                let _ = b.f_add_(h)?;
                Ok(b)
            }
            Ground::Points { x, s, yt, .. } => {
                let xs = x.f_narrow(0, i0, len)?.f_mul_scalar(2.0 * s * inv_lambda)?;
                Ok(h.f_addmm(&xs, yt)?)
            }
            Ground::Rows { .. } => {
                let mut b = self.cost_block(i0, len)?.f_mul_scalar(-inv_lambda)?;
                let _ = b.f_add_(h)?;
                Ok(b)
            }
        }
    }

    /// r_i on rows [i0, i0 + len) (None for a dense cost).
    pub(super) fn row_term(&self, i0: i64, len: i64) -> Result<Option<Tensor>> {
        match self {
            Ground::Dense(_) | Ground::Rows { .. } => Ok(None),
            Ground::Points { xx, .. } => Ok(Some(xx.f_narrow(0, i0, len)?)),
        }
    }

    pub(super) fn col_term(&self) -> Option<&Tensor> {
        match self {
            Ground::Dense(_) | Ground::Rows { .. } => None,
            Ground::Points { yy, .. } => Some(yy),
        }
    }

    pub(super) fn cost_block(&self, i0: i64, len: i64) -> Result<Tensor> {
        match self {
            Ground::Dense(c) => Ok(c.f_narrow(0, i0, len)?),
            Ground::Points { cost, x, y, .. } | Ground::Rows { cost, x, y } => {
                cost.pairwise(&x.f_narrow(0, i0, len)?, y)
            }
        }
    }

    /// (min C, max C).
    pub(super) fn cost_range(&self, rows: i64) -> Result<(f64, f64)> {
        let (m, _) = self.shape();
        let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
        for (i0, len) in blocks(m, rows) {
            let c = self.cost_block(i0, len)?;
            lo = lo.min(c.f_min()?.f_double_value(&[])?);
            hi = hi.max(c.f_max()?.f_double_value(&[])?);
        }
        Ok((lo, hi))
    }
}

pub(super) fn blocks(m: i64, rows: i64) -> impl Iterator<Item = (i64, i64)> {
    (0..m).step_by(rows as usize).map(move |i0| (i0, rows.min(m - i0)))
}
