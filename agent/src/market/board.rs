//! The live table of the devnet's jobs: redrawn in place on a terminal, one line per change otherwise.

use std::{
    collections::{BTreeMap, HashMap},
    io::Write,
};

use alloy::primitives::{Address, U256};

use crate::{
    chain::job::{JobView, Outcome},
    roles::short,
};

/// A job on the board.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Row {
    /// The job id.
    pub id: U256,
    /// `example/run`.
    pub label: String,
    /// The engine's short name (`v8`, `quickjs`).
    pub engine: String,
    /// Its state as shown.
    pub state: String,
    /// Who holds it (a name from the cast), once claimed.
    pub worker: String,
}

/// The table and how it is shown.
#[derive(Debug)]
pub struct Board {
    rows: Vec<Row>,
    names: HashMap<Address, String>,
    live: bool,
    drawn: usize,
    notes: Vec<String>,
    dirty: bool,
}

/// Notes kept under a live table.
const NOTES: usize = 4;

/// A job's state in words: its status while live, its outcome once closed.
pub fn state_of(view: &JobView) -> String {
    match view.outcome {
        Some(outcome) => format!("closed: {}", outcome_name(outcome)),
        None => format!("{:?}", view.status()),
    }
}

/// An outcome in words.
pub fn outcome_name(outcome: Outcome) -> String {
    format!("{outcome:?}")
}

impl Board {
    /// An empty board; `live` redraws it in place (a terminal), else changes are printed as lines.
    pub fn new(names: HashMap<Address, String>, live: bool) -> Self {
        Self { rows: Vec::new(), names, live, drawn: 0, notes: Vec::new(), dirty: false }
    }

    /// Adds a job.
    pub fn add(&mut self, id: U256, label: String, engine: String) {
        self.rows.push(Row { id, label, engine, state: "posted".into(), worker: String::new() });
    }

    /// The rows.
    pub fn rows(&self) -> &[Row] {
        &self.rows
    }

    /// The name of `address` in the cast (its address when it has none).
    pub fn name(&self, address: Address) -> String {
        self.names.get(&address).cloned().unwrap_or_else(|| address.to_string())
    }

    /// Takes the jobs' current views; returns a line for each change.
    pub fn update(&mut self, jobs: &BTreeMap<U256, JobView>) -> Vec<String> {
        let mut changes = Vec::new();
        for index in 0..self.rows.len() {
            let Some(view) = jobs.get(&self.rows[index].id) else { continue };
            let state = state_of(view);
            let worker =
                if view.record.worker == Address::ZERO { String::new() } else { self.name(view.record.worker) };
            let row = &mut self.rows[index];
            if row.state != state || row.worker != worker {
                row.state = state;
                row.worker = worker;
                changes.push(format_row(row));
            }
        }
        changes
    }

    /// Shows the board: redraws the table on a terminal, else prints `changes`.
    pub fn show(&mut self, out: &mut dyn Write, changes: &[String]) {
        // A closed pipe or terminal is no reason to stop the market: output errors are ignored.
        if self.live {
            // Redrawn only when something changed.
            if changes.is_empty() && !self.dirty && self.drawn > 0 {
                return;
            }
            self.dirty = false;
            if self.drawn > 0 {
                let _ = write!(out, "\x1b[{}A", self.drawn);
            }
            let _ = writeln!(out, "\x1b[2K{}", header());
            for row in &self.rows {
                let _ = writeln!(out, "\x1b[2K{}", format_row(row));
            }
            for note in &self.notes {
                let _ = writeln!(out, "\x1b[2K{note}");
            }
            self.drawn = self.rows.len() + 1 + self.notes.len();
        } else {
            for line in changes {
                let _ = writeln!(out, "{line}");
            }
        }
        let _ = out.flush();
    }

    /// Something that happened besides a job's change: printed at once as a line, or (live) kept under
    /// the table, the last few of them.
    pub fn note(&mut self, out: &mut dyn Write, line: &str) {
        if self.live {
            self.notes.push(line.to_owned());
            self.dirty = true;
            if self.notes.len() > NOTES {
                self.notes.remove(0);
            }
            self.show(out, &[]);
        } else {
            let _ = writeln!(out, "{line}");
            let _ = out.flush();
        }
    }

    /// Ends the live table: the next output starts below it.
    pub fn finish(&mut self) {
        self.drawn = 0;
    }
}

/// The table's header.
pub fn header() -> String {
    format!("{:<12} {:<26} {:<8} {:<26} {}", "job", "example", "engine", "state", "worker")
}

fn format_row(row: &Row) -> String {
    format!("{:<12} {:<26} {:<8} {:<26} {}", short(row.id), row.label, row.engine, row.state, row.worker)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_output_prints_only_changes() {
        let mut board = Board::new(HashMap::new(), false);
        board.add(U256::from(1) << 224, "sudoku/hard".into(), "v8".into());
        let mut out = Vec::new();
        board.show(&mut out, &["one change".to_owned()]);
        assert_eq!(String::from_utf8_lossy(&out), "one change\n");
        assert!(
            format_row(&board.rows()[0]).starts_with("0x00000001   sudoku/hard"),
            "{}",
            format_row(&board.rows()[0])
        );
    }

    #[test]
    fn a_live_board_redraws_in_place() {
        let mut board = Board::new(HashMap::new(), true);
        board.add(U256::from(1), "primes/small".into(), "quickjs".into());
        let mut out = Vec::new();
        board.show(&mut out, &[]);
        board.show(&mut out, &[]);
        board.note(&mut out, "a note");
        let text = String::from_utf8_lossy(&out);
        // Drawn once, not redrawn without a change, redrawn in place for the note (header + row).
        assert_eq!(text.matches("primes/small").count(), 2, "{text:?}");
        assert_eq!(text.matches("\x1b[2A").count(), 1, "{text:?}");
        assert!(text.ends_with("a note\n"), "{text:?}");
    }
}
