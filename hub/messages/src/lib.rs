//! The one catalogue of visible words: `catalogue/ja.toml` (the default) and `catalogue/en.toml`,
//! both embedded. Sections flatten to dotted keys (`[home] title` is `home.title`); `{name}` in a
//! text is filled from the caller's arguments.
//!
//! Core never writes prose for a user: it hands out a [`Message`] (a catalogue key and its
//! parameters), and the web page, the API answer, the CLI and the notification mail each render
//! it in their language. Remote systems' own words travel as parameters (a `detail`), shown
//! apart from ours.

mod catalogue;
mod message;

pub use catalogue::{has, keys, sections, t, tf, Lang};
pub use message::{Arg, Message};
