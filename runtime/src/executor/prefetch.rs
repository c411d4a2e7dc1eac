//! A hint to the CPU that some memory will be read soon.
//!
//! With many tasks alive, the runtime goes through task blocks in an order
//! the hardware cannot guess: a burst of fired timers wakes tasks spawned
//! at random times, so each wake reads a header that is not in any cache
//! (100 000 sleeping tasks are about 11 MB of blocks). Asking for the next
//! header while the current wake runs lets those misses overlap instead of
//! queueing one after the other:
//!
//! ```text
//!   without:  wake 1 ─ miss ─▶ wake 2 ─ miss ─▶ wake 3 ─ miss ─▶
//!   with:     wake 1 ─▶ wake 2 ─▶ wake 3 ─▶          (misses of 1+d, 2+d, 3+d
//!                                                     in flight meanwhile)
//! ```
//!
//! The hint never faults, whatever the address (a dangling one included),
//! and changes nothing a program can observe. It is x86-64's `prefetcht0`;
//! elsewhere (no stable prefetch instruction in Rust) it does nothing.

/// Hints that the cache line at `address` will be read soon.
#[inline(always)]
pub(crate) fn prefetch(address: *const ()) {
    #[cfg(all(target_arch = "x86_64", not(miri)))]
    // SAFETY: `prefetcht0` belongs to SSE, which every x86-64 CPU has. It
    // only moves a line into the cache: it never faults, for any address,
    // and reads nothing that the program can see.
    unsafe {
        std::arch::x86_64::_mm_prefetch::<{ std::arch::x86_64::_MM_HINT_T0 }>(address.cast())
    };
    #[cfg(not(all(target_arch = "x86_64", not(miri))))]
    let _ = address;
}
