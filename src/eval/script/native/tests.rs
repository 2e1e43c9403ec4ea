//! A differential test of the native path against Rhai: every answer native gives is the one
//! Rhai gives, on hand-written expressions and on every shipped expression and script over
//! every fixture bundle.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on the first surprise"
)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use rhai::Dynamic;

use super::{NativeExpr, compile, compile_ast, compile_script};
use crate::bundle::Bundle;
use crate::bundle::schema::Dataset;
use crate::eval::redact::Redaction;
use crate::eval::script::sandbox::{self, Outcome, Rec};
use crate::eval::world::World;
use crate::policy::model::Check;
use crate::policy::script;

const PARAMS: &str = r#"
s = "a"
i = 1
f = 1.0
f2 = 1.0000000000000002
z = 0.0
tiny = 1e-17
nan = nan
inf = inf
big = 9007199254740993
d = 2026-01-05
dt = 2026-01-05T10:00:00Z
arr = ["a", "b"]
mixed = [1, "a", 2.0]
b = true
m = { x = 1 }
"#;

struct Case {
    world: Arc<World>,
    params: BTreeMap<String, toml::Value>,
}

fn params_dynamic(params: &BTreeMap<String, toml::Value>) -> Dynamic {
    Dynamic::from(
        params
            .iter()
            .map(|(k, v)| (k.as_str().into(), sandbox::toml_to_dynamic(v)))
            .collect::<rhai::Map>(),
    )
}

/// The pack data of the shipped packs, as `vigil check` gives the world.
fn builtin_data() -> crate::eval::world::PackData {
    crate::eval::world::PackData::of(&crate::policy::load::load_packs(&[]).unwrap())
}

impl Case {
    /// The minimal bundle: exam E1 (index 0) has an on-site practitioner on file, E2
    /// (index 1) has none; neither has a cancel reason.
    fn new() -> Case {
        let bundle = Bundle::load(Path::new("fixtures/bundles/minimal")).unwrap();
        Case {
            world: Arc::new(World::new(bundle, builtin_data())),
            params: toml::from_str(PARAMS).unwrap(),
        }
    }

    fn native(&self, src: &str, idx: u32) -> Option<bool> {
        compile(src, Dataset::Exams, &self.params)
            .and_then(|n| n.eval(&self.world, Dataset::Exams, idx))
    }

    /// Rhai's own answer: `Some` exactly when the expression returns a bool.
    fn rhai(&self, src: &str, idx: u32) -> Option<bool> {
        let ast = script::compile_expr(src).unwrap();
        let mut scope = rhai::Scope::new();
        let rec = Rec {
            world: self.world.clone(),
            dataset: Dataset::Exams,
            idx,
        };
        scope.push_constant("r", rec);
        scope.push_constant_dynamic("params", params_dynamic(&self.params));
        sandbox::engine()
            .eval_ast_with_scope::<Dynamic>(&mut scope, &ast)
            .ok()
            .and_then(|d| d.as_bool().ok())
    }

    /// Asserts that native and Rhai give the same answer on record `idx`, and returns it.
    fn agree(&self, src: &str, idx: u32) -> Option<bool> {
        let native = self.native(src, idx);
        assert_eq!(native, self.rhai(src, idx), "`{src}` on record {idx}");
        native
    }

    fn expect(&self, cases: &[(&str, Option<bool>)]) {
        for (src, want) in cases {
            for idx in [0, 1] {
                assert_eq!(self.agree(src, idx), *want, "`{src}` on record {idx}");
            }
        }
    }
}

#[test]
fn unit_compares_equal_to_unit_only_and_is_never_ordered() {
    Case::new().expect(&[
        ("r.cancel_reason == params.s", Some(false)),
        ("r.cancel_reason != params.s", Some(true)),
        ("r.cancel_reason < params.s", Some(false)),
        ("r.cancel_reason >= params.s", Some(false)),
        ("params.s > r.cancel_reason", Some(false)),
        ("r.cancel_reason == r.cancel_reason", Some(true)),
        ("r.cancel_reason == ()", Some(true)),
        ("r.cancel_reason != r.cancel_reason", Some(false)),
        ("r.cancel_reason <= r.cancel_reason", Some(false)),
        ("r.cancel_reason >= ()", Some(false)),
    ]);
}

#[test]
fn values_of_different_types_are_unequal_and_unordered() {
    Case::new().expect(&[
        ("params.s == params.i", Some(false)),
        ("params.s != params.i", Some(true)),
        ("params.s < params.i", Some(false)),
        ("params.s > params.i", Some(false)),
        ("params.b == params.i", Some(false)),
        ("r.cancel_reason == params.i", Some(false)),
        ("r.dos == params.s", Some(false)),
        ("r.dos != params.s", Some(true)),
        ("r.dos < r.cancel_reason", Some(false)),
        ("r.dos != r.cancel_reason", Some(true)),
        ("r.dos == r.started_at", Some(false)),
        ("r.dos < r.started_at", Some(false)),
        ("r.dos >= r.started_at", Some(false)),
        ("r.started_at == params.dt", Some(false)),
        ("r.supervisor == ()", Some(false)),
        ("r.supervisor != \"x\"", Some(true)),
        ("r.supervisor < 1", Some(false)),
        ("params.arr == params.s", Some(false)),
        ("params.arr != r.cancel_reason", Some(true)),
    ]);
}

#[test]
fn numbers_compare_like_rhai_with_its_float_epsilon() {
    Case::new().expect(&[
        ("params.i < 2", Some(true)),
        ("params.i >= 2", Some(false)),
        ("params.i == params.f", Some(true)),
        ("params.f == params.f2", Some(true)),
        ("params.f < params.f2", Some(false)),
        ("params.i != params.f2", Some(false)),
        ("params.f2 > params.i", Some(false)),
        ("params.z == params.tiny", Some(true)),
        ("params.z < params.tiny", Some(false)),
        ("params.big == 9007199254740992.0", Some(true)),
        ("params.big == 9007199254740992", Some(false)),
        ("params.nan == params.nan", Some(false)),
        ("params.nan != params.nan", Some(false)),
        ("params.nan < params.f", Some(false)),
        ("params.inf == params.inf", Some(false)),
        ("params.inf > params.f", Some(false)),
        ("params.f < params.inf", Some(false)),
        ("params.z <= params.z", Some(true)),
    ]);
}

#[test]
fn strings_bools_dates_and_instants_compare_within_their_type() {
    let case = Case::new();
    case.expect(&[
        ("params.s < \"B\"", Some(false)),
        ("\"é\" > params.s", Some(true)),
        ("params.s <= \"ab\"", Some(true)),
        ("params.b > false", Some(true)),
        ("params.b == true", Some(true)),
        ("r.started_at < r.ended_at", Some(true)),
        ("r.started_at == r.started_at", Some(true)),
        ("r.ended_at <= r.started_at", Some(false)),
        ("r.dos >= params.d", Some(true)),
        ("r.supervisor.bls_expires > r.dos", Some(true)),
    ]);
    assert_eq!(case.agree("r.dos == params.d", 0), Some(true));
    assert_eq!(case.agree("r.dos == params.d", 1), Some(false));
}

#[test]
fn in_compares_items_with_equals() {
    Case::new().expect(&[
        ("params.s in params.arr", Some(true)),
        ("\"c\" in params.arr", Some(false)),
        ("r.cancel_reason in params.arr", Some(false)),
        ("() in [1, ()]", Some(true)),
        ("params.i in params.mixed", Some(true)),
        ("params.f in params.mixed", Some(true)),
        ("2 in params.mixed", Some(true)),
        ("params.i in []", Some(false)),
        ("r.supervisor in [1, 2]", Some(false)),
        ("r.dos in [\"a\", 1, ()]", Some(false)),
        ("r.contrast in [false, true]", Some(true)),
        (
            "r.facility.state in r.supervisor.licensed_states",
            Some(true),
        ),
        ("\"TX\" in r.supervisor.licensed_states", Some(false)),
        ("params.i in r.supervisor.licensed_states", Some(false)),
        (
            "!(r.supervisor.role in [\"rn\", \"technologist\"])",
            Some(true),
        ),
        // Rhai: `contains((), ..)` is not a function, an error.
        ("params.s in r.cancel_reason", None),
    ]);
}

#[test]
fn logic_needs_bool_operands_and_short_circuits() {
    Case::new().expect(&[
        ("!params.b", Some(false)),
        ("!!params.b", Some(true)),
        ("!r.cancel_reason", None),
        ("!params.i", None),
        ("params.b && params.i", None),
        ("params.i && params.b", None),
        ("params.i || params.b", None),
        ("params.b || params.i", Some(true)),
        ("!params.b && params.i", Some(false)),
        ("false && params.i", Some(false)),
        // Rhai's optimizer folds `x && true` to `x`, which is `()` here: not a bool.
        ("r.cancel_reason && true", None),
        ("params.s", None),
        ("type_of(r.onsite)", None),
        (
            "(params.b || params.i) && !(params.s == \"b\" || params.i > 1)",
            Some(true),
        ),
        ("params.i > 0 && params.s == \"a\" && params.b", Some(true)),
        (
            "params.i > 5 || params.s == \"b\" || !params.b",
            Some(false),
        ),
    ]);
}

#[test]
fn joins_lead_to_records_and_a_missing_link_is_unit() {
    let case = Case::new();
    let guarded = "type_of(r.onsite) != \"Record\" || r.onsite.role != \"technologist\"";
    assert_eq!(case.agree("r.onsite.role == \"rn\"", 0), Some(true));
    // Rhai: a property of `()` is an error.
    assert_eq!(case.agree("r.onsite.role == \"rn\"", 1), None);
    assert_eq!(case.agree("type_of(r.onsite) == \"Record\"", 0), Some(true));
    assert_eq!(case.agree("type_of(r.onsite) == \"()\"", 1), Some(true));
    assert_eq!(case.agree(guarded, 0), Some(true));
    assert_eq!(case.agree(guarded, 1), Some(true));
    case.expect(&[
        ("type_of(r) == \"Record\"", Some(true)),
        ("r.supervisor.role == \"radiologist\"", Some(true)),
        ("r.facility.state == \"IL\"", Some(true)),
        // Rhai: `==` of two records is not a function, an error.
        ("r.supervisor == r.supervisor", None),
        ("r.supervisor != r.facility", None),
    ]);
}

#[test]
fn type_of_names_every_type_as_rhai_does() {
    let case = Case::new();
    let cases = [
        ("r.cancel_reason", "()"),
        ("r.status", "string"),
        ("r.contrast", "bool"),
        ("r.dos_year", "i64"),
        ("params.f", "f64"),
        ("r.dos", "Date"),
        ("r.started_at", "Instant"),
        ("r.supervisor.licensed_states", "array"),
        ("params.arr", "array"),
        ("params.d", "Date"),
        ("params.dt", "string"),
        ("r.supervisor", "Record"),
        ("type_of(r)", "string"),
    ];
    for (x, name) in cases {
        for idx in [0, 1] {
            let src = format!("type_of({x}) == \"{name}\"");
            assert_eq!(case.agree(&src, idx), Some(true), "{src}");
            let src = format!("type_of({x}) != \"{name}\"");
            assert_eq!(case.agree(&src, idx), Some(false), "{src}");
        }
    }
}

#[test]
fn anything_outside_the_subset_does_not_compile() {
    let case = Case::new();
    for src in [
        "params.unknown == 1",
        "params.m == 1",
        "params == 1",
        "r.nosuch == 1",
        "r.supervisor.nosuch == 1",
        "r.dos.year == 2026",
        "r.status.len() == 9",
        "r?.status == \"completed\"",
        "r[\"status\"] == \"completed\"",
        "r.status + \"x\" == \"completedx\"",
        "x == 1",
        "'c' == params.s",
        "[r.status] == [\"completed\"]",
        "contrast_exams(r, \"iodinated\") == 0",
        "r.dos_year ?? 0 == 2026",
        "if params.b { true } else { false }",
    ] {
        assert!(
            compile(src, Dataset::Exams, &case.params).is_none(),
            "`{src}` compiled"
        );
    }
    // Rhai still answers some of them; they simply stay on the Rhai path.
    assert_eq!(case.rhai("r.dos.year == 2026", 0), Some(true));
}

#[test]
fn comparisons_left_to_rhai_answer_none() {
    let case = Case::new();
    for src in [
        "params.arr == params.arr",
        "params.arr in [params.arr]",
        "r.status in \"completed!\"",
    ] {
        assert_eq!(case.native(src, 0), None, "{src}");
        assert_eq!(case.rhai(src, 0), Some(true), "{src}");
    }
}

#[test]
fn values_over_rhai_data_limits_are_left_to_rhai() {
    let dir = tempfile::tempdir().unwrap();
    for entry in std::fs::read_dir("fixtures/bundles/minimal").unwrap() {
        let path = entry.unwrap().path();
        std::fs::copy(&path, dir.path().join(path.file_name().unwrap())).unwrap();
    }
    let exams = dir.path().join("exams.csv");
    let long = "T".repeat(64 * 1024 + 1);
    let text = std::fs::read_to_string(&exams).unwrap();
    std::fs::write(&exams, text.replacen(",T1,", &format!(",{long},"), 1)).unwrap();
    let mut case = Case::new();
    case.world = Arc::new(World::new(
        Bundle::load(dir.path()).unwrap(),
        builtin_data(),
    ));
    for src in [
        "r.technologist_id == \"T1\"",
        "type_of(r.technologist_id) == \"string\"",
    ] {
        assert_eq!(case.agree(src, 0), None, "{src}");
        assert_eq!(case.agree(src, 1), Some(true), "{src}");
    }
}

#[test]
fn a_record_of_another_dataset_is_left_to_rhai() {
    let case = Case::new();
    let n = compile("r.status == \"completed\"", Dataset::Exams, &case.params).unwrap();
    assert_eq!(n.eval(&case.world, Dataset::Exams, 0), Some(true));
    assert_eq!(n.eval(&case.world, Dataset::Sessions, 0), None);
}

#[test]
fn native_expressions_are_shareable() {
    fn shareable<T: Send + Sync + std::fmt::Debug>() {}
    shareable::<NativeExpr>();
}

#[derive(Default, Debug, Clone, Copy)]
struct Tally {
    evaluations: u64,
    rhai_bool: u64,
    native: u64,
    /// Evaluations on records that have every field the rule `requires` (the engine
    /// judges no others), and how many of them native answers.
    required: u64,
    required_native: u64,
}

impl std::ops::AddAssign for Tally {
    fn add_assign(&mut self, other: Tally) {
        self.evaluations += other.evaluations;
        self.rhai_bool += other.rhai_bool;
        self.native += other.native;
        self.required += other.required;
        self.required_native += other.required_native;
    }
}

/// Every shipped expression on every record of its dataset: wherever native answers, Rhai
/// gives the same bool.
fn differential(world: &Arc<World>, packs: &[crate::policy::model::Pack]) -> Tally {
    let mut tally = Tally::default();
    for version in packs.iter().flat_map(|p| p.versions.iter()) {
        let params = params_dynamic(&version.parameters);
        for rule in &version.rules {
            let Check::Expr { source, ast } = &rule.check else {
                continue;
            };
            let d = rule.dataset;
            let native = compile(source, d, &version.parameters);
            assert!(native.is_some(), "{} {}: `{source}`", version.path, rule.id);
            assert!(compile_ast(ast, d, &version.parameters).is_some());
            let native = native.unwrap();
            for idx in 0..world.bundle.table(d).len() as u32 {
                let rec = Rec {
                    world: world.clone(),
                    dataset: d,
                    idx,
                };
                let rhai = sandbox::eval_expr(ast, rec, &params).0;
                let rhai_bool = match &rhai {
                    Ok(Outcome::Pass) => Some(true),
                    Ok(Outcome::Fail(m)) if m.is_empty() => Some(false),
                    _ => None,
                };
                let answer = native.eval(world, d, idx);
                if answer.is_some() {
                    assert_eq!(
                        answer, rhai_bool,
                        "{} {} record {idx}: `{source}` gives {rhai:?} in Rhai",
                        version.path, rule.id
                    );
                }
                tally.evaluations += 1;
                tally.rhai_bool += u64::from(rhai_bool.is_some());
                tally.native += u64::from(answer.is_some());
                let required =
                    (rule.requires.iter()).all(|(_, f)| world.value(d, idx, *f).is_present());
                tally.required += u64::from(required);
                tally.required_native += u64::from(required && answer.is_some());
            }
        }
    }
    tally
}

#[test]
fn shipped_expressions_agree_with_rhai_on_every_fixture_bundle() {
    let packs = crate::policy::load::load_packs(&[]).unwrap();
    let mut dirs: Vec<_> = std::fs::read_dir("fixtures/bundles")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let (mut demo, mut all, mut redacted) = (None, Tally::default(), Tally::default());
    let mut loaded = 0;
    for dir in dirs {
        let Ok(bundle) = Bundle::load(&dir) else {
            continue;
        };
        loaded += 1;
        let plain = differential(&Arc::new(World::new(bundle, builtin_data())), &packs);
        if dir.ends_with("demo") {
            demo = Some(plain);
        }
        all += plain;
        let mut world = World::new(Bundle::load(&dir).unwrap(), builtin_data());
        world.set_redaction(Redaction::new(b"salt".to_vec()));
        redacted += differential(&Arc::new(world), &packs);
    }
    eprintln!("{loaded} bundles; demo {demo:?}; all {all:?}; all redacted {redacted:?}");
    let demo = demo.unwrap();
    assert!(loaded > 10);
    assert!(demo.evaluations > 1000, "{demo:?}");
    assert!(demo.required_native * 100 >= demo.required * 95, "{demo:?}");
    // Wherever Rhai returns a bool, native answers too.
    assert_eq!(all.native, all.rhai_bool, "{all:?}");
    assert_eq!(redacted.native, redacted.rhai_bool, "{redacted:?}");
}

/// Every shipped script on every record of `world`: wherever native code says "pass", Rhai
/// passes too. Returns (scripts compiled, Rhai passes, native passes) per script path.
fn script_differential(
    world: &Arc<World>,
    packs: &[crate::policy::model::Pack],
) -> BTreeMap<String, (u64, u64)> {
    let mut out = BTreeMap::new();
    for version in packs.iter().flat_map(|p| p.versions.iter()) {
        let params = params_dynamic(&version.parameters);
        for rule in &version.rules {
            let Check::Script { path, ast, source } = &rule.check else {
                continue;
            };
            let d = rule.dataset;
            let Some(native) = compile_script(ast, source, d, &version.parameters) else {
                continue;
            };
            let entry: &mut (u64, u64) = out.entry(path.clone()).or_default();
            for idx in 0..world.bundle.table(d).len() as u32 {
                let rec = Rec {
                    world: world.clone(),
                    dataset: d,
                    idx,
                };
                let rhai = sandbox::eval_script(ast, rec, &params).0;
                let native = native.passes(world, d, idx);
                if native.is_some() {
                    assert!(
                        matches!(rhai, Ok(Outcome::Pass)),
                        "{path} record {idx}: native passes, Rhai gives {rhai:?}"
                    );
                }
                entry.0 += u64::from(matches!(rhai, Ok(Outcome::Pass)));
                entry.1 += u64::from(native.is_some());
            }
        }
    }
    out
}

#[test]
fn shipped_scripts_pass_natively_only_where_rhai_passes() {
    let packs = crate::policy::load::load_packs(&[]).unwrap();
    let mut dirs: Vec<_> = std::fs::read_dir("fixtures/bundles")
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    dirs.sort();
    let mut all: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for dir in dirs {
        let Ok(bundle) = Bundle::load(&dir) else {
            continue;
        };
        for (path, (rhai, native)) in
            script_differential(&Arc::new(World::new(bundle, builtin_data())), &packs)
        {
            let e = all.entry(path).or_default();
            e.0 += rhai;
            e.1 += native;
        }
    }
    eprintln!("per script (Rhai passes, native passes): {all:?}");
    // The scripts on the hot path compile, and native code finds every pass Rhai finds.
    for hot in ["sup003.rhai", "sup004.rhai", "sup005.rhai", "ben001.rhai"] {
        let hits: Vec<_> = all.iter().filter(|(p, _)| p.ends_with(hot)).collect();
        assert!(!hits.is_empty(), "{hot} does not compile natively: {all:?}");
        for (path, (rhai, native)) in hits {
            assert!(*rhai > 0, "{path}: no record passes in the fixtures");
            assert_eq!(rhai, native, "{path}");
        }
    }
}

#[test]
fn scripts_outside_the_subset_do_not_compile() {
    let params = BTreeMap::new();
    let compiles = |body: &str| {
        let src = format!("fn check(r, params) {{\n{body}\n}}");
        let ast = script::compile_script(&src).unwrap();
        compile_script(&ast, &src, Dataset::Exams, &params).is_some()
    };
    assert!(compiles(
        "if r.status == \"completed\" { return pass(); }\nfail()"
    ));
    assert!(compiles(
        "let xs = [];\nxs.push(\"a\");\nif xs.is_empty() { pass() } else { fail() }"
    ));
    // A helper function could shadow `pass`; loops other than over records; mutation.
    assert!(!compiles("pass()\n}\nfn pass() { 1 }\nfn x() {"));
    assert!(!compiles("let i = 0;\nwhile i < 3 { i += 1; }\npass()"));
    assert!(!compiles("let x = r.status;\nx = 1;\npass()"));
    assert!(!compiles("print(1);\npass()"));
}

#[test]
fn a_native_script_answers_only_pass() {
    let (bundle, params) = (
        Bundle::load(Path::new("fixtures/bundles/demo")).unwrap(),
        BTreeMap::new(),
    );
    let world = World::new(bundle, builtin_data());
    let compile = |body: &str| {
        let src = format!("fn check(r, params) {{\n{body}\n}}");
        let ast = script::compile_script(&src).unwrap();
        compile_script(&ast, &src, Dataset::Exams, &params).unwrap()
    };
    let always = compile("pass()");
    let never = compile("fail()");
    let falls_off = compile("let x = 1;");
    let truth = compile("true");
    for idx in 0..5 {
        assert_eq!(always.passes(&world, Dataset::Exams, idx), Some(true));
        assert_eq!(never.passes(&world, Dataset::Exams, idx), None);
        assert_eq!(falls_off.passes(&world, Dataset::Exams, idx), None);
        assert_eq!(truth.passes(&world, Dataset::Exams, idx), Some(true));
        assert_eq!(always.passes(&world, Dataset::Sessions, idx), None);
    }
}
