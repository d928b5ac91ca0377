//! One run at a time: an exclusive `flock` on a file under /run, taken before observing and
//! held until the process exits (the kernel drops it even on SIGKILL).

use std::fs::{File, OpenOptions};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use nix::fcntl::{Flock, FlockArg};

use crate::error::{Error, Result};

pub struct RunLock {
    lock: Flock<File>,
}

impl RunLock {
    /// Lets child processes inherit the lock, so a child that outlives a killed run (the SSM
    /// agent's `-register`) still holds it and the next run waits for it to finish.
    pub fn share_with_children(&self) -> Result<()> {
        nix::fcntl::fcntl(
            &*self.lock,
            nix::fcntl::FcntlArg::F_SETFD(nix::fcntl::FdFlag::empty()),
        )
        .map(|_| ())
        .map_err(|e| Error::Other(format!("cannot share the run lock: {e}")))
    }
}

pub fn acquire(path: &Path, wait: Duration) -> Result<RunLock> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let started = Instant::now();
    loop {
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(path)
            .map_err(|e| Error::io(path, e))?;
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(lock) => return Ok(RunLock { lock }),
            Err((_, nix::errno::Errno::EWOULDBLOCK)) if started.elapsed() < wait => {
                std::thread::sleep(Duration::from_millis(250));
            }
            Err((_, nix::errno::Errno::EWOULDBLOCK)) => {
                return Err(Error::Other(format!(
                "another ecs-anywhere run holds {} (waited {}s); try again when it has finished",
                path.display(),
                wait.as_secs()
            )))
            }
            Err((_, e)) => return Err(Error::io(path, e.into())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_waits_then_fails() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run/x.lock");
        let first = acquire(&p, Duration::ZERO).unwrap();
        assert!(acquire(&p, Duration::from_millis(300)).is_err());
        drop(first);
        assert!(acquire(&p, Duration::ZERO).is_ok());
    }
}
