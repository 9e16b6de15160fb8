//! Slow and idle clients against a real `outpost-server` process (issue 18, item 3): a client
//! sending its headers a byte at a time is cut off, an idle kept-alive connection is closed,
//! connections past the limit wait (and the log says so) while `/healthz` keeps answering, and
//! the process runs with its open-file limit raised.

use anyhow::{Context, Result, anyhow};
use outpost_tests::built_binary;
use std::io::{BufRead, BufReader};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A server process whose log lines are kept.
struct LoggedServer {
    child: std::process::Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
    _data: tempfile::TempDir,
}

impl LoggedServer {
    async fn start(args: &[&str]) -> Result<Self> {
        let data = tempfile::tempdir()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let addr = format!("127.0.0.1:{port}");
        let mut child = std::process::Command::new(built_binary("outpost-server")?)
            .args(["serve", "--no-demo", "--listen", &addr, "--data-dir"])
            .arg(data.path())
            .args(args)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()?;
        let stderr = child.stderr.take().context("no standard error")?;
        let log = Arc::new(Mutex::new(Vec::new()));
        let lines = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(std::io::Result::ok) {
                if let Ok(mut lines) = lines.lock() {
                    lines.push(line);
                }
            }
        });
        let server = Self { child, addr, log, _data: data };
        let http = reqwest::Client::new();
        for _ in 0..400 {
            if http.get(server.url("/healthz")).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(anyhow!("outpost-server did not start: {:?}", server.log_lines()))
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    fn log_lines(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

impl Drop for LoggedServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads until the server closes the connection; returns how long that took from `since`.
async fn closed_after(stream: &mut TcpStream, since: Instant, limit: Duration) -> Result<Duration> {
    let mut buffer = [0u8; 4096];
    let until = since + limit;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, stream.read(&mut buffer)).await {
            Err(_) => return Err(anyhow!("the connection was still open after {limit:?}")),
            Ok(Ok(0)) | Ok(Err(_)) => return Ok(since.elapsed()),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_idle_clients_are_cut_off_and_the_server_keeps_answering() -> Result<()> {
    let server = LoggedServer::start(&[
        "--header-read-timeout-secs",
        "2",
        "--idle-timeout-secs",
        "2",
        "--connection-limit",
        "20",
    ])
    .await?;

    // Headers a byte every 300 ms: cut off once the header timeout is over, long before the
    // client would have finished.
    let started = Instant::now();
    let mut slow = TcpStream::connect(&server.addr).await?;
    slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: outpost\r\n").await?;
    let (mut reader, mut writer) = slow.into_split();
    let dribble = tokio::spawn(async move {
        for byte in b"X-Slow: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa".iter().copied() {
            tokio::time::sleep(Duration::from_millis(300)).await;
            if writer.write_all(&[byte]).await.is_err() {
                return;
            }
        }
    });
    let mut buffer = [0u8; 1024];
    let cut = tokio::time::timeout(Duration::from_secs(8), async {
        loop {
            match reader.read(&mut buffer).await {
                Ok(0) | Err(_) => return started.elapsed(),
                Ok(_) => {}
            }
        }
    })
    .await
    .map_err(|_| anyhow!("a client dribbling its headers was still connected after 8 s"))?;
    assert!(cut >= Duration::from_millis(1500), "cut off after {cut:?}, before the header timeout");
    dribble.abort();

    // A kept-alive connection with nothing more to ask is closed after the header timeout.
    let mut idle = TcpStream::connect(&server.addr).await?;
    idle.write_all(b"GET /healthz HTTP/1.1\r\nHost: outpost\r\n\r\n").await?;
    let mut first = vec![0u8; 4096];
    let n = idle.read(&mut first).await?;
    assert!(
        String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&first[..n])
    );
    let idle_for = closed_after(&mut idle, Instant::now(), Duration::from_secs(8)).await?;
    assert!(idle_for >= Duration::from_millis(1500), "closed after {idle_for:?}");

    // Twice the connection limit of silent connections: /healthz still answers (the silent
    // ones are cut off in turn) and the log says the limit was reached.
    let mut silent = Vec::new();
    for _ in 0..40 {
        silent.push(TcpStream::connect(&server.addr).await?);
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let asked = Instant::now();
    let health = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()?
        .get(server.url("/healthz"))
        .send()
        .await
        .context("/healthz did not answer while the connection limit was reached")?;
    assert!(health.status().is_success());
    assert!(asked.elapsed() < Duration::from_secs(12), "/healthz took {:?}", asked.elapsed());
    let log = server.log_lines();
    assert!(
        log.iter().any(|line| line.contains("connection limit reached")),
        "no log line about the connection limit: {log:?}"
    );
    drop(silent);

    // The process runs with its soft open-file limit raised to the hard one.
    let limits = std::fs::read_to_string(format!("/proc/{}/limits", server.child.id()))?;
    let files = limits.lines().find(|l| l.starts_with("Max open files")).context("no open-file limit")?;
    let numbers: Vec<&str> = files.split_whitespace().skip(3).take(2).collect();
    assert_eq!(numbers.first(), numbers.get(1), "soft and hard open-file limits differ: {files}");
    Ok(())
}
