//! The `vigil` binary: parse arguments, run the command, map the result to an exit code.

mod cli;

use clap::Parser;

/// mimalloc: the bundle readers and the rule engine make many small, short-lived allocations
/// on every thread, where glibc's allocator contends (docs/performance.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let cli = cli::Cli::parse();
    let code = match cli::run(cli) {
        Ok(code) => code,
        Err(e) => {
            // The whole chain: "cannot read `x`: No such file or directory".
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(cause) = source {
                let text = cause.to_string();
                if !message.contains(&text) {
                    message.push_str(&format!(": {text}"));
                }
                source = cause.source();
            }
            eprintln!("error: {message}");
            2
        }
    };
    std::process::exit(code);
}
