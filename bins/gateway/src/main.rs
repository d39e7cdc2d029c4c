//! `gateway serve` (the default) and `gateway migrate`; see `gateway --help`.

fn main() -> anyhow::Result<()> {
    gateway::cli::run()
}
