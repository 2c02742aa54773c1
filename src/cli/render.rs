//! Rendering: aligned tables (comfy-table; colour only on a terminal,
//! `NO_COLOR` and git's `color.ui` honoured; widths in terminal cells), JSON and YAML. JSON lists are arrays of entity objects with the
//! YAML field names; single entities print one object.

use crate::model::{Entity, Kind, Vocab};
use crate::problem::{Problem, Severity};
use anstyle::{AnsiColor, Style};
use serde::Serialize;
use std::io::Write;

/// `--format` for entity commands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Aligned columns for people.
    #[default]
    Table,
    /// JSON for scripts and CI.
    Json,
    /// YAML, as stored.
    Yaml,
}

/// The output stream (strips colour when not a terminal or `NO_COLOR` is
/// set, or as git's `color.ui` says: see [`init_color`]).
pub fn out() -> anstream::AutoStream<std::io::StdoutLock<'static>> {
    settle_color();
    anstream::AutoStream::auto(std::io::stdout().lock())
}

/// The output stream for a machine format (JSON, YAML): written as is,
/// with nothing to strip (both escape every control character), so a large
/// answer is not scanned for colour codes byte by byte.
pub fn out_data() -> anstream::AutoStream<std::io::StdoutLock<'static>> {
    anstream::AutoStream::new(std::io::stdout().lock(), anstream::ColorChoice::AlwaysAnsi)
}

/// The output stream for `format`: [`out_data`] for JSON and YAML, [`out`]
/// for a table.
pub fn out_for(format: Format) -> anstream::AutoStream<std::io::StdoutLock<'static>> {
    match format {
        Format::Table => out(),
        Format::Json | Format::Yaml => out_data(),
    }
}

/// The error stream, coloured by the same choice as [`out`].
pub fn err() -> anstream::Stderr {
    settle_color();
    anstream::stderr()
}

/// The colour choice being worked out (asking git takes a process start,
/// so it runs beside the command's own work until the first output).
static PENDING: std::sync::Mutex<Option<std::thread::JoinHandle<()>>> = std::sync::Mutex::new(None);

/// Sets the colour choice for every stream once, at start-up, the way git
/// users expect: `NO_COLOR` (set and not empty) turns colour off; otherwise
/// git's `color.ui` decides (`never`/`false` off, `always` on even through
/// a pipe, `auto`/`true`/unset: on a terminal only). `CLICOLOR_FORCE` and
/// friends keep their meaning under `auto`. Git is asked in the
/// background; [`out`] and [`err`] wait for the answer ([`settle_color`]).
pub fn init_color(dir: &std::path::Path) {
    let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
    if no_color {
        anstream::ColorChoice::Never.write_global();
        return;
    }
    let dir = dir.to_path_buf();
    let ask = move || {
        let ui = crate::gitcmd::Git::new(&dir)
            .run(&["config", "--get", "color.ui"])
            .map(|s| s.trim().to_ascii_lowercase())
            .unwrap_or_default();
        let choice = match ui.as_str() {
            "never" | "false" | "no" | "off" | "0" => anstream::ColorChoice::Never,
            "always" => anstream::ColorChoice::Always,
            _ => anstream::ColorChoice::Auto,
        };
        choice.write_global();
    };
    match std::thread::Builder::new().name("color".into()).spawn(ask) {
        Ok(h) => *PENDING.lock().unwrap_or_else(|p| p.into_inner()) = Some(h),
        Err(_) => anstream::ColorChoice::Auto.write_global(),
    }
}

/// Waits until the colour choice of [`init_color`] is made (before any
/// coloured output).
pub fn settle_color() {
    let pending = PENDING.lock().unwrap_or_else(|p| p.into_inner()).take();
    if let Some(h) = pending {
        let _ = h.join();
    }
}

/// Bold header style.
pub const HEADER: Style = Style::new().bold();
/// Dimmed style for secondary text.
pub const DIM: Style = Style::new().dimmed();

/// The colour for a status or priority value.
pub fn value_style(v: &str) -> Style {
    let c = match v {
        "critical" | "blocked" | "unsatisfied" => AnsiColor::Red,
        "high" | "in_progress" | "active" => AnsiColor::Yellow,
        "resolved" | "closed" | "completed" | "satisfied" => AnsiColor::Green,
        "pending" | "draft" | "unknown" => AnsiColor::Cyan,
        _ => return Style::new(),
    };
    Style::new().fg_color(Some(c.into()))
}

/// A table cell: text plus style.
pub struct Cell(pub String, pub Style);

impl From<String> for Cell {
    fn from(s: String) -> Self {
        Cell(s, Style::new())
    }
}
impl From<&str> for Cell {
    fn from(s: &str) -> Self {
        Cell(s.to_string(), Style::new())
    }
}

/// A styled cell for a vocabulary value.
pub fn styled(v: &str) -> Cell {
    Cell(v.to_string(), value_style(v))
}

/// Prints aligned columns: two spaces between columns, no borders, the last
/// column not padded. Laid out by comfy-table, which measures each cell in
/// terminal cells (unicode-width: CJK and most emoji take two, combining
/// marks none) and ignores the ANSI colour codes of styled cells, so a title
/// in CJK or with emoji does not shift the columns after it. Cells are never
/// wrapped or truncated: a long line is the terminal's to wrap, as before.
pub fn table(w: &mut dyn Write, headers: &[&str], rows: Vec<Vec<Cell>>) -> std::io::Result<()> {
    let painted = |c: &Cell| {
        // A cell is one line: a newline in data would start a table row of
        // its own (comfy-table splits cells on it).
        let text = c.0.replace(['\n', '\r'], " ");
        if c.1 == Style::new() { text } else { format!("{}{text}{:#}", c.1, c.1) }
    };
    let mut t = comfy_table::Table::new();
    t.load_style(comfy_table::presets::NOTHING)
        .set_content_arrangement(comfy_table::ContentArrangement::Disabled)
        .set_header(headers.iter().map(|h| format!("{HEADER}{h}{HEADER:#}")).collect::<Vec<_>>());
    for row in &rows {
        t.add_row(row.iter().map(painted).collect::<Vec<_>>());
    }
    let last = headers.len().saturating_sub(1);
    for (i, col) in t.column_iter_mut().enumerate() {
        col.set_padding((0, if i == last { 0 } else { 2 }));
    }
    // Written at once: a table of thousands of rows is not one system call
    // per line.
    let mut text = String::new();
    for line in t.lines() {
        text.push_str(line.trim_end());
        text.push('\n');
    }
    w.write_all(text.as_bytes())
}

/// Writes `v` as JSON or YAML when `format` asks for data; `false` (nothing
/// written) for a table, which the caller renders for people.
pub fn data(w: &mut dyn Write, format: Format, v: &impl Serialize) -> std::io::Result<bool> {
    match format {
        Format::Table => Ok(false),
        Format::Json => json(w, v).map(|()| true),
        Format::Yaml => yaml(w, v).map(|()| true),
    }
}

/// JSON of any serialisable value, pretty, newline-terminated. Rendered to
/// a buffer first: a value that fails to serialise never leaves half a
/// document on stdout.
pub fn json(w: &mut dyn Write, v: &impl Serialize) -> std::io::Result<()> {
    let mut buf = serde_json::to_vec_pretty(v).map_err(std::io::Error::other)?;
    buf.push(b'\n');
    w.write_all(&buf)
}

/// [`json`] of a value whose serialisation cannot fail (JSON values,
/// strings, numbers: nothing with a map key JSON cannot hold), written as
/// it is made instead of rendered whole first: a list of tens of thousands
/// of entities needs no second copy of itself in memory.
pub fn json_streamed(w: &mut dyn Write, v: &impl Serialize) -> std::io::Result<()> {
    let mut w = Failing { inner: std::io::BufWriter::with_capacity(1 << 16, w), failed: None };
    // An I/O error keeps its kind (a closed pipe is no failure), also when
    // it reaches here inside another error (a stored list item is written
    // through a transcoder, which wraps its serializer's errors).
    if let Err(e) = serde_json::to_writer_pretty(&mut w, v) {
        return Err(w.failed.take().unwrap_or_else(|| std::io::Error::from(e)));
    }
    w.write_all(b"\n")?;
    w.flush()
}

/// A writer that keeps its first error.
struct Failing<W> {
    inner: W,
    failed: Option<std::io::Error>,
}

impl<W: Write> Failing<W> {
    #[inline]
    fn keep<T>(&mut self, r: std::io::Result<T>) -> std::io::Result<T> {
        r.inspect_err(|e| {
            if self.failed.is_none() {
                self.failed = Some(std::io::Error::new(e.kind(), e.to_string()));
            }
        })
    }
}

impl<W: Write> Write for Failing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let r = self.inner.write(buf);
        self.keep(r)
    }

    // The serializer writes every token with `write_all`: straight to the
    // buffer's own (a copy while it fits), not the generic retry loop.
    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        let r = self.inner.write_all(buf);
        self.keep(r)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        let r = self.inner.flush();
        self.keep(r)
    }
}

/// YAML of any serialisable value (rendered whole before anything is written).
pub fn yaml(w: &mut dyn Write, v: &impl Serialize) -> std::io::Result<()> {
    let s = serde_yaml::to_string(v).map_err(std::io::Error::other)?;
    w.write_all(s.as_bytes())
}

fn join(v: &[String]) -> String {
    v.join(",")
}

fn hours(h: Option<f64>) -> String {
    h.map(|h| format!("{h}h")).unwrap_or_default()
}

/// Prints a list of entities of one kind.
pub fn entities(w: &mut dyn Write, kind: Kind, list: &[&Entity], format: Format) -> std::io::Result<()> {
    match format {
        Format::Json => json(w, &list.iter().map(|e| e.to_mapping()).collect::<Vec<_>>()),
        Format::Yaml => yaml(w, &list.iter().map(|e| e.to_mapping()).collect::<Vec<_>>()),
        Format::Table => {
            if list.is_empty() {
                return writeln!(
                    w,
                    "no {}s",
                    kind.noun().trim_end_matches('y').to_string() + if kind == Kind::Dependency { "ie" } else { "" }
                );
            }
            let (headers, rows): (&[&str], Vec<Vec<Cell>>) = match kind {
                Kind::Issue => (
                    &["ID", "STATUS", "PRIORITY", "REPOS", "ASSIGNEE", "TITLE"],
                    list.iter()
                        .filter_map(|e| match e {
                            Entity::Issue(i) => Some(vec![
                                i.id.as_str().into(),
                                styled(i.status.as_str()),
                                styled(i.priority.as_str()),
                                join(&i.repos).into(),
                                i.assignee.clone().unwrap_or_default().into(),
                                i.title.as_str().into(),
                            ]),
                            _ => None,
                        })
                        .collect(),
                ),
                Kind::Plan => (
                    &["ID", "STATUS", "TARGET", "MILESTONES", "TITLE"],
                    list.iter()
                        .filter_map(|e| match e {
                            Entity::Plan(p) => {
                                let (done, counted) = p.milestone_progress();
                                Some(vec![
                                    p.id.as_str().into(),
                                    styled(p.status.as_str()),
                                    p.target_date().map(|d| d.to_string()).unwrap_or_default().into(),
                                    format!("{done}/{counted}").into(),
                                    p.title.as_str().into(),
                                ])
                            }
                            _ => None,
                        })
                        .collect(),
                ),
                Kind::Todo => (
                    &["ID", "STATUS", "PRIORITY", "REPO", "EST", "ASSIGNEE", "TASK"],
                    list.iter()
                        .filter_map(|e| match e {
                            Entity::Todo(t) => Some(vec![
                                t.id.as_str().into(),
                                styled(t.status.as_str()),
                                styled(t.priority.as_str()),
                                t.repo.as_str().into(),
                                hours(t.estimated_hours).into(),
                                t.assignee.clone().unwrap_or_default().into(),
                                t.task.as_str().into(),
                            ]),
                            _ => None,
                        })
                        .collect(),
                ),
                Kind::Dependency => (
                    &["ID", "CONSUMER", "PROVIDER", "TYPE", "CONSTRAINT", "STATUS"],
                    list.iter()
                        .filter_map(|e| match e {
                            Entity::Dependency(d) => Some(vec![
                                d.id.as_str().into(),
                                d.consumer.as_str().into(),
                                d.provider.as_str().into(),
                                d.dep_type.as_str().into(),
                                d.version_constraint.clone().unwrap_or_default().into(),
                                styled(d.status.as_str()),
                            ]),
                            _ => None,
                        })
                        .collect(),
                ),
            };
            table(w, headers, rows)
        }
    }
}

/// An entity back from its JSON form (as an operation returns it), for the
/// tables.
pub fn entity_of(kind: Kind, v: &serde_json::Value) -> std::io::Result<Entity> {
    let map: serde_yaml::Mapping =
        serde_yaml::to_value(v).and_then(serde_yaml::from_value).map_err(std::io::Error::other)?;
    let id = v["id"].as_str().unwrap_or_default().to_string();
    Ok(Entity::read(kind, id, map).0)
}

/// Prints one entity: `key: value` lines for people (URL credentials
/// redacted), or JSON/YAML (the data as stored).
pub fn entity(w: &mut dyn Write, e: &Entity, format: Format) -> std::io::Result<()> {
    let map = e.to_mapping();
    match format {
        Format::Json => json(w, &map),
        Format::Yaml => yaml(w, &map),
        Format::Table => {
            // YAML escapes most control characters, not bidirectional
            // overrides; credentials in URLs are for the data, not the screen.
            let text = serde_yaml::to_string(&map).map_err(std::io::Error::other)?;
            for line in text.lines() {
                let line = crate::display::shown(line);
                let line = line.as_str();
                match line.split_once(": ") {
                    Some((k, v)) if !k.starts_with(' ') && !k.starts_with('-') => {
                        let style = if k == "status" || k == "priority" { value_style(v) } else { Style::new() };
                        writeln!(w, "{HEADER}{k}{HEADER:#}: {style}{v}{style:#}")?;
                    }
                    _ => match line.strip_suffix(':') {
                        Some(k) if !k.starts_with(' ') && !k.starts_with('-') => writeln!(w, "{HEADER}{k}{HEADER:#}:")?,
                        _ => writeln!(w, "{line}")?,
                    },
                }
            }
            Ok(())
        }
    }
}

/// Prints problems, one per line, to stderr-like `w`.
pub fn problems(w: &mut dyn Write, list: &[Problem]) -> std::io::Result<()> {
    for p in list {
        let (label, style) = match p.severity {
            Severity::Error => ("error", Style::new().fg_color(Some(AnsiColor::Red.into())).bold()),
            Severity::Warning => ("warning", Style::new().fg_color(Some(AnsiColor::Yellow.into())).bold()),
        };
        writeln!(w, "{style}{label}{style:#}: {p}")?;
    }
    Ok(())
}

/// Prints load warnings (not errors) to stderr, so list commands still say
/// when something was skipped.
pub fn warn_load_problems(list: &[Problem]) {
    let mut err = err();
    for w in crate::api::entities::load_warnings(list) {
        let _ = writeln!(err, "warning: {w}");
    }
}

/// Lists the allowed values of a vocabulary, for help text.
pub fn allowed<T: Vocab>() -> String {
    T::ALLOWED.join(", ")
}
