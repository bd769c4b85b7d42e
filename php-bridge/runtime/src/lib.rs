//! The shared library PHP FFI loads: every symbol of the standard wasm C API (`wasm.h`),
//! re-exported from the chosen backend crate, plus a small process-level cache so a
//! long-lived PHP-FPM worker compiles the core once.
//!
//! Cache functions (declared in `php-bridge/app/wasm/kct_runtime.h`):
//! - `kct_rt_engine()`: the process's engine; stores for cached modules must come from it,
//!   and the host never deletes it.
//! - `kct_rt_module(store, path)`: the compiled module for the .wasm at `path`, keyed by the
//!   file's BLAKE3 hash; the file is re-read and re-hashed whenever its size, mtime, inode or
//!   change time differ (a replaced file always changes the last two).
//!   The host deletes the returned module as usual (the cache keeps its own share).
//! - `kct_rt_instance(path, out)`: this thread's warm instance of the .wasm at `path`, made
//!   on first use and kept, written to `out` (`kct_rt_warm_t`: store, instance, memory and
//!   the core's exports). PHP's FFI objects die with each request, but the core keeps
//!   nothing between calls, so the next request of a long-lived worker calls the same
//!   instance instead of instantiating and looking up its exports afresh. The runtime owns
//!   all of it: the host never deletes any. `out->generation` changes whenever an instance
//!   of this thread is made or dropped, so a host object can tell that the instance it
//!   holds may be gone.
//! - `kct_rt_instance_drop(path)`: drops this thread's instance of `path` (after a trap).
//! - `kct_rt_pool_generation()`: the current generation.
//! - `kct_rt_last_error()`: why the last `kct_rt_module` or `kct_rt_instance` returned NULL.
//! - `kct_rt_cache_stats()`: `(hits << 32) | compiles` (a hit: a module or a warm instance
//!   served without compiling), for tests and benchmarks.
//! - `kct_rt_disk_cache(dir, key)`, `kct_rt_disk_stats(out)`: the compiled core kept on disk
//!   for wasmtime (see `disk`).
// A C API for PHP's FFI: unsafe throughout, each block with its SAFETY comment.
#![allow(unsafe_code)]

mod buffer;
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
    static POOL: RefCell<HashMap<String, Pooled>> = RefCell::new(HashMap::new());
    static GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
}

/// A thread's warm instance of one core, with its store (per thread: a store is not to be
/// shared between threads, and a threaded PHP runs requests on several).
struct Pooled {
    /// Which .wasm content it was made from: a replaced file gets a new instance.
    hash: [u8; 32],
    /// What the host is handed (pointers into the three below).
    warm: kct_rt_warm_t,
    externs: Vec<Option<Box<capi::wasm_extern_t>>>,
    instance: Option<Box<capi::wasm_instance_t>>,
    store: Option<Box<capi::wasm_store_t>>,
}

impl Pooled {
    fn warm(&self) -> kct_rt_warm_t {
        kct_rt_warm_t {
            generation: GENERATION.with(|g| g.get()),
            ..self.warm
        }
    }
}

impl Drop for Pooled {
    fn drop(&mut self) {
        // The exports and the instance first: they hold handles on the store.
        self.externs.clear();
        drop(self.instance.take());
        drop(self.store.take());
    }
}

fn next_generation() -> u64 {
    GENERATION.with(|g| {
        g.set(g.get() + 1);
        g.get()
    })
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

/// The content hash of the .wasm at `path`, and its bytes when they had to be read: an
/// unchanged stamp is trusted (see `Stamp`), anything else is read and hashed again.
fn content(cache: &mut Cache, path: &str) -> Result<([u8; 32], Option<buffer::Buffer>), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let stamp = stamp(&meta);
    if let Some((_, hash)) = cache.paths.get(path).filter(|(known, _)| *known == stamp) {
        return Ok((*hash, None));
    }
    let b = buffer::Buffer::read(path.as_ref()).map_err(|e| format!("cannot read {path}: {e}"))?;
    let h: [u8; 32] = blake3::hash(b.as_slice()).into();
    cache.paths.insert(path.to_string(), (stamp, h));
    Ok((h, Some(b)))
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
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    let (hash, bytes) = match content(&mut cache, &path) {
        Ok(found) => found,
        Err(e) => {
            set_error(e);
            return None;
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
        None => match buffer::Buffer::read(path.as_ref()) {
            Ok(b) => b,
            Err(e) => {
                set_error(format!("cannot read {path}: {e}"));
                return None;
            }
        },
    };
    let bytes = bytes.as_slice();
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

/// A warm instance as the host uses it: the store and instance (the runtime's), its memory
/// and the core's exports, NULL where the core does not export one.
#[repr(C)]
pub struct kct_rt_warm_t {
    store: *mut capi::wasm_store_t,
    instance: *mut capi::wasm_instance_t,
    memory: *mut capi::wasm_memory_t,
    abi_version: *mut capi::wasm_func_t,
    buffer: *mut capi::wasm_func_t,
    call: *mut capi::wasm_func_t,
    free: *mut capi::wasm_func_t,
    panic_message: *mut capi::wasm_func_t,
    generation: u64,
}

/// This thread's warm instance of the .wasm at `path` into `out`: 1, or 0 with
/// `kct_rt_last_error()` saying why.
///
/// # Safety
/// `path` is a NUL-terminated string; `out` points to a writable `kct_rt_warm_t`.
#[no_mangle]
pub unsafe extern "C" fn kct_rt_instance(path: *const c_char, out: *mut kct_rt_warm_t) -> i32 {
    if path.is_null() || out.is_null() {
        set_error("kct_rt_instance: path and out are required".into());
        return 0;
    }
    let key = CStr::from_ptr(path).to_string_lossy().into_owned();
    // The content now: a replaced .wasm is instantiated afresh.
    let hash = {
        let cache = CACHE.get_or_init(Default::default);
        let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
        match content(&mut cache, &key) {
            Ok((h, _)) => h,
            Err(e) => {
                set_error(e);
                return 0;
            }
        }
    };
    let warm = POOL.with(|p| {
        p.borrow()
            .get(&key)
            .filter(|e| e.hash == hash)
            .map(|e| e.warm())
    });
    if let Some(warm) = warm {
        HITS.fetch_add(1, Ordering::Relaxed);
        *out = warm;
        return 1;
    }
    let mut store = capi::wasm_store_new(&*kct_rt_engine());
    let Some(module) = kct_rt_module(&mut *store, path) else {
        return 0;
    };
    // SAFETY: an all-zero vector is the C API's empty vector (the core imports nothing).
    let imports: capi::wasm_extern_vec_t = std::mem::zeroed();
    let mut trap: *mut capi::wasm_trap_t = std::ptr::null_mut();
    let instance = capi::wasm_instance_new(&mut store, &module, &imports, Some(&mut trap));
    let Some(mut instance) = instance else {
        capi::wasm_module_delete(module);
        let mut why = String::from("no message");
        if !trap.is_null() {
            let mut msg: capi::wasm_message_t = std::mem::zeroed();
            capi::wasm_trap_message(&*trap, &mut msg);
            why = String::from_utf8_lossy(msg.as_slice())
                .trim_end_matches('\0')
                .to_string();
            capi::wasm_byte_vec_delete(&mut msg);
            capi::wasm_trap_delete(Box::from_raw(trap));
        }
        set_error(format!("the core cannot be instantiated ({why})"));
        return 0;
    };
    // The exports, by name (the module's export types and the instance's externs come in
    // the same order), kept with the instance so the pointers stay valid.
    let mut types: capi::wasm_exporttype_vec_t = std::mem::zeroed();
    capi::wasm_module_exports(&module, &mut types);
    capi::wasm_module_delete(module);
    let types = owned(types.take());
    let mut externs: capi::wasm_extern_vec_t = std::mem::zeroed();
    capi::wasm_instance_exports(&mut instance, &mut externs);
    let mut externs = owned(externs.take());
    let mut warm = kct_rt_warm_t {
        store: raw(&mut *store),
        instance: raw(&mut *instance),
        memory: std::ptr::null_mut(),
        abi_version: std::ptr::null_mut(),
        buffer: std::ptr::null_mut(),
        call: std::ptr::null_mut(),
        free: std::ptr::null_mut(),
        panic_message: std::ptr::null_mut(),
        generation: next_generation(),
    };
    for (t, e) in types.iter().zip(externs.iter_mut()) {
        let (Some(t), Some(e)) = (t, e) else { continue };
        let slot = match capi::wasm_exporttype_name(t).as_slice() {
            b"memory" => {
                warm.memory = as_memory(e);
                continue;
            }
            b"kct_abi_version" => &mut warm.abi_version,
            b"kct_buffer" => &mut warm.buffer,
            b"kct_call" => &mut warm.call,
            b"kct_free" => &mut warm.free,
            b"kct_panic_message" => &mut warm.panic_message,
            _ => continue,
        };
        *slot = as_func(e);
    }
    POOL.with(|p| {
        p.borrow_mut().insert(
            key,
            Pooled {
                hash,
                warm: kct_rt_warm_t { ..warm },
                externs,
                instance: Some(instance),
                store: Some(store),
            },
        )
    });
    *out = warm;
    1
}

#[cfg(feature = "wasmi")]
fn as_func(e: &mut capi::wasm_extern_t) -> *mut capi::wasm_func_t {
    capi::wasm_extern_as_func(e).map_or(std::ptr::null_mut(), |f| f as *mut _)
}

#[cfg(feature = "wasmi")]
fn as_memory(e: &mut capi::wasm_extern_t) -> *mut capi::wasm_memory_t {
    capi::wasm_extern_as_memory(e).map_or(std::ptr::null_mut(), |m| m as *mut _)
}

// wasmtime's C API takes and gives shared references here; the host's calls go through
// the C API again, which takes the pointers as the mutable ones `wasm.h` declares.
#[cfg(feature = "wasmtime")]
fn as_func(e: &mut capi::wasm_extern_t) -> *mut capi::wasm_func_t {
    capi::wasm_extern_as_func(e).map_or(std::ptr::null_mut(), |f| f as *const _ as *mut _)
}

#[cfg(feature = "wasmtime")]
fn as_memory(e: &mut capi::wasm_extern_t) -> *mut capi::wasm_memory_t {
    capi::wasm_extern_as_memory(e).map_or(std::ptr::null_mut(), |m| m as *const _ as *mut _)
}

/// # Safety
/// `path` is a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn kct_rt_instance_drop(path: *const c_char) {
    if path.is_null() {
        return;
    }
    let key = CStr::from_ptr(path).to_string_lossy().into_owned();
    let gone = POOL.with(|p| p.borrow_mut().remove(&key));
    if gone.is_some() {
        next_generation();
    }
    drop(gone);
}

#[no_mangle]
pub extern "C" fn kct_rt_pool_generation() -> u64 {
    GENERATION.with(|g| g.get())
}

/// A C API vector's elements, owned (wasmi gives a boxed slice, wasmtime a `Vec`).
fn owned<T>(v: impl Into<Vec<T>>) -> Vec<T> {
    v.into()
}

fn raw<T>(t: &mut T) -> *mut T {
    t
}
