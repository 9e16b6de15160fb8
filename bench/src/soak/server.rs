//! The soak's server: a real `outpost-server serve` process over a SQLite file on a port that
//! stays the same, started, killed with SIGKILL and restarted, each life recorded.

use super::*;

/// Which server process is running now: its number (1 for the first) and pid.
pub(super) type Current = Arc<Mutex<Option<(usize, u32)>>>;

/// One server process's life, in seconds since the soak began.
pub(super) struct Lifetime {
    pub(super) process: usize,
    pub(super) pid: u32,
    pub(super) started_s: f64,
    pub(super) ended_s: Option<f64>,
}

/// A real `outpost-server serve` process over a SQLite file, on a port that stays the same.
pub(super) struct Server {
    pub(super) addr: SocketAddr,
    pub(super) data_dir: PathBuf,
    pub(super) binary: PathBuf,
    pub(super) child: Option<std::process::Child>,
    pub(super) current: Current,
    pub(super) lifetimes: Vec<Lifetime>,
    pub(super) epoch: Instant,
}

impl Server {
    /// `outpost-server` next to this executable (as `cargo build --release -p outpost-server`
    /// leaves it), or `OUTPOST_SERVER_BIN`.
    pub(super) fn binary() -> Result<PathBuf> {
        if let Some(path) = std::env::var_os("OUTPOST_SERVER_BIN") {
            return Ok(path.into());
        }
        let exe = std::env::current_exe()?;
        let binary = exe.with_file_name(format!("outpost-server{}", std::env::consts::EXE_SUFFIX));
        ensure!(
            binary.exists(),
            "{} is missing: run `cargo build --release -p outpost-server` (or set OUTPOST_SERVER_BIN)",
            binary.display()
        );
        Ok(binary)
    }

    pub(super) async fn start(data_dir: &Path, epoch: Instant) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server = Self {
            addr: SocketAddr::from(([127, 0, 0, 1], port)),
            data_dir: data_dir.to_path_buf(),
            binary: Self::binary()?,
            child: None,
            current: Arc::new(Mutex::new(None)),
            lifetimes: Vec::new(),
            epoch,
        };
        server.restart().await?;
        Ok(server)
    }

    pub(super) fn database_url(&self) -> String {
        format!("sqlite://{}", self.data_dir.join("outpost.db").display())
    }

    pub(super) fn log_path(&self) -> PathBuf {
        self.data_dir.join("server.log")
    }

    /// Runs `outpost-server ARGS` to completion; returns success, standard output and error.
    pub(super) fn cli(&self, args: &[&str]) -> Result<(bool, String, String)> {
        let output = std::process::Command::new(&self.binary).args(args).env("RUST_LOG", "warn").output()?;
        Ok((
            output.status.success(),
            String::from_utf8_lossy(&output.stdout).into_owned(),
            String::from_utf8_lossy(&output.stderr).into_owned(),
        ))
    }

    /// A one-time enrolment code for a site, from the administration CLI.
    pub(super) fn enrollment_code(&self, site: &str) -> Result<String> {
        let data_dir = self.data_dir.display().to_string();
        let (ok, code, stderr) = self.cli(&["enroll", "--data-dir", &data_dir, "--site", site])?;
        ensure!(ok, "outpost-server enroll failed: {stderr}");
        Ok(code.trim().to_string())
    }

    /// SIGKILL: no shutdown, no flush, whatever the process was doing.
    pub(super) fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            *self.current.lock().unwrap_or_else(|p| p.into_inner()) = None;
            child.kill()?;
            child.wait()?;
            if let Some(life) = self.lifetimes.last_mut() {
                life.ended_s = Some(secs(Instant::now(), self.epoch));
            }
        }
        Ok(())
    }

    /// Starts the process again over the same file and port; waits until it answers.
    pub(super) async fn restart(&mut self) -> Result<()> {
        self.kill()?;
        let log = std::fs::OpenOptions::new().create(true).append(true).open(self.log_path())?;
        let child = std::process::Command::new(&self.binary)
            .args(["serve", "--listen", &self.addr.to_string(), "--data-dir"])
            .arg(&self.data_dir)
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.binary.display()))?;
        let pid = child.id();
        self.child = Some(child);
        let process = self.lifetimes.len() + 1;
        self.lifetimes.push(Lifetime { process, pid, started_s: secs(Instant::now(), self.epoch), ended_s: None });
        *self.current.lock().unwrap_or_else(|p| p.into_inner()) = Some((process, pid));
        for _ in 0..400 {
            if healthy(self.addr).await {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(anyhow!("outpost-server did not start on {} (log: {})", self.addr, self.log_path().display()))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// `GET /healthz` over a bare connection (this crate has no HTTP client of its own): whether the
/// server answered 200.
pub(super) async fn healthy(addr: SocketAddr) -> bool {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let attempt = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await?;
        let request = format!("GET /healthz HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut head = [0u8; 12];
        stream.read_exact(&mut head).await?;
        std::io::Result::Ok(head.starts_with(b"HTTP/1.1 200"))
    };
    matches!(tokio::time::timeout(Duration::from_secs(2), attempt).await, Ok(Ok(true)))
}
