//! The shared library PHP FFI loads: every symbol of the standard wasm C API (`wasm.h`),
//! re-exported from the chosen backend crate, plus a small process-level cache so a
//! long-lived PHP-FPM worker compiles the core once.
//!
//! Cache functions (declared in `php-bridge/app/wasm/kct_runtime.h`):
//! - `kct_rt_engine()`: the process's engine; stores for cached modules must come from it,
//!   and the host never deletes it.
//! - `kct_rt_module(store, path)`: the compiled module for the .wasm at `path`, keyed by the
//!   file's SHA-256; the file is re-read and re-hashed whenever its size, mtime, inode or
//!   change time differ (a replaced file always changes the last two).
//!   The host deletes the returned module as usual (the cache keeps its own share).
//! - `kct_rt_last_error()`: why the last `kct_rt_module` returned NULL.
//! - `kct_rt_cache_stats()`: `(hits << 32) | compiles`, for tests and benchmarks.
//! - `kct_rt_disk_cache(dir, key)`, `kct_rt_disk_stats(out)`: the compiled core kept on disk
//!   for wasmtime (see `disk`).
// A C API for PHP's FFI: unsafe throughout, each block with its SAFETY comment.
#![allow(unsafe_code)]

mod disk;

#[cfg(all(feature = "wasmi", feature = "wasmtime"))]
compile_error!("choose one backend: feature `wasmi` or `wasmtime`");

#[cfg(feature = "wasmi")]
use wasmi_c_api as capi;
#[cfg(feature = "wasmi")]
pub use wasmi_c_api::*;

#[cfg(feature = "wasmtime")]
use wasmtime_c_api as capi;
#[cfg(feature = "wasmtime")]
pub use wasmtime_c_api::*;

use sha2::{Digest, Sha256};
use std::cell::RefCell;
use std::collections::HashMap;
use std::ffi::{c_char, CStr, CString};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::SystemTime;

struct Engine(Box<capi::wasm_engine_t>);
// SAFETY: the engine is immutable after creation and both backends' engines are Send + Sync.
unsafe impl Send for Engine {}
unsafe impl Sync for Engine {}

struct Shared(Box<capi::wasm_shared_module_t>);
// SAFETY: a shared module exists precisely to be moved between threads and stores.
unsafe impl Send for Shared {}

#[derive(Default)]
struct Cache {
    /// Compiled modules by content hash.
    modules: HashMap<[u8; 32], Shared>,
    /// Which hash a path had at a given stamp, to skip re-reading unchanged files.
    paths: HashMap<String, (Stamp, [u8; 32])>,
}

/// What identifies a file's content without reading it: size and mtime, and also the inode
/// and the change time, which no one can set back (`touch -d` and `rsync -t` set mtime only),
/// so a replaced `.wasm` is always read and hashed again.
type Stamp = (u64, Option<SystemTime>, u64, u64, i64, i64);

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    (
        meta.len(),
        meta.modified().ok(),
        meta.dev(),
        meta.ino(),
        meta.ctime(),
        meta.ctime_nsec(),
    )
}

static ENGINE: OnceLock<Engine> = OnceLock::new();
static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
static HITS: AtomicU32 = AtomicU32::new(0);
static COMPILES: AtomicU32 = AtomicU32::new(0);

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

fn set_error(msg: String) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|e| *e.borrow_mut() = c);
}

/// PHP's FFI `dlclose`s the library when its FFI object is freed (at the end of every
/// request with `FFI::cdef`), which would drop the cache with it. Re-opening ourselves with
/// `RTLD_NODELETE` keeps the library, and so the cache, for the life of the process.
fn pin_library() {
    // SAFETY: dladdr/dlopen with a symbol of this library and its own file name.
    unsafe {
        let mut info: libc::Dl_info = std::mem::zeroed();
        if libc::dladdr(kct_rt_engine as *const libc::c_void, &mut info) != 0
            && !info.dli_fname.is_null()
        {
            libc::dlopen(
                info.dli_fname,
                libc::RTLD_NOW | libc::RTLD_NOLOAD | libc::RTLD_NODELETE,
            );
        }
    }
}

#[cfg(feature = "wasmi")]
fn new_engine() -> Box<capi::wasm_engine_t> {
    // Lazy: validate and translate each function on first use, so a request pays only for
    // the code it runs. KCT_WASM_COMPILATION=eager|lazy-translation picks another mode
    // (the benchmark compares them).
    use capi::wasmi_compilation_mode_t::*;
    let mode = match std::env::var("KCT_WASM_COMPILATION").as_deref() {
        Ok("eager") => WASMI_COMPILATION_MODE_EAGER,
        Ok("lazy-translation") => WASMI_COMPILATION_MODE_LAZY_TRANSLATION,
        _ => WASMI_COMPILATION_MODE_LAZY,
    };
    let mut config = capi::wasm_config_new();
    capi::wasmi_config_compilation_mode_set(&mut config, mode);
    capi::wasm_engine_new_with_config(config)
}

#[cfg(feature = "wasmtime")]
fn new_engine() -> Box<capi::wasm_engine_t> {
    capi::wasm_engine_new()
}

#[no_mangle]
pub extern "C" fn kct_rt_engine() -> *mut capi::wasm_engine_t {
    let e = ENGINE.get_or_init(|| {
        pin_library();
        Engine(new_engine())
    });
    &*e.0 as *const capi::wasm_engine_t as *mut capi::wasm_engine_t
}

#[no_mangle]
pub extern "C" fn kct_rt_last_error() -> *const c_char {
    LAST_ERROR.with(|e| e.borrow().as_ptr())
}

#[no_mangle]
pub extern "C" fn kct_rt_cache_stats() -> u64 {
    ((HITS.load(Ordering::Relaxed) as u64) << 32) | COMPILES.load(Ordering::Relaxed) as u64
}

/// # Safety
/// `store` must come from `kct_rt_engine()`; `path` must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn kct_rt_module(
    store: *mut capi::wasm_store_t,
    path: *const c_char,
) -> Option<Box<capi::wasm_module_t>> {
    if store.is_null() || path.is_null() {
        set_error("kct_rt_module: store and path are required".into());
        return None;
    }
    let store = &mut *store;
    let path = CStr::from_ptr(path).to_string_lossy().into_owned();
    let meta = match std::fs::metadata(&path) {
        Ok(m) => m,
        Err(e) => {
            set_error(format!("cannot read {path}: {e}"));
            return None;
        }
    };
    let stamp = stamp(&meta);
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());

    let known = cache
        .paths
        .get(&path)
        .filter(|(known, _)| *known == stamp)
        .map(|(_, hash)| *hash);
    let mut bytes = None;
    let hash = match known {
        Some(h) => h,
        None => {
            let b = match std::fs::read(&path) {
                Ok(b) => b,
                Err(e) => {
                    set_error(format!("cannot read {path}: {e}"));
                    return None;
                }
            };
            let h: [u8; 32] = Sha256::digest(&b).into();
            cache.paths.insert(path.clone(), (stamp, h));
            bytes = Some(b);
            h
        }
    };
    if let Some(shared) = cache.modules.get(&hash) {
        if let Some(m) = capi::wasm_module_obtain(store, &shared.0) {
            HITS.fetch_add(1, Ordering::Relaxed);
            return Some(m);
        }
        set_error("the store was not created from kct_rt_engine()".into());
        return None;
    }
    #[cfg(feature = "wasmtime")]
    if let Some(m) = disk::load(store, &hash) {
        cache
            .modules
            .insert(hash, Shared(capi::wasm_module_share(&m)));
        return Some(m);
    }
    let bytes = match bytes {
        Some(b) => b,
        None => match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) => {
                set_error(format!("cannot read {path}: {e}"));
                return None;
            }
        },
    };
    // SAFETY: an all-zero vector is the C API's empty vector (size 0, NULL data).
    let mut vec: capi::wasm_byte_vec_t = std::mem::zeroed();
    capi::wasm_byte_vec_new(&mut vec, bytes.len(), bytes.as_ptr() as _);
    let module = capi::wasm_module_new(store, &vec);
    capi::wasm_byte_vec_delete(&mut vec);
    match module {
        Some(m) => {
            COMPILES.fetch_add(1, Ordering::Relaxed);
            #[cfg(feature = "wasmtime")]
            disk::save(&m, &hash);
            cache
                .modules
                .insert(hash, Shared(capi::wasm_module_share(&m)));
            Some(m)
        }
        None => {
            set_error(format!(
                "{path} is not a valid WebAssembly module for this runtime"
            ));
            None
        }
    }
}
