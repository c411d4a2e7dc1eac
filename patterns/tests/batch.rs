//! Tests of batch processing, on the paused clock.

use std::cell::Cell;
use std::rc::Rc;
use std::time::Duration;

use weft_patterns::batch::{BatchError, BatchProcessor, InvalidBatchConfig, ItemResult, Order};
use weft_runtime::{sleep, time, yield_now};
use weft_tests::{paused, poll_once, DropFlag, WakeCounter};

/// Sums a chunk after sleeping as many ms as its first item says.
async fn slow_sum(chunk: Vec<u64>) -> Result<u64, String> {
    sleep(Duration::from_millis(chunk[0])).await;
    Ok(chunk.iter().sum())
}

#[test]
fn input_order_waits_for_earlier_chunks() {
    paused(async {
        let batches = BatchProcessor::new(2, 3).unwrap();
        // Chunk 0 is the slowest; chunks 1 and 2 finish first.
        let items = vec![30, 1, 20, 1, 10, 1];
        let mut chunks = batches.chunks(items, Order::Input, slow_sum);
        let mut seen = Vec::new();
        while let Some(chunk) = chunks.next().await {
            seen.push((chunk.chunk, chunk.items, chunk.result.unwrap()));
        }
        assert_eq!(seen, [(0, 0..2, 31), (1, 2..4, 21), (2, 4..6, 11)]);
    });
}

#[test]
fn completion_order_hands_out_whatever_is_done() {
    paused(async {
        let batches = BatchProcessor::new(2, 3).unwrap();
        let items = vec![30, 1, 20, 1, 10, 1];
        let mut chunks = batches.chunks(items, Order::Completion, slow_sum);
        let mut order = Vec::new();
        while let Some(chunk) = chunks.next().await {
            order.push(chunk.chunk);
        }
        assert_eq!(order, [2, 1, 0]);
    });
}

#[test]
fn at_most_max_concurrent_chunks_run_at_once() {
    paused(async {
        let inside = Rc::new(Cell::new(0));
        let peak = Rc::new(Cell::new(0));
        let batches = BatchProcessor::new(5, 3).unwrap();
        let report = batches
            .chunks(0..100u32, Order::Completion, {
                let (inside, peak) = (inside.clone(), peak.clone());
                move |chunk: Vec<u32>| {
                    let (inside, peak) = (inside.clone(), peak.clone());
                    async move {
                        inside.set(inside.get() + 1);
                        peak.set(peak.get().max(inside.get()));
                        sleep(Duration::from_millis(u64::from(chunk[0] % 7) + 1)).await;
                        inside.set(inside.get() - 1);
                        Ok::<_, ()>(chunk.len())
                    }
                }
            })
            .collect()
            .await;
        assert_eq!(peak.get(), 3);
        assert_eq!(report.succeeded.len(), 20);
        assert!(report.failed.is_empty());
    });
}

#[test]
fn in_input_order_a_slow_chunk_holds_back_new_starts() {
    paused(async {
        let started = Rc::new(Cell::new(0));
        let batches = BatchProcessor::new(1, 2).unwrap();
        let mut chunks = batches.chunks(vec![100u64, 1, 1, 1, 1], Order::Input, {
            let started = started.clone();
            move |chunk: Vec<u64>| {
                started.set(started.get() + 1);
                slow_sum(chunk)
            }
        });
        let first = chunks.next().await.unwrap();
        // While chunk 0 ran, chunk 1 finished but could not be handed out,
        // so it kept its slot: no third chunk started.
        assert_eq!(first.chunk, 0);
        assert_eq!(first.result, Ok(100));
        assert_eq!(started.get(), 2);
    });
}

#[test]
fn failed_and_panicking_chunks_are_collected_not_fatal() {
    paused(async {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let batches = BatchProcessor::new(3, 2).unwrap();
        let report = batches
            .chunks(0..12u32, Order::Input, |chunk: Vec<u32>| async move {
                match chunk[0] {
                    3 => Err(format!("chunk starting at {} failed", chunk[0])),
                    6 => panic!("chunk starting at 6 panicked"),
                    _ => Ok(chunk.iter().sum::<u32>()),
                }
            })
            .collect()
            .await;
        std::panic::set_hook(hook);
        assert_eq!(report.succeeded, [(0, 3), (3, 9 + 10 + 11)]);
        assert_eq!(
            report.failed,
            [
                (1, BatchError::Failed("chunk starting at 3 failed".into())),
                (
                    2,
                    BatchError::Panicked("chunk starting at 6 panicked".into())
                ),
            ]
        );
        assert_eq!(
            report.to_string(),
            "2 succeeded, 2 failed; #1 failed: chunk starting at 3 failed; \
             #2 panicked: chunk starting at 6 panicked"
        );
    });
}

#[test]
fn each_reports_every_item_on_its_own() {
    paused(async {
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let batches = BatchProcessor::new(4, 2).unwrap();
        let start = time::now();
        let mut results = Vec::new();
        let mut each = batches.each(0..10u64, Order::Input, |n| async move {
            sleep(Duration::from_millis(10)).await;
            match n {
                2 => Err("two"),
                7 => panic!("seven"),
                _ => Ok(n * n),
            }
        });
        while let Some(item) = each.next().await {
            results.push(item);
        }
        std::panic::set_hook(hook);
        let indices: Vec<usize> = results.iter().map(|r| r.index).collect();
        assert_eq!(indices, (0..10).collect::<Vec<_>>());
        assert_eq!(
            results[2],
            ItemResult {
                index: 2,
                result: Err(BatchError::Failed("two"))
            }
        );
        assert_eq!(results[7].result, Err(BatchError::Panicked("seven".into())));
        assert_eq!(results[9].result, Ok(81));
        // Chunks of 4 items run their items at once; 2 chunks at a time:
        // chunks 0 and 1 in 10 ms, then chunk 2.
        assert_eq!(time::now() - start, Duration::from_millis(20));
    });
}

#[test]
fn the_input_is_read_lazily() {
    paused(async {
        let pulled = Rc::new(Cell::new(0));
        let endless = {
            let pulled = pulled.clone();
            (0u64..).inspect(move |_| pulled.set(pulled.get() + 1))
        };
        let batches = BatchProcessor::new(10, 2).unwrap();
        let mut chunks = batches.chunks(endless, Order::Input, |chunk: Vec<u64>| async move {
            Ok::<_, ()>(chunk.len())
        });
        assert_eq!(pulled.get(), 0, "nothing is read before the first next()");
        for _ in 0..3 {
            chunks.next().await.unwrap();
        }
        // Three chunks handed out, and at most `max_concurrent` more started:
        // never more than five chunks of ten items read.
        assert!(pulled.get() <= 50, "pulled {} items", pulled.get());
    });
}

#[test]
fn a_dropped_next_loses_no_result() {
    paused(async {
        let batches = BatchProcessor::new(1, 3).unwrap();
        let mut chunks = batches.chunks(vec![10u64, 20, 30], Order::Input, slow_sum);
        {
            let mut next = Box::pin(chunks.next());
            assert!(poll_once(next.as_mut(), &WakeCounter::new()).is_pending());
        } // dropped while every chunk is in flight
        sleep(Duration::from_millis(25)).await;
        let mut sums = Vec::new();
        while let Some(chunk) = chunks.next().await {
            sums.push(chunk.result.unwrap());
        }
        assert_eq!(sums, [10, 20, 30]);
    });
}

#[test]
fn dropping_the_batch_aborts_the_chunks_in_flight() {
    paused(async {
        let dropped = Rc::new(Cell::new(false));
        let finished = Rc::new(Cell::new(false));
        let batches = BatchProcessor::new(1, 1).unwrap();
        let mut chunks = batches.chunks([()], Order::Input, {
            let (dropped, finished) = (dropped.clone(), finished.clone());
            move |_: Vec<()>| {
                let flag = DropFlag(dropped.clone());
                let finished = finished.clone();
                async move {
                    let _flag = flag;
                    sleep(Duration::from_secs(60)).await;
                    finished.set(true);
                    Ok::<_, ()>(())
                }
            }
        });
        let gave_up = time::timeout(Duration::from_secs(1), chunks.next()).await;
        assert!(gave_up.is_err());
        drop(chunks);
        yield_now().await;
        assert!(dropped.get(), "the chunk's future was dropped");
        sleep(Duration::from_secs(120)).await;
        assert!(!finished.get());
    });
}

#[test]
fn zero_settings_are_errors() {
    assert_eq!(
        BatchProcessor::new(0, 1).unwrap_err(),
        InvalidBatchConfig::EmptyChunks
    );
    assert_eq!(
        BatchProcessor::new(1, 0).unwrap_err(),
        InvalidBatchConfig::NoConcurrency
    );
    let batches = BatchProcessor::new(3, 2).unwrap();
    assert_eq!((batches.chunk_size(), batches.max_concurrent()), (3, 2));
}
