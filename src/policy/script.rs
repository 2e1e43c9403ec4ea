//! Rule expressions and scripts as data: compiled to Rhai ASTs at load, under the engine limits
//! that also bound their execution (the runtime, with its registered helpers, is
//! `eval::script`). Compiling needs no helper: Rhai resolves calls when a script runs.

use std::sync::OnceLock;

use rhai::{AST, Engine, Position};

/// Operations one evaluation (one rule on one record) may take: a runaway loop stops here,
/// within a fraction of a second.
pub const MAX_OPERATIONS: u64 = 1_000_000;

/// A compile error with its 1-based line and column.
#[derive(Debug, Clone)]
pub struct ScriptError {
    pub message: String,
    pub position: Option<(usize, usize)>,
}

fn position(p: Position) -> Option<(usize, usize)> {
    p.line().map(|l| (l, p.position().unwrap_or(1)))
}

/// A Rhai engine with vigil's limits on, printing off and `eval` disabled; no module, file or
/// network access exists in a raw engine without packages, and none is registered. Both the
/// compiler here and the runtime of `eval::script` start from it.
pub fn limited_engine() -> Engine {
    let mut e = Engine::new();
    e.set_max_operations(MAX_OPERATIONS);
    e.set_max_call_levels(32);
    e.set_max_expr_depths(64, 32);
    e.set_max_string_size(64 * 1024);
    e.set_max_array_size(100_000);
    e.set_max_map_size(10_000);
    e.set_max_variables(256);
    e.set_max_functions(256);
    e.on_print(|_| {});
    e.on_debug(|_, _, _| {});
    e.disable_symbol("eval");
    e
}

/// The functions the script runtime (`eval::script::sandbox`) adds to a limited engine: a
/// script may call them (a test there keeps this list equal to what it registers).
pub const SCRIPT_HELPERS: [&str; 12] = [
    "sessions",
    "reactions",
    "uncovered",
    "contrast_exams",
    "contrast_reactions",
    "to_string",
    "to_debug",
    "seconds_between",
    "date",
    "pass",
    "fail",
    "not_applicable",
];

/// Functions Rhai's parser handles itself rather than through a library.
const KEYWORD_FUNCTIONS: [&str; 9] = [
    "type_of",
    "print",
    "debug",
    "Fn",
    "call",
    "curry",
    "is_def_var",
    "is_def_fn",
    "is_shared",
];

/// The names of every function a rule script may call: Rhai's standard library under the
/// engine limits, vigil's helpers, and the functions Rhai's parser knows.
pub fn known_functions() -> &'static std::collections::BTreeSet<String> {
    static NAMES: OnceLock<std::collections::BTreeSet<String>> = OnceLock::new();
    NAMES.get_or_init(|| {
        let mut names: std::collections::BTreeSet<String> = limited_engine()
            .collect_fn_metadata(None, |f| Some(f.metadata.name.to_string()), true)
            .into_iter()
            .collect();
        names.extend(SCRIPT_HELPERS.iter().map(|s| s.to_string()));
        names.extend(KEYWORD_FUNCTIONS.iter().map(|s| s.to_string()));
        names
    })
}

fn compiler() -> &'static Engine {
    static ENGINE: OnceLock<Engine> = OnceLock::new();
    ENGINE.get_or_init(limited_engine)
}

/// Compiles a `kind = "expr"` check.
pub fn compile_expr(source: &str) -> Result<AST, ScriptError> {
    compiler()
        .compile_expression(source)
        .map_err(|e| ScriptError {
            message: e.0.to_string(),
            position: position(e.1),
        })
}

/// Compiles a rule script.
pub fn compile_script(source: &str) -> Result<AST, ScriptError> {
    compiler().compile(source).map_err(|e| ScriptError {
        message: e.0.to_string(),
        position: position(e.1),
    })
}

/// Whether a script defines `check(r, params)`.
pub fn defines_check(ast: &AST) -> bool {
    ast.iter_functions()
        .any(|f| f.name == "check" && f.params.len() == 2)
}
