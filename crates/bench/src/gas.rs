//! Gas per operation from the committed snapshot, next to the straightforward design's figures as the
//! README's gas table gives them (rendered by `tools/gastable.mjs` from `../shared/REFERENCE.md`).

use std::{collections::BTreeMap, path::Path};

use serde::{Deserialize, Serialize};

use crate::{Error, Result, io};

/// One operation.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GasRow {
    /// The operation, as the snapshot names it.
    pub operation: String,
    /// Gas used, from the snapshot.
    pub gas: u64,
    /// The straightforward design's gas, when the README's table has it.
    pub reference: Option<f64>,
}

/// The rows of `snapshots/JobAgency_Gas_Test.json` in the README's table order, each with its reference
/// figure.
pub fn table(root: &Path) -> Result<Vec<GasRow>> {
    let snapshot_path = root.join("snapshots/JobAgency_Gas_Test.json");
    let text = std::fs::read_to_string(&snapshot_path).map_err(io(&snapshot_path))?;
    let snapshot: BTreeMap<String, String> = serde_json::from_str(&text)
        .map_err(|e| Error::Format { path: snapshot_path.clone(), reason: e.to_string() })?;
    let readme_path = root.join("README.md");
    let readme = std::fs::read_to_string(&readme_path).map_err(io(&readme_path))?;
    let references = references(&readme);
    let mut rows = Vec::new();
    for (operation, gas) in &snapshot {
        let gas = gas.parse().map_err(|_| Error::Format {
            path: snapshot_path.clone(),
            reason: format!("{operation}: {gas:?} is not a gas figure"),
        })?;
        rows.push(GasRow { operation: operation.clone(), gas, reference: references.get(operation).copied() });
    }
    // The job's operations first, in the order a job goes through them.
    let order = ["post", "claim", "submit", "finalize", "job: post + claim + submit + finalize"];
    rows.sort_by_key(|row| order.iter().position(|op| *op == row.operation).unwrap_or(order.len()));
    Ok(rows)
}

/// The straightforward design's column of the README's gas table: operation → gas.
fn references(readme: &str) -> BTreeMap<String, f64> {
    let Some(table) = readme.split("<!-- gas:begin -->").nth(1).and_then(|rest| rest.split("<!-- gas:end -->").next())
    else {
        return BTreeMap::new();
    };
    table
        .lines()
        .filter_map(|line| {
            let cells: Vec<&str> = line.trim().trim_matches('|').split('|').map(str::trim).collect();
            let (operation, reference) = (cells.first()?, cells.get(3)?);
            Some((operation.to_string(), kilo(reference)?))
        })
        .collect()
}

/// `141.5k` → 141 500; `268k` → 268 000.
fn kilo(text: &str) -> Option<f64> {
    let number: f64 = text.strip_suffix('k')?.parse().ok()?;
    Some(number * 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_reference_column_of_the_readme_table() {
        let readme = "x\n<!-- gas:begin -->\n| operation | gas | target | straightforward design |\n|---|---:|---:|---:|\n\
            | post | 59,216 | 60.0k ✓ | 141.5k |\n| cancel | 50,139 |  |  |\n<!-- gas:end -->\n| post | 1 | 2 | 3k |\n";
        let found = references(readme);
        assert_eq!(found.get("post"), Some(&141_500.0));
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn the_committed_snapshot_has_the_jobs_operations_with_references() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
        let rows = table(&root).expect("the snapshot and README");
        assert_eq!(rows[0].operation, "post");
        assert!(rows.iter().take(5).all(|row| row.reference.is_some() && row.gas > 21_000), "{rows:?}");
    }
}
