//! Mail through the SMTP relay TENANCY_AUTH_SMTP_URL names (`lettre`): invitations and recovery
//! codes. The code is the secret; the link carries it to the frontend (TENANCY_AUTH_SITE_URL),
//! which hands it to auth-js's `verifyOtp({ email, token, type })`.
use super::error::AuthError;
use crate::config::SignInConfig;
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    site_url: String,
}

/// What a mail is for: the `type` auth-js's `verifyOtp` sends back with the code.
#[derive(Clone, Copy)]
pub enum Purpose {
    Invite,
    Recovery,
}

impl Purpose {
    pub fn kind(self) -> &'static str {
        match self {
            Purpose::Invite => "invite",
            Purpose::Recovery => "recovery",
        }
    }
}

impl Mailer {
    pub fn new(config: &SignInConfig) -> Result<Option<Mailer>, String> {
        let Some((host, port)) = &config.smtp else { return Ok(None) };
        let from = config.mail_from.parse().map_err(|e| format!("TENANCY_AUTH_MAIL_FROM: {e}"))?;
        // A relay on the local network (no TLS here): the README says to keep it there.
        let transport = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host.as_str()).port(*port).build();
        Ok(Some(Mailer { transport, from, site_url: config.site_url.trim_end_matches('/').to_string() }))
    }

    /// Mails `code` to `to`; `what` names the tenant of an invitation.
    pub async fn send(&self, purpose: Purpose, to: &str, code: &str, what: &str) -> Result<(), AuthError> {
        let to: Mailbox = to.parse().map_err(|_| AuthError::Validation("Unable to validate email address".into()))?;
        let email = to.email.to_string();
        let link = format!(
            "{}/auth/confirm?type={}&email={}&token={code}",
            self.site_url,
            purpose.kind(),
            email.replace('@', "%40").replace('+', "%2B")
        );
        let (subject, body) = match purpose {
            Purpose::Invite => (
                format!("You are invited to {what}"),
                format!("You have been invited to {what}.\n\nAccept: {link}\n\nCode: {code}\n"),
            ),
            Purpose::Recovery => (
                "Reset your password".to_string(),
                format!("Someone asked to reset the password of this address.\n\nReset: {link}\n\nCode: {code}\n\nNot you? Ignore this mail.\n"),
            ),
        };
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(subject)
            .body(body)
            .map_err(|e| AuthError::Internal(format!("mail: {e}")))?;
        self.transport.send(message).await.map_err(|e| AuthError::Internal(format!("SMTP: {e}")))?;
        Ok(())
    }
}
