//! Signals become ordinary wake-ups. Each test uses its own signal number,
//! since a signal reaches every listener in the process.

use std::time::Duration;

use signal_hook::consts::signal::{SIGHUP, SIGINT, SIGUSR1};
use signal_hook::low_level::raise;
use weft_runtime::signal::{ctrl_c, signal, SignalKind};
use weft_runtime::{spawn, spawn_blocking, timeout};

#[test]
fn a_raised_signal_wakes_its_listener() {
    weft_runtime::run(async {
        let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        // Raised from another thread, while the runtime is parked.
        spawn_blocking(|| raise(SIGUSR1).unwrap()).await.unwrap();
        timeout(Duration::from_secs(10), usr1.recv())
            .await
            .expect("the signal arrived")
            .expect("the pipe is open");
    });
}

#[test]
fn signals_before_recv_are_kept_and_merged() {
    weft_runtime::run(async {
        let mut hup = signal(SignalKind::hangup()).unwrap();
        raise(SIGHUP).unwrap();
        raise(SIGHUP).unwrap();
        hup.recv().await.unwrap();
        // Both arrived before the first recv: they count once, so a second
        // recv waits for a new signal.
        assert!(timeout(Duration::from_millis(50), hup.recv())
            .await
            .is_err());
        raise(SIGHUP).unwrap();
        hup.recv().await.unwrap();
    });
}

#[test]
fn ctrl_c_completes_on_sigint() {
    weft_runtime::run(async {
        let waiter = spawn(ctrl_c());
        // Let the waiter register before the signal is raised.
        weft_runtime::yield_now().await;
        raise(SIGINT).unwrap();
        timeout(Duration::from_secs(10), waiter)
            .await
            .expect("ctrl_c completed")
            .unwrap()
            .unwrap();
    });
}

#[test]
fn uncatchable_signals_are_an_error() {
    weft_runtime::run(async {
        let err = signal(SignalKind::from_raw(signal_hook::consts::signal::SIGKILL)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
        assert!(
            err.to_string().contains("signal 9 cannot be handled"),
            "{err}"
        );
    });
}
