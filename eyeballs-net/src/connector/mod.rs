//! The connector users hold, its builder, and the connects it offers: async on any
//! [`Runtime`](crate::runtime::Runtime), blocking on std's sockets (feature `blocking`).

mod async_api;
#[cfg(feature = "blocking")]
mod blocking_api;
mod builder;
mod handle;
mod history;
mod settings;

#[cfg(feature = "blocking")]
pub use blocking_api::Blocking;
#[cfg(all(feature = "blocking", feature = "tls"))]
pub use blocking_api::BlockingTlsStream;
pub use builder::{BuildError, ConnectorBuilder, HANDSHAKE_TIMEOUT};
pub use handle::Connector;
#[cfg(feature = "sim")]
pub(crate) use history::SharedHistory;
pub(crate) use settings::Settings;
#[cfg(feature = "sim")]
pub(crate) use settings::SpareRace;
