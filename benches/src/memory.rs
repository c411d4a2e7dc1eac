//! Memory figures: a counting allocator for live heap bytes, and the
//! process's resident set from `/proc`.
//!
//! Two questions need two instruments:
//!
//! * *How much memory do 100 000 sleeping tasks take?* The peak resident
//!   set (`VmHWM` in `/proc/self/status`) answers it for the whole process,
//!   allocator slack included. A high-water mark never goes down, so each
//!   runtime is measured in a process of its own.
//! * *Do a million finished timeouts leave memory behind?* The resident set
//!   is too coarse for that (the allocator keeps freed pages), so
//!   [`CountingAllocator`] counts the bytes currently allocated, exactly,
//!   and the figure is the difference between before and after.
//!
//! The counting allocator wraps the system allocator. It counts only after
//! [`start_counting`]; until then each call costs one relaxed load more
//! than the system allocator's, so timings in the same process are not
//! disturbed.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicIsize, Ordering};

static COUNTING: AtomicBool = AtomicBool::new(false);
static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting live bytes once [`start_counting`] is
/// called. Install it in a binary with `#[global_allocator]`.
///
/// ```
/// use weft_benches::memory::CountingAllocator;
///
/// #[global_allocator]
/// static ALLOCATOR: CountingAllocator = CountingAllocator;
///
/// weft_benches::memory::start_counting();
/// let before = weft_benches::memory::live_heap_bytes();
/// let block = vec![0u8; 4096];
/// assert!(weft_benches::memory::live_heap_bytes() - before >= 4096);
/// drop(block);
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

impl CountingAllocator {
    fn count(&self, bytes: isize) {
        if COUNTING.load(Ordering::Relaxed) {
            LIVE_BYTES.fetch_add(bytes, Ordering::Relaxed);
        }
    }
}

// SAFETY: every method forwards to `System` with the caller's arguments
// unchanged, so `System`'s guarantees carry over; the counting touches only
// two atomics and never the memory handed out.
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller upholds `alloc`'s contract, which `System`
        // shares.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            self.count(layout.size() as isize);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            self.count(layout.size() as isize);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: the caller passes a block this allocator (that is,
        // `System`) returned, with its layout.
        unsafe { System.dealloc(block, layout) };
        self.count(-(layout.size() as isize));
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller passes a block `System` returned, its layout
        // and a valid new size.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            self.count(new_size as isize - layout.size() as isize);
        }
        moved
    }
}

/// Starts counting allocations (in a binary whose global allocator is
/// [`CountingAllocator`]). Blocks allocated before are not counted, so take
/// differences of [`live_heap_bytes`] only between two points after this.
pub fn start_counting() {
    COUNTING.store(true, Ordering::Relaxed);
}

/// Bytes allocated and not yet freed since [`start_counting`] (0 if the
/// counting allocator is not installed or not counting).
///
/// ```
/// assert_eq!(weft_benches::memory::live_heap_bytes(), 0); // not counting here
/// ```
pub fn live_heap_bytes() -> isize {
    LIVE_BYTES.load(Ordering::Relaxed)
}

/// This process's peak resident set in bytes (`VmHWM`), if `/proc` has it.
///
/// ```
/// if let Some(peak) = weft_benches::memory::peak_rss_bytes() {
///     assert!(peak > 0);
/// }
/// ```
pub fn peak_rss_bytes() -> Option<u64> {
    status_field_bytes("/proc/self/status", "VmHWM:")
}

/// The current resident set of process `pid` in bytes (`VmRSS` in
/// `/proc/<pid>/status`), if `/proc` has it: what a server child holds
/// right now, freed pages the allocator kept included.
///
/// ```
/// if let Some(rss) = weft_benches::memory::rss_bytes_of(std::process::id()) {
///     assert!(rss > 0);
/// }
/// ```
pub fn rss_bytes_of(pid: u32) -> Option<u64> {
    status_field_bytes(&format!("/proc/{pid}/status"), "VmRSS:")
}

/// Reads a `kB` field of a `/proc/.../status` file, in bytes.
fn status_field_bytes(path: &str, field: &str) -> Option<u64> {
    let status = std::fs::read_to_string(path).ok()?;
    let line = status.lines().find(|line| line.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib * 1024)
}
