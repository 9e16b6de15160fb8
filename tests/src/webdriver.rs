//! A minimal W3C WebDriver client over HTTP, for driving the real app window through
//! `tauri-driver` (which runs `WebKitWebDriver`), plus the processes it needs: a virtual display
//! (Xvfb) and `tauri-driver` itself.

use anyhow::{Context, Result, anyhow, bail};
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// A child process killed when dropped.
pub struct Background(Child);

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Starts Xvfb on a free display number; returns it with its `DISPLAY` value.
pub fn start_xvfb(width: u32, height: u32) -> Result<(Background, String)> {
    for display in 90..120 {
        if Path::new(&format!("/tmp/.X11-unix/X{display}")).exists()
            || Path::new(&format!("/tmp/.X{display}-lock")).exists()
        {
            continue;
        }
        let child = Command::new("Xvfb")
            .args([
                format!(":{display}"),
                "-screen".into(),
                "0".into(),
                format!("{width}x{height}x24"),
                "-nolisten".into(),
                "tcp".into(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("starting Xvfb (Debian package xvfb)")?;
        let socket = format!("/tmp/.X11-unix/X{display}");
        let started = Instant::now();
        while !Path::new(&socket).exists() {
            if started.elapsed() > Duration::from_secs(10) {
                bail!("Xvfb did not start on :{display}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        return Ok((Background(child), format!(":{display}")));
    }
    bail!("no free X display number")
}

/// The `tauri-driver` binary: on PATH or in cargo's bin directory.
pub fn tauri_driver() -> Result<PathBuf> {
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain([home.join(".cargo/bin")]);
    for dir in candidates {
        let path = dir.join("tauri-driver");
        if path.exists() {
            return Ok(path);
        }
    }
    bail!("tauri-driver is missing: cargo install tauri-driver --locked")
}

/// Starts `tauri-driver` with the app's environment; returns it and its URL.
pub fn start_tauri_driver(display: &str, env: &[(&str, &str)]) -> Result<(Background, String)> {
    let port = free_port()?;
    let native = free_port()?;
    let child = Command::new(tauri_driver()?)
        .args(["--port", &port.to_string(), "--native-port", &native.to_string()])
        .env("DISPLAY", display)
        .envs(env.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .context("starting tauri-driver")?;
    let url = format!("http://127.0.0.1:{port}");
    let driver = Background(child);
    // tauri-driver forwards to WebKitWebDriver on the native port: on a busy machine the native
    // driver starts seconds after tauri-driver listens, and a session asked for before that is
    // dropped. Wait for both.
    let started = Instant::now();
    for (what, p) in [("tauri-driver", port), ("WebKitWebDriver", native)] {
        while std::net::TcpStream::connect(("127.0.0.1", p)).is_err() {
            if started.elapsed() > Duration::from_secs(60) {
                bail!("{what} did not listen on {p}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    Ok((driver, url))
}

/// One WebDriver session: the app window.
pub struct Session {
    http: reqwest::Client,
    base: String,
}

/// An element of the page.
#[derive(Clone, Debug)]
pub struct Element(String);

impl Session {
    /// Starts the app at `application` through the driver at `driver_url`.
    pub async fn start(driver_url: &str, application: &Path) -> Result<Self> {
        let http = reqwest::Client::builder().timeout(Duration::from_secs(60)).build()?;
        let caps = json!({"capabilities": {"alwaysMatch": {"tauri:options": {"application": application}}}});
        // A driver that is still starting drops the connection: ask again a few times.
        let mut attempt = 0;
        let reply: Value = loop {
            attempt += 1;
            match http.post(format!("{driver_url}/session")).json(&caps).send().await {
                Ok(reply) => break reply.json().await?,
                Err(e) if attempt < 4 => {
                    eprintln!("WebDriver session not created yet ({e}); retrying");
                    tokio::time::sleep(Duration::from_secs(2)).await;
                }
                Err(e) => return Err(e.into()),
            }
        };
        let id = reply["value"]["sessionId"].as_str().ok_or_else(|| anyhow!("no session: {reply}"))?;
        Ok(Self { http, base: format!("{driver_url}/session/{id}") })
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Result<Value> {
        let mut request = self.http.request(method, format!("{}{path}", self.base));
        if let Some(body) = body {
            request = request.json(&body);
        }
        let reply: Value = request.send().await?.json().await?;
        if let Some(error) = reply["value"].get("error") {
            bail!("WebDriver {path}: {error} {}", reply["value"]["message"]);
        }
        Ok(reply["value"].clone())
    }

    /// The first element matching an XPath, if any.
    pub async fn find(&self, xpath: &str) -> Result<Option<Element>> {
        match self.call(reqwest::Method::POST, "/element", Some(json!({"using": "xpath", "value": xpath}))).await {
            Ok(v) => Ok(v[ELEMENT].as_str().map(|s| Element(s.to_string()))),
            Err(e) if e.to_string().contains("no such element") => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Waits until an element matching the XPath is present.
    pub async fn wait(&self, xpath: &str) -> Result<Element> {
        let started = Instant::now();
        loop {
            if let Some(element) = self.find(xpath).await? {
                return Ok(element);
            }
            if started.elapsed() > Duration::from_secs(20) {
                let text = self.page_text().await.unwrap_or_default();
                bail!("nothing matched {xpath} within 20 s; the page says: {text}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Waits for an element and clicks it (scrolling it into view first if something covers it,
    /// as a person would).
    pub async fn click(&self, xpath: &str) -> Result<()> {
        let element = self.wait(xpath).await?;
        match self.call(reqwest::Method::POST, &format!("/element/{}/click", element.0), Some(json!({}))).await {
            Ok(_) => Ok(()),
            Err(e) if e.to_string().contains("intercepted") || e.to_string().contains("not interactable") => {
                let script = "arguments[0].scrollIntoView({block: 'center'}); arguments[0].click(); return true;";
                self.call(
                    reqwest::Method::POST,
                    "/execute/sync",
                    Some(json!({"script": script, "args": [{ELEMENT: element.0}]})),
                )
                .await
                .map(|_| ())
                .with_context(|| format!("clicking {xpath}"))
            }
            Err(e) => Err(e.context(format!("clicking {xpath}"))),
        }
    }

    /// Waits for an input and types into it.
    pub async fn type_into(&self, xpath: &str, text: &str) -> Result<()> {
        let element = self.wait(xpath).await?;
        self.call(reqwest::Method::POST, &format!("/element/{}/value", element.0), Some(json!({"text": text}))).await?;
        Ok(())
    }

    /// Pastes `text` into an input at once, as a paste or a scanner does: one input event with
    /// the whole text (typing sends one per character).
    pub async fn paste_into(&self, xpath: &str, text: &str) -> Result<()> {
        self.wait(xpath).await?;
        self.execute_async(
            "const [xpath, text, done] = arguments;
             const el = document.evaluate(xpath, document, null, XPathResult.FIRST_ORDERED_NODE_TYPE, null).singleNodeValue;
             el.focus();
             el.value = text;
             el.dispatchEvent(new Event('input', { bubbles: true }));
             done(true);",
            json!([xpath, text]),
        )
        .await?;
        Ok(())
    }

    /// The visible text of the whole page.
    pub async fn page_text(&self) -> Result<String> {
        let v = self
            .call(
                reqwest::Method::POST,
                "/execute/sync",
                Some(json!({"script": "return document.body.innerText", "args": []})),
            )
            .await?;
        Ok(v.as_str().unwrap_or_default().to_string())
    }

    /// Waits until the page shows `text`.
    pub async fn wait_text(&self, text: &str) -> Result<()> {
        let started = Instant::now();
        loop {
            let page = self.page_text().await?;
            if page.contains(text) {
                return Ok(());
            }
            if started.elapsed() > Duration::from_secs(20) {
                bail!("the page never showed {text:?}; it says: {page}");
            }
            tokio::time::sleep(Duration::from_millis(150)).await;
        }
    }

    /// Runs an asynchronous script in the page: its last argument is the callback it calls with
    /// its result.
    pub async fn execute_async(&self, script: &str, args: Value) -> Result<Value> {
        self.call(reqwest::Method::POST, "/execute/async", Some(json!({"script": script, "args": args}))).await
    }

    /// Resizes the window (landscape and portrait tablet layouts).
    pub async fn resize(&self, width: u32, height: u32) -> Result<()> {
        self.call(
            reqwest::Method::POST,
            "/window/rect",
            Some(json!({"x": 0, "y": 0, "width": width, "height": height})),
        )
        .await?;
        tokio::time::sleep(Duration::from_millis(400)).await;
        Ok(())
    }

    /// What a worker would find wrong with the screen at the window's current size
    /// (`layout_check.js`): interactive elements under a fixed or sticky bar or toast, touch
    /// targets under 48 × 48 px, sideways scrolling. Empty when all is well.
    pub async fn layout_problems(&self) -> Result<Vec<String>> {
        let found = self.execute_async(include_str!("layout_check.js"), json!([])).await?;
        Ok(serde_json::from_value(found)?)
    }

    /// Saves a PNG screenshot of the window.
    pub async fn screenshot(&self, path: &Path) -> Result<()> {
        use base64::Engine;
        let v = self.call(reqwest::Method::GET, "/screenshot", None).await?;
        let bytes = base64::engine::general_purpose::STANDARD.decode(v.as_str().unwrap_or_default())?;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(path, bytes)?;
        Ok(())
    }

    /// Ends the session (closes the app).
    pub async fn close(self) -> Result<()> {
        self.http.delete(&self.base).send().await?;
        Ok(())
    }
}
