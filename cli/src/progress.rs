//! Progress of a table-by-table transfer, on stderr, and only when a person is watching.
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;

pub struct TableProgress {
    bar: ProgressBar,
    table: String,
}

impl TableProgress {
    pub fn new(verb: &str, tables: usize) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            let template = format!("{verb} {{bar:30}} {{pos}}/{{len}} tables  {{msg}}");
            ProgressBar::new(tables as u64)
                .with_style(ProgressStyle::with_template(&template).expect("a valid template"))
        } else {
            ProgressBar::hidden()
        };
        TableProgress { bar, table: String::new() }
    }

    pub fn start_table(&mut self, table: String) {
        self.bar.set_message(table.clone());
        self.table = table;
    }

    /// Rows moved so far in the current table (indicatif limits how often it redraws).
    pub fn rows(&self, rows: u64) {
        self.bar.set_message(format!("{}  {rows} rows", self.table));
    }

    pub fn finish_table(&self) {
        self.bar.inc(1);
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}
