//! `vigil audit` (the evidence packet), `vigil verify` and `vigil keygen`.

use std::path::{Path, PathBuf};

use serde_json::json;

use vigil::eval::redact::Redaction;
use vigil::packet::{self, InputEntry, PacketFile, SignatureStatus};
use vigil::report::document::{Document, Writer};
use vigil::report::html::Templates;
use vigil::report::json::FindingsJson;
use vigil::report::shown::{SHOWN_CHARS, shown};
use vigil::report::{html, model};

use super::{CliError, as_of, fails_run, judge, load_policies};

const AUDIT_EXAMPLES: &str = "Examples:
  vigil audit fixtures/bundles/demo --out packet/ --as-of 2026-04-02
  vigil audit export/ --out packet/ --sign-key vigil.key --redact --redact-salt \"$SALT\"
  vigil verify packet/ --pubkey vigil.pub

The packet holds report.html (open it in a browser, or print it), report.pdf (PDF/A, when
built with the default `pdf` feature), findings.json, findings.csv, metrics.csv, inputs.json
and manifest.json (and manifest.sig when signed).
Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it (the packet is written
either way); 2 could not run.";

#[derive(Debug, clap::Args)]
#[command(after_help = AUDIT_EXAMPLES)]
pub struct AuditArgs {
    /// The bundle folder (holding bundle.toml)
    pub bundle: PathBuf,
    /// The packet folder to write
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// A pack folder, a folder of packs, or `builtin` (repeatable; default: the shipped packs)
    #[arg(long = "policies", value_name = "DIR")]
    pub policies: Vec<String>,
    /// The "now" stamped on the packet: RFC 3339, or a date (midnight UTC)
    #[arg(long, value_name = "TIME")]
    pub as_of: Option<String>,
    /// Exit 1 when a finding is at or above this severity
    #[arg(long, value_name = "SEVERITY", default_value = "high", value_parser = ["critical", "high", "medium", "low", "info", "none"])]
    pub fail_on: String,
    /// A TOML waivers file
    #[arg(long, value_name = "FILE")]
    pub waivers: Option<PathBuf>,
    /// Report templates to use instead of the built-in ones (must hold report.html.j2, and
    /// report.typ for report.pdf)
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
    /// The work report.html's template may do (minijinja fuel: about one unit per instruction
    /// and per 64 bytes of data); a template that runs out stops the audit (exit 2)
    #[arg(long, value_name = "UNITS", default_value_t = html::DEFAULT_TEMPLATE_FUEL)]
    pub template_fuel: u64,
    /// The most bytes report.html may have; a template that writes more stops the audit (exit 2)
    #[arg(long, value_name = "BYTES", default_value_t = html::DEFAULT_MAX_REPORT_BYTES)]
    pub max_report_bytes: u64,
    /// The Rhai operations the policies' scripts and expressions may take in all; past it the
    /// run stops (exit 2). Default: 10,000 per record of the bundle, at least 100,000,000
    #[arg(long, value_name = "OPERATIONS")]
    pub max_script_operations: Option<u64>,
    /// Sign manifest.json with this Ed25519 private key (PEM, from `vigil keygen`)
    #[arg(long, value_name = "KEY")]
    pub sign_key: Option<PathBuf>,
    /// Replace patient references and accessions by salted hashes and leave free text out
    #[arg(long)]
    pub redact: bool,
    /// The salt for --redact (a packet is reproducible under redaction only with a fixed salt;
    /// without it a random salt is used and written nowhere)
    #[arg(long, value_name = "TEXT", requires = "redact")]
    pub redact_salt: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// The packet folder
    pub dir: PathBuf,
    /// Check manifest.sig with this Ed25519 public key (PEM, from `vigil keygen`)
    #[arg(long, value_name = "KEY")]
    pub pubkey: Option<PathBuf>,
}

#[derive(Debug, clap::Args)]
pub struct KeygenArgs {
    /// Where to write the private key (PEM, PKCS#8); never overwritten
    #[arg(long, value_name = "FILE", default_value = "vigil.key")]
    pub private: PathBuf,
    /// Where to write the public key (PEM, SPKI)
    #[arg(long, value_name = "FILE", default_value = "vigil.pub")]
    pub public: PathBuf,
}

/// A path as the manifest and inputs.json show it: relative to `base` with `/`.
fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base)
        .unwrap_or(path)
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join("/")
}

pub fn audit(args: AuditArgs) -> Result<i32, CliError> {
    out_outside_bundle(&args.out, &args.bundle)?;
    let (as_of_time, as_of) = as_of(args.as_of.as_deref())?;
    // Every input is read once, before the bundle (so a broken pack or template fails fast),
    // and the same values are both used and hashed into inputs.json.
    let (packs, waivers) = load_policies(&args.policies, args.waivers.as_deref())?;
    let templates =
        Templates::load(args.templates.as_deref()).map_err(|e| CliError::Usage(e.to_string()))?;
    let redaction = redaction(&args)?;
    let (world, eval) = judge(
        &args.bundle,
        &packs,
        waivers.as_ref(),
        redaction,
        as_of_time,
        args.max_script_operations,
    )?;
    let doc = Document::new(&as_of, &world.bundle, &packs, &eval);
    let findings_bytes = FindingsJson.write(&doc).map_err(usage)?.into_bytes();
    let inputs_bytes = packet::inputs_json(&inputs(&doc, &templates));
    let packet_id = packet::packet_id(&inputs_bytes, &findings_bytes);
    let ctx = model::ReportContext {
        world: &world,
        as_of: as_of_time,
        packet_id: &packet_id,
        redacted: args.redact,
    };
    let report = model::build(&doc, &ctx);
    let limits = html::RenderLimits {
        fuel: args.template_fuel,
        max_bytes: args.max_report_bytes,
    };
    let report_html = html::render(&report, &templates, limits).map_err(usage)?;

    #[cfg_attr(not(feature = "pdf"), allow(unused_mut))]
    let mut files = vec![
        PacketFile {
            path: "findings.csv".into(),
            bytes: packet::findings_csv(&doc),
        },
        PacketFile {
            path: "findings.json".into(),
            bytes: findings_bytes,
        },
        PacketFile {
            path: "inputs.json".into(),
            bytes: inputs_bytes,
        },
        PacketFile {
            path: "metrics.csv".into(),
            bytes: packet::metrics_csv(&doc),
        },
        PacketFile {
            path: "report.html".into(),
            bytes: report_html.into_bytes(),
        },
    ];
    #[cfg(feature = "pdf")]
    files.push(PacketFile {
        path: "report.pdf".into(),
        bytes: vigil::report::pdf::render(&report, &templates).map_err(usage)?,
    });
    packet::write_packet(
        &args.out,
        &files,
        &as_of,
        &manifest_args(&args),
        args.sign_key.as_deref(),
    )?;
    super::progress_line::stop();
    eprintln!(
        "wrote the evidence packet {packet_id} to {} ({} findings); open {}",
        args.out.display(),
        eval.findings.len(),
        args.out.join("report.html").display()
    );
    let code = i32::from(fails_run(&eval, &args.fail_on, None));
    // The world is done with and the process ends soon: freeing a large one record by record
    // only costs time.
    std::mem::forget(world);
    Ok(code)
}

fn usage(e: impl std::fmt::Display) -> CliError {
    CliError::Usage(e.to_string())
}

/// The salted hashing of `--redact`, with `--redact-salt` or a random salt.
fn redaction(args: &AuditArgs) -> Result<Option<Redaction>, CliError> {
    if !args.redact {
        return Ok(None);
    }
    let salt = match &args.redact_salt {
        Some(s) => s.as_bytes().to_vec(),
        None => {
            let mut salt = vec![0u8; 32];
            getrandom::fill(&mut salt)
                .map_err(|e| CliError::Usage(format!("cannot draw a random salt: {e}")))?;
            salt
        }
    };
    Ok(Some(Redaction::new(salt)))
}

/// inputs.json's entries: the bundle's files, each pack version and its scripts, the templates.
fn inputs(doc: &Document<'_>, templates: &Templates) -> Vec<InputEntry> {
    let mut inputs: Vec<InputEntry> = doc
        .bundle
        .files
        .iter()
        .map(|f| InputEntry {
            kind: if f.dataset == vigil::bundle::schema::Dataset::ProcedureCodes {
                "reference"
            } else {
                "bundle"
            },
            path: f.path.clone(),
            sha256: f.sha256.clone(),
            bytes: f.bytes,
        })
        .collect();
    for v in doc.versions() {
        inputs.push(InputEntry {
            kind: "policy",
            path: v.path.clone(),
            sha256: v.sha256.clone(),
            bytes: v.bytes,
        });
        for (path, sha256, bytes) in &v.scripts {
            inputs.push(InputEntry {
                kind: "script",
                path: path.clone(),
                sha256: sha256.clone(),
                bytes: *bytes,
            });
        }
    }
    for t in &templates.files {
        inputs.push(InputEntry {
            kind: "template",
            path: t.shown.clone(),
            sha256: vigil::digest::sha256_hex(t.text.as_bytes()),
            bytes: t.text.len() as u64,
        });
    }
    inputs
}

/// The command's arguments as manifest.json records them.
fn manifest_args(args: &AuditArgs) -> serde_json::Value {
    let shown_policies: Vec<String> = if args.policies.is_empty() {
        vec!["builtin".into()]
    } else {
        args.policies.clone()
    };
    json!({
        "policies": shown_policies,
        "fail_on": args.fail_on,
        "redact": args.redact,
        "waivers": args.waivers.as_ref().map(|w| relative(w, &args.bundle)),
        "templates": args.templates.as_ref().map(|t| relative(t, &args.bundle)).unwrap_or_else(|| "builtin:report-templates".into()),
    })
}

pub fn verify(args: VerifyArgs) -> Result<i32, CliError> {
    let v = packet::verify(&args.dir, args.pubkey.as_deref())?;
    if !v.problems.is_empty() {
        // Problems quote names from the packet's manifest.json: untrusted text.
        for p in &v.problems {
            eprintln!("{}", shown(p, SHOWN_CHARS));
        }
        eprintln!(
            "packet `{}` does NOT match its manifest: {} problem(s)",
            args.dir.display(),
            v.problems.len()
        );
        return Ok(3);
    }
    let signature = match v.signature {
        SignatureStatus::Valid => "signature valid",
        SignatureStatus::Absent => "not signed",
        SignatureStatus::NotChecked => "signed, signature not checked (no --pubkey)",
        SignatureStatus::Invalid => "signature INVALID",
    };
    if matches!(v.signature, SignatureStatus::Invalid) {
        eprintln!("packet `{}`: {signature}", args.dir.display());
        return Ok(3);
    }
    println!(
        "ok: {} files match manifest.json in `{}`; {signature}",
        v.files,
        args.dir.display()
    );
    Ok(0)
}

pub fn keygen(args: KeygenArgs) -> Result<i32, CliError> {
    packet::keygen(&args.private, &args.public)?;
    eprintln!(
        "wrote the private key to {} (keep it secret) and the public key to {}",
        args.private.display(),
        args.public.display()
    );
    Ok(0)
}

/// A packet written inside the bundle would be read back as data by the next run (its CSVs are
/// not exports): `--out` must be outside the bundle folder.
fn out_outside_bundle(out: &std::path::Path, bundle: &std::path::Path) -> Result<(), CliError> {
    // The nearest folder of `out` that exists, resolved (links and `..` included).
    let mut probe = out.to_path_buf();
    let resolved = loop {
        if let Ok(p) = probe.canonicalize() {
            break Some(p);
        }
        if !probe.pop() || probe.as_os_str().is_empty() {
            break std::env::current_dir().ok();
        }
    };
    let (Some(out_abs), Ok(bundle_abs)) = (resolved, bundle.canonicalize()) else {
        return Ok(());
    };
    if out_abs.starts_with(&bundle_abs) {
        return Err(CliError::Usage(format!(
            "`--out {}` is inside the bundle `{}`: the next run would read the packet as data\nhelp: write the packet outside the bundle folder",
            out.display(),
            bundle.display()
        )));
    }
    Ok(())
}
