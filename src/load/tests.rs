//! Plan-level tests: seeding, persona independence, merging, and the invariants over every
//! shape and spacing. The helpers build scenarios directly from the model (no YAML).

use std::time::Duration;

use proptest::prelude::*;

use super::*;
use crate::scenario::{Arrival, HttpSettings, Journey, Persona, Shape, Spacing, Target, UserSource};

/// A scenario with only what the planner reads filled in meaningfully.
pub(crate) fn scenario(seed: u64, duration_secs: u64, personas: Vec<Persona>) -> Scenario {
    Scenario {
        name: "test".into(),
        description: None,
        source: "test.yaml".into(),
        target: Target::Embedded(Default::default()),
        http: HttpSettings { timeout: Duration::from_secs(10), ..HttpSettings::default() },
        duration: Duration::from_secs(duration_secs),
        grace: Duration::ZERO,
        seed,
        scale: 1.0,
        personas,
        events: vec![],
        gates: Default::default(),
    }
}

pub(crate) fn persona(name: &str, population: Option<u64>, shape: Shape, spacing: Spacing) -> Persona {
    Persona {
        name: name.into(),
        population,
        users: UserSource::Generated,
        arrival: Arrival { shape, spacing, stagger: None },
        journey: Journey { ops: vec![], requests: vec![], vars: vec![], goal: 0 },
        behaviour: Default::default(),
        blocked: vec![],
        closed_loop: false,
    }
}

/// Seconds as a `Duration`, for the shape, curve, rate and schedule tests.
pub(crate) fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// `a` within `tol` of `b`.
pub(crate) fn close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol
}

fn s(x: u64) -> Duration {
    Duration::from_secs(x)
}

fn morning() -> Vec<Persona> {
    vec![
        persona(
            "pupil",
            Some(2000),
            Shape::Peak { at: s(300), spread: s(60), from: s(0), to: s(600) },
            Spacing::Poisson,
        ),
        persona("parent", None, Shape::Ramp { from_rate: 0.0, to_rate: 4.0, from: s(0), to: s(600) }, Spacing::Poisson),
        persona("teacher", Some(100), Shape::Constant { rate: 1.0, from: s(0), to: s(600) }, Spacing::Even),
    ]
}

fn of_persona(plan: &Plan, persona: u16) -> Vec<ScheduledArrival> {
    plan.arrivals.iter().filter(|a| a.persona == persona).copied().collect()
}

#[test]
fn same_seed_same_plan_and_different_seed_different_plan() {
    let a = plan(&scenario(2021, 600, morning()));
    assert_eq!(a, plan(&scenario(2021, 600, morning())));
    let b = plan(&scenario(2022, 600, morning()));
    assert_ne!(of_persona(&a, 0), of_persona(&b, 0), "Poisson population");
    assert_ne!(of_persona(&a, 1), of_persona(&b, 1), "Poisson rate");
    assert_eq!(of_persona(&a, 2), of_persona(&b, 2), "Even spacing does not depend on the seed");
}

#[test]
fn personas_are_independent() {
    let two = plan(&scenario(7, 600, morning()[..2].to_vec()));
    let three = plan(&scenario(7, 600, morning()));
    assert_eq!(of_persona(&two, 0), of_persona(&three, 0));
    assert_eq!(of_persona(&two, 1), of_persona(&three, 1));
    assert_eq!(two.personas[..], three.personas[..2]);
    // Changing one persona's settings leaves the others alone.
    let mut changed = morning();
    changed[0].population = Some(50);
    let changed = plan(&scenario(7, 600, changed));
    assert_eq!(of_persona(&changed, 1), of_persona(&three, 1));
}

#[test]
fn plan_merges_personas_and_summarises_them() {
    let p = plan(&scenario(5, 600, morning()));
    assert!(p
        .arrivals
        .windows(2)
        .all(|w| (w[0].offset_ns, w[0].persona, w[0].user) <= (w[1].offset_ns, w[1].persona, w[1].user)));
    assert_eq!(p.personas.iter().map(|p| p.name.as_str()).collect::<Vec<_>>(), ["pupil", "parent", "teacher"]);
    for (i, pp) in p.personas.iter().enumerate() {
        let mine = of_persona(&p, i as u16);
        assert_eq!(pp.users, mine.len() as u64);
        assert_eq!(pp.first_arrival, mine.first().map(|a| a.offset()));
        assert_eq!(pp.last_arrival, mine.last().map(|a| a.offset()));
        assert!(mine.iter().enumerate().all(|(u, a)| a.user == u as u32));
    }
    assert_eq!(p.personas[0].users, 2000);
    assert_eq!(p.personas[2].users, 100);
    let parents = p.personas[1].users as f64;
    assert!((parents - 1200.0).abs() < 4.0 * 1200f64.sqrt(), "{parents}");
    assert_eq!(p.personas[0].peak_at, s(300));
    assert!((p.personas[0].peak_rate - 2000.0 * 0.398_942 / 60.0).abs() < 0.01);
    assert_eq!((p.personas[1].peak_rate, p.personas[1].peak_at), (4.0, s(600)));
    assert_eq!(p.personas[2].peak_rate, 100.0 / 600.0);
}

#[test]
fn degenerate_personas_plan_empty_without_disturbing_others() {
    let personas = vec![
        persona("none", Some(0), Shape::Constant { rate: 1.0, from: s(0), to: s(60) }, Spacing::Poisson),
        persona("flat", None, Shape::Constant { rate: 0.0, from: s(0), to: s(60) }, Spacing::Poisson),
        persona("late", Some(10), Shape::Peak { at: s(3600), spread: s(10), from: s(0), to: s(7200) }, Spacing::Even),
        persona("after", Some(10), Shape::Burst { at: s(60), spread: s(0), decay: None }, Spacing::Poisson),
        persona("ok", Some(10), Shape::Constant { rate: 1.0, from: s(0), to: s(60) }, Spacing::Even),
    ];
    let p = plan(&scenario(1, 60, personas.clone()));
    assert_eq!(p.personas.iter().map(|p| p.users).collect::<Vec<_>>(), [0, 0, 0, 0, 10]);
    assert!(p.personas[..4].iter().all(|p| p.first_arrival.is_none() && p.peak_rate == 0.0));
    let p = plan(&scenario(1, 0, personas));
    assert!(p.arrivals.is_empty() && p.personas.len() == 5);
    assert!(plan(&scenario(1, 60, vec![])).arrivals.is_empty());
}

#[test]
fn a_million_arrivals_take_16_bytes_each() {
    assert_eq!(std::mem::size_of::<ScheduledArrival>(), 16);
    let p = plan(&scenario(
        3,
        3600,
        vec![
            persona(
                "pupil",
                Some(700_000),
                Shape::Peak { at: s(1800), spread: s(600), from: s(0), to: s(3600) },
                Spacing::Poisson,
            ),
            persona(
                "exam",
                Some(300_000),
                Shape::Burst { at: s(1200), spread: s(0), decay: Some(s(5)) },
                Spacing::Even,
            ),
        ],
    ));
    assert_eq!(p.arrivals.len(), 1_000_000);
    // One exact allocation: nothing grew or was over-reserved.
    assert_eq!(p.arrivals.capacity(), 1_000_000);
}

fn any_shape() -> impl Strategy<Value = Shape> {
    let t = || (0u64..120_000).prop_map(Duration::from_millis);
    let rate = || 0.0f64..40.0;
    prop_oneof![
        (rate(), t(), t()).prop_map(|(rate, from, to)| Shape::Constant { rate, from, to }),
        (rate(), rate(), t(), t()).prop_map(|(from_rate, to_rate, from, to)| Shape::Ramp {
            from_rate,
            to_rate,
            from,
            to
        }),
        (t(), prop::collection::vec((rate(), t()), 0..5)).prop_map(|(from, stages)| Shape::Steps { from, stages }),
        prop::collection::vec((t(), rate()), 0..6).prop_map(|mut points| {
            points.sort_by_key(|p| p.0);
            Shape::Points { points }
        }),
        (t(), t(), t(), t()).prop_map(|(at, spread, from, to)| Shape::Peak { at, spread, from, to }),
        (t(), t(), prop::option::of(t())).prop_map(|(at, spread, decay)| Shape::Burst { at, spread, decay }),
    ]
}

fn any_spacing() -> impl Strategy<Value = Spacing> {
    prop_oneof![Just(Spacing::Poisson), Just(Spacing::Even)]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    /// With a population, exactly N arrive whenever the clipped curve has any mass; every
    /// schedule is sorted, inside the window, and numbered in arrival order.
    #[test]
    fn population_counts_are_exact_and_schedules_well_formed(
        shape in any_shape(),
        spacing in any_spacing(),
        population in 0u64..3000,
        rate_mode in any::<bool>(),
        seed in any::<u64>(),
        duration in 0u64..100,
    ) {
        let population = if rate_mode { None } else { Some(population) };
        let sc = scenario(seed, duration, vec![persona("p", population, shape.clone(), spacing)]);
        let p = plan(&sc);
        let curve = RateCurve::new(&shape, population, sc.duration);
        let mass = RateCurve::new(&shape, None, sc.duration).expected_total();
        match population {
            Some(n) if mass > 0.0 => prop_assert_eq!(p.arrivals.len() as u64, n),
            Some(_) => prop_assert!(p.arrivals.is_empty()),
            None if spacing == Spacing::Even => prop_assert_eq!(p.arrivals.len() as f64, (mass + 0.5).floor()),
            None => prop_assert!((p.arrivals.len() as f64 - mass).abs() <= 6.0 * mass.sqrt() + 3.0),
        }
        prop_assert_eq!(p.personas[0].users, p.arrivals.len() as u64);
        prop_assert!(p.arrivals.windows(2).all(|w| w[0] < w[1]));
        prop_assert!(p.arrivals.iter().all(|a| a.offset() < sc.duration));
        prop_assert!(p.arrivals.iter().enumerate().all(|(u, a)| a.user == u as u32));
        prop_assert_eq!(p.personas[0].peak_rate, curve.peak().0);
        prop_assert_eq!(&p, &plan(&sc));
    }
}

#[test]
fn a_deadline_schedule_piles_up_before_the_cut_off() {
    // 1,000 pupils handing in homework due at 10 min, rise 1 min: everyone arrives before the
    // deadline, about 63% in its last minute and about 86% in its last two.
    let shape = Shape::Deadline { at: s(600), rise: s(60), from: s(0), rate: 1.0 };
    let p = plan(&scenario(5, 900, vec![persona("pupil", Some(1000), shape, Spacing::Even)]));
    assert_eq!(p.arrivals.len(), 1000);
    assert!(p.arrivals.iter().all(|a| a.offset() < s(600)), "nobody after the cut-off");
    let after = |t: u64| p.arrivals.iter().filter(|a| a.offset() >= s(t)).count();
    assert!((620..=645).contains(&after(540)), "last minute: {}", after(540));
    assert!((855..=875).contains(&after(480)), "last two minutes: {}", after(480));
    assert!(after(300) < 1000 && after(300) > 990, "the early tail is thin: {}", after(300));
    let pupil = &p.personas[0];
    assert!(pupil.peak_at > s(599) && pupil.peak_at <= s(600), "{:?}", pupil.peak_at);
}

#[test]
fn a_csv_schedule_keeps_each_intervals_count() {
    // Counts 60, 0, 180 per minute with even spacing: exactly those counts per minute.
    let stages = vec![(1.0, s(60)), (0.0, s(60)), (3.0, s(60))];
    let shape = Shape::Csv { file: "arrivals.csv".into(), from: s(60), stages };
    let p = plan(&scenario(5, 300, vec![persona("pupil", None, shape, Spacing::Even)]));
    let minute = |m: u64| p.arrivals.iter().filter(|a| a.offset() >= s(60 * m) && a.offset() < s(60 * (m + 1))).count();
    assert_eq!([minute(0), minute(1), minute(2), minute(3), minute(4)], [0, 60, 0, 180, 0]);
}
