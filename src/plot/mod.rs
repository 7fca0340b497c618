//! Figures for the examples: 2-D scatter plots and transport lines in a grid of panels with
//! axes, tick labels, titles and legends, drawn with plotters' bitmap backend and written as PNG
//! by the png crate; and [`ImageGrid`], a grid of small grayscale images (digit samples). Text comes from a font embedded in the library (src/plot/fonts), so figures
//! need no system fonts, fontconfig or freetype on the machine that draws them.
//!
//! A [`Figure`] is a grid of panels on a white background. Drawing calls only record
//! commands; pixels are produced by [`Figure::render_rgba`] or [`Figure::save_png`], because a
//! panel's default data bounds depend on everything that will be drawn in it.
//!
//! Panels are numbered row-major: panel `r * cols + c` is in row `r` (top first) and column
//! `c` (left first). Every panel keeps an equal aspect ratio, the same data units per pixel in
//! x and y, so that distances and angles in a transport plan are not distorted.

mod image_grid;
mod render;
#[cfg(test)]
mod tests;

use std::fmt;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub use image_grid::ImageGrid;

/// Largest accepted figure side, in pixels; 8192² RGBA is 256 MiB, enough for any plot.
const MAX_SIDE: u32 = 8192;
/// Largest accepted number of panel rows or columns.
const MAX_PANELS_PER_SIDE: u32 = 16;
/// Largest accepted marker radius, in pixels; bigger disks would make 200k-point scatters slow.
const MAX_RADIUS: f64 = 256.0;
/// Smallest accepted half-span of explicit bounds: below it pixels per data unit overflow.
const MIN_HALF_SPAN: f64 = 1e-300;
/// Fraction of the data span added on each side of default bounds so that markers at the
/// extremes are not cut by the frame.
const MARGIN_FRACTION: f64 = 0.05;

/// An sRGB color with straight (not premultiplied) alpha; alpha is the drawn element's opacity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rgba(pub u8, pub u8, pub u8, pub u8);

/// Why a plotting call failed.
#[derive(Debug)]
#[non_exhaustive]
pub enum PlotError {
    /// Figure width or height is 0 or above 8192 pixels.
    InvalidSize { width: u32, height: u32 },
    /// Panel rows or columns are 0 or above 16.
    InvalidGrid { rows: u32, cols: u32 },
    /// Panel index is not below the number of panels.
    PanelOutOfRange { panel: usize, panels: usize },
    /// Segment start and end slices have different lengths.
    LengthMismatch { starts: usize, ends: usize },
    /// Bounds are not finite, not increasing, or too narrow to map onto pixels.
    InvalidBounds { xmin: f64, xmax: f64, ymin: f64, ymax: f64 },
    /// An image tile has the wrong number of values.
    TileLength { expected: usize, got: usize },
    /// Marker radius is not finite or outside 0..=256 pixels.
    InvalidRadius(f64),
    /// The output path names no file.
    InvalidPath(PathBuf),
    /// Writing the output file failed.
    Io(io::Error),
    /// The PNG encoder rejected the image.
    Encode(png::EncodingError),
    /// plotters failed to draw (a bug here or there, not a bad argument).
    Draw(String),
}

impl fmt::Display for PlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PlotError::InvalidSize { width, height } => {
                write!(f, "invalid figure size {width}x{height}: each side must be 1..={MAX_SIDE} pixels")
            }
            PlotError::InvalidGrid { rows, cols } => {
                write!(f, "invalid panel grid {rows}x{cols}: rows and columns must be 1..={MAX_PANELS_PER_SIDE}")
            }
            PlotError::PanelOutOfRange { panel, panels } => {
                write!(f, "panel {panel} out of range: the figure has {panels} panels")
            }
            PlotError::LengthMismatch { starts, ends } => {
                write!(f, "segment endpoints mismatch: {starts} start points but {ends} end points")
            }
            PlotError::InvalidBounds { xmin, xmax, ymin, ymax } => write!(
                f,
                "invalid bounds x [{xmin}, {xmax}], y [{ymin}, {ymax}]: \
                 need finite values with min < max and a span above {:e}",
                2.0 * MIN_HALF_SPAN
            ),
            PlotError::TileLength { expected, got } => {
                write!(f, "image tile has {got} values, expected {expected} (tile height x width)")
            }
            PlotError::InvalidRadius(r) => {
                write!(f, "invalid marker radius {r}: must be finite and in 0..={MAX_RADIUS} pixels")
            }
            PlotError::InvalidPath(p) => write!(f, "invalid output path {}: no file name", p.display()),
            PlotError::Io(e) => write!(f, "cannot write plot: {e}"),
            PlotError::Encode(e) => write!(f, "cannot encode PNG: {e}"),
            PlotError::Draw(e) => write!(f, "cannot draw the figure: {e}"),
        }
    }
}

impl std::error::Error for PlotError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            PlotError::Io(e) => Some(e),
            PlotError::Encode(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for PlotError {
    fn from(e: io::Error) -> Self {
        PlotError::Io(e)
    }
}

impl From<png::EncodingError> for PlotError {
    fn from(e: png::EncodingError) -> Self {
        match e {
            // Surface file-system failures as such, whichever layer noticed them.
            png::EncodingError::IoError(e) => PlotError::Io(e),
            e => PlotError::Encode(e),
        }
    }
}

/// A grid of scatter-plot panels, rasterized on demand.
#[derive(Clone, Debug)]
pub struct Figure {
    width: u32,
    height: u32,
    rows: u32,
    cols: u32,
    panels: Vec<Panel>,
}

#[derive(Clone, Debug, Default)]
struct Panel {
    layers: Vec<Layer>,
    title: Option<String>,
    legend: Vec<(String, Rgba)>,
    bounds: Option<Bounds>,
}

/// A recorded draw command. Points are stored already filtered to finite values, so neither
/// bounds nor rasterization ever see NaN or infinity.
#[derive(Clone, Debug)]
enum Layer {
    Scatter { points: Vec<[f64; 2]>, color: Rgba, radius: f64 },
    Segments { segments: Vec<[[f64; 2]; 2]>, color: Rgba },
}

#[derive(Clone, Copy, Debug, PartialEq)]
struct Bounds {
    xmin: f64,
    xmax: f64,
    ymin: f64,
    ymax: f64,
}

impl Figure {
    /// A `width` x `height` pixel figure split into `rows` x `cols` panels.
    pub fn new(width: u32, height: u32, rows: u32, cols: u32) -> Result<Figure, PlotError> {
        if !(1..=MAX_SIDE).contains(&width) || !(1..=MAX_SIDE).contains(&height) {
            return Err(PlotError::InvalidSize { width, height });
        }
        if !(1..=MAX_PANELS_PER_SIDE).contains(&rows) || !(1..=MAX_PANELS_PER_SIDE).contains(&cols) {
            return Err(PlotError::InvalidGrid { rows, cols });
        }
        Ok(Figure { width, height, rows, cols, panels: vec![Panel::default(); (rows * cols) as usize] })
    }

    /// Number of panels, `rows * cols`.
    pub fn panels(&self) -> usize {
        self.panels.len()
    }

    /// Filled, anti-aliased disks of `radius` pixels at `points` (`[x, y]` in data units).
    /// Points with a NaN or infinite coordinate are skipped.
    pub fn scatter(&mut self, panel: usize, points: &[[f64; 2]], color: Rgba, radius: f64) -> Result<(), PlotError> {
        if !(radius.is_finite() && (0.0..=MAX_RADIUS).contains(&radius)) {
            return Err(PlotError::InvalidRadius(radius));
        }
        let panel = self.panel_mut(panel)?;
        let points = points.iter().copied().filter(is_finite).collect();
        panel.layers.push(Layer::Scatter { points, color, radius });
        Ok(())
    }

    /// One-pixel anti-aliased line segments from `starts[i]` to `ends[i]`. A segment with a NaN
    /// or infinite coordinate at either end is skipped.
    pub fn segments(
        &mut self,
        panel: usize,
        starts: &[[f64; 2]],
        ends: &[[f64; 2]],
        color: Rgba,
    ) -> Result<(), PlotError> {
        if starts.len() != ends.len() {
            return Err(PlotError::LengthMismatch { starts: starts.len(), ends: ends.len() });
        }
        let panel = self.panel_mut(panel)?;
        let segments =
            starts.iter().zip(ends).filter(|(a, b)| is_finite(a) && is_finite(b)).map(|(&a, &b)| [a, b]).collect();
        panel.layers.push(Layer::Segments { segments, color });
        Ok(())
    }

    /// Title centered above the panel's plot area, replacing any earlier one. Any Unicode text
    /// the embedded font covers (Latin-1, Greek, math symbols) shows as such; text wider than
    /// the panel is cut with an ellipsis.
    pub fn title(&mut self, panel: usize, text: &str) -> Result<(), PlotError> {
        self.panel_mut(panel)?.title = Some(text.to_owned());
        Ok(())
    }

    /// Fixes the data rectangle that the panel shows instead of fitting it to the data. The
    /// rectangle is centered and always fully visible; to keep the aspect ratio equal, the axis
    /// with room to spare shows more than was asked for. Data outside is clipped.
    pub fn set_bounds(&mut self, panel: usize, xmin: f64, xmax: f64, ymin: f64, ymax: f64) -> Result<(), PlotError> {
        let usable =
            |lo: f64, hi: f64| lo.is_finite() && hi.is_finite() && lo < hi && hi / 2.0 - lo / 2.0 >= MIN_HALF_SPAN;
        if !(usable(xmin, xmax) && usable(ymin, ymax)) {
            return Err(PlotError::InvalidBounds { xmin, xmax, ymin, ymax });
        }
        self.panel_mut(panel)?.bounds = Some(Bounds { xmin, xmax, ymin, ymax });
        Ok(())
    }

    /// A legend at the top left inside the panel: one colored square and label per entry,
    /// replacing any earlier legend. It is drawn over the data whatever the call order.
    pub fn legend(&mut self, panel: usize, entries: &[(String, Rgba)]) -> Result<(), PlotError> {
        self.panel_mut(panel)?.legend = entries.to_vec();
        Ok(())
    }

    /// The figure as `width * height * 4` bytes of 8-bit RGBA, rows top to bottom. The
    /// background is opaque, so alpha is always 255.
    pub fn render_rgba(&self) -> Result<Vec<u8>, PlotError> {
        let rgb = self.render_rgb()?;
        Ok(rgb.chunks_exact(3).flat_map(|p| [p[0], p[1], p[2], 255]).collect())
    }

    /// Writes the figure as an RGBA PNG, atomically and durably through
    /// [`crate::runtime::atomic_file::write_atomically`] (the one saver every file of the library
    /// goes through): readers never see a half-written file, and a failed save leaves nothing.
    pub fn save_png(&self, path: &Path) -> Result<(), PlotError> {
        if path.file_name().is_none() {
            return Err(PlotError::InvalidPath(path.to_path_buf()));
        }
        let pixels = self.render_rgba()?;
        crate::runtime::atomic_file::write_atomically(path, |file| self.write_png(file, &pixels))
    }

    fn write_png(&self, file: &mut File, pixels: &[u8]) -> Result<(), PlotError> {
        let mut out = BufWriter::new(file);
        let mut encoder = png::Encoder::new(&mut out, self.width, self.height);
        encoder.set_color(png::ColorType::Rgba);
        encoder.set_depth(png::BitDepth::Eight);
        // Plots are mostly flat color; the fast deflate compresses them well at a fraction of
        // the time of the default level.
        encoder.set_compression(png::Compression::Fast);
        let mut writer = encoder.write_header()?;
        writer.write_image_data(pixels)?;
        writer.finish()?;
        out.flush()?;
        Ok(())
    }

    fn panel_mut(&mut self, panel: usize) -> Result<&mut Panel, PlotError> {
        let panels = self.panels.len();
        self.panels.get_mut(panel).ok_or(PlotError::PanelOutOfRange { panel, panels })
    }

    /// The bounds a panel shows: explicit ones, else the finite data with a margin, else none
    /// (an empty panel has no data scale).
    fn panel_bounds(panel: &Panel) -> Option<Bounds> {
        if panel.bounds.is_some() {
            return panel.bounds;
        }
        let mut lo = [f64::INFINITY; 2];
        let mut hi = [f64::NEG_INFINITY; 2];
        let mut include = |p: &[f64; 2]| {
            for axis in 0..2 {
                lo[axis] = lo[axis].min(p[axis]);
                hi[axis] = hi[axis].max(p[axis]);
            }
        };
        for layer in &panel.layers {
            match layer {
                Layer::Scatter { points, .. } => points.iter().for_each(&mut include),
                Layer::Segments { segments, .. } => segments.iter().flatten().for_each(&mut include),
            }
        }
        if lo[0] > hi[0] {
            return None;
        }
        let center = [lo[0] / 2.0 + hi[0] / 2.0, lo[1] / 2.0 + hi[1] / 2.0];
        let mut half = [0.0; 2];
        for axis in 0..2 {
            half[axis] = (hi[axis] / 2.0 - lo[axis] / 2.0) * (1.0 + 2.0 * MARGIN_FRACTION);
        }
        // All data on one spot (or too close to resolve): show a neighbourhood sized to its
        // magnitude so the point sits mid-panel. One degenerate axis alone is fine, since the
        // equal-aspect fit takes the scale from the other.
        if half[0].max(half[1]) < MIN_HALF_SPAN {
            let h = 0.05 * center[0].abs().max(center[1].abs()).max(10.0);
            half = [h, h];
        }
        Some(Bounds {
            xmin: center[0] - half[0],
            xmax: center[0] + half[0],
            ymin: center[1] - half[1],
            ymax: center[1] + half[1],
        })
    }
}

fn is_finite(p: &[f64; 2]) -> bool {
    p[0].is_finite() && p[1].is_finite()
}
