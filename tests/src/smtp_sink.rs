//! A local SMTP sink for the tests: a tokio listener on a free port that accepts every mail
//! (EHLO/HELO, MAIL, RCPT, DATA, QUIT) and keeps it, so a test reads what the server mailed —
//! an invitation's or a recovery's code — as a person would.
use std::sync::{Arc, Mutex};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Notify;

#[derive(Clone, Debug)]
pub struct Mail {
    pub to: Vec<String>,
    /// Headers and body, as sent (dot-stuffing undone).
    pub text: String,
}

#[derive(Clone)]
pub struct SmtpSink {
    pub port: u16,
    mails: Arc<Mutex<Vec<Mail>>>,
    arrived: Arc<Notify>,
}

impl SmtpSink {
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let sink =
            SmtpSink { port: listener.local_addr().unwrap().port(), mails: Arc::default(), arrived: Arc::default() };
        let accepting = sink.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let session = accepting.clone();
                tokio::spawn(async move { session.converse(stream).await });
            }
        });
        sink
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    async fn converse(&self, stream: TcpStream) -> std::io::Result<()> {
        let (read, mut write) = stream.into_split();
        let mut lines = BufReader::new(read).lines();
        write.write_all(b"220 sink ESMTP\r\n").await?;
        let mut to = Vec::new();
        while let Some(line) = lines.next_line().await? {
            let verb = line.split_whitespace().next().unwrap_or_default().to_ascii_uppercase();
            let reply: &[u8] = match verb.as_str() {
                "EHLO" | "HELO" => b"250 sink\r\n",
                "RCPT" => {
                    to.push(line.split_once(':').map_or("", |(_, a)| a).trim().trim_matches(['<', '>']).to_string());
                    b"250 OK\r\n"
                }
                "DATA" => {
                    write.write_all(b"354 go on\r\n").await?;
                    let mut text = String::new();
                    while let Some(line) = lines.next_line().await? {
                        if line == "." {
                            break;
                        }
                        text.push_str(line.strip_prefix('.').unwrap_or(&line));
                        text.push('\n');
                    }
                    self.mails.lock().unwrap().push(Mail { to: std::mem::take(&mut to), text });
                    self.arrived.notify_waiters();
                    b"250 kept\r\n"
                }
                "QUIT" => {
                    write.write_all(b"221 bye\r\n").await?;
                    return Ok(());
                }
                _ => b"250 OK\r\n",
            };
            write.write_all(reply).await?;
        }
        Ok(())
    }

    /// The mails kept so far to `address`.
    pub fn mails_to(&self, address: &str) -> Vec<Mail> {
        self.mails.lock().unwrap().iter().filter(|m| m.to.iter().any(|t| t == address)).cloned().collect()
    }

    /// The first mail to `address`, waiting for it up to ten seconds.
    pub async fn mail_to(&self, address: &str) -> Mail {
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            let arrived = self.arrived.notified();
            if let Some(mail) = self.mails_to(address).into_iter().next() {
                return mail;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!("no mail to {address} within ten seconds");
            }
        }
    }
}

impl Mail {
    /// The value after `Code: ` in the body.
    pub fn code(&self) -> String {
        let at = self.text.find("Code: ").unwrap_or_else(|| panic!("no code in {}", self.text)) + "Code: ".len();
        self.text[at..].split_whitespace().next().unwrap().to_string()
    }
}
