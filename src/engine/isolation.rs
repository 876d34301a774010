//! User rules in a child process, so that a rule that grows without bound is stopped at
//! `--rego-memory` (and one that crashes its process is reported) while the rest of the scan
//! goes on. The child is posture itself, run with [`CHILD_COMMAND`]: it reads a [`Request`] (the
//! rules' modules, the inputs, what runs on what) on stdin and writes the [`rule_job`] events as
//! JSON lines on stdout. posture watches the child's resident memory (on Linux, where `/proc`
//! tells it) and kills it when it passes the bound; the rule it was running is reported and the
//! job goes on in a new child from the next rule.
//!
//! This module spawns processes; nothing else in `engine` does I/O.

use super::limits::{Limits, MemoryBound};
use super::rule_job::{self, Event, Job, RuleProgram};
use crate::policy::Source;
use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The hidden subcommand that makes posture the child ([`serve`]).
pub const CHILD_COMMAND: &str = "__run-user-rules";

/// How often the child's memory is read while it runs.
const WATCH_INTERVAL: Duration = Duration::from_millis(5);

/// What the child keeps of its standard error, for the report when it crashes.
const STDERR_KEEP: u64 = 64 << 10;

/// What the parent sends: a [`Job`] without its compiled programs, which the child compiles
/// from the same modules.
#[derive(Serialize)]
struct RequestRef<'a> {
    modules: &'a [Source],
    entries: Vec<&'a str>,
    inputs: &'a [regorus::Value],
    work: &'a [Vec<usize>],
    data: &'a regorus::Value,
    timeout: Duration,
    first: usize,
}

#[derive(Deserialize)]
struct Request {
    modules: Vec<Source>,
    entries: Vec<String>,
    inputs: Vec<regorus::Value>,
    work: Vec<Vec<usize>>,
    data: regorus::Value,
    timeout: Duration,
    first: usize,
}

/// A line the child writes.
#[derive(Serialize, Deserialize)]
enum Line {
    /// The child has read the request and compiled the rules; its resident memory then is
    /// what the bound is counted from, so that the inputs themselves do not count.
    Ready {
        resident: Option<u64>,
    },
    Event(Event),
}

/// What the parent hears of a job.
pub(super) enum Step {
    Event(Event),
    /// The rule was stopped (out of memory, or its process died); none of its results count.
    Interrupted {
        rule: usize,
        why: String,
    },
}

/// Runs `job` in children under `bound`, telling every step to `on`.
pub(super) fn run(job: &Job, modules: &[Source], bound: &MemoryBound, on: &mut dyn FnMut(Step)) {
    let end = job.first + job.programs.len();
    let mut start = job.first;
    while start < end {
        match run_child(job, modules, bound, start, on) {
            Ok(()) => return,
            Err(Stop { rule, why }) => {
                on(Step::Interrupted { rule, why });
                start = rule + 1;
            }
        }
    }
}

/// A child that did not finish: the rule it was on, and why.
struct Stop {
    rule: usize,
    why: String,
}

fn run_child(
    job: &Job,
    modules: &[Source],
    bound: &MemoryBound,
    start: usize,
    on: &mut dyn FnMut(Step),
) -> Result<(), Stop> {
    let skip = start - job.first;
    let end = job.first + job.programs.len();
    let request = RequestRef {
        modules,
        entries: job.programs[skip..]
            .iter()
            .map(|p| p.entry.as_str())
            .collect(),
        inputs: job.inputs,
        work: &job.work[skip..],
        data: job.data,
        timeout: job.limits.timeout,
        first: start,
    };
    let mut child = Command::new(&bound.program)
        .arg(CHILD_COMMAND)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| Stop {
            rule: start,
            why: format!(
                "it could not be run: posture could not start {} to run it under {} ({e})",
                bound.program.display(),
                bound.describe()
            ),
        })?;
    let (stdin, stdout, stderr) = (child.stdin.take(), child.stdout.take(), child.stderr.take());
    // The rule begun and not done, and the next one due.
    let mut current: Option<usize> = None;
    let mut next = start;
    let mut killed = false;
    let mut complained = String::new();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            if let Some(stdin) = stdin {
                // A child that died early closes the pipe; its exit says why.
                let _ = serde_json::to_writer(std::io::BufWriter::new(stdin), &request);
            }
        });
        let stderr = scope.spawn(move || {
            let mut text = String::new();
            if let Some(stderr) = stderr {
                let mut bounded = stderr.take(STDERR_KEEP);
                let _ = bounded.read_to_string(&mut text);
                // Whatever is past the bound is read and dropped, so the child never blocks.
                let _ = std::io::copy(&mut bounded.into_inner(), &mut std::io::sink());
            }
            text
        });
        let (lines, heard) = mpsc::channel::<Line>();
        scope.spawn(move || {
            let Some(stdout) = stdout else { return };
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                let Ok(line) = serde_json::from_str::<Line>(&line) else {
                    return;
                };
                if lines.send(line).is_err() {
                    return;
                }
            }
        });
        let mut baseline: Option<u64> = None;
        let mut watched = Instant::now();
        loop {
            match heard.recv_timeout(WATCH_INTERVAL) {
                Ok(Line::Ready { resident }) => baseline = resident,
                Ok(Line::Event(event)) => {
                    match event {
                        Event::Begin { rule } => current = Some(rule),
                        Event::Done { rule } => {
                            current = None;
                            next = rule + 1;
                        }
                        _ => {}
                    }
                    on(Step::Event(event));
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {}
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            }
            if killed || watched.elapsed() < WATCH_INTERVAL {
                continue;
            }
            watched = Instant::now();
            let over = baseline
                .zip(resident(child.id()))
                .is_some_and(|(base, now)| now.saturating_sub(base) > bound.bytes);
            if over {
                killed = child.kill().is_ok();
            }
        }
        complained = stderr.join().unwrap_or_default();
    });
    let status = child.wait();
    let rule = current.unwrap_or(next);
    if killed {
        return Err(Stop {
            rule,
            why: format!("it ran into {}", bound.describe()),
        });
    }
    match status {
        Ok(status) if status.success() && current.is_none() && next >= end => Ok(()),
        status => {
            let how = match status {
                Ok(status) => status.to_string(),
                Err(e) => e.to_string(),
            };
            let said = complained
                .lines()
                .rev()
                .find(|l| !l.trim().is_empty())
                .map(|l| format!(": {}", l.trim().chars().take(300).collect::<String>()))
                .unwrap_or_default();
            Err(Stop {
                rule,
                why: format!("the process running it stopped ({how}){said}"),
            })
        }
    }
}

/// A process's resident memory in bytes, where the system tells it.
fn resident(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .strip_suffix("kB")?
        .trim()
        .parse()
        .ok()?;
    Some(kib << 10)
}

/// Errors of the child.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("cannot read the request")]
    Request(#[source] serde_json::Error),
    #[error("rule {entry} cannot be compiled: {message}")]
    Compile { entry: String, message: String },
    #[error("cannot write the results")]
    Write(#[source] std::io::Error),
}

/// The child's side: reads a request from `input`, runs the job, writes its lines to `output`.
pub fn serve(input: impl Read, output: impl Write) -> Result<(), ServeError> {
    let request: Request =
        serde_json::from_reader(BufReader::new(input)).map_err(ServeError::Request)?;
    let mut output = std::io::BufWriter::new(output);
    let mut engine = regorus::Engine::new();
    engine.set_strict_builtin_errors(true);
    for module in &request.modules {
        // The parent added these same modules; one it could not add it did not send.
        let _ = super::user::add_source(&mut engine, module);
    }
    let mut programs = Vec::with_capacity(request.entries.len());
    for entry in &request.entries {
        let program =
            RuleProgram::compile(&mut engine, entry).map_err(|e| ServeError::Compile {
                entry: entry.clone(),
                message: e.to_string(),
            })?;
        programs.push(program);
    }
    let limits = Limits {
        timeout: request.timeout,
        memory: None,
    };
    let job = Job {
        programs: &programs,
        inputs: &request.inputs,
        work: &request.work,
        data: &request.data,
        limits: &limits,
        first: request.first,
    };
    write_line(
        &mut output,
        &Line::Ready {
            resident: resident(std::process::id()),
        },
    )?;
    output.flush().map_err(ServeError::Write)?;
    rule_job::run(&job, &mut |event| {
        let edge = matches!(event, Event::Begin { .. } | Event::Done { .. });
        write_line(&mut output, &Line::Event(event))?;
        // The parent learns at once where the job is: a stop then blames the right rule.
        if edge {
            output.flush().map_err(ServeError::Write)?;
        }
        Ok(())
    })?;
    output.flush().map_err(ServeError::Write)
}

fn write_line(output: &mut impl Write, line: &Line) -> Result<(), ServeError> {
    serde_json::to_writer(&mut *output, line)
        .map_err(|e| ServeError::Write(std::io::Error::other(e)))?;
    output.write_all(b"\n").map_err(ServeError::Write)
}
