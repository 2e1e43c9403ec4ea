//! The native fast path of `expr` checks: a Rhai expression in a small subset (field reads,
//! parameters, literals, `type_of`, comparisons, `in`, `!`, `&&`, `||`) compiled once into a tree
//! that Rust evaluates per record, with Rhai's exact answers.
//!
//! The tree is built from the AST Rhai itself parsed and optimized, so precedence and constant
//! folding are Rhai's own. Evaluation answers only when it is certain which bool Rhai would
//! return; on a Rhai error, a non-bool result or any doubt it answers `None`, and the caller runs
//! the record through Rhai, which keeps Rhai's behaviour and messages for those cases.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use rhai::{AST, Dynamic, Expr, FnCallExpr, Stmt};

use crate::bundle::schema::Dataset;
use crate::bundle::value::Value;
use crate::eval::script::sandbox;
use crate::eval::world::World;
use crate::policy::fields::{self, FieldRef, Join};
use crate::policy::script;

/// An expression check compiled to native code.
#[derive(Debug)]
pub struct NativeExpr {
    dataset: Dataset,
    root: Node,
    limits: Limits,
}

/// Rhai's data limits (0 for none): Rhai raises an error when a record read gives a longer
/// string, or an array with more items or more text in all.
#[derive(Debug, Clone, Copy)]
struct Limits {
    string: usize,
    array: usize,
}

impl Limits {
    fn of_engine() -> Limits {
        let engine = sandbox::engine();
        Limits {
            string: engine.max_string_size(),
            array: engine.max_array_size(),
        }
    }

    fn admit(self, v: &Value) -> bool {
        let over = |n: usize, max: usize| max != 0 && n > max;
        match v {
            Value::Str(s) => !over(s.len(), self.string),
            Value::List(items) => {
                let text = items.iter().map(|s| s.len()).sum();
                !over(items.len(), self.array) && !over(text, self.string)
            }
            _ => true,
        }
    }
}

/// A constant: a literal of the expression or a parameter, as Rhai holds it.
#[derive(Debug, Clone)]
enum Lit {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(Box<str>),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    Array(Box<[Lit]>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn from_symbol(symbol: &str) -> Option<Op> {
        Some(match symbol {
            "==" => Op::Eq,
            "!=" => Op::Ne,
            "<" => Op::Lt,
            "<=" => Op::Le,
            ">" => Op::Gt,
            ">=" => Op::Ge,
            _ => return None,
        })
    }

    fn holds(self, ord: Ordering) -> bool {
        match self {
            Op::Eq => ord.is_eq(),
            Op::Ne => ord.is_ne(),
            Op::Lt => ord.is_lt(),
            Op::Le => ord.is_le(),
            Op::Gt => ord.is_gt(),
            Op::Ge => ord.is_ge(),
        }
    }
}

#[derive(Debug)]
enum Node {
    Lit(Lit),
    /// `r`, or `r` followed by joins (`r.onsite`): a linked record, `()` when the last join
    /// names nobody.
    Record(Box<[Join]>),
    /// A field of `r`, or of a record reached by joins (`r.supervisor.role`).
    Field(Box<[Join]>, FieldRef),
    TypeOf(Box<Node>),
    Compare(Op, Box<(Node, Node)>),
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
enum Kind {
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

struct Compiler<'p> {
    dataset: Dataset,
    parameters: &'p BTreeMap<String, toml::Value>,
    /// The names the record and the parameters go by (`r` and `params`, or a script's own).
    record: &'p str,
    params: &'p str,
    /// A script's locals in scope, innermost last: name, slot, kind.
    locals: std::cell::RefCell<Vec<(String, usize, Kind)>>,
    slots: std::cell::Cell<usize>,
}

impl<'p> Compiler<'p> {
    fn new(
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

    fn local(&self, name: &str) -> Option<(usize, Kind)> {
        self.locals
            .borrow()
            .iter()
            .rev()
            .find(|(n, ..)| n == name)
            .map(|(_, slot, kind)| (*slot, *kind))
    }

    /// A new local in the innermost scope.
    fn declare(&self, name: &str, kind: Kind) -> usize {
        let slot = self.slots.get();
        self.slots.set(slot + 1);
        self.locals
            .borrow_mut()
            .push((name.to_string(), slot, kind));
        slot
    }

    fn expr(&self, e: &Expr) -> Option<Node> {
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

    fn call(&self, call: &FnCallExpr) -> Option<Node> {
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
                Op::from_symbol(symbol)?,
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

fn literal(e: &Expr) -> Option<Lit> {
    Some(match e {
        Expr::Unit(_) => Lit::Unit,
        Expr::BoolConstant(b, _) => Lit::Bool(*b),
        Expr::IntegerConstant(i, _) => Lit::Int(*i),
        Expr::FloatConstant(f, _) => Lit::Float(**f),
        Expr::StringConstant(s, _) => Lit::Str(s.as_str().into()),
        Expr::DynamicConstant(d, _) => dynamic_literal(d)?,
        Expr::Array(items, _) => Lit::Array(items.iter().map(literal).collect::<Option<_>>()?),
        _ => return None,
    })
}

/// A constant Rhai value (a folded constant, or a parameter through `toml_to_dynamic`).
fn dynamic_literal(d: &Dynamic) -> Option<Lit> {
    if d.is_unit() {
        return Some(Lit::Unit);
    }
    if let Ok(b) = d.as_bool() {
        return Some(Lit::Bool(b));
    }
    if let Ok(i) = d.as_int() {
        return Some(Lit::Int(i));
    }
    if let Ok(f) = d.as_float() {
        return Some(Lit::Float(f));
    }
    if d.is_string() {
        return Some(Lit::Str(
            d.clone().into_immutable_string().ok()?.as_str().into(),
        ));
    }
    if d.is_array() {
        let items = d.as_array_ref().ok()?;
        return Some(Lit::Array(
            items.iter().map(dynamic_literal).collect::<Option<_>>()?,
        ));
    }
    if let Some(date) = d.clone().try_cast::<sandbox::Date>() {
        return Some(Lit::Date(date.0));
    }
    if let Some(t) = d.clone().try_cast::<sandbox::Instant>() {
        return Some(Lit::Instant(t.0));
    }
    None
}

/// A value as a Rhai script sees it (see `sandbox::to_dynamic`).
#[derive(Clone, Copy)]
enum View<'v> {
    Unit,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(&'v str),
    Date(NaiveDate),
    Instant(DateTime<Utc>),
    Strs(&'v [Box<str>]),
    Lits(&'v [Lit]),
    Record,
    /// A map (what `uncovered` returns for a gap).
    Map,
}

impl Lit {
    fn view(&self) -> View<'_> {
        match self {
            Lit::Unit => View::Unit,
            Lit::Bool(b) => View::Bool(*b),
            Lit::Int(i) => View::Int(*i),
            Lit::Float(x) => View::Float(*x),
            Lit::Str(s) => View::Str(s),
            Lit::Date(d) => View::Date(*d),
            Lit::Instant(t) => View::Instant(*t),
            Lit::Array(items) => View::Lits(items),
        }
    }
}

/// Mirrors `sandbox::to_dynamic`: missing, invalid and zone-less values are `()`.
fn value_view(v: &Value) -> View<'_> {
    match v {
        Value::Missing | Value::Invalid(_) | Value::Local(_) | Value::NoInstant(..) => View::Unit,
        Value::Str(s) => View::Str(s),
        Value::Enum(s) => View::Str(s),
        Value::Int(i) => View::Int(*i),
        Value::Float(x) => View::Float(*x),
        Value::Bool(b) => View::Bool(*b),
        Value::Date(d) => View::Date(*d),
        Value::Ts(t) => View::Instant(*t),
        Value::List(items) => View::Strs(items),
    }
}

impl View<'_> {
    /// What `type_of` returns (custom type names as registered in the sandbox).
    fn type_name(self) -> &'static str {
        match self {
            View::Unit => "()",
            View::Bool(_) => "bool",
            View::Int(_) => "i64",
            View::Float(_) => "f64",
            View::Str(_) => "string",
            View::Date(_) => "Date",
            View::Instant(_) => "Instant",
            View::Strs(_) | View::Lits(_) => "array",
            View::Record => "Record",
            View::Map => "map",
        }
    }
}

/// A comparison as Rhai answers it; `None` where Rhai raises an error (two records) or where
/// we leave it to Rhai (two arrays).
fn compare(op: Op, a: View<'_>, b: View<'_>) -> Option<bool> {
    let ord = match (a, b) {
        (View::Int(x), View::Int(y)) => x.cmp(&y),
        (View::Int(x), View::Float(y)) => return Some(float_compare(op, x as f64, y)),
        (View::Float(x), View::Int(y)) => return Some(float_compare(op, x, y as f64)),
        (View::Float(x), View::Float(y)) => return Some(float_compare(op, x, y)),
        (View::Bool(x), View::Bool(y)) => x.cmp(&y),
        (View::Str(x), View::Str(y)) => x.cmp(y),
        (View::Date(x), View::Date(y)) => x.cmp(&y),
        (View::Instant(x), View::Instant(y)) => x.cmp(&y),
        // `()` equals `()` yet Rhai answers false to `<=` and `>=` as well.
        (View::Unit, View::Unit) => return Some(op == Op::Eq),
        // Rhai's fallback for values of different types: unequal, and false to every ordering.
        _ if a.type_name() != b.type_name() => return Some(op == Op::Ne),
        _ => return None,
    };
    Some(op.holds(ord))
}

/// Rhai's float comparison (a build without `unchecked`): equal within a relative epsilon.
fn float_compare(op: Op, x: f64, y: f64) -> bool {
    let max = if x * y == 0.0 {
        1.0
    } else {
        x.abs().max(y.abs())
    };
    if max == 0.0 {
        return matches!(op, Op::Eq | Op::Ge | Op::Le);
    }
    match op {
        Op::Eq => (x - y).abs() / max <= f64::EPSILON,
        Op::Ne => (x - y).abs() / max > f64::EPSILON,
        Op::Gt => (x - y) / max > f64::EPSILON,
        Op::Ge => (x - y) / max > -f64::EPSILON,
        Op::Lt => (y - x) / max > f64::EPSILON,
        Op::Le => (y - x) / max > -f64::EPSILON,
    }
}

/// Rhai's `contains(array, value)`: `item == value` for each item in turn. Other containers
/// (a string, `()`) are left to Rhai.
fn contains(haystack: View<'_>, needle: View<'_>) -> Option<bool> {
    match haystack {
        View::Strs(items) => any_equal(items.iter().map(|s| View::Str(s)), needle),
        View::Lits(items) => any_equal(items.iter().map(Lit::view), needle),
        _ => None,
    }
}

fn any_equal<'v>(items: impl Iterator<Item = View<'v>>, needle: View<'_>) -> Option<bool> {
    for item in items {
        if compare(Op::Eq, item, needle)? {
            return Some(true);
        }
    }
    Some(false)
}

/// Where evaluation reads: the record a rule judges.
#[derive(Clone, Copy)]
struct At<'w> {
    world: &'w World,
    limits: Limits,
    dataset: Dataset,
    idx: u32,
    /// A script's locals (empty for an expression).
    locals: &'w [Slot],
}

/// What a script's local holds at run time.
#[derive(Debug, Clone, Default)]
enum Slot {
    #[default]
    Unset,
    Value(Value),
    Lit(Lit),
    Bool(bool),
    /// A record, or `()`.
    Record(Option<(Dataset, u32)>),
    Records(Dataset, Vec<u32>),
    Array(Vec<Lit>),
    /// `uncovered(r)`: whether there is a gap (a map) or not (`()`).
    Gap(bool),
}

impl<'w> At<'w> {
    /// Follows joins. `None` when a join before the last names nobody (Rhai then reads a
    /// property of `()`, an error); `Some(None)` when only the last one does.
    fn follow(self, joins: &[Join]) -> Option<Option<(Dataset, u32)>> {
        self.follow_from((self.dataset, self.idx), joins)
    }

    /// [`At::follow`] from the record in a local; `None` when it holds `()` and joins follow
    /// (a property of `()`).
    fn follow_local(self, slot: usize, joins: &[Join]) -> Option<Option<(Dataset, u32)>> {
        match self.locals.get(slot)? {
            Slot::Record(Some(at)) => self.follow_from(*at, joins),
            Slot::Record(None) if joins.is_empty() => Some(None),
            _ => None,
        }
    }

    fn follow_from(self, mut at: (Dataset, u32), joins: &[Join]) -> Option<Option<(Dataset, u32)>> {
        for (i, join) in joins.iter().enumerate() {
            match self.world.join(at.0, at.1, *join) {
                Some(j) => at = (join.target(), j),
                None if i + 1 == joins.len() => return Some(None),
                None => return None,
            }
        }
        Some(Some(at))
    }

    /// A node that must give a bool; a non-bool is a Rhai error (or result) left to Rhai.
    fn bool(self, node: &Node) -> Option<bool> {
        match node {
            Node::Compare(op, pair) => {
                self.with(&pair.0, |a| self.with(&pair.1, |b| compare(*op, a, b)))
            }
            Node::In(pair) => self.with(&pair.0, |needle| {
                self.with(&pair.1, |hay| contains(hay, needle))
            }),
            Node::Not(x) => Some(!self.bool(x)?),
            Node::And(items) => self.all(items, false),
            Node::Or(items) => self.all(items, true),
            Node::Lit(_)
            | Node::Record(_)
            | Node::Field(..)
            | Node::TypeOf(_)
            | Node::IsEmpty(_)
            | Node::Local(_)
            | Node::LocalField(..)
            | Node::LocalRecord(..)
            | Node::Uncovered => self.with(node, |v| match v {
                View::Bool(b) => Some(b),
                _ => None,
            }),
        }
    }

    /// Calls `f` with the value of a node. Values are lent rather than returned: a field
    /// value may be owned (derived, redacted) and stays here while `f` looks at it.
    fn with<R>(self, node: &Node, f: impl FnOnce(View<'_>) -> Option<R>) -> Option<R> {
        match node {
            Node::Lit(l) => f(l.view()),
            Node::Record(joins) => match self.follow(joins)? {
                Some(_) => f(View::Record),
                None => f(View::Unit),
            },
            Node::Field(..) | Node::LocalField(..) => f(value_view(&*self.field(node)?)),
            Node::TypeOf(x) => f(View::Str(self.type_name(x)?)),
            Node::Local(slot) => match self.locals.get(*slot)? {
                Slot::Unset | Slot::Records(..) => None,
                Slot::Value(v) => f(value_view(v)),
                Slot::Lit(l) => f(l.view()),
                Slot::Bool(b) => f(View::Bool(*b)),
                Slot::Record(Some(_)) => f(View::Record),
                Slot::Record(None) => f(View::Unit),
                Slot::Array(items) => f(View::Lits(items)),
                Slot::Gap(true) => f(View::Map),
                Slot::Gap(false) => f(View::Unit),
            },
            Node::LocalRecord(slot, joins) => match self.follow_local(*slot, joins)? {
                Some(_) => f(View::Record),
                None => f(View::Unit),
            },
            Node::IsEmpty(slot) => match self.locals.get(*slot)? {
                Slot::Array(items) => f(View::Bool(items.is_empty())),
                Slot::Records(_, items) => f(View::Bool(items.is_empty())),
                _ => None,
            },
            Node::Uncovered => f(if self.gap()? { View::Map } else { View::Unit }),
            _ => f(View::Bool(self.bool(node)?)),
        }
    }

    /// The value of a field node (of `r` or of a local's record), as Rhai would read it; `None`
    /// where Rhai raises an error: a property of `()`, or a value over Rhai's size limits.
    fn field(self, node: &Node) -> Option<std::borrow::Cow<'w, Value>> {
        let ((dataset, idx), field) = match node {
            Node::Field(joins, field) => (self.follow(joins)??, field),
            Node::LocalField(slot, joins, field) => (self.follow_local(*slot, joins)??, field),
            _ => return None,
        };
        let value = self.world.value(dataset, idx, *field);
        self.limits.admit(&value).then_some(value)
    }

    /// Whether `uncovered(r)` finds a gap (as `sandbox::uncovered`).
    fn gap(self) -> Option<bool> {
        if self.dataset != Dataset::Exams {
            return Some(false);
        }
        Some(sandbox::exam_gap(self.world, self.idx).is_some())
    }

    /// The value of a node, kept in a local.
    fn slot(self, node: &Node) -> Option<Slot> {
        Some(match node {
            Node::Lit(l) => Slot::Lit(l.clone()),
            Node::Record(joins) => Slot::Record(self.follow(joins)?),
            Node::LocalRecord(slot, joins) => Slot::Record(self.follow_local(*slot, joins)?),
            Node::Local(slot) => self.locals.get(*slot)?.clone(),
            Node::Field(..) | Node::LocalField(..) => Slot::Value(self.field(node)?.into_owned()),
            Node::Uncovered => Slot::Gap(self.gap()?),
            Node::TypeOf(x) => Slot::Value(Value::Str(self.type_name(x)?.into())),
            Node::IsEmpty(_)
            | Node::Compare(..)
            | Node::In(_)
            | Node::Not(_)
            | Node::And(_)
            | Node::Or(_) => Slot::Bool(self.bool(node)?),
        })
    }

    fn type_name(self, node: &Node) -> Option<&'static str> {
        self.with(node, |v| Some(v.type_name()))
    }

    /// `&&` (stops at the first false) or `||` (stops at the first true); each operand
    /// evaluated must be a bool, else Rhai raises an error.
    fn all(self, items: &[Node], stop_at: bool) -> Option<bool> {
        for item in items {
            if self.bool(item)? == stop_at {
                return Some(stop_at);
            }
        }
        Some(!stop_at)
    }
}

impl NativeExpr {
    /// `Some(true/false)` exactly when Rhai would return that bool for this record; `None`
    /// whenever Rhai would do anything else (raise an error, return a non-bool) or the answer
    /// is left to Rhai.
    pub fn eval(&self, world: &World, dataset: Dataset, idx: u32) -> Option<bool> {
        if dataset != self.dataset {
            return None;
        }
        At {
            world,
            limits: self.limits,
            dataset,
            idx,
            locals: &[],
        }
        .bool(&self.root)
    }
}

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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use super::*;
    use crate::bundle::Bundle;
    use crate::eval::redact::Redaction;
    use crate::eval::script::sandbox::{Outcome, Rec};
    use crate::policy::model::Check;

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

    impl Case {
        /// The minimal bundle: exam E1 (index 0) has an on-site practitioner on file, E2
        /// (index 1) has none; neither has a cancel reason.
        fn new() -> Case {
            let bundle = Bundle::load(Path::new("fixtures/bundles/minimal")).unwrap();
            Case {
                world: Arc::new(World::new(bundle, None)),
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
        case.world = Arc::new(World::new(Bundle::load(dir.path()).unwrap(), None));
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
                    let rhai = sandbox::eval_expr(ast, rec, &params);
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
            let plain = differential(&Arc::new(World::new(bundle, None)), &packs);
            if dir.ends_with("demo") {
                demo = Some(plain);
            }
            all += plain;
            let mut world = World::new(Bundle::load(&dir).unwrap(), None);
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
                    let rhai = sandbox::eval_script(ast, rec, &params);
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
                script_differential(&Arc::new(World::new(bundle, None)), &packs)
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
        let world = World::new(bundle, None);
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
}
