//! The example applications the devnet posts: `examples/<name>/example.json` read into runs (code, input,
//! options, check), as `examples/README.md` describes the manifest.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::{Error, Result};

/// One run of an example that the market can take: it succeeds and is light enough for both engines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExampleRun {
    /// The example's name (its directory).
    pub example: String,
    /// The run's name in the manifest.
    pub run: String,
    /// `job.js`.
    pub code: PathBuf,
    /// The input file.
    pub input: PathBuf,
    /// The options' bytes (empty when the run has none).
    pub options: Vec<u8>,
    /// `check.js`.
    pub check: PathBuf,
    /// Whether the output is bytes (handed to the check as base64).
    pub binary: bool,
    /// A wrong output the check rejects, for a cheating worker to submit (the first `wrong` file of the
    /// run, if any).
    pub wrong: Option<PathBuf>,
}

impl ExampleRun {
    /// `example/run`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.example, self.run)
    }
}

#[derive(Deserialize)]
struct Manifest {
    output: String,
    runs: Vec<RunEntry>,
    #[serde(default)]
    wrong: Vec<WrongEntry>,
}

#[derive(Deserialize)]
struct RunEntry {
    name: String,
    input: String,
    options: Option<String>,
    error: Option<String>,
    #[serde(default)]
    heavy: bool,
}

#[derive(Deserialize)]
struct WrongEntry {
    run: String,
    output: Option<String>,
}

/// The runs of every example under `examples` (or only those named in `only`), in name order: every run
/// that is neither an expected error nor marked heavy.
pub fn load(examples: &Path, only: &[String]) -> Result<Vec<ExampleRun>> {
    let io = |path: &Path, source| Error::Io { what: "reading", path: path.to_owned(), source };
    let mut names: Vec<String> = std::fs::read_dir(examples)
        .map_err(|e| io(examples, e))?
        .filter_map(|entry| entry.ok())
        .filter(|entry| entry.path().join("example.json").is_file())
        .filter_map(|entry| entry.file_name().to_str().map(str::to_owned))
        .collect();
    names.sort();
    for name in only {
        if !names.contains(name) {
            return Err(Error::Usage(format!(
                "no example named {name:?} under {} (there are: {})",
                examples.display(),
                names.join(", ")
            )));
        }
    }
    let mut runs = Vec::new();
    for name in names.iter().filter(|name| only.is_empty() || only.contains(name)) {
        let dir = examples.join(name);
        let path = dir.join("example.json");
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let manifest: Manifest = serde_json::from_str(&text)
            .map_err(|e| Error::Usage(format!("{} is not a valid manifest: {e}", path.display())))?;
        for run in manifest.runs.iter().filter(|run| run.error.is_none() && !run.heavy) {
            let options = match &run.options {
                Some(file) => {
                    let path = dir.join(file);
                    std::fs::read(&path).map_err(|e| io(&path, e))?
                }
                None => Vec::new(),
            };
            let wrong = manifest
                .wrong
                .iter()
                .filter(|wrong| wrong.run == run.name)
                .find_map(|wrong| wrong.output.as_ref().map(|file| dir.join(file)));
            runs.push(ExampleRun {
                example: name.clone(),
                run: run.name.clone(),
                code: dir.join("job.js"),
                input: dir.join(&run.input),
                options,
                check: dir.join("check.js"),
                binary: manifest.output == "binary",
                wrong,
            });
        }
    }
    if runs.is_empty() {
        return Err(Error::Usage(format!("no runnable example under {}", examples.display())));
    }
    Ok(runs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn examples() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples")
    }

    #[test]
    fn reads_the_repositorys_examples() {
        let runs = load(&examples(), &[]).expect("the examples load");
        let labels: Vec<String> = runs.iter().map(ExampleRun::label).collect();
        assert!(labels.contains(&"sudoku/hard".to_owned()), "{labels:?}");
        assert!(labels.contains(&"mandelbrot/edge-png".to_owned()), "{labels:?}");
        // Expected errors and heavy runs are not posted.
        assert!(!labels.iter().any(|l| l == "sudoku/ambiguous" || l == "primes/trillion"), "{labels:?}");
        let edge = runs.iter().find(|r| r.label() == "mandelbrot/edge").expect("edge");
        assert!(edge.binary && edge.wrong.as_ref().is_some_and(|w| w.is_file()));
        let guide = runs.iter().find(|r| r.label() == "markdown/guide").expect("guide");
        assert!(!guide.binary && !guide.options.is_empty() && guide.wrong.is_none());
    }

    #[test]
    fn an_unknown_example_is_named() {
        let error = load(&examples(), &["nope".to_owned()]).expect_err("unknown");
        assert!(error.to_string().contains("no example named \"nope\""), "{error}");
    }
}
