//! Fixture-driven tests: every valid scenario compiles to the expected model, every invalid
//! one fails with exactly the expected message.

#[test]
fn probe() {
    for f in std::fs::read_dir("/tmp/probe").unwrap() {
        let p = f.unwrap().path();
        match super::load_file(&p) {
            Ok(s) => println!(
                "OK {}: {:?}",
                p.display(),
                s.personas
                    .iter()
                    .map(|p| &p.journey.ops)
                    .collect::<Vec<_>>()
            ),
            Err(e) => println!("{e}\n---"),
        }
    }
}
