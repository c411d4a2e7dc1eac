//! Bounded multi-producer queues: weft's `Queue`, tokio's `mpsc` and
//! async-channel.
//!
//! The adapters are marker types, because the libraries disagree on shape:
//! weft's queue is one shared object, tokio's and async-channel's are a
//! sender half and a receiver half. [`BoundedQueue::bounded`] hands out the
//! two halves in every case (for weft both are the same `Arc<Queue>`).
//!
//! tokio's `mpsc` has exactly one receiver. Where several consumers share
//! it (the mpmc workload), [`LockedMpsc`] puts the receiver behind a
//! `tokio::sync::Mutex`, the usual way to share it: a consumer holds the
//! lock while it waits for an item, so the others queue on the lock.
//! [`Mpsc`] is the plain, unshared receiver, for one consumer.

use std::future::Future;
use std::sync::Arc;

/// A bounded FIFO queue of `u64` with async `send` and `recv`.
///
/// Workloads that need several consumers also ask for
/// `Self::Receiver: Clone`.
///
/// ```
/// use weft_benches::adapters::{BoundedQueue, WeftQueue};
///
/// let (sender, mut receiver) = WeftQueue::bounded(4);
/// futures_lite::future::block_on(async {
///     WeftQueue::send(&sender, 7).await;
///     assert_eq!(WeftQueue::recv(&mut receiver).await, 7);
/// });
/// ```
pub trait BoundedQueue: 'static {
    /// The name the report prints.
    const NAME: &'static str;

    /// The sending half; clone it for more producers.
    type Sender: Clone + Send + Sync + 'static;

    /// The receiving half.
    type Receiver: Send + 'static;

    /// A queue holding at most `capacity` items.
    fn bounded(capacity: usize) -> (Self::Sender, Self::Receiver);

    /// Waits for room, then enqueues `item`.
    fn send(sender: &Self::Sender, item: u64) -> impl Future<Output = ()> + Send + '_;

    /// Waits for an item and dequeues it.
    fn recv(receiver: &mut Self::Receiver) -> impl Future<Output = u64> + Send + '_;
}

/// weft's `Queue<u64>`, shared through an `Arc` by producers and consumers.
#[derive(Debug)]
pub struct WeftQueue;

impl BoundedQueue for WeftQueue {
    const NAME: &'static str = "weft Queue";
    type Sender = Arc<weft_primitives::Queue<u64>>;
    type Receiver = Arc<weft_primitives::Queue<u64>>;

    fn bounded(capacity: usize) -> (Self::Sender, Self::Receiver) {
        let queue = Arc::new(weft_primitives::Queue::new(capacity));
        (queue.clone(), queue)
    }

    async fn send(sender: &Self::Sender, item: u64) {
        sender
            .put(item)
            .await
            .expect("the benchmark never shuts the queue down");
    }

    async fn recv(receiver: &mut Self::Receiver) -> u64 {
        receiver
            .get()
            .await
            .expect("the benchmark never shuts the queue down")
    }
}

/// tokio's bounded `mpsc` channel with its single, unshared receiver.
#[derive(Debug)]
pub struct Mpsc;

impl BoundedQueue for Mpsc {
    const NAME: &'static str = "tokio mpsc";
    type Sender = tokio::sync::mpsc::Sender<u64>;
    type Receiver = tokio::sync::mpsc::Receiver<u64>;

    fn bounded(capacity: usize) -> (Self::Sender, Self::Receiver) {
        tokio::sync::mpsc::channel(capacity)
    }

    async fn send(sender: &Self::Sender, item: u64) {
        sender
            .send(item)
            .await
            .expect("the benchmark keeps the receiver alive");
    }

    async fn recv(receiver: &mut Self::Receiver) -> u64 {
        receiver
            .recv()
            .await
            .expect("the benchmark keeps a sender alive")
    }
}

/// tokio's bounded `mpsc` channel with the receiver shared by several
/// consumers behind a `tokio::sync::Mutex`.
#[derive(Debug)]
pub struct LockedMpsc;

impl BoundedQueue for LockedMpsc {
    const NAME: &'static str = "tokio mpsc + Mutex<Receiver>";
    type Sender = tokio::sync::mpsc::Sender<u64>;
    type Receiver = Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<u64>>>;

    fn bounded(capacity: usize) -> (Self::Sender, Self::Receiver) {
        let (sender, receiver) = tokio::sync::mpsc::channel(capacity);
        (sender, Arc::new(tokio::sync::Mutex::new(receiver)))
    }

    fn send(sender: &Self::Sender, item: u64) -> impl Future<Output = ()> + Send + '_ {
        Mpsc::send(sender, item)
    }

    async fn recv(receiver: &mut Self::Receiver) -> u64 {
        let mut receiver = receiver.lock().await;
        Mpsc::recv(&mut receiver).await
    }
}

/// async-channel's bounded MPMC channel (smol's channel).
#[derive(Debug)]
pub struct AsyncChannel;

impl BoundedQueue for AsyncChannel {
    const NAME: &'static str = "async-channel";
    type Sender = async_channel::Sender<u64>;
    type Receiver = async_channel::Receiver<u64>;

    fn bounded(capacity: usize) -> (Self::Sender, Self::Receiver) {
        async_channel::bounded(capacity)
    }

    async fn send(sender: &Self::Sender, item: u64) {
        sender
            .send(item)
            .await
            .expect("the benchmark keeps a receiver alive");
    }

    async fn recv(receiver: &mut Self::Receiver) -> u64 {
        receiver
            .recv()
            .await
            .expect("the benchmark keeps a sender alive")
    }
}
