//! The native fast path of `expr` checks: a Rhai expression in a small subset (field reads,
//! parameters, literals, `type_of`, comparisons, `in`, `!`, `&&`, `||`) compiled once into a tree
//! that Rust evaluates per record, with Rhai's exact answers.
//!
//! The tree is built from the AST Rhai itself parsed and optimized, so precedence and constant
//! folding are Rhai's own. Evaluation answers only when it is certain which bool Rhai would
//! return; on a Rhai error, a non-bool result or any doubt it answers `None`, and the caller runs
//! the record through Rhai, which keeps Rhai's behaviour and messages for those cases.
//!
//! `value` holds the constants and values and how Rhai compares them; `compile` turns an
//! expression into a tree; `evaluate` reads a tree against a record; `script` compiles and runs
//! rule scripts on the same pieces.

mod compile;
mod evaluate;
mod script;
mod value;

pub use compile::{NativeExpr, compile, compile_ast};
pub use script::{NativeScript, compile_script};

#[cfg(test)]
mod tests;
