//! Running rule checks: the Rhai runtime (`sandbox`: one engine with limits and the helpers
//! scripts call, records handed over by reference) and the native fast path (`native`: the
//! common shapes of expressions and scripts answered in Rust with Rhai's exact semantics).
//! Both run the ASTs `policy::script` compiled at load.

pub mod native;
pub mod sandbox;
