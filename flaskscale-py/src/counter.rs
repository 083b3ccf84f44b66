//! The request counter of the Flask extension: lock-free, one atomic add per request.
//!
//! In one process the count is an `AtomicU64` on the heap. With several worker processes (a
//! pre-fork server such as gunicorn `-w N`) the count lives in a small file mapped into every
//! worker: a header and a fixed number of 64-byte slots, one per worker, so that workers never
//! share a cache line. A worker claims a free slot, or the slot of a worker that has died (and
//! carries on its count, so the total over the pod never goes backwards), and adds to it with
//! a relaxed atomic add. Any worker reads the pod's total as the sum over all slots.
//!
//! Layout (native-endian `u64` words): header `[MAGIC, VERSION, slots, 0, 0, 0, 0, 0]`, then per
//! slot `[pid, count, 0, 0, 0, 0, 0, 0]`.
// the one module of the bindings allowed `unsafe`: mapping the shared counter file
#![allow(unsafe_code)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use flaskscale_core::Error;
use pyo3::prelude::*;

use crate::convert::{count, to_py};

const SLOT_BYTES: usize = 64;
const HEADER_BYTES: usize = 64;
const MAGIC: u64 = u64::from_le_bytes(*b"FLSCNT01");
const VERSION: u64 = 1;
/// More slots than any pod has workers; the file stays small (64 KiB at this bound).
const MAX_SLOTS: usize = 1023;

/// Counts requests: in this process, or for every worker of a pod through a shared file.
///
/// ``RequestCounter()`` counts in this process. ``RequestCounter.shared(path, slots=64)`` maps
/// ``path`` (created if missing) and claims one slot for this process; call :meth:`reclaim` in
/// a child after ``fork`` (the Flask extension does it with ``os.register_at_fork``).
#[pyclass(module = "flaskscale._flaskscale", frozen)]
pub struct RequestCounter {
    storage: Storage,
}

enum Storage {
    Local(AtomicU64),
    #[cfg(unix)]
    Shared(shared::Slots),
}

#[pymethods]
impl RequestCounter {
    #[new]
    fn new() -> Self {
        RequestCounter {
            storage: Storage::Local(AtomicU64::new(0)),
        }
    }

    /// A counter shared by the worker processes that open the same ``path``.
    #[staticmethod]
    #[pyo3(signature = (path, slots = 64))]
    fn shared(
        py: Python<'_>,
        path: std::path::PathBuf,
        #[pyo3(from_py_with = count)] slots: usize,
    ) -> PyResult<Self> {
        #[cfg(unix)]
        {
            let s = py
                .detach(|| shared::Slots::open(&path, slots))
                .map_err(|e| to_py(py, e))?;
            Ok(RequestCounter {
                storage: Storage::Shared(s),
            })
        }
        #[cfg(not(unix))]
        {
            let _ = (path, slots);
            Err(to_py(
                py,
                Error::InvalidParameter(
                    "a counter shared between worker processes needs a Unix system".into(),
                ),
            ))
        }
    }

    /// Adds ``n`` (default 1) to this process's count. Never blocks, never raises.
    #[pyo3(signature = (n = 1))]
    fn add(&self, n: u64) {
        self.cell().fetch_add(n, Ordering::Relaxed);
    }

    /// This process's count (its slot's, for a shared counter).
    #[getter]
    fn value(&self) -> u64 {
        self.cell().load(Ordering::Relaxed)
    }

    /// The count over every worker that has used the shared file; for a local counter, the same
    /// as :attr:`value`.
    fn total(&self) -> u64 {
        match &self.storage {
            Storage::Local(c) => c.load(Ordering::Relaxed),
            #[cfg(unix)]
            Storage::Shared(s) => s.total(),
        }
    }

    /// Worker processes alive that hold a slot (1 for a local counter).
    fn workers(&self) -> usize {
        match &self.storage {
            Storage::Local(_) => 1,
            #[cfg(unix)]
            Storage::Shared(s) => s.live_workers(),
        }
    }

    /// ``(pid, count)`` of every used slot, dead workers included.
    fn slots(&self) -> Vec<(u64, u64)> {
        match &self.storage {
            Storage::Local(c) => vec![(u64::from(std::process::id()), c.load(Ordering::Relaxed))],
            #[cfg(unix)]
            Storage::Shared(s) => s.used(),
        }
    }

    /// Index of this process's slot (0 for a local counter).
    #[getter]
    fn slot(&self) -> usize {
        match &self.storage {
            Storage::Local(_) => 0,
            #[cfg(unix)]
            Storage::Shared(s) => s.mine.load(Ordering::Relaxed),
        }
    }

    /// Whether the count is shared between processes.
    #[getter]
    fn is_shared(&self) -> bool {
        !matches!(self.storage, Storage::Local(_))
    }

    /// Claims a slot for the calling process if the current one belongs to another (after
    /// ``fork``). Returns the slot index.
    fn reclaim(&self, py: Python<'_>) -> PyResult<usize> {
        match &self.storage {
            Storage::Local(_) => Ok(0),
            #[cfg(unix)]
            Storage::Shared(s) => s.reclaim().map_err(|e| to_py(py, e)),
        }
    }

    fn __repr__(&self) -> String {
        match &self.storage {
            Storage::Local(c) => format!("RequestCounter(value={})", c.load(Ordering::Relaxed)),
            #[cfg(unix)]
            Storage::Shared(s) => format!(
                "RequestCounter.shared(slot={}, value={}, total={})",
                s.mine.load(Ordering::Relaxed),
                s.cell(s.mine.load(Ordering::Relaxed))
                    .load(Ordering::Relaxed),
                s.total()
            ),
        }
    }
}

impl RequestCounter {
    fn cell(&self) -> &AtomicU64 {
        match &self.storage {
            Storage::Local(c) => c,
            #[cfg(unix)]
            Storage::Shared(s) => s.cell(s.mine.load(Ordering::Relaxed)),
        }
    }
}

#[cfg(unix)]
mod shared {
    use super::*;
    use std::fs::OpenOptions;
    use std::os::unix::io::AsRawFd;
    use std::path::Path;

    pub struct Slots {
        /// Keeps the mapping alive; every access goes through `base`.
        _map: memmap2::MmapMut,
        base: *const u8,
        n: usize,
        pub mine: AtomicUsize,
    }

    // SAFETY: the mapping is only ever read and written through `AtomicU64`s (`word`), which
    // are safe to share between threads (and, being lock-free, between processes); `base`
    // points into `_map`, which lives as long as `self` and is never remapped.
    #[allow(unsafe_code)]
    unsafe impl Send for Slots {}
    #[allow(unsafe_code)]
    unsafe impl Sync for Slots {}

    fn pid() -> u64 {
        u64::from(std::process::id())
    }

    fn alive(pid: u64) -> bool {
        let Ok(p) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if p <= 0 {
            return false;
        }
        // SAFETY: signal 0 only checks that the process exists; nothing is sent.
        #[allow(unsafe_code)]
        let rc = unsafe { libc::kill(p, 0) };
        // EPERM: it exists but belongs to another user; still alive.
        rc == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }

    impl Slots {
        pub fn open(path: &Path, slots: usize) -> Result<Slots, Error> {
            if slots == 0 || slots > MAX_SLOTS {
                return Err(Error::InvalidParameter(format!(
                    "worker slots must be in 1..={MAX_SLOTS}, got {slots}"
                )));
            }
            let io = |e: std::io::Error| Error::Io(format!("{}: {e}", path.display()));
            let file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(io)?;
            // Several workers may start at once: the first one to hold the lock sizes the file
            // and writes the header; the others find it written.
            let fd = file.as_raw_fd();
            // SAFETY: flock on a descriptor this function owns; released below or on close.
            #[allow(unsafe_code)]
            if unsafe { libc::flock(fd, libc::LOCK_EX) } != 0 {
                return Err(io(std::io::Error::last_os_error()));
            }
            let result = (|| {
                let len = file.metadata().map_err(io)?.len();
                let want = (HEADER_BYTES + slots * SLOT_BYTES) as u64;
                let fresh = len == 0;
                if fresh {
                    file.set_len(want).map_err(io)?;
                }
                // SAFETY: the file is only resized under the lock above, by this function, and
                // only from empty; the mapping is accessed through atomics only.
                #[allow(unsafe_code)]
                let mut map = unsafe { memmap2::MmapMut::map_mut(&file) }.map_err(io)?;
                if map.len() < HEADER_BYTES {
                    return Err(Error::InvalidData(format!(
                        "{}: not a flaskscale counter file ({} bytes)",
                        path.display(),
                        map.len()
                    )));
                }
                let base = map.as_mut_ptr() as *const u8;
                let mut s = Slots {
                    _map: map,
                    base,
                    n: 0,
                    mine: AtomicUsize::new(0),
                };
                if fresh {
                    s.word(0).store(MAGIC, Ordering::Relaxed);
                    s.word(1).store(VERSION, Ordering::Relaxed);
                    s.word(2).store(slots as u64, Ordering::Release);
                }
                let (magic, version, n) = (
                    s.word(0).load(Ordering::Acquire),
                    s.word(1).load(Ordering::Relaxed),
                    s.word(2).load(Ordering::Relaxed) as usize,
                );
                if magic != MAGIC || version != VERSION {
                    return Err(Error::InvalidData(format!(
                        "{}: not a flaskscale counter file (bad header); remove it or choose \
                         another shared directory",
                        path.display()
                    )));
                }
                if n == 0 || n > MAX_SLOTS || s._map.len() < HEADER_BYTES + n * SLOT_BYTES {
                    return Err(Error::InvalidData(format!(
                        "{}: counter file is truncated or corrupt ({n} slots in {} bytes)",
                        path.display(),
                        s._map.len()
                    )));
                }
                s.n = n;
                s.claim()?;
                Ok(s)
            })();
            // SAFETY: unlocking the descriptor locked above.
            #[allow(unsafe_code)]
            unsafe {
                libc::flock(fd, libc::LOCK_UN);
            }
            result
        }

        /// The `i`-th `u64` word of the mapping.
        fn word(&self, i: usize) -> &AtomicU64 {
            debug_assert!((i + 1) * 8 <= self._map.len());
            // SAFETY: `i` is within the mapping (checked against the header before any slot
            // is touched), the mapping is page-aligned so every word is 8-byte aligned, and
            // `AtomicU64` has the layout of `u64`. Other processes write these words only
            // through atomic instructions as well.
            #[allow(unsafe_code)]
            unsafe {
                &*(self.base.add(i * 8) as *const AtomicU64)
            }
        }

        fn pid_of(&self, slot: usize) -> &AtomicU64 {
            self.word((HEADER_BYTES + slot * SLOT_BYTES) / 8)
        }

        pub fn cell(&self, slot: usize) -> &AtomicU64 {
            self.word((HEADER_BYTES + slot * SLOT_BYTES) / 8 + 1)
        }

        fn claim(&self) -> Result<usize, Error> {
            let me = pid();
            // Already ours (a second counter in the same process shares the slot).
            for i in 0..self.n {
                if self.pid_of(i).load(Ordering::Acquire) == me {
                    self.mine.store(i, Ordering::Relaxed);
                    return Ok(i);
                }
            }
            // Take over the slot of a worker that has exited (a restarted worker, say); its count
            // stays in the total. Reusing slots first keeps the file from filling up.
            for i in 0..self.n {
                let owner = self.pid_of(i).load(Ordering::Acquire);
                if owner != 0
                    && owner != me
                    && !alive(owner)
                    && self
                        .pid_of(i)
                        .compare_exchange(owner, me, Ordering::AcqRel, Ordering::Acquire)
                        .is_ok()
                {
                    self.mine.store(i, Ordering::Relaxed);
                    return Ok(i);
                }
            }
            for i in 0..self.n {
                if self
                    .pid_of(i)
                    .compare_exchange(0, me, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
                {
                    self.mine.store(i, Ordering::Relaxed);
                    return Ok(i);
                }
            }
            Err(Error::InvalidParameter(format!(
                "all {} worker slots of the shared counter are held by live processes; raise \
                 the number of slots (FLASKSCALE_WORKER_SLOTS)",
                self.n
            )))
        }

        pub fn reclaim(&self) -> Result<usize, Error> {
            let i = self.mine.load(Ordering::Relaxed);
            if self.pid_of(i).load(Ordering::Acquire) == pid() {
                return Ok(i);
            }
            self.claim()
        }

        pub fn total(&self) -> u64 {
            (0..self.n)
                .map(|i| self.cell(i).load(Ordering::Relaxed))
                .fold(0u64, u64::wrapping_add)
        }

        pub fn live_workers(&self) -> usize {
            (0..self.n)
                .filter(|&i| {
                    let p = self.pid_of(i).load(Ordering::Acquire);
                    p != 0 && alive(p)
                })
                .count()
        }

        pub fn used(&self) -> Vec<(u64, u64)> {
            (0..self.n)
                .filter_map(|i| {
                    let p = self.pid_of(i).load(Ordering::Acquire);
                    (p != 0).then(|| (p, self.cell(i).load(Ordering::Relaxed)))
                })
                .collect()
        }
    }
}

pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<RequestCounter>()
}
