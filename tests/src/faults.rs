//! Fault injection for the reliability tests (and benchmarks that want faults):
//!
//! * [`FaultProxy`]: a loopback TCP proxy in front of a server that passes, delays, cuts (after
//!   a given number of bytes, in either direction), resets or blackholes connections. Changing
//!   the fault closes every open connection, so a client's pooled connection cannot carry on
//!   under the previous rule.
//! * [`KillableServer`]: a real `outpost-server` process over a SQLite file on a fixed port,
//!   killed with SIGKILL at any moment and started again over the same file.
//! * [`DeviceProcess`]: a simulated tablet as its own process (`outpost-sim-device`), killed with
//!   SIGKILL in the middle of a save, a push or a pull-apply.
//! * [`Rng`] and [`fault_seed`]: random fault moments that a failing run can replay.

use crate::built_binary;
use anyhow::{Result, anyhow};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// A small deterministic generator (xorshift), so a failing run can be replayed from its seed.
pub struct Rng(pub u64);

impl Rng {
    /// A number in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// The seed of a randomised fault test: `OUTPOST_FAULT_SEED` when set (to replay a run),
/// otherwise the time. Printed with the test's name so a failure can be replayed.
pub fn fault_seed(test: &str) -> u64 {
    let seed = std::env::var("OUTPOST_FAULT_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| outpost_server::time::now_ms() | 1);
    eprintln!("{test}: OUTPOST_FAULT_SEED={seed}");
    seed
}

/// What the proxy does to new connections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Forward both ways.
    Pass,
    /// Wait this long before connecting upstream, then forward.
    Delay(Duration),
    /// Forward this many bytes of the request, then close the connection.
    CutRequestAfter(usize),
    /// Forward the whole request, then this many bytes of the response, then close. With 0 the
    /// server has processed (and committed) the request but the client never hears back.
    CutResponseAfter(usize),
    /// Answer the connection with a TCP reset.
    Reset,
    /// Accept the connection and never forward anything.
    Blackhole,
}

/// A loopback proxy whose behaviour tests switch at any time.
pub struct FaultProxy {
    pub addr: SocketAddr,
    fault: Arc<Mutex<Fault>>,
    generation: watch::Sender<u64>,
    connections: Arc<AtomicUsize>,
    traffic: Arc<Traffic>,
    task: tokio::task::JoinHandle<()>,
}

/// Bytes that crossed the proxy, HTTP headers included: what a tablet's connection carries.
#[derive(Debug, Default)]
pub struct Traffic {
    /// From the client to the server.
    pub up: AtomicU64,
    /// From the server to the client.
    pub down: AtomicU64,
}

impl FaultProxy {
    /// Starts a proxy on 127.0.0.1:0 in front of `upstream`.
    pub async fn start(upstream: SocketAddr) -> Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let fault = Arc::new(Mutex::new(Fault::Pass));
        let (generation, watcher) = watch::channel(0u64);
        let connections = Arc::new(AtomicUsize::new(0));
        let traffic = Arc::new(Traffic::default());
        let task = {
            let fault = fault.clone();
            let connections = connections.clone();
            let traffic = traffic.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    connections.fetch_add(1, Ordering::SeqCst);
                    let current = *fault.lock().unwrap_or_else(|p| p.into_inner());
                    let mut closed = watcher.clone();
                    closed.mark_unchanged();
                    let traffic = traffic.clone();
                    tokio::spawn(async move {
                        tokio::select! {
                            _ = serve(client, upstream, current, &traffic) => {}
                            _ = closed.changed() => {}
                        }
                    });
                }
            })
        };
        Ok(Self { addr, fault, generation, connections, traffic, task })
    }

    /// Applies `fault` to new connections and closes the open ones.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap_or_else(|p| p.into_inner()) = fault;
        self.generation.send_modify(|g| *g += 1);
    }

    /// The base URL clients use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Connections accepted so far.
    pub fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    /// Bytes forwarded so far: (client to server, server to client).
    pub fn bytes(&self) -> (u64, u64) {
        (self.traffic.up.load(Ordering::SeqCst), self.traffic.down.load(Ordering::SeqCst))
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.task.abort();
        self.generation.send_modify(|g| *g += 1);
    }
}

async fn serve(client: TcpStream, upstream: SocketAddr, fault: Fault, traffic: &Traffic) {
    match fault {
        Fault::Reset => {
            // A zero linger makes the close a reset (and never blocks, which is why tokio
            // deprecates the general case).
            #[allow(deprecated)]
            let _ = client.set_linger(Some(Duration::ZERO));
            drop(client);
        }
        Fault::Blackhole => {
            let _hold = client;
            std::future::pending::<()>().await;
        }
        Fault::Delay(wait) => {
            tokio::time::sleep(wait).await;
            forward(client, upstream, usize::MAX, usize::MAX, traffic).await;
        }
        Fault::Pass => forward(client, upstream, usize::MAX, usize::MAX, traffic).await,
        Fault::CutRequestAfter(n) => forward(client, upstream, n, usize::MAX, traffic).await,
        Fault::CutResponseAfter(n) => forward(client, upstream, usize::MAX, n, traffic).await,
    }
}

/// Copies both ways; closes everything once `up_budget` request bytes or `down_budget`
/// response bytes have passed.
async fn forward(client: TcpStream, upstream: SocketAddr, up_budget: usize, down_budget: usize, traffic: &Traffic) {
    let Ok(server) = TcpStream::connect(upstream).await else { return };
    // Pass each write on at once, as the endpoints would have sent it (Nagle's delay on a
    // proxy's small writes would add tens of milliseconds to every reply).
    let _ = (client.set_nodelay(true), server.set_nodelay(true));
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let up = copy_limited(&mut client_read, &mut server_write, up_budget, &traffic.up);
    let down = copy_limited(&mut server_read, &mut client_write, down_budget, &traffic.down);
    // Whichever direction ends (its budget spent, or its peer closed) ends the connection.
    tokio::select! {
        _ = up => {}
        _ = down => {}
    }
}

async fn copy_limited<R, W>(from: &mut R, to: &mut W, mut budget: usize, counted: &AtomicU64)
where
    R: AsyncReadExt + Unpin,
    W: AsyncWriteExt + Unpin,
{
    let mut buffer = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buffer).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                // Keep the other direction going until it ends by itself.
                std::future::pending::<()>().await;
                return;
            }
            Ok(n) => n,
        };
        let allowed = n.min(budget);
        if to.write_all(&buffer[..allowed]).await.is_err() {
            return;
        }
        counted.fetch_add(allowed as u64, Ordering::Relaxed);
        budget -= allowed;
        if budget == 0 {
            // The cut: the rest of this direction never arrives.
            let _ = to.shutdown().await;
            return;
        }
    }
}

/// A real server process over a SQLite file, on a port that stays the same across restarts.
pub struct KillableServer {
    pub addr: SocketAddr,
    pub data_dir: PathBuf,
    child: Option<std::process::Child>,
}

impl KillableServer {
    /// Starts `outpost-server serve` over `data_dir` and waits until it answers.
    pub async fn start(data_dir: &Path) -> Result<Self> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let mut server =
            Self { addr: SocketAddr::from(([127, 0, 0, 1], port)), data_dir: data_dir.to_path_buf(), child: None };
        server.restart().await?;
        Ok(server)
    }

    /// The base URL devices use.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The SQLite database URL of its file.
    pub fn database_url(&self) -> String {
        format!("sqlite://{}", self.data_dir.join("outpost.db").display())
    }

    /// The server's storage, opened from this test (with the key the process uses).
    pub async fn storage(&self) -> Result<outpost_server_store::Store> {
        Ok(outpost_server_store::Store::open(&self.database_url(), 1, crate::server_key()).await?)
    }

    /// Kills the process with SIGKILL: no shutdown, no flush, whatever it was doing.
    pub fn kill(&mut self) -> Result<()> {
        if let Some(mut child) = self.child.take() {
            child.kill()?;
            child.wait()?;
        }
        Ok(())
    }

    /// Starts the process again over the same file and port; waits until it answers.
    pub async fn restart(&mut self) -> Result<()> {
        self.kill()?;
        let child = std::process::Command::new(built_binary("outpost-server")?)
            .args(["serve", "--listen", &self.addr.to_string(), "--data-dir"])
            .arg(&self.data_dir)
            .env("RUST_LOG", "error")
            .env(crate::SERVER_KEY_VARIABLE, crate::TEST_SERVER_KEY)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()?;
        self.child = Some(child);
        let http = reqwest::Client::new();
        for _ in 0..200 {
            if http.get(format!("{}/healthz", self.url())).send().await.is_ok_and(|r| r.status().is_success()) {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        Err(anyhow!("outpost-server did not start on {}", self.addr))
    }
}

impl Drop for KillableServer {
    fn drop(&mut self) {
        let _ = self.kill();
    }
}

/// A simulated tablet running as its own `outpost-sim-device` process over an encrypted store
/// file; its standard output arrives line by line (each line is printed after the step it
/// names was committed).
pub struct DeviceProcess {
    child: std::process::Child,
    lines: std::sync::mpsc::Receiver<String>,
}

impl DeviceProcess {
    /// Starts `outpost-sim-device ARGS`.
    pub fn spawn(args: &[&str]) -> Result<Self> {
        use std::io::BufRead;
        let mut child = std::process::Command::new(built_binary("outpost-sim-device")?)
            .args(args)
            .env("RUST_LOG", "error")
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().ok_or_else(|| anyhow!("no standard output"))?;
        let (send, lines) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stdout).lines().map_while(std::io::Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Self { child, lines })
    }

    /// Runs `outpost-sim-device ARGS` to the end; returns whether it succeeded and its lines.
    pub fn run(args: &[&str]) -> Result<(bool, Vec<String>)> {
        let mut process = Self::spawn(args)?;
        let status = process.child.wait()?;
        Ok((status.success(), process.lines.iter().collect()))
    }

    /// The next line, waiting up to `timeout`; `None` when the process ended or stayed silent.
    pub fn next_line(&self, timeout: Duration) -> Option<String> {
        self.lines.recv_timeout(timeout).ok()
    }

    /// Kills the process with SIGKILL wherever it is; returns the lines it printed but were not
    /// read yet (steps it committed before it died).
    pub fn kill(mut self) -> Result<Vec<String>> {
        self.child.kill()?;
        self.child.wait()?;
        Ok(self.lines.iter().collect())
    }

    /// Waits for the process to end by itself; returns its success and the unread lines.
    pub fn wait(mut self) -> Result<(bool, Vec<String>)> {
        let status = self.child.wait()?;
        Ok((status.success(), self.lines.iter().collect()))
    }
}

impl Drop for DeviceProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small real ext4 disk (a loop-mounted image) that tests fill up or turn read-only under a
/// running server or tablet, the way a real disk fails: `ENOSPC` when full, and the kernel's
/// emergency read-only remount after a filesystem error (`errors=remount-ro`). Needs root (or
/// `CAP_SYS_ADMIN`) and loop devices, as on the CI machines; unmounted when dropped.
pub struct LoopDisk {
    dir: tempfile::TempDir,
    mounted: bool,
}

impl LoopDisk {
    /// Creates and mounts an ext4 disk of `megabytes` (no blocks reserved for root).
    pub fn new(megabytes: u64) -> Result<Self> {
        let dir = tempfile::tempdir()?;
        let image = dir.path().join("disk.img");
        std::fs::File::create(&image)?.set_len(megabytes * 1024 * 1024)?;
        run("mkfs.ext4", &["-q", "-F", "-m", "0", &image.display().to_string()])?;
        std::fs::create_dir(dir.path().join("mnt"))?;
        let mut disk = Self { dir, mounted: false };
        disk.mount()?;
        Ok(disk)
    }

    /// Where the disk is mounted.
    pub fn path(&self) -> PathBuf {
        self.dir.path().join("mnt")
    }

    fn image(&self) -> String {
        self.dir.path().join("disk.img").display().to_string()
    }

    fn mount(&mut self) -> Result<()> {
        let target = self.path().display().to_string();
        run("mount", &["-o", "loop,errors=remount-ro", &self.image(), &target])
            .map_err(|e| anyhow!("mounting a loop disk needs root and loop devices: {e}"))?;
        self.mounted = true;
        Ok(())
    }

    /// Fills every free block with a filler file; returns how many bytes it took.
    pub fn fill(&self) -> Result<u64> {
        use std::io::Write;
        let mut file = std::fs::File::create(self.path().join("filler"))?;
        let chunk = vec![0u8; 64 * 1024];
        let mut written = 0u64;
        let mut size = chunk.len();
        while size > 0 {
            match file.write(&chunk[..size]) {
                Ok(0) => break,
                Ok(n) => written += n as u64,
                // Out of room for this size: try smaller pieces until not a byte fits.
                Err(_) => size /= 2,
            }
        }
        let _ = file.sync_all();
        Ok(written)
    }

    /// Removes the filler: space returns.
    pub fn free(&self) -> Result<()> {
        std::fs::remove_file(self.path().join("filler"))?;
        Ok(())
    }

    /// Makes the kernel see a filesystem error: ext4 remounts itself read-only at once, under
    /// whatever has files open for writing.
    pub fn fail_read_only(&self) -> Result<()> {
        let source = output("findmnt", &["-n", "-o", "SOURCE", &self.path().display().to_string()])?;
        let device = source.trim().trim_start_matches("/dev/");
        std::fs::write(format!("/sys/fs/ext4/{device}/trigger_fs_error"), "1")?;
        Ok(())
    }

    /// What an operator does after a disk error: unmount, check and repair, mount again. Every
    /// process with files on the disk must have stopped.
    pub fn repair(&mut self) -> Result<()> {
        self.unmount()?;
        // e2fsck exits 1 when it fixed something (the error flag at least).
        let status = std::process::Command::new("e2fsck").args(["-f", "-y", &self.image()]).output()?.status;
        if !matches!(status.code(), Some(0..=1)) {
            return Err(anyhow!("e2fsck could not repair the disk: {status}"));
        }
        self.mount()
    }

    fn unmount(&mut self) -> Result<()> {
        if self.mounted {
            run("umount", &[&self.path().display().to_string()])?;
            self.mounted = false;
        }
        Ok(())
    }
}

impl Drop for LoopDisk {
    fn drop(&mut self) {
        if self.mounted {
            let _ = std::process::Command::new("umount").arg("-l").arg(self.path()).status();
        }
    }
}

fn output(program: &str, args: &[&str]) -> Result<String> {
    let out = std::process::Command::new(program).args(args).output()?;
    if !out.status.success() {
        return Err(anyhow!("{program} {args:?} failed: {}", String::from_utf8_lossy(&out.stderr).trim()));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn run(program: &str, args: &[&str]) -> Result<()> {
    output(program, args).map(|_| ())
}
