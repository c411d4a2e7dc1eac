//! Schedule traces (`weft_runtime::sim::trace`): the Chrome trace-event
//! JSON parses and pairs every poll's begin with its end, names survive
//! escaping, odd input (an unfinished poll, an end without a start, events
//! out of order, an empty trace) still gives valid documents, and the SVG
//! has one row per task.
//!
//! The runtime does not feed traces by itself yet; `Traced` below records
//! a real producer-consumer schedule from the outside (it wraps each
//! task's future and its waker), which is enough to exercise the model and
//! the writers on the shape of a real run.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use serde_json::Value;
use weft_primitives::Queue;
use weft_runtime::sim::trace::{EventKind, Recorder, Trace, TraceEvent};
use weft_runtime::{spawn, Builder};

thread_local! {
    /// The task whose poll is running, for the `by` of wake-ups.
    static POLLING: Cell<Option<u64>> = const { Cell::new(None) };
}

type SharedRecorder = Arc<Mutex<Recorder>>;

/// A future that records its polls and the wake-ups of its waker.
struct Traced<F> {
    id: u64,
    recorder: SharedRecorder,
    inner: Pin<Box<F>>,
}

struct TracedWaker {
    id: u64,
    recorder: SharedRecorder,
    inner: Waker,
}

impl Wake for TracedWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let by = POLLING.with(Cell::get);
        let event = EventKind::Wake {
            task: self.id,
            by,
            remote: false,
        };
        self.recorder.lock().unwrap().record(event);
        self.inner.wake_by_ref();
    }
}

impl<F: Future> Future for Traced<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let waker = Waker::from(Arc::new(TracedWaker {
            id: self.id,
            recorder: self.recorder.clone(),
            inner: cx.waker().clone(),
        }));
        let task = self.id;
        self.recorder
            .lock()
            .unwrap()
            .record(EventKind::PollStart { task });
        POLLING.with(|p| p.set(Some(task)));
        let result = self.inner.as_mut().poll(&mut Context::from_waker(&waker));
        POLLING.with(|p| p.set(None));
        let ready = result.is_ready();
        self.recorder
            .lock()
            .unwrap()
            .record(EventKind::PollEnd { task, ready });
        result
    }
}

fn traced<F: Future>(recorder: &SharedRecorder, id: u64, name: &str, fut: F) -> Traced<F> {
    let name = Some(name.into());
    recorder
        .lock()
        .unwrap()
        .record(EventKind::Spawned { task: id, name });
    Traced {
        id,
        recorder: recorder.clone(),
        inner: Box::pin(fut),
    }
}

/// A producer and two consumers around a bounded queue, traced.
fn producer_consumer_trace() -> Trace {
    let recorder: SharedRecorder = Arc::new(Mutex::new(Recorder::steps()));
    let rt = Builder::new().start_paused(true).build();
    let main = {
        let recorder = recorder.clone();
        traced(&recorder.clone(), 1, "main", async move {
            let queue = Rc::new(Queue::<u32>::new(2));
            let producer = {
                let queue = queue.clone();
                spawn(traced(&recorder, 2, "producer", async move {
                    for item in 0..8 {
                        queue.put(item).await.unwrap();
                    }
                }))
            };
            let consumers: Vec<_> = (0..2)
                .map(|n| {
                    let queue = queue.clone();
                    let name = format!("consumer \"{n}\" <&>");
                    spawn(traced(&recorder, 3 + n, &name, async move {
                        let mut got = 0;
                        for _ in 0..4 {
                            queue.get().await.unwrap();
                            got += 1;
                        }
                        got
                    }))
                })
                .collect();
            producer.await.unwrap();
            for consumer in consumers {
                assert_eq!(consumer.await.unwrap(), 4);
            }
        })
    };
    rt.block_on(main);
    let recorder = Arc::try_unwrap(recorder).ok().unwrap();
    recorder.into_inner().unwrap().finish()
}

/// Parses the JSON and checks its shape: every `B` has its `E` on the same
/// track, in order, not before it; returns the events and the track names.
fn check_chrome_json(json: &str) -> (Vec<Value>, BTreeMap<u64, String>) {
    let document: Value = serde_json::from_str(json).expect("the trace is valid JSON");
    let events = document["traceEvents"]
        .as_array()
        .expect("a traceEvents array")
        .clone();
    let mut names = BTreeMap::new();
    let mut open: BTreeMap<u64, f64> = BTreeMap::new();
    for event in &events {
        let tid = event["tid"].as_u64().expect("every event has a tid");
        match event["ph"].as_str().expect("every event has a phase") {
            "M" if event["name"] == "thread_name" => {
                let name = event["args"]["name"].as_str().unwrap().to_string();
                names.insert(tid, name);
            }
            "B" => {
                let ts = event["ts"].as_f64().unwrap();
                assert!(open.insert(tid, ts).is_none(), "two B without E on {tid}");
            }
            "E" => {
                let begin = open.remove(&tid).expect("an E without its B");
                assert!(event["ts"].as_f64().unwrap() >= begin, "an E before its B");
            }
            "M" | "i" => {}
            other => panic!("unexpected phase {other}"),
        }
    }
    assert!(open.is_empty(), "B without E on tracks {open:?}");
    (events, names)
}

/// Checks that every tag of `svg` is closed in order (the writer emits no
/// comments or CDATA); returns how many elements it holds.
fn check_svg_nesting(svg: &str) -> usize {
    let mut stack = Vec::new();
    let mut elements = 0;
    let mut rest = svg;
    while let Some(start) = rest.find('<') {
        let end = rest[start..].find('>').expect("an unterminated tag") + start;
        let tag = &rest[start + 1..end];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop(), Some(name.to_string()), "mismatched </{name}>");
        } else {
            elements += 1;
            let name = tag.split([' ', '/']).next().unwrap().to_string();
            if !tag.ends_with('/') {
                stack.push(name);
            }
        }
        rest = &rest[end + 1..];
    }
    assert!(stack.is_empty(), "unclosed {stack:?}");
    elements
}

#[test]
fn a_recorded_schedule_exports_valid_json_with_paired_polls() {
    let trace = producer_consumer_trace();
    let polls = trace
        .events()
        .iter()
        .filter(|e| matches!(e.kind, EventKind::PollStart { .. }))
        .count();
    assert!(polls > 8, "the tasks took turns: {polls} polls");
    let (events, names) = check_chrome_json(&trace.chrome_json());
    let begins = events
        .iter()
        .filter(|e| e["ph"] == "B" && e["name"] == "poll")
        .count();
    assert_eq!(begins, polls, "one slice per poll");
    assert!(events
        .iter()
        .any(|e| e["name"] == "wake" && e["args"]["by"].is_u64()));
    assert_eq!(names[&0], "runtime");
    assert_eq!(names[&1], "#1 main");
    assert_eq!(names[&2], "#2 producer");
    assert_eq!(names[&3], "#3 consumer \"0\" <&>", "names survive escaping");
}

#[test]
fn the_svg_has_one_row_per_task() {
    let svg = producer_consumer_trace().svg();
    check_svg_nesting(&svg);
    assert_eq!(svg.matches("<g class=\"task\"").count(), 4);
    assert_eq!(svg.matches("<g class=\"runtime\"").count(), 1);
    for label in [
        "#1 main",
        "#2 producer",
        "#3 consumer &quot;0&quot; &lt;&amp;&gt;",
    ] {
        assert!(svg.contains(label), "no row labelled {label}");
    }
    assert!(svg.matches("class=\"pending\"").count() > 4);
    assert_eq!(
        svg.matches("class=\"ready\"").count(),
        4,
        "each task finished once"
    );
    assert!(svg.contains("<polygon class=\"wake\""));
}

#[test]
fn odd_traces_still_give_valid_documents() {
    let at = |at_ns, kind| TraceEvent { at_ns, kind };
    let trace = Trace::from_events(vec![
        at(5_000, EventKind::PollStart { task: 7 }), // never ends
        at(
            1_000,
            EventKind::Spawned {
                task: 7,
                name: Some("a\\b\n\u{1}".into()),
            },
        ),
        at(
            2_000,
            EventKind::PollEnd {
                task: 8,
                ready: true,
            },
        ), // never started
        at(3_000, EventKind::Park), // never unparked
        at(4_000, EventKind::TimerFired { task: None }),
        at(
            4_500,
            EventKind::Io {
                task: Some(7),
                readable: true,
                writable: false,
            },
        ),
        at(
            9_000,
            EventKind::Wake {
                task: 7,
                by: None,
                remote: true,
            },
        ),
    ]);
    let (events, names) = check_chrome_json(&trace.chrome_json());
    assert_eq!(names[&7], "#7 a\\b\n\u{1}");
    let unfinished: Vec<&Value> = events.iter().filter(|e| e["ph"] == "E").collect();
    assert_eq!(
        unfinished.len(),
        2,
        "the open poll and the open park are closed"
    );
    assert!(unfinished.iter().all(|e| e["ts"].as_f64() == Some(9.0)));

    let svg = trace.svg();
    check_svg_nesting(&svg);
    assert_eq!(svg.matches("<g class=\"task\"").count(), 2);
    assert!(svg.contains("class=\"unfinished\""));
    assert!(svg.contains("<polygon class=\"remote\""));
}

#[test]
fn an_empty_trace_is_valid_in_both_formats() {
    let trace = Recorder::real_time().finish();
    let (events, _) = check_chrome_json(&trace.chrome_json());
    assert!(events.iter().all(|e| e["ph"] == "M"));
    let svg = trace.svg();
    check_svg_nesting(&svg);
    assert_eq!(svg.matches("<g class=\"task\"").count(), 0);
}
