//! [`ByteBuf`]: the byte queue behind a stream reader's and a stream
//! writer's buffer.
//!
//! Bytes are appended at the back and consumed from the front. The queue is
//! one initialised `Vec` with a window of live bytes, so a socket read goes
//! straight into the spare tail and a socket write straight from the live
//! window, with no copy and no zero-filling on the hot path:
//!
//! ```text
//!   data: [ consumed … | live bytes … | spare tail … ]
//!          0          start          end          data.len()
//! ```
//!
//! Consuming moves `start`; when the window empties both indices go back to
//! 0. Room at the back is made by sliding the live bytes to the front, which
//! costs at most as much as appending them did, or by growing the `Vec`.
//! A queue that empties while holding more than [`IDLE_CAPACITY`] gives its
//! memory back, so one large message does not pin memory for the rest of a
//! connection's life, and an idle connection holds at most 16 KiB per
//! buffer.

use std::task::Poll;

/// The most capacity an empty buffer keeps.
const IDLE_CAPACITY: usize = 16 * 1024;

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
        self.reserve(bytes.len());
        self.data[self.end..self.end + bytes.len()].copy_from_slice(bytes);
        self.end += bytes.len();
    }

    /// Makes at least `min` bytes of spare tail, lets `read` fill the spare
    /// tail (at most `max` bytes of it) and keeps what it reports as read
    /// (`Ready(Ok(n))`); `Pending` or an error keeps nothing.
    pub(crate) fn fill_with<E>(
        &mut self,
        min: usize,
        max: usize,
        read: impl FnOnce(&mut [u8]) -> Poll<Result<usize, E>>,
    ) -> Poll<Result<usize, E>> {
        self.reserve(min);
        let len = max.min(self.data.len() - self.end);
        let result = read(&mut self.data[self.end..self.end + len]);
        if let Poll::Ready(Ok(n)) = &result {
            self.end += n;
        }
        result
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
        let read = buf.fill_with(8, 8, |spare| {
            spare[..3].copy_from_slice(b"cde");
            Poll::Ready(Ok::<_, ()>(3))
        });
        assert_eq!(read, Poll::Ready(Ok(3)));
        assert_eq!(
            buf.fill_with(8, 8, |_| Poll::<Result<usize, ()>>::Pending),
            Poll::Pending
        );
        assert_eq!(
            buf.fill_with(8, 8, |_| Poll::Ready(Err::<usize, _>("boom"))),
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
}
