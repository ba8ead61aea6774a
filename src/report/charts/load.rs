//! The picture of saturation: what was offered against what was served, second by second,
//! with errors stacked by kind; below it, users active and requests in flight. When the
//! target saturates, the served line flattens under the offered one, errors appear and
//! in-flight requests pile up.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::look::*;
use crate::analysis::Summary;
use crate::metrics::ErrorKind;

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, summary: &Summary) -> Drawn
where
    DB::ErrorType: 'static,
{
    let tl = &summary.timeline;
    let Some((area, time)) = over_seconds(root, "Offered load, served requests and errors per second", tl)? else {
        return Ok(());
    };
    let x = |s: &crate::metrics::Second| time.x(s);
    let unit = time.unit;
    let marker = summary.saturation.as_ref().and_then(|s| s.point.as_ref()).map(|p| p.at_s);
    let (upper, lower) = area.split_vertically((area.dim_in_pixel().1 as f64 * 0.62) as u32);

    let rate_max = headroom(tl.iter().map(|s| s.started.max(s.finished())));
    let arrivals_max = headroom(tl.iter().map(|s| s.arrivals));
    let mut chart = time_counts(
        &upper,
        time,
        Axis { max: rate_max, desc: "requests / s" },
        Axis { max: arrivals_max, desc: "users arriving / s" },
        Place::Upper,
    )?;

    // Errors stacked by kind, largest cumulative band first so each stays visible.
    let kinds: Vec<ErrorKind> =
        ErrorKind::ALL.iter().copied().filter(|k| tl.iter().any(|s| s.errors_of(*k) > 0)).collect();
    for top in (0..kinds.len()).rev() {
        let color = error_color(kinds[top].name());
        let band = tl.iter().map(|s| (x(s), kinds[..=top].iter().map(|k| s.errors_of(*k)).sum::<u64>() as f64));
        chart
            .draw_series(AreaSeries::new(band, 0.0, color.mix(0.45)).border_style(color))?
            .label(format!("errors: {}", kinds[top].name()))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], color.mix(0.6).filled()));
    }
    chart
        .draw_series(LineSeries::new(tl.iter().map(|s| (x(s), s.started as f64)), INK.stroke_width(2)))?
        .label("offered (requests sent)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], INK.stroke_width(2)));
    chart
        .draw_series(LineSeries::new(tl.iter().map(|s| (x(s), s.ok as f64)), LEAF.stroke_width(2)))?
        .label("served successfully")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], LEAF.stroke_width(3)));
    chart
        .draw_secondary_series(DashedLineSeries::new(
            tl.iter().map(|s| (x(s), s.arrivals as f64)),
            5,
            4,
            SKY.stroke_width(1),
        ))?
        .label("users arriving (right axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], SKY.stroke_width(1)));
    if let Some(at) = marker {
        vertical_marker(&mut chart, at / unit, (0.0, rate_max), &format!("saturated {}", mmss(at)), CRIMSON)?;
    }
    legend(&mut chart, 14)?;

    let users_max = headroom(tl.iter().map(|s| s.active_users));
    let flight_max = headroom(tl.iter().map(|s| s.in_flight));
    let mut chart = time_counts(
        &lower,
        time,
        Axis { max: users_max, desc: "users active" },
        Axis { max: flight_max, desc: "requests in flight" },
        Place::Lower,
    )?;
    chart
        .draw_series(
            AreaSeries::new(tl.iter().map(|s| (x(s), s.active_users as f64)), 0.0, SKY.mix(0.15)).border_style(SKY),
        )?
        .label("users active")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], SKY.mix(0.3).filled()));
    chart
        .draw_secondary_series(LineSeries::new(tl.iter().map(|s| (x(s), s.in_flight as f64)), VIOLET.stroke_width(2)))?
        .label("requests in flight (right axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], VIOLET.stroke_width(2)));
    if let Some(at) = marker {
        chart.draw_series(DashedLineSeries::new(
            vec![(at / unit, 0.0), (at / unit, users_max)],
            6,
            4,
            CRIMSON.stroke_width(2),
        ))?;
    }
    legend(&mut chart, 14)?;
    Ok(())
}
