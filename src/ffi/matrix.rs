//! Strided matrix views: how arrays cross the C boundary without copies on the host side.
//!
//! Element (i, j) lives at data + (i * row_stride + j * col_stride) elements. Row-major C arrays
//! have (row_stride, col_stride) = (cols, 1); column-major Julia matrices with points as rows
//! have (1, rows); Julia's points-as-columns d x n matrices are passed with rows = n, cols = d and
//! strides (d, 1). Rows are points, columns are coordinates.

use std::ffi::c_void;

use tch::Tensor;

use crate::runtime::error::{Error, Result};
use crate::runtime::limits;

/// Element type of a matrix view; one of the SCONES_DTYPE_* values.
pub type scones_dtype = i32;
/// 32-bit IEEE float.
pub const SCONES_DTYPE_F32: scones_dtype = 0;
/// 64-bit IEEE float.
pub const SCONES_DTYPE_F64: scones_dtype = 1;

/// A read-only strided matrix view. Strides count elements, not bytes, and may be negative or
/// zero (broadcast). rows x cols must be at most 2^31 elements and the furthest element must lie
/// within the address space; other views fail with SCONES_STATUS_INVALID_ARGUMENT before
/// anything is read.
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

/// A writable strided matrix view, filled by the library (only on success). Besides the rules
/// of scones_matrix, no two elements may share an address: a dimension longer than 1 needs a
/// non-zero stride, and when both are, the smaller |stride| times its dimension must not exceed
/// the larger |stride| (row-major, column-major, padded and reversed layouts all qualify).
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

/// The one layout check every view passes, before anything is read, written or allocated:
/// a known dtype, rows and cols > 0, non-NULL data, rows x cols computed without overflow and
/// at most [`limits::MAX_ELEMENTS`] (so a view can never make the library allocate or loop without
/// bound, whatever its strides), and a furthest byte offset that fits an isize, so the pointer
/// arithmetic of the readers cannot wrap.
fn check_layout(
    what: &str,
    data_null: bool,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    dtype: scones_dtype,
) -> Result<usize> {
    let size: i128 = match dtype {
        SCONES_DTYPE_F32 => 4,
        SCONES_DTYPE_F64 => 8,
        _ => {
            return Err(Error::invalid(format!(
                "{what}: unknown dtype {dtype} (expected SCONES_DTYPE_F32 or SCONES_DTYPE_F64)"
            )))
        }
    };
    if rows == 0 || cols == 0 {
        return Err(Error::invalid(format!("{what}: matrix has {rows} rows and {cols} columns; both must be > 0")));
    }
    if data_null {
        return Err(Error::invalid(format!("{what}: data pointer is NULL")));
    }
    let n = limits::elements(what, rows, cols)?;
    // rows, cols <= MAX_ELEMENTS and |stride| <= 2^63, so the i128 products cannot overflow.
    let extent = |n: usize, s: isize| (n as i128 - 1) * s.unsigned_abs() as i128;
    if (extent(rows, rs) + extent(cols, cs) + 1) * size > isize::MAX as i128 {
        return Err(Error::invalid(format!("{what}: strides ({rs}, {cs}) overflow the address space")));
    }
    Ok(n)
}

/// An output view must not map two elements to one address, or a result would overwrite
/// another. The rule (exact for the layouts it accepts, conservative otherwise): a dimension of
/// size 1 has no constraint on its stride; a dimension of size > 1 needs a non-zero stride; when
/// both dimensions exceed 1, the one with the smaller |stride| (s, n_s elements) must fit
/// between two steps of the other (|S| >= n_s |s|), i.e. the rows and columns do not
/// interleave. Row-major (cols, 1), column-major (1, rows), padded and reversed layouts pass;
/// (1, 1) with rows, cols > 1 and interleaved strides such as (2, 3) are rejected.
fn check_no_self_overlap(what: &str, rows: usize, cols: usize, rs: isize, cs: isize) -> Result<()> {
    let fail = || {
        Err(Error::invalid(format!(
            "{what}: output view {rows} x {cols} with strides ({rs}, {cs}) overlaps itself (two elements share an address)"
        )))
    };
    if (rows > 1 && rs == 0) || (cols > 1 && cs == 0) {
        return fail();
    }
    if rows > 1 && cols > 1 {
        let (r, c) = (rs.unsigned_abs() as u128, cs.unsigned_abs() as u128);
        let ok = if c <= r { r >= cols as u128 * c } else { c >= rows as u128 * r };
        if !ok {
            return fail();
        }
    }
    Ok(())
}

fn view<'a>(m: *const scones_matrix, what: &str) -> Result<(&'a scones_matrix, usize)> {
    // SAFETY: NULL or a caller-provided view.
    let m = unsafe { m.as_ref() }.ok_or_else(|| Error::invalid(format!("{what}: matrix view pointer is NULL")))?;
    let n = check_layout(what, m.data.is_null(), m.rows, m.cols, m.row_stride, m.col_stride, m.dtype)?;
    Ok((m, n))
}

/// Reads a checked view in row-major order through `conv`, into a buffer reserved with
/// try_reserve (a failed allocation is an error, never an abort), rejecting NaN and infinity
/// with the position named.
fn read_as<T>(m: *const scones_matrix, what: &str, conv: impl Fn(f64) -> T) -> Result<(Vec<T>, usize, usize)> {
    let (m, n) = view(m, what)?;
    let mut out = limits::try_vec(what, n)?;
    for i in 0..m.rows {
        for j in 0..m.cols {
            let off = i as isize * m.row_stride + j as isize * m.col_stride;
            // SAFETY: the caller guarantees the view describes readable memory (documented);
            // check_layout made sure the offset does not wrap.
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
            out.push(conv(v));
        }
    }
    Ok((out, m.rows, m.cols))
}

/// The checked (rows, cols) of an input view, before reading it: lets a call refuse a size
/// before it spends the time and memory of the read.
pub(crate) fn dims(m: *const scones_matrix, what: &str) -> Result<(usize, usize)> {
    let (m, _) = view(m, what)?;
    Ok((m.rows, m.cols))
}

/// Reads a view into row-major f64, rejecting NaN and infinity with the position named.
pub(crate) fn read_f64(m: *const scones_matrix, what: &str) -> Result<(Vec<f64>, usize, usize)> {
    read_as(m, what, |v| v)
}

/// Reads a view into an [rows, cols] float32 tensor (the precision the networks use).
pub(crate) fn read_tensor(m: *const scones_matrix, what: &str) -> Result<Tensor> {
    let (f, r, c) = read_as(m, what, |v| v as f32)?;
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
    check_no_self_overlap(what, m.rows, m.cols, m.row_stride, m.col_stride)?;
    if m.rows != rows || m.cols != cols {
        return Err(Error::shape(format!("{what}: output must be {rows} x {cols}, got {} x {}", m.rows, m.cols)));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(rows: usize, cols: usize, rs: isize, cs: isize) -> Result<usize> {
        check_layout("m", false, rows, cols, rs, cs, SCONES_DTYPE_F64)
    }

    #[test]
    fn overflowing_and_huge_views_fail_before_any_read() {
        // 2^32 x 2^32 wraps to 0 in unchecked usize arithmetic; zero strides keep the extent 0.
        assert!(layout(1 << 32, 1 << 32, 1 << 32, 1).is_err());
        assert!(layout(1 << 32, 1 << 32, 0, 0).is_err());
        assert!(layout(1 << 40, 3, 0, 1).is_err(), "broadcast rows");
        assert!(layout(usize::MAX, usize::MAX, 1, 1).is_err());
        assert!(layout(2, 2, isize::MAX, 1).is_err(), "byte extent overflows");
        assert_eq!(layout(limits::MAX_ELEMENTS, 1, 1, 1).unwrap(), limits::MAX_ELEMENTS);
        assert_eq!(layout(3, 2, 2, 1).unwrap(), 6);
        assert!(check_layout("m", false, 3, 2, 2, 1, 7).is_err());
        assert!(check_layout("m", true, 3, 2, 2, 1, SCONES_DTYPE_F32).is_err());
    }

    #[test]
    fn self_overlapping_outputs_are_refused() {
        let ok = |r, c, rs, cs| check_no_self_overlap("o", r, c, rs, cs).is_ok();
        assert!(!ok(3, 2, 1, 1) && !ok(3, 2, 0, 1) && !ok(3, 2, 2, 0) && !ok(3, 3, 2, 1) && !ok(2, 2, 2, 3));
        assert!(ok(3, 2, 2, 1) && ok(3, 2, 1, 3) && ok(3, 2, -2, -1) && ok(3, 2, 5, 1) && ok(1, 4, 0, 1));
        assert!(ok(4, 1, 1, 0) && ok(1, 1, 0, 0));
    }

    #[test]
    fn reads_fill_row_major_and_name_non_finite_entries() {
        let data = [1.0f64, 2.0, 3.0, 4.0, 5.0, 6.0];
        let m = scones_matrix {
            data: data.as_ptr().cast(),
            rows: 2,
            cols: 3,
            row_stride: 1,
            col_stride: 2,
            dtype: SCONES_DTYPE_F64,
        };
        assert_eq!(read_f64(&m, "m").unwrap().0, vec![1.0, 3.0, 5.0, 2.0, 4.0, 6.0]);
        let bad = [1.0f64, f64::NAN];
        let b = scones_matrix { data: bad.as_ptr().cast(), rows: 1, cols: 2, row_stride: 2, col_stride: 1, ..m };
        let e = read_f64(&b, "b").unwrap_err();
        assert!(e.message.contains("column 1"), "{}", e.message);
    }
}
