//! `gateway serve` (the default) and `gateway migrate`; see `gateway --help`.

/// mimalloc rather than glibc's malloc: a list read allocates many small strings and
/// frees them on another thread (rows decoded on a blocking thread, the body written on
/// an HTTP worker), and glibc's allocator took 15-17 % of the gateway's CPU on such a read
/// (`perf`, docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> anyhow::Result<()> {
    gateway::cli::run()
}
