//! The open-files limit: every connection is a file descriptor, in the generator and in the
//! target alike, so a morning of 30,000 users each holding a connection needs more than most
//! systems give a process by default (a soft limit of 1,024 is common, with a hard limit far
//! above it).
//!
//! Like Go's runtime and nginx's `worker_rlimit_nofile`, the process raises its soft limit to
//! the hard limit when it starts: the hard limit is what the administrator allowed, the soft
//! one only a default. Past the hard limit, connecting fails with "Too many open files", and
//! the failure note says what the limit is and what to do instead. (Linux only, where rustix
//! is a dependency; elsewhere the limit stays as the system set it.)

use std::sync::Once;

/// Raise the soft open-files limit to the hard limit (once; quietly when it cannot).
pub fn raise_limit() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        #[cfg(target_os = "linux")]
        {
            use rustix::process::{getrlimit, setrlimit, Resource};
            let mut limit = getrlimit(Resource::Nofile);
            if limit.current < limit.maximum {
                limit.current = limit.maximum;
                // Refused (a sandbox, or an unlimited hard limit the kernel caps): the soft
                // limit stays, and connecting past it is reported as it happens.
                let _ = setrlimit(Resource::Nofile, limit);
            }
        }
    });
}

/// How many files this process may hold open, if known.
pub fn limit() -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        rustix::process::getrlimit(rustix::process::Resource::Nofile).current
    }
    #[cfg(not(target_os = "linux"))]
    None
}

/// What to add to a failure caused by `e`: when it is the open-files limit, what the limit is
/// and what holds fewer files at once.
pub fn hint(e: &std::io::Error) -> String {
    /// EMFILE on Linux and the BSDs.
    const TOO_MANY_OPEN_FILES: i32 = 24;
    if e.raw_os_error() != Some(TOO_MANY_OPEN_FILES) {
        return String::new();
    }
    let limit = limit().map_or_else(|| "its limit of".to_string(), crate::format::count);
    format!(
        " (this process may hold {limit} open files, `ulimit -n`, and each connection is one: raise the hard \
         limit, hold fewer connections with `connections: shared`, or split the run with `--shard`)"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_limit_is_raised_to_the_hard_limit_and_named_when_it_is_reached() {
        raise_limit();
        let hint = hint(&std::io::Error::from_raw_os_error(24));
        assert!(hint.contains("--shard"), "{hint}");
        assert_eq!(super::hint(&std::io::Error::from(std::io::ErrorKind::ConnectionRefused)), "");
        #[cfg(target_os = "linux")]
        {
            let soft = limit().expect("Linux reports its limit");
            let hard = rustix::process::getrlimit(rustix::process::Resource::Nofile).maximum;
            assert_eq!(Some(soft), hard.or(Some(soft)), "the soft limit is the hard one");
            assert!(hint.contains(&crate::format::count(soft)), "{hint}");
        }
    }
}
