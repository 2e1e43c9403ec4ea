//! report.html: the report model rendered by minijinja from `report-templates/*.j2` (embedded;
//! `--templates DIR` overrides). HTML auto-escaping is on for every template and undefined
//! variables are errors, so a record value can never become markup and a template typo fails.

use std::path::Path;

use include_dir::{Dir, include_dir};
use minijinja::{AutoEscape, Environment, UndefinedBehavior};

use crate::report::model::ReportModel;

/// The shipped templates, embedded so the binary works from any directory. The report's are
/// the files at the top of the folder; `catalog/` holds the policy catalogue's, which no audit
/// reads.
pub static TEMPLATES: Dir<'static> = include_dir!("$CARGO_MANIFEST_DIR/report-templates");

/// The template rendered for report.html.
pub const REPORT_TEMPLATE: &str = "report.html.j2";

#[derive(Debug, thiserror::Error)]
pub enum HtmlError {
    #[error("cannot read templates from `{path}`: {message}")]
    Templates { path: String, message: String },
    #[error("template error: {0:#}")]
    Render(#[from] minijinja::Error),
    #[error(
        "template `{template}` used up its fuel ({fuel} units) before report.html was done: a loop \
         that runs too long? (raise the limit with --template-fuel)"
    )]
    OutOfFuel { template: String, fuel: u64 },
    #[error(
        "template `{template}` wrote more than {max} bytes of report.html (raise the limit with \
         --max-report-bytes)"
    )]
    TooLarge { template: String, max: u64 },
}

/// What rendering report.html may spend: minijinja's fuel (about one unit per instruction and
/// per 64 bytes of data, so it bounds both time and memory) and the bytes of the page. The
/// shipped template used 49,148 units (0.05%) and 475 KB (0.2%) on a 1M-exam bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RenderLimits {
    /// `--template-fuel`.
    pub fuel: u64,
    /// `--max-report-bytes`.
    pub max_bytes: u64,
}

impl Default for RenderLimits {
    fn default() -> RenderLimits {
        RenderLimits {
            fuel: DEFAULT_TEMPLATE_FUEL,
            max_bytes: DEFAULT_MAX_REPORT_BYTES,
        }
    }
}

/// The default of `--template-fuel`.
pub const DEFAULT_TEMPLATE_FUEL: u64 = 100_000_000;
/// The default of `--max-report-bytes` (256 MiB).
pub const DEFAULT_MAX_REPORT_BYTES: u64 = 256 << 20;

/// One template file: its name in the template set, its text, and where it came from
/// (`builtin:report-templates/NAME` or its path), as inputs.json lists it.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TemplateFile {
    pub name: String,
    pub text: String,
    pub shown: String,
}

/// The report templates of one audit, read once: rendered into report.html and report.pdf
/// and hashed into inputs.json from the same text.
#[derive(Debug, Clone)]
pub struct Templates {
    /// Sorted by name.
    pub files: Vec<TemplateFile>,
    /// The folder they came from, for messages (`builtin:report-templates` for the shipped ones).
    pub origin: String,
}

impl Templates {
    /// The template files of `dir`, or the embedded ones.
    pub fn load(dir: Option<&Path>) -> Result<Templates, HtmlError> {
        let mut files = match dir {
            None => builtin_files()?,
            Some(dir) => folder_files(dir)?,
        };
        files.sort();
        Ok(Templates {
            files,
            origin: dir
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "builtin:report-templates".into()),
        })
    }

    pub fn get(&self, name: &str) -> Option<&TemplateFile> {
        self.files.iter().find(|f| f.name == name)
    }
}

fn builtin_files() -> Result<Vec<TemplateFile>, HtmlError> {
    TEMPLATES
        .files()
        .map(|f| {
            let name = f.path().to_string_lossy().into_owned();
            let text = f.contents_utf8().ok_or_else(|| HtmlError::Templates {
                path: format!("builtin:{name}"),
                message: "not valid UTF-8".into(),
            })?;
            Ok(TemplateFile {
                shown: format!("builtin:report-templates/{name}"),
                name,
                text: text.to_string(),
            })
        })
        .collect()
}

fn folder_files(dir: &Path) -> Result<Vec<TemplateFile>, HtmlError> {
    let err = |message: String| HtmlError::Templates {
        path: dir.display().to_string(),
        message,
    };
    let mut out = Vec::new();
    let entries = std::fs::read_dir(dir).map_err(|e| err(e.to_string()))?;
    for entry in entries.filter_map(Result::ok) {
        let path = entry.path();
        let name = entry.file_name().to_string_lossy().into_owned();
        // The entry's own type, links not followed: a link could pull any file of the machine
        // into the report, and a FIFO would hang the read.
        let kind = entry
            .file_type()
            .map_err(|e| err(format!("`{name}`: {e}")))?;
        if kind.is_dir() {
            continue;
        }
        if kind.is_symlink() || !kind.is_file() {
            return Err(err(format!(
                "`{name}` is {}: vigil reads only regular files inside --templates",
                if kind.is_symlink() {
                    "a symbolic link"
                } else {
                    "not a regular file"
                }
            )));
        }
        let text = std::fs::read_to_string(&path).map_err(|e| err(format!("`{name}`: {e}")))?;
        out.push(TemplateFile {
            name,
            text,
            shown: path.display().to_string(),
        });
    }
    if !out.iter().any(|f| f.name == REPORT_TEMPLATE) {
        return Err(err(format!("no `{REPORT_TEMPLATE}` in the folder")));
    }
    Ok(out)
}

/// Renders report.html within `limits`.
pub fn render(
    model: &ReportModel,
    templates: &Templates,
    limits: RenderLimits,
) -> Result<String, HtmlError> {
    let mut env = Environment::new();
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_fuel(Some(limits.fuel));
    for f in &templates.files {
        env.add_template_owned(f.name.clone(), f.text.clone())?;
    }
    let template = env.get_template(REPORT_TEMPLATE)?;
    let shown = || {
        templates
            .get(REPORT_TEMPLATE)
            .map_or_else(|| REPORT_TEMPLATE.to_string(), |t| t.shown.clone())
    };
    let mut out = Capped {
        bytes: Vec::new(),
        max: limits.max_bytes,
        over: false,
    };
    let context = minijinja::context! { r => minijinja::value::Serde(model) };
    match template.render_captured_to(context, &mut out) {
        Ok(_) => {}
        Err(_) if out.over => {
            return Err(HtmlError::TooLarge {
                template: shown(),
                max: limits.max_bytes,
            });
        }
        Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => {
            return Err(HtmlError::OutOfFuel {
                template: shown(),
                fuel: limits.fuel,
            });
        }
        Err(e) => return Err(e.into()),
    }
    // minijinja writes only what templates and escaped strings give it: UTF-8 throughout.
    String::from_utf8(out.bytes).map_err(|e| HtmlError::Templates {
        path: shown(),
        message: format!("report.html is not UTF-8: {e}"),
    })
}

/// A writer that refuses to grow past `max` bytes.
struct Capped {
    bytes: Vec<u8>,
    max: u64,
    over: bool,
}

impl std::io::Write for Capped {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() as u64 + buf.len() as u64 > self.max {
            self.over = true;
            return Err(std::io::Error::other("report.html is over its size limit"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
