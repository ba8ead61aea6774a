//! Charts of a run, drawn with plotters once per backend: SVG (inlined in report.html and
//! written to `charts/*.svg`) and PNG (`charts/*.png`, for slides and chat, drawn with the
//! bundled font so the labels exist on any machine). Each chart carries a one-line caption
//! that tells the reader what to look for.

pub mod attempts;
pub mod capacity;
pub mod font;
pub mod histogram;
pub mod load;
pub mod look;
pub mod outcomes;
pub mod over_time;
#[cfg(test)]
pub(crate) mod probe;
pub mod spectrum;

use std::io;
use std::path::PathBuf;

use plotters::prelude::*;

use self::look::{Drawn, SIZE};
use super::rundir::{slug, RunDir};
use crate::analysis::thresholds::{step_ceiling, ThresholdResult};
use crate::analysis::{Saturation, StepSummary, Summary};
use crate::format::micros;

/// The report section a chart belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Load,
    Capacity,
    Latency,
    Spectrum,
    Users,
    Generator,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Kind {
    Load,
    Knee,
    Usl,
    /// Index into `summary.steps`.
    Latency(usize),
    Spectrum(String),
    /// Index into `summary.steps`.
    Histogram(usize),
    Outcomes,
    Attempts,
    Lag,
}

/// One chart of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chart {
    /// File stem under `charts/`.
    pub name: String,
    pub section: Section,
    pub title: String,
    /// What to look for, in one line.
    pub caption: String,
    pub size: (u32, u32),
    kind: Kind,
}

/// Every chart this summary can show, in report order.
pub fn plan(summary: &Summary) -> Vec<Chart> {
    let chart = |name: String, section, title: String, caption: String, kind| Chart {
        name,
        section,
        title,
        caption,
        size: SIZE,
        kind,
    };
    let mut out = vec![Chart {
        size: (SIZE.0, 640),
        ..chart(
            "load".into(),
            Section::Load,
            "Offered load, served requests and errors".into(),
            "Look for the moment the green line (served) flattens below the black one (offered): from then on extra \
             users only wait or fail. Errors are stacked by kind; below, requests pile up in flight."
                .into(),
            Kind::Load,
        )
    }];
    if let Some(s) = &summary.saturation {
        out.push(chart(
            "knee".into(),
            Section::Capacity,
            "Served against offered load".into(),
            "While the target keeps up, the dots sit on the diagonal; the knee is where more offered load stopped \
             buying more served requests."
                .into(),
            Kind::Knee,
        ));
        // A fit on a handful of points is only noise drawn as a curve: the table says why.
        if let Some(fit) = s.usl.as_ref().filter(|f| f.points >= crate::analysis::usl::MIN_POINTS) {
            let trust = if fit.trustworthy {
                "the fit describes the data well".to_string()
            } else {
                format!("treat it with caution: {}", fit.notes.join("; "))
            };
            out.push(chart(
                "usl".into(),
                Section::Capacity,
                "Throughput against concurrency (USL)".into(),
                format!(
                    "The Universal Scalability Law fitted to the measured points; N* is the concurrency of peak \
                     throughput. Here {trust}."
                ),
                Kind::Usl,
            ));
        }
    }
    let slo = summary.saturation.as_ref().map(|s| s.slo_p95_us);
    for (i, step) in summary.steps.iter().enumerate() {
        out.push(chart(
            format!("latency-{}-{}", slug(&step.persona), slug(&step.name)),
            Section::Latency,
            format!("{} / {}{}", step.persona, step.name, if step.goal { " (goal)" } else { "" }),
            format!(
                "Latency from each request's intended start, second by second. Look for p95 and p99 lifting off as \
                 load rises{}.",
                slo.map(|us| format!("; the green line is the p95 objective ({})", micros(us))).unwrap_or_default()
            ),
            Kind::Latency(i),
        ));
    }
    let mut personas: Vec<&str> = summary.steps.iter().map(|s| s.persona.as_str()).collect();
    personas.dedup();
    for persona in personas {
        out.push(chart(
            format!("spectrum-{}", slug(persona)),
            Section::Spectrum,
            format!("Latency by percentile: {persona}"),
            "Read left to right: the latency under which 50%, 90%, 99%… of requests finished. A line that shoots up \
             on the right is a tail of users who waited far longer than the rest."
                .into(),
            Kind::Spectrum(persona.to_string()),
        ));
        // Each of the persona's steps as a histogram, after the spectrum that compares them.
        for (i, step) in summary.steps.iter().enumerate().filter(|(_, s)| s.persona == persona) {
            out.push(histogram_chart(summary, i, step));
        }
    }
    out.push(chart(
        "goal".into(),
        Section::Users,
        "Time from arrival to goal".into(),
        "The share of arrived users who had reached their goal that long after arriving; where a curve ends below \
         100%, the rest never got there."
            .into(),
        Kind::Outcomes,
    ));
    let extra_attempts = summary.timeline.iter().any(|s| s.attempts.iter().skip(1).any(|n| *n > 0));
    if extra_attempts {
        out.push(chart(
            "attempts".into(),
            Section::Users,
            "Requests by cause, and goals reached".into(),
            "Every request the target received, by why it was sent: first attempts, then app retries, reloads, \
             re-logins and waiting-room polls on top. Where the bands above the grey grow while the green goals line \
             does not, the extra load is buying nothing."
                .into(),
            Kind::Attempts,
        ));
    }
    out.push(chart(
        "lag".into(),
        Section::Generator,
        "Generator lag".into(),
        format!(
            "The load generator's own delay in starting users and requests. Flat and under the {} limit means it kept \
             up, so the other charts show the target, not the generator.",
            micros(summary.generator.lag_p99_limit_us)
        ),
        Kind::Lag,
    ));
    out
}

fn histogram_chart(summary: &Summary, i: usize, step: &StepSummary) -> Chart {
    let ceiling = step_ceiling(summary, &step.persona, &step.name)
        .map(|t| format!(", the green line the tightest latency threshold on it, `{}`", t.name))
        .unwrap_or_default();
    Chart {
        name: format!("histogram-{}-{}", slug(&step.persona), slug(&step.name)),
        section: Section::Spectrum,
        title: format!("{} / {}: how long requests took", step.persona, step.name),
        caption: format!(
            "Requests by latency from the intended start, in buckets of equal width on the log axis. Dashed lines \
             are p50, p95 and p99{ceiling}. Two humps are two populations: a cache hit and a miss, a queue and no \
             queue."
        ),
        size: SIZE,
        kind: Kind::Histogram(i),
    }
}

fn draw<DB: DrawingBackend>(chart: &Chart, summary: &Summary, root: &DrawingArea<DB, plotters::coord::Shift>) -> Drawn
where
    DB::ErrorType: 'static,
{
    let saturation = || summary.saturation.as_ref().ok_or("no saturation analysis");
    match &chart.kind {
        Kind::Load => load::draw(root, summary),
        Kind::Knee => capacity::draw_knee(root, summary, saturation()?),
        Kind::Usl => capacity::draw_usl(root, summary, saturation()?),
        Kind::Latency(i) => {
            let slo = summary.saturation.as_ref().map(|s: &Saturation| over_time::Reference {
                value_us: s.slo_p95_us,
                label: format!("p95 objective {}", micros(s.slo_p95_us)),
            });
            let pick = |sec: usize| summary.timeline[sec].steps.get(*i).map(|s| s.latency).unwrap_or_default();
            over_time::draw(root, &chart.title, summary, &pick, slo)
        }
        Kind::Spectrum(persona) => {
            let steps: Vec<_> = summary.steps.iter().filter(|s| &s.persona == persona).collect();
            spectrum::draw(root, persona, &steps)
        }
        Kind::Histogram(i) => {
            let step = summary.steps.get(*i).ok_or("no such step")?;
            histogram::draw(root, &chart.title, step, step_ceiling(summary, &step.persona, &step.name))
        }
        Kind::Outcomes => outcomes::draw(root, &summary.personas),
        Kind::Attempts => attempts::draw(root, summary),
        Kind::Lag => {
            let limit = over_time::Reference {
                value_us: summary.generator.lag_p99_limit_us,
                label: format!("p99 limit {}", micros(summary.generator.lag_p99_limit_us)),
            };
            let pick = |sec: usize| summary.timeline[sec].lag;
            over_time::draw(root, "Generator lag (actual − intended start)", summary, &pick, Some(limit))
        }
    }
}

/// An SVG document of `size` drawn by `draw`; `name` says which chart failed.
fn render_svg(
    size: (u32, u32),
    name: &str,
    draw: impl FnOnce(&DrawingArea<SVGBackend, plotters::coord::Shift>) -> Drawn,
) -> io::Result<String> {
    // plotters measures text with the font even for SVG (to place labels and legends).
    if !font::ensure_registered() {
        return Err(io::Error::other("the bundled chart font could not be loaded"));
    }
    let mut out = String::new();
    {
        let root = SVGBackend::with_string(&mut out, size).into_drawing_area();
        draw(&root).map_err(|e| io::Error::other(format!("chart {name}: {e}")))?;
        root.present().map_err(|e| io::Error::other(format!("chart {name}: {e}")))?;
    }
    Ok(out)
}

/// The chart as an SVG document.
pub fn svg(chart: &Chart, summary: &Summary) -> io::Result<String> {
    render_svg(chart.size, &chart.name, |root| draw(chart, summary, root))
}

/// Several runs' histograms of one step overlaid, as an SVG document (for `compare`): `runs`
/// are (label, the run's step), `ceiling` the baseline's threshold on the step.
pub fn overlay_svg(
    title: &str,
    runs: &[(&str, &StepSummary)],
    ceiling: Option<&ThresholdResult>,
) -> io::Result<String> {
    render_svg(SIZE, title, |root| histogram::draw_overlay(root, title, runs, ceiling))
}

/// The chart as RGB pixels (`size.0 × size.1 × 3` bytes), drawn with the bundled font.
pub fn rgb(chart: &Chart, summary: &Summary) -> io::Result<Vec<u8>> {
    if !font::ensure_registered() {
        return Err(io::Error::other("the bundled chart font could not be loaded"));
    }
    let (w, h) = chart.size;
    let mut buf = vec![255u8; (w * h * 3) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut buf, chart.size).into_drawing_area();
        draw(chart, summary, &root).map_err(|e| io::Error::other(format!("chart {}: {e}", chart.name)))?;
        root.present().map_err(|e| io::Error::other(format!("chart {}: {e}", chart.name)))?;
    }
    Ok(buf)
}

/// Encode RGB pixels as a PNG file at `path` (through a temporary file, so a reader never
/// sees half a PNG). plotters' bitmap backend does the encoding.
fn write_png(dir: &RunDir, name: &str, size: (u32, u32), pixels: &[u8]) -> io::Result<PathBuf> {
    let path = dir.file(name);
    // The encoder picks the format from the extension: the temporary name must end in .png.
    let tmp = dir.file(&format!(".{name}.tmp.png"));
    {
        let mut backend = BitMapBackend::new(&tmp, size);
        let io_err = |e| io::Error::other(format!("{}: {e:?}", tmp.display()));
        backend.blit_bitmap((0, 0), size, pixels).map_err(io_err)?;
        backend.present().map_err(io_err)?;
    }
    std::fs::rename(&tmp, &path).map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
    Ok(path)
}

/// A chart rendered for the HTML page.
pub struct Rendered {
    pub chart: Chart,
    pub svg: String,
}

/// Render every chart, write `charts/<name>.svg` and `.png` into the run directory, and return
/// the SVGs for the HTML page along with the files written. A chart that fails to draw is
/// reported in the error rather than silently missing.
pub fn write_all(summary: &Summary, dir: &RunDir) -> io::Result<(Vec<Rendered>, Vec<PathBuf>)> {
    let charts_dir = dir.file("charts");
    std::fs::create_dir_all(&charts_dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", charts_dir.display())))?;
    let charts_dir = RunDir::existing(&charts_dir);
    let mut rendered = Vec::new();
    let mut files = Vec::new();
    for chart in plan(summary) {
        let svg = svg(&chart, summary)?;
        files.push(charts_dir.write(&format!("{}.svg", chart.name), svg.as_bytes())?);
        let pixels = rgb(&chart, summary)?;
        files.push(write_png(&charts_dir, &format!("{}.png", chart.name), chart.size, &pixels)?);
        rendered.push(Rendered { chart, svg });
    }
    Ok((rendered, files))
}
