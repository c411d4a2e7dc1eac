//! The 64-byte message of the I/O rows (udp_echo, fd_ping_pong): a
//! sequence number in its first eight bytes and a fixed pattern after, so
//! that the side that gets it back can check which message it was.

/// Bytes in one message (and one datagram).
pub const MESSAGE: usize = 64;

/// Message number `sequence`.
///
/// ```
/// use weft_benches::workloads::{message, sequence_of};
///
/// assert_eq!(sequence_of(&message(42)), 42);
/// ```
pub fn message(sequence: u64) -> [u8; MESSAGE] {
    let mut bytes = [0xA5; MESSAGE];
    bytes[..8].copy_from_slice(&sequence.to_le_bytes());
    bytes
}

/// The sequence number a message carries.
pub fn sequence_of(bytes: &[u8; MESSAGE]) -> u64 {
    let mut number = [0; 8];
    number.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(number)
}
