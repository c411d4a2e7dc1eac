//! Unix domain sockets on weft's reactor (Unix only): [`UnixListener`] and
//! [`UnixStream`] for byte streams, with the same methods, halves and
//! guarantees as their TCP twins, and [`UnixDatagram`] for datagrams.
//!
//! A Unix socket is named by a path in the file system (or is unnamed: the
//! two ends of [`UnixStream::pair`]). The path must fit in the `sun_path`
//! field of the OS's socket address, 108 bytes on Linux and 104 on macOS
//! and the BSDs, terminating NUL included; a longer one is refused with an
//! `InvalidInput` error that names the path and the limit. Binding creates
//! the socket file, and dropping the socket does not remove it: remove it
//! before binding the path again.
//!
//! ```
//! use weft_runtime::net::unix::{UnixListener, UnixStream};
//!
//! let dir = std::env::temp_dir().join(format!("weft-unix-doc-{}", std::process::id()));
//! std::fs::create_dir_all(&dir).unwrap();
//! let path = dir.join("echo.sock");
//! let _ = std::fs::remove_file(&path);
//! weft_runtime::run(async {
//!     let mut listener = UnixListener::bind(&path).unwrap();
//!     let mut client = UnixStream::connect(&path).await.unwrap();
//!     let (mut server, _) = listener.accept().await.unwrap();
//!     client.write_all(b"over a path").await.unwrap();
//!     let mut buf = [0; 11];
//!     server.read_exact(&mut buf).await.unwrap();
//!     assert_eq!(&buf, b"over a path");
//! });
//! std::fs::remove_dir_all(&dir).unwrap();
//! ```

mod datagram;
mod listener;
mod stream;

use std::io;
use std::path::Path;

pub use datagram::UnixDatagram;
pub use listener::UnixListener;
pub use stream::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, UnixStream, WriteHalf};

/// The most bytes a socket path may have, its terminating NUL included:
/// the size of `sockaddr_un.sun_path` on this OS.
const SUN_PATH_LEN: usize = if cfg!(any(
    target_os = "linux",
    target_os = "android",
    target_os = "illumos",
    target_os = "solaris",
    target_os = "redox",
)) {
    108
} else {
    104
};

/// An error about `path`, with the path in its message and the OS error's
/// kind kept (`AddrInUse`, `NotFound`, `ConnectionRefused`,
/// `PermissionDenied`). A path too long for the OS's socket address gets a
/// message that says so and gives the limit (std's own says only "path
/// must be shorter than SUN_LEN").
pub(crate) fn path_error(e: io::Error, action: &str, path: &Path) -> io::Error {
    let len = path.as_os_str().len();
    if e.kind() == io::ErrorKind::InvalidInput && len >= SUN_PATH_LEN {
        return io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "cannot {action} Unix socket path {}: it is {len} bytes long, and this OS \
                 allows at most {} (the size of sockaddr_un.sun_path, less the terminating \
                 NUL); use a shorter path, or a relative one from a nearby directory",
                path.display(),
                SUN_PATH_LEN - 1
            ),
        );
    }
    io::Error::new(e.kind(), format!("cannot {action} {}: {e}", path.display()))
}
