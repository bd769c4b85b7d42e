//! The import-free .wasm exports. Ownership is explicit: every buffer the host gets from
//! `kct_alloc` or `kct_call` it hands back to `kct_free` with the same length.
// Raw exports and buffers handed to the host: unsafe by nature (each block says why it holds).
#![allow(unsafe_code)]

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

static mut REQUEST: Vec<u8> = Vec::new();

/// The instance's request buffer, at least `len` bytes (NULL past the request cap): the
/// host writes each request there and passes it to `kct_call`. One per instance, kept for
/// its life and never freed by the host, so a host that reuses a warm instance across its
/// own requests (see the runtime's `kct_rt_instance`) finds it again instead of leaking one
/// buffer per request.
#[no_mangle]
pub extern "C" fn kct_buffer(len: u32) -> *mut u8 {
    if len as usize > MAX_INPUT {
        return std::ptr::null_mut();
    }
    // SAFETY: the guest is single-threaded, and the host never calls this during a call
    // (so the buffer comes from dlmalloc, not from a call's arena).
    let buf = unsafe { &mut *std::ptr::addr_of_mut!(REQUEST) };
    if buf.capacity() < (len as usize).max(1) {
        *buf = Vec::with_capacity((len as usize).max(1));
    }
    buf.as_mut_ptr()
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
    arena::begin();
    let answer = dispatch(input).into_bytes().into_boxed_slice();
    arena::end();
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

/// Per-request arena. Everything a request allocates (the parsed input, the decision, the
/// answer) is garbage once the host has read the answer, and a general-purpose allocator
/// interpreted instruction by instruction was a large share of each call. So while
/// `kct_call` runs, allocations bump through one block, frees are no-ops, and the next call
/// starts the block again; the host's request buffer (from `kct_alloc`) and anything made
/// outside a call come from dlmalloc. A request that outgrows the block spills to dlmalloc
/// and the block is doubled for the next call.
///
/// The rule this relies on: nothing allocated during a call outlives it except the answer,
/// which the host reads before its next call. The core keeps no caches or lazily built
/// statics (the panic hook is installed before the arena starts).
mod arena {
    use std::alloc::{GlobalAlloc, Layout, System};

    const FIRST_BLOCK: usize = 64 * 1024;
    const MAX_BLOCK: usize = 4 * 1024 * 1024;

    struct Arena {
        start: usize,
        end: usize,
        next: usize,
        /// Start of the latest allocation, which can grow or shrink in place.
        last: usize,
        active: bool,
        spilled: bool,
    }

    static mut ARENA: Arena = Arena {
        start: 0,
        end: 0,
        next: 0,
        last: 0,
        active: false,
        spilled: false,
    };

    fn arena() -> &'static mut Arena {
        // SAFETY: the guest is single-threaded and nothing here re-enters the allocator
        // while holding this borrow.
        unsafe { &mut *std::ptr::addr_of_mut!(ARENA) }
    }

    /// Starts a request: the previous request's allocations are all dead by now.
    pub fn begin() {
        let a = arena();
        let size = a.end - a.start;
        if a.start == 0 || a.spilled {
            let want = if a.start == 0 {
                FIRST_BLOCK
            } else {
                (size * 2).min(MAX_BLOCK)
            };
            if want > size {
                // SAFETY: the old block was allocated with this layout and nothing in it is live.
                unsafe {
                    if a.start != 0 {
                        System.dealloc(
                            a.start as *mut u8,
                            Layout::from_size_align_unchecked(size, 16),
                        );
                    }
                    let p = System.alloc(Layout::from_size_align_unchecked(want, 16)) as usize;
                    if p == 0 {
                        a.start = 0;
                        a.end = 0;
                    } else {
                        a.start = p;
                        a.end = p + want;
                    }
                }
            }
        }
        a.next = a.start;
        a.last = 0;
        a.spilled = false;
        a.active = a.start != 0;
    }

    pub fn holds_this_call() -> bool {
        let a = arena();
        a.active && !a.spilled
    }

    /// Ends a request: later allocations (none, normally) go to dlmalloc.
    pub fn end() {
        arena().active = false;
    }

    pub struct CallArena;

    impl CallArena {
        fn bump(a: &mut Arena, layout: Layout) -> Option<*mut u8> {
            let p = (a.next + layout.align() - 1) & !(layout.align() - 1);
            let end = p.checked_add(layout.size())?;
            if end > a.end {
                a.spilled = true;
                return None;
            }
            a.next = end;
            a.last = p;
            Some(p as *mut u8)
        }

        fn owns(a: &Arena, p: *mut u8) -> bool {
            (a.start..a.end).contains(&(p as usize))
        }
    }

    unsafe impl GlobalAlloc for CallArena {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            let a = arena();
            if a.active {
                if let Some(p) = Self::bump(a, layout) {
                    return p;
                }
            }
            System.alloc(layout)
        }

        unsafe fn dealloc(&self, p: *mut u8, layout: Layout) {
            let a = arena();
            if Self::owns(a, p) {
                if a.last == p as usize {
                    a.next = a.last;
                    a.last = 0;
                }
                return;
            }
            System.dealloc(p, layout)
        }

        unsafe fn realloc(&self, p: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let a = arena();
            if !Self::owns(a, p) {
                return System.realloc(p, layout, new_size);
            }
            if a.last == p as usize && a.last + new_size <= a.end {
                a.next = a.last + new_size;
                return p;
            }
            let new = self.alloc(Layout::from_size_align_unchecked(new_size, layout.align()));
            if !new.is_null() {
                std::ptr::copy_nonoverlapping(p, new, layout.size().min(new_size));
            }
            new
        }
    }
}

/// Whether every allocation of the running call is in its arena (none spilled), so what
/// the call made is reclaimed when the next call starts.
pub fn arena_holds_this_call() -> bool {
    arena::holds_this_call()
}

#[global_allocator]
static ALLOC: arena::CallArena = arena::CallArena;
