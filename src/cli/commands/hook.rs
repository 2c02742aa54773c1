//! `hook`: install or remove the pre-push hook (or, with `--events`, the
//! events hooks), the check the pre-push hook runs, and the background pass
//! the events hooks start.

use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render;
use crate::error::Error;
use crate::hooks::{self, Installed, Uninstalled};
use std::io::{IsTerminal, Read, Write};

/// Git hooks: a pre-push check of the coordination data.
#[derive(Debug, clap::Args)]
pub struct HookArgs {
    #[command(subcommand)]
    pub action: HookAction,
}

/// What to do.
#[derive(Debug, clap::Subcommand)]
pub enum HookAction {
    /// Install the pre-push hook (an existing hook is kept and runs first).
    Install {
        /// Replace an existing hook instead of chaining it (a copy is kept
        /// as pre-push.backup).
        #[arg(long)]
        force: bool,
        /// Install the events hooks instead (post-commit, post-merge,
        /// post-rewrite): they derive coordination events and deliver them
        /// in the background, never failing or slowing git.
        #[arg(long)]
        events: bool,
    },
    /// Remove the pre-push hook (with `--events`, the events hooks) if
    /// git-coord installed it.
    Uninstall {
        /// Remove the events hooks instead.
        #[arg(long)]
        events: bool,
    },
    /// What the events hooks run in the background: derive new events and,
    /// with memory on, deliver those due. Prints nothing; always exits 0.
    Events,
    /// The check the hook runs: reads git's pre-push lines on stdin (or the
    /// pre-commit framework's PRE_COMMIT_FROM_REF/PRE_COMMIT_TO_REF) and
    /// refuses the push when the pushed coordination data has errors.
    PrePush {
        /// The remote's name (git passes it).
        remote: Option<String>,
        /// The remote's URL (git passes it; unused).
        url: Option<String>,
    },
}

/// `hook …`
pub fn run(cx: &Context, a: &HookArgs) -> CmdResult {
    let store = cx.store()?;
    let wt = store.root.worktree.clone().ok_or(Error::NeedsRepo("hook"))?;
    let mut w = render::out();
    match &a.action {
        HookAction::Install { force, events } => {
            let done = if *events { hooks::install_events(&wt, *force)? } else { vec![hooks::install(&wt, *force)?] };
            for i in done {
                match i {
                    Installed::Fresh(p) => writeln!(w, "installed {}", p.display())?,
                    Installed::Updated(p) => writeln!(w, "updated {}", p.display())?,
                    Installed::Chained { hook, previous } => writeln!(
                        w,
                        "installed {} (the existing hook was kept as {} and runs first)",
                        hook.display(),
                        previous.display()
                    )?,
                }
            }
            if *events && !store.settings.memory_enabled {
                writeln!(
                    w,
                    "note: memory is off (`{}: false`): the hooks derive events but deliver nothing",
                    store.settings.key("memory_enabled")
                )?;
            }
        }
        HookAction::Uninstall { events } => {
            let (names, done) = if *events {
                (&hooks::EVENTS_HOOKS[..], hooks::uninstall_events(&wt)?)
            } else {
                (&["pre-push"][..], vec![hooks::uninstall(&wt)?])
            };
            for (name, u) in names.iter().zip(done) {
                match u {
                    Uninstalled::Removed(p) => writeln!(w, "removed {}", p.display())?,
                    Uninstalled::Restored(p) => {
                        writeln!(w, "removed git-coord's hook; {} is the previous hook again", p.display())?
                    }
                    Uninstalled::NotInstalled => writeln!(w, "no {name} hook installed")?,
                    Uninstalled::Foreign(p) => {
                        writeln!(w, "{} was not installed by git-coord; left alone", p.display())?
                    }
                }
            }
        }
        // Errors stay in the outbox (last error, attempts) for `events
        // status`; a hook has no one to tell.
        HookAction::Events => {
            let _ = crate::memory::hook::run(&store);
        }
        HookAction::PrePush { remote, url: _ } => return pre_push(&store, remote.as_deref()),
    }
    Ok(())
}

fn pre_push(store: &crate::store::Store, remote: Option<&str>) -> CmdResult {
    let (remote, refs) = match (std::env::var("PRE_COMMIT_TO_REF"), std::env::var("PRE_COMMIT_FROM_REF")) {
        // The pre-commit framework passes the range in its environment.
        (Ok(to), from) => {
            let remote = std::env::var("PRE_COMMIT_REMOTE_NAME").ok().or(remote.map(String::from));
            let from = from.unwrap_or_default();
            let line = hooks::PushRef {
                local_ref: to.clone(),
                local_sha: to,
                remote_ref: std::env::var("PRE_COMMIT_REMOTE_BRANCH").unwrap_or_default(),
                remote_sha: if from.is_empty() { "0".repeat(40) } else { from },
            };
            (remote.unwrap_or_else(|| "origin".into()), vec![line])
        }
        _ => {
            let mut input = String::new();
            if !std::io::stdin().is_terminal() {
                std::io::stdin().read_to_string(&mut input)?;
            }
            (remote.unwrap_or("origin").to_string(), hooks::parse_push_lines(&input)?)
        }
    };
    let checks = hooks::pre_push(store, &remote, &refs)?;
    let block_known = store.settings.hook_block_on == crate::settings::BlockOn::Unsatisfied;
    let mut e = crate::cli::render::err();
    if !block_known {
        for c in &checks {
            for u in &c.review.known_unsatisfied {
                writeln!(
                    e,
                    "git coord: warning: {} {} → {} is unsatisfied (known: planned or stored unsatisfied; \
                     `hook.block_on: unsatisfied` would refuse it): {}",
                    u.id,
                    u.consumer,
                    u.provider,
                    crate::display::shown(&u.reason)
                )?;
            }
        }
    }
    let failing: Vec<_> = checks.iter().filter(|c| c.review.errors > 0).collect();
    if failing.is_empty() {
        return Ok(());
    }
    for c in failing {
        let r = &c.review;
        writeln!(
            e,
            "git coord: push refused: {} has {} coordination error(s) (compared with {}):",
            c.push.local_ref, r.errors, r.base
        )?;
        for p in r.introduced.iter().filter(|p| p.is_error()) {
            writeln!(e, "  {p}")?;
        }
        for x in &r.collisions {
            writeln!(
                e,
                "  {} {} also exists on {}: \"{}\" there, \"{}\" here (git coord sync renumbers yours)",
                x.kind, x.id, r.base, x.base_title, x.title
            )?;
        }
        let known: &[_] = if block_known { &r.known_unsatisfied } else { &[] };
        for u in r.unsatisfied.iter().chain(known) {
            writeln!(
                e,
                "  {} {} → {} is unsatisfied: {}",
                u.id,
                u.consumer,
                u.provider,
                crate::display::shown(&u.reason)
            )?;
        }
    }
    writeln!(e, "fix these and push again (git push --no-verify skips this check)")?;
    Err(CommandError::Failed)
}
