//! The clock of one sample: its phases, their end marks, and the limits each phase runs under.
//!
//! Phases end at marks taken as the work happens (the socket's own instants for `send`, `ttfb`
//! and `transfer`, see [`crate::call`]); durations are derived once, at the end, as differences
//! of consecutive marks in whole microseconds, so they always add up to the total.

use std::time::{Duration, Instant};

use tokio::sync::watch;

use crate::call::Progress;
use crate::error::{ErrorClass, HintContext, ProbeError};
use crate::report::{self, FailedPhase, Phases, Sample};

/// The hint of samples cut short because the function is stopping.
const STOPPING_HINT: &str = "FC stopped the instance (scaling in, a new version or \
    configuration) while this probe ran: invoke again. APIGW_SHUTDOWN_GRACE_MS is how long \
    running probes may go on after SIGTERM.";

/// Fires when the function is stopping and its shutdown grace ran out: probes in flight then
/// end at once as `budget.exceeded`, with their phases so far, so that every request still
/// gets its report.
#[derive(Clone, Debug)]
pub struct Stopping(watch::Receiver<bool>);

impl Stopping {
    /// Fires once `true` is sent.
    pub fn new(receiver: watch::Receiver<bool>) -> Self {
        Self(receiver)
    }

    /// Never fires (the command line, tests).
    pub fn never() -> Self {
        Self(watch::channel(false).1)
    }

    pub(crate) async fn fired(&self) {
        let mut receiver = self.0.clone();
        // A closed channel (no sender) never fires.
        if receiver.wait_for(|stopping| *stopping).await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// The phases of a sample, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Phase {
    Dns = 0,
    Connect = 1,
    Tls = 2,
    Send = 3,
    Ttfb = 4,
    Transfer = 5,
}

impl Phase {
    const ALL: [Phase; 6] = [
        Phase::Dns,
        Phase::Connect,
        Phase::Tls,
        Phase::Send,
        Phase::Ttfb,
        Phase::Transfer,
    ];

    pub(crate) fn name(self) -> &'static str {
        ["dns", "connect", "tls", "send", "ttfb", "transfer"][self as usize]
    }

    /// This phase as the report's `failed_phase`.
    pub(crate) fn failed(self) -> FailedPhase {
        match self {
            Phase::Dns => FailedPhase::Dns,
            Phase::Connect => FailedPhase::Connect,
            Phase::Tls => FailedPhase::Tls,
            Phase::Send => FailedPhase::Send,
            Phase::Ttfb => FailedPhase::Ttfb,
            Phase::Transfer => FailedPhase::Transfer,
        }
    }

    /// The class of a timeout in this phase.
    pub(crate) fn timeout_class(self) -> ErrorClass {
        match self {
            Phase::Dns => ErrorClass::DnsTimeout,
            Phase::Connect => ErrorClass::TcpTimeout,
            Phase::Tls => ErrorClass::TlsTimeout,
            Phase::Send | Phase::Ttfb | Phase::Transfer => ErrorClass::HttpTimeout,
        }
    }
}

/// The instants of one sample. Phases end at their marks; durations are derived once, at the
/// end, as differences of consecutive marks, so they add up to the total exactly.
#[derive(Clone)]
pub(crate) struct Clock {
    start: Instant,
    sample_deadline: Instant,
    budget: Instant,
    ends: [Option<Instant>; 6],
    end: Option<Instant>,
    stopping: Stopping,
}

impl Clock {
    pub(crate) fn start(budget: Instant, sample_timeout: Duration, stopping: &Stopping) -> Self {
        let start = Instant::now();
        Self {
            start,
            sample_deadline: start + sample_timeout,
            budget,
            ends: [None; 6],
            end: None,
            stopping: stopping.clone(),
        }
    }

    pub(crate) fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Time from the start to the end of `phase` (zero while it has not ended).
    pub(crate) fn until(&self, phase: Phase) -> Duration {
        self.ends[phase as usize].map_or(Duration::ZERO, |t| t - self.start)
    }

    /// A phase that does not happen (no TLS on `http://`) lasts zero by construction, not a
    /// few microseconds of our code: it ends where the one before it ended.
    pub(crate) fn skip(&mut self, phase: Phase) {
        let before = (phase as usize).checked_sub(1).and_then(|i| self.ends[i]);
        self.ends[phase as usize] = before.or(Some(self.start));
    }

    pub(crate) fn mark(&mut self, phase: Phase) {
        self.ends[phase as usize] = Some(Instant::now());
    }

    /// The first phase without an end mark.
    pub(crate) fn current(&self) -> Phase {
        Phase::ALL
            .into_iter()
            .find(|p| self.ends[*p as usize].is_none())
            .unwrap_or(Phase::Transfer)
    }

    /// Takes the instants the socket saw: request written, first byte, body complete.
    pub(crate) fn wire(&mut self, p: &Progress) {
        if let Some(t) = p.sent {
            self.ends[Phase::Send as usize] = Some(t);
        }
        if let Some(t) = p.first_byte {
            self.ends[Phase::Ttfb as usize] = Some(t);
        }
        if let Some(t) = p.done {
            self.ends[Phase::Transfer as usize] = Some(t);
            self.end = Some(t);
        }
    }

    /// Runs `fut` within the phase's own limit, the sample's timeout and the invocation's
    /// budget, whichever ends first; a timeout is named after the phase, or after the budget.
    pub(crate) async fn limit<T>(
        &self,
        phase: Phase,
        phase_limit: Duration,
        ctx: &HintContext,
        fut: impl std::future::Future<Output = Result<T, ProbeError>>,
    ) -> Result<T, ProbeError> {
        let now = Instant::now();
        let fut = self.unless_stopping(phase, fut);
        let phase_deadline = now.checked_add(phase_limit).unwrap_or(self.sample_deadline);
        let deadline = phase_deadline.min(self.sample_deadline).min(self.budget);
        match tokio::time::timeout_at(deadline.into(), fut).await {
            Ok(result) => result,
            Err(_) => {
                let waited = report::ms(Instant::now() - now);
                if deadline == self.budget && self.budget < phase_deadline.min(self.sample_deadline)
                {
                    Err(ProbeError::new(
                        ErrorClass::BudgetExceeded,
                        format!(
                            "the invocation's time budget ran out during {} (after {waited:.0} ms in that phase)",
                            phase.name()
                        ),
                        ctx,
                    ))
                } else {
                    let limit = if deadline == self.sample_deadline {
                        "the sample timeout (timeout_ms / APIGW_TIMEOUT_MS)".to_owned()
                    } else {
                        format!("the {} limit", phase.name())
                    };
                    Err(ProbeError::new(
                        phase.timeout_class(),
                        format!(
                            "{} phase timed out after {waited:.0} ms ({limit})",
                            phase.name()
                        ),
                        ctx,
                    ))
                }
            }
        }
    }

    /// Runs `fut` until the function is stopping; then `budget.exceeded` at once.
    pub(crate) async fn unless_stopping<T>(
        &self,
        phase: Phase,
        fut: impl std::future::Future<Output = Result<T, ProbeError>>,
    ) -> Result<T, ProbeError> {
        let started = Instant::now();
        tokio::select! {
            // First, so that a phase that starts after the signal sends nothing.
            biased;
            () = self.stopping.fired() => Err(ProbeError {
                class: ErrorClass::BudgetExceeded,
                message: format!(
                    "the function is stopping (SIGTERM) and its shutdown grace ran out during {} \
                     (after {:.0} ms in that phase)",
                    phase.name(),
                    report::ms(started.elapsed())
                ),
                hint: STOPPING_HINT.into(),
            }),
            result = fut => result,
        }
    }

    /// Ends the sample with `error` in `phase`: that phase lasts until now, later ones are 0.
    pub(crate) fn fail(mut self, mut sample: Sample, phase: Phase, error: ProbeError) -> Sample {
        let now = Instant::now();
        // Marks the socket saw may run past the failing phase; the phase keeps the rest.
        for p in Phase::ALL {
            if p >= phase {
                self.ends[p as usize] = None;
            }
        }
        self.ends[phase as usize] = Some(now);
        self.end = Some(now);
        sample.phases_ms = self.phases();
        sample.ok = false;
        sample.failed_phase = Some(phase.failed());
        sample.error = Some(error);
        sample
    }

    pub(crate) fn phases(&self) -> Phases {
        let end = self.end.unwrap_or_else(Instant::now);
        // Whole microseconds throughout: the report shows microseconds, and integer sums keep
        // `7.953` from becoming `7.952999999999999` when the remainder is added below.
        let mut prev = self.start;
        let mut out = [0u128; 6];
        for p in Phase::ALL {
            let at = self.ends[p as usize].map(|t| t.max(prev).min(end));
            if let Some(t) = at {
                out[p as usize] = (t - self.start).as_micros() - (prev - self.start).as_micros();
                prev = t;
            }
        }
        // Whatever is left (e.g. hyper's handshake before the first write) belongs to the last
        // phase reached, so that the phases add up to the total.
        let total = (end - self.start).as_micros();
        let sum: u128 = out.iter().sum();
        let last = Phase::ALL
            .into_iter()
            .rev()
            .find(|p| self.ends[*p as usize].is_some())
            .unwrap_or(Phase::Dns);
        out[last as usize] += total.saturating_sub(sum);
        let ms = |us: u128| us as f64 / 1000.0;
        Phases {
            dns: ms(out[0]),
            connect: ms(out[1]),
            tls: ms(out[2]),
            send: ms(out[3]),
            ttfb: ms(out[4]),
            transfer: ms(out[5]),
            total: ms(total),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phases_add_up_to_the_total_on_success_and_failure() {
        let base = Instant::now();
        let at = |us: u64| base + Duration::from_micros(us);
        let mut clock = Clock {
            start: base,
            sample_deadline: at(10_000_000),
            budget: at(10_000_000),
            ends: [None; 6],
            end: None,
            stopping: Stopping::never(),
        };
        clock.ends = [
            Some(at(1_234)),
            Some(at(1_900)),
            Some(at(1_901)),
            None,
            None,
            None,
        ];
        clock.wire(&Progress {
            sent: Some(at(2_000)),
            first_byte: Some(at(7_777)),
            done: Some(at(8_001)),
            ..Progress::default()
        });
        let p = clock.phases();
        assert_eq!(p.dns, 1.234);
        assert_eq!(p.ttfb, 5.777);
        assert_eq!(p.total, 8.001);
        let sum = p.dns + p.connect + p.tls + p.send + p.ttfb + p.transfer;
        assert!((sum - p.total).abs() < 1e-9, "{p:?}");

        let clock = Clock::start(
            Instant::now() + Duration::from_secs(1),
            Duration::from_secs(1),
            &Stopping::never(),
        );
        let sample = Sample::default();
        std::thread::sleep(Duration::from_millis(2));
        let failed = clock.fail(sample, Phase::Connect, ProbeError::config("x"));
        let p = failed.phases_ms;
        assert!(!failed.ok);
        assert_eq!(failed.failed_phase, Some(FailedPhase::Connect));
        assert!(p.connect >= 2.0 && p.total >= p.connect, "{p:?}");
        let sum = p.dns + p.connect + p.tls + p.send + p.ttfb + p.transfer;
        assert!((sum - p.total).abs() < 1e-9, "{p:?}");
    }

    #[tokio::test]
    async fn a_stopping_function_ends_the_phase_in_flight_as_budget_exceeded() {
        let (stop, receiver) = watch::channel(false);
        let stopping = Stopping::new(receiver);
        let clock = Clock::start(
            Instant::now() + Duration::from_secs(60),
            Duration::from_secs(60),
            &stopping,
        );
        let ctx = HintContext::default();
        let waiting = clock.limit(Phase::Ttfb, Duration::MAX, &ctx, async {
            std::future::pending::<Result<(), ProbeError>>().await
        });
        let started = Instant::now();
        let (result, ()) = tokio::join!(waiting, async {
            tokio::time::sleep(Duration::from_millis(50)).await;
            let _ = stop.send(true);
        });
        let e = result.unwrap_err();
        assert_eq!(e.class, ErrorClass::BudgetExceeded);
        assert!(
            e.message.contains("stopping") && e.message.contains("ttfb"),
            "{e}"
        );
        assert!(e.hint.contains("APIGW_SHUTDOWN_GRACE_MS"), "{e}");
        assert!(started.elapsed() < Duration::from_secs(5));
        // A phase that starts afterwards does not run at all.
        let ran = std::sync::atomic::AtomicBool::new(false);
        let e = clock
            .limit(Phase::Dns, Duration::MAX, &ctx, async {
                ran.store(true, std::sync::atomic::Ordering::SeqCst);
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(e.class, ErrorClass::BudgetExceeded);
        assert!(!ran.load(std::sync::atomic::Ordering::SeqCst));
    }

    #[test]
    fn phases_are_whole_microseconds_that_add_up() {
        // Marks between microseconds: per-phase truncation used to leave a remainder of a
        // microsecond that, added as a float, showed as 7.952999999999999.
        let base = Instant::now();
        for step in 0..500u64 {
            let at = |ns: u64| base + Duration::from_nanos(ns);
            let clock = Clock {
                start: base,
                sample_deadline: at(u64::MAX / 4),
                budget: at(u64::MAX / 4),
                ends: [
                    Some(at(1_500 + step * 7)),
                    Some(at(3_000 + step * 13)),
                    Some(at(3_000 + step * 13)),
                    Some(at(4_999 + step * 17)),
                    Some(at(6_451_500 + step * 1_001)),
                    Some(at(7_952_999 + step * 1_999)),
                ],
                end: Some(at(7_953_700 + step * 1_999)),
                stopping: Stopping::never(),
            };
            let p = clock.phases();
            let mut sum_us = 0u64;
            for (name, v) in p.named().into_iter().chain([("total", p.total)]) {
                let text = serde_json::to_string(&v).unwrap();
                let decimals = text.split_once('.').map_or(0, |(_, d)| d.len());
                assert!(decimals <= 3, "{name} = {text} (step {step})");
                if name != "total" {
                    sum_us += (v * 1000.0).round() as u64;
                }
            }
            assert_eq!(sum_us, (p.total * 1000.0).round() as u64, "{p:?}");
        }
    }
}
