//! `schoolday kube`: the Kubernetes manifests that run a scenario as N shards and merge them.
//!
//! A rehearsal that outgrows one machine runs on an engine teams already operate: an Indexed
//! Job, one pod per shard (`--shard auto` reads `JOB_COMPLETION_INDEX`), every pod waiting for
//! the same `--start-at`, each writing its run directory to one ReadWriteMany volume; then a
//! merge Job that waits for the shards' summaries and merges them exactly. A shard is never
//! replayed (`backoffLimitPerIndex: 0`, `podReplacementPolicy: Failed`): a second attempt
//! would start late and send its users' traffic twice. A failed shard is reported missing by
//! the merge instead.
//!
//! The manifests are built as values and serialised with serde (no text templates), so that
//! quoting is always right whatever the scenario holds. `.ci/validate-manifests` checks them
//! against the Kubernetes schemas in strict mode.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::load::MAX_SHARDS;
use crate::scenario::{Scenario, Target, UserSource};

/// Where the pods mount the scenario and the shard directories.
const SCENARIO_MOUNT: &str = "/scenario";
const SHARDS_MOUNT: &str = "/shards";

/// Head room after the last user's grace period before the Jobs are stopped.
const MARGIN: Duration = Duration::from_secs(300);

#[derive(Debug, Clone)]
pub struct Options {
    pub shards: u32,
    pub image: String,
    /// Replaces the scenario's target in every shard (`run --target`).
    pub target: Option<String>,
    pub start_at: SystemTime,
    /// Name of the Jobs, the ConfigMap and the claim; derived from the scenario if `None`.
    pub name: Option<String>,
    pub namespace: String,
    pub storage_class: Option<String>,
    pub storage: String,
    pub cpu: String,
    pub memory: String,
}

/// The manifests as one YAML stream (documents separated by `---`), preceded by comments
/// giving the commands to run them. `text` is the scenario file exactly as written; `now` is
/// when the manifests are printed (for the Jobs' deadlines).
pub fn manifests(scenario: &Scenario, text: &str, options: &Options, now: SystemTime) -> Result<String, String> {
    check(scenario, options)?;
    let name = match &options.name {
        Some(n) => dns_label(n)?,
        None => default_name(&scenario.name),
    };
    let n = options.shards;
    let run_for = scenario.duration + scenario.grace;
    let start_in = options.start_at.duration_since(now).unwrap_or_default();
    let end = options.start_at + run_for + MARGIN;
    let deadline = |d: Duration| d.as_secs().max(1);
    let out = format!("{SHARDS_MOUNT}/{name}");
    let start_at = humantime::format_rfc3339_seconds(options.start_at).to_string();
    // `--flag=value`, one string each: a bare `2026-12-02T09:00:00Z` or `50` would be read
    // back as a timestamp or a number by YAML 1.1 parsers, and container args must be strings.
    let mut args = vec![
        "run".to_string(),
        format!("{SCENARIO_MOUNT}/scenario.yaml"),
        "--shard=auto".into(),
        format!("--shards={n}"),
        format!("--start-at={start_at}"),
        format!("--out={out}"),
    ];
    if let Some(target) = &options.target {
        args.push(format!("--target={target}"));
    }
    let labels = json!({ "app.kubernetes.io/name": "schoolday", "app.kubernetes.io/instance": name });
    let meta = |object: &str| json!({ "name": object, "namespace": options.namespace, "labels": labels });
    let volumes = json!([
        { "name": "scenario", "configMap": { "name": format!("{name}-scenario") } },
        { "name": "shards", "persistentVolumeClaim": { "claimName": format!("{name}-shards") } }
    ]);
    let mounts = json!([
        { "name": "scenario", "mountPath": SCENARIO_MOUNT, "readOnly": true },
        { "name": "shards", "mountPath": SHARDS_MOUNT }
    ]);
    // The image runs as uid 10001; the volume's files get its group, so that every pod can
    // write its shard directory whoever owns the volume's root.
    let security = json!({ "runAsNonRoot": true, "runAsUser": 10001, "runAsGroup": 10001, "fsGroup": 10001 });
    let resources = json!({
        "requests": { "cpu": options.cpu, "memory": options.memory },
        "limits": { "cpu": options.cpu, "memory": options.memory }
    });
    let config_map = json!({
        "apiVersion": "v1", "kind": "ConfigMap", "metadata": meta(&format!("{name}-scenario")),
        "data": { "scenario.yaml": text }
    });
    let mut claim_spec = json!({
        "accessModes": ["ReadWriteMany"],
        "resources": { "requests": { "storage": options.storage } }
    });
    if let Some(class) = &options.storage_class {
        claim_spec["storageClassName"] = json!(class);
    }
    let claim = json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta(&format!("{name}-shards")),
        "spec": claim_spec
    });
    let shards = json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": meta(&name),
        "spec": {
            "completionMode": "Indexed",
            "completions": n,
            "parallelism": n,
            // A shard is never replayed: it would start late and send its users twice.
            "backoffLimitPerIndex": 0,
            "maxFailedIndexes": n,
            "podReplacementPolicy": "Failed",
            "activeDeadlineSeconds": deadline(start_in + run_for + MARGIN),
            "template": {
                "metadata": { "labels": labels },
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": security,
                    "containers": [{
                        "name": "shard",
                        "image": options.image,
                        "args": args,
                        "env": [{ "name": "NO_COLOR", "value": "1" }],
                        "resources": resources,
                        "volumeMounts": mounts
                    }],
                    "volumes": volumes
                }
            }
        }
    });
    let merge = json!({
        "apiVersion": "batch/v1", "kind": "Job", "metadata": meta(&format!("{name}-merge")),
        "spec": {
            "backoffLimit": 0,
            "activeDeadlineSeconds": deadline(start_in + run_for + MARGIN * 2),
            "template": {
                "metadata": { "labels": labels },
                "spec": {
                    "restartPolicy": "Never",
                    "securityContext": security,
                    "containers": [{
                        "name": "merge",
                        "image": options.image,
                        "command": ["/bin/sh", "-c", merge_script(&out, n, end)],
                        "env": [{ "name": "NO_COLOR", "value": "1" }],
                        "volumeMounts": mounts
                    }],
                    "volumes": volumes
                }
            }
        }
    });
    let fetch = json!({
        "apiVersion": "v1", "kind": "Pod", "metadata": meta(&format!("{name}-fetch")),
        "spec": {
            "restartPolicy": "Never",
            "securityContext": security,
            "activeDeadlineSeconds": deadline(start_in + run_for + MARGIN * 2 + Duration::from_secs(3600)),
            "containers": [{
                "name": "fetch",
                "image": options.image,
                "command": ["sleep", deadline(start_in + run_for + MARGIN * 2 + Duration::from_secs(3600)).to_string()],
                "volumeMounts": [{ "name": "shards", "mountPath": SHARDS_MOUNT, "readOnly": true }]
            }],
            "volumes": [{ "name": "shards", "persistentVolumeClaim": { "claimName": format!("{name}-shards") } }]
        }
    });
    let mut stream = commands(&name, &options.namespace, &start_at, n, run_for + MARGIN * 2 + start_in);
    for doc in [config_map, claim, shards, merge, fetch] {
        stream.push_str("---\n");
        stream.push_str(&serde_yaml::to_string(&doc).map_err(|e| format!("cannot write the manifests: {e}"))?);
    }
    Ok(stream)
}

/// What the manifests cannot run: the embedded target, a users CSV, a bad shard count.
fn check(scenario: &Scenario, options: &Options) -> Result<(), String> {
    if options.shards == 0 || options.shards > MAX_SHARDS {
        return Err(format!("--shards must be between 1 and {MAX_SHARDS}, not {}", options.shards));
    }
    if options.target.is_none() && matches!(scenario.target, Target::Embedded(_)) {
        return Err(format!(
            "{}: the scenario's target is `embedded`: on Kubernetes every pod would load its own demo server. \
             Pass --target URL (the service under test), or set `target:` in the scenario",
            scenario.source.display()
        ));
    }
    if let Some(target) = &options.target {
        crate::launch::target_override(target)?;
    }
    if let Some(p) = scenario.personas.iter().find(|p| matches!(p.users, UserSource::Csv { .. })) {
        return Err(format!(
            "persona {}: reads its users from a CSV file, and the manifests carry only the scenario file; \
             generated users (no `users:`) work, or build the CSV into your image",
            p.name
        ));
    }
    if scenario.gates.abort_on_fail.is_some() {
        return Err(format!(
            "{}: `abort_on_fail` would stop one shard on its own share of the data while the others run on; \
             remove it for a sharded run (the merge judges the thresholds on the whole run)",
            scenario.source.display()
        ));
    }
    if options.image.trim().is_empty() {
        return Err("--image must name the schoolday image (see the Dockerfile)".into());
    }
    Ok(())
}

/// Wait until every shard wrote its summary (or the run's deadline passed), then merge: the
/// merge says which shards are missing if some never finished.
fn merge_script(out: &str, n: u32, end: SystemTime) -> String {
    let end = end.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
    format!(
        "dir={out}; n={n}; deadline={end}\n\
         while [ \"$(ls \"$dir\"/*-shard-*-of-$n/summary.json 2>/dev/null | wc -l)\" -lt \"$n\" ] && [ \"$(date +%s)\" -lt \"$deadline\" ]; do sleep 5; done\n\
         exec schoolday merge \"$dir\"/*-shard-*-of-$n/summary.json --out \"$dir/merged\"\n"
    )
}

/// The comment block at the head of the stream: how to run it and get the report back.
fn commands(name: &str, namespace: &str, start_at: &str, n: u32, wait: Duration) -> String {
    let ns = if namespace == "default" { String::new() } else { format!(" -n {namespace}") };
    let timeout = wait.as_secs();
    format!(
        "# schoolday on Kubernetes: {n} shard(s) of one run, starting together at {start_at}.\n\
         # Save this output as {name}.yaml and apply it before that instant (a shard that starts\n\
         # more than 2s late exits with code 7 and the merge reports it missing):\n\
         #   kubectl{ns} apply -f {name}.yaml\n\
         #   kubectl{ns} wait --for=condition=complete --timeout={timeout}s job/{name}-merge\n\
         #   kubectl{ns} logs job/{name}-merge                    # the merged summary\n\
         #   kubectl{ns} cp {name}-fetch:/shards/{name}/merged reports/{name}   # the run directory\n\
         #   kubectl{ns} delete -f {name}.yaml                    # the volume with it\n"
    )
}

/// `schoolday-<scenario slug>`, short enough for the pods' names and labels (63 characters).
fn default_name(scenario: &str) -> String {
    let slug: String = crate::report::rundir::slug(scenario).chars().take(37).collect();
    format!("schoolday-{}", slug.trim_end_matches('-'))
}

/// A name Kubernetes accepts for every object and label here (RFC 1123 label, ≤ 47
/// characters so that `<name>-scenario` and the pods' `<name>-<index>-<suffix>` fit).
fn dns_label(name: &str) -> Result<String, String> {
    let ok = !name.is_empty()
        && name.len() <= 47
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-');
    if ok {
        Ok(name.to_string())
    } else {
        Err(format!(
            "--name {name:?}: use at most 47 lower-case letters, digits and '-', starting and ending with a letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn scenario(target: &str) -> Scenario {
        let yaml = format!(
            "name: Exam start\ntarget: {target}\nduration: 1m\ngrace: 10s\npersonas:\n  exam:\n    population: 100\n    arrival: {{ shape: burst, at: 10s }}\n    journey:\n      - post: /login\n        json: {{ user: \"{{{{ user.id }}}}\" }}\n        goal: true\n"
        );
        crate::scenario::load_str(&yaml, std::path::Path::new("exam.yaml")).expect("loads")
    }

    fn options(shards: u32) -> Options {
        Options {
            shards,
            image: "registry.example/schoolday:0.1".into(),
            target: None,
            start_at: UNIX_EPOCH + Duration::from_secs(1_796_202_000),
            name: None,
            namespace: "load".into(),
            storage_class: Some("nfs".into()),
            storage: "1Gi".into(),
            cpu: "2".into(),
            memory: "1Gi".into(),
        }
    }

    fn docs(text: &str) -> Vec<Value> {
        text.split("\n---\n").skip(1).map(|d| serde_yaml::from_str(d).expect("each document is YAML")).collect()
    }

    #[test]
    fn the_indexed_job_never_replays_a_shard_and_every_pod_shares_the_barrier() {
        let s = scenario("https://ent.example.org");
        let now = UNIX_EPOCH + Duration::from_secs(1_796_201_820);
        let text = manifests(&s, "name: x\n", &options(50), now).unwrap();
        assert!(text.starts_with("# schoolday on Kubernetes: 50 shard(s)"), "{text}");
        let docs = docs(&text);
        let kinds: Vec<&str> = docs.iter().map(|d| d["kind"].as_str().unwrap()).collect();
        assert_eq!(kinds, ["ConfigMap", "PersistentVolumeClaim", "Job", "Job", "Pod"]);
        assert_eq!(docs[0]["data"]["scenario.yaml"], "name: x\n", "the scenario verbatim");
        assert_eq!(docs[1]["spec"]["accessModes"][0], "ReadWriteMany");
        let job = &docs[2]["spec"];
        assert_eq!(job["completionMode"], "Indexed");
        assert_eq!((job["completions"].as_u64(), job["parallelism"].as_u64()), (Some(50), Some(50)));
        assert_eq!(job["backoffLimitPerIndex"], 0);
        assert_eq!(job["podReplacementPolicy"], "Failed");
        // 3 min to the start, 70 s of run and grace, 5 min of margin.
        assert_eq!(job["activeDeadlineSeconds"], 180 + 70 + 300);
        let args: Vec<&str> = job["template"]["spec"]["containers"][0]["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap())
            .collect();
        assert_eq!(
            args,
            [
                "run",
                "/scenario/scenario.yaml",
                "--shard=auto",
                "--shards=50",
                "--start-at=2026-12-02T09:00:00Z",
                "--out=/shards/schoolday-exam-start"
            ]
        );
        let script = docs[3]["spec"]["template"]["spec"]["containers"][0]["command"][2].as_str().unwrap();
        assert!(
            script.contains("schoolday merge \"$dir\"/*-shard-*-of-$n/summary.json --out \"$dir/merged\""),
            "{script}"
        );
        assert!(script.contains("n=50;"), "{script}");
        assert!(docs.iter().all(|d| d["metadata"]["namespace"] == "load"));
    }

    #[test]
    fn what_cannot_run_on_kubernetes_is_refused_with_the_fix() {
        let now = UNIX_EPOCH;
        let embedded = manifests(&scenario("embedded"), "", &options(3), now).unwrap_err();
        assert!(embedded.contains("--target URL"), "{embedded}");
        let with_target = Options { target: Some("http://school.internal:8080".into()), ..options(3) };
        let text = manifests(&scenario("embedded"), "", &with_target, now).unwrap();
        assert!(text.contains("- --target=http://school.internal:8080\n"), "{text}");
        assert!(manifests(&scenario("http://x"), "", &options(0), now).unwrap_err().contains("between 1 and"));
        let bad_name = Options { name: Some("Bad_Name".into()), ..options(1) };
        assert!(manifests(&scenario("http://x"), "", &bad_name, now).unwrap_err().contains("lower-case"));
    }

    #[test]
    fn scenario_text_that_looks_like_yaml_syntax_survives_quoting() {
        let tricky = "name: \"a: b\" # not a comment\n---\n- { x: '|' }\n";
        let text = manifests(&scenario("http://x"), tricky, &options(1), UNIX_EPOCH).unwrap();
        let docs: Vec<Value> =
            serde_yaml::Deserializer::from_str(&text).map(|d| serde::Deserialize::deserialize(d).unwrap()).collect();
        assert_eq!(docs[0]["data"]["scenario.yaml"], tricky);
    }
}
