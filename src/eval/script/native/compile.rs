//! The expression compiler: a Rhai expression's AST, as Rhai parsed and optimized it, turned
//! into a `Node` tree over `r`, its joins and fields, parameters and constants; `None` for
//! anything outside the subset. The script compiler extends the same `Compiler` with locals.

use std::collections::BTreeMap;

use rhai::{AST, Expr, FnCallExpr, Stmt};

use super::value::{Limits, Lit, dynamic_literal, literal};
use crate::bundle::schema::Dataset;
use crate::eval::script::sandbox;
use crate::policy::fields::{self, FieldRef, Join};
use crate::policy::model::CompareOp;
use crate::policy::script;

/// An expression check compiled to native code.
#[derive(Debug)]
pub struct NativeExpr {
    pub(super) dataset: Dataset,
    pub(super) root: Node,
    pub(super) limits: Limits,
}

/// A compiled expression, or a part of one.
#[derive(Debug)]
pub(super) enum Node {
    Lit(Lit),
    /// `r`, or `r` followed by joins (`r.onsite`): a linked record, `()` when the last join
    /// names nobody.
    Record(Box<[Join]>),
    /// A field of `r`, or of a record reached by joins (`r.supervisor.role`).
    Field(Box<[Join]>, FieldRef),
    TypeOf(Box<Node>),
    Compare(CompareOp, Box<(Node, Node)>),
    /// `needle in haystack`, which Rhai parses as `contains(haystack, needle)`.
    In(Box<(Node, Node)>),
    Not(Box<Node>),
    And(Box<[Node]>),
    Or(Box<[Node]>),
    /// A script's local variable (by slot).
    Local(usize),
    /// A field of the record a local holds, or of a record reached from it by joins.
    LocalField(usize, Box<[Join]>, FieldRef),
    /// The record a local holds, or one reached from it by joins.
    LocalRecord(usize, Box<[Join]>),
    /// `x.is_empty()` of a local array.
    IsEmpty(usize),
    /// `uncovered(r)`: the exam's first coverage gap, a map, or `()` when fully covered.
    Uncovered,
}

/// What a script's local holds, as far as compiling needs to know.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    /// A value read or computed: only compared or tested.
    Value,
    /// A record of this dataset (or `()`): its fields may be read.
    Record(Dataset),
    /// An array of records of this dataset (`r.sessions()`): iterated or tested for emptiness.
    Records(Dataset),
    /// An array built by the script from literals (`let missing = []; missing.push("audio")`).
    Array,
}

/// Compiles an expression check; `None` when it uses anything outside the supported subset
/// (then Rhai runs it).
pub fn compile(
    source: &str,
    dataset: Dataset,
    parameters: &BTreeMap<String, toml::Value>,
) -> Option<NativeExpr> {
    let ast = script::compile_expr(source).ok()?;
    compile_ast(&ast, dataset, parameters)
}

/// Compiles the AST of an expression check (from [`script::compile_expr`]), as [`compile`].
pub fn compile_ast(
    ast: &AST,
    dataset: Dataset,
    parameters: &BTreeMap<String, toml::Value>,
) -> Option<NativeExpr> {
    if ast.iter_functions().next().is_some() {
        return None;
    }
    let compiler = Compiler::new(dataset, parameters, "r", "params");
    let root = match ast.statements() {
        [Stmt::Expr(e)] => compiler.expr(e)?,
        [Stmt::FnCall(call, _)] => compiler.call(call)?,
        _ => return None,
    };
    Some(NativeExpr {
        dataset,
        root,
        limits: Limits::of_engine(),
    })
}

/// Turns Rhai's AST into `Node`s, keeping track of a script's locals as it goes.
pub(super) struct Compiler<'p> {
    pub(super) dataset: Dataset,
    parameters: &'p BTreeMap<String, toml::Value>,
    /// The names the record and the parameters go by (`r` and `params`, or a script's own).
    pub(super) record: &'p str,
    params: &'p str,
    /// A script's locals in scope, innermost last: name, slot, kind.
    pub(super) locals: std::cell::RefCell<Vec<(String, usize, Kind)>>,
    pub(super) slots: std::cell::Cell<usize>,
}

impl<'p> Compiler<'p> {
    pub(super) fn new(
        dataset: Dataset,
        parameters: &'p BTreeMap<String, toml::Value>,
        record: &'p str,
        params: &'p str,
    ) -> Compiler<'p> {
        Compiler {
            dataset,
            parameters,
            record,
            params,
            locals: std::cell::RefCell::new(Vec::new()),
            slots: std::cell::Cell::new(0),
        }
    }

    pub(super) fn local(&self, name: &str) -> Option<(usize, Kind)> {
        self.locals
            .borrow()
            .iter()
            .rev()
            .find(|(n, ..)| n == name)
            .map(|(_, slot, kind)| (*slot, *kind))
    }

    /// A new local in the innermost scope.
    pub(super) fn declare(&self, name: &str, kind: Kind) -> usize {
        let slot = self.slots.get();
        self.slots.set(slot + 1);
        self.locals
            .borrow_mut()
            .push((name.to_string(), slot, kind));
        slot
    }

    pub(super) fn expr(&self, e: &Expr) -> Option<Node> {
        Some(match e {
            Expr::Variable(var, ..) => match self.local(var.1.as_str()) {
                Some((slot, Kind::Value | Kind::Array)) => Node::Local(slot),
                Some((slot, Kind::Record(_))) => Node::LocalRecord(slot, Box::new([])),
                Some((_, Kind::Records(_))) => return None,
                None if var.1 == self.record => Node::Record(Box::new([])),
                None => return None,
            },
            Expr::Dot(x, flags, _) if flags.is_empty() => self.dot(&x.lhs, &x.rhs)?,
            Expr::FnCall(call, _) => self.call(call)?,
            Expr::And(items, _) => Node::And(self.all(items)?),
            Expr::Or(items, _) => Node::Or(self.all(items)?),
            other => Node::Lit(literal(other)?),
        })
    }

    fn all(&self, items: &[Expr]) -> Option<Box<[Node]>> {
        items.iter().map(|e| self.expr(e)).collect()
    }

    pub(super) fn call(&self, call: &FnCallExpr) -> Option<Node> {
        if call.capture_parent_scope {
            return None;
        }
        let operator = call.op_token.is_some();
        Some(match (call.name.as_str(), &call.args[..], operator) {
            ("type_of", [x], false) => Node::TypeOf(Box::new(self.expr(x)?)),
            ("uncovered", [Expr::Variable(var, ..)], false)
                if var.1 == self.record
                    && self.local(self.record).is_none()
                    && self.dataset == Dataset::Exams =>
            {
                Node::Uncovered
            }
            ("!", [x], true) => Node::Not(Box::new(self.expr(x)?)),
            ("contains", [haystack, needle], false) => {
                Node::In(Box::new((self.expr(needle)?, self.expr(haystack)?)))
            }
            (symbol, [a, b], true) => Node::Compare(
                CompareOp::parse(symbol)?,
                Box::new((self.expr(a)?, self.expr(b)?)),
            ),
            _ => return None,
        })
    }

    /// `r.a.b...`, `params.name`, a local record's fields, and the methods `len()` and
    /// `is_empty()` of parameters and local arrays.
    fn dot(&self, lhs: &Expr, rhs: &Expr) -> Option<Node> {
        let Expr::Variable(var, ..) = lhs else {
            return None;
        };
        let name = var.1.as_str();
        if let Some((slot, kind)) = self.local(name) {
            return match (kind, rhs) {
                (Kind::Record(dataset), _) => {
                    let names = property_chain(rhs)?;
                    self.path_from(dataset, &names, Some(slot))
                }
                (Kind::Array | Kind::Records(_), Expr::MethodCall(call, _))
                    if call.name == "is_empty" && call.args.is_empty() =>
                {
                    Some(Node::IsEmpty(slot))
                }
                _ => None,
            };
        }
        if name == self.record {
            return self.path(&property_chain(rhs)?);
        }
        if name != self.params {
            return None;
        }
        // `params.name`, or `params.name.len()` / `.is_empty()` folded to a constant.
        let (param, method) = match rhs {
            Expr::Property(p, _) => (p.2.as_str(), None),
            Expr::Dot(x, flags, _) if flags.is_empty() => match (&x.lhs, &x.rhs) {
                (Expr::Property(p, _), Expr::MethodCall(call, _)) if call.args.is_empty() => {
                    (p.2.as_str(), Some(call.name.as_str()))
                }
                _ => return None,
            },
            _ => return None,
        };
        let value = sandbox::toml_to_dynamic(self.parameters.get(param)?);
        sandbox::engine()
            .ensure_data_size_within_limits(&value)
            .ok()?;
        let lit = dynamic_literal(&value)?;
        Some(Node::Lit(match (method, &lit) {
            (None, _) => lit,
            (Some("len"), Lit::Array(items)) => Lit::Int(i64::try_from(items.len()).ok()?),
            (Some("is_empty"), Lit::Array(items)) => Lit::Bool(items.is_empty()),
            _ => return None,
        }))
    }

    /// Resolves the properties after `r` as `sandbox::get_field` reads them: a join name gives
    /// the linked record, any other name a field; a field must come last (properties of values
    /// are outside the subset).
    fn path(&self, names: &[&str]) -> Option<Node> {
        self.path_from(self.dataset, names, None)
    }

    /// [`Compiler::path`] from a record of `dataset`: `r` itself, or the record in `local`.
    fn path_from(
        &self,
        mut dataset: Dataset,
        names: &[&str],
        local: Option<usize>,
    ) -> Option<Node> {
        let mut joins = Vec::new();
        for (i, name) in names.iter().enumerate() {
            if let Some((join, _)) = Join::available(dataset)
                .iter()
                .find(|(j, _)| j.name() == *name)
            {
                joins.push(*join);
                dataset = join.target();
            } else if i + 1 == names.len() {
                let field = fields::resolve(dataset, name).ok()?;
                return Some(match local {
                    Some(slot) => Node::LocalField(slot, joins.into(), field),
                    None => Node::Field(joins.into(), field),
                });
            } else {
                return None;
            }
        }
        Some(match local {
            Some(slot) => Node::LocalRecord(slot, joins.into()),
            None => Node::Record(joins.into()),
        })
    }
}

/// The names of `.a.b.c` after a variable, from Rhai's nested `Dot` of `Property` nodes.
fn property_chain(mut e: &Expr) -> Option<Vec<&str>> {
    let mut names = Vec::new();
    loop {
        match e {
            Expr::Property(p, _) => {
                names.push(p.2.as_str());
                return Some(names);
            }
            Expr::Dot(x, flags, _) if flags.is_empty() => {
                let Expr::Property(p, _) = &x.lhs else {
                    return None;
                };
                names.push(p.2.as_str());
                e = &x.rhs;
            }
            _ => return None,
        }
    }
}
