//! [`StoredWaker`]: a waker kept in one word instead of two.
//!
//! A `Waker` is two words, a data pointer and a vtable. A structure that
//! keeps one waker per waiting task pays both for every task: the timing
//! wheel holds one per sleeper, so with 100 000 sleeping tasks each word is
//! 800 kB. Nearly all of those wakers are the runtime's own task wakers,
//! whose vtable is known and whose data pointer is a counted task pointer:
//! the pointer alone says everything. So a stored waker is one word:
//!
//! ```text
//!   a task's own waker ──▶ its TaskPtr (the waker's reference)   low bit 0
//!   any other waker ─────▶ Box<Waker>                            low bit 1
//! ```
//!
//! Both pointers are aligned to 8 bytes, so the low bit is free to tell them
//! apart, and the word is never null, so `Option<StoredWaker>` is one word
//! too. Storing a task's waker costs what cloning it costs (a reference
//! count); only a waker from elsewhere (a combinator's, another
//! executor's) costs a small allocation. Turned back into a `Waker`, the
//! task's pointer becomes its waker again, with no allocation.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::Waker;

use super::task_block::TaskPtr;

/// Set in the word of a boxed waker.
const BOXED: usize = 1;

/// A waker in one word; see the module docs.
pub(crate) struct StoredWaker(NonNull<()>);

// SAFETY: the word owns either a task's reference or a `Box<Waker>`, and
// both `TaskPtr` and `Waker` are `Send + Sync`.
unsafe impl Send for StoredWaker {}
// SAFETY: as above; `&StoredWaker` only compares the word.
unsafe impl Sync for StoredWaker {}

/// What a stored word holds.
enum Held {
    Task(ManuallyDrop<TaskPtr>),
    Boxed(*mut Waker),
}

impl StoredWaker {
    /// Stores a clone of `waker`.
    pub(crate) fn new(waker: &Waker) -> Self {
        match TaskPtr::of_waker(waker) {
            Some(task) => Self(task.into_erased()),
            None => {
                let boxed = NonNull::from(Box::leak(Box::new(waker.clone())));
                Self(boxed.cast::<()>().map_addr(|addr| addr | BOXED))
            }
        }
    }

    fn held(&self) -> Held {
        let word = self.0;
        if word.addr().get() & BOXED == 0 {
            // SAFETY: without the bit, the word came from `into_erased` and
            // owns its reference; the copy is never dropped.
            Held::Task(ManuallyDrop::new(unsafe { TaskPtr::from_erased(word) }))
        } else {
            Held::Boxed(word.as_ptr().map_addr(|addr| addr & !BOXED).cast())
        }
    }

    /// Whether `waker` wakes the same task as this one (as
    /// [`Waker::will_wake`] says).
    pub(crate) fn will_wake(&self, waker: &Waker) -> bool {
        match self.held() {
            Held::Task(task) => task.is_own_waker(waker),
            // SAFETY: the word owns the box, alive while `self` is.
            Held::Boxed(boxed) => unsafe { &*boxed }.will_wake(waker),
        }
    }

    /// The waker again, owning what the word owned.
    pub(crate) fn into_waker(self) -> Waker {
        let this = ManuallyDrop::new(self);
        match this.held() {
            Held::Task(task) => ManuallyDrop::into_inner(task).into_waker(),
            // SAFETY: the word owned the box, handed over here once (`this`
            // is not dropped).
            Held::Boxed(boxed) => *unsafe { Box::from_raw(boxed) },
        }
    }
}

impl Drop for StoredWaker {
    fn drop(&mut self) {
        match self.held() {
            Held::Task(task) => drop(ManuallyDrop::into_inner(task)),
            // SAFETY: the word owns the box, released once, here.
            Held::Boxed(boxed) => drop(unsafe { Box::from_raw(boxed) }),
        }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::task::Wake;

    #[derive(Default)]
    struct CountWakes(AtomicUsize);

    impl Wake for CountWakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    #[test]
    fn one_word_even_when_optional() {
        assert_eq!(size_of::<StoredWaker>(), size_of::<usize>());
        assert_eq!(size_of::<Option<StoredWaker>>(), size_of::<usize>());
    }

    #[test]
    fn a_foreign_waker_is_boxed_and_comes_back_whole() {
        let count = Arc::new(CountWakes::default());
        let waker = Waker::from(count.clone());
        let stored = StoredWaker::new(&waker);
        // As `Waker::will_wake` says of a clone (best effort: an `Arc`
        // waker's vtable may have several addresses, as under miri).
        assert_eq!(stored.will_wake(&waker), waker.clone().will_wake(&waker));
        assert!(!stored.will_wake(Waker::noop()));
        // The stored clone holds a reference of its own.
        assert_eq!(Arc::strong_count(&count), 3);
        stored.into_waker().wake();
        assert_eq!(count.0.load(Ordering::SeqCst), 1);
        drop(StoredWaker::new(&waker));
        assert_eq!(Arc::strong_count(&count), 2);
    }

    #[test]
    fn a_tasks_own_waker_is_stored_as_its_pointer() {
        let task = async {
            let waker = std::future::poll_fn(|cx| std::task::Poll::Ready(cx.waker().clone())).await;
            let stored = StoredWaker::new(&waker);
            assert_eq!(stored.0.addr().get() & BOXED, 0);
            assert!(stored.will_wake(&waker));
            assert!(!StoredWaker::new(Waker::noop()).will_wake(&waker));
            let back = stored.into_waker();
            assert!(back.will_wake(&waker));
            // Waking it queues this very task, which is running: harmless.
            back.wake();
        };
        crate::run(async { crate::spawn(task).await.unwrap() });
    }
}
