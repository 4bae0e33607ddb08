//! Starting a child process that listens on a port the kernel chose, and reading which one from
//! what it prints: the function's `serve --listen 127.0.0.1:0` logs a JSON `listening` line
//! with the bound address; a part of the stand-in (`apigw-standin dns|gateway|backend --listen
//! 127.0.0.1:0`) prints `{"standin": …, "listen": …}`. Nobody has to pick a port that was free
//! a moment ago (and may not be by the time the child binds it).
//!
//! Used by `make demo` and by the function's integration tests (`tests/support`), so that both
//! start the function the same way:
//!
//! ```no_run
//! use apigw_standin::launch::Launch;
//!
//! let function = Launch::function("target/debug/apigw-vpc-probe")
//!     .env("APIGW_TARGETS", r#"[{"url": "http://127.0.0.1:8080/"}]"#)
//!     .start()
//!     .expect("the function listens");
//! println!("invoke http://{}/invoke", function.addr());
//! // Its stdout and stderr lines so far; it is killed when `function` is dropped.
//! let lines = function.stdout();
//! ```

use std::ffi::OsStr;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// How long a child gets to say where it listens. Default 10 s.
pub const READY_WITHIN: Duration = Duration::from_secs(10);

/// A child process to start; see the module documentation.
#[derive(Debug)]
pub struct Launch {
    command: Command,
    echo: Option<String>,
    ready_within: Duration,
    own_group: bool,
}

impl Launch {
    /// `program` with no arguments yet; it must print a line that says where it listens (see
    /// [`listening_addr`]).
    pub fn new(program: impl AsRef<OsStr>) -> Self {
        let mut command = Command::new(program);
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        Self {
            command,
            echo: None,
            ready_within: READY_WITHIN,
            own_group: false,
        }
    }

    /// The function's binary as FC's bootstrap runs it, on loopback and a port the kernel
    /// chooses: `<exe> serve --listen 127.0.0.1:0`. Its environment is this process's plus
    /// what [`Launch::env`] adds (start from [`Launch::env_clear`] for a clean one).
    pub fn function(exe: impl AsRef<Path>) -> Self {
        let mut launch = Self::new(exe.as_ref());
        launch.command.args(["serve", "--listen", "127.0.0.1:0"]);
        launch
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.command.arg(arg);
        self
    }

    /// Adds arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.command.args(args);
        self
    }

    /// Sets an environment variable.
    pub fn env(mut self, key: impl AsRef<OsStr>, value: impl AsRef<OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    /// Sets environment variables.
    pub fn envs<I, K, V>(mut self, vars: I) -> Self
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.command.envs(vars);
        self
    }

    /// Starts from an empty environment (only what [`Launch::env`] sets, before or after).
    pub fn env_clear(mut self) -> Self {
        self.command.env_clear();
        self
    }

    /// The child's working directory.
    pub fn current_dir(mut self, dir: impl AsRef<Path>) -> Self {
        self.command.current_dir(dir);
        self
    }

    /// Puts the child in a process group of its own, and kills the whole group when the
    /// [`Process`] is dropped: for a child that starts others (a shell script such as FC's
    /// `bootstrap`). Default: the caller's group (Ctrl-C in a terminal reaches the child too).
    pub fn own_process_group(mut self) -> Self {
        self.own_group = true;
        self
    }

    /// Prints every stdout line of the child as it arrives, after `prefix` (stderr lines go
    /// to stderr). Default: lines are only kept.
    pub fn echo(mut self, prefix: impl Into<String>) -> Self {
        self.echo = Some(prefix.into());
        self
    }

    /// How long the child gets to say where it listens. Default [`READY_WITHIN`].
    pub fn ready_within(mut self, within: Duration) -> Self {
        self.ready_within = within;
        self
    }

    /// Starts the child and waits for the line that says where it listens. Fails when it
    /// cannot be started, exits first, or says nothing within the time given; the error
    /// carries what it printed.
    pub fn start(mut self) -> Result<Process, LaunchError> {
        let what = format!("{:?}", self.command);
        if self.own_group {
            self.command.process_group(0);
        }
        let mut child = self.command.spawn().map_err(|e| LaunchError {
            message: format!("cannot start {what}: {e}"),
            stdout: Vec::new(),
            stderr: Vec::new(),
        })?;
        let (ready_tx, ready_rx) = mpsc::channel();
        let stdout = capture(
            child.stdout.take(),
            self.echo.clone(),
            Echo::Stdout,
            Some(ready_tx),
        );
        let stderr = capture(child.stderr.take(), self.echo, Echo::Stderr, None);
        let mut process = Process {
            child,
            listen: SocketAddr::from((Ipv4Addr::UNSPECIFIED, 0)),
            stdout,
            stderr,
            own_group: self.own_group,
        };
        let deadline = Instant::now() + self.ready_within;
        let failed = |process: &Process, message: String| LaunchError {
            message: format!("{what}: {message}"),
            stdout: process.stdout(),
            stderr: process.stderr(),
        };
        loop {
            match ready_rx.recv_timeout(Duration::from_millis(20)) {
                Ok(listen) => {
                    process.listen = listen;
                    return Ok(process);
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                // Stdout closed without the line: the child is gone or about to be.
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    let status = process.wait_exit(Duration::from_secs(2));
                    // Its last stderr lines may still be on the way.
                    std::thread::sleep(Duration::from_millis(50));
                    return Err(failed(
                        &process,
                        format!(
                            "closed its stdout ({}) without saying where it listens",
                            status.map_or("still running".to_owned(), |s| s.to_string())
                        ),
                    ));
                }
            }
            if let Ok(Some(status)) = process.child.try_wait() {
                // Its last lines may still be on the way: give the readers a moment.
                std::thread::sleep(Duration::from_millis(50));
                return Err(failed(
                    &process,
                    format!("exited ({status}) before saying where it listens"),
                ));
            }
            if Instant::now() >= deadline {
                return Err(failed(
                    &process,
                    format!(
                        "did not say where it listens within {:?} (a JSON `listening` line, or \
                         {{\"standin\": …, \"listen\": …}}; RUST_LOG must keep info lines)",
                        self.ready_within
                    ),
                ));
            }
        }
    }
}

/// The address a stdout line says its process listens on: the function's JSON log line
/// `{"message": "listening", "listen": "<addr>", …}` or a stand-in part's
/// `{"standin": "<part>", "listen": "<addr>"}`. `None` for any other line (the function's
/// `cannot listen` line names an address too, but not as `listening`).
pub fn listening_addr(line: &str) -> Option<SocketAddr> {
    let v: serde_json::Value = serde_json::from_str(line).ok()?;
    let announces = v["message"] == "listening" || v["standin"].is_string();
    if !announces {
        return None;
    }
    v["listen"].as_str()?.parse().ok()
}

/// A child started by [`Launch::start`], listening; killed (its group too, with
/// [`Launch::own_process_group`]) when dropped.
#[derive(Debug)]
pub struct Process {
    child: Child,
    listen: SocketAddr,
    stdout: Lines,
    stderr: Lines,
    own_group: bool,
}

impl Process {
    /// Where to connect to it: the address it listens on, with loopback for an unspecified
    /// address (`0.0.0.0`, `::`).
    pub fn addr(&self) -> SocketAddr {
        let ip = match self.listen.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        SocketAddr::new(ip, self.listen.port())
    }

    /// The address as the child said it (possibly `0.0.0.0:<port>`).
    pub fn listen(&self) -> SocketAddr {
        self.listen
    }

    /// `http://<addr><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr())
    }

    /// The child's process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The stdout lines so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.snapshot()
    }

    /// The stderr lines so far.
    pub fn stderr(&self) -> Vec<String> {
        self.stderr.snapshot()
    }

    /// Waits until a stdout line satisfies `pred` and returns it; `None` when none did within
    /// `within`.
    pub fn wait_for_line(&self, within: Duration, pred: impl Fn(&str) -> bool) -> Option<String> {
        let deadline = Instant::now() + within;
        loop {
            if let Some(line) = self.stdout().into_iter().find(|l| pred(l)) {
                return Some(line);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Sends SIGTERM (FC's way of stopping an instance).
    pub fn terminate(&self) -> std::io::Result<()> {
        let pid = libc::pid_t::try_from(self.child.id()).map_err(std::io::Error::other)?;
        // SAFETY: kill(2) on our own child's pid.
        if unsafe { libc::kill(pid, libc::SIGTERM) } == 0 {
            Ok(())
        } else {
            Err(std::io::Error::last_os_error())
        }
    }

    /// Waits for the child to exit; `None` when it is still running after `within`.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if self.own_group {
            if let Ok(pid) = libc::pid_t::try_from(self.child.id()) {
                // SAFETY: kill(2) on the process group this launcher created for the child.
                unsafe { libc::kill(-pid, libc::SIGKILL) };
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Why a child could not be started, with what it printed.
#[derive(Debug)]
pub struct LaunchError {
    /// What went wrong.
    pub message: String,
    /// The child's stdout lines.
    pub stdout: Vec<String>,
    /// The child's stderr lines.
    pub stderr: Vec<String>,
}

impl fmt::Display for LaunchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)?;
        for (name, lines) in [("stdout", &self.stdout), ("stderr", &self.stderr)] {
            if !lines.is_empty() {
                write!(f, "\n{name}:\n  {}", lines.join("\n  "))?;
            }
        }
        Ok(())
    }
}

impl std::error::Error for LaunchError {}

/// Lines read so far from one of the child's pipes.
#[derive(Clone, Debug, Default)]
struct Lines(Arc<Mutex<Vec<String>>>);

impl Lines {
    fn snapshot(&self) -> Vec<String> {
        self.0.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

#[derive(Clone, Copy)]
enum Echo {
    Stdout,
    Stderr,
}

/// Reads `pipe` line by line on a thread of its own; sends the first listening address on
/// `ready`.
fn capture(
    pipe: Option<impl Read + Send + 'static>,
    echo: Option<String>,
    to: Echo,
    ready: Option<mpsc::Sender<SocketAddr>>,
) -> Lines {
    let lines = Lines::default();
    let Some(pipe) = pipe else { return lines };
    let sink = lines.clone();
    std::thread::spawn(move || {
        let mut ready = ready;
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            if let Some(prefix) = &echo {
                match to {
                    Echo::Stdout => println!("{prefix}{line}"),
                    Echo::Stderr => eprintln!("{prefix}{line}"),
                }
            }
            let addr = ready.as_ref().and_then(|_| listening_addr(&line));
            // Kept before readiness is signalled: once `start` returns, `stdout()` holds the
            // listening line.
            if let Ok(mut kept) = sink.0.lock() {
                kept.push(line);
            }
            if let Some(addr) = addr {
                if let Some(tx) = ready.take() {
                    let _ = tx.send(addr);
                }
            }
        }
    });
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_function_and_stand_in_lines() {
        let function = r#"{"timestamp":"t","level":"INFO","listen":"127.0.0.1:40123","version":"0.1.0","message":"listening"}"#;
        assert_eq!(
            listening_addr(function),
            Some("127.0.0.1:40123".parse().unwrap())
        );
        let part = r#"{"standin":"backend","listen":"[::1]:8080"}"#;
        assert_eq!(listening_addr(part), Some("[::1]:8080".parse().unwrap()));
        for other in [
            r#"{"level":"ERROR","listen":"127.0.0.1:1","error":"in use","message":"cannot listen"}"#,
            r#"{"message":"listening","listen":"nowhere"}"#,
            "FC Invoke Start RequestId: x",
            "",
        ] {
            assert_eq!(listening_addr(other), None, "{other}");
        }
    }

    #[test]
    fn a_child_that_never_says_where_it_listens_is_an_error_with_its_output() {
        let err = Launch::new("sh")
            .args(["-c", "echo starting; echo oops >&2; exit 3"])
            .start()
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("without saying where it listens") || text.contains("exited"));
        assert_eq!(err.stdout, ["starting"], "{text}");
        assert!(text.contains("oops"), "{text}");

        let err = Launch::new("sleep")
            .arg("5")
            .ready_within(Duration::from_millis(200))
            .start()
            .unwrap_err();
        assert!(err.to_string().contains("within 200ms"), "{err}");
    }

    #[test]
    fn reads_the_address_a_child_prints() {
        let p = Launch::new("sh")
            .args([
                "-c",
                r#"echo '{"standin":"dns","listen":"0.0.0.0:5353"}'; echo after; sleep 5"#,
            ])
            .start()
            .unwrap();
        assert_eq!(p.listen(), "0.0.0.0:5353".parse().unwrap());
        assert_eq!(p.addr(), "127.0.0.1:5353".parse().unwrap());
        assert!(p
            .wait_for_line(Duration::from_secs(5), |l| l == "after")
            .is_some());
    }
}
