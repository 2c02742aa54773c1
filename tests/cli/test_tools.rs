//! The tools around the commands: tables measured in terminal cells, progress
//! bars only on a terminal, shell completion that knows IDs and repository
//! names, and man pages where `git help coord` finds them. Shells (bash, zsh,
//! fish), `script` (a pseudo-terminal) and man are real programs; a missing
//! one is a skip (a failure under GIT_COORD_REQUIRE_SERVICES=1, see
//! scripts/test).

use crate::env::TestEnv;
use crate::services;
use std::path::Path;
use std::process::Command;
use unicode_width::UnicodeWidthStr;

/// Whether a program runs (`PROG --version` or similar starts at all).
fn have(prog: &str) -> bool {
    Command::new("sh").arg("-c").arg(format!("command -v {prog}")).output().is_ok_and(|o| o.status.success())
}

/// The display column where `needle` starts in `line`.
fn column_of(line: &str, needle: &str) -> usize {
    let at = line.find(needle).unwrap_or_else(|| panic!("`{needle}` not in `{line}`"));
    line[..at].width()
}

#[test]
fn tables_line_up_after_cjk_and_emoji() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "数据库迁移 🚀 first", "--repos", "vishnu", "--assignee", "李雷🚀"]).ok();
    env.coord(&["create-issue", "--title", "plain second", "--repos", "vishnu", "--assignee", "bob"]).ok();
    env.coord(&["create-issue", "--title", "café third", "--repos", "oneiric", "--assignee", "e\u{301}mile"]).ok();
    let out = env.coord(&["list-issues", "--all"]).ok().to_string();
    let lines: Vec<&str> = out.lines().collect();
    let title = column_of(lines[0], "TITLE");
    let assignee = column_of(lines[0], "ASSIGNEE");
    for (line, t, a) in [
        (lines.iter().find(|l| l.contains("first")), "数据库迁移", "李雷🚀"),
        (lines.iter().find(|l| l.contains("second")), "plain", "bob"),
        (lines.iter().find(|l| l.contains("third")), "café", "e\u{301}mile"),
    ] {
        let line = line.unwrap_or_else(|| panic!("missing row in\n{out}"));
        assert_eq!(column_of(line, t), title, "TITLE column shifted:\n{out}");
        assert_eq!(column_of(line, a), assignee, "ASSIGNEE column shifted:\n{out}");
    }
    // Two spaces between columns, nothing trailing, no borders.
    assert!(lines[0].starts_with("ID         STATUS"), "{out}");
    assert!(out.lines().all(|l| !l.ends_with(' ')), "{out:?}");
}

/// A legacy section with `deps` dependencies and `todos` todos: long work
/// for check-deps and migrate.
fn big_ecosystem(deps: usize, todos: usize) -> TestEnv {
    let env = TestEnv::new();
    let mut y = String::from(
        "repos:\n  - name: api\n    path: ../api\n  - name: infra\n    path: ../infra\ncoordination:\n  dependencies:\n",
    );
    for i in 1..=deps {
        y += &format!(
            "    - id: DEP-{i:03}\n      consumer: api\n      provider: infra\n      version_constraint: '>=1.{i}'\n      status: unknown\n"
        );
    }
    y += "  todos:\n";
    for i in 1..=todos {
        y += &format!("    - id: TODO-{i:03}\n      task: 'Todo {i}'\n      repo: api\n      status: pending\n");
    }
    env.write("settings/ecosystem.yaml", &y);
    env.commit_all("big ecosystem");
    env
}

/// Runs `CMD` under a pseudo-terminal (util-linux `script`), with the bar
/// shown at once; returns everything the terminal received.
fn on_terminal(env: &TestEnv, cmd: &str) -> Option<String> {
    if !have("script") {
        services::missing("`script` (util-linux) for a pseudo-terminal")?;
    }
    let r = env.sh(&format!("TERM=xterm GIT_COORD_PROGRESS_DELAY_MS=0 script -qec '{cmd}' /dev/null"), &[]);
    assert_eq!(r.code, 0, "{cmd} under a terminal failed:\n{}\n{}", r.stdout, r.stderr);
    Some(r.stdout)
}

#[test]
fn progress_bars_on_a_terminal_only() {
    let env = big_ecosystem(40, 150);
    let Some(tty) = on_terminal(&env, "git coord check-deps") else { return };
    assert!(tty.contains("checking dependencies") && tty.contains("/40"), "no bar on the terminal:\n{tty}");
    assert!(tty.contains("40 checked"), "{tty}");

    // Not a terminal: the same command, no progress text at all.
    let r = env.sh("GIT_COORD_PROGRESS_DELAY_MS=0 git coord check-deps", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stderr.contains("checking") && !r.stderr.contains('\r') && !r.stderr.contains('\x1b'), "{:?}", r.stderr);
    let r = env.sh("GIT_COORD_PROGRESS_DELAY_MS=0 git coord log 2>&1 >/dev/null", &[]);
    assert!(!r.stdout.contains("reading history"), "{:?}", r.stdout);

    // stdout piped but stderr a terminal: still no bar (the output is for a program).
    let Some(tty) = on_terminal(&env, "git coord check-deps | cat") else { return };
    assert!(!tty.contains("checking dependencies"), "{tty}");

    // migrate of a large legacy section: a bar while files are written.
    let Some(tty) = on_terminal(&env, "git coord migrate") else { return };
    assert!(tty.contains("writing entity files") && tty.contains("/190"), "{tty}");
    assert!(tty.contains("removed the coordination section"), "{tty}");
    assert!(env.exists("coordination/todos/TODO-150.yaml"));
}

#[test]
fn migrate_without_a_terminal_prints_only_its_report() {
    let env = big_ecosystem(5, 20);
    let r = env.coord(&["migrate"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.stderr, "", "no progress text without a terminal");
    assert_eq!(r.stdout.lines().filter(|l| l.starts_with("wrote ")).count(), 25, "{}", r.stdout);
}

/// A dynamic completion request as the shell script sends it: `COMPLETE=SHELL
/// git-coord -- WORDS…` with the index of the word being completed.
fn complete(env: &TestEnv, shell: &str, words: &[&str]) -> Vec<String> {
    let mut cmd = env.coord_command(&["--"]);
    cmd.args(words)
        .env("COMPLETE", shell)
        .env("_CLAP_COMPLETE_INDEX", (words.len() - 1).to_string())
        .env("_CLAP_IFS", "\n");
    let out = cmd.output().expect("run git-coord");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).lines().map(String::from).collect()
}

#[test]
fn completion_scripts_parse_in_their_shells() {
    let env = TestEnv::new();
    for (shell, check) in [("bash", "bash"), ("zsh", "zsh"), ("fish", "fish")] {
        let script = env.coord(&["completions", shell]).ok().to_string();
        assert!(script.contains("COMPLETE=") || script.contains("COMPLETE=\"") || script.contains(shell), "{script}");
        assert!(script.contains("git-coord"), "{shell}: {script}");
        if !have(check) {
            services::missing(&format!("{check}, to check its completion script"));
            continue;
        }
        let file = env.root.join(format!("completion.{shell}"));
        std::fs::write(&file, &script).unwrap();
        let out = Command::new(check).arg("-n").arg(&file).output().expect("run the shell");
        assert!(out.status.success(), "{shell} -n: {}\n{script}", String::from_utf8_lossy(&out.stderr));
    }
    env.coord(&["completions", "tcsh"]).fails(2);
}

#[test]
fn completion_offers_ids_and_repositories_from_the_store() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "Second issue", "--repos", "oneiric"]).ok();
    env.coord(&["create-plan", "--title", "Roadmap", "--milestone", "Alpha:2026-04-01"]).ok();
    // Commands and flags still complete.
    assert!(complete(&env, "bash", &["git-coord", "show-is"]).contains(&"show-issue".to_string()));
    // IDs of the command's kind.
    let ids = complete(&env, "bash", &["git-coord", "show-issue", ""]);
    assert!(ids.contains(&"ISSUE-001".into()) && ids.contains(&"ISSUE-002".into()), "{ids:?}");
    assert!(!ids.iter().any(|i| i.starts_with("TODO-") || i.starts_with("PLAN-")), "{ids:?}");
    let todos = complete(&env, "bash", &["git-coord", "complete-todo", ""]);
    assert!(todos.contains(&"TODO-001".into()), "{todos:?}");
    // Any kind where any entity fits, with titles for shells that show them.
    let any = complete(&env, "fish", &["git-coord", "show", ""]);
    assert!(any.contains(&"ISSUE-002\tSecond issue".into()), "{any:?}");
    assert!(any.iter().any(|c| c.starts_with("PLAN-001\tRoadmap")), "{any:?}");
    let blockers = complete(&env, "bash", &["git-coord", "create-todo", "--blocked-by", ""]);
    assert!(blockers.contains(&"ISSUE-001".into()) && blockers.contains(&"TODO-001".into()), "{blockers:?}");
    let milestones = complete(&env, "bash", &["git-coord", "update-milestone", ""]);
    assert!(milestones.iter().any(|m| m.starts_with("MILESTONE-")), "{milestones:?}");
    // Registered repository names.
    let repos = complete(&env, "bash", &["git-coord", "list-todos", "--repo", ""]);
    for r in ["mahavishnu", "session-buddy", "oneiric"] {
        assert!(repos.contains(&r.to_string()), "{repos:?}");
    }
    let zsh = complete(&env, "zsh", &["git-coord", "blocking", ""]);
    assert!(zsh.contains(&"mahavishnu:Orchestrator".into()), "{zsh:?}");
    // Outside a coordination repository: nothing to offer, no error text.
    let outside = TestEnv::new();
    let none = complete(&outside, "bash", &["git-coord", "show-issue", ""]);
    assert!(!none.iter().any(|c| c.starts_with("ISSUE-")), "{none:?}");
}

#[test]
fn bash_completes_git_coord_through_gits_completion() {
    let env = TestEnv::with_ecosystem();
    let git_completion = Path::new("/usr/share/bash-completion/completions/git");
    let framework = Path::new("/usr/share/bash-completion/bash_completion");
    if !have("bash") || !git_completion.exists() || !framework.exists() {
        services::missing("bash-completion with git's completion");
        return;
    }
    let script = env.coord(&["completions", "bash"]).ok().to_string();
    std::fs::write(env.root.join("coord.bash"), script).unwrap();
    let r = env.sh(
        &format!(
            r#"exec bash -c '
source {framework}
source {git_completion}
source ./coord.bash
COMP_WORDS=(git coord show-issue ""); COMP_CWORD=3; COMP_LINE="git coord show-issue "; COMP_POINT=${{#COMP_LINE}}; COMP_TYPE=9
__git_wrap__git_main git "" coord
printf "%s\n" "${{COMPREPLY[@]}}"
COMP_WORDS=(git coord list-todos --repo ""); COMP_CWORD=4; COMP_LINE="git coord list-todos --repo "; COMP_POINT=${{#COMP_LINE}}
__git_wrap__git_main git "" --repo
printf "%s\n" "${{COMPREPLY[@]}}"
'"#,
            framework = framework.display(),
            git_completion = git_completion.display()
        ),
        &[],
    );
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.lines().any(|l| l == "ISSUE-001"), "{}", r.stdout);
    assert!(r.stdout.lines().any(|l| l == "session-buddy"), "{}", r.stdout);
}

#[test]
fn man_install_puts_the_page_where_git_help_finds_it() {
    let env = TestEnv::new();
    if !have("man") {
        services::missing("man (man-db), to read the installed page");
        return;
    }
    let r = env.sh("git coord man --install \"$HOME/man\"", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("man/man1"), "{}", r.stdout);
    // man does not search $HOME/man: the command says how to make it.
    assert!(r.stdout.contains("export MANPATH="), "{}", r.stdout);
    let r = env.sh("MANPATH=\"$HOME/man:\" man -w git-coord", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.trim().ends_with("man/man1/git-coord.1"), "{}", r.stdout);
    // With MANPATH set, install confirms it, and `git help coord` (which runs
    // `man git-coord`) shows the page; MANPAGER=cat keeps it non-interactive.
    let r = env.sh("MANPATH=\"$HOME/man:\" git coord man --install \"$HOME/man\"", &[]);
    assert!(r.stdout.contains("`git help coord` and `man git-coord` show it"), "{}", r.stdout);
    let r = env.sh("MANPATH=\"$HOME/man:\" MANPAGER=cat MANWIDTH=80 git -c help.format=man help coord", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("git-coord") && r.stdout.contains("Coordinate issues"), "{}", r.stdout);
    // A command's own page too.
    let r = env.sh("MANPATH=\"$HOME/man:\" MANPAGER=cat man git-coord-list-issues", &[]);
    assert!(r.stdout.contains("List issues"), "{}", r.stdout);
}

#[test]
fn completion_survives_broken_files_and_hostile_titles() {
    let env = TestEnv::with_ecosystem();
    env.coord(&["create-issue", "--title", "tab\there\nnewline \u{1b}[2J", "--repos", "oneiric"]).ok();
    // A file that does not parse: the others still complete, nothing on stderr.
    env.write("coordination/issues/ISSUE-009.yaml", "id: ISSUE-009\ntitle: [unclosed\n");
    let mut cmd = env.coord_command(&["--", "git-coord", "show-issue", ""]);
    cmd.env("COMPLETE", "fish");
    let out = cmd.output().expect("run git-coord");
    assert!(out.status.success());
    assert_eq!(String::from_utf8_lossy(&out.stderr), "", "completion prints no warnings");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    // One candidate per line, `ID<TAB>title`: the title's controls are escaped,
    // so they cannot split a candidate or reach the terminal.
    let line = stdout.lines().find(|l| l.starts_with("ISSUE-002")).unwrap_or_else(|| panic!("{stdout}"));
    assert_eq!(line, "ISSUE-002\ttab\\there\\nnewline \\u{1b}[2J", "{stdout:?}");
    assert!(stdout.lines().any(|l| l.starts_with("ISSUE-001\t")), "{stdout}");
    assert!(!stdout.contains('\u{1b}'), "{stdout:?}");
}

#[test]
fn sync_and_log_show_their_progress_on_a_terminal() {
    let env = TestEnv::with_ecosystem();
    env.add_origin();
    env.coord(&["create-issue", "--title", "to sync", "--repos", "oneiric"]).ok();
    let Some(tty) = on_terminal(&env, "git coord sync") else { return };
    // Each step is a phase of its own (how many get drawn depends on how
    // fast they are; the first always is).
    assert!(tty.contains("syncing: "), "{tty}");
    assert!(tty.contains("pushed main to origin"), "{tty}");
    let Some(tty) = on_terminal(&env, "git coord log") else { return };
    assert!(tty.contains("reading history"), "{tty}");
    // The bar is cleared: the log itself follows intact.
    assert!(tty.contains("ISSUE-002"), "{tty}");
}

#[test]
fn first_event_derivation_shows_a_bar_on_a_terminal_only() {
    let env = crate::test_memory::history();
    // The first derivation reads the whole history: a bar on a terminal,
    // cleared before the events are printed.
    let Some(tty) = on_terminal(&env, "git coord events") else { return };
    assert!(tty.contains("reading history"), "no bar on the terminal:\n{tty}");
    assert!(tty.contains("todo.completed"), "{tty}");
    // A rebuild derives everything again, with its bar.
    let Some(tty) = on_terminal(&env, "git coord events rebuild") else { return };
    assert!(tty.contains("reading history") && tty.contains("derived"), "{tty}");

    // Not a terminal: a rebuild (the whole history again) draws nothing.
    let r = env.sh("GIT_COORD_PROGRESS_DELAY_MS=0 git coord events rebuild", &[]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stdout.contains("derived"), "{}", r.stdout);
    assert!(!r.stderr.contains("reading history") && !r.stderr.contains('\x1b'), "{:?}", r.stderr);
}
