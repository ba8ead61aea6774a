//! The font the PNG charts are drawn with, bundled in the binary: a fresh machine (a CI
//! runner, a container) has no system fonts, and plotters' bitmap backend would then draw
//! charts without a single label. DejaVu Sans (Bitstream Vera licence, text beside the file in
//! `assets/fonts/`) covers French accents and the µ of microseconds. SVG charts name the
//! family only; the browser brings its own fonts.

use std::sync::OnceLock;

use plotters::style::FontStyle;

static DEJAVU_SANS: &[u8] = include_bytes!("../../../assets/fonts/DejaVuSans.ttf");

/// The family every chart asks for.
pub const FAMILY: &str = "sans-serif";

/// Register the bundled font under [`FAMILY`] (once per process). Returns false if the font
/// could not be parsed, in which case PNGs are skipped rather than drawn without text.
pub fn ensure_registered() -> bool {
    static REGISTERED: OnceLock<bool> = OnceLock::new();
    *REGISTERED.get_or_init(|| {
        [FontStyle::Normal, FontStyle::Bold]
            .iter()
            .all(|style| plotters::style::register_font(FAMILY, *style, DEJAVU_SANS).is_ok())
    })
}
