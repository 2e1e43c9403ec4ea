//! The policy file being validated, as every step sees it: its text and path for located errors,
//! its pack for the files it names, its parameters for `param` references.

use std::collections::BTreeMap;
use std::ops::Range;

use toml::Spanned;

use super::source::PackSource;
use crate::bundle::schema::Dataset;
use crate::policy::error::{PolicyError, suggestion};
use crate::policy::fields::{self, FieldRef};

pub(super) struct FileCtx<'a> {
    pub(super) text: &'a str,
    pub(super) path: &'a str,
    pub(super) source: &'a PackSource,
    pub(super) params: &'a BTreeMap<String, toml::Value>,
    /// Where each parameter is declared, for errors about its value.
    pub(super) param_spans: BTreeMap<String, Range<usize>>,
}

impl FileCtx<'_> {
    /// An error at byte range `span` of the file.
    pub(super) fn err(&self, message: String, span: Range<usize>) -> PolicyError {
        PolicyError::new(self.path, message).at(self.text, Some(span))
    }

    pub(super) fn field(
        &self,
        dataset: Dataset,
        name: &Spanned<String>,
    ) -> Result<(String, FieldRef), PolicyError> {
        let n = name.get_ref();
        fields::resolve(dataset, n)
            .map(|r| (n.clone(), r))
            .map_err(|known| {
                self.err(
                    format!("unknown field `{n}` for dataset `{dataset}`"),
                    name.span(),
                )
                .with_help(suggestion(n, known.iter().map(String::as_str)))
            })
    }

    /// An error about parameter `name`'s value, at its declaration (or at `fallback` when the
    /// declaration cannot be placed).
    pub(super) fn param_err(
        &self,
        name: &str,
        message: String,
        fallback: Range<usize>,
    ) -> PolicyError {
        let span = self.param_spans.get(name).cloned().unwrap_or(fallback);
        self.err(message, span)
    }

    pub(super) fn param(&self, name: &Spanned<String>) -> Result<&toml::Value, PolicyError> {
        self.params.get(name.get_ref()).ok_or_else(|| {
            self.err(
                format!("unknown parameter `{}`", name.get_ref()),
                name.span(),
            )
            .with_help(suggestion(
                name.get_ref(),
                self.params.keys().map(String::as_str),
            ))
        })
    }
}
