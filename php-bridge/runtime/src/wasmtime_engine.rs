//! wasmtime's engine as this runtime sets it up, and a compiled core loaded where it lies.
//!
//! - No address maps. They map machine code back to `.wasm` offsets for backtraces, which
//!   nothing here reads, and they were 38 % of the compiled core (2.2 → 1.4 MB), which every
//!   cold start reads, checks and loads.
//! - On x86-64 Linux, code is made executable by us (`mprotect`, as wasmtime does itself; x86
//!   needs no instruction-cache flush). That lets wasmtime take a compiled core from memory
//!   this runtime owns (`Module::deserialize_raw`) instead of copying it into pages of its own,
//!   the largest single cost of a cold start from the disk cache. Elsewhere wasmtime copies.
//!
//! The C API has no function for either. Its `wasm_config_t`, `wasm_engine_t` and
//! `wasm_shared_module_t` are each `#[repr(C)]` around a single wasmtime value, so a pointer to
//! one is a pointer to that value; the casts below rely on that. Both crates are pinned to one
//! version (Cargo.toml) and the size checks turn a change of layout into a build error.

use crate::capi;
use wasmtime::{Config, Engine, Module};

const _: () = assert!(size_of::<capi::wasm_config_t>() == size_of::<Config>());
const _: () = assert!(size_of::<capi::wasm_engine_t>() == size_of::<Engine>());
const _: () = assert!(size_of::<capi::wasm_shared_module_t>() == size_of::<Module>());

/// What this engine's set-up changes in compiled code, for the disk cache's engine id: a core
/// compiled under other settings is another engine's (wasmtime would refuse it anyway).
pub(crate) const SETTINGS: &str = "no-address-map consume-fuel";

/// Whether `deserialize` uses the compiled core where it lies (see the module's comment).
pub(crate) const IN_PLACE: bool = cfg!(all(target_arch = "x86_64", target_os = "linux"));

pub(crate) fn new_engine() -> Box<capi::wasm_engine_t> {
    let mut config = capi::wasm_config_new();
    // SAFETY: `wasm_config_t` is `#[repr(C)]` around one `Config` (checked above).
    let c = unsafe { &mut *(&mut *config as *mut capi::wasm_config_t).cast::<Config>() };
    c.generate_address_map(false);
    // Every call runs on a fuel budget (see `fuel`); part of `SETTINGS`.
    c.consume_fuel(true);
    #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
    c.with_custom_code_memory(Some(std::sync::Arc::new(Publish)));
    capi::wasm_engine_new_with_config(config)
}

/// The compiled core in the first `len` bytes of `buffer` as a module for `store`, used where
/// it lies: the buffer is made read-only and, once wasmtime has taken it, kept for the life of
/// the process (modules are never unloaded); a refused one is unmapped as usual.
///
/// # Safety
/// Those bytes are what this engine serialized (the caller checked their MAC), and `store`
/// was made from `kct_rt_engine()`.
pub(crate) unsafe fn deserialize_in_place(
    store: &mut capi::wasm_store_t,
    buffer: crate::buffer::Buffer,
    len: usize,
) -> Option<Box<capi::wasm_module_t>> {
    buffer.freeze().ok()?;
    let payload = &buffer.as_slice()[..len.min(buffer.as_slice().len())];
    // SAFETY: `wasm_engine_t` is `#[repr(C)]` around one `Engine` (checked above), and the
    // process's engine is never dropped.
    let engine = unsafe { &*crate::kct_rt_engine().cast_const().cast::<Engine>() };
    // SAFETY: the bytes are as this function's contract says; read-only from here on, and
    // never unmapped once the module holds them (below).
    let module = unsafe { Module::deserialize_raw(engine, std::ptr::NonNull::from(payload)) };
    let module = module.ok()?;
    std::mem::forget(buffer);
    // SAFETY: `wasm_shared_module_t` is `#[repr(C)]` around one `Module` (checked above);
    // `wasm_module_obtain` only clones it (and checks the store has the same engine).
    let shared = unsafe { &*(&module as *const Module).cast::<capi::wasm_shared_module_t>() };
    capi::wasm_module_obtain(store, shared)
}

/// Makes code executable the way wasmtime's own publishing does on x86-64: `mprotect`, no
/// cache maintenance (x86 keeps instruction fetches coherent with stores).
#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
struct Publish;

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
impl wasmtime::CustomCodeMemory for Publish {
    fn required_alignment(&self) -> usize {
        // SAFETY: sysconf has no preconditions.
        usize::try_from(unsafe { libc::sysconf(libc::_SC_PAGESIZE) }).unwrap_or(4096)
    }

    fn publish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        protect(ptr, len, libc::PROT_READ | libc::PROT_EXEC)
    }

    fn unpublish_executable(&self, ptr: *const u8, len: usize) -> wasmtime::Result<()> {
        protect(ptr, len, libc::PROT_READ | libc::PROT_WRITE)
    }
}

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
fn protect(ptr: *const u8, len: usize, prot: i32) -> wasmtime::Result<()> {
    // SAFETY: wasmtime passes a page-aligned range of code memory it or this runtime mapped.
    if unsafe { libc::mprotect(ptr.cast_mut().cast(), len, prot) } == 0 {
        Ok(())
    } else {
        Err(wasmtime::Error::msg(format!(
            "cannot change the protection of code memory: {}",
            std::io::Error::last_os_error()
        )))
    }
}
