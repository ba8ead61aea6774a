//! The thresholds section of the terminal summary: each rule, what was measured, pass or
//! fail, and the verdict in one line.

use std::io::{self, Write};

use super::style::Style;
use crate::analysis::Summary;

pub fn render(summary: &Summary, style: &Style, out: &mut dyn Write) -> io::Result<()> {
    let results = &summary.thresholds;
    if results.is_empty() {
        return Ok(());
    }
    writeln!(out)?;
    writeln!(out, "{}", style.bold("Thresholds"))?;
    let width = results.iter().map(|r| r.name.chars().count()).max().unwrap_or(0);
    for r in results {
        let mark = if r.pass { style.green("pass") } else { style.red("FAIL") };
        let pad = " ".repeat(width - r.name.chars().count());
        writeln!(out, "  {mark}  {}{pad}  measured {}", r.name, r.measured_text)?;
    }
    let failed = results.iter().filter(|r| !r.pass).count();
    if failed == 0 {
        writeln!(out, "{}", style.green(&format!("all {} thresholds passed", results.len())))?;
    } else {
        writeln!(out, "{}", style.red(&format!("{failed} of {} thresholds FAILED", results.len())))?;
    }
    if !summary.generator.healthy {
        writeln!(
            out,
            "{}",
            style
                .yellow("(the generator fell behind: these results do not describe the target; see the warning above)")
        )?;
    }
    Ok(())
}
