//! The shared library PHP FFI loads: every symbol of the standard wasm C API (`wasm.h`),
//! re-exported from the chosen backend crate, plus a small process-level cache so a
//! long-lived PHP-FPM worker compiles the core once.
//!
//! Cache functions (declared in `php-bridge/app/wasm/kct_runtime.h`):
//! - `kct_rt_engine()`: the process's engine.
//! - `kct_rt_instance(path, out)`: this thread's warm instance of the .wasm at `path`, made
//!   on first use and kept, written to `out` (`kct_rt_warm_t`: store, instance, memory and
//!   the core's exports). Its compiled module is cached for the process, keyed by the file's
//!   BLAKE3 hash; the file is re-read and re-hashed whenever its size, mtime, inode or change
//!   time differ (as a replaced file's last two always do). PHP's FFI objects die with each
//!   request, but the core keeps nothing between calls, so the next request of a long-lived
//!   worker calls the same instance instead of instantiating and looking up its exports
//!   afresh. The runtime owns all of it: the host never deletes any. `out->generation`
//!   changes whenever an instance of this thread is made or dropped, so the runtime can
//!   tell a host object that the instance it holds may be gone (`kct_rt_call`'s STALE).
//! - `kct_rt_call(warm, request, len, out)`: one core call on a warm instance, the request
//!   in and the answer out (see `call`).
//! - `kct_rt_instance_drop(path)`: drops this thread's instance of `path` (after a trap).
//! - `kct_rt_pool_generation()`: the current generation.
//! - `kct_rt_last_error()`: why the last `kct_rt_instance` returned 0, or `kct_rt_call` did
//!   not answer.
//! - `kct_rt_cache_stats()`: `(hits << 32) | compiles` (a hit: a module or a warm instance
//!   served without compiling), for tests and benchmarks.
//! - `kct_rt_wasm_reads()`: how many times this process read and hashed a .wasm.
//! - `kct_rt_disk_cache(dir, key)`, `kct_rt_disk_stats(out)`: the compiled core kept on disk
//!   for wasmtime (see `disk`).
// A C API for PHP's FFI: unsafe throughout, each block with its SAFETY comment.
#![allow(unsafe_code)]

mod buffer;
mod call;
mod disk;
mod fuel;
#[cfg(feature = "wasmtime")]
mod wasmtime_engine;

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
/// so a replaced `.wasm` is always read and hashed again. As numbers: size, mtime (s, ns),
/// device, inode, ctime (s, ns).
type Stamp = [i64; 7];

fn stamp(meta: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    [
        meta.size() as i64,
        meta.mtime(),
        meta.mtime_nsec(),
        meta.dev() as i64,
        meta.ino() as i64,
        meta.ctime(),
        meta.ctime_nsec(),
    ]
}

/// A stamp is trusted once the file was last changed at least this long before it was taken.
/// The kernel stamps changes from a coarse clock (a few milliseconds), so a file rewritten in
/// place within one tick of being read keeps its stamp; after this long, any change moves it.
const SETTLED: std::time::Duration = std::time::Duration::from_secs(2);

fn settled(meta: &std::fs::Metadata, now: SystemTime) -> bool {
    use std::os::unix::fs::MetadataExt;
    let changed = std::time::UNIX_EPOCH
        .checked_add(std::time::Duration::new(
            meta.ctime().max(0) as u64,
            meta.ctime_nsec().clamp(0, 999_999_999) as u32,
        ))
        .unwrap_or(now);
    now.duration_since(changed).is_ok_and(|age| age >= SETTLED)
}

static ENGINE: OnceLock<Engine> = OnceLock::new();
static CACHE: OnceLock<Mutex<Cache>> = OnceLock::new();
static HITS: AtomicU32 = AtomicU32::new(0);
static COMPILES: AtomicU32 = AtomicU32::new(0);
static HASHED: AtomicU32 = AtomicU32::new(0);

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    static POOL: RefCell<HashMap<String, Pooled>> = RefCell::new(HashMap::new());
    pub(crate) static GENERATION: std::cell::Cell<u64> = const { std::cell::Cell::new(1) };
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

pub(crate) fn set_error(msg: String) {
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
    // Every call runs on a fuel budget (see `fuel`).
    capi::wasmi_config_consume_fuel_set(&mut config, true);
    capi::wasm_engine_new_with_config(config)
}

#[cfg(feature = "wasmtime")]
use wasmtime_engine::new_engine;

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

/// The content hash of the .wasm at `path`, and its bytes when they had to be read. An
/// unchanged stamp (see `Stamp`) is trusted, from this process's memory or, with wasmtime,
/// from a note an earlier process left beside the compiled core (`disk::noted`); anything
/// else is read and hashed again, and remembered once the file has settled.
fn content(cache: &mut Cache, path: &str) -> Result<([u8; 32], Option<buffer::Buffer>), String> {
    let meta = std::fs::metadata(path).map_err(|e| format!("cannot read {path}: {e}"))?;
    let now = SystemTime::now();
    let stamp = stamp(&meta);
    if let Some((_, hash)) = cache.paths.get(path).filter(|(known, _)| *known == stamp) {
        return Ok((*hash, None));
    }
    let settled = settled(&meta, now);
    #[cfg(feature = "wasmtime")]
    if let Some(h) = disk::noted(path, &stamp).filter(|_| settled) {
        cache.paths.insert(path.to_string(), (stamp, h));
        return Ok((h, None));
    }
    let b = buffer::Buffer::map(path.as_ref()).map_err(|e| format!("cannot read {path}: {e}"))?;
    HASHED.fetch_add(1, Ordering::Relaxed);
    let h: [u8; 32] = blake3::hash(b.as_slice()).into();
    if settled {
        cache.paths.insert(path.to_string(), (stamp, h));
        #[cfg(feature = "wasmtime")]
        disk::note(path, &stamp, &h);
    }
    Ok((h, Some(b)))
}

/// How many times this process read and hashed a .wasm (for tests).
#[no_mangle]
pub extern "C" fn kct_rt_wasm_reads() -> u32 {
    HASHED.load(Ordering::Relaxed)
}

/// The compiled module for the .wasm at `path`, whose content `content` found: from this
/// process's cache, else (wasmtime) from disk, else compiled. Answers the hash it is kept
/// under (the content's, or what was read if the file changed since its stamp was noted).
fn module(
    cache: &mut Cache,
    store: &mut capi::wasm_store_t,
    path: &str,
    (hash, bytes): ([u8; 32], Option<buffer::Buffer>),
) -> Result<([u8; 32], Box<capi::wasm_module_t>), String> {
    if let Some(shared) = cache.modules.get(&hash) {
        HITS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: both are live C API objects.
        return unsafe { capi::wasm_module_obtain(store, &shared.0) }
            .map(|m| (hash, m))
            .ok_or_else(|| "the store was not created from kct_rt_engine()".to_string());
    }
    #[cfg(feature = "wasmtime")]
    if let Some(m) = disk::load(store, &hash) {
        cache
            .modules
            .insert(hash, Shared(capi::wasm_module_share(&m)));
        return Ok((hash, m));
    }
    let (hash, bytes) = match bytes {
        // wasmi parses and checks the mapped bytes as they are.
        #[cfg(not(feature = "wasmtime"))]
        Some(b) => (hash, b),
        // Known by its stamp only, or (wasmtime, whose native code is kept on disk) only
        // mapped: read into memory of our own, and key what is compiled by what was read.
        _ => match buffer::Buffer::read(path.as_ref()) {
            Ok(b) => {
                let read: [u8; 32] = blake3::hash(b.as_slice()).into();
                if read != hash {
                    cache.paths.remove(path);
                }
                (read, b)
            }
            Err(e) => return Err(format!("cannot read {path}: {e}")),
        },
    };
    let bytes = bytes.as_slice();
    // SAFETY: an all-zero vector is the C API's empty vector (size 0, NULL data), and
    // `bytes` is readable for its length.
    let mut vec: capi::wasm_byte_vec_t = unsafe { std::mem::zeroed() };
    // SAFETY: as above.
    unsafe { capi::wasm_byte_vec_new(&mut vec, bytes.len(), bytes.as_ptr() as _) };
    // SAFETY: a live store and a vector just filled.
    let module = unsafe { capi::wasm_module_new(store, &vec) };
    capi::wasm_byte_vec_delete(&mut vec);
    match module {
        Some(m) => {
            COMPILES.fetch_add(1, Ordering::Relaxed);
            #[cfg(feature = "wasmtime")]
            disk::save(&m, &hash);
            cache
                .modules
                .insert(hash, Shared(capi::wasm_module_share(&m)));
            Ok((hash, m))
        }
        None => Err(format!(
            "{path} is not a valid WebAssembly module for this runtime"
        )),
    }
}

/// A warm instance as the host uses it: the store and instance (the runtime's), its memory
/// and the core's exports, NULL where the core does not export one.
#[repr(C)]
pub struct kct_rt_warm_t {
    pub(crate) store: *mut capi::wasm_store_t,
    pub(crate) instance: *mut capi::wasm_instance_t,
    pub(crate) memory: *mut capi::wasm_memory_t,
    pub(crate) abi_version: *mut capi::wasm_func_t,
    pub(crate) buffer: *mut capi::wasm_func_t,
    pub(crate) call: *mut capi::wasm_func_t,
    pub(crate) free: *mut capi::wasm_func_t,
    pub(crate) panic_message: *mut capi::wasm_func_t,
    pub(crate) generation: u64,
    /// What the core's `kct_abi_version` answered when the instance was made (0 when it
    /// exports none): the host checks it on every request without a guest call.
    pub(crate) abi: u32,
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
    let cache = CACHE.get_or_init(Default::default);
    let mut cache = cache.lock().unwrap_or_else(|p| p.into_inner());
    let found = match content(&mut cache, &key) {
        Ok(found) => found,
        Err(e) => {
            set_error(e);
            return 0;
        }
    };
    let warm = POOL.with(|p| {
        p.borrow()
            .get(&key)
            .filter(|e| e.hash == found.0)
            .map(|e| e.warm())
    });
    if let Some(warm) = warm {
        HITS.fetch_add(1, Ordering::Relaxed);
        *out = warm;
        return 1;
    }
    let mut store = capi::wasm_store_new(&*kct_rt_engine());
    // Fuel for instantiating (the start function); each guest call the runtime makes refills
    // it (`call::invoke`).
    if let Err(e) = fuel::refill(&mut *store) {
        set_error(e);
        return 0;
    }
    let (hash, module) = match module(&mut cache, &mut store, &key, found) {
        Ok(made) => made,
        Err(e) => {
            set_error(e);
            return 0;
        }
    };
    drop(cache);
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
        abi: 0,
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
    if !warm.abi_version.is_null() {
        // Asked once per instance; a trap here leaves the error set and nothing pooled.
        match call::invoke(&warm, "kct_abi_version", warm.abi_version, &[], 1) {
            Ok(abi) => warm.abi = abi as u32,
            Err(_) => return 0,
        }
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

/// Drops this thread's instance whose instance is `instance` (after a trap in `kct_rt_call`).
pub(crate) fn drop_instance(instance: *mut capi::wasm_instance_t) {
    let gone = POOL.with(|p| {
        let mut p = p.borrow_mut();
        let key = p
            .iter()
            .find(|(_, e)| e.warm.instance == instance)
            .map(|(k, _)| k.clone());
        key.and_then(|k| p.remove(&k))
    });
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
