//! The files under `tests/fixtures/`: every one names where it comes from, and every event
//! fixture goes through the event parser (and the planner) with the outcome the table below
//! expects, so that a fixture added without a source or an expected outcome fails here.
//!
//! A fixture names its source in one of three ways: an entry in its directory's `SOURCES.md`
//! (``- `file`: source``, for files that cannot carry a comment), a `<stem>.SOURCE` file beside
//! it, or a top-level `"source"` string in a JSON object.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use apigw_vpc_probe::config::Settings;
use apigw_vpc_probe::error::ErrorClass;
use apigw_vpc_probe::event::{self, Configured, Event, Selection};
use apigw_vpc_probe::target::Origin;
use serde_json::Value;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The files of `dir`, by name, sorted.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("directory entry"))
        .filter(|e| e.file_type().is_ok_and(|t| t.is_file()))
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// The directories under `dir`, itself included.
fn dirs(dir: &Path) -> Vec<PathBuf> {
    let mut all = vec![dir.to_owned()];
    for entry in std::fs::read_dir(dir).expect("fixtures directory") {
        let entry = entry.expect("directory entry");
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            all.extend(dirs(&entry.path()));
        }
    }
    all
}

/// The entries of a `SOURCES.md`: ``- `name`: text`` with its indented continuation lines.
fn sources_md(path: &Path) -> BTreeMap<String, String> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut entries = BTreeMap::new();
    let mut current: Option<(String, String)> = None;
    for line in text.lines() {
        let entry = line
            .strip_prefix("- `")
            .and_then(|rest| rest.split_once("`:"));
        if let Some((name, source)) = entry {
            entries.extend(current.take());
            current = Some((name.to_owned(), source.trim().to_owned()));
        } else if let (Some((_, source)), true) = (&mut current, line.starts_with("  ")) {
            source.push(' ');
            source.push_str(line.trim());
        } else {
            entries.extend(current.take());
        }
    }
    entries.extend(current);
    entries
}

/// A source is a sentence, not a placeholder.
fn is_a_source(text: &str) -> bool {
    text.split_whitespace().count() >= 4
}

#[test]
fn every_fixture_names_its_source() {
    let mut missing = Vec::new();
    let mut checked = 0;
    for dir in dirs(&fixtures()) {
        let names = files(&dir);
        let listed = if names.iter().any(|n| n == "SOURCES.md") {
            sources_md(&dir.join("SOURCES.md"))
        } else {
            BTreeMap::new()
        };
        for (name, source) in &listed {
            assert!(
                names.contains(name),
                "{}/SOURCES.md lists {name}, which is not there",
                dir.display()
            );
            assert!(
                is_a_source(source),
                "{}/SOURCES.md: the source of {name} says too little: {source:?}",
                dir.display()
            );
        }
        for name in &names {
            if name == "SOURCES.md" || name.ends_with(".SOURCE") {
                continue;
            }
            let path = dir.join(name);
            let stem = name.rsplit_once('.').map_or(name.as_str(), |(s, _)| s);
            let sidecar = dir.join(format!("{stem}.SOURCE"));
            let named = if let Some(source) = listed.get(name) {
                is_a_source(source)
            } else if sidecar.is_file() {
                let text = std::fs::read_to_string(&sidecar).expect("the .SOURCE file");
                text.contains(name.as_str()) && is_a_source(&text)
            } else {
                std::fs::read_to_string(&path)
                    .ok()
                    .and_then(|text| serde_json::from_str::<Value>(&text).ok())
                    .and_then(|v| v["source"].as_str().map(is_a_source))
                    .unwrap_or(false)
            };
            if !named {
                missing.push(path.display().to_string());
            }
            checked += 1;
        }
    }
    assert!(
        missing.is_empty(),
        "fixtures without a source (an entry in the directory's SOURCES.md, a <stem>.SOURCE \
         file, or a top-level \"source\" in JSON): {missing:#?}"
    );
    // The three ways are all in use: events (SOURCES.md), fc3-schema (.SOURCE), regressions
    // and the signature vectors ("source").
    assert!(checked >= 19, "only {checked} fixtures found");
}

#[test]
fn the_sources_md_reader_reads_continuation_lines() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("SOURCES.md");
    std::fs::write(
        &path,
        "# Title\n\nIntro.\n\n- `a.json`: one\n  two three\n- `b.json`: four five six seven\n\nAfter.\n",
    )
    .unwrap();
    let entries = sources_md(&path);
    assert_eq!(entries["a.json"], "one two three");
    assert_eq!(entries["b.json"], "four five six seven");
    assert_eq!(entries.len(), 2);
    assert!(!is_a_source(&entries["a.json"]));
    assert!(is_a_source(&entries["b.json"]));
}

/// What the event parser makes of a fixture, and then the planner, against one configured
/// target named `ok` and an allow-list that names 127.0.0.1 (`{{OK}}` is 127.0.0.1:9).
#[derive(Debug)]
enum Outcome {
    /// Refused by the parser: `config.invalid`, the message containing this.
    Invalid(&'static str),
    /// Accepted.
    Parsed {
        selection: Expected,
        /// The timer trigger's name, for a timer event.
        timer: Option<&'static str>,
        planned: Planned,
    },
}

#[derive(Debug)]
enum Expected {
    Configured,
    Named(&'static str),
    /// Targets written in the event, by their URLs.
    Specs(&'static [&'static str]),
}

#[derive(Debug)]
enum Planned {
    /// Each target by name: `Ok` to be probed, `Err(class)` refused before any network work.
    Targets(&'static [Result<&'static str, &'static str>]),
    /// The whole invocation refused, `config.invalid`, the message containing this.
    Refused(&'static str),
}

use Expected::*;
use Outcome::*;
use Planned::*;

const OK: &str = "127.0.0.1:9";

const EVENTS: &[(&str, Outcome)] = &[
    (
        "console.json",
        Parsed {
            selection: Configured,
            timer: None,
            planned: Targets(&[Ok("ok")]),
        },
    ),
    (
        "forbidden-url.json",
        Parsed {
            selection: Specs(&["http://example.com/not-allowed"]),
            timer: None,
            planned: Targets(&[Err("target.forbidden")]),
        },
    ),
    ("invalid-array.json", Invalid("must be a JSON object")),
    (
        "invalid-field-type.json",
        Invalid("invalid type: string \"two\""),
    ),
    ("invalid-not-json.json", Invalid("the event is not JSON")),
    (
        "invalid-timer-payload.json",
        Invalid("the timer payload is not valid JSON"),
    ),
    (
        "invalid-unknown-field.json",
        Invalid("has none of \"target\", \"url\", \"group\", \"targets\""),
    ),
    (
        "invalid-unknown-target.json",
        Parsed {
            selection: Named("no-such-target"),
            timer: None,
            planned: Refused("no configured target is named \"no-such-target\""),
        },
    ),
    (
        "named.json",
        Parsed {
            selection: Named("ok"),
            timer: None,
            planned: Targets(&[Ok("ok")]),
        },
    ),
    (
        "targets.json",
        Parsed {
            selection: Specs(&["http://127.0.0.1:9/web/cloudapi", "http://127.0.0.1:9/echo"]),
            timer: None,
            planned: Targets(&[Ok("get"), Ok("post")]),
        },
    ),
    (
        "timer-json-payload.json",
        Parsed {
            selection: Named("ok"),
            timer: Some("every-minute"),
            planned: Targets(&[Ok("ok")]),
        },
    ),
    (
        "timer-name-payload.json",
        Parsed {
            selection: Named("ok"),
            timer: Some("by-name"),
            planned: Targets(&[Ok("ok")]),
        },
    ),
    (
        "url.json",
        Parsed {
            selection: Specs(&["http://127.0.0.1:9/web/cloudapi?from=event"]),
            timer: None,
            planned: Targets(&[Ok("127.0.0.1/web/cloudapi")]),
        },
    ),
];

fn settings() -> Settings {
    let settings = Settings::from_lookup(|name| match name {
        "APIGW_TARGETS" => Some(format!(
            r#"[{{"name":"ok","url":"http://{OK}/web/cloudapi"}}]"#
        )),
        "APIGW_ALLOW_HOSTS" => Some("127.0.0.1".into()),
        _ => None,
    });
    assert!(settings.problems.is_empty(), "{:?}", settings.problems);
    settings
}

fn check(file: &str, want: &Outcome, settings: &Settings, configured: &Configured) {
    let path = fixtures().join("events").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{file}: {e}"));
    let parsed = Event::parse(text.replace("{{OK}}", OK).as_bytes());
    let (selection, planned) = match (want, parsed) {
        (Invalid(says), Err(e)) => {
            assert_eq!(e.class, ErrorClass::ConfigInvalid, "{file}: {e}");
            assert!(e.message.contains(says), "{file}: {}", e.message);
            return;
        }
        (Invalid(_), Ok(event)) => panic!("{file}: accepted as {event:?}"),
        (Parsed { .. }, Err(e)) => panic!("{file}: refused: {e}"),
        (
            Parsed {
                selection,
                timer,
                planned,
            },
            Ok(event),
        ) => {
            let trigger = event.timer.as_ref().map(|t| t.trigger_name.as_str());
            assert_eq!(trigger, *timer, "{file}");
            match (selection, &event.selection) {
                (Configured, Selection::Configured) => {}
                (Named(want), Selection::Named(got)) => assert_eq!(got, want, "{file}"),
                (Specs(urls), Selection::Specs(specs)) => {
                    let got: Vec<Option<&str>> = specs.iter().map(|s| s.url.as_deref()).collect();
                    let want: Vec<Option<&str>> = urls.iter().copied().map(Some).collect();
                    assert_eq!(got, want, "{file}");
                }
                (want, got) => panic!("{file}: expected {want:?}, parsed {got:?}"),
            }
            (event.selection, planned)
        }
    };
    let result = event::plan(selection, settings, configured, Origin::Request);
    match (planned, result) {
        (Refused(says), Err(e)) => {
            assert_eq!(e.class, ErrorClass::ConfigInvalid, "{file}: {e}");
            assert!(e.message.contains(says), "{file}: {}", e.message);
        }
        (Refused(_), Ok(targets)) => panic!("{file}: planned {} targets", targets.len()),
        (Targets(_), Err(e)) => panic!("{file}: refused: {e}"),
        (Targets(want), Ok(targets)) => {
            let got: Vec<Result<String, String>> = targets
                .iter()
                .map(|t| match t {
                    Ok(target) => Ok(target.name.clone()),
                    Err(report) => Err(report
                        .error
                        .as_ref()
                        .map_or_else(String::new, |e| e.class.name().into_owned())),
                })
                .collect();
            let want: Vec<Result<String, String>> = want
                .iter()
                .map(|w| w.map(str::to_owned).map_err(str::to_owned))
                .collect();
            assert_eq!(got, want, "{file}");
        }
    }
}

#[test]
fn every_event_fixture_parses_as_the_table_says() {
    let dir = fixtures().join("events");
    let on_disk: Vec<String> = files(&dir)
        .into_iter()
        .filter(|n| n.ends_with(".json"))
        .collect();
    let in_table: Vec<String> = EVENTS.iter().map(|(f, _)| (*f).to_owned()).collect();
    assert_eq!(
        on_disk, in_table,
        "every events/*.json needs a row in EVENTS (in name order), and every row a file"
    );
    let settings = settings();
    let configured = Configured::build(&settings);
    for (file, want) in EVENTS {
        check(file, want, &settings, &configured);
    }
}
