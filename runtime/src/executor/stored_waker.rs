//! [`StoredWaker`]: a waker kept in one word instead of two.
//!
//! A `Waker` is two words, a data pointer and a vtable. A structure that
//! keeps one waker per waiting task pays both for every task: the timing
//! wheel holds one per sleeper, so with 100 000 sleeping tasks each word is
//! 800 kB. Nearly all of those wakers are the runtime's own: a
//! task's waker, or the waker of `block_on`'s future. Their vtables are
//! known and their data pointers are counted pointers, so the pointer alone
//! says everything. A stored waker is one word:
//!
//! ```text
//!   a task's own waker ──▶ its TaskPtr (the waker's reference)   low bits 00
//!   block_on's waker ────▶ its Arc<MainWaker> (the same)         low bits 10
//!   any other waker ─────▶ Box<Waker>                            low bits 01
//! ```
//!
//! All three pointers are aligned to 8 bytes, so the two low bits are free
//! to tell them apart, and the word is never null, so `Option<StoredWaker>`
//! is one word too. Storing one of the runtime's wakers costs what cloning
//! it costs (a reference count); only a waker from elsewhere (a
//! combinator's, another executor's) costs a small allocation. Turned back
//! into a `Waker`, the pointer becomes its waker again, with no
//! allocation.

use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::task::Waker;

use std::sync::Arc;

use super::task_block::TaskPtr;
use super::wake::MainWaker;

/// Set in the word of a boxed waker.
const BOXED: usize = 0b01;
/// Set in the word of `block_on`'s waker.
const MAIN: usize = 0b10;
/// The bits that tell the three kinds apart.
const KIND: usize = BOXED | MAIN;

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
    Main(ManuallyDrop<Arc<MainWaker>>),
    Boxed(*mut Waker),
}

impl StoredWaker {
    /// Stores a clone of `waker`.
    pub(crate) fn new(waker: &Waker) -> Self {
        if let Some(task) = TaskPtr::of_waker(waker) {
            return Self(task.into_erased());
        }
        let (pointer, kind) = match MainWaker::of_waker(waker) {
            Some(main) => (Arc::into_raw(main).cast_mut().cast::<()>(), MAIN),
            None => (Box::into_raw(Box::new(waker.clone())).cast::<()>(), BOXED),
        };
        let pointer = NonNull::new(pointer).expect("an `Arc` or a `Box` is never null");
        Self(pointer.map_addr(|addr| addr | kind))
    }

    fn held(&self) -> Held {
        let word = self.0;
        let pointer = word.as_ptr().map_addr(|addr| addr & !KIND);
        match word.addr().get() & KIND {
            // SAFETY: without a bit, the word came from `into_erased` and
            // owns its reference; the copy is never dropped.
            0 => Held::Task(ManuallyDrop::new(unsafe { TaskPtr::from_erased(word) })),
            // SAFETY: with `MAIN`, the pointer came from `Arc::into_raw` and
            // owns a strong reference; the copy is never dropped.
            MAIN => Held::Main(ManuallyDrop::new(unsafe {
                Arc::from_raw(pointer.cast::<MainWaker>())
            })),
            _ => Held::Boxed(pointer.cast()),
        }
    }

    /// Whether `waker` wakes the same task as this one (as
    /// [`Waker::will_wake`] says).
    pub(crate) fn will_wake(&self, waker: &Waker) -> bool {
        match self.held() {
            Held::Task(task) => task.is_own_waker(waker),
            Held::Main(main) => MainWaker::is_woken_by(&main, waker),
            // SAFETY: the word owns the box, alive while `self` is.
            Held::Boxed(boxed) => unsafe { &*boxed }.will_wake(waker),
        }
    }

    /// The waker again, owning what the word owned.
    pub(crate) fn into_waker(self) -> Waker {
        let this = ManuallyDrop::new(self);
        match this.held() {
            Held::Task(task) => ManuallyDrop::into_inner(task).into_waker(),
            Held::Main(main) => MainWaker::into_waker(ManuallyDrop::into_inner(main)),
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
            Held::Main(main) => drop(ManuallyDrop::into_inner(main)),
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

    #[test]
    fn block_ons_own_waker_is_stored_as_its_pointer() {
        crate::run(async {
            let waker = std::future::poll_fn(|cx| std::task::Poll::Ready(cx.waker().clone())).await;
            let stored = StoredWaker::new(&waker);
            assert_eq!(stored.0.addr().get() & KIND, MAIN);
            assert!(stored.will_wake(&waker));
            assert!(!StoredWaker::new(Waker::noop()).will_wake(&waker));
            let back = stored.into_waker();
            assert!(back.will_wake(&waker));
            drop(back);
            // A stored copy made inside a poll wakes this future again.
            let mut woken = false;
            std::future::poll_fn(|cx| {
                if woken {
                    return std::task::Poll::Ready(());
                }
                woken = true;
                StoredWaker::new(cx.waker()).into_waker().wake();
                std::task::Poll::Pending
            })
            .await;
        });
    }
}
