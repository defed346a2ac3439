//! The data model every stage shares: Kafka records as one Arrow batch ([`record`]), the
//! Connect schema and value model ([`schema`], [`value`]), a column of Connect data
//! ([`column`]), and the mapping between Connect types and Arrow ([`arrow_map`], [`cells`]).

pub mod arrow_map;
pub mod cells;
pub mod column;
pub mod record;
pub mod schema;
pub mod value;
