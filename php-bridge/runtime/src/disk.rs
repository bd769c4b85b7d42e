//! The compiled core on disk (wasmtime only): compiling the core with cranelift costs a new
//! PHP process hundreds of milliseconds, reading it back a few. wasmi translates lazily and
//! has nothing worth keeping, so there these functions answer "not supported".
//!
//! A cache file is trusted only if it is ours: a header naming the `.wasm`'s hash and this
//! engine (wasmtime's version, the CPU and its features), the payload's length, and a MAC
//! over all of it under a key the host passes (from the site's secrets): BLAKE3 in its keyed
//! mode, a MAC by design, which reads the 2 MB file about four times faster than
//! HMAC-SHA256 did (0.3 against 1.2 ms, a sixth of a cold start). A
//! corrupt, truncated or foreign file, or one written by another engine, is removed and
//! rebuilt, never deserialized: deserializing runs native code.
//!
//! - `kct_rt_disk_cache(dir, key_hex)`: use `dir` (writable by the web server) with this
//!   key; answers 1 when the backend keeps compiled modules, 0 when it does not.
//! - `kct_rt_disk_stats(out)`: `out[0..3]` = files loaded, files written, files rejected.
//!
//! Writing a compiled core removes the other ones untouched for an hour (`remove_stale`).
//!
//! Beside the compiled cores, a note per `.wasm` path says which hash the file had at which
//! stamp (size, times, inode), under the same key: a new process that finds its `.wasm`
//! unchanged takes the hash from the note instead of reading and hashing the file (about half
//! a millisecond of a cold start). A note that is not ours, or names another stamp, is
//! ignored and replaced.

use std::ffi::{c_char, CStr};
use std::sync::atomic::{AtomicU32, Ordering};
#[cfg(feature = "wasmtime")]
use std::sync::Mutex;

static LOADED: AtomicU32 = AtomicU32::new(0);
static WRITTEN: AtomicU32 = AtomicU32::new(0);
static REJECTED: AtomicU32 = AtomicU32::new(0);

#[cfg(feature = "wasmtime")]
struct Config {
    dir: std::path::PathBuf,
    key: Vec<u8>,
}

#[cfg(feature = "wasmtime")]
static CONFIG: Mutex<Option<Config>> = Mutex::new(None);

/// # Safety
/// `dir` and `key_hex` are NUL-terminated strings (or NULL to turn the cache off).
#[no_mangle]
pub unsafe extern "C" fn kct_rt_disk_cache(dir: *const c_char, key_hex: *const c_char) -> i32 {
    let text = |p: *const c_char| {
        // SAFETY: the caller passes a NUL-terminated string or NULL.
        (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
    };
    configure(text(dir), text(key_hex))
}

#[cfg(feature = "wasmtime")]
fn configure(dir: Option<String>, key_hex: Option<String>) -> i32 {
    let key = key_hex
        .as_deref()
        .and_then(decode_hex)
        .filter(|k| k.len() >= 32);
    let mut c = CONFIG.lock().unwrap_or_else(|p| p.into_inner());
    *c = match (dir, key) {
        (Some(d), Some(key)) if !d.is_empty() => Some(Config { dir: d.into(), key }),
        _ => None,
    };
    1
}

#[cfg(not(feature = "wasmtime"))]
fn configure(_: Option<String>, _: Option<String>) -> i32 {
    0
}

/// # Safety
/// `out` points to three writable `uint32_t`.
#[no_mangle]
pub unsafe extern "C" fn kct_rt_disk_stats(out: *mut u32) {
    if out.is_null() {
        return;
    }
    for (i, c) in [&LOADED, &WRITTEN, &REJECTED].into_iter().enumerate() {
        // SAFETY: the caller passes room for three values.
        unsafe { *out.add(i) = c.load(Ordering::Relaxed) };
    }
}

#[cfg(feature = "wasmtime")]
fn decode_hex(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    if !b.len().is_multiple_of(2) {
        return None;
    }
    b.chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).ok()?, 16).ok())
        .collect()
}

#[cfg(feature = "wasmtime")]
pub(crate) use imp::{load, note, noted, save};

#[cfg(feature = "wasmtime")]
mod imp {
    use super::*;
    use crate::capi;
    use std::io::Write;

    /// Version 3: the payload first and the checks after it, so the payload starts where
    /// the buffer does (page-aligned) and wasmtime can run it there. A version 2 file (header
    /// first) does not check out and is rebuilt.
    const MAGIC: &[u8; 8] = b"KCTCWM3\n";
    /// After the payload: magic, the .wasm's hash, the engine's, the payload's length, the MAC.
    const TRAILER: usize = 8 + 32 + 32 + 8 + 32;

    fn engine_id() -> [u8; 32] {
        let mut h = blake3::Hasher::new();
        h.update(concat!("wasmtime ", env!("KCT_WASMTIME_VERSION"), " ").as_bytes());
        h.update(crate::wasmtime_engine::SETTINGS.as_bytes());
        h.update(b" ");
        h.update(std::env::consts::ARCH.as_bytes());
        #[cfg(target_arch = "x86_64")]
        for (name, on) in [
            ("sse3", std::is_x86_feature_detected!("sse3")),
            ("ssse3", std::is_x86_feature_detected!("ssse3")),
            ("sse4.1", std::is_x86_feature_detected!("sse4.1")),
            ("sse4.2", std::is_x86_feature_detected!("sse4.2")),
            ("popcnt", std::is_x86_feature_detected!("popcnt")),
            ("avx", std::is_x86_feature_detected!("avx")),
            ("avx2", std::is_x86_feature_detected!("avx2")),
            ("bmi1", std::is_x86_feature_detected!("bmi1")),
            ("bmi2", std::is_x86_feature_detected!("bmi2")),
            ("lzcnt", std::is_x86_feature_detected!("lzcnt")),
            ("fma", std::is_x86_feature_detected!("fma")),
        ] {
            h.update(b" ");
            h.update(name.as_bytes());
            h.update(&[u8::from(on)]);
        }
        #[cfg(target_arch = "aarch64")]
        for (name, on) in [
            ("lse", std::arch::is_aarch64_feature_detected!("lse")),
            ("paca", std::arch::is_aarch64_feature_detected!("paca")),
            ("fp16", std::arch::is_aarch64_feature_detected!("fp16")),
        ] {
            h.update(b" ");
            h.update(name.as_bytes());
            h.update(&[u8::from(on)]);
        }
        h.finalize().into()
    }

    fn path(c: &Config, wasm: &[u8; 32], engine: &[u8; 32]) -> std::path::PathBuf {
        let mut h = blake3::Hasher::new();
        h.update(wasm);
        h.update(engine);
        let name: String = h.finalize().as_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        c.dir.join(format!("kct-core-{name}.cwasm"))
    }

    fn mac(key: &[u8], checks: &[u8], payload: &[u8]) -> blake3::Hash {
        // The site's key (32 bytes or more) made into BLAKE3's 32-byte key.
        let key = blake3::derive_key("kivicare-telemed-zoom compiled core cache v3", key);
        let mut m = blake3::Hasher::new_keyed(&key);
        m.update(checks);
        m.update(payload);
        m.finalize()
    }

    fn signed(key: &[u8], checks: &[u8], payload: &[u8], tag: &[u8]) -> bool {
        // `Hash` compares in constant time.
        <[u8; 32]>::try_from(tag).is_ok_and(|t| mac(key, checks, payload) == blake3::Hash::from(t))
    }

    fn config() -> Option<(std::path::PathBuf, Vec<u8>)> {
        let c = CONFIG.lock().unwrap_or_else(|p| p.into_inner());
        c.as_ref().map(|c| (c.dir.clone(), c.key.clone()))
    }

    const NOTE: &[u8; 8] = b"KCTNOTE1";
    /// magic, the stamp (7 numbers), the .wasm's hash, the MAC (over these and the path).
    const NOTE_LEN: usize = 8 + 7 * 8 + 32 + 32;

    fn note_path(c: &Config, wasm_path: &str) -> std::path::PathBuf {
        let name: String = blake3::hash(wasm_path.as_bytes()).as_bytes()[..16]
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        c.dir.join(format!("kct-core-{name}.note"))
    }

    /// A note before its MAC: magic, stamp, hash. The MAC covers these and the path (the
    /// path is signed, not stored, so a note copied under another path's name fails).
    fn note_body(stamp: &[i64; 7], wasm: &[u8; 32]) -> Vec<u8> {
        let mut body = Vec::with_capacity(NOTE_LEN);
        body.extend_from_slice(NOTE);
        for n in stamp {
            body.extend_from_slice(&n.to_le_bytes());
        }
        body.extend_from_slice(wasm);
        body
    }

    /// The hash a note beside the compiled cores gives the `.wasm` at `wasm_path` with this
    /// stamp, if the note is ours and names this stamp.
    pub(crate) fn noted(wasm_path: &str, stamp: &[i64; 7]) -> Option<[u8; 32]> {
        let (dir, key) = config()?;
        let c = Config { dir, key };
        let mut f = std::fs::File::open(note_path(&c, wasm_path)).ok()?;
        // Read only what a note can be: whatever else lies there is not one.
        let mut found = [0u8; NOTE_LEN];
        if f.metadata().ok()?.len() != NOTE_LEN as u64 {
            return None;
        }
        std::io::Read::read_exact(&mut f, &mut found).ok()?;
        let (body, tag) = found.split_at(NOTE_LEN - 32);
        let hash: [u8; 32] = body[NOTE_LEN - 64..].try_into().ok()?;
        (body == note_body(stamp, &hash) && signed(&c.key, body, wasm_path.as_bytes(), tag))
            .then_some(hash)
    }

    /// Leaves a note that the `.wasm` at `wasm_path` had hash `wasm` at this stamp.
    pub(crate) fn note(wasm_path: &str, stamp: &[i64; 7], wasm: &[u8; 32]) {
        let Some((dir, key)) = config() else { return };
        let c = Config { dir, key };
        let file = note_path(&c, wasm_path);
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let mut bytes = note_body(stamp, wasm);
        let m = mac(&c.key, &bytes, wasm_path.as_bytes());
        bytes.extend_from_slice(m.as_bytes());
        let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, &file));
        if written.is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }

    /// The compiled core for `wasm` from disk, if a file there is ours and whole.
    pub(crate) fn load(
        store: &mut capi::wasm_store_t,
        wasm: &[u8; 32],
    ) -> Option<Box<capi::wasm_module_t>> {
        let (dir, key) = config()?;
        let c = Config { dir, key };
        let engine = engine_id();
        let file = path(&c, wasm, &engine);
        let buffer = crate::buffer::Buffer::read(&file).ok()?;
        let bytes = buffer.as_slice();
        let len = bytes.len().checked_sub(TRAILER);
        let ok = len.is_some_and(|len| {
            let (payload, t) = bytes.split_at(len);
            &t[..8] == MAGIC
                && t[8..40] == wasm[..]
                && t[40..72] == engine[..]
                && t[72..80] == (len as u64).to_le_bytes()
                && signed(&c.key, &t[..80], payload, &t[80..])
        });
        let module = match len.filter(|_| ok) {
            // SAFETY: the payload is what this engine serialized (MAC under the site's key,
            // same engine id); wasmtime still checks its own header and refuses what it
            // cannot use.
            Some(len) if crate::wasmtime_engine::IN_PLACE => unsafe {
                crate::wasmtime_engine::deserialize_in_place(store, buffer, len)
            },
            // SAFETY: as above; wasmtime copies it.
            Some(len) => unsafe { copied(store, &buffer.as_slice()[..len]) },
            None => None,
        };
        match module {
            Some(m) => {
                LOADED.fetch_add(1, Ordering::Relaxed);
                Some(m)
            }
            None => {
                REJECTED.fetch_add(1, Ordering::Relaxed);
                let _ = std::fs::remove_file(&file);
                None
            }
        }
    }

    /// # Safety
    /// `payload` is what this engine serialized.
    unsafe fn copied(
        store: &mut capi::wasm_store_t,
        payload: &[u8],
    ) -> Option<Box<capi::wasm_module_t>> {
        // Handed over where it lies, not copied into a C API vector first: `wasm.h` defines
        // `wasm_byte_vec_t` as `{size_t size; byte_t *data}`, as this view is, and
        // deserializing only reads it.
        #[repr(C)]
        struct ByteView {
            size: usize,
            data: *const u8,
        }
        let view = ByteView {
            size: payload.len(),
            data: payload.as_ptr(),
        };
        // SAFETY: the view has the C API vector's layout (above) and outlives the call; the
        // payload is as this function's contract says.
        unsafe {
            capi::wasm_module_deserialize(
                store,
                &*(&view as *const ByteView as *const capi::wasm_byte_vec_t),
            )
        }
    }

    /// Writes the compiled core beside the others (a temporary file, then a rename, so a
    /// reader never sees half a file).
    pub(crate) fn save(module: &capi::wasm_module_t, wasm: &[u8; 32]) {
        let Some((dir, key)) = config() else { return };
        let c = Config { dir, key };
        // SAFETY: an all-zero vector is the C API's empty vector.
        let mut out: capi::wasm_byte_vec_t = unsafe { std::mem::zeroed() };
        capi::wasm_module_serialize(module, &mut out);
        let payload = out.as_slice().to_vec();
        capi::wasm_byte_vec_delete(&mut out);
        if payload.is_empty() {
            return;
        }
        let engine = engine_id();
        let mut trailer = Vec::with_capacity(TRAILER);
        trailer.extend_from_slice(MAGIC);
        trailer.extend_from_slice(wasm);
        trailer.extend_from_slice(&engine);
        trailer.extend_from_slice(&(payload.len() as u64).to_le_bytes());
        let m = mac(&c.key, &trailer, &payload);
        trailer.extend_from_slice(m.as_bytes());
        let file = path(&c, wasm, &engine);
        let tmp = file.with_extension(format!("tmp{}", std::process::id()));
        let written = std::fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(&payload).and_then(|()| f.write_all(&trailer)))
            .and_then(|()| std::fs::rename(&tmp, &file));
        match written {
            Ok(()) => {
                WRITTEN.fetch_add(1, Ordering::Relaxed);
                remove_stale(&c.dir, &file);
            }
            Err(_) => {
                let _ = std::fs::remove_file(&tmp);
            }
        }
    }

    /// After a new compiled core is written: the other compiled cores (earlier `.wasm`
    /// versions, another wasmtime, a CPU of the past) and half-written files left by a
    /// process that died, once untouched for `STALE`. Each is 1.4 MB, and every plugin update
    /// would otherwise leave one behind for good. Removing one in use costs nothing: a
    /// process reads its compiled core into memory of its own, and a file that goes is
    /// compiled again by whoever still needs it. Recent files stay, so two versions in use
    /// side by side (a shared cache directory, an update rolling out) do not undo each other.
    fn remove_stale(dir: &std::path::Path, keep: &std::path::Path) {
        const STALE: std::time::Duration = std::time::Duration::from_secs(3600);
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let now = std::time::SystemTime::now();
        for e in entries.flatten() {
            let path = e.path();
            let name = e.file_name();
            let name = name.to_string_lossy();
            let ours = name.starts_with("kct-core-")
                && (name.ends_with(".cwasm") || name.contains(".tmp"));
            let stale = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| now.duration_since(t).ok())
                .is_some_and(|age| age >= STALE);
            if ours && stale && path != keep {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}
