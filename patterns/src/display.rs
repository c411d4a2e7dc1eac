//! How the crate's errors, reports and states print: [`display!`] writes a
//! `Display` impl as one closure instead of an `impl` block, and
//! [`work_refused!`] defines the errors that hand refused work back.

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

/// Defines an error that hands refused work back unrun:
/// `pub struct Name<F>(pub F)` with `into_inner`, a `Debug` that does not
/// need `F: Debug` (a future rarely is), `message` as its `Display`, and
/// `Error`.
macro_rules! work_refused {
    ($(#[$doc:meta])* $name:ident, $message:literal) => {
        $(#[$doc])*
        pub struct $name<F>(pub F);

        impl<F> $name<F> {
            /// The work that was refused, unrun.
            pub fn into_inner(self) -> F {
                self.0
            }
        }

        impl<F> std::fmt::Debug for $name<F> {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(concat!(stringify!($name), "(..)"))
            }
        }

        display!(impl[F] $name<F>, |self, f| f.write_str($message));

        impl<F> std::error::Error for $name<F> {}
    };
}
