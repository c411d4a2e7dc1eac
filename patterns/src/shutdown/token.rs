//! [`CancellationToken`]: a cheap, cloneable "please stop" signal that forms
//! a tree.
//!
//! # Algorithm
//!
//! Every token is a handle on a node. Clones share the node; a
//! [child](CancellationToken::child_token) gets a node of its own, linked
//! under its parent's:
//!
//! ```text
//!   root node ── cancelled: Event
//!     │ children: { 0: Weak(child A), 1: Weak(child B) }
//!     ├── child A ── parent: (Arc(root), key 0)
//!     │     └── grandchild ── parent: (Arc(A), key 0)
//!     └── child B ── parent: (Arc(root), key 1)
//! ```
//!
//! * The flag is a weft [`Event`] that is set once and never cleared:
//!   `is_cancelled` is one atomic load, and [`cancelled`](CancellationToken::cancelled)
//!   is the event's `wait`, with its FIFO of waiters and its cancel safety.
//! * `cancel` sets the node's event, then takes the node's whole child list
//!   and cancels those nodes the same way, with an explicit work list
//!   rather than recursion, so a deep chain cannot overflow the stack.
//!   Cancelling a child never touches its parent.
//! * A parent holds only `Weak` links to its children, and a node unlinks
//!   itself from its parent when its last handle goes away. So creating
//!   and dropping child tokens in a loop (one per request, say) does not
//!   grow the parent. A child holds its parent alive: a parent whose
//!   handles are all gone can still be cancelled through its own parent.
//!
//! Why a child created while its parent is being cancelled is never missed:
//! `cancel` sets the event *before* it locks the node to take the children,
//! and `child_token` reads the event *while holding* that lock. Either the
//! child was linked before `cancel` took the lock (and `cancel` finds it), or
//! `child_token` locked after, saw the event set, and creates the child
//! cancelled.
//!
//! No lock is held while another is taken: `cancel` releases a node's lock
//! before it cancels the children, and a node that unlinks itself locks only
//! its parent. Locks are held for a few instructions, never across an await.
//!
//! # Cancellation guarantee
//!
//! Dropping a [`WaitForCancellation`] (or a
//! [`run_until_cancelled`](CancellationToken::run_until_cancelled) future)
//! only gives up its place among the event's waiters; the token is not
//! changed and no other waiter is affected. Dropping a token never cancels
//! anything, except a [`DropGuard`], whose whole purpose is to.
//!
//! Compared with tokio-util's `CancellationToken`: the same operations
//! (`cancel`, `is_cancelled`, `cancelled`, `cancelled_owned`, `child_token`,
//! `drop_guard`, `run_until_cancelled`), built on a weft `Event`.

use std::collections::HashMap;
use std::fmt;
use std::future::{poll_fn, Future};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::Poll;

use weft_primitives::{Event, EventWait};

/// A signal that asks work to stop, shared by cloning and arranged in a
/// tree: cancelling a token cancels its children, never its parent.
///
/// It is `Send + Sync`, costs one allocation per node (clones share it), and
/// is cancelled at most once: a cancelled token stays cancelled.
///
/// ```
/// use weft_patterns::shutdown::CancellationToken;
///
/// let rt = weft_runtime::Builder::new().start_paused(true).build();
/// rt.block_on(async {
///     let root = CancellationToken::new();
///     let request = root.child_token();
///     let worker = weft_runtime::spawn({
///         let request = request.clone();
///         async move {
///             request.cancelled().await;
///             "stopped"
///         }
///     });
///     root.cancel(); // reaches the child, and the worker waiting on it
///     assert!(request.is_cancelled());
///     assert_eq!(worker.await.unwrap(), "stopped");
/// });
/// ```
#[derive(Clone)]
pub struct CancellationToken {
    node: Arc<Node>,
}

/// The state that every clone of one token shares.
struct Node {
    /// Set once, by `cancel`; never cleared.
    cancelled: Event,
    links: Mutex<Links>,
}

struct Links {
    /// `None` for a root token.
    parent: Option<ParentLink>,
    /// The live children, by the key each was linked under. Emptied by
    /// `cancel`: a cancelled node has nothing left to propagate.
    children: HashMap<u64, Weak<Node>>,
    next_key: u64,
}

struct ParentLink {
    node: Arc<Node>,
    /// This node's key in the parent's `children`.
    key: u64,
}

impl Node {
    fn new(parent: Option<ParentLink>) -> Self {
        Node {
            cancelled: Event::new(),
            links: Mutex::new(Links {
                parent,
                children: HashMap::new(),
                next_key: 0,
            }),
        }
    }

    fn links(&self) -> MutexGuard<'_, Links> {
        // The critical sections cannot panic half-way; a poisoned lock only
        // means a panic happened elsewhere while it was held.
        self.links.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        let links = self.links.get_mut().unwrap_or_else(PoisonError::into_inner);
        if let Some(parent) = links.parent.take() {
            parent.node.links().children.remove(&parent.key);
            // `parent` is dropped here, after its lock was released.
        }
    }
}

impl CancellationToken {
    /// A new root token, not cancelled.
    ///
    /// ```
    /// let token = weft_patterns::shutdown::CancellationToken::new();
    /// assert!(!token.is_cancelled());
    /// ```
    pub fn new() -> Self {
        CancellationToken {
            node: Arc::new(Node::new(None)),
        }
    }

    /// A new token that is cancelled when this one is (and already cancelled
    /// if this one is). Cancelling the child leaves this token alone.
    ///
    /// ```
    /// use weft_patterns::shutdown::CancellationToken;
    ///
    /// let parent = CancellationToken::new();
    /// let child = parent.child_token();
    /// child.cancel();
    /// assert!(!parent.is_cancelled());
    /// let other = parent.child_token();
    /// parent.cancel();
    /// assert!(other.is_cancelled());
    /// ```
    pub fn child_token(&self) -> CancellationToken {
        let mut links = self.node.links();
        // Read under the lock that `cancel` takes after setting the event:
        // see the module docs for why no child is missed.
        if self.node.cancelled.is_set() {
            drop(links);
            let child = CancellationToken::new();
            child.node.cancelled.set();
            return child;
        }
        let key = links.next_key;
        links.next_key += 1;
        let child = Arc::new(Node::new(Some(ParentLink {
            node: self.node.clone(),
            key,
        })));
        links.children.insert(key, Arc::downgrade(&child));
        CancellationToken { node: child }
    }

    /// Cancels this token and all its descendants, and wakes every task
    /// waiting in [`cancelled`](Self::cancelled) on any of them. Cancelling
    /// again does nothing.
    ///
    /// ```
    /// let token = weft_patterns::shutdown::CancellationToken::new();
    /// token.cancel();
    /// token.cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn cancel(&self) {
        let mut work = vec![self.node.clone()];
        while let Some(node) = work.pop() {
            if node.cancelled.is_set() {
                // Already cancelled, so its children were taken care of then.
                continue;
            }
            node.cancelled.set();
            let children = std::mem::take(&mut node.links().children);
            work.extend(children.values().filter_map(Weak::upgrade));
        }
    }

    /// Whether the token was cancelled (one atomic load).
    ///
    /// ```
    /// let token = weft_patterns::shutdown::CancellationToken::new();
    /// assert!(!token.is_cancelled());
    /// token.clone().cancel();
    /// assert!(token.is_cancelled());
    /// ```
    pub fn is_cancelled(&self) -> bool {
        self.node.cancelled.is_set()
    }

    /// Waits until the token is cancelled; completes at once if it is.
    ///
    /// Cancel-safe: dropping the future only gives up its own place.
    ///
    /// ```
    /// let token = weft_patterns::shutdown::CancellationToken::new();
    /// token.cancel();
    /// weft_runtime::run(token.cancelled());
    /// ```
    pub fn cancelled(&self) -> WaitForCancellation<'_> {
        self.node.cancelled.wait()
    }

    /// Like [`cancelled`](Self::cancelled), but the future owns the token,
    /// so it can be moved into a spawned task or stored.
    ///
    /// ```
    /// let token = weft_patterns::shutdown::CancellationToken::new();
    /// let waiting = token.clone().cancelled_owned();
    /// token.cancel();
    /// weft_runtime::run(waiting);
    /// ```
    pub async fn cancelled_owned(self) {
        self.cancelled().await
    }

    /// Runs `future` until it completes (`Some(output)`) or the token is
    /// cancelled (`None`; the future is dropped then, its destructors run).
    ///
    /// Cancellation is checked first at every poll: once the token is
    /// cancelled the future is not polled again, even if it would have been
    /// ready.
    ///
    /// ```
    /// use std::time::Duration;
    /// use weft_patterns::shutdown::CancellationToken;
    ///
    /// let rt = weft_runtime::Builder::new().start_paused(true).build();
    /// rt.block_on(async {
    ///     let token = CancellationToken::new();
    ///     assert_eq!(token.run_until_cancelled(async { 7 }).await, Some(7));
    ///     let canceller = token.clone();
    ///     weft_runtime::spawn(async move {
    ///         weft_runtime::sleep(Duration::from_secs(1)).await;
    ///         canceller.cancel();
    ///     });
    ///     let slow = weft_runtime::sleep(Duration::from_secs(60));
    ///     assert_eq!(token.run_until_cancelled(slow).await, None);
    /// });
    /// ```
    pub async fn run_until_cancelled<F: Future>(&self, future: F) -> Option<F::Output> {
        let mut cancelled = pin!(self.cancelled());
        let mut future = pin!(future);
        poll_fn(|cx| {
            if cancelled.as_mut().poll(cx).is_ready() {
                return Poll::Ready(None);
            }
            future.as_mut().poll(cx).map(Some)
        })
        .await
    }

    /// A guard that cancels this token when it is dropped (unless
    /// [disarmed](DropGuard::disarm)): ties a token to a scope.
    ///
    /// ```
    /// let token = weft_patterns::shutdown::CancellationToken::new();
    /// {
    ///     let _guard = token.clone().drop_guard();
    /// }
    /// assert!(token.is_cancelled());
    /// ```
    pub fn drop_guard(self) -> DropGuard {
        DropGuard { token: Some(self) }
    }
}

impl Default for CancellationToken {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for CancellationToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CancellationToken")
            .field("is_cancelled", &self.is_cancelled())
            .finish()
    }
}

/// The future returned by [`CancellationToken::cancelled`]; completes once
/// the token is cancelled.
///
/// ```
/// use weft_patterns::shutdown::{CancellationToken, WaitForCancellation};
///
/// let token = CancellationToken::new();
/// let wait: WaitForCancellation<'_> = token.cancelled();
/// token.cancel();
/// weft_runtime::run(wait);
/// ```
pub type WaitForCancellation<'a> = EventWait<'a>;

/// Cancels its token when dropped; made by [`CancellationToken::drop_guard`].
///
/// ```
/// let token = weft_patterns::shutdown::CancellationToken::new();
/// let guard = token.clone().drop_guard();
/// let token_back = guard.disarm(); // keeps the token alive, uncancelled
/// assert!(!token_back.is_cancelled());
/// ```
#[derive(Debug)]
pub struct DropGuard {
    /// `None` once disarmed.
    token: Option<CancellationToken>,
}

impl DropGuard {
    /// Gives the token back without cancelling it.
    pub fn disarm(mut self) -> CancellationToken {
        self.token
            .take()
            .expect("a DropGuard holds its token until disarmed or dropped")
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if let Some(token) = self.token.take() {
            token.cancel();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::CancellationToken;

    #[test]
    fn dropped_children_unlink_themselves() {
        let root = CancellationToken::new();
        for _ in 0..100 {
            let child = root.child_token();
            let _grandchild = child.child_token();
        }
        assert!(root.node.links().children.is_empty());

        let kept = root.child_token();
        assert_eq!(root.node.links().children.len(), 1);
        root.cancel();
        assert!(
            root.node.links().children.is_empty(),
            "a cancelled node lets go of its children"
        );
        assert!(kept.is_cancelled());
    }
}
