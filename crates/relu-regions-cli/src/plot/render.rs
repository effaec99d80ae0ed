//! Writing pictures and charts as PNG and SVG: the bitmap and SVG backends, the PNG's
//! supersampling, and the embedded font.

use std::path::{Path, PathBuf};
use std::sync::Once;

use anyhow::{Context, Result, anyhow};
use plotters::backend::DrawingBackend;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::FONT_FAMILY;
use super::charts::Chart;
use super::picture::{self, Picture};

/// DejaVu Sans (its licence is next to it in `assets/`).
const FONT_BYTES: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

static FONT: Once = Once::new();

/// Registers the embedded font as [`FONT_FAMILY`] (once per process).
fn register_font() {
    FONT.call_once(|| {
        // The bytes are a valid TrueType font (checked by the tests).
        let _ = plotters::style::register_font(FONT_FAMILY, FontStyle::Normal, FONT_BYTES);
    });
}

/// How many device pixels per picture pixel a PNG is drawn at before box-filtering.
const SUPERSAMPLING: u32 = 3;

/// Writes the picture as PNG (supersampled 3x, then box-filtered).
pub fn write_png(pic: &Picture<'_>, path: &Path) -> Result<()> {
    register_font();
    const K: u32 = SUPERSAMPLING;
    let (w, h) = (pic.size, pic.size);
    let mut big = vec![0u8; (w * K * h * K * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut big, (w * K, h * K)).into_drawing_area();
        picture::draw(&root, pic, f64::from(K))?;
        root.present().map_err(|e| anyhow!("drawing: {e:?}"))?;
    }
    let small = box_filter(&big, (w, h), K);
    let mut backend = BitMapBackend::new(path, (w, h));
    backend
        .blit_bitmap((0, 0), (w, h), &small)
        .map_err(|e| anyhow!("{e:?}"))?;
    backend
        .present()
        .map_err(|e| anyhow!("{e:?}"))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// An RGB image of `w x h` pixels from one `k` times as large in each direction: each
/// pixel's channel is the rounded mean of its `k x k` block.
fn box_filter(big: &[u8], (w, h): (u32, u32), k: u32) -> Vec<u8> {
    let mut small = vec![0u8; (w * h * 3) as usize];
    let row = (w * k * 3) as usize;
    let k_us = k as usize;
    for y in 0..h as usize {
        for x in 0..w as usize {
            for c in 0..3 {
                let mut s = 0u32;
                for dy in 0..k_us {
                    for dx in 0..k_us {
                        s += u32::from(big[(y * k_us + dy) * row + (x * k_us + dx) * 3 + c]);
                    }
                }
                small[(y * w as usize + x) * 3 + c] = ((s + k * k / 2) / (k * k)) as u8;
            }
        }
    }
    small
}

/// Writes the picture as SVG.
pub fn write_svg(pic: &Picture<'_>, path: &Path) -> Result<()> {
    register_font();
    let root = SVGBackend::new(path, (pic.size, pic.size)).into_drawing_area();
    picture::draw(&root, pic, 1.0)?;
    root.present()
        .map_err(|e| anyhow!("{e:?}"))
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

/// Width and height of a chart in pixels.
const CHART_SIZE: (u32, u32) = (720, 450);

/// Writes a chart as PNG and SVG (`stem.png`, `stem.svg`; the stem may contain dots).
pub(super) fn write_chart(chart: &Chart<'_>, stem: &Path) -> Result<()> {
    register_font();
    let with_ext = |ext: &str| {
        let mut p = stem.as_os_str().to_owned();
        p.push(ext);
        PathBuf::from(p)
    };
    let png = with_ext(".png");
    {
        let root = BitMapBackend::new(&png, CHART_SIZE).into_drawing_area();
        chart.draw(&root)?;
        root.present()
            .map_err(|e| anyhow!("{e:?}"))
            .with_context(|| format!("writing {}", png.display()))?;
    }
    let svg = with_ext(".svg");
    let root = SVGBackend::new(&svg, CHART_SIZE).into_drawing_area();
    chart.draw(&root)?;
    root.present()
        .map_err(|e| anyhow!("{e:?}"))
        .with_context(|| format!("writing {}", svg.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_parses() {
        assert!(
            plotters::style::register_font("sans-serif-test", FontStyle::Normal, FONT_BYTES)
                .is_ok()
        );
    }

    #[test]
    fn box_filter_averages_blocks() {
        // A 2 x 1 image from a 4 x 2 one (k = 2): left block 0, 0, 3, 3 (mean 1.5 rounds
        // to 2), right block all 200.
        let mut big = vec![0u8; 4 * 2 * 3];
        for (i, v) in big.iter_mut().enumerate() {
            let (y, x) = (i / 12, (i % 12) / 3);
            *v = if x >= 2 { 200 } else { 3 * y as u8 };
        }
        assert_eq!(box_filter(&big, (2, 1), 2), vec![2, 2, 2, 200, 200, 200]);
    }
}
