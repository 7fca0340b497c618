//! The lock of a handle that may be used from several threads and from inside its own
//! callbacks. Another thread waits for the lock (handles serialize, as documented); the thread
//! that already holds it — a progress or score callback calling back into the same handle —
//! gets an error instead of a deadlock. Re-entry on a different handle is a different lock and
//! works as before.

use std::cell::Cell;
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU64, Ordering};

use parking_lot::{Mutex, MutexGuard};

use crate::runtime::error::{Error, Result};
use crate::runtime::race_checker;

/// A non-zero id per thread (0 means "no owner").
fn thread_id() -> u64 {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    thread_local!(static ID: Cell<u64> = const { Cell::new(0) });
    ID.with(|id| {
        if id.get() == 0 {
            race_checker::untracked(&NEXT);
            id.set(NEXT.fetch_add(1, Ordering::Relaxed));
        }
        id.get()
    })
}

pub(crate) struct HandleLock<T> {
    inner: Mutex<T>,
    /// The thread holding `inner`, or 0. Only the holder stores its own id, and clears it
    /// before unlocking, so a thread reading its own id here really holds the lock.
    owner: AtomicU64,
}

pub(crate) struct Held<'a, T> {
    guard: MutexGuard<'a, T>,
    owner: &'a AtomicU64,
}

impl<T> HandleLock<T> {
    pub(crate) fn new(value: T) -> Self {
        HandleLock { inner: Mutex::new(value), owner: AtomicU64::new(0) }
    }

    /// Locks the handle; `what` names it in the re-entry error.
    pub(crate) fn lock(&self, what: &str) -> Result<Held<'_, T>> {
        let me = thread_id();
        race_checker::untracked(&self.owner);
        // SAFETY: only the lock word's address is taken; it is never locked or unlocked here.
        race_checker::untracked(unsafe { self.inner.raw() });
        if self.owner.load(Ordering::Acquire) == me {
            return Err(Error::invalid(format!(
                "re-entrant call on the {what} from inside one of its own callbacks (it is busy in \
                 the call that invoked the callback; use another handle)"
            )));
        }
        let guard = self.inner.lock();
        race_checker::acquired(&self.inner);
        self.owner.store(me, Ordering::Release);
        Ok(Held { guard, owner: &self.owner })
    }
}

impl<T> Drop for Held<'_, T> {
    fn drop(&mut self) {
        // Runs before the guard field is dropped, i.e. while the lock is still held.
        self.owner.store(0, Ordering::Release);
        race_checker::releasing(self.guard_lock_addr());
    }
}

impl<T> Held<'_, T> {
    fn guard_lock_addr(&self) -> *const () {
        MutexGuard::mutex(&self.guard) as *const Mutex<T> as *const ()
    }
}

impl<T> Deref for Held<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.guard
    }
}

impl<T> DerefMut for Held<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.guard
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_thread_reentry_fails_other_threads_wait() {
        let l = std::sync::Arc::new(HandleLock::new(1));
        let held = l.lock("sampler").unwrap();
        let e = l.lock("sampler").err().expect("re-entry must fail");
        assert!(e.message.contains("re-entrant"), "{}", e.message);
        let l2 = l.clone();
        let t = std::thread::spawn(move || *l2.lock("sampler").unwrap() + 1);
        std::thread::sleep(std::time::Duration::from_millis(20));
        drop(held);
        assert_eq!(t.join().unwrap(), 2);
        assert_eq!(*l.lock("sampler").unwrap(), 1, "unlocked again after the holder left");
    }
}
