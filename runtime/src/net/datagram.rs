//! What every datagram socket shares ([`UdpSocket`](super::UdpSocket),
//! and [`UnixDatagram`](super::unix::UnixDatagram) on Unix): the rules, and
//! the methods that differ only in the address type, written once in
//! [`datagram_methods`].
//!
//! A datagram socket is registered like a stream socket, edge-triggered,
//! for both directions, and every operation follows the reactor's rule:
//! try the syscall once readiness is set, and clear readiness only when the
//! OS says `WouldBlock`. Unlike a byte stream, a short result proves
//! nothing here: a 20-byte datagram read into a 64 KiB buffer may have ten
//! more datagrams queued behind it, so readiness stays set and the next
//! receive tries the socket at once.
//!
//! Operations take `&self`, as in tokio, so an `Rc`-shared socket can
//! receive in one task while another sends. The reactor wakes one task per
//! direction, so a second task waiting to receive at the same time is
//! refused with an error instead of being left asleep (see
//! `io/one_waiter.rs`); the poll forms cannot check that and keep only the
//! most recent poller's waker.
//!
//! **Cancellation.** Every waiting operation is cancel-safe: a receive
//! whose future is dropped consumed no datagram (`recv` is one syscall that
//! either takes a datagram and completes, or takes nothing), and a send
//! that did not complete sent nothing.

/// The methods of a datagram socket type named `$name` whose `io` field is
/// an `IoSource` of a mio datagram socket, `claims` its `WaiterClaims`,
/// and whose addresses are `$addr`.
macro_rules! datagram_methods {
    ($addr:ty, $name:literal) => {
        /// Sends `buf` as one datagram to the connected peer and returns
        /// its length. Cancel-safe.
        pub async fn send(&self, buf: &[u8]) -> std::io::Result<usize> {
            let what = concat!("send on this ", $name);
            $crate::io::one_waiter::wait_op(
                &self.io,
                &self.claims,
                $crate::driver::reactor::Direction::Write,
                what,
                |s| s.send(buf),
            )
            .await
        }

        /// Receives one datagram from the connected peer into `buf` and
        /// returns its length; the part of a datagram that does not fit is
        /// discarded. Cancel-safe: a dropped future took no datagram.
        pub async fn recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            let what = concat!("receive on this ", $name);
            $crate::io::one_waiter::wait_op(
                &self.io,
                &self.claims,
                $crate::driver::reactor::Direction::Read,
                what,
                |s| s.recv(buf),
            )
            .await
        }

        /// Receives one datagram into `buf` and returns its length and
        /// sender. Cancel-safe.
        pub async fn recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $addr)> {
            let what = concat!("receive on this ", $name);
            $crate::io::one_waiter::wait_op(
                &self.io,
                &self.claims,
                $crate::driver::reactor::Direction::Read,
                what,
                |s| s.recv_from(buf),
            )
            .await
        }

        /// The poll form of `send`. Only the waker of the most recent poll
        /// in the sending direction is kept.
        pub fn poll_send(
            &self,
            cx: &mut std::task::Context<'_>,
            buf: &[u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let dir = $crate::driver::reactor::Direction::Write;
            $crate::io::one_waiter::poll_op(&self.io, cx, dir, |s| s.send(buf))
        }

        /// The poll form of `recv`. Only the waker of the most recent poll
        /// in the receiving direction is kept.
        pub fn poll_recv(
            &self,
            cx: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<std::io::Result<usize>> {
            let dir = $crate::driver::reactor::Direction::Read;
            $crate::io::one_waiter::poll_op(&self.io, cx, dir, |s| s.recv(buf))
        }

        /// The poll form of `recv_from`.
        pub fn poll_recv_from(
            &self,
            cx: &mut std::task::Context<'_>,
            buf: &mut [u8],
        ) -> std::task::Poll<std::io::Result<(usize, $addr)>> {
            let dir = $crate::driver::reactor::Direction::Read;
            $crate::io::one_waiter::poll_op(&self.io, cx, dir, |s| s.recv_from(buf))
        }

        /// One non-blocking send to the connected peer: `WouldBlock` if
        /// there is no room.
        pub fn try_send(&self, buf: &[u8]) -> std::io::Result<usize> {
            let dir = $crate::driver::reactor::Direction::Write;
            $crate::io::one_waiter::try_op(&self.io, dir, |s| s.send(buf))
        }

        /// One non-blocking receive from the connected peer: `WouldBlock`
        /// if no datagram is queued.
        pub fn try_recv(&self, buf: &mut [u8]) -> std::io::Result<usize> {
            let dir = $crate::driver::reactor::Direction::Read;
            $crate::io::one_waiter::try_op(&self.io, dir, |s| s.recv(buf))
        }

        /// One non-blocking receive, with the sender.
        pub fn try_recv_from(&self, buf: &mut [u8]) -> std::io::Result<(usize, $addr)> {
            let dir = $crate::driver::reactor::Direction::Read;
            $crate::io::one_waiter::try_op(&self.io, dir, |s| s.recv_from(buf))
        }

        /// The local address the socket is bound to.
        pub fn local_addr(&self) -> std::io::Result<$addr> {
            self.io.get_ref().local_addr()
        }

        /// The connected peer's address (`NotConnected` before `connect`).
        pub fn peer_addr(&self) -> std::io::Result<$addr> {
            self.io.get_ref().peer_addr()
        }

        /// Takes the socket's pending error (`SO_ERROR`), if any: for UDP,
        /// an ICMP "port unreachable" after a send to a closed port.
        pub fn take_error(&self) -> std::io::Result<Option<std::io::Error>> {
            self.io.get_ref().take_error()
        }
    };
}
pub(crate) use datagram_methods;
