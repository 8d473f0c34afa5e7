//! A live view for one watcher: a server stream of one topic's events of one tenant (ordering's
//! `WatchOrders`, booking's `WatchReservations`), from the cache's pub/sub so every replica's
//! writes reach every replica's watchers. Each event is sent only while the watcher's session and
//! tenant still hold (asked of the gate, as the access layer asks on every call: the stream
//! outlives the call it let in), and an idle stream asks again every few seconds, so a view left
//! open after logout, disabling or archiving closes. It ends with UNAUTHENTICATED (UNAVAILABLE
//! when that cannot be checked).

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::Stream;
use tokio::sync::broadcast;

use crate::cache::{Cache, Event};
use crate::gate::Gate;
use crate::{Principal, TenantId};

/// How often an idle watch asks whether its caller's session still holds.
pub const RECHECK: Duration = Duration::from_secs(5);

/// What a watcher is told.
#[derive(Debug, Clone)]
pub enum Watched {
    /// One event of the topic, as published.
    Event(Bytes),
    /// Events may have been missed (a Redis reconnect, or the watcher fell behind): reload
    /// rather than show a stale picture.
    Resync,
}

/// A stream of a module's messages for a watch.
pub type WatchStream<T> = Pin<Box<dyn Stream<Item = Result<T, tonic::Status>> + Send>>;

/// One open watch.
pub struct TenantWatch {
    rx: broadcast::Receiver<Event>,
    gate: Arc<Gate>,
    principal: Principal,
    tenant: TenantId,
    topic: &'static str,
    recheck: tokio::time::Interval,
    ended: bool,
}

impl TenantWatch {
    /// Events of `topic` in `tenant` for `principal` (already let in for that tenant).
    pub fn new(
        cache: &Cache,
        gate: Arc<Gate>,
        principal: Principal,
        tenant: TenantId,
        topic: &'static str,
    ) -> Self {
        Self {
            rx: cache.subscribe(),
            gate,
            principal,
            tenant,
            topic,
            recheck: tokio::time::interval_at(tokio::time::Instant::now() + RECHECK, RECHECK),
            ended: false,
        }
    }

    /// The next thing to tell the watcher; `None` ends the stream.
    pub async fn next(&mut self) -> Option<Result<Watched, tonic::Status>> {
        use broadcast::error::RecvError;
        if self.ended {
            return None;
        }
        loop {
            let item = tokio::select! {
                r = self.rx.recv() => match r {
                    Ok(e) if e.tenant == Some(self.tenant) && e.topic == self.topic => {
                        Watched::Event(e.payload)
                    }
                    Ok(e) if e.tenant.is_none() => Watched::Resync,
                    Ok(_) => continue,
                    Err(RecvError::Lagged(_)) => Watched::Resync,
                    Err(RecvError::Closed) => return None,
                },
                _ = self.recheck.tick() => {
                    if let Err(refusal) = self.gate.check(&self.principal).await {
                        self.ended = true;
                        return Some(Err(refusal.into()));
                    }
                    continue;
                }
            };
            if let Err(refusal) = self.gate.check(&self.principal).await {
                self.ended = true;
                return Some(Err(refusal.into()));
            }
            return Some(Ok(item));
        }
    }

    /// The watch as a stream of a module's messages; `message` skips what it cannot decode.
    pub fn into_stream<T, F>(self, message: F) -> WatchStream<T>
    where
        T: Send + 'static,
        F: Fn(Watched) -> Option<T> + Send + Sync + 'static,
    {
        let message = Arc::new(message);
        Box::pin(futures::stream::unfold(self, move |mut w| {
            let message = message.clone();
            async move {
                loop {
                    match w.next().await? {
                        Ok(item) => {
                            if let Some(m) = message(item) {
                                return Some((Ok(m), w));
                            }
                        }
                        Err(e) => return Some((Err(e), w)),
                    }
                }
            }
        }))
    }
}
