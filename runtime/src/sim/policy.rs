//! How a seeded runtime picks the next task: [`Policy`], and the chooser
//! that applies it.
//!
//! Every source of work in the runtime (a spawn, a local wake, a timer that
//! fired, a remote wake, an I/O event) ends the same way: the task is put
//! on the run queue. A seeded runtime does not take the front of that
//! queue; it asks the chooser which of the queued tasks runs next. So one
//! decision point covers them all: the order of timers due at the same
//! instant, of remote wakes taken together and of I/O events reported by
//! one reactor turn only decides the order the tasks are queued in, and
//! the chooser picks among all of them alike.
//!
//! * **Uniform random** ([`Policy::Random`]): each step picks one of the
//!   `n` queued tasks with probability `1/n`. Simple, and good at bugs that
//!   need one or two unlucky switches.
//! * **PCT** ([`Policy::Pct`], probabilistic concurrency testing,
//!   Burckhardt, Kothari, Musuvathi and Nagarakatte, "A Randomized
//!   Scheduler with Probabilistic Guarantees of Finding Bugs", ASPLOS
//!   2010): each task gets a random priority the first time it is queued,
//!   and the highest-priority queued task always runs. Before the run, `d
//!   - 1` *change points* are drawn among the first `steps` scheduling
//!   steps; at the i-th one, the task picked gets priority `d - i`, below
//!   every initial priority. A bug that needs `d` ordering constraints
//!   between `n` tasks in a run of `k` steps is found with probability at
//!   least `1 / (n k^(d-1))` per run, whatever the program.
//!
//! Both draw every number from one [`SimRng`] built from the seed, and a
//! task is known by its place in the runtime and its id, which the same
//! program hands out in the same order: the same seed picks the same
//! tasks.

use std::collections::HashMap;

use super::rng::SimRng;

/// How a seeded runtime chooses the next task (see `Builder::policy`).
///
/// ```
/// use weft_runtime::sim::Policy;
///
/// let rt = weft_runtime::Builder::new()
///     .start_paused(true)
///     .seed(7)
///     .policy(Policy::pct(3))
///     .build();
/// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Policy {
    /// Each step runs one of the ready tasks, chosen uniformly.
    #[default]
    Random,
    /// Random priorities with `depth - 1` priority change points drawn
    /// among the first `steps` scheduling steps (PCT).
    Pct {
        /// The bug depth looked for: how many ordering constraints a bug
        /// may need (at least 1; 1 means no change point).
        depth: u32,
        /// About how many scheduling steps a run takes; change points are
        /// drawn from `1..=steps`.
        steps: u64,
    },
}

impl Policy {
    /// PCT with bug depth `depth` and change points among the first 100
    /// steps, which suits tests of a few tasks and a few dozen awaits. A
    /// change point drawn past the end of a run never happens, so for
    /// longer or shorter runs give `steps` about the number of polls a run
    /// takes ([`ScheduleDigest::polls`](super::ScheduleDigest::polls)
    /// tells).
    ///
    /// ```
    /// use weft_runtime::sim::Policy;
    ///
    /// assert_eq!(Policy::pct(2), Policy::Pct { depth: 2, steps: 100 });
    /// ```
    pub fn pct(depth: u32) -> Self {
        Policy::Pct { depth, steps: 100 }
    }
}

/// The PCT state of one run.
#[derive(Debug)]
struct Pct {
    depth: u64,
    /// Each task's priority, drawn when it is first seen.
    priorities: HashMap<u64, u64>,
    /// The steps at which the picked task is demoted, in increasing order.
    change_points: Vec<u64>,
}

/// Applies a [`Policy`] with a seeded stream.
#[derive(Debug)]
pub(crate) struct Chooser {
    rng: SimRng,
    pct: Option<Pct>,
    /// Scheduling steps taken so far.
    steps: u64,
}

impl Chooser {
    pub(crate) fn new(seed: u64, policy: Policy) -> Self {
        let mut rng = SimRng::new(seed);
        let pct = match policy {
            Policy::Random => None,
            Policy::Pct { depth, steps } => {
                let depth = u64::from(depth.max(1));
                let mut change_points: Vec<u64> =
                    (1..depth).map(|_| 1 + rng.below(steps.max(1))).collect();
                change_points.sort_unstable();
                Some(Pct {
                    depth,
                    priorities: HashMap::new(),
                    change_points,
                })
            }
        };
        Self { rng, pct, steps: 0 }
    }

    /// Which of the `len` (> 0) queued tasks runs next; `task(i)` names the
    /// i-th one.
    pub(crate) fn pick(&mut self, len: usize, task: impl Fn(usize) -> u64) -> usize {
        self.steps += 1;
        let Some(pct) = &mut self.pct else {
            // `usize` fits in `u64` on every supported target, and the
            // result is below `len`.
            return self.rng.below(len as u64) as usize;
        };
        let rng = &mut self.rng;
        let depth = pct.depth;
        let mut best = 0;
        let mut best_priority = 0;
        for i in 0..len {
            // Initial priorities lie above `depth`, so above every demoted
            // one; ties (astronomically rare) go to the earlier task.
            let priority = *pct
                .priorities
                .entry(task(i))
                .or_insert_with(|| depth + 1 + rng.below(u64::MAX / 2));
            if i == 0 || priority > best_priority {
                best = i;
                best_priority = priority;
            }
        }
        // Demote at each change point reached (two may share a step).
        while let Some(&point) = pct.change_points.first() {
            if point != self.steps {
                break;
            }
            // The i-th of `depth - 1` points demotes to `depth - i`: the
            // points still to come, this one included.
            let demoted = pct.change_points.len() as u64;
            pct.priorities.insert(task(best), demoted);
            pct.change_points.remove(0);
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picks(seed: u64, policy: Policy) -> Vec<usize> {
        let mut chooser = Chooser::new(seed, policy);
        (0..50).map(|_| chooser.pick(4, |i| i as u64)).collect()
    }

    #[test]
    fn the_same_seed_picks_the_same_tasks() {
        for policy in [Policy::Random, Policy::pct(3)] {
            assert_eq!(picks(11, policy), picks(11, policy));
        }
        assert_ne!(picks(11, Policy::Random), picks(12, Policy::Random));
        assert!(picks(11, Policy::Random).iter().all(|&i| i < 4));
    }

    #[test]
    fn pct_runs_the_highest_priority_until_a_change_point() {
        // Depth 1 has no change point: one task wins every step.
        let fixed = picks(5, Policy::pct(1));
        assert!(fixed.iter().all(|&i| i == fixed[0]));
        // With change points inside the run, the winner changes at them.
        let mut chooser = Chooser::new(
            5,
            Policy::Pct {
                depth: 4,
                steps: 20,
            },
        );
        let run: Vec<usize> = (0..40).map(|_| chooser.pick(4, |i| i as u64)).collect();
        assert!(run.windows(2).any(|w| w[0] != w[1]), "{run:?}");
    }
}
