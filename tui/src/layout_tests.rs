//! The layout's one rule, checked: imports between the crate's top-level modules
//! (`crate::NAME` in their code, tests left out) form no cycle, so there is an order in
//! which to read them (lib.rs's module map lists it).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Each top-level module and the top-level modules its code names.
fn imports() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut stack = vec![src.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("read src") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let rel = path.strip_prefix(&src).expect("under src");
            let first = rel.iter().next().and_then(|c| c.to_str()).unwrap_or("");
            let module = first.trim_end_matches(".rs");
            let is_test_file = rel.file_name().is_some_and(|n| n == "tests.rs");
            if path.extension().is_none_or(|e| e != "rs")
                || ["lib", "main", "bin", "layout_tests"].contains(&module)
                || is_test_file
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).expect("read a source file");
            // Production code only: a file's tests start at its `#[cfg(test)]` module.
            let code = text.split("#[cfg(test)]\nmod tests").next().unwrap_or("");
            let code = code
                .split("#[cfg(test)]\npub(crate) mod tests")
                .next()
                .unwrap_or("");
            let to = edges.entry(module.to_string()).or_default();
            for (i, _) in code.match_indices("crate::") {
                let rest = &code[i + "crate::".len()..];
                let names: Vec<&str> = if let Some(group) = rest.strip_prefix('{') {
                    let group = &group[..group.find('}').unwrap_or(group.len())];
                    group.split(',').map(str::trim).collect()
                } else {
                    vec![rest]
                };
                for n in names {
                    let name: String = n
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || *c == '_')
                        .collect();
                    if !name.is_empty() && name != module {
                        to.insert(name);
                    }
                }
            }
        }
    }
    edges
}

/// The modules on a cycle, if any (a depth-first search for a back edge).
fn cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        n: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|p| p == n) {
            let mut c = path[at..].to_vec();
            c.push(n.to_string());
            return Some(c);
        }
        if done.contains(n) {
            return None;
        }
        path.push(n.to_string());
        for m in edges.get(n).into_iter().flatten() {
            if let Some(c) = visit(m, edges, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(n.to_string());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

#[test]
fn no_import_cycles_between_top_level_modules() {
    let edges = imports();
    // The scan sees the modules it must (a change of layout updates this list).
    for m in [
        "system", "module", "helper", "diagnose", "engine", "app", "ui", "commands",
    ] {
        assert!(edges.contains_key(m), "{m} not found: {edges:?}");
    }
    assert!(edges["engine"].contains("diagnose"), "{edges:?}");
    assert_eq!(
        cycle(&edges),
        None,
        "an import cycle; the imports: {edges:#?}"
    );
    // The leaves import nothing of vmtop's but each other.
    let leaves = ["units", "env", "trust", "refused"];
    for leaf in leaves {
        let out: Vec<&String> = edges[leaf]
            .iter()
            .filter(|m| !leaves.contains(&m.as_str()))
            .collect();
        assert!(out.is_empty(), "{leaf} imports {out:?}");
    }
    assert!(
        edges["system"].iter().all(|m| m == "units"),
        "system/ imports {:?}",
        edges["system"]
    );
    // The helper knows where it is (env) and whether it may run it (trust): leaves only.
    assert!(
        edges["helper"].iter().all(|m| m == "env" || m == "trust"),
        "helper/ imports {:?}",
        edges["helper"]
    );
}

#[test]
fn a_cycle_is_found() {
    let edges: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec![]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
    .collect();
    assert_eq!(
        cycle(&edges),
        Some(vec!["a".into(), "b".into(), "c".into(), "a".into()])
    );
    let mut no = edges.clone();
    no.get_mut("c").expect("c").clear();
    assert_eq!(cycle(&no), None);
}
