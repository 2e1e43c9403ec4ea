//! How records reach Rhai scripts: measured, not assumed (`cargo bench --bench rhai_records`).
//!
//! Compares, on the exams of a generated bundle, one expression evaluated
//! (a) with the record as the registered `Record` type (what vigil does: fields read on demand),
//! (b) with a `rhai::Map` of every field built per record,
//! and (c) the same test as a native Rust closure, the floor.

use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;
use rhai::{Dynamic, Map, Scope};
use vigil::bundle::Bundle;
use vigil::bundle::schema::{Dataset, col};
use vigil::eval::script::sandbox::{self, Outcome, Rec};
use vigil::eval::world::World;
use vigil::generate::{GenOptions, generate};

const EXPR: &str = r#"r.status == "completed" && type_of(r.supervisor_id) == "string""#;

fn main() {
    let exams: usize = std::env::var("EXAMS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200_000);
    let dir = std::env::temp_dir().join(format!("vigil-bench-rhai-{exams}"));
    if !dir.join("bundle.toml").exists() {
        let opts = GenOptions {
            exams,
            ..GenOptions::default()
        };
        if let Err(e) = generate(&opts, &dir) {
            eprintln!("cannot generate: {e}");
            return;
        }
    }
    let bundle = match Bundle::load(&dir) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("cannot load: {e}");
            return;
        }
    };
    let world = Arc::new(World::new(bundle, vigil::eval::world::PackData::default()));
    let n = world.bundle.table(Dataset::Exams).len() as u32;
    let ast = match vigil::policy::script::compile_expr(EXPR) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{}", e.message);
            return;
        }
    };
    let params = Dynamic::from(Map::new());
    println!(
        "{n} exams, expression `{EXPR}`, {} threads",
        rayon::current_num_threads()
    );

    let time = |name: &str, f: &(dyn Fn(u32) -> bool + Sync)| {
        for threads in [1, rayon::current_num_threads()] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build();
            let Ok(pool) = pool else { return };
            let start = Instant::now();
            let passed = pool.install(|| (0..n).into_par_iter().filter(|i| f(*i)).count());
            let secs = start.elapsed().as_secs_f64();
            println!(
                "{name:<28} {threads} thread(s): {:>10.0} records/s  ({passed} passed)",
                f64::from(n) / secs
            );
        }
    };

    time("registered Record type", &|i| {
        let rec = Rec {
            world: world.clone(),
            dataset: Dataset::Exams,
            idx: i,
        };
        matches!(sandbox::eval_expr(&ast, rec, &params).0, Ok(Outcome::Pass))
    });
    time("rhai::Map built per record", &|i| {
        let Some(r) = world.record(Dataset::Exams, i) else {
            return false;
        };
        let map: Map = Dataset::Exams
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| (f.name.into(), sandbox::to_dynamic(r.get(i))))
            .collect();
        let mut scope = Scope::new();
        scope.push_constant("r", map);
        sandbox::engine()
            .eval_ast_with_scope::<bool>(&mut scope, &ast)
            .unwrap_or(false)
    });
    time("native Rust (floor)", &|i| {
        world.record(Dataset::Exams, i).is_some_and(|r| {
            r.str(col::exam::STATUS) == Some("completed")
                && r.str(col::exam::SUPERVISOR_ID).is_some()
        })
    });
}
