//! [`WakeList`]: wakers gathered under a lock and woken after it is released.
//!
//! A primitive grants its waiters while holding its lock, but must not wake
//! them there: the woken task could run at once on another thread and block
//! on the very same lock. So a granter moves each waker into a `WakeList`
//! and wakes the whole list once it has unlocked.

use std::fmt;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::task::Waker;

/// How many wakers a [`WakeList`] holds before it needs the heap.
const INLINE_WAKERS: usize = 8;

/// Wakers gathered while a lock is held and woken after it is released, so
/// that a woken task never runs into the lock its waker came from.
///
/// The first few wakers live inline, so the usual grant (one or a handful of
/// waiters) allocates nothing; a larger batch (say `notify_all` on many
/// waiters) spills into a vector.
///
/// Every queue or semaphore operation makes one of these, mostly to wake
/// nobody, so it must cost nothing when empty: the inline slots are
/// `MaybeUninit` and only the first `inline_len` of them are ever read or
/// dropped, and the spill vector sits in a `ManuallyDrop` so that dropping
/// the list is one inlined check instead of a call into drop glue that
/// walks a vector. (With `Option<Waker>` slots, creating and dropping an
/// empty list walked all eight; with plain drop glue, the call still cost a
/// quarter of a queue operation.)
pub(crate) struct WakeList {
    /// The first `inline_len` slots hold wakers; the rest are uninitialised.
    inline: [MaybeUninit<Waker>; INLINE_WAKERS],
    inline_len: usize,
    /// Emptied (with `mem::take`) by `wake_all` and `drop`, so it never owns
    /// anything when the list goes away.
    spilled: ManuallyDrop<Vec<Waker>>,
}

impl WakeList {
    /// An empty list; it does not allocate.
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            inline: [const { MaybeUninit::uninit() }; INLINE_WAKERS],
            inline_len: 0,
            spilled: ManuallyDrop::new(Vec::new()),
        }
    }

    /// Adds a waker to wake later.
    #[inline]
    pub(crate) fn push(&mut self, waker: Waker) {
        match self.inline.get_mut(self.inline_len) {
            Some(slot) => {
                slot.write(waker);
                self.inline_len += 1;
            }
            None => self.spilled.push(waker),
        }
    }

    /// Wakes every gathered waker, in the order they were pushed, leaving
    /// the list empty.
    ///
    /// Most operations wake nobody, so the check for that is kept small
    /// enough to inline into every caller; the loop lives out of line.
    #[inline]
    pub(crate) fn wake_all(&mut self) {
        if self.inline_len != 0 || !self.spilled.is_empty() {
            self.wake_gathered();
        }
    }

    fn wake_gathered(&mut self) {
        // The length goes to zero first: if a wake panics, the wakers not
        // yet read are leaked, never read or dropped twice.
        let used = std::mem::take(&mut self.inline_len);
        for slot in &mut self.inline[..used] {
            // SAFETY: the first `used` slots were initialised by `push`, and
            // with `inline_len` now zero each is read exactly once, here.
            let waker = unsafe { slot.assume_init_read() };
            waker.wake();
        }
        for waker in std::mem::take(&mut *self.spilled) {
            waker.wake();
        }
    }

    /// Drops the wakers that were never woken (a panic unwound past
    /// `wake_all`) and the spill vector's buffer.
    fn drop_gathered(&mut self) {
        for slot in &mut self.inline[..self.inline_len] {
            // SAFETY: the first `inline_len` slots are initialised and have
            // not been read (`wake_gathered` zeroes the length before
            // reading).
            unsafe { slot.assume_init_drop() };
        }
        drop(std::mem::take(&mut *self.spilled));
    }
}

impl Drop for WakeList {
    #[inline]
    fn drop(&mut self) {
        if self.inline_len != 0 || self.spilled.capacity() != 0 {
            self.drop_gathered();
        }
    }
}

impl fmt::Debug for WakeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeList")
            .field("wakers", &(self.inline_len + self.spilled.len()))
            .finish()
    }
}

impl Default for WakeList {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::task::Wake;

    /// Records the order in which wakers fire, by id.
    #[derive(Default)]
    struct Log(Mutex<Vec<usize>>);

    struct IdWaker {
        id: usize,
        log: Arc<Log>,
    }

    impl Wake for IdWaker {
        fn wake(self: Arc<Self>) {
            self.log.0.lock().unwrap().push(self.id);
        }
    }

    fn id_waker(id: usize, log: &Arc<Log>) -> Waker {
        Waker::from(Arc::new(IdWaker {
            id,
            log: log.clone(),
        }))
    }

    #[test]
    fn wake_list_wakes_in_push_order_beyond_inline_capacity() {
        let log = Arc::new(Log::default());
        let mut list = WakeList::new();
        let count = INLINE_WAKERS + 3;
        for id in 0..count {
            list.push(id_waker(id, &log));
        }
        assert!(
            log.0.lock().unwrap().is_empty(),
            "nothing wakes before wake_all"
        );
        list.wake_all();
        assert_eq!(*log.0.lock().unwrap(), (0..count).collect::<Vec<_>>());
    }

    /// A waker that panics when woken.
    struct PanicWaker;

    impl Wake for PanicWaker {
        fn wake(self: Arc<Self>) {
            panic!("wake failed");
        }
    }

    /// A list that spilled two wakers (logging to the second log) and whose
    /// last inline waker panicked during `wake_all`; the inline wakers
    /// before it log to the first log. The panicking waker is the last
    /// inline one so that the panic leaves no inline waker unread (and
    /// leaked).
    fn list_after_a_panicking_wake() -> (Arc<Log>, Arc<Log>, WakeList) {
        let (inline, spill) = (Arc::new(Log::default()), Arc::new(Log::default()));
        let mut list = WakeList::new();
        for id in 0..INLINE_WAKERS - 1 {
            list.push(id_waker(id, &inline));
        }
        list.push(Waker::from(Arc::new(PanicWaker)));
        for id in 0..2 {
            list.push(id_waker(id, &spill));
        }
        let woke = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| list.wake_all()));
        assert!(woke.is_err(), "the last inline waker panics");
        (inline, spill, list)
    }

    #[test]
    fn dropping_an_unwoken_list_drops_its_wakers_without_waking_them() {
        for count in [1, INLINE_WAKERS + 2] {
            let log = Arc::new(Log::default());
            let mut list = WakeList::new();
            for id in 0..count {
                list.push(id_waker(id, &log));
            }
            assert_eq!(Arc::strong_count(&log), 1 + count);
            drop(list);
            assert_eq!(Arc::strong_count(&log), 1, "{count} wakers were dropped");
            assert!(log.0.lock().unwrap().is_empty());
        }
    }

    #[test]
    fn after_a_panicking_wake_the_spilled_wakers_are_still_dropped() {
        let (inline, spill, list) = list_after_a_panicking_wake();
        assert_eq!(Arc::strong_count(&inline), 1, "the inline wakers were read");
        assert_eq!(
            Arc::strong_count(&spill),
            3,
            "the spilled wakers are unread"
        );
        drop(list);
        assert_eq!(Arc::strong_count(&spill), 1);
        assert!(spill.0.lock().unwrap().is_empty());
    }

    #[test]
    fn after_a_panicking_wake_a_second_wake_all_wakes_the_spilled_wakers() {
        let (inline, spill, mut list) = list_after_a_panicking_wake();
        list.wake_all();
        assert_eq!(*spill.0.lock().unwrap(), [0, 1]);
        // The inline wakers woke once, before the panic, and not again.
        let woken_inline: Vec<_> = (0..INLINE_WAKERS - 1).collect();
        assert_eq!(*inline.0.lock().unwrap(), woken_inline);
    }

    #[test]
    fn debug_counts_inline_and_spilled_wakers() {
        let log = Arc::new(Log::default());
        let mut list = WakeList::new();
        assert_eq!(format!("{list:?}"), "WakeList { wakers: 0 }");
        for id in 0..INLINE_WAKERS + 2 {
            list.push(id_waker(id, &log));
        }
        assert_eq!(
            format!("{list:?}"),
            format!("WakeList {{ wakers: {} }}", INLINE_WAKERS + 2)
        );
    }
}
