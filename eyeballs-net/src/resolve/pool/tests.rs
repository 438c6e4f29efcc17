use super::*;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::mpsc;
use std::task::Wake;
use std::time::Instant;

/// Hangs on every name until the gate opens, counting calls; panics on "panic".
#[derive(Default)]
struct Gated {
    open: Mutex<bool>,
    opened: Condvar,
    calls: AtomicUsize,
}

impl Gated {
    fn resolve(&self, name: &str, _kind: QueryKind) -> Answer {
        self.calls.fetch_add(1, Ordering::SeqCst);
        assert!(name != "panic", "a resolver that panics");
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.opened.wait(open).unwrap();
        }
        Ok(Reply::Addrs(vec![IpAddr::from([127, 0, 0, 1])]))
    }
}

/// A waker that remembers it was woken.
#[derive(Default)]
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

fn until(limit: Duration, mut done: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + limit;
    while !done() {
        if Instant::now() > end {
            return false;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    true
}

fn threads() -> usize {
    pool().lock().threads
}

fn entries() -> usize {
    pool().lock().entries.len()
}

/// One test, so that nothing else uses the process's pool meanwhile.
#[test]
fn caps_threads_coalesces_fails_fast_withdraws_and_idles_out() {
    let gated = Arc::new(Gated::default());
    let job = |name: &str, kind| Job::new(&gated, name, kind, |g, n, k| g.resolve(n, k));
    let (tx, rx) = mpsc::channel::<(u64, Answer)>();
    let deliver = |tag: u64| {
        let tx = tx.clone();
        move |answer| {
            let _ = tx.send((tag, answer));
        }
    };
    let calls = || gated.calls.load(Ordering::SeqCst);
    let groups: Vec<Group> = (0..104).map(|_| Group::unique()).collect();

    // Ten parties ask the same thing: one call.
    for (tag, group) in groups.iter().take(10).enumerate() {
        submit(
            job("same.test", QueryKind::Aaaa),
            *group,
            deliver(tag as u64),
        )
        .unwrap();
    }
    assert!(until(Duration::from_secs(5), || calls() == 1));
    // The same name from another resolver object is another lookup.
    let other = Arc::new(Gated::default());
    *other.open.lock().unwrap() = true;
    let other_job = Job::new(&other, "same.test", QueryKind::Aaaa, |g, n, k| {
        g.resolve(n, k)
    });
    submit(other_job, groups[10], deliver(10)).unwrap();
    assert_eq!(rx.recv_timeout(Duration::from_secs(5)).unwrap().0, 10);
    // A panicking lookup is a failed query, and its thread lives on.
    submit(job("panic", QueryKind::A), groups[11], deliver(11)).unwrap();
    let (tag, answer) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert_eq!(tag, 11);
    assert!(answer.unwrap_err().to_string().contains("panicked"));

    // Distinct hung lookups fill every thread, then the queue; one more fails at once.
    let filler = groups[100];
    for i in 0..THREADS - 1 + QUEUED {
        let name = format!("n{i}.test");
        submit(job(&name, QueryKind::A), filler, deliver(100)).unwrap();
    }
    assert!(until(Duration::from_secs(5), || calls() == 1 + 1 + (THREADS - 1)));
    assert_eq!(threads(), THREADS);
    let refused = submit(
        job("one-more.test", QueryKind::A),
        groups[101],
        deliver(101),
    );
    assert_eq!(refused.unwrap_err().kind(), io::ErrorKind::WouldBlock);
    // So does a future, when polled.
    let flag = Arc::new(Flag::default());
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    let mut refused = lookup(job("one-more.test", QueryKind::A));
    match Pin::new(&mut refused).poll(&mut cx) {
        Poll::Ready(Err(e)) => assert_eq!(e.kind(), io::ErrorKind::WouldBlock),
        other => panic!("{other:?}"),
    }
    // A hung name asked again joins its lookup instead of failing.
    submit(job("same.test", QueryKind::Aaaa), groups[102], deliver(102)).unwrap();
    let mut joined = lookup(job("same.test", QueryKind::Aaaa));
    assert!(Pin::new(&mut joined).poll(&mut cx).is_pending());
    // A future that joins a queued lookup and is dropped leaves it to the others.
    let last_queued = format!("n{}.test", THREADS - 2 + QUEUED);
    let mut dropped = lookup(job(&last_queued, QueryKind::A));
    assert!(Pin::new(&mut dropped).poll(&mut cx).is_pending());
    drop(dropped);
    assert_eq!(entries(), THREADS + QUEUED);

    // The filler ends: its queued lookups go, its running ones stay on their threads.
    withdraw(filler);
    assert_eq!(entries(), THREADS);
    // A future's lookup queues; dropping the future takes it out of the queue.
    let mut queued = lookup(job("queued.test", QueryKind::A));
    assert!(Pin::new(&mut queued).poll(&mut cx).is_pending());
    assert_eq!(entries(), THREADS + 1);
    drop(queued);
    assert_eq!(entries(), THREADS);
    submit(job("later.test", QueryKind::A), groups[103], deliver(103)).unwrap();

    // The hang ends: the waiters of "same" and "later" get answers, the filler none.
    assert!(!flag.0.load(Ordering::SeqCst));
    *gated.open.lock().unwrap() = true;
    gated.opened.notify_all();
    let mut answered: Vec<u64> = Vec::new();
    for _ in 0..12 {
        let (tag, answer) = rx.recv_timeout(Duration::from_secs(5)).unwrap();
        assert!(answer.is_ok());
        answered.push(tag);
    }
    answered.sort_unstable();
    assert_eq!(answered, [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 102, 103]);
    let woken = || flag.0.load(Ordering::SeqCst);
    assert!(until(Duration::from_secs(5), woken));
    match Pin::new(&mut joined).poll(&mut cx) {
        Poll::Ready(Ok(reply)) => {
            assert_eq!(reply.into_addrs(), [IpAddr::from([127, 0, 0, 1])])
        }
        other => panic!("{other:?}"),
    }
    // The filler's running lookups finish with nobody to tell: no answer arrives.
    assert!(until(Duration::from_secs(5), || entries() == 0));
    assert!(rx.try_recv().is_err());
    assert_eq!(calls(), 1 + 1 + (THREADS - 1) + 1);
    // Idle threads exit.
    assert!(until(IDLE * 5, || threads() == 0), "{} threads", threads());

    a_waits_for_the_aaaa_lookup_of_its_name();
}

/// Records when each lookup's call starts and returns; AAAA lookups hang until the gate
/// opens.
#[derive(Default)]
struct Timed {
    gate: Gated,
    calls: Mutex<Vec<(QueryKind, Instant, Option<Instant>)>>,
}

impl Timed {
    fn resolve(&self, name: &str, kind: QueryKind) -> Answer {
        let at = self.calls.lock().unwrap().len();
        self.calls
            .lock()
            .unwrap()
            .push((kind, Instant::now(), None));
        let answer = match kind {
            QueryKind::Aaaa => self.gate.resolve(name, kind),
            _ => Ok(Reply::Addrs(Vec::new())),
        };
        self.calls.lock().unwrap()[at].2 = Some(Instant::now());
        answer
    }
}

/// R1 (part of the one pool test): an A lookup starts [`AAAA_HEAD_START`] after the AAAA
/// lookup of its name, while that one hangs, or once it returns, if sooner.
fn a_waits_for_the_aaaa_lookup_of_its_name() {
    let timed = Arc::new(Timed::default());
    let job = |kind| Job::new(&timed, "order.test", kind, |t, n, k| t.resolve(n, k));
    let (tx, rx) = mpsc::channel::<QueryKind>();
    let deliver = |kind| {
        let tx = tx.clone();
        move |_| {
            let _ = tx.send(kind);
        }
    };
    let group = Group::unique();
    let submitted = Instant::now();
    submit(job(QueryKind::Aaaa), group, deliver(QueryKind::Aaaa)).unwrap();
    let called = || timed.calls.lock().unwrap().len() == 1;
    assert!(until(Duration::from_secs(5), called));
    submit(job(QueryKind::A), group, deliver(QueryKind::A)).unwrap();
    // The AAAA lookup hangs: the A lookup runs after the head start, and answers.
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        QueryKind::A
    );
    let calls = timed.calls.lock().unwrap().clone();
    let [(QueryKind::Aaaa, _, None), (QueryKind::A, a, Some(_))] = calls[..] else {
        panic!("{calls:?}");
    };
    assert!(a.duration_since(submitted) >= AAAA_HEAD_START, "{calls:?}");
    *timed.gate.open.lock().unwrap() = true;
    timed.gate.opened.notify_all();
    assert_eq!(
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        QueryKind::Aaaa
    );

    // The AAAA lookup returns at once: the A lookup runs after it.
    timed.calls.lock().unwrap().clear();
    submit(job(QueryKind::Aaaa), group, deliver(QueryKind::Aaaa)).unwrap();
    submit(job(QueryKind::A), group, deliver(QueryKind::A)).unwrap();
    let mut answered = [
        rx.recv_timeout(Duration::from_secs(5)).unwrap(),
        QueryKind::A,
    ];
    answered[1] = rx.recv_timeout(Duration::from_secs(5)).unwrap();
    assert!(answered.contains(&QueryKind::Aaaa) && answered.contains(&QueryKind::A));
    let calls = timed.calls.lock().unwrap().clone();
    let [(QueryKind::Aaaa, _, Some(aaaa_returned)), (QueryKind::A, a, Some(_))] = calls[..] else {
        panic!("{calls:?}");
    };
    assert!(a >= aaaa_returned, "{calls:?}");
}

/// RFC 6761: the system's answer for a localhost name is ready at the first poll, so no
/// pool thread or queue entry is involved (a thread would answer only after the poll).
#[test]
fn a_localhost_name_is_answered_at_the_first_poll() {
    let waker = std::task::Waker::from(Arc::new(Flag::default()));
    let mut cx = Context::from_waker(&waker);
    for (name, kind, want) in [
        (
            "localhost",
            QueryKind::Aaaa,
            IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
        ),
        ("App.Localhost.", QueryKind::A, IpAddr::from([127, 0, 0, 1])),
    ] {
        let mut lookup = lookup(Job::system(name, kind));
        let Poll::Ready(answer) = Pin::new(&mut lookup).poll(&mut cx) else {
            panic!("{name}: not answered at the first poll");
        };
        assert_eq!(answer.unwrap().into_addrs(), vec![want], "{name}");
    }
}
