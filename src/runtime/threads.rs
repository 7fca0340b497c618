//! How many libtorch intra-op threads a call uses.
//!
//! A host that sets `threads = n > 0` gets exactly n. The default, `threads = 0`, is the
//! library's *fair share*: the CPUs this process may run on (its affinity mask) minus the other
//! tasks that are running on the machine right now, at least one; re-read while the call runs
//! (at its progress points, at most every [`RECHECK`]), so a long call gives cores back when the
//! host gets busy and takes them again when it is idle.
//!
//! Why not simply all cores: libtorch's CPU kernels run on an OpenMP team whose waiting threads
//! spin. When another process holds one of two cores, every parallel region waits for the team
//! member that shares a core with it, and the spinning burns that core's time too. Measured on
//! the 2-core machine with other work running (docs/results/busy_host.md): the Swiss roll
//! example (`--quick`) took 572 s and 292 CPU-seconds with 2 threads against 92 s and
//! 30 CPU-seconds with 1. A library cannot ask its host to export OMP_WAIT_POLICY, and libgomp
//! reads it before our code runs, so the thread count is the lever we have.
//!
//! The count of running tasks is the kernel's instantaneous one (`/proc/loadavg`, field 4),
//! minus this process's own running threads (`/proc/self/task/*/stat`), so our own OpenMP
//! workers are not mistaken for the host's load. A CPU-bound competitor is always runnable and
//! always counted; a bursty one is seen as often as it runs, which is the share it takes.
//! Elsewhere than Linux, the fair share is all available cores.
//!
//! Bit-for-bit reproducibility on the CPU needs a fixed thread count (libtorch's reductions split
//! their work by thread): a host that wants it sets `threads` explicitly.

use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::runtime::progress::Progress;
use crate::runtime::race_checker;

/// How often a running call re-reads the machine's load.
pub const RECHECK: Duration = Duration::from_millis(200);

/// At most this many of our own threads are inspected: a host with more threads than that is
/// assumed to run all of them (fewer cores for us, never more).
const MAX_OWN_TASKS: usize = 512;

/// CPUs this process may run on.
pub fn allowed_cpus() -> usize {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; sched_getaffinity fills it for pid 0,
        // the calling thread.
        unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) == 0 {
                let n = libc::CPU_COUNT(&set);
                if n > 0 {
                    return n as usize;
                }
            }
        }
    }
    std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1)
}

/// Tasks of other processes (and of the host's other threads) running now, when the platform
/// says; `None` when it cannot be read.
pub fn others_running() -> Option<usize> {
    let loadavg = std::fs::read_to_string("/proc/loadavg").ok()?;
    let running: usize = loadavg.split_whitespace().nth(3)?.split('/').next()?.parse().ok()?;
    Some(running.saturating_sub(own_running()?))
}

/// Threads of this process in state R (running or runnable), the calling one included.
fn own_running() -> Option<usize> {
    let mut n = 0;
    for (i, entry) in std::fs::read_dir("/proc/self/task").ok()?.enumerate() {
        if i >= MAX_OWN_TASKS {
            // Count the rest as not running: the caller then sees more load, and takes fewer
            // threads, never more than its share.
            break;
        }
        let Ok(entry) = entry else { continue };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else { continue };
        // "tid (comm) S ...": the command name may contain spaces and parentheses.
        if let Some(state) = stat.rfind(')').and_then(|i| stat[i + 1..].split_whitespace().next()) {
            if state == "R" {
                n += 1;
            }
        }
    }
    Some(n.max(1))
}

/// The fair share now: allowed CPUs minus the others running, within 1..=allowed.
pub fn fair_share() -> usize {
    let cpus = allowed_cpus();
    match others_running() {
        Some(others) => cpus.saturating_sub(others).clamp(1, cpus),
        None => cpus,
    }
}

/// The fair share, read at most every [`RECHECK`] for the whole process: a host that makes
/// thousands of short calls (one sampling batch each) pays for one reading per interval.
fn fair_share_recent() -> usize {
    static LAST: Mutex<Option<(Instant, usize)>> = Mutex::new(None);
    // SAFETY: only the lock word's address is passed to valgrind (see race_checker).
    race_checker::untracked(unsafe { LAST.raw() });
    let mut last = LAST.lock();
    race_checker::acquired(&LAST);
    let share = match *last {
        Some((at, share)) if at.elapsed() < RECHECK => share,
        _ => {
            let share = fair_share();
            *last = Some((Instant::now(), share));
            share
        }
    };
    race_checker::releasing(&LAST as *const _ as *const ());
    drop(last);
    share
}

/// The thread count of one call: fixed when the host asked for one, else the fair share,
/// re-read at most every [`RECHECK`] when the call's loop reaches a progress point.
pub struct Governor {
    requested: usize,
    current: usize,
    checked: Instant,
}

impl Governor {
    /// Applies the call's thread count (libtorch's setting is per calling thread plus a
    /// process-wide default, so only at the call).
    pub fn start(requested: usize) -> Governor {
        let current = if requested > 0 { requested } else { fair_share_recent() };
        tch::set_num_threads(current as i32);
        Governor { requested, current, checked: Instant::now() }
    }

    /// Re-reads the load and changes the thread count when the fair share moved.
    pub fn rebalance(&mut self) {
        if self.requested > 0 || self.checked.elapsed() < RECHECK {
            return;
        }
        self.checked = Instant::now();
        let share = fair_share_recent();
        if share != self.current {
            self.current = share;
            tch::set_num_threads(share as i32);
        }
    }

    /// Threads in use now.
    pub fn current(&self) -> usize {
        self.current
    }
}

/// A call's progress observer wrapped with its thread governor: the count is applied now and
/// re-read at every progress point the loop reaches.
pub fn governed<'a>(
    requested: usize,
    mut observer: impl FnMut(&Progress) -> bool + 'a,
) -> impl FnMut(&Progress) -> bool + 'a {
    let mut governor = Governor::start(requested);
    move |p| {
        governor.rebalance();
        observer(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fair_share_lies_between_one_and_the_allowed_cpus() {
        let cpus = allowed_cpus();
        assert!(cpus >= 1);
        for _ in 0..20 {
            let n = fair_share();
            assert!((1..=cpus).contains(&n), "{n} of {cpus}");
        }
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn counts_this_thread_as_running_and_a_spinning_competitor_as_other() {
        // This thread is running while it reads, so it is among its own process's runnable ones.
        assert!(own_running().unwrap() >= 1);
        // A busy thread of another process would be counted as "other"; a busy thread of ours is
        // ours: with one spinning here, the others' count must not grow by one.
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let spin = {
            let stop = stop.clone();
            std::thread::spawn(move || {
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    std::hint::spin_loop();
                }
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        let mut own = 0;
        for _ in 0..50 {
            own = own.max(own_running().unwrap());
        }
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        spin.join().unwrap();
        assert!(own >= 2, "a spinning thread of ours was never seen running ({own})");
    }

    #[test]
    fn a_requested_count_is_kept() {
        let before = tch::get_num_threads();
        let mut g = Governor::start(1);
        std::thread::sleep(RECHECK);
        g.rebalance();
        assert_eq!((g.current(), tch::get_num_threads()), (1, 1));
        tch::set_num_threads(before);
    }
}
