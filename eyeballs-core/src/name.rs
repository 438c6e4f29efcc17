//! DNS names as the race compares them: ASCII case folded, the final dot dropped.

use core::fmt;
use std::sync::Arc;

/// A DNS name: the host a race resolves, a service record's TargetName, an alias target.
///
/// Names compare case-insensitively (ASCII, as DNS does) and without their final dot, so
/// `Example.TEST.` and `example.test` are one name. The root, `.`, is the empty name: in a
/// [`ServiceRecord`](crate::ServiceRecord)'s TargetName it means "the owner" (RFC 9460 §2.5).
/// Cloning is cheap (one reference count; the root holds nothing).
///
/// # Examples
///
/// ```
/// use eyeballs_core::Name;
///
/// assert_eq!(Name::new("Example.TEST."), Name::new("example.test"));
/// assert!(Name::new(".").is_root());
/// assert_eq!(Name::new("svc.example.test").to_string(), "svc.example.test");
/// ```
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name(Option<Arc<str>>);

impl Name {
    /// Makes a name from its text form. Nothing is rejected: the core never sends a query
    /// itself, so a name it cannot resolve fails in the driver's resolver.
    pub fn new(name: &str) -> Self {
        let trimmed = name.strip_suffix('.').unwrap_or(name);
        if trimmed.is_empty() {
            Name::root()
        } else if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
            Name(Some(Arc::from(trimmed.to_ascii_lowercase())))
        } else {
            Name(Some(Arc::from(trimmed)))
        }
    }

    /// The root name `.`: as a TargetName, "the owner of the record".
    pub fn root() -> Self {
        // `None`, not an empty string: the root allocates nothing (a race over literal
        // addresses names its entry so). It sorts first, as "" would.
        Name(None)
    }

    /// Returns whether this is the root name `.`.
    pub fn is_root(&self) -> bool {
        self.0.is_none()
    }

    /// Returns the name without its final dot, lower case (`""` for the root).
    pub fn as_str(&self) -> &str {
        self.0.as_deref().unwrap_or("")
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_root() {
            f.write_str(".")
        } else {
            f.write_str(self.as_str())
        }
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Name({self})")
    }
}

impl From<&str> for Name {
    fn from(name: &str) -> Self {
        Name::new(name)
    }
}
