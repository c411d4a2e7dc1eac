//! [`ByteBuf`]: the byte queue behind a stream reader's and a stream
//! writer's buffer, and the policy that decides when it holds memory.
//!
//! Bytes are appended at the back and consumed from the front. The queue is
//! one initialised `Vec` with a window of live bytes, so a socket read can
//! go straight into the spare tail and a socket write straight from the
//! live window, with no zero-filling on the hot path:
//!
//! ```text
//!   data: [ consumed … | live bytes … | spare tail … ]
//!          0          start          end          data.len()
//! ```
//!
//! Consuming moves `start`; when the window empties both indices go back to
//! 0. Room at the back is made by sliding the live bytes to the front, which
//! costs at most as much as appending them did, or by growing the `Vec`
//! (at least doubling).
//!
//! # When memory is taken and given back
//!
//! A connection that waits costs no buffer; memory is held only while
//! bytes are in flight, sized to them:
//!
//! ```text
//!   idle ──bytes arrive──▶ burst ──consumed, socket quiet──▶ idle
//!   capacity 0             capacity ≈ live bytes             capacity 0
//!                          (doubling, reused between reads)  (or shrunk to the live bytes)
//! ```
//!
//! * **Taking.** A socket read goes into the buffer's spare tail only if
//!   the buffer already has [`DIRECT_MIN`] bytes of room (it is in the
//!   middle of a burst). Otherwise it goes into a scratch buffer that all
//!   the connections of the thread share (64 KiB, one per thread: a
//!   runtime has one thread, and a fill never waits while it holds the
//!   scratch), and only the bytes that arrived are copied into the
//!   connection's buffer. So a read that finds nothing allocates nothing,
//!   and a 60-byte request takes a 60-byte buffer, not 64 KiB.
//! * **Giving back.** When a read finds the socket empty, the connection is
//!   about to wait for its peer: an empty buffer frees its memory, and one
//!   whose spare room exceeds its live bytes shrinks to fit them. The
//!   writer's queue does the same when its flusher has sent everything or
//!   the socket stops taking bytes. And a buffer above [`IDLE_CAPACITY`]
//!   frees its memory as soon as it empties, so one large message does not
//!   pin memory for the rest of a connection's life.
//!
//! During a burst the buffer keeps its capacity from read to read (no
//! allocation per read), and each shrink copies no more bytes than the
//! growth that made room for them did, so the policy costs O(1) per byte.

use std::cell::RefCell;
use std::task::Poll;

/// The most capacity an emptied buffer keeps while its connection is busy.
const IDLE_CAPACITY: usize = 16 * 1024;

/// The spare room above which a fill reads straight into the buffer
/// instead of through the thread's scratch buffer.
const DIRECT_MIN: usize = 16 * 1024;

/// The size of the scratch buffer, and so of one read through it.
const SCRATCH_LEN: usize = 64 * 1024;

thread_local! {
    /// Where a fill reads when its buffer has no room: shared by every
    /// connection of the thread, allocated on the thread's first fill.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

#[derive(Debug, Default)]
pub(crate) struct ByteBuf {
    data: Vec<u8>,
    start: usize,
    end: usize,
}

impl ByteBuf {
    pub(crate) fn new() -> Self {
        Self::default()
    }

    /// Live bytes.
    pub(crate) fn len(&self) -> usize {
        self.end - self.start
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.start == self.end
    }

    /// The live bytes, oldest first.
    pub(crate) fn as_slice(&self) -> &[u8] {
        &self.data[self.start..self.end]
    }

    /// Drops the `n` oldest bytes.
    ///
    /// # Panics
    ///
    /// If fewer than `n` bytes are live (a bug in the caller).
    pub(crate) fn consume(&mut self, n: usize) {
        assert!(
            n <= self.len(),
            "consuming {n} of {} live bytes",
            self.len()
        );
        self.start += n;
        if self.start == self.end {
            self.start = 0;
            self.end = 0;
            if self.data.len() > IDLE_CAPACITY {
                self.data = Vec::new();
            }
        }
    }

    /// Removes and returns the `n` oldest bytes (`n` at most `len()`).
    pub(crate) fn take(&mut self, n: usize) -> Vec<u8> {
        let taken = self.as_slice()[..n].to_vec();
        self.consume(n);
        taken
    }

    /// Removes and returns every live byte.
    pub(crate) fn take_all(&mut self) -> Vec<u8> {
        self.take(self.len())
    }

    /// Appends `bytes` at the back.
    pub(crate) fn push(&mut self, bytes: &[u8]) {
        if self.data.is_empty() {
            // The common first push: exactly these bytes, no zero-filling.
            self.data = bytes.to_vec();
            self.start = 0;
            self.end = bytes.len();
            return;
        }
        self.reserve(bytes.len());
        self.data[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Lets `read` fill at most `max` bytes of free space and keeps what it
    /// reports as read (`Ready(Ok(n))`); an error keeps nothing. The space
    /// is the buffer's own spare tail if it has [`DIRECT_MIN`] bytes of
    /// room, the thread's scratch buffer otherwise (see the module docs).
    /// `Pending` means the connection is going to wait: the buffer gives
    /// its spare memory back ([`release_spare`](Self::release_spare)).
    pub(crate) fn fill_with<E>(
        &mut self,
        max: usize,
        read: impl FnOnce(&mut [u8]) -> Poll<Result<usize, E>>,
    ) -> Poll<Result<usize, E>> {
        let result = if self.data.len() - self.len() >= DIRECT_MIN {
            self.fill_direct(max, read)
        } else {
            SCRATCH.with(|scratch| match scratch.try_borrow_mut() {
                Ok(mut scratch) => {
                    if scratch.is_empty() {
                        scratch.resize(SCRATCH_LEN, 0);
                    }
                    let len = max.min(SCRATCH_LEN);
                    let result = read(&mut scratch[..len]);
                    if let Poll::Ready(Ok(n)) = &result {
                        self.push(&scratch[..*n]);
                    }
                    result
                }
                // Only if `read` itself filled another buffer, which no
                // socket read does: make room here rather than fail.
                Err(_) => self.fill_direct(max, read),
            })
        };
        if result.is_pending() {
            self.release_spare();
        }
        result
    }

    /// Reads straight into the spare tail, made at least [`DIRECT_MIN`]
    /// bytes long.
    fn fill_direct<E>(
        &mut self,
        max: usize,
        read: impl FnOnce(&mut [u8]) -> Poll<Result<usize, E>>,
    ) -> Poll<Result<usize, E>> {
        self.reserve(DIRECT_MIN);
        let len = max.min(self.data.len() - self.end);
        let result = read(&mut self.data[self.end..self.end + len]);
        if let Poll::Ready(Ok(n)) = &result {
            self.end += n;
        }
        result
    }

    /// Gives memory back while the connection waits: an empty buffer frees
    /// all of it, a buffer with more spare room than live bytes moves them
    /// to an allocation of their size.
    pub(crate) fn release_spare(&mut self) {
        let live = self.len();
        if self.data.len() - live > live {
            self.data = self.as_slice().to_vec();
            self.start = 0;
            self.end = live;
        }
    }

    /// Makes room for `extra` bytes after `end`: slide the live bytes to the
    /// front if that is enough, otherwise grow (at least doubling, so that
    /// appends cost amortised O(1)).
    fn reserve(&mut self, extra: usize) {
        if self.data.len() - self.end >= extra {
            return;
        }
        if self.start > 0 {
            self.data.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.data.len() - self.end >= extra {
                return;
            }
        }
        let needed = self.end + extra;
        self.data.resize(needed.max(2 * self.data.len()), 0);
    }

    /// The bytes the buffer has allocated.
    #[cfg(test)]
    pub(crate) fn capacity(&self) -> usize {
        self.data.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_bytes_in_order_across_slides_and_growth() {
        let mut buf = ByteBuf::new();
        let mut expected = std::collections::VecDeque::new();
        let mut next = 0u8;
        for round in 0..200usize {
            let chunk: Vec<u8> = (0..(round * 37) % 1000)
                .map(|_| {
                    next = next.wrapping_add(1);
                    next
                })
                .collect();
            buf.push(&chunk);
            expected.extend(chunk);
            let take = (round * 53) % (buf.len() + 1);
            let got = buf.take(take);
            let want: Vec<u8> = expected.drain(..take).collect();
            assert_eq!(got, want);
            assert_eq!(buf.as_slice(), expected.make_contiguous());
        }
    }

    #[test]
    fn fill_keeps_only_what_was_read() {
        let mut buf = ByteBuf::new();
        buf.push(b"ab");
        let read = buf.fill_with(8, |spare| {
            spare[..3].copy_from_slice(b"cde");
            Poll::Ready(Ok::<_, ()>(3))
        });
        assert_eq!(read, Poll::Ready(Ok(3)));
        assert_eq!(
            buf.fill_with(8, |_| Poll::<Result<usize, ()>>::Pending),
            Poll::Pending
        );
        assert_eq!(
            buf.fill_with(8, |_| Poll::Ready(Err::<usize, _>("boom"))),
            Poll::Ready(Err("boom"))
        );
        assert_eq!(buf.as_slice(), b"abcde");
    }

    #[test]
    fn an_emptied_large_buffer_gives_its_memory_back() {
        let mut buf = ByteBuf::new();
        buf.push(&vec![7; IDLE_CAPACITY + 1]);
        buf.consume(IDLE_CAPACITY + 1);
        assert_eq!(buf.data.capacity(), 0);
    }

    #[test]
    fn an_idle_fill_allocates_nothing() {
        let mut buf = ByteBuf::new();
        let waited = buf.fill_with(SCRATCH_LEN, |_| Poll::<Result<usize, ()>>::Pending);
        assert!(waited.is_pending());
        assert_eq!(buf.capacity(), 0);
    }

    #[test]
    fn a_fill_keeps_only_what_arrived() {
        let mut buf = ByteBuf::new();
        let read = buf.fill_with(SCRATCH_LEN, |spare| {
            assert_eq!(spare.len(), SCRATCH_LEN);
            spare[..60].fill(b'a');
            Poll::Ready(Ok::<_, ()>(60))
        });
        assert_eq!(read, Poll::Ready(Ok(60)));
        assert_eq!(buf.as_slice(), [b'a'; 60]);
        assert_eq!(buf.capacity(), 60);
    }

    #[test]
    fn a_buffer_with_room_reads_in_place() {
        let mut buf = ByteBuf::new();
        buf.push(&[1; DIRECT_MIN]);
        buf.push(&[2]); // grows to twice DIRECT_MIN
        buf.consume(DIRECT_MIN);
        let capacity = buf.capacity();
        let read = buf.fill_with(SCRATCH_LEN, |spare| {
            // All the room, after the live byte slid to the front.
            assert_eq!(spare.len(), capacity - 1);
            spare[0] = 3;
            Poll::Ready(Ok::<_, ()>(1))
        });
        assert_eq!(read, Poll::Ready(Ok(1)));
        assert_eq!(buf.as_slice(), [2, 3]);
        assert_eq!(buf.capacity(), capacity);
    }

    #[test]
    fn waiting_gives_the_spare_memory_back() {
        let mut buf = ByteBuf::new();
        buf.push(&[1; 1000]);
        buf.push(&[2; 1000]);
        buf.consume(1990);
        assert!(buf
            .fill_with(8, |_| Poll::<Result<usize, ()>>::Pending)
            .is_pending());
        assert_eq!(buf.as_slice(), [2; 10]);
        assert_eq!(buf.capacity(), 10);
        buf.consume(10);
        assert!(buf
            .fill_with(8, |_| Poll::<Result<usize, ()>>::Pending)
            .is_pending());
        assert_eq!(buf.capacity(), 0);
    }
}
