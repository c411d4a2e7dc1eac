//! Schedule exploration finds the bugs that sit between tasks, and the
//! seed it prints replays them:
//!
//! * a check-then-act race on a bank balance, which the FIFO scheduler
//!   never shows, is found within 1 000 seeds by uniform random schedules
//!   and by PCT, and replaying the printed seed fails the same way with
//!   the same schedule digest;
//! * two tasks taking two mutexes in opposite orders deadlock under some
//!   schedule, and the report names both tasks.

use std::cell::Cell;
use std::rc::Rc;

use weft_primitives::Mutex;
use weft_runtime::sim::{Explorer, FailureKind, Policy};
use weft_runtime::{spawn_named, yield_now, Builder};

/// Takes `amount` from `balance` if it covers it. The check and the update
/// are split by an `.await` (a call to the fraud service, here a yield):
/// the race. `lookups` awaits first stand for reading the account.
async fn withdraw(balance: Rc<Cell<i64>>, amount: i64, lookups: u32) -> bool {
    for _ in 0..lookups {
        yield_now().await;
    }
    if balance.get() < amount {
        return false;
    }
    yield_now().await; // the fraud check
    balance.set(balance.get() - amount);
    true
}

/// Two withdrawals of 80 from a balance of 100: one must be refused.
async fn bank() -> Result<(), String> {
    let balance = Rc::new(Cell::new(100));
    let teller = spawn_named("teller", withdraw(balance.clone(), 80, 0));
    let atm = spawn_named("atm", withdraw(balance.clone(), 80, 2));
    let granted = [teller.await.unwrap(), atm.await.unwrap()];
    match balance.get() {
        overdrawn if overdrawn < 0 => Err(format!(
            "overdrawn: balance {overdrawn} after granting {granted:?}"
        )),
        _ => Ok(()),
    }
}

#[test]
fn fifo_never_overdraws() {
    for _ in 0..10 {
        let rt = Builder::new().start_paused(true).build();
        assert_eq!(rt.block_on(bank()), Ok(()));
    }
}

fn finds_and_replays_the_overdraft(policy: Policy) {
    let explorer = Explorer::new().runs(1_000).policy(policy);
    let failure = explorer.run(bank).unwrap_err();
    assert_eq!(failure.kind(), FailureKind::Error);
    assert!(failure.message().contains("overdrawn"), "{failure}");
    assert!(failure.digest().simulated());
    let replay = failure.replay_command();
    assert!(
        replay.starts_with(&format!("WEFT_SEED={} cargo test", failure.seed())),
        "{replay}"
    );

    // What WEFT_SEED does: run that one seed again.
    let again = Explorer::new()
        .first_seed(failure.seed())
        .runs(1)
        .policy(policy)
        .run(bank)
        .unwrap_err();
    assert_eq!(again.digest(), failure.digest());
    assert_eq!(again.message(), failure.message());
}

#[test]
fn random_schedules_find_the_overdraft_and_its_seed_replays_it() {
    finds_and_replays_the_overdraft(Policy::Random);
}

#[test]
fn pct_finds_the_overdraft_and_its_seed_replays_it() {
    // The run takes about 15 scheduling steps: change points are drawn there.
    finds_and_replays_the_overdraft(Policy::Pct {
        depth: 2,
        steps: 15,
    });
}

/// Locks `first`, then (after an `.await`) `second`.
async fn transfer(first: Rc<Mutex<u32>>, second: Rc<Mutex<u32>>) {
    let mut from = first.lock().await;
    yield_now().await;
    let mut to = second.lock().await;
    *from -= 1;
    *to += 1;
}

#[test]
fn opposite_lock_orders_deadlock_and_the_report_names_both_tasks() {
    let failure = Explorer::new()
        .runs(1_000)
        .run(|| async {
            let (a, b) = (Rc::new(Mutex::new(10)), Rc::new(Mutex::new(10)));
            let alice = spawn_named("alice", transfer(a.clone(), b.clone()));
            let bob = spawn_named("bob", transfer(b, a));
            alice.await.unwrap();
            bob.await.unwrap();
        })
        .unwrap_err();
    assert_eq!(failure.kind(), FailureKind::Deadlock, "{failure}");
    let report = failure.message();
    for expected in ["main future", "\"alice\"", "\"bob\""] {
        assert!(report.contains(expected), "{expected} missing: {report}");
    }
}
