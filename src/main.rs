//! `schoolday`: parse the command line, run the application, map errors to exit codes.

use clap::Parser;

use schoolday::exit_code::ExitCode;

fn main() -> std::process::ExitCode {
    let cli = schoolday::cli::Cli::parse();
    match schoolday::app::main(cli) {
        Ok(code) => code.into(),
        Err(err) => {
            if is_broken_pipe(&err) {
                return ExitCode::Success.into();
            }
            eprintln!("error: {err}");
            for cause in err.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::Error.into()
        }
    }
}

/// `schoolday validate x.yaml | head` should exit quietly when head closes the pipe.
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain()
        .any(|c| c.downcast_ref::<std::io::Error>().is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe))
}
