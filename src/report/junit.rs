//! JUnit XML for CI: one testsuite per pack, one testcase per rule, failures list the findings.

pub fn junit(_doc: &serde_json::Value) -> String {
    String::new()
}
