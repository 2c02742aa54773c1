//! `review`: the semantic diff of a change plus what it breaks; exits 1 when
//! it introduces errors. Made for pull requests (`--format markdown`).

use super::common;
use super::diff::DiffFormat;
use crate::cli::Context;
use crate::cli::error::{CmdResult, CommandError};
use crate::cli::render;
use crate::history::Review;
use crate::history::render as hr;
use std::io::Write;

/// Review a change's coordination data: the field-level diff since the
/// merge base with BASE, plus lint errors it introduces (broken references,
/// cycles, invalid values, duplicate IDs, IDs the base branch also created),
/// dependencies it newly leaves unsatisfied (offline checks, which run no
/// command and no request, unless --online) and todos it newly blocks.
/// Exits 1 when it introduces errors.
#[derive(Debug, clap::Args)]
pub struct ReviewArgs {
    #[command(flatten)]
    pub req: crate::api::history::Review,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
}

/// `review`
pub fn run(cx: &Context, a: &ReviewArgs) -> CmdResult {
    let r = common::run_op::<ReviewArgs, _>(&cx.store()?, &a.req)?;
    for w in &r.warnings {
        eprintln!("warning: {}", crate::display::escape_controls(w));
    }
    let mut w = render::out();
    match a.format {
        DiffFormat::Json => render::json(&mut w, &r)?,
        DiffFormat::Yaml => render::yaml(&mut w, &r)?,
        DiffFormat::Markdown => write!(w, "{}", markdown(&r))?,
        DiffFormat::Text => write!(w, "{}", text(&r))?,
    }
    if r.errors > 0 {
        return Err(CommandError::Failed);
    }
    Ok(())
}

fn problem_line(p: &crate::problem::Problem) -> String {
    p.to_string()
}

/// The review as text.
pub fn text(r: &Review) -> String {
    let mut s = format!("review of {} against {} (merge base {})\n\n", r.head, r.base, r.merge_base);
    if r.changes.is_empty() {
        s.push_str("no coordination changes\n");
    } else {
        s.push_str(&hr::text(&r.changes));
    }
    if !r.introduced.is_empty() {
        s.push_str("\nproblems introduced:\n");
        for p in &r.introduced {
            s.push_str(&format!("  {}\n", problem_line(p)));
        }
    }
    for c in &r.collisions {
        s.push_str(&format!(
            "\nerror: {} {} was also created on {}: \"{}\" here, \"{}\" there (git coord sync renumbers yours)\n",
            c.kind, c.id, r.base, c.title, c.base_title
        ));
    }
    if !r.unsatisfied.is_empty() {
        s.push_str("\ndependencies newly unsatisfied:\n");
        for u in &r.unsatisfied {
            s.push_str(&format!("  {} {} → {}: {}\n", u.id, u.consumer, u.provider, crate::display::shown(&u.reason)));
        }
    }
    if !r.known_unsatisfied.is_empty() {
        s.push_str("\ndependencies known to be unsatisfied (planned or stored unsatisfied):\n");
        for u in &r.known_unsatisfied {
            s.push_str(&format!("  {} {} → {}: {}\n", u.id, u.consumer, u.provider, crate::display::shown(&u.reason)));
        }
    }
    if !r.newly_blocked.is_empty() {
        s.push_str("\ntodos newly blocked:\n");
        for b in &r.newly_blocked {
            s.push_str(&format!("  {} \"{}\" blocked by {}\n", b.id, b.task, b.blockers.join(", ")));
        }
    }
    s.push_str(&match r.errors {
        0 => "\nno errors introduced\n".to_string(),
        n => format!("\n{n} error(s) introduced\n"),
    });
    s
}

/// Untrusted text in a Markdown table cell or list item: credentials
/// redacted, controls escaped ([`crate::display::shown`]), line breaks as
/// spaces, pipes escaped.
fn md(s: &str) -> String {
    crate::display::shown(&s.replace('\n', " ")).replace('|', "\\|")
}

/// The review as Markdown, for a pull-request comment.
pub fn markdown(r: &Review) -> String {
    let mut s = String::from("## Coordination review\n\n");
    s.push_str(&format!("`{}` compared with `{}` (merge base `{}`).\n\n", r.head, r.base, r.merge_base));
    s.push_str(&match r.errors {
        0 => "✅ **No errors introduced.**\n\n".to_string(),
        n => format!("❌ **{n} error(s) introduced.**\n\n"),
    });
    if !r.introduced.is_empty() {
        s.push_str("### Problems introduced\n\n");
        for p in &r.introduced {
            let icon = if p.is_error() { "❌" } else { "⚠️" };
            s.push_str(&format!("- {icon} {}\n", md(&problem_line(p))));
        }
        s.push('\n');
    }
    if !r.collisions.is_empty() {
        s.push_str("### ID collisions\n\n");
        for c in &r.collisions {
            s.push_str(&format!(
                "- ❌ `{}` was also created on `{}`: \"{}\" here, \"{}\" there — `git coord sync` renumbers yours\n",
                c.id,
                r.base,
                md(&c.title),
                md(&c.base_title)
            ));
        }
        s.push('\n');
    }
    if !r.unsatisfied.is_empty() {
        s.push_str("### Dependencies newly unsatisfied\n\n");
        for u in &r.unsatisfied {
            s.push_str(&format!("- ❌ `{}` {} → {}: {}\n", u.id, u.consumer, u.provider, md(&u.reason)));
        }
        s.push('\n');
    }
    if !r.known_unsatisfied.is_empty() {
        s.push_str("### Dependencies known to be unsatisfied\n\n");
        for u in &r.known_unsatisfied {
            s.push_str(&format!("- ⚠️ `{}` {} → {}: {}\n", u.id, u.consumer, u.provider, md(&u.reason)));
        }
        s.push('\n');
    }
    if !r.newly_blocked.is_empty() {
        s.push_str("### Todos newly blocked\n\n");
        for b in &r.newly_blocked {
            s.push_str(&format!("- ⛔ `{}` {} — blocked by {}\n", b.id, md(&b.task), b.blockers.join(", ")));
        }
        s.push('\n');
    }
    s.push_str("### Changes\n\n");
    s.push_str(&hr::markdown(&r.changes));
    s
}
