//! Pool execution commands: `execute`, `sweep`, `runs`, `show-run`,
//! `run-log`, `cancel-run`, and the hidden `exec-request` that MCP starts
//! detached. The CLI owns the terminal: it turns Ctrl-C into cancellation
//! (once: stop and terminate; twice: kill) and renders the run's events —
//! indicatif bars on a terminal, whole `[repo] ` lines otherwise.

use crate::api::exec::{self as api, Execute, RunRequest, Sweep};
use crate::cli::Context;
use crate::cli::commands::common::OutputArgs;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render::{self, Format};
use crate::error::Error;
use crate::exec::record::{self, RunRecord, RunStatus};
use crate::exec::scheduler::{Cancel, Prepared};
use crate::exec::{Event, TaskStatus};
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// `execute`
#[derive(Debug, clap::Args)]
pub struct ExecuteArgs {
    #[command(flatten)]
    pub req: Execute,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `sweep`
#[derive(Debug, clap::Args)]
pub struct SweepArgs {
    #[command(flatten)]
    pub req: Sweep,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `execute`
pub fn execute(cx: &Context, a: &ExecuteArgs) -> CmdResult {
    go::<ExecuteArgs, Execute>(cx, &a.req, a.out.format, None)
}

/// `sweep`
pub fn sweep(cx: &Context, a: &SweepArgs) -> CmdResult {
    go::<SweepArgs, Sweep>(cx, &a.req, a.out.format, None)
}

fn lib<A: clap::Args, O: crate::api::Operation>(e: Error) -> CommandError {
    crate::cli::commands::common::op_error::<A, O>(e)
}

fn go<A: clap::Args, O: crate::api::Operation + RunRequest>(
    cx: &Context,
    req: &O,
    format: Format,
    run_id: Option<String>,
) -> CmdResult {
    let store = cx.store()?;
    let mut p = api::prepare(&store, req).map_err(lib::<A, O>)?;
    if let Some(id) = run_id {
        p.id = id;
    }
    let mut w = render::out();
    for warning in &p.warnings {
        eprintln!("warning: {warning}");
    }
    if req.dry_run() {
        return dry_run(&mut w, &p, req.explain(), format);
    }
    if req.explain() {
        for t in &p.tasks {
            let lines = match &t.resolved {
                Ok(r) => r.explain.clone(),
                Err(e) => vec![e.to_string()],
            };
            eprintln!("{}: {}", t.key, lines.join("; "));
        }
    }
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| Error::system("start the async runtime", e))?;
    let argv: Vec<String> = std::env::args().collect();
    let store = Arc::new(store);
    let tty = std::io::stdout().is_terminal() && format == Format::Table;
    let rec = rt.block_on(async move {
        let (ctx, crx) = tokio::sync::watch::channel(Cancel::None);
        let (etx, erx) = tokio::sync::mpsc::unbounded_channel();
        // Ctrl-C once: cancel; twice: kill.
        let signals = tokio::spawn(async move {
            let mut n = 0;
            while tokio::signal::ctrl_c().await.is_ok() {
                n += 1;
                let _ = ctx.send(if n == 1 { Cancel::Soft } else { Cancel::Hard });
            }
        });
        let render = tokio::spawn(render_events(erx, tty, format == Format::Table));
        let r = crate::exec::run(store, p, argv, etx, crx).await;
        let _ = render.await;
        signals.abort();
        r
    })?;
    finish(&mut w, &rec, format)
}

async fn render_events(mut rx: tokio::sync::mpsc::UnboundedReceiver<Event>, tty: bool, show: bool) {
    use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
    let multi = MultiProgress::new();
    let mut bar: Option<ProgressBar> = None;
    let mut lines: std::collections::HashMap<usize, ProgressBar> = Default::default();
    let mut err = std::io::stderr();
    while let Some(e) = rx.recv().await {
        if !show {
            continue;
        }
        if tty {
            match e {
                Event::Started { run_id, total, .. } => {
                    let b = multi.add(ProgressBar::new(total as u64));
                    b.set_style(
                        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {elapsed}")
                            .unwrap_or_else(|_| ProgressStyle::default_bar()),
                    );
                    b.set_prefix(run_id);
                    bar = Some(b);
                }
                Event::TaskStarted { index, key, repo, attempt } => {
                    let l = lines.entry(index).or_insert_with(|| multi.add(ProgressBar::new_spinner()));
                    l.set_message(format!("[{repo}] {key} attempt {attempt}"));
                    l.enable_steady_tick(std::time::Duration::from_millis(120));
                }
                Event::Output { index, repo, line } => {
                    if let Some(l) = lines.get(&index) {
                        l.set_message(format!("[{repo}] {}", crate::display::escape_controls(&line)));
                    }
                }
                Event::Retrying { key, attempt, delay, reason, .. } => {
                    let _ = multi.println(format!(
                        "{key}: attempt {attempt} failed ({reason}); retrying in {:.1}s",
                        delay.as_secs_f64()
                    ));
                }
                Event::TaskFinished { index, key, repo, status, reason } => {
                    if let Some(l) = lines.remove(&index) {
                        l.finish_and_clear();
                        multi.remove(&l);
                    }
                    let _ = multi.println(task_line(&repo, &key, status, reason.as_deref()));
                    if let Some(b) = &bar {
                        b.inc(1);
                    }
                }
                Event::Stopping { reason } => {
                    let _ = multi.println(format!("stopping: {reason}"));
                }
            }
        } else {
            let mut line = match e {
                Event::Started { run_id, total, record } => {
                    format!("{run_id}: {total} tasks (record {})", record.display())
                }
                Event::TaskStarted { key, repo, attempt, .. } => format!("[{repo}] {key} started (attempt {attempt})"),
                Event::Output { repo, line, .. } => format!("[{repo}] {}", crate::display::escape_controls(&line)),
                Event::Retrying { key, attempt, delay, reason, .. } => {
                    format!("{key}: attempt {attempt} failed ({reason}); retrying in {:.1}s", delay.as_secs_f64())
                }
                Event::TaskFinished { key, repo, status, reason, .. } => {
                    task_line(&repo, &key, status, reason.as_deref())
                }
                Event::Stopping { reason } => format!("stopping: {reason}"),
            };
            // One write per line (stderr is unbuffered): a whole line, one syscall.
            line.push('\n');
            let _ = err.write_all(line.as_bytes());
        }
    }
    if let Some(b) = bar {
        b.finish_and_clear();
    }
}

fn task_line(repo: &str, key: &str, status: TaskStatus, reason: Option<&str>) -> String {
    let s = status.as_str().replace('_', " ");
    match reason {
        Some(r) if status == TaskStatus::Skipped => format!("[{repo}] {key} skipped ({r})"),
        Some(r) => format!("[{repo}] {key} {s}: {r}"),
        None => format!("[{repo}] {key} {s}"),
    }
}

fn summary_line(rec: &RunRecord) -> String {
    summary_text(&rec.id, rec.effective_status().as_str(), &rec.summary)
}

fn summary_text(id: &str, status: &str, s: &crate::exec::record::Summary) -> String {
    let mut parts = vec![format!("{} tasks", s.total)];
    for (n, what) in [
        (s.succeeded, "succeeded"),
        (s.failed, "failed"),
        (s.skipped, "skipped"),
        (s.untrusted, "untrusted"),
        (s.not_started, "not started"),
        (s.cancelled, "cancelled"),
    ] {
        if n > 0 {
            parts.push(format!("{n} {what}"));
        }
    }
    format!("{id} {status}: {}", parts.join(", "))
}

fn finish(w: &mut dyn Write, rec: &RunRecord, format: Format) -> CmdResult {
    match format {
        Format::Json => render::json(w, &api::RunView::of(rec))?,
        Format::Yaml => render::yaml(w, &api::RunView::of(rec))?,
        Format::Table => {
            writeln!(w, "{}", summary_line(rec))?;
            for t in &rec.tasks {
                if t.status != TaskStatus::Succeeded {
                    writeln!(w, "  {}", task_line(&t.repo, &t.key, t.status, t.reason.as_deref()))?;
                }
            }
            if rec.status != RunStatus::Succeeded {
                writeln!(w, "resume with: git coord sweep --resume {}   (or --rerun-failed {})", rec.id, rec.id)?;
            }
        }
    }
    match rec.status {
        RunStatus::Succeeded => Ok(()),
        RunStatus::Cancelled => Err(CommandError::Exit(130)),
        _ => Err(CommandError::Exit(1)),
    }
}

fn dry_run(w: &mut dyn Write, p: &Prepared, explain: bool, format: Format) -> CmdResult {
    let tasks = api::planned(p);
    match format {
        Format::Json => render::json(w, &tasks)?,
        Format::Yaml => render::yaml(w, &tasks)?,
        Format::Table => {
            let waves = tasks.iter().map(|t| t.wave).max().unwrap_or(0);
            writeln!(w, "dry run: {} ({} tasks, {waves} waves); nothing runs", p.selection.describe(), tasks.len())?;
            for wave in 1..=waves {
                writeln!(w, "wave {wave}")?;
                for t in tasks.iter().filter(|t| t.wave == wave) {
                    let cmd = t.command.as_deref().map(crate::display::escape_controls).unwrap_or_else(|| "-".into());
                    writeln!(
                        w,
                        "  {}  [{}]  pool {}  {}  {}",
                        t.key,
                        t.repo,
                        t.pool.as_deref().unwrap_or("-"),
                        t.trust,
                        cmd
                    )?;
                    if !t.blocked_by.is_empty() {
                        writeln!(w, "      after {}", t.blocked_by.join(", "))?;
                    }
                    if let Some(n) = &t.not_started {
                        writeln!(w, "      will not start: {n}")?;
                    }
                    if explain {
                        for e in &t.explain {
                            writeln!(w, "      {e}")?;
                        }
                    }
                }
            }
        }
    }
    Ok(())
}

/// List recorded runs, newest first.
#[derive(Debug, clap::Args)]
pub struct RunsArgs {
    #[command(flatten)]
    pub req: api::Runs,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `runs`
pub fn runs(cx: &Context, a: &RunsArgs) -> CmdResult {
    let store = cx.store()?;
    let l = crate::cli::commands::common::run_op::<RunsArgs, api::Runs>(&store, &a.req)?;
    crate::cli::commands::common::warn(&l.warnings);
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => render::json(&mut w, &l)?,
        Format::Yaml => render::yaml(&mut w, &l)?,
        Format::Table => {
            if l.items.is_empty() {
                writeln!(w, "no runs")?;
            }
            for r in &l.items {
                writeln!(w, "{}  {}  {}", summary_text(&r.id, &r.status, &r.summary), r.started, r.selection)?;
            }
        }
    }
    Ok(())
}

/// Show a recorded run: its status, tasks, attempts and log tails.
#[derive(Debug, clap::Args)]
pub struct ShowRunArgs {
    #[command(flatten)]
    pub req: api::RunStatusReq,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `show-run`
pub fn show_run(cx: &Context, a: &ShowRunArgs) -> CmdResult {
    let store = cx.store()?;
    let rec = record::load(&store, &a.req.run_id)?;
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => render::json(&mut w, &api::RunView::of(&rec))?,
        Format::Yaml => render::yaml(&mut w, &api::RunView::of(&rec))?,
        Format::Table => {
            writeln!(w, "{}", summary_line(&rec))?;
            writeln!(w, "  {} on {} by {}, started {}", rec.selection.describe(), rec.host, rec.user, rec.started)?;
            for t in &rec.tasks {
                writeln!(w, "{}", task_line(&t.repo, &t.key, t.status, t.reason.as_deref()))?;
                if let Some(c) = &t.command {
                    writeln!(w, "    command: {}", crate::display::escape_controls(c))?;
                }
                for at in &t.attempts {
                    let how = match (at.exit_code, at.timed_out, at.cancelled) {
                        (_, true, _) => "timed out".to_string(),
                        (_, _, true) => "cancelled".to_string(),
                        (Some(c), _, _) => format!("exit {c}"),
                        _ => "killed".to_string(),
                    };
                    let on =
                        at.member.as_deref().filter(|m| *m != "local").map(|m| format!(" on {m}")).unwrap_or_default();
                    writeln!(w, "    attempt {}: {how} in {:.2}s{on}", at.number, at.duration_secs)?;
                }
                if let Some(c) = &t.todo_status {
                    writeln!(w, "    todo: {} → {}", c.from, c.to)?;
                }
            }
        }
    }
    Ok(())
}

/// Print a task's full log from a recorded run.
#[derive(Debug, clap::Args)]
pub struct RunLogArgs {
    #[command(flatten)]
    pub req: api::RunLog,
    #[command(flatten)]
    pub out: OutputArgs,
}

/// `run-log`
pub fn run_log(cx: &Context, a: &RunLogArgs) -> CmdResult {
    let store = cx.store()?;
    let l = crate::cli::commands::common::run_op::<RunLogArgs, api::RunLog>(&store, &a.req)?;
    let mut w = render::out_for(a.out.format);
    match a.out.format {
        Format::Json => render::json(&mut w, &l)?,
        Format::Yaml => render::yaml(&mut w, &l)?,
        Format::Table => {
            for warning in &l.warnings {
                eprintln!("warning: {warning}");
            }
            if l.complete {
                w.write_all(l.log.as_bytes())?;
            } else {
                writeln!(w, "{}", l.log)?;
            }
        }
    }
    Ok(())
}

/// Cancel a running run (like Ctrl-C in its terminal).
#[derive(Debug, clap::Args)]
pub struct CancelRunArgs {
    #[command(flatten)]
    pub req: api::CancelRun,
    #[command(flatten)]
    pub out: super::common::OutputArgs,
}

/// `cancel-run`
pub fn cancel_run(cx: &Context, a: &CancelRunArgs) -> CmdResult {
    let store = cx.store()?;
    let c = crate::api::Operation::run(&a.req, &store)?;
    match a.out.format {
        render::Format::Json => render::json(&mut render::out(), &c)?,
        render::Format::Yaml => render::yaml(&mut render::out(), &c)?,
        render::Format::Table => writeln!(render::out(), "{}: {}", c.run_id, c.status)?,
    }
    Ok(())
}

/// Internal: run a request given as JSON (how MCP starts a detached run).
#[derive(Debug, clap::Args)]
pub struct ExecRequestArgs {
    /// `execute` or `sweep`.
    #[arg(long)]
    pub operation: String,
    /// The run ID to use.
    #[arg(long)]
    pub run_id: String,
    /// The request, as the MCP tool received it.
    #[arg(long)]
    pub json: String,
}

/// `exec-request`
pub fn exec_request(cx: &Context, a: &ExecRequestArgs) -> CmdResult {
    let bad = |e: serde_json::Error| CommandError::Usage(format!("--json: {e}"));
    match a.operation.as_str() {
        "execute" => {
            let req: Execute = serde_json::from_str(&a.json).map_err(bad)?;
            go::<ExecuteArgs, Execute>(cx, &req, Format::Json, Some(a.run_id.clone()))
        }
        "sweep" => {
            let req: Sweep = serde_json::from_str(&a.json).map_err(bad)?;
            go::<SweepArgs, Sweep>(cx, &req, Format::Json, Some(a.run_id.clone()))
        }
        other => Err(CommandError::Usage(format!("unknown operation `{other}`"))),
    }
}
