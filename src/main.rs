//! The `mejora` binary: see `mejora --help`.
fn main() -> std::process::ExitCode {
    return_large_blocks_to_the_system();
    mejora::cli::main()
}

/// glibc raises its mmap threshold after the first large block is freed (argon2 allocates
/// 19 MiB per password hash), after which such blocks come from per-thread heaps that it keeps:
/// the resident size ratchets up by ~20 MB per worker thread that ever hashed a password. A fixed
/// threshold keeps blocks of 4 MiB and more in mmap, returned to the system when freed.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn return_large_blocks_to_the_system() {
    // SAFETY: mallopt only sets an allocator parameter; it runs before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 4 * 1024 * 1024);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn return_large_blocks_to_the_system() {}
