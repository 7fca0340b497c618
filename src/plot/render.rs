//! Rasterizing a [`Figure`] with plotters' bitmap backend.
//!
//! Each panel is drawn in two parts. Axes, tick labels and the title go on the figure around
//! the panel's plot area. The plot area itself (grid, data, legend, frame) is drawn on a buffer
//! of its own and copied in: the bitmap backend drops pixels outside its buffer, so markers and
//! lines are clipped at the frame instead of spilling onto the tick labels or the next panel.
//!
//! Data are mapped to pixels here, not by plotters' coordinate system, so that extreme but
//! finite values (up to ±f64::MAX) and segments far outside the view neither overflow nor make
//! the rasterizer walk billions of off-screen pixels; plotters' chart is used for the axes and
//! grid, with the same view, only when the view's numbers can be printed as tick labels.

use std::sync::OnceLock;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::register_font;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::{Figure, Layer, Panel, PlotError, Rgba};

/// DejaVu Sans cut down to the characters plots use; see fonts/LICENSE.
static FONT: &[u8] = include_bytes!("fonts/DejaVuSans-subset.ttf");
/// plotters' default text styles ask for this family, so registering under it covers them too.
const FAMILY: &str = "sans-serif";

const TEXT: RGBColor = RGBColor(30, 30, 30);
const FRAME: RGBColor = RGBColor(150, 150, 150);
const GRID: RGBColor = RGBColor(232, 232, 232);
/// Slightly transparent so that data under the legend stays faintly visible.
const LEGEND_BACKGROUND: RGBAColor = RGBAColor(255, 255, 255, 0.86);

type Area<'a> = DrawingArea<BitMapBackend<'a>, Shift>;

fn draw_err<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> PlotError {
    PlotError::Draw(e.to_string())
}

fn register_embedded_font() -> Result<(), PlotError> {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    let ok = *REGISTERED.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).is_ok());
    ok.then_some(()).ok_or_else(|| PlotError::Draw("the embedded font does not parse".into()))
}

fn color(c: Rgba) -> RGBAColor {
    RGBAColor(c.0, c.1, c.2, c.3 as f64 / 255.0)
}

/// Pixel rectangle `[x0, x0 + w) x [y0, y0 + h)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub w: i32,
    pub h: i32,
}

/// Text and spacing in pixels for one panel, from the size of its cell: big figures are shown
/// scaled down, so their text grows with them.
#[derive(Clone, Copy, Debug)]
struct Sizes {
    label: f64,
    title: f64,
    margin: i32,
    tick: i32,
}

impl Sizes {
    fn for_cell(w: i32, h: i32) -> Sizes {
        let side = w.min(h) as f64;
        let label = (side / 34.0).clamp(10.0, 24.0);
        Sizes { label, title: label * 1.2, margin: (side / 40.0).clamp(2.0, 12.0) as i32, tick: (label / 3.0) as i32 }
    }
}

/// Where one panel goes: its cell in the grid, its plot area, and whether there is room for
/// tick labels and a title band.
#[derive(Clone, Copy, Debug)]
pub(super) struct Layout {
    pub cell: Rect,
    pub plot: Rect,
    labelled: bool,
    sizes: Sizes,
}

/// The data window a plot area shows, with one scale (pixels per data unit) for both axes.
#[derive(Clone, Copy, Debug)]
pub(super) struct View {
    cx: f64,
    cy: f64,
    scale: f64,
    /// Plot area size in pixels.
    w: f64,
    h: f64,
}

impl View {
    /// The largest scale at which `bounds` fits in a `w` x `h` plot area, centered. The data
    /// range along the roomier axis grows rather than the geometry being stretched.
    pub(super) fn fit(b: &super::Bounds, w: i32, h: i32) -> Option<View> {
        if w <= 0 || h <= 0 {
            return None;
        }
        // Halves first: `max - min` overflows for spans near f64::MAX.
        let (hx, hy) = (b.xmax / 2.0 - b.xmin / 2.0, b.ymax / 2.0 - b.ymin / 2.0);
        let (w, h) = (w as f64, h as f64);
        // A zero half-span gives an infinite candidate, so the other axis decides.
        let scale = ((w / 2.0) / hx).min((h / 2.0) / hy);
        (scale.is_finite() && scale > 0.0).then_some(View {
            cx: b.xmin / 2.0 + b.xmax / 2.0,
            cy: b.ymin / 2.0 + b.ymax / 2.0,
            scale,
            w,
            h,
        })
    }

    /// Pixel position (continuous, y down) of a data point in the plot area, or `None` when it
    /// is so far away that it overflows.
    pub(super) fn to_pixel(self, p: [f64; 2]) -> Option<[f64; 2]> {
        let u = self.w / 2.0 + (p[0] - self.cx) * self.scale;
        let v = self.h / 2.0 - (p[1] - self.cy) * self.scale;
        (u.is_finite() && v.is_finite()).then_some([u, v])
    }

    /// Data ranges shown along x and y.
    fn ranges(self) -> (std::ops::Range<f64>, std::ops::Range<f64>) {
        let (hx, hy) = (self.w / 2.0 / self.scale, self.h / 2.0 / self.scale);
        (self.cx - hx..self.cx + hx, self.cy - hy..self.cy + hy)
    }

    /// Whether plotters can place and print round tick values in this window: the span must
    /// be finite and resolvable next to the magnitude of the values.
    fn ticks_printable(self) -> bool {
        let (x, y) = self.ranges();
        [x, y].iter().all(|r| {
            let span = r.end - r.start;
            let magnitude = r.start.abs().max(r.end.abs());
            span.is_finite() && span > 1e-200 && span > 1e-9 * magnitude
        })
    }
}

impl Figure {
    pub(super) fn layout(&self, panel: usize) -> Layout {
        let (w, h, rows, cols) = (self.width as i64, self.height as i64, self.rows as i64, self.cols as i64);
        let (row, col) = (panel as i64 / cols, panel as i64 % cols);
        // Integer division spreads leftover pixels evenly instead of piling them on the last cell.
        let (x0, x1) = (col * w / cols, (col + 1) * w / cols);
        let (y0, y1) = (row * h / rows, (row + 1) * h / rows);
        let cell = Rect { x0: x0 as i32, y0: y0 as i32, w: (x1 - x0) as i32, h: (y1 - y0) as i32 };
        let sizes = Sizes::for_cell(cell.w, cell.h);
        let m = sizes.margin;
        let title_band = (sizes.title * 1.7).round() as i32;
        let (y_labels, x_labels) = ((sizes.label * 3.6) as i32, (sizes.label * 2.0) as i32);
        let labelled = Rect {
            x0: cell.x0 + m + y_labels,
            y0: cell.y0 + title_band,
            w: cell.w - 2 * m - y_labels,
            h: cell.h - title_band - m - x_labels,
        };
        // Too small for axes to be legible: the data get the whole cell.
        if labelled.w >= 4 * y_labels && labelled.h >= 4 * x_labels {
            Layout { cell, plot: labelled, labelled: true, sizes }
        } else {
            let plot = Rect { x0: cell.x0 + 1, y0: cell.y0 + 1, w: cell.w - 2, h: cell.h - 2 };
            Layout { cell, plot, labelled: false, sizes }
        }
    }

    /// The figure as `width * height * 3` bytes of 8-bit RGB, rows top to bottom.
    pub(super) fn render_rgb(&self) -> Result<Vec<u8>, PlotError> {
        register_embedded_font()?;
        let (w, h) = (self.width as usize, self.height as usize);
        let mut rgb = vec![255u8; w * h * 3];
        let mut views = Vec::with_capacity(self.panels.len());
        {
            let root = BitMapBackend::with_buffer(&mut rgb, (self.width, self.height)).into_drawing_area();
            for (index, panel) in self.panels.iter().enumerate() {
                let layout = self.layout(index);
                let view = Figure::panel_bounds(panel).and_then(|b| View::fit(&b, layout.plot.w, layout.plot.h));
                if layout.labelled {
                    draw_surroundings(&root, &layout, panel, view)?;
                }
                views.push((layout, view));
            }
        }
        for ((layout, view), panel) in views.into_iter().zip(&self.panels) {
            let p = layout.plot;
            if p.w <= 0 || p.h <= 0 {
                continue;
            }
            let area = render_plot_area(panel, &layout, view)?;
            for row in 0..p.h as usize {
                let dst = ((p.y0 as usize + row) * w + p.x0 as usize) * 3;
                let src = row * p.w as usize * 3;
                rgb[dst..dst + p.w as usize * 3].copy_from_slice(&area[src..src + p.w as usize * 3]);
            }
        }
        Ok(rgb)
    }
}

/// Tick counts that keep labels apart: x labels are wider than they are tall.
fn tick_counts(layout: &Layout) -> (usize, usize) {
    let s = layout.sizes.label;
    let nx = (layout.plot.w as f64 / (s * 5.0)).clamp(2.0, 10.0) as usize;
    let ny = (layout.plot.h as f64 / (s * 3.0)).clamp(2.0, 10.0) as usize;
    (nx, ny)
}

/// Axes with ticks and labels left of and below the plot area, and the title above it.
fn draw_surroundings(root: &Area, layout: &Layout, panel: &Panel, view: Option<View>) -> Result<(), PlotError> {
    let (p, s) = (layout.plot, layout.sizes);
    if let Some(view) = view.filter(|v| v.ticks_printable()) {
        let (y_area, x_area) =
            (p.x0 - (layout.cell.x0 + s.margin), layout.cell.y0 + layout.cell.h - s.margin - p.y0 - p.h);
        let area = root.clone().shrink((p.x0 - y_area, p.y0), ((p.w + y_area) as u32, (p.h + x_area) as u32));
        let (xr, yr) = view.ranges();
        let mut chart = ChartBuilder::on(&area)
            .x_label_area_size(x_area)
            .y_label_area_size(y_area)
            .build_cartesian_2d(xr, yr)
            .map_err(draw_err)?;
        let (nx, ny) = tick_counts(layout);
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(nx)
            .y_labels(ny)
            .axis_style(FRAME)
            .set_all_tick_mark_size(s.tick)
            .label_style((FAMILY, s.label).into_font().color(&TEXT))
            .x_label_formatter(&tick_label)
            .y_label_formatter(&tick_label)
            .draw()
            .map_err(draw_err)?;
    }
    if let Some(title) = &panel.title {
        let style = (FAMILY, s.title).into_font().color(&TEXT);
        let cell = layout.cell;
        let center = p.x0 + p.w / 2;
        // Centered over the plot area, which sits right of the cell's middle.
        let half = (center - cell.x0).min(cell.x0 + cell.w - center) - s.margin;
        let text = fit_text(root, title, &style, 2 * half)?;
        let y = cell.y0 + (p.y0 - cell.y0) / 2;
        root.draw(&Text::new(text, (center, y), style.pos(Pos::new(HPos::Center, VPos::Center)))).map_err(draw_err)?;
    }
    Ok(())
}

/// Round tick values without plotters' forced decimal ("2" not "2.0"), and without float noise
/// ("0.3" not "0.30000000000000004"); very large or small magnitudes in exponent form.
pub(super) fn tick_label(v: &f64) -> String {
    let v = if v.abs() < 1e-300 { 0.0 } else { *v };
    let trim = |s: String| {
        if s.contains('.') {
            s.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            s
        }
    };
    if v != 0.0 && !(1e-4..1e6).contains(&v.abs()) {
        let s = format!("{v:.3e}");
        let (mantissa, exponent) = s.split_once('e').unwrap_or((&s, "0"));
        format!("{}e{exponent}", trim(mantissa.to_owned()))
    } else {
        let s = trim(format!("{v:.6}"));
        if s == "-0" {
            "0".to_owned()
        } else {
            s
        }
    }
}

/// `text` cut with an ellipsis to at most `width` pixels, so that a long title stays inside its
/// own panel.
fn fit_text(root: &Area, text: &str, style: &TextStyle, width: i32) -> Result<String, PlotError> {
    let fits = |t: &str| root.estimate_text_size(t, style).map(|(w, _)| w as i64 <= width as i64).map_err(draw_err);
    if fits(text)? {
        return Ok(text.to_owned());
    }
    let mut chars: Vec<char> = text.chars().collect();
    while !chars.is_empty() {
        chars.pop();
        let cut: String = chars.iter().chain(['…'].iter()).collect();
        if fits(&cut)? {
            return Ok(cut);
        }
    }
    Ok(String::new())
}

/// The plot area as its own RGB buffer: grid, data layers in call order, legend, frame.
fn render_plot_area(panel: &Panel, layout: &Layout, view: Option<View>) -> Result<Vec<u8>, PlotError> {
    let p = layout.plot;
    let mut rgb = vec![255u8; p.w as usize * p.h as usize * 3];
    {
        let area = BitMapBackend::with_buffer(&mut rgb, (p.w as u32, p.h as u32)).into_drawing_area();
        if let Some(view) = view {
            if layout.labelled && view.ticks_printable() {
                let (xr, yr) = view.ranges();
                let mut chart = ChartBuilder::on(&area).build_cartesian_2d(xr, yr).map_err(draw_err)?;
                let (nx, ny) = tick_counts(layout);
                // Same view and tick counts as the axes outside, so grid lines meet the ticks.
                chart
                    .configure_mesh()
                    .x_labels(nx)
                    .y_labels(ny)
                    .bold_line_style(GRID)
                    .light_line_style(TRANSPARENT)
                    .draw()
                    .map_err(draw_err)?;
            }
            for layer in &panel.layers {
                draw_layer(&area, view, layer)?;
            }
        }
        if !panel.legend.is_empty() {
            draw_legend(&area, &panel.legend, layout.sizes.label)?;
        }
        area.draw(&Rectangle::new([(0, 0), (p.w - 1, p.h - 1)], FRAME)).map_err(draw_err)?;
    }
    Ok(rgb)
}

fn draw_layer(area: &Area, view: View, layer: &Layer) -> Result<(), PlotError> {
    // A margin past the buffer so that a marker centered just outside still shows its part.
    let window = |pad: f64| [-pad, view.w + pad, -pad, view.h + pad];
    match layer {
        Layer::Scatter { points, color: c, radius } => {
            // plotters draws disks of whole-pixel radius; rounding keeps the requested size on
            // average, and any positive radius stays visible.
            let r = if *radius == 0.0 { return Ok(()) } else { radius.round().max(1.0) };
            let [x0, x1, y0, y1] = window(r + 1.0);
            let style = color(*c).filled();
            for &pt in points {
                let Some([u, v]) = view.to_pixel(pt) else { continue };
                if (x0..x1).contains(&u) && (y0..y1).contains(&v) {
                    area.draw(&Circle::new((u.floor() as i32, v.floor() as i32), r as i32, style)).map_err(draw_err)?;
                }
            }
        }
        Layer::Segments { segments, color: c } => {
            let style = ShapeStyle::from(color(*c));
            for &[a, b] in segments {
                let (Some(a), Some(b)) = (view.to_pixel(a), view.to_pixel(b)) else { continue };
                let Some((a, b)) = clip_segment(a, b, window(2.0)) else { continue };
                let ends = vec![(a[0].floor() as i32, a[1].floor() as i32), (b[0].floor() as i32, b[1].floor() as i32)];
                area.draw(&PathElement::new(ends, style)).map_err(draw_err)?;
            }
        }
    }
    Ok(())
}

/// A box at the top left of the plot area: an opaque swatch (faint data alpha would make the
/// key unreadable) and a label per entry.
fn draw_legend(area: &Area, entries: &[(String, Rgba)], size: f64) -> Result<(), PlotError> {
    let style = (FAMILY, size).into_font().color(&TEXT);
    let (pad, swatch, row) = ((size * 0.5) as i32, (size * 0.75) as i32, (size * 1.4) as i32);
    let mut label_w = 0;
    for (label, _) in entries {
        label_w = label_w.max(area.estimate_text_size(label, &style).map_err(draw_err)?.0 as i32);
    }
    let (x0, y0) = (pad, pad);
    let x1 = x0 + pad + swatch + pad + label_w + pad;
    let y1 = y0 + pad / 2 + entries.len() as i32 * row + pad / 2;
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], LEGEND_BACKGROUND.filled())).map_err(draw_err)?;
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], FRAME)).map_err(draw_err)?;
    for (i, (label, c)) in entries.iter().enumerate() {
        let cy = y0 + pad / 2 + i as i32 * row + row / 2;
        let sx = x0 + pad;
        let opaque = RGBColor(c.0, c.1, c.2).filled();
        area.draw(&Rectangle::new([(sx, cy - swatch / 2), (sx + swatch, cy + swatch / 2)], opaque))
            .map_err(draw_err)?;
        let anchored = style.pos(Pos::new(HPos::Left, VPos::Center));
        area.draw(&Text::new(label.as_str(), (sx + swatch + pad, cy), anchored)).map_err(draw_err)?;
    }
    Ok(())
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
