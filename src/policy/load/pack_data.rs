//! Pack data: the parameters the engine reads as well as rules (the documentation groups of
//! `[[parameters.documentation]]`, the supervision levels of the CMS indicators), validated with
//! located errors.

use std::sync::Arc;

use super::context::FileCtx;
use super::rule::conditions;
use crate::bundle::schema::Dataset;
use crate::policy::error::{PolicyError, suggestion};
use crate::policy::fields::FieldRef;
use crate::policy::file::PackDataFile;
use crate::policy::model::{
    ConditionTest, DocumentationGroup, SUPERVISION_LEVELS, SupervisionLevels,
};
use toml::Spanned;

/// The documentation groups a version declares, if it declares any.
pub(super) fn documentation(
    data: &PackDataFile,
    ctx: &FileCtx<'_>,
) -> Result<Option<Arc<[DocumentationGroup]>>, PolicyError> {
    let Some(groups) = &data.parameters.documentation else {
        return Ok(None);
    };
    let dataset = Dataset::Reactions;
    let mut out = Vec::with_capacity(groups.len());
    for group in groups {
        let group = group.get_ref();
        let applies = conditions(&group.applies, dataset, ctx)?;
        // `applies` reads the reaction's own fields: a join or a derived fact could depend on
        // documentation itself, or on records the group cannot name.
        for (c, (name, _)) in applies.iter().zip(&group.applies) {
            if matches!(&c.test, ConditionTest::CompareField(..)) {
                return Err(ctx.err(
                    format!(
                        "`applies` compares `{}` with values, not with another field",
                        c.name
                    ),
                    name.span(),
                ));
            }
            if !matches!(c.field, FieldRef::Own(_)) {
                return Err(ctx
                    .err(
                        format!(
                            "`applies` reads fields of the reaction itself; `{}` is not one",
                            c.name
                        ),
                        name.span(),
                    )
                    .with_help(schema_help(c.name.as_str())));
            }
        }
        let mut elements = Vec::with_capacity(group.elements.len());
        for element in &group.elements {
            let name = element.get_ref();
            let index = dataset.field_index(name).ok_or_else(|| {
                ctx.err(
                    format!("unknown documentation element `{name}`: not a field of `reactions`"),
                    element.span(),
                )
                .with_help(schema_help(name))
            })?;
            elements.push((name.clone(), index));
        }
        out.push(DocumentationGroup { applies, elements });
    }
    Ok(Some(out.into()))
}

/// The nearest reactions field, or the list of them.
fn schema_help(name: &str) -> Option<String> {
    let names = Dataset::Reactions.fields().iter().map(|f| f.name);
    suggestion(name, names.clone()).or_else(|| {
        Some(format!(
            "fields of `reactions`: {}",
            names.collect::<Vec<_>>().join(", ")
        ))
    })
}

/// The supervision levels a version declares, if it declares them.
pub(super) fn supervision_levels(
    data: &PackDataFile,
    ctx: &FileCtx<'_>,
) -> Result<Option<Arc<SupervisionLevels>>, PolicyError> {
    let spec = &data.parameters;
    if spec.supervision_levels.is_none() && spec.unlisted_contrast_level.is_none() {
        return Ok(None);
    }
    let mut by_indicator = std::collections::BTreeMap::new();
    for (indicator, level) in spec.supervision_levels.iter().flatten() {
        by_indicator.insert(indicator.get_ref().clone(), level_name(level, ctx)?);
    }
    let unlisted_contrast = match &spec.unlisted_contrast_level {
        Some(level) => Some(level_name(level, ctx)?),
        None => None,
    };
    Ok(Some(Arc::new(SupervisionLevels {
        by_indicator,
        unlisted_contrast,
    })))
}

/// A level of the CMS vocabulary.
fn level_name(level: &Spanned<String>, ctx: &FileCtx<'_>) -> Result<String, PolicyError> {
    let name = level.get_ref();
    if SUPERVISION_LEVELS.contains(&name.as_str()) {
        return Ok(name.clone());
    }
    Err(ctx
        .err(format!("unknown supervision level `{name}`"), level.span())
        .with_help(
            suggestion(name, SUPERVISION_LEVELS)
                .or_else(|| Some(format!("one of {}", SUPERVISION_LEVELS.join(", ")))),
        ))
}
