//! The classic HdrHistogram percentile spectrum: latency against percentile on the "nines"
//! scale (0%, 90%, 99%, 99.9%, 99.99% equally spaced), one line per step of a persona. It shows
//! the tail that averages and p95 hide: where a step's slowest users are.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::look::*;
use crate::analysis::{decode_histogram, StepSummary};

/// The nines axis ends at 99.99%.
const MAX_NINES: f64 = 4.0;

/// x position of quantile `q` on the nines scale: −log10(1 − q).
pub fn nines(q: f64) -> f64 {
    (-(1.0 - q.clamp(0.0, 1.0)).max(1e-12).log10()).clamp(0.0, MAX_NINES)
}

fn nines_label(x: &f64) -> String {
    match x.round() as i32 {
        0 => "0%".into(),
        1 => "90%".into(),
        2 => "99%".into(),
        3 => "99.9%".into(),
        _ => "99.99%".into(),
    }
}

/// The (nines, latency µs) points of a step's histogram.
pub fn points(step: &StepSummary) -> Vec<(f64, f64)> {
    let Some(h) = decode_histogram(&step.latency.histogram).filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    let mut pts: Vec<(f64, f64)> = h
        .iter_quantiles(5)
        .map(|v| (nines(v.quantile_iterated_to()), h.highest_equivalent(v.value_iterated_to()).max(1) as f64))
        .take_while(|(x, _)| *x < MAX_NINES)
        .collect();
    // The end of the axis shows the max, or p99.99 when there are enough samples to have one.
    pts.push((MAX_NINES, h.value_at_quantile(0.9999).max(1) as f64));
    pts
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, persona: &str, steps: &[&StepSummary]) -> Drawn
where
    DB::ErrorType: 'static,
{
    let area = frame(root, &format!("Latency by percentile: {persona}"))?;
    let series: Vec<(&StepSummary, Vec<(f64, f64)>)> =
        steps.iter().map(|s| (*s, points(s))).filter(|(_, p)| !p.is_empty()).collect();
    if series.is_empty() {
        return nothing(&area, "no request of this persona finished");
    }
    let range = latency_range(series.iter().flat_map(|(_, p)| p.iter().map(|(_, y)| *y as u64)));
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..MAX_NINES, range.log_scale())?;
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.4))
        .bold_line_style(GRID)
        .x_labels(5)
        .y_labels(8)
        .x_desc("percentile of requests (a request at 99% was slower than 99 in 100)")
        .y_desc("latency (log scale)")
        .x_label_formatter(&nines_label)
        .y_label_formatter(&latency_label)
        .label_style(font(15))
        .axis_desc_style(font(16))
        .draw()?;
    for (i, (step, pts)) in series.into_iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let label = if step.goal { format!("{} (goal)", step.name) } else { step.name.clone() };
        chart
            .draw_series(LineSeries::new(pts, color.stroke_width(2)))?
            .label(label)
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
    }
    legend(&mut chart, 15)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nines_scale() {
        assert_eq!(nines(0.0), 0.0);
        assert!((nines(0.9) - 1.0).abs() < 1e-9);
        assert!((nines(0.999) - 3.0).abs() < 1e-9);
        assert_eq!(nines(1.0), MAX_NINES);
        assert_eq!(nines_label(&2.0), "99%");
    }
}
