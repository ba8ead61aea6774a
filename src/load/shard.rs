//! Splitting one seeded plan across machines (`--shard i/N`).
//!
//! Every shard plans the *whole* schedule from the same seed and keeps its part, so no shard
//! needs to talk to another and the union of the parts is, by construction, the single-machine
//! plan. Parts are dealt round-robin by position in the time-sorted schedule (not by persona or
//! by time range): each shard then sees 1/N of the load at every moment, with the same curve,
//! persona mix and synchronised bursts, which is what makes N small generators behave like one
//! big one.

use std::time::Duration;

use crate::load::Plan;

/// Which part of the run this process plays: shard `index` (0-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

/// The environment variable a Kubernetes Indexed Job sets to the pod's index.
pub const INDEX_ENV: &str = "JOB_COMPLETION_INDEX";

/// The most shards a run may be split into: far more than any cluster runs generators, and
/// few enough that every shard still gets users of a realistic plan.
pub const MAX_SHARDS: u32 = 10_000;

impl Shard {
    /// `--shard I/N` (I counted from 0, as Kubernetes does), or `--shard auto` with the index
    /// from `JOB_COMPLETION_INDEX` (passed in as `index_env`) and the count from `shards`
    /// (`--shards` / `SCHOOLDAY_SHARDS`). The error says what to write instead.
    pub fn parse(text: &str, shards: Option<u32>, index_env: Option<&str>) -> Result<Shard, String> {
        let (index, count) = if text.trim() == "auto" {
            let index = index_env.ok_or_else(|| {
                format!("--shard auto reads the shard index from {INDEX_ENV} (set by a Kubernetes Indexed Job), which is not set; pass --shard I/N instead")
            })?;
            let index = index
                .trim()
                .parse::<u32>()
                .map_err(|_| format!("{INDEX_ENV}={index:?} is not a shard index (0, 1, 2, …)"))?;
            let count =
                shards.ok_or("--shard auto needs the number of shards: pass --shards N or set SCHOOLDAY_SHARDS")?;
            (index, count)
        } else {
            let (i, n) = text
                .split_once('/')
                .ok_or_else(|| format!("--shard {text:?}: expected I/N, e.g. 0/3 (the first of three), or auto"))?;
            let parse = |v: &str, what: &str| {
                v.trim().parse::<u32>().map_err(|_| format!("--shard {text:?}: {what} {v:?} is not a whole number"))
            };
            let (index, count) = (parse(i, "the index")?, parse(n, "the shard count")?);
            if shards.is_some_and(|s| s != count) {
                return Err(format!("--shard {text} says {count} shards but --shards says {}", shards.unwrap_or(0)));
            }
            (index, count)
        };
        if count == 0 || count > MAX_SHARDS {
            return Err(format!("the shard count must be between 1 and {MAX_SHARDS}, not {count}"));
        }
        if index >= count {
            return Err(format!(
                "shard index {index} is out of range for {count} shards: indices run from 0 to {}",
                count - 1
            ));
        }
        Ok(Shard { index, count })
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Plan {
    /// Shard `index` of `count`: the arrivals at positions `index`, `index + count`, … of the
    /// sorted schedule. User indices are kept, so a user is the same user on every shard.
    ///
    /// The shard's [`PersonaPlan`](crate::load::PersonaPlan)s describe the shard: its users,
    /// first and last arrivals, and the peak rate divided by `count` (its share of the offered
    /// load). `count == 0` is treated as 1; an `index >= count` gets no arrivals.
    pub fn shard(&self, index: u32, count: u32) -> Plan {
        let count = count.max(1) as usize;
        let index = index as usize;
        let arrivals: Vec<_> =
            if index < count { self.arrivals.iter().skip(index).step_by(count).copied().collect() } else { Vec::new() };
        let mut personas = self.personas.clone();
        for p in &mut personas {
            p.users = 0;
            p.first_arrival = None;
            p.last_arrival = None;
            p.peak_rate /= count as f64;
        }
        for a in &arrivals {
            if let Some(p) = personas.get_mut(a.persona as usize) {
                p.users += 1;
                p.first_arrival.get_or_insert(a.offset());
                p.last_arrival = Some(a.offset());
            }
        }
        Plan { arrivals, personas }
    }

    /// When the last arrival is due (zero for an empty plan).
    pub fn last_offset(&self) -> Duration {
        self.arrivals.last().map_or(Duration::ZERO, |a| a.offset())
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use crate::load::tests::{persona, scenario};
    use crate::load::{plan, Plan};
    use crate::scenario::{Shape, Spacing};

    fn mixed_plan(seed: u64) -> Plan {
        let s = |x: u64| std::time::Duration::from_secs(x);
        plan(&scenario(
            seed,
            60,
            vec![
                persona(
                    "pupil",
                    Some(500),
                    Shape::Peak { at: s(30), spread: s(8), from: s(0), to: s(60) },
                    Spacing::Poisson,
                ),
                persona("parent", None, Shape::Constant { rate: 5.0, from: s(0), to: s(60) }, Spacing::Poisson),
                persona("exam", Some(200), Shape::Burst { at: s(40), spread: s(0), decay: None }, Spacing::Even),
            ],
        ))
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn shards_union_is_the_whole_plan(seed in 0u64..1000, count in 1u32..12) {
            let whole = mixed_plan(seed);
            let shards: Vec<Plan> = (0..count).map(|i| whole.shard(i, count)).collect();
            let mut union: Vec<_> = shards.iter().flat_map(|s| s.arrivals.iter().copied()).collect();
            union.sort_unstable();
            prop_assert_eq!(&union, &whole.arrivals);
            for (i, shard) in shards.iter().enumerate() {
                // Balanced to within one arrival, sorted, and self-consistent.
                let n = whole.arrivals.len();
                let expected = n / count as usize + usize::from(i < n % count as usize);
                prop_assert_eq!(shard.arrivals.len(), expected);
                prop_assert!(shard.arrivals.windows(2).all(|w| w[0] <= w[1]));
                let users: u64 = shard.personas.iter().map(|p| p.users).sum();
                prop_assert_eq!(users, shard.arrivals.len() as u64);
            }
            let users: u64 = shards.iter().flat_map(|s| &s.personas).map(|p| p.users).sum();
            prop_assert_eq!(users, whole.arrivals.len() as u64);
        }
    }

    /// A random persona: any shape, with or without a population, either spacing, sometimes
    /// staggered in waves, sometimes blocked for a window.
    fn any_persona() -> impl Strategy<Value = crate::scenario::Persona> {
        let s = |x: u64| std::time::Duration::from_millis(x);
        let shape = prop_oneof![
            (1u64..20).prop_map(move |r| Shape::Constant { rate: r as f64, from: s(0), to: s(20_000) }),
            (0u64..20_000, 100u64..5_000).prop_map(move |(at, spread)| Shape::Peak {
                at: s(at),
                spread: s(spread),
                from: s(0),
                to: s(20_000)
            }),
            (0u64..20_000, 0u64..3_000).prop_map(move |(at, spread)| Shape::Burst {
                at: s(at),
                spread: s(spread),
                decay: None
            }),
            (0u64..10, 1u64..30).prop_map(move |(a, b)| Shape::Ramp {
                from_rate: a as f64,
                to_rate: b as f64,
                from: s(0),
                to: s(20_000)
            }),
        ];
        let spacing = prop_oneof![Just(Spacing::Poisson), Just(Spacing::Even)];
        let stagger = proptest::option::of((2u32..5, 100u64..2_000));
        let blocked = proptest::option::of((0u64..15_000, 1u64..5_000));
        (shape, proptest::option::of(0u64..400), spacing, stagger, blocked).prop_map(
            move |(shape, population, spacing, stagger, blocked)| {
                let mut p = persona("p", population.filter(|n| *n > 0), shape, spacing);
                p.arrival.stagger = stagger.map(|(waves, gap)| crate::scenario::Stagger { waves, gap: s(gap) });
                p.blocked = blocked.map(|(from, len)| (s(from), s(from + len))).into_iter().collect();
                p
            },
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// For random scenarios (shapes, populations, stagger, blocked windows) and any N, the
        /// shards partition the single-process schedule exactly: every arrival — its time, its
        /// persona, its user index (and so its identity and CSV row) — on exactly one shard.
        #[test]
        fn shards_of_random_scenarios_partition_the_whole_schedule(
            personas in proptest::collection::vec(any_persona(), 1..4),
            seed in 0u64..10_000,
            count in 1u32..9,
        ) {
            let whole = plan(&scenario(seed, 20, personas));
            let mut union: Vec<_> = (0..count).flat_map(|i| whole.shard(i, count).arrivals).collect();
            union.sort_unstable();
            prop_assert_eq!(&union, &whole.arrivals);
            let mut users: Vec<(u16, u32)> = union.iter().map(|a| (a.persona, a.user)).collect();
            users.sort_unstable();
            users.dedup();
            prop_assert_eq!(users.len(), whole.arrivals.len(), "no user on two shards");
        }
    }

    #[test]
    fn shard_specs_parse_or_say_what_to_write() {
        use super::Shard;
        assert_eq!(Shard::parse("1/3", None, None), Ok(Shard { index: 1, count: 3 }));
        assert_eq!(Shard::parse("auto", Some(50), Some("49")), Ok(Shard { index: 49, count: 50 }));
        assert!(Shard::parse("3/3", None, None).unwrap_err().contains("from 0 to 2"));
        assert!(Shard::parse("0/0", None, None).unwrap_err().contains("between 1 and"));
        assert!(Shard::parse("2", None, None).unwrap_err().contains("expected I/N"));
        assert!(Shard::parse("a/3", None, None).unwrap_err().contains("not a whole number"));
        assert!(Shard::parse("auto", Some(3), None).unwrap_err().contains("JOB_COMPLETION_INDEX"));
        assert!(Shard::parse("auto", None, Some("0")).unwrap_err().contains("--shards N"));
        assert!(Shard::parse("auto", Some(3), Some("x")).unwrap_err().contains("not a shard index"));
        assert!(Shard::parse("0/3", Some(4), None).unwrap_err().contains("--shards says 4"));
    }

    #[test]
    fn out_of_range_shards_are_empty_and_count_zero_is_whole() {
        let whole = mixed_plan(1);
        assert!(whole.shard(3, 3).arrivals.is_empty());
        assert_eq!(whole.shard(0, 0), whole);
        assert_eq!(whole.shard(0, 1), whole);
    }

    #[test]
    fn shards_share_the_shape() {
        let whole = mixed_plan(2);
        let half = whole.shard(1, 2);
        assert_eq!(half.personas[0].peak_rate * 2.0, whole.personas[0].peak_rate);
        // The synchronised exam start is split, not moved: half the takers, same nanosecond.
        let exam: Vec<_> = half.arrivals.iter().filter(|a| a.persona == 2).collect();
        assert_eq!(exam.len(), 100);
        assert!(exam.iter().all(|a| a.offset_ns == 40_000_000_000));
    }
}
