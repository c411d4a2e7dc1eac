//! One heap allocation per task.
//!
//! A spawned future, its join state and the header that wakers share all
//! live in one block, laid out with `repr(C)` so that a pointer to the block
//! is also a pointer to its header, and, knowing only the output type `T`,
//! to its join state:
//!
//! ```text
//!   TaskPtr ──▶ ┌─────────────────────────────┐  ◀── Waker data pointer
//!               │ Header                      │      (refs, flags, id, slot,
//!               │   refs, flags, id, key,     │       runtime, vtable)
//!               │   shared, vtable            │
//!               ├─────────────────────────────┤  ◀── JoinHandle<T> reads here:
//!               │ JoinCell<T>                 │      the offset depends on T only
//!               ├─────────────────────────────┤
//!               │ UnsafeCell<Option<F>>       │  ◀── runtime thread only
//!               └─────────────────────────────┘
//! ```
//!
//! The block is freed when the last [`TaskPtr`] goes: the runtime's slab
//! slot, a `JoinHandle`, or any clone of the task's waker. Only the header
//! knows the concrete future type, through its [`Vtable`].
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
//!   (`JoinCell::complete` drops it at once otherwise), and the handle,
//!   which is `Send` only if the output is, drops it on its own thread.
//!
//! So the memory freed elsewhere holds no future and no output, only the
//! header (thread-safe) and empty slots.

use std::cell::UnsafeCell;
use std::future::Future;
use std::mem::ManuallyDrop;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::{fence, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

use crate::core::Shared;
use crate::join::{JoinCell, JoinError};
use crate::task::{self, TaskId, TaskRef};
use crate::wake_flags::WakeFlags;

/// The thread-safe start of every task block.
#[repr(C)]
pub(crate) struct Header {
    refs: AtomicUsize,
    pub(crate) flags: WakeFlags,
    pub(crate) id: TaskId,
    /// The task's slot in the runtime's slab.
    pub(crate) key: usize,
    pub(crate) shared: Arc<Shared>,
    vtable: &'static Vtable,
}

impl Header {
    fn task_ref(&self) -> TaskRef {
        TaskRef {
            key: self.key,
            id: self.id,
        }
    }

    pub(crate) fn schedule(&self) {
        task::wake(&self.flags, self.task_ref(), &self.shared);
    }

    pub(crate) fn abort(&self) {
        task::abort(&self.flags, self.task_ref(), &self.shared);
    }
}

/// What only the concrete future type knows how to do.
struct Vtable {
    poll: unsafe fn(NonNull<Header>, &mut Context<'_>) -> Poll<()>,
    cancel: unsafe fn(NonNull<Header>),
    dealloc: unsafe fn(NonNull<Header>),
}

/// The part of a block a `JoinHandle<T>` may see: it does not know `F`.
#[repr(C)]
pub(crate) struct JoinView<T> {
    header: Header,
    join: JoinCell<T>,
}

/// The whole block of a task running the future `F`.
#[repr(C)]
struct Block<F: Future> {
    view: JoinView<F::Output>,
    /// Touched only on the runtime's thread (see the module docs).
    future: UnsafeCell<Option<F>>,
}

impl<F: Future> Block<F> {
    const VTABLE: Vtable = Vtable {
        poll: Self::poll,
        cancel: Self::cancel,
        dealloc: Self::dealloc,
    };

    /// # Safety
    ///
    /// `ptr` points to a live `Block<F>`; called on the runtime's thread
    /// only, never re-entered for the same task.
    unsafe fn poll(ptr: NonNull<Header>, cx: &mut Context<'_>) -> Poll<()> {
        // SAFETY: the caller guarantees the block is a live `Block<F>`.
        let block = unsafe { ptr.cast::<Self>().as_ref() };
        // SAFETY: only the runtime's thread touches the future, and one
        // poll or cancel at a time (the caller's contract).
        let slot = unsafe { &mut *block.future.get() };
        let Some(future) = slot.as_mut() else {
            return Poll::Ready(());
        };
        // SAFETY: the future is never moved: it stays in this heap block
        // until it is dropped in place by `*slot = None`.
        let future = unsafe { Pin::new_unchecked(future) };
        let id = block.view.header.id;
        let outcome = match catch_unwind(AssertUnwindSafe(|| future.poll(cx))) {
            Ok(Poll::Pending) => return Poll::Pending,
            Ok(Poll::Ready(value)) => Ok(value),
            Err(payload) => Err(JoinError::panicked(id, payload)),
        };
        // The future goes first, so its destructors have run when the
        // handle learns the outcome.
        drop_future(slot);
        block.view.join.complete(outcome);
        Poll::Ready(())
    }

    /// # Safety
    ///
    /// As for [`Block::poll`].
    unsafe fn cancel(ptr: NonNull<Header>) {
        // SAFETY: the caller guarantees the block is a live `Block<F>`.
        let block = unsafe { ptr.cast::<Self>().as_ref() };
        // SAFETY: runtime thread only, not during a poll of this task.
        let slot = unsafe { &mut *block.future.get() };
        if slot.is_some() {
            drop_future(slot);
            let id = block.view.header.id;
            block.view.join.complete(Err(JoinError::cancelled(id)));
        }
    }

    /// # Safety
    ///
    /// `ptr` points to a `Block<F>` made by [`TaskPtr::allocate`] whose last
    /// reference just went away.
    unsafe fn dealloc(ptr: NonNull<Header>) {
        // SAFETY: the block came from `Box::into_raw` and nobody else can
        // reach it any more; its future and output slots are empty (module
        // docs), so dropping it here, on any thread, drops no `!Send` data.
        drop(unsafe { Box::from_raw(ptr.cast::<Self>().as_ptr()) });
    }
}

/// Drops the future in place; a panicking destructor is contained, as a
/// panicking poll is.
fn drop_future<F>(slot: &mut Option<F>) {
    let _ = catch_unwind(AssertUnwindSafe(|| *slot = None));
}

/// A counted pointer to a task block, like an `Arc` whose type was erased.
pub(crate) struct TaskPtr(NonNull<Header>);

impl TaskPtr {
    /// Allocates the block for `future`, holding one reference.
    pub(crate) fn allocate<F: Future>(
        future: F,
        id: TaskId,
        key: usize,
        shared: Arc<Shared>,
    ) -> Self {
        let block = Box::new(Block {
            view: JoinView {
                header: Header {
                    refs: AtomicUsize::new(1),
                    flags: WakeFlags::default(),
                    id,
                    key,
                    shared,
                    vtable: &Block::<F>::VTABLE,
                },
                join: JoinCell::new(),
            },
            future: UnsafeCell::new(Some(future)),
        });
        // `Block` is `repr(C)` and starts with its header.
        Self(NonNull::from(Box::leak(block)).cast())
    }

    pub(crate) fn header(&self) -> &Header {
        // SAFETY: the block lives at least as long as this reference.
        unsafe { self.0.as_ref() }
    }

    /// The join state, for a handle that knows the output type `T`.
    ///
    /// # Safety
    ///
    /// `T` is the output type of the future this block was made for.
    pub(crate) unsafe fn join<T>(&self) -> &JoinCell<T> {
        // SAFETY: `Block<F>` is `repr(C)` and starts with a
        // `JoinView<F::Output>`, and the caller says `T` is `F::Output`.
        unsafe { &self.0.cast::<JoinView<T>>().as_ref().join }
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
// an `Arc<Shared>`, plain integers) and free the block, which by then holds
// no future and no output (see the module docs). Access to the future is
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
