//! One core call, made by the runtime: `kct_rt_call(warm, request, len, out)` copies the
//! request into the instance's buffer (`kct_buffer`), runs `kct_call`, copies the answer out
//! and frees it in the guest (`kct_free`). PHP made each of those steps itself through FFI,
//! six or seven FFI calls a core call, which a web request's cold caches made cost 50 to
//! 80 µs a call (timed inside `KCTCore` during `make bench`); now it makes one, and copies
//! the answer once.
//!
//! Statuses (the host acts on each):
//! - `KCT_RT_OK` (1): `out` holds the answer, valid until this thread's next `kct_rt_call`.
//! - `KCT_RT_STALE` (2): the instance `warm` describes was dropped or replaced since the host
//!   took it (another object's trap, a replaced `.wasm`): take the current one with
//!   `kct_rt_instance` and call again. Nothing ran.
//! - `KCT_RT_TRAP` (-1): the guest trapped; the instance is dropped, and `kct_rt_last_error()`
//!   says where and why (the guest's panic message when it left one).
//! - `KCT_RT_ALLOC` (-2): the core could not allocate the request buffer.
//! - `KCT_RT_MEMORY` (-3): the core pointed outside its memory, or the arguments were unusable.

use crate::{capi, kct_rt_warm_t, set_error, GENERATION};
use std::cell::RefCell;

pub const KCT_RT_OK: i32 = 1;
pub const KCT_RT_STALE: i32 = 2;
pub const KCT_RT_TRAP: i32 = -1;
pub const KCT_RT_ALLOC: i32 = -2;
pub const KCT_RT_MEMORY: i32 = -3;

/// The core's own cap on a request (`MAX_INPUT`); the host refuses larger ones first.
const MAX_INPUT: usize = 1 << 20;

/// The answer handed to the host: `wasm.h`'s byte vector layout.
#[repr(C)]
pub struct kct_rt_answer_t {
    size: usize,
    data: *const u8,
}

thread_local! {
    /// The last answer, copied out of the guest (which has freed its own).
    static ANSWER: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// `wasm.h`'s `wasm_val_t` (a kind byte, then an 8-byte union) and `wasm_val_vec_t`, as both
/// backends lay them out; only i32 and i64 are used.
#[repr(C)]
#[derive(Clone, Copy)]
struct Val {
    kind: u8,
    of: u64,
}

#[repr(C)]
struct Vals {
    size: usize,
    data: *mut Val,
}

const _: () = assert!(size_of::<Val>() == size_of::<capi::wasm_val_t>());
const _: () = assert!(size_of::<Vals>() == size_of::<capi::wasm_val_vec_t>());

/// `wasm.h`'s value kinds.
const I32: u8 = 0;
const I64: u8 = 1;

/// Why a guest call did not return: the status for the host, with `set_error` done.
type Failed = i32;

/// Calls `f` with i32 arguments; its one result as u64 (or 0 when it has none).
///
/// # Safety
/// `f` is a live export of `warm`'s instance taking `args.len()` i32s and returning
/// `results` values.
pub(crate) unsafe fn invoke(
    warm: &kct_rt_warm_t,
    name: &str,
    f: *mut capi::wasm_func_t,
    args: &[u32],
    results: usize,
) -> Result<u64, Failed> {
    if f.is_null() {
        set_error(format!("the core does not export {name}"));
        return Err(KCT_RT_MEMORY);
    }
    // Each guest call gets the whole budget: a long `kct_call` must not leave `kct_free`
    // short of fuel and lose an answer it had.
    // SAFETY: `warm`'s store is live (contract) and used by this thread alone.
    if let Err(e) = unsafe { crate::fuel::refill(warm.store) } {
        set_error(e);
        return Err(KCT_RT_MEMORY);
    }
    let mut a = [Val { kind: I32, of: 0 }; 2];
    for (slot, v) in a.iter_mut().zip(args) {
        slot.of = u64::from(*v);
    }
    let mut r = [Val { kind: I64, of: 0 }; 1];
    let a = Vals {
        size: args.len().min(2),
        data: a.as_mut_ptr(),
    };
    let mut r = Vals {
        size: results.min(1),
        data: r.as_mut_ptr(),
    };
    // SAFETY: the views have the C API vectors' layout and outlive the call; `f` is as this
    // function's contract says.
    let trap = unsafe {
        capi::wasm_func_call(
            &mut *f,
            (&a as *const Vals).cast::<capi::wasm_val_vec_t>(),
            (&mut r as *mut Vals).cast::<capi::wasm_val_vec_t>(),
        )
    };
    if !trap.is_null() {
        // SAFETY: a trap the call just returned, ours to read and delete.
        let text = unsafe { trap_text(trap) };
        // Both backends name fuel in the trap's own text (the guest's panic message is not
        // in it): wasmi's out-of-fuel errors, wasmtime's "all fuel consumed".
        let why = if text.to_ascii_lowercase().contains("fuel") {
            format!(
                "the call ran past its budget of {} fuel units (KCT_WASM_FUEL) and was stopped",
                crate::fuel::budget()
            )
        } else if name == "kct_panic_message" {
            text
        } else {
            // SAFETY: the instance is still whole (it is dropped after this).
            let panic = unsafe { panic_message(warm) };
            if panic.is_empty() {
                text
            } else {
                panic
            }
        };
        set_error(format!("The core trapped in {name}: {why}"));
        crate::drop_instance(warm.instance);
        return Err(KCT_RT_TRAP);
    }
    // SAFETY: the call wrote its results (`r.size` of them).
    Ok(if results == 0 {
        0
    } else {
        unsafe { (*r.data).of }
    })
}

/// # Safety
/// `trap` was just returned by a call and is not used again.
unsafe fn trap_text(trap: *mut capi::wasm_trap_t) -> String {
    // SAFETY: an all-zero vector is the C API's empty vector; the trap is live until deleted.
    unsafe {
        let mut msg: capi::wasm_message_t = std::mem::zeroed();
        capi::wasm_trap_message(&*trap, &mut msg);
        let text = String::from_utf8_lossy(msg.as_slice())
            .trim_end_matches('\0')
            .to_string();
        capi::wasm_byte_vec_delete(&mut msg);
        capi::wasm_trap_delete(Box::from_raw(trap));
        if text.is_empty() {
            "no message".into()
        } else {
            text
        }
    }
}

/// The guest's panic message after a trap, or "".
///
/// # Safety
/// `warm`'s pointers are live.
unsafe fn panic_message(warm: &kct_rt_warm_t) -> String {
    // SAFETY: as this function's contract says.
    let Ok(packed) = (unsafe { invoke(warm, "kct_panic_message", warm.panic_message, &[], 1) })
    else {
        return String::new();
    };
    // SAFETY: as above.
    unsafe { guest_bytes(warm, packed) }
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
}

/// The guest bytes `(ptr << 32) | len` names, if they lie inside its memory.
///
/// # Safety
/// `warm.memory` is live; the slice is valid until the guest runs again.
unsafe fn guest_bytes<'a>(warm: &kct_rt_warm_t, packed: u64) -> Option<&'a [u8]> {
    let (ptr, len) = ((packed >> 32) as usize, (packed & 0xFFFF_FFFF) as usize);
    if len == 0 {
        return Some(&[]);
    }
    // SAFETY: as this function's contract says; the memory is re-read, since it moves when
    // it grows.
    let (base, size) = unsafe { memory(warm) };
    if ptr == 0 || ptr.checked_add(len).is_none_or(|end| end > size) {
        set_error(format!(
            "The core answered outside its memory ({ptr}+{len} > {size})."
        ));
        return None;
    }
    // SAFETY: `ptr..ptr + len` lies inside the memory (checked).
    Some(unsafe { std::slice::from_raw_parts(base.add(ptr), len) })
}

/// # Safety
/// `warm.memory` is live.
unsafe fn memory(warm: &kct_rt_warm_t) -> (*mut u8, usize) {
    // SAFETY: as this function's contract says.
    unsafe {
        let m = &*warm.memory;
        (capi::wasm_memory_data(m), capi::wasm_memory_data_size(m))
    }
}

/// # Safety
/// `warm` comes from `kct_rt_instance` on this thread (it is checked for staleness before
/// any of its pointers is used); `req` points to `len` readable bytes; `out` is writable.
#[no_mangle]
pub unsafe extern "C" fn kct_rt_call(
    warm: *const kct_rt_warm_t,
    req: *const u8,
    len: usize,
    out: *mut kct_rt_answer_t,
) -> i32 {
    if warm.is_null() || out.is_null() || (req.is_null() && len > 0) || len > MAX_INPUT {
        set_error(
            "kct_rt_call: a warm instance, the request and room for the answer are required".into(),
        );
        return KCT_RT_MEMORY;
    }
    // SAFETY: the host passes the struct kct_rt_instance filled.
    let warm = unsafe { &*warm };
    if warm.generation != GENERATION.with(|g| g.get()) || warm.memory.is_null() {
        return KCT_RT_STALE;
    }
    // SAFETY: not stale, so every pointer in `warm` is live (see GENERATION).
    match unsafe { run(warm, req, len) } {
        Ok(answer) => {
            // SAFETY: `out` is writable (contract); the answer lives until the next call.
            unsafe {
                *out = kct_rt_answer_t {
                    size: answer.0,
                    data: answer.1,
                }
            };
            KCT_RT_OK
        }
        Err(status) => status,
    }
}

/// # Safety
/// As `kct_rt_call`, with `warm` checked live.
unsafe fn run(
    warm: &kct_rt_warm_t,
    req: *const u8,
    len: usize,
) -> Result<(usize, *const u8), Failed> {
    // The buffer grows in powers of two, so it rarely moves; it is asked for at every call,
    // since another host object on this instance may have grown (and so moved) it.
    let cap = len.max(4096).next_power_of_two().min(MAX_INPUT) as u32;
    // SAFETY: live exports of a live instance (contract).
    let buf = unsafe { invoke(warm, "kct_buffer", warm.buffer, &[cap], 1)? } as u32 as usize;
    if buf == 0 {
        set_error("the core could not allocate the request".into());
        return Err(KCT_RT_ALLOC);
    }
    if len > 0 {
        // SAFETY: as above.
        let (base, size) = unsafe { memory(warm) };
        if buf.checked_add(len).is_none_or(|end| end > size) {
            set_error("The core's buffer lies outside its memory.".into());
            return Err(KCT_RT_MEMORY);
        }
        // SAFETY: `buf..buf + len` lies inside guest memory (checked); `req` has `len` bytes.
        unsafe { std::ptr::copy_nonoverlapping(req, base.add(buf), len) };
    }
    // SAFETY: as above.
    let packed = unsafe { invoke(warm, "kct_call", warm.call, &[buf as u32, len as u32], 1)? };
    let copied = ANSWER.with(|a| {
        let mut a = a.borrow_mut();
        a.clear();
        // SAFETY: read before the guest runs again.
        let bytes = unsafe { guest_bytes(warm, packed) }.ok_or(KCT_RT_MEMORY)?;
        a.extend_from_slice(bytes);
        Ok::<_, Failed>((a.len(), a.as_ptr()))
    })?;
    let (ptr, n) = ((packed >> 32) as u32, (packed & 0xFFFF_FFFF) as u32);
    // SAFETY: as above; the answer came from kct_call and is freed once.
    unsafe { invoke(warm, "kct_free", warm.free, &[ptr, n], 0)? };
    Ok(copied)
}
