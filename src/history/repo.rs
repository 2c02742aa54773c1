//! Reading coordination data out of git with gix: revisions, the
//! coordination files of a commit or of the working tree, blob texts. Nothing
//! here shells out to `git`.

use crate::error::{Error, Result};
use crate::model::Kind;
use crate::store::{Snapshot, Store};
use gix::ObjectId;
use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;

/// Work-tree files are read only when regular and at most this large (the
/// loader's own `max_file_bytes` check then applies to their text); links and
/// FIFOs in `coordination/` are never followed or opened.
const MAX_FILE: u64 = 64 << 20;

/// One coordination file of a revision: its blob, and for the working tree
/// the file on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileRef {
    /// The blob ID (for the working tree: the ID its content would have).
    pub oid: ObjectId,
    /// The file on disk (working tree only).
    pub disk: Option<PathBuf>,
}

/// One file before and after (either may be absent).
pub type FilePair = (Option<FileRef>, Option<FileRef>);

/// A side of a comparison: a commit, the working tree, or nothing (before
/// the first commit).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Side {
    /// No coordination data at all.
    Empty,
    /// A commit (its ID).
    Commit(ObjectId),
    /// The files on disk.
    WorkTree,
}

/// The coordination files of one side, read lazily: each kind's directory is
/// listed only when it is needed.
#[derive(Debug, Clone, Default)]
pub struct State {
    /// Tree ID of `coordination/<kind>` (commits only).
    pub kind_trees: HashMap<Kind, ObjectId>,
    /// `settings/ecosystem.yaml`.
    pub ecosystem: Option<FileRef>,
    worktree: bool,
    root_tree: Option<ObjectId>,
}

/// A commit, as `log` shows it.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
pub struct CommitInfo {
    /// Full ID.
    pub id: String,
    /// Abbreviated ID.
    pub short: String,
    /// Author name.
    pub author: String,
    /// Author email.
    pub email: String,
    /// Author date (RFC 3339, in the author's offset).
    pub date: String,
    /// The first line of the message.
    pub summary: String,
    /// The full message.
    pub message: String,
    #[serde(skip)]
    pub(crate) seconds: i64,
}

/// The git repository holding a coordination root.
pub struct GitRepo {
    pub(crate) repo: gix::Repository,
    /// Path of the coordination root inside the repository (`""` at top level).
    prefix: String,
    /// The root directory on disk.
    root_dir: PathBuf,
    /// Recently read trees (see [`GitRepo::tree_data`]).
    trees: std::cell::RefCell<std::collections::VecDeque<(ObjectId, std::rc::Rc<[u8]>)>>,
}

fn join(prefix: &str, rest: &str) -> String {
    if prefix.is_empty() { rest.to_string() } else { format!("{prefix}/{rest}") }
}

impl GitRepo {
    /// Opens the repository of a store; `what` names the command for the
    /// error outside a repository.
    pub fn open(store: &Store, what: &'static str) -> Result<GitRepo> {
        let (Some(wt), Some(prefix)) = (&store.root.worktree, store.root.prefix_in_repo()) else {
            return Err(Error::NeedsRepo(what));
        };
        let mut repo = gix::open(wt).map_err(Error::git)?;
        // Walking history decodes each kind's tree once per commit; a roomy
        // object cache keeps the tree just compared for the next commit, and
        // a memory-capped pack cache keeps delta bases inflated.
        repo.object_cache_size_if_unset(64 * 1024 * 1024);
        repo.objects
            .set_pack_cache(|| Box::new(gix::odb::pack::cache::lru::MemoryCappedHashmap::new(64 * 1024 * 1024)));
        Ok(GitRepo { repo, prefix, root_dir: store.root.dir.clone(), trees: Default::default() })
    }

    /// The commit a revision names (`HEAD`, `main~3`, a tag, an ID…).
    pub fn resolve(&self, rev: &str) -> Result<ObjectId> {
        let id = self
            .repo
            .rev_parse_single(rev)
            .map_err(|e| Error::git(e).context(format!("unknown revision `{}`", crate::display::shown(rev))))?;
        let obj = id.object().map_err(Error::git)?;
        let commit = obj.peel_to_commit().map_err(|_| Error::InvalidValue {
            field: "rev".into(),
            value: crate::display::shown(rev),
            expected: "a revision naming a commit".into(),
        })?;
        Ok(commit.id)
    }

    /// HEAD's commit, or `None` on an unborn branch.
    pub fn head(&self) -> Result<Option<ObjectId>> {
        match self.repo.head_id() {
            Ok(id) => Ok(Some(id.detach())),
            Err(_) => Ok(None),
        }
    }

    /// The best common ancestor of two commits.
    pub fn merge_base(&self, a: ObjectId, b: ObjectId) -> Result<Option<ObjectId>> {
        Ok(self.repo.merge_base(a, b).ok().flatten().map(|id| id.detach()))
    }

    /// Whether the repository is a shallow clone, and its boundary commits.
    pub fn shallow_boundary(&self) -> Vec<ObjectId> {
        match self.repo.shallow_commits() {
            Ok(Some(c)) => c.iter().copied().collect(),
            _ => Vec::new(),
        }
    }

    /// Author, date and message of a commit.
    pub fn commit_info(&self, id: ObjectId) -> Result<CommitInfo> {
        let c = self.repo.find_commit(id).map_err(Error::git)?;
        let decoded = c.decode().map_err(Error::git)?;
        let author = decoded.author().map_err(Error::git)?;
        let time = author.time().map_err(Error::git)?;
        let message = decoded.message.to_string();
        let summary = message.lines().next().unwrap_or_default().to_string();
        let offset = chrono::FixedOffset::east_opt(time.offset).unwrap_or(chrono::FixedOffset::east_opt(0).unwrap());
        let date = chrono::DateTime::from_timestamp(time.seconds, 0)
            .map(|d| d.with_timezone(&offset).to_rfc3339())
            .unwrap_or_default();
        let short = id.to_hex_with_len(7).to_string();
        Ok(CommitInfo {
            id: id.to_string(),
            short,
            author: author.name.to_string(),
            email: author.email.to_string(),
            date,
            summary,
            message: message.trim_end().to_string(),
            seconds: time.seconds,
        })
    }

    /// The coordination files of a side.
    pub fn state(&self, side: &Side) -> Result<State> {
        match side {
            Side::Empty => Ok(State::default()),
            Side::Commit(id) => self.commit_state(*id),
            Side::WorkTree => self.worktree_state(),
        }
    }

    fn commit_state(&self, id: ObjectId) -> Result<State> {
        let commit = self.repo.find_commit(id).map_err(Error::git)?;
        let tree = commit.tree().map_err(Error::git)?;
        let mut st = State { root_tree: Some(tree.id), ..State::default() };
        if let Ok(Some(coord)) = tree.lookup_entry_by_path(join(&self.prefix, "coordination"))
            && coord.mode().is_tree()
        {
            let coord = self.repo.find_tree(coord.object_id()).map_err(Error::git)?;
            let decoded = coord.decode().map_err(Error::git)?;
            for e in &decoded.entries {
                if let Some(kind) = Kind::from_dir_name(&e.filename.to_string())
                    && e.mode.is_tree()
                {
                    st.kind_trees.insert(kind, e.oid.to_owned());
                }
            }
        }
        if let Ok(Some(eco)) = tree.lookup_entry_by_path(join(&self.prefix, "settings/ecosystem.yaml"))
            && eco.mode().is_blob()
        {
            st.ecosystem = Some(FileRef { oid: eco.object_id(), disk: None });
        }
        Ok(st)
    }

    fn worktree_state(&self) -> Result<State> {
        let mut st = State { worktree: true, ..State::default() };
        let eco = self.root_dir.join("settings/ecosystem.yaml");
        if let Ok(bytes) = crate::store::files::read_bytes(&eco, MAX_FILE, true) {
            st.ecosystem = Some(FileRef { oid: self.hash(&bytes)?, disk: Some(eco) });
        }
        Ok(st)
    }

    fn hash(&self, bytes: &[u8]) -> Result<ObjectId> {
        gix::objs::compute_hash(self.repo.object_hash(), gix::objs::Kind::Blob, bytes).map_err(Error::git)
    }

    /// Lists `coordination/<kind>/*.yaml` of a state: file name → file.
    pub fn entries(&self, st: &State, kind: Kind) -> Result<BTreeMap<String, FileRef>> {
        let mut out = BTreeMap::new();
        if st.worktree {
            let dir = self.root_dir.join("coordination").join(kind.dir_name());
            if !self.real_dirs(kind) {
                return Ok(out);
            }
            let Ok(rd) = std::fs::read_dir(&dir) else { return Ok(out) };
            for e in rd.flatten() {
                let name = e.file_name().to_string_lossy().into_owned();
                if !is_yaml(&name) || !e.file_type().is_ok_and(|t| t.is_file()) {
                    continue;
                }
                let path = e.path();
                let bytes = crate::store::files::read_bytes(&path, MAX_FILE, false)?;
                out.insert(name, FileRef { oid: self.hash(&bytes)?, disk: Some(path) });
            }
            return Ok(out);
        }
        let Some(tree) = st.kind_trees.get(&kind) else { return Ok(out) };
        let tree = self.repo.find_tree(*tree).map_err(Error::git)?;
        let decoded = tree.decode().map_err(Error::git)?;
        for e in &decoded.entries {
            let name = e.filename.to_string();
            if is_yaml(&name) && e.mode.is_blob() {
                out.insert(name, FileRef { oid: e.oid.to_owned(), disk: None });
            }
        }
        Ok(out)
    }

    /// The files of a kind's directory that differ between two commits, by
    /// walking both sorted trees side by side (no per-entry allocation for
    /// the unchanged majority).
    pub fn changed_entries(&self, a: &State, b: &State, kind: Kind) -> Result<Vec<(String, FilePair)>> {
        let load = |st: &State| -> Result<Option<std::rc::Rc<[u8]>>> {
            match st.kind_trees.get(&kind) {
                Some(t) => Ok(Some(self.tree_data(*t)?)),
                None => Ok(None),
            }
        };
        let (ta, tb) = (load(a)?, load(b)?);
        let hash = self.repo.object_hash();
        let empty: &[u8] = &[];
        let da = gix::objs::TreeRef::from_bytes(ta.as_deref().unwrap_or(empty), hash).map_err(Error::git)?.entries;
        let db = gix::objs::TreeRef::from_bytes(tb.as_deref().unwrap_or(empty), hash).map_err(Error::git)?.entries;
        let file = |e: &gix::objs::tree::EntryRef<'_>| -> Option<FileRef> {
            (e.mode.is_blob() && is_yaml(&e.filename.to_string()))
                .then(|| FileRef { oid: e.oid.to_owned(), disk: None })
        };
        let mut out = Vec::new();
        let (mut i, mut j) = (0, 0);
        while i < da.len() || j < db.len() {
            let order = match (da.get(i), db.get(j)) {
                (Some(x), Some(y)) => x.filename.cmp(y.filename),
                (Some(_), None) => std::cmp::Ordering::Less,
                _ => std::cmp::Ordering::Greater,
            };
            let (name, pair) = match order {
                std::cmp::Ordering::Equal => {
                    let (x, y) = (&da[i], &db[j]);
                    i += 1;
                    j += 1;
                    if x.oid == y.oid {
                        continue;
                    }
                    (x.filename.to_string(), (file(x), file(y)))
                }
                std::cmp::Ordering::Less => {
                    i += 1;
                    (da[i - 1].filename.to_string(), (file(&da[i - 1]), None))
                }
                std::cmp::Ordering::Greater => {
                    j += 1;
                    (db[j - 1].filename.to_string(), (None, file(&db[j - 1])))
                }
            };
            if pair.0.is_some() || pair.1.is_some() {
                out.push((name, pair));
            }
        }
        Ok(out)
    }

    /// A tree's raw data. The last few are kept: walking history compares
    /// each commit's tree with its parent's, which is the next commit's.
    fn tree_data(&self, oid: ObjectId) -> Result<std::rc::Rc<[u8]>> {
        let mut cache = self.trees.borrow_mut();
        if let Some((_, d)) = cache.iter().find(|(id, _)| *id == oid) {
            return Ok(d.clone());
        }
        let tree = self.repo.find_tree(oid).map_err(Error::git)?;
        let data: std::rc::Rc<[u8]> = tree.data.as_slice().into();
        if cache.len() >= 8 {
            cache.pop_front();
        }
        cache.push_back((oid, data.clone()));
        Ok(data)
    }

    /// True when `coordination/` and the kind's directory are real
    /// directories (a link to one is never followed, as in the loader).
    fn real_dirs(&self, kind: Kind) -> bool {
        let coord = self.root_dir.join("coordination");
        use crate::store::files::check_dir;
        check_dir(&coord).unwrap_or(false) && check_dir(&coord.join(kind.dir_name())).unwrap_or(false)
    }

    /// One file of a kind's directory, without listing the directory.
    pub fn entry(&self, st: &State, kind: Kind, name: &str) -> Result<Option<FileRef>> {
        if st.worktree {
            let path = self.root_dir.join("coordination").join(kind.dir_name()).join(name);
            if !self.real_dirs(kind) || std::fs::symlink_metadata(&path).is_err() {
                return Ok(None);
            }
            let bytes = crate::store::files::read_bytes(&path, MAX_FILE, false)?;
            return Ok(Some(FileRef { oid: self.hash(&bytes)?, disk: Some(path) }));
        }
        let Some(tree) = st.kind_trees.get(&kind) else { return Ok(None) };
        let tree = self.repo.find_tree(*tree).map_err(Error::git)?;
        Ok(tree
            .find_entry(name)
            .filter(|e| e.mode().is_blob())
            .map(|e| FileRef { oid: e.oid().to_owned(), disk: None }))
    }

    /// The text of a file (lossy UTF-8).
    pub fn text(&self, f: &FileRef) -> Result<String> {
        if let Some(p) = &f.disk {
            let bytes = crate::store::files::read_bytes(p, MAX_FILE, p.ends_with("settings/ecosystem.yaml"))?;
            return Ok(String::from_utf8_lossy(&bytes).into_owned());
        }
        let blob = self.repo.find_blob(f.oid).map_err(Error::git)?;
        Ok(String::from_utf8_lossy(&blob.data).into_owned())
    }

    /// Every coordination text of a side, ready for [`Store::load_snapshot`].
    pub fn snapshot(&self, side: &Side) -> Result<Snapshot> {
        let st = self.state(side)?;
        let mut snap = Snapshot::default();
        if let Some(e) = &st.ecosystem {
            snap.ecosystem = Some(self.text(e)?);
        }
        for kind in Kind::ALL {
            let mut files = Vec::new();
            for (name, f) in self.entries(&st, kind)? {
                files.push((name, self.text(&f)?));
            }
            snap.files.insert(kind, files);
        }
        Ok(snap)
    }

    /// Whether a state is the working tree.
    pub fn is_worktree(st: &State) -> bool {
        st.worktree
    }

    /// How many deltas a packed object is stored behind (0 when loose,
    /// stored whole or unknown).
    pub fn delta_depth(&self, oid: ObjectId) -> u32 {
        match self.repo.find_header(oid) {
            Ok(gix::odb::find::Header::Packed(h)) => h.num_deltas,
            _ => 0,
        }
    }

    /// The root tree of a commit state (None for the working tree or empty).
    pub fn root_tree(st: &State) -> Option<ObjectId> {
        st.root_tree
    }
}

fn is_yaml(name: &str) -> bool {
    (name.ends_with(".yaml") || name.ends_with(".yml")) && !name.starts_with('.')
}

/// The file stem (`ISSUE-001.yaml` → `ISSUE-001`).
pub fn stem(name: &str) -> &str {
    name.strip_suffix(".yaml").or_else(|| name.strip_suffix(".yml")).unwrap_or(name)
}
