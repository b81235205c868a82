//! The layering of `docs/ARCHITECTURE.md`, checked on the source: reads every file under
//! `src/`, collects which top-level modules each one names (`crate::x`, `$crate::x`,
//! `super::…::x`, `mejora::x`) and where it names actix, and fails naming the file and line of
//! every edge the rules forbid, every transaction begun outside `services`, and every import
//! cycle between top-level modules.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Pseudo-module for any actix crate (`actix_web`, `actix_multipart`, `utoipa_actix_web`…).
const ACTIX: &str = "actix";
/// Pseudo-module for the database crates (`sea_orm`, `sqlx`): routes and wire types never
/// touch the database.
const DATABASE: &str = "sea_orm";

/// What each top-level module may use. A module missing here fails the test: a new one must
/// be placed in the picture first.
const ALLOWED: &[(&str, &[&str])] = &[
    // Entry: the binary, the command line, the server and the document.
    ("main", &["cli"]),
    ("cli", &["config", "dto", "entities", "error", "openapi", "services", "startup", "telemetry", ACTIX, DATABASE]),
    (
        "startup",
        &[
            "auth",
            "config",
            "error",
            "http",
            "openapi",
            "ops",
            "routes",
            "services",
            "state",
            "telemetry",
            ACTIX,
            DATABASE,
        ],
    ),
    ("openapi", &["dto", "error", "ops", "routes", ACTIX]),
    // HTTP: extract, authorize, call a service, answer. Never the tables.
    ("routes", &["auth", "config", "dto", "error", "http", "messages", "services", "state", "telemetry", ACTIX]),
    ("state", &["auth", "config", "services", DATABASE]),
    // Rules, queries and transactions: no actix, no HTTP plumbing, no routes or state.
    ("services", &["auth", "config", "dto", "entities", "error", "messages", "telemetry", DATABASE]),
    ("entities", &[DATABASE]),
    // Foundations.
    ("http", &["auth", "config", "dto", "error", "messages", "services", "telemetry", ACTIX, DATABASE]),
    ("auth", &["config", "entities", "error", "telemetry", ACTIX, DATABASE]),
    ("dto", &["entities", "error", "messages"]),
    ("error", &["messages", ACTIX, DATABASE]),
    ("config", &[]),
    ("messages", &[]),
    ("telemetry", &["config", ACTIX]),
    // Operations: metrics and rate-limit middleware, used by the entry only.
    ("ops", &["auth", "config", "error", "telemetry", ACTIX, DATABASE]),
];

/// Parameters with one shared definition (`http::etag::IfMatch`,
/// `http::idempotency::IdempotencyKey`, `dto::pagination::PageParams`).
const SHARED_PARAMETERS: &[&str] = &["If-Match", "Idempotency-Key", "limit", "cursor"];

/// Where a module is named.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Site {
    file: String,
    line: usize,
}

impl std::fmt::Display for Site {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// One source file: its path (as shown in messages), its module path inside the crate and its
/// text.
struct Source {
    path: String,
    module: Vec<String>,
    text: String,
}

/// The code of `text` with comments and the contents of string and character literals
/// blanked out (newlines kept, so line numbers stay right).
fn code_only(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    let blank = |c: char| if c == '\n' { '\n' } else { ' ' };
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                out.push(' ');
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    out.push_str("  ");
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    out.push_str("  ");
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == 'r'
            && (next == Some('"') || next == Some('#'))
            && !chars.get(i.wrapping_sub(1)).is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // Raw string r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            out.push('r');
            for _ in i + 1..=j {
                out.push(' ');
            }
            i = j + 1;
            while i < chars.len() {
                if chars[i] == '"' && (0..hashes).all(|h| chars.get(i + 1 + h) == Some(&'#')) {
                    for _ in 0..=hashes {
                        out.push(' ');
                    }
                    i += 1 + hashes;
                    break;
                }
                out.push(blank(chars[i]));
                i += 1;
            }
        } else if c == '"' && path_literal(&chars[i + 1..]).is_some() {
            // A path written as a string (`deserialize_with = "crate::dto::patch::nullable"`)
            // is a use like any other: kept.
            let len = path_literal(&chars[i + 1..]).unwrap_or(0);
            out.push(' ');
            out.extend(&chars[i + 1..i + 1 + len]);
            out.push(' ');
            i += len + 2;
        } else if c == '"' {
            out.push(' ');
            i += 1;
            while i < chars.len() {
                if chars[i] == '\\' {
                    out.push(' ');
                    if let Some(&e) = chars.get(i + 1) {
                        out.push(blank(e));
                    }
                    i += 2;
                } else if chars[i] == '"' {
                    out.push(' ');
                    i += 1;
                    break;
                } else {
                    out.push(blank(chars[i]));
                    i += 1;
                }
            }
        } else if c == '\'' {
            // A character literal ('x', '\n', '\u{..}') or a lifetime ('a).
            let close = if next == Some('\\') {
                (i + 2..chars.len().min(i + 12)).find(|&j| chars[j] == '\'')
            } else if chars.get(i + 2) == Some(&'\'') {
                Some(i + 2)
            } else {
                None
            };
            match close {
                Some(end) => {
                    for _ in i..=end {
                        out.push(' ');
                    }
                    i = end + 1;
                }
                None => {
                    out.push(c);
                    i += 1;
                }
            }
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

/// The length of a string literal's content when it is a path into the crate
/// (`crate::…`, `super::…`), up to the closing quote.
fn path_literal(rest: &[char]) -> Option<usize> {
    let end = rest.iter().position(|c| *c == '"')?;
    let content: String = rest[..end].iter().collect();
    let is_path = (content.starts_with("crate::") || content.starts_with("super::"))
        && content.chars().all(|c| is_ident(c) || c == ':');
    is_path.then_some(end)
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Where the identifier ending at byte `end` of `code` starts.
fn ident_start(code: &str, end: usize) -> usize {
    code[..end].char_indices().rev().find(|(_, c)| !is_ident(*c)).map(|(i, c)| i + c.len_utf8()).unwrap_or(0)
}

/// Every identifier of `code` with its byte position.
fn identifiers(code: &str) -> Vec<(usize, &str)> {
    let mut out = Vec::new();
    let mut start = None;
    for (i, c) in code.char_indices().chain([(code.len(), ' ')]) {
        match (start, is_ident(c)) {
            (None, true) => start = Some(i),
            (Some(s), false) => {
                out.push((s, &code[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    out
}

/// The identifier starting at byte `at` of `line`.
fn ident_at(line: &str, at: usize) -> &str {
    let rest = &line[at..];
    let end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
    &rest[..end]
}

/// The first segments of the items of a `{…}` group starting at byte `open` (the brace):
/// `{a, b::c, d::{e, f}}` gives `a`, `b`, `d`. The group may span lines.
fn group_heads(text: &str, open: usize) -> Vec<(usize, String)> {
    let mut heads = Vec::new();
    let mut depth = 0;
    let mut expect = true;
    let bytes: Vec<(usize, char)> = text[open..].char_indices().map(|(i, c)| (open + i, c)).collect();
    let mut k = 0;
    while k < bytes.len() {
        let (at, c) = bytes[k];
        match c {
            '{' => {
                depth += 1;
                expect = depth == 1;
            }
            '}' => {
                depth -= 1;
                if depth == 0 {
                    break;
                }
            }
            ',' if depth == 1 => expect = true,
            c if is_ident(c) && expect && depth == 1 => {
                let name = ident_at(text, at).to_string();
                k += name.chars().count();
                heads.push((at, name));
                expect = false;
                continue;
            }
            c if !c.is_whitespace() && depth == 1 => expect = false,
            _ => {}
        }
        k += 1;
    }
    heads
}

/// Every top-level module (or [`ACTIX`]) that `source` names, with where.
fn uses(source: &Source, modules: &BTreeSet<String>) -> Vec<(String, Site)> {
    let code = code_only(&source.text);
    let line_of = |at: usize| code[..at].matches('\n').count() + 1;
    let site = |at: usize| Site { file: source.path.clone(), line: line_of(at) };
    let mut found = Vec::new();
    let push = |name: &str, at: usize, found: &mut Vec<(String, Site)>| {
        if modules.contains(name) {
            found.push((name.to_string(), site(at)));
        }
    };
    for (at, _) in code.match_indices("::") {
        // The path segment before `::`.
        let start = ident_start(&code, at);
        let segment = &code[start..at];
        let after = at + 2;
        let root = match segment {
            "crate" => true,
            "mejora" => source.module.first().map(String::as_str) == Some("main"),
            "super" => {
                // Count the chain of `super::` ending here, and how deep the file is.
                let mut supers = 1;
                let mut s = start;
                while s >= 7 && code.get(s - 7..s) == Some("super::") {
                    supers += 1;
                    s -= 7;
                }
                let first_of_chain = !code[..s].ends_with("::");
                first_of_chain && supers == source.module.len() && !code[after..].starts_with("super::")
            }
            _ => false,
        };
        if !root {
            continue;
        }
        if code[after..].starts_with('{') {
            for (pos, head) in group_heads(&code, after) {
                push(&head, pos, &mut found);
            }
        } else {
            push(ident_at(&code, after), after, &mut found);
        }
    }
    for (at, word) in identifiers(&code) {
        if word == "actix" || word.starts_with("actix_") || word.contains("_actix_") {
            found.push((ACTIX.to_string(), site(at)));
        } else if word == "sea_orm" || word == "sqlx" {
            found.push((DATABASE.to_string(), site(at)));
        }
    }
    found.dedup();
    found
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The crate's sources: `src/lib.rs` declares modules and is left out.
fn sources(root: &Path) -> Vec<Source> {
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files
        .into_iter()
        .filter_map(|path| {
            let relative = path.strip_prefix(&src).unwrap();
            let mut module: Vec<String> =
                relative.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_string()).collect();
            if module.last().is_some_and(|m| m == "mod") {
                module.pop();
            }
            if module == ["lib"] {
                return None;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            Some(Source { path: format!("src/{}", relative.display()), module, text })
        })
        .collect()
}

/// What the check found wrong, one line each.
fn check(sources: &[Source]) -> Vec<String> {
    let allowed: BTreeMap<&str, BTreeSet<&str>> =
        ALLOWED.iter().map(|(m, deps)| (*m, deps.iter().copied().collect())).collect();
    let modules: BTreeSet<String> =
        ALLOWED.iter().map(|(m, _)| m.to_string()).chain([ACTIX.to_string(), DATABASE.to_string()]).collect();
    let mut problems = Vec::new();
    let mut edges: BTreeMap<String, BTreeMap<String, Site>> = BTreeMap::new();
    for source in sources {
        let Some(from) = source.module.first() else { continue };
        let Some(may) = allowed.get(from.as_str()) else {
            problems.push(format!(
                "{}: top-level module `{from}` is not in the layering (add it to ALLOWED in tests/architecture.rs \
                 and to docs/ARCHITECTURE.md)",
                source.path
            ));
            continue;
        };
        for (to, site) in uses(source, &modules) {
            if &to == from {
                continue;
            }
            if !may.contains(to.as_str()) {
                let what = match to.as_str() {
                    ACTIX => "actix".to_string(),
                    DATABASE => "the database (sea_orm)".to_string(),
                    _ => format!("crate::{to}"),
                };
                problems.push(format!("{site}: `{from}` must not use {what}"));
            }
            if to != ACTIX && to != DATABASE {
                edges.entry(from.clone()).or_default().entry(to).or_insert(site);
            }
        }
        // Shared parameters are documented once (`IfMatch`, `IdempotencyKey`, `PageParams`, the
        // `…Path` types), never written out again in an operation's `params(...)`.
        if from == "routes" {
            for (n, line) in source.text.lines().enumerate() {
                for name in SHARED_PARAMETERS {
                    if line.contains(&format!("(\"{name}\" = ")) {
                        problems.push(format!(
                            "{}:{}: `{name}` is documented inline; reference its shared type instead",
                            source.path,
                            n + 1
                        ));
                    }
                }
            }
        }
        // Transactions begin in services.
        if from != "services" {
            let code = code_only(&source.text);
            for (at, _) in code.match_indices(".begin()") {
                let line = code[..at].matches('\n').count() + 1;
                problems.push(format!(
                    "{}:{line}: `{from}` begins a transaction; transactions begin in services \
                     (crate::services::transaction or a service function)",
                    source.path
                ));
            }
        }
    }
    problems.extend(cycles(&edges));
    problems
}

/// One message per cycle between top-level modules, naming each edge's first site.
fn cycles(edges: &BTreeMap<String, BTreeMap<String, Site>>) -> Vec<String> {
    let mut reported: BTreeSet<BTreeSet<String>> = BTreeSet::new();
    let mut messages = Vec::new();
    for start in edges.keys() {
        // Depth-first search for a path from `start` back to itself.
        let mut stack: Vec<(String, Vec<String>)> = vec![(start.clone(), vec![start.clone()])];
        let mut seen = BTreeSet::new();
        while let Some((node, path)) = stack.pop() {
            for next in edges.get(&node).map(|m| m.keys().cloned().collect::<Vec<_>>()).unwrap_or_default() {
                if &next == start {
                    let members: BTreeSet<String> = path.iter().cloned().collect();
                    if reported.insert(members) {
                        let mut steps = Vec::new();
                        let mut cycle = path.clone();
                        cycle.push(start.clone());
                        for pair in cycle.windows(2) {
                            steps.push(format!("{} -> {} ({})", pair[0], pair[1], edges[&pair[0]][&pair[1]]));
                        }
                        messages.push(format!("import cycle: {}", steps.join(", ")));
                    }
                } else if seen.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    stack.push((next, longer));
                }
            }
        }
    }
    messages
}

#[test]
fn the_layers_hold() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let sources = sources(root);
    assert!(sources.len() > 50, "read only {} files under src/", sources.len());
    let problems = check(&sources);
    assert!(problems.is_empty(), "the layering of docs/ARCHITECTURE.md is broken:\n  {}", problems.join("\n  "));
}

fn fake(path: &str, text: &str) -> Source {
    let module = path
        .trim_start_matches("src/")
        .split('/')
        .map(|p| p.trim_end_matches(".rs").to_string())
        .filter(|p| p != "mod")
        .collect();
    Source { path: path.to_string(), module, text: text.to_string() }
}

#[test]
fn a_forbidden_import_is_named_with_its_line() {
    let sources = [
        fake("src/services/plans.rs", "//! Plans.\nuse crate::dto::plans::PlanResponse;\nuse crate::http::Json;\n"),
        fake("src/routes/plans.rs", "use crate::{auth::Auth, entities::plan};\n"),
        fake("src/dto/plans.rs", "fn f() {\n    let _ = actix_web::HttpResponse::Ok();\n}\n"),
        fake("src/routes/users.rs", "\n\nuse sea_orm::EntityTrait;\n"),
    ];
    let problems = check(&sources);
    assert!(
        problems.contains(&"src/services/plans.rs:3: `services` must not use crate::http".to_string()),
        "{problems:?}"
    );
    assert!(
        problems.contains(&"src/routes/plans.rs:1: `routes` must not use crate::entities".to_string()),
        "{problems:?}"
    );
    assert!(problems.contains(&"src/dto/plans.rs:2: `dto` must not use actix".to_string()), "{problems:?}");
    assert!(
        problems.contains(&"src/routes/users.rs:3: `routes` must not use the database (sea_orm)".to_string()),
        "{problems:?}"
    );
    assert_eq!(problems.len(), 4, "{problems:?}");
}

#[test]
fn comments_strings_and_nested_modules_are_read_right() {
    let sources = [
        // Not edges: a comment, a doc link, a string.
        fake(
            "src/services/a.rs",
            "// crate::http\n/// [`crate::routes`]\nconst S: &str = \"crate::http:: actix_web\";\nconst C: char = '\"';\nuse crate::entities::x;\n#[serde(with = \"crate::dto::patch\")]\n",
        ),
        // `super::super::http` from src/services/x.rs is the crate's `http`; `super::z` is services' own.
        fake("src/services/x.rs", "use super::super::http::Json;\nuse super::z;\n"),
        // A path in a string attribute is a use.
        fake("src/dto/y.rs", "#[serde(deserialize_with = \"crate::http::patch::nullable\")]\n"),
    ];
    let problems = check(&sources);
    assert_eq!(
        problems,
        vec![
            "src/services/x.rs:1: `services` must not use crate::http".to_string(),
            "src/dto/y.rs:1: `dto` must not use crate::http".to_string(),
        ]
    );
}

#[test]
fn a_cycle_is_named_with_its_edges() {
    let sources = [
        fake("src/auth/mod.rs", "use crate::telemetry::RequestContext;\n"),
        fake("src/telemetry.rs", "\nuse crate::auth::Principal;\n"),
    ];
    let problems = check(&sources);
    assert!(
        problems.iter().any(|p| p.starts_with("import cycle: ") && p.contains("src/telemetry.rs:2")),
        "{problems:?}"
    );
}

#[test]
fn a_shared_parameter_written_out_in_a_route_is_named() {
    let text = "#[utoipa::path(params(\n    (\"If-Match\" = String, Header, description = \"ETag\"),\n))]\nfn f() {}\n";
    let problems = check(&[fake("src/routes/plans.rs", text)]);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("src/routes/plans.rs:2: `If-Match` is documented inline"), "{problems:?}");
}

#[test]
fn a_transaction_begun_in_a_route_is_named() {
    let sources = [fake("src/routes/plans.rs", "async fn f() {\n    let txn = state.db.begin().await?;\n}\n")];
    let problems = check(&sources);
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].starts_with("src/routes/plans.rs:2: `routes` begins a transaction"), "{problems:?}");
}
