//! Typed errors of the mathematics crate.

use thiserror::Error;

/// What can be wrong with a network or with the points given to it.
#[derive(Debug, Error, Clone, PartialEq)]
pub enum NetworkError {
    /// A network needs at least one affine layer.
    #[error("a network needs at least one affine layer")]
    NoLayers,
    /// Layer `layer` expects `expected` inputs but the previous layer gives `found`.
    #[error("layer {layer} takes {expected} inputs but the layer before it has {found} outputs")]
    LayerMismatch {
        layer: usize,
        expected: usize,
        found: usize,
    },
    /// A bias whose length differs from the number of rows of its weight matrix.
    #[error("layer {layer}: weight has {rows} rows but bias has {bias} entries")]
    BiasMismatch {
        layer: usize,
        rows: usize,
        bias: usize,
    },
    /// A flat weight buffer whose length is not `rows * cols`.
    #[error("weight buffer has {found} entries, expected {rows} x {cols} = {}", rows * cols)]
    WeightLength {
        rows: usize,
        cols: usize,
        found: usize,
    },
    /// A NaN or infinite parameter.
    #[error("layer {layer}: {what} entry {index} is {value} (weights and biases must be finite)")]
    NonFinite {
        layer: usize,
        what: &'static str,
        index: usize,
        value: f64,
    },
    /// A layer with zero inputs or zero outputs.
    #[error("layer {layer} has an empty {what} dimension")]
    EmptyLayer { layer: usize, what: &'static str },
    /// A point of the wrong dimension.
    #[error("point {point} has {found} coordinates but the network takes {expected}")]
    InputLength {
        point: usize,
        expected: usize,
        found: usize,
    },
    /// A NaN or infinite input coordinate.
    #[error("point {point}, coordinate {coordinate} is {value}; inputs must be finite")]
    NonFiniteInput {
        point: usize,
        coordinate: usize,
        value: f64,
    },
    /// A leaky-ReLU negative slope outside `[0, 1]`, or slopes that do not match the
    /// network's layers.
    #[error(
        "layer {layer}, neuron {neuron}: negative slope {value} is not supported (leaky ReLU slopes must lie in [0, 1], where the activation is convex and non-decreasing, which the bounds assume)"
    )]
    NegativeSlope {
        layer: usize,
        neuron: usize,
        value: f64,
    },
    /// Negative slopes for the wrong number of activated layers.
    #[error(
        "negative slopes: the network has {expected} activated layers but slopes were given for {found}"
    )]
    SlopeLayers { expected: usize, found: usize },
    /// Negative slopes of the wrong width for a layer.
    #[error("negative slopes: layer {layer} has {expected} neurons but {found} slopes were given")]
    SlopeLength {
        layer: usize,
        expected: usize,
        found: usize,
    },
    /// An activation pattern of the wrong length for this network.
    #[error("activation pattern has {found} bits but the network has {expected} ReLU neurons")]
    PatternLength { expected: usize, found: usize },
}
