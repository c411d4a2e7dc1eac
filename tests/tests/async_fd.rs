//! `AsyncFd` on descriptors weft does not own the I/O of: a pipe (made with
//! `pipe(2)`, set non-blocking with `fcntl`) and a socket pair.
//! Readiness is cleared only when an operation says `WouldBlock`, so a
//! partial read must leave the rest readable at once; a full pipe makes a
//! writer wait until the reader drains it; a regular file is refused with
//! an error that says why.
#![cfg(unix)]

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd};
use std::os::unix::net::UnixStream;
use std::pin::pin;
use std::rc::Rc;
use std::time::Duration;

use weft_runtime::io::AsyncFd;
use weft_runtime::spawn;
use weft_tests::{poll_once, run_bounded, WakeCounter};

/// Sets `O_NONBLOCK` on `fd`: std has no call for a pipe.
fn set_nonblocking(fd: &impl AsFd) {
    let raw = fd.as_fd().as_raw_fd();
    // SAFETY: `raw` is an open descriptor borrowed for the duration of the
    // calls; F_GETFL/F_SETFL only read and set its status flags.
    unsafe {
        let flags = libc::fcntl(raw, libc::F_GETFL);
        assert!(flags >= 0, "F_GETFL failed");
        assert_eq!(libc::fcntl(raw, libc::F_SETFL, flags | libc::O_NONBLOCK), 0);
    }
}

/// A pipe's read and write ends, both non-blocking. (`std::io::pipe` is
/// newer than the workspace's minimum Rust version.)
fn nonblocking_pipe() -> (File, File) {
    let mut fds = [0; 2];
    // SAFETY: `pipe` writes two new descriptors into the array it is given,
    // which has room for exactly two.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0, "pipe failed");
    // SAFETY: both descriptors were just created and nothing else owns them.
    let (reader, writer) = unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) };
    set_nonblocking(&reader);
    set_nonblocking(&writer);
    (reader, writer)
}

#[test]
fn read_with_waits_for_the_writer_of_a_pipe() {
    run_bounded(async {
        let (reader, writer) = nonblocking_pipe();
        let reader = AsyncFd::new(reader).unwrap();
        let writing = spawn(async move {
            weft_runtime::sleep(Duration::from_millis(10)).await;
            (&writer).write_all(b"late bytes").unwrap();
            writer // keeps the pipe open until the reader has read
        });
        let mut buf = [0; 32];
        let n = reader
            .read_with(|mut pipe| pipe.read(&mut buf))
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"late bytes");
        drop(writing.await.unwrap());
        // The writer is gone: end of stream, without waiting.
        let n = reader
            .read_with(|mut pipe| pipe.read(&mut buf))
            .await
            .unwrap();
        assert_eq!(n, 0);
    });
}

/// A read that leaves bytes behind keeps the readiness: the next
/// `readable` returns at once although nothing new arrives. Had the guard
/// cleared it, the second wait would never end.
#[test]
fn a_partial_read_keeps_the_readiness() {
    run_bounded(async {
        let (reader, mut writer) = nonblocking_pipe();
        let reader = AsyncFd::new(reader).unwrap();
        writer.write_all(b"abcdef").unwrap();
        let mut got = Vec::new();
        loop {
            let mut guard = reader.readable().await.unwrap();
            let mut byte = [0; 2];
            match guard.try_io(|mut pipe| pipe.read(&mut byte)) {
                Ok(n) => got.extend_from_slice(&byte[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("read failed: {e}"),
            }
        }
        assert_eq!(got, b"abcdef");
        // Drained and cleared: the next wait needs a new edge.
        let counter = WakeCounter::new();
        let mut waiting = pin!(reader.readable());
        assert!(poll_once(waiting.as_mut(), &counter).is_pending());
        writer.write_all(b"g").unwrap();
        let mut guard = waiting.await.unwrap();
        assert_eq!(guard.try_io(|mut pipe| pipe.read(&mut [0; 4])).unwrap(), 1);
    });
}

/// `clear_ready` by hand: after it, `readable` waits for the next edge
/// even though bytes are still in the pipe (which is why the docs say to
/// clear only once drained).
#[test]
fn clear_ready_waits_for_the_next_edge() {
    run_bounded(async {
        let (reader, mut writer) = nonblocking_pipe();
        let reader = AsyncFd::new(reader).unwrap();
        writer.write_all(b"x").unwrap();
        reader.readable().await.unwrap().clear_ready();
        let timed_out = weft_runtime::timeout(Duration::from_millis(30), reader.readable()).await;
        assert!(
            timed_out.is_err(),
            "cleared readiness came back without an edge"
        );
        writer.write_all(b"y").unwrap();
        let mut guard = reader.readable().await.unwrap();
        let mut buf = [0; 4];
        assert_eq!(guard.try_io(|mut pipe| pipe.read(&mut buf)).unwrap(), 2);
        assert_eq!(guard.get_inner().as_raw_fd(), reader.as_raw_fd());
    });
}

/// A writer fills the pipe until it says `WouldBlock`, then waits in
/// `write_with` until a reader task drains the pipe.
#[test]
fn a_full_pipe_makes_the_writer_wait_for_the_reader() {
    run_bounded(async {
        let (reader, writer) = nonblocking_pipe();
        let writer = AsyncFd::new(writer).unwrap();
        let chunk = [7u8; 4096];
        let mut filled = 0;
        loop {
            let mut guard = writer.writable().await.unwrap();
            match guard.try_io(|mut pipe| pipe.write(&chunk)) {
                Ok(n) => filled += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("write failed: {e}"),
            }
        }
        assert!(filled > 0);
        let reader = AsyncFd::new(reader).unwrap();
        let draining = spawn(async move {
            let mut buf = vec![0; 64 * 1024];
            let mut drained = 0;
            while drained < filled {
                drained += reader
                    .read_with(|mut pipe| pipe.read(&mut buf))
                    .await
                    .unwrap();
            }
            (drained, reader)
        });
        let n = writer
            .write_with(|mut pipe| pipe.write(b"after the drain"))
            .await
            .unwrap();
        assert_eq!(n, 15);
        let (drained, reader) = draining.await.unwrap();
        assert_eq!(drained, filled);
        let mut buf = [0; 32];
        let n = reader
            .read_with(|mut pipe| pipe.read(&mut buf))
            .await
            .unwrap();
        assert_eq!(&buf[..n], b"after the drain");
    });
}

/// Ping-pong over a socket pair, each side an `AsyncFd` in its own task.
#[test]
fn ping_pong_over_a_socket_pair() {
    run_bounded(async {
        let (a, b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        b.set_nonblocking(true).unwrap();
        let (a, b) = (AsyncFd::new(a).unwrap(), AsyncFd::new(b).unwrap());
        let rounds = 1000u32;
        let pong = spawn(async move {
            let mut buf = [0; 4];
            for _ in 0..rounds {
                b.read_with(|mut s| s.read_exact(&mut buf)).await.unwrap();
                let next = u32::from_le_bytes(buf) + 1;
                b.write_with(|mut s| s.write(&next.to_le_bytes()))
                    .await
                    .unwrap();
            }
        });
        let mut value = 0u32;
        let mut buf = [0; 4];
        for _ in 0..rounds {
            a.write_with(|mut s| s.write(&value.to_le_bytes()))
                .await
                .unwrap();
            a.read_with(|mut s| s.read_exact(&mut buf)).await.unwrap();
            assert_eq!(u32::from_le_bytes(buf), value + 1);
            value += 2;
        }
        pong.await.unwrap();
    });
}

/// Reading and writing wait in different directions of one `AsyncFd`,
/// from two tasks; a second task waiting in the same direction is refused,
/// and a dropped wait frees the direction.
#[test]
fn one_waiting_task_per_direction() {
    run_bounded(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let a = Rc::new(AsyncFd::new(a).unwrap());
        {
            let counter = WakeCounter::new();
            let mut dropped = pin!(a.readable());
            assert!(poll_once(dropped.as_mut(), &counter).is_pending());
        }
        let reader = {
            let a = a.clone();
            spawn(async move {
                let mut buf = [0; 8];
                a.read_with(|mut s| s.read(&mut buf)).await.unwrap()
            })
        };
        weft_runtime::yield_now().await;
        let err = a.readable().await.unwrap_err();
        assert!(err.to_string().contains("already waiting"), "{err}");
        // The other direction is free.
        a.writable().await.unwrap();
        b.write_all(b"four").unwrap();
        assert_eq!(reader.await.unwrap(), 4);
        a.readable().await.unwrap(); // the claim is free again
    });
}

#[test]
fn a_regular_file_is_refused_with_a_reason() {
    let dir = weft_tests::TempDir::new();
    let path = dir.join("plain.txt");
    std::fs::write(&path, b"a regular file").unwrap();
    run_bounded(async {
        let file = std::fs::File::open(&path).unwrap();
        let fd = file.as_raw_fd();
        let err = AsyncFd::new(file).unwrap_err();
        let message = err.to_string();
        assert!(message.contains("cannot be polled"), "{message}");
        assert!(message.contains(&format!("descriptor {fd}")), "{message}");
        assert!(message.contains("spawn_blocking"), "{message}");
        #[cfg(target_os = "linux")]
        assert_eq!(err.kind(), ErrorKind::PermissionDenied); // epoll's EPERM
    });
}

#[test]
fn into_inner_keeps_the_descriptor_open() {
    run_bounded(async {
        let (a, mut b) = UnixStream::pair().unwrap();
        a.set_nonblocking(true).unwrap();
        let mut fd = AsyncFd::new(a).unwrap();
        fd.get_mut().set_nonblocking(true).unwrap();
        assert!(fd.get_ref().peer_addr().is_ok());
        let a = fd.into_inner();
        b.write_all(b"k").unwrap();
        a.set_nonblocking(false).unwrap();
        let mut buf = [0; 1];
        (&a).read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"k");
        // Registered again on the same runtime: a fresh registration.
        a.set_nonblocking(true).unwrap();
        let again = AsyncFd::new(a).unwrap();
        b.write_all(b"z").unwrap();
        let n = again.read_with(|mut s| s.read(&mut buf)).await.unwrap();
        assert_eq!(n, 1);
    });
}
