//! Inline SVG charts for the report, drawn by hand so they are deterministic, need no script and
//! no network, and print. Every label is escaped: facility ids come from the data.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::bundle::schema::Dataset;
use crate::eval::world::World;
use crate::report::document::Document;
use crate::report::model::Charts;
use crate::report::shown::{SHOWN_CHARS, shown};

/// Escapes text for XML/HTML element content and attribute values.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Shown, not dropped: a label with ESC or BEL reads as `\u{1b}`, never as a raw byte
            // (which XML forbids).
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
            c => out.push(c),
        }
    }
    out
}

/// The most characters of a label under a bar (a facility id); its bar's tooltip shows more.
const AXIS_LABEL_CHARS: usize = 24;

/// The response shares whose thresholds the histogram marks.
pub const BEST_IN_CLASS_SHARE: &str = "response.share_within_best_in_class";
pub const RISK_SHARE: &str = "response.share_over_risk";

const WIDTH: f64 = 640.0;
const HEIGHT: f64 = 220.0;
const LEFT: f64 = 48.0;
const BOTTOM: f64 = 28.0;
const TOP: f64 = 16.0;

fn open(title: &str) -> String {
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {WIDTH} {HEIGHT}\" width=\"100%\" role=\"img\" aria-label=\"{t}\"><title>{t}</title>",
        t = escape(title)
    )
}

fn axis(out: &mut String, max: f64) {
    let plot_h = HEIGHT - BOTTOM - TOP;
    let _ = write!(
        out,
        "<line x1=\"{LEFT}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#555\"/><line x1=\"{LEFT}\" y1=\"{TOP}\" x2=\"{LEFT}\" y2=\"{y0}\" stroke=\"#555\"/>",
        y0 = TOP + plot_h,
        x1 = WIDTH - 8.0
    );
    for i in 0..=4 {
        let v = max * f64::from(i) / 4.0;
        let y = TOP + plot_h - plot_h * f64::from(i) / 4.0;
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{y:.1}\" font-size=\"10\" text-anchor=\"end\" fill=\"#333\">{v:.prec$}</text>",
            x = LEFT - 4.0,
            y = y + 3.0,
            // Small scales need a decimal so the ticks do not all read "1".
            prec = usize::from(max < 8.0)
        );
    }
}

/// Bars with labels under them; `marks` are vertical lines at bar positions (index, label).
/// Bins of a histogram are labelled at their left edge (`edge_labels`), categories at their centre.
fn bars(
    title: &str,
    labels: &[String],
    values: &[f64],
    marks: &[(f64, &str)],
    unit: &str,
    edge_labels: bool,
) -> String {
    let mut out = open(title);
    if values.is_empty() {
        let _ = write!(
            out,
            "<text x=\"{x}\" y=\"{y}\" font-size=\"12\" text-anchor=\"middle\">no data</text></svg>",
            x = WIDTH / 2.0,
            y = HEIGHT / 2.0
        );
        return out;
    }
    let max = values.iter().copied().fold(1.0_f64, f64::max);
    axis(&mut out, max);
    let plot_w = WIDTH - LEFT - 8.0;
    let plot_h = HEIGHT - BOTTOM - TOP;
    let step = plot_w / values.len() as f64;
    let label_every = (values.len() / 12).max(1);
    for (i, (v, label)) in values.iter().zip(labels).enumerate() {
        let h = plot_h * v / max;
        let x = LEFT + step * i as f64;
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{w:.1}\" height=\"{h:.1}\" fill=\"#3b6ea5\"><title>{l}: {v} {u}</title></rect>",
            y = TOP + plot_h - h,
            w = (step - 2.0).max(1.0),
            l = escape(&shown(label, SHOWN_CHARS)),
            u = escape(unit)
        );
        if i % label_every == 0 {
            let _ = write!(
                out,
                "<text x=\"{cx:.1}\" y=\"{ty}\" font-size=\"9\" text-anchor=\"middle\" fill=\"#333\">{l}</text>",
                cx = if edge_labels { x } else { x + step / 2.0 },
                ty = HEIGHT - BOTTOM + 12.0,
                l = escape(&shown(label, AXIS_LABEL_CHARS))
            );
        }
    }
    for (pos, label) in marks {
        let x = LEFT + step * pos;
        let _ = write!(
            out,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{y}\" stroke=\"#b22\" stroke-dasharray=\"4 3\"/><text x=\"{tx:.1}\" y=\"{ty}\" font-size=\"10\" fill=\"#b22\">{l}</text>",
            y = TOP + plot_h,
            tx = x + 3.0,
            ty = TOP + 10.0,
            l = escape(label)
        );
    }
    out.push_str("</svg>");
    out
}

/// A number of seconds as a label shows it: `30`, `20.5`.
pub fn seconds_label(s: f64) -> String {
    if s.fract() == 0.0 && s.abs() < 1e15 {
        format!("{s:.0}")
    } else {
        format!("{s}")
    }
}

/// Response times in 5-second bins up to 120 s, then `>120` and `unmeasured`, with lines at the
/// best-in-class and risk thresholds the response metrics used.
fn response_histogram(world: &World, thresholds: &[(f64, &str)]) -> String {
    const BIN: f64 = 5.0;
    const BINS: usize = 24;
    let mut counts = vec![0.0; BINS + 2];
    let sessions = world.bundle.table(Dataset::Sessions);
    if sessions.is_empty() {
        return bars("Response time histogram", &[], &[], &[], "sessions", true);
    }
    for (i, s) in sessions.iter().enumerate() {
        match world.response_s(i as u32) {
            Some(secs) => {
                let bin = ((secs / BIN).floor() as usize).min(BINS);
                counts[bin] += 1.0;
            }
            None if !s
                .get(crate::bundle::schema::col::session::JOINED_AT)
                .is_present() =>
            {
                counts[BINS + 1] += 1.0
            }
            None => {}
        }
    }
    let mut labels: Vec<String> = (0..BINS).map(|b| format!("{}", b * 5)).collect();
    labels.push(">120".into());
    labels.push("unmeasured".into());
    let marks: Vec<(f64, String)> = thresholds
        .iter()
        .map(|(s, _)| (s / BIN, format!("{} s", seconds_label(*s))))
        .collect();
    let marks: Vec<(f64, &str)> = marks.iter().map(|(x, l)| (*x, l.as_str())).collect();
    let mut title = "Response time histogram (seconds".to_string();
    for (s, what) in thresholds {
        title.push_str(&format!("; {} s {what}", seconds_label(*s)));
    }
    title.push(')');
    bars(&title, &labels, &counts, &marks, "sessions", true)
}

/// Median response time by month (from the metrics).
fn monthly_trend(doc: &Document<'_>) -> String {
    let mut months: BTreeMap<String, f64> = BTreeMap::new();
    for m in doc.metrics() {
        if m.id == "response.median_s"
            && m.group.len() == 1
            && m.value.is_finite()
            && let Some(month) = m.group.get("month")
        {
            months.insert(month.clone(), m.value);
        }
    }
    let (labels, values): (Vec<String>, Vec<f64>) = months.into_iter().unzip();
    bars(
        "Median response time by month (seconds)",
        &labels,
        &values,
        &[],
        "s",
        false,
    )
}

/// Failing findings per facility (counted by the caller, which already knows each finding's facility).
fn facility_comparison(failing_by_facility: &BTreeMap<String, u64>) -> String {
    let labels: Vec<String> = failing_by_facility.keys().cloned().collect();
    let values: Vec<f64> = failing_by_facility.values().map(|n| *n as f64).collect();
    bars(
        "Findings by facility",
        &labels,
        &values,
        &[],
        "findings",
        false,
    )
}

pub fn build(
    doc: &Document<'_>,
    world: &World,
    failing_by_facility: &BTreeMap<String, u64>,
) -> Charts {
    let thresholds: Vec<(f64, &str)> =
        [(BEST_IN_CLASS_SHARE, "best in class"), (RISK_SHARE, "risk")]
            .into_iter()
            .filter_map(|(id, what)| Some((doc.metric_parameter(id, "threshold_s")?, what)))
            .collect();
    Charts {
        response_histogram: response_histogram(world, &thresholds),
        monthly_trend: monthly_trend(doc),
        facility_comparison: facility_comparison(failing_by_facility),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_escaped() {
        let svg = bars("t", &["<script>".into()], &[1.0], &[], "x", false);
        assert!(!svg.contains("<script>"), "{svg}");
        assert!(svg.contains("&lt;script&gt;"));
    }
}
