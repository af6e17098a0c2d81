//! The `xiso` command line: parses arguments, calls the library, prints.
//! The layer itself is [`cli`]: arguments, one function per command, rendering.
//!
//! Exit codes: 0 success, 1 findings (verify), 2 error (bad input, I/O, misuse).

use std::process::ExitCode;

mod cli;

// `--features mimalloc` (scripts/release.sh --mimalloc): musl's malloc serialises the threads of
// the parallel bzip2, zstd and xz encoders on one lock; mimalloc keeps per-thread heaps.
#[cfg(feature = "mimalloc")]
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    cli::main()
}
