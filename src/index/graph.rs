//! Graph rows: per indexed file, the fields the graph reports read (IDs,
//! kind, status, priority, repositories, assignee, estimates, dates,
//! plan/milestone and every reference field of [`crate::model::refs`]), as
//! a small typed JSON document in `idx_files.g`.
//!
//! A report loads through them ([`crate::store::Store::load_for_graph`]):
//! a current, problem-free row becomes a *slim* entity — the entity with
//! its free text (descriptions, notes, labels, criteria, deliverables,
//! validation, metadata, unknown keys) left out — decoded straight into
//! typed fields instead of through a generic mapping, which is what makes
//! `ready`, `status` and `lint` cheap at 100,000 entities. The reports
//! never read the left-out fields (see [`slim`]).
//!
//! A row is written only when it gives back exactly [`slim`] of its entity
//! (checked at indexing time); otherwise `g` stays NULL and the file's
//! mapping is decoded as for any other load.

use crate::model::date::CoordDate;
use crate::model::vocab::{Lenient, Vocab};
use crate::model::*;
use serde::{Deserialize, Serialize};

/// The entity with the fields no graph report reads left empty.
pub fn slim(e: &Entity) -> Entity {
    match e {
        Entity::Issue(i) => Entity::Issue(Issue {
            description: None,
            labels: Vec::new(),
            metadata: Extra::default(),
            extra: Extra::default(),
            ..i.clone()
        }),
        Entity::Plan(p) => Entity::Plan(Plan {
            description: None,
            extra: Extra::default(),
            milestones: p
                .milestones
                .iter()
                .map(|m| Milestone {
                    description: None,
                    completion_criteria: Vec::new(),
                    criteria_checks: Vec::new(),
                    deliverables: Vec::new(),
                    extra: Extra::default(),
                    ..m.clone()
                })
                .collect(),
            ..p.clone()
        }),
        Entity::Todo(t) => Entity::Todo(Todo {
            description: None,
            labels: Vec::new(),
            acceptance_criteria: Vec::new(),
            extra: Extra::default(),
            ..t.clone()
        }),
        Entity::Dependency(d) => {
            Entity::Dependency(Dependency { notes: None, validation: None, extra: Extra::default(), ..d.clone() })
        }
    }
}

/// An optional date as written (`None` = absent).
type D = Option<String>;

/// A vocabulary word (a status, a priority, a type): borrowed from the
/// document where it can be, since it is parsed and dropped at once.
type W<'a> = std::borrow::Cow<'a, str>;

// The rows below serialize every field (no `skip_serializing_if`): the
// kinds' images ([`encode_image`]) are positional (postcard), where a field
// left out would shift the rest.

#[derive(Serialize, Deserialize)]
struct IssueRow<'a> {
    t: String,
    #[serde(borrow)]
    s: W<'a>,
    #[serde(borrow)]
    p: W<'a>,
    sev: String,
    #[serde(default)]
    r: Vec<String>,
    #[serde(default)]
    c: D,
    #[serde(default)]
    u: D,
    #[serde(default)]
    tg: D,
    #[serde(default)]
    dep: Vec<String>,
    #[serde(default)]
    bl: Vec<String>,
    #[serde(default)]
    a: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct MilestoneRow<'a> {
    id: String,
    n: String,
    #[serde(default)]
    due: D,
    #[serde(borrow)]
    s: W<'a>,
    #[serde(default)]
    dep: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct PlanRow<'a> {
    t: String,
    #[serde(borrow)]
    s: W<'a>,
    #[serde(default)]
    r: Vec<String>,
    #[serde(default)]
    c: D,
    #[serde(default)]
    u: D,
    #[serde(default)]
    tg: D,
    #[serde(default)]
    iss: Vec<String>,
    #[serde(default)]
    dep: Vec<String>,
    #[serde(default, borrow)]
    ms: Vec<MilestoneRow<'a>>,
}

#[derive(Serialize, Deserialize)]
struct TodoRow<'a> {
    t: String,
    r: String,
    #[serde(borrow)]
    s: W<'a>,
    #[serde(borrow)]
    p: W<'a>,
    #[serde(default)]
    c: D,
    #[serde(default)]
    u: D,
    #[serde(default)]
    est: Option<f64>,
    #[serde(default)]
    act: Option<f64>,
    #[serde(default)]
    bb: Vec<String>,
    #[serde(default)]
    bl: Vec<String>,
    #[serde(default)]
    a: Option<String>,
    #[serde(default)]
    i: Option<String>,
    #[serde(default)]
    pl: Option<String>,
    #[serde(default)]
    m: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct DepRow<'a> {
    co: String,
    pr: String,
    #[serde(borrow)]
    ty: W<'a>,
    #[serde(default)]
    vc: Option<String>,
    #[serde(borrow)]
    s: W<'a>,
    #[serde(default)]
    c: D,
    #[serde(default)]
    u: D,
}

fn date_out(d: &Option<Lenient<CoordDate>>) -> D {
    d.as_ref().map(|d| match d {
        Lenient::Known(d) => d.to_string(),
        Lenient::Invalid(s) => s.clone(),
    })
}

fn date_in(d: D) -> Option<Lenient<CoordDate>> {
    d.map(|s| CoordDate::parse(&s).map_or(Lenient::Invalid(s), Lenient::Known))
}

fn vocab<T: Vocab>(s: &str) -> Lenient<T> {
    Lenient::from_text(s)
}

fn issue_row(i: &Issue) -> IssueRow<'_> {
    IssueRow {
        t: i.title.clone(),
        s: W::Borrowed(i.status.as_str()),
        p: W::Borrowed(i.priority.as_str()),
        sev: i.severity.clone(),
        r: i.repos.clone(),
        c: date_out(&i.created),
        u: date_out(&i.updated),
        tg: date_out(&i.target),
        dep: i.dependencies.clone(),
        bl: i.blocking.clone(),
        a: i.assignee.clone(),
    }
}

fn plan_row(p: &Plan) -> PlanRow<'_> {
    PlanRow {
        t: p.title.clone(),
        s: W::Borrowed(p.status.as_str()),
        r: p.repos.clone(),
        c: date_out(&p.created),
        u: date_out(&p.updated),
        tg: date_out(&p.target),
        iss: p.issue_ids.clone(),
        dep: p.depends_on.clone(),
        ms: p
            .milestones
            .iter()
            .map(|m| MilestoneRow {
                id: m.id.clone(),
                n: m.name.clone(),
                due: date_out(&m.due),
                s: W::Borrowed(m.status.as_str()),
                dep: m.dependencies.clone(),
            })
            .collect(),
    }
}

fn todo_row(t: &Todo) -> TodoRow<'_> {
    TodoRow {
        t: t.task.clone(),
        r: t.repo.clone(),
        s: W::Borrowed(t.status.as_str()),
        p: W::Borrowed(t.priority.as_str()),
        c: date_out(&t.created),
        u: date_out(&t.updated),
        est: t.estimated_hours,
        act: t.actual_hours,
        bb: t.blocked_by.clone(),
        bl: t.blocking.clone(),
        a: t.assignee.clone(),
        i: t.issue_id.clone(),
        pl: t.plan_id.clone(),
        m: t.milestone_id.clone(),
    }
}

fn dep_row(d: &Dependency) -> DepRow<'_> {
    DepRow {
        co: d.consumer.clone(),
        pr: d.provider.clone(),
        ty: W::Borrowed(d.dep_type.as_str()),
        vc: d.version_constraint.clone(),
        s: W::Borrowed(d.status.as_str()),
        c: date_out(&d.created),
        u: date_out(&d.updated),
    }
}

fn issue_of(id: String, r: IssueRow<'_>) -> Entity {
    Entity::Issue(Issue {
        id,
        title: r.t,
        description: None,
        status: vocab(&r.s),
        priority: vocab(&r.p),
        severity: r.sev,
        repos: r.r,
        created: date_in(r.c),
        updated: date_in(r.u),
        target: date_in(r.tg),
        dependencies: r.dep,
        blocking: r.bl,
        assignee: r.a,
        labels: Vec::new(),
        metadata: Extra::default(),
        extra: Extra::default(),
    })
}

fn plan_of(id: String, r: PlanRow<'_>) -> Entity {
    Entity::Plan(Plan {
        id,
        title: r.t,
        description: None,
        status: vocab(&r.s),
        repos: r.r,
        created: date_in(r.c),
        updated: date_in(r.u),
        target: date_in(r.tg),
        issue_ids: r.iss,
        depends_on: r.dep,
        milestones: r
            .ms
            .into_iter()
            .map(|m| Milestone {
                id: m.id,
                name: m.n,
                description: None,
                due: date_in(m.due),
                status: vocab(&m.s),
                dependencies: m.dep,
                completion_criteria: Vec::new(),
                criteria_checks: Vec::new(),
                deliverables: Vec::new(),
                extra: Extra::default(),
            })
            .collect(),
        extra: Extra::default(),
    })
}

fn todo_of(id: String, r: TodoRow<'_>) -> Entity {
    Entity::Todo(Todo {
        id,
        task: r.t,
        description: None,
        repo: r.r,
        status: vocab(&r.s),
        priority: vocab(&r.p),
        created: date_in(r.c),
        updated: date_in(r.u),
        estimated_hours: r.est,
        actual_hours: r.act,
        blocked_by: r.bb,
        blocking: r.bl,
        assignee: r.a,
        labels: Vec::new(),
        acceptance_criteria: Vec::new(),
        issue_id: r.i,
        plan_id: r.pl,
        milestone_id: r.m,
        extra: Extra::default(),
    })
}

fn dep_of(id: String, r: DepRow<'_>) -> Entity {
    Entity::Dependency(Dependency {
        id,
        consumer: r.co,
        provider: r.pr,
        dep_type: vocab(&r.ty),
        version_constraint: r.vc,
        status: vocab(&r.s),
        created: date_in(r.c),
        updated: date_in(r.u),
        notes: None,
        validation: None,
        extra: Extra::default(),
    })
}

/// The graph row of an entity, or `None` when it would not give back
/// exactly [`slim`] of it (then the row's `g` stays NULL).
pub fn encode(e: &Entity) -> Option<String> {
    let json = match e {
        Entity::Issue(i) => serde_json::to_string(&issue_row(i)),
        Entity::Plan(p) => serde_json::to_string(&plan_row(p)),
        Entity::Todo(t) => serde_json::to_string(&todo_row(t)),
        Entity::Dependency(d) => serde_json::to_string(&dep_row(d)),
    }
    .ok()?;
    let back = decode(e.kind(), e.id().to_string(), &json)?;
    (back == slim(e)).then_some(json)
}

/// The slim entity of a graph row (`None` when the row does not decode).
pub fn decode(kind: Kind, id: String, json: &str) -> Option<Entity> {
    Some(match kind {
        Kind::Issue => issue_of(id, serde_json::from_str(json).ok()?),
        Kind::Plan => plan_of(id, serde_json::from_str(json).ok()?),
        Kind::Todo => todo_of(id, serde_json::from_str(json).ok()?),
        Kind::Dependency => dep_of(id, serde_json::from_str(json).ok()?),
    })
}

/// The layout of an image's document, written first: a document of
/// another layout does not decode (then the kind's rows are read).
const IMAGE_FORMAT: u32 = 1;

/// One file of a kind's image ([`encode_image`]): its name, the entity's
/// ID, its graph row and its problems.
#[derive(Serialize, Deserialize)]
struct ImageFile<R> {
    n: String,
    i: String,
    g: R,
    #[serde(default)]
    p: Vec<StoredProblem>,
}

/// One file of a kind as an image holds it: its name, its slim entity
/// ([`slim`]) and its problems.
pub type ImageEntry = (String, Entity, Vec<crate::problem::Problem>);

/// The image of one kind's files: every file's graph row, ID, name and
/// problems in one postcard document, decoded in one pass (no per-row
/// parse, no row reads, no field names). The entities are not checked
/// here: they come from graph rows or passed [`encode`], so their rows
/// give back their slim entities.
pub fn encode_image(kind: Kind, files: &[(&str, &Entity, &[crate::problem::Problem])]) -> Option<Vec<u8>> {
    fn doc<'e, R: Serialize>(
        files: &[(&str, &'e Entity, &[crate::problem::Problem])],
        row: impl Fn(&'e Entity) -> Option<R>,
    ) -> Option<Vec<u8>> {
        let rows: Option<Vec<ImageFile<R>>> = files
            .iter()
            .map(|(name, e, problems)| {
                Some(ImageFile { n: name.to_string(), i: e.id().to_string(), g: row(e)?, p: stored(problems) })
            })
            .collect();
        postcard::to_allocvec(&(IMAGE_FORMAT, rows?)).ok()
    }
    match kind {
        Kind::Issue => doc(files, |e| if let Entity::Issue(i) = e { Some(issue_row(i)) } else { None }),
        Kind::Plan => doc(files, |e| if let Entity::Plan(p) = e { Some(plan_row(p)) } else { None }),
        Kind::Todo => doc(files, |e| if let Entity::Todo(t) = e { Some(todo_row(t)) } else { None }),
        Kind::Dependency => doc(files, |e| if let Entity::Dependency(d) = e { Some(dep_row(d)) } else { None }),
    }
}

/// The files of an image (`None` when it does not decode). Each file is
/// turned into its entry as it is read: no vector of rows is held beside
/// the entries (nor grown and copied on the way).
pub fn decode_image<T>(kind: Kind, bytes: &[u8], entry: &dyn Fn(ImageEntry) -> T) -> Option<Vec<T>> {
    use serde::de::{DeserializeSeed, Deserializer, Error, SeqAccess, Visitor};
    use std::marker::PhantomData;
    /// The files, each made an entry by `of`. A damaged length cannot ask
    /// for more room than the document could describe (a file takes at
    /// least four bytes).
    struct Files<'x, R, T> {
        of: fn(String, R) -> Entity,
        entry: &'x dyn Fn(ImageEntry) -> T,
        most: usize,
        rows: PhantomData<R>,
    }
    impl<'de, R: Deserialize<'de>, T> Visitor<'de> for Files<'_, R, T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("the files of an image")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(self.most));
            while let Some(f) = seq.next_element::<ImageFile<R>>()? {
                out.push((self.entry)((f.n, (self.of)(f.i, f.g), f.p.into_iter().map(problem_of).collect())));
            }
            Ok(out)
        }
    }
    impl<'de, R: Deserialize<'de>, T> DeserializeSeed<'de> for Files<'_, R, T> {
        type Value = Vec<T>;
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_seq(self)
        }
    }
    /// The document: the format number, then the files.
    struct Doc<'x, R, T>(Files<'x, R, T>);
    impl<'de, R: Deserialize<'de>, T> Visitor<'de> for Doc<'_, R, T> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("an image")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let format: u32 = seq.next_element()?.ok_or_else(|| A::Error::invalid_length(0, &self))?;
            if format != IMAGE_FORMAT {
                return Err(A::Error::custom("an image of another format"));
            }
            seq.next_element_seed(self.0)?.ok_or_else(|| A::Error::custom("no files"))
        }
    }
    fn files<'b, R: Deserialize<'b>, T>(
        bytes: &'b [u8],
        of: fn(String, R) -> Entity,
        entry: &dyn Fn(ImageEntry) -> T,
    ) -> Option<Vec<T>> {
        let mut de = postcard::Deserializer::from_bytes(bytes);
        let files = Files { of, entry, most: bytes.len() / 4, rows: PhantomData };
        (&mut de).deserialize_tuple(2, Doc(files)).ok()
    }
    match kind {
        Kind::Issue => files(bytes, issue_of, entry),
        Kind::Plan => files(bytes, plan_of, entry),
        Kind::Todo => files(bytes, todo_of, entry),
        Kind::Dependency => files(bytes, dep_of, entry),
    }
}

/// One stored problem of a file (the problems of a file with problems are
/// kept with its graph row, keyed by its stamp like everything else in the
/// row, so `lint` re-reads only changed files).
#[derive(Serialize, Deserialize)]
struct StoredProblem {
    /// `e`rror or `w`arning.
    s: char,
    c: String,
    #[serde(default)]
    f: Option<std::path::PathBuf>,
    #[serde(default)]
    l: Option<usize>,
    #[serde(default)]
    i: Option<String>,
    #[serde(default)]
    fd: Option<String>,
    #[serde(default)]
    v: Option<String>,
    m: String,
}

fn stored(problems: &[crate::problem::Problem]) -> Vec<StoredProblem> {
    problems
        .iter()
        .map(|p| StoredProblem {
            s: if p.is_error() { 'e' } else { 'w' },
            c: p.code.to_string(),
            f: p.file.clone(),
            l: p.line,
            i: p.id.clone(),
            fd: p.field.clone(),
            v: p.value.clone(),
            m: p.message.clone(),
        })
        .collect()
}

fn problem_of(r: StoredProblem) -> crate::problem::Problem {
    use crate::problem::Problem;
    let code = intern(&r.c);
    let mut p = if r.s == 'e' { Problem::error(code, r.m) } else { Problem::warning(code, r.m) };
    p.file = r.f;
    p.line = r.l;
    p.id = r.i;
    p.field = r.fd;
    p.value = r.v;
    p
}

/// The problems of a file as stored.
pub fn encode_problems(problems: &[crate::problem::Problem]) -> Option<String> {
    serde_json::to_string(&stored(problems)).ok()
}

/// Stored problems back (`None` when they do not decode).
pub fn decode_problems(json: &str) -> Option<Vec<crate::problem::Problem>> {
    let rows: Vec<StoredProblem> = serde_json::from_str(json).ok()?;
    Some(rows.into_iter().map(problem_of).collect())
}

/// Problem codes are static strings; the few distinct codes read back are
/// leaked once per process.
fn intern(code: &str) -> &'static str {
    use std::collections::HashSet;
    use std::sync::Mutex;
    static CODES: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut guard = CODES.lock().unwrap_or_else(|e| e.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if let Some(c) = set.get(code) {
        return c;
    }
    let c: &'static str = Box::leak(code.to_string().into_boxed_str());
    set.insert(c);
    c
}
