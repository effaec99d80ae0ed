pub mod bound;
pub mod count;
pub mod demo;
pub mod distance;
pub mod eval;
pub mod inspect;
pub mod line;
pub mod slice;
