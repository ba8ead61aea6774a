//! Requests by cause, second by second, against goals reached: where the extra load of a bad
//! morning comes from. First attempts at the bottom, then app retries, reloads, re-logins and
//! waiting-room polls stacked on top; the goals line shows what all that bought. A storm shows
//! as a wall of re-logins, an immediate-retry policy as a band of retries that never thins.

use plotters::coord::Shift;
use plotters::prelude::*;

use super::look::*;
use crate::analysis::Summary;
use crate::metrics::Cause;

const COLORS: [RGBColor; Cause::COUNT] = [SLATE, CRIMSON, AMBER, VIOLET, SKY];

pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, summary: &Summary) -> Drawn
where
    DB::ErrorType: 'static,
{
    let tl = &summary.timeline;
    let Some((area, time)) = over_seconds(root, "Requests by cause, and goals reached, per second", tl)? else {
        return Ok(());
    };
    let x = |s: &crate::metrics::Second| time.x(s);
    let top = headroom(tl.iter().map(|s| s.attempts.iter().sum::<u64>()));
    let goals_top = headroom(tl.iter().map(|s| s.goals));
    let mut chart = time_counts(
        &area,
        time,
        Axis { max: top, desc: "requests sent / s" },
        Axis { max: goals_top, desc: "goals reached / s" },
        Place::Alone,
    )?;
    let causes: Vec<Cause> =
        Cause::ALL.iter().copied().filter(|c| tl.iter().any(|s| s.attempts[c.index()] > 0)).collect();
    // Cumulative bands drawn from the tallest down, so each stays visible.
    for upto in (0..causes.len()).rev() {
        let color = COLORS[causes[upto].index()];
        let band = tl.iter().map(|s| (x(s), causes[..=upto].iter().map(|c| s.attempts[c.index()]).sum::<u64>() as f64));
        chart
            .draw_series(AreaSeries::new(band, 0.0, pastel(color)).border_style(color))?
            .label(causes[upto].name().replace('_', " "))
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], pastel(color).filled()));
    }
    chart
        .draw_secondary_series(LineSeries::new(tl.iter().map(|s| (x(s), s.goals as f64)), LEAF.stroke_width(2)))?
        .label("goals reached (right axis)")
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], LEAF.stroke_width(3)));
    for r in &summary.recovery {
        vertical_marker(&mut chart, r.at_s / time.unit, (0.0, top), &r.event, INK)?;
    }
    legend(&mut chart, 14)?;
    Ok(())
}

/// An opaque light tint: each lower band is drawn over the ones above it, so a see-through
/// colour would blend with them into a colour that is in no legend.
fn pastel(c: RGBColor) -> RGBColor {
    let tint = |v: u8| v + ((255 - v) as f64 * 0.5) as u8;
    RGBColor(tint(c.0), tint(c.1), tint(c.2))
}
