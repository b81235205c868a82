//! The background runners started with the server (`MEJORA_BACKGROUND`, on by default):
//! asynchronous uploads ([`super::finding_imports::jobs::work`]), due-date reminders
//! ([`super::reminders::schedule`]), notifications ([`super::notifications::work`]) and webhook
//! delivery ([`super::webhooks::dispatch::Dispatcher::run`], switched by
//! `MEJORA_WEBHOOK_DISPATCH_INTERVAL`, not by `MEJORA_BACKGROUND`). Each
//! replica runs them; the database keeps them from doing the same work twice. [`Runners::stop`]
//! asks them to stop and waits for the work in progress.
use super::finding_imports::jobs::{self, RunnerSettings};
use super::mail::Mailer;
use super::spreadsheet::Limits as SheetLimits;
use super::storage::Storage;
use crate::config::Config;
use sea_orm::DatabaseConnection;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The running tasks.
#[derive(Debug)]
pub struct Runners {
    stop: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts the runners `config` asks for (none with `MEJORA_BACKGROUND=off`).
pub fn start(db: &DatabaseConnection, storage: &Storage, config: &Config) -> anyhow::Result<Runners> {
    let (stop, watch) = watch::channel(false);
    let mut tasks = Vec::new();
    let mailer = config.smtp.as_ref().map(Mailer::new).transpose()?;
    if let Some(interval) = config.webhooks.dispatch_interval {
        let dispatcher = super::webhooks::dispatch::Dispatcher::new(db.clone(), &config.webhooks)?;
        tasks.push(tokio::spawn(dispatcher.run(interval, watch.clone())));
    }
    if config.background.enabled {
        let settings = RunnerSettings {
            poll: config.background.poll,
            lease: config.background.import_lease,
            sheet_limits: SheetLimits::findings().with(&config.sheet_limits),
            matrix_limits: SheetLimits::matrix().with(&config.sheet_limits),
        };
        tasks.push(tokio::spawn(jobs::work(db.clone(), storage.clone(), settings, watch.clone())));
        tasks.push(tokio::spawn(super::reminders::schedule(
            db.clone(),
            config.background.reminder_interval,
            watch.clone(),
        )));
        tasks.push(tokio::spawn(super::notifications::work(db.clone(), mailer, config.background.poll, watch)));
    }
    Ok(Runners { stop, tasks })
}

impl Runners {
    /// Asks every runner to stop and waits up to `timeout` for the work in progress; a runner
    /// still busy then is cancelled (its open transaction rolls back; an upload it was running
    /// is claimed again once its lease expires).
    pub async fn stop(self, timeout: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + timeout;
        for task in self.tasks {
            let abort = task.abort_handle();
            if tokio::time::timeout_at(deadline, task).await.is_err() {
                tracing::warn!("a background runner did not stop within MEJORA_SHUTDOWN_TIMEOUT; it was cancelled");
                abort.abort();
            }
        }
    }
}
