//! A file's bytes, in memory mapped for them.
//!
//! - `read`: into fresh memory, in 2 MB pages where the kernel offers them (`MADV_HUGEPAGE`,
//!   for files of 1 MB or more), for wasmtime's compiled core. Into a fresh heap buffer that
//!   cost a page fault per 4 KB page; read this way, a cold start with the compiled core on
//!   disk went from about 6.2 to 2.9 ms (load, check and deserialize, side by side). The
//!   memory starts on a 2 MB boundary, so page-aligned: wasmtime can run the compiled core
//!   from it (`freeze`, then kept for the life of the process).
//! - `map`: the page cache's own pages, for the .wasm a new process hashes and wasmi parses:
//!   no copy at all (a wasmi cold start 0.26 ms shorter than reading it, side by side).
// Maps memory and reads a file into it: unsafe by nature (each block says why it holds).
#![allow(unsafe_code)]

pub(crate) struct Buffer {
    map: *mut u8,
    map_len: usize,
    ptr: *mut u8,
    len: usize,
}

/// A huge page: 2 MB on x86-64 and (with 4 KB base pages) aarch64.
const HUGE: usize = 2 << 20;

impl Buffer {
    /// The file's pages as they lie in the page cache, mapped read-only: no copy and no
    /// fresh pages. What another process writes to the file shows through, so this is for
    /// bytes that are only hashed and parsed by the interpreter (the .wasm), never for code
    /// that runs natively (the compiled core is `read`).
    pub(crate) fn map(file: &std::path::Path) -> std::io::Result<Buffer> {
        use std::os::fd::AsRawFd;
        let f = std::fs::File::open(file)?;
        let len = usize::try_from(f.metadata()?.len()).map_err(std::io::Error::other)?;
        // An empty file cannot be mapped: a page of nothing stands in.
        let map_len = len.max(1);
        // SAFETY: a private read-only mapping of an open file; checked for failure below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ,
                if len == 0 {
                    libc::MAP_PRIVATE | libc::MAP_ANONYMOUS
                } else {
                    libc::MAP_PRIVATE | libc::MAP_POPULATE
                },
                if len == 0 { -1 } else { f.as_raw_fd() },
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Buffer {
            map: map.cast(),
            map_len,
            ptr: map.cast(),
            len,
        })
    }

    pub(crate) fn read(file: &std::path::Path) -> std::io::Result<Buffer> {
        use std::io::Read;
        let mut f = std::fs::File::open(file)?;
        let len = usize::try_from(f.metadata()?.len()).map_err(std::io::Error::other)?;
        // Whole huge pages, and room to start them on a 2 MB boundary.
        let pages = len
            .checked_next_multiple_of(HUGE)
            .ok_or_else(|| std::io::Error::other("file too large"))?;
        let map_len = pages
            .checked_add(HUGE)
            .ok_or_else(|| std::io::Error::other("file too large"))?;
        // SAFETY: a fresh private anonymous mapping; checked for failure below.
        let map = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                map_len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
                -1,
                0,
            )
        };
        if map == libc::MAP_FAILED {
            return Err(std::io::Error::last_os_error());
        }
        let offset = (HUGE - (map as usize) % HUGE) % HUGE;
        let buf = Buffer {
            map: map.cast(),
            map_len,
            // SAFETY: `offset < HUGE`, so `ptr..ptr + pages` lies inside the mapping.
            ptr: unsafe { map.cast::<u8>().add(offset) },
            len,
        };
        // SAFETY: advice on our own mapping, whole huge pages; failing it (no transparent
        // huge pages) only means small pages, so the result is ignored. Below 1 MB, zeroing
        // a 2 MB page would cost more than the small pages' faults.
        unsafe {
            if len >= HUGE / 2 {
                libc::madvise(buf.ptr.cast(), pages, libc::MADV_HUGEPAGE);
            }
        }
        // SAFETY: `len` writable bytes at `ptr`, ours alone until `buf` is dropped.
        let out = unsafe { std::slice::from_raw_parts_mut(buf.ptr, len) };
        f.read_exact(out)?;
        Ok(buf)
    }

    pub(crate) fn as_slice(&self) -> &[u8] {
        // SAFETY: `len` initialised bytes (read_exact filled them), alive as long as self.
        unsafe { std::slice::from_raw_parts(self.ptr, self.len) }
    }
}

#[cfg(feature = "wasmtime")]
impl Buffer {
    /// Makes the whole buffer read-only: what wasmtime may run in place stays as checked.
    pub(crate) fn freeze(&self) -> std::io::Result<()> {
        // SAFETY: our own mapping, whole.
        if unsafe { libc::mprotect(self.map.cast(), self.map_len, libc::PROT_READ) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `read`, unmapped once.
        unsafe { libc::munmap(self.map.cast(), self.map_len) };
    }
}
