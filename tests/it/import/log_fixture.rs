//! A seeded Monday morning in Combined Log Format, with the truth it was made from.
//!
//! 07:00–09:00 (+02:00): sessions start along the 8:00 wave (85% Gaussian around 07:55, σ 12
//! min, 15% spread evenly), each from its own client (address + user agent), logging in and
//! then reading 1–5 pages with pauses of 2 s to 3 min (always shorter than the importer's 30
//! min session gap). Every page pulls a script and a stylesheet in the same second, and about
//! 1 line in 200 is garbage. One pupil in five is a parent (`parent.N` in the user field).
//! Same seed, same log; the truth (sessions, the peak minute and its count) is counted from
//! the generated session starts, not from the log.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, Duration, FixedOffset, TimeZone as _};

pub struct Truth {
    pub sessions: u64,
    pub parent_sessions: u64,
    pub peak_clock: String,
    pub peak_count: u64,
    pub assets: u64,
    pub garbage: u64,
}

/// xorshift64*: a fixed, dependency-free generator, so the fixture never changes under us.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn gaussian(&mut self) -> f64 {
        let (u, v) = (self.unit().max(1e-12), self.unit());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

const PAGES: [&str; 5] = ["/agenda", "/homework", "/files/{}", "/messages", "/grades"];
const AGENTS: [&str; 4] = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/89.0",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 14_4 like Mac OS X) Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:86.0) Firefox/86.0",
    "Mozilla/5.0 (Linux; Android 10) Chrome/89.0 Mobile",
];

pub fn monday(seed: u64, sessions: usize) -> (String, Truth) {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let offset = FixedOffset::east_opt(2 * 3600).unwrap();
    let start: DateTime<FixedOffset> = offset.with_ymd_and_hms(2020, 9, 7, 7, 0, 0).unwrap();
    let mut lines: Vec<(DateTime<FixedOffset>, String)> = Vec::new();
    let mut starts: BTreeMap<i64, u64> = BTreeMap::new();
    let (mut parents, mut assets) = (0, 0);
    for s in 0..sessions {
        let minute = if rng.unit() < 0.85 { 55.0 + 12.0 * rng.gaussian() } else { 120.0 * rng.unit() };
        if !(0.0..120.0).contains(&minute) {
            continue;
        }
        let mut t = start + Duration::milliseconds((minute * 60_000.0) as i64);
        *starts.entry(t.timestamp().div_euclid(60)).or_default() += 1;
        let parent = rng.below(5) == 0;
        parents += u64::from(parent);
        let user = if parent { format!("parent.{s}") } else { format!("eleve.{s}") };
        let address = format!("10.{}.{}.{}", s / 65536 % 256, s / 256 % 256, s % 256);
        let agent = AGENTS[rng.below(AGENTS.len() as u64) as usize];
        let mut log = |t: DateTime<FixedOffset>, method: &str, path: &str, status: u16| {
            let stamp = t.format("%d/%b/%Y:%H:%M:%S %z");
            let line = format!(r#"{address} - {user} [{stamp}] "{method} {path} HTTP/1.1" {status} 512 "-" "{agent}""#);
            lines.push((t, line));
        };
        log(t, "POST", "/login", 200);
        for _ in 0..=rng.below(5) {
            t += Duration::milliseconds(2_000 + rng.below(178_000) as i64);
            let page =
                PAGES[rng.below(PAGES.len() as u64) as usize].replace("{}", &(8000 + rng.below(900)).to_string());
            log(t, "GET", &page, 200);
            log(t, "GET", "/static/app.js?v=3", 200);
            log(t, "GET", "/static/app.css", 304);
            assets += 2;
        }
    }
    lines.sort_by_key(|(t, _)| *t);
    let mut text = String::new();
    let mut garbage = 0;
    for (i, (_, line)) in lines.iter().enumerate() {
        if i % 200 == 199 {
            let _ = writeln!(text, "\\x16\\x03\\x01 garbled TLS on the plain port");
            garbage += 1;
        }
        let _ = writeln!(text, "{line}");
    }
    let (peak_minute, peak_count) =
        starts.iter().fold((0, 0), |best, (m, n)| if *n > best.1 { (*m, *n) } else { best });
    let peak_clock = offset.timestamp_opt(peak_minute * 60, 0).unwrap().format("%H:%M").to_string();
    let total = starts.values().sum();
    (text, Truth { sessions: total, parent_sessions: parents, peak_clock, peak_count, assets, garbage })
}

pub fn gzip(text: &str) -> Vec<u8> {
    use std::io::Write as _;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

/// The number written just before the first `marker` in `text`.
pub fn number_before(text: &str, marker: &str) -> Option<u64> {
    let at = text.find(marker)?;
    let digits: String = text[..at].chars().rev().take_while(char::is_ascii_digit).collect();
    digits.chars().rev().collect::<String>().parse().ok()
}

/// The number written just after the first `marker` in `text`.
pub fn number_after(text: &str, marker: &str) -> Option<u64> {
    let at = text.find(marker)? + marker.len();
    text[at..].chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok()
}
