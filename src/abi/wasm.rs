//! The import-free .wasm exports. Ownership is explicit: every buffer the host gets from
//! `kct_alloc` or `kct_call` it hands back to `kct_free` with the same length.

use super::{dispatch, ABI_VERSION, MAX_INPUT};
use std::sync::Once;

static HOOK: Once = Once::new();
static mut PANIC_MSG: Vec<u8> = Vec::new();

/// A panic aborts into a trap; keep its message where the host can still read it.
fn install_panic_hook() {
    HOOK.call_once(|| {
        std::panic::set_hook(Box::new(|info| {
            let msg = info.to_string().into_bytes();
            // SAFETY: the guest is single-threaded and the hook runs once, right before the trap.
            unsafe { *std::ptr::addr_of_mut!(PANIC_MSG) = msg };
        }))
    });
}

#[no_mangle]
pub extern "C" fn kct_abi_version() -> u32 {
    ABI_VERSION
}

/// A buffer of `len` bytes for the host to write a request into; 0 if `len` is over the cap.
#[no_mangle]
pub extern "C" fn kct_alloc(len: u32) -> *mut u8 {
    if len as usize > MAX_INPUT {
        return std::ptr::null_mut();
    }
    let mut v = Vec::<u8>::with_capacity(len as usize);
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// Frees a buffer from `kct_alloc` or `kct_call`.
///
/// # Safety
/// `ptr` and `len` must come from one of those calls, and be freed once.
#[no_mangle]
pub unsafe extern "C" fn kct_free(ptr: *mut u8, len: u32) {
    if !ptr.is_null() {
        drop(Vec::from_raw_parts(ptr, 0, len as usize));
    }
}

/// Runs one request; returns the answer's `(ptr << 32) | len`. The host frees the request
/// buffer and the answer.
///
/// # Safety
/// `ptr` must point to `len` initialised bytes owned by the host.
#[no_mangle]
pub unsafe extern "C" fn kct_call(ptr: *const u8, len: u32) -> u64 {
    install_panic_hook();
    let input = if ptr.is_null() {
        &[][..]
    } else {
        std::slice::from_raw_parts(ptr, len as usize)
    };
    let answer = dispatch(input).into_bytes().into_boxed_slice();
    let n = answer.len() as u64;
    let p = Box::into_raw(answer) as *mut u8 as u64;
    (p << 32) | n
}

/// The last panic message as `(ptr << 32) | len` (0 when none): read it after a trap,
/// then discard the instance.
#[no_mangle]
pub extern "C" fn kct_panic_message() -> u64 {
    // SAFETY: read-only access from the single guest thread.
    let msg = unsafe { &*std::ptr::addr_of!(PANIC_MSG) };
    ((msg.as_ptr() as u64) << 32) | msg.len() as u64
}
