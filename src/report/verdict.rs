//! The verdict block for the terminal: the same plain-language sentences as the top of
//! report.html, coloured by outcome. Kept apart from `terminal.rs` so the end-of-run summary
//! can print it with one call.

use std::io::{self, Write};

use super::style::Style;
use crate::analysis::verdict::Status;
use crate::analysis::Summary;

/// Print the saturation verdict (nothing when the summary has no analysis).
pub fn render(summary: &Summary, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let Some(s) = &summary.saturation else {
        return Ok(());
    };
    let v = &s.verdict;
    let label = match v.status {
        Status::Saturated => style.red("SATURATED"),
        Status::Held => style.green("HELD"),
        Status::NoData => style.yellow("NO DATA"),
        Status::Unreachable => style.red("UNREACHABLE"),
        Status::Outage => style.red("OUTAGE"),
    };
    writeln!(out)?;
    writeln!(out, "{} {}", style.bold("Verdict ·"), label)?;
    writeln!(out, "{}", style.bold(&v.headline))?;
    for d in &v.details {
        writeln!(out, "  · {d}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analysis::fixture;

    #[test]
    fn prints_the_headline_and_details() {
        let mut s = fixture::saturating();
        let mut out = Vec::new();
        render(&s, &Style::plain(), &mut out).unwrap();
        assert!(out.is_empty());
        s.saturation = Some(crate::analysis::analyze(&s, &Default::default()));
        render(&s, &Style::plain(), &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(text.contains("Verdict · SATURATED") && text.contains("broke first"), "{text}");
    }
}
