//! A grid of small grayscale images (digits, image samples), each pixel drawn as a `scale` x
//! `scale` block so that 8 x 8 images stay readable, with thin gaps between tiles and wider
//! gaps after chosen columns to separate groups (sources | baseline | samples).

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;

use super::{PlotError, MAX_SIDE};

/// Gray level of the gaps between tiles: light enough to tell from a black (0) pixel and from
/// a white (1) one.
const GAP_GRAY: u8 = 200;
/// Largest accepted pixel magnification.
const MAX_SCALE: u32 = 64;

/// `rows` x `cols` tiles of `tile_h` x `tile_w` grayscale values; tiles left unset stay gap-gray.
#[derive(Clone, Debug)]
pub struct ImageGrid {
    rows: usize,
    cols: usize,
    tile_h: usize,
    tile_w: usize,
    scale: u32,
    gap: u32,
    group_gap: u32,
    separators: Vec<bool>,
    tiles: Vec<Option<Vec<u8>>>,
}

impl ImageGrid {
    /// Fails when any side of the finished figure (tiles, gaps and all) would exceed 8192 pixels
    /// or a count is 0.
    pub fn new(rows: usize, cols: usize, tile_h: usize, tile_w: usize, scale: u32) -> Result<ImageGrid, PlotError> {
        if !(1..=MAX_SCALE).contains(&scale) {
            return Err(PlotError::InvalidSize { width: scale, height: scale });
        }
        // Checked before anything is allocated; saturating u64 so that absurd counts fail here
        // instead of wrapping. Separators only widen the figure later, and are checked then.
        let side = |n: usize, tile: usize| {
            (n as u64).saturating_mul(tile as u64).saturating_mul(scale as u64).saturating_add((n as u64 + 1) * 2)
        };
        let (w, h) = (side(cols, tile_w), side(rows, tile_h));
        if rows == 0 || cols == 0 || tile_h == 0 || tile_w == 0 || w > MAX_SIDE as u64 || h > MAX_SIDE as u64 {
            let clip = |v: u64| v.min(u32::MAX as u64) as u32;
            return Err(PlotError::InvalidSize { width: clip(w), height: clip(h) });
        }
        Ok(ImageGrid {
            rows,
            cols,
            tile_h,
            tile_w,
            scale,
            gap: 2,
            group_gap: 3 * scale,
            separators: vec![false; cols],
            tiles: vec![None; rows * cols],
        })
    }

    /// A wider gap after column `col`, separating the columns before it from those after.
    pub fn separate_after(&mut self, col: usize) -> Result<(), PlotError> {
        let panels = self.cols;
        let was = std::mem::replace(
            self.separators.get_mut(col).ok_or(PlotError::PanelOutOfRange { panel: col, panels })?,
            true,
        );
        let width = self.width_u64();
        if width > MAX_SIDE as u64 {
            self.separators[col] = was;
            return Err(PlotError::InvalidSize { width: width as u32, height: self.height() });
        }
        Ok(())
    }

    /// Sets tile (row, col) from `values` (row-major, tile_h x tile_w): `lo` and below are black,
    /// `hi` and above white, linear between; NaN is drawn mid-gray.
    pub fn set(&mut self, row: usize, col: usize, values: &[f64], lo: f64, hi: f64) -> Result<(), PlotError> {
        if !(lo.is_finite() && hi.is_finite() && lo < hi) {
            return Err(PlotError::InvalidBounds { xmin: lo, xmax: hi, ymin: 0.0, ymax: 1.0 });
        }
        let expected = self.tile_h * self.tile_w;
        if values.len() != expected {
            return Err(PlotError::TileLength { expected, got: values.len() });
        }
        if row >= self.rows || col >= self.cols {
            let panels = self.rows * self.cols;
            return Err(PlotError::PanelOutOfRange {
                panel: row.saturating_mul(self.cols).saturating_add(col),
                panels,
            });
        }
        let gray = values
            .iter()
            .map(|&v| if v.is_nan() { 128 } else { (255.0 * ((v - lo) / (hi - lo)).clamp(0.0, 1.0)).round() as u8 })
            .collect();
        self.tiles[row * self.cols + col] = Some(gray);
        Ok(())
    }

    pub fn width(&self) -> u32 {
        self.width_u64() as u32
    }

    pub fn height(&self) -> u32 {
        self.height_u64() as u32
    }

    fn width_u64(&self) -> u64 {
        let groups = self.separators.iter().filter(|&&s| s).count() as u64;
        let tiles = self.cols as u64 * self.tile_w as u64 * self.scale as u64;
        tiles + (self.cols as u64 + 1) * self.gap as u64 + groups * self.group_gap as u64
    }

    fn height_u64(&self) -> u64 {
        self.rows as u64 * self.tile_h as u64 * self.scale as u64 + (self.rows as u64 + 1) * self.gap as u64
    }

    /// Left pixel of each tile column.
    fn column_starts(&self) -> Vec<usize> {
        let mut x = self.gap as usize;
        let mut starts = Vec::with_capacity(self.cols);
        for c in 0..self.cols {
            starts.push(x);
            x += self.tile_w * self.scale as usize + self.gap as usize;
            if self.separators[c] {
                x += self.group_gap as usize;
            }
        }
        starts
    }

    /// The figure as width * height gray bytes, rows top to bottom.
    pub fn render_gray(&self) -> Vec<u8> {
        let (w, h) = (self.width() as usize, self.height() as usize);
        let mut out = vec![GAP_GRAY; w * h];
        let s = self.scale as usize;
        let xs = self.column_starts();
        for (i, tile) in self.tiles.iter().enumerate() {
            let Some(tile) = tile else { continue };
            let (r, c) = (i / self.cols, i % self.cols);
            let y0 = self.gap as usize + r * (self.tile_h * s + self.gap as usize);
            for py in 0..self.tile_h * s {
                let row = &mut out[(y0 + py) * w + xs[c]..][..self.tile_w * s];
                for (px, o) in row.iter_mut().enumerate() {
                    *o = tile[(py / s) * self.tile_w + px / s];
                }
            }
        }
        out
    }

    /// Writes the grid as an 8-bit grayscale PNG through the library's atomic writer.
    pub fn save_png(&self, path: &Path) -> Result<(), PlotError> {
        if path.file_name().is_none() {
            return Err(PlotError::InvalidPath(path.to_path_buf()));
        }
        let pixels = self.render_gray();
        crate::runtime::atomic_file::write_atomically(path, |file: &mut File| -> Result<(), PlotError> {
            let mut out = BufWriter::new(file);
            let mut encoder = png::Encoder::new(&mut out, self.width(), self.height());
            encoder.set_color(png::ColorType::Grayscale);
            encoder.set_depth(png::BitDepth::Eight);
            let mut writer = encoder.write_header()?;
            writer.write_image_data(&pixels)?;
            writer.finish()?;
            out.flush()?;
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_land_where_the_layout_says_with_values_mapped_to_gray() {
        let mut g = ImageGrid::new(2, 3, 2, 2, 3).unwrap();
        g.separate_after(0).unwrap();
        // Gaps of 2 around tiles of 6 pixels, plus a 9-pixel group gap after column 0.
        assert_eq!((g.width(), g.height()), (3 * 6 + 4 * 2 + 9, 2 * 6 + 3 * 2));
        g.set(1, 1, &[0.0, 1.0, 0.5, 2.0], 0.0, 1.0).unwrap();
        let px = g.render_gray();
        let w = g.width() as usize;
        let (x0, y0) = (2 + 6 + 2 + 9, 2 + 6 + 2);
        let at = |x: usize, y: usize| px[y * w + x];
        assert_eq!(at(x0, y0), 0, "0 is black");
        assert_eq!(at(x0 + 5, y0 + 2), 255, "1 is white, each value a 3 x 3 block");
        assert_eq!(at(x0 + 2, y0 + 3), 128, "0.5 is mid-gray (127.5 rounded)");
        assert_eq!(at(x0 + 3, y0 + 5), 255, "values above hi are clamped");
        assert_eq!(at(x0 - 1, y0), GAP_GRAY);
        assert_eq!(at(2, 2), GAP_GRAY, "an unset tile stays gap-gray");
        assert!(px.iter().filter(|&&p| p != GAP_GRAY).count() == 36, "nothing else is drawn");
    }

    #[test]
    fn bad_arguments_are_refused() {
        assert!(matches!(ImageGrid::new(0, 3, 8, 8, 4), Err(PlotError::InvalidSize { .. })));
        assert!(matches!(ImageGrid::new(1, 1, 8, 8, 0), Err(PlotError::InvalidSize { .. })));
        assert!(matches!(ImageGrid::new(1000, 1, 8, 8, 4), Err(PlotError::InvalidSize { .. })));
        assert!(matches!(ImageGrid::new(usize::MAX, usize::MAX, 8, 8, 4), Err(PlotError::InvalidSize { .. })));
        let mut g = ImageGrid::new(2, 2, 2, 2, 1).unwrap();
        assert!(matches!(g.set(0, 0, &[0.0; 3], 0.0, 1.0), Err(PlotError::TileLength { expected: 4, got: 3 })));
        assert!(matches!(g.set(2, 0, &[0.0; 4], 0.0, 1.0), Err(PlotError::PanelOutOfRange { .. })));
        assert!(matches!(g.set(0, 0, &[0.0; 4], 1.0, 1.0), Err(PlotError::InvalidBounds { .. })));
        assert!(g.separate_after(2).is_err());
    }

    #[test]
    fn saves_a_png_of_the_stated_size() {
        let dir = std::env::temp_dir().join(format!("scones-grid-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("grid.png");
        let mut g = ImageGrid::new(1, 2, 8, 8, 2).unwrap();
        g.set(0, 1, &[0.25; 64], 0.0, 1.0).unwrap();
        g.save_png(&path).unwrap();
        let decoder = png::Decoder::new(std::io::BufReader::new(File::open(&path).unwrap()));
        let reader = decoder.read_info().unwrap();
        assert_eq!((reader.info().width, reader.info().height), (g.width(), g.height()));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
