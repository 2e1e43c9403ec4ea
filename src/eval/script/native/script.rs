//! Rule scripts on the native path: `fn check(r, params)` compiled to statements over locals
//! (`let`, `if`, `return`, `push`, `for` over records) and run per record, answering only
//! "pass".

use std::collections::BTreeMap;

use rhai::{AST, Expr, FnCallExpr, Stmt};

use super::compile::{Compiler, Kind, Node};
use super::evaluate::{At, Slot};
use super::value::{Limits, Lit, literal};
use crate::bundle::schema::Dataset;
use crate::eval::world::World;
use crate::policy::fields::Join;
use crate::policy::script;

/// A rule script's `fn check(r, params)` compiled to native code for the paths that end in
/// `pass()`. Evaluation answers only "pass", and only when it followed the script to a
/// `pass()`; a path that reaches `fail(...)`, `not_applicable(...)` or anything uncertain
/// answers `None`, and the caller runs the record through Rhai, which then decides (and words)
/// the outcome. Failures are rare, so almost every record stays native.
#[derive(Debug)]
pub struct NativeScript {
    dataset: Dataset,
    body: Box<[SStmt]>,
    slots: usize,
    limits: Limits,
}

/// A statement of the supported subset.
#[derive(Debug)]
enum SStmt {
    /// `let x = ...;`
    Let(usize, Init),
    If(Node, Box<[SStmt]>, Box<[SStmt]>),
    /// `return ...;`
    Return(End),
    /// An expression statement in tail position: the value of its block.
    Tail(End),
    /// `xs.push(literal);` on a local array.
    Push(usize, Lit),
    /// `for x in xs { ... }` over a local array of records.
    For(usize, usize, Box<[SStmt]>),
}

/// What a `let` puts in its local.
#[derive(Debug)]
enum Init {
    Node(Node),
    /// `r.sessions()`.
    Sessions,
    /// `[]`, or an array of literals.
    Array(Vec<Lit>),
}

/// What a script returns.
#[derive(Debug)]
enum End {
    /// `pass()`.
    Pass,
    /// `fail(...)`, `not_applicable(...)` and other values: left to Rhai.
    Rhai,
    /// A bool: `true` passes; `false` is left to Rhai.
    Bool(Node),
}

/// Loops longer than this are left to Rhai (which counts operations against its limit).
const MAX_NATIVE_ITERATIONS: usize = 1000;

/// Compiles a rule script's `check`; `None` when it uses anything outside the subset or
/// defines other functions (which could shadow `pass` or `type_of`).
pub fn compile_script(
    ast: &AST,
    source: &str,
    dataset: Dataset,
    parameters: &BTreeMap<String, toml::Value>,
) -> Option<NativeScript> {
    let mut functions = ast.iter_fn_def();
    let check = functions.next()?;
    if functions.next().is_some()
        || check.name != "check"
        || check.params.len() != 2
        || !ast.statements().is_empty()
    {
        return None;
    }
    let compiler = Compiler::new(
        dataset,
        parameters,
        check.params[0].as_str(),
        check.params[1].as_str(),
    );
    // Rhai does not export the type of a function's body, so the body is compiled again on its
    // own, from the text between its braces: the same statements, as top-level statements.
    let text = |p: rhai::Position| Some(char_offset(source, p.line()?, p.position()?));
    let (open, close) = (
        text(check.body.start_position())?,
        text(check.body.end_position())?,
    );
    if source.get(open..open + 1) != Some("{") || source.get(close..close + 1) != Some("}") {
        return None;
    }
    let body_ast = script::compile_script(source.get(open + 1..close)?).ok()?;
    if body_ast.iter_functions().next().is_some() {
        return None;
    }
    let body = compiler.block(body_ast.statements(), true)?;
    Some(NativeScript {
        dataset,
        body,
        slots: compiler.slots.get(),
        limits: Limits::of_engine(),
    })
}

/// The byte offset of a 1-based line and character column.
fn char_offset(text: &str, line: usize, column: usize) -> usize {
    let mut offset = 0;
    for (i, l) in text.split_inclusive('\n').enumerate() {
        if i + 1 == line {
            return offset
                + l.char_indices()
                    .nth(column.saturating_sub(1))
                    .map_or(l.len(), |(at, _)| at);
        }
        offset += l.len();
    }
    text.len()
}

impl Compiler<'_> {
    /// A block; `tail`: its value is the function's result.
    fn block(&self, stmts: &[Stmt], tail: bool) -> Option<Box<[SStmt]>> {
        let depth = self.locals.borrow().len();
        let mut out = Vec::with_capacity(stmts.len());
        for (i, stmt) in stmts.iter().enumerate() {
            let last = tail && i + 1 == stmts.len();
            out.push(self.stmt(stmt, last)?);
        }
        self.locals.borrow_mut().truncate(depth);
        Some(out.into_boxed_slice())
    }

    fn stmt(&self, stmt: &Stmt, tail: bool) -> Option<SStmt> {
        Some(match stmt {
            Stmt::Var(x, ..) => {
                let (name, init, _) = &**x;
                let (init, kind) = match init {
                    // An array of literals (Rhai may have folded it to a constant): a local
                    // array the script can push to.
                    e if matches!(literal(e), Some(Lit::Array(_))) => match literal(e) {
                        Some(Lit::Array(items)) => (Init::Array(items.into_vec()), Kind::Array),
                        _ => return None,
                    },
                    Expr::Dot(d, flags, _)
                        if flags.is_empty() && self.is_sessions(&d.lhs, &d.rhs) =>
                    {
                        (Init::Sessions, Kind::Records(Dataset::Sessions))
                    }
                    other => {
                        let node = self.expr(other)?;
                        let kind = match &node {
                            Node::Record(joins) | Node::LocalRecord(_, joins) => {
                                Kind::Record(self.record_dataset(&node, joins)?)
                            }
                            _ => Kind::Value,
                        };
                        (Init::Node(node), kind)
                    }
                };
                SStmt::Let(self.declare(name.as_str(), kind), init)
            }
            Stmt::If(flow, _) => SStmt::If(
                self.expr(&flow.expr)?,
                self.block(flow.body.statements(), tail)?,
                self.block(flow.branch.statements(), tail)?,
            ),
            Stmt::Return(Some(e), ..) => SStmt::Return(self.end(e)?),
            Stmt::Expr(e) if tail => SStmt::Tail(self.end(e)?),
            Stmt::FnCall(call, _) if tail => SStmt::Tail(self.end_call(call)?),
            Stmt::Expr(e) => self.push(e)?,
            Stmt::For(x, _) if !tail => {
                let (var, counter, flow) = &**x;
                if counter.is_some() || !flow.branch.statements().is_empty() {
                    return None;
                }
                let Expr::Variable(list, ..) = &flow.expr else {
                    return None;
                };
                let (list, Kind::Records(dataset)) = self.local(list.1.as_str())? else {
                    return None;
                };
                let depth = self.locals.borrow().len();
                let item = self.declare(var.as_str(), Kind::Record(dataset));
                let body = self.block(flow.body.statements(), false)?;
                self.locals.borrow_mut().truncate(depth);
                SStmt::For(item, list, body)
            }
            _ => return None,
        })
    }

    /// The dataset of the record a record node names.
    fn record_dataset(&self, node: &Node, joins: &[Join]) -> Option<Dataset> {
        let start = match node {
            Node::Record(_) => self.dataset,
            Node::LocalRecord(slot, _) => self
                .locals
                .borrow()
                .iter()
                .find(|(_, s, _)| s == slot)
                .and_then(|(_, _, kind)| match kind {
                Kind::Record(d) => Some(*d),
                _ => None,
            })?,
            _ => return None,
        };
        Some(joins.last().map_or(start, |j| j.target()))
    }

    /// `r.sessions()` on an exam.
    fn is_sessions(&self, lhs: &Expr, rhs: &Expr) -> bool {
        matches!(lhs, Expr::Variable(var, ..) if var.1 == self.record && self.local(self.record).is_none())
            && matches!(rhs, Expr::MethodCall(call, _) if call.name == "sessions" && call.args.is_empty())
            && self.dataset == Dataset::Exams
    }

    /// `xs.push(literal)` on a local array.
    fn push(&self, e: &Expr) -> Option<SStmt> {
        let Expr::Dot(d, flags, _) = e else {
            return None;
        };
        let (Expr::Variable(var, ..), Expr::MethodCall(call, _)) = (&d.lhs, &d.rhs) else {
            return None;
        };
        let (slot, Kind::Array) = self.local(var.1.as_str())? else {
            return None;
        };
        match (flags.is_empty(), call.name.as_str(), &call.args[..]) {
            (true, "push", [item]) => Some(SStmt::Push(slot, literal(item)?)),
            _ => None,
        }
    }

    fn end(&self, e: &Expr) -> Option<End> {
        match e {
            Expr::FnCall(call, _) => self.end_call(call),
            other => Some(End::Bool(self.expr(other)?)),
        }
    }

    fn end_call(&self, call: &FnCallExpr) -> Option<End> {
        if call.op_token.is_none() {
            match (call.name.as_str(), call.args.is_empty()) {
                ("pass", true) => return Some(End::Pass),
                ("fail" | "not_applicable", _) => return Some(End::Rhai),
                _ => {}
            }
        }
        Some(End::Bool(self.call(call)?))
    }
}

/// How a block ended.
enum Flow {
    /// The function returned `pass()` (or `true`).
    Pass,
    /// The block ran to its end without returning.
    Next,
}

impl NativeScript {
    /// `Some(true)` when the script returns `pass()` (or `true`) for this record, exactly as
    /// Rhai would; `None` for every other outcome or any doubt (the caller then runs Rhai).
    pub fn passes(&self, world: &World, dataset: Dataset, idx: u32) -> Option<bool> {
        if dataset != self.dataset {
            return None;
        }
        let mut locals = vec![Slot::Unset; self.slots];
        match self.run(world, idx, &self.body, &mut locals)? {
            Flow::Pass => Some(true),
            // The function ended without a value: `()`, an error in Rhai.
            Flow::Next => None,
        }
    }

    fn run(
        &self,
        world: &World,
        idx: u32,
        stmts: &[SStmt],
        locals: &mut Vec<Slot>,
    ) -> Option<Flow> {
        for stmt in stmts {
            let at = At {
                world,
                limits: self.limits,
                dataset: self.dataset,
                idx,
                locals,
            };
            match stmt {
                SStmt::Let(slot, init) => {
                    let value = match init {
                        Init::Node(node) => at.slot(node)?,
                        Init::Array(items) => Slot::Array(items.clone()),
                        Init::Sessions => {
                            Slot::Records(Dataset::Sessions, world.exam_sessions(idx))
                        }
                    };
                    *locals.get_mut(*slot)? = value;
                }
                SStmt::If(cond, then, otherwise) => {
                    let branch = if at.bool(cond)? { then } else { otherwise };
                    if let Flow::Pass = self.run(world, idx, branch, locals)? {
                        return Some(Flow::Pass);
                    }
                }
                SStmt::Return(end) | SStmt::Tail(end) => {
                    return match end {
                        End::Pass => Some(Flow::Pass),
                        End::Bool(node) if at.bool(node)? => Some(Flow::Pass),
                        End::Bool(_) | End::Rhai => None,
                    };
                }
                SStmt::Push(slot, item) => match locals.get_mut(*slot)? {
                    Slot::Array(items) if items.len() < MAX_NATIVE_ITERATIONS => {
                        items.push(item.clone());
                    }
                    _ => return None,
                },
                SStmt::For(item, list, body) => {
                    // The list is lent out of its slot while the body runs, then put back (a body
                    // that reads the list meanwhile finds no value and leaves the record to Rhai).
                    let Slot::Records(dataset, records) = std::mem::take(locals.get_mut(*list)?)
                    else {
                        return None;
                    };
                    if records.len() > MAX_NATIVE_ITERATIONS {
                        return None;
                    }
                    for &r in &records {
                        *locals.get_mut(*item)? = Slot::Record(Some((dataset, r)));
                        if let Flow::Pass = self.run(world, idx, body, locals)? {
                            return Some(Flow::Pass);
                        }
                    }
                    *locals.get_mut(*list)? = Slot::Records(dataset, records);
                }
            }
        }
        Some(Flow::Next)
    }
}
