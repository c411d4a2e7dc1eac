//! One heap allocation per task.
//!
//! A spawned future, its outcome and the header that wakers share all live
//! in one block, laid out with `repr(C)` so that a pointer to the block is
//! also a pointer to its header:
//!
//! ```text
//!   TaskPtr ──▶ ┌─────────────────────────────┐  ◀── Waker data pointer
//!               │ Header (56 bytes)           │      shared with any thread:
//!               │   refs, wake flags,         │      atomics, plain integers,
//!               │   join progress, slot key,  │      the runtime's `Shared`
//!               │   id, shared, vtable,       │      and the handle's waker
//!               │   join waiter               │      behind a lock bit
//!               ├─────────────────────────────┤
//!               │ Stage<F>, a union:          │  ◀── the future: runtime thread
//!               │   the future F while it     │      only; the outcome: handed
//!               │   runs, then its outcome    │      to the JoinHandle
//!               └─────────────────────────────┘
//! ```
//!
//! The block is freed when the last [`TaskPtr`] goes: the runtime's slab
//! slot, a `JoinHandle`, or any clone of the task's waker. Only the header
//! knows the concrete future type, through its [`Vtable`]; a `JoinHandle<T>`
//! knows the output type and takes the outcome through the vtable too.
//!
//! # Why the block is packed
//!
//! A task that waits (on a timer, a socket, a lock) is nothing but its
//! block, a slot in the runtime's slab and whatever it waits in, so with
//! 100 000 sleeping tasks every 16 bytes here is 1.6 MB (the allocator hands
//! out blocks in 16-byte steps). Two choices keep it small:
//!
//! * The future and its outcome never exist at the same time: the future is
//!   dropped before the outcome is stored. So they share the block's tail,
//!   a union as large as the larger of the two, instead of sitting side by
//!   side. Which of them is there follows from the join progress (below).
//! * The small fields share words: the wake flags (2 bytes), the join
//!   progress (1 byte) and the slab key (a `u32`) fill one 8-byte word.
//! * The join waiter (the waker of whoever awaits the `JoinHandle`) is
//!   locked by a one-byte lock beside it (`rendezvous.rs`) in that same
//!   word, where a `Mutex` around it would pad its lock byte to a word.
//!
//! The header is seven words:
//!
//! ```text
//!   refs (8) │ wake flags (2) join lock (1) join progress (1) key (4)
//!   │ id (8) │ shared (8) │ vtable (8) │ join waiter: Option<Waker> (16)
//! ```
//!
//! The allocator adds a word of its own and rounds up to 16 bytes, so
//! what counts is which step a common task lands in. A task that sleeps
//! (`async move { sleep(d).await; .. }`: the captured `Duration`, the
//! three-word `Sleep` and the state byte, 48 bytes) takes a 104-byte block,
//! a 112-byte chunk; one word more in the header or the `Sleep` would make
//! it a 128-byte one, and 100 000 sleeping tasks 1.6 MB larger.
//!
//! # Who may touch the stage
//!
//! * Until the task finishes, the stage holds the future, and only the
//!   runtime's thread touches it (to poll it, or to drop it when the task is
//!   aborted or the runtime shuts down).
//! * The runtime then drops the future in place and hands the outcome over
//!   through the join rendezvous (`rendezvous.rs`): it stores the outcome in the
//!   stage and marks the progress *finished*, under the waiter lock. From
//!   then on the runtime never looks at the stage again.
//! * The `JoinHandle` takes the outcome out of the stage only after it saw
//!   *finished*, set after the store (under the same lock, or with the
//!   acquire load that pairs with setting it). If the handle is gone by the time the
//!   task finishes, the outcome is dropped at once instead of being stored.
//!
//! # Why this is sound across threads
//!
//! The future may not be `Send`, yet wakers and `JoinHandle`s holding
//! pointers to the block may be dropped on any thread, and the last of them
//! frees it. That is fine because the future, and an output nobody will
//! read, are always dropped *in place on the runtime's thread* before the
//! runtime lets go of the task:
//!
//! * the future is dropped when it completes, when the task is aborted, and
//!   when its slab slot is dropped (shutdown), always by the runtime;
//! * an output is stored only while a `JoinHandle` is alive to take it
//!   (otherwise it is dropped at once), and the handle, which is `Send`
//!   only if the output is, takes it or drops it on its own thread.
//!
//! So the memory freed elsewhere holds no future and no output: the stage's
//! fields are `ManuallyDrop`, and freeing the block drops only the header.
//!
//! The reference count, the stage (a facade `UnsafeCell`, whose every
//! access loom tracks) and the join fields go through the runtime's facade;
//! `loom-tests/tests/join_handoff.rs` checks the hand-over between threads.

use std::future::Future;
use std::mem::{ManuallyDrop, MaybeUninit};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use super::facade::atomic::{fence, AtomicU32, AtomicU8, AtomicUsize, Ordering};
use super::facade::{ByteLock, UnsafeCell};
use super::join_error::JoinError;
use super::rendezvous::{Rendezvous, Waiter};
use super::shared::{Remote, Shared};
use super::task_ref::{TaskId, TaskRef};
use super::wake;
use super::wake_flags::WakeFlags;

/// The thread-safe start of every task block: 56 bytes on 64-bit targets.
/// `repr(C)` keeps the fields in this order, which packs the wake flags,
/// the join lock and progress and the slab key into the one word after
/// `refs`.
#[repr(C)]
pub(crate) struct Header {
    refs: AtomicUsize,
    pub(crate) flags: WakeFlags,
    /// Guards `join_waiter` (see `rendezvous.rs`).
    join_lock: ByteLock,
    /// The join rendezvous' progress (see `rendezvous.rs`).
    join_progress: AtomicU8,
    /// The task's slot in the runtime's slab (below `MAIN_KEY`), set when
    /// the runtime adopts the task. An atomic, because a task spawned on
    /// another thread gets it on the runtime's thread; it is read only to
    /// queue the task, after the wake flags said the runtime polled it
    /// (`wake.rs`), so `Relaxed` suffices.
    key: AtomicU32,
    pub(crate) id: TaskId,
    pub(crate) shared: Arc<Shared>,
    vtable: &'static Vtable,
    /// The waker of the task awaiting the `JoinHandle`, guarded by
    /// `join_lock`.
    join_waiter: Waiter,
}

impl Header {
    pub(crate) fn task_ref(&self) -> TaskRef {
        TaskRef::new(self.key.load(Ordering::Relaxed), self.id)
    }

    /// The runtime's thread, adopting the task: its slot in the slab.
    pub(crate) fn set_key(&self, key: u32) {
        self.key.store(key, Ordering::Relaxed);
    }

    #[inline]
    pub(crate) fn schedule(&self) {
        wake::wake(&self.flags, || self.task_ref(), &self.shared);
    }

    pub(crate) fn abort(&self) {
        wake::abort(&self.flags, || self.task_ref(), &self.shared);
    }

    /// Where the task hands its outcome over to its `JoinHandle`.
    pub(crate) fn rendezvous(&self) -> Rendezvous<'_> {
        Rendezvous::new(&self.join_progress, &self.join_lock, &self.join_waiter)
    }
}

/// What only the concrete future type knows how to do.
struct Vtable {
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    cancel: unsafe fn(NonNull<Header>),
    /// Moves the outcome out of the stage into `*mut Result<Output, JoinError>`.
    take_output: unsafe fn(NonNull<Header>, *mut ()),
    dealloc: unsafe fn(NonNull<Header>),
}

/// The future while it runs, then its outcome; never both (module docs).
/// Neither field is dropped with the union: the runtime drops the future,
/// and the handle takes the outcome.
union Stage<F: Future> {
    future: ManuallyDrop<F>,
    output: ManuallyDrop<Result<F::Output, JoinError>>,
}

/// The whole block of a task running the future `F`.
#[repr(C)]
struct Block<F: Future> {
    header: Header,
    stage: UnsafeCell<Stage<F>>,
}

impl<F: Future> Block<F> {
    const VTABLE: Vtable = Vtable {
        poll: Self::poll,
        cancel: Self::cancel,
        take_output: Self::take_output,
        dealloc: Self::dealloc,
    };

    /// # Safety
    ///
    /// `ptr` points to a live `Block<F>`; called on the runtime's thread
    /// only, never re-entered for the same task.
    unsafe fn poll(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the caller guarantees the block is a live `Block<F>`.
        let block = unsafe { ptr.cast::<Self>().as_ref() };
        if block.header.rendezvous().is_finished() {
            return Poll::Ready(());
        }
        let polled = block.stage.with_mut(|stage| {
            // SAFETY: not finished, so the stage holds the future, which only
            // the runtime's thread touches, one poll or cancel at a time (the
            // caller's contract). The future is never moved: it stays in this
            // heap block until it is dropped in place by `finish`.
            let future = unsafe { Pin::new_unchecked(&mut *(*stage).future) };
            catch_unwind(AssertUnwindSafe(|| future.poll(cx)))
        });
        let outcome = match polled {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(JoinError::panicked(block.header.id, payload)),
        };
        // SAFETY: on the runtime's thread, and the future is still there.
        unsafe { block.finish(outcome) };
        Poll::Ready(())
    }

    /// # Safety
    ///
    /// As for [`Block::poll`].
    unsafe fn cancel(ptr: NonNull<Header>) {
        // SAFETY: the caller guarantees the block is a live `Block<F>`.
        let block = unsafe { ptr.cast::<Self>().as_ref() };
        if !block.header.rendezvous().is_finished() {
            let cancelled = Err(JoinError::cancelled(block.header.id));
            // SAFETY: on the runtime's thread (the caller's contract), and
            // not finished, so the future is still there.
            unsafe { block.finish(cancelled) };
        }
    }

    /// Drops the future, then hands `outcome` over in the memory it held.
    /// The future goes first, so its destructors have run when the handle
    /// learns the outcome.
    ///
    /// # Safety
    ///
    /// On the runtime's thread, not during a poll of this task, and only
    /// while the stage holds the future (the task has not finished).
    unsafe fn finish(&self, outcome: Result<F::Output, JoinError>) {
        // SAFETY: the caller says the future is there; nothing uses it
        // after this, the stage's memory now passes to the outcome.
        self.stage
            .with_mut(|stage| unsafe { drop_future(&mut (*stage).future) });
        self.header.rendezvous().complete(outcome, |outcome| {
            // SAFETY: the future is gone, and the handle looks at the stage
            // only once `complete` has marked it finished, after this store.
            self.stage
                .with_mut(|stage| unsafe { (*stage).output = ManuallyDrop::new(outcome) })
        });
    }

    /// # Safety
    ///
    /// `ptr` points to a live `Block<F>`; `out` is valid for writing a
    /// `Result<F::Output, JoinError>`; the stage holds an outcome that
    /// nobody else touches and that is never taken again (the rendezvous
    /// lets the handle take it once, after the task finished).
    unsafe fn take_output(ptr: NonNull<Header>, out: *mut ()) {
        // SAFETY: the caller guarantees the block is a live `Block<F>`.
        let block = unsafe { ptr.cast::<Self>().as_ref() };
        // SAFETY: the stage holds the outcome, which this moves out once;
        // `out` has room for it (the caller's contract).
        block.stage.with_mut(|stage| unsafe {
            let output = ManuallyDrop::take(&mut (*stage).output);
            out.cast::<Result<F::Output, JoinError>>().write(output);
        });
    }

    /// # Safety
    ///
    /// `ptr` points to a `Block<F>` made by [`TaskPtr::allocate`] whose last
    /// reference just went away.
    unsafe fn dealloc(ptr: NonNull<Header>) {
        // SAFETY: the block came from `Box::into_raw` and nobody else can
        // reach it any more; its stage holds neither future nor output
        // (module docs) and its fields are `ManuallyDrop` anyway, so
        // dropping it here, on any thread, drops no `!Send` data.
        drop(unsafe { Box::from_raw(ptr.cast::<Self>().as_ptr()) });
    }
}

/// Drops the future in place; a panicking destructor is contained, as a
/// panicking poll is.
///
/// # Safety
///
/// `future` holds a live value that is never used again.
unsafe fn drop_future<F>(future: &mut ManuallyDrop<F>) {
    // SAFETY: the caller's contract.
    let _ = catch_unwind(AssertUnwindSafe(|| unsafe { ManuallyDrop::drop(future) }));
}

/// A counted pointer to a task block, like an `Arc` whose type was erased.
/// One pointer wide (`repr(transparent)`), so that an untyped word made by
/// [`TaskPtr::into_erased`] can be borrowed as one again.
#[repr(transparent)]
pub(crate) struct TaskPtr(NonNull<Header>);

impl TaskPtr {
    /// Allocates the block for `future`, holding one reference; its slot
    /// in the runtime's slab is set when the runtime adopts it.
    pub(crate) fn allocate<F: Future>(future: F, id: TaskId, shared: Arc<Shared>) -> Self {
        let block = Box::new(Block {
            header: Header {
                refs: AtomicUsize::new(1),
                flags: WakeFlags::default(),
                join_lock: ByteLock::new(),
                join_progress: AtomicU8::new(0),
                key: AtomicU32::new(0),
                id,
                shared,
                vtable: &Block::<F>::VTABLE,
                join_waiter: Waiter::new(),
            },
            stage: UnsafeCell::new(Stage {
                future: ManuallyDrop::new(future),
            }),
        });
        // `Block` is `repr(C)` and starts with its header.
        Self(NonNull::from(Box::leak(block)).cast())
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the block lives at least as long as this reference.
        unsafe { self.0.as_ref() }
    }

    /// Moves the outcome out of the block, for the `JoinHandle`.
    ///
    /// # Safety
    ///
    /// `T` is the output type of the future this block was made for, and
    /// the caller is the task's handle, called by the rendezvous to take the
    /// outcome (once, after the task finished: see the module docs).
    pub(crate) unsafe fn take_output<T>(&self) -> Result<T, JoinError> {
        let mut out = MaybeUninit::<Result<T, JoinError>>::uninit();
        // SAFETY: `out` has room for a `Result<F::Output, JoinError>` since
        // `T` is `F::Output`; the rest is the caller's contract.
        unsafe { (self.header().vtable.take_output)(self.0, out.as_mut_ptr().cast()) };
        // SAFETY: `take_output` wrote the outcome.
        unsafe { out.assume_init() }
    }

    /// Polls the future once; `Ready` once it has completed (its outcome is
    /// then in the join cell and the future is dropped).
    ///
    /// # Safety
    ///
    /// On the runtime's thread only, and not from inside a poll of the same
    /// task.
    pub(crate) unsafe fn poll(&self, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the vtable was made for this block; the caller keeps the
        // thread and re-entrancy contract.
        unsafe { (self.header().vtable.poll)(self.0, cx) }
    }

    /// Drops the future in place and reports "cancelled", unless it has
    /// completed already.
    ///
    /// # Safety
    ///
    /// As for [`TaskPtr::poll`].
    pub(crate) unsafe fn cancel(&self) {
        // SAFETY: as for `poll`.
        unsafe { (self.header().vtable.cancel)(self.0) }
    }

    /// A copy of this pointer that owns no reference, for one poll: nothing
    /// is counted, and nothing is released when it goes.
    ///
    /// # Safety
    ///
    /// A counted reference (`self`, held by the slab) outlives every use of
    /// the copy and of wakers borrowed from it.
    pub(crate) unsafe fn unowned(&self) -> ManuallyDrop<TaskPtr> {
        ManuallyDrop::new(TaskPtr(self.0))
    }

    /// A waker that borrows this pointer's reference instead of taking one:
    /// polling with it costs no reference count; a future that keeps the
    /// waker clones it, and the clone takes its own reference.
    ///
    /// # Safety
    ///
    /// The returned waker is not used after `self`'s reference is gone.
    pub(crate) unsafe fn borrowed_waker(&self) -> ManuallyDrop<Waker> {
        let raw = RawWaker::new(self.0.as_ptr() as *const (), &WAKER_VTABLE);
        // SAFETY: the vtable's clone takes a new reference and `ManuallyDrop`
        // keeps `drop_waker` from releasing the one this waker borrows.
        ManuallyDrop::new(unsafe { Waker::from_raw(raw) })
    }

    /// The task whose own waker `waker` is, with a reference of its own;
    /// `None` for any other waker.
    pub(crate) fn of_waker(waker: &Waker) -> Option<TaskPtr> {
        if !std::ptr::eq(waker.vtable(), &WAKER_VTABLE) {
            return None;
        }
        // SAFETY: a waker with this vtable owns a reference to the block its
        // data points to, alive while `waker` is; the copy is not dropped.
        let task = ManuallyDrop::new(unsafe { TaskPtr::from_raw(waker.data()) });
        Some((*task).clone())
    }

    /// This task's waker, taking over this pointer's reference.
    pub(crate) fn into_waker(self) -> Waker {
        let raw = RawWaker::new(self.into_raw(), &WAKER_VTABLE);
        // SAFETY: the vtable's functions expect a data pointer that owns one
        // reference to a live block, which `into_raw` hands over.
        unsafe { Waker::from_raw(raw) }
    }

    /// Whether `waker` is this task's own waker (or a clone of it): then the
    /// code holding it runs inside this very task.
    pub(crate) fn is_own_waker(&self, waker: &Waker) -> bool {
        // SAFETY: the borrowed waker is only compared, while `self` lives.
        let own = unsafe { self.borrowed_waker() };
        waker.will_wake(&own)
    }

    /// Hands a task spawned on this thread to its runtime's remote queue,
    /// which adopts it on its own thread (`shared.rs`); `false`, and
    /// nothing sent, if that runtime has shut down.
    ///
    /// # Safety
    ///
    /// The task was never polled, and its future may be moved to, and
    /// dropped on, the runtime's thread: it is `Send`, or is an async block
    /// that has captured only `Send` values.
    pub(crate) unsafe fn send_to_runtime(&self) -> bool {
        // The task counts as queued from now on, so a wake or an abort
        // before the runtime adopts it queues nothing (see `wake.rs`); the
        // runtime polls it once adopted.
        self.header().flags.wake_remote();
        // The queue's item takes over the clone's reference.
        let sent = Remote::Spawn(self.clone().into_erased());
        if let Err(Remote::Spawn(rejected)) = self.header().shared.remote.try_push(sent) {
            // SAFETY: the reference made just above, handed back.
            drop(unsafe { TaskPtr::from_remote(rejected) });
            return false;
        }
        true
    }

    /// Takes back the reference of a [`Remote::Spawn`] item.
    ///
    /// # Safety
    ///
    /// `sent` comes from [`TaskPtr::send_to_runtime`], and is taken back once.
    pub(crate) unsafe fn from_remote(sent: NonNull<()>) -> Self {
        // SAFETY: `send_to_runtime` made `sent` with `into_erased`.
        unsafe { Self::from_erased(sent) }
    }

    /// Gives up the pointer as an untyped word that keeps its reference,
    /// for an owner that stores it as a word of its own (a remote queue's
    /// item, a `JoinHandle`); [`TaskPtr::from_erased`] takes it back.
    pub(crate) fn into_erased(self) -> NonNull<()> {
        ManuallyDrop::new(self).0.cast()
    }

    /// Takes back the reference of a word made by [`TaskPtr::into_erased`].
    ///
    /// # Safety
    ///
    /// `erased` came from `into_erased`, and is taken back once.
    pub(crate) unsafe fn from_erased(erased: NonNull<()>) -> Self {
        Self(erased.cast())
    }

    /// Borrows a word made by [`TaskPtr::into_erased`] as the pointer it was.
    ///
    /// # Safety
    ///
    /// `erased` came from `into_erased` and still holds its reference.
    pub(crate) unsafe fn borrow_erased(erased: &NonNull<()>) -> &TaskPtr {
        // SAFETY: `TaskPtr` is a `repr(transparent)` `NonNull<Header>`, laid
        // out as any `NonNull`; the word is a block's pointer that owns a
        // reference (the caller's contract), as a `TaskPtr` does.
        unsafe { &*(erased as *const NonNull<()>).cast::<TaskPtr>() }
    }

    fn into_raw(self) -> *const () {
        let ptr = self.0.as_ptr() as *const ();
        std::mem::forget(self);
        ptr
    }

    /// # Safety
    ///
    /// `ptr` came from [`TaskPtr::into_raw`] and its reference is handed over.
    unsafe fn from_raw(ptr: *const ()) -> Self {
        // SAFETY: `into_raw` gave a non-null pointer to a live block.
        Self(unsafe { NonNull::new_unchecked(ptr as *mut Header) })
    }
}

impl Clone for TaskPtr {
    fn clone(&self) -> Self {
        // Relaxed, as in `Arc`: a new reference is made from an existing one,
        // which already keeps the block alive.
        self.header().refs.fetch_add(1, Ordering::Relaxed);
        Self(self.0)
    }
}

impl Drop for TaskPtr {
    fn drop(&mut self) {
        if self.header().refs.fetch_sub(1, Ordering::Release) != 1 {
            return;
        }
        // Everything other threads did through their references happens
        // before the block is freed (the same fence `Arc` uses).
        fence(Ordering::Acquire);
        let dealloc = self.header().vtable.dealloc;
        // SAFETY: this was the last reference to a block of the vtable's type.
        unsafe { dealloc(self.0) }
    }
}

// SAFETY: through a `TaskPtr` other threads touch only the header (atomics,
// an `Arc<Shared>`, plain integers, a waker behind a lock), take the
// outcome (through `take_output`, whose caller is the task's `JoinHandle`,
// `Send` only if the output is) and free the block, which by then holds no
// future and no output (see the module docs). Access to the future is
// behind `unsafe fn`s whose contract keeps it on the runtime's thread.
unsafe impl Send for TaskPtr {}
// SAFETY: as above; `&TaskPtr` only gives `&Header`, which is `Sync`.
unsafe impl Sync for TaskPtr {}

static WAKER_VTABLE: RawWakerVTable =
    RawWakerVTable::new(clone_waker, wake, wake_by_ref, drop_waker);

/// # Safety
///
/// `ptr` is a waker's data pointer: it owns one reference to a live block.
unsafe fn clone_waker(ptr: *const ()) -> RawWaker {
    // SAFETY: the caller's reference keeps the block alive while we take
    // another one; `forget` keeps the caller's.
    let task = ManuallyDrop::new(unsafe { TaskPtr::from_raw(ptr) });
    RawWaker::new((*task).clone().into_raw(), &WAKER_VTABLE)
}

/// # Safety
///
/// As for [`clone_waker`]; the reference is consumed.
unsafe fn wake(ptr: *const ()) {
    // SAFETY: takes over the waker's reference and drops it at the end.
    let task = unsafe { TaskPtr::from_raw(ptr) };
    task.header().schedule();
}

/// # Safety
///
/// As for [`clone_waker`].
unsafe fn wake_by_ref(ptr: *const ()) {
    // SAFETY: the waker's reference keeps the block alive; only the header
    // is touched.
    let header = unsafe { &*(ptr as *const Header) };
    header.schedule();
}

/// # Safety
///
/// As for [`clone_waker`]; the reference is consumed.
unsafe fn drop_waker(ptr: *const ()) {
    // SAFETY: takes over the waker's reference and drops it.
    drop(unsafe { TaskPtr::from_raw(ptr) });
}

/// The size of the block `spawn(future)` allocates, for the size tests
/// here and in the layers above (a sleeping task's, in `time/sleep.rs`).
#[cfg(all(test, not(loom), target_pointer_width = "64"))]
pub(crate) fn block_size<F: Future>(_: &F) -> usize {
    std::mem::size_of::<Block<F>>()
}

#[cfg(all(test, not(loom), target_pointer_width = "64"))]
mod tests {
    use super::*;
    use std::mem::size_of;

    /// The header, then room for the larger of `a` and `b` bytes, padded to
    /// the header's alignment.
    fn header_and_larger_of(a: usize, b: usize) -> usize {
        56 + a.max(b).next_multiple_of(8)
    }

    #[test]
    fn a_header_takes_56_bytes() {
        assert_eq!(size_of::<Header>(), 56);
    }

    #[test]
    fn a_small_task_takes_72_bytes() {
        // The stage is the outcome: a `u64` or a two-word `JoinError`, told
        // apart through the error's never-zero task id.
        assert_eq!(size_of::<JoinError>(), 16);
        assert_eq!(size_of::<Result<u64, JoinError>>(), 16);
        assert_eq!(block_size(&async { 6u64 * 7 }), 72);
    }

    #[test]
    fn the_future_and_its_output_share_the_block() {
        // A large future with a small output, and the other way round: the
        // stage is as large as the larger of the two, not their sum.
        let big_future = async {
            let buffer = [1u8; 256];
            // An await point, so the buffer is part of the future.
            std::future::ready(()).await;
            buffer.len()
        };
        let output = size_of::<Result<usize, JoinError>>();
        assert!(size_of_val(&big_future) > output);
        assert_eq!(
            block_size(&big_future),
            header_and_larger_of(size_of_val(&big_future), output)
        );

        let big_output = async { [1u8; 256] };
        let output = size_of::<Result<[u8; 256], JoinError>>();
        assert!(size_of_val(&big_output) < output);
        assert_eq!(
            block_size(&big_output),
            header_and_larger_of(size_of_val(&big_output), output)
        );
    }
}
