//! Did users get what they came for, and how long did it take? The share of each persona's
//! arrived users who had reached their goal N after arriving. The curves end below 100% when
//! some users never got there: that gap is the cost of the morning.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::look::*;
use crate::analysis::{decode_histogram, PersonaSummary, GOAL_WINDOWS};

/// (seconds after arrival, share of arrived users at the goal by then), as a step curve.
pub fn cdf(persona: &PersonaSummary) -> Vec<(f64, f64)> {
    let Some(h) = decode_histogram(&persona.time_to_goal.histogram).filter(|h| !h.is_empty()) else {
        return Vec::new();
    };
    if persona.arrived == 0 {
        return Vec::new();
    }
    let mut reached = 0u64;
    let mut pts = vec![(0.0, 0.0)];
    for v in h.iter_recorded() {
        let t = h.highest_equivalent(v.value_iterated_to()) as f64 / 1e6;
        pts.push((t, reached as f64 / persona.arrived as f64));
        reached += v.count_since_last_iteration();
        pts.push((t, (reached as f64 / persona.arrived as f64).min(1.0)));
    }
    pts
}

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, personas: &[PersonaSummary]) -> Drawn
where
    DB::ErrorType: 'static,
{
    let area = frame(root, "Users who reached their goal, by time since arriving")?;
    let curves: Vec<(&PersonaSummary, Vec<(f64, f64)>)> =
        personas.iter().map(|p| (p, cdf(p))).filter(|(_, c)| !c.is_empty()).collect();
    if curves.is_empty() {
        return nothing(&area, "no user reached a goal in this run");
    }
    let longest = curves.iter().flat_map(|(_, c)| c.iter().map(|p| p.0)).fold(1.0, f64::max);
    let end = longest * 1.05;
    let mut chart = ChartBuilder::on(&area)
        .margin(12)
        .x_label_area_size(36)
        .y_label_area_size(70)
        .build_cartesian_2d(0f64..end, 0f64..1.0)?;
    chart
        .configure_mesh()
        .light_line_style(GRID.mix(0.4))
        .bold_line_style(GRID)
        .x_desc("time from arrival to goal (m:ss)")
        .y_desc("share of arrived users")
        .x_label_formatter(&|t| mmss(*t))
        .y_label_formatter(&|y| format!("{:.0}%", y * 100.0))
        .label_style(font(15))
        .axis_desc_style(font(16))
        .draw()?;
    for (label, window) in GOAL_WINDOWS.iter() {
        let x = window.as_secs_f64();
        if x <= end {
            chart.draw_series(DashedLineSeries::new(vec![(x, 0.0), (x, 1.0)], 4, 4, SLATE.stroke_width(1)))?;
            chart.draw_series(std::iter::once(Text::new(format!(" {label}"), (x, 0.08), font(15).color(&SLATE))))?;
        }
    }
    for (i, (persona, curve)) in curves.into_iter().enumerate() {
        let color = PALETTE[i % PALETTE.len()];
        let reached = curve.last().map(|p| p.1).unwrap_or(0.0);
        chart
            .draw_series(LineSeries::new(curve, color.stroke_width(2)))?
            .label(format!("{} ({:.0}% reached it)", persona.name, reached * 100.0))
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], color.stroke_width(3)));
    }
    legend_at(&mut chart, SeriesLabelPosition::LowerRight, 15)?;
    Ok(())
}
