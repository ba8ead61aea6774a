//! Reading a rendered latency chart back, for tests: where its log axis puts a latency (from
//! the tick labels plotters wrote) and where the vertical marks of a colour are, so a test can
//! check that a p95 line sits at the p95 rather than only that the file exists.

use plotters::style::RGBColor;

use crate::format::micros;
use crate::report::histogram::bounds;

/// The hex form plotters writes for a colour (`#FF7F0E`).
pub fn hex(c: RGBColor) -> String {
    format!("#{:02X}{:02X}{:02X}", c.0, c.1, c.2)
}

/// The value of an attribute in an element's opening tag.
fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let at = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    tag[at..].split('"').next()
}

/// Every `<text>` element: (its x, its y, its content trimmed).
pub fn texts(svg: &str) -> Vec<(f64, f64, String)> {
    svg.split("<text")
        .skip(1)
        .filter_map(|rest| {
            let (tag, body) = rest.split_once('>')?;
            let content = body.split("</text>").next()?.trim().to_string();
            Some((attr(tag, "x")?.parse().ok()?, attr(tag, "y")?.parse().ok()?, content))
        })
        .collect()
}

/// The x of the first text whose content is `content`.
pub fn text_x(svg: &str, content: &str) -> Option<f64> {
    texts(svg).into_iter().find(|t| t.2 == content).map(|t| t.0)
}

/// The latency axis as read from its tick labels: (µs, x) of the lowest and highest tick.
pub fn latency_ticks(svg: &str) -> Option<((f64, f64), (f64, f64))> {
    let labels: Vec<(u64, String)> = bounds(1, 600_000_000).into_iter().map(|v| (v, micros(v))).collect();
    let bottom = texts(svg).iter().map(|t| t.1).fold(0.0, f64::max);
    let mut ticks: Vec<(f64, f64)> = texts(svg)
        .into_iter()
        // The tick labels are the lowest text but the axis description.
        .filter(|t| t.1 < bottom && t.1 > bottom - 40.0)
        .filter_map(|(x, _, text)| labels.iter().find(|l| l.1 == text).map(|l| (l.0 as f64, x)))
        .collect();
    ticks.sort_by(|a, b| a.0.total_cmp(&b.0));
    Some((*ticks.first()?, *ticks.last().filter(|t| t.0 > ticks[0].0)?))
}

/// Where the log axis read by [`latency_ticks`] puts `us`.
pub fn x_of(ticks: ((f64, f64), (f64, f64)), us: f64) -> f64 {
    let ((a, xa), (b, xb)) = ticks;
    xa + (xb - xa) * (us / a).log10() / (b / a).log10()
}

/// The x of every vertical line drawn in `color` (a dashed line is many short ones).
pub fn verticals(svg: &str, color: RGBColor) -> Vec<f64> {
    let stroke = format!("stroke=\"{}\"", hex(color));
    let mut xs: Vec<f64> = svg
        .split("<polyline")
        .skip(1)
        .filter_map(|rest| rest.split_once("/>").map(|(tag, _)| tag))
        .filter(|tag| tag.contains(&stroke))
        .filter_map(|tag| {
            let points: Vec<f64> =
                attr(tag, "points")?.split_whitespace().filter_map(|p| p.split(',').next()?.parse().ok()).collect();
            (points.len() == 2 && points[0] == points[1]).then_some(points[0])
        })
        .collect();
    xs.sort_by(f64::total_cmp);
    xs.dedup();
    xs
}
