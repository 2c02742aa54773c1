//! SVG and PNG charts of [`Trends`] drawn with plotters: throughput bars
//! with cumulative created and closed lines, and below, when there is one,
//! the first plan's burn-down (remaining vs ideal). Text is laid out and
//! rasterised with a font compiled in (DejaVu Sans Mono, under its own
//! licence in assets/fonts), so no system font library is needed and the
//! output is the same on every machine. PNG is drawn into an RGB buffer
//! and encoded with the `png` crate.

use super::Trends;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::sync::Once;

const FONT: &[u8] = include_bytes!("../../assets/fonts/DejaVuSansMono.ttf");
/// Pixel size of both formats.
pub const SIZE: (u32, u32) = (900, 640);

fn fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The bytes are a valid font compiled in; a failure would show as
        // a font error from the first chart.
        let _ = plotters::style::register_font("sans-serif", FontStyle::Normal, FONT);
    });
}

/// Why a chart could not be drawn or encoded (plotters' and png's own
/// error text: their error types are generic over the backend).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{stage}: {message}")]
pub struct ChartError {
    /// What failed ("drawing", "encoding the PNG").
    pub stage: &'static str,
    /// The library's message.
    pub message: String,
}

fn drawing(e: impl std::fmt::Display) -> ChartError {
    ChartError { stage: "drawing", message: e.to_string() }
}

fn encoding(e: impl std::fmt::Display) -> ChartError {
    ChartError { stage: "encoding the PNG", message: e.to_string() }
}

/// The chart as an SVG document.
pub fn svg(t: &Trends) -> Result<String, ChartError> {
    fonts();
    let mut buf = String::new();
    {
        let root = SVGBackend::with_string(&mut buf, SIZE).into_drawing_area();
        draw(&root, t).map_err(drawing)?;
        root.present().map_err(drawing)?;
    }
    Ok(buf)
}

/// The chart as a PNG file's bytes.
pub fn png(t: &Trends) -> Result<Vec<u8>, ChartError> {
    fonts();
    let (w, h) = SIZE;
    let mut rgb = vec![0u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut rgb, SIZE).into_drawing_area();
        draw(&root, t).map_err(drawing)?;
        root.present().map_err(drawing)?;
    }
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().map_err(encoding)?;
        wr.write_image_data(&rgb).map_err(encoding)?;
    }
    Ok(out)
}

type Drawn<DB> = Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, t: &Trends) -> Drawn<DB> {
    root.fill(&WHITE)?;
    let plan = t.burndown.iter().flatten().next();
    let (top, bottom) = match plan {
        Some(_) => {
            let (a, b) = root.split_vertically(SIZE.1 / 2);
            (a, Some(b))
        }
        None => (root.clone(), None),
    };
    flow(&top, t)?;
    if let (Some(area), Some(p)) = (bottom, plan) {
        burndown(&area, p)?;
    }
    Ok(())
}

fn x_labels(labels: Vec<String>) -> impl Fn(&f64) -> String {
    move |x: &f64| {
        let i = x.floor();
        if i < 0.0 || (x - i).abs() > 1e-9 {
            return String::new();
        }
        labels.get(i as usize).cloned().unwrap_or_default()
    }
}

fn flow<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, t: &Trends) -> Drawn<DB> {
    let n = t.buckets.len().max(1);
    let ymax = t.buckets.iter().map(|b| b.cumulative_created.max(b.throughput)).max().unwrap_or(0).max(1) as f64;
    let mut chart = ChartBuilder::on(area)
        .caption(
            format!("Throughput and cumulative flow ({} to {})", &t.window.since[..10], &t.window.until[..10]),
            ("sans-serif", 18),
        )
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..n as f64, 0f64..ymax * 1.1)?;
    let fmt = x_labels(t.buckets.iter().map(|b| b.label.clone()).collect());
    chart
        .configure_mesh()
        .x_labels(n.min(12) + 1)
        .x_label_formatter(&fmt)
        .y_desc("todos")
        .light_line_style(WHITE)
        .draw()?;
    let bar = BLUE.mix(0.45).filled();
    chart
        .draw_series(
            t.buckets
                .iter()
                .enumerate()
                .map(|(i, b)| Rectangle::new([(i as f64 + 0.15, 0.0), (i as f64 + 0.85, b.throughput as f64)], bar)),
        )?
        .label("completed")
        .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], bar));
    let line = |f: fn(&super::Bucket) -> usize| -> Vec<(f64, f64)> {
        t.buckets.iter().enumerate().map(|(i, b)| (i as f64 + 0.5, f(b) as f64)).collect()
    };
    chart
        .draw_series(LineSeries::new(line(|b| b.cumulative_created), RED.stroke_width(2)))?
        .label("created (cumulative)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], RED.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(line(|b| b.cumulative_closed), GREEN.stroke_width(2)))?
        .label("closed (cumulative)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], GREEN.stroke_width(2)));
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}

fn burndown<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, p: &super::Burndown) -> Drawn<DB> {
    let n = p.points.len().max(1);
    let ymax = p.total_hours.max(1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(format!("Burn-down {} (target {})", p.plan, p.target.as_deref().unwrap_or("none")), ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(44)
        .build_cartesian_2d(0f64..n as f64, 0f64..ymax * 1.1)?;
    let fmt = x_labels(p.points.iter().map(|b| b.label.clone()).collect());
    chart
        .configure_mesh()
        .x_labels(n.min(12) + 1)
        .x_label_formatter(&fmt)
        .y_desc("hours")
        .light_line_style(WHITE)
        .draw()?;
    let pts = p.points.iter().enumerate().map(|(i, x)| (i as f64 + 0.5, x.remaining)).collect::<Vec<_>>();
    chart
        .draw_series(LineSeries::new(pts, BLUE.stroke_width(2)))?
        .label("remaining")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLUE.stroke_width(2)));
    let ideal: Vec<(f64, f64)> =
        p.points.iter().enumerate().filter_map(|(i, x)| x.ideal.map(|v| (i as f64 + 0.5, v))).collect();
    if !ideal.is_empty() {
        chart
            .draw_series(LineSeries::new(ideal, BLACK.mix(0.6).stroke_width(1)))?
            .label("ideal")
            .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 14, y)], BLACK.mix(0.6)));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    Ok(())
}
