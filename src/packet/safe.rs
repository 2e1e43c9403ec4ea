//! The packet folder touched without following links: a packet file, its folders and what an
//! earlier manifest lists are reached component by component with `symlink_metadata`, so a
//! symbolic link planted in a packet (`evil -> /etc`, `findings.csv -> /elsewhere/x`) can neither
//! send a write or a delete outside `--out` nor make `verify` read another file. Files are written
//! to a temporary name in their folder and renamed over the old name, which replaces a link
//! itself, never its target. One audit at a time holds an exclusive lock on the folder.

use std::fs::{self, File};
use std::io::{ErrorKind, Write};
use std::path::{Path, PathBuf};

use super::PacketError;

/// Why a path inside the packet cannot be used as a plain file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NotPlain {
    Missing,
    /// A symbolic link (at the file or at one of its folders).
    Link,
    /// A folder, FIFO, socket or device.
    Special,
}

impl NotPlain {
    pub(super) fn describe(self) -> &'static str {
        match self {
            NotPlain::Missing => "missing",
            NotPlain::Link => "a symbolic link (vigil does not follow links in a packet)",
            NotPlain::Special => "not a regular file",
        }
    }
}

/// `dir/rel` when every folder on the way is a real folder (not a link) and the file is a
/// regular file; never opens anything.
pub(super) fn plain_file(dir: &Path, rel: &str) -> Result<PathBuf, NotPlain> {
    let mut path = dir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(_) => return Err(NotPlain::Missing),
        };
        let ty = meta.file_type();
        if ty.is_symlink() {
            return Err(NotPlain::Link);
        }
        let last = i + 1 == parts.len();
        if (last && !ty.is_file()) || (!last && !ty.is_dir()) {
            return Err(NotPlain::Special);
        }
    }
    Ok(path)
}

/// Reads a packet file that [`plain_file`] accepts.
pub(super) fn read_plain(dir: &Path, rel: &str) -> Result<Vec<u8>, ReadProblem> {
    let path = plain_file(dir, rel).map_err(ReadProblem::Not)?;
    fs::read(&path).map_err(ReadProblem::Io)
}

#[derive(Debug)]
pub(super) enum ReadProblem {
    Not(NotPlain),
    Io(std::io::Error),
}

/// The folders of `rel` under `out`, created where missing; a link or non-folder on the way
/// is refused.
fn folders(out: &Path, rel: &str) -> Result<PathBuf, PacketError> {
    let mut path = out.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    let refuse = |path: &Path| PacketError::Unsafe {
        path: path.to_path_buf(),
        reason: "a symbolic link or not a folder; vigil writes only inside the packet folder",
    };
    for part in &parts[..parts.len().saturating_sub(1)] {
        path.push(part);
        match fs::symlink_metadata(&path) {
            Ok(m) if m.file_type().is_dir() => {}
            Ok(_) => return Err(refuse(&path)),
            Err(e) if e.kind() == ErrorKind::NotFound => {
                fs::create_dir(&path).map_err(|source| PacketError::Write {
                    path: path.clone(),
                    source,
                })?;
            }
            Err(source) => return Err(PacketError::Read { path, source }),
        }
    }
    Ok(path)
}

/// Writes `out/rel`: to a temporary name in its folder, then renamed over `rel` (a link there
/// is replaced, not followed).
pub(super) fn write(out: &Path, rel: &str, bytes: &[u8]) -> Result<(), PacketError> {
    let folder = folders(out, rel)?;
    let name = rel.rsplit('/').next().unwrap_or(rel);
    let target = folder.join(name);
    if let Ok(m) = fs::symlink_metadata(&target)
        && m.file_type().is_dir()
    {
        return Err(PacketError::Unsafe {
            path: target,
            reason: "a folder where the packet writes a file",
        });
    }
    let temp = folder.join(format!(".{name}.vigil-tmp-{}", std::process::id()));
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| PacketError::Write { path, source }
    };
    let mut file = File::options()
        .write(true)
        .create_new(true)
        .open(&temp)
        .map_err(write_err(&temp))?;
    file.write_all(bytes).map_err(write_err(&temp))?;
    drop(file);
    fs::rename(&temp, &target).map_err(|source| {
        let _ = fs::remove_file(&temp);
        PacketError::Write {
            path: target.clone(),
            source,
        }
    })
}

/// Removes `out/rel` if present: a link is removed itself; a path through a linked folder is
/// refused.
pub(super) fn remove(out: &Path, rel: &str) -> Result<(), PacketError> {
    let mut path = out.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for (i, part) in parts.iter().enumerate() {
        path.push(part);
        let meta = match fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(source) => return Err(PacketError::Read { path, source }),
        };
        let last = i + 1 == parts.len();
        if !last && !meta.file_type().is_dir() {
            return Err(PacketError::Unsafe {
                path,
                reason: "a symbolic link or not a folder on the way to a file an earlier packet listed; vigil does not delete outside the packet folder",
            });
        }
        if last && meta.file_type().is_dir() {
            return Err(PacketError::Unsafe {
                path,
                reason: "a folder where an earlier packet listed a file",
            });
        }
    }
    fs::remove_file(&path).map_err(|source| PacketError::Write { path, source })
}

/// An exclusive lock on the packet folder for as long as it lives: a second audit into the
/// same folder stops instead of interleaving its files.
pub(super) struct FolderLock {
    _file: File,
}

pub(super) fn lock(out: &Path) -> Result<FolderLock, PacketError> {
    let file = File::open(out).map_err(|source| PacketError::Read {
        path: out.to_path_buf(),
        source,
    })?;
    match file.try_lock() {
        Ok(()) => Ok(FolderLock { _file: file }),
        Err(std::fs::TryLockError::WouldBlock) => Err(PacketError::InUse(out.to_path_buf())),
        Err(std::fs::TryLockError::Error(source)) => Err(PacketError::Write {
            path: out.to_path_buf(),
            source,
        }),
    }
}
