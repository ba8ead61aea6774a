//! Decided once: colour, terminal, CI. Passed down to everything that prints.

use std::io::IsTerminal;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    /// Use ANSI colours on stdout.
    pub color: bool,
    /// stderr is an interactive terminal outside CI: draw progress bars. Otherwise progress
    /// is plain periodic lines.
    pub live_progress: bool,
    /// `--quiet`: no progress at all.
    pub quiet: bool,
}

/// When to colour: the core's own choice (the command line's `--color` maps onto it in
/// `cli.rs`, so that clap stays there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl Style {
    pub fn detect(choice: ColorChoice) -> Self {
        let ci = std::env::var_os("CI").is_some_and(|v| !v.is_empty() && v != "false" && v != "0");
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let color = match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => !no_color && std::io::stdout().is_terminal(),
        };
        Style { color, live_progress: !ci && std::io::stderr().is_terminal(), quiet: false }
    }

    pub fn plain() -> Self {
        Style { color: false, live_progress: false, quiet: false }
    }

    pub fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }

    pub fn bold(&self, text: &str) -> String {
        self.paint("1", text)
    }
    pub fn red(&self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn green(&self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn yellow(&self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn dim(&self, text: &str) -> String {
        self.paint("2", text)
    }
}
