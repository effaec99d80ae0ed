pub mod eval;
pub mod inspect;
