//! `completions`: shell completion that knows the data, not only the CLI.
//!
//! The script `git coord completions SHELL` prints is a small registration
//! (clap_complete's `CompleteEnv`, the `unstable-dynamic` engine) that asks
//! `git-coord` itself for candidates at each TAB: the binary is run with
//! `COMPLETE=SHELL` in its environment and the words typed so far, and
//! [`complete`] answers before any argument parsing. So besides commands,
//! flags and fixed vocabularies (statuses, priorities, formats), entity IDs
//! complete (`show-issue <TAB>` lists the issues, with their titles where
//! the shell shows descriptions) and so do registered repository names
//! (`--repo`, `--consumer`, `blocking <TAB>`), read from the coordination
//! repository of the current directory. Outside one, those just offer
//! nothing. Candidates always match the installed binary, because the
//! script calls it: re-sourcing after an upgrade is not needed for data,
//! only if clap_complete's protocol changes (docs: README, "Shell completion").
//!
//! Bash users also get `git coord <TAB>` through git's own completion
//! (`_git_coord`); zsh and fish complete the `git-coord` command.

use crate::cli::Context;
use crate::cli::error::CmdResult;
use crate::model::Kind;
use clap_complete::engine::{ArgValueCandidates, CompletionCandidate};
use clap_complete::env::{Bash, Elvish, EnvCompleter, Fish, Powershell, Zsh};

/// The environment variable that turns a run into a completion request.
pub const VAR: &str = "COMPLETE";

/// The command that completes (what the shell types before `coord`'s words).
const BIN: &str = "git-coord";

/// Shells with a completion script.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shell {
    /// bash (also `git coord …` through git's completion).
    Bash,
    /// zsh.
    Zsh,
    /// fish.
    Fish,
    /// elvish.
    Elvish,
    /// PowerShell.
    Powershell,
}

/// Print a shell completion script, which completes commands, flags, entity
/// IDs and repository names (asking `git-coord` at each TAB).
///
/// bash: `git coord completions bash > ~/.local/share/bash-completion/completions/git-coord`
/// (also completes `git coord …` through git's completion);
/// zsh: `git coord completions zsh > "${fpath[1]}/_git-coord"`;
/// fish: `git coord completions fish > ~/.config/fish/completions/git-coord.fish`.
#[derive(Debug, clap::Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: Shell,
}

/// Answers a completion request (`COMPLETE=SHELL git-coord -- WORDS…`) and
/// exits; returns at once when `COMPLETE` is unset, empty or `0`. Called
/// first thing in `main`, before anything is written.
pub fn complete() {
    clap_complete::CompleteEnv::with_factory(command).var(VAR).bin(BIN).complete();
}

/// `completions`
pub fn run(_cx: &Context, a: &CompletionsArgs) -> CmdResult {
    let shell: &dyn EnvCompleter = match a.shell {
        Shell::Bash => &Bash,
        Shell::Zsh => &Zsh,
        Shell::Fish => &Fish,
        Shell::Elvish => &Elvish,
        Shell::Powershell => &Powershell,
    };
    // The binary the shell runs for candidates: `git-coord` found on PATH,
    // as git finds it for `git coord`.
    let mut script = Vec::new();
    shell.write_registration(VAR, BIN, BIN, BIN, &mut script)?;
    if a.shell == Shell::Bash {
        script.extend_from_slice(GIT_BASH.as_bytes());
    }
    // Written like every other output, so a closed pipe (`| head`) is no panic.
    std::io::Write::write_all(&mut crate::cli::render::out(), &script)?;
    Ok(())
}

/// git's bash completion calls `_git_coord` for `git coord …` with the words
/// from `git` on: hand clap's completer the words from `coord` on, as if
/// `git-coord` had been typed.
const GIT_BASH: &str = r#"
# `git coord <TAB>`: git's completion (git-completion.bash) calls _git_coord.
_git_coord() {
    local i=1
    while [[ $i -lt $COMP_CWORD && "${COMP_WORDS[i]}" != coord ]]; do
        i=$((i + 1))
    done
    local COMP_WORDS=("git-coord" "${COMP_WORDS[@]:i+1}")
    local COMP_CWORD=$((COMP_CWORD - i))
    _clap_complete_git_coord git-coord "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
}
"#;

/// The CLI definition with data-driven candidates attached: arguments that
/// take entity IDs complete IDs, those that take repositories complete
/// registered names.
pub fn command() -> clap::Command {
    let mut cmd = crate::cli::command();
    let names: Vec<String> = cmd.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for name in names {
        cmd = cmd.mut_subcommand(name, decorate);
    }
    cmd
}

/// What an argument holds, by its name and its command's.
enum Values {
    Ids(&'static [Kind]),
    Milestones,
    Repos,
}

fn values_of(command: &str, arg: &str) -> Option<Values> {
    const ANY: &[Kind] = &Kind::ALL;
    // Run IDs, not entity IDs.
    if matches!(command, "show-run" | "run-log" | "cancel-run" | "exec-request" | "runs") {
        return None;
    }
    let own = |command: &str| -> &'static [Kind] {
        if command.contains("milestone") {
            &[]
        } else if command.ends_with("issue") {
            &[Kind::Issue]
        } else if command.ends_with("plan") || command == "validate" {
            &[Kind::Plan]
        } else if command.ends_with("todo") {
            &[Kind::Todo]
        } else if command.ends_with("dep") || command == "check-deps" || command == "trust" {
            &[Kind::Dependency]
        } else {
            ANY
        }
    };
    Some(match arg {
        "id" | "ids" if command.contains("milestone") => Values::Milestones,
        "id" | "ids" => Values::Ids(own(command)),
        "milestone" => Values::Milestones,
        "depends_on" if command.contains("milestone") => Values::Milestones,
        "issue_id" => Values::Ids(&[Kind::Issue]),
        "plan_id" | "plan" => Values::Ids(&[Kind::Plan]),
        "blocked_by" | "blocking" | "depends_on" => Values::Ids(ANY),
        "repo" | "repos" | "consumer" | "provider" => Values::Repos,
        _ => return None,
    })
}

fn decorate(sub: clap::Command) -> clap::Command {
    let name = sub.get_name().to_string();
    let targets: Vec<(String, Values)> = sub
        .get_arguments()
        .filter(|a| a.get_action().takes_values())
        .filter_map(|a| values_of(&name, a.get_id().as_str()).map(|v| (a.get_id().to_string(), v)))
        .collect();
    let mut sub = sub;
    for (id, values) in targets {
        let candidates = match values {
            Values::Ids(kinds) => ArgValueCandidates::new(move || ids(kinds)),
            Values::Milestones => ArgValueCandidates::new(milestones),
            Values::Repos => ArgValueCandidates::new(repos),
        };
        sub = sub.mut_arg(id, |a| a.add(candidates));
    }
    let nested: Vec<String> = sub.get_subcommands().map(|s| s.get_name().to_string()).collect();
    for n in nested {
        sub = sub.mut_subcommand(n, decorate);
    }
    sub
}

/// The data of the coordination repository of the current directory, if
/// there is one and it loads; completion never prints an error.
fn loaded(kinds: &[Kind]) -> Option<crate::store::Loaded> {
    let dir = std::env::current_dir().ok()?;
    let store = crate::store::Store::open(&dir).ok()?;
    store.load(kinds).ok()
}

fn candidate(value: &str, help: &str) -> CompletionCandidate {
    let help = crate::display::shown(help);
    CompletionCandidate::new(value).help((!help.is_empty()).then(|| help.into()))
}

/// Entity IDs of these kinds, with their titles.
fn ids(kinds: &[Kind]) -> Vec<CompletionCandidate> {
    let Some(loaded) = loaded(kinds) else { return Vec::new() };
    kinds.iter().flat_map(|k| loaded.records(*k)).map(|r| candidate(r.entity.id(), &r.entity.title())).collect()
}

/// Milestone IDs, with their names.
fn milestones() -> Vec<CompletionCandidate> {
    let Some(loaded) = loaded(&[Kind::Plan]) else { return Vec::new() };
    loaded.plans().flat_map(|p| p.milestones.iter().map(|m| candidate(&m.id, &m.name))).collect()
}

/// Registered repository names, with their descriptions.
fn repos() -> Vec<CompletionCandidate> {
    let Some(loaded) = loaded(&[]) else { return Vec::new() };
    loaded.registry.repos.iter().map(|r| candidate(&r.name, r.description.as_deref().unwrap_or_default())).collect()
}
