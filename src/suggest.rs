//! "Did you mean" suggestions for unknown names in policies, manifests and arguments.

/// The known name closest to `unknown`, if one is close enough to be a likely typo.
pub fn did_you_mean<'a>(
    unknown: &str,
    known: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut best: Option<(&str, f64)> = None;
    for candidate in known {
        let score = strsim::jaro_winkler(unknown, candidate);
        if score >= 0.8 && best.is_none_or(|(_, b)| score > b) {
            best = Some((candidate, score));
        }
    }
    best.map(|(name, _)| name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names_only() {
        let known = ["severity", "title", "dataset"];
        assert_eq!(did_you_mean("sevrity", known), Some("severity"));
        assert_eq!(did_you_mean("datset", known), Some("dataset"));
        assert_eq!(did_you_mean("zzz", known), None);
    }
}
