//! The input box of a VNN-LIB specification.
//!
//! A VNN-LIB file declares inputs `X_0 .. X_{n-1}` and outputs `Y_j`
//! (`(declare-const X_i Real)`) and asserts constraints in SMT-LIB syntax. The input set
//! of the benchmarks is a box: `(assert (<= X_i v))` and `(assert (>= X_i v))` lines,
//! possibly grouped in `(and ...)`, possibly inside an `(or ...)` whose disjuncts all
//! carry the same input box (their disjunction is then about the outputs only). This
//! module reads that box; constraints on outputs are ignored. A disjunction of different
//! input boxes (e.g. ACAS Xu property 6) is an error that says so, as is any constraint on
//! inputs that is not a bound, or an input left unbounded.

use std::collections::BTreeMap;

use thiserror::Error;

/// Why a VNN-LIB file gives no input box.
#[derive(Debug, Error, PartialEq)]
pub enum VnnlibError {
    #[error("line {line}: {message}")]
    Syntax { line: usize, message: String },
    #[error("no input variables X_i are declared")]
    NoInputs,
    #[error("input X_{index} has no {side} bound")]
    Unbounded { index: usize, side: &'static str },
    #[error("input X_{index} has an empty range [{lo}, {hi}]")]
    Empty { index: usize, lo: f64, hi: f64 },
    #[error(
        "line {line}: the input set is a disjunction of {count} different boxes; relu-regions needs one box (split the specification into one file per box)"
    )]
    Disjunction { line: usize, count: usize },
    #[error("line {line}: unsupported constraint on inputs: {text}")]
    Unsupported { line: usize, text: String },
    #[error("line {line}: X_{index} is not declared (the file declares {declared} inputs)")]
    Undeclared {
        line: usize,
        index: usize,
        declared: usize,
    },
}

/// An input box read from a VNN-LIB file.
#[derive(Debug, Clone, PartialEq)]
pub struct VnnlibBox {
    pub lo: Vec<f64>,
    pub hi: Vec<f64>,
}

#[derive(Debug, Clone)]
enum Sexp {
    Atom(String, usize),
    List(Vec<Sexp>, usize),
}

impl Sexp {
    fn line(&self) -> usize {
        match self {
            Self::Atom(_, l) | Self::List(_, l) => *l,
        }
    }

    fn render(&self) -> String {
        match self {
            Self::Atom(a, _) => a.clone(),
            Self::List(items, _) => {
                format!(
                    "({})",
                    items.iter().map(Sexp::render).collect::<Vec<_>>().join(" ")
                )
            }
        }
    }
}

fn parse_sexps(text: &str) -> Result<Vec<Sexp>, VnnlibError> {
    let mut stack: Vec<(Vec<Sexp>, usize)> = vec![(Vec::new(), 1)];
    let mut line = 1;
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\n' => line += 1,
            ';' => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        line += 1;
                        break;
                    }
                }
            }
            '(' => stack.push((Vec::new(), line)),
            ')' => {
                if stack.len() == 1 {
                    return Err(VnnlibError::Syntax {
                        line,
                        message: "unbalanced `)`".into(),
                    });
                }
                let (items, start) = stack.pop().expect("checked above");
                let Some(parent) = stack.last_mut() else {
                    return Err(VnnlibError::Syntax {
                        line,
                        message: "unbalanced `)`".into(),
                    });
                };
                parent.0.push(Sexp::List(items, start));
            }
            c if c.is_whitespace() => {}
            c => {
                let mut atom = String::from(c);
                while let Some(&n) = chars.peek() {
                    if n.is_whitespace() || n == '(' || n == ')' || n == ';' {
                        break;
                    }
                    atom.push(n);
                    chars.next();
                }
                stack
                    .last_mut()
                    .expect("the root frame is never popped")
                    .0
                    .push(Sexp::Atom(atom, line));
            }
        }
    }
    if stack.len() != 1 {
        return Err(VnnlibError::Syntax {
            line: stack.last().map_or(line, |f| f.1),
            message: "unclosed `(`".into(),
        });
    }
    Ok(stack.pop().map(|f| f.0).unwrap_or_default())
}

fn input_index(atom: &str) -> Option<usize> {
    atom.strip_prefix("X_")?.parse().ok()
}

fn mentions_input(e: &Sexp) -> bool {
    match e {
        Sexp::Atom(a, _) => input_index(a).is_some(),
        Sexp::List(items, _) => items.iter().any(mentions_input),
    }
}

/// Bounds collected from one conjunction: index -> (lo, hi).
type Bounds = BTreeMap<usize, (f64, f64)>;

fn add_bound(bounds: &mut Bounds, index: usize, lo: Option<f64>, hi: Option<f64>) {
    let e = bounds
        .entry(index)
        .or_insert((f64::NEG_INFINITY, f64::INFINITY));
    if let Some(l) = lo {
        e.0 = e.0.max(l);
    }
    if let Some(h) = hi {
        e.1 = e.1.min(h);
    }
}

/// Collects the input bounds of a conjunction; returns the disjuncts for an `or`.
fn collect(
    e: &Sexp,
    bounds: &mut Bounds,
    disjunctions: &mut Vec<(usize, Vec<Bounds>)>,
) -> Result<(), VnnlibError> {
    if !mentions_input(e) {
        return Ok(());
    }
    let Sexp::List(items, line) = e else {
        return Err(VnnlibError::Unsupported {
            line: e.line(),
            text: e.render(),
        });
    };
    let head = match items.first() {
        Some(Sexp::Atom(h, _)) => h.as_str(),
        _ => {
            return Err(VnnlibError::Unsupported {
                line: *line,
                text: e.render(),
            });
        }
    };
    match head {
        "and" => {
            for item in &items[1..] {
                collect(item, bounds, disjunctions)?;
            }
            Ok(())
        }
        "or" => {
            let mut alternatives = Vec::new();
            for item in &items[1..] {
                let mut b = Bounds::new();
                let mut nested = Vec::new();
                collect(item, &mut b, &mut nested)?;
                if !nested.is_empty() {
                    return Err(VnnlibError::Unsupported {
                        line: *line,
                        text: "nested `or` over inputs".into(),
                    });
                }
                alternatives.push(b);
            }
            disjunctions.push((*line, alternatives));
            Ok(())
        }
        "<=" | ">=" if items.len() == 3 => {
            let (a, b) = (&items[1], &items[2]);
            let number = |s: &Sexp| match s {
                Sexp::Atom(t, _) => t.parse::<f64>().ok(),
                _ => None,
            };
            let var = |s: &Sexp| match s {
                Sexp::Atom(t, _) => input_index(t),
                _ => None,
            };
            // (<= X v): X <= v; (<= v X): X >= v; (>= X v): X >= v; (>= v X): X <= v.
            let (index, value, upper) = match (var(a), number(b), number(a), var(b)) {
                (Some(i), Some(v), _, _) => (i, v, head == "<="),
                (_, _, Some(v), Some(i)) => (i, v, head == ">="),
                _ => {
                    return Err(VnnlibError::Unsupported {
                        line: *line,
                        text: e.render(),
                    });
                }
            };
            if !value.is_finite() {
                return Err(VnnlibError::Unsupported {
                    line: *line,
                    text: e.render(),
                });
            }
            if upper {
                add_bound(bounds, index, None, Some(value));
            } else {
                add_bound(bounds, index, Some(value), None);
            }
            Ok(())
        }
        _ => Err(VnnlibError::Unsupported {
            line: *line,
            text: e.render(),
        }),
    }
}

/// Reads the input box of a VNN-LIB specification.
pub fn parse_vnnlib_box(text: &str) -> Result<VnnlibBox, VnnlibError> {
    let exprs = parse_sexps(text)?;
    let mut declared = 0usize;
    let mut bounds = Bounds::new();
    let mut disjunctions = Vec::new();
    for e in &exprs {
        let Sexp::List(items, line) = e else {
            return Err(VnnlibError::Syntax {
                line: e.line(),
                message: format!("unexpected atom `{}` at top level", e.render()),
            });
        };
        match items.first() {
            Some(Sexp::Atom(h, _)) if h == "declare-const" => {
                if let Some(Sexp::Atom(name, _)) = items.get(1)
                    && let Some(i) = input_index(name)
                {
                    declared = declared.max(i + 1);
                }
            }
            Some(Sexp::Atom(h, _)) if h == "assert" => {
                let Some(body) = items.get(1) else {
                    return Err(VnnlibError::Syntax {
                        line: *line,
                        message: "empty assert".into(),
                    });
                };
                collect(body, &mut bounds, &mut disjunctions)?;
            }
            _ => {}
        }
    }
    for (line, alternatives) in disjunctions {
        let with_inputs: Vec<&Bounds> = alternatives.iter().filter(|b| !b.is_empty()).collect();
        let Some(first) = with_inputs.first() else {
            continue;
        };
        if with_inputs.len() != alternatives.len() || with_inputs.iter().any(|b| *b != *first) {
            return Err(VnnlibError::Disjunction {
                line,
                count: alternatives.len(),
            });
        }
        for (&i, &(lo, hi)) in first.iter() {
            add_bound(&mut bounds, i, Some(lo), Some(hi));
        }
    }
    if declared == 0 {
        return Err(VnnlibError::NoInputs);
    }
    let mut lo = vec![0.0; declared];
    let mut hi = vec![0.0; declared];
    for index in 0..declared {
        let (l, h) = bounds
            .get(&index)
            .copied()
            .unwrap_or((f64::NEG_INFINITY, f64::INFINITY));
        if l == f64::NEG_INFINITY {
            return Err(VnnlibError::Unbounded {
                index,
                side: "lower",
            });
        }
        if h == f64::INFINITY {
            return Err(VnnlibError::Unbounded {
                index,
                side: "upper",
            });
        }
        if l > h {
            return Err(VnnlibError::Empty {
                index,
                lo: l,
                hi: h,
            });
        }
        lo[index] = l;
        hi[index] = h;
    }
    if let Some(&index) = bounds.keys().find(|&&i| i >= declared) {
        return Err(VnnlibError::Undeclared {
            line: 0,
            index,
            declared,
        });
    }
    Ok(VnnlibBox { lo, hi })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_box() {
        let text = "; c\n(declare-const X_0 Real)\n(declare-const X_1 Real)\n(declare-const Y_0 Real)\n(assert (<= X_0 0.5))\n(assert (>= X_0 -0.5))\n(assert (and (>= X_1 1e-3) (<= 2 X_1)))\n(assert (<= Y_0 3))\n";
        // X_1 >= 1e-3 and 2 <= X_1: lower bound max(1e-3, 2) = 2, no upper bound.
        assert_eq!(
            parse_vnnlib_box(text),
            Err(VnnlibError::Unbounded {
                index: 1,
                side: "upper"
            })
        );
        let text = text.replace("(<= 2 X_1)", "(>= 2 X_1)");
        let b = parse_vnnlib_box(&text).unwrap();
        assert_eq!(b.lo, vec![-0.5, 1e-3]);
        assert_eq!(b.hi, vec![0.5, 2.0]);
    }

    #[test]
    fn disjunctions() {
        let one = "(declare-const X_0 Real)\n(declare-const Y_0 Real)\n(assert (or\n (and (>= X_0 -1) (<= X_0 1) (>= Y_0 100))\n))";
        assert_eq!(parse_vnnlib_box(one).unwrap().lo, vec![-1.0]);
        let same = "(declare-const X_0 Real)\n(assert (>= X_0 -1))\n(assert (<= X_0 1))\n(declare-const Y_0 Real)\n(declare-const Y_1 Real)\n(assert (or (and (>= Y_0 1)) (and (>= Y_1 1))))";
        assert_eq!(parse_vnnlib_box(same).unwrap().hi, vec![1.0]);
        let two = "(declare-const X_0 Real)\n(assert (or\n (and (>= X_0 -1) (<= X_0 0))\n (and (>= X_0 0) (<= X_0 1))))";
        assert_eq!(
            parse_vnnlib_box(two),
            Err(VnnlibError::Disjunction { line: 2, count: 2 })
        );
    }

    #[test]
    fn errors() {
        assert!(matches!(
            parse_vnnlib_box("(declare-const X_0 Real"),
            Err(VnnlibError::Syntax { .. })
        ));
        assert!(matches!(
            parse_vnnlib_box(")"),
            Err(VnnlibError::Syntax { .. })
        ));
        assert_eq!(
            parse_vnnlib_box("(declare-const Y_0 Real)"),
            Err(VnnlibError::NoInputs)
        );
        let lin = "(declare-const X_0 Real)\n(declare-const X_1 Real)\n(assert (<= (+ X_0 X_1) 1))";
        assert!(matches!(
            parse_vnnlib_box(lin),
            Err(VnnlibError::Unsupported { line: 3, .. })
        ));
        let empty = "(declare-const X_0 Real)\n(assert (<= X_0 -1))\n(assert (>= X_0 1))";
        assert!(matches!(
            parse_vnnlib_box(empty),
            Err(VnnlibError::Empty { .. })
        ));
        let undeclared = "(declare-const X_0 Real)\n(assert (<= X_0 1))\n(assert (>= X_0 0))\n(assert (<= X_3 1))";
        assert!(matches!(
            parse_vnnlib_box(undeclared),
            Err(VnnlibError::Undeclared { index: 3, .. })
        ));
    }
}
