//! The evaluator: a compiled `Node` tree read against one record (`At`) of the world, and a
//! script's locals (`Slot`), answering only where it is certain of Rhai's answer.

use super::compile::{NativeExpr, Node};
use super::value::{Limits, Lit, View, compare, contains, value_view};
use crate::bundle::schema::Dataset;
use crate::bundle::value::Value;
use crate::eval::script::sandbox;
use crate::eval::world::World;
use crate::policy::fields::Join;

/// Where evaluation reads: the record a rule judges.
#[derive(Clone, Copy)]
pub(super) struct At<'w> {
    pub(super) world: &'w World,
    pub(super) limits: Limits,
    pub(super) dataset: Dataset,
    pub(super) idx: u32,
    /// A script's locals (empty for an expression).
    pub(super) locals: &'w [Slot],
}

/// What a script's local holds at run time.
#[derive(Debug, Clone, Default)]
pub(super) enum Slot {
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
    pub(super) fn bool(self, node: &Node) -> Option<bool> {
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
    pub(super) fn slot(self, node: &Node) -> Option<Slot> {
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
