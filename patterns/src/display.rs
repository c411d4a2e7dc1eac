//! [`display!`]: the `Display` impls of the crate's errors, reports and
//! states, written as one closure each instead of an `impl` block each.

/// Implements `Display` for a type from a closure over the value and the
/// formatter: `display!(impl[generics] Type, |self, f| body)`, where
/// `generics` (with their bounds) may be empty. The body is what the
/// `fmt` method would hold.
macro_rules! display {
    (impl[$($generics:tt)*] $ty:ty, |$self:ident, $f:ident| $body:expr) => {
        impl<$($generics)*> std::fmt::Display for $ty {
            fn fmt(&$self, $f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                $body
            }
        }
    };
}
