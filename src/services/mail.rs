//! Outgoing e-mail (`MEJORA_SMTP_URL`), for notifications and reminders. Optional: without
//! the variable nothing is sent. Mail is sent after the notification is committed, best
//! effort: a failure is logged and counted, and the notification stays in `/me/notifications`.
use crate::config::Smtp;
use lettre::message::header::ContentType;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use secrecy::ExposeSecret;
use std::time::Duration;

/// An SMTP client; cheap to clone.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl std::fmt::Debug for Mailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from.to_string()).finish_non_exhaustive()
    }
}

/// The URL without its password, for the start-up log.
pub fn describe(smtp: &Smtp) -> String {
    let url = smtp.url.expose_secret();
    match url::Url::parse(url) {
        Ok(mut parsed) => {
            if parsed.password().is_some() {
                let _ = parsed.set_password(Some("***"));
            }
            format!("{parsed} (from {})", smtp.from)
        }
        Err(_) => "an unreadable MEJORA_SMTP_URL".into(),
    }
}

impl Mailer {
    /// A client for `smtp` (`smtps://…` TLS, `smtp://…?tls=required` STARTTLS, `smtp://…`
    /// plain for a local relay); connections time out after 15 s.
    pub fn new(smtp: &Smtp) -> anyhow::Result<Self> {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(smtp.url.expose_secret())
            .map_err(|e| anyhow::anyhow!("MEJORA_SMTP_URL: {e}"))?
            .timeout(Some(Duration::from_secs(15)))
            .build();
        let from = smtp.from.parse().map_err(|e| anyhow::anyhow!("MEJORA_SMTP_FROM is not an address: {e}"))?;
        Ok(Mailer { transport, from })
    }

    /// Sends one plain-text mail (UTF-8).
    pub async fn send(&self, to: &str, subject: &str, body: &str) -> anyhow::Result<()> {
        let to: Mailbox = to.parse().map_err(|e| anyhow::anyhow!("recipient {to}: {e}"))?;
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .header(ContentType::TEXT_PLAIN)
            .body(body.to_string())
            .map_err(|e| anyhow::anyhow!("building a mail: {e}"))?;
        self.transport.send(message).await.map_err(|e| anyhow::anyhow!("sending a mail: {e}"))?;
        Ok(())
    }
}
