//! Group commit: short writes of one tenant that arrive together share one transaction.
//!
//! Measured on the order path (bench/README.md, "Where a write's time goes"), a write's cost was
//! mostly not its statement but what surrounds it: on PostgreSQL the round trips to begin and
//! commit and the commit's own work, on SQLite the one writer handed from statement to statement.
//! Under load many orders of a shop are at the same step at once, so here the writes of one
//! step and tenant queue in the process and one task runs whatever is queued in one transaction,
//! one write after the other, and commits once for all of them. Without load a group is one write,
//! run exactly as before; under load a write waits at most for the group ahead of it.
//!
//! What a write may rely on is what its own transaction gave it:
//! - **All or nothing, for each write.** A write that fails (any error, a refusal included) rolls
//!   its group back; then every write of that group runs again alone, in a transaction of its own,
//!   so the failed one answers its own error and the others are kept. So a write must be
//!   repeatable: statements only, no effect outside the database before it is answered.
//! - **Durable when answered.** Nobody is answered before the group has committed. A commit that
//!   fails answers its error to every write of the group: whether it landed is as unknown as
//!   for one write's commit, so nothing is run again.
//! - **Isolation as one transaction.** Writes of one group see each other's rows, in arrival order.
//!   They are writes of one step of one module (one [`Group`] each), which touch rows of their
//!   own (an order, a reservation), so that is what they would have seen a moment later anyway.
//!   Groups of one step and tenant run one at a time, so two groups of a step never wait for each
//!   other's locks in opposite order.
//! - **Not cancelled by its caller.** The group runs in a task of its own: a caller that goes away
//!   leaves its write to finish (or not) with the others, as a placement in its own task does.
//!
//! On SQLite the group holds the writer's turn ([`TenantScope::begin_write`]) for its transaction,
//! which is the one writer the statements would have queued for one by one. On PostgreSQL it is a
//! scoped transaction (row-level security set to the tenant), so a group never mixes tenants.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::future::BoxFuture;
use sea_orm::{DatabaseConnection, DbErr};
use tokio::sync::oneshot;

use crate::ids::TenantId;
use crate::scope::{ScopedTxn, TenantScope};

/// The most writes one transaction carries: enough to take a burst of 64 connections in two,
/// few enough that a group's locks and its last write's wait stay short.
const MOST: usize = 32;

/// One step's writes of every tenant (see the module docs): a module holds one per step it
/// groups, e.g. ordering's "insert the order".
pub struct Group {
    name: &'static str,
    queues: Queues<Box<dyn Write>>,
    /// Transactions begun, grouped or alone (what the grouping saves shows against the writes).
    transactions: Arc<std::sync::atomic::AtomicU64>,
}

impl std::fmt::Debug for Group {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Group")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// Each tenant's queue of a step; a tenant idle for a minute needs none, and one in use is never
/// idle.
type Queues<W> = moka::sync::Cache<TenantId, Arc<Queue<W>>>;

/// One tenant's writes waiting for the next group, and whether a task is running groups.
struct Queue<W> {
    state: Mutex<State<W>>,
}

struct State<W> {
    waiting: Vec<W>,
    running: bool,
}

impl<W> Default for Queue<W> {
    fn default() -> Self {
        Self {
            state: Mutex::new(State {
                waiting: Vec::new(),
                running: false,
            }),
        }
    }
}

impl<W: Send + 'static> Queue<W> {
    /// Queues a write, and starts the task that runs the queue's groups with `run` unless one
    /// is running.
    fn push<F, Fut>(self: Arc<Self>, name: &'static str, write: W, run: F)
    where
        F: FnMut(Vec<W>) -> Fut + Send + 'static,
        Fut: std::future::Future<Output = ()> + Send + 'static,
    {
        let start = {
            let mut state = lock(&self.state);
            state.waiting.push(write);
            !std::mem::replace(&mut state.running, true)
        };
        if start {
            tokio::spawn(drain(name, self, run));
        }
    }
}

/// What a caller hears when the task running its group died before answering (a panic in a
/// write).
fn stopped<E: From<DbErr>>(name: &str) -> E {
    E::from(DbErr::Custom(format!(
        "the {name} group stopped before answering"
    )))
}

/// Runs groups of the tenant's waiting writes, at most [`MOST`] each, until none wait.
async fn drain<W, F, Fut>(name: &'static str, queue: Arc<Queue<W>>, mut run: F)
where
    F: FnMut(Vec<W>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    // Should a write panic, the writes still waiting are answered (with an error) and the next
    // caller finds the queue stopped and starts it again.
    struct Stop<'q, W>(&'q Queue<W>, bool);
    impl<W> Drop for Stop<'_, W> {
        fn drop(&mut self) {
            if !self.1 {
                let mut state = lock(&self.0.state);
                state.running = false;
                state.waiting.clear();
            }
        }
    }
    let mut stop = Stop(&queue, false);
    loop {
        let group: Vec<W> = {
            let mut state = lock(&stop.0.state);
            if state.waiting.is_empty() {
                state.running = false;
                drop(state);
                stop.1 = true;
                return;
            }
            let n = state.waiting.len().min(MOST);
            state.waiting.drain(..n).collect()
        };
        metrics::histogram!("mm_group_commit_writes", "group" => name).record(group.len() as f64);
        run(group).await;
    }
}

impl Group {
    /// A group named for its metrics (`mm_group_commit_writes{group}`).
    pub fn new(name: &'static str) -> Self {
        Self {
            name,
            // A tenant idle for a minute needs no queue; a queue in use is never idle.
            queues: moka::sync::Cache::builder()
                .time_to_idle(Duration::from_secs(60))
                .build(),
            transactions: Default::default(),
        }
    }

    /// Transactions this group has begun so far.
    pub fn transactions(&self) -> u64 {
        self.transactions.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Runs `work` on `input` in a transaction of the scope's tenant, shared with the writes of
    /// this group that are waiting with it, and answers what `work` answered once that
    /// transaction has committed. `work` may run more than once (see the module docs): it must
    /// only run statements on the transaction it is given.
    pub async fn run<I, T, E, F>(
        &self,
        db: &DatabaseConnection,
        scope: &TenantScope,
        input: I,
        work: F,
    ) -> Result<T, E>
    where
        I: Send + Sync + 'static,
        T: Send + 'static,
        E: From<DbErr> + Send + 'static,
        F: for<'t> Fn(&'t ScopedTxn, &'t I) -> BoxFuture<'t, Result<T, E>> + Send + Sync + 'static,
    {
        let (reply, answer) = oneshot::channel();
        let job = Box::new(Job {
            input,
            work,
            out: None,
            reply: Some(reply),
        });
        let (db, scope, transactions, name) =
            (db.clone(), *scope, self.transactions.clone(), self.name);
        self.queues
            .get_with(scope.tenant(), Default::default)
            .push(self.name, job, move |group| {
                let (db, transactions) = (db.clone(), transactions.clone());
                async move { run_group(name, &db, &scope, &transactions, group).await }
            });
        answer.await.unwrap_or_else(|_| Err(stopped(self.name)))
    }
}

/// Counts writes run again alone after their group failed (`mm_group_commit_alone{group}`): a
/// step whose groups keep failing loses what grouping saves, and only this shows it.
fn alone(name: &'static str, writes: usize) {
    metrics::counter!("mm_group_commit_alone", "group" => name).increment(writes as u64);
}

async fn run_group(
    name: &'static str,
    db: &DatabaseConnection,
    scope: &TenantScope,
    transactions: &std::sync::atomic::AtomicU64,
    mut group: Vec<Box<dyn Write>>,
) {
    use std::sync::atomic::Ordering::Relaxed;
    if group.len() > 1 {
        transactions.fetch_add(1, Relaxed);
        match together(db, scope, &mut group).await {
            Ok(()) => {
                for job in group {
                    job.answer();
                }
                return;
            }
            Err(Failed::Commit(e)) => {
                for mut job in group {
                    job.fail(e.clone());
                    job.answer();
                }
                return;
            }
            // A write failed, or the group could not begin: each alone, as if never grouped.
            Err(Failed::Write) => alone(name, group.len()),
        }
    }
    for mut job in group {
        transactions.fetch_add(1, Relaxed);
        match scope.begin_write(db).await {
            Ok(txn) => {
                if job.run(&txn).await {
                    if let Err(e) = txn.commit().await {
                        job.fail(e);
                    }
                } else {
                    let _ = txn.rollback().await;
                }
            }
            Err(e) => job.fail(e),
        }
        job.answer();
    }
}

enum Failed {
    Write,
    Commit(DbErr),
}

async fn together(
    db: &DatabaseConnection,
    scope: &TenantScope,
    group: &mut [Box<dyn Write>],
) -> Result<(), Failed> {
    let txn = scope.begin_write(db).await.map_err(|_| Failed::Write)?;
    for job in group.iter_mut() {
        if !job.run(&txn).await {
            let _ = txn.rollback().await;
            return Err(Failed::Write);
        }
    }
    txn.commit().await.map_err(Failed::Commit)
}

/// A step whose group is written by one function for all its writes: a statement or two for
/// the group (one multi-row insert, one update of many rows) instead of a few for each write.
/// Everything the module docs say of a [`Group`] holds; in addition, when the group fails, each
/// write is run again alone as a batch of one, so `work` must answer a batch of one exactly as the
/// write alone would be answered.
///
/// Measured on create order (bench/README.md, "Eighth round"): a group's statements run one
/// after the other on one connection, each a round trip, and the next group of the step waits for
/// them all; one statement for the group keeps that wait short. A group of more than one is handed
/// to `work` in slices whose lengths are powers of two (see [`in_sizes`]), so `work` sees at
/// most six lengths of batch, each a statement text every pooled connection keeps prepared.
pub struct Batch<I, T, E> {
    name: &'static str,
    queues: Queues<Waiting<I, T, E>>,
    transactions: Arc<std::sync::atomic::AtomicU64>,
    work: Arc<BatchWork<I, T, E>>,
}

/// What writes a batch, in a transaction of the scope's tenant: its answers, one per input in the
/// inputs' order.
pub type BatchWork<I, T, E> = dyn for<'t> Fn(&'t ScopedTxn, &'t TenantScope, &'t [I]) -> BoxFuture<'t, Result<Vec<T>, E>>
    + Send
    + Sync;

impl<I, T, E> std::fmt::Debug for Batch<I, T, E> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Batch")
            .field("name", &self.name)
            .finish_non_exhaustive()
    }
}

/// A write waiting in a batch's queue, and whom to tell.
type Waiting<I, T, E> = (I, oneshot::Sender<Result<T, E>>);

impl<I, T, E> Batch<I, T, E>
where
    I: Send + Sync + 'static,
    T: Send + 'static,
    E: From<DbErr> + Send + 'static,
{
    /// A batch named for its metrics (`mm_group_commit_writes{group}`), written by `work`.
    pub fn new<F>(name: &'static str, work: F) -> Self
    where
        F: for<'t> Fn(&'t ScopedTxn, &'t TenantScope, &'t [I]) -> BoxFuture<'t, Result<Vec<T>, E>>
            + Send
            + Sync
            + 'static,
    {
        Self {
            name,
            queues: moka::sync::Cache::builder()
                .time_to_idle(Duration::from_secs(60))
                .build(),
            transactions: Default::default(),
            work: Arc::new(work),
        }
    }

    /// Transactions this batch has begun so far.
    pub fn transactions(&self) -> u64 {
        self.transactions.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Writes `input` with the writes of the scope's tenant waiting with it, and answers its
    /// answer once their transaction has committed.
    pub async fn run(
        &self,
        db: &DatabaseConnection,
        scope: &TenantScope,
        input: I,
    ) -> Result<T, E> {
        let (reply, answer) = oneshot::channel();
        let (db, scope, name) = (db.clone(), *scope, self.name);
        let (transactions, work) = (self.transactions.clone(), self.work.clone());
        self.queues.get_with(scope.tenant(), Default::default).push(
            self.name,
            (input, reply),
            move |batch| {
                let (db, transactions, work) = (db.clone(), transactions.clone(), work.clone());
                async move { run_batch(name, &db, &scope, &transactions, work.as_ref(), batch).await }
            },
        );
        answer.await.unwrap_or_else(|_| Err(stopped(self.name)))
    }
}

async fn run_batch<I, T, E>(
    name: &'static str,
    db: &DatabaseConnection,
    scope: &TenantScope,
    transactions: &std::sync::atomic::AtomicU64,
    work: &BatchWork<I, T, E>,
    batch: Vec<Waiting<I, T, E>>,
) where
    E: From<DbErr>,
{
    use std::sync::atomic::Ordering::Relaxed;
    let (inputs, replies): (Vec<I>, Vec<_>) = batch.into_iter().unzip();
    if inputs.len() > 1 {
        transactions.fetch_add(1, Relaxed);
        if let Ok(txn) = scope.begin_write(db).await {
            match in_sizes(&txn, scope, work, &inputs).await {
                Some(outs) => {
                    match txn.commit().await {
                        Ok(()) => {
                            for (reply, out) in replies.into_iter().zip(outs) {
                                let _ = reply.send(Ok(out));
                            }
                        }
                        // Whether it landed is unknown, as for one write's commit: nothing is
                        // run again.
                        Err(e) => {
                            for reply in replies {
                                let _ = reply.send(Err(E::from(e.clone())));
                            }
                        }
                    }
                    return;
                }
                // A write failed (or the answers do not match the writes): each alone, as if
                // never batched, so the failed one answers its own error.
                None => {
                    let _ = txn.rollback().await;
                }
            }
        }
        alone(name, inputs.len());
    }
    for (input, reply) in inputs.into_iter().zip(replies) {
        transactions.fetch_add(1, Relaxed);
        let answer = match scope.begin_write(db).await {
            Ok(txn) => match work(&txn, scope, std::slice::from_ref(&input)).await {
                Ok(mut outs) => match (outs.pop(), outs.is_empty()) {
                    (Some(out), true) => txn.commit().await.map(|()| out).map_err(E::from),
                    _ => {
                        let _ = txn.rollback().await;
                        Err(E::from(DbErr::Custom(
                            "a write alone was not answered once".into(),
                        )))
                    }
                },
                Err(e) => {
                    let _ = txn.rollback().await;
                    Err(e)
                }
            },
            Err(e) => Err(E::from(e)),
        };
        let _ = reply.send(answer);
    }
}

/// Runs `work` on the inputs in slices whose lengths are powers of two, largest first (23 is
/// 16 + 4 + 2 + 1), and their answers in the inputs' order; `None` when a slice fails or is not
/// answered once per input.
///
/// Each length of slice is a statement text of its own, which every pooled connection prepares
/// and keeps in its statement cache: with a slice of any length up to [`MOST`], a multi-row insert
/// of 28 columns left the server on PostgreSQL about 25 MB larger after the benchmark
/// (bench/README.md, "Ninth round"). Powers of two keep that to six texts of each statement for a
/// few more round trips (at most five per group, as for 31; about two and a half on average).
async fn in_sizes<I, T, E>(
    txn: &ScopedTxn,
    scope: &TenantScope,
    work: &BatchWork<I, T, E>,
    inputs: &[I],
) -> Option<Vec<T>> {
    let mut outs = Vec::with_capacity(inputs.len());
    let mut rest = inputs;
    while !rest.is_empty() {
        let (slice, tail) = rest.split_at(1 << rest.len().ilog2());
        match work(txn, scope, slice).await {
            Ok(answers) if answers.len() == slice.len() => outs.extend(answers),
            _ => return None,
        }
        rest = tail;
    }
    Some(outs)
}

/// A queued write with its input, its answer once run, and whom to tell.
trait Write: Send {
    /// Runs the write on the transaction; whether it succeeded.
    fn run<'t>(&'t mut self, txn: &'t ScopedTxn) -> BoxFuture<'t, bool>;
    /// Replaces the answer with a failure of the transaction.
    fn fail(&mut self, e: DbErr);
    /// Sends the answer.
    fn answer(self: Box<Self>);
}

struct Job<I, T, E, F> {
    input: I,
    work: F,
    out: Option<Result<T, E>>,
    reply: Option<oneshot::Sender<Result<T, E>>>,
}

impl<I, T, E, F> Write for Job<I, T, E, F>
where
    I: Send + Sync + 'static,
    T: Send + 'static,
    E: From<DbErr> + Send + 'static,
    F: for<'t> Fn(&'t ScopedTxn, &'t I) -> BoxFuture<'t, Result<T, E>> + Send + Sync + 'static,
{
    fn run<'t>(&'t mut self, txn: &'t ScopedTxn) -> BoxFuture<'t, bool> {
        Box::pin(async move {
            let out = (self.work)(txn, &self.input).await;
            let ok = out.is_ok();
            self.out = Some(out);
            ok
        })
    }

    fn fail(&mut self, e: DbErr) {
        self.out = Some(Err(E::from(e)));
    }

    fn answer(mut self: Box<Self>) {
        if let (Some(reply), Some(out)) = (self.reply.take(), self.out.take()) {
            // A caller that went away does not hear it; the write stands as it would have alone.
            let _ = reply.send(out);
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use sea_orm::{ConnectionTrait, Statement};

    use super::*;

    /// Needs the PostgreSQL the test command starts (127.0.0.1:5432, trust).
    const PG: &str = "postgres://postgres@127.0.0.1:5432/postgres";

    async fn table(url: &str) -> (DatabaseConnection, String) {
        let db = sea_orm::Database::connect(url).await.expect("connect");
        let name = format!("mm_group_test_{}", uuid::Uuid::now_v7().simple());
        db.execute_unprepared(&format!("CREATE TABLE {name} (id BIGINT PRIMARY KEY)"))
            .await
            .expect("create");
        (db, name)
    }

    async fn rows(db: &DatabaseConnection, name: &str) -> Vec<i64> {
        let sql = format!("SELECT id FROM {name} ORDER BY id");
        let found = db
            .query_all_raw(Statement::from_string(db.get_database_backend(), sql))
            .await
            .expect("select");
        found
            .iter()
            .map(|r| r.try_get_by_index::<i64>(0).expect("id"))
            .collect()
    }

    /// Inserts each id of `ids` in turn; answers the last.
    fn insert<'t>(
        txn: &'t ScopedTxn,
        input: &'t (String, Vec<i64>),
    ) -> BoxFuture<'t, Result<i64, DbErr>> {
        Box::pin(async move {
            let (name, ids) = input;
            for id in ids {
                let sql = format!("INSERT INTO {name} (id) VALUES ({id})");
                txn.execute_unprepared(&sql).await?;
            }
            Ok(*ids.last().unwrap_or(&0))
        })
    }

    async fn writes_arriving_together_share_a_transaction_and_keep_their_own_answers(url: &str) {
        let (db, name) = table(url).await;
        let group = Group::new("test");
        let scope = TenantScope::new(TenantId::new());
        // Write 7 also inserts 1 (write 1's row): it fails, and so does its own first row.
        let answers = futures::future::join_all((0..64_i64).map(|i| {
            let ids = if i == 7 { vec![1007, 1] } else { vec![i] };
            group.run(&db, &scope, (name.clone(), ids), insert)
        }))
        .await;
        for (i, answer) in (0_i64..).zip(&answers) {
            match (i, answer) {
                (7, Err(_)) => {}
                (7, Ok(_)) => panic!("the write that broke a key must fail"),
                (i, Ok(id)) => assert_eq!(*id, i, "each write answers its own result"),
                (i, Err(e)) => panic!("write {i} failed with the group: {e}"),
            }
        }
        let expected: Vec<i64> = (0..64).filter(|i| *i != 7).collect();
        assert_eq!(
            rows(&db, &name).await,
            expected,
            "all but the failed write, and none of it"
        );
        // 64 queued before the group's task ran: two groups of 32, the first of which failed and
        // ran again one write at a time.
        assert_eq!(
            group.transactions(),
            2 + 32,
            "grouped, then alone after a failure"
        );

        // A caller that goes away does not take its write with it.
        let before = group.transactions();
        let mut gone = Box::pin(group.run(&db, &scope, (name.clone(), vec![500]), insert));
        assert!(futures::poll!(gone.as_mut()).is_pending());
        drop(gone);
        let after = group
            .run(&db, &scope, (name.clone(), vec![501]), insert)
            .await;
        assert_eq!(after.expect("the next write"), 501);
        assert!(rows(&db, &name).await.ends_with(&[500, 501]));
        assert_eq!(group.transactions(), before + 1, "the two went together");

        db.execute_unprepared(&format!("DROP TABLE {name}"))
            .await
            .expect("drop");
    }

    /// Inserts every id of the batch in one statement; answers each write's id.
    fn insert_all<'t>(
        txn: &'t ScopedTxn,
        _scope: &'t TenantScope,
        rows: &'t [(String, i64)],
    ) -> BoxFuture<'t, Result<Vec<i64>, DbErr>> {
        Box::pin(async move {
            let Some((name, _)) = rows.first() else {
                return Ok(Vec::new());
            };
            let values: Vec<String> = rows.iter().map(|(_, id)| format!("({id})")).collect();
            let sql = format!("INSERT INTO {name} (id) VALUES {}", values.join(", "));
            txn.execute_unprepared(&sql).await?;
            Ok(rows.iter().map(|(_, id)| *id).collect())
        })
    }

    async fn batched_writes_share_a_statement_and_keep_their_own_answers(url: &str) {
        let (db, name) = table(url).await;
        let batch = Batch::new("test", insert_all);
        let scope = TenantScope::new(TenantId::new());
        // Write 7 inserts write 1's id: the batch's statement fails, and then so does write 7
        // alone, while write 1 and the others land.
        let answers = futures::future::join_all((0..64_i64).map(|i| {
            let id = if i == 7 { 1 } else { i };
            batch.run(&db, &scope, (name.clone(), id))
        }))
        .await;
        for (i, answer) in (0_i64..).zip(&answers) {
            match (i, answer) {
                (7, Err(_)) => {}
                (7, Ok(_)) => panic!("the write that broke a key must fail"),
                (i, Ok(id)) => assert_eq!(*id, i, "each write answers its own result"),
                (i, Err(e)) => panic!("write {i} failed with the batch: {e}"),
            }
        }
        let expected: Vec<i64> = (0..64).filter(|i| *i != 7).collect();
        assert_eq!(rows(&db, &name).await, expected);
        // Two batches of 32, the first of which failed and ran again one write at a time.
        assert_eq!(batch.transactions(), 2 + 32);
        db.execute_unprepared(&format!("DROP TABLE {name}"))
            .await
            .expect("drop");
    }

    /// A group of 23 reaches `work` as slices of 16, 4, 2 and 1, in one transaction, answered in
    /// the writes' order.
    async fn a_batch_is_written_in_slices_of_powers_of_two(url: &str) {
        let (db, name) = table(url).await;
        let slices = Arc::new(Mutex::new(Vec::new()));
        let seen = slices.clone();
        let batch = Batch::new("test", move |txn, scope, rows: &[(String, i64)]| {
            lock(&seen).push(rows.len());
            insert_all(txn, scope, rows)
        });
        let scope = TenantScope::new(TenantId::new());
        let answers = futures::future::join_all(
            (0..23_i64).map(|i| batch.run(&db, &scope, (name.clone(), i))),
        )
        .await;
        let answers: Vec<i64> = answers.into_iter().map(|a| a.expect("write")).collect();
        assert_eq!(answers, (0..23).collect::<Vec<_>>());
        assert_eq!(*lock(&slices), [16, 4, 2, 1]);
        assert_eq!(batch.transactions(), 1);
        assert_eq!(rows(&db, &name).await, (0..23).collect::<Vec<_>>());
        db.execute_unprepared(&format!("DROP TABLE {name}"))
            .await
            .expect("drop");
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_batch_slices() {
        on_sqlite(|url| async move { a_batch_is_written_in_slices_of_powers_of_two(&url).await })
            .await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn postgres_batch_slices() {
        a_batch_is_written_in_slices_of_powers_of_two(PG).await;
    }

    /// Runs `test` on a fresh SQLite file.
    async fn on_sqlite<F: std::future::Future<Output = ()>>(test: impl FnOnce(String) -> F) {
        let dir = std::env::temp_dir().join(format!("mm-group-{}", uuid::Uuid::now_v7()));
        std::fs::create_dir_all(&dir).expect("dir");
        test(format!("sqlite://{}?mode=rwc", dir.join("t.db").display())).await;
        let _ = std::fs::remove_dir_all(dir);
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_batches_writes() {
        on_sqlite(|url| async move {
            batched_writes_share_a_statement_and_keep_their_own_answers(&url).await
        })
        .await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn postgres_batches_writes() {
        batched_writes_share_a_statement_and_keep_their_own_answers(PG).await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn sqlite_groups_writes() {
        on_sqlite(|url| async move {
            writes_arriving_together_share_a_transaction_and_keep_their_own_answers(&url).await
        })
        .await;
    }

    #[tokio::test(flavor = "current_thread")]
    async fn postgres_groups_writes() {
        writes_arriving_together_share_a_transaction_and_keep_their_own_answers(PG).await;
    }
}
