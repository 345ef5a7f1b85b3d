//! Criterion's results, read from its output directory (`target/criterion/**/new/`): each benchmark's
//! full id and the median of its samples.

use std::{
    collections::BTreeMap,
    path::Path,
    time::{Duration, SystemTime},
};

use serde::Deserialize;

use crate::{Error, Result, io};

#[derive(Deserialize)]
struct Benchmark {
    full_id: String,
}

#[derive(Deserialize)]
struct Estimates {
    median: Estimate,
}

#[derive(Deserialize)]
struct Estimate {
    point_estimate: f64,
}

/// The median time per iteration of every benchmark under `dir` written at or after `since` (older
/// results are from another run and left out), by criterion's full id (`group/function/value`).
/// A missing `dir` gives no results.
pub fn medians(dir: &Path, since: Option<SystemTime>) -> Result<BTreeMap<String, Duration>> {
    let mut found = BTreeMap::new();
    if dir.is_dir() {
        walk(dir, since, &mut found)?;
    }
    Ok(found)
}

fn walk(dir: &Path, since: Option<SystemTime>, found: &mut BTreeMap<String, Duration>) -> Result<()> {
    for entry in std::fs::read_dir(dir).map_err(io(dir))? {
        let path = entry.map_err(io(dir))?.path();
        if !path.is_dir() {
            continue;
        }
        if path.file_name().is_some_and(|name| name == "new") {
            let estimates = path.join("estimates.json");
            let fresh = std::fs::metadata(&estimates)
                .and_then(|meta| meta.modified())
                .is_ok_and(|modified| since.is_none_or(|since| modified >= since));
            if fresh {
                let benchmark: Benchmark = read_json(&path.join("benchmark.json"))?;
                let estimates: Estimates = read_json(&estimates)?;
                found.insert(benchmark.full_id, Duration::from_secs_f64(estimates.median.point_estimate / 1e9));
            }
        } else {
            walk(&path, since, found)?;
        }
    }
    Ok(())
}

fn read_json<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T> {
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    serde_json::from_str(&text).map_err(|e| Error::Format { path: path.to_owned(), reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_fresh_medians_and_skips_old_ones() {
        let dir = std::env::temp_dir().join(format!("jsjob-bench-criterion-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for (id, median) in [("v8/pooled/fib30", 6.0e6), ("64 MiB/raw sha256", 1.5e8)] {
            let new = dir.join(id).join("new");
            std::fs::create_dir_all(&new).expect("dirs");
            std::fs::write(new.join("benchmark.json"), format!(r#"{{"full_id":"{id}","group_id":"g"}}"#))
                .expect("write");
            std::fs::write(
                new.join("estimates.json"),
                format!(r#"{{"mean":{{"point_estimate":1}},"median":{{"point_estimate":{median}}}}}"#),
            )
            .expect("write");
        }
        let all = medians(&dir, None).expect("read");
        assert_eq!(all.get("v8/pooled/fib30"), Some(&Duration::from_millis(6)));
        assert_eq!(all.get("64 MiB/raw sha256"), Some(&Duration::from_millis(150)));
        let later = SystemTime::now() + Duration::from_secs(60);
        assert!(medians(&dir, Some(later)).expect("read").is_empty());
        assert!(medians(&dir.join("absent"), None).expect("read").is_empty());
        std::fs::remove_dir_all(&dir).expect("clean up");
    }
}
