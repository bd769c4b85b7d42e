//! Every core call runs on a fuel budget: the guest may run `budget()` units of fuel (about
//! one per WebAssembly instruction) in each call the runtime makes into it, then traps. Without it a core that looped would
//! hold the PHP worker until PHP's own timeout, which cannot interrupt a foreign call.
//! `tools/core-fuzz` holds every operation, hostile inputs included, to the same bound
//! (`FUEL_PER_CALL`); the largest need it prints is about 6 million, the golden vectors' under
//! one million. In wasmi the metering costs nothing measurable (the booking's steps, side by
//! side in one process with and without it: within ±1 %); in wasmtime 0 to 7 %.
//!
//! `wasm.h` has no fuel call for a `wasm_store_t`. In both backends that type is `#[repr(C)]`
//! around one `Arc<UnsafeCell<Store<()>>>` (the C API reaches its store through the cell too),
//! so the store is reached where it lies. Both crates are pinned to one version (Cargo.toml)
//! and the size check below turns a change of layout into a build error.

use crate::capi;
use std::cell::UnsafeCell;
use std::sync::{Arc, OnceLock};

#[cfg(feature = "wasmi")]
type BackendStore = wasmi::Store<()>;
#[cfg(feature = "wasmtime")]
type BackendStore = wasmtime::Store<()>;

const _: () =
    assert!(size_of::<capi::wasm_store_t>() == size_of::<Arc<UnsafeCell<BackendStore>>>());

#[path = "fuel_budget.rs"]
mod fuel_budget;
use fuel_budget::FUEL_PER_CALL;

/// The budget per call: `FUEL_PER_CALL`, or `KCT_WASM_FUEL` when it is a positive number (read
/// once per process; tests lower it to see a call stopped).
pub(crate) fn budget() -> u64 {
    static BUDGET: OnceLock<u64> = OnceLock::new();
    *BUDGET.get_or_init(|| {
        std::env::var("KCT_WASM_FUEL")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .filter(|n| *n > 0)
            .unwrap_or(FUEL_PER_CALL)
    })
}

/// The backend's store behind `store`.
///
/// # Safety
/// `store` is a live `wasm_store_t` of this library, used by no one else meanwhile.
unsafe fn backend<'a>(store: *mut capi::wasm_store_t) -> &'a mut BackendStore {
    // SAFETY: the layout is as the module's comment says (size checked above); the cell is
    // what the C API itself goes through, and the caller holds the store alone.
    unsafe { &mut *(*store.cast::<Arc<UnsafeCell<BackendStore>>>()).get() }
}

/// Gives `store` a full budget for the next call.
///
/// # Safety
/// As `backend`.
pub(crate) unsafe fn refill(store: *mut capi::wasm_store_t) -> Result<(), String> {
    // SAFETY: as this function's contract says.
    let s = unsafe { backend(store) };
    s.set_fuel(budget())
        .map_err(|e| format!("the core's fuel budget cannot be set: {e}"))
}
