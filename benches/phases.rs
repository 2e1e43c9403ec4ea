//! Where `vigil check` spends its time, phase by phase, in one process (`cargo bench --bench
//! phases`; `EXAMS=n`, default 1,000,000). Each phase after loading is repeated and the best
//! time kept: on a warm heap the figures are steadier than whole-process timings, which this
//! VM's first touches of fresh memory disturb by seconds.

use std::sync::Arc;
use std::time::{Duration, Instant};

use vigil::bundle::Bundle;
use vigil::eval::quality::data_quality;
use vigil::eval::run::evaluate;
use vigil::eval::world::World;
use vigil::generate::{GenOptions, generate};
use vigil::policy::load::load_packs;

fn best<T>(runs: usize, mut f: impl FnMut() -> T) -> (Duration, T) {
    let mut best = Duration::MAX;
    let mut last = None;
    for _ in 0..runs {
        let start = Instant::now();
        let out = f();
        best = best.min(start.elapsed());
        last = Some(out);
    }
    match last {
        Some(out) => (best, out),
        None => (best, f()),
    }
}

fn main() {
    let exams: usize = std::env::var("EXAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1_000_000);
    let dir = std::path::PathBuf::from(format!("target/bench/gen-{exams}"));
    if !dir.join("bundle.toml").exists() {
        let opts = GenOptions {
            exams,
            seed: 1,
            ..GenOptions::default()
        };
        if let Err(e) = generate(&opts, &dir) {
            eprintln!("cannot generate: {e}");
            return;
        }
    }
    let packs = match load_packs(&[]) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("cannot load the shipped packs: {e}");
            return;
        }
    };
    let (load, bundle) = best(1, || Bundle::load(&dir));
    // (Loading and building the world consume their input: timed once each.)
    let bundle = match bundle {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot load: {e}");
            return;
        }
    };
    let records = bundle.record_count();
    println!("{exams} exams, {records} records");
    println!("load (read, type, zone)   {:>8.3} s", load.as_secs_f64());
    let start = Instant::now();
    let world = World::new(bundle, vigil::eval::world::PackData::of(&packs));
    let world_time = start.elapsed();
    println!(
        "world (indexes, joins)    {:>8.3} s",
        world_time.as_secs_f64()
    );
    let world = Arc::new(world);
    let (quality, _) = best(3, || data_quality(&world.bundle));
    println!("data quality alone        {:>8.3} s", quality.as_secs_f64());
    for pack in &packs {
        let (t, _) = best(3, || evaluate(&world, std::slice::from_ref(pack)));
        println!(
            "evaluate {:<24} {:>8.3} s (with data quality)",
            pack.id,
            t.as_secs_f64()
        );
    }
    let (all, eval) = best(3, || evaluate(&world, &packs));
    println!("evaluate all packs        {:>8.3} s", all.as_secs_f64());
    if let Ok(eval) = eval {
        println!(
            "{} findings; {} native and {} Rhai evaluations",
            eval.findings.len(),
            eval.native_calls,
            eval.script_calls
        );
    }
}
