//! The command-line front end: clap definitions, dispatch and rendering.
//! Everything it does goes through the library (`ops`, `store`, `lint`), so
//! the MCP server can do the same.

pub mod commands;
pub mod error;
pub mod progress;
pub mod render;

use crate::api;
use crate::error::Result;
use crate::store::Store;
use clap::{CommandFactory, Parser, Subcommand};
use commands::common::{self, OpArgs};
use commands::*;
use error::CmdResult;
use std::path::PathBuf;
use std::process::ExitCode;

/// Coordinate issues, plans, todos and dependencies across many repositories.
///
/// Data lives in `coordination/<kind>/<ID>.yaml` (and the legacy
/// `coordination:` section of settings/ecosystem.yaml), committed and
/// reviewed like code.
#[derive(Debug, Parser)]
#[command(name = "git-coord", bin_name = "git coord", version, about, max_term_width = 100)]
pub struct Cli {
    /// Run as if started in DIR (like git -C).
    #[arg(short = 'C', value_name = "DIR", global = true)]
    pub dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create the coordination layout and default settings.
    Init(init::InitArgs),
    /// Register a repository in settings/ecosystem.yaml.
    AddRepo(OpArgs<api::registry::AddRepo>),
    /// Show any entity by its ID (issue, plan, todo or dependency).
    Show(OpArgs<api::notes::Show>),
    /// Open an entity in your editor; validated on save.
    Edit(entity::EditArgs),
    /// Add a dated comment to an issue, todo or plan.
    Comment(OpArgs<api::notes::Comment>),
    /// List issues.
    ListIssues(OpArgs<api::entities::ListIssues>),
    /// Show an issue.
    ShowIssue(OpArgs<api::entities::ShowIssue>),
    /// Create an issue.
    CreateIssue(OpArgs<api::issues::CreateIssue>),
    /// Update fields of an issue.
    UpdateIssue(OpArgs<api::issues::UpdateIssue>),
    /// Close (or resolve) an issue.
    CloseIssue(OpArgs<api::issues::CloseIssue>),
    /// Reopen an issue.
    ReopenIssue(OpArgs<api::issues::ReopenIssue>),
    /// Delete an issue.
    DeleteIssue(OpArgs<api::entities::DeleteIssue>),
    /// List plans.
    ListPlans(OpArgs<api::entities::ListPlans>),
    /// Show a plan with its milestones.
    ShowPlan(OpArgs<api::entities::ShowPlan>),
    /// Create a plan (with `--milestone "Name:YYYY-MM-DD"`…).
    CreatePlan(OpArgs<api::plans::CreatePlan>),
    /// Update fields of a plan.
    UpdatePlan(OpArgs<api::plans::UpdatePlan>),
    /// Add a milestone to a plan.
    AddMilestone(OpArgs<api::plans::AddMilestone>),
    /// Update a milestone.
    UpdateMilestone(OpArgs<api::plans::UpdateMilestone>),
    /// List todos.
    ListTodos(OpArgs<api::entities::ListTodos>),
    /// Show a todo.
    ShowTodo(OpArgs<api::entities::ShowTodo>),
    /// Create a todo.
    CreateTodo(OpArgs<api::todos::CreateTodo>),
    /// Update fields of a todo.
    UpdateTodo(OpArgs<api::todos::UpdateTodo>),
    /// Mark a todo completed.
    CompleteTodo(OpArgs<api::todos::CompleteTodo>),
    /// Delete a todo.
    DeleteTodo(OpArgs<api::entities::DeleteTodo>),
    /// Delete a plan (with its milestones).
    DeletePlan(OpArgs<api::plans::DeletePlan>),
    /// Delete a milestone from its plan.
    DeleteMilestone(OpArgs<api::plans::DeleteMilestone>),
    /// List dependencies.
    ListDeps(OpArgs<api::entities::ListDependencies>),
    /// Show a dependency.
    ShowDep(OpArgs<api::entities::ShowDependency>),
    /// Create a dependency between two repositories.
    CreateDep(OpArgs<api::dependencies::CreateDependency>),
    /// Update fields of a dependency.
    UpdateDep(OpArgs<api::dependencies::UpdateDependency>),
    /// Delete a dependency.
    DeleteDep(OpArgs<api::entities::DeleteDependency>),
    /// Check dependencies for real: versions, commands, health checks.
    CheckDeps(check_deps::CheckDepsArgs),
    /// Approve dependencies' validation commands (after reading them).
    Trust(trust::TrustArgs),
    /// Check dependencies every interval; print only changes of verdict.
    Watch(watch::WatchArgs),
    /// Start, stop or ask about the index's file-system monitor.
    Fsmonitor(fsmonitor::FsmonitorArgs),
    /// Gate a member repository in its CI (exit 1 with the reasons).
    Gate(gate::GateArgs),
    /// Execute todos through their approved commands, in dependency order.
    Execute(exec::ExecuteArgs),
    /// Run a plan's (milestone's, repo's, label's) todos, or one command across repos.
    Sweep(exec::SweepArgs),
    /// List recorded runs.
    Runs(exec::RunsArgs),
    /// Show a recorded run.
    ShowRun(exec::ShowRunArgs),
    /// Print a task's log from a recorded run.
    RunLog(exec::RunLogArgs),
    /// Cancel a running run.
    CancelRun(exec::CancelRunArgs),
    /// Internal: run an MCP request detached.
    #[command(hide = true)]
    ExecRequest(exec::ExecRequestArgs),
    /// Pending todos nothing blocks, best first.
    Ready(reports::ReadyArgs),
    /// What is blocking REPO: its work waiting on something (the inverse of blocked-by).
    ///
    /// Open issues naming REPO, unsatisfied dependencies it consumes, and its
    /// todos' active blockers (with the chain to the root cause). Read it as
    /// "what is blocking REPO"; the other direction — what REPO is blocking —
    /// is `git coord blocked-by REPO`. (Not the entity field `blocking:`,
    /// which lists what an entity blocks.)
    Blocking(reports::BlockingArgs),
    /// What REPO is blocking: other work waiting on REPO (the inverse of blocking).
    ///
    /// Consumers of REPO's unsatisfied dependencies and entities of other
    /// repositories waiting on its open work. Read it as "what is blocked by
    /// REPO"; the other direction — what is blocking REPO — is `git coord
    /// blocking REPO`.
    BlockedBy(reports::BlockedByArgs),
    /// Coordination status of a repository or the ecosystem.
    Status(reports::StatusArgs),
    /// Active plans, milestones, critical paths and projected dates.
    Roadmap(reports::RoadmapArgs),
    /// Open work per assignee or repository.
    Workload(reports::WorkloadArgs),
    /// The repository dependency graph or the entity blocking graph.
    DepGraph(reports::DepGraphArgs),
    /// Check a repository's registration, path and dependencies.
    ValidateRepo(reports::ValidateRepoArgs),
    /// Check a plan for real: readiness and milestone completion (exit 1 unless valid).
    Validate(reports::ValidatePlanArgs),
    /// List the ecosystem's repositories.
    ListRepos(repos::ListReposArgs),
    /// Move the legacy coordination section into one file per entity.
    Migrate(migrate::MigrateArgs),
    /// Check all coordination data.
    Lint(lint::LintArgs),
    /// Full-text search over every entity.
    Search(search::SearchArgs),
    /// Commits that changed coordination data, with field-level changes.
    Log(log::LogArgs),
    /// Coordination changes between revisions, field by field.
    Diff(diff::DiffArgs),
    /// Review a change: its diff and what it breaks (exit 1 on new errors).
    Review(review::ReviewArgs),
    /// Coordination events from git history; their delivery to the memory service.
    Events(events::EventsArgs),
    /// Trends from the event log: throughput, lead time, burn-down, alerts.
    Trends(trends::TrendsArgs),
    /// Install or remove the pre-push hook, or run its check.
    Hook(hook::HookArgs),
    /// Fetch, renumber colliding IDs, merge, lint, commit and push.
    Sync(sync::SyncArgs),
    /// Find (and --fix) duplicate IDs, misnamed files and dangling references.
    Doctor(doctor::DoctorArgs),
    /// Give an entity or milestone a new ID, rewriting every reference.
    Renumber(OpArgs<api::entities::Renumber>),
    /// Merge three versions of an entity file field by field (git's merge driver).
    MergeDriver(merge_driver::MergeDriverArgs),
    /// Write man pages.
    Man(man::ManArgs),
    /// Print a shell completion script (commands, flags, IDs and repositories).
    Completions(completions::CompletionsArgs),
    /// Serve the coordination data over MCP (stdio) for agents.
    Mcp(mcp::McpArgs),
}

/// Where the command runs.
pub struct Context {
    /// The directory given with -C, or the current one.
    pub dir: PathBuf,
}

impl Context {
    /// Opens the store (root discovery + settings).
    pub fn store(&self) -> Result<Store> {
        Store::open(&self.dir)
    }
}

/// The clap command (for man pages and tests).
pub fn command() -> clap::Command {
    Cli::command()
}

fn dispatch(cx: &Context, cmd: &Command) -> CmdResult {
    match cmd {
        Command::Init(a) => init::run(cx, a),
        Command::AddRepo(a) => repos::add(cx, a),
        Command::Show(a) => entity::show(cx, a),
        Command::Edit(a) => entity::edit(cx, a),
        Command::Comment(a) => entity::comment(cx, a),
        Command::ListIssues(a) => issue::list(cx, a),
        Command::ShowIssue(a) => issue::show(cx, a),
        Command::CreateIssue(a) => issue::create(cx, a),
        Command::UpdateIssue(a) => issue::update(cx, a),
        Command::CloseIssue(a) => issue::close(cx, a),
        Command::ReopenIssue(a) => issue::reopen(cx, a),
        Command::DeleteIssue(a) => issue::delete(cx, a),
        Command::ListPlans(a) => plan::list(cx, a),
        Command::ShowPlan(a) => plan::show(cx, a),
        Command::CreatePlan(a) => plan::create(cx, a),
        Command::UpdatePlan(a) => plan::update(cx, a),
        Command::AddMilestone(a) => plan::add_milestone(cx, a),
        Command::UpdateMilestone(a) => plan::update_milestone(cx, a),
        Command::ListTodos(a) => todo::list(cx, a),
        Command::ShowTodo(a) => todo::show(cx, a),
        Command::CreateTodo(a) => todo::create(cx, a),
        Command::UpdateTodo(a) => todo::update(cx, a),
        Command::CompleteTodo(a) => todo::complete(cx, a),
        Command::DeleteTodo(a) => todo::delete(cx, a),
        Command::DeletePlan(a) => common::delete(cx, a),
        Command::DeleteMilestone(a) => common::delete(cx, a),
        Command::ListDeps(a) => dep::list(cx, a),
        Command::ShowDep(a) => dep::show(cx, a),
        Command::CreateDep(a) => dep::create(cx, a),
        Command::UpdateDep(a) => dep::update(cx, a),
        Command::DeleteDep(a) => dep::delete(cx, a),
        Command::CheckDeps(a) => check_deps::run(cx, a),
        Command::Trust(a) => trust::run(cx, a),
        Command::Watch(a) => watch::run(cx, a),
        Command::Fsmonitor(a) => fsmonitor::run(cx, a),
        Command::Gate(a) => gate::run(cx, a),
        Command::Execute(a) => exec::execute(cx, a),
        Command::Sweep(a) => exec::sweep(cx, a),
        Command::Runs(a) => exec::runs(cx, a),
        Command::ShowRun(a) => exec::show_run(cx, a),
        Command::RunLog(a) => exec::run_log(cx, a),
        Command::CancelRun(a) => exec::cancel_run(cx, a),
        Command::ExecRequest(a) => exec::exec_request(cx, a),
        Command::Ready(a) => reports::ready(cx, a),
        Command::Blocking(a) => reports::blocking(cx, a),
        Command::BlockedBy(a) => reports::blocked_by(cx, a),
        Command::Status(a) => reports::status(cx, a),
        Command::Roadmap(a) => reports::roadmap(cx, a),
        Command::Workload(a) => reports::workload(cx, a),
        Command::DepGraph(a) => reports::dep_graph(cx, a),
        Command::ValidateRepo(a) => reports::validate_repo(cx, a),
        Command::Validate(a) => reports::validate_plan(cx, a),
        Command::ListRepos(a) => repos::run(cx, a),
        Command::Migrate(a) => migrate::run(cx, a),
        Command::Lint(a) => lint::run(cx, a),
        Command::Search(a) => search::run(cx, a),
        Command::Log(a) => log::run(cx, a),
        Command::Diff(a) => diff::run(cx, a),
        Command::Review(a) => review::run(cx, a),
        Command::Events(a) => events::run(cx, a),
        Command::Trends(a) => trends::run(cx, a),
        Command::Hook(a) => hook::run(cx, a),
        Command::Sync(a) => sync::run(cx, a),
        Command::Doctor(a) => doctor::run(cx, a),
        Command::Renumber(a) => renumber::run(cx, a),
        Command::MergeDriver(a) => merge_driver::run(cx, a),
        Command::Man(a) => man::run(cx, a),
        Command::Completions(a) => completions::run(cx, a),
        Command::Mcp(a) => mcp::run(cx, a),
    }
}

/// Entry point of the binary.
pub fn main() -> ExitCode {
    // A shell asking for completions (`COMPLETE=bash git-coord -- …`) is
    // answered here, before parsing, and the process exits.
    completions::complete();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { 2 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_env("GIT_COORD_LOG"))
        .with_writer(std::io::stderr)
        .init();
    crate::store::on_lock_wait(|w| {
        let by = w.holder.map(|h| format!(" ({h})")).unwrap_or_default();
        eprintln!("waiting for another git-coord process{by} holding the lock on {}…", w.root.display());
    });
    progress_bar();
    let dir = match &cli.dir {
        Some(d) => d.clone(),
        None => match std::env::current_dir() {
            Ok(d) => d,
            Err(e) => {
                eprintln!("error: cannot read the current directory: {e}");
                return ExitCode::from(1);
            }
        },
    };
    render::init_color(&dir);
    let cx = Context { dir };
    // A read that answers once and exits leaves its loaded entities to the
    // exit; a server, a watcher, the monitor and a run free as they go.
    if matches!(
        cli.command,
        Command::ListIssues(_)
            | Command::ListPlans(_)
            | Command::ListTodos(_)
            | Command::ListDeps(_)
            | Command::Ready(_)
            | Command::Blocking(_)
            | Command::BlockedBy(_)
            | Command::Status(_)
            | Command::Roadmap(_)
            | Command::Workload(_)
            | Command::DepGraph(_)
            | Command::ValidateRepo(_)
            | Command::Validate(_)
            | Command::Lint(_)
    ) {
        crate::api::leave_to_exit();
    }
    let result = dispatch(&cx, &cli.command);
    // The index connections the command pooled: closing the last one
    // checkpoints the WAL and empties it.
    crate::index::db::close_pooled();
    render::settle_color();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => ExitCode::from(e.report()),
    }
}

/// Draws a progress bar on stderr while the index is (re)built, once that
/// has taken a second and only when stdout and stderr are terminals (a
/// script, a pipe or a redirect gets no bar), like [`progress::Bar`].
fn progress_bar() {
    use std::io::IsTerminal;
    if !(std::io::stdout().is_terminal() && std::io::stderr().is_terminal()) {
        return;
    }
    let started = std::time::Instant::now();
    let bar = std::sync::Mutex::new(None::<indicatif::ProgressBar>);
    let totals = std::sync::atomic::AtomicU64::new(0);
    let done = std::sync::atomic::AtomicU64::new(0);
    crate::index::progress::on_progress(move |more_done, more_total| {
        use std::sync::atomic::Ordering::Relaxed;
        let total = totals.fetch_add(more_total, Relaxed) + more_total;
        let n = done.fetch_add(more_done, Relaxed) + more_done;
        let Ok(mut slot) = bar.lock() else { return };
        if slot.is_none() && started.elapsed() >= std::time::Duration::from_secs(1) && n < total {
            let pb = indicatif::ProgressBar::new(total);
            pb.set_style(
                indicatif::ProgressStyle::with_template("indexing {bar:30} {pos}/{len} files ({eta})")
                    .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
            );
            *slot = Some(pb);
        }
        if let Some(pb) = slot.as_ref() {
            pb.set_length(total);
            pb.set_position(n);
            if n >= total {
                pb.finish_and_clear();
            }
        }
    });
}
