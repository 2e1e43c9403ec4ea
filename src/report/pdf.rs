//! report.pdf: the report model laid out by typst, used as a library, from
//! `report-templates/report.typ` (embedded; `--templates DIR` overrides).
//!
//! The model reaches typst as JSON, the virtual file `/data.json` that the template reads with
//! `json()`: record text stays a typst string and can never become markup. Only the fonts
//! embedded in the binary are used (never the system's), the document date and the PDF
//! timestamp come from the packet's as-of time and the PDF identifier from the packet id, so the
//! same packet gives the same bytes on any machine. The PDF conforms to PDF/A-2b.

use std::sync::LazyLock;

use chrono::{DateTime, Datelike, Timelike, Utc};
use typst::diag::{FileError, FileResult, SourceDiagnostic};
use typst::foundations::{Bytes, Datetime, Duration, Smart};
use typst::syntax::{FileId, RootedPath, Source, VirtualPath, VirtualRoot};
use typst::text::{Font, FontBook};
use typst::utils::LazyHash;
use typst::{Library, LibraryExt, World, WorldExt};
use typst_layout::PagedDocument;
use typst_pdf::{PdfOptions, PdfStandard, PdfStandards, Timestamp};

use crate::report::glyphs::{FONTS, drawable_json};
use crate::report::html::Templates;
use crate::report::model::ReportModel;

/// The template compiled for report.pdf.
pub const PDF_TEMPLATE: &str = "report.typ";

/// Where the template finds the report model.
const DATA_PATH: &str = "/data.json";

#[derive(Debug, thiserror::Error)]
pub enum PdfError {
    #[error(
        "cannot read templates from `{path}`: no `{PDF_TEMPLATE}` in the folder (needed for report.pdf)"
    )]
    NoTemplate { path: String },
    #[error("invalid as-of time `{0}` for the PDF date")]
    AsOf(String),
    #[error("cannot serialize the report model: {0}")]
    Model(#[from] serde_json::Error),
    #[error("PDF template error:\n{0}")]
    Compile(String),
    #[error("PDF export error:\n{0}")]
    Export(String),
}

/// The typst library (standard functions and styles), built once per process.
static LIBRARY: LazyLock<LazyHash<Library>> = LazyLock::new(|| LazyHash::new(Library::default()));

fn file_id(path: &str) -> Option<FileId> {
    let vpath = VirtualPath::new(path).ok()?;
    Some(RootedPath::new(VirtualRoot::Project, vpath).intern())
}

/// A template file as typst sees it.
struct TemplateFile {
    id: FileId,
    /// Where it came from, for error messages (`builtin:report-templates/report.typ`, a path).
    shown: String,
    source: Source,
}

/// The world a report is compiled in: the template files at the root, the model at
/// `/data.json`, the embedded fonts, and the as-of date as "today".
struct ReportWorld {
    main: FileId,
    templates: Vec<TemplateFile>,
    data_id: FileId,
    data: Bytes,
    as_of: DateTime<Utc>,
}

impl ReportWorld {
    fn template(&self, id: FileId) -> Option<&TemplateFile> {
        self.templates.iter().find(|t| t.id == id)
    }

    fn not_found(id: FileId) -> FileError {
        FileError::NotFound(id.vpath().get_with_slash().into())
    }
}

impl World for ReportWorld {
    fn library(&self) -> &LazyHash<Library> {
        &LIBRARY
    }

    fn book(&self) -> &LazyHash<FontBook> {
        &FONTS.0
    }

    fn main(&self) -> FileId {
        self.main
    }

    fn source(&self, id: FileId) -> FileResult<Source> {
        self.template(id)
            .map(|t| t.source.clone())
            .ok_or_else(|| Self::not_found(id))
    }

    fn file(&self, id: FileId) -> FileResult<Bytes> {
        if id == self.data_id {
            return Ok(self.data.clone());
        }
        self.template(id)
            .map(|t| Bytes::from_string(t.source.text().to_string()))
            .ok_or_else(|| Self::not_found(id))
    }

    fn font(&self, index: usize) -> Option<Font> {
        FONTS.1.get(index).cloned()
    }

    fn today(&self, offset: Option<Duration>) -> Option<Datetime> {
        // The packet's as-of time is "now": in UTC (shifted by `offset` when one is asked for).
        let shift = offset.map(|d| d.seconds() as i64).unwrap_or(0);
        let t = self.as_of + chrono::Duration::seconds(shift);
        Datetime::from_ymd(t.year(), t.month() as u8, t.day() as u8)
    }
}

/// One diagnostic as `file:line:column: error: message`, with its hints.
fn describe(world: &ReportWorld, diag: &SourceDiagnostic) -> String {
    let mut where_ = String::new();
    if let Some(id) = diag.span.id() {
        let shown = if id == world.data_id {
            DATA_PATH.to_string()
        } else {
            world
                .template(id)
                .map(|t| t.shown.clone())
                .unwrap_or_else(|| id.vpath().get_with_slash().to_string())
        };
        let position = world.range(diag.span).and_then(|range| {
            let text = world.template(id).map(|t| t.source.text().to_string());
            let text = text.or_else(|| {
                (id == world.data_id).then(|| String::from_utf8_lossy(world.data.as_slice()).into())
            })?;
            let before = text.get(..range.start)?;
            let line = before.matches('\n').count() + 1;
            let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
            Some(format!(":{line}:{column}"))
        });
        where_ = format!("{shown}{}: ", position.unwrap_or_default());
    }
    let severity = match diag.severity {
        typst::diag::Severity::Error => "error",
        typst::diag::Severity::Warning => "warning",
    };
    let mut out = format!("{where_}{severity}: {}", diag.message);
    for hint in &diag.hints {
        out.push_str(&format!("\n  hint: {}", hint.v));
    }
    out
}

fn describe_all(world: &ReportWorld, diags: &[SourceDiagnostic]) -> String {
    diags
        .iter()
        .map(|d| describe(world, d))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Renders report.pdf: PDF/A-2b, the same bytes for the same model and templates.
pub fn render(model: &ReportModel, templates: &Templates) -> Result<Vec<u8>, PdfError> {
    let no_template = || PdfError::NoTemplate {
        path: templates.origin.clone(),
    };
    if templates.get(PDF_TEMPLATE).is_none() {
        return Err(no_template());
    }
    let as_of = model.as_of_time;
    let data_id = file_id(DATA_PATH).ok_or_else(|| PdfError::AsOf(model.as_of.clone()))?;
    let mut files = Vec::new();
    let mut main = None;
    for t in &templates.files {
        let Some(id) = file_id(&format!("/{}", t.name)) else {
            continue;
        };
        if id == data_id {
            continue;
        }
        if t.name == PDF_TEMPLATE {
            main = Some(id);
        }
        files.push(TemplateFile {
            id,
            shown: t.shown.clone(),
            source: Source::new(id, t.text.clone()),
        });
    }
    let main = main.ok_or_else(no_template)?;
    let world = ReportWorld {
        main,
        templates: files,
        data_id,
        data: Bytes::new(drawable_json(&serde_json::to_vec(model)?)),
        as_of,
    };

    let document: PagedDocument = typst::compile(&world)
        .output
        .map_err(|diags| PdfError::Compile(describe_all(&world, &diags)))?;

    let timestamp = Datetime::from_ymd_hms(
        as_of.year(),
        as_of.month() as u8,
        as_of.day() as u8,
        as_of.hour() as u8,
        as_of.minute() as u8,
        as_of.second() as u8,
    )
    .map(Timestamp::new_utc)
    .ok_or_else(|| PdfError::AsOf(model.as_of.clone()))?;
    let standards = PdfStandards::new(&[PdfStandard::A_2b])
        .map_err(|e| PdfError::Export(e.message().to_string()))?;
    let options = PdfOptions {
        ident: Smart::Custom(format!("vigil-packet-{}", model.packet_id)),
        creator: Smart::Custom(Some(format!("vigil {}", model.tool_version))),
        timestamp: Some(timestamp),
        standards,
        ..PdfOptions::default()
    };
    typst_pdf::pdf(&document, &options)
        .map_err(|diags| PdfError::Export(describe_all(&world, &diags)))
}

#[cfg(all(test, feature = "pdf"))]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::path::Path;
    use std::sync::Arc;

    use super::render;
    use crate::bundle::Bundle;
    use crate::eval::run::evaluate;
    use crate::eval::world::PackData;
    use crate::eval::world::World;
    use crate::policy::load::load_packs;
    use crate::report::document::Document;
    use crate::report::html::Templates;
    use crate::report::model;

    fn minimal_model() -> model::ReportModel {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/bundles/minimal");
        let packs = load_packs(&[]).unwrap();
        let bundle = Bundle::load(&root).unwrap();
        let world = Arc::new(World::new(bundle, PackData::of(&packs)));
        let eval = evaluate(&world, &packs).unwrap();
        let doc = Document::new("2026-04-02T00:00:00Z", &world.bundle, &packs, &eval);
        let ctx = model::ReportContext {
            world: &world,
            as_of: chrono::DateTime::parse_from_rfc3339("2026-04-02T00:00:00Z")
                .unwrap()
                .to_utc(),
            packet_id: "test-packet-id",
            redacted: false,
        };
        model::build(&doc, &ctx)
    }

    fn builtin() -> Templates {
        Templates::load(None).unwrap()
    }

    #[test]
    fn pdf_is_deterministic_pdfa() {
        let model = minimal_model();
        let a = render(&model, &builtin()).unwrap();
        let b = render(&model, &builtin()).unwrap();
        assert!(a == b, "two renders of the same model differ");
        assert!(a.starts_with(b"%PDF-"));
        let text = String::from_utf8_lossy(&a);
        assert!(text.contains("pdfaid:part"), "no PDF/A identification");
    }

    #[test]
    fn record_text_is_not_markup() {
        let mut model = minimal_model();
        model.organization = "#panic(\"injected\") *bold* $x$ <l> @ref ]".into();
        render(&model, &builtin()).unwrap();
    }

    #[test]
    fn template_errors_name_file_and_line() {
        let model = minimal_model();
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("report.html.j2"), "x").unwrap();
        let err = render(&model, &Templates::load(Some(dir.path())).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("no `report.typ`"), "{err}");

        std::fs::write(
            dir.path().join("report.typ"),
            "#let r = json(\"/data.json\")\n= #r.organization\n#r.no_such_field\n",
        )
        .unwrap();
        let err = render(&model, &Templates::load(Some(dir.path())).unwrap())
            .unwrap_err()
            .to_string();
        assert!(err.contains("report.typ:3:"), "{err}");
        assert!(err.contains("no_such_field"), "{err}");
    }
}
