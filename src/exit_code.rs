//! Documented exit codes. Scripts and CI pipelines branch on these, so they never change
//! meaning.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | the run completed (and every threshold, once thresholds exist, passed) |
//! | 1    | thresholds failed |
//! | 2    | invalid scenario or command line |
//! | 3    | run invalid: the generator could not keep to its schedule |
//! | 4    | target unreachable: no request could connect |
//! | 5    | other error (I/O, the embedded target could not start, …) |
//! | 130  | interrupted (Ctrl-C); the partial report was still written |

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Success = 0,
    ThresholdsFailed = 1,
    Invalid = 2,
    GeneratorBottleneck = 3,
    TargetUnreachable = 4,
    Error = 5,
    Interrupted = 130,
}

impl ExitCode {
    pub fn code(self) -> i32 {
        self as i32
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> Self {
        std::process::ExitCode::from(code as u8)
    }
}
