//! Figures: 2-D scatter plots and transport lines written as PNG, so that every host language's
//! examples can show plans and samples without a plotting stack of their own.

use std::ffi::c_char;

use super::error::{boundary, free_box, scones_error, scones_status};
use super::matrix::{read_f64, scones_matrix};
use super::{c_path, c_str, handle, handle_mut, out_ptr, put};
use crate::plot::{Figure, PlotError, Rgba};
use crate::runtime::error::{Error, Result};

/// A figure: a grid of panels (numbered row by row from 0) drawn into a PNG.
pub struct scones_figure {
    fig: Figure,
}

fn plot_err(e: PlotError) -> Error {
    match e {
        PlotError::Io(_) | PlotError::InvalidPath(_) => Error::io(e.to_string()),
        // Not the caller's doing: plotters or the embedded font failed.
        PlotError::Draw(_) => Error::internal(e.to_string()),
        _ => Error::invalid(e.to_string()),
    }
}

fn color(rgba: u32) -> Rgba {
    Rgba((rgba >> 24) as u8, (rgba >> 16) as u8, (rgba >> 8) as u8, rgba as u8)
}

fn points(m: *const scones_matrix, what: &str) -> Result<Vec<[f64; 2]>> {
    let (v, n, d) = read_f64(m, what)?;
    if d < 2 {
        return Err(Error::shape(format!("{what}: plots need at least 2 columns, got {d}")));
    }
    Ok((0..n).map(|i| [v[i * d], v[i * d + 1]]).collect())
}

/// A width x height pixel figure with rows x cols panels.
#[no_mangle]
pub extern "C" fn scones_figure_new(
    width: u32,
    height: u32,
    rows: u32,
    cols: u32,
    out: *mut *mut scones_figure,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        out_ptr(out, "out")?;
        let fig = Figure::new(width, height, rows, cols).map_err(plot_err)?;
        put(out, Box::into_raw(Box::new(scones_figure { fig })));
        Ok(())
    })
}

/// Releases a figure. NULL is a no-op.
#[no_mangle]
pub extern "C" fn scones_figure_free(fig: *mut scones_figure) {
    free_box(fig)
}

/// Scatter of the first two columns of `points` in color 0xRRGGBBAA, disks of `radius` pixels.
#[no_mangle]
pub extern "C" fn scones_figure_scatter(
    fig: *mut scones_figure,
    panel: usize,
    points_: *const scones_matrix,
    rgba: u32,
    radius: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let f = handle_mut(fig, "figure")?;
        let p = points(points_, "points")?;
        f.fig.scatter(panel, &p, color(rgba), radius).map_err(plot_err)
    })
}

/// Line segments from row i of `from` to row i of `to` (first two columns), color 0xRRGGBBAA.
#[no_mangle]
pub extern "C" fn scones_figure_segments(
    fig: *mut scones_figure,
    panel: usize,
    from: *const scones_matrix,
    to: *const scones_matrix,
    rgba: u32,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let f = handle_mut(fig, "figure")?;
        let (a, b) = (points(from, "from")?, points(to, "to")?);
        f.fig.segments(panel, &a, &b, color(rgba)).map_err(plot_err)
    })
}

/// Panel title (printable ASCII).
#[no_mangle]
pub extern "C" fn scones_figure_title(
    fig: *mut scones_figure,
    panel: usize,
    text: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let f = handle_mut(fig, "figure")?;
        f.fig.title(panel, c_str(text, "text")?).map_err(plot_err)
    })
}

/// Legend with n entries (`labels[i]` in `colors[i]`, 0xRRGGBBAA).
#[no_mangle]
pub extern "C" fn scones_figure_legend(
    fig: *mut scones_figure,
    panel: usize,
    labels: *const *const c_char,
    colors: *const u32,
    n: usize,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let f = handle_mut(fig, "figure")?;
        f.fig.legend(panel, &legend_entries(labels, colors, n)?).map_err(plot_err)
    })
}

fn legend_entries(labels: *const *const c_char, colors: *const u32, n: usize) -> Result<Vec<(String, Rgba)>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if labels.is_null() || colors.is_null() {
        return Err(Error::invalid("labels or colors is NULL"));
    }
    // SAFETY: non-NULL, and the caller passes n labels and n colors.
    let (labels, colors) = unsafe { (std::slice::from_raw_parts(labels, n), std::slice::from_raw_parts(colors, n)) };
    labels.iter().zip(colors).map(|(&l, &c)| Ok((c_str(l, "label")?.to_string(), color(c)))).collect()
}

/// Fixes a panel's data bounds (otherwise fitted to its data, with equal aspect).
#[no_mangle]
pub extern "C" fn scones_figure_set_bounds(
    fig: *mut scones_figure,
    panel: usize,
    xmin: f64,
    xmax: f64,
    ymin: f64,
    ymax: f64,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let f = handle_mut(fig, "figure")?;
        f.fig.set_bounds(panel, xmin, xmax, ymin, ymax).map_err(plot_err)
    })
}

/// Writes the figure as a PNG file (atomically: a temporary file renamed into place).
#[no_mangle]
pub extern "C" fn scones_figure_save_png(
    fig: *const scones_figure,
    path: *const c_char,
    err: *mut *mut scones_error,
) -> scones_status {
    boundary(err, || {
        let f = handle(fig, "figure")?;
        f.fig.save_png(&c_path(path, "path")?).map_err(plot_err)
    })
}
