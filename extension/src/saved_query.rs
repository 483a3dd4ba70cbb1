//! A catalog query prepared once per backend and kept (`SPI_keepplan`): the hot paths run
//! it on every request, and parsing and planning it each time would cost more than running it.
use pgrx::datum::DatumWithOid;
use pgrx::spi::{OwnedPreparedStatement, SpiHeapTupleData};
use pgrx::{pg_sys, PgOid, Spi};
use std::cell::RefCell;
use std::collections::HashMap;

pub struct SavedQuery {
    sql: &'static str,
}

thread_local! {
    static PLANS: RefCell<HashMap<&'static str, OwnedPreparedStatement>> = RefCell::new(HashMap::new());
}

impl SavedQuery {
    pub const fn new(sql: &'static str) -> Self {
        SavedQuery { sql }
    }

    /// Runs the query (preparing it on first use) and maps its first row, if any.
    pub fn first_row<T>(
        &self,
        types: &[pg_sys::Oid],
        args: Vec<DatumWithOid<'_>>,
        map: impl FnOnce(&SpiHeapTupleData) -> pgrx::spi::Result<T>,
    ) -> Option<T> {
        Spi::connect(|client| {
            PLANS.with_borrow_mut(|plans| {
                if !plans.contains_key(self.sql) {
                    let oids: Vec<PgOid> = types.iter().map(|&t| PgOid::from(t)).collect();
                    let plan = client.prepare(self.sql, &oids).expect("tenancy catalog query prepares").keep();
                    plans.insert(self.sql, plan);
                }
                let table = client.select(&plans[self.sql], Some(1), &args).expect("tenancy catalog query runs");
                table.into_iter().next().map(|row| map(&row).expect("tenancy catalog query row"))
            })
        })
    }
}
