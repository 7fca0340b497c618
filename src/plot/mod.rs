//! A small rasterizer for the 2-D scatter plots that the examples write (transport plans,
//! samples), with a PNG writer, so that plotting needs no graphics stack.
//!
//! A [`Figure`] is a grid of panels on a white background. Drawing calls only record
//! commands; pixels are produced by [`Figure::render_rgba`] or [`Figure::save_png`], because a
//! panel's default data bounds depend on everything that will be drawn in it.
//!
//! Panels are numbered row-major: panel `r * cols + c` is in row `r` (top first) and column
//! `c` (left first). Every panel keeps an equal aspect ratio, the same data units per pixel in
//! x and y, so that distances and angles in a transport plan are not distorted.

mod font;

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

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

const BACKGROUND: u8 = 255;
const FRAME_COLOR: Rgba = Rgba(150, 150, 150, 255);
const TICK_COLOR: Rgba = Rgba(195, 195, 195, 255);
const TEXT_COLOR: Rgba = Rgba(30, 30, 30, 255);
/// Slightly transparent so that data under the legend stays faintly visible.
const LEGEND_BACKGROUND: Rgba = Rgba(255, 255, 255, 220);

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
    /// Marker radius is not finite or outside 0..=256 pixels.
    InvalidRadius(f64),
    /// The output path names no file.
    InvalidPath(PathBuf),
    /// Writing the output file failed.
    Io(io::Error),
    /// The PNG encoder rejected the image.
    Encode(png::EncodingError),
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
            PlotError::InvalidRadius(r) => {
                write!(f, "invalid marker radius {r}: must be finite and in 0..={MAX_RADIUS} pixels")
            }
            PlotError::InvalidPath(p) => write!(f, "invalid output path {}: no file name", p.display()),
            PlotError::Io(e) => write!(f, "cannot write plot: {e}"),
            PlotError::Encode(e) => write!(f, "cannot encode PNG: {e}"),
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

/// Half-open pixel rectangle `[x0, x1) x [y0, y1)`; signed so that layout arithmetic on tiny
/// figures can go negative and simply yield an empty rectangle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Rect {
    x0: i64,
    y0: i64,
    x1: i64,
    y1: i64,
}

impl Rect {
    fn width(&self) -> i64 {
        (self.x1 - self.x0).max(0)
    }

    fn height(&self) -> i64 {
        (self.y1 - self.y0).max(0)
    }

    fn is_empty(&self) -> bool {
        self.width() == 0 || self.height() == 0
    }

    fn shrink(&self, by: i64) -> Rect {
        Rect { x0: self.x0 + by, y0: self.y0 + by, x1: self.x1 - by, y1: self.y1 - by }
    }

    fn intersect(&self, other: &Rect) -> Rect {
        Rect {
            x0: self.x0.max(other.x0),
            y0: self.y0.max(other.y0),
            x1: self.x1.min(other.x1),
            y1: self.y1.min(other.y1),
        }
    }
}

/// Where a panel's parts go on the figure.
#[derive(Clone, Copy, Debug)]
struct PanelLayout {
    cell: Rect,
    /// The frame is drawn on the border pixels of this rectangle.
    frame: Rect,
    /// Data is drawn, and clipped, inside the frame.
    plot: Rect,
    /// Top row of the title text.
    title_y: i64,
}

/// Data-to-pixel mapping with one scale for both axes. Pixel coordinates are continuous:
/// pixel `i` covers `[i, i + 1)`, and y grows downwards.
#[derive(Clone, Copy, Debug)]
struct Transform {
    /// Data point mapped to the center of the plot area.
    cx: f64,
    cy: f64,
    /// Pixels per data unit.
    scale: f64,
    /// Pixel coordinates of the plot area's center.
    ucx: f64,
    vcy: f64,
}

impl Transform {
    /// The largest scale at which `bounds` fits in `plot`, centered. The data range along the
    /// roomier axis grows rather than the geometry being stretched.
    fn fit(bounds: &Bounds, plot: &Rect) -> Option<Transform> {
        if plot.is_empty() {
            return None;
        }
        // Halves first: `max - min` overflows for spans near f64::MAX.
        let (hx, hy) = (bounds.xmax / 2.0 - bounds.xmin / 2.0, bounds.ymax / 2.0 - bounds.ymin / 2.0);
        let (pw, ph) = (plot.width() as f64, plot.height() as f64);
        // A zero half-span gives an infinite candidate, so the other axis decides.
        let scale = ((pw / 2.0) / hx).min((ph / 2.0) / hy);
        if !(scale.is_finite() && scale > 0.0) {
            return None;
        }
        Some(Transform {
            cx: bounds.xmin / 2.0 + bounds.xmax / 2.0,
            cy: bounds.ymin / 2.0 + bounds.ymax / 2.0,
            scale,
            ucx: plot.x0 as f64 + pw / 2.0,
            vcy: plot.y0 as f64 + ph / 2.0,
        })
    }

    /// Pixel position of a data point, or `None` when it is so far away that it overflows.
    fn to_pixel(self, p: [f64; 2]) -> Option<[f64; 2]> {
        let u = self.ucx + (p[0] - self.cx) * self.scale;
        let v = self.vcy - (p[1] - self.cy) * self.scale;
        (u.is_finite() && v.is_finite()).then_some([u, v])
    }

    /// Data value at a pixel coordinate along x (`axis` 0) or y (`axis` 1).
    fn to_data(self, axis: usize, pixel: f64) -> f64 {
        if axis == 0 {
            self.cx + (pixel - self.ucx) / self.scale
        } else {
            self.cy - (pixel - self.vcy) / self.scale
        }
    }
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

    /// Title centered above the panel's plot area, replacing any earlier one. Characters
    /// other than printable ASCII are shown as `'?'`; text wider than the panel is cut.
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
    pub fn render_rgba(&self) -> Vec<u8> {
        let mut canvas = Canvas::new(self.width, self.height);
        for (index, panel) in self.panels.iter().enumerate() {
            self.render_panel(&mut canvas, index, panel);
        }
        canvas.pixels
    }

    /// Writes the figure as an RGBA PNG. The image goes to a temporary file in the target's
    /// folder that is then renamed over `path`, so readers never see a half-written file.
    pub fn save_png(&self, path: &Path) -> Result<(), PlotError> {
        // Distinguishes temporary files of concurrent saves within this process.
        static SAVE_COUNTER: AtomicU64 = AtomicU64::new(0);

        let file_name = path.file_name().ok_or_else(|| PlotError::InvalidPath(path.to_path_buf()))?;
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir,
            _ => Path::new("."),
        };
        let tmp = dir.join(format!(
            ".{}.{}-{}.tmp",
            file_name.to_string_lossy(),
            std::process::id(),
            SAVE_COUNTER.fetch_add(1, Ordering::Relaxed)
        ));
        let pixels = self.render_rgba();
        let written = self.write_png(&tmp, &pixels).and_then(|()| Ok(fs::rename(&tmp, path)?));
        if written.is_err() {
            // Best effort: the original error is what the caller needs to see.
            let _ = fs::remove_file(&tmp);
        }
        written
    }

    fn write_png(&self, path: &Path, pixels: &[u8]) -> Result<(), PlotError> {
        let file = OpenOptions::new().write(true).create_new(true).open(path)?;
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
        let file: File = out.into_inner().map_err(|e| e.into_error())?;
        // Without this, a crash right after the rename could leave an empty file behind it.
        file.sync_all()?;
        Ok(())
    }

    fn panel_mut(&mut self, panel: usize) -> Result<&mut Panel, PlotError> {
        let panels = self.panels.len();
        self.panels.get_mut(panel).ok_or(PlotError::PanelOutOfRange { panel, panels })
    }

    /// Integer font scale: larger figures are usually shown scaled down, so their text doubles.
    fn text_scale(&self) -> u32 {
        if self.width >= 800 {
            2
        } else {
            1
        }
    }

    fn layout(&self, panel: usize) -> PanelLayout {
        let (row, col) = (panel as i64 / self.cols as i64, panel as i64 % self.cols as i64);
        let (w, h, rows, cols) = (self.width as i64, self.height as i64, self.rows as i64, self.cols as i64);
        // Integer division spreads leftover pixels evenly instead of piling them on the last cell.
        let cell = Rect { x0: col * w / cols, y0: row * h / rows, x1: (col + 1) * w / cols, y1: (row + 1) * h / rows };
        let scale = self.text_scale() as i64;
        let pad = (cell.width().min(cell.height()) / 25).clamp(2, 12);
        let text_gap = 3 * scale;
        let title_band = font::GLYPH_H as i64 * scale + 2 * text_gap;
        let frame = Rect { x0: cell.x0 + pad, y0: cell.y0 + title_band, x1: cell.x1 - pad, y1: cell.y1 - pad };
        PanelLayout { cell, frame, plot: frame.shrink(1), title_y: cell.y0 + text_gap }
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

    fn render_panel(&self, canvas: &mut Canvas, index: usize, panel: &Panel) {
        let layout = self.layout(index);
        let scale = self.text_scale();
        let plot = layout.plot;
        let transform = Self::panel_bounds(panel).and_then(|b| Transform::fit(&b, &plot));
        if let Some(t) = &transform {
            draw_ticks(canvas, &plot, t, 4 * scale as i64);
            for layer in &panel.layers {
                match layer {
                    Layer::Scatter { points, color, radius } => {
                        for &p in points {
                            if let Some([u, v]) = t.to_pixel(p) {
                                canvas.disk(&plot, u, v, *radius, *color);
                            }
                        }
                    }
                    Layer::Segments { segments, color } => {
                        for &[a, b] in segments {
                            if let (Some(a), Some(b)) = (t.to_pixel(a), t.to_pixel(b)) {
                                canvas.line(&plot, a, b, *color);
                            }
                        }
                    }
                }
            }
        }
        if !layout.frame.is_empty() {
            canvas.outline(&layout.frame, FRAME_COLOR);
        }
        if let Some(title) = &panel.title {
            let chars = title.chars().count();
            let width = font::text_width(chars, scale).min(i64::MAX as u64) as i64;
            let center = if plot.is_empty() { (layout.cell.x0 + layout.cell.x1) / 2 } else { (plot.x0 + plot.x1) / 2 };
            // Left-align instead of centering when too wide, so the start stays readable.
            let x = (center - width / 2).max(layout.cell.x0);
            canvas.text(&layout.cell, x, layout.title_y, title, scale, TEXT_COLOR);
        }
        if !panel.legend.is_empty() && !plot.is_empty() {
            draw_legend(canvas, &plot, &panel.legend, scale);
        }
    }
}

fn is_finite(p: &[f64; 2]) -> bool {
    p[0].is_finite() && p[1].is_finite()
}

/// Short inward ticks on the bottom and left edges at round data values (1, 2 or 5 times a
/// power of ten), so that panels sharing a scale can be compared by eye.
fn draw_ticks(canvas: &mut Canvas, plot: &Rect, t: &Transform, len: i64) {
    for axis in 0..2 {
        let (p0, p1) = if axis == 0 { (plot.x0, plot.x1) } else { (plot.y1, plot.y0) };
        let (lo, hi) = (t.to_data(axis, p0 as f64), t.to_data(axis, p1 as f64));
        let Some(step) = nice_step(hi - lo) else {
            continue;
        };
        let first = (lo / step).ceil();
        let count = (hi / step).floor() - first;
        // An integer counter, and a cap: far from zero `first + 1.0` can equal `first`.
        if !(0.0..50.0).contains(&count) {
            continue;
        }
        for i in 0..=count as i64 {
            let value = (first + i as f64) * step;
            let pixel = if axis == 0 { t.to_pixel([value, t.cy]) } else { t.to_pixel([t.cx, value]) };
            let Some([u, v]) = pixel else { continue };
            let tick = if axis == 0 {
                let x = u.floor() as i64;
                Rect { x0: x, y0: plot.y1 - len, x1: x + 1, y1: plot.y1 }
            } else {
                let y = v.floor() as i64;
                Rect { x0: plot.x0, y0: y, x1: plot.x0 + len, y1: y + 1 }
            };
            canvas.fill(&tick.intersect(plot), TICK_COLOR);
        }
    }
}

/// A round tick step giving roughly 4 to 10 ticks over `span`.
fn nice_step(span: f64) -> Option<f64> {
    if !(span.is_finite() && span > 0.0) {
        return None;
    }
    let raw = span / 6.0;
    let power = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * power).find(|&s| s >= raw)?;
    (step.is_finite() && step > 0.0).then_some(step)
}

fn draw_legend(canvas: &mut Canvas, plot: &Rect, entries: &[(String, Rgba)], scale: u32) {
    let s = scale as i64;
    let pad = 3 * s;
    let swatch = (font::GLYPH_H as i64 - 1) * s;
    let row_height = font::GLYPH_H as i64 * s + pad;
    let label_width = entries
        .iter()
        .map(|(label, _)| font::text_width(label.chars().count(), scale).min(1 << 32) as i64)
        .max()
        .unwrap_or(0);
    let x0 = plot.x0 + 4 * s;
    let y0 = plot.y0 + 4 * s;
    let boxed = Rect {
        x0,
        y0,
        x1: x0 + pad + swatch + 2 * pad + label_width + pad,
        y1: y0 + pad + entries.len() as i64 * row_height,
    };
    let boxed_clipped = boxed.intersect(plot);
    canvas.fill(&boxed_clipped, LEGEND_BACKGROUND);
    canvas.outline(&boxed_clipped, FRAME_COLOR);
    for (i, (label, color)) in entries.iter().enumerate() {
        let y = y0 + pad + i as i64 * row_height;
        let sx = x0 + pad;
        let square = Rect { x0: sx, y0: y, x1: sx + swatch, y1: y + swatch };
        // Opaque swatch: a faint data alpha would make the legend key unreadable.
        canvas.fill(&square.intersect(plot), Rgba(color.0, color.1, color.2, 255));
        canvas.text(plot, sx + swatch + 2 * pad, y, label, scale, TEXT_COLOR);
    }
}

/// An RGBA8 pixel buffer on an opaque white background.
struct Canvas {
    width: i64,
    height: i64,
    pixels: Vec<u8>,
}

impl Canvas {
    fn new(width: u32, height: u32) -> Canvas {
        Canvas {
            width: width as i64,
            height: height as i64,
            pixels: vec![BACKGROUND; width as usize * height as usize * 4],
        }
    }

    fn bounds(&self) -> Rect {
        Rect { x0: 0, y0: 0, x1: self.width, y1: self.height }
    }

    /// Composites `color` over pixel (x, y) with its alpha scaled by `coverage` in [0, 1].
    #[inline]
    fn blend(&mut self, x: i64, y: i64, color: Rgba, coverage: f32) {
        let alpha = coverage.clamp(0.0, 1.0) * color.3 as f32 * (256.0 / 255.0) + 0.5;
        self.blend_fixed(x, y, color, alpha as i32);
    }

    /// Composites `color` over pixel (x, y) at opacity `alpha / 256`, ignoring `color.3`.
    /// Fixed point because this is the inner loop of every primitive.
    #[inline]
    fn blend_fixed(&mut self, x: i64, y: i64, color: Rgba, alpha: i32) {
        if alpha <= 0 || x < 0 || y < 0 || x >= self.width || y >= self.height {
            return;
        }
        let alpha = alpha.min(256);
        let i = ((y * self.width + x) * 4) as usize;
        for (dst, src) in self.pixels[i..i + 3].iter_mut().zip([color.0, color.1, color.2]) {
            let d = *dst as i32;
            // At alpha 256 this is exactly `src`; the shift floors, so +128 rounds.
            *dst = (d + (((src as i32 - d) * alpha + 128) >> 8)) as u8;
        }
    }

    fn fill(&mut self, r: &Rect, color: Rgba) {
        let r = r.intersect(&self.bounds());
        for y in r.y0..r.y1 {
            for x in r.x0..r.x1 {
                self.blend(x, y, color, 1.0);
            }
        }
    }

    /// One-pixel border along the inside of `r`.
    fn outline(&mut self, r: &Rect, color: Rgba) {
        if r.is_empty() {
            return;
        }
        self.fill(&Rect { y1: r.y0 + 1, ..*r }, color);
        self.fill(&Rect { y0: r.y1 - 1, ..*r }, color);
        // The sides skip the corner pixels so translucent colors are not blended twice there.
        let side = Rect { y0: r.y0 + 1, y1: r.y1 - 1, ..*r };
        self.fill(&Rect { x1: r.x0 + 1, ..side }, color);
        if r.width() > 1 {
            self.fill(&Rect { x0: r.x1 - 1, ..side }, color);
        }
    }

    /// Anti-aliased filled disk centered at pixel coordinates (u, v), clipped to `clip`.
    /// Coverage falls linearly over the one pixel straddling the rim, which approximates the
    /// covered area well enough for markers and costs one square root per pixel.
    fn disk(&mut self, clip: &Rect, u: f64, v: f64, radius: f64, color: Rgba) {
        let reach = radius + 0.5;
        // Clamp in floating point first: u may be far outside any i64.
        let span = |c: f64, lo: i64, hi: i64| {
            ((c - reach).floor().max(lo as f64) as i64, (c + reach).ceil().min(hi as f64) as i64)
        };
        let (x0, x1) = span(u, clip.x0, clip.x1);
        let (y0, y1) = span(v, clip.y0, clip.y1);
        let reach2 = reach * reach;
        for y in y0..y1 {
            let dy = y as f64 + 0.5 - v;
            for x in x0..x1 {
                let dx = x as f64 + 0.5 - u;
                let d2 = dx * dx + dy * dy;
                if d2 < reach2 {
                    self.blend(x, y, color, (reach - d2.sqrt()) as f32);
                }
            }
        }
    }

    /// One-pixel anti-aliased line (Xiaolin Wu) between pixel coordinates `a` and `b`,
    /// clipped to `clip`. Each step along the major axis splits unit intensity between the two
    /// pixels straddling the line.
    fn line(&mut self, clip: &Rect, a: [f64; 2], b: [f64; 2], color: Rgba) {
        // Shift so integer coordinates are pixel centers, which is what Wu's algorithm assumes.
        let (a, b) = ([a[0] - 0.5, a[1] - 0.5], [b[0] - 0.5, b[1] - 0.5]);
        // One pixel beyond the clip area so that lines just outside still shade its edge.
        let window = [clip.x0 as f64 - 1.0, clip.x1 as f64, clip.y0 as f64 - 1.0, clip.y1 as f64];
        let Some((a, b)) = clip_segment(a, b, window) else {
            return;
        };
        let steep = (b[1] - a[1]).abs() > (b[0] - a[0]).abs();
        // Work along the major axis as "x"; `plot` swaps back.
        let (mut a, mut b) = if steep { ([a[1], a[0]], [b[1], b[0]]) } else { (a, b) };
        if a[0] > b[0] {
            std::mem::swap(&mut a, &mut b);
        }
        let dx = b[0] - a[0];
        let gradient = if dx > 0.0 { (b[1] - a[1]) / dx } else { 0.0 };
        let (major_lo, major_hi) = if steep { (clip.y0, clip.y1) } else { (clip.x0, clip.x1) };
        // Clamping the loop to the clip range bounds the work even if clipping of huge
        // coordinates was imprecise.
        let start = (a[0].round() as i64).max(major_lo);
        let end = (b[0].round() as i64).min(major_hi - 1);
        let (minor_lo, minor_hi) = if steep { (clip.x0, clip.x1) } else { (clip.y0, clip.y1) };
        let alpha = (color.3 as i32 * 256 + 127) / 255;
        // The minor coordinate in 32.32 fixed point: integer stepping is several times faster
        // than floating point here, and 2^-32 px of error per step stays invisible over the
        // at most 8192 steps of a line.
        const ONE: f64 = (1u64 << 32) as f64;
        let mut minor = ((a[1] + gradient * (start as f64 - a[0])) * ONE) as i64;
        let step = (gradient * ONE) as i64;
        for major in start..=end {
            // Arithmetic shift floors, negative coordinates included.
            let base = minor >> 32;
            let frac = ((minor >> 24) & 0xff) as i32;
            for (m, weight) in [(base, 256 - frac), (base + 1, frac)] {
                if m >= minor_lo && m < minor_hi {
                    let (x, y) = if steep { (m, major) } else { (major, m) };
                    self.blend_fixed(x, y, color, (weight * alpha + 128) >> 8);
                }
            }
            minor += step;
        }
    }

    /// Draws `text` with its top-left corner at (x, y), clipped to `clip`.
    fn text(&mut self, clip: &Rect, x: i64, y: i64, text: &str, scale: u32, color: Rgba) {
        let s = scale as i64;
        for (i, c) in text.chars().enumerate() {
            let gx = x + i as i64 * font::ADVANCE as i64 * s;
            if gx >= clip.x1 {
                break;
            }
            let glyph = font::glyph(c);
            for row in 0..font::GLYPH_H {
                for col in 0..font::GLYPH_W {
                    if font::pixel(glyph, col, row) {
                        let px = gx + col as i64 * s;
                        let py = y + row as i64 * s;
                        self.fill(&Rect { x0: px, y0: py, x1: px + s, y1: py + s }.intersect(clip), color);
                    }
                }
            }
        }
    }
}

/// Liang-Barsky clipping of segment `a`-`b` to `[xmin, xmax] x [ymin, ymax]` (`window` in that
/// order); `None` when nothing of it is inside.
fn clip_segment(a: [f64; 2], b: [f64; 2], window: [f64; 4]) -> Option<([f64; 2], [f64; 2])> {
    let (dx, dy) = (b[0] - a[0], b[1] - a[1]);
    if !(dx.is_finite() && dy.is_finite()) {
        return None;
    }
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    let edges = [(-dx, a[0] - window[0]), (dx, window[1] - a[0]), (-dy, a[1] - window[2]), (dy, window[3] - a[1])];
    for (p, q) in edges {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
            if t0 > t1 {
                return None;
            }
        }
    }
    Some(([a[0] + t0 * dx, a[1] + t0 * dy], [a[0] + t1 * dx, a[1] + t1 * dy]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const RED: Rgba = Rgba(220, 20, 20, 255);
    const BLUE: Rgba = Rgba(20, 40, 220, 255);

    fn pixel(rgba: &[u8], width: u32, x: i64, y: i64) -> [u8; 4] {
        let i = ((y * width as i64 + x) * 4) as usize;
        [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
    }

    fn is_white(p: [u8; 4]) -> bool {
        p == [255, 255, 255, 255]
    }

    fn count_non_white(rgba: &[u8], width: u32, r: Rect) -> usize {
        let mut n = 0;
        for y in r.y0..r.y1 {
            for x in r.x0..r.x1 {
                n += !is_white(pixel(rgba, width, x, y)) as usize;
            }
        }
        n
    }

    #[test]
    fn new_rejects_bad_sizes_and_grids() {
        assert!(matches!(Figure::new(0, 100, 1, 1), Err(PlotError::InvalidSize { width: 0, .. })));
        assert!(matches!(Figure::new(100, 0, 1, 1), Err(PlotError::InvalidSize { height: 0, .. })));
        assert!(matches!(Figure::new(8193, 100, 1, 1), Err(PlotError::InvalidSize { .. })));
        assert!(matches!(Figure::new(100, 100, 0, 1), Err(PlotError::InvalidGrid { rows: 0, .. })));
        assert!(matches!(Figure::new(100, 100, 1, 17), Err(PlotError::InvalidGrid { cols: 17, .. })));
        let fig = Figure::new(8192, 1, 16, 16).unwrap();
        assert_eq!(fig.panels(), 256);
        assert!(Figure::new(0, 0, 1, 1).unwrap_err().to_string().contains("0x0"));
    }

    #[test]
    fn single_point_lands_where_bounds_put_it() {
        let (w, h) = (300, 240);
        let mut fig = Figure::new(w, h, 1, 1).unwrap();
        let (xmin, xmax, ymin, ymax) = (-2.0, 6.0, 10.0, 14.0);
        fig.set_bounds(0, xmin, xmax, ymin, ymax).unwrap();
        let plot = fig.layout(0).plot;
        assert!(plot.width() > 100 && plot.height() > 100, "{plot:?}");
        // Equal aspect: one scale for both axes, the largest at which the requested rectangle
        // fits; the rectangle's center maps to the plot area's center, y pointing up.
        let (pw, ph) = (plot.width() as f64, plot.height() as f64);
        let scale = (pw / (xmax - xmin)).min(ph / (ymax - ymin));
        let (x, y) = (0.0, 13.0);
        let u = plot.x0 as f64 + pw / 2.0 + (x - (xmin + xmax) / 2.0) * scale;
        let v = plot.y0 as f64 + ph / 2.0 - (y - (ymin + ymax) / 2.0) * scale;
        fig.scatter(0, &[[x, y]], RED, 3.0).unwrap();
        let rgba = fig.render_rgba();
        assert_eq!(rgba.len(), (w * h * 4) as usize);
        // Left of and above center, as the data is.
        assert!(u < plot.x0 as f64 + pw / 2.0 - 10.0 && v < plot.y0 as f64 + ph / 2.0 - 10.0);
        assert_eq!(pixel(&rgba, w, u.floor() as i64, v.floor() as i64), [220, 20, 20, 255]);
        // The disk is a few pixels across, so 10 px away and the mirrored spots stay white.
        assert!(is_white(pixel(&rgba, w, u.floor() as i64 + 10, v.floor() as i64)));
        let mirrored_v = plot.y0 as f64 + ph - (v - plot.y0 as f64);
        assert!(is_white(pixel(&rgba, w, u.floor() as i64, mirrored_v.floor() as i64)));
        assert!(is_white(pixel(&rgba, w, plot.x1 - 5, plot.y1 - 20)));
        assert_eq!(
            count_non_white(&rgba, w, plot.shrink(8)),
            count_non_white(
                &rgba,
                w,
                Rect {
                    x0: u.floor() as i64 - 4,
                    y0: v.floor() as i64 - 4,
                    x1: u.floor() as i64 + 5,
                    y1: v.floor() as i64 + 5,
                }
            )
        );
    }

    #[test]
    fn default_bounds_keep_equal_aspect_and_contain_data() {
        let mut fig = Figure::new(400, 300, 1, 1).unwrap();
        // Wide, flat data: y must not be stretched to fill the panel.
        let pts = [[0.0, 0.0], [10.0, 1.0]];
        fig.scatter(0, &pts, RED, 1.0).unwrap();
        let plot = fig.layout(0).plot;
        let bounds = Figure::panel_bounds(&fig.panels[0]).unwrap();
        assert!(bounds.xmin < 0.0 && bounds.xmax > 10.0 && bounds.ymin < 0.0 && bounds.ymax > 1.0);
        let t = Transform::fit(&bounds, &plot).unwrap();
        let [u0, v0] = t.to_pixel(pts[0]).unwrap();
        let [u1, v1] = t.to_pixel(pts[1]).unwrap();
        // Same pixels per data unit on both axes.
        assert!(((u1 - u0) / 10.0 - (v0 - v1) / 1.0).abs() < 1e-9);
        // The 5% margin keeps the extremes inside the frame: x spans 10 / 11 of the width.
        assert!(((u1 - u0) / plot.width() as f64 - 1.0 / 1.1).abs() < 1e-9);
        for [u, v] in [[u0, v0], [u1, v1]] {
            assert!(u > plot.x0 as f64 && u < plot.x1 as f64 && v > plot.y0 as f64 && v < plot.y1 as f64);
        }
    }

    #[test]
    fn single_point_default_bounds_put_it_mid_panel() {
        let mut fig = Figure::new(200, 200, 1, 1).unwrap();
        fig.scatter(0, &[[3.0, -7.0]], BLUE, 2.0).unwrap();
        let plot = fig.layout(0).plot;
        let rgba = fig.render_rgba();
        let (cx, cy) = ((plot.x0 + plot.x1) / 2, (plot.y0 + plot.y1) / 2);
        assert_eq!(pixel(&rgba, 200, cx, cy), [20, 40, 220, 255]);
    }

    #[test]
    fn segment_colors_pixels_on_the_line_only() {
        let w = 300;
        let mut fig = Figure::new(w, 300, 1, 1).unwrap();
        fig.set_bounds(0, 0.0, 10.0, 0.0, 10.0).unwrap();
        let (a, b) = ([1.0, 2.0], [9.0, 7.0]);
        fig.segments(0, &[a], &[b], Rgba(0, 0, 0, 255)).unwrap();
        let plot = fig.layout(0).plot;
        let t = Transform::fit(&Figure::panel_bounds(&fig.panels[0]).unwrap(), &plot).unwrap();
        let rgba = fig.render_rgba();
        let [ua, va] = t.to_pixel(a).unwrap();
        let [ub, vb] = t.to_pixel(b).unwrap();
        // Unit normal to the line in pixel space.
        let len = ((ub - ua).powi(2) + (vb - va).powi(2)).sqrt();
        let (nx, ny) = (-(vb - va) / len, (ub - ua) / len);
        for i in 1..20 {
            let f = i as f64 / 20.0;
            let (u, v) = (ua + f * (ub - ua), va + f * (vb - va));
            let on = pixel(&rgba, w, u.floor() as i64, v.floor() as i64);
            assert!(on[0] < 200, "pixel on the line at {u},{v} is too light: {on:?}");
            for side in [-1.0, 1.0] {
                let (x, y) = (u + side * 4.0 * nx, v + side * 4.0 * ny);
                let off = pixel(&rgba, w, x.floor() as i64, y.floor() as i64);
                assert!(is_white(off), "pixel off the line at {x},{y} is {off:?}");
            }
        }
        // Nothing beyond the endpoints along the line's direction.
        let (ex, ey) = (ub + 6.0 * (ub - ua) / len, vb + 6.0 * (vb - va) / len);
        assert!(is_white(pixel(&rgba, w, ex.floor() as i64, ey.floor() as i64)));
    }

    #[test]
    fn segments_are_clipped_to_the_plot_area() {
        let w = 200;
        let mut fig = Figure::new(w, 200, 1, 1).unwrap();
        fig.set_bounds(0, 0.0, 1.0, 0.0, 1.0).unwrap();
        // Far beyond the bounds on both sides, crossing the panel horizontally.
        fig.segments(0, &[[-1e12, 0.5]], &[[1e12, 0.5]], Rgba(0, 0, 0, 255)).unwrap();
        let layout = fig.layout(0);
        let rgba = fig.render_rgba();
        let mid_y = (layout.plot.y0 + layout.plot.y1) / 2;
        // The line sits on the boundary between two pixel rows; Wu splits its unit intensity
        // between them, so their combined darkness is one full pixel in every column.
        let ink = |x: i64, y: i64| 255 - pixel(&rgba, w, x, y)[0] as i64;
        let row_dark =
            (layout.plot.x0..layout.plot.x1).filter(|&x| (ink(x, mid_y) + ink(x, mid_y - 1) - 255).abs() <= 2).count();
        assert_eq!(row_dark as i64, layout.plot.width());
        // Outside the frame the row is untouched.
        for x in (0..layout.frame.x0).chain(layout.frame.x1..w as i64) {
            assert!(is_white(pixel(&rgba, w, x, mid_y)));
        }
    }

    #[test]
    fn translucent_colors_blend() {
        let w = 100;
        let mut fig = Figure::new(w, 100, 1, 1).unwrap();
        fig.set_bounds(0, 0.0, 1.0, 0.0, 1.0).unwrap();
        fig.scatter(0, &[[0.5, 0.5]], Rgba(0, 0, 0, 128), 4.0).unwrap();
        let plot = fig.layout(0).plot;
        let rgba = fig.render_rgba();
        let p = pixel(&rgba, w, (plot.x0 + plot.x1) / 2, (plot.y0 + plot.y1) / 2);
        assert!((120..=135).contains(&p[0]), "{p:?}");
        assert_eq!(p[3], 255);
    }

    #[test]
    fn save_png_round_trips_render() {
        let dir = std::env::temp_dir().join(format!("scones-plot-test-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("figure.png");
        let (w, h) = (321, 123);
        let mut fig = Figure::new(w, h, 1, 2).unwrap();
        fig.scatter(0, &[[0.0, 0.0], [1.0, 2.0], [3.0, 1.0]], Rgba(200, 30, 30, 160), 4.0).unwrap();
        fig.segments(1, &[[0.0, 0.0]], &[[5.0, 1.0]], BLUE).unwrap();
        fig.title(0, "source").unwrap();
        fig.save_png(&path).unwrap();
        let rgba = fig.render_rgba();

        let decoder = png::Decoder::new(io::BufReader::new(File::open(&path).unwrap()));
        let mut reader = decoder.read_info().unwrap();
        let mut buf = vec![0; reader.output_buffer_size().unwrap()];
        let info = reader.next_frame(&mut buf).unwrap();
        assert_eq!((info.width, info.height), (w, h));
        assert_eq!(info.color_type, png::ColorType::Rgba);
        assert_eq!(info.bit_depth, png::BitDepth::Eight);
        assert_eq!(&buf[..info.buffer_size()], &rgba[..]);

        // Overwriting works and leaves no temporary files behind.
        fig.save_png(&path).unwrap();
        let names: Vec<_> = fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(names, vec![std::ffi::OsString::from("figure.png")]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn save_png_reports_unwritable_paths() {
        let fig = Figure::new(10, 10, 1, 1).unwrap();
        let missing = std::env::temp_dir().join("scones-plot-no-such-dir").join("x").join("f.png");
        assert!(matches!(fig.save_png(&missing), Err(PlotError::Io(_))));
        assert!(matches!(fig.save_png(Path::new("/")), Err(PlotError::InvalidPath(_))));
    }

    #[test]
    fn errors_for_bad_arguments() {
        let mut fig = Figure::new(100, 100, 2, 3).unwrap();
        assert_eq!(fig.panels(), 6);
        let err = fig.scatter(6, &[[0.0, 0.0]], RED, 2.0).unwrap_err();
        assert!(matches!(err, PlotError::PanelOutOfRange { panel: 6, panels: 6 }));
        assert!(err.to_string().contains("panel 6"));
        assert!(matches!(fig.segments(9, &[], &[], RED), Err(PlotError::PanelOutOfRange { .. })));
        assert!(matches!(fig.title(6, "x"), Err(PlotError::PanelOutOfRange { .. })));
        assert!(matches!(fig.legend(7, &[]), Err(PlotError::PanelOutOfRange { .. })));
        assert!(matches!(fig.set_bounds(6, 0.0, 1.0, 0.0, 1.0), Err(PlotError::PanelOutOfRange { .. })));

        let err = fig.segments(0, &[[0.0, 0.0], [1.0, 1.0]], &[[1.0, 0.0]], RED).unwrap_err();
        assert!(matches!(err, PlotError::LengthMismatch { starts: 2, ends: 1 }));
        assert!(err.to_string().contains("2 start points but 1 end points"));

        for (x0, x1, y0, y1) in [
            (1.0, 1.0, 0.0, 1.0),
            (2.0, 1.0, 0.0, 1.0),
            (0.0, 1.0, 0.0, f64::NAN),
            (f64::NEG_INFINITY, 1.0, 0.0, 1.0),
            (0.0, 1e-310, 0.0, 1.0),
        ] {
            let err = fig.set_bounds(0, x0, x1, y0, y1).unwrap_err();
            assert!(matches!(err, PlotError::InvalidBounds { .. }), "{x0} {x1} {y0} {y1}");
        }
        assert!(fig.set_bounds(0, -f64::MAX, f64::MAX, 0.0, 1.0).is_ok());

        for r in [-1.0, f64::NAN, f64::INFINITY, 1e6] {
            assert!(matches!(fig.scatter(0, &[], RED, r), Err(PlotError::InvalidRadius(_))));
        }
        // Failed calls recorded nothing.
        assert!(fig.panels.iter().all(|p| p.layers.is_empty()));
        let err: Box<dyn std::error::Error> = Box::new(PlotError::InvalidRadius(-1.0));
        assert!(err.to_string().contains("radius -1"));
    }

    #[test]
    fn non_finite_points_are_skipped() {
        let w = 200;
        let mut fig = Figure::new(w, 200, 1, 1).unwrap();
        let (nan, inf) = (f64::NAN, f64::INFINITY);
        fig.scatter(0, &[[nan, 0.0], [0.0, inf], [-inf, nan], [1.0, 1.0], [2.0, 2.0]], RED, 2.0).unwrap();
        fig.segments(0, &[[nan, 0.0], [1.0, 1.0]], &[[1.0, 1.0], [inf, 0.0]], BLUE).unwrap();
        let bounds = Figure::panel_bounds(&fig.panels[0]).unwrap();
        for v in [bounds.xmin, bounds.xmax, bounds.ymin, bounds.ymax] {
            assert!(v.is_finite());
        }
        assert!(bounds.xmin > 0.8 && bounds.xmax < 2.2);
        let rgba = fig.render_rgba();
        assert!(count_non_white(&rgba, w, fig.layout(0).plot) > 0);

        // Only non-finite data: the panel is empty, not broken.
        let mut fig = Figure::new(w, 200, 1, 1).unwrap();
        fig.scatter(0, &[[nan, nan], [inf, -inf]], RED, 2.0).unwrap();
        assert!(Figure::panel_bounds(&fig.panels[0]).is_none());
        let rgba = fig.render_rgba();
        assert_eq!(count_non_white(&rgba, w, fig.layout(0).plot), 0);
    }

    #[test]
    fn extreme_but_finite_data_does_not_panic() {
        let mut fig = Figure::new(120, 90, 1, 2).unwrap();
        let huge = [[f64::MAX, -f64::MAX], [-f64::MAX, f64::MAX], [0.0, 0.0], [1e-320, 0.0]];
        fig.scatter(0, &huge, RED, 3.0).unwrap();
        fig.segments(0, &huge[..2], &huge[2..], BLUE).unwrap();
        fig.scatter(1, &[[1e-320, 1e-320], [2e-320, 1e-320]], RED, 3.0).unwrap();
        fig.set_bounds(1, 0.0, 1.0, 0.0, 1.0).unwrap();
        fig.segments(1, &[[-f64::MAX, 0.3]], &[[f64::MAX, 0.7]], BLUE).unwrap();
        let rgba = fig.render_rgba();
        assert_eq!(rgba.len(), 120 * 90 * 4);

        // Bounds two ulps wide at 1e22: the tick index exceeds 2^53, where adding one to a
        // float no longer changes it, so a float loop counter would never finish.
        let ulp = 2f64.powi(21);
        let mut fig = Figure::new(100, 100, 1, 1).unwrap();
        fig.set_bounds(0, 1e22, 1e22 + 2.0 * ulp, -1e22, -1e22 + 2.0 * ulp).unwrap();
        fig.scatter(0, &[[1e22 + ulp, -1e22 + ulp]], RED, 2.0).unwrap();
        assert_eq!(fig.render_rgba().len(), 100 * 100 * 4);
    }

    #[test]
    fn tiny_figures_and_many_panels_render() {
        for (w, h, r, c) in [(1, 1, 1, 1), (5, 5, 16, 16), (30, 10, 2, 3)] {
            let mut fig = Figure::new(w, h, r, c).unwrap();
            for p in 0..fig.panels() {
                fig.scatter(p, &[[0.0, 0.0], [1.0, 1.0]], RED, 5.0).unwrap();
                fig.title(p, "a long title that cannot fit").unwrap();
                fig.legend(p, &[("x".to_string(), RED)]).unwrap();
            }
            assert_eq!(fig.render_rgba().len(), (w * h * 4) as usize);
        }
    }

    #[test]
    fn empty_panel_has_frame_and_white_inside() {
        let w = 200;
        let fig = Figure::new(w, 150, 1, 1).unwrap();
        let layout = fig.layout(0);
        let rgba = fig.render_rgba();
        assert_eq!(count_non_white(&rgba, w, layout.plot), 0);
        let frame = layout.frame;
        assert_eq!(pixel(&rgba, w, frame.x0, frame.y0), [150, 150, 150, 255]);
        assert_eq!(pixel(&rgba, w, frame.x1 - 1, frame.y1 - 1), [150, 150, 150, 255]);
        assert_eq!(count_non_white(&rgba, w, layout.cell), 2 * (frame.width() + frame.height()) as usize - 4);
    }

    #[test]
    fn title_renders_above_plot_area() {
        let (w, h) = (400, 300);
        let mut fig = Figure::new(w, h, 1, 2).unwrap();
        fig.scatter(1, &[[0.0, 0.0]], RED, 2.0).unwrap();
        let band = |fig: &Figure, p: usize| {
            let l = fig.layout(p);
            Rect { y1: l.frame.y0, ..l.cell }
        };
        let before = fig.render_rgba();
        assert_eq!(count_non_white(&before, w, band(&fig, 0)), 0);
        fig.title(0, "Plan: π ≈ 3").unwrap();
        let after = fig.render_rgba();
        let inked = count_non_white(&after, w, band(&fig, 0));
        assert!(inked > 20, "{inked}");
        // The title stays in its own panel's band and leaves the plot area alone.
        assert_eq!(count_non_white(&after, w, band(&fig, 1)), 0);
        assert_eq!(count_non_white(&after, w, fig.layout(0).plot), 0);
        // Roughly centered over the plot area: ink on both sides of its middle.
        let l = fig.layout(0);
        let mid = (l.plot.x0 + l.plot.x1) / 2;
        assert!(count_non_white(&after, w, Rect { x1: mid, y1: l.frame.y0, ..l.cell }) > 0);
        assert!(count_non_white(&after, w, Rect { x0: mid, y1: l.frame.y0, ..l.cell }) > 0);
    }

    #[test]
    fn larger_figures_use_double_size_text() {
        let ink = |width: u32| {
            let mut fig = Figure::new(width, 400, 1, 1).unwrap();
            fig.title(0, "HI").unwrap();
            let l = fig.layout(0);
            count_non_white(&fig.render_rgba(), width, Rect { y1: l.frame.y0, ..l.cell })
        };
        assert_eq!(ink(800), 4 * ink(799));
    }

    #[test]
    fn legend_draws_swatches_inside_top_left() {
        let w = 400;
        let mut fig = Figure::new(w, 300, 1, 1).unwrap();
        fig.set_bounds(0, 0.0, 1.0, 0.0, 1.0).unwrap();
        fig.legend(0, &[("source".to_string(), RED), ("target".to_string(), BLUE)]).unwrap();
        let plot = fig.layout(0).plot;
        let rgba = fig.render_rgba();
        let quarter = Rect { x1: plot.x0 + plot.width() / 2, y1: plot.y0 + plot.height() / 2, ..plot };
        let count = |c: [u8; 4]| {
            (quarter.y0..quarter.y1)
                .flat_map(|y| (quarter.x0..quarter.x1).map(move |x| (x, y)))
                .filter(|&(x, y)| pixel(&rgba, w, x, y) == c)
                .count()
        };
        assert_eq!(count([220, 20, 20, 255]), 49);
        assert_eq!(count([20, 40, 220, 255]), 49);
        let bottom_right = Rect { x0: quarter.x1, y0: quarter.y1, ..plot };
        assert_eq!(count_non_white(&rgba, w, bottom_right.shrink(6)), 0);
    }

    #[test]
    fn layers_draw_in_insertion_order() {
        let w = 100;
        let mut fig = Figure::new(w, 100, 1, 1).unwrap();
        fig.set_bounds(0, 0.0, 1.0, 0.0, 1.0).unwrap();
        fig.scatter(0, &[[0.5, 0.5]], RED, 5.0).unwrap();
        fig.scatter(0, &[[0.5, 0.5]], BLUE, 5.0).unwrap();
        let plot = fig.layout(0).plot;
        let rgba = fig.render_rgba();
        assert_eq!(pixel(&rgba, w, (plot.x0 + plot.x1) / 2, (plot.y0 + plot.y1) / 2), [20, 40, 220, 255]);
    }

    #[test]
    fn renders_two_hundred_thousand_points() {
        let n = 200_000;
        let points: Vec<[f64; 2]> = (0..n)
            .map(|i| {
                let t = i as f64 * 0.618_033_988_75;
                [
                    (t * std::f64::consts::TAU).cos() * (i as f64 / n as f64),
                    (t * std::f64::consts::TAU).sin() * (i as f64 / n as f64),
                ]
            })
            .collect();
        let mut fig = Figure::new(800, 600, 1, 2).unwrap();
        fig.scatter(0, &points, Rgba(30, 90, 200, 60), 2.5).unwrap();
        // Short segments, as in a transport plan between nearby samples; long ones are timed
        // by hand in release mode, where they belong.
        let moved: Vec<[f64; 2]> = points.iter().map(|p| [p[0] * 1.1 + 0.05, p[1] * 0.9]).collect();
        fig.segments(1, &points, &moved, Rgba(0, 0, 0, 10)).unwrap();
        let start = std::time::Instant::now();
        let rgba = fig.render_rgba();
        eprintln!("rendered {n} points and {n} segments in {:?}", start.elapsed());
        assert!(count_non_white(&rgba, 800, fig.layout(0).plot) > 10_000);
    }

    #[test]
    fn nice_steps_are_round() {
        assert_eq!(nice_step(6.0), Some(1.0));
        assert_eq!(nice_step(10.0), Some(2.0));
        assert_eq!(nice_step(0.03), Some(0.005));
        assert_eq!(nice_step(0.0), None);
        assert_eq!(nice_step(f64::INFINITY), None);
    }
}
