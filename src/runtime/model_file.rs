//! The one file format for trained models: safetensors (tensors + a string map of metadata).
//!
//! Metadata always holds `format = "scones"`, `format_version`, `kind` (what the file is: a dual,
//! a score network, a barycentric map) and whatever that kind needs to rebuild itself (dims,
//! widths, regularizer, lambda, cost). Files are written through
//! [`crate::runtime::atomic_file::write_atomically`], so a crash never leaves a
//! half-written model under the real name.
//!
//! Since format version 2 the metadata also holds `crc32`: the CRC-32 of the whole file with
//! those 8 hex digits read as `00000000`. A file that parses can still hold a flipped byte in a
//! weight or in a number of the metadata (lambda, a width) and would then load as a different
//! model; CRC-32 detects every change confined to 4 consecutive bytes, so any single corrupted
//! byte, in the tensors, the metadata or the header, is reported as a format error. It guards
//! against accidents (disks, copies, truncated downloads), not against someone forging a file.
//! Version 1 files (scones 0.1.0, no checksum) still load, unchecked.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use tch::{Kind, Tensor};

use crate::runtime::atomic_file::write_atomically;
use crate::runtime::error::{Error, Result};

pub const FORMAT_NAME: &str = "scones";
pub const FORMAT_VERSION: u32 = 2;
/// The last version without a checksum; such files load unchecked.
const UNCHECKED_VERSION: u32 = 1;
const CHECKSUM_KEY: &str = "crc32";
const CHECKSUM_PLACEHOLDER: &str = "00000000";

pub struct ModelFile {
    pub metadata: BTreeMap<String, String>,
    pub tensors: BTreeMap<String, Tensor>,
}

impl ModelFile {
    pub fn new(kind: &str) -> ModelFile {
        let mut metadata = BTreeMap::new();
        metadata.insert("format".into(), FORMAT_NAME.into());
        metadata.insert("format_version".into(), FORMAT_VERSION.to_string());
        metadata.insert("kind".into(), kind.into());
        metadata.insert("library_version".into(), env!("CARGO_PKG_VERSION").into());
        ModelFile { metadata, tensors: BTreeMap::new() }
    }

    pub fn set(&mut self, key: &str, value: impl ToString) {
        self.metadata.insert(key.into(), value.to_string());
    }

    pub fn get(&self, key: &str) -> Result<&str> {
        self.metadata
            .get(key)
            .map(|s| s.as_str())
            .ok_or_else(|| Error::format(format!("model file lacks metadata '{key}'")))
    }

    pub fn get_parsed<T: std::str::FromStr>(&self, key: &str) -> Result<T> {
        let s = self.get(key)?;
        s.parse().map_err(|_| Error::format(format!("model metadata '{key}' = '{s}' is not valid")))
    }

    /// Comma-separated list of widths ("" for none).
    pub fn get_widths(&self, key: &str) -> Result<Vec<usize>> {
        let s = self.get(key)?;
        if s.is_empty() {
            return Ok(vec![]);
        }
        s.split(',')
            .map(|w| w.trim().parse::<usize>().ok().filter(|&w| w > 0))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Error::format(format!("model metadata '{key}' = '{s}' is not a list of widths")))
    }

    pub fn tensor(&self, name: &str) -> Result<&Tensor> {
        self.tensors.get(name).ok_or_else(|| Error::format(format!("model file lacks tensor '{name}'")))
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        let mut bytes: Vec<(String, Vec<u8>, Vec<usize>)> = Vec::new();
        for (name, t) in &self.tensors {
            let t = t.f_detach()?.f_to_device(tch::Device::Cpu)?.f_to_kind(Kind::Float)?.f_contiguous()?;
            let shape: Vec<usize> = t.size().iter().map(|&s| s as usize).collect();
            let mut v = vec![0f32; t.numel()];
            t.f_copy_data(&mut v, t.numel())?;
            let raw: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            bytes.push((name.clone(), raw, shape));
        }
        let views = bytes
            .iter()
            .map(|(n, raw, shape)| {
                Ok((
                    n.as_str(),
                    TensorView::new(Dtype::F32, shape.clone(), raw).map_err(|e| Error::internal(e.to_string()))?,
                ))
            })
            .collect::<Result<Vec<_>>>()?;
        let mut meta: HashMap<String, String> = self.metadata.clone().into_iter().collect();
        // A file loaded from an older version is written in this one, checksum included.
        meta.insert("format_version".into(), FORMAT_VERSION.to_string());
        meta.insert(CHECKSUM_KEY.into(), CHECKSUM_PLACEHOLDER.into());
        let mut buf = safetensors::tensor::serialize(views, &Some(meta))
            .map_err(|e| Error::internal(format!("serializing model: {e}")))?;
        let at = checksum_position(&buf)
            .ok_or_else(|| Error::internal("the serialized model holds no single checksum field"))?;
        let crc = format!("{:08x}", crc32fast::hash(&buf));
        buf[at..at + CHECKSUM_PLACEHOLDER.len()].copy_from_slice(crc.as_bytes());
        write_atomically(path, |f| f.write_all(&buf))
            .map_err(|e| Error::io(format!("cannot write '{}': {e}", path.display())))
    }

    /// Reads and validates a model file of the given kind.
    pub fn load(path: &Path, expected_kind: &str) -> Result<ModelFile> {
        let buf =
            std::fs::read(path).map_err(|e| Error::io(format!("cannot read model file '{}': {e}", path.display())))?;
        let what = || format!("'{}' is not a scones model file", path.display());
        let (_, meta) = SafeTensors::read_metadata(&buf)
            .map_err(|e| Error::format(format!("{} (or it is truncated): {e:?}", what())))?;
        let mut metadata: BTreeMap<String, String> = meta.metadata().clone().unwrap_or_default().into_iter().collect();
        if metadata.get("format").map(|s| s.as_str()) != Some(FORMAT_NAME) {
            return Err(Error::format(format!("{}: it has no format=scones metadata", what())));
        }
        let version: u32 = metadata
            .get("format_version")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::format(format!("'{}': missing or invalid format_version", path.display())))?;
        let stored = metadata.remove(CHECKSUM_KEY);
        match (version, stored) {
            (FORMAT_VERSION, Some(stored)) => {
                verify_checksum(&buf, &stored).map_err(|e| e.context(format!("'{}'", path.display())))?
            }
            (FORMAT_VERSION, None) => {
                return Err(Error::format(format!(
                    "'{}' lacks its checksum (metadata '{CHECKSUM_KEY}')",
                    path.display()
                )))
            }
            // Version 1 never wrote one: a checksum here means the version number is corrupt.
            (UNCHECKED_VERSION, None) => {}
            (UNCHECKED_VERSION, Some(_)) => {
                return Err(Error::format(format!(
                    "'{}' is corrupt: format version {UNCHECKED_VERSION} files carry no checksum",
                    path.display()
                )))
            }
            _ => {
                return Err(Error::format(format!(
                    "'{}' has format version {version}; this library reads versions {UNCHECKED_VERSION} and \
                     {FORMAT_VERSION}",
                    path.display()
                )))
            }
        }
        let kind = metadata.get("kind").cloned().unwrap_or_default();
        if kind != expected_kind {
            return Err(Error::format(format!(
                "'{}' holds a '{kind}' model, expected '{expected_kind}'",
                path.display()
            )));
        }
        let st = SafeTensors::deserialize(&buf)
            .map_err(|e| Error::format(format!("'{}' is truncated or corrupt: {e:?}", path.display())))?;
        let mut tensors = BTreeMap::new();
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(Error::format(format!("tensor '{name}' has dtype {:?}, expected F32", view.dtype())));
            }
            let data: Vec<f32> =
                view.data().chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
            if data.iter().any(|x| !x.is_finite()) {
                return Err(Error::format(format!("tensor '{name}' in '{}' holds non-finite values", path.display())));
            }
            let shape: Vec<i64> = view.shape().iter().map(|&s| s as i64).collect();
            tensors.insert(name, Tensor::f_from_slice(&data)?.f_view(shape.as_slice())?);
        }
        Ok(ModelFile { metadata, tensors })
    }
}

/// Where the checksum's hex digits start: inside the JSON header, after the one
/// `"crc32":"` there. `None` when the header does not hold exactly one.
fn checksum_position(buf: &[u8]) -> Option<usize> {
    let header_len = usize::try_from(u64::from_le_bytes(buf.get(..8)?.try_into().ok()?)).ok()?;
    let header = buf.get(8..8usize.checked_add(header_len)?)?;
    let key = format!("\"{CHECKSUM_KEY}\":\"");
    let mut found = header.windows(key.len()).enumerate().filter(|(_, w)| *w == key.as_bytes());
    let (first, _) = found.next()?;
    if found.next().is_some() {
        return None;
    }
    Some(8 + first + key.len())
}

fn verify_checksum(buf: &[u8], stored: &str) -> Result<()> {
    // Exactly 8 lowercase hex digits: a flipped case bit ('a' -> 'A') must not parse as the same.
    let well_formed = stored.len() == 8 && stored.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
    let at = checksum_position(buf).filter(|&at| buf.get(at..at + 8) == Some(stored.as_bytes()));
    let (Some(at), true) = (at, well_formed) else {
        return Err(Error::format(format!("its checksum field '{stored}' is malformed")));
    };
    let mut h = crc32fast::Hasher::new();
    h.update(&buf[..at]);
    h.update(CHECKSUM_PLACEHOLDER.as_bytes());
    h.update(&buf[at + 8..]);
    let computed = format!("{:08x}", h.finalize());
    if computed != stored {
        return Err(Error::format(format!(
            "its contents do not match its checksum (CRC-32 {stored} stored, {computed} computed): the file is corrupt"
        )));
    }
    Ok(())
}
