//! The picture's legend: one line under the plot, its keys left to right (the fill, the
//! decision boundary, the centre, the dots).

use anyhow::Result;
use plotters::backend::DrawingBackend;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::RGBColor;
use relu_regions::slice::plane::Decision;

use super::{
    ColorBy, KEY_GAP, LEGEND_TOP, PLOT_LEFT, Picture, SlopeScale, Units, boundary_style,
    class_count, draw_centre_mark, draw_class_dot, tick_label, top_left,
};
use crate::plot::{CLASS_PALETTE, GREY, INK, REGION_PALETTE, class_color, drawing_error, viridis};

/// The legend under the plot.
pub(super) fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    pic: &Picture<'_>,
    u: Units,
) -> Result<()> {
    let mut line = LegendLine {
        root,
        u,
        x: PLOT_LEFT,
    };
    match pic.color_by {
        ColorBy::Region => line.region_key()?,
        ColorBy::Class => line.class_key(pic)?,
        ColorBy::Slope => line.slope_key(pic)?,
    }
    line.boundary_key(pic)?;
    if !pic.marks.is_empty() {
        line.centre_key()?;
    }
    if !pic.dots.is_empty() {
        line.dots_key(pic)?;
    }
    Ok(())
}

/// The legend's line, filled left to right; positions in layout units.
struct LegendLine<'r, DB: DrawingBackend> {
    root: &'r DrawingArea<DB, Shift>,
    u: Units,
    /// Where the next key starts.
    x: f64,
}

/// The legend's text size.
const LEGEND_TEXT: f64 = 12.5;
/// The size of the numbers at the ends of the slope scale.
const LEGEND_NUMBER: f64 = 11.5;
/// The side of a colour swatch.
const SWATCH: f64 = 13.0;

impl<DB: DrawingBackend> LegendLine<'_, DB> {
    /// The point `dx` right of the cursor and `dy` below the line's top, in device pixels.
    fn at(&self, dx: f64, dy: f64) -> (i32, i32) {
        (self.u.px(self.x + dx), self.u.px(LEGEND_TOP + dy))
    }

    /// The width of `s` at `size`, in layout units.
    fn text_width(&self, s: &str, size: f64) -> f64 {
        self.root
            .estimate_text_size(s, &TextStyle::from(self.u.font(size)))
            .map(|(w, _)| f64::from(w) / self.u.per_unit)
            .unwrap_or(7.0 * s.len() as f64)
    }

    /// Writes `s` at the cursor and moves the cursor past it and `gap`.
    fn text(&mut self, s: &str, gap: f64) -> Result<()> {
        let style = self.u.text(LEGEND_TEXT, &INK, top_left());
        self.root
            .draw_text(s, &style, self.at(0.0, 0.0))
            .map_err(drawing_error)?;
        self.x += self.text_width(s, LEGEND_TEXT) + gap;
        Ok(())
    }

    /// Writes the number `v` (smaller, grey) at the cursor and moves past it and `gap`.
    fn number(&mut self, v: f64, gap: f64) -> Result<()> {
        let s = tick_label(v);
        let style = self.u.text(LEGEND_NUMBER, &GREY, top_left());
        self.root
            .draw_text(&s, &style, self.at(0.0, 1.0))
            .map_err(drawing_error)?;
        self.x += self.text_width(&s, LEGEND_NUMBER) + gap;
        Ok(())
    }

    /// A colour swatch `dx` right of the cursor, outlined in grey.
    fn swatch(&self, dx: f64, color: RGBColor) -> Result<()> {
        let corners = [self.at(dx, 0.0), self.at(dx + SWATCH, SWATCH)];
        let outline = RGBColor(90, 90, 90).stroke_width(self.u.stroke(0.6));
        self.root
            .draw(&Rectangle::new(corners, color.filled()))
            .map_err(drawing_error)?;
        self.root
            .draw(&Rectangle::new(corners, outline))
            .map_err(drawing_error)?;
        Ok(())
    }

    /// Four overlapping swatches of the region palette: "activation regions".
    fn region_key(&mut self) -> Result<()> {
        for (i, &(r, g, b)) in REGION_PALETTE.iter().take(4).enumerate() {
            self.swatch(9.0 * i as f64, RGBColor(r, g, b))?;
        }
        self.x += 27.0 + SWATCH + 6.0;
        self.text("activation regions", KEY_GAP)
    }

    /// "class" and a swatch per class (at most 12).
    fn class_key(&mut self, pic: &Picture<'_>) -> Result<()> {
        let label = if pic.decision == Decision::ArgMin {
            "class (argmin)"
        } else {
            "class"
        };
        self.text(label, 8.0)?;
        for c in 0..class_count(pic.partition).min(12) {
            self.swatch(0.0, class_color(c))?;
            self.x += 16.0;
            self.text(&c.to_string(), 9.0)?;
        }
        self.x += 10.0;
        Ok(())
    }

    /// The slope's colour bar between its smallest and largest value.
    fn slope_key(&mut self, pic: &Picture<'_>) -> Result<()> {
        let scale = SlopeScale::new(pic.partition);
        self.text(
            if scale.log {
                "slope |df/d(a,b)| (log scale)"
            } else {
                "slope |df/d(a,b)|"
            },
            8.0,
        )?;
        self.number(scale.lo, 5.0)?;
        // The bar: one device pixel column per colour.
        let width = 120.0;
        let columns = (width * self.u.per_unit) as i32;
        let ((x0, top), (_, bottom)) = (self.at(0.0, 0.0), self.at(0.0, SWATCH));
        for i in 0..columns {
            let color = viridis(f64::from(i) / f64::from(columns - 1));
            self.root
                .draw(&Rectangle::new(
                    [(x0 + i, top), (x0 + i + 1, bottom)],
                    color.filled(),
                ))
                .map_err(drawing_error)?;
        }
        self.x += width + 5.0;
        self.number(scale.hi, KEY_GAP)
    }

    /// A stretch of the decision boundary's line: "decision boundary".
    fn boundary_key(&mut self, pic: &Picture<'_>) -> Result<()> {
        let ((x0, y), (x1, _)) = (self.at(0.0, 6.5), self.at(22.0, 6.5));
        self.root
            .draw(&PathElement::new(
                vec![(x0, y), (x1, y)],
                boundary_style(pic, self.u),
            ))
            .map_err(drawing_error)?;
        self.x += 28.0;
        self.text("decision boundary", KEY_GAP)
    }

    /// The centre's mark: "centre".
    fn centre_key(&mut self) -> Result<()> {
        draw_centre_mark(self.root, self.at(5.5, 6.5), self.u)?;
        self.x += 17.0;
        self.text("centre", KEY_GAP)
    }

    /// A dot per class (at most 10) and the dots' label.
    fn dots_key(&mut self, pic: &Picture<'_>) -> Result<()> {
        let classes = pic.dots.iter().map(|d| d.1).max().map_or(0, |m| m + 1);
        let shown = classes.min(CLASS_PALETTE.len());
        for c in 0..shown {
            draw_class_dot(
                self.root,
                self.at(4.0 + 10.0 * c as f64, 6.5),
                c,
                self.u,
                false,
            )?;
        }
        self.x += 10.0 * shown as f64 + 6.0;
        self.text(&pic.dots_label, 0.0)
    }
}
