//! [`WakeList`]: wakers gathered under a lock and woken after it is released.
//!
//! A primitive grants its waiters while holding its lock, but must not wake
//! them there: the woken task could run at once on another thread and block
//! on the very same lock. So a granter moves each waker into a `WakeList`
//! and wakes the whole list once it has unlocked.

use std::fmt;
use std::mem::MaybeUninit;
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
/// nobody, so an empty list must cost next to nothing: making one writes
/// one word (`len`), and waking or dropping it checks that word. The inline
/// slots are `MaybeUninit` and only the first `len` of them are ever read or
/// dropped; the spill vector exists only once `len` passed
/// `INLINE_WAKERS`. (With `Option<Waker>` slots, creating and dropping an
/// empty list walked all eight; with an always-present vector, every list
/// wrote and checked its three words.)
pub(crate) struct WakeList {
    /// Wakers gathered: the first `min(len, INLINE_WAKERS)` are in `inline`,
    /// the rest in `spilled`.
    len: usize,
    /// The first `min(len, INLINE_WAKERS)` slots hold wakers; the rest are
    /// uninitialised.
    inline: [MaybeUninit<Waker>; INLINE_WAKERS],
    /// Initialised exactly while `len > INLINE_WAKERS`.
    spilled: MaybeUninit<Vec<Waker>>,
}

impl WakeList {
    /// An empty list; it does not allocate.
    #[inline]
    pub(crate) fn new() -> Self {
        Self {
            len: 0,
            inline: [const { MaybeUninit::uninit() }; INLINE_WAKERS],
            spilled: MaybeUninit::uninit(),
        }
    }

    /// Adds a waker to wake later.
    #[inline]
    pub(crate) fn push(&mut self, waker: Waker) {
        match self.inline.get_mut(self.len) {
            Some(slot) => {
                slot.write(waker);
            }
            None => self.spill(waker),
        }
        self.len += 1;
    }

    /// Adds a waker beyond the inline slots (`len >= INLINE_WAKERS`).
    fn spill(&mut self, waker: Waker) {
        if self.len == INLINE_WAKERS {
            // Room for as many again as the inline slots: one allocation
            // serves a batch up to twice their size.
            let mut spilled = Vec::with_capacity(INLINE_WAKERS);
            spilled.push(waker);
            self.spilled.write(spilled);
        } else {
            // SAFETY: `len > INLINE_WAKERS`, so the vector was initialised
            // by the first spill and not taken since (taking it zeroes `len`).
            unsafe { self.spilled.assume_init_mut() }.push(waker);
        }
    }

    /// Wakes every gathered waker, in the order they were pushed, leaving
    /// the list empty.
    ///
    /// Most operations wake nobody, and most of the rest wake one task (a
    /// release, a put, a `notify`), so those two cases are kept small
    /// enough to inline into every caller; the loop lives out of line.
    #[inline]
    pub(crate) fn wake_all(&mut self) {
        if self.len == 0 {
            return;
        }
        if self.len == 1 {
            // The length goes to zero first, as in `take`.
            self.len = 0;
            // SAFETY: with `len == 1` the first inline slot holds a waker;
            // the length is now zero, so it is read once, here.
            unsafe { self.inline[0].assume_init_read() }.wake();
        } else {
            self.wake_gathered();
        }
    }

    fn wake_gathered(&mut self) {
        let (inline, spilled) = self.take();
        for slot in inline {
            // SAFETY: `take` handed over the initialised slots, each read
            // exactly once, here.
            unsafe { slot.assume_init_read() }.wake();
        }
        spilled.into_iter().flatten().for_each(Waker::wake);
    }

    /// Hands over what the list holds and empties it: the initialised
    /// inline slots, and the spill vector if there is one. The length goes
    /// to zero first, so if a wake panics the wakers not yet read are
    /// leaked, never read or dropped twice.
    fn take(&mut self) -> (&mut [MaybeUninit<Waker>], Option<Vec<Waker>>) {
        let len = std::mem::take(&mut self.len);
        // SAFETY: with `len > INLINE_WAKERS` the vector is initialised, and
        // with the length now zero it is read once, here.
        let spilled = (len > INLINE_WAKERS).then(|| unsafe { self.spilled.assume_init_read() });
        (&mut self.inline[..len.min(INLINE_WAKERS)], spilled)
    }

    /// Drops the wakers that were never woken (a panic unwound past
    /// `wake_all`).
    fn drop_gathered(&mut self) {
        let (inline, spilled) = self.take();
        for slot in inline {
            // SAFETY: `take` handed over the initialised slots, each dropped
            // exactly once, here.
            unsafe { slot.assume_init_drop() };
        }
        drop(spilled);
    }
}

impl Drop for WakeList {
    #[inline]
    fn drop(&mut self) {
        if self.len != 0 {
            self.drop_gathered();
        }
    }
}

impl fmt::Debug for WakeList {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WakeList")
            .field("wakers", &self.len)
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

    #[test]
    fn every_small_count_wakes_each_waker_once_and_leaves_the_list_empty() {
        // 0 and 1 take the inline shortcuts of `wake_all`, the rest the loop.
        for count in [0, 1, 2, INLINE_WAKERS] {
            let log = Arc::new(Log::default());
            let mut list = WakeList::new();
            for id in 0..count {
                list.push(id_waker(id, &log));
            }
            list.wake_all();
            assert_eq!(*log.0.lock().unwrap(), (0..count).collect::<Vec<_>>());
            assert_eq!(Arc::strong_count(&log), 1, "{count}: each waker consumed");
            assert_eq!(format!("{list:?}"), format!("{:?}", WakeList::new()));
            list.wake_all();
            assert_eq!(log.0.lock().unwrap().len(), count, "{count}: none twice");
        }
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
    fn a_dropped_list_drops_its_wakers_without_waking_them() {
        for count in [0, 1, INLINE_WAKERS, INLINE_WAKERS + 1, INLINE_WAKERS + 5] {
            let log = Arc::new(Log::default());
            let mut list = WakeList::new();
            for id in 0..count {
                list.push(id_waker(id, &log));
            }
            assert_eq!(Arc::strong_count(&log), count + 1);
            drop(list);
            assert_eq!(Arc::strong_count(&log), 1, "{count} wakers dropped");
            assert!(log.0.lock().unwrap().is_empty(), "nothing woken");
        }
    }

    #[test]
    fn a_list_can_be_used_again_after_wake_all() {
        let log = Arc::new(Log::default());
        let mut list = WakeList::new();
        for round in 0..2 {
            for id in 0..INLINE_WAKERS + 2 {
                list.push(id_waker(round * 100 + id, &log));
            }
            list.wake_all();
        }
        let expected: Vec<_> = (0..2)
            .flat_map(|round| (0..INLINE_WAKERS + 2).map(move |id| round * 100 + id))
            .collect();
        assert_eq!(*log.0.lock().unwrap(), expected);
        assert_eq!(Arc::strong_count(&log), 1);
    }

    #[test]
    fn a_panicking_wake_drops_the_wakers_it_did_not_reach() {
        let (inline, spill, list) = list_after_a_panicking_wake();
        // The inline wakers before the panicking one woke; the spilled ones
        // were dropped unwoken as the panic unwound; none is left to wake
        // or drop twice.
        let woken_inline: Vec<_> = (0..INLINE_WAKERS - 1).collect();
        assert_eq!(*inline.0.lock().unwrap(), woken_inline);
        assert_eq!(Arc::strong_count(&inline), 1);
        assert_eq!(
            Arc::strong_count(&spill),
            1,
            "the spilled wakers were dropped"
        );
        assert!(spill.0.lock().unwrap().is_empty(), "and not woken");
        assert_eq!(format!("{list:?}"), "WakeList { wakers: 0 }");
        drop(list);
        assert_eq!(Arc::strong_count(&spill), 1);
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
