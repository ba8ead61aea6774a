//! Documented exit codes. Scripts and CI pipelines branch on these, so they never change
//! meaning.
//!
//! | code | meaning |
//! |------|---------|
//! | 0    | the run completed, the generator kept up, and every threshold passed |
//! | 1    | thresholds failed |
//! | 2    | invalid scenario, command line or saved run (`report`, `compare`) |
//! | 3    | run invalid: the generator could not keep to its schedule |
//! | 4    | target unreachable: no request could connect |
//! | 5    | other error (I/O, the embedded target could not start, …) |
//! | 7    | a shard reached its start barrier (`--start-at`) later than the tolerance, and did not run |
//! | 130  | interrupted (Ctrl-C); the partial report was still written |
//!
//! When several apply, the first in this order wins: 130, 4, 3, 1. A run that was
//! interrupted, could not reach its target, or whose generator fell behind does not measure
//! the target, so whether its thresholds passed says nothing; the code names the reason the
//! run does not count, and the report still shows every threshold. In particular a failed
//! threshold on a run with a lagging generator is 3, not 1: fix the rig, then read the
//! thresholds.
//!
//! `schoolday capacity` uses 0 (the claim holds), 1 (the claim fails), 6 (inconclusive: the
//! evidence neither confirms nor refutes it), and 2, 3, 4, 5, 130 as above.
//!
//! `schoolday merge` exits as one process would have on the merged data (0, 1, 3, 4, 130),
//! and 2 when the shard directories are not the shards of one run (or one is missing).

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Success = 0,
    ThresholdsFailed = 1,
    Invalid = 2,
    GeneratorBottleneck = 3,
    TargetUnreachable = 4,
    Error = 5,
    /// `schoolday capacity`: the verdict on the claim is inconclusive.
    Inconclusive = 6,
    /// A shard reached its start barrier too late to run in step with the others.
    LateStart = 7,
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
