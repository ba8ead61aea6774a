//! The shared look of every chart: size, palette, axis label formats and the markers (the
//! saturation moment, the knee) that tie the charts to the verdict. One place, so the same
//! thing is drawn the same way on every chart.

use std::error::Error;

use plotters::coord::Shift;
use plotters::prelude::*;

use super::font::FAMILY;
use crate::format::micros;

/// Pixel size of every chart (SVG user units and PNG pixels).
pub const SIZE: (u32, u32) = (1000, 420);

pub type Drawn = Result<(), Box<dyn Error>>;

pub const INK: RGBColor = RGBColor(33, 37, 41);
pub const GRID: RGBColor = RGBColor(222, 226, 230);
pub const SKY: RGBColor = RGBColor(31, 119, 180);
pub const AMBER: RGBColor = RGBColor(255, 127, 14);
pub const CRIMSON: RGBColor = RGBColor(214, 39, 40);
pub const LEAF: RGBColor = RGBColor(44, 160, 44);
pub const VIOLET: RGBColor = RGBColor(148, 103, 189);
pub const SLATE: RGBColor = RGBColor(127, 127, 127);

/// Distinct colours for series drawn side by side (steps, personas, runs).
pub const PALETTE: [RGBColor; 8] =
    [SKY, AMBER, LEAF, CRIMSON, VIOLET, RGBColor(140, 86, 75), RGBColor(227, 119, 194), RGBColor(23, 190, 207)];

/// One colour per error kind, stable across runs so reports compare at a glance.
pub fn error_color(kind: &str) -> RGBColor {
    match kind {
        "http_5xx" => CRIMSON,
        "timeout" => AMBER,
        "connect" => VIOLET,
        "reset" => RGBColor(140, 86, 75),
        "http_4xx" => RGBColor(227, 119, 194),
        _ => SLATE,
    }
}

pub fn font(size: u32) -> TextStyle<'static> {
    (FAMILY, size).into_font().color(&INK)
}

/// Seconds per unit of a time axis: runs longer than two minutes are drawn in minutes so
/// plotters picks round ticks (0:30, 1:00, …, not 0:50); shorter ones in seconds.
pub fn time_unit(end_s: f64) -> f64 {
    if end_s > 120.0 {
        60.0
    } else {
        1.0
    }
}

/// The time axis of a chart over the run's seconds: the unit it is drawn in (see
/// [`time_unit`]) and where it ends, in that unit.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeAxis {
    pub unit: f64,
    pub end: f64,
}

impl TimeAxis {
    pub fn of(timeline: &[crate::metrics::Second]) -> Self {
        let last = timeline.last().map(|s| s.t as f64).unwrap_or(0.0);
        let unit = time_unit(last);
        TimeAxis { unit, end: (last / unit).max(1.0 / unit) }
    }

    /// Where second `s` sits on the axis.
    pub fn x(&self, s: &crate::metrics::Second) -> f64 {
        s.t as f64 / self.unit
    }
}

/// The top of a count axis: a tenth above the largest value, and never 0.
pub fn headroom(values: impl Iterator<Item = u64>) -> f64 {
    values.max().unwrap_or(0).max(1) as f64 * 1.1
}

/// An axis count label: whole numbers without decimals, small fractions with one.
pub fn count_label(v: &f64) -> String {
    if (v - v.round()).abs() < 1e-9 || v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// `1:30` (minutes:seconds since the start of the run).
pub fn mmss(t: f64) -> String {
    let s = t.max(0.0).round() as u64;
    format!("{}:{:02}", s / 60, s % 60)
}

pub fn latency_label(us: &f64) -> String {
    micros(us.max(0.0).round() as u64)
}

/// A latency axis range (µs) covering `values`, padded, for a log scale.
pub fn latency_range(values: impl Iterator<Item = u64>) -> std::ops::Range<f64> {
    let (lo, hi) = values.filter(|v| *v > 0).fold((u64::MAX, 0), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if hi == 0 {
        return 100.0..1_000_000.0;
    }
    let lo = (lo as f64 / 2.0).max(1.0);
    let hi = (hi as f64 * 2.0).max(lo * 10.0);
    lo..hi
}

/// White background and a title line; returns the area left for the plot.
pub fn frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
) -> Result<DrawingArea<DB, Shift>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    root.fill(&WHITE)?;
    Ok(root.titled(title, font(22))?)
}

/// A chart's frame and its time axis.
pub type Framed<DB> = (DrawingArea<DB, Shift>, TimeAxis);

/// The frame of a chart over the run's seconds and its time axis, or `None` once the frame
/// says the run has no timeline.
pub fn over_seconds<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    timeline: &[crate::metrics::Second],
) -> Result<Option<Framed<DB>>, Box<dyn Error>>
where
    DB::ErrorType: 'static,
{
    let area = frame(root, title)?;
    if timeline.is_empty() {
        nothing(&area, "the run has no timeline")?;
        return Ok(None);
    }
    Ok(Some((area, TimeAxis::of(timeline))))
}

/// A message in the middle of an empty chart ("no requests finished").
pub fn nothing<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, message: &str) -> Drawn
where
    DB::ErrorType: 'static,
{
    let (w, h) = area.dim_in_pixel();
    area.draw(&Text::new(message.to_string(), (w as i32 / 2 - 160, h as i32 / 2), font(16).color(&SLATE)))?;
    Ok(())
}

/// A dashed vertical line labelled at its top, e.g. the saturation moment.
pub fn vertical_marker<DB, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<plotters::coord::types::RangedCoordf64, Y>>,
    x: f64,
    (y0, y1): (Y::ValueType, Y::ValueType),
    label: &str,
    color: RGBColor,
) -> Drawn
where
    DB: DrawingBackend,
    DB::ErrorType: 'static,
    Y: Ranged,
    Y::ValueType: Clone + 'static,
{
    chart.draw_series(DashedLineSeries::new(vec![(x, y0), (x, y1.clone())], 6, 4, color.stroke_width(2)))?;
    chart.draw_series(std::iter::once(Text::new(format!(" {label}"), (x, y1), font(15).color(&color))))?;
    Ok(())
}

/// The legend every chart uses: in a corner (upper left unless the data lives there), on a
/// light veil over the plot.
pub fn legend<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, size: u32) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    legend_at(chart, SeriesLabelPosition::UpperLeft, size)
}

pub fn legend_at<'a, DB, CT>(chart: &mut ChartContext<'a, DB, CT>, position: SeriesLabelPosition, size: u32) -> Drawn
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
    CT: plotters::coord::CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .background_style(WHITE.mix(0.85))
        .border_style(GRID)
        .label_font(font(size))
        .draw()?;
    Ok(())
}

/// A time chart with a count axis on each side (e.g. requests/s left, users/s right).
pub type TimeCounts<'a, DB> = plotters::chart::DualCoordChartContext<
    'a,
    DB,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
>;

/// One axis of a [`TimeCounts`] chart: its top value and its description.
pub struct Axis<'s> {
    pub max: f64,
    pub desc: &'s str,
}

/// Where a [`TimeCounts`] chart sits.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// On its own: time axis labelled.
    Alone,
    /// The upper panel of a stack: a thin time axis without a description.
    Upper,
    /// The lower panel of a stack: close to the one above, time axis labelled.
    Lower,
}

/// Build a [`TimeCounts`] chart over the run's time axis with its grid and both count axes
/// drawn.
pub fn time_counts<'a, DB>(
    area: &'a DrawingArea<DB, Shift>,
    time: TimeAxis,
    left: Axis,
    right: Axis,
    place: Place,
) -> Result<TimeCounts<'a, DB>, Box<dyn Error>>
where
    DB: DrawingBackend + 'a,
    DB::ErrorType: 'static,
{
    let time_axis = place != Place::Upper;
    let mut builder = ChartBuilder::on(area);
    builder
        .margin(12)
        .x_label_area_size(if time_axis { 36 } else { 24 })
        .y_label_area_size(70)
        .right_y_label_area_size(70);
    if place == Place::Lower {
        builder.margin_top(4);
    }
    let end = time.end;
    let mut chart =
        builder.build_cartesian_2d(0f64..end, 0f64..left.max)?.set_secondary_coord(0f64..end, 0f64..right.max);
    let time_label = |m: &f64| mmss(*m * time.unit);
    let mut mesh = chart.configure_mesh();
    mesh.light_line_style(GRID.mix(0.4))
        .bold_line_style(GRID)
        .y_desc(left.desc)
        .x_label_formatter(&time_label)
        .y_label_formatter(&count_label)
        .label_style(font(15))
        .axis_desc_style(font(16));
    if time_axis {
        mesh.x_desc("time since start (m:ss)");
    }
    mesh.draw()?;
    chart
        .configure_secondary_axes()
        .y_label_formatter(&count_label)
        .y_desc(right.desc)
        .label_style(font(15))
        .axis_desc_style(font(16))
        .draw()?;
    Ok(chart)
}
