use std::fs;
use std::time::Instant;

use super::render::{Rect, View};
use super::*;

const RED: Rgba = Rgba(220, 20, 20, 255);
const BLUE: Rgba = Rgba(20, 40, 220, 255);

fn pixel(rgba: &[u8], width: u32, x: i32, y: i32) -> [u8; 4] {
    let i = ((y as usize * width as usize) + x as usize) * 4;
    [rgba[i], rgba[i + 1], rgba[i + 2], rgba[i + 3]]
}

fn is_white(p: [u8; 4]) -> bool {
    p == [255, 255, 255, 255]
}

fn count(rgba: &[u8], width: u32, r: Rect, pred: impl Fn([u8; 4]) -> bool) -> usize {
    (r.y0..r.y0 + r.h)
        .flat_map(|y| (r.x0..r.x0 + r.w).map(move |x| (x, y)))
        .filter(|&(x, y)| pred(pixel(rgba, width, x, y)))
        .count()
}

fn count_non_white(rgba: &[u8], width: u32, r: Rect) -> usize {
    count(rgba, width, r, |p| !is_white(p))
}

/// Where data point `p` of `panel` lands on the figure.
fn figure_pixel(fig: &Figure, panel: usize, p: [f64; 2]) -> (i32, i32) {
    let plot = fig.layout(panel).plot;
    let view = View::fit(&Figure::panel_bounds(&fig.panels[panel]).unwrap(), plot.w, plot.h).unwrap();
    let [u, v] = view.to_pixel(p).unwrap();
    (plot.x0 + u.floor() as i32, plot.y0 + v.floor() as i32)
}

/// The band above a panel's plot area, where its title goes.
fn title_band(fig: &Figure, panel: usize) -> Rect {
    let l = fig.layout(panel);
    Rect { h: l.plot.y0 - l.cell.y0, ..l.cell }
}

#[test]
fn new_rejects_bad_sizes_and_grids() {
    assert!(matches!(Figure::new(0, 100, 1, 1), Err(PlotError::InvalidSize { width: 0, .. })));
    assert!(matches!(Figure::new(100, 0, 1, 1), Err(PlotError::InvalidSize { height: 0, .. })));
    assert!(matches!(Figure::new(8193, 100, 1, 1), Err(PlotError::InvalidSize { .. })));
    assert!(matches!(Figure::new(100, 100, 0, 1), Err(PlotError::InvalidGrid { rows: 0, .. })));
    assert!(matches!(Figure::new(100, 100, 1, 17), Err(PlotError::InvalidGrid { cols: 17, .. })));
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

/// A figure like the examples draw: scatters, transport lines, titles and a legend in several
/// panels. Set SCONES_PLOT_OUT to a folder to keep the PNG for looking at it.
#[test]
fn multi_panel_figure_saves_a_png_with_points_where_they_were_drawn() {
    let dir = std::env::temp_dir().join(format!("scones-plot-test-{}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    let path = dir.join("figure.png");
    let (w, h) = (900, 500);
    let mut fig = Figure::new(w, h, 1, 2).unwrap();
    let src: Vec<[f64; 2]> =
        (0..300).map(|i| (i as f64 * 0.37).sin_cos()).map(|(s, c)| [2.0 * c - 1.0, s * (1.0 + c)]).collect();
    let tgt: Vec<[f64; 2]> = src.iter().map(|p| [p[0] * 0.6 + 2.5, p[1] * 1.3 + 0.5]).collect();
    fig.scatter(0, &src, Rgba(31, 119, 180, 160), 3.0).unwrap();
    fig.scatter(0, &tgt, Rgba(255, 127, 14, 160), 3.0).unwrap();
    fig.title(0, "samples: μ and ν").unwrap();
    fig.legend(0, &[("source μ".into(), Rgba(31, 119, 180, 160)), ("target ν".into(), Rgba(255, 127, 14, 160))])
        .unwrap();
    fig.segments(1, &src[..40], &tgt[..40], Rgba(0, 0, 0, 90)).unwrap();
    fig.scatter(1, &src[..40], BLUE, 4.0).unwrap();
    fig.scatter(1, &tgt[..40], RED, 4.0).unwrap();
    fig.set_bounds(1, -4.0, 4.0, -3.0, 3.0).unwrap();
    fig.title(1, "transport lines x → T(x)").unwrap();
    fig.save_png(&path).unwrap();
    if let Some(keep) = std::env::var_os("SCONES_PLOT_OUT") {
        fig.save_png(&Path::new(&keep).join("plot_test_figure.png")).unwrap();
    }

    let decoder = png::Decoder::new(io::BufReader::new(File::open(&path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size().unwrap()];
    let info = reader.next_frame(&mut buf).unwrap();
    assert_eq!((info.width, info.height), (w, h));
    assert_eq!((info.color_type, info.bit_depth), (png::ColorType::Rgba, png::BitDepth::Eight));
    let rgba = &buf[..info.buffer_size()];
    assert_eq!(rgba, &fig.render_rgba().unwrap()[..]);

    // The opaque markers of panel 1 sit exactly where their data map to, clear of the legend.
    for (p, c) in [(src[30], BLUE), (tgt[30], RED)] {
        let (x, y) = figure_pixel(&fig, 1, p);
        assert_eq!(pixel(rgba, w, x, y), [c.0, c.1, c.2, 255], "marker at {p:?}");
    }
    // Halfway along a transport line there is ink, though no marker.
    let (a, b) = (src[7], tgt[7]);
    let (x, y) = figure_pixel(&fig, 1, [(a[0] + b[0]) / 2.0, (a[1] + b[1]) / 2.0]);
    let near = Rect { x0: x - 1, y0: y - 1, w: 3, h: 3 };
    assert!(count(rgba, w, near, |p| p[0] < 200) > 0);
    // Titles, tick labels and the legend put ink outside the data too.
    for panel in 0..2 {
        assert!(count_non_white(rgba, w, title_band(&fig, panel)) > 50);
        let l = fig.layout(panel);
        let below = Rect { y0: l.plot.y0 + l.plot.h + 2, h: l.cell.y0 + l.cell.h - l.plot.y0 - l.plot.h - 2, ..l.plot };
        let left = Rect { x0: l.cell.x0, w: l.plot.x0 - l.cell.x0 - 2, ..l.plot };
        assert!(count(rgba, w, below, |p| p[0] < 100) > 30, "x tick labels of panel {panel}");
        assert!(count(rgba, w, left, |p| p[0] < 100) > 30, "y tick labels of panel {panel}");
    }

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
fn equal_aspect_and_margin_keep_extremes_inside() {
    let mut fig = Figure::new(400, 300, 1, 1).unwrap();
    let pts = [[0.0, 0.0], [10.0, 1.0]];
    fig.scatter(0, &pts, RED, 2.0).unwrap();
    let plot = fig.layout(0).plot;
    let view = View::fit(&Figure::panel_bounds(&fig.panels[0]).unwrap(), plot.w, plot.h).unwrap();
    let [u0, v0] = view.to_pixel(pts[0]).unwrap();
    let [u1, v1] = view.to_pixel(pts[1]).unwrap();
    // Same pixels per data unit on both axes.
    assert!(((u1 - u0) / 10.0 - (v0 - v1) / 1.0).abs() < 1e-9);
    // The 5% margin keeps the extremes inside the frame: x spans 10 / 11 of the width.
    assert!(((u1 - u0) / plot.w as f64 - 1.0 / 1.1).abs() < 1e-9);
}

#[test]
fn segments_are_clipped_to_the_plot_area() {
    let w = 300;
    let mut fig = Figure::new(w, 300, 1, 1).unwrap();
    fig.set_bounds(0, 0.0, 1.0, 0.0, 1.0).unwrap();
    // Far beyond the bounds on both sides, crossing the panel horizontally.
    fig.segments(0, &[[-1e12, 0.5]], &[[1e12, 0.5]], Rgba(0, 0, 0, 255)).unwrap();
    let l = fig.layout(0);
    let rgba = fig.render_rgba().unwrap();
    let (_, y) = figure_pixel(&fig, 0, [0.5, 0.5]);
    let row = Rect { x0: l.plot.x0 + 1, y0: y, w: l.plot.w - 2, h: 1 };
    assert_eq!(count(&rgba, w, row, |p| p[0] < 60), row.w as usize);
    // Between the frame and the figure's right edge the row is untouched.
    let right = Rect { x0: l.plot.x0 + l.plot.w, y0: y - 1, w: w as i32 - l.plot.x0 - l.plot.w, h: 3 };
    assert_eq!(count_non_white(&rgba, w, right), 0);
}

#[test]
fn translucent_colors_blend_and_layers_draw_in_call_order() {
    let w = 200;
    let mut fig = Figure::new(w, 200, 1, 1).unwrap();
    fig.set_bounds(0, 0.0, 1.0, 0.0, 1.0).unwrap();
    fig.scatter(0, &[[0.3, 0.5]], Rgba(0, 0, 0, 128), 4.0).unwrap();
    fig.scatter(0, &[[0.7, 0.5]], RED, 5.0).unwrap();
    fig.scatter(0, &[[0.7, 0.5]], BLUE, 5.0).unwrap();
    let rgba = fig.render_rgba().unwrap();
    let (x, y) = figure_pixel(&fig, 0, [0.3, 0.5]);
    let p = pixel(&rgba, w, x, y);
    assert!((115..=135).contains(&p[0]), "{p:?}");
    let (x, y) = figure_pixel(&fig, 0, [0.7, 0.5]);
    assert_eq!(pixel(&rgba, w, x, y), [20, 40, 220, 255]);
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
    let rgba = fig.render_rgba().unwrap();
    assert!(count(&rgba, w, fig.layout(0).plot, |p| p == [220, 20, 20, 255]) > 0);

    // Only non-finite data: the panel is empty (frame only), not broken.
    let mut fig = Figure::new(w, 200, 1, 1).unwrap();
    fig.scatter(0, &[[nan, nan], [inf, -inf]], RED, 2.0).unwrap();
    assert!(Figure::panel_bounds(&fig.panels[0]).is_none());
    let rgba = fig.render_rgba().unwrap();
    let p = fig.layout(0).plot;
    assert_eq!(count_non_white(&rgba, w, Rect { x0: p.x0 + 1, y0: p.y0 + 1, w: p.w - 2, h: p.h - 2 }), 0);
    assert_eq!(count_non_white(&rgba, w, fig.layout(0).cell), 2 * (p.w + p.h) as usize - 4);
}

#[test]
fn extreme_but_finite_data_does_not_panic_or_hang() {
    let start = Instant::now();
    let mut fig = Figure::new(320, 240, 1, 2).unwrap();
    let huge = [[f64::MAX, -f64::MAX], [-f64::MAX, f64::MAX], [0.0, 0.0], [1e-320, 0.0]];
    fig.scatter(0, &huge, RED, 3.0).unwrap();
    fig.segments(0, &huge[..2], &huge[2..], BLUE).unwrap();
    fig.scatter(1, &[[1e-320, 1e-320], [2e-320, 1e-320]], RED, 3.0).unwrap();
    fig.set_bounds(1, 0.0, 1.0, 0.0, 1.0).unwrap();
    fig.segments(1, &[[-f64::MAX, 0.3]], &[[f64::MAX, 0.7]], BLUE).unwrap();
    assert_eq!(fig.render_rgba().unwrap().len(), 320 * 240 * 4);

    // Bounds two ulps wide at 1e22: no tick value can be told apart, so the panel draws the
    // data without labels instead of asking plotters to place them.
    let ulp = 2f64.powi(21);
    let mut fig = Figure::new(300, 300, 1, 1).unwrap();
    fig.set_bounds(0, 1e22, 1e22 + 2.0 * ulp, -1e22, -1e22 + 2.0 * ulp).unwrap();
    fig.scatter(0, &[[1e22 + ulp, -1e22 + ulp]], RED, 2.0).unwrap();
    assert_eq!(fig.render_rgba().unwrap().len(), 300 * 300 * 4);
    let mut fig = Figure::new(300, 300, 1, 1).unwrap();
    fig.set_bounds(0, -f64::MAX, f64::MAX, -f64::MAX, f64::MAX).unwrap();
    fig.scatter(0, &[[0.0, 0.0]], RED, 2.0).unwrap();
    assert_eq!(fig.render_rgba().unwrap().len(), 300 * 300 * 4);
    assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
}

#[test]
fn tiny_figures_and_many_panels_render() {
    for (w, h, r, c) in [(1, 1, 1, 1), (5, 5, 16, 16), (30, 10, 2, 3), (160, 90, 16, 1)] {
        let mut fig = Figure::new(w, h, r, c).unwrap();
        for p in 0..fig.panels() {
            fig.scatter(p, &[[0.0, 0.0], [1.0, 1.0]], RED, 5.0).unwrap();
            fig.title(p, "a long title that cannot fit").unwrap();
            fig.legend(p, &[("x".to_string(), RED)]).unwrap();
        }
        assert_eq!(fig.render_rgba().unwrap().len(), (w * h * 4) as usize);
    }
}

#[test]
fn titles_stay_in_their_band_and_long_ones_are_cut() {
    let (w, h) = (600, 300);
    let mut fig = Figure::new(w, h, 1, 2).unwrap();
    fig.scatter(1, &[[0.0, 0.0]], RED, 2.0).unwrap();
    let before = fig.render_rgba().unwrap();
    assert_eq!(count_non_white(&before, w, title_band(&fig, 0)), 0);
    fig.title(0, "Plan: π ≈ 3").unwrap();
    let after = fig.render_rgba().unwrap();
    assert!(count_non_white(&after, w, title_band(&fig, 0)) > 40);
    // Centered over the plot area: ink on both sides of its middle.
    let band = title_band(&fig, 0);
    let l = fig.layout(0);
    let mid = l.plot.x0 + l.plot.w / 2;
    assert!(count_non_white(&after, w, Rect { w: mid - band.x0, ..band }) > 10);
    assert!(count_non_white(&after, w, Rect { x0: mid, w: band.x0 + band.w - mid, ..band }) > 10);
    assert_eq!(count_non_white(&after, w, title_band(&fig, 1)), 0);

    fig.title(0, &"a title far too long for its panel ".repeat(5)).unwrap();
    let cut = fig.render_rgba().unwrap();
    assert_eq!(count_non_white(&cut, w, title_band(&fig, 1)), 0);
}

#[test]
fn legend_draws_opaque_swatches_top_left() {
    let w = 400;
    let mut fig = Figure::new(w, 300, 1, 1).unwrap();
    fig.set_bounds(0, 0.0, 1.0, 0.0, 1.0).unwrap();
    fig.legend(0, &[("source".to_string(), Rgba(220, 20, 20, 40)), ("target".to_string(), BLUE)]).unwrap();
    let plot = fig.layout(0).plot;
    let rgba = fig.render_rgba().unwrap();
    let quarter = Rect { w: plot.w / 2, h: plot.h / 2, ..plot };
    assert!(count(&rgba, w, quarter, |p| p == [220, 20, 20, 255]) > 25);
    assert!(count(&rgba, w, quarter, |p| p == [20, 40, 220, 255]) > 25);
    let text = count(&rgba, w, quarter, |p| p[0] < 120 && p[0] == p[1] && p[1] == p[2]);
    assert!(text > 30, "legend labels: {text}");
}

#[test]
fn tick_labels_are_short() {
    use super::render::tick_label;
    let labels: Vec<String> =
        [2.0, -0.0, 0.30000000000000004, -2.5, 1e-320, 2.5e7, 1e-5, 123456.0].iter().map(tick_label).collect();
    assert_eq!(labels, ["2", "0", "0.3", "-2.5", "0", "2.5e7", "1e-5", "123456"]);
}

#[test]
fn renders_two_hundred_thousand_points() {
    let n = 200_000;
    let points: Vec<[f64; 2]> = (0..n)
        .map(|i| {
            let (t, r) = (i as f64 * 0.618_033_988_75 * std::f64::consts::TAU, i as f64 / n as f64);
            [t.cos() * r, t.sin() * r]
        })
        .collect();
    let mut fig = Figure::new(800, 600, 1, 2).unwrap();
    fig.scatter(0, &points, Rgba(30, 90, 200, 60), 2.5).unwrap();
    // Short segments, as in a transport plan between nearby samples.
    let moved: Vec<[f64; 2]> = points.iter().map(|p| [p[0] * 1.1 + 0.05, p[1] * 0.9]).collect();
    fig.segments(1, &points, &moved, Rgba(0, 0, 0, 10)).unwrap();
    let start = Instant::now();
    let rgba = fig.render_rgba().unwrap();
    eprintln!("rendered {n} points and {n} segments in {:?}", start.elapsed());
    assert!(count_non_white(&rgba, 800, fig.layout(0).plot) > 10_000);
}
