//! The `git-coord` binary: the command line ([`git_coord::cli`]), with
//! mimalloc as the allocator.

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    git_coord::cli::main()
}
