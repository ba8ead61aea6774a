//! Capacity curves: served throughput against offered load (the knee is where the points leave
//! the diagonal), and throughput against requests in flight with the fitted Universal
//! Scalability Law curve. Each point is one analysis window.
//!
//! And the chart of a capacity verdict (`capacity.html`): each step's latency quantile and
//! error rate, with their 95% bounds, against the load, the claim's limits drawn across and
//! the largest load that passed marked.

use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::coord::Shift;
use plotters::prelude::*;

use super::look::*;
use crate::analysis::windows::{windows, Window};
use crate::analysis::{Saturation, Summary};

fn loaded(summary: &Summary, s: &Saturation) -> Vec<Window> {
    windows(summary, s.window_s).into_iter().filter(|w| w.finished > 0).collect()
}

pub fn draw_knee<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, summary: &Summary, s: &Saturation) -> Drawn
where
    DB::ErrorType: 'static,
{
    let area = frame(root, "Served against offered load (each dot is a few seconds)")?;
    let ws = loaded(summary, s);
    if ws.is_empty() {
        return nothing(&area, "no request finished");
    }
    let max = ws.iter().map(|w| w.offered_rps.max(w.ok_rps)).fold(1.0, f64::max) * 1.1;
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..max, 0f64..max)?;
    served_mesh(&mut chart, "offered load (requests sent / s)")?;
    chart
        .draw_series(DashedLineSeries::new(vec![(0.0, 0.0), (max, max)], 6, 5, SLATE.stroke_width(1)))?
        .label("served = offered")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], SLATE.stroke_width(1)));
    let saturated_at = s.point.as_ref().map(|p| p.at_s).unwrap_or(f64::INFINITY);
    chart
        .draw_series(
            ws.iter()
                .filter(|w| (w.start_s as f64) < saturated_at)
                .map(|w| Circle::new((w.offered_rps, w.ok_rps), 4, SKY.mix(0.7).filled())),
        )?
        .label("before saturation")
        .legend(|(x, y)| Circle::new((x + 10, y), 4, SKY.filled()));
    if s.point.is_some() {
        chart
            .draw_series(
                ws.iter()
                    .filter(|w| (w.start_s as f64) >= saturated_at)
                    .map(|w| Circle::new((w.offered_rps, w.ok_rps), 4, CRIMSON.mix(0.6).filled())),
            )?
            .label("after")
            .legend(|(x, y)| Circle::new((x + 10, y), 4, CRIMSON.filled()));
    }
    if let Some(k) = &s.throughput_knee {
        chart.draw_series(std::iter::once(Circle::new((k.load_rps, k.value), 9, INK.stroke_width(3))))?;
        chart.draw_series(std::iter::once(Text::new(
            format!("knee ≈ {:.0} req/s offered", k.load_rps),
            (k.load_rps + max * 0.015, k.value - max * 0.03),
            font(15),
        )))?;
    }
    legend(&mut chart, 15)?;
    Ok(())
}

pub fn draw_usl<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, summary: &Summary, s: &Saturation) -> Drawn
where
    DB::ErrorType: 'static,
{
    let area = frame(root, "Throughput against requests in flight, with the USL fit")?;
    let ws: Vec<Window> = loaded(summary, s).into_iter().filter(|w| w.in_flight_mean >= 1.0).collect();
    let Some(fit) = s.usl.as_ref().filter(|_| !ws.is_empty()) else {
        return nothing(&area, "not enough variation in load to fit a curve");
    };
    // Draw the curve to 2× the measured concurrency at most: beyond that it is speculation.
    let n_end = (fit.max_measured_n * 1.1).max(fit.n_star.unwrap_or(0.0).min(fit.max_measured_n * 2.0)).max(2.0);
    let curve: Vec<(f64, f64)> =
        (0..=200).map(|i| 1.0 + (n_end - 1.0) * i as f64 / 200.0).map(|n| (n, fit.throughput(n))).collect();
    let y_max = ws.iter().map(|w| w.ok_rps).chain(curve.iter().map(|p| p.1)).fold(1.0, f64::max) * 1.15;
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d((0.8f64..n_end * 1.2).log_scale(), 0f64..y_max)?;
    served_mesh(&mut chart, "requests in flight (measured concurrency N, log scale)")?;
    chart
        .draw_series(ws.iter().map(|w| Circle::new((w.in_flight_mean, w.ok_rps), 4, SKY.mix(0.7).filled())))?
        .label("measured")
        .legend(|(x, y)| Circle::new((x + 10, y), 4, SKY.filled()));
    let color = if fit.trustworthy { LEAF } else { SLATE };
    chart
        .draw_series(LineSeries::new(curve, color.stroke_width(2)))?
        .label(format!(
            "USL: α={:.3} β={:.2e} R²={:.2}{}",
            fit.alpha,
            fit.beta,
            fit.r_squared,
            if fit.trustworthy { "" } else { " (not trustworthy)" }
        ))
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
    if let (Some(n), Some(x)) = (fit.n_star, fit.peak_throughput) {
        if n <= n_end {
            chart.draw_series(std::iter::once(Circle::new((n, x), 7, INK.stroke_width(2))))?;
            chart.draw_series(std::iter::once(Text::new(
                format!("N* ≈ {n:.0}, peak {x:.0}/s"),
                (n * 1.08, x * 1.03),
                font(16),
            )))?;
        }
    }
    legend_at(&mut chart, SeriesLabelPosition::LowerRight, 15)?;
    Ok(())
}

/// The grid and labels of both capacity charts: successful requests per second up the side,
/// `x_desc` along the bottom, whole numbers on both.
fn served_mesh<'a, DB, X>(chart: &mut ChartContext<'a, DB, Cartesian2d<X, RangedCoordf64>>, x_desc: &str) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.4))
        .bold_line_style(GRID)
        .x_desc(x_desc)
        .x_label_formatter(&|v| format!("{v:.0}"))
        .y_label_formatter(&|v| format!("{v:.0}"))
        .y_desc("served successfully / s")
        .label_style(font(15))
        .axis_desc_style(font(16))
        .draw()?;
    Ok(())
}
