//! Static checks of a rule's Rhai code at load, over every branch of the compiled AST (a branch
//! the data never reaches is checked too): each `r.name` chain names joins and a field the
//! dataset has, each `params.name` (or `params["name"]`) a parameter the version declares, and a
//! parameter that is text or a boolean is not used as a number (`s > params.risk_s` with
//! `risk_s = "60"` would silently never hold).

use std::collections::BTreeMap;

use rhai::{AST, ASTNode, Expr, Position, Stmt};

use crate::bundle::schema::Dataset;
use crate::policy::fields::{self, Join};

/// One mistake, at a 1-based (line, column) of the code.
#[derive(Debug, Clone)]
pub struct NameIssue {
    pub message: String,
    pub help: Option<String>,
    pub position: Option<(usize, usize)>,
    /// A parameter the mistake is about, when the fix is in its declaration.
    pub parameter: Option<String>,
}

fn position(p: Position) -> Option<(usize, usize)> {
    p.line().map(|l| (l, p.position().unwrap_or(1)))
}

/// The operators that need numbers (or times) on both sides.
const NUMERIC_OPERATORS: [&str; 8] = [">", "<", ">=", "<=", "+", "-", "*", "/"];

struct Walker<'a> {
    /// Functions the code defines itself.
    defined: Vec<String>,
    dataset: Dataset,
    params: &'a BTreeMap<String, toml::Value>,
    record: &'a str,
    params_var: &'a str,
    issues: Vec<NameIssue>,
}

/// Issues in an `expr` check (`r` and `params`).
pub fn check_expr(
    ast: &AST,
    dataset: Dataset,
    params: &BTreeMap<String, toml::Value>,
) -> Vec<NameIssue> {
    let mut w = Walker {
        defined: Vec::new(),
        dataset,
        params,
        record: "r",
        params_var: "params",
        issues: Vec::new(),
    };
    ast.walk(&mut |path: &[ASTNode]| {
        w.visit(path);
        true
    });
    w.issues
}

/// Issues in a script, by the names its `fn check(r, params)` gives its two parameters.
pub fn check_script(
    ast: &AST,
    dataset: Dataset,
    params: &BTreeMap<String, toml::Value>,
) -> Vec<NameIssue> {
    let Some(f) = ast
        .iter_fn_def()
        .find(|f| f.name == "check" && f.params.len() == 2)
    else {
        return Vec::new();
    };
    let (record, params_var) = (f.params[0].to_string(), f.params[1].to_string());
    let mut w = Walker {
        defined: ast.iter_functions().map(|f| f.name.to_string()).collect(),
        dataset,
        params,
        record: &record,
        params_var: &params_var,
        issues: Vec::new(),
    };
    // Rhai does not export a function body to walk on its own: the whole script is walked,
    // so a helper function that names another record `r` is read as the rule's dataset.
    ast.walk(&mut |p: &[ASTNode]| {
        w.visit(p);
        true
    });
    w.issues
}

impl Walker<'_> {
    fn visit(&mut self, path: &[ASTNode]) {
        match path.last() {
            Some(ASTNode::Expr(Expr::Dot(x, _, _))) => {
                if let Expr::Variable(var, ..) = &x.lhs {
                    if var.1 == self.record {
                        self.record_chain(&x.rhs);
                    } else if var.1 == self.params_var
                        && let Some((name, pos)) = first_property(&x.rhs)
                    {
                        self.parameter(name, pos);
                    }
                }
            }
            Some(ASTNode::Expr(Expr::Index(x, _, _))) => {
                if let (Expr::Variable(var, ..), Expr::StringConstant(name, pos)) = (&x.lhs, &x.rhs)
                    && var.1 == self.params_var
                {
                    self.parameter(name.as_str(), *pos);
                }
            }
            Some(ASTNode::Expr(Expr::FnCall(call, pos)))
            | Some(ASTNode::Stmt(Stmt::FnCall(call, pos))) => {
                if call.op_token.is_some() {
                    if NUMERIC_OPERATORS.contains(&call.name.as_str()) {
                        for arg in call.args.iter() {
                            self.numeric_use(arg, call.name.as_str());
                        }
                    }
                } else {
                    self.function(call.name.as_str(), *pos);
                }
            }
            Some(ASTNode::Expr(Expr::MethodCall(call, pos))) => {
                self.function(call.name.as_str(), *pos);
            }
            _ => {}
        }
    }

    /// `r.a.b...`: joins, then a field (what follows a field is a property of its value).
    fn record_chain(&mut self, rhs: &Expr) {
        let mut dataset = self.dataset;
        for (name, pos) in properties(rhs) {
            if let Some((join, _)) = Join::available(dataset)
                .iter()
                .find(|(j, _)| j.name() == name)
            {
                dataset = join.target();
                continue;
            }
            if fields::resolve(dataset, name).is_err() {
                let mut known = fields::known_names(dataset);
                known.extend(
                    Join::available(dataset)
                        .iter()
                        .map(|(j, _)| j.name().to_string()),
                );
                self.issues.push(NameIssue {
                    message: format!("unknown field `{name}` for dataset `{dataset}`"),
                    help: crate::policy::error::suggestion(name, known.iter().map(String::as_str)),
                    position: position(pos),
                    parameter: None,
                });
            }
            return;
        }
    }

    /// A function or method the code calls: Rhai's library, vigil's helpers, or its own.
    fn function(&mut self, name: &str, pos: Position) {
        let known = crate::policy::script::known_functions();
        if known.contains(name) || self.defined.iter().any(|d| d == name) {
            return;
        }
        self.issues.push(NameIssue {
            message: format!("unknown function `{name}`"),
            help: crate::policy::error::suggestion(
                name,
                known
                    .iter()
                    .map(String::as_str)
                    .chain(self.defined.iter().map(String::as_str)),
            ),
            position: position(pos),
            parameter: None,
        });
    }

    fn parameter(&mut self, name: &str, pos: Position) {
        if !self.params.contains_key(name) {
            self.issues.push(NameIssue {
                message: format!("unknown parameter `params.{name}`: the version declares none"),
                help: crate::policy::error::suggestion(
                    name,
                    self.params.keys().map(String::as_str),
                )
                .or_else(|| Some(format!("declare `{name}` under `[parameters]`"))),
                position: position(pos),
                parameter: None,
            });
        }
    }

    /// `params.x` as an operand of a numeric operator: its value must be a number.
    fn numeric_use(&mut self, arg: &Expr, operator: &str) {
        let Expr::Dot(x, _, _) = arg else { return };
        let Expr::Variable(var, ..) = &x.lhs else {
            return;
        };
        if var.1 != self.params_var {
            return;
        }
        let Some((name, pos)) = first_property(&x.rhs) else {
            return;
        };
        let kind = match self.params.get(name) {
            Some(toml::Value::String(_)) => "text",
            Some(toml::Value::Boolean(_)) => "a boolean",
            _ => return,
        };
        self.issues.push(NameIssue {
            message: format!(
                "parameter `{name}` is {kind}, but the code uses it as a number (`{operator}`)"
            ),
            help: Some(format!(
                "write `{name}` without quotes, as a number, under `[parameters]`"
            )),
            position: position(pos),
            parameter: Some(name.to_string()),
        });
    }
}

/// The property names after a variable, in order, as far as they go.
fn properties(mut e: &Expr) -> Vec<(&str, Position)> {
    let mut out = Vec::new();
    loop {
        match e {
            Expr::Property(p, pos) => {
                out.push((p.2.as_str(), *pos));
                return out;
            }
            Expr::Dot(x, _, _) => match &x.lhs {
                Expr::Property(p, pos) => {
                    out.push((p.2.as_str(), *pos));
                    e = &x.rhs;
                }
                _ => return out,
            },
            _ => return out,
        }
    }
}

fn first_property(e: &Expr) -> Option<(&str, Position)> {
    properties(e).into_iter().next()
}
