//! Crash-safe file writes: every file the library saves goes through [`write_atomically`].
//!
//! A reader of `path` sees either the previous file or the complete new one, whatever happens to
//! the writing process (a crash, SIGKILL, a full disk) and, once the call has returned, whatever
//! happens to the machine (a power cut). The steps:
//!
//! 1. create a temporary file in the same folder (a rename is atomic only within one file
//!    system), named `.<file name>.<pid>-<n>.scones-tmp`, where `n` counts the saves of this
//!    process, so that concurrent saves to one path, from threads or processes, never share a
//!    temporary file; `create_new` refuses to reuse a name a dead process left behind;
//! 2. let the caller write it, then fsync it: without this a power cut after the rename can
//!    leave the new name pointing at a file whose data never reached the disk;
//! 3. rename it over `path` (the last rename of concurrent saves wins);
//! 4. fsync the folder, which makes the rename itself durable.
//!
//! On any failure the temporary file is removed, so a failed save leaves `path` as it was and
//! nothing beside it. A process killed between steps 1 and 3 cannot remove its temporary file;
//! the next successful save of the same path removes those whose process is gone (on Unix), and
//! a user can delete `.*.scones-tmp` files of a finished program at any time.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// The suffix of every temporary file; see the module documentation for the whole name.
pub const TEMP_SUFFIX: &str = ".scones-tmp";

/// Writes `path` through `write`, atomically and durably (see the module documentation).
///
/// `write` receives the open temporary file and may fail with any error that an `io::Error`
/// converts into; that error is returned unchanged after the temporary file is removed.
pub fn write_atomically<E>(path: &Path, write: impl FnOnce(&mut File) -> Result<(), E>) -> Result<(), E>
where
    E: From<io::Error>,
{
    let (dir, name) = split(path)?;
    let (tmp, mut file) = create_temporary(&dir, &name)?;
    let written = write(&mut file).and_then(|()| {
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        Ok(())
    });
    if let Err(e) = written {
        // Best effort: the caller needs the original error, not one about the clean-up.
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    sync_folder(&dir)?;
    remove_stale_temporaries(&dir, &name);
    Ok(())
}

fn split(path: &Path) -> io::Result<(PathBuf, String)> {
    let name = path
        .file_name()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, format!("'{}' names no file", path.display())))?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
        _ => PathBuf::from("."),
    };
    Ok((dir, name.to_string_lossy().into_owned()))
}

fn create_temporary(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    static SAVES: AtomicU64 = AtomicU64::new(0);
    loop {
        let n = SAVES.fetch_add(1, Ordering::Relaxed);
        let tmp = dir.join(format!(".{name}.{}-{n}{TEMP_SUFFIX}", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&tmp) {
            // Left by an earlier process with this pid that was killed mid-save: take the next n.
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
            Err(e) => return Err(e),
            Ok(file) => return Ok((tmp, file)),
        }
    }
}

#[cfg(unix)]
fn sync_folder(dir: &Path) -> io::Result<()> {
    match File::open(dir)?.sync_all() {
        // Some file systems (e.g. some network and FUSE mounts) cannot fsync a folder; the rename
        // has happened and there is nothing better to do there.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) || e.raw_os_error() == Some(libc::ENOTSUP) => Ok(()),
        other => other,
    }
}

#[cfg(not(unix))]
fn sync_folder(_dir: &Path) -> io::Result<()> {
    // Windows cannot open a folder as a file; its rename (MoveFileEx) is journaled by NTFS.
    Ok(())
}

/// Removes temporary files of `name` whose writing process has exited: only a killed process
/// leaves one, and a process that is gone can no longer be writing it.
#[cfg(unix)]
fn remove_stale_temporaries(dir: &Path, name: &str) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let prefix = format!(".{name}.");
    let own = std::process::id();
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(rest) = file_name.to_str().and_then(|s| s.strip_prefix(&prefix)) else { continue };
        let Some(pid) = rest
            .strip_suffix(TEMP_SUFFIX)
            .and_then(|s| s.split_once('-'))
            .and_then(|(pid, n)| n.parse::<u64>().ok().and(pid.parse::<u32>().ok()))
        else {
            continue;
        };
        if pid != own && !process_exists(pid) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

#[cfg(not(unix))]
fn remove_stale_temporaries(_dir: &Path, _name: &str) {}

#[cfg(unix)]
fn process_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else { return true };
    // Signal 0 checks existence only. EPERM means it exists under another user; when in doubt,
    // keep the file.
    let alive = unsafe { libc::kill(pid, 0) } == 0;
    alive || io::Error::last_os_error().raw_os_error() != Some(libc::ESRCH)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn scratch(tag: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("scones-atomic-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn listing(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> =
            fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        v.sort();
        v
    }

    #[test]
    fn replaces_the_file_and_leaves_nothing_beside_it() {
        let dir = scratch("replace");
        let path = dir.join("m.bin");
        write_atomically(&path, |f| f.write_all(b"first")).unwrap();
        write_atomically(&path, |f| f.write_all(b"second")).unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"second");
        assert_eq!(listing(&dir), ["m.bin"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_failing_writer_leaves_the_old_file_and_no_temporary() {
        let dir = scratch("fail");
        let path = dir.join("m.bin");
        write_atomically(&path, |f| f.write_all(b"good")).unwrap();
        let err = write_atomically(&path, |f| {
            f.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "disk full");
        assert_eq!(fs::read(&path).unwrap(), b"good");
        assert_eq!(listing(&dir), ["m.bin"]);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn removes_temporaries_of_dead_processes_only() {
        let dir = scratch("stale");
        let path = dir.join("m.bin");
        // pid_max on Linux is at most 2^22, so this pid cannot exist; our own pid does.
        let dead = dir.join(format!(".m.bin.{}-0{TEMP_SUFFIX}", 1u32 << 30));
        let live = dir.join(format!(".m.bin.{}-999999{TEMP_SUFFIX}", std::process::id()));
        let other = dir.join(format!(".n.bin.{}-0{TEMP_SUFFIX}", 1u32 << 30));
        for p in [&dead, &live, &other] {
            fs::write(p, b"x").unwrap();
        }
        write_atomically(&path, |f| f.write_all(b"ok")).unwrap();
        assert!(!dead.exists());
        assert!(live.exists() && other.exists(), "{:?}", listing(&dir));
        fs::remove_dir_all(&dir).unwrap();
    }
}
