//! The matrix-view target: the validation (src/ffi/matrix.rs) on arbitrary rows, cols, strides, dtype and
//! pointer offset into a real buffer, through the C exports that read and write views.
//!
//! The library cannot know the buffer's length, so the invariant has two halves:
//! - a view the size rules must refuse (unknown dtype, an empty dimension, rows x cols
//!   overflowing or above 2^31, a byte extent beyond isize::MAX) is refused before any access,
//!   whatever its strides: under AddressSanitizer a single read or write outside the buffer
//!   would abort the run;
//! - a view lying inside the buffer is read element (i, j) at offset i rs + j cs and nothing
//!   else: joint_covariance of the view equals, bit for bit, that of a contiguous copy made
//!   here; an output view inside the buffer is written only at its own elements, with the same
//!   values a contiguous output gets, and one whose elements share an address is refused.
//!
//! Views that are legal but extend past the buffer would be the caller's error and are skipped.

use std::ptr::null_mut;

use super::expect_clean_failure;
use scones::ffi::gaussian::*;
use scones::ffi::*;

const LEN: usize = 256;
const MAX_ELEMENTS: u128 = 1 << 31;

struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let mut b = [0u8; N];
        let n = self.0.len().min(N);
        b[..n].copy_from_slice(&self.0[..n]);
        self.0 = &self.0[n..];
        b
    }
    /// Mostly small values, so the fuzzer meets in-buffer views often; the high bit of the
    /// first byte switches to a full 64-bit value for the overflow cases.
    fn size(&mut self) -> usize {
        let [b] = self.take::<1>();
        if b & 0x80 == 0 {
            (b & 0x3f) as usize
        } else {
            u64::from_le_bytes(self.take::<8>()) as usize
        }
    }
    fn stride(&mut self) -> isize {
        let [b] = self.take::<1>();
        if b & 0x80 == 0 {
            (b & 0x7f) as i8 as isize - 32
        } else {
            i64::from_le_bytes(self.take::<8>()) as isize
        }
    }
}

#[derive(Clone, Copy, Debug)]
struct View {
    offset: usize,
    rows: usize,
    cols: usize,
    rs: isize,
    cs: isize,
    dtype: i32,
}

impl View {
    fn read(b: &mut Bytes) -> View {
        let [o] = b.take::<1>();
        let [t] = b.take::<1>();
        let dtype = match t % 8 {
            0..=2 => SCONES_DTYPE_F64,
            3..=5 => SCONES_DTYPE_F32,
            6 => -1,
            _ => t as i32,
        };
        View { offset: o as usize % LEN, rows: b.size(), cols: b.size(), rs: b.stride(), cs: b.stride(), dtype }
    }
    fn elem_size(&self) -> i128 {
        if self.dtype == SCONES_DTYPE_F32 {
            4
        } else {
            8
        }
    }
    /// What the size rules of the header refuse, computed independently of the library.
    fn must_refuse(&self) -> bool {
        let extent = |n: usize, s: isize| (n as i128 - 1) * s.unsigned_abs() as i128;
        self.dtype != SCONES_DTYPE_F32 && self.dtype != SCONES_DTYPE_F64
            || self.rows == 0
            || self.cols == 0
            || self.rows as u128 * self.cols as u128 > MAX_ELEMENTS
            || (extent(self.rows, self.rs) + extent(self.cols, self.cs) + 1) * self.elem_size() > isize::MAX as i128
    }
    /// Every element's offset lies in [0, len) of a buffer of `len` elements of the dtype.
    fn inside(&self, len: usize) -> bool {
        if self.must_refuse() {
            return false;
        }
        let lo = |n: usize, s: isize| ((n as i128 - 1) * s as i128).min(0);
        let hi = |n: usize, s: isize| ((n as i128 - 1) * s as i128).max(0);
        let o = self.offset as i128;
        o + lo(self.rows, self.rs) + lo(self.cols, self.cs) >= 0
            && o + hi(self.rows, self.rs) + hi(self.cols, self.cs) < len as i128
    }
    fn offsets(&self) -> Vec<usize> {
        let mut v = Vec::with_capacity(self.rows * self.cols);
        for i in 0..self.rows {
            for j in 0..self.cols {
                v.push((self.offset as isize + i as isize * self.rs + j as isize * self.cs) as usize);
            }
        }
        v
    }
    fn len_in(&self, bytes: usize) -> usize {
        bytes / self.elem_size() as usize
    }
}

/// 8-byte aligned storage for either dtype.
struct Buffer(Vec<f64>);

impl Buffer {
    fn filled(v: &View) -> Buffer {
        let mut b = Buffer(vec![0.0; LEN]);
        if v.dtype == SCONES_DTYPE_F32 {
            let f = b.f32_mut();
            for (k, x) in f.iter_mut().enumerate() {
                *x = (k as f32 * 0.37).sin() * 3.0;
            }
        } else {
            for (k, x) in b.0.iter_mut().enumerate() {
                *x = (k as f64 * 0.37).sin() * 3.0;
            }
        }
        b
    }
    fn f32_mut(&mut self) -> &mut [f32] {
        // SAFETY: f64 storage reinterpreted as twice as many f32, same alignment or weaker.
        unsafe { std::slice::from_raw_parts_mut(self.0.as_mut_ptr().cast(), LEN * 2) }
    }
    fn get(&mut self, v: &View, k: usize) -> f64 {
        if v.dtype == SCONES_DTYPE_F32 {
            self.f32_mut()[k] as f64
        } else {
            self.0[k]
        }
    }
    fn ptr(&mut self, v: &View) -> *mut std::ffi::c_void {
        let base = self.0.as_mut_ptr().cast::<u8>();
        // The offset is < LEN elements of the dtype: inside the allocation.
        unsafe { base.add(v.offset * v.elem_size() as usize).cast() }
    }
}

fn matrix(b: &mut Buffer, v: &View) -> scones_matrix {
    scones_matrix { data: b.ptr(v), rows: v.rows, cols: v.cols, row_stride: v.rs, col_stride: v.cs, dtype: v.dtype }
}

fn contiguous(data: &[f64], rows: usize, cols: usize) -> scones_matrix {
    scones_matrix {
        data: data.as_ptr().cast(),
        rows,
        cols,
        row_stride: cols as isize,
        col_stride: 1,
        dtype: SCONES_DTYPE_F64,
    }
}

fn check_input(v: View) {
    let bytes = LEN * 8;
    let mut buf = Buffer::filled(&v);
    let refuse = v.must_refuse();
    let inside = v.inside(v.len_in(bytes)) && v.rows * v.cols <= 1 << 16;
    if !refuse && !inside {
        return;
    }
    let m = matrix(&mut buf, &v);
    let (rows, cols) = if refuse { (2, 1) } else { (v.rows, v.cols) };
    let copy: Vec<f64> =
        if refuse { vec![0.0, 1.0] } else { v.offsets().into_iter().map(|k| buf.get(&v, k)).collect() };
    let cm = contiguous(&copy, rows, cols);
    let d = if refuse { 2 } else { 2 * cols };
    let mut out_view = vec![0f64; d * d];
    let mut out_copy = vec![0f64; d * d];
    let o1 = scones_matrix_mut {
        data: out_view.as_mut_ptr().cast(),
        rows: d,
        cols: d,
        row_stride: d as isize,
        col_stride: 1,
        dtype: SCONES_DTYPE_F64,
    };
    let o2 = scones_matrix_mut { data: out_copy.as_mut_ptr().cast(), ..o1 };
    let (mut e1, mut e2) = (null_mut(), null_mut());
    let s1 = scones_joint_covariance(&m, &cm, &o1, &mut e1);
    if refuse {
        assert_eq!(s1, SCONES_STATUS_INVALID_ARGUMENT, "{v:?} must be refused");
        unsafe { expect_clean_failure("refused input view", s1, e1) };
        return;
    }
    let s2 = scones_joint_covariance(&cm, &cm, &o2, &mut e2);
    assert_eq!(s1, s2, "{v:?}: the view and its contiguous copy give different statuses");
    if s1 == SCONES_STATUS_OK {
        assert!(out_view.iter().zip(&out_copy).all(|(a, b)| a.to_bits() == b.to_bits()), "{v:?} read other elements");
    } else {
        unsafe {
            expect_clean_failure("input view", s1, e1);
            expect_clean_failure("contiguous copy", s2, e2);
        }
    }
}

fn check_output(v: View) {
    let mut buf = Buffer(vec![f64::from_bits(0x7ff8_dead_beef_0001); LEN]);
    let before: Vec<u64> = buf.0.iter().map(|x| x.to_bits()).collect();
    let refuse = v.must_refuse();
    let inside = v.inside(v.len_in(LEN * 8)) && v.cols <= 8 && v.rows <= 1024;
    if !refuse && !inside {
        return;
    }
    let d = if refuse || v.cols > 8 { 2 } else { v.cols };
    let mean = vec![0.0; d];
    let cov: Vec<f64> = (0..d * d).map(|k| if k % (d + 1) == 0 { 1.0 } else { 0.0 }).collect();
    let (mu, c) = (contiguous(&mean, 1, d), contiguous(&cov, d, d));
    let o = scones_matrix_mut {
        data: buf.ptr(&v),
        rows: v.rows,
        cols: v.cols,
        row_stride: v.rs,
        col_stride: v.cs,
        dtype: v.dtype,
    };
    let mut err = null_mut();
    let st = scones_gaussian_sample(&mu, &c, v.rows.max(1), 7, &o, &mut err);
    let after: Vec<u64> = buf.0.iter().map(|x| x.to_bits()).collect();
    if st != SCONES_STATUS_OK {
        assert!(before == after, "{v:?}: a refused output view was written");
        if refuse {
            assert_eq!(st, SCONES_STATUS_INVALID_ARGUMENT, "{v:?} must be refused");
        }
        unsafe { expect_clean_failure("output view", st, err) };
        return;
    }
    assert!(!refuse, "{v:?} must be refused but was written");
    let offsets = v.offsets();
    let mut seen = std::collections::HashSet::new();
    assert!(offsets.iter().all(|k| seen.insert(*k)), "{v:?}: accepted an output whose elements share an address");
    // The same draw into a contiguous f64 output: the strided one must hold the same values.
    let mut reference = vec![0f64; v.rows * v.cols];
    let r = scones_matrix_mut {
        data: reference.as_mut_ptr().cast(),
        rows: v.rows,
        cols: v.cols,
        row_stride: v.cols as isize,
        col_stride: 1,
        dtype: SCONES_DTYPE_F64,
    };
    assert_eq!(scones_gaussian_sample(&mu, &c, v.rows, 7, &r, null_mut()), SCONES_STATUS_OK);
    let elem = v.elem_size() as usize;
    let written: std::collections::HashSet<usize> = offsets.iter().map(|k| k * elem / 8).collect();
    for (w, (b, a)) in before.iter().zip(&after).enumerate() {
        assert!(b == a || written.contains(&w), "{v:?}: word {w} outside the view was written");
    }
    for (idx, &k) in offsets.iter().enumerate() {
        let got = buf.get(&v, k);
        let want = if v.dtype == SCONES_DTYPE_F32 { reference[idx] as f32 as f64 } else { reference[idx] };
        assert_eq!(got.to_bits(), want.to_bits(), "{v:?}: element {idx} at offset {k}");
    }
}

/// One fuzz input: a selector byte (input or output view), then the view.
pub fn run(data: &[u8]) {
    let mut b = Bytes(data);
    let [which] = b.take::<1>();
    let v = View::read(&mut b);
    if which & 1 == 0 {
        check_input(v);
    } else {
        check_output(v);
    }
}
