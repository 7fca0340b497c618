//! Client requests for valgrind's helgrind (`make test-sanitize`), which cannot see
//! parking_lot's locks (built on atomics and futexes) nor reason about atomics: every access to
//! data shared behind them would be reported as a race. The library's own locks (the handle
//! locks of `ffi/guard.rs`, the thread-count cache of `runtime/threads.rs`) tell it that
//! releasing a lock happens before the next acquisition, and that their atomics are
//! synchronization, so it checks the data behind them for real. Outside valgrind each request is
//! a few register rotations that change nothing (the documented no-op sequence of valgrind.h);
//! other targets compile to nothing.

// From valgrind/helgrind.h (stable since valgrind 3.7): USERSO_SEND_PRE, USERSO_RECV_POST,
// ARANGE_MAKE_UNTRACKED, i.e. ANNOTATE_HAPPENS_BEFORE / _AFTER and VALGRIND_HG_DISABLE_CHECKING.
const SEND_PRE: usize = 0x4847_0121;
const RECV_POST: usize = 0x4847_0122;
const MAKE_UNTRACKED: usize = 0x4847_0127;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
#[inline(always)]
fn request(req: usize, a1: usize, a2: usize) {
    let args: [usize; 6] = [req, a1, a2, 0, 0, 0];
    // SAFETY: rotating rdi by 3 + 13 + 61 + 51 = 128 bits and exchanging rbx with itself
    // leave every register as it was; valgrind recognizes the sequence and reads `args`.
    unsafe {
        std::arch::asm!(
            "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51", "xchg rbx, rbx",
            in("rax") args.as_ptr(),
            inout("rdx") 0usize => _,
            inout("rdi") 0usize => _,
            options(nostack),
        );
    }
}

#[cfg(not(all(target_arch = "x86_64", target_os = "linux")))]
#[inline(always)]
fn request(_req: usize, _a1: usize, _a2: usize) {}

pub(crate) fn acquired<T>(lock: &T) {
    request(RECV_POST, lock as *const T as usize, 0);
}

pub(crate) fn releasing(lock: *const ()) {
    request(SEND_PRE, lock as usize, 0);
}

pub(crate) fn untracked<T>(value: &T) {
    request(MAKE_UNTRACKED, value as *const T as usize, std::mem::size_of::<T>());
}
