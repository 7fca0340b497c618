//! The one file format for trained models: safetensors (tensors + a string map of metadata).
//!
//! Metadata always holds `format = "scones"`, `format_version`, `kind` (what the file is: a dual,
//! a score network, a barycentric map) and whatever that kind needs to rebuild itself (dims,
//! widths, regularizer, lambda, cost). Files are written to a temporary name in the same folder
//! and renamed, so a crash never leaves a half-written model under the real name.

use std::collections::{BTreeMap, HashMap};
use std::io::Write;
use std::path::Path;

use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use tch::{Kind, Tensor};

use crate::runtime::error::{Error, Result};

pub const FORMAT_NAME: &str = "scones";
pub const FORMAT_VERSION: u32 = 1;

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
        let meta: HashMap<String, String> = self.metadata.clone().into_iter().collect();
        let buf = safetensors::tensor::serialize(views, &Some(meta))
            .map_err(|e| Error::internal(format!("serializing model: {e}")))?;
        write_atomically(path, &buf)
    }

    /// Reads and validates a model file of the given kind.
    pub fn load(path: &Path, expected_kind: &str) -> Result<ModelFile> {
        let buf =
            std::fs::read(path).map_err(|e| Error::io(format!("cannot read model file '{}': {e}", path.display())))?;
        let what = || format!("'{}' is not a scones model file", path.display());
        let (_, meta) = SafeTensors::read_metadata(&buf)
            .map_err(|e| Error::format(format!("{} (or it is truncated): {e:?}", what())))?;
        let metadata: BTreeMap<String, String> = meta.metadata().clone().unwrap_or_default().into_iter().collect();
        if metadata.get("format").map(|s| s.as_str()) != Some(FORMAT_NAME) {
            return Err(Error::format(format!("{}: it has no format=scones metadata", what())));
        }
        let version: u32 = metadata
            .get("format_version")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| Error::format(format!("'{}': missing or invalid format_version", path.display())))?;
        if version != FORMAT_VERSION {
            return Err(Error::format(format!(
                "'{}' has format version {version}; this library reads version {FORMAT_VERSION}",
                path.display()
            )));
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

pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = path.file_name().ok_or_else(|| Error::invalid(format!("'{}' is not a file path", path.display())))?;
    let tmp = dir.join(format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id()));
    let result = (|| -> std::io::Result<()> {
        let mut f = std::fs::File::create(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        Error::io(format!("cannot write '{}': {e}", path.display()))
    })
}
