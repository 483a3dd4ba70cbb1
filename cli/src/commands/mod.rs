pub mod doctor;
pub mod erase;
pub mod export;
pub mod import;
pub mod lint;
pub mod migrate;
pub mod status;
