//! Strided matrix views: how arrays cross the C boundary without copies on the host side.
//!
//! Element (i, j) lives at data + (i * row_stride + j * col_stride) elements. Row-major C arrays
//! have (row_stride, col_stride) = (cols, 1); column-major Julia matrices with points as rows
//! have (1, rows); Julia's points-as-columns d x n matrices are passed with rows = n, cols = d and
//! strides (d, 1). Rows are points, columns are coordinates.

use std::ffi::c_void;

use tch::Tensor;

use crate::runtime::error::{Error, Result};

/// Element type of a matrix view; one of the SCONES_DTYPE_* values.
pub type scones_dtype = i32;
/// 32-bit IEEE float.
pub const SCONES_DTYPE_F32: scones_dtype = 0;
/// 64-bit IEEE float.
pub const SCONES_DTYPE_F64: scones_dtype = 1;

/// A read-only strided matrix view. Strides count elements, not bytes, and may be negative.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct scones_matrix {
    pub data: *const c_void,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: isize,
    pub col_stride: isize,
    pub dtype: scones_dtype,
}

/// A writable strided matrix view, filled by the library (only on success).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct scones_matrix_mut {
    pub data: *mut c_void,
    pub rows: usize,
    pub cols: usize,
    pub row_stride: isize,
    pub col_stride: isize,
    pub dtype: scones_dtype,
}

fn check_layout(
    what: &str,
    data_null: bool,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    dtype: scones_dtype,
) -> Result<()> {
    if dtype != SCONES_DTYPE_F32 && dtype != SCONES_DTYPE_F64 {
        return Err(Error::invalid(format!(
            "{what}: unknown dtype {dtype} (expected SCONES_DTYPE_F32 or SCONES_DTYPE_F64)"
        )));
    }
    if rows == 0 || cols == 0 {
        return Err(Error::invalid(format!("{what}: matrix has {rows} rows and {cols} columns; both must be > 0")));
    }
    if data_null {
        return Err(Error::invalid(format!("{what}: data pointer is NULL")));
    }
    // The furthest element offset must fit an isize, or pointer arithmetic would wrap.
    let extent = |n: usize, s: isize| (n as i128 - 1) * s.unsigned_abs() as i128;
    if extent(rows, rs) + extent(cols, cs) > isize::MAX as i128 / 8 {
        return Err(Error::invalid(format!("{what}: strides ({rs}, {cs}) overflow the address space")));
    }
    Ok(())
}

fn view<'a>(m: *const scones_matrix, what: &str) -> Result<&'a scones_matrix> {
    // SAFETY: NULL or a caller-provided view.
    let m = unsafe { m.as_ref() }.ok_or_else(|| Error::invalid(format!("{what}: matrix view pointer is NULL")))?;
    check_layout(what, m.data.is_null(), m.rows, m.cols, m.row_stride, m.col_stride, m.dtype)?;
    Ok(m)
}

/// Reads a view into row-major f64, rejecting NaN and infinity with the position named.
pub(crate) fn read_f64(m: *const scones_matrix, what: &str) -> Result<(Vec<f64>, usize, usize)> {
    let m = view(m, what)?;
    let mut out = Vec::with_capacity(m.rows * m.cols);
    for i in 0..m.rows {
        for j in 0..m.cols {
            let off = i as isize * m.row_stride + j as isize * m.col_stride;
            // SAFETY: the caller guarantees the view describes readable memory (documented).
            let v = unsafe {
                if m.dtype == SCONES_DTYPE_F32 {
                    *(m.data as *const f32).offset(off) as f64
                } else {
                    *(m.data as *const f64).offset(off)
                }
            };
            if !v.is_finite() {
                return Err(Error::non_finite(format!("{what}: row {i}, column {j} is {v}")));
            }
            out.push(v);
        }
    }
    Ok((out, m.rows, m.cols))
}

/// Reads a view into an [rows, cols] float32 tensor (the precision the networks use).
pub(crate) fn read_tensor(m: *const scones_matrix, what: &str) -> Result<Tensor> {
    let (v, r, c) = read_f64(m, what)?;
    let f: Vec<f32> = v.iter().map(|&x| x as f32).collect();
    if f.iter().any(|x| !x.is_finite()) {
        return Err(Error::non_finite(format!("{what}: values overflow float32")));
    }
    Ok(Tensor::f_from_slice(&f)?.f_view([r as i64, c as i64])?)
}

/// Validates an output view against the shape the call will produce, before any work.
pub(crate) fn check_out(m: *const scones_matrix_mut, what: &str, rows: usize, cols: usize) -> Result<()> {
    // SAFETY: NULL or a caller-provided view.
    let m = unsafe { m.as_ref() }.ok_or_else(|| Error::invalid(format!("{what}: output view pointer is NULL")))?;
    check_layout(what, m.data.is_null(), m.rows, m.cols, m.row_stride, m.col_stride, m.dtype)?;
    if m.rows != rows || m.cols != cols {
        return Err(Error::shape(format!("{what}: output must be {rows} x {cols}, got {} x {}", m.rows, m.cols)));
    }
    if (rows > 1 && m.row_stride == 0) || (cols > 1 && m.col_stride == 0) {
        return Err(Error::invalid(format!("{what}: zero stride would write several elements to one place")));
    }
    Ok(())
}

/// Writes row-major values into a view already validated by [`check_out`].
pub(crate) fn write_f64(m: *const scones_matrix_mut, values: &[f64]) {
    // SAFETY: validated by check_out.
    let m = unsafe { &*m };
    debug_assert_eq!(values.len(), m.rows * m.cols);
    for i in 0..m.rows {
        for j in 0..m.cols {
            let off = i as isize * m.row_stride + j as isize * m.col_stride;
            let v = values[i * m.cols + j];
            // SAFETY: the caller guarantees the view describes writable memory (documented).
            unsafe {
                if m.dtype == SCONES_DTYPE_F32 {
                    *(m.data as *mut f32).offset(off) = v as f32;
                } else {
                    *(m.data as *mut f64).offset(off) = v;
                }
            }
        }
    }
}

/// Writes a 1-D or 2-D tensor (row-major order) into a validated view.
pub(crate) fn write_tensor(m: *const scones_matrix_mut, t: &Tensor) -> Result<()> {
    let v = crate::reference::linalg::to_vec(t)?;
    write_f64(m, &v);
    Ok(())
}

/// Reads a vector given as a 1 x d or d x 1 view.
pub(crate) fn read_vector(m: *const scones_matrix, what: &str) -> Result<Vec<f64>> {
    let (v, r, c) = read_f64(m, what)?;
    if r != 1 && c != 1 {
        return Err(Error::shape(format!("{what}: expected a 1 x d or d x 1 vector, got {r} x {c}")));
    }
    Ok(v)
}
