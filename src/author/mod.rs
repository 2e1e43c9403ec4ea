//! May use every library layer below it (`bundle`, `policy`, `eval`, `report`); nothing uses it
//! but the command line.
//!
//! Tools for policy authors: the catalogue (`vigil policy catalog`, `vigil explain`), version
//! comparison and impact (`vigil policy diff`), pack tests (`vigil policy test`) and lint
//! (`vigil policy lint`). They sit above the engine and the writers: they load packs
//! (`policy`), run them (`eval`) and format what they find (`report`).

pub mod catalog;
pub mod compare;
pub mod init;
pub mod lint;
pub mod testing;
